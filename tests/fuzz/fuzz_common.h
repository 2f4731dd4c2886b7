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
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "evl_internal.h" /* evloop private: epfd and the defer queue, to detect quiescence */
#include "targetd/evloop.h"
#include "targetd/pr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_state_dir[256];

static inline void fuzz_rm_state_dir(void)
{
	char cmd[300];

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
		const char *tmp = getenv("TMPDIR");

		snprintf(fuzz_state_dir, sizeof(fuzz_state_dir), "%s/targetd-fuzz.XXXXXX",
			 tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
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

/*
 * Every APTPL file the daemon wrote (<state_dir>/pr-<serial>.state) must load
 * again (SPC-4 5.13.5.1: the state survives a power loss): whatever an
 * initiator registered, pr_state_decode has to accept what was saved.
 */
static inline void fuzz_state_dir_check_aptpl(void)
{
	DIR *d = opendir(fuzz_state_dir_get());
	struct dirent *e;

	if (!d)
		abort();
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char buf[65536];
		struct pr_state st;
		unsigned line = 0;
		const char *msg = NULL;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 6, ".state"))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n < 0 || (size_t)n == sizeof(buf))
			continue;
		if (pr_state_decode(buf, (size_t)n, 1024, &st, &line, &msg)) {
			fprintf(stderr,
				"fuzz: APTPL file %s written but not loadable: line %u: %s\n",
				e->d_name, line, msg ? msg : "?");
			abort();
		}
		pr_state_free(&st);
	}
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
