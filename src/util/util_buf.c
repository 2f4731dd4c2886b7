/* SPDX-License-Identifier: MIT */
/*
 * util_buf: 4 KiB-aligned data buffers recycled through per-size-class free
 * lists (powers of two, 4 KiB .. UTIL_BUF_MAX), so steady-state I/O does not
 * call malloc.
 *
 * Threads: the pool is protected by one mutex, so a buffer may be allocated
 * on the loop thread and freed on the worker (or the reverse). The lock is
 * uncontended in the intended use (one loop thread + one worker) and costs a
 * few atomic operations per call. With one loop per core later, make this a
 * per-loop cache in front of the shared lists.
 *
 * Cached memory is bounded (POOL_CACHE_MAX bytes over all classes); a buffer
 * freed above that bound goes back to the allocator.
 *
 * Under valgrind (docs/testing.md, TARGETD_VALGRIND) the pool tells memcheck
 * what malloc would: a cached buffer is unaddressable except for its free-list
 * link, and a recycled one is undefined again, so a use after util_buf_free and
 * stale bytes sent on the wire are reported as they would be without the pool.
 * The client requests cost a few instructions when not under valgrind.
 */
#include <pthread.h>
#include <stdlib.h>

#include "targetd/util.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_NOACCESS
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

#define BUF_MIN_SHIFT 12 /* 4 KiB */
#define BUF_MAX_SHIFT 25 /* 32 MiB == UTIL_BUF_MAX */
#define BUF_NCLASS (BUF_MAX_SHIFT - BUF_MIN_SHIFT + 1)
#define POOL_CACHE_MAX (256ull << 20)

_Static_assert((1u << BUF_MAX_SHIFT) == UTIL_BUF_MAX, "size classes must end at UTIL_BUF_MAX");
_Static_assert((1u << BUF_MIN_SHIFT) == UTIL_BUF_ALIGN, "size classes must start at the alignment");

/* A cached buffer holds its own free-list link in its first bytes. */
struct buf_free {
	struct buf_free *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf_free *pool_head[BUF_NCLASS];
static uint64_t pool_cached;

static int class_index(size_t len)
{
	unsigned shift = BUF_MIN_SHIFT;

	while (shift < BUF_MAX_SHIFT && ((size_t)1 << shift) < len)
		shift++;
	return (int)(shift - BUF_MIN_SHIFT);
}

size_t util_buf_class(size_t len)
{
	if (len > UTIL_BUF_MAX)
		return 0;
	return (size_t)1 << (class_index(len) + BUF_MIN_SHIFT);
}

void *util_buf_alloc(size_t len)
{
	struct buf_free *b;
	void *p = NULL;
	int ci;

	if (len > UTIL_BUF_MAX)
		return NULL;
	ci = class_index(len);
	pthread_mutex_lock(&pool_lock);
	b = pool_head[ci];
	if (b) {
		pool_head[ci] = b->next;
		pool_cached -= (size_t)1 << (ci + BUF_MIN_SHIFT);
	}
	pthread_mutex_unlock(&pool_lock);
	if (b) {
		/* fresh to memcheck, like a new allocation */
		VALGRIND_MAKE_MEM_UNDEFINED(b, (size_t)1 << (ci + BUF_MIN_SHIFT));
		return b;
	}
	if (posix_memalign(&p, UTIL_BUF_ALIGN, (size_t)1 << (ci + BUF_MIN_SHIFT)))
		return NULL;
	return p;
}

void util_buf_free(void *buf, size_t len)
{
	struct buf_free *b = buf;
	size_t cls;
	int ci;

	if (!buf)
		return;
	if (len > UTIL_BUF_MAX) { /* never came from util_buf_alloc */
		free(buf);
		return;
	}
	ci = class_index(len);
	cls = (size_t)1 << (ci + BUF_MIN_SHIFT);
	pthread_mutex_lock(&pool_lock);
	if (pool_cached + cls <= POOL_CACHE_MAX) {
		b->next = pool_head[ci];
		pool_head[ci] = b;
		pool_cached += cls;
		/* cached: only the link stays addressable (memcheck) */
		VALGRIND_MAKE_MEM_NOACCESS((char *)b + sizeof(*b), cls - sizeof(*b));
		b = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	free(b);
}

void util_buf_pool_trim(void)
{
	struct buf_free *lists[BUF_NCLASS];

	pthread_mutex_lock(&pool_lock);
	for (int i = 0; i < BUF_NCLASS; i++) {
		lists[i] = pool_head[i];
		pool_head[i] = NULL;
	}
	pool_cached = 0;
	pthread_mutex_unlock(&pool_lock);
	for (int i = 0; i < BUF_NCLASS; i++) {
		while (lists[i]) {
			struct buf_free *next = lists[i]->next;

			free(lists[i]);
			lists[i] = next;
		}
	}
}
