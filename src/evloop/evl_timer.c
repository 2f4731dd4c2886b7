/* SPDX-License-Identifier: MIT */
/* evl_timer: timerfd-backed one-shot and periodic timers on the loop. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "evl_internal.h"
#include "targetd/util.h"

struct evl_timer {
	struct evl *evl;
	int tfd;
	void (*fn)(void *arg);
	void *arg;
};

static void timer_cb(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct evl_timer *t = arg;
	uint64_t expirations;

	(void)evl;
	(void)events;
	/* EAGAIN: re-armed or disarmed since the event was queued; not due. */
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	t->fn(t->arg); /* last: fn may destroy t */
}

int evl_timer_create(struct evl *evl, void (*fn)(void *arg), void *arg, struct evl_timer **out)
{
	struct evl_timer *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->evl = evl;
	t->fn = fn;
	t->arg = arg;
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->tfd < 0) {
		ret = -errno;
		free(t);
		return ret;
	}
	ret = evl_fd_add(evl, t->tfd, EPOLLIN, timer_cb, t);
	if (ret) {
		close(t->tfd);
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

static struct timespec ms_to_ts(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	return ts;
}

int evl_timer_arm(struct evl_timer *t, uint64_t first_ms, uint64_t interval_ms)
{
	struct itimerspec its = {0};

	if (first_ms) {
		its.it_value = ms_to_ts(first_ms);
		its.it_interval = ms_to_ts(interval_ms);
	}
	if (timerfd_settime(t->tfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

void evl_timer_destroy(struct evl_timer *t)
{
	if (!t)
		return;
	evl_fd_del(t->evl, t->tfd);
	close(t->tfd);
	free(t);
}
