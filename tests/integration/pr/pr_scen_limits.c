// SPDX-License-Identifier: MIT
/*
 * The registrant limit (issue 3: INSUFFICIENT REGISTRATION RESOURCES at a
 * documented, configurable limit; targetd.conf max_registrants). The
 * harness starts the daemon with max_registrants = 2. SPC-4 5.13.7 (REGISTER,
 * SPEC_I_PT, ALL_TG_PT) and 5.13.8 (REGISTER AND MOVE): when the device
 * server cannot hold another registration the command ends with CHECK
 * CONDITION, ILLEGAL REQUEST, INSUFFICIENT REGISTRATION RESOURCES (55/04)
 * and changes nothing.
 */
#include "pr_scen.h"

static void state_is(struct ini *in, int n, uint32_t gen, const char *after)
{
	struct keys k;

	if (read_keys(in, &k))
		CHECK(k.n == n && k.gen == gen, "after %s: %d keys gen %u, want %d keys gen %u",
		      after, k.n, k.gen, n, gen);
}

void scen_insufficient_resources(void)
{
	struct rsp r;
	uint8_t list[400], tb[320];
	int n = 4, lb = tid_port(&B, tb);
	struct ini C7 = C;

	C7.label = "C(isid 7)";
	C7.isid_qual = 7;
	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER (1 of 2)");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER (2 of 2)");
	prout(&C, SA_REGISTER, 0, 0, KC, 0, NULL, 0, &r);
	expect_sense(&r, SK_ILLEGAL, 0x55, 0x04, "C REGISTER beyond max_registrants");
	prout(&C, SA_REGISTER_IGNORE, 0, 0, KC, 0, NULL, 0, &r);
	expect_sense(&r, SK_ILLEGAL, 0x55, 0x04, "C REGISTER AND IGNORE beyond max_registrants");
	state_is(&A, 2, 2, "refused registrations");
	/* re-keying is not a new registration */
	prout(&A, SA_REGISTER, 0, KA, KA + 1, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A re-key at the limit");
	state_is(&A, 2, 3, "re-key");
	/* room for one: ALL_TG_PT (two target ports) or SPEC_I_PT with one
	 * more initiator port need two, all or nothing */
	prout(&B, SA_REGISTER, 0, KB, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B unregisters");
	prout(&C, SA_REGISTER, 0, 0, KC, PF_ALL_TG_PT, NULL, 0, &r);
	expect_sense(&r, SK_ILLEGAL, 0x55, 0x04, "C REGISTER ALL_TG_PT with room for one");
	n += tid_port(&C7, list + n);
	put32(list, (uint32_t)(n - 4));
	prout(&C, SA_REGISTER, 0, 0, KC, PF_SPEC_I_PT, list, n, &r);
	expect_sense(&r, SK_ILLEGAL, 0x55, 0x04, "C REGISTER SPEC_I_PT with room for one");
	state_is(&A, 1, 4, "refused ALL_TG_PT and SPEC_I_PT");
	prout(&C, SA_REGISTER, 0, 0, KC, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C REGISTER into the free slot");
	/* REGISTER AND MOVE to an unregistered I_T nexus at the limit */
	prout(&A, SA_RESERVE, T_WE, KA + 1, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE");
	prout_move(&A, T_WE, KA + 1, KB, false, false, 1, tb, lb, &r);
	expect_sense(&r, SK_ILLEGAL, 0x55, 0x04, "REGISTER AND MOVE to a new nexus at the limit");
	state_is(&A, 2, 5, "refused REGISTER AND MOVE");
	{
		struct resv rv;
		if (read_resv(&A, &rv))
			CHECK(rv.present && rv.key == KA + 1 && rv.type == T_WE,
			      "reservation changed by a refused MOVE");
	}
}
