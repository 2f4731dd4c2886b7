/* SPDX-License-Identifier: MIT */
/* pr_state: deep copy (APTPL commits compute the new state as a copy),
 * identity matching, sense mapping. */
#include "pr_test.h"

static void design_state_copy_is_deep(void **state)
{
	struct pr_state a, b;

	(void)state;
	pr_state_init(&a, 4);
	register_abc(&a);
	assert_int_equal(pr_state_copy(&b, &a), 0);
	assert_ptr_not_equal(a.regs, b.regs);
	b.regs[0].key = 0x99;
	assert_int_equal(a.regs[0].key, 0xa);
	assert_int_equal(b.n_regs, 3);
	assert_int_equal(b.max_registrants, 4);
	pr_state_free(&a);
	pr_state_free(&b);
	pr_state_init(&a, 0);
	assert_int_equal(a.max_registrants, PR_DEFAULT_MAX_REGISTRANTS);
	assert_int_equal(pr_state_copy(&b, &a), 0);
	assert_null(b.regs);
	pr_state_free(&a);
	pr_state_free(&b);
}

static void spc4_5_13_7_format_00b_registration_matches_any_isid(void **state)
{
	struct pr_state st;
	uint8_t p[100];
	size_t tl;
	struct pr_nexus_id other = NC;

	(void)state;
	pr_state_init(&st, 8);
	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_C, NULL);
	put_be32(p + 24, (uint32_t)tl);
	expect_good(prout_raw(&st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)));
	other.isid[5] = 0x42;
	assert_non_null(pr_state_find(&st, &other));
	other.rel_tport_id = 2;
	assert_null(pr_state_find(&st, &other));
	pr_state_free(&st);
}

static void pr_reason_sense_table(void **state)
{
	uint8_t k, a, q;

	(void)state;
	pr_reason_sense(PR_R_INVALID_RELEASE, &k, &a, &q);
	assert_true(k == 0x05 && a == 0x26 && q == 0x04);
	pr_reason_sense(PR_R_INSUFFICIENT_REG_RESOURCES, &k, &a, &q);
	assert_true(k == 0x05 && a == 0x55 && q == 0x04);
	pr_reason_sense(PR_R_PARAM_LIST_LENGTH, &k, &a, &q);
	assert_true(k == 0x05 && a == 0x1a && q == 0x00);
	pr_reason_sense(PR_R_INFO_LOST, &k, &a, &q);
	assert_true(k == 0x07 && a == 0x44 && q == 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(design_state_copy_is_deep),
	    cmocka_unit_test(spc4_5_13_7_format_00b_registration_matches_any_isid),
	    cmocka_unit_test(pr_reason_sense_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
