/* SPDX-License-Identifier: MIT */
/*
 * bdev_mem: "mem:SIZE" — zero-filled anonymous memory for tests and
 * benchmarks. Work is done synchronously inside submit (memcpy), but the
 * completion is always delivered from a deferred call (bdev.h contract).
 * FLUSH succeeds: nothing volatile sits between a completed write and the
 * medium, and the medium itself is volatile (info.volatile_media), which the
 * LU reports honestly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bdev_internal.h"
#include "targetd/util.h"

#define MEM_POPULATE_MAX (1ull << 30) /* mem:1G and smaller are populated at open */

struct bdev_mem {
	struct bdev b;
	uint8_t *mem;
	size_t size;
};

static void mem_copy(struct bdev_mem *m, struct bdev_io *io)
{
	uint64_t off = io->offset;

	for (int i = 0; i < io->iovcnt; i++) {
		size_t n = io->iov[i].iov_len;

		if (io->op == BDEV_OP_READ)
			memcpy(io->iov[i].iov_base, m->mem + off, n);
		else
			memcpy(m->mem + off, io->iov[i].iov_base, n);
		off += n;
	}
}

static void mem_submit(struct bdev *bdev, struct bdev_io *io)
{
	struct bdev_mem *m = container_of(bdev, struct bdev_mem, b);

	switch (io->op) {
	case BDEV_OP_READ:
	case BDEV_OP_WRITE:
		mem_copy(m, io);
		break;
	case BDEV_OP_DISCARD:
	case BDEV_OP_WRITE_ZEROES:
		/* Discarded ranges read back as zeroes too (LBPRZ-friendly). */
		memset(m->mem + io->offset, 0, io->len);
		break;
	case BDEV_OP_FLUSH:
		break;
	}
	bdev_complete_later(bdev, io, 0);
}

static int mem_refresh_size(struct bdev *bdev)
{
	(void)bdev;
	return 0;
}

static void mem_close(struct bdev *bdev)
{
	struct bdev_mem *m = container_of(bdev, struct bdev_mem, b);

	if (m->mem)
		munmap(m->mem, m->size);
	free(m);
}

static const struct bdev_ops mem_ops = {
    .name = "mem",
    .submit = mem_submit,
    .refresh_size = mem_refresh_size,
    .close = mem_close,
};

int bdev_mem_open(struct evl *evl, const char *path, unsigned flags, struct bdev **out)
{
	struct bdev_mem *m;
	uint64_t size;
	int ret;

	(void)flags;
	ret = util_parse_size(path + 4, &size);
	if (ret || size == 0 || size > SIZE_MAX) {
		log_err("bdev", "%s: bad size (want mem:SIZE, e.g. mem:64M)", path);
		return ret ? ret : -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	bdev_common_init(&m->b, &mem_ops, evl);
	m->size = (size_t)size;
	/* Small LUs (benchmarks, tests) are faulted in at open: a first touch
	 * costs a page fault and a page clear inside the I/O path, and on some
	 * kernels even a read of an untouched page allocates one (no shared zero
	 * page), which made the memory of a benchmark run look like memory per
	 * session. Larger LUs are left sparse. */
	m->mem = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			  (m->size <= MEM_POPULATE_MAX ? MAP_POPULATE : 0),
		      -1, 0);
	if (m->mem == MAP_FAILED) {
		ret = -errno;
		log_err("bdev", "%s: cannot map %zu bytes: %m", path, m->size);
		free(m);
		return ret;
	}
	m->b.info = (struct bdev_info){
	    .size = size,
	    .min_io = 1,
	    .opt_io = 0,
	    .can_discard = true,
	    .discard_zeroes = true,
	    .volatile_media = true,
	    .write_cache = false,
	};
	*out = &m->b;
	return 0;
}
