/* SPDX-License-Identifier: MIT */
/*
 * bdev_aio_open: open a block device or regular file for the aio backend and
 * describe it (size, block sizes, discard, write cache, read-only).
 *
 *  - O_DIRECT first. EINVAL (a filesystem that refuses it) -> buffered, with
 *    one warning; FLUSH then still fdatasyncs, so durability holds.
 *  - O_RDWR refused with EROFS/EACCES -> opened read-only and reported
 *    through info.read_only (the LU then reports write protect).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bdev_aio.h"

/* Read a small sysfs attribute of the block device (or of its parent disk,
 * for a partition). */
static int sysfs_attr(dev_t rdev, const char *attr, char *buf, size_t len)
{
	for (int up = 0; up < 2; up++) {
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/%s", major(rdev),
			 minor(rdev), up ? "../" : "", attr);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, (int)len, f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		return 0;
	}
	return -ENOENT;
}

int bdev_aio_read_size(struct bdev_aio *a, uint64_t *size)
{
	struct stat st;

	if (a->b.info.is_blockdev) {
		if (ioctl(a->fd, BLKGETSIZE64, size) < 0)
			return -errno;
		return 0;
	}
	if (fstat(a->fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Not in every libc/kernel header yet (Linux 6.11 uapi). */
#ifndef STATX_WRITE_ATOMIC
#define STATX_WRITE_ATOMIC 0x00010000U
#endif
#ifndef STATX_ATTR_WRITE_ATOMIC
#define STATX_ATTR_WRITE_ATOMIC 0x00400000
#endif
/* uapi struct statx: stx_atomic_write_unit_min/max at 0xa8/0xac,
 * stx_atomic_write_segments_max at 0xb0 (inside glibc's padding) */
#define STX_AW_MIN 0xa8
#define STX_AW_MAX 0xac
#define STX_AW_SEGS 0xb0
_Static_assert(sizeof(struct statx) == 0x100, "struct statx layout");

/* Atomic write limits (RWF_ATOMIC): the kernel tells per file or device,
 * statx(STATX_WRITE_ATOMIC); none without O_DIRECT, none when it does not
 * answer (older kernel, file system or driver without untorn writes). Only
 * what is probed here is ever advertised (SBC-4 5.48, VPD B0h). */
static void probe_atomic(struct bdev_aio *a)
{
	struct bdev_info *info = &a->b.info;
	struct statx stx;
	uint32_t umin, umax, segs;

	info->atomic_min = info->atomic_max = 0;
	info->atomic_pow2 = true;
	if (!info->direct)
		return;
	memset(&stx, 0, sizeof(stx));
	if (statx(a->fd, "", AT_EMPTY_PATH, STATX_WRITE_ATOMIC, &stx) != 0 ||
	    !(stx.stx_mask & STATX_WRITE_ATOMIC) || !(stx.stx_attributes & STATX_ATTR_WRITE_ATOMIC))
		return;
	memcpy(&umin, (const uint8_t *)&stx + STX_AW_MIN, 4);
	memcpy(&umax, (const uint8_t *)&stx + STX_AW_MAX, 4);
	memcpy(&segs, (const uint8_t *)&stx + STX_AW_SEGS, 4);
	if (!umin || umax < umin || segs < 1)
		return;
	info->atomic_min = umin;
	info->atomic_max = umax;
}

static void probe_blockdev(struct bdev_aio *a, const struct stat *st)
{
	struct bdev_info *info = &a->b.info;
	int lbs = 0;
	unsigned pbs = 0, opt = 0;
	char buf[64];

	if (ioctl(a->fd, BLKSSZGET, &lbs) == 0 && lbs > 0)
		info->min_io = (uint32_t)lbs;
	else
		info->min_io = 512;
	if (ioctl(a->fd, BLKPBSZGET, &pbs) == 0 && pbs >= info->min_io)
		info->phys_io = pbs;
	if (ioctl(a->fd, BLKIOOPT, &opt) == 0)
		info->opt_io = opt;
	if (!info->direct)
		info->min_io = 1;
	info->can_discard = sysfs_attr(st->st_rdev, "discard_max_bytes", buf, sizeof(buf)) == 0 &&
	    strtoull(buf, NULL, 10) > 0;
	/* Unknown -> assume a volatile cache: FLUSH is then never skipped. */
	info->write_cache = sysfs_attr(st->st_rdev, "write_cache", buf, sizeof(buf)) != 0 ||
	    strncmp(buf, "write through", 13) != 0;
}

static void probe_file(struct bdev_aio *a, const struct stat *st)
{
	struct bdev_info *info = &a->b.info;
	struct statx stx;

	info->min_io = 1;
	if (info->direct) {
		/* O_DIRECT alignment of this file (statx STATX_DIOALIGN, Linux 6.1);
		 * 512 is the common answer on older kernels. */
		info->min_io = 512;
		if (statx(a->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
		    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
			info->min_io = stx.stx_dio_offset_align;
	}
	info->opt_io = st->st_blksize > 0 ? (uint32_t)st->st_blksize : 0;
	info->phys_io = info->opt_io >= info->min_io ? info->opt_io : 0;
	/* A page cache / filesystem sits in front of the medium: FLUSH matters. */
	info->write_cache = true;
	/* Punching a hole past EOF with KEEP_SIZE changes nothing and tells
	 * whether the filesystem supports PUNCH_HOLE at all. */
	info->can_discard = !info->read_only &&
	    fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st->st_size, 4096) == 0;
	/* fallocate(2): a punched hole reads back as zeroes */
	info->discard_zeroes = info->can_discard;
}

static int open_fd(const char *path, unsigned flags, bool *direct, bool *ro)
{
	int oflags = O_CLOEXEC | O_DIRECT;

	*direct = true;
	*ro = flags & BDEV_OPEN_RDONLY;
	for (;;) {
		int fd = open(path, oflags | (*ro ? O_RDONLY : O_RDWR));

		if (fd >= 0)
			return fd;
		if (errno == EINVAL && (oflags & O_DIRECT)) {
			log_warn("bdev",
				 "%s: O_DIRECT refused, using buffered I/O "
				 "(FLUSH will fdatasync)",
				 path);
			oflags &= ~O_DIRECT;
			*direct = false;
			continue;
		}
		if ((errno == EROFS || errno == EACCES) && !*ro) {
			log_notice("bdev", "%s: not writable (%m), opening read-only", path);
			*ro = true;
			continue;
		}
		return -errno;
	}
}

int bdev_aio_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out)
{
	struct bdev_aio *a;
	struct stat st;
	bool direct, ro;
	int ret;

	if (stat(path, &st) < 0) {
		ret = -errno;
		log_err("bdev", "%s: %m", path);
		return ret;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		log_err("bdev", "%s: not a block device or regular file", path);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	bdev_common_init(&a->b, &bdev_aio_ops, evl);
	a->efd = -1;
	a->fd = open_fd(path, flags, &direct, &ro);
	if (a->fd < 0) {
		ret = a->fd;
		errno = -ret;
		log_err("bdev", "%s: open: %m", path);
		free(a);
		return ret;
	}
	if (fstat(a->fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	a->b.info.is_blockdev = S_ISBLK(st.st_mode);
	a->b.info.direct = direct;
	a->b.info.read_only = ro;
	ret = bdev_aio_read_size(a, &a->b.info.size);
	if (ret) {
		errno = -ret;
		log_err("bdev", "%s: size: %m", path);
		goto fail;
	}
	if (a->b.info.is_blockdev)
		probe_blockdev(a, &st);
	else
		probe_file(a, &st);
	probe_atomic(a);
	if (a->b.info.size == 0) {
		log_err("bdev", "%s: empty (size 0)", path);
		ret = -EINVAL;
		goto fail;
	}
	ret = bdev_aio_start(a);
	if (ret) {
		errno = -ret;
		log_err("bdev", "%s: aio setup: %m", path);
		goto fail;
	}
	log_info("bdev", "%s: %llu bytes, block %u/%u, %s%s%s%s, atomic writes %u-%u", path,
		 (unsigned long long)a->b.info.size, a->b.info.min_io, a->b.info.phys_io,
		 direct ? "O_DIRECT" : "buffered", ro ? ", read-only" : "",
		 a->b.info.can_discard ? ", discard" : "",
		 a->b.info.write_cache ? ", write cache" : "", a->b.info.atomic_min,
		 a->b.info.atomic_max);
	*out = &a->b;
	return 0;
fail:
	a->b.ops->close(&a->b);
	return ret;
}
