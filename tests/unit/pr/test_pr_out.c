/* SPDX-License-Identifier: MIT */
/* PERSISTENT RESERVE OUT service actions, one test per SPC-4 rule. */
#include "pr_test.h"

#include <stdio.h>
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

/* ---- REGISTER / REGISTER AND IGNORE EXISTING KEY: SPC-4 5.13.7 tables 67/68 */

static void spc4_5_13_7_t67_unregistered_nonzero_reservation_key_conflicts(void **state)
{
	struct pr_state *st = *state;

	expect_conflict(prout(st, &NA, PR_OUT_REGISTER, 0, 0x1, 0xa, 0));
	assert_int_equal(st->n_regs, 0);
	assert_int_equal(st->generation, 0);
}

static void spc4_5_13_7_t67_unregistered_zero_sark_does_nothing(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx = prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0, 0);

	assert_false(fx.changed);
	expect_good(fx);
	assert_int_equal(st->n_regs, 0);
	assert_int_equal(st->generation, 0);
}

static void spc4_5_13_7_t67_register_increments_prgeneration(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx = prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0);

	assert_true(fx.changed);
	expect_good(fx);
	assert_int_equal(st->n_regs, 1);
	assert_int_equal(reg_of(st, &NA)->key, 0xa);
	assert_int_equal(st->generation, 1);
	assert_null(reg_of(st, &NA2)); /* a different target port is another I_T nexus */
}

static void spc4_5_13_7_t67_registered_key_mismatch_conflicts(void **state)
{
	struct pr_state *st = *state;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_conflict(prout(st, &NA, PR_OUT_REGISTER, 0, 0xbad, 0xb, 0));
	assert_int_equal(reg_of(st, &NA)->key, 0xa);
	assert_int_equal(st->generation, 1);
}

static void spc4_5_13_7_t67_registered_rekey_and_unregister(void **state)
{
	struct pr_state *st = *state;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0xaa, 0));
	assert_int_equal(reg_of(st, &NA)->key, 0xaa);
	assert_int_equal(st->generation, 2);
	/* re-registering with the same key is not an error and still counts */
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0xaa, 0xaa, 0));
	assert_int_equal(st->generation, 3);
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0xaa, 0, 0));
	assert_null(reg_of(st, &NA));
	assert_int_equal(st->generation, 4);
}

static void spc4_5_13_7_t67_registered_spec_i_pt_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[128];
	size_t tl;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	basic_param(p, 0xa, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_B, NB.isid);
	put_be32(p + 24, (uint32_t)tl);
	struct pr_effects fx = prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl));
	assert_true(fx.result.field_valid);
	assert_int_equal(fx.result.byte, 20);
	assert_int_equal(fx.result.bit, 3);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_5_13_7_t68_register_and_ignore_existing_key(void **state)
{
	struct pr_state *st = *state;

	/* unregistered: key ignored, registers */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0x1234, 0xa, 0));
	assert_int_equal(reg_of(st, &NA)->key, 0xa);
	/* registered: key ignored, re-keys */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0x9999, 0xb, 0));
	assert_int_equal(reg_of(st, &NA)->key, 0xb);
	/* zero: unregisters */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0x9999, 0, 0));
	assert_null(reg_of(st, &NA));
	assert_int_equal(st->generation, 3);
	/* unregistered + zero: nothing */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0, 0));
	assert_int_equal(st->generation, 3);
}

static void spc4_5_13_7_t69_riek_spec_i_pt_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[28] = {0};

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, p, 28), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_6_16_3_spec_i_pt_on_reserve_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[28] = {0};

	register_abc(st);
	basic_param(p, 0xa, 0, F_SPEC_I_PT);
	expect(prout_raw(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, p, 28), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_6_16_3_all_tg_pt_registers_every_target_port(void **state)
{
	struct pr_state *st = *state;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, F_ALL_TG_PT));
	assert_int_equal(st->n_regs, 2);
	assert_non_null(reg_of(st, &NA));
	assert_non_null(reg_of(st, &NA2));
	assert_true(reg_of(st, &NA2)->all_tg_pt);
	assert_int_equal(st->generation, 1);
	/* each I_T nexus is its own registration: unregistering one leaves
	 * the other (5.13.7: a registration has no effect on others) */
	expect_good(prout(st, &NA2, PR_OUT_REGISTER, 0, 0xa, 0, 0));
	assert_null(reg_of(st, &NA2));
	assert_non_null(reg_of(st, &NA));
}

static void spc4_6_16_3_all_tg_pt_with_a_port_already_registered(void **state)
{
	struct pr_state *st = *state;

	expect_good(prout(st, &NA2, PR_OUT_REGISTER, 0, 0, 0x2, 0));
	/* REGISTER through port 1 with ALL_TG_PT: as if sent through port 2
	 * too, where the nexus is registered and the key (0) mismatches */
	expect_conflict(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, F_ALL_TG_PT));
	assert_null(reg_of(st, &NA));
	/* REGISTER AND IGNORE EXISTING KEY re-keys port 2, registers port 1 */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xa, F_ALL_TG_PT));
	assert_int_equal(st->n_regs, 2);
	assert_int_equal(reg_of(st, &NA)->key, 0xa);
	assert_int_equal(reg_of(st, &NA2)->key, 0xa);
}

static void spc4_6_16_3_spec_i_pt_registers_each_transportid(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[200];
	size_t tl = 0;

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl += put_tid(p + 28 + tl, IQN_B, NB.isid);
	tl += put_tid(p + 28 + tl, IQN_C, NULL); /* format 00b: any ISID */
	put_be32(p + 24, (uint32_t)tl);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)));
	assert_int_equal(st->n_regs, 3);
	assert_int_equal(reg_of(st, &NA)->key, 0xa);
	assert_int_equal(reg_of(st, &NB)->key, 0xa);
	assert_int_equal(reg_of(st, &NC)->key, 0xa);
	assert_false(reg_of(st, &NC)->itn.has_isid);
	assert_int_equal(st->generation, 1);
}

static void spc4_6_16_3_spec_i_pt_all_or_nothing_if_one_is_registered(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[200];
	size_t tl = 0;

	expect_good(prout(st, &NC, PR_OUT_REGISTER, 0, 0, 0xc, 0));
	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl += put_tid(p + 28 + tl, IQN_B, NB.isid);
	tl += put_tid(p + 28 + tl, IQN_C, NC.isid);
	put_be32(p + 24, (uint32_t)tl);
	struct pr_effects fx = prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl));
	assert_int_equal(fx.result.byte, 28 + tl / 2); /* points at C's TransportID */
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
	assert_int_equal(st->n_regs, 1);
	assert_null(reg_of(st, &NA));
	assert_null(reg_of(st, &NB));
	assert_int_equal(st->generation, 1);
}

static void spc4_5_13_7_spec_i_pt_insufficient_resources_registers_none(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[400];
	size_t tl = 0;
	char name[32];

	st->max_registrants = 3;
	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "iqn.2026-01.test:x%d", i);
		tl += put_tid(p + 28 + tl, name, NULL);
	}
	put_be32(p + 24, (uint32_t)tl);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)), PR_CHECK_CONDITION,
	       PR_R_INSUFFICIENT_REG_RESOURCES);
	assert_int_equal(st->n_regs, 0);
}

static void spc4_5_13_7_insufficient_registration_resources_at_limit(void **state)
{
	struct pr_state *st = *state;

	st->max_registrants = 2;
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0, 0xb, 0));
	expect(prout(st, &NC, PR_OUT_REGISTER, 0, 0, 0xc, 0), PR_CHECK_CONDITION,
	       PR_R_INSUFFICIENT_REG_RESOURCES);
	/* ALL_TG_PT needing two slots fails whole */
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0xb, 0, 0));
	expect(prout(st, &NC, PR_OUT_REGISTER, 0, 0, 0xc, F_ALL_TG_PT), PR_CHECK_CONDITION,
	       PR_R_INSUFFICIENT_REG_RESOURCES);
	assert_int_equal(st->n_regs, 1);
}

static void spc4_6_16_3_spec_i_pt_truncated_transportid_invalid_field(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[200];
	size_t tl;

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_B, NB.isid);
	/* claim 8 bytes fewer than the TransportID needs */
	put_be32(p + 24, (uint32_t)(tl - 8));
	struct pr_effects fx = prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl - 8));
	assert_true(fx.result.field_valid);
	assert_false(fx.result.field_in_cdb);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
	assert_int_equal(st->n_regs, 0);
}

static void spc4_6_16_3_spec_i_pt_bad_protocol_id_invalid_field(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[200];
	size_t tl;

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_B, NB.isid);
	p[28] = 0x40 | 0x0; /* FC protocol identifier */
	put_be32(p + 24, (uint32_t)tl);
	struct pr_effects fx = prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl));
	assert_int_equal(fx.result.byte, 28);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_6_16_3_spec_i_pt_list_shorter_than_tid_length(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[200];
	size_t tl;

	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_B, NB.isid);
	put_be32(p + 24, (uint32_t)tl);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl - 4)),
	       PR_CHECK_CONDITION, PR_R_PARAM_LIST_LENGTH);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, 26), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
}

static void spc4_6_16_2_parameter_list_length_must_be_24(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[32] = {0};

	basic_param(p, 0, 0xa, 0);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, 23), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, 32), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER, 0, NULL, 0), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
}

static void spc4_6_16_2_reserved_service_action_invalid_field_in_cdb(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx = prout(st, &NA, 0x09, 0, 0, 0xa, 0);

	assert_true(fx.result.field_in_cdb);
	assert_int_equal(fx.result.byte, 1);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_CDB);
}

static void spc4_5_13_5_1_aptpl_activation_reported(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx = prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, F_APTPL);

	assert_true(fx.aptpl_changed);
	assert_true(fx.aptpl);
	expect_good(fx);
	assert_true(st->aptpl);
	/* RESERVE ignores APTPL */
	fx = prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0);
	assert_false(fx.aptpl_changed);
	expect_good(fx);
	assert_true(st->aptpl);
	fx = prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0xa, 0);
	assert_true(fx.aptpl_changed);
	assert_false(fx.aptpl);
	expect_good(fx);
}

static void design_identity_by_value_survives_relogin(void **state)
{
	struct pr_state *st = *state;
	char name[64];
	struct pr_nexus_id again;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	/* a new session of the same initiator port: a different string
	 * buffer, same name/ISID/port, different case in the IQN */
	strcpy(name, "IQN.2026-01.TEST:A");
	again = NA;
	again.initiator = name;
	assert_non_null(reg_of(st, &again));
	expect_good(prout(st, &again, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	/* another ISID of the same initiator is another I_T nexus */
	again.isid[5] = 0x77;
	assert_null(reg_of(st, &again));
}

/* ---- RESERVE: SPC-4 5.13.9 ----------------------------------------------- */

static void spc4_5_13_9_reserve_unregistered_or_wrong_key_conflicts(void **state)
{
	struct pr_state *st = *state;

	expect_conflict(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0, 0, 0));
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_conflict(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xb, 0, 0));
	assert_false(st->res_present);
}

static void spc4_6_15_2_reserve_does_not_change_prgeneration(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xa, 0, 0));
	assert_true(st->res_present);
	assert_int_equal(st->res_type, PR_TYPE_EX_AC);
	assert_true(reg_of(st, &NA)->holder);
	assert_int_equal(st->generation, 3);
	expect_good(prout(st, &NA, PR_OUT_RELEASE, PR_TYPE_EX_AC, 0xa, 0, 0));
	assert_int_equal(st->generation, 3);
}

static void spc4_5_13_9_holder_same_type_good_other_type_conflict(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0);
	assert_false(fx.changed);
	expect_good(fx);
	expect_conflict(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xa, 0, 0));
	expect_conflict(prout(st, &NB, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xb, 0, 0));
	assert_int_equal(st->res_type, PR_TYPE_WR_EX);
}

static void spc4_6_15_3_reserve_bad_type_or_scope_invalid_field_in_cdb(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	fx = prout(st, &NA, PR_OUT_RESERVE, 0x2, 0xa, 0, 0);
	assert_int_equal(fx.result.byte, 2);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_CDB);
	fx = prout(st, &NA, PR_OUT_RESERVE, 0x10 | PR_TYPE_WR_EX, 0xa, 0, 0);
	assert_int_equal(fx.result.bit, 7);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_CDB);
	assert_false(st->res_present);
}

static void spc4_5_13_10_all_registrants_every_registrant_is_holder(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NB, PR_OUT_RESERVE, PR_TYPE_WR_EX_AR, 0xb, 0, 0));
	assert_true(pr_is_holder(st, &NA));
	assert_true(pr_is_holder(st, &NC));
	/* any holder may re-reserve with the same type */
	expect_good(prout(st, &NC, PR_OUT_RESERVE, PR_TYPE_WR_EX_AR, 0xc, 0, 0));
	/* the reservation persists until the last registrant goes (table 71) */
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0xb, 0, 0));
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0, 0));
	assert_true(st->res_present);
	expect_good(prout(st, &NC, PR_OUT_REGISTER, 0, 0xc, 0, 0));
	assert_false(st->res_present);
}

/* ---- RELEASE: SPC-4 5.13.11.2.2 -------------------------------------------- */

static void spc4_5_13_11_2_2_release_without_reservation_or_by_non_holder_good(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xb, 0, 0);
	assert_false(fx.changed);
	expect_good(fx);
	assert_true(st->res_present);
	expect_conflict(prout(st, &NB, PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xbad, 0, 0));
}

static void spc4_5_13_11_2_2_release_type_mismatch_invalid_release(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect(prout(st, &NA, PR_OUT_RELEASE, PR_TYPE_EX_AC, 0xa, 0, 0), PR_CHECK_CONDITION,
	       PR_R_INVALID_RELEASE);
	assert_true(st->res_present);
}

static void spc4_5_13_11_2_2_release_registrants_only_ua_to_others(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_RO, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_RELEASE, PR_TYPE_EX_AC_RO, 0xa, 0, 0);
	assert_int_equal(fx.n_ua, 2);
	assert_true(has_ua(&fx, &NB, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_false(has_ua(&fx, &NA, PR_ASCQ_RESERVATIONS_RELEASED));
	expect_good(fx);
	assert_false(st->res_present);
	assert_int_equal(st->n_regs, 3); /* b) no registration removed */
}

static void spc4_5_13_11_2_2_release_all_registrants_ua_to_others(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_AR, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_RELEASE, PR_TYPE_EX_AC_AR, 0xb, 0, 0);
	assert_int_equal(fx.n_ua, 2);
	assert_true(has_ua(&fx, &NA, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_RELEASED));
	expect_good(fx);
}

static void spc4_5_13_11_2_2_release_write_exclusive_no_ua(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xa, 0, 0);
	assert_int_equal(fx.n_ua, 0);
	expect_good(fx);
	assert_false(st->res_present);
}

/* ---- Unregistering: SPC-4 5.13.11.2.3 -------------------------------------- */

static void spc4_5_13_11_2_3_unregister_ro_holder_releases_with_ua(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0, 0);
	assert_int_equal(fx.n_ua, 2);
	assert_true(has_ua(&fx, &NB, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_RELEASED));
	expect_good(fx);
	assert_false(st->res_present);
	assert_int_equal(st->generation, 4);
}

static void spc4_5_13_11_2_3_unregister_we_holder_releases_silently(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0, 0);
	assert_int_equal(fx.n_ua, 0);
	expect_good(fx);
	assert_false(st->res_present);
}

static void spc4_5_13_11_2_3_unregister_non_holder_keeps_reservation(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_RO, 0xa, 0, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0xb, 0, 0));
	assert_true(st->res_present);
	assert_true(pr_is_holder(st, &NA));
}

static void spc4_5_13_7_rekey_holder_keeps_reservation(void **state)
{
	struct pr_state *st = *state;
	uint8_t buf[24];
	uint32_t n;
	struct pr_result res;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0xaa, 0));
	assert_true(pr_is_holder(st, &NA));
	assert_int_equal(pr_in(st, PR_IN_READ_RESERVATION, buf, sizeof(buf), &n, &res), 0);
	assert_int_equal(get_be64(buf + 8), 0xaa);
}

/* ---- CLEAR: SPC-4 5.13.11.2.7 ---------------------------------------------- */

static void spc4_5_13_11_2_7_clear_removes_all_with_ua_preempted(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect_conflict(prout(st, &NB, PR_OUT_CLEAR, 0, 0xbad, 0, 0));
	fx = prout(st, &NB, PR_OUT_CLEAR, 0, 0xb, 0, 0);
	assert_int_equal(fx.n_ua, 2);
	assert_true(has_ua(&fx, &NA, PR_ASCQ_RESERVATIONS_PREEMPTED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_PREEMPTED));
	expect_good(fx);
	assert_int_equal(st->n_regs, 0);
	assert_false(st->res_present);
	assert_int_equal(st->generation, 4);
	/* unregistered CLEAR conflicts (table 66) */
	expect_conflict(prout(st, &NB, PR_OUT_CLEAR, 0, 0, 0, 0));
}

/* ---- PREEMPT: SPC-4 5.13.11.2.4 - 5.13.11.2.6, table 72, figure 9 ----------- */

static void spc4_5_13_11_2_4_3_preempt_holder_takes_reservation(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT, PR_TYPE_WR_EX_RO, 0xb, 0xa, 0);
	assert_true(has_ua(&fx, &NA, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	assert_int_equal(fx.n_ua, 1); /* same type: no RESERVATIONS RELEASED */
	assert_int_equal(fx.n_abort, 0);
	expect_good(fx);
	assert_null(reg_of(st, &NA));
	assert_true(pr_is_holder(st, &NB));
	assert_false(pr_is_holder(st, &NC));
	assert_int_equal(st->generation, 4);
}

static void spc4_5_13_11_2_4_3_preempt_type_change_ua_released_to_remaining(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT, PR_TYPE_EX_AC, 0xb, 0xa, 0);
	assert_true(has_ua(&fx, &NA, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_false(has_ua(&fx, &NB, PR_ASCQ_RESERVATIONS_RELEASED));
	assert_int_equal(fx.n_ua, 2);
	expect_good(fx);
	assert_int_equal(st->res_type, PR_TYPE_EX_AC);
}

static void spc4_5_13_11_2_4_3_self_preempt_keeps_registration(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	/* fence_scsi: B also registered with A's key (stale) */
	expect_good(prout(st, &NB, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xa, 0));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	fx = prout(st, &NA, PR_OUT_PREEMPT, PR_TYPE_WR_EX_RO, 0xa, 0xa, 0);
	assert_true(has_ua(&fx, &NB, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	assert_false(has_ua(&fx, &NA, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	expect_good(fx);
	assert_non_null(reg_of(st, &NA));
	assert_null(reg_of(st, &NB));
	assert_true(pr_is_holder(st, &NA));
	assert_int_equal(st->n_regs, 2);
}

static void spc4_5_13_11_2_5_preempt_non_holder_key_removes_registrations(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT, PR_TYPE_EX_AC /* ignored */, 0xb, 0xc, 0);
	assert_int_equal(fx.n_ua, 1);
	assert_true(has_ua(&fx, &NC, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	expect_good(fx);
	assert_null(reg_of(st, &NC));
	assert_true(pr_is_holder(st, &NA));
	assert_int_equal(st->res_type, PR_TYPE_WR_EX);
	assert_int_equal(st->generation, 4);
}

static void spc4_5_13_11_2_5_preempt_without_reservation_removes(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_PREEMPT, 0, 0xa, 0xb, 0));
	assert_null(reg_of(st, &NB));
	assert_false(st->res_present);
}

static void spc4_5_13_11_2_5_preempt_unknown_key_conflicts(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_conflict(prout(st, &NA, PR_OUT_PREEMPT, 0, 0xa, 0x1234, 0));
	expect_conflict(prout(st, &NA, PR_OUT_PREEMPT, 0, 0xa, 0, 0)); /* no reservation */
	expect_conflict(prout(st, &NA, PR_OUT_PREEMPT, 0, 0xbad, 0xb, 0));
	assert_int_equal(st->generation, 3);
}

static void spc4_5_13_11_2_5_preempt_own_key_removes_own_registration(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	fx = prout(st, &NA, PR_OUT_PREEMPT, 0, 0xa, 0xa, 0);
	assert_int_equal(fx.n_ua, 0); /* no UA for the requester */
	expect_good(fx);
	assert_null(reg_of(st, &NA));
}

static void spc4_table72_zero_sark_under_non_ar_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT, PR_TYPE_EX_AC, 0xb, 0, 0);
	assert_int_equal(fx.result.byte, 8);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_table72_zero_sark_under_ar_preempts_everyone(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_AR, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_EX_AC, 0xb, 0, 0);
	assert_true(has_ua(&fx, &NA, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	assert_true(has_ua(&fx, &NC, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	assert_int_equal(fx.n_ua, 2);
	assert_true(has_abort(&fx, &NA));
	assert_true(has_abort(&fx, &NC));
	assert_false(has_abort(&fx, &NB));
	expect_good(fx);
	assert_int_equal(st->n_regs, 1);
	assert_int_equal(st->res_type, PR_TYPE_EX_AC);
	assert_true(pr_is_holder(st, &NB));
}

static void spc4_table72_nonzero_sark_under_ar_removes_registrations(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_AR, 0xa, 0, 0));
	expect_good(prout(st, &NB, PR_OUT_PREEMPT, PR_TYPE_EX_AC_AR, 0xb, 0xa, 0));
	assert_null(reg_of(st, &NA));
	assert_true(st->res_present);
	assert_int_equal(st->res_type, PR_TYPE_EX_AC_AR);
}

static void spc4_5_13_11_2_6_preempt_and_abort_aborts_victims_only(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(
	    prout(st, &NC, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xa, 0)); /* C shares A's key */
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	fx = prout(st, &NB, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WR_EX_RO, 0xb, 0xa, 0);
	assert_int_equal(fx.n_abort, 2);
	assert_true(has_abort(&fx, &NA));
	assert_true(has_abort(&fx, &NC));
	assert_false(has_abort(&fx, &NB));
	expect_good(fx);
	assert_int_equal(st->n_regs, 1);
}

static void spc4_5_13_11_2_4_preempt_bad_type_invalid_field_in_cdb(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect(prout(st, &NB, PR_OUT_PREEMPT, 0x4, 0xb, 0xa, 0), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_CDB);
	assert_non_null(reg_of(st, &NA));
}

/* ---- REGISTER AND MOVE: SPC-4 5.13.8 table 70, 6.16.4 ---------------------- */

static uint32_t ram_param(uint8_t *p, uint64_t key, uint64_t sark, bool unreg, uint16_t rel,
			  const char *name, const uint8_t *isid)
{
	size_t tl;

	memset(p, 0, 24);
	put_be64(p, key);
	put_be64(p + 8, sark);
	p[17] = unreg ? 0x02 : 0;
	put_be16(p + 18, rel);
	tl = put_tid(p + 24, name, isid);
	put_be32(p + 20, (uint32_t)tl);
	return (uint32_t)(24 + tl);
}

static void spc4_5_13_8_t70_ram_unregistered_or_non_holder_conflicts(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	n = ram_param(p, 0xc, 0xc, false, 1, IQN_B, NB.isid);
	expect_conflict(prout_raw(st, &NC, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	expect_conflict(prout_raw(st, &NC, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
	n = ram_param(p, 0xbad, 0xb, false, 1, IQN_B, NB.isid);
	expect_conflict(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
}

static void spc4_5_13_8_ram_without_reservation_invalid_field_in_cdb(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	n = ram_param(p, 0xa, 0xb, false, 1, IQN_B, NB.isid);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_CDB);
}

static void spc4_5_13_8_ram_all_registrants_conflicts(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_AR, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xb, false, 1, IQN_B, NB.isid);
	expect_conflict(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
}

static void spc4_5_13_8_t70_ram_zero_sark_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0, false, 1, IQN_B, NB.isid);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_5_13_8_ram_same_transportid_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xa, false, 2, IQN_A, NA.isid);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM);
	n = ram_param(p, 0xa, 0xa, false, 1, IQN_A, NULL);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM);
	assert_true(pr_is_holder(st, &NA));
}

static void spc4_6_16_4_ram_unknown_relative_port_invalid_field_in_param(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xb, false, 9, IQN_B, NB.isid);
	struct pr_effects fx = prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n);
	assert_int_equal(fx.result.byte, 18);
	expect(fx, PR_CHECK_CONDITION, PR_R_INVALID_FIELD_IN_PARAM);
}

static void spc4_6_16_4_ram_short_list_parameter_list_length_error(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xb, false, 1, IQN_B, NB.isid);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n - 4), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
	expect(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, 20), PR_CHECK_CONDITION,
	       PR_R_PARAM_LIST_LENGTH);
}

static void spc4_5_13_8_ram_registers_destination_and_moves(void **state)
{
	struct pr_state *st = *state;
	struct pr_nexus_id d = NC;
	uint8_t p[300];
	uint32_t n;

	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_RO, 0xa, 0, 0));
	d.rel_tport_id = 2;
	n = ram_param(p, 0xa, 0xd, false, 2, IQN_C, NC.isid);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
	assert_int_equal(reg_of(st, &d)->key, 0xd);
	assert_true(pr_is_holder(st, &d));
	assert_false(pr_is_holder(st, &NA));
	assert_non_null(reg_of(st, &NA)); /* UNREG=0 keeps the source */
	assert_int_equal(st->res_type, PR_TYPE_EX_AC_RO);
	assert_int_equal(st->generation, 2);
}

static void spc4_5_13_8_ram_unreg_and_already_registered_destination(void **state)
{
	struct pr_state *st = *state;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xbb, true, 1, IQN_B, NB.isid);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
	assert_null(reg_of(st, &NA));
	assert_int_equal(reg_of(st, &NB)->key, 0xbb); /* key replaced, not an error */
	assert_true(pr_is_holder(st, &NB));
	assert_true(st->res_present);
	assert_int_equal(st->n_regs, 2);
}

/* ---- lost reservations: SPC-4 5.13.5.3, REPLACE LOST RESERVATION ------------ */

static void spc4_5_13_11_3_replace_lost_without_loss_invalid_release(void **state)
{
	struct pr_state *st = *state;

	expect(prout(st, &NA, PR_OUT_REPLACE_LOST, PR_TYPE_WR_EX, 0, 0xa, 0), PR_CHECK_CONDITION,
	       PR_R_INVALID_RELEASE);
}

static void spc4_5_13_5_3_2_lost_condition_blocks_prout(void **state)
{
	struct pr_state *st = *state;

	register_abc(st);
	st->lost = true;
	expect(prout(st, &NA, PR_OUT_REGISTER, 0, 0xa, 0xa, 0), PR_CHECK_CONDITION, PR_R_INFO_LOST);
	assert_int_equal(pr_check(st, &NA, PR_CLASS_READ), PR_ACCESS_LOST);
	assert_int_equal(pr_check(st, &NA, PR_CLASS_ALWAYS), PR_ACCESS_ALLOWED);
}

static void spc4_5_13_11_3_replace_lost_reservation(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	st->lost = true;
	expect(prout(st, &NB, PR_OUT_REPLACE_LOST, PR_TYPE_WR_EX, 0xb, 0xbb, 0), PR_CHECK_CONDITION,
	       PR_R_INVALID_FIELD_IN_PARAM); /* key must be zero */
	fx = prout(st, &NB, PR_OUT_REPLACE_LOST, PR_TYPE_WR_EX, 0, 0xbb, F_APTPL);
	assert_int_equal(fx.n_ua, 0); /* a) no unit attentions */
	expect_good(fx);
	assert_false(st->lost);
	assert_int_equal(st->n_regs, 1);
	assert_int_equal(reg_of(st, &NB)->key, 0xbb);
	assert_true(pr_is_holder(st, &NB));
	assert_int_equal(st->generation, 0);
	assert_true(st->aptpl);
	assert_int_equal(pr_check(st, &NA, PR_CLASS_WRITE), PR_ACCESS_CONFLICT);
}

/* ---- whole sequences ---------------------------------------------------------- */

static void spc4_5_13_11_2_6_preempt_and_abort_removing_registrations_aborts_them(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	/* C is not a holder: its registration goes, its tasks are aborted,
	 * the reservation stays (5.13.11.2.6: "without regard for whether the
	 * preempted I_T nexuses hold the persistent reservation") */
	fx = prout(st, &NB, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WR_EX, 0xb, 0xc, 0);
	assert_int_equal(fx.n_abort, 1);
	assert_true(has_abort(&fx, &NC));
	expect_good(fx);
	assert_true(pr_is_holder(st, &NA));
}

static void spc4_5_13_11_2_5_ua_for_registrant_not_logged_in(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;
	uint8_t p[100];
	size_t tl;

	/* A registers C through SPEC_I_PT: C has never logged in */
	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_C, NC.isid);
	put_be32(p + 24, (uint32_t)tl);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)));
	expect_good(prout(st, &NB, PR_OUT_REGISTER, 0, 0, 0xb, 0));
	fx = prout(st, &NB, PR_OUT_CLEAR, 0, 0xb, 0, 0);
	/* the UA names C by value, so scsi can hold it until C logs in */
	assert_true(has_ua(&fx, &NC, PR_ASCQ_RESERVATIONS_PREEMPTED));
	assert_true(has_ua(&fx, &NA, PR_ASCQ_RESERVATIONS_PREEMPTED));
	expect_good(fx);
}

static void spc4_5_13_8_ram_to_format_00b_destination(void **state)
{
	struct pr_state *st = *state;
	struct pr_nexus_id c_any = NC;
	uint8_t p[300];
	uint32_t n;

	register_abc(st);
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	n = ram_param(p, 0xa, 0xcc, false, 2, IQN_C, NULL);
	expect_good(prout_raw(st, &NA, PR_OUT_REGISTER_AND_MOVE, 0, p, n));
	c_any.rel_tport_id = 2;
	c_any.isid[5] = 0x55; /* any ISID of C through port 2 */
	assert_true(pr_is_holder(st, &c_any));
	assert_int_equal(st->generation, 4);
}

static void spc4_6_15_2_prgeneration_wraps(void **state)
{
	struct pr_state *st = *state;

	st->generation = 0xffffffff;
	expect_good(prout(st, &NA, PR_OUT_REGISTER, 0, 0, 0xa, 0));
	assert_int_equal(st->generation, 0);
}

static void fence_scsi_sequence(void **state)
{
	struct pr_state *st = *state;
	struct pr_effects fx;

	/* each node REGISTER AND IGNORE, one reserves type 5 (WE RO) */
	expect_good(prout(st, &NA, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xa, 0));
	expect_good(prout(st, &NB, PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0xb, 0));
	expect_good(prout(st, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa, 0, 0));
	assert_int_equal(pr_check(st, &NB, PR_CLASS_WRITE), PR_ACCESS_ALLOWED);
	/* A fences B */
	fx = prout(st, &NA, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WR_EX_RO, 0xa, 0xb, 0);
	assert_true(has_abort(&fx, &NB));
	assert_true(has_ua(&fx, &NB, PR_ASCQ_REGISTRATIONS_PREEMPTED));
	expect_good(fx);
	assert_int_equal(pr_check(st, &NB, PR_CLASS_WRITE), PR_ACCESS_CONFLICT);
	assert_int_equal(pr_check(st, &NB, PR_CLASS_READ), PR_ACCESS_ALLOWED);
	assert_int_equal(pr_check(st, &NA, PR_CLASS_WRITE), PR_ACCESS_ALLOWED);
	assert_int_equal(st->generation, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(spc4_5_13_7_t67_unregistered_nonzero_reservation_key_conflicts),
	    T(spc4_5_13_7_t67_unregistered_zero_sark_does_nothing),
	    T(spc4_5_13_7_t67_register_increments_prgeneration),
	    T(spc4_5_13_7_t67_registered_key_mismatch_conflicts),
	    T(spc4_5_13_7_t67_registered_rekey_and_unregister),
	    T(spc4_5_13_7_t67_registered_spec_i_pt_invalid_field_in_param),
	    T(spc4_5_13_7_t68_register_and_ignore_existing_key),
	    T(spc4_5_13_7_t69_riek_spec_i_pt_invalid_field_in_param),
	    T(spc4_6_16_3_spec_i_pt_on_reserve_invalid_field_in_param),
	    T(spc4_6_16_3_all_tg_pt_registers_every_target_port),
	    T(spc4_6_16_3_all_tg_pt_with_a_port_already_registered),
	    T(spc4_6_16_3_spec_i_pt_registers_each_transportid),
	    T(spc4_6_16_3_spec_i_pt_all_or_nothing_if_one_is_registered),
	    T(spc4_5_13_7_spec_i_pt_insufficient_resources_registers_none),
	    T(spc4_5_13_7_insufficient_registration_resources_at_limit),
	    T(spc4_6_16_3_spec_i_pt_truncated_transportid_invalid_field),
	    T(spc4_6_16_3_spec_i_pt_bad_protocol_id_invalid_field),
	    T(spc4_6_16_3_spec_i_pt_list_shorter_than_tid_length),
	    T(spc4_6_16_2_parameter_list_length_must_be_24),
	    T(spc4_6_16_2_reserved_service_action_invalid_field_in_cdb),
	    T(spc4_5_13_5_1_aptpl_activation_reported),
	    T(design_identity_by_value_survives_relogin),
	    T(spc4_5_13_9_reserve_unregistered_or_wrong_key_conflicts),
	    T(spc4_6_15_2_reserve_does_not_change_prgeneration),
	    T(spc4_5_13_9_holder_same_type_good_other_type_conflict),
	    T(spc4_6_15_3_reserve_bad_type_or_scope_invalid_field_in_cdb),
	    T(spc4_5_13_10_all_registrants_every_registrant_is_holder),
	    T(spc4_5_13_11_2_2_release_without_reservation_or_by_non_holder_good),
	    T(spc4_5_13_11_2_2_release_type_mismatch_invalid_release),
	    T(spc4_5_13_11_2_2_release_registrants_only_ua_to_others),
	    T(spc4_5_13_11_2_2_release_all_registrants_ua_to_others),
	    T(spc4_5_13_11_2_2_release_write_exclusive_no_ua),
	    T(spc4_5_13_11_2_3_unregister_ro_holder_releases_with_ua),
	    T(spc4_5_13_11_2_3_unregister_we_holder_releases_silently),
	    T(spc4_5_13_11_2_3_unregister_non_holder_keeps_reservation),
	    T(spc4_5_13_7_rekey_holder_keeps_reservation),
	    T(spc4_5_13_11_2_7_clear_removes_all_with_ua_preempted),
	    T(spc4_5_13_11_2_4_3_preempt_holder_takes_reservation),
	    T(spc4_5_13_11_2_4_3_preempt_type_change_ua_released_to_remaining),
	    T(spc4_5_13_11_2_4_3_self_preempt_keeps_registration),
	    T(spc4_5_13_11_2_5_preempt_non_holder_key_removes_registrations),
	    T(spc4_5_13_11_2_5_preempt_without_reservation_removes),
	    T(spc4_5_13_11_2_5_preempt_unknown_key_conflicts),
	    T(spc4_5_13_11_2_5_preempt_own_key_removes_own_registration),
	    T(spc4_table72_zero_sark_under_non_ar_invalid_field_in_param),
	    T(spc4_table72_zero_sark_under_ar_preempts_everyone),
	    T(spc4_table72_nonzero_sark_under_ar_removes_registrations),
	    T(spc4_5_13_11_2_6_preempt_and_abort_aborts_victims_only),
	    T(spc4_5_13_11_2_4_preempt_bad_type_invalid_field_in_cdb),
	    T(spc4_5_13_8_t70_ram_unregistered_or_non_holder_conflicts),
	    T(spc4_5_13_8_ram_without_reservation_invalid_field_in_cdb),
	    T(spc4_5_13_8_ram_all_registrants_conflicts),
	    T(spc4_5_13_8_t70_ram_zero_sark_invalid_field_in_param),
	    T(spc4_5_13_8_ram_same_transportid_invalid_field_in_param),
	    T(spc4_6_16_4_ram_unknown_relative_port_invalid_field_in_param),
	    T(spc4_6_16_4_ram_short_list_parameter_list_length_error),
	    T(spc4_5_13_8_ram_registers_destination_and_moves),
	    T(spc4_5_13_8_ram_unreg_and_already_registered_destination),
	    T(spc4_5_13_11_3_replace_lost_without_loss_invalid_release),
	    T(spc4_5_13_5_3_2_lost_condition_blocks_prout),
	    T(spc4_5_13_11_3_replace_lost_reservation),
	    T(spc4_5_13_11_2_6_preempt_and_abort_removing_registrations_aborts_them),
	    T(spc4_5_13_11_2_5_ua_for_registrant_not_logged_in),
	    T(spc4_5_13_8_ram_to_format_00b_destination),
	    T(spc4_6_15_2_prgeneration_wraps),
	    T(fence_scsi_sequence),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
