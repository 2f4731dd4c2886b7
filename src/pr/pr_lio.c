/* SPDX-License-Identifier: MIT */
/*
 * pr_lio: import of a Linux kernel target (LIO) APTPL file, for migration
 * (issue 11). Format, as written by target_core_pr.c: one block per
 * registration,
 *   PR_REG_START: n / key=value lines / PR_REG_END: n
 * with initiator_fabric, initiator_node, initiator_sid (ISID, 12 hex digits,
 * absent for name-only registrations), sa_res_key (decimal), res_holder,
 * res_type / res_scope (%02x, holder only), res_all_tg_pt, mapped_lun,
 * target_fabric, target_node, tpgt, port_rtpi, target_lun; the file ends
 * with a NUL. Unknown keys are ignored (other kernels add some); structural
 * problems are errors naming the line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pr_internal.h"

struct lio_reg {
	struct pr_reg reg;
	bool have_node, have_key, in_block;
	bool holder;
	unsigned res_type;
	char target_node[PR_NAME_MAX];
	unsigned long tpgt, target_lun;
	bool have_tpgt, have_lun, fabric_ok, target_fabric_ok;
};

static bool dec(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		if (x > (max - (uint64_t)(v[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

static bool is(const char *k, size_t kn, const char *want)
{
	return kn == strlen(want) && memcmp(k, want, kn) == 0;
}

static const char *field(struct lio_reg *r, const char *k, size_t kn, const char *v, size_t vn)
{
	uint64_t x;

	if (is(k, kn, "initiator_fabric")) {
		r->fabric_ok = vn == 5 && strncasecmp(v, "iSCSI", 5) == 0;
	} else if (is(k, kn, "initiator_node")) {
		if (vn == 0 || vn >= PR_NAME_MAX)
			return "bad initiator_node";
		/* as pr_state_decode: no space or control character in a name */
		for (size_t i = 0; i < vn; i++)
			if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
				return "bad character in initiator_node";
		memcpy(r->reg.itn.initiator, v, vn);
		r->reg.itn.initiator[vn] = '\0';
		r->have_node = true;
	} else if (is(k, kn, "initiator_sid")) {
		if (vn != 12)
			return "bad initiator_sid (12 hex digits)";
		for (size_t i = 0; i < 6; i++) {
			int hi = util_hexval(v[2 * i]), lo = util_hexval(v[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return "bad initiator_sid (12 hex digits)";
			r->reg.itn.isid[i] = (uint8_t)(hi << 4 | lo);
		}
		r->reg.itn.has_isid = true;
	} else if (is(k, kn, "sa_res_key")) {
		if (!dec(v, vn, UINT64_MAX, &x))
			return "bad sa_res_key (decimal)";
		r->reg.key = x;
		r->have_key = true;
	} else if (is(k, kn, "res_holder")) {
		if (vn != 1 || (v[0] != '0' && v[0] != '1'))
			return "bad res_holder";
		r->holder = v[0] == '1';
	} else if (is(k, kn, "res_type")) {
		int hi = vn == 2 ? util_hexval(v[0]) : -1, lo = vn == 2 ? util_hexval(v[1]) : -1;

		if (hi < 0 || lo < 0 || !pr_type_valid((unsigned)(hi << 4 | lo)))
			return "bad res_type";
		r->res_type = (unsigned)(hi << 4 | lo);
	} else if (is(k, kn, "res_scope")) {
		if (vn != 2 || v[0] != '0' || v[1] != '0')
			return "bad res_scope (only LU scope 00)";
	} else if (is(k, kn, "res_all_tg_pt")) {
		if (vn != 1 || (v[0] != '0' && v[0] != '1'))
			return "bad res_all_tg_pt";
		r->reg.all_tg_pt = v[0] == '1';
	} else if (is(k, kn, "target_fabric")) {
		r->target_fabric_ok = vn == 5 && strncasecmp(v, "iSCSI", 5) == 0;
	} else if (is(k, kn, "target_node")) {
		if (vn == 0 || vn >= PR_NAME_MAX)
			return "bad target_node";
		memcpy(r->target_node, v, vn);
		r->target_node[vn] = '\0';
	} else if (is(k, kn, "tpgt")) {
		if (!dec(v, vn, 0xffff, &x))
			return "bad tpgt";
		r->tpgt = (unsigned long)x;
		r->have_tpgt = true;
	} else if (is(k, kn, "target_lun")) {
		if (!dec(v, vn, UINT32_MAX, &x))
			return "bad target_lun";
		r->target_lun = (unsigned long)x;
		r->have_lun = true;
	}
	/* mapped_lun, port_rtpi and anything newer: not needed */
	return NULL;
}

static int fail(struct pr_state *st, unsigned line, const char *msg, unsigned *err_line,
		const char **err_msg)
{
	pr_state_free(st);
	*err_line = line;
	*err_msg = msg;
	return -EINVAL;
}

int pr_lio_import(const char *buf, size_t len, const char *target_node, unsigned target_lun,
		  const struct pr_ports *ports, unsigned max_registrants, struct pr_state *st,
		  unsigned *err_line, const char **err_msg)
{
	const char *p = buf, *end;
	struct lio_reg r;
	unsigned line = 0, holders = 0, res_type = 0;

	pr_state_init(st, max_registrants);
	*err_line = 0;
	*err_msg = NULL;
	/* LIO terminates the file with a NUL; nothing may follow it */
	end = memchr(buf, '\0', len);
	if (end && end != buf + len - 1)
		return fail(st, 0, "NUL byte inside the file", err_line, err_msg);
	if (!end)
		end = buf + len;
	memset(&r, 0, sizeof(r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *eq;
		size_t n = (size_t)(le - p);

		line++;
		if (n == 0) {
			p = le + (nl ? 1 : 0);
			continue;
		}
		if (n >= 13 && memcmp(p, "PR_REG_START:", 13) == 0) {
			if (r.in_block)
				return fail(st, line, "PR_REG_START inside a block", err_line,
					    err_msg);
			memset(&r, 0, sizeof(r));
			r.in_block = true;
		} else if (n >= 11 && memcmp(p, "PR_REG_END:", 11) == 0) {
			if (!r.in_block)
				return fail(st, line, "PR_REG_END without PR_REG_START", err_line,
					    err_msg);
			r.in_block = false;
			if (!r.have_node || !r.have_key || !r.have_tpgt || !r.have_lun)
				return fail(
				    st, line,
				    "block lacks initiator_node, sa_res_key, tpgt or target_lun",
				    err_line, err_msg);
			if (!r.fabric_ok || !r.target_fabric_ok)
				return fail(st, line, "not an iSCSI registration", err_line,
					    err_msg);
			if (strcmp(r.target_node, target_node) != 0 || r.target_lun != target_lun)
				goto next; /* another target or LUN */
			bool port_found = false;
			for (unsigned i = 0; ports && i < ports->n; i++)
				if (ports->port[i].tpgt == r.tpgt) {
					r.reg.itn.rel_tport_id = ports->port[i].rel_tport_id;
					port_found = true;
				}
			if (!port_found)
				return fail(st, line, "no targetd port for this tpgt", err_line,
					    err_msg);
			if (r.holder) {
				if (!r.res_type || (res_type && res_type != r.res_type))
					return fail(st, line,
						    "holder without a consistent res_type",
						    err_line, err_msg);
				res_type = r.res_type;
				holders++;
			}
			r.reg.holder = r.holder;
			for (unsigned i = 0; i < st->n_regs; i++)
				if (pr_itn_overlap(&st->regs[i].itn, &r.reg.itn))
					return fail(st, line, "duplicate registration", err_line,
						    err_msg);
			if (st->n_regs >= st->max_registrants)
				return fail(st, line, "more registrations than max_registrants",
					    err_line, err_msg);
			if (pr_add_reg(st, &r.reg)) {
				pr_state_free(st);
				return -ENOMEM;
			}
		} else {
			const char *m;

			if (!r.in_block)
				return fail(st, line, "line outside a PR_REG block", err_line,
					    err_msg);
			eq = memchr(p, '=', n);
			if (!eq)
				return fail(st, line, "not a key=value line", err_line, err_msg);
			m = field(&r, p, (size_t)(eq - p), eq + 1, (size_t)(le - eq - 1));
			if (m)
				return fail(st, line, m, err_line, err_msg);
		}
	next:
		p = le + (nl ? 1 : 0);
	}
	if (r.in_block)
		return fail(st, line, "truncated: PR_REG_START without PR_REG_END", err_line,
			    err_msg);
	if (holders > 1 && !pr_type_all_registrants(res_type))
		return fail(st, 0, "more than one reservation holder", err_line, err_msg);
	st->aptpl = true; /* the file exists because APTPL was on */
	st->generation = 0;
	if (res_type) {
		st->res_present = true;
		st->res_type = (uint8_t)res_type;
		st->res_scope = PR_SCOPE_LU;
		/* all registrants: every registrant holds; no per-registration flag */
		if (pr_type_all_registrants(res_type))
			for (unsigned i = 0; i < st->n_regs; i++)
				st->regs[i].holder = false;
	}
	return 0;
}
