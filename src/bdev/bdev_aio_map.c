// SPDX-License-Identifier: MIT
/*
 * bdev_aio provisioning status: which byte ranges of a regular file hold
 * data (lseek(2) SEEK_DATA / SEEK_HOLE). Block devices report every range as
 * mapped: the kernel has no portable way to ask a block device which of its
 * blocks are allocated.
 */
#include <errno.h>
#include <unistd.h>

#include "bdev_aio.h"

int bdev_aio_map_status(struct bdev *bdev, uint64_t offset, bool *mapped, uint64_t *len)
{
	struct bdev_aio *a = container_of(bdev, struct bdev_aio, b);
	uint64_t size = bdev->info.size;
	off_t d, h;

	if (a->b.info.is_blockdev) {
		*mapped = true;
		*len = size - offset;
		return 0;
	}
	d = lseek(a->fd, (off_t)offset, SEEK_DATA);
	if (d < 0) {
		if (errno != ENXIO)
			return -errno;
		/* ENXIO: no data at or after offset (a hole up to the end) */
		*mapped = false;
		*len = size - offset;
		return 0;
	}
	if ((uint64_t)d > offset) {
		*mapped = false;
		*len = UTIL_MIN((uint64_t)d, size) - offset;
		return 0;
	}
	h = lseek(a->fd, (off_t)offset, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*mapped = true;
	/* the implicit hole at EOF: a file shorter than the device size */
	*len = UTIL_MIN((uint64_t)h, size) - offset;
	if (*len == 0)
		*len = size - offset;
	return 0;
}
