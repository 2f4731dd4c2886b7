/* SPDX-License-Identifier: MIT */
/*
 * evl_worker: one worker thread for blocking work (fsync of the APTPL file,
 * fdatasync fallback, discard, opening devices).
 *
 * Jobs go loop -> worker through a mutex-protected FIFO and a condition
 * variable; finished jobs come back through a second FIFO and an eventfd the
 * loop watches, so done() always runs on the loop thread. One thread runs the
 * jobs one at a time, hence in submission order.
 *
 * On evl_destroy the worker finishes the job it is running and exits; jobs
 * still queued are not run and their done() is not called (the loop is gone).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evl_internal.h"
#include "targetd/util.h"

static void *worker_main(void *arg)
{
	struct evl_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct evl_job *job;
		uint64_t one = 1;

		while (!w->stop && !w->todo_head)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		job = w->todo_head;
		w->todo_head = job->next;
		if (!w->todo_head)
			w->todo_tail = NULL;
		pthread_mutex_unlock(&w->lock);

		job->result = job->work(job->arg);

		pthread_mutex_lock(&w->lock);
		job->next = NULL;
		if (w->done_tail)
			w->done_tail->next = job;
		else
			w->done_head = job;
		w->done_tail = job;
		/* eventfd counter cannot overflow here (one add per job). */
		if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_err("evloop", "worker: eventfd write: %m");
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void worker_done_cb(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct evl_worker *w = arg;
	struct evl_job *list;
	uint64_t cnt;

	(void)evl;
	(void)events;
	if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_err("evloop", "worker: eventfd read: %m");
	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct evl_job *job = list;

		list = job->next;
		job->next = NULL;
		job->done(job->arg, job->result); /* may free job */
	}
}

int evl_worker_start(struct evl *evl)
{
	struct evl_worker *w = &evl->worker;
	int ret;

	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = evl_fd_add(evl, w->efd, EPOLLIN, worker_done_cb, w);
	if (ret)
		goto fail;
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		evl_fd_del(evl, w->efd);
		goto fail;
	}
	w->started = true;
	return 0;
fail:
	close(w->efd);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	return ret;
}

void evl_worker_stop(struct evl *evl)
{
	struct evl_worker *w = &evl->worker;

	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	evl_fd_del(evl, w->efd);
	close(w->efd);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	w->started = false;
}

void evl_job_submit(struct evl *evl, struct evl_job *job)
{
	struct evl_worker *w = &evl->worker;

	job->next = NULL;
	job->result = 0;
	pthread_mutex_lock(&w->lock);
	if (w->todo_tail)
		w->todo_tail->next = job;
	else
		w->todo_head = job;
	w->todo_tail = job;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}
