/* SPDX-License-Identifier: MIT */
/* bdev aio backend private state, shared by bdev_aio.c (data path) and
 * bdev_aio_open.c (open, probing, size). */
#ifndef TARGETD_BDEV_AIO_H
#define TARGETD_BDEV_AIO_H

#include <libaio.h>

#include "bdev_internal.h"
#include "targetd/util.h"

#define AIO_DEPTH 256
#define AIO_EVENTS 64

struct bdev_aio {
	struct bdev b;
	int fd;
	int efd; /* eventfd the kernel signals completions on */
	io_context_t ctx;
	unsigned depth; /* io_setup depth */
	unsigned kinflight; /* iocbs owned by the kernel */
	unsigned winflight; /* jobs owned by the worker */
	struct bdev_io *q_head, *q_tail; /* prepared, not yet io_submit'ed */
	struct evl_defer kick; /* one io_submit per loop iteration */
	struct evl_timer *retry; /* EAGAIN with nothing in flight */
	bool fdsync_aio; /* IOCB_CMD_FDSYNC works (probed on first FLUSH) */
	bool fdsync_probed;
	bool rwf_dsync; /* RWF_DSYNC accepted for FUA */
	bool uring; /* completions reaped from the user-visible ring, efd edge-triggered */
	void *zero_buf; /* worker only: WRITE_ZEROES fallback source */
	struct util_ratelimit rl;
	struct iocb *batch[AIO_DEPTH];
	struct io_event events[AIO_EVENTS];
};

extern const struct bdev_ops bdev_aio_ops;

/* bdev_aio.c: set up the context, eventfd and deferral once fd is open. */
int bdev_aio_start(struct bdev_aio *a);
/* bdev_aio_map.c: SEEK_DATA/SEEK_HOLE (bdev_map_status) */
int bdev_aio_map_status(struct bdev *bdev, uint64_t offset, bool *mapped, uint64_t *len);
/* bdev_aio_open.c */
int bdev_aio_read_size(struct bdev_aio *a, uint64_t *size);

#endif
