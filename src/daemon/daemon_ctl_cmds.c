/* SPDX-License-Identifier: MIT */
/*
 * daemon_ctl_cmds: the commands of the control socket, each in text (for
 * people) and JSON (for scripts, "json" before the command). targetctl(8)
 * documents both. Request: "[json ]COMMAND [ARG...]".
 *   status              version, uptime, object counts
 *   sessions            every logged-in session with its negotiated values
 *   luns                every LUN of every target, with I/O counters
 *   pr TARGET LUN       the persistent reservation state of one LU
 *   reload              live reload (see daemon_reload.c)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "targetd/iscsi.h"
#include "targetd/pr.h"
#include "targetd/scsi.h"
#include "targetd/scsi_reconf.h"
#include "targetd/util.h"

#define MAX_ARGS 8

void daemon_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static const char *jbool(bool b)
{
	return b ? "true" : "false";
}

static void isid_hex(const uint8_t isid[6], char out[13])
{
	snprintf(out, 13, "%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4],
		 isid[5]);
}

/* ---- status ------------------------------------------------------------------ */

static void count_session(const struct iscsi_session_info *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
}

static bool cmd_status(struct daemon_ctl *ctl, bool json, FILE *f)
{
	unsigned n_targets = 0, n_luns = 0, n_sessions = 0;
	uint64_t up = (util_now_ms() - ctl->start_ms) / 1000;

	for (struct scsi_target *t = scsi_target_next(ctl->core, NULL); t;
	     t = scsi_target_next(ctl->core, t)) {
		uint64_t lun = 0;

		n_targets++;
		for (struct scsi_lu *lu = scsi_target_lun_next(t, &lun, true); lu;
		     lu = scsi_target_lun_next(t, &lun, false))
			n_luns++;
	}
	iscsi_sessions_foreach(ctl->srv, count_session, &n_sessions);
	if (json) {
		fputs("{\"version\":", f);
		daemon_json_str(f, ctl->version);
		fprintf(f,
			",\"pid\":%ld,\"uptime_s\":%" PRIu64
			",\"targets\":%u,\"luns\":%u,\"sessions\":%u}\n",
			(long)getpid(), up, n_targets, n_luns, n_sessions);
	} else {
		fprintf(f,
			"targetd %s\npid %ld\nuptime %" PRIu64
			"s\ntargets %u\nluns %u\nsessions %u\n",
			ctl->version, (long)getpid(), up, n_targets, n_luns, n_sessions);
	}
	return true;
}

/* ---- sessions -------------------------------------------------------------- */

struct sess_out {
	FILE *f;
	bool json;
	unsigned n;
};

static void print_session(const struct iscsi_session_info *s, void *arg)
{
	struct sess_out *o = arg;
	FILE *f = o->f;
	char isid[13];
	const char *target = s->discovery ? NULL : s->target_name;

	isid_hex(s->isid, isid);
	if (!o->json) {
		fprintf(f,
			"%s isid=%s tsih=%u target=%s tpgt=%u peer=%s local=%s "
			"digests=%s/%s mrdsl=%u/%u first_burst=%u max_burst=%u "
			"immediate_data=%s initial_r2t=%s "
			"commands=%llu read_bytes=%llu write_bytes=%llu\n",
			s->initiator_name ? s->initiator_name : "-", isid, s->tsih,
			s->discovery ? "(discovery)" : (target ? target : "-"), s->tpgt,
			s->peer_addr, s->local_addr, s->header_digest ? "crc32c" : "none",
			s->data_digest ? "crc32c" : "none", s->max_recv_dsl_initiator,
			s->max_recv_dsl_target, s->first_burst, s->max_burst,
			s->immediate_data ? "yes" : "no", s->initial_r2t ? "yes" : "no",
			(unsigned long long)s->commands, (unsigned long long)s->read_bytes,
			(unsigned long long)s->write_bytes);
		return;
	}
	fputs(o->n++ ? ",{" : "{", f);
	fputs("\"initiator\":", f);
	daemon_json_str(f, s->initiator_name);
	fprintf(f, ",\"isid\":\"%s\",\"tsih\":%u,\"discovery\":%s,\"target\":", isid, s->tsih,
		jbool(s->discovery));
	daemon_json_str(f, target);
	fprintf(f, ",\"tpgt\":%u,\"peer\":", s->tpgt);
	daemon_json_str(f, s->peer_addr);
	fputs(",\"local\":", f);
	daemon_json_str(f, s->local_addr);
	fprintf(f,
		",\"params\":{\"max_recv_data_segment_length_initiator\":%u,"
		"\"max_recv_data_segment_length_target\":%u,\"first_burst_length\":%u,"
		"\"max_burst_length\":%u,\"immediate_data\":%s,\"initial_r2t\":%s,"
		"\"header_digest\":\"%s\",\"data_digest\":\"%s\"},"
		"\"commands\":%llu,\"read_bytes\":%llu,\"write_bytes\":%llu}",
		s->max_recv_dsl_initiator, s->max_recv_dsl_target, s->first_burst, s->max_burst,
		jbool(s->immediate_data), jbool(s->initial_r2t),
		s->header_digest ? "CRC32C" : "None", s->data_digest ? "CRC32C" : "None",
		(unsigned long long)s->commands, (unsigned long long)s->read_bytes,
		(unsigned long long)s->write_bytes);
}

static bool cmd_sessions(struct daemon_ctl *ctl, bool json, FILE *f)
{
	struct sess_out o = {.f = f, .json = json};

	if (json)
		fputc('[', f);
	iscsi_sessions_foreach(ctl->srv, print_session, &o);
	if (json)
		fputs("]\n", f);
	return true;
}

/* ---- luns ------------------------------------------------------------------ */

static bool cmd_luns(struct daemon_ctl *ctl, bool json, FILE *f)
{
	unsigned n = 0;

	if (json)
		fputc('[', f);
	for (struct scsi_target *t = scsi_target_next(ctl->core, NULL); t;
	     t = scsi_target_next(ctl->core, t)) {
		uint64_t lun = 0;

		for (struct scsi_lu *lu = scsi_target_lun_next(t, &lun, true); lu;
		     lu = scsi_target_lun_next(t, &lun, false)) {
			struct scsi_lu_info li;

			scsi_lu_get_info(lu, &li);
			if (!json) {
				fprintf(
				    f,
				    "%s lun=%llu serial=%s size=%llu block_size=%u path=%s "
				    "read_only=%s write_cache=%s thin=%s reads=%llu "
				    "writes=%llu read_bytes=%llu write_bytes=%llu errors=%llu\n",
				    scsi_target_name(t), (unsigned long long)lun,
				    scsi_lu_serial(lu), (unsigned long long)scsi_lu_size_bytes(lu),
				    scsi_lu_block_size(lu), scsi_lu_path(lu),
				    li.read_only ? "yes" : "no", li.write_cache ? "yes" : "no",
				    li.thin ? "yes" : "no", (unsigned long long)li.reads,
				    (unsigned long long)li.writes,
				    (unsigned long long)li.read_bytes,
				    (unsigned long long)li.write_bytes,
				    (unsigned long long)li.errors);
				continue;
			}
			fputs(n++ ? ",{\"target\":" : "{\"target\":", f);
			daemon_json_str(f, scsi_target_name(t));
			fprintf(f, ",\"lun\":%llu,\"serial\":", (unsigned long long)lun);
			daemon_json_str(f, scsi_lu_serial(lu));
			fputs(",\"path\":", f);
			daemon_json_str(f, scsi_lu_path(lu));
			fprintf(f,
				",\"size\":%llu,\"block_size\":%u,\"read_only\":%s,"
				"\"write_cache\":%s,\"thin\":%s,\"direct\":%s,\"reads\":%llu,"
				"\"writes\":%llu,\"flushes\":%llu,\"read_bytes\":%llu,"
				"\"write_bytes\":%llu,\"errors\":%llu,\"inflight\":%u}",
				(unsigned long long)scsi_lu_size_bytes(lu), scsi_lu_block_size(lu),
				jbool(li.read_only), jbool(li.write_cache), jbool(li.thin),
				jbool(li.direct), (unsigned long long)li.reads,
				(unsigned long long)li.writes, (unsigned long long)li.flushes,
				(unsigned long long)li.read_bytes,
				(unsigned long long)li.write_bytes, (unsigned long long)li.errors,
				li.inflight);
		}
	}
	if (json)
		fputs("]\n", f);
	return true;
}

/* ---- pr show ----------------------------------------------------------------- */

/* SPC-4 6.15.3.4 table 204 */
static const char *pr_type_name(unsigned type)
{
	switch (type) {
	case PR_TYPE_WR_EX:
		return "Write Exclusive";
	case PR_TYPE_EX_AC:
		return "Exclusive Access";
	case PR_TYPE_WR_EX_RO:
		return "Write Exclusive, Registrants Only";
	case PR_TYPE_EX_AC_RO:
		return "Exclusive Access, Registrants Only";
	case PR_TYPE_WR_EX_AR:
		return "Write Exclusive, All Registrants";
	case PR_TYPE_EX_AC_AR:
		return "Exclusive Access, All Registrants";
	default:
		return "unknown";
	}
}

struct pr_out_ctx {
	FILE *f;
	bool json;
	unsigned n;
};

static void print_reg(const struct scsi_pr_reg_info *r, void *arg)
{
	struct pr_out_ctx *o = arg;
	char isid[13];

	isid_hex(r->isid, isid);
	if (!o->json) {
		fprintf(o->f,
			"  registration: initiator=%s isid=%s rel_tport_id=%u key=0x%016" PRIx64
			" all_tg_pt=%s%s\n",
			r->initiator, r->has_isid ? isid : "any", r->rel_tport_id, r->key,
			r->all_tg_pt ? "yes" : "no", r->holder ? " holder" : "");
		return;
	}
	fputs(o->n++ ? ",{\"initiator\":" : "{\"initiator\":", o->f);
	daemon_json_str(o->f, r->initiator);
	fputs(",\"isid\":", o->f);
	daemon_json_str(o->f, r->has_isid ? isid : NULL);
	fprintf(o->f,
		",\"rel_tport_id\":%u,\"key\":\"0x%016" PRIx64 "\",\"all_tg_pt\":%s,"
		"\"holder\":%s}",
		r->rel_tport_id, r->key, jbool(r->all_tg_pt), jbool(r->holder));
}

static bool cmd_pr(struct daemon_ctl *ctl, bool json, FILE *f, int argc, char **argv)
{
	struct scsi_target *t;
	struct scsi_lu *lu = NULL;
	struct scsi_pr_info pi;
	uint64_t want, lun = 0;
	char *end;

	/* "pr show TARGET LUN" (and "pr TARGET LUN") */
	if (argc >= 2 && !strcmp(argv[1], "show")) {
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(f, "usage: pr show TARGET LUN\n");
		return false;
	}
	t = scsi_target_find(ctl->core, argv[1]);
	if (!t) {
		fprintf(f, "no target %s\n", argv[1]);
		return false;
	}
	errno = 0;
	want = strtoull(argv[2], &end, 0);
	if (errno || *end || end == argv[2]) {
		fprintf(f, "LUN %s: not a number\n", argv[2]);
		return false;
	}
	for (struct scsi_lu *l = scsi_target_lun_next(t, &lun, true); l;
	     l = scsi_target_lun_next(t, &lun, false))
		if (lun == want) {
			lu = l;
			break;
		}
	if (!lu) {
		fprintf(f, "%s has no LUN %llu\n", argv[1], (unsigned long long)want);
		return false;
	}
	scsi_lu_pr_info(lu, &pi, NULL, NULL);
	if (!json) {
		fprintf(f, "%s lun %llu (serial %s)\n", argv[1], (unsigned long long)want,
			scsi_lu_serial(lu));
		fprintf(f, "  aptpl: %s\n  generation: 0x%08x\n", pi.aptpl ? "yes" : "no",
			pi.generation);
		if (pi.res_present)
			fprintf(f, "  reservation: %s (type %u), scope LU\n",
				pr_type_name(pi.res_type), pi.res_type);
		else
			fprintf(f, "  reservation: none\n");
		if (pi.lost)
			fprintf(f, "  lost: yes (SPC-4 5.13.5.3.2)\n");
		fprintf(f, "  registrations: %u\n", pi.n_regs);
	} else {
		fputs("{\"target\":", f);
		daemon_json_str(f, argv[1]);
		fprintf(f, ",\"lun\":%llu,\"serial\":", (unsigned long long)want);
		daemon_json_str(f, scsi_lu_serial(lu));
		fprintf(f, ",\"aptpl\":%s,\"generation\":%u,\"lost\":%s,\"reservation\":",
			jbool(pi.aptpl), pi.generation, jbool(pi.lost));
		if (pi.res_present)
			fprintf(f, "{\"type\":%u,\"type_name\":\"%s\",\"scope\":\"LU\"}",
				pi.res_type, pr_type_name(pi.res_type));
		else
			fputs("null", f);
		fputs(",\"registrations\":[", f);
	}
	struct pr_out_ctx o = {.f = f, .json = json};

	scsi_lu_pr_info(lu, &pi, print_reg, &o);
	if (json)
		fputs("]}\n", f);
	return true;
}

/* ---- reload ------------------------------------------------------------------ */

static void print_problems(FILE *f, const struct daemon_reload_report *rep, bool json)
{
	for (size_t i = 0; i < rep->probs.n; i++) {
		const struct conf_problem *p = &rep->probs.v[i];

		if (!json) {
			if (p->line)
				fprintf(f, "%s:%d: %s%s\n", rep->source, p->line,
					p->warning ? "warning: " : "", p->msg);
			else
				fprintf(f, "%s: %s%s\n", rep->source, p->warning ? "warning: " : "",
					p->msg);
			continue;
		}
		fputs(i ? ",{\"file\":" : "{\"file\":", f);
		daemon_json_str(f, rep->source);
		fprintf(f, ",\"line\":%d,\"warning\":%s,\"message\":", p->line, jbool(p->warning));
		daemon_json_str(f, p->msg);
		fputc('}', f);
	}
}

static void json_lines(FILE *f, const char *key, char **v, size_t n)
{
	fprintf(f, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		daemon_json_str(f, v[i]);
	}
	fputc(']', f);
}

static bool cmd_reload(struct daemon_ctl *ctl, bool json, FILE *f)
{
	struct daemon_reload_report rep = {0};
	bool ok;

	if (!ctl->reload) {
		fprintf(f, "reload is not available\n");
		return false;
	}
	log_notice("daemon", "targetctl: reloading the configuration");
	ctl->reload(ctl->reload_arg, &rep);
	ok = rep.result == 0;
	if (json) {
		fprintf(f, "{\"ok\":%s,\"source\":", jbool(ok));
		daemon_json_str(f, rep.source);
		fputs(",\"error\":", f);
		daemon_json_str(f, rep.error);
		fputs(",\"problems\":[", f);
		print_problems(f, &rep, true);
		fputc(']', f);
		json_lines(f, "changes", rep.changes, rep.n_changes);
		json_lines(f, "warnings", rep.warnings, rep.n_warnings);
		fputs("}\n", f);
	} else {
		print_problems(f, &rep, false);
		for (size_t i = 0; i < rep.n_warnings; i++)
			fprintf(f, "warning: %s\n", rep.warnings[i]);
		for (size_t i = 0; i < rep.n_changes; i++)
			fprintf(f, "%s\n", rep.changes[i]);
		if (ok)
			fprintf(f, "reloaded %s: %zu change(s)\n", rep.source, rep.n_changes);
		else
			fprintf(f, "reload failed: %s\n",
				rep.error ? rep.error : strerror(-rep.result));
	}
	daemon_reload_report_free(&rep);
	return ok;
}

/* ---- dispatch ------------------------------------------------------------------ */

bool daemon_ctl_run(struct daemon_ctl *ctl, char *req, FILE *f)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	bool json = false;

	for (char *save = NULL, *tok = strtok_r(req, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == MAX_ARGS) {
			fprintf(f, "too many arguments\n");
			return false;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (argc && !strcmp(argv[0], "json")) {
		json = true;
		memmove(argv, argv + 1, (size_t)argc * sizeof(argv[0]));
		argc--;
	}
	if (!argc) {
		fprintf(f, "empty command\n");
		return false;
	}
	if (!strcmp(argv[0], "status"))
		return cmd_status(ctl, json, f);
	if (!strcmp(argv[0], "sessions"))
		return cmd_sessions(ctl, json, f);
	if (!strcmp(argv[0], "luns"))
		return cmd_luns(ctl, json, f);
	if (!strcmp(argv[0], "pr"))
		return cmd_pr(ctl, json, f, argc, argv);
	if (!strcmp(argv[0], "reload"))
		return cmd_reload(ctl, json, f);
	fprintf(f, "unknown command '%s' (status, sessions, luns, pr show, reload)\n", argv[0]);
	return false;
}
