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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define MEM_POPULATE_MAX (1ull << 30) /* mem:1G and smaller are populated at open */

struct bdev_mem {
	struct bdev b;
	uint8_t *mem;
	size_t size;
};

/*
 * Huge pages, and small LUs faulted in at open. Measured on the benchmark VM
 * (shadow-paged guest): a 4 KiB memcpy from a random offset of a 1 GiB
 * mapping takes 19 us with 4 KiB pages and 1.2 us with transparent huge
 * pages, so MADV_HUGEPAGE (THP in "madvise" mode) is the biggest single cost
 * of the mem data path. Populating avoids a page fault and a page clear inside
 * the I/O path, and on kernels without a shared zero page even a read of an
 * untouched page allocates one, which made a benchmark's LU look like memory
 * per session. Larger LUs stay sparse. Both are best effort.
 */
static void mem_prepare(struct bdev_mem *m)
{
	if (madvise(m->mem, m->size, MADV_HUGEPAGE) && errno != EINVAL)
		log_debug("bdev", "mem: MADV_HUGEPAGE: %m");
	if (m->size > MEM_POPULATE_MAX)
		return;
	if (madvise(m->mem, m->size, MADV_POPULATE_WRITE) == 0)
		return;
	/* kernels before 5.14: touch every page */
	for (size_t off = 0; off < m->size; off += 4096)
		((volatile uint8_t *)m->mem)[off] = 0;
}

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
	m->mem = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->mem == MAP_FAILED) {
		ret = -errno;
		log_err("bdev", "%s: cannot map %zu bytes: %m", path, m->size);
		free(m);
		return ret;
	}
	mem_prepare(m);
	m->b.info = (struct bdev_info){
	    .size = size,
	    .min_io = 1,
	    .opt_io = 0,
	    .can_discard = true,
	    .discard_zeroes = true,
	    .volatile_media = true,
	    /* a write is one memcpy on the loop thread: atomic at any length
	     * (and the medium does not survive power loss anyway) */
	    .atomic_min = 1,
	    .atomic_max = UINT32_MAX,
	    .write_cache = false,
	};
	*out = &m->b;
	return 0;
}
