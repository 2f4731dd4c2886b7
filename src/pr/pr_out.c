/* SPDX-License-Identifier: MIT */
/*
 * pr_out: PERSISTENT RESERVE OUT (SPC-4 6.16, 5.13.7 - 5.13.11; SPC-5
 * 5.14.11.3 REPLACE LOST RESERVATION) computed on a copy of the LU's state.
 * The caller commits (and, with APTPL, persists) the copy only when the
 * result is GOOD and fx->changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pr_internal.h"

struct out_ctx {
	struct pr_state *nx;
	const struct pr_nexus_id *who;
	const struct pr_ports *ports;
	struct pr_effects *fx;
	const uint8_t *p;
	uint32_t plen;
	uint8_t sa, scope, type;
};

/* ---- results ------------------------------------------------------------- */

static int conflict(struct out_ctx *c)
{
	c->fx->result.status = PR_RESERVATION_CONFLICT;
	return 0;
}

static int check(struct out_ctx *c, enum pr_reason r)
{
	c->fx->result.status = PR_CHECK_CONDITION;
	c->fx->result.reason = r;
	return 0;
}

static int field(struct out_ctx *c, enum pr_reason r, bool in_cdb, size_t byte, int bit)
{
	struct pr_result *res = &c->fx->result;

	check(c, r);
	res->field_valid = byte <= 0xffff;
	res->field_in_cdb = in_cdb;
	res->byte = (uint16_t)byte;
	res->bit_valid = bit >= 0;
	res->bit = bit >= 0 ? (uint8_t)bit : 0;
	return 0;
}

/* ---- effects ------------------------------------------------------------- */

static int add_ua(struct out_ctx *c, const struct pr_itn *itn, uint8_t ascq)
{
	struct pr_effects *fx = c->fx;
	struct pr_ua *n = realloc(fx->ua, sizeof(*n) * (fx->n_ua + 1));

	if (!n)
		return -ENOMEM;
	fx->ua = n;
	n[fx->n_ua].itn = *itn;
	n[fx->n_ua].asc = PR_ASC_UA;
	n[fx->n_ua].ascq = ascq;
	fx->n_ua++;
	return 0;
}

static int add_abort(struct out_ctx *c, const struct pr_itn *itn)
{
	struct pr_effects *fx = c->fx;
	struct pr_itn *n = realloc(fx->abort, sizeof(*n) * (fx->n_abort + 1));

	if (!n)
		return -ENOMEM;
	fx->abort = n;
	n[fx->n_abort++] = *itn;
	return 0;
}

/* UA for every registered I_T nexus except the requester's own. */
static int ua_all_but_self(struct out_ctx *c, uint8_t ascq)
{
	for (unsigned i = 0; i < c->nx->n_regs; i++) {
		if (pr_itn_matches(&c->nx->regs[i].itn, c->who))
			continue;
		int rc = add_ua(c, &c->nx->regs[i].itn, ascq);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- shared steps ---------------------------------------------------------- */

static bool scope_type_ok(struct out_ctx *c)
{
	/* SPC-4 6.15.3.3: only LU_SCOPE; 6.15.3.4 table 204 types */
	if (c->scope != PR_SCOPE_LU) {
		field(c, PR_R_INVALID_FIELD_IN_CDB, true, 2, 7);
		return false;
	}
	if (!pr_type_valid(c->type)) {
		field(c, PR_R_INVALID_FIELD_IN_CDB, true, 2, 3);
		return false;
	}
	return true;
}

static void release_res(struct pr_state *st)
{
	st->res_present = false;
	st->res_type = PR_TYPE_NONE;
	for (unsigned i = 0; i < st->n_regs; i++)
		st->regs[i].holder = false;
}

/* Establish a reservation of c->type held by the requester (SPC-4 5.13.10). */
static void establish_res(struct out_ctx *c)
{
	struct pr_state *st = c->nx;
	int me = pr_find_idx(st, c->who);

	release_res(st);
	st->res_present = true;
	st->res_scope = PR_SCOPE_LU;
	st->res_type = c->type;
	if (me >= 0 && !pr_type_all_registrants(c->type))
		st->regs[me].holder = true;
}

/*
 * SPC-4 5.13.11.2.3 Unregistering: remove registration idx; if it held a
 * non-all-registrants reservation, release it, and for a registrants only
 * type establish RESERVATIONS RELEASED for every other registered I_T nexus.
 * An all registrants reservation goes with its last registrant (table 71).
 */
static int unregister(struct out_ctx *c, unsigned idx)
{
	struct pr_state *st = c->nx;
	uint8_t type = st->res_type;
	bool was_holder = st->res_present && st->regs[idx].holder;

	pr_del_reg(st, idx);
	if (!st->res_present)
		return 0;
	if (pr_type_all_registrants(type)) {
		if (st->n_regs == 0)
			release_res(st);
		return 0;
	}
	if (!was_holder)
		return 0;
	release_res(st);
	if (type == PR_TYPE_WR_EX_RO || type == PR_TYPE_EX_AC_RO)
		return ua_all_but_self(c, PR_ASCQ_RESERVATIONS_RELEASED);
	return 0;
}

static void ports_for(struct out_ctx *c, bool all, uint16_t *rel, unsigned *n)
{
	/* SPC-4 6.16.3 / table 69: ALL_TG_PT registers on every target port,
	 * otherwise on the port the command arrived through. */
	if (all && c->ports && c->ports->n) {
		*n = 0;
		for (unsigned i = 0; i < c->ports->n && i < 64; i++)
			rel[(*n)++] = c->ports->port[i].rel_tport_id;
		return;
	}
	rel[0] = c->who->rel_tport_id;
	*n = 1;
}

/* ---- REGISTER / REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7) ----------- */

struct newregs {
	struct pr_reg *r;
	unsigned n;
};

static int newregs_add(struct newregs *nr, const struct pr_reg *reg)
{
	for (unsigned i = 0; i < nr->n; i++)
		if (pr_itn_overlap(&nr->r[i].itn, &reg->itn))
			return 0; /* duplicate in the request: register once */
	struct pr_reg *n = realloc(nr->r, sizeof(*n) * (nr->n + 1));
	if (!n)
		return -ENOMEM;
	nr->r = n;
	n[nr->n++] = *reg;
	return 0;
}

static bool already_registered(const struct pr_state *st, const struct pr_itn *itn)
{
	for (unsigned i = 0; i < st->n_regs; i++)
		if (pr_itn_overlap(&st->regs[i].itn, itn))
			return true;
	return false;
}

static int register_new(struct out_ctx *c, uint64_t sark, bool spec, bool atp)
{
	struct pr_state *st = c->nx;
	struct newregs nr = {0};
	struct pr_reg reg;
	uint16_t rel[64];
	unsigned nrel, rekey[64], n_rekey = 0;
	int rc = 0;

	memset(&reg, 0, sizeof(reg));
	reg.key = sark;
	reg.all_tg_pt = atp;
	pr_itn_from_nexus(&reg.itn, c->who);
	ports_for(c, atp, rel, &nrel);
	for (unsigned i = 0; i < nrel && !rc; i++) {
		int j;

		reg.itn.rel_tport_id = rel[i];
		/* ALL_TG_PT: "as if the same registration request had been
		 * received individually through each target port" (6.16.3). Where
		 * this initiator port is already registered, REGISTER (whose
		 * RESERVATION KEY is zero here) would conflict (table 67);
		 * REGISTER AND IGNORE EXISTING KEY re-keys it (table 68). */
		for (j = 0; j < (int)st->n_regs; j++)
			if (pr_itn_overlap(&st->regs[j].itn, &reg.itn))
				break;
		if (j < (int)st->n_regs) {
			if (c->sa == PR_OUT_REGISTER) {
				conflict(c);
				goto out;
			}
			rekey[n_rekey++] = (unsigned)j;
			continue;
		}
		rc = newregs_add(&nr, &reg);
	}
	if (spec && !rc) {
		/* SPC-4 6.16.3 table 215: TransportIDs follow byte 27 */
		uint32_t tlen = get_be32(c->p + 24);
		size_t off = 0;

		while (off < tlen && !rc) {
			size_t used, bad;
			struct pr_itn itn;

			if (pr_tid_parse(c->p + 28 + off, tlen - off, &itn, &used, &bad)) {
				/* SPC-4 6.16.3: malformed or truncated TransportID */
				field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 28 + off + bad, -1);
				goto out;
			}
			reg.itn = itn;
			ports_for(c, atp, rel, &nrel);
			for (unsigned i = 0; i < nrel && !rc; i++) {
				reg.itn.rel_tport_id = rel[i];
				/* SPC-4 5.13.7 table 67 note b: a specified I_T nexus
				 * that is already registered fails the whole command */
				if (already_registered(st, &reg.itn)) {
					field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 28 + off, -1);
					goto out;
				}
				rc = newregs_add(&nr, &reg);
			}
			off += used;
		}
	}
	if (rc)
		goto out;
	/* SPC-4 5.13.7 / 6.16.3: all or nothing; no room -> INSUFFICIENT
	 * REGISTRATION RESOURCES and no registration is made */
	if (nr.n > st->max_registrants || st->n_regs > st->max_registrants - nr.n) {
		check(c, PR_R_INSUFFICIENT_REG_RESOURCES);
		goto out;
	}
	for (unsigned i = 0; i < n_rekey; i++)
		st->regs[rekey[i]].key = sark;
	for (unsigned i = 0; i < nr.n && !rc; i++)
		rc = pr_add_reg(st, &nr.r[i]);
out:
	free(nr.r);
	return rc;
}

static int do_register(struct out_ctx *c, uint64_t key, uint64_t sark, bool spec, bool atp,
		       bool aptpl)
{
	struct pr_state *st = c->nx;
	int idx = pr_find_idx(st, c->who);
	int rc;

	if (idx < 0) {
		/* table 67: unregistered, RESERVATION KEY non-zero -> conflict
		 * (REGISTER AND IGNORE EXISTING KEY ignores it, table 68) */
		if (c->sa == PR_OUT_REGISTER && key != 0)
			return conflict(c);
		/* tables 67/68: unregistered, SARK zero: do nothing, GOOD */
		if (sark == 0)
			return 0;
		rc = register_new(c, sark, spec, atp);
		if (rc || c->fx->result.status != PR_GOOD)
			return rc;
	} else {
		/* table 67: registered, key mismatch -> conflict */
		if (c->sa == PR_OUT_REGISTER && key != st->regs[idx].key)
			return conflict(c);
		/* table 67 note c: SPEC_I_PT on a registered I_T nexus */
		if (spec)
			return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 20, 3);
		if (sark == 0) {
			rc = unregister(c, (unsigned)idx);
			if (rc)
				return rc;
		} else {
			/* 5.13.7: re-keying affects no other registration and no
			 * reservation; ALL_TG_PT only applies when registering */
			st->regs[idx].key = sark;
		}
	}
	st->aptpl = aptpl; /* 5.13.5.1: APTPL of the last successful REGISTER */
	st->generation++; /* 6.15.2 */
	return 0;
}

/* ---- RESERVE (SPC-4 5.13.9) ------------------------------------------------ */

static int do_reserve(struct out_ctx *c)
{
	struct pr_state *st = c->nx;

	if (!scope_type_ok(c))
		return 0;
	if (st->res_present) {
		/* 5.13.9: the holder re-reserving with the same type and scope
		 * changes nothing; a different type/scope, or anyone else,
		 * conflicts */
		if (pr_is_holder(st, c->who) && st->res_type == c->type &&
		    st->res_scope == c->scope)
			return 0;
		return conflict(c);
	}
	establish_res(c);
	return 0; /* 6.15.2: RESERVE does not change PRgeneration */
}

/* ---- RELEASE (SPC-4 5.13.11.2.2) ------------------------------------------ */

static int do_release(struct out_ctx *c)
{
	struct pr_state *st = c->nx;
	uint8_t type = st->res_type;

	/* no reservation, or not the holder: GOOD, nothing changes */
	if (!st->res_present || !pr_is_holder(st, c->who))
		return 0;
	if (c->scope != st->res_scope || c->type != st->res_type)
		return field(c, PR_R_INVALID_RELEASE, true, 2, -1);
	release_res(st);
	/* RESERVATIONS RELEASED to every other registrant for registrants only
	 * and all registrants types (NUAR is zero: we have no Control
	 * extension mode page) */
	if (type == PR_TYPE_WR_EX_RO || type == PR_TYPE_EX_AC_RO || pr_type_all_registrants(type))
		return ua_all_but_self(c, PR_ASCQ_RESERVATIONS_RELEASED);
	return 0;
}

/* ---- CLEAR (SPC-4 5.13.11.2.7) --------------------------------------------- */

static int do_clear(struct out_ctx *c)
{
	struct pr_state *st = c->nx;
	int rc = ua_all_but_self(c, PR_ASCQ_RESERVATIONS_PREEMPTED);

	if (rc)
		return rc;
	release_res(st);
	st->n_regs = 0;
	st->generation++;
	return 0;
}

/* ---- PREEMPT / PREEMPT AND ABORT (SPC-4 5.13.11.2.4 - 5.13.11.2.6) -------- */

/* Remove registrations whose key is sark (keep_self: except the requester's).
 * UA REGISTRATIONS PREEMPTED and, for PREEMPT AND ABORT, an abort for each
 * removed I_T nexus other than the requester. Returns the count removed. */
static int remove_by_key(struct out_ctx *c, uint64_t sark, bool all_but_self, bool keep_self,
			 unsigned *removed)
{
	struct pr_state *st = c->nx;
	bool abort = c->sa == PR_OUT_PREEMPT_AND_ABORT;

	*removed = 0;
	for (unsigned i = st->n_regs; i-- > 0;) {
		struct pr_reg *r = &st->regs[i];
		bool self = pr_itn_matches(&r->itn, c->who);

		if (!all_but_self && r->key != sark)
			continue;
		if (self && (keep_self || all_but_self))
			continue;
		if (!self) {
			int rc = add_ua(c, &r->itn, PR_ASCQ_REGISTRATIONS_PREEMPTED);
			if (!rc && abort)
				rc = add_abort(c, &r->itn);
			if (rc)
				return rc;
		}
		pr_del_reg(st, i);
		(*removed)++;
	}
	return 0;
}

/* 5.13.11.2.5 Removing registrations (no reservation change except that an
 * all registrants reservation goes with its last registrant, table 71). */
static int remove_registrations(struct out_ctx *c, uint64_t sark)
{
	struct pr_state *st = c->nx;
	unsigned removed;
	int rc = remove_by_key(c, sark, false, false, &removed);

	if (rc)
		return rc;
	if (!removed) /* SARK matches no registration */
		return conflict(c);
	if (st->res_present) {
		bool holder_left = pr_type_all_registrants(st->res_type) ? st->n_regs > 0 : false;

		for (unsigned i = 0; i < st->n_regs && !holder_left; i++)
			holder_left = st->regs[i].holder;
		if (!holder_left)
			release_res(st);
	}
	st->generation++;
	return 0;
}

/* 5.13.11.2.4.3 Preempting the reservation. */
static int preempt_res(struct out_ctx *c, uint64_t sark, bool all_others)
{
	struct pr_state *st = c->nx;
	uint8_t old_type = st->res_type, old_scope = st->res_scope;
	unsigned removed;
	int rc;

	if (!scope_type_ok(c))
		return 0;
	/* b) remove the registrations identified by SARK except the requester's
	 * (all others when SARK is zero under an all registrants type);
	 * e) REGISTRATIONS PREEMPTED for each nexus that lost its registration */
	rc = remove_by_key(c, sark, all_others, true, &removed);
	if (rc)
		return rc;
	/* a) release, c) establish for the preempting I_T nexus */
	establish_res(c);
	/* f) type or scope changed: RESERVATIONS RELEASED to every remaining
	 * registrant except the requester */
	if (old_type != c->type || old_scope != c->scope) {
		rc = ua_all_but_self(c, PR_ASCQ_RESERVATIONS_RELEASED);
		if (rc)
			return rc;
	}
	st->generation++;
	return 0;
}

static int do_preempt(struct out_ctx *c, uint64_t sark)
{
	struct pr_state *st = c->nx;

	/* figure 9 / table 72 */
	if (!st->res_present)
		return remove_registrations(c, sark);
	if (pr_type_all_registrants(st->res_type)) {
		if (sark == 0)
			return preempt_res(c, 0, true);
		return remove_registrations(c, sark);
	}
	if (sark == 0) /* table 72: zero SARK under a non-AR type */
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 8, -1);
	for (unsigned i = 0; i < st->n_regs; i++)
		if (st->regs[i].holder && st->regs[i].key == sark)
			return preempt_res(c, sark, false);
	return remove_registrations(c, sark);
}

/* ---- REGISTER AND MOVE (SPC-4 5.13.8, 6.16.4) ------------------------------ */

static int do_register_and_move(struct out_ctx *c)
{
	struct pr_state *st = c->nx;
	const uint8_t *p = c->p;
	uint64_t key, sark;
	bool unreg, aptpl;
	uint16_t rel;
	uint32_t tlen;
	struct pr_itn dst;
	size_t used, bad;
	int idx, j;
	bool port_ok = false;

	/* SPC-4 6.16.4 table 217: 24 bytes + TransportID */
	if (c->plen < 24)
		return check(c, PR_R_PARAM_LIST_LENGTH);
	key = get_be64(p);
	sark = get_be64(p + 8);
	unreg = p[17] & 0x02;
	aptpl = p[17] & 0x01;
	rel = get_be16(p + 18);
	tlen = get_be32(p + 20);
	if (tlen > c->plen - 24)
		return check(c, PR_R_PARAM_LIST_LENGTH);

	/* table 70 */
	idx = pr_find_idx(st, c->who);
	if (idx < 0 || st->regs[idx].key != key)
		return conflict(c);
	if (!st->res_present) /* 5.13.8: no reservation -> INVALID FIELD IN CDB */
		return check(c, PR_R_INVALID_FIELD_IN_CDB);
	if (pr_type_all_registrants(st->res_type)) /* 5.13.8: AR types conflict */
		return conflict(c);
	if (!st->regs[idx].holder)
		return conflict(c);
	if (sark == 0) /* table 70 note b */
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 8, -1);
	if (pr_tid_parse(p + 24, tlen, &dst, &used, &bad))
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 24 + bad, -1);
	/* 5.13.8: a TransportID naming the requester's own initiator port */
	if (strcasecmp(dst.initiator, c->who->initiator) == 0 &&
	    (!dst.has_isid || memcmp(dst.isid, c->who->isid, 6) == 0))
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 24, -1);
	for (unsigned i = 0; c->ports && i < c->ports->n; i++)
		port_ok |= c->ports->port[i].rel_tport_id == rel;
	if (!port_ok)
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 18, -1);
	dst.rel_tport_id = rel;

	/* c)-e) register the destination with SARK (not an error if it is
	 * already registered, with any key) */
	/* an existing registration for that initiator port (exact, else one
	 * overlapping it through a name-only TransportID) is reused, so one
	 * I_T nexus never has two registrations */
	j = -1;
	for (unsigned i = 0; i < st->n_regs; i++)
		if (pr_itn_equal(&st->regs[i].itn, &dst))
			j = (int)i;
	for (unsigned i = 0; j < 0 && i < st->n_regs; i++)
		if (pr_itn_overlap(&st->regs[i].itn, &dst) && (int)i != idx)
			j = (int)i;
	if (j < 0) {
		struct pr_reg reg;

		if (st->n_regs >= st->max_registrants)
			return check(c, PR_R_INSUFFICIENT_REG_RESOURCES);
		memset(&reg, 0, sizeof(reg));
		reg.itn = dst;
		reg.key = sark;
		if (pr_add_reg(st, &reg))
			return -ENOMEM;
		j = (int)st->n_regs - 1;
	}
	st->regs[j].key = sark;
	/* f)-g) move the reservation, same scope and type */
	st->regs[idx].holder = false;
	st->regs[j].holder = true;
	/* h) UNREG: the source nexus is unregistered (no longer the holder) */
	if (unreg)
		pr_del_reg(st, (unsigned)idx);
	st->aptpl = aptpl;
	st->generation++;
	return 0;
}

/* ---- REPLACE LOST RESERVATION (SPC-5 5.14.11.3 / SPC-4r36 5.13.11.3) ------- */

static int do_replace_lost(struct out_ctx *c, uint64_t key, uint64_t sark, bool aptpl)
{
	struct pr_state *st = c->nx;
	struct pr_reg reg;

	if (!st->lost) /* not in the lost condition */
		return check(c, PR_R_INVALID_RELEASE);
	if (key != 0) /* 6.16.3: RESERVATION KEY shall be zero */
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 0, -1);
	if (sark == 0)
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 8, -1);
	if (!scope_type_ok(c))
		return 0;
	/* a) drop every registration without UAs, b) register the requester */
	st->n_regs = 0;
	release_res(st);
	memset(&reg, 0, sizeof(reg));
	pr_itn_from_nexus(&reg.itn, c->who);
	reg.key = sark;
	if (pr_add_reg(st, &reg))
		return -ENOMEM;
	/* c)-d) new reservation; e) PRgeneration zero; f) leave the condition */
	establish_res(c);
	st->generation = 0;
	st->lost = false;
	st->aptpl = aptpl;
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int do_out(struct out_ctx *c)
{
	const uint8_t *p = c->p;
	uint64_t key, sark;
	bool spec, atp, aptpl;
	int idx;

	if (c->sa > PR_OUT_REPLACE_LOST) /* SPC-4 6.16.2 table 213 */
		return field(c, PR_R_INVALID_FIELD_IN_CDB, true, 1, 4);
	/* SPC-4 5.13.5.3.2: in the recoverable lost condition every PROUT
	 * except REPLACE LOST RESERVATION gets DATA PROTECT, 44/01 */
	if (c->nx->lost && c->sa != PR_OUT_REPLACE_LOST)
		return check(c, PR_R_INFO_LOST);
	if (c->sa == PR_OUT_REGISTER_AND_MOVE)
		return do_register_and_move(c);

	/* SPC-4 6.16.3 basic parameter list */
	if (c->plen < 24 || !p)
		return check(c, PR_R_PARAM_LIST_LENGTH);
	key = get_be64(p);
	sark = get_be64(p + 8);
	spec = p[20] & 0x08;
	atp = p[20] & 0x04;
	aptpl = p[20] & 0x01;
	/* SPEC_I_PT is valid only for REGISTER */
	if (spec && c->sa != PR_OUT_REGISTER)
		return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 20, 3);
	if (!spec && c->plen != 24) /* 6.16.2: PARAMETER LIST LENGTH shall be 24 */
		return check(c, PR_R_PARAM_LIST_LENGTH);
	if (spec) {
		/* 6.16.3: the list must hold all TransportID bytes */
		if (c->plen < 28 || get_be32(p + 24) > c->plen - 28)
			return check(c, PR_R_PARAM_LIST_LENGTH);
	}

	switch ((enum pr_out_sa)c->sa) {
	case PR_OUT_REGISTER:
	case PR_OUT_REGISTER_AND_IGNORE:
		return do_register(c, key, sark, spec, atp, aptpl);
	case PR_OUT_REPLACE_LOST:
		if (atp) /* 6.16.3 table 216: ALL_TG_PT invalid for RLR */
			return field(c, PR_R_INVALID_FIELD_IN_PARAM, false, 20, 2);
		return do_replace_lost(c, key, sark, aptpl);
	case PR_OUT_RESERVE:
	case PR_OUT_RELEASE:
	case PR_OUT_CLEAR:
	case PR_OUT_PREEMPT:
	case PR_OUT_PREEMPT_AND_ABORT:
	case PR_OUT_REGISTER_AND_MOVE:
		break;
	}
	/* 5.13.7: any other service action from an unregistered I_T nexus, or
	 * with the wrong RESERVATION KEY, completes with RESERVATION CONFLICT */
	idx = pr_find_idx(c->nx, c->who);
	if (idx < 0 || c->nx->regs[idx].key != key)
		return conflict(c);
	switch ((enum pr_out_sa)c->sa) {
	case PR_OUT_RESERVE:
		return do_reserve(c);
	case PR_OUT_RELEASE:
		return do_release(c);
	case PR_OUT_CLEAR:
		return do_clear(c);
	case PR_OUT_PREEMPT:
	case PR_OUT_PREEMPT_AND_ABORT:
		return do_preempt(c, sark);
	case PR_OUT_REGISTER:
	case PR_OUT_REGISTER_AND_IGNORE:
	case PR_OUT_REGISTER_AND_MOVE:
	case PR_OUT_REPLACE_LOST:
		break;
	}
	return 0;
}

static bool state_equal(const struct pr_state *a, const struct pr_state *b)
{
	if (a->generation != b->generation || a->aptpl != b->aptpl || a->lost != b->lost ||
	    a->res_present != b->res_present || a->res_type != b->res_type ||
	    a->res_scope != b->res_scope || a->n_regs != b->n_regs)
		return false;
	for (unsigned i = 0; i < a->n_regs; i++) {
		const struct pr_reg *x = &a->regs[i], *y = &b->regs[i];

		if (!pr_itn_equal(&x->itn, &y->itn) || x->key != y->key ||
		    x->all_tg_pt != y->all_tg_pt || x->holder != y->holder)
			return false;
	}
	return true;
}

int pr_out(const struct pr_state *cur, struct pr_state *next, const uint8_t *cdb,
	   const uint8_t *param, uint32_t param_len, const struct pr_nexus_id *who,
	   const struct pr_ports *ports, struct pr_effects *fx)
{
	struct out_ctx c = {
	    .nx = next,
	    .who = who,
	    .ports = ports,
	    .fx = fx,
	    .p = param,
	    .plen = param ? param_len : 0,
	    .sa = cdb[1] & 0x1f,
	    .scope = cdb[2] >> 4,
	    .type = cdb[2] & 0x0f,
	};
	int rc;

	memset(fx, 0, sizeof(*fx));
	if (pr_state_copy(next, cur))
		return -ENOMEM;
	rc = do_out(&c);
	if (!rc && fx->result.status != PR_GOOD) {
		/* an error or conflict changes nothing and signals nothing */
		pr_state_free(next);
		pr_effects_free(fx);
		rc = pr_state_copy(next, cur);
	}
	if (rc) {
		pr_state_free(next);
		pr_effects_free(fx);
		memset(fx, 0, sizeof(*fx));
		return rc;
	}
	fx->changed = !state_equal(cur, next);
	fx->aptpl = next->aptpl;
	fx->aptpl_changed = next->aptpl != cur->aptpl;
	return 0;
}
