/* SPDX-License-Identifier: MIT */
/*
 * evloop: the epoll loop object, passed to everything that needs it (no global
 * loop state). One loop thread owns all protocol, SCSI and PR state. One worker
 * thread runs blocking work (fsync, open) and hands results back to the loop.
 *
 * Callback rules:
 *  - fd callbacks run on the loop thread; after evl_fd_del() returns, the
 *    callback for that fd is never called again, even later in the same batch.
 *  - Deferred callbacks (struct evl_defer) run after the current batch of fd
 *    events, before the next epoll_wait, in FIFO order; a deferral scheduled
 *    by a deferred callback runs in the same drain. This is where objects are
 *    freed (never inside their own callback) and where batched work (e.g.
 *    io_submit) is flushed.
 */
#ifndef TARGETD_EVLOOP_H
#define TARGETD_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct evl;

typedef void (*evl_fd_cb)(struct evl *evl, int fd, uint32_t events, void *arg);

int evl_create(struct evl **out); /* 0 or -errno */
void evl_destroy(struct evl *evl); /* joins the worker */
int evl_run(struct evl *evl); /* until evl_stop(); 0 or -errno */
void evl_stop(struct evl *evl); /* loop thread; run() returns after this batch */
/* Opt-in busy polling (added for issue 8, config poll_us): when the loop has
 * nothing to do it keeps calling epoll_wait with timeout 0 for up to poll_us
 * microseconds since the last event before it sleeps in epoll_wait(-1).
 * Saves the wakeup of a sleeping thread on each request at the price of a
 * spinning CPU. 0 (the default) never spins. Loop thread (or before run). */
void evl_set_poll_us(struct evl *evl, uint32_t poll_us);

/* events: EPOLLIN | EPOLLOUT | EPOLLRDHUP ... (level triggered). */
int evl_fd_add(struct evl *evl, int fd, uint32_t events, evl_fd_cb cb, void *arg);
int evl_fd_mod(struct evl *evl, int fd, uint32_t events);
void evl_fd_del(struct evl *evl, int fd);

/* Deferred call: embed in the owning object, init once. evl_defer_schedule is
 * idempotent while pending (no allocation). evl_defer_cancel unschedules. */
struct evl_defer {
	void (*fn)(void *arg);
	void *arg;
	struct evl_defer *next;
	bool pending;
};
void evl_defer_init(struct evl_defer *d, void (*fn)(void *arg), void *arg);
void evl_defer_schedule(struct evl *evl, struct evl_defer *d);
void evl_defer_cancel(struct evl *evl, struct evl_defer *d);

/* Timers (timerfd backed). first_ms == 0 disarms; interval_ms == 0 one-shot. */
struct evl_timer;
int evl_timer_create(struct evl *evl, void (*fn)(void *arg), void *arg, struct evl_timer **out);
int evl_timer_arm(struct evl_timer *t, uint64_t first_ms, uint64_t interval_ms);
void evl_timer_destroy(struct evl_timer *t);

/* Blocking work on the worker thread. work(arg) runs on the worker (it must not
 * touch loop-owned state), then done(arg, result) runs on the loop thread with
 * work's return value. Jobs run one at a time in submission order. The job
 * struct is caller-owned and must live until done runs. */
struct evl_job {
	int (*work)(void *arg);
	void (*done)(void *arg, int result);
	void *arg;
	int result;
	struct evl_job *next;
};
void evl_job_submit(struct evl *evl, struct evl_job *job);

#endif
