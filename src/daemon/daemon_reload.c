/* SPDX-License-Identifier: MIT */
/*
 * daemon_reload: live reload (SIGHUP, systemctl reload, targetctl reload).
 *
 * 1. Read and validate the whole file (conf_load_ex). Any problem: nothing
 *    changes; every problem is logged and reported as file:line.
 * 2. Prepare, all or nothing: bind the new portals and open the new LUs
 *    (neither is reachable yet). A bind or open failure undoes the
 *    preparation and aborts the reload: the running configuration is
 *    untouched. Exception: an LU whose APTPL state file is corrupt
 *    (-EUCLEAN, issue 11) is left out with a warning, and an unchanged LUN
 *    that is not running (left out earlier) is opened again.
 * 3. Apply the difference, target by target. Objects are matched by name:
 *    targets by iSCSI name, LUNs by (target, LUN number), portals by
 *    (host, port). What does not change is not touched, so sessions the
 *    change does not concern keep running without a blip.
 *      - removed target: its sessions end, it disappears from discovery;
 *      - removed LUN: unmapped, REPORTED LUNS DATA HAS CHANGED (3F/0E) to
 *        the target's nexuses; its LU is closed once its commands finished;
 *      - added LUN: mapped, 3F/0E likewise;
 *      - a LUN whose path, block_size, serial, read_only, write_cache or sanitize
 *        changed is replaced (remove + add, logged as a warning): those
 *        cannot change under a running LU (SBC-4 block size, identity);
 *      - same LUN: the backing size is re-read, a change raises CAPACITY
 *        DATA HAS CHANGED (2A/09);
 *      - ACL: initiators no longer allowed lose their sessions on that
 *        target (and cannot log in again);
 *      - target portal groups (portal_groups =): sessions through a removed
 *        group end;
 *      - portals: removed ones stop listening (connections accepted through
 *        them continue); tpgt/advertise of kept ones are updated;
 *      - [global] iSCSI settings apply to new logins (max_conn_data_bytes
 *        to new commands, max_connections_per_address to new connections,
 *        issue 9); log_level = debug
 *        at once; state_dir and max_registrants need a restart (warning).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "daemon_chap.h"
#include "targetd/conf.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/iscsi_reconf.h"
#include "targetd/scsi.h"
#include "targetd/scsi_reconf.h"
#include "targetd/util.h"

#define REAP_INTERVAL_MS 100

static void add_line(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *s = NULL;
	char **nv;

	if (vasprintf(&s, fmt, ap) < 0)
		return;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return;
	}
	*v = nv;
	nv[(*n)++] = s;
}

__attribute__((format(printf, 2, 3))) static void change(struct daemon_reload_report *rep,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&rep->changes, &rep->n_changes, fmt, ap);
	va_end(ap);
	log_notice("daemon", "reload: %s", rep->changes[rep->n_changes - 1]);
}

__attribute__((format(printf, 2, 3))) static void warning(struct daemon_reload_report *rep,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&rep->warnings, &rep->n_warnings, fmt, ap);
	va_end(ap);
	log_warn("daemon", "reload: %s", rep->warnings[rep->n_warnings - 1]);
}

__attribute__((format(printf, 2, 3))) static void fail(struct daemon_reload_report *rep,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(rep->error);
	rep->error = NULL;
	if (vasprintf(&rep->error, fmt, ap) < 0)
		rep->error = NULL;
	va_end(ap);
}

void daemon_reload_report_free(struct daemon_reload_report *rep)
{
	free(rep->error);
	conf_problems_free(&rep->probs);
	for (size_t i = 0; i < rep->n_changes; i++)
		free(rep->changes[i]);
	free(rep->changes);
	for (size_t i = 0; i < rep->n_warnings; i++)
		free(rep->warnings[i]);
	free(rep->warnings);
	memset(rep, 0, sizeof(*rep));
}

/* ---- matching ------------------------------------------------------------ */

static const struct conf_target *find_target(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_targets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}

static const struct conf_lun *find_lun(const struct conf_target *ct, uint64_t lun)
{
	for (size_t i = 0; i < ct->n_luns; i++)
		if (ct->luns[i].lun == lun)
			return &ct->luns[i];
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Can the running LU stay as it is? */
static bool lun_same(const struct conf_lun *a, const struct conf_lun *b)
{
	return str_eq(a->path, b->path) && a->block_size == b->block_size &&
	    str_eq(a->serial, b->serial) && a->read_only == b->read_only &&
	    a->write_cache == b->write_cache && a->sanitize == b->sanitize;
}

static const char *lun_diff(const struct conf_lun *a, const struct conf_lun *b)
{
	if (!str_eq(a->path, b->path))
		return "path";
	if (a->block_size != b->block_size)
		return "block_size";
	if (!str_eq(a->serial, b->serial))
		return "serial";
	if (a->read_only != b->read_only)
		return "read_only";
	if (a->sanitize != b->sanitize)
		return "sanitize";
	return "write_cache";
}

static bool portal_same(const struct conf_portal *a, const struct conf_portal *b)
{
	return str_eq(a->host, b->host) && a->port == b->port;
}

static bool settings_eq(const struct iscsi_settings *a, const struct iscsi_settings *b)
{
	return a->max_recv_data_segment_length == b->max_recv_data_segment_length &&
	    a->first_burst_length == b->first_burst_length &&
	    a->max_burst_length == b->max_burst_length &&
	    a->max_outstanding_r2t == b->max_outstanding_r2t &&
	    a->cmdsn_window == b->cmdsn_window && a->immediate_data == b->immediate_data &&
	    a->initial_r2t == b->initial_r2t && a->allow_digests == b->allow_digests &&
	    a->nop_interval_ms == b->nop_interval_ms && a->nop_timeout_ms == b->nop_timeout_ms &&
	    a->login_timeout_ms == b->login_timeout_ms &&
	    a->max_connections == b->max_connections &&
	    a->max_sessions_per_target == b->max_sessions_per_target &&
	    a->max_conn_data_bytes == b->max_conn_data_bytes &&
	    a->max_connections_per_address == b->max_connections_per_address;
}

static bool has_tpgt(const struct conf_target *ct, uint16_t tpgt)
{
	for (size_t i = 0; i < ct->n_tpgts; i++)
		if (ct->tpgts[i] == tpgt)
			return true;
	return false;
}

static bool allows(const struct conf_target *ct, const char *name)
{
	for (size_t i = 0; i < ct->n_allow; i++)
		if (!strcmp(ct->allow[i], name))
			return true;
	return false;
}

static struct scsi_lu *running_lu(struct scsi_target *t, uint64_t lun)
{
	uint64_t l = 0;

	for (struct scsi_lu *lu = scsi_target_lun_next(t, &l, true); lu;
	     lu = scsi_target_lun_next(t, &l, false))
		if (l == lun)
			return lu;
	return NULL;
}

/* ---- preparation (undoable) ------------------------------------------------ */

struct prep {
	/* per new portal: its iscsi index (new ones) or the old one (kept) */
	unsigned *portal_idx;
	bool *portal_new;
	size_t *portal_old; /* kept ones: index in the old configuration */
	/* per new target / LUN: an LU opened for it (added or replaced) */
	struct scsi_lu ***lus;
};

static void prep_undo(struct daemon *d, const struct conf *nc, struct prep *p)
{
	for (size_t i = 0; p->lus && i < nc->n_targets; i++) {
		for (size_t k = 0; p->lus[i] && k < nc->targets[i].n_luns; k++)
			if (p->lus[i][k]) {
				scsi_lu_destroy(p->lus[i][k]);
				p->lus[i][k] = NULL;
			}
	}
	for (size_t i = 0; p->portal_new && i < nc->n_portals; i++)
		if (p->portal_new[i])
			iscsi_portal_remove(d->srv, p->portal_idx[i]);
}

static void prep_free(const struct conf *nc, struct prep *p)
{
	for (size_t i = 0; p->lus && i < nc->n_targets; i++)
		free(p->lus[i]);
	free(p->lus);
	free(p->portal_idx);
	free(p->portal_new);
	free(p->portal_old);
}

static int prepare(struct daemon *d, const struct conf *nc, struct prep *p,
		   struct daemon_reload_report *rep)
{
	const struct conf *oc = d->c;
	int r;

	p->portal_idx = calloc(nc->n_portals + 1, sizeof(*p->portal_idx));
	p->portal_new = calloc(nc->n_portals + 1, sizeof(*p->portal_new));
	p->portal_old = calloc(nc->n_portals + 1, sizeof(*p->portal_old));
	p->lus = calloc(nc->n_targets + 1, sizeof(*p->lus));
	if (!p->portal_idx || !p->portal_new || !p->portal_old || !p->lus)
		return -ENOMEM;
	/* Portals first: a new address that cannot be bound aborts the reload
	 * before anything else changed. */
	for (size_t i = 0; i < nc->n_portals; i++) {
		const struct conf_portal *np = &nc->portals[i];
		size_t k;

		/* one to one: two "host:0" portals are two portals */
		for (k = 0; k < oc->n_portals; k++) {
			bool taken = false;

			if (!portal_same(&oc->portals[k], np))
				continue;
			for (size_t j = 0; j < i && !taken; j++)
				taken = !p->portal_new[j] && p->portal_old[j] == k;
			if (!taken)
				break;
		}
		if (k < oc->n_portals) {
			p->portal_idx[i] = d->portal_idx[k];
			p->portal_old[i] = k;
			continue;
		}
		r = iscsi_portal_add(d->srv, np->host, np->port, np->tpgt, np->advertise);
		if (r) {
			fail(rep, "%s:%d: cannot listen on %s port %u: %s", nc->source, np->line,
			     np->host, np->port, strerror(-r));
			return r;
		}
		/* server slots are never reused (a removed portal keeps its
		 * slot): the new one is appended */
		p->portal_idx[i] = d->n_portal_slots++;
		p->portal_new[i] = true;
	}
	/* Then every LU that is new or replaced. */
	for (size_t i = 0; i < nc->n_targets; i++) {
		const struct conf_target *nt = &nc->targets[i];
		const struct conf_target *ot = find_target(oc, nt->name);
		struct scsi_target *rt = ot ? scsi_target_find(d->core, nt->name) : NULL;

		p->lus[i] = calloc(nt->n_luns + 1, sizeof(struct scsi_lu *));
		if (!p->lus[i])
			return -ENOMEM;
		for (size_t k = 0; k < nt->n_luns; k++) {
			const struct conf_lun *nl = &nt->luns[k];
			const struct conf_lun *ol = ot ? find_lun(ot, nl->lun) : NULL;

			/* unchanged and running: untouched; unchanged but not
			 * running (its APTPL file was corrupt): retried */
			if (ol && lun_same(ol, nl) && rt && running_lu(rt, nl->lun))
				continue;
			r = daemon_lu_open(d, nt, nl, &p->lus[i][k]);
			if (r == -EUCLEAN) {
				/* issue 11: that LU alone stays out, loudly */
				p->lus[i][k] = NULL;
				warning(rep,
					"%s lun %llu: NOT STARTED: its persistent reservation "
					"state file is corrupt (pr_state = ignore starts it empty)",
					nt->name, (unsigned long long)nl->lun);
				continue;
			}
			if (r) {
				fail(rep, "%s:%d: %s lun %llu: cannot open %s: %s", nc->source,
				     nl->line, nt->name, (unsigned long long)nl->lun, nl->path,
				     strerror(-r));
				return r;
			}
		}
	}
	return 0;
}

/* ---- apply ----------------------------------------------------------------- */

static void dead_lu(struct daemon *d, struct scsi_lu *lu)
{
	struct scsi_lu **n = realloc(d->dead_lus, (d->n_dead_lus + 1) * sizeof(struct scsi_lu *));

	if (!n) {
		log_err("daemon", "reload: out of memory, lu %s stays open", scsi_lu_serial(lu));
		return;
	}
	d->dead_lus = n;
	n[d->n_dead_lus++] = lu;
}

static void dead_target(struct daemon *d, struct scsi_target *t)
{
	struct scsi_target **n =
	    realloc(d->dead_targets, (d->n_dead_targets + 1) * sizeof(struct scsi_target *));

	if (!n) {
		log_err("daemon", "reload: out of memory, target %s not freed",
			scsi_target_name(t));
		return;
	}
	d->dead_targets = n;
	n[d->n_dead_targets++] = t;
}

static void remove_target(struct daemon *d, struct scsi_target *t, struct daemon_reload_report *rep)
{
	uint64_t lun = 0;
	unsigned n;

	for (struct scsi_lu *lu = scsi_target_lun_next(t, &lun, true); lu;
	     lu = scsi_target_lun_next(t, &lun, false))
		dead_lu(d, lu);
	n = iscsi_sessions_drop(d->srv, t, NULL, 0, "target removed by reload");
	change(rep, "target %s removed (%u session(s) ended)", scsi_target_name(t), n);
	scsi_target_detach(t);
	dead_target(d, t);
}

struct sess_list {
	const struct scsi_target *t;
	char **names;
	size_t n;
};

static void collect_initiator(const struct iscsi_session_info *s, void *arg)
{
	struct sess_list *l = arg;
	char **n;

	if (s->discovery || !s->target_name || !s->initiator_name ||
	    strcmp(s->target_name, scsi_target_name(l->t)))
		return;
	n = realloc(l->names, (l->n + 1) * sizeof(*n));
	if (!n)
		return;
	l->names = n;
	if ((n[l->n] = strdup(s->initiator_name)))
		l->n++;
}

static void apply_acl(struct daemon *d, struct scsi_target *t, const struct conf_target *ot,
		      const struct conf_target *nt, struct daemon_reload_report *rep)
{
	struct sess_list l = {.t = t};
	int r = 0;

	for (size_t i = 0; i < ot->n_allow; i++)
		if (!allows(nt, ot->allow[i])) {
			scsi_target_acl_del(t, ot->allow[i]);
			change(rep, "%s: initiator %s removed from the ACL", nt->name,
			       ot->allow[i]);
		}
	for (size_t i = 0; !r && i < nt->n_allow; i++)
		if (!allows(ot, nt->allow[i])) {
			r = scsi_target_acl_add(t, nt->allow[i]);
			if (!r)
				change(rep, "%s: initiator %s added to the ACL", nt->name,
				       nt->allow[i]);
		}
	if (r)
		warning(rep, "%s: ACL update incomplete: %s", nt->name, strerror(-r));
	/* Whoever the new ACL does not admit loses its sessions (this also
	 * covers an empty ACL, "everyone", becoming a list). */
	iscsi_sessions_foreach(d->srv, collect_initiator, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (!scsi_target_acl_allows(t, l.names[i])) {
			unsigned n = iscsi_sessions_drop(
			    d->srv, t, l.names[i], 0, "initiator removed from the ACL by reload");

			if (n)
				change(rep, "%s: %u session(s) of %s ended (not in the ACL)",
				       nt->name, n, l.names[i]);
			/* the same name twice in l: already dropped */
		}
		free(l.names[i]);
	}
	free(l.names);
}

static void apply_ports(struct daemon *d, struct scsi_target *t, const struct conf_target *ot,
			const struct conf_target *nt, struct daemon_reload_report *rep)
{
	for (size_t i = 0; i < ot->n_tpgts; i++) {
		uint16_t g = ot->tpgts[i];

		if (has_tpgt(nt, g))
			continue;
		scsi_target_del_port(t, g);
		change(rep, "%s: portal group %u removed (%u session(s) ended)", nt->name, g,
		       iscsi_sessions_drop(d->srv, t, NULL, g, "portal group removed by reload"));
	}
	for (size_t i = 0; i < nt->n_tpgts; i++) {
		uint16_t g = nt->tpgts[i];

		if (has_tpgt(ot, g))
			continue;
		/* relative target port identifier = tpgt, as at startup */
		if (scsi_target_add_port(t, g, g))
			warning(rep, "%s: cannot add portal group %u", nt->name, g);
		else
			change(rep, "%s: portal group %u added", nt->name, g);
	}
}

static void apply_luns(struct daemon *d, struct scsi_target *t, const struct conf_target *ot,
		       const struct conf_target *nt, struct scsi_lu **lus,
		       struct daemon_reload_report *rep)
{
	/* removed or replaced */
	for (size_t i = 0; i < ot->n_luns; i++) {
		const struct conf_lun *ol = &ot->luns[i];
		const struct conf_lun *nl = find_lun(nt, ol->lun);
		struct scsi_lu *lu;

		if (nl && lun_same(ol, nl))
			continue;
		lu = running_lu(t, ol->lun);
		if (!lu)
			continue;
		scsi_target_unmap_lun(t, ol->lun);
		dead_lu(d, lu);
		if (nl)
			warning(rep,
				"%s lun %llu: %s changed: the LU is replaced (closed and reopened; "
				"initiators see a new logical unit, POWER ON 06/29/00)",
				nt->name, (unsigned long long)ol->lun, lun_diff(ol, nl));
		else
			change(rep, "%s lun %llu removed (%s)", nt->name,
			       (unsigned long long)ol->lun, ol->path);
	}
	for (size_t k = 0; k < nt->n_luns; k++) {
		const struct conf_lun *nl = &nt->luns[k];
		struct scsi_lu *lu;
		int r;

		if (!lus[k]) {
			/* unchanged: a grown or shrunk device or file */
			lu = running_lu(t, nl->lun);
			if (lu && scsi_lu_resize(lu) > 0)
				change(rep, "%s lun %llu resized to %llu bytes", nt->name,
				       (unsigned long long)nl->lun,
				       (unsigned long long)scsi_lu_size_bytes(lu));
			continue;
		}
		r = scsi_target_map_lun(t, nl->lun, lus[k]);
		if (r) {
			warning(rep, "%s lun %llu: cannot map: %s", nt->name,
				(unsigned long long)nl->lun, strerror(-r));
			dead_lu(d, lus[k]);
		} else {
			change(rep, "%s lun %llu added (%s, %llu bytes)", nt->name,
			       (unsigned long long)nl->lun, nl->path,
			       (unsigned long long)scsi_lu_size_bytes(lus[k]));
		}
		lus[k] = NULL;
	}
}

static void add_target(struct daemon *d, const struct conf_target *nt, struct scsi_lu **lus,
		       struct daemon_reload_report *rep)
{
	struct scsi_target *t;
	int r = scsi_target_create(d->core, nt->name, &t);

	if (r) {
		warning(rep, "%s: cannot create target: %s", nt->name, strerror(-r));
		for (size_t k = 0; k < nt->n_luns; k++)
			if (lus[k])
				dead_lu(d, lus[k]);
		return;
	}
	for (size_t k = 0; !r && k < nt->n_tpgts; k++)
		r = scsi_target_add_port(t, nt->tpgts[k], nt->tpgts[k]);
	for (size_t k = 0; !r && k < nt->n_allow; k++)
		r = scsi_target_acl_add(t, nt->allow[k]);
	for (size_t k = 0; !r && k < nt->n_luns; k++) {
		if (!lus[k])
			continue; /* not started: corrupt APTPL state file */
		r = scsi_target_map_lun(t, nt->luns[k].lun, lus[k]);
		if (!r)
			lus[k] = NULL;
	}
	if (r) {
		/* out of memory half way: take it out again rather than serve a
		 * target with a partial ACL */
		warning(rep, "%s: cannot configure target: %s", nt->name, strerror(-r));
		remove_target(d, t, rep);
		for (size_t k = 0; k < nt->n_luns; k++)
			if (lus[k])
				dead_lu(d, lus[k]);
		return;
	}
	change(rep, "target %s added (%zu LUN(s))", nt->name, nt->n_luns);
}

static void apply_portals(struct daemon *d, const struct conf *nc, struct prep *p,
			  struct daemon_reload_report *rep)
{
	const struct conf *oc = d->c;

	for (size_t k = 0; k < oc->n_portals; k++) {
		const struct conf_portal *op = &oc->portals[k];
		size_t i;

		for (i = 0; i < nc->n_portals && (p->portal_new[i] || p->portal_old[i] != k); i++)
			;
		if (i == nc->n_portals) {
			unsigned bound = iscsi_portal_port(d->srv, d->portal_idx[k]);

			iscsi_portal_remove(d->srv, d->portal_idx[k]);
			change(rep, "portal %s:%u removed", op->host, bound);
			continue;
		}
		const struct conf_portal *np = &nc->portals[i];

		if (op->tpgt != np->tpgt || !str_eq(op->advertise, np->advertise)) {
			if (iscsi_portal_update(d->srv, d->portal_idx[k], np->tpgt, np->advertise))
				warning(rep, "portal %s:%u: update failed", np->host, np->port);
			else
				change(rep, "portal %s:%u: portal group %u, advertised as %s",
				       np->host, np->port, np->tpgt,
				       np->advertise ? np->advertise : "its address");
		}
	}
	for (size_t i = 0; i < nc->n_portals; i++)
		if (p->portal_new[i])
			change(rep, "portal %s:%u added (portal group %u)", nc->portals[i].host,
			       iscsi_portal_port(d->srv, p->portal_idx[i]), nc->portals[i].tpgt);
}

static void apply(struct daemon *d, const struct conf *nc, struct prep *p,
		  struct daemon_reload_report *rep)
{
	const struct conf *oc = d->c;
	struct iscsi_settings os, s;

	if (oc->max_registrants != nc->max_registrants)
		warning(rep, "max_registrants change needs a restart");
	if (nc->log_level == UTIL_LOG_DEBUG && oc->log_level != UTIL_LOG_DEBUG) {
		util_log_set_debug("all");
		change(rep, "log_level = debug: debug messages of every subsystem on");
	} else if (oc->log_level == UTIL_LOG_DEBUG && nc->log_level != UTIL_LOG_DEBUG) {
		warning(rep, "leaving log_level = debug needs a restart");
	}
	if (oc->poll_us != nc->poll_us) {
		evl_set_poll_us(d->evl, nc->poll_us);
		change(rep, "poll_us = %u (event loop busy polling)", nc->poll_us);
	}
	/* Targets that went away. */
	for (size_t i = 0; i < oc->n_targets; i++) {
		if (find_target(nc, oc->targets[i].name))
			continue;
		struct scsi_target *t = scsi_target_find(d->core, oc->targets[i].name);

		if (t)
			remove_target(d, t, rep);
	}
	/* Targets that stay, and new ones. */
	for (size_t i = 0; i < nc->n_targets; i++) {
		const struct conf_target *nt = &nc->targets[i];
		const struct conf_target *ot = find_target(oc, nt->name);
		struct scsi_target *t = ot ? scsi_target_find(d->core, nt->name) : NULL;

		if (!t) {
			add_target(d, nt, p->lus[i], rep);
			continue;
		}
		apply_ports(d, t, ot, nt, rep);
		apply_acl(d, t, ot, nt, rep);
		apply_luns(d, t, ot, nt, p->lus[i], rep);
	}
	apply_portals(d, nc, p, rep);
	if (daemon_apply_chap(d, oc, nc, rep))
		warning(rep, "CHAP credentials could not all be set (see the log)");
	daemon_iscsi_settings(oc, &os);
	daemon_iscsi_settings(nc, &s);
	if (!settings_eq(&os, &s)) {
		iscsi_server_set_settings(d->srv, &s);
		change(rep,
		       "iSCSI settings changed: they apply to sessions that log in from now "
		       "on (max_conn_data_bytes to new commands, max_connections_per_address "
		       "to new connections)");
	}
}

/* ---- freeing what was removed ------------------------------------------- */

size_t daemon_reload_reap(struct daemon *d, bool force)
{
	size_t w = 0;

	/* targets first: their nexuses may be the last users of nothing but
	 * themselves; LUs wait for their own commands */
	for (size_t i = 0; i < d->n_dead_targets; i++)
		if (scsi_target_destroy(d->dead_targets[i])) {
			if (force)
				log_warn("daemon", "target %s still referenced at exit",
					 scsi_target_name(d->dead_targets[i]));
			else
				d->dead_targets[w++] = d->dead_targets[i];
		}
	d->n_dead_targets = w;
	w = 0;
	for (size_t i = 0; i < d->n_dead_lus; i++)
		/* at exit scsi_core_destroy closes whatever is left */
		if (scsi_lu_destroy(d->dead_lus[i]) && !force)
			d->dead_lus[w++] = d->dead_lus[i];
	d->n_dead_lus = w;
	if (force || !(d->n_dead_targets + d->n_dead_lus)) {
		free(d->dead_targets);
		free(d->dead_lus);
		d->dead_targets = NULL;
		d->dead_lus = NULL;
		d->n_dead_targets = d->n_dead_lus = 0;
		if (d->reap_timer) {
			evl_timer_destroy(d->reap_timer);
			d->reap_timer = NULL;
		}
		return 0;
	}
	return d->n_dead_targets + d->n_dead_lus;
}

static void on_reap_timer(void *arg)
{
	daemon_reload_reap(arg, false);
}

static void schedule_reap(struct daemon *d)
{
	if (!daemon_reload_reap(d, false) || d->reap_timer)
		return;
	if (!evl_timer_create(d->evl, on_reap_timer, d, &d->reap_timer))
		evl_timer_arm(d->reap_timer, REAP_INTERVAL_MS, REAP_INTERVAL_MS);
}

/* ---- entry ------------------------------------------------------------------ */

int daemon_reload(struct daemon *d, struct daemon_reload_report *rep)
{
	struct conf *nc = NULL;
	struct prep p = {0};
	unsigned *idx;
	int r;

	*rep = (struct daemon_reload_report){.source = d->c->source};
	if (!strcmp(d->c->source, "command line")) {
		fail(rep,
		     "started with --listen/--export: there is no configuration file to "
		     "reload");
		log_err("daemon", "reload: %s", rep->error);
		return rep->result = -EINVAL;
	}
	r = conf_load_ex(d->c->source, &nc, &rep->probs);
	if (r) {
		/* conf_load_ex logged every problem as file:line: message */
		fail(rep,
		     r == -EINVAL ? "%s: invalid configuration, keeping the running one"
				  : "%s: cannot read it, keeping the running configuration",
		     d->c->source);
		log_err("daemon", "reload: %s", rep->error);
		sd_notify(0, "STATUS=reload failed: configuration unchanged");
		return rep->result = r;
	}
	/* The state directory is fixed for the life of the process (the LUs'
	 * APTPL files live there; --state-dir may also have overridden it). */
	if (!str_eq(d->c->state_dir, nc->state_dir)) {
		char *keep = strdup(d->c->state_dir);

		if (keep) {
			warning(rep,
				"state_dir %s differs from the running %s: takes effect at the "
				"next restart",
				nc->state_dir, d->c->state_dir);
			free(nc->state_dir);
			nc->state_dir = keep;
		}
	}
	r = prepare(d, nc, &p, rep);
	idx = r ? NULL : calloc(nc->n_portals + 1, sizeof(*idx));
	if (r || !idx) {
		prep_undo(d, nc, &p);
		prep_free(nc, &p);
		if (!rep->error)
			fail(rep, "out of memory");
		log_err("daemon", "reload aborted, configuration unchanged: %s", rep->error);
		sd_notify(0, "STATUS=reload failed: configuration unchanged");
		conf_free(nc);
		return rep->result = r ? r : -ENOMEM;
	}
	apply(d, nc, &p, rep);
	memcpy(idx, p.portal_idx, nc->n_portals * sizeof(*idx));
	free(d->portal_idx);
	d->portal_idx = idx;
	prep_free(nc, &p);
	conf_free(d->owned);
	d->owned = nc;
	d->c = nc;
	rep->source = nc->source; /* the old one is gone */
	schedule_reap(d);
	log_notice("daemon", "reload of %s done: %zu change(s), %zu warning(s)", nc->source,
		   rep->n_changes, rep->n_warnings);
	/* One datagram per reload, STATUS only: with Type=notify and
	 * ExecReload=targetctl reload, systemd's reload ends when targetctl
	 * exits (RELOADING=1/READY=1 are for Type=notify-reload). A
	 * notification socket nobody reads would block sd_notify. */
	sd_notifyf(0, "STATUS=configuration reloaded (%zu change(s))", rep->n_changes);
	return rep->result = 0;
}
