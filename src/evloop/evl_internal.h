/* SPDX-License-Identifier: MIT */
/* evloop private state shared by evl_loop.c, evl_timer.c and evl_worker.c. */
#ifndef TARGETD_EVL_INTERNAL_H
#define TARGETD_EVL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "targetd/evloop.h"

struct evl_fdent {
	evl_fd_cb cb; /* NULL: slot free */
	void *arg;
	uint32_t events;
	uint32_t gen; /* bumped on add and del; stale events are dropped */
};

struct evl_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct evl_job *todo_head, *todo_tail; /* lock; loop -> worker */
	struct evl_job *done_head, *done_tail; /* lock; worker -> loop */
	bool stop; /* lock */
	bool started;
	int efd; /* eventfd: worker signals finished jobs */
};

struct evl {
	int epfd;
	struct evl_fdent *fds;
	size_t nfds;
	struct evl_defer *defer_head, *defer_tail;
	bool stop;
	uint64_t poll_ns; /* busy poll window, 0: off */
	uint64_t idle_since_ns; /* CLOCK_MONOTONIC of the first empty poll, 0: busy */
	struct evl_worker worker;
};

int evl_worker_start(struct evl *evl);
void evl_worker_stop(struct evl *evl);

#endif
