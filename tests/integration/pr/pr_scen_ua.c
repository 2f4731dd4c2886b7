// SPDX-License-Identifier: MIT
/*
 * Scenarios on who sees what: unit attentions per I_T nexus (SPC-4
 * 5.13.11), identity by value across logout/login (5.13.1, design.md), the
 * conflict table beyond READ/WRITE (SPC-4 5.13.1 table 65, SBC-4 4.17
 * table 13) and the fence_scsi sequence.
 */
#include <stdio.h>
#include <string.h>

#include <iscsi/iscsi.h>

#include "pr_scen.h"

static void gen_is(struct ini *in, uint32_t want, const char *after)
{
	struct keys k;

	if (read_keys(in, &k))
		CHECK(k.gen == want, "PRgeneration after %s: want %u, got %u", after, want, k.gen);
}

/* SPC-4 5.13.11: RELEASE (2A/04 for RO/AR types only), CLEAR (2A/03),
 * PREEMPT (2A/05 to the preempted, 2A/04 to the rest when the type
 * changes), to exactly those I_T nexuses, logged in or not. */
void scen_unit_attentions(void)
{
	struct rsp r;

	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");

	/* 5.13.11.2.2: releasing WE or EA establishes no unit attention */
	for (int type = T_WE; type <= T_EA; type += 2) {
		prout(&A, SA_RESERVE, type, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RESERVE");
		prout(&A, SA_RELEASE, type, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RELEASE");
		expect_uas(&B, "RELEASE of WE/EA", 0);
		expect_uas(&C, "RELEASE of WE/EA", 0);
	}
	/* RO and AR types: RESERVATIONS RELEASED to every other registrant,
	 * not to the non-registrant C nor to the releasing nexus */
	{
		static const int types[] = {T_WE_RO, T_EA_RO, T_WE_AR, T_EA_AR};
		for (unsigned i = 0; i < 4; i++) {
			prout(&A, SA_RESERVE, types[i], KA, 0, 0, NULL, 0, &r);
			expect_status(&r, ST_GOOD, "A RESERVE RO/AR");
			prout(&A, SA_RELEASE, types[i], KA, 0, 0, NULL, 0, &r);
			expect_status(&r, ST_GOOD, "A RELEASE RO/AR");
			expect_uas(&B, "RELEASE of an RO/AR type", UA_RES_RELEASED);
			expect_uas(&C, "RELEASE of an RO/AR type (C not registered)", 0);
			expect_uas(&A, "own RELEASE", 0);
		}
	}
	/* 5.13.11.2.3: the holder of a WE RO reservation unregistering
	 * releases it: 2A/04 to the other registrants */
	prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE RO");
	prout(&A, SA_REGISTER, 0, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A unregisters (holder)");
	expect_uas(&B, "holder of WE RO unregistered", UA_RES_RELEASED);
	expect_uas(&C, "holder of WE RO unregistered", 0);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER again");

	/* CLEAR (5.13.11.2.7): 2A/03 to every other registrant, including B
	 * which is logged out at the time and sees it at its next login */
	prout(&C, SA_REGISTER, 0, 0, KC, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C REGISTER");
	prout(&A, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE");
	ini_logout(&B);
	prout(&A, SA_CLEAR, 0, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A CLEAR");
	expect_uas(&C, "CLEAR", UA_RES_PREEMPTED);
	expect_uas(&A, "own CLEAR", 0);
	REQUIRE(ini_login(&B, 1) == 0, "B logs in again");
	expect_uas(&B, "CLEAR while logged out", UA_RES_PREEMPTED);

	/* PREEMPT with a type change (5.13.11.2.4.3): the preempted nexus
	 * gets 2A/05, the other registrants 2A/04, the preempter nothing */
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	prout(&C, SA_REGISTER, 0, 0, KC, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C REGISTER");
	prout(&A, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE");
	prout(&B, SA_PREEMPT, T_EA, KB, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B PREEMPT A, type WE -> EA");
	expect_uas(&A, "preempted", UA_REG_PREEMPTED);
	expect_uas(&C, "type changed by PREEMPT", UA_RES_RELEASED);
	expect_uas(&B, "own PREEMPT", 0);
	/* same type: only the preempted nexus hears about it */
	prout(&C, SA_PREEMPT, T_EA, KC, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C PREEMPT B, same type");
	expect_uas(&B, "preempted", UA_REG_PREEMPTED);
	expect_uas(&A, "not registered any more", 0);
	expect_uas(&C, "own PREEMPT", 0);

	/* A registrant that has never logged in (registered through SPEC_I_PT)
	 * is preempted; it sees POWER ON and REGISTRATIONS PREEMPTED at its
	 * first login. Another initiator port of the same name sees nothing. */
	{
		struct ini B5 = B, B6 = B;
		uint8_t list[400];
		int n = 4;

		B5.label = "B(isid 5)";
		B5.isid_qual = 5;
		B6.label = "B(isid 6)";
		B6.isid_qual = 6;
		n += tid_port(&B5, list + n);
		put32(list, (uint32_t)(n - 4));
		prout(&B, SA_REGISTER, 0, 0, KB, PF_SPEC_I_PT, list, n, &r);
		expect_status(&r, ST_GOOD, "B REGISTER SPEC_I_PT [B isid 5]");
		prout(&C, SA_PREEMPT, T_EA, KC, KB, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "C PREEMPT KB (B and B isid 5)");
		expect_uas(&B, "preempted", UA_REG_PREEMPTED);
		REQUIRE(ini_login(&B5, 1) == 0, "B isid 5 logs in");
		expect_uas(&B5, "preempted before its first login", UA_POWER_ON, UA_REG_PREEMPTED);
		ini_up(&B6, 1); /* exactly POWER ON */
		ini_logout(&B5);
		ini_logout(&B6);
	}

	/* All registrants (5.13.11.2.4.3, table 71): PREEMPT with a SARK
	 * removes those registrations and the reservation stays; with SARK 0
	 * it removes every other registration and reserves anew for the
	 * preempter. 2A/05 to each removed nexus, nothing else. */
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	prout(&C, SA_RELEASE, T_EA, KC, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C RELEASE EA");
	prout(&C, SA_RESERVE, T_WE_AR, KC, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "C RESERVE WE AR");
	prout(&A, SA_PREEMPT, T_WE_AR, KA, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A PREEMPT KB under WE AR");
	expect_uas(&B, "removed under WE AR", UA_REG_PREEMPTED);
	expect_uas(&C, "reservation unchanged", 0);
	expect_uas(&A, "own PREEMPT", 0);
	{
		struct resv rv;

		if (read_resv(&A, &rv))
			CHECK(rv.present && rv.type == T_WE_AR && rv.key == 0,
			      "WE AR reservation after removing B: present %d type %d", rv.present,
			      rv.type);
		prout(&A, SA_PREEMPT, T_EA, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A PREEMPT SARK 0 under WE AR, new type EA");
		expect_uas(&C, "removed by PREEMPT SARK 0", UA_REG_PREEMPTED);
		expect_uas(&A, "own PREEMPT", 0);
		if (read_resv(&A, &rv))
			CHECK(rv.present && rv.type == T_EA && rv.key == KA,
			      "after PREEMPT SARK 0: present %d type %d key %016llx", rv.present,
			      rv.type, (unsigned long long)rv.key);
		cmd_read16(&C, 0, 1, &r);
		expect_status(&r, ST_CONFLICT, "C READ under A's EA");
	}
}

/* Identity by value (5.13.1, design.md): a logout/login of the same
 * initiator port keeps its registration and reservation; another ISID or
 * another target port is another I_T nexus. */
void scen_relogin(void)
{
	struct rsp r;
	struct resv rv;
	struct keys k;
	struct ini A2 = A, Ap2 = A;

	A2.label = "A(isid 2)";
	A2.isid_qual = 2;
	Ap2.label = "A@port2";
	ini_up(&A, 1);
	ini_up(&B, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&A, SA_RESERVE, T_EA, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE EA");
	ini_logout(&A);
	/* the reservation holds while its holder is away */
	cmd_read16(&B, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "B READ under EA, holder logged out");
	cmd_write16(&B, 0, 1, 0xbb, &r);
	expect_status(&r, ST_CONFLICT, "B WRITE under EA, holder logged out");
	/* back again: a new session (new TSIH), same initiator port */
	REQUIRE(ini_login(&A, 1) == 0, "A logs in again");
	expect_uas(&A, "re-login (nothing happened meanwhile)", 0);
	if (read_resv(&A, &rv))
		CHECK(rv.present && rv.key == KA && rv.type == T_EA && rv.gen == 1,
		      "after re-login: reservation present %d key %016llx type %d gen %u",
		      rv.present, (unsigned long long)rv.key, rv.type, rv.gen);
	if (read_keys(&A, &k))
		CHECK(k.n == 1 && k.key[0] == KA, "after re-login: %d keys", k.n);
	cmd_write16(&A, 0, 1, 0xaa, &r);
	expect_status(&r, ST_GOOD, "A (holder, re-logged in) WRITE");
	cmd_read16(&A, 0, 1, &r);
	expect_status(&r, ST_GOOD, "A (holder, re-logged in) READ");
	prout(&A, SA_RESERVE, T_EA, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A re-RESERVE (same type: holder, GOOD)");
	/* another ISID / another target port: not the holder */
	ini_up(&A2, 1);
	cmd_read16(&A2, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "A with another ISID READ");
	ini_up(&Ap2, 2);
	cmd_read16(&Ap2, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "A through port 2 READ");
	/* a dropped connection (no logout) changes nothing either (SPC-4
	 * 5.13.1: persistent reservations survive I_T nexus loss) */
	iscsi_destroy_context(A.ctx);
	A.ctx = NULL;
	REQUIRE(ini_login(&A, 1) == 0, "A logs in after a dropped connection");
	{
		int uas[8], n = collect_uas(&A, uas, 8);
		/* SAM-5 6.3.4 allows I_T NEXUS LOSS OCCURRED here */
		CHECK(n == 0 || (n == 1 && uas[0] == 0x2907),
		      "after a dropped connection: %d UAs (first %04x)", n, n ? uas[0] : 0);
	}
	cmd_write16(&A, 0, 1, 0xab, &r);
	expect_status(&r, ST_GOOD, "A WRITE after a dropped connection");
	ini_logout(&A2);
	ini_logout(&Ap2);
}

/* ---- conflict table ---- */

/* clang-format off */
enum { OK = 0, RC = 1 };
struct probe {
	const char *name;
	uint8_t cdb[16];
	int len, dir, xfer;
	/* per type WE, EA, WE RO, EA RO: [holder, registrant, non-registrant] */
	uint8_t want[4][3];
	/* allowed means "not RESERVATION CONFLICT": the command itself may
	 * still end in CHECK CONDITION for its own reasons (e.g. a
	 * miscompare); only the reservation decision is checked */
	bool any_status;
};

/* SPC-4 5.13.1 table 65, SBC-4 4.17 table 13, ALLOW COMMANDS 011b
 * (6.15.4): docs/persistent-reservations.md classes ALWAYS, INFO, TUR,
 * READ, READ_INFO, WRITE, CONTROL and the SPC-2 classes. */
#define ALL_OK {{OK, OK, OK}, {OK, OK, OK}, {OK, OK, OK}, {OK, OK, OK}}
#define READ_ {{OK, OK, OK}, {OK, RC, RC}, {OK, OK, OK}, {OK, OK, RC}}
#define WRITE_ {{OK, RC, RC}, {OK, RC, RC}, {OK, OK, RC}, {OK, OK, RC}}
static const struct probe probes[] = {
	{"TEST UNIT READY", {0x00}, 6, 0, 0, ALL_OK, false},
	{"INQUIRY", {0x12, 0, 0, 0, 96}, 6, 1, 96, ALL_OK, false},
	{"REPORT LUNS", {0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 12, 1, 256, ALL_OK, false},
	{"REQUEST SENSE", {0x03, 0, 0, 0, 18}, 6, 1, 18, ALL_OK, false},
	{"READ CAPACITY(10)", {0x25}, 10, 1, 8, ALL_OK, false},
	{"READ CAPACITY(16)", {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32}, 16, 1, 32, ALL_OK,
	 false},
	{"PERSISTENT RESERVE IN", {0x5e, 0, 0, 0, 0, 0, 0, 0, 64}, 10, 1, 64, ALL_OK, false},
	/* READ_INFO: allowed through WE (ALLOW COMMANDS 011b), not EA */
	{"MODE SENSE(6)", {0x1a, 0x08, 0x3f, 0, 255}, 6, 1, 255, READ_, false},
	{"MODE SENSE(10)", {0x5a, 0x08, 0x3f, 0, 0, 0, 0, 0x01, 0}, 10, 1, 256, READ_, false},
	{"REPORT SUPPORTED OPERATION CODES", {0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0}, 12, 1,
	 4096, READ_, false},
	{"READ DEFECT DATA(10)", {0x37, 0, 0x05, 0, 0, 0, 0, 0, 4}, 10, 1, 4, READ_, true},
	/* READ */
	{"READ(10)", {0x28, 0, 0, 0, 0, 0, 0, 0, 1}, 10, 1, 512, READ_, false},
	{"VERIFY(10)", {0x2f, 0, 0, 0, 0, 0, 0, 0, 1}, 10, 0, 0, READ_, false},
	{"VERIFY(16)", {0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, 0, 0, READ_, true},
	{"PRE-FETCH(10)", {0x34, 0, 0, 0, 0, 0, 0, 0, 1}, 10, 0, 0, READ_, true},
	{"GET LBA STATUS", {0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32}, 16, 1, 32, READ_,
	 true},
	/* WRITE */
	{"SYNCHRONIZE CACHE(10)", {0x35}, 10, 0, 0, WRITE_, false},
	{"SYNCHRONIZE CACHE(16)", {0x91}, 16, 0, 0, WRITE_, false},
	{"WRITE(10)", {0x2a, 0, 0, 0, 0, 0, 0, 0, 1}, 10, 2, 512, WRITE_, false},
	{"WRITE SAME(10)", {0x41, 0, 0, 0, 0, 0, 0, 0, 1}, 10, 2, 512, WRITE_, true},
	{"COMPARE AND WRITE", {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, 2, 1024, WRITE_,
	 true},
	/* CONTROL: as WRITE */
	{"MODE SELECT(6)", {0x15, 0x10, 0, 0, 4}, 6, 2, 4, WRITE_, true},
	{"START STOP UNIT", {0x1b, 0, 0, 0, 1}, 6, 0, 0, WRITE_, true},
	/* SPC-2 RESERVE/RELEASE (5.13.3, CRH=1): the holder, and registrants
	 * of RO/AR types, get GOOD without effect; everyone else conflicts */
	{"RESERVE(6)", {0x16}, 6, 0, 0, WRITE_, false},
	{"RELEASE(6)", {0x17}, 6, 0, 0, WRITE_, false},
};
/* clang-format on */

void scen_conflict_table(void)
{
	static const int types[4] = {T_WE, T_EA, T_WE_RO, T_EA_RO};
	static const char *tname[4] = {"WE", "EA", "WE RO", "EA RO"};
	struct ini *role[3] = {&A, &B, &C};
	static const char *rname[3] = {"holder", "registrant", "non-registrant"};
	struct rsp r;
	uint8_t zero[1024] = {0};

	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	for (int t = 0; t < 4; t++) {
		prout(&A, SA_RESERVE, types[t], KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RESERVE");
		for (unsigned p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
			for (int w = 0; w < 3; w++) {
				const struct probe *pr = &probes[p];
				char what[160];

				run_cdb(role[w], pr->cdb, pr->len, pr->dir, pr->xfer, zero,
					pr->dir == 2 ? pr->xfer : 0, &r);
				snprintf(what, sizeof(what), "%s from the %s under %s", pr->name,
					 rname[w], tname[t]);
				if (pr->want[t][w] == RC)
					expect_status(&r, ST_CONFLICT, what);
				else if (!pr->any_status)
					expect_status(&r, ST_GOOD, what);
				else
					CHECK(r.status != ST_CONFLICT, "%s: RESERVATION CONFLICT",
					      what);
			}
		}
		prout(&A, SA_RELEASE, types[t], KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RELEASE");
		/* RO types: B (registrant) gets RESERVATIONS RELEASED */
		if (types[t] >= T_WE_RO)
			expect_uas(&B, "RELEASE of an RO type", UA_RES_RELEASED);
	}
}

/* The fence_scsi agent (fence-agents): every node REGISTER AND IGNORE
 * EXISTING KEY with its own key, one node RESERVE WRITE EXCLUSIVE -
 * REGISTRANTS ONLY, fencing = PREEMPT AND ABORT of the victim's key; the
 * victim can read but not write; self-PREEMPT with the own key purges
 * stale registrations of that key (5.13.11.2.4.3). */
void scen_fence_scsi(void)
{
	struct rsp r;
	struct resv rv;
	struct keys k;
	struct ini *node[3] = {&A, &B, &C};
	uint64_t key[3] = {KA, KB, KC};
	struct ini A2 = A;

	A2.label = "A(isid 2, stale)";
	A2.isid_qual = 2;
	for (int i = 0; i < 3; i++) {
		ini_up(node[i], 1);
		prout(node[i], SA_REGISTER_IGNORE, 0, 0, key[i], 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "node REGISTER AND IGNORE EXISTING KEY");
	}
	if (read_resv(&A, &rv))
		CHECK(!rv.present, "a reservation before anyone reserved");
	prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE RO");
	for (int i = 0; i < 3; i++) {
		cmd_write16(node[i], 8, 1, (uint8_t)i, &r);
		expect_status(&r, ST_GOOD, "registered node WRITE under WE RO");
	}
	/* fence B */
	prout(&A, SA_PREEMPT_ABORT, T_WE_RO, KA, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A PREEMPT AND ABORT KB");
	gen_is(&A, 4, "3 registrations and a PREEMPT AND ABORT");
	expect_uas(&B, "fenced", UA_REG_PREEMPTED);
	expect_uas(&C, "bystander", 0);
	cmd_write16(&B, 8, 1, 0xbb, &r);
	expect_status(&r, ST_CONFLICT, "fenced B WRITE");
	cmd_read16(&B, 8, 1, &r);
	expect_status(&r, ST_GOOD, "fenced B READ");
	cmd_write16(&C, 8, 1, 0xcc, &r);
	expect_status(&r, ST_GOOD, "C WRITE");
	if (read_keys(&B, &k))
		CHECK(k.n == 2 && k.key[0] != KB && k.key[1] != KB, "KB still registered (%d keys)",
		      k.n);
	/* a stale registration with A's key from another initiator port */
	ini_up(&A2, 1);
	prout(&A2, SA_REGISTER_IGNORE, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "stale A REGISTER AND IGNORE KA");
	prout(&A, SA_PREEMPT, T_WE_RO, KA, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A self-PREEMPT with its own key");
	gen_is(&A, 6, "stale REGISTER and self-PREEMPT");
	if (read_keys(&A, &k)) {
		int na = 0;
		for (int i = 0; i < k.n; i++)
			na += k.key[i] == KA;
		CHECK(k.n == 2 && na == 1, "after self-PREEMPT: %d keys, KA %d times", k.n, na);
	}
	if (read_resv(&A, &rv))
		CHECK(rv.present && rv.key == KA && rv.type == T_WE_RO,
		      "after self-PREEMPT: reservation key %016llx type %d",
		      (unsigned long long)rv.key, rv.type);
	expect_uas(&A2, "stale registration purged", UA_REG_PREEMPTED);
	expect_uas(&C, "self-PREEMPT, type unchanged", 0);
	expect_uas(&A, "own PREEMPT", 0);
	cmd_write16(&A, 8, 1, 0xaa, &r);
	expect_status(&r, ST_GOOD, "A (holder) WRITE after self-PREEMPT");
	cmd_write16(&A2, 8, 1, 0xa2, &r);
	expect_status(&r, ST_CONFLICT, "purged A isid 2 WRITE");
	/* unfence B: register again, writes work */
	prout(&B, SA_REGISTER_IGNORE, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER AND IGNORE (unfence)");
	cmd_write16(&B, 8, 1, 0xbb, &r);
	expect_status(&r, ST_GOOD, "unfenced B WRITE");
	ini_logout(&A2);
}
