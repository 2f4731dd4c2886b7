/* SPDX-License-Identifier: MIT */
/* bdev private: the backend vtable, the common bdev header, per-I/O scratch. */
#ifndef TARGETD_BDEV_INTERNAL_H
#define TARGETD_BDEV_INTERNAL_H

#include <libaio.h>

#include "targetd/bdev.h"
#include "targetd/evloop.h"

struct bdev_ops {
	const char *name;
	/* Start io (already validated by bdev_submit). Must not call
	 * bdev_complete() from inside: use bdev_complete_later() or a
	 * completion from the loop. */
	void (*submit)(struct bdev *bdev, struct bdev_io *io);
	int (*refresh_size)(struct bdev *bdev);
	/* optional: bdev_map_status; NULL = everything mapped */
	int (*map_status)(struct bdev *bdev, uint64_t offset, bool *mapped, uint64_t *len);
	void (*close)(struct bdev *bdev);
};

/* Common header; each backend embeds it first. */
struct bdev {
	const struct bdev_ops *ops;
	struct evl *evl;
	char *path;
	struct bdev_info info;
	struct bdev_stats stats;
	/* I/Os finished (or rejected) inside submit, completed from a deferral */
	struct bdev_io *later_head, *later_tail;
	struct evl_defer later_defer;
};

/* Per-I/O scratch laid over bdev_io.priv: no allocation per I/O. */
struct bdev_priv {
	union {
		struct iocb iocb; /* aio READ/WRITE/FSYNC */
		struct evl_job job; /* worker: DISCARD, WRITE_ZEROES, fdatasync */
	} u;
	struct bdev *bdev; /* owner (worker jobs find their bdev) */
	struct bdev_io *next; /* backend queue link */
	int res;
	uint32_t stage; /* backend-specific step (e.g. write then flush) */
};
_Static_assert(sizeof(struct bdev_priv) <= sizeof(((struct bdev_io *)0)->priv),
	       "struct bdev_priv must fit in bdev_io.priv");

static inline struct bdev_priv *bdev_priv(struct bdev_io *io)
{
	return (struct bdev_priv *)(void *)io->priv;
}

void bdev_common_init(struct bdev *bdev, const struct bdev_ops *ops, struct evl *evl);
/* Run io->done(io, res) now (loop thread, never inside bdev_submit). */
void bdev_complete(struct bdev *bdev, struct bdev_io *io, int res);
/* Complete io with res from a deferred call after the current batch. */
void bdev_complete_later(struct bdev *bdev, struct bdev_io *io, int res);

int bdev_mem_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out);
int bdev_aio_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out);

#endif
