/* SPDX-License-Identifier: MIT */
/* PERSISTENT RESERVE IN encoders, SPC-4 6.15. */
#include "pr_test.h"

#include <stdlib.h>

static int setup(void **state)
{
	struct pr_state *st = malloc(sizeof(*st));

	pr_state_init(st, 8);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	pr_state_free(*state);
	free(*state);
	return 0;
}

static uint32_t prin(const struct pr_state *st, uint8_t sa, uint8_t *buf, uint32_t alloc)
{
	struct pr_result res;
	uint32_t n = 0xffffffff;

	memset(buf, 0xee, alloc);
	assert_int_equal(pr_in(st, sa, buf, alloc, &n, &res), 0);
	assert_int_equal(res.status, PR_GOOD);
	return n;
}

static void spc4_6_15_2_read_keys_lists_every_nexus(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[64];

	assert_int_equal(prin(st, PR_IN_READ_KEYS, b, 64), 8);
	assert_int_equal(get_be32(b), 0);
	assert_int_equal(get_be32(b + 4), 0);
	register_abc(st);
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0xb, 0xa, 0)); /* duplicate key */
	assert_int_equal(prin(st, PR_IN_READ_KEYS, b, 64), 32);
	assert_int_equal(get_be32(b), 4);
	assert_int_equal(get_be32(b + 4), 24);
	assert_int_equal(get_be64(b + 8), 0xa);
	assert_int_equal(get_be64(b + 16), 0xa);
	assert_int_equal(get_be64(b + 24), 0xc);
}

static void spc4_4_2_5_6_read_keys_truncated_keeps_full_length(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[64];

	register_abc(st);
	memset(b, 0xee, sizeof(b));
	assert_int_equal(prin(st, PR_IN_READ_KEYS, b, 12), 12);
	assert_int_equal(get_be32(b + 4), 24);
	assert_int_equal(b[12], 0xee); /* nothing past the allocation length */
	assert_int_equal(prin(st, PR_IN_READ_KEYS, b, 0), 0);
}

static void spc4_6_15_3_read_reservation(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[64];

	register_abc(st);
	assert_int_equal(prin(st, PR_IN_READ_RESERVATION, b, 64), 8);
	assert_int_equal(get_be32(b + 4), 0);
	expect_good(prout(st, &NB, PR_OUT_RESERVE, PR_TYPE_EX_AC_RO, 0xb, 0, 0));
	assert_int_equal(prin(st, PR_IN_READ_RESERVATION, b, 64), 24);
	assert_int_equal(get_be32(b), 3);
	assert_int_equal(get_be32(b + 4), 16);
	assert_int_equal(get_be64(b + 8), 0xb);
	assert_int_equal(b[21], PR_TYPE_EX_AC_RO);
}

static void spc4_5_13_6_3_read_reservation_all_registrants_key_zero(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[64];

	register_abc(st);
	expect_good(prout(st, &NB, PR_OUT_RESERVE, PR_TYPE_WR_EX_AR, 0xb, 0, 0));
	assert_int_equal(prin(st, PR_IN_READ_RESERVATION, b, 64), 24);
	assert_int_equal(get_be64(b + 8), 0);
	assert_int_equal(b[21], PR_TYPE_WR_EX_AR);
}

static void spc4_6_15_4_report_capabilities(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[16];

	assert_int_equal(prin(st, PR_IN_REPORT_CAPABILITIES, b, 16), 8);
	assert_int_equal(get_be16(b), 8);
	assert_int_equal(b[2], 0x80 | 0x10 | 0x08 | 0x04 | 0x01); /* RLR_C CRH SIP_C ATP_C PTPL_C */
	assert_int_equal(b[3], 0x80 | 0x30); /* TMV, ALLOW COMMANDS 011b */
	assert_int_equal(b[4], 0xea); /* type mask */
	assert_int_equal(b[5], 0x01);
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, F_APTPL));
	prin(st, PR_IN_REPORT_CAPABILITIES, b, 16);
	assert_int_equal(b[3] & 0x01, 1); /* PTPL_A */
	assert_int_equal(prin(st, PR_IN_REPORT_CAPABILITIES, b, 2), 2);
}

static void spc4_6_15_5_read_full_status_layout(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[512];
	uint32_t n;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0, 0xb, F_ALL_TG_PT));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	n = prin(st, PR_IN_READ_FULL_STATUS, b, sizeof(b));
	/* 3 descriptors (A@1, B@1, B@2), each 24 + 40-byte TransportID */
	assert_int_equal(n, 8 + 3 * (24 + 40));
	assert_int_equal(get_be32(b), 2); /* two REGISTERs; RESERVE does not count */
	assert_int_equal(get_be32(b + 4), n - 8);
	/* A: holder */
	assert_int_equal(get_be64(b + 8), 0xa);
	assert_int_equal(b[8 + 12], 0x01);
	assert_int_equal(b[8 + 13], PR_TYPE_WR_EX_RO);
	assert_int_equal(get_be16(b + 8 + 18), 1);
	assert_int_equal(get_be32(b + 8 + 20), 40);
	assert_int_equal(b[8 + 24], 0x45);
	assert_string_equal((char *)b + 8 + 28, IQN_A ",i,0x800000000001");
	/* B@2: not a holder, no scope/type */
	uint8_t *d = b + 8 + 2 * 64;
	assert_int_equal(get_be64(d), 0xb);
	assert_int_equal(d[12], 0);
	assert_int_equal(d[13], 0);
	assert_int_equal(get_be16(d + 18), 2);
	assert_string_equal((char *)d + 28, IQN_B ",i,0x800000000002");
}

static void spc4_6_15_5_read_full_status_all_registrants_every_holder(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[512];

	register_abc(st);
	expect_good(prout(st, &NC, PR_OUT_RESERVE, PR_TYPE_EX_AC_AR, 0xc, 0, 0));
	prin(st, PR_IN_READ_FULL_STATUS, b, sizeof(b));
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(b[8 + 64 * i + 12], 0x01);
		assert_int_equal(b[8 + 64 * i + 13], PR_TYPE_EX_AC_AR);
	}
}

static void spc4_6_15_5_read_full_status_truncation(void **state)
{
	struct pr_state *st = *state;
	uint8_t b[512];

	register_abc(st);
	memset(b, 0xee, sizeof(b));
	assert_int_equal(prin(st, PR_IN_READ_FULL_STATUS, b, 30), 30);
	assert_int_equal(get_be32(b + 4), 3 * 64);
	assert_int_equal(b[30], 0xee);
}

static void spc4_6_15_5_read_full_status_format_00b_registration(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[100], b[256];
	size_t tl;

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_C, NULL);
	put_be32(p + 24, (uint32_t)tl);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)));
	prin(st, PR_IN_READ_FULL_STATUS, b, sizeof(b));
	uint8_t *d = b + 8 + 24 + 40; /* second descriptor */
	assert_int_equal(d[24], 0x05);
	assert_int_equal(get_be32(d + 20), 24);
	assert_string_equal((char *)d + 28, IQN_C);
}

static void spc4_6_15_1_reserved_service_action_invalid_field_in_cdb(void **state)
{
	struct pr_state *st = *state;
	struct pr_result res;
	uint8_t b[8];
	uint32_t n;

	assert_int_equal(pr_in(st, 0x04, b, 8, &n, &res), 0);
	assert_int_equal(res.status, PR_CHECK_CONDITION);
	assert_int_equal(res.reason, PR_R_INVALID_FIELD_IN_CDB);
	assert_int_equal(res.byte, 1);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(spc4_6_15_2_read_keys_lists_every_nexus),
	    T(spc4_4_2_5_6_read_keys_truncated_keeps_full_length),
	    T(spc4_6_15_3_read_reservation),
	    T(spc4_5_13_6_3_read_reservation_all_registrants_key_zero),
	    T(spc4_6_15_4_report_capabilities),
	    T(spc4_6_15_5_read_full_status_layout),
	    T(spc4_6_15_5_read_full_status_all_registrants_every_holder),
	    T(spc4_6_15_5_read_full_status_truncation),
	    T(spc4_6_15_5_read_full_status_format_00b_registration),
	    T(spc4_6_15_1_reserved_service_action_invalid_field_in_cdb),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
