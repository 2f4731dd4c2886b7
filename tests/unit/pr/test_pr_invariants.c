/* SPDX-License-Identifier: MIT */
/* Randomised PROUT sequences (fixed seed) from four initiator ports, with
 * valid and garbage parameter lists, checking after every command the
 * invariants SPC-4 5.13.10 and 6.15.2 imply, and that the APTPL text
 * round-trips. Cheap fuzzing that runs in ctest (and under ASan). */
#include "pr_test.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void check_invariants(const struct pr_state *st)
{
	unsigned holders = 0;

	assert_true(st->n_regs <= st->max_registrants);
	for (unsigned i = 0; i < st->n_regs; i++) {
		holders += st->regs[i].holder;
		assert_true(st->regs[i].key != 0); /* a zero key unregisters */
		for (unsigned j = i + 1; j < st->n_regs; j++) {
			const struct pr_itn *a = &st->regs[i].itn, *b = &st->regs[j].itn;
			bool same = strcmp(a->initiator, b->initiator) == 0 &&
			    a->rel_tport_id == b->rel_tport_id && a->has_isid && b->has_isid &&
			    memcmp(a->isid, b->isid, 6) == 0;
			assert_false(same);
		}
	}
	if (!st->res_present) {
		assert_int_equal(holders, 0);
	} else if (pr_type_all_registrants(st->res_type)) {
		assert_int_equal(holders, 0);
		assert_true(st->n_regs > 0); /* table 71 */
	} else {
		assert_int_equal(holders, 1); /* 5.13.10 */
	}
}

static void roundtrip(const struct pr_state *st)
{
	struct pr_state b;
	unsigned line;
	const char *msg;
	char *text;
	size_t len;

	assert_int_equal(pr_state_encode(st, &text, &len), 0);
	if (pr_state_decode(text, len, st->max_registrants, &b, &line, &msg))
		fail_msg("decode: line %u: %s\n%s", line, msg, text);
	assert_int_equal(b.n_regs, st->n_regs);
	assert_int_equal(b.res_present, st->res_present);
	assert_int_equal(b.res_type, st->res_type);
	assert_int_equal(b.aptpl, st->aptpl);
	free(text);
	pr_state_free(&b);
}

static void spc4_5_13_random_sequences_keep_invariants(void **state)
{
	static const struct pr_nexus_id *who[] = {&NA, &NA2, &NB, &NC};
	static const uint8_t types[] = {0, 1, 2, 3, 5, 6, 7, 8, 9};
	static const uint64_t keys[] = {0, 0xa, 0xb, 0xc};
	struct pr_state st;
	unsigned good = 0;

	(void)state;
	if (getenv("PR_SEED")) /* explore: PR_SEED=n unit_pr_test_pr_invariants */
		rng = strtoull(getenv("PR_SEED"), NULL, 0) | 1;
	pr_state_init(&st, 6);
	for (unsigned i = 0; i < 20000; i++) {
		const struct pr_nexus_id *w = who[rnd() % 4];
		uint8_t sa = (uint8_t)(rnd() % 10), cdb[10];
		uint8_t p[256];
		uint32_t plen = 24, gen = st.generation;
		struct pr_state next;
		struct pr_effects fx;

		const struct pr_reg *mine = pr_state_find(&st, w);
		uint64_t key = mine && rnd() % 4 ? mine->key : keys[rnd() % 4];

		basic_param(p, key, keys[rnd() % 4],
			    (uint8_t)((rnd() & 0x05) | (rnd() % 8 ? 0 : 0x08)));
		if (sa == PR_OUT_REGISTER_AND_MOVE) {
			const struct pr_nexus_id *d = who[rnd() % 4];

			p[16] = 0;
			p[17] = (uint8_t)(rnd() & 3);
			put_be16(p + 18, (uint16_t)(1 + rnd() % 3));
			plen = 24 +
			    (uint32_t)put_tid(p + 24, d->initiator, rnd() % 4 ? d->isid : NULL);
			put_be32(p + 20, plen - 24);
		} else if (p[20] & F_SPEC_I_PT) {
			const struct pr_nexus_id *d = who[rnd() % 4];
			uint32_t tl = (uint32_t)put_tid(p + 28, d->initiator, d->isid);

			put_be32(p + 24, tl);
			plen = 28 + tl;
		}
		if (rnd() % 8 == 0) { /* garbage */
			for (unsigned k = 0; k < sizeof(p); k++)
				p[k] = (uint8_t)rnd();
			plen = rnd() % sizeof(p);
		}
		mk_cdb(cdb, sa, types[rnd() % 9] | (rnd() % 16 == 0 ? 0x10 : 0), plen);
		if (rnd() % 2000 == 0)
			st.lost = true; /* cleared by a REPLACE LOST RESERVATION */
		assert_int_equal(pr_out(&st, &next, cdb, p, plen, w, &PORTS, &fx), 0);
		if (fx.result.status == PR_GOOD) {
			good++;
			if (sa == PR_OUT_RESERVE || sa == PR_OUT_RELEASE)
				assert_int_equal(next.generation, gen); /* 6.15.2 */
			pr_state_free(&st);
			st = next;
		} else {
			assert_false(fx.changed);
			assert_int_equal(fx.n_ua + fx.n_abort, 0);
			pr_state_free(&next);
		}
		pr_effects_free(&fx);
		check_invariants(&st);
		if (i % 97 == 0)
			roundtrip(&st);
	}
	printf("# %u of 20000 commands GOOD\n", good);
	assert_true(good > 2000);
	pr_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spc4_5_13_random_sequences_keep_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
