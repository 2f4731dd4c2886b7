/* SPDX-License-Identifier: MIT */
/*
 * pr_in: PERSISTENT RESERVE IN parameter data (SPC-4 6.15). Each encoder
 * builds the full data, then copies at most the allocation length; the
 * ADDITIONAL LENGTH / LENGTH fields always describe the full data
 * (SPC-4 4.2.5.6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

/* 6.15.2 READ KEYS: PRgeneration, ADDITIONAL LENGTH, one key per
 * registered I_T nexus (duplicates reported, 5.13.6.2). */
static uint8_t *read_keys(const struct pr_state *st, size_t *len)
{
	uint8_t *b;

	*len = 8 + 8 * (size_t)st->n_regs;
	b = calloc(1, *len);
	if (!b)
		return NULL;
	put_be32(b, st->generation);
	put_be32(b + 4, 8 * st->n_regs);
	for (size_t i = 0; i < st->n_regs; i++)
		put_be64(b + 8 + 8 * i, st->regs[i].key);
	return b;
}

/* 6.15.3 READ RESERVATION: 8 bytes, plus a 16-byte descriptor when a
 * reservation exists. Key of the holder, zero for all registrants types
 * (5.13.6.3 b). */
static uint8_t *read_reservation(const struct pr_state *st, size_t *len)
{
	uint8_t *b;

	*len = st->res_present ? 24 : 8;
	b = calloc(1, *len);
	if (!b)
		return NULL;
	put_be32(b, st->generation);
	if (!st->res_present)
		return b;
	put_be32(b + 4, 16);
	if (!pr_type_all_registrants(st->res_type))
		for (unsigned i = 0; i < st->n_regs; i++)
			if (st->regs[i].holder)
				put_be64(b + 8, st->regs[i].key);
	b[21] = (uint8_t)(st->res_scope << 4 | st->res_type);
	return b;
}

/* 6.15.4 REPORT CAPABILITIES, table 207. */
static uint8_t *report_caps(const struct pr_state *st, size_t *len)
{
	uint8_t *b;

	*len = 8;
	b = calloc(1, *len);
	if (!b)
		return NULL;
	put_be16(b, 8);
	/* RLR_C (REPLACE LOST RESERVATION), CRH (5.13.3 exceptions honoured by
	 * PR_CLASS_SPC2_*), SIP_C (SPEC_I_PT), ATP_C (ALL_TG_PT), PTPL_C */
	b[2] = 0x80 | 0x10 | 0x08 | 0x04 | 0x01;
	/* TMV; ALLOW COMMANDS 011b: TUR through WE and EA, MODE SENSE & co
	 * through WE (PR_CLASS_TUR / PR_CLASS_READ_INFO rows); PTPL_A */
	b[3] = (uint8_t)(0x80 | 0x3 << 4 | (st->aptpl ? 0x01 : 0));
	/* table 209: WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX | EX_AC_AR */
	b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
	b[5] = 0x01;
	return b;
}

/* 6.15.5 READ FULL STATUS, tables 210/211: one descriptor per registered
 * I_T nexus (ALL_TG_PT reported as 0: each descriptor is a single nexus,
 * which 6.15.5 permits), iSCSI TransportID padded to a multiple of 4. */
static uint8_t *read_full_status(const struct pr_state *st, size_t *len)
{
	bool ar = st->res_present && pr_type_all_registrants(st->res_type);
	size_t n = 8, off = 8;
	uint8_t *b;

	for (unsigned i = 0; i < st->n_regs; i++)
		n += 24 + pr_tid_len(&st->regs[i].itn);
	*len = n;
	b = calloc(1, n);
	if (!b)
		return NULL;
	put_be32(b, st->generation);
	put_be32(b + 4, (uint32_t)(n - 8));
	for (unsigned i = 0; i < st->n_regs; i++) {
		const struct pr_reg *r = &st->regs[i];
		bool holder = st->res_present && (ar || r->holder);
		uint8_t *d = b + off;
		size_t tl;

		put_be64(d, r->key);
		d[12] = holder ? 0x01 : 0; /* R_HOLDER */
		if (holder)
			d[13] = (uint8_t)(st->res_scope << 4 | st->res_type);
		put_be16(d + 18, r->itn.rel_tport_id);
		tl = pr_tid_encode(&r->itn, d + 24);
		put_be32(d + 20, (uint32_t)tl);
		off += 24 + tl;
	}
	return b;
}

int pr_in(const struct pr_state *st, uint8_t service_action, uint8_t *buf, uint32_t alloc_len,
	  uint32_t *out_len, struct pr_result *res)
{
	uint8_t *data;
	size_t len;

	memset(res, 0, sizeof(*res));
	*out_len = 0;
	switch ((enum pr_in_sa)(service_action & 0x1f)) {
	case PR_IN_READ_KEYS:
		data = read_keys(st, &len);
		break;
	case PR_IN_READ_RESERVATION:
		data = read_reservation(st, &len);
		break;
	case PR_IN_REPORT_CAPABILITIES:
		data = report_caps(st, &len);
		break;
	case PR_IN_READ_FULL_STATUS:
		data = read_full_status(st, &len);
		break;
	default:
		/* SPC-4 6.15.1 table 201: reserved service action */
		res->status = PR_CHECK_CONDITION;
		res->reason = PR_R_INVALID_FIELD_IN_CDB;
		res->field_valid = true;
		res->field_in_cdb = true;
		res->byte = 1;
		res->bit_valid = true;
		res->bit = 4;
		return 0;
	}
	if (!data)
		return -ENOMEM;
	len = UTIL_MIN(len, (size_t)alloc_len);
	if (len && buf)
		memcpy(buf, data, len);
	*out_len = (uint32_t)len;
	free(data);
	return 0;
}
