/* A program with a function named like one of the library's internal
 * helpers (parse_num, of traces/import.c). libiommusim.so exports only
 * ims_* (cmake/libiommusim.map), so the program's parse_num is the one the
 * program calls, and the library keeps calling its own: the ftrace import
 * below needs the real one to read its numbers. Were the helper exported,
 * the dynamic linker would bind the library's calls to this function. */
#include <iommusim/iommusim.h>
#include <stdio.h>
#include <string.h>

/* How often this program's parse_num ran: the library gives it no context
 * to count in, so the count is a file-scope variable. */
static unsigned mine;

bool parse_num(const char *s, size_t n, uint64_t *out);
bool parse_num(const char *s, size_t n, uint64_t *out)
{
	(void)s;
	(void)n;
	*out = 0;
	mine++;
	return false;
}

static int on_event(void *arg, const struct ims_event *ev)
{
	(void)ev;
	++*(unsigned *)arg;
	return 0;
}

int main(void)
{
	static const char log[] =
		"# tracer: nop\n"
		"  kworker-77 [000] 1031.000100: attach_device_to_domain: IOMMU: device=0000:00:03.0\n"
		"  kworker-77 [000] 1031.000200: map: IOMMU: iova=0x00000000ffffd000 - 0x00000000ffffe000 paddr=0x00000000024d4000 size=4096\n"
		"  kworker-77 [000] 1031.000210: dma_map_page: 0000:00:03.0 dir=FROM_DEVICE dma_addr=ffffd000 size=4096 phys_addr=24d4000 attrs=\n"
		"  kworker-77 [000] 1031.000800: unmap: IOMMU: iova=0x00000000ffffd000 - 0x00000000ffffe000 size=4096 unmapped_size=4096\n";
	uint64_t v = 1;
	if (parse_num("12", 2, &v) || v != 0 || mine != 1) {
		printf("shadow: the program's own parse_num was not the one called\n");
		return 1;
	}
	struct ims_import_opts o;
	ims_import_opts_default(&o);
	o.from = IMS_FROM_FTRACE;
	unsigned events = 0;
	struct ims_import_sink sink = {on_event, NULL, &events};
	struct ims_import_stats st;
	char err[256] = "";
	int rc = ims_import_mem(&o, "shadow.txt", log, strlen(log), &sink, &st, err, sizeof(err));
	printf("shadow: import rc=%d events=%u, the program's parse_num ran %u time(s) %s\n", rc,
	       events, mine, err);
	/* attach, domain, map, dma, unmap at least; only the one call above ran
	 * the program's parse_num. */
	return rc == 0 && events >= 4 && mine == 1 ? 0 : 1;
}
