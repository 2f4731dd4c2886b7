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
struct scsi_core;
struct iscsi_server;

#define DAEMON_SHUTDOWN_TIMEOUT_MS 10000u

/* Runs the daemon until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a graceful stop, 1 if startup failed (before READY=1).
 * control_path: the control socket for targetctl, or NULL for none. */
int daemon_run(const struct conf *c, const char *control_path);

/* Control socket (daemon_ctl.c). Set evl, core, srv, version, fd = -1
 * before start; stop closes every client and unlinks the socket. */
struct ctl_client;
struct daemon_ctl {
	struct evl *evl;
	struct scsi_core *core;
	struct iscsi_server *srv;
	const char *version;
	int fd;
	char *path;
	struct ctl_client *clients;
};
int daemon_ctl_start(struct daemon_ctl *ctl, const char *path);
void daemon_ctl_stop(struct daemon_ctl *ctl);

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
