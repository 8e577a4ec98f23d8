/* A library user's program: embeds the model through the public API only. */
#include <iommusim/replay.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	static const char trace[] =
		"domain id=1 format=amdv1 levels=1 root=0x10000 raw ha=on hd=on\n"
		"attach dev=1 domain=1\n"
		"mem pa=0x10000 val=0x6000000080000001\n"
		"dma dev=1 iova=0 len=8 dir=w\n"
		"expect mem pa=0x10000 val=0x6000000080000061\n";
	struct ims_replay *r;
	struct ims_reader *rd;
	if (ims_replay_new(NULL, &r) || ims_reader_open_mem("example", trace, strlen(trace), 1, &rd))
		return 1;
	int rc = ims_replay_run(r, rd);
	unsigned long long fails = ims_replay_stats(r)->validation_failures;
	ims_reader_close(rd);
	ims_replay_free(r);
	printf("example: rc=%d failures=%llu\n", rc, fails);
	return rc || fails ? 1 : 0;
}
