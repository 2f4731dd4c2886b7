/* SPDX-License-Identifier: MIT */
/* The conflict table, cell by cell: SPC-4 5.13.1 table 65, SBC-4 4.17
 * table 13, SPC-4 5.13.3 -- every class x six types x holder / registrant /
 * non-registrant. The expectations are written out independently of the
 * row encoding in pr_access.c. */
#include "pr_test.h"

#include <stdlib.h>

enum role {
	HOLDER,
	REGISTRANT,
	NONREG
};
#define A PR_ACCESS_ALLOWED
#define C PR_ACCESS_CONFLICT
#define N PR_ACCESS_NOOP_GOOD

static const uint8_t types[6] = {PR_TYPE_WR_EX,    PR_TYPE_EX_AC,    PR_TYPE_WR_EX_RO,
				 PR_TYPE_EX_AC_RO, PR_TYPE_WR_EX_AR, PR_TYPE_EX_AC_AR};

/* expected[class][type index][role] */
static const uint8_t expected[PR_CLASS__COUNT][6][3] = {
    /*                     WE         EA         WE_RO      EA_RO      WE_AR      EA_AR */
    [PR_CLASS_ALWAYS] = {{A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}},
    [PR_CLASS_INFO] = {{A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}},
    [PR_CLASS_TUR] = {{A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}},
    [PR_CLASS_READ] = {{A, A, A}, {A, C, C}, {A, A, A}, {A, A, C}, {A, A, A}, {A, A, C}},
    [PR_CLASS_READ_INFO] = {{A, A, A}, {A, C, C}, {A, A, A}, {A, A, C}, {A, A, A}, {A, A, C}},
    [PR_CLASS_WRITE] = {{A, C, C}, {A, C, C}, {A, A, C}, {A, A, C}, {A, A, C}, {A, A, C}},
    [PR_CLASS_CONTROL] = {{A, C, C}, {A, C, C}, {A, A, C}, {A, A, C}, {A, A, C}, {A, A, C}},
    [PR_CLASS_PR_OUT] = {{A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}, {A, A, A}},
    [PR_CLASS_SPC2_RESERVE] = {{N, C, C}, {N, C, C}, {N, N, C}, {N, N, C}, {N, N, C}, {N, N, C}},
    [PR_CLASS_SPC2_RELEASE] = {{N, C, C}, {N, C, C}, {N, N, C}, {N, N, C}, {N, N, C}, {N, N, C}},
};

/* Holder A, registrant B, non-registrant C, reservation of `type`. For AR
 * types every registrant is a holder, so the registrant role is played by
 * B, which is then also a holder (5.13.10). */
static void setup_res(struct pr_state *st, uint8_t type)
{
	pr_state_init(st, 8);
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0, 0xb, 0));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, type, 0xa, 0, 0));
}

static void spc4_5_13_1_table65_sbc4_table13_every_cell(void **state)
{
	(void)state;
	for (unsigned t = 0; t < 6; t++) {
		struct pr_state st;

		setup_res(&st, types[t]);
		for (unsigned cls = 0; cls < PR_CLASS__COUNT; cls++) {
			const struct pr_nexus_id *who[3] = {&NA, &NB, &NC};

			for (unsigned r = 0; r < 3; r++) {
				uint8_t want = expected[cls][t][r];
				enum pr_access got = pr_check(&st, who[r], (enum pr_class)cls);

				if (got != want)
					fail_msg("class %u type %u role %u: got %d want %u", cls,
						 types[t], r, got, want);
			}
		}
		pr_state_free(&st);
	}
}

static void spc4_5_13_1_no_reservation_everything_allowed(void **state)
{
	struct pr_state st;

	(void)state;
	pr_state_init(&st, 8);
	expect_good(prout(&st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	for (unsigned cls = 0; cls < PR_CLASS__COUNT; cls++) {
		assert_int_equal(pr_check(&st, &NA, (enum pr_class)cls), PR_ACCESS_ALLOWED);
		assert_int_equal(pr_check(&st, &NC, (enum pr_class)cls), PR_ACCESS_ALLOWED);
	}
	pr_state_free(&st);
}

static void spc4_5_13_10_holder_other_port_is_not_holder(void **state)
{
	struct pr_state st;

	(void)state;
	setup_res(&st, PR_TYPE_EX_AC);
	/* same initiator through port 2 is a different, unregistered I_T nexus */
	assert_int_equal(pr_check(&st, &NA2, PR_CLASS_READ), PR_ACCESS_CONFLICT);
	pr_state_free(&st);
}

static void spc4_5_13_5_3_2_lost_allows_only_listed_commands(void **state)
{
	struct pr_state st;

	(void)state;
	pr_state_init(&st, 8);
	st.lost = true;
	assert_int_equal(pr_check(&st, &NA, PR_CLASS_ALWAYS), PR_ACCESS_ALLOWED);
	assert_int_equal(pr_check(&st, &NA, PR_CLASS_PR_OUT), PR_ACCESS_ALLOWED);
	assert_int_equal(pr_check(&st, &NA, PR_CLASS_READ), PR_ACCESS_LOST);
	assert_int_equal(pr_check(&st, &NA, PR_CLASS_WRITE), PR_ACCESS_LOST);
	assert_int_equal(pr_check(&st, &NA, PR_CLASS_INFO), PR_ACCESS_LOST);
	pr_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spc4_5_13_1_table65_sbc4_table13_every_cell),
	    cmocka_unit_test(spc4_5_13_1_no_reservation_everything_allowed),
	    cmocka_unit_test(spc4_5_13_10_holder_other_port_is_not_holder),
	    cmocka_unit_test(spc4_5_13_5_3_2_lost_allows_only_listed_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
