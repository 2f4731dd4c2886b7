/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the libFuzzer harnesses (tests/fuzz/fuzz_*.c): a per-process
 * state directory, and a loop pump that runs a real evloop until nothing is
 * ready any more (level-triggered epoll polled with timeout 0, no deferred
 * call pending) or a caller predicate holds. A harness that never reaches its
 * predicate aborts with "hang": a task whose done() never runs is a bug.
 *
 * Harnesses run with -close_fd_mask=2 in run-fuzz.sh so the daemon's log
 * lines do not slow the fuzzer; sanitizer reports still reach the terminal
 * (libFuzzer keeps a duplicate of stderr for them).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "evl_internal.h" /* evloop private: epfd and the defer queue, to detect quiescence */
#include "targetd/evloop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_state_dir[64];

static inline void fuzz_rm_state_dir(void)
{
	char cmd[128];

	if (!fuzz_state_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_state_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_state_dir);
}

/* A private temporary directory for APTPL state files, removed at exit. */
static inline const char *fuzz_state_dir_get(void)
{
	if (!fuzz_state_dir[0]) {
		snprintf(fuzz_state_dir, sizeof(fuzz_state_dir), "/tmp/targetd-fuzz.XXXXXX");
		if (!mkdtemp(fuzz_state_dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_rm_state_dir);
	}
	return fuzz_state_dir;
}

/* Remove every file in the state directory (fresh power-on per input). */
static inline void fuzz_state_dir_clean(void)
{
	DIR *d = opendir(fuzz_state_dir_get());
	struct dirent *e;

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static inline uint64_t fuzz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Is anything ready to run: a deferred call, or an fd epoll reports? */
static inline bool fuzz_evl_busy(struct evl *evl)
{
	struct epoll_event ev;

	if (evl->defer_head)
		return true;
	return epoll_wait(evl->epfd, &ev, 1, 0) > 0;
}

static inline void fuzz_stop_fn(void *arg)
{
	evl_stop(arg);
}

/* One batch: the ready fd callbacks, then the deferred calls. */
static inline void fuzz_evl_once(struct evl *evl)
{
	struct evl_defer stop;

	evl_defer_init(&stop, fuzz_stop_fn, evl);
	evl_defer_schedule(evl, &stop);
	if (evl_run(evl)) {
		fprintf(stderr, "fuzz: evl_run failed\n");
		abort();
	}
}

/*
 * Run the loop until done(arg) is true and nothing is ready (done may be
 * NULL: just until quiet). Work on the evloop worker thread (APTPL fsync)
 * is waited for with short sleeps. Aborts after timeout_ms.
 */
static inline void fuzz_evl_pump(struct evl *evl, bool (*done)(void *arg), void *arg,
				 unsigned timeout_ms)
{
	uint64_t deadline = fuzz_now_ms() + timeout_ms;

	for (;;) {
		bool busy = fuzz_evl_busy(evl);

		if (!busy && (!done || done(arg)))
			return;
		if (busy)
			fuzz_evl_once(evl);
		else
			usleep(50);
		if (fuzz_now_ms() > deadline) {
			fprintf(stderr, "fuzz: hang: the loop did not settle in %u ms\n",
				timeout_ms);
			abort();
		}
	}
}

#endif
