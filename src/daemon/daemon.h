/* SPDX-License-Identifier: MIT */
/*
 * daemon: wiring only. Builds every module's objects from a struct conf in
 * the documented startup order, reports readiness (sd_notify + the "ready,
 * listening on" log line), and handles signals on the loop (signalfd).
 */
#ifndef TARGETD_DAEMON_H
#define TARGETD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "targetd/conf.h"

struct conf;
struct evl;
struct evl_timer;
struct scsi_core;
struct scsi_lu;
struct scsi_target;
struct iscsi_server;

#define DAEMON_SHUTDOWN_TIMEOUT_MS 10000u

/* Runs the daemon until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a graceful stop, 1 if startup failed (before READY=1).
 * control_path: the control socket for targetctl, or NULL for none. */
int daemon_run(const struct conf *c, const char *control_path);

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

/* What a reload did (daemon_reload.c), for the log and targetctl. */
struct daemon_reload_report {
	const char *source; /* the file read */
	int result; /* 0 applied; -EINVAL invalid file; other -errno: aborted */
	char *error; /* why it was refused or aborted (NULL when applied) */
	struct conf_problems probs; /* every problem conf_load_ex found */
	char **changes; /* one line per change applied */
	size_t n_changes;
	char **warnings; /* changes applied in a way worth knowing */
	size_t n_warnings;
};
void daemon_reload_report_free(struct daemon_reload_report *rep);

/* Control socket (daemon_ctl.c). Set evl, core, srv, version, fd = -1
 * before start; stop closes every client and unlinks the socket. reload
 * (may be NULL) runs a reload for "targetctl reload" and fills rep. */
struct ctl_client;
struct daemon_ctl {
	struct evl *evl;
	struct scsi_core *core;
	struct iscsi_server *srv;
	const char *version;
	int fd;
	char *path;
	struct ctl_client *clients;
	void (*reload)(void *arg, struct daemon_reload_report *rep);
	void *reload_arg;
	uint64_t start_ms; /* for uptime */
};
int daemon_ctl_start(struct daemon_ctl *ctl, const char *path);
void daemon_ctl_stop(struct daemon_ctl *ctl);
/* Runs one request line ("[json ]COMMAND [ARGS]") and writes the answer
 * body to out (daemon_ctl_cmds.c). Returns false if the command failed. */
bool daemon_ctl_run(struct daemon_ctl *ctl, char *req, FILE *out);
/* JSON string literal of s (NULL: null) (daemon_ctl_cmds.c). */
void daemon_json_str(FILE *f, const char *s);

/* The running daemon (daemon_run.c), shared with daemon_reload.c. */
struct daemon {
	const struct conf *c; /* the configuration in effect */
	struct conf *owned; /* c, when a reload loaded it (freed at exit) */
	struct evl *evl;
	struct scsi_core *core;
	struct iscsi_server *srv;
	struct daemon_signals sig;
	struct daemon_ctl ctl;
	struct evl_timer *stop_timer;
	bool stopping;
	bool stopped_cleanly;
	/* iscsi portal index of each c->portals[i] */
	unsigned *portal_idx;
	unsigned n_portal_slots; /* portals the iscsi server has (incl. removed) */
	/* removed by a reload, freed once idle (daemon_reload_reap) */
	struct scsi_target **dead_targets;
	size_t n_dead_targets;
	struct scsi_lu **dead_lus;
	size_t n_dead_lus;
	struct evl_timer *reap_timer;
	/* LUs left unmapped at startup: corrupt APTPL state file */
	size_t n_lus_not_started;
};

/* Opens the LU of one [lun] (daemon_run.c); logs why it failed. */
int daemon_lu_open(struct daemon *d, const struct conf_target *ct, const struct conf_lun *cl,
		   struct scsi_lu **out);

/* The iSCSI settings of a configuration, defaults filled in. */
struct iscsi_settings;
void daemon_iscsi_settings(const struct conf *c, struct iscsi_settings *s);

/* Live reload (SIGHUP, targetctl reload): re-read c->source, validate it
 * completely, and apply the difference. On any problem the running
 * configuration stays as it is. rep is filled (free it with
 * daemon_reload_report_free); returns rep->result. */
int daemon_reload(struct daemon *d, struct daemon_reload_report *rep);
/* Frees what reloads removed and is idle now; at exit (force) whatever is
 * left. Returns the number of objects still waiting. */
size_t daemon_reload_reap(struct daemon *d, bool force);

/* targetd --import-lio (daemon_import.c, issue 11): LIO APTPL file ->
 * <state_dir>/pr-<serial>.state. With conf, target/lun name a [lun] (its
 * serial, the conf's state_dir and portal groups); without, serial and
 * state_dir must be given (portal group 1). from_target/from_lun select the
 * LIO target and LUN (default: target/lun). Refuses to replace an existing
 * state file unless force. Prints what it imported to out; 0 or -errno
 * (logged). */
struct daemon_import {
	const char *lio_file;
	const struct conf *conf; /* or NULL */
	const char *target;
	unsigned lun;
	const char *from_target;
	unsigned from_lun;
	bool has_from_lun;
	const char *state_dir, *serial; /* override conf's */
	bool force;
};
int daemon_import_lio(const struct daemon_import *imp, FILE *out);

/* Creates dir (and missing parents) with mode 0700 if it does not exist.
 * 0 or -errno (logged). */
int daemon_make_state_dir(const char *dir);

#endif
