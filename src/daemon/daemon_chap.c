/* SPDX-License-Identifier: MIT */
/*
 * CHAP wiring: the [target] chap_* and [global] discovery_chap_* settings
 * into iscsi_server_set_chap, at startup and on reload (RFC 7143 12.1.3);
 * and the [target] allow_net source networks into iscsi_server_set_allow_net.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_chap.h"
#include "targetd/iscsi.h"
#include "targetd/util.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool chap_eq(const struct conf_chap *a, const struct conf_chap *b)
{
	return str_eq(a->user, b->user) && str_eq(a->secret, b->secret) &&
	    str_eq(a->mutual_user, b->mutual_user) && str_eq(a->mutual_secret, b->mutual_secret);
}

static const struct conf_chap *old_chap(const struct conf *oc, const char *target)
{
	static const struct conf_chap none;

	if (!oc)
		return &none;
	if (!target)
		return &oc->discovery_chap;
	for (size_t i = 0; i < oc->n_targets; i++)
		if (!strcmp(oc->targets[i].name, target))
			return &oc->targets[i].chap;
	return &none;
}

static void report(struct daemon_reload_report *rep, const char *what, const struct conf_chap *o,
		   const struct conf_chap *n)
{
	char *s = NULL, **v;

	if (!rep || chap_eq(o, n))
		return;
	if (asprintf(&s, "%s: CHAP %s; logins from now on use it", what,
		     !n->user       ? "removed"
			 : !o->user ? "required"
				    : "credentials changed") < 0)
		return;
	v = realloc(rep->changes, (rep->n_changes + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return;
	}
	rep->changes = v;
	v[rep->n_changes++] = s;
	log_notice("daemon", "reload: %s", s);
}

static int set_one(struct daemon *d, const char *target, const struct conf_chap *ch)
{
	struct iscsi_chap_cred cred = {
	    .user = ch->user,
	    .secret = ch->secret,
	    .mutual_user = ch->mutual_user,
	    .mutual_secret = ch->mutual_secret,
	};
	int r;

	/* no user: removes the requirement (cannot fail) */
	r = iscsi_server_set_chap(d->srv, target, &cred);
	if (r)
		log_err("daemon", "%s: cannot set CHAP credentials: %s",
			target ? target : "discovery", strerror(-r));
	return r;
}

static bool nets_eq(const struct conf_target *a, const struct conf_target *b)
{
	if (a->n_allow_net != b->n_allow_net)
		return false;
	for (size_t i = 0; i < a->n_allow_net; i++)
		if (strcmp(a->allow_net[i], b->allow_net[i]))
			return false;
	return true;
}

static const struct conf_target *old_target(const struct conf *oc, const char *name)
{
	for (size_t i = 0; oc && i < oc->n_targets; i++)
		if (!strcmp(oc->targets[i].name, name))
			return &oc->targets[i];
	return NULL;
}

static void add_change(struct daemon_reload_report *rep, char *s)
{
	char **v = realloc(rep->changes, (rep->n_changes + 1) * sizeof(*v));

	if (!v) {
		free(s);
		return;
	}
	rep->changes = v;
	v[rep->n_changes++] = s;
	log_notice("daemon", "reload: %s", s);
}

/* allow_net of every target; a removed target's list goes with it. */
static int apply_nets(struct daemon *d, const struct conf *oc, const struct conf *nc,
		      struct daemon_reload_report *rep)
{
	int first = 0;

	for (size_t i = 0; oc && i < oc->n_targets; i++)
		if (!old_target(nc, oc->targets[i].name))
			iscsi_server_set_allow_net(d->srv, oc->targets[i].name, NULL, 0);
	for (size_t i = 0; i < nc->n_targets; i++) {
		const struct conf_target *t = &nc->targets[i], *o = old_target(oc, t->name);
		int r = iscsi_server_set_allow_net(
		    d->srv, t->name, (const char *const *)t->allow_net, t->n_allow_net);
		char *s = NULL;

		if (r) {
			log_err("daemon", "%s: cannot set allow_net: %s", t->name, strerror(-r));
			first = first ? first : r;
			continue;
		}
		if (rep && o && !nets_eq(o, t) &&
		    asprintf(&s, "%s: allow_net changed; logins from now on use it", t->name) >= 0)
			add_change(rep, s);
	}
	return first;
}

int daemon_apply_chap(struct daemon *d, const struct conf *oc, const struct conf *nc,
		      struct daemon_reload_report *rep)
{
	int r, first = 0;

	/* Each target's entry is replaced in one step (the old one stays if the
	 * new one cannot be built), so no target is ever left open. */
	r = set_one(d, NULL, &nc->discovery_chap);
	first = r;
	report(rep, "discovery", old_chap(oc, NULL), &nc->discovery_chap);
	for (size_t i = 0; oc && i < oc->n_targets; i++) {
		bool kept = false;

		for (size_t k = 0; k < nc->n_targets && !kept; k++)
			kept = !strcmp(nc->targets[k].name, oc->targets[i].name);
		if (!kept)
			iscsi_server_set_chap(d->srv, oc->targets[i].name, NULL);
	}
	for (size_t i = 0; i < nc->n_targets; i++) {
		const struct conf_target *t = &nc->targets[i];

		r = set_one(d, t->name, &t->chap);
		first = first ? first : r;
		if (!r)
			report(rep, t->name, old_chap(oc, t->name), &t->chap);
	}
	r = apply_nets(d, oc, nc, rep);
	return first ? first : r;
}
