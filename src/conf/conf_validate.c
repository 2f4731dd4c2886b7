/* SPDX-License-Identifier: MIT */
/*
 * conf_validate: checks that need the whole file (references between
 * sections, duplicates across sections, related limits), defaults, and
 * turning the collected portal and LUN sections into struct conf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_priv.h"
#include "targetd/util.h"

/* Built-in iscsi defaults (struct iscsi_settings) needed to check related
 * limits when only one of them is configured. */
#define DEF_FIRST_BURST (64u << 10)
#define DEF_MAX_BURST (1u << 20)

static void check_bursts(struct conf_state *st)
{
	struct conf *c = st->c;
	uint32_t fbl = c->first_burst_length ? c->first_burst_length : DEF_FIRST_BURST;
	uint32_t mbl = c->max_burst_length ? c->max_burst_length : DEF_MAX_BURST;

	/* RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength. */
	if (fbl > mbl)
		conf_problem(st, st->fbl_line ? st->fbl_line : st->mbl_line, false,
			     "first_burst_length (%u) must not exceed max_burst_length (%u) "
			     "(RFC 7143 13.14)",
			     fbl, mbl);
}

static void build_portals(struct conf_state *st)
{
	struct conf *c = st->c;

	for (size_t i = 0; i < st->n_ps; i++) {
		struct conf_psect *ps = &st->ps[i];

		if (ps->n_listens == 0)
			conf_problem(st, ps->line, false, "[portal %s] has no listen = ADDR:PORT",
				     ps->name);
		for (size_t j = 0; j < ps->n_listens; j++) {
			struct conf_listen *l = &ps->listens[j];
			char *adv = NULL;

			for (size_t k = 0; l->port && k < c->n_portals; k++) {
				if (c->portals[k].port == l->port &&
				    !strcmp(c->portals[k].host, l->host))
					conf_problem(
					    st, l->line, false,
					    "duplicate portal address %s:%u (first at line %d)",
					    l->host, l->port, c->portals[k].line);
			}
			if (ps->adv_host) {
				adv = conf_format_hostport(ps->adv_host,
							   ps->adv_port ? ps->adv_port : l->port);
				if (!adv) {
					conf_problem(st, l->line, false, "out of memory");
					continue;
				}
			}
			if (conf_add_portal(c, l->host, l->port, ps->tpgt, adv, l->line))
				conf_problem(st, l->line, false, "out of memory");
			free(adv);
		}
	}
	/* No [portal] at all: listen on every address, port 3260, group 1. */
	if (st->n_ps == 0 &&
	    conf_add_portal(c, "0.0.0.0", CONF_DEFAULT_PORT, CONF_DEFAULT_TPGT, NULL, 0))
		conf_problem(st, 0, false, "out of memory");
}

static struct conf_target *find_target(struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_targets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}

static int cmp_lun(const void *a, const void *b)
{
	const struct conf_lun *x = a, *y = b;

	return x->lun < y->lun ? -1 : x->lun > y->lun;
}

static void check_luns(struct conf_state *st)
{
	for (size_t i = 0; i < st->n_ls; i++) {
		struct conf_lsect *ls = &st->ls[i];
		struct conf_lun *l = &ls->lun;

		if (!l->path)
			conf_problem(st, l->line, false, "[lun %s %llu] has no path =", ls->target,
				     (unsigned long long)l->lun);
		if (!ls->serial_given) {
			l->serial = conf_default_serial(ls->target, l->lun);
			if (!l->serial)
				conf_problem(st, l->line, false, "out of memory");
		}
		/* Serials name the PR state files and identify LUs to multipath
		 * (SPC-4 7.8.15): they must be unique across the whole daemon. */
		for (size_t k = 0; k < i; k++) {
			struct conf_lun *o = &st->ls[k].lun;

			if (o->serial && l->serial && !strcmp(o->serial, l->serial))
				conf_problem(st, l->line, false,
					     "duplicate serial %s (first at line %d)", l->serial,
					     o->line);
			if (o->path && l->path && !strcmp(o->path, l->path))
				conf_problem(st, l->line, true,
					     "path %s is also LUN %llu of %s (line %d): two LUs on "
					     "one device do not share reservations",
					     l->path, (unsigned long long)o->lun, st->ls[k].target,
					     o->line);
		}
	}
}

static void attach_luns(struct conf_state *st)
{
	struct conf *c = st->c;

	for (size_t i = 0; i < st->n_ls; i++) {
		struct conf_lsect *ls = &st->ls[i];
		struct conf_lun *l = &ls->lun;
		struct conf_target *t = find_target(c, ls->target);
		struct conf_lun *v;

		if (!t) {
			conf_problem(st, l->line, false, "[lun %s %llu]: there is no [target %s]",
				     ls->target, (unsigned long long)l->lun, ls->target);
			continue;
		}
		v = realloc(t->luns, (t->n_luns + 1) * sizeof(*v));
		if (!v) {
			conf_problem(st, l->line, false, "out of memory");
			continue;
		}
		t->luns = v;
		v[t->n_luns++] = *l;
		memset(l, 0, sizeof(*l)); /* ownership moved to the target */
	}
	for (size_t i = 0; i < c->n_targets; i++)
		if (c->targets[i].n_luns > 1)
			qsort(c->targets[i].luns, c->targets[i].n_luns, sizeof(struct conf_lun),
			      cmp_lun);
}

static bool tpgt_has_portal(const struct conf *c, uint16_t tpgt)
{
	for (size_t i = 0; i < c->n_portals; i++)
		if (c->portals[i].tpgt == tpgt)
			return true;
	return false;
}

static void check_targets(struct conf_state *st)
{
	struct conf *c = st->c;

	for (size_t i = 0; i < c->n_targets; i++) {
		struct conf_target *t = &c->targets[i];

		if (t->n_tpgts == 0) {
			t->tpgts = malloc(sizeof(*t->tpgts));
			if (!t->tpgts) {
				conf_problem(st, t->line, false, "out of memory");
				continue;
			}
			t->tpgts[0] = CONF_DEFAULT_TPGT;
			t->n_tpgts = 1;
		}
		for (size_t k = 0; k < t->n_tpgts; k++)
			if (!tpgt_has_portal(c, t->tpgts[k]))
				conf_problem(st, t->line, false,
					     "target %s is exported on portal group %u, but no "
					     "[portal] has group = %u",
					     t->name, t->tpgts[k], t->tpgts[k]);
		if (t->n_luns == 0)
			conf_problem(st, t->line, true,
				     "target %s has no LUN: initiators will see no disks", t->name);
	}
	if (c->n_targets == 0)
		conf_problem(st, 0, true, "no [target] configured");
}

static void free_sections(struct conf_state *st)
{
	for (size_t i = 0; i < st->n_ps; i++) {
		for (size_t j = 0; j < st->ps[i].n_listens; j++)
			free(st->ps[i].listens[j].host);
		free(st->ps[i].listens);
		free(st->ps[i].name);
		free(st->ps[i].adv_host);
	}
	free(st->ps);
	st->ps = NULL;
	st->n_ps = 0;
	for (size_t i = 0; i < st->n_ls; i++) {
		free(st->ls[i].target);
		free(st->ls[i].lun.path);
		free(st->ls[i].lun.serial);
	}
	free(st->ls);
	st->ls = NULL;
	st->n_ls = 0;
}

void conf_validate(struct conf_state *st)
{
	struct conf *c = st->c;

	if (!c->state_dir)
		c->state_dir = strdup(CONF_DEFAULT_STATE_DIR);
	check_bursts(st);
	build_portals(st);
	check_luns(st);
	attach_luns(st);
	check_targets(st);
	conf_chap_validate(st);
	free_sections(st);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_portals; i++) {
		free(c->portals[i].host);
		free(c->portals[i].advertise);
	}
	free(c->portals);
	for (size_t i = 0; i < c->n_targets; i++) {
		struct conf_target *t = &c->targets[i];

		for (size_t k = 0; k < t->n_allow; k++)
			free(t->allow[k]);
		free(t->allow);
		free(t->tpgts);
		for (size_t k = 0; k < t->n_luns; k++) {
			free(t->luns[k].path);
			free(t->luns[k].serial);
		}
		free(t->luns);
		free(t->name);
		conf_chap_free(&t->chap);
		for (size_t k = 0; k < t->n_allow_net; k++)
			free(t->allow_net[k]);
		free(t->allow_net);
	}
	free(c->targets);
	conf_chap_free(&c->discovery_chap);
	free(c->state_dir);
	free(c->source);
	free(c);
}
