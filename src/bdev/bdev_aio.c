/* SPDX-License-Identifier: MIT */
/* bdev_aio: block devices and regular files (O_DIRECT + libaio). In progress. */
#include <errno.h>

#include "bdev_internal.h"
#include "targetd/util.h"

int bdev_aio_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out)
{
	(void)evl;
	(void)flags;
	(void)out;
	log_err("bdev", "%s: aio backend not built yet", path);
	return -EOPNOTSUPP;
}
