/* SPDX-License-Identifier: MIT */
/*
 * daemon_run: the startup order and the graceful stop.
 *
 * Startup: evloop -> scsi core -> every LU opened -> targets, ports, LUN
 * maps, ACLs -> iscsi server -> every portal bound -> only then READY=1 and
 * the "ready, listening on ADDR:PORT[, ...]" line (with the ports actually
 * bound, so port 0 works). Any failure is logged and the process exits 1
 * before READY, having freed everything it built -- except an LU whose APTPL
 * state file is corrupt (scsi_lu_create -EUCLEAN): that LUN alone is left
 * unmapped, loudly (issue 11, docs/aptpl-format.md), and a later reload
 * retries it.
 *
 * Stop (SIGTERM/SIGINT): STOPPING=1, iscsi_server_shutdown() with a bound,
 * then the loop stops, everything is destroyed in reverse order, exit 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "daemon_chap.h"
#include "targetd/conf.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"
#include "targetd/util.h"

int daemon_make_state_dir(const char *dir)
{
	char path[4096];
	struct stat stb;
	size_t len = util_strlcpy(path, dir, sizeof(path));

	if (len >= sizeof(path) || path[0] != '/') {
		log_err("daemon", "state directory %s: not an absolute path", dir);
		return -EINVAL;
	}
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int r = -errno;

			log_err("daemon", "state directory %s: mkdir %s: %s", dir, path,
				strerror(-r));
			return r;
		}
		*p = saved;
		if (!saved)
			break;
	}
	if (stat(dir, &stb) < 0 || !S_ISDIR(stb.st_mode)) {
		log_err("daemon", "state directory %s: not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

int daemon_lu_open(struct daemon *d, const struct conf_target *ct, const struct conf_lun *cl,
		   struct scsi_lu **out)
{
	struct scsi_lu_params lp = {.path = cl->path,
				    .block_size = cl->block_size,
				    .serial = cl->serial,
				    .read_only = cl->read_only,
				    .write_cache = cl->write_cache,
				    .pr_ignore_state = cl->pr_ignore_state,
				    .sanitize = cl->sanitize};
	int r = scsi_lu_create(d->core, &lp, out);

	if (r == -EUCLEAN)
		/* scsi has logged the file, line and problem just before */
		log_err("daemon",
			"%s lun %llu (%s): NOT STARTED: its persistent reservation state file "
			"is corrupt (see above); the LUN is not mapped, the other LUs are "
			"served. To start it with no reservations, set pr_state = ignore in "
			"its [lun] section and reload (the file is moved aside)",
			ct->name, (unsigned long long)cl->lun, cl->path);
	else if (r)
		log_err("daemon", "%s lun %llu: cannot start LU on %s: %s", ct->name,
			(unsigned long long)cl->lun, cl->path, strerror(-r));
	return r;
}

static int build_luns(struct daemon *d)
{
	const struct conf *c = d->c;
	struct scsi_core_params cp = {.state_dir = c->state_dir,
				      .max_registrants =
					  c->max_registrants ? c->max_registrants : 128};
	int r = scsi_core_create(d->evl, &cp, &d->core);

	if (r) {
		log_err("daemon", "creating the SCSI core: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < c->n_targets; i++) {
		const struct conf_target *ct = &c->targets[i];
		struct scsi_target *t;

		/* Every LU is opened before any target exists, so a missing device
		 * stops startup before anything is reachable. */
		struct scsi_lu **lus =
		    calloc(ct->n_luns ? ct->n_luns : 1, sizeof(struct scsi_lu *));

		if (!lus)
			return -ENOMEM;
		for (size_t k = 0; k < ct->n_luns; k++) {
			r = daemon_lu_open(d, ct, &ct->luns[k], &lus[k]);
			/* a corrupt APTPL file keeps THAT LU from starting only
			 * (issue 11); any other failure refuses startup */
			if (r == -EUCLEAN) {
				lus[k] = NULL;
				d->n_lus_not_started++;
				continue;
			}
			if (r) {
				free(lus);
				return r;
			}
		}
		r = scsi_target_create(d->core, ct->name, &t);
		if (r) {
			log_err("daemon", "%s: creating target: %s", ct->name, strerror(-r));
			free(lus);
			return r;
		}
		/* Relative target port identifier = portal group tag (SPC-4
		 * 7.8.6.7; both are 1..65535 after conf validation). */
		for (size_t k = 0; !r && k < ct->n_tpgts; k++)
			r = scsi_target_add_port(t, ct->tpgts[k], ct->tpgts[k]);
		for (size_t k = 0; !r && k < ct->n_luns; k++)
			if (lus[k])
				r = scsi_target_map_lun(t, ct->luns[k].lun, lus[k]);
		for (size_t k = 0; !r && k < ct->n_allow; k++)
			r = scsi_target_acl_add(t, ct->allow[k]);
		free(lus);
		if (r) {
			log_err("daemon", "%s: configuring target: %s", ct->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

void daemon_iscsi_settings(const struct conf *c, struct iscsi_settings *s)
{
	*s = (struct iscsi_settings){
	    .max_recv_data_segment_length = c->max_recv_data_segment_length,
	    .first_burst_length = c->first_burst_length,
	    .max_burst_length = c->max_burst_length,
	    .max_outstanding_r2t = c->max_outstanding_r2t,
	    .cmdsn_window = c->cmdsn_window,
	    .nop_interval_ms = c->nop_interval_ms,
	    .nop_timeout_ms = c->nop_timeout_ms,
	    .login_timeout_ms = c->login_timeout_ms,
	    .max_connections = c->max_connections,
	    .max_sessions_per_target = c->max_sessions_per_target,
	    .max_conn_data_bytes = c->max_conn_data_bytes,
	    .max_connections_per_address = c->max_connections_per_address,
	};
	iscsi_settings_defaults(s);
}

/* A connection holds two descriptors (socket, NOP timerfd), plus a few for
 * LUs, portals, signals and the control socket. Raise the soft RLIMIT_NOFILE
 * to the hard one (the systemd unit sets LimitNOFILE=65536; a shell's soft
 * limit is often 1024, ~500 connections) and say when max_connections
 * cannot be reached; accept then refuses the excess (iscsi_server.c). */
static void raise_nofile(uint32_t max_connections)
{
	struct rlimit rl;
	uint64_t need = 2ull * max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warn("daemon",
			 "open file limit %llu is below the %llu that max_connections = %u "
			 "needs: connections beyond ~%llu are refused (raise LimitNOFILE)",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)need, max_connections,
			 (unsigned long long)(rl.rlim_cur > 64 ? (rl.rlim_cur - 64) / 2 : 0));
}

static int build_iscsi(struct daemon *d)
{
	const struct conf *c = d->c;
	struct iscsi_settings s;
	int r;

	daemon_iscsi_settings(c, &s);
	raise_nofile(s.max_connections);
	r = iscsi_server_create(d->evl, d->core, &s, &d->srv);
	if (r) {
		log_err("daemon", "creating the iSCSI server: %s", strerror(-r));
		return r;
	}
	r = daemon_apply_chap(d, NULL, c, NULL);
	if (r)
		return r;
	d->portal_idx = calloc(c->n_portals ? c->n_portals : 1, sizeof(*d->portal_idx));
	if (!d->portal_idx)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_portals; i++) {
		const struct conf_portal *p = &c->portals[i];

		r = iscsi_portal_add(d->srv, p->host, p->port, p->tpgt, p->advertise);
		if (r) {
			if (p->line)
				log_err("daemon", "%s:%d: cannot listen on %s port %u: %s",
					c->source, p->line, p->host, p->port, strerror(-r));
			else
				log_err("daemon", "cannot listen on %s port %u: %s", p->host,
					p->port, strerror(-r));
			return r;
		}
		d->portal_idx[i] = d->n_portal_slots++;
	}
	return 0;
}

/* "127.0.0.1:3260, [::1]:40123" with the ports actually bound. */
static char *listening_list(struct daemon *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < d->c->n_portals; i++) {
		const char *h = d->c->portals[i].host;
		unsigned port = iscsi_portal_port(d->srv, d->portal_idx[i]);

		fprintf(f, strchr(h, ':') ? "%s[%s]:%u" : "%s%s:%u", i ? ", " : "", h, port);
	}
	if (fclose(f))
		return NULL;
	return buf;
}

static void on_stop_timeout(void *arg)
{
	struct daemon *d = arg;

	log_warn("daemon", "shutdown did not finish within %u ms, exiting anyway",
		 DAEMON_SHUTDOWN_TIMEOUT_MS + 2000);
	evl_stop(d->evl);
}

static void on_shutdown_done(void *arg)
{
	struct daemon *d = arg;

	d->stopped_cleanly = true;
	evl_stop(d->evl);
}

static void on_stop(void *arg, int signo)
{
	struct daemon *d = arg;

	if (d->stopping) {
		log_notice("daemon", "%s: shutdown already in progress", strsignal(signo));
		return;
	}
	d->stopping = true;
	log_notice("daemon", "%s: shutting down", strsignal(signo));
	sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
	/* Backstop in case a connection never drains: the iscsi bound plus 2 s. */
	if (evl_timer_create(d->evl, on_stop_timeout, d, &d->stop_timer) == 0)
		evl_timer_arm(d->stop_timer, DAEMON_SHUTDOWN_TIMEOUT_MS + 2000, 0);
	iscsi_server_shutdown(d->srv, DAEMON_SHUTDOWN_TIMEOUT_MS, on_shutdown_done, d);
}

static void reload(void *arg, struct daemon_reload_report *rep)
{
	struct daemon *d = arg;

	if (d->stopping) {
		*rep = (struct daemon_reload_report){.source = d->c->source, .result = -ESHUTDOWN};
		rep->error = strdup("shutting down");
		return;
	}
	daemon_reload(d, rep);
}

static void on_reload(void *arg)
{
	struct daemon_reload_report rep;

	log_notice("daemon", "SIGHUP: reloading the configuration");
	reload(arg, &rep);
	daemon_reload_report_free(&rep);
}

static void teardown(struct daemon *d)
{
	if (d->evl)
		daemon_signals_stop(d->evl, &d->sig);
	if (d->ctl.evl)
		daemon_ctl_stop(&d->ctl);
	if (d->stop_timer)
		evl_timer_destroy(d->stop_timer);
	if (d->srv)
		iscsi_server_destroy(d->srv);
	daemon_reload_reap(d, true);
	if (d->core)
		scsi_core_destroy(d->core);
	if (d->evl)
		evl_destroy(d->evl);
	util_buf_pool_trim();
	free(d->portal_idx);
	conf_free(d->owned);
}

#ifndef TARGETD_VERSION
#define TARGETD_VERSION "0.1.0"
#endif

static int start_ctl(struct daemon *d, const char *path)
{
	d->ctl = (struct daemon_ctl){.evl = d->evl,
				     .core = d->core,
				     .srv = d->srv,
				     .version = TARGETD_VERSION,
				     .fd = -1,
				     .reload = reload,
				     .reload_arg = d,
				     .start_ms = util_now_ms()};
	return daemon_ctl_start(&d->ctl, path);
}

int daemon_run(const struct conf *c, const char *control_path)
{
	struct daemon d = {.c = c, .sig = {.fd = -1, .on_stop = on_stop, .on_reload = on_reload}};
	size_t n_luns = 0;
	char *list;
	int r;

	d.sig.arg = &d;
	r = daemon_block_signals();
	if (!r)
		r = evl_create(&d.evl);
	if (r && !d.evl)
		log_err("daemon", "creating the event loop: %s", strerror(-r));
	if (!r && c->poll_us) {
		evl_set_poll_us(d.evl, c->poll_us);
		log_notice("daemon", "poll_us = %u: the event loop busy-polls before sleeping",
			   c->poll_us);
	}
	if (!r)
		r = daemon_signals_start(d.evl, &d.sig);
	if (!r)
		r = build_luns(&d);
	if (!r)
		r = build_iscsi(&d);
	if (!r && control_path)
		r = start_ctl(&d, control_path);
	list = r ? NULL : listening_list(&d);
	if (r || !list) {
		log_err("daemon", "startup failed, exiting");
		free(list);
		teardown(&d);
		return 1;
	}
	for (size_t i = 0; i < c->n_targets; i++)
		n_luns += c->targets[i].n_luns;
	n_luns -= d.n_lus_not_started;
	sd_notifyf(0, "READY=1\nSTATUS=serving %zu target(s), %zu LU(s) on %s%s", c->n_targets,
		   n_luns, list,
		   d.n_lus_not_started ? " (LUs NOT STARTED: corrupt APTPL state)" : "");
	if (d.n_lus_not_started)
		log_err("daemon", "%zu LU(s) not started: corrupt persistent reservation state",
			d.n_lus_not_started);
	log_notice("daemon", "ready, listening on %s", list);
	free(list);

	r = evl_run(d.evl);
	if (r)
		log_err("daemon", "event loop failed: %s", strerror(-r));
	teardown(&d);
	if (!r && d.stopped_cleanly)
		log_notice("daemon", "stopped");
	return r ? 1 : 0;
}
