/* SPDX-License-Identifier: MIT */
/*
 * daemon_import: `targetd --import-lio FILE --target IQN --lun N` (issue 11,
 * migration from the Linux kernel target). Reads LIO's
 * <dbroot>/pr/aptpl_<serial>, keeps the registrations of one LIO target/LUN
 * (pr_lio_import), maps LIO's tpgt to the targetd port of the same portal
 * group tag (relative target port identifier = tpgt, as daemon_run does),
 * and writes <state_dir>/pr-<serial>.state with util_file_write_atomic
 * (temp file, fsync, rename, directory fsync). The LU then loads it at
 * start like any APTPL file, so the reservation is enforced from the first
 * command (SPC-4 5.13.5.1; docs/aptpl-format.md). Offline: run it while the
 * daemon is stopped (a running LU would not see the file until restarted).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "targetd/conf.h"
#include "targetd/pr.h"
#include "targetd/util.h"

#define LIO_FILE_MAX (4u << 20)
#define DEFAULT_MAX_REGISTRANTS 128

/* SPC-4 table 174 names, for the summary */
static const char *type_name(unsigned t)
{
	switch (t) {
	case 1:
		return "Write Exclusive";
	case 3:
		return "Exclusive Access";
	case 5:
		return "Write Exclusive - Registrants Only";
	case 6:
		return "Exclusive Access - Registrants Only";
	case 7:
		return "Write Exclusive - All Registrants";
	case 8:
		return "Exclusive Access - All Registrants";
	default:
		return "?";
	}
}

/* The target's ports: its portal groups, else every portal's, else 1. */
static int target_ports(const struct conf *c, const struct conf_target *ct, struct pr_port **out,
			unsigned *n)
{
	size_t max = (ct && ct->n_tpgts ? ct->n_tpgts : (c ? c->n_portals : 0)) + 1;
	struct pr_port *p = calloc(max, sizeof(*p));
	unsigned k = 0;

	if (!p)
		return -ENOMEM;
	if (ct && ct->n_tpgts) {
		for (size_t i = 0; i < ct->n_tpgts; i++)
			p[k++] = (struct pr_port){ct->tpgts[i], ct->tpgts[i]};
	} else if (c) {
		for (size_t i = 0; i < c->n_portals; i++) {
			bool dup = false;

			for (unsigned j = 0; j < k; j++)
				dup |= p[j].tpgt == c->portals[i].tpgt;
			if (!dup)
				p[k++] = (struct pr_port){c->portals[i].tpgt, c->portals[i].tpgt};
		}
	}
	if (!k) /* no [portal]: 0.0.0.0:3260 in portal group 1 */
		p[k++] = (struct pr_port){1, 1};
	*out = p;
	*n = k;
	return 0;
}

static void print_state(FILE *f, const struct pr_state *st)
{
	for (unsigned i = 0; i < st->n_regs; i++) {
		const struct pr_reg *r = &st->regs[i];
		bool holder =
		    st->res_present && (r->holder || pr_type_all_registrants(st->res_type));

		fprintf(f, "  registration: %s", r->itn.initiator);
		if (r->itn.has_isid)
			fprintf(f, ",i,0x%02x%02x%02x%02x%02x%02x", r->itn.isid[0], r->itn.isid[1],
				r->itn.isid[2], r->itn.isid[3], r->itn.isid[4], r->itn.isid[5]);
		fprintf(f, " rtpi %u key 0x%" PRIx64 "%s%s\n", r->itn.rel_tport_id, r->key,
			r->all_tg_pt ? " all_tg_pt" : "", holder ? " (reservation holder)" : "");
	}
	if (st->res_present)
		fprintf(f, "  reservation: type %u (%s), LU scope\n", st->res_type,
			type_name(st->res_type));
	else
		fprintf(f, "  reservation: none\n");
}

int daemon_import_lio(const struct daemon_import *imp, FILE *out)
{
	const struct conf_target *ct = NULL;
	const struct conf_lun *cl = NULL;
	const char *serial = imp->serial, *state_dir = imp->state_dir;
	const char *from_target = imp->from_target ? imp->from_target : imp->target;
	unsigned from_lun = imp->has_from_lun ? imp->from_lun : imp->lun;
	unsigned max_regs = DEFAULT_MAX_REGISTRANTS, line = 0, n_ports = 0;
	struct pr_port *ports = NULL;
	struct pr_state st;
	const char *msg = NULL;
	char *buf = NULL, *text = NULL, *name = NULL, path[4096];
	size_t len = 0, text_len = 0;
	struct stat sb;
	int r;

	if (imp->conf) {
		const struct conf *c = imp->conf;

		for (size_t i = 0; i < c->n_targets && !ct; i++)
			if (!strcmp(c->targets[i].name, imp->target))
				ct = &c->targets[i];
		if (!ct) {
			log_err("import", "%s: no [target %s]", c->source, imp->target);
			return -ENOENT;
		}
		for (size_t i = 0; i < ct->n_luns && !cl; i++)
			if (ct->luns[i].lun == imp->lun)
				cl = &ct->luns[i];
		if (!cl) {
			log_err("import", "%s: no [lun %s %u]", c->source, imp->target, imp->lun);
			return -ENOENT;
		}
		if (!serial)
			serial = cl->serial; /* conf computed the default one */
		if (!state_dir)
			state_dir = c->state_dir;
		if (c->max_registrants)
			max_regs = c->max_registrants;
	}
	if (!serial || !state_dir) {
		log_err("import", "need -c CONF, or --state-dir DIR and --serial SERIAL");
		return -EINVAL;
	}
	/* the serial names the file (conf_check_serial's rule, checked again) */
	if (!serial[0] || serial[0] == '.' || strchr(serial, '/')) {
		log_err("import", "serial %s cannot name a state file", serial);
		return -EINVAL;
	}
	r = target_ports(imp->conf, ct, &ports, &n_ports);
	if (r)
		return r;
	r = util_file_read_all(imp->lio_file, &buf, &len, LIO_FILE_MAX);
	if (r) {
		log_err("import", "%s: %s", imp->lio_file, strerror(-r));
		goto out;
	}
	r = pr_lio_import(buf, len, from_target, from_lun,
			  &(struct pr_ports){.port = ports, .n = n_ports}, max_regs, &st, &line,
			  &msg);
	if (r) {
		log_err("import", "%s:%u: %s", imp->lio_file, line, msg ? msg : strerror(-r));
		goto out;
	}
	if (!st.n_regs) {
		log_err("import", "%s: no registration for target %s LUN %u (check --from-target)",
			imp->lio_file, from_target, from_lun);
		r = -ENOENT;
		goto out_st;
	}
	if (asprintf(&name, "pr-%s.state", serial) < 0) {
		name = NULL;
		r = -ENOMEM;
		goto out_st;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, name) >= sizeof(path)) {
		r = -ENAMETOOLONG;
		goto out_st;
	}
	if (!imp->force && lstat(path, &sb) == 0) {
		log_err("import",
			"%s exists: the LU already has persistent reservation state; "
			"--force replaces it",
			path);
		r = -EEXIST;
		goto out_st;
	}
	r = pr_state_encode(&st, &text, &text_len);
	if (!r)
		r = util_file_write_atomic(state_dir, name, text, text_len);
	if (r) {
		log_err("import", "writing %s: %s", path, strerror(-r));
		goto out_st;
	}
	fprintf(out, "imported %s (LIO target %s LUN %u) into %s\n", imp->lio_file, from_target,
		from_lun, path);
	fprintf(out, "  for target %s LUN %u, serial %s; APTPL on; %u registration(s)\n",
		imp->target, imp->lun, serial, st.n_regs);
	print_state(out, &st);
out_st:
	pr_state_free(&st);
out:
	free(text);
	free(name);
	free(buf);
	free(ports);
	return r;
}
