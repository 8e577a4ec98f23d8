/* libFuzzer harness: the reader's file path, gzip included.
 *
 * The input is a file's bytes (gzip members when they start with the gzip
 * magic, text otherwise), handed to ims_reader_open() through a memfd:
 * sniffing, inflate block by block, truncated and corrupt streams,
 * multi-member files. Everything must end in events or an error, never a
 * crash, a leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommusim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("trace", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t done = 0;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);
		if (w <= 0) {
			close(fd);
			return 0;
		}
		done += (size_t)w;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct ims_reader *r;
	if (!ims_reader_open(path, &r, err, sizeof(err))) {
		struct ims_event ev;
		while (ims_reader_next(r, &ev) > 0)
			(void)ims_reader_bytes(r);
		(void)ims_reader_error(r);
		ims_reader_close(r);
	}
	close(fd);
	return 0;
}
