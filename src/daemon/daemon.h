/* SPDX-License-Identifier: MIT */
/*
 * daemon: wiring only. Builds every module's objects from a struct conf in
 * the documented startup order, reports readiness (sd_notify + the "ready,
 * listening on" log line), and handles signals on the loop (signalfd).
 */
#ifndef TARGETD_DAEMON_H
#define TARGETD_DAEMON_H

#include <stdint.h>

struct conf;
struct evl;

#define DAEMON_SHUTDOWN_TIMEOUT_MS 10000u

/* Runs the daemon until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a graceful stop, 1 if startup failed (before READY=1). */
int daemon_run(const struct conf *c);

/* Creates dir (and missing parents) with mode 0700 if it does not exist.
 * 0 or -errno (logged). */
int daemon_make_state_dir(const char *dir);

/* signalfd for SIGTERM, SIGINT, SIGHUP on the loop. The signals must already
 * be blocked in every thread (daemon_block_signals before evl_create). */
struct daemon_signals {
	int fd;
	void (*on_stop)(void *arg, int signo);
	void (*on_reload)(void *arg);
	void *arg;
};
int daemon_block_signals(void);
int daemon_signals_start(struct evl *evl, struct daemon_signals *s);
void daemon_signals_stop(struct evl *evl, struct daemon_signals *s);

#endif
