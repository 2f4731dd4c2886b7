/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the pr unit tests. Topology:
 *
 *   initiators A, B, C (distinct IQNs, fixed ISIDs)   target ports 1 and 2
 *        A ── port 1 (tpgt 1)      A2 = A via port 2 (tpgt 2)
 *        B ── port 1               C  ── port 1
 */
#ifndef PR_TEST_H
#define PR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "targetd/pr.h"
#include "targetd/util.h"

#define IQN_A "iqn.2026-01.test:a"
#define IQN_B "iqn.2026-01.test:b"
#define IQN_C "iqn.2026-01.test:c"

static const struct pr_nexus_id NA = {IQN_A, {0x80, 0, 0, 0, 0, 0x01}, 1, 1};
static const struct pr_nexus_id NA2 = {IQN_A, {0x80, 0, 0, 0, 0, 0x01}, 2, 2};
static const struct pr_nexus_id NB = {IQN_B, {0x80, 0, 0, 0, 0, 0x02}, 1, 1};
static const struct pr_nexus_id NC = {IQN_C, {0x80, 0, 0, 0, 0, 0x03}, 1, 1};
static const struct pr_port PORTS_ARR[] = {{1, 1}, {2, 2}};
static const struct pr_ports PORTS = {PORTS_ARR, 2};

#define F_APTPL 0x01
#define F_ALL_TG_PT 0x04
#define F_SPEC_I_PT 0x08

static inline void mk_cdb(uint8_t *cdb, uint8_t sa, uint8_t type, uint32_t plen)
{
	memset(cdb, 0, 10);
	cdb[0] = 0x5f;
	cdb[1] = sa;
	cdb[2] = type; /* scope LU = 0 */
	put_be32(cdb + 5, plen);
}

/* Run a PROUT with a raw parameter list; commit next into *st if GOOD. */
static inline struct pr_effects prout_raw(struct pr_state *st, const struct pr_nexus_id *who,
					  uint8_t sa, uint8_t scope_type, const uint8_t *param,
					  uint32_t plen)
{
	struct pr_state next;
	struct pr_effects fx;
	uint8_t cdb[10];

	mk_cdb(cdb, sa, scope_type, plen);
	assert_int_equal(pr_out(st, &next, cdb, param, plen, who, &PORTS, &fx), 0);
	if (fx.result.status == PR_GOOD) {
		pr_state_free(st);
		*st = next;
	} else {
		assert_false(fx.changed);
		assert_int_equal(fx.n_ua, 0);
		pr_state_free(&next);
	}
	return fx;
}

static inline void basic_param(uint8_t *p, uint64_t key, uint64_t sark, uint8_t flags)
{
	memset(p, 0, 24);
	put_be64(p, key);
	put_be64(p + 8, sark);
	p[20] = flags;
}

static inline struct pr_effects prout(struct pr_state *st, const struct pr_nexus_id *who,
				      uint8_t sa, uint8_t type, uint64_t key, uint64_t sark,
				      uint8_t flags)
{
	uint8_t p[24];

	basic_param(p, key, sark, flags);
	return prout_raw(st, who, sa, type, p, 24);
}

/* Expect a status (and reason) and free the effects. */
static inline void expect(struct pr_effects fx, enum pr_status s, enum pr_reason r)
{
	assert_int_equal(fx.result.status, s);
	if (s == PR_CHECK_CONDITION)
		assert_int_equal(fx.result.reason, r);
	pr_effects_free(&fx);
}
#define expect_good(fx) expect((fx), PR_GOOD, PR_R_NONE)
#define expect_conflict(fx) expect((fx), PR_RESERVATION_CONFLICT, PR_R_NONE)

static inline bool itn_is(const struct pr_itn *itn, const struct pr_nexus_id *n)
{
	return strcmp(itn->initiator, n->initiator) == 0 && itn->rel_tport_id == n->rel_tport_id &&
	    (!itn->has_isid || memcmp(itn->isid, n->isid, 6) == 0);
}

static inline bool has_ua(const struct pr_effects *fx, const struct pr_nexus_id *n, uint8_t ascq)
{
	for (unsigned i = 0; i < fx->n_ua; i++)
		if (itn_is(&fx->ua[i].itn, n) && fx->ua[i].asc == 0x2a && fx->ua[i].ascq == ascq)
			return true;
	return false;
}

static inline bool has_abort(const struct pr_effects *fx, const struct pr_nexus_id *n)
{
	for (unsigned i = 0; i < fx->n_abort; i++)
		if (itn_is(&fx->abort[i], n))
			return true;
	return false;
}

static inline const struct pr_reg *reg_of(const struct pr_state *st, const struct pr_nexus_id *n)
{
	return pr_state_find(st, n);
}

/* Register A(key 0xa), B(0xb), C(0xc) on port 1. */
static inline void register_abc(struct pr_state *st)
{
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0, 0xb, 0));
	expect_good(prout(st, &NC, PR_OUT_REGISTER, 0, 0, 0xc, 0));
}

/* Append an iSCSI TransportID (format 01b) for name/isid; returns length. */
static inline size_t put_tid(uint8_t *buf, const char *name, const uint8_t *isid)
{
	struct pr_itn itn;

	memset(&itn, 0, sizeof(itn));
	util_strlcpy(itn.initiator, name, sizeof(itn.initiator));
	if (isid) {
		memcpy(itn.isid, isid, 6);
		itn.has_isid = true;
	}
	return pr_tid_encode(&itn, buf);
}

#endif
