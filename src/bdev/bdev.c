/* SPDX-License-Identifier: MIT */
/*
 * bdev: backend selection, request validation, statistics, and the deferred
 * completion path shared by the backends.
 *
 * bdev_submit() validates every request before a backend sees it: range
 * checks are overflow-safe (offset > size || size - offset < len), READ and
 * WRITE lengths must equal the iovec total, writes to a read-only bdev fail
 * with -EROFS. Rejected requests complete from a deferral like any other, so
 * done never runs inside bdev_submit().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "targetd/util.h"

static void later_drain(void *arg)
{
	struct bdev *bdev = arg;
	struct bdev_io *list = bdev->later_head;

	bdev->later_head = bdev->later_tail = NULL;
	while (list) {
		struct bdev_io *io = list;

		list = bdev_priv(io)->next;
		bdev_complete(bdev, io, bdev_priv(io)->res); /* may submit more */
	}
}

void bdev_common_init(struct bdev *bdev, const struct bdev_ops *ops, struct evl *evl)
{
	bdev->ops = ops;
	bdev->evl = evl;
	evl_defer_init(&bdev->later_defer, later_drain, bdev);
}

void bdev_complete(struct bdev *bdev, struct bdev_io *io, int res)
{
	struct bdev_stats *st = &bdev->stats;

	st->inflight--;
	if (res) {
		st->errors++;
	} else {
		switch (io->op) {
		case BDEV_OP_READ:
			st->reads++;
			st->read_bytes += io->len;
			break;
		case BDEV_OP_WRITE:
			st->writes++;
			st->write_bytes += io->len;
			break;
		case BDEV_OP_FLUSH:
			st->flushes++;
			break;
		case BDEV_OP_DISCARD:
		case BDEV_OP_WRITE_ZEROES:
			break;
		}
	}
	io->done(io, res);
}

void bdev_complete_later(struct bdev *bdev, struct bdev_io *io, int res)
{
	struct bdev_priv *p = bdev_priv(io);

	p->res = res;
	p->next = NULL;
	if (bdev->later_tail)
		bdev_priv(bdev->later_tail)->next = io;
	else
		bdev->later_head = io;
	bdev->later_tail = io;
	evl_defer_schedule(bdev->evl, &bdev->later_defer);
}

int bdev_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out)
{
	struct bdev *bdev = NULL;
	int ret;

	if (strncmp(path, "mem:", 4) == 0)
		ret = bdev_mem_open(evl, path, flags, &bdev);
	else
		ret = bdev_aio_open(evl, path, flags, &bdev);
	if (ret)
		return ret;
	bdev->path = strdup(path);
	if (!bdev->path) {
		bdev->ops->close(bdev);
		return -ENOMEM;
	}
	if (flags & BDEV_OPEN_RDONLY)
		bdev->info.read_only = true;
	*out = bdev;
	return 0;
}

void bdev_close(struct bdev *bdev)
{
	if (!bdev)
		return;
	if (bdev->stats.inflight)
		log_err("bdev", "%s: closed with %u I/Os in flight", bdev->path,
			bdev->stats.inflight);
	evl_defer_cancel(bdev->evl, &bdev->later_defer);
	free(bdev->path);
	bdev->path = NULL;
	bdev->ops->close(bdev);
}

const struct bdev_info *bdev_get_info(const struct bdev *bdev)
{
	return &bdev->info;
}

const char *bdev_path(const struct bdev *bdev)
{
	return bdev->path;
}

static int validate(const struct bdev *bdev, const struct bdev_io *io)
{
	const struct bdev_info *info = &bdev->info;
	uint64_t total = 0;

	switch (io->op) {
	case BDEV_OP_FLUSH:
		return 0;
	case BDEV_OP_WRITE:
	case BDEV_OP_DISCARD:
	case BDEV_OP_WRITE_ZEROES:
		if (info->read_only)
			return -EROFS;
		break;
	case BDEV_OP_READ:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (io->offset > info->size || info->size - io->offset < io->len)
		return -EINVAL;
	if (info->min_io > 1 && (io->offset % info->min_io || io->len % info->min_io))
		return -EINVAL;
	if (io->op == BDEV_OP_DISCARD && !info->can_discard)
		return -EOPNOTSUPP;
	if (io->flags & BDEV_IO_ATOMIC) {
		if (io->op != BDEV_OP_WRITE || !info->atomic_max)
			return -EOPNOTSUPP;
		if (io->len < info->atomic_min || io->len > info->atomic_max || io->iovcnt != 1)
			return -EINVAL;
		if (info->atomic_pow2 && ((io->len & (io->len - 1)) || io->offset % io->len))
			return -EINVAL;
	}
	if (io->op != BDEV_OP_READ && io->op != BDEV_OP_WRITE)
		return 0;
	if (io->iovcnt < 0 || (io->iovcnt > 0 && !io->iov))
		return -EINVAL;
	for (int i = 0; i < io->iovcnt; i++)
		total += io->iov[i].iov_len;
	return total == io->len ? 0 : -EINVAL;
}

void bdev_submit(struct bdev *bdev, struct bdev_io *io)
{
	int ret = validate(bdev, io);

	bdev->stats.inflight++;
	if (ret) {
		bdev_complete_later(bdev, io, ret);
		return;
	}
	if (io->len == 0 && io->op != BDEV_OP_FLUSH) {
		bdev_complete_later(bdev, io, 0);
		return;
	}
	bdev->ops->submit(bdev, io);
}

int bdev_map_status(struct bdev *bdev, uint64_t offset, bool *mapped, uint64_t *len)
{
	if (offset >= bdev->info.size)
		return -EINVAL;
	if (bdev->ops->map_status)
		return bdev->ops->map_status(bdev, offset, mapped, len);
	*mapped = true;
	*len = bdev->info.size - offset;
	return 0;
}

int bdev_refresh_size(struct bdev *bdev)
{
	return bdev->ops->refresh_size(bdev);
}

void bdev_get_stats(const struct bdev *bdev, struct bdev_stats *out)
{
	*out = bdev->stats;
}
