/* SPDX-License-Identifier: MIT */
/*
 * bdev: block backends behind one vtable. No SCSI here: byte offsets, iovecs
 * and -errno results only.
 *
 *  - "aio":  block devices and regular files, O_DIRECT + libaio, completions
 *            through an eventfd watched by the loop, io_submit batched once per
 *            loop iteration (an evl_defer flush). Where O_DIRECT is refused
 *            (tmpfs: EINVAL) the file is opened buffered, a warning is logged
 *            once, and FLUSH still does fdatasync so durability stays true.
 *            FUA writes use RWF_DSYNC (aio_rw_flags) so they are written
 *            through; FLUSH is an aio fdsync (or fdatasync on the worker).
 *  - "mem":  path "mem:SIZE" (e.g. "mem:1G"), zero-filled anonymous memory, for
 *            tests and benchmarks. FLUSH is a no-op that succeeds (nothing
 *            volatile to flush: the LU honestly reports it has no durable media
 *            via info.volatile_media).
 *
 * Contract: the caller owns struct bdev_io and keeps it (and the buffers its
 * iov points to) alive until done runs. done runs on the loop thread, never
 * from inside bdev_submit(). res is 0 on full success or -errno (a short
 * transfer is -EIO). Buffers for aio must be UTIL_BUF_ALIGN-aligned and
 * offsets/lengths multiples of info.min_io (true for every SCSI LBA-based
 * request when the LU block size >= min_io).
 */
#ifndef TARGETD_BDEV_H
#define TARGETD_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct evl;
struct bdev;

enum bdev_op {
	BDEV_OP_READ,
	BDEV_OP_WRITE,
	BDEV_OP_FLUSH, /* make all completed writes durable */
	BDEV_OP_DISCARD, /* deallocate range (UNMAP); -EOPNOTSUPP if unsupported */
	BDEV_OP_WRITE_ZEROES, /* range reads back as zeroes afterwards */
};

#define BDEV_IO_FUA (1u << 0) /* write through before completion (RWF_DSYNC) */
/* WRITE all or nothing, also across a crash or power loss (RWF_ATOMIC, Linux
 * 6.11): only within info.atomic_min..atomic_max, one iovec, and, when
 * info.atomic_pow2, a power-of-two length at an offset aligned to it;
 * otherwise -EINVAL (-EOPNOTSUPP when atomic_max is 0). */
#define BDEV_IO_ATOMIC (1u << 1)

#define BDEV_IO_IOV_INLINE 4

struct bdev_io {
	enum bdev_op op;
	uint32_t flags;
	uint64_t offset; /* bytes */
	uint64_t len; /* bytes; for READ/WRITE must equal the iov total */
	struct iovec *iov;
	int iovcnt;
	void (*done)(struct bdev_io *io, int res);
	void *ctx; /* caller's */
	/* backend scratch: the aio backend keeps its struct iocb here (no malloc
	 * per I/O); the mem backend its deferral link. Not for callers. */
	uint64_t priv[16];
};

struct bdev_info {
	uint64_t size; /* bytes */
	uint32_t min_io; /* logical block size of the medium (512 or 4096); 1 for buffered/mem */
	uint32_t opt_io; /* optimal I/O granularity in bytes, 0 unknown */
	bool is_blockdev;
	bool direct; /* O_DIRECT in effect */
	bool read_only;
	bool can_discard; /* BLKDISCARD / PUNCH_HOLE supported */
	bool volatile_media; /* contents lost at close (mem) */
	bool write_cache; /* the medium has a volatile write cache (FLUSH matters) */
	uint32_t phys_io; /* physical block size (BLKPBSZGET), 0 unknown; >= min_io */
	bool discard_zeroes; /* a DISCARDed range is known to read back as zeroes
			      * (punched file holes, mem); false when unknown */
	/* BDEV_IO_ATOMIC write sizes in bytes; atomic_max 0 = no atomic writes
	 * (aio: statx STATX_WRITE_ATOMIC at open; mem: any length) */
	uint32_t atomic_min, atomic_max;
	bool atomic_pow2; /* RWF_ATOMIC rule: power-of-two length, naturally aligned */
};

#define BDEV_OPEN_RDONLY (1u << 0)

/* Opens path ("mem:SIZE", a block device or a regular file). Blocking (called
 * at LU start). Logs the reason on failure. 0 or -errno. */
int bdev_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out);
/* Close: all submitted I/O must have completed. Not from inside a done
 * callback of this bdev (the backend is still reaping): defer it. */
void bdev_close(struct bdev *bdev);
const struct bdev_info *bdev_get_info(const struct bdev *bdev);
const char *bdev_path(const struct bdev *bdev);
void bdev_submit(struct bdev *bdev, struct bdev_io *io);
/* Provisioning status of the extent starting at offset (GET LBA STATUS):
 * *mapped is whether data is allocated there, *len how many bytes from offset
 * share that status (> 0, up to the end of the device). Files answer with
 * lseek SEEK_DATA/SEEK_HOLE (a metadata lookup, done on the calling thread);
 * block devices and mem report everything mapped. 0 or -errno. */
int bdev_map_status(struct bdev *bdev, uint64_t offset, bool *mapped, uint64_t *len);
/* Re-read the size (for live resize). 0 or -errno. */
int bdev_refresh_size(struct bdev *bdev);
/* Counters for targetctl. */
struct bdev_stats {
	uint64_t reads, writes, flushes, read_bytes, write_bytes, errors;
	uint32_t inflight;
};
void bdev_get_stats(const struct bdev *bdev, struct bdev_stats *out);

#endif
