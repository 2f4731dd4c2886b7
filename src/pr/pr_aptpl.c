/* SPDX-License-Identifier: MIT */
/*
 * pr_aptpl: the APTPL state file text (docs/aptpl-format.md). Pure: the
 * store (write on the worker, atomic rename, directory fsync) lives in the
 * caller. Every line is checked; the first problem is reported with its line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

#define APTPL_MAGIC "targetd-pr-state=1"
#define APTPL_CRC "crc32c="

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n + 1;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

int pr_state_encode(const struct pr_state *st, char **out, size_t *len)
{
	struct sbuf b = {0};

	sb_printf(&b, "%s\n", APTPL_MAGIC);
	sb_printf(&b, "aptpl=%d\n", st->aptpl ? 1 : 0);
	sb_printf(&b, "res_type=%u\n", st->res_present ? st->res_type : 0);
	sb_printf(&b, "res_scope=%u\n", st->res_present ? st->res_scope : 0);
	for (unsigned i = 0; i < st->n_regs; i++) {
		const struct pr_reg *r = &st->regs[i];
		char isid[13] = "-";

		if (r->itn.has_isid)
			snprintf(isid, sizeof(isid), "%02x%02x%02x%02x%02x%02x", r->itn.isid[0],
				 r->itn.isid[1], r->itn.isid[2], r->itn.isid[3], r->itn.isid[4],
				 r->itn.isid[5]);
		sb_printf(&b,
			  "reg=key:%016" PRIx64 " rtpi:%u isid:%s all_tg_pt:%d holder:%d name:%s\n",
			  r->key, r->itn.rel_tport_id, isid, r->all_tg_pt ? 1 : 0,
			  r->holder ? 1 : 0, r->itn.initiator);
	}
	if (!b.oom) {
		uint32_t crc = util_crc32c(0, b.p, b.len);

		sb_printf(&b, "%s%08x\n", APTPL_CRC, crc);
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- decode ------------------------------------------------------------------ */

static bool parse_uint(const char *s, size_t n, int base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return false;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* "field:value" token at *p (space separated); returns value and length. */
static bool take(const char **p, const char *end, const char *field, const char **v, size_t *n,
		 bool last)
{
	size_t fl = strlen(field);

	if ((size_t)(end - *p) < fl + 1 || memcmp(*p, field, fl) != 0 || (*p)[fl] != ':')
		return false;
	*v = *p + fl + 1;
	if (last) {
		*n = (size_t)(end - *v);
		*p = end;
		return true;
	}
	const char *sp = memchr(*v, ' ', (size_t)(end - *v));
	if (!sp)
		return false;
	*n = (size_t)(sp - *v);
	*p = sp + 1;
	return true;
}

static const char *parse_reg(const char *s, const char *end, struct pr_reg *r)
{
	const char *v;
	size_t n;
	uint64_t x;

	memset(r, 0, sizeof(*r));
	if (!take(&s, end, "key", &v, &n, false) || n != 16 ||
	    !parse_uint(v, n, 16, UINT64_MAX, &x))
		return "bad or missing key (16 hex digits)";
	r->key = x;
	if (!take(&s, end, "rtpi", &v, &n, false) || !parse_uint(v, n, 10, 0xffff, &x) || x == 0)
		return "bad or missing rtpi (1..65535)";
	r->itn.rel_tport_id = (uint16_t)x;
	if (!take(&s, end, "isid", &v, &n, false))
		return "missing isid";
	if (n == 1 && v[0] == '-') {
		r->itn.has_isid = false;
	} else {
		if (n != 12)
			return "bad isid (12 hex digits or -)";
		for (size_t i = 0; i < 6; i++) {
			if (!parse_uint(v + 2 * i, 2, 16, 0xff, &x))
				return "bad isid (12 hex digits or -)";
			r->itn.isid[i] = (uint8_t)x;
		}
		r->itn.has_isid = true;
	}
	if (!take(&s, end, "all_tg_pt", &v, &n, false) || n != 1 || (v[0] != '0' && v[0] != '1'))
		return "bad or missing all_tg_pt (0 or 1)";
	r->all_tg_pt = v[0] == '1';
	if (!take(&s, end, "holder", &v, &n, false) || n != 1 || (v[0] != '0' && v[0] != '1'))
		return "bad or missing holder (0 or 1)";
	r->holder = v[0] == '1';
	if (!take(&s, end, "name", &v, &n, true) || n == 0 || n >= PR_NAME_MAX)
		return "bad or missing name";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return "bad character in name";
	memcpy(r->itn.initiator, v, n);
	r->itn.initiator[n] = '\0';
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

int pr_state_decode(const char *buf, size_t len, unsigned max_registrants, struct pr_state *st,
		    unsigned *err_line, const char **err_msg)
{
	const char *p = buf, *end = buf + len, *crc_line = NULL;
	unsigned line = 0, holders = 0;
	bool seen_aptpl = false, seen_type = false, seen_scope = false;
	uint64_t type = 0, scope = 0;

	pr_state_init(st, max_registrants);
	*err_line = 0;
	*err_msg = NULL;
	if (len == 0)
		return fail(st, 0, "empty file", err_line, err_msg);
	if (memchr(buf, '\0', len))
		return fail(st, 0, "NUL byte in file", err_line, err_msg);
	if (buf[len - 1] != '\n')
		return fail(st, 0, "truncated: no final newline", err_line, err_msg);
	/* Checksum first: a damaged file is reported as such, not as the
	 * first line that happens to look wrong. */
	{
		const char *q = buf;
		unsigned crc_no = 0, nlines = 0;
		size_t cl = strlen(APTPL_CRC);
		uint64_t x;

		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));

			nlines++;
			if (!crc_line && (size_t)(nl - q) >= cl && memcmp(q, APTPL_CRC, cl) == 0) {
				crc_line = q;
				crc_no = nlines;
			}
			q = nl + 1;
		}
		if (!crc_line)
			return fail(st, nlines, "truncated: no checksum line", err_line, err_msg);
		if (crc_no != nlines)
			return fail(st, crc_no + 1, "data after the checksum line", err_line,
				    err_msg);
		if (!parse_uint(crc_line + cl, (size_t)(end - 1 - crc_line) - cl, 16, UINT32_MAX,
				&x) ||
		    (size_t)(end - 1 - crc_line) - cl != 8)
			return fail(st, crc_no, "bad checksum line", err_line, err_msg);
		if (util_crc32c(0, buf, (size_t)(crc_line - buf)) != (uint32_t)x)
			return fail(st, crc_no, "checksum mismatch", err_line, err_msg);
	}
	end = crc_line;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);
		uint64_t x;

		line++;
		if (line == 1) {
			if (n != strlen(APTPL_MAGIC) || memcmp(p, APTPL_MAGIC, n) != 0)
				return fail(st, 1, "not a targetd PR state file of version 1",
					    err_line, err_msg);
		} else if (n >= 6 && memcmp(p, "aptpl=", 6) == 0) {
			if (seen_aptpl || n != 7 || (p[6] != '0' && p[6] != '1'))
				return fail(st, line, "bad or repeated aptpl", err_line, err_msg);
			seen_aptpl = true;
			st->aptpl = p[6] == '1';
		} else if (n >= 9 && memcmp(p, "res_type=", 9) == 0) {
			if (seen_type || !parse_uint(p + 9, n - 9, 10, 255, &x) ||
			    (x != 0 && !pr_type_valid((unsigned)x)))
				return fail(st, line, "bad or repeated res_type", err_line,
					    err_msg);
			type = x;
			seen_type = true;
		} else if (n >= 10 && memcmp(p, "res_scope=", 10) == 0) {
			if (seen_scope || !parse_uint(p + 10, n - 10, 10, 255, &scope) ||
			    scope != PR_SCOPE_LU)
				return fail(st, line, "bad or repeated res_scope", err_line,
					    err_msg);
			seen_scope = true;
		} else if (n >= 4 && memcmp(p, "reg=", 4) == 0) {
			struct pr_reg r;
			const char *m = parse_reg(p + 4, nl, &r);

			if (m)
				return fail(st, line, m, err_line, err_msg);
			for (unsigned i = 0; i < st->n_regs; i++)
				if (pr_itn_overlap(&st->regs[i].itn, &r.itn))
					return fail(st, line, "duplicate registration", err_line,
						    err_msg);
			if (st->n_regs >= st->max_registrants)
				return fail(st, line, "more registrations than max_registrants",
					    err_line, err_msg);
			if (pr_add_reg(st, &r)) {
				pr_state_free(st);
				return -ENOMEM;
			}
			holders += r.holder;
		} else {
			return fail(st, line, "unknown line", err_line, err_msg);
		}
		p = nl + 1;
	}
	if (!seen_aptpl || !seen_type || !seen_scope)
		return fail(st, 0, "missing aptpl, res_type or res_scope", err_line, err_msg);
	/* SPC-4 5.13.10: one holder for a non-all-registrants reservation, none
	 * recorded otherwise (every registrant holds an AR reservation) */
	if (type != 0 && !pr_type_all_registrants((unsigned)type) && holders != 1)
		return fail(st, 0, "reservation needs exactly one holder", err_line, err_msg);
	if ((type == 0 || pr_type_all_registrants((unsigned)type)) && holders != 0)
		return fail(st, 0, "holder flag without a holder reservation", err_line, err_msg);
	if (pr_type_all_registrants((unsigned)type) && st->n_regs == 0)
		return fail(st, 0, "all registrants reservation without registrants", err_line,
			    err_msg);
	st->res_present = type != 0;
	st->res_type = (uint8_t)type;
	st->res_scope = PR_SCOPE_LU;
	st->generation = 0; /* SPC-4 6.15.2: power on */
	return 0;
}
