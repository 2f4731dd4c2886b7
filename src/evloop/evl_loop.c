/* SPDX-License-Identifier: MIT */
/*
 * evl_loop: the epoll loop object, fd registrations and deferred calls.
 *
 * fds are indexed directly (table grows to the highest fd). Each registration
 * carries a generation number that travels in epoll_data together with the
 * fd, so an event fetched in the same batch as an evl_fd_del() (or a del
 * followed by an add that reused the fd number) is recognised as stale and
 * dropped: after evl_fd_del() returns, that callback never runs again.
 *
 * Deferred calls form a FIFO of embedded nodes; the drain after every batch
 * runs until the FIFO is empty, so a deferral scheduled by a deferred call
 * runs in the same drain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evl_internal.h"

#define EVL_BATCH 128

static uint64_t pack(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int evl_create(struct evl **out)
{
	struct evl *evl = calloc(1, sizeof(*evl));
	int ret;

	if (!evl)
		return -ENOMEM;
	evl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (evl->epfd < 0) {
		ret = -errno;
		free(evl);
		return ret;
	}
	ret = evl_worker_start(evl);
	if (ret) {
		close(evl->epfd);
		free(evl);
		return ret;
	}
	*out = evl;
	return 0;
}

void evl_destroy(struct evl *evl)
{
	if (!evl)
		return;
	evl_worker_stop(evl);
	close(evl->epfd);
	free(evl->fds);
	free(evl);
}

static int fds_grow(struct evl *evl, int fd)
{
	size_t n = evl->nfds ? evl->nfds : 64;
	struct evl_fdent *t;

	while (n <= (size_t)fd)
		n *= 2;
	t = realloc(evl->fds, n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + evl->nfds, 0, (n - evl->nfds) * sizeof(*t));
	evl->fds = t;
	evl->nfds = n;
	return 0;
}

int evl_fd_add(struct evl *evl, int fd, uint32_t events, evl_fd_cb cb, void *arg)
{
	struct epoll_event ev = {.events = events};
	struct evl_fdent *e;
	int ret;

	if (fd < 0 || !cb)
		return -EINVAL;
	if ((size_t)fd >= evl->nfds) {
		ret = fds_grow(evl, fd);
		if (ret)
			return ret;
	}
	e = &evl->fds[fd];
	if (e->cb)
		return -EEXIST;
	ev.data.u64 = pack(fd, e->gen + 1);
	if (epoll_ctl(evl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	e->gen++;
	e->cb = cb;
	e->arg = arg;
	e->events = events;
	return 0;
}

int evl_fd_mod(struct evl *evl, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};
	struct evl_fdent *e;

	if (fd < 0 || (size_t)fd >= evl->nfds || !evl->fds[fd].cb)
		return -ENOENT;
	e = &evl->fds[fd];
	if (e->events == events)
		return 0;
	ev.data.u64 = pack(fd, e->gen);
	if (epoll_ctl(evl->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	e->events = events;
	return 0;
}

void evl_fd_del(struct evl *evl, int fd)
{
	struct evl_fdent *e;

	if (fd < 0 || (size_t)fd >= evl->nfds || !evl->fds[fd].cb)
		return;
	e = &evl->fds[fd];
	/* The fd may already be closed by the caller (then epoll forgot it). */
	epoll_ctl(evl->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->cb = NULL;
	e->arg = NULL;
	e->events = 0;
	e->gen++; /* events of this batch for the old registration are stale */
}

void evl_defer_init(struct evl_defer *d, void (*fn)(void *arg), void *arg)
{
	d->fn = fn;
	d->arg = arg;
	d->next = NULL;
	d->pending = false;
}

void evl_defer_schedule(struct evl *evl, struct evl_defer *d)
{
	if (d->pending)
		return;
	d->pending = true;
	d->next = NULL;
	if (evl->defer_tail)
		evl->defer_tail->next = d;
	else
		evl->defer_head = d;
	evl->defer_tail = d;
}

void evl_defer_cancel(struct evl *evl, struct evl_defer *d)
{
	struct evl_defer **pp, *prev = NULL;

	if (!d->pending)
		return;
	for (pp = &evl->defer_head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			if (evl->defer_tail == d)
				evl->defer_tail = prev;
			break;
		}
	}
	d->next = NULL;
	d->pending = false;
}

static void defer_drain(struct evl *evl)
{
	struct evl_defer *d;

	while ((d = evl->defer_head)) {
		evl->defer_head = d->next;
		if (!evl->defer_head)
			evl->defer_tail = NULL;
		d->next = NULL;
		d->pending = false; /* fn may reschedule d */
		d->fn(d->arg);
	}
}

void evl_set_poll_us(struct evl *evl, uint32_t poll_us)
{
	evl->poll_ns = (uint64_t)poll_us * 1000u;
	evl->idle_since_ns = 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* epoll_wait timeout: 0 while deferred work is pending or stopping; with busy
 * polling on, 0 until the loop has been idle for poll_ns; else sleep. */
static int wait_timeout(struct evl *evl)
{
	uint64_t now;

	if (evl->defer_head || evl->stop)
		return 0;
	if (!evl->poll_ns)
		return -1;
	now = mono_ns();
	if (!evl->idle_since_ns) {
		evl->idle_since_ns = now;
		return 0;
	}
	return now - evl->idle_since_ns < evl->poll_ns ? 0 : -1;
}

int evl_run(struct evl *evl)
{
	struct epoll_event evs[EVL_BATCH];
	int ret = 0;

	for (;;) {
		int n = epoll_wait(evl->epfd, evs, EVL_BATCH, wait_timeout(evl));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n > 0)
			evl->idle_since_ns = 0; /* busy: the poll window starts again */
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			struct evl_fdent *e;

			if ((size_t)fd >= evl->nfds)
				continue;
			e = &evl->fds[fd];
			if (!e->cb || e->gen != gen)
				continue; /* deleted earlier in this batch */
			e->cb(evl, fd, evs[i].events, e->arg);
		}
		defer_drain(evl);
		if (evl->stop)
			break;
	}
	evl->stop = false; /* evl_run may be called again */
	return ret;
}

void evl_stop(struct evl *evl)
{
	evl->stop = true;
}
