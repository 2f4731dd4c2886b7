// SPDX-License-Identifier: MIT
/*
 * Scenarios on what PERSISTENT RESERVE IN reports: READ FULL STATUS layout
 * (SPC-4 6.15.5), REGISTER AND MOVE (5.13.8, 6.16.4), SPEC_I_PT and
 * ALL_TG_PT (5.13.7, 6.16.3) and PRgeneration (6.15.2).
 */
#include <string.h>

#include "pr_scen.h"

static void expect_gen(struct ini *in, uint32_t want, const char *after)
{
	struct keys k;

	if (read_keys(in, &k))
		CHECK(k.gen == want, "PRgeneration after %s: want %u, got %u", after, want, k.gen);
}

static int count_key(const struct keys *k, uint64_t key)
{
	int n = 0;

	for (int i = 0; i < k->n; i++)
		n += k->key[i] == key;
	return n;
}

/* SPC-4 6.15.5: every registered I_T nexus, R_HOLDER, scope/type only for
 * holders, RELATIVE TARGET PORT IDENTIFIER, TransportID format 01b with
 * the ISID, NUL-terminated and padded to a multiple of 4; ADDITIONAL
 * LENGTH the full length whatever the ALLOCATION LENGTH (4.2.5.6). */
void scen_full_status(void)
{
	struct fullstatus fs;
	struct rsp r;
	uint8_t tid[3][320];
	int tl[3];
	struct ini *who[3] = {&A, &B, &C};
	uint64_t key[3] = {KA, KB, KC};
	uint16_t port[3] = {1, 2, 1};
	uint32_t total = 0;

	ini_up(&A, 1);
	ini_up(&B, 2);
	ini_up(&C, 1);
	for (int i = 0; i < 3; i++) {
		prout(who[i], SA_REGISTER, 0, 0, key[i], 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "REGISTER");
		tl[i] = tid_port(who[i], tid[i]);
		total += 24u + (uint32_t)tl[i];
	}
	prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE RO");

	REQUIRE(read_full_status(&C, &fs), "READ FULL STATUS");
	CHECK(fs.gen == 3, "PRgeneration %u, want 3", fs.gen);
	CHECK(fs.n == 3, "%d descriptors, want 3 (one per registered I_T nexus)", fs.n);
	CHECK(fs.addlen == total, "ADDITIONAL LENGTH %u, want %u", fs.addlen, total);
	for (int i = 0; i < 3; i++) {
		const struct fsd *d = fs_find(&fs, tid[i], tl[i], port[i]);

		CHECK(d != NULL, "no descriptor with %s's TransportID (%.*s) on port %u",
		      who[i]->label, tl[i] - 4, (const char *)tid[i] + 4, port[i]);
		if (!d)
			continue;
		CHECK(d->key == key[i], "%s: key %016llx", who[i]->label,
		      (unsigned long long)d->key);
		CHECK(!d->all_tg_pt, "%s: ALL_TG_PT set", who[i]->label);
		CHECK(d->r_holder == (i == 0), "%s: R_HOLDER %d", who[i]->label, d->r_holder);
		/* table 209: SCOPE/TYPE valid only when R_HOLDER is one */
		CHECK(i == 0 ? d->scope == 0 && d->type == T_WE_RO : d->scope == 0 && d->type == 0,
		      "%s: scope %d type %d", who[i]->label, d->scope, d->type);
		/* 7.6.4.6: ADDITIONAL LENGTH multiple of 4, >= 20; NUL inside */
		CHECK(tl[i] % 4 == 0 && d->addlen == (uint32_t)tl[i] && d->tid[0] == 0x45 &&
			  (d->tid[2] << 8 | d->tid[3]) == tl[i] - 4,
		      "%s: TransportID header %02x %02x %02x %02x", who[i]->label, d->tid[0],
		      d->tid[1], d->tid[2], d->tid[3]);
	}

	/* 4.2.5.6: truncation to the allocation length, lengths unchanged */
	{
		int allocs[] = {0, 4, 8, 30, (int)(8 + total - 1), (int)(8 + total + 100)};
		for (unsigned a = 0; a < sizeof(allocs) / sizeof(allocs[0]); a++) {
			int want = allocs[a] < (int)(8 + total) ? allocs[a] : (int)(8 + total);

			prin(&C, 3, allocs[a], &r);
			expect_status(&r, ST_GOOD, "READ FULL STATUS, small allocation");
			CHECK(r.len == want, "allocation %d: %d bytes, want %d", allocs[a], r.len,
			      want);
			CHECK(r.len <= fs.r.len && !memcmp(r.data, fs.r.data, (size_t)r.len),
			      "allocation %d: data is not a prefix of the full data", allocs[a]);
			if (r.len >= 8)
				CHECK(be32(r.data + 4) == total,
				      "allocation %d: ADDITIONAL LENGTH %u, want %u", allocs[a],
				      be32(r.data + 4), total);
		}
	}

	/* All registrants: every registrant is a holder (5.13.10), each
	 * descriptor has R_HOLDER=1 with the type; READ RESERVATION's key is
	 * zero (6.15.3.2). RELEASE of an RO type: 2A/04 to the others. */
	prout(&A, SA_RELEASE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RELEASE WE RO");
	prout(&A, SA_RESERVE, T_WE_AR, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE AR");
	expect_uas(&B, "after RELEASE of WE RO", UA_RES_RELEASED);
	expect_uas(&C, "after RELEASE of WE RO", UA_RES_RELEASED);
	expect_uas(&A, "own RELEASE", 0);
	if (read_full_status(&B, &fs)) {
		CHECK(fs.n == 3, "%d descriptors", fs.n);
		for (int i = 0; i < fs.n; i++)
			CHECK(fs.d[i].r_holder && fs.d[i].type == T_WE_AR && fs.d[i].scope == 0,
			      "AR descriptor %d: R_HOLDER %d type %d", i, fs.d[i].r_holder,
			      fs.d[i].type);
	}
	{
		struct resv rv;
		if (read_resv(&B, &rv))
			CHECK(rv.present && rv.key == 0 && rv.type == T_WE_AR,
			      "READ RESERVATION under WE AR: present %d key %016llx type %d",
			      rv.present, (unsigned long long)rv.key, rv.type);
	}
}

/* SPC-4 5.13.8 / 6.16.4 / table 70: REGISTER AND MOVE, every branch. */
void scen_register_and_move(void)
{
	struct rsp r;
	struct resv rv;
	struct keys k;
	struct fullstatus fs;
	uint8_t tb[320], tc[320], ta[320];
	int lb = tid_port(&B, tb), lc = tid_port(&C, tc), la = tid_port(&A, ta);
	const uint64_t KB2 = 0xb2b2000000000002ull, KA2 = 0xa1a1000000000002ull;

	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	/* unregistered requester: RESERVATION CONFLICT (5.13.7) */
	prout_move(&A, T_WE, 0, KC, false, false, 1, tc, lc, &r);
	expect_status(&r, ST_CONFLICT, "MOVE from an unregistered I_T nexus");
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	/* 5.13.8: no persistent reservation -> ILLEGAL REQUEST, INVALID FIELD IN CDB */
	prout_move(&A, T_WE, KA, KC, false, false, 1, tc, lc, &r);
	expect_sense(&r, SK_ILLEGAL, 0x24, 0x00, "MOVE without a reservation");
	prout(&A, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	expect_gen(&A, 2, "two REGISTERs");
	/* table 70: wrong RESERVATION KEY -> conflict */
	prout_move(&A, T_WE, KA + 1, KC, false, false, 1, tc, lc, &r);
	expect_status(&r, ST_CONFLICT, "MOVE with a wrong key");
	/* table 70: a registrant that is not the holder -> conflict */
	prout_move(&B, T_WE, KB, KC, false, false, 1, tc, lc, &r);
	expect_status(&r, ST_CONFLICT, "MOVE from a non-holder");
	/* 6.16.4: SERVICE ACTION RESERVATION KEY zero */
	prout_move(&A, T_WE, KA, 0, false, false, 1, tc, lc, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "MOVE with SARK 0");
	expect_field(&r, false, 8, -1, "MOVE with SARK 0");
	/* 5.13.8: the TransportID names the requester's own initiator port */
	prout_move(&A, T_WE, KA, KC, false, false, 1, ta, la, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "MOVE to itself");
	expect_field(&r, false, 24, -1, "MOVE to itself");
	/* 6.16.4: unknown RELATIVE TARGET PORT IDENTIFIER */
	prout_move(&A, T_WE, KA, KC, false, false, 9, tc, lc, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "MOVE to relative target port 9");
	expect_field(&r, false, 18, -1, "MOVE to relative target port 9");
	/* 6.16.4: PARAMETER LIST LENGTH shorter than 24 + TransportID */
	{
		uint8_t cdb[10] = {0x5f, 0x07, T_WE};
		uint8_t p[24 + 320] = {0};

		put64(p, KA);
		put64(p + 8, KC);
		p[19] = 1;
		put32(p + 20, (uint32_t)lc);
		memcpy(p + 24, tc, (size_t)lc);
		put32(cdb + 5, (uint32_t)(24 + lc - 4));
		run_cdb(&A, cdb, 10, 2, 24 + lc - 4, p, 24 + lc - 4, &r);
		expect_sense(&r, SK_ILLEGAL, 0x1a, 0x00, "MOVE with a short parameter list");
	}
	expect_gen(&A, 2, "refused MOVEs");

	/* to an unregistered I_T nexus, UNREG=0: C registered with SARK and
	 * made the holder, the type kept; A stays registered (5.13.8) */
	prout_move(&A, T_WE, KA, KC, false, false, 1, tc, lc, &r);
	expect_status(&r, ST_GOOD, "MOVE A -> C");
	expect_gen(&A, 3, "MOVE");
	if (read_resv(&B, &rv))
		CHECK(rv.present && rv.key == KC && rv.type == T_WE && rv.scope == 0,
		      "after MOVE: holder key %016llx type %d", (unsigned long long)rv.key,
		      rv.type);
	if (read_full_status(&B, &fs)) {
		const struct fsd *d = fs_find(&fs, tc, lc, 1);
		const struct fsd *da = fs_find(&fs, ta, la, 1);

		CHECK(fs.n == 3, "%d registrations after MOVE, want 3", fs.n);
		CHECK(d && d->key == KC && d->r_holder && d->type == T_WE,
		      "C is not the registered holder");
		CHECK(da && da->key == KA && !da->r_holder, "A not kept as a plain registrant");
	}
	cmd_write16(&C, 0, 1, 0xcc, &r);
	expect_status(&r, ST_GOOD, "C (new holder) WRITE");
	cmd_write16(&A, 0, 1, 0xaa, &r);
	expect_status(&r, ST_CONFLICT, "A (former holder) WRITE under WE");

	/* to an already registered I_T nexus with UNREG=1: B re-keyed to
	 * SARK, holder; C unregistered */
	prout_move(&C, T_WE, KC, KB2, true, false, 1, tb, lb, &r);
	expect_status(&r, ST_GOOD, "MOVE C -> B (registered), UNREG=1");
	expect_gen(&A, 4, "MOVE with UNREG");
	if (read_keys(&A, &k))
		CHECK(k.n == 2 && count_key(&k, KA) == 1 && count_key(&k, KB2) == 1,
		      "keys after MOVE C->B UNREG: %d keys", k.n);
	if (read_resv(&A, &rv))
		CHECK(rv.present && rv.key == KB2 && rv.type == T_WE, "holder key %016llx",
		      (unsigned long long)rv.key);
	prout(&C, SA_RESERVE, T_WE, KC, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_CONFLICT, "C after UNREG: not registered");

	/* table 70: all registrants reservation -> conflict */
	prout(&B, SA_RELEASE, T_WE, KB2, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RELEASE");
	prout(&B, SA_RESERVE, T_EA_AR, KB2, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RESERVE EA AR");
	prout_move(&B, T_EA_AR, KB2, KC, false, false, 1, tc, lc, &r);
	expect_status(&r, ST_CONFLICT, "MOVE of an all registrants reservation");
	prout(&B, SA_RELEASE, T_EA_AR, KB2, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RELEASE EA AR");
	expect_uas(&A, "RELEASE of EA AR", UA_RES_RELEASED);
	prout(&B, SA_RESERVE, T_WE, KB2, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RESERVE WE");
	/* through another target port (RELATIVE TARGET PORT IDENTIFIER 2):
	 * A's initiator port through portal group 2 is a new I_T nexus, which
	 * need not be logged in */
	prout_move(&B, T_WE, KB2, KA2, false, false, 2, ta, la, &r);
	expect_status(&r, ST_GOOD, "MOVE B -> A via relative target port 2");
	expect_gen(&A, 5, "MOVE to another target port");
	if (read_full_status(&B, &fs)) {
		const struct fsd *d2 = fs_find(&fs, ta, la, 2), *d1 = fs_find(&fs, ta, la, 1);

		CHECK(d2 && d2->key == KA2 && d2->r_holder && d2->type == T_WE,
		      "A@2 is not the holder with KA2");
		CHECK(d1 && d1->key == KA && !d1->r_holder, "A@1 changed");
	}
	cmd_write16(&A, 0, 1, 0xa1, &r);
	expect_status(&r, ST_CONFLICT, "A through port 1 (not the holder) WRITE");
	cmd_write16(&B, 0, 1, 0xb1, &r);
	expect_status(&r, ST_CONFLICT, "B (moved away) WRITE");
	/* no unit attention is defined for REGISTER AND MOVE */
	expect_uas(&A, "REGISTER AND MOVE", 0);
	expect_uas(&B, "REGISTER AND MOVE", 0);
	expect_uas(&C, "REGISTER AND MOVE", 0);
}

/* The same initiator port logged in through both target ports (RFC 7143
 * 4.4.3 allows one session per ISID per portal group): a reservation moved
 * to A's port 2 nexus is usable there and nowhere else. */
void scen_move_to_other_port_session(void)
{
	struct rsp r;
	struct ini A2 = A;
	uint8_t ta[320];
	int la = tid_port(&A, ta);
	const uint64_t KA2 = 0xa1a1000000000002ull;

	A2.label = "A@port2";
	ini_up(&A, 1);
	ini_up(&B, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	prout(&B, SA_RESERVE, T_WE, KB, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RESERVE WE");
	prout_move(&B, T_WE, KB, KA2, false, false, 2, ta, la, &r);
	expect_status(&r, ST_GOOD, "MOVE B -> A via relative target port 2");
	ini_up(&A2, 2);
	cmd_write16(&A2, 0, 1, 0xa2, &r);
	expect_status(&r, ST_GOOD, "A through port 2 (holder) WRITE");
	cmd_write16(&A, 0, 1, 0xa1, &r);
	expect_status(&r, ST_CONFLICT, "A through port 1 (not holder) WRITE");
	prout(&A2, SA_RELEASE, T_WE, KA2, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@2 RELEASE");
	prout(&A, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@1 RESERVE: both sessions alive");
	ini_logout(&A2);
}

/* SPC-4 5.13.7 / 6.16.3: SPEC_I_PT registers the listed initiator ports
 * (format 01b) and devices (00b) on the receiving target port, all or
 * nothing. */
void scen_spec_i_pt(void)
{
	struct rsp r;
	struct keys k;
	struct fullstatus fs;
	uint8_t list[1024], ta[320], tb[320], tcn[320];
	int la = tid_port(&A, ta), lb = tid_port(&B, tb), lcn = tid_name(C.name, tcn), n;

	ini_up(&A, 1);
	n = 4;
	memcpy(list + n, tb, (size_t)lb);
	n += lb;
	memcpy(list + n, tcn, (size_t)lcn);
	n += lcn;
	put32(list, (uint32_t)(n - 4));
	/* 6.16.3: list shorter than 28 + TRANSPORTID PARAMETER DATA LENGTH */
	prout(&A, SA_REGISTER, 0, 0, KA, PF_SPEC_I_PT, list, n - 4, &r);
	expect_sense(&r, SK_ILLEGAL, 0x1a, 0x00, "SPEC_I_PT with a short list");
	/* 6.16.3: SPEC_I_PT with REGISTER AND IGNORE EXISTING KEY */
	prout(&A, SA_REGISTER_IGNORE, 0, 0, KA, PF_SPEC_I_PT, list, n, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "SPEC_I_PT with REGISTER AND IGNORE");
	expect_field(&r, false, 20, 3, "SPEC_I_PT with REGISTER AND IGNORE");
	/* a malformed TransportID (protocol identifier 6): nothing registered */
	{
		uint8_t bad[1024];

		memcpy(bad, list, (size_t)n);
		bad[4 + lb] = 0x06;
		prout(&A, SA_REGISTER, 0, 0, KA, PF_SPEC_I_PT, bad, n, &r);
		expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "SPEC_I_PT with a bad TransportID");
		/* its first byte, in the list after the 28-byte header and B's */
		expect_field(&r, false, 28 + lb, -1, "SPEC_I_PT with a bad TransportID");
	}
	if (read_keys(&A, &k))
		CHECK(k.n == 0 && k.gen == 0, "refused SPEC_I_PT left %d keys, gen %u", k.n, k.gen);

	prout(&A, SA_REGISTER, 0, 0, KA, PF_SPEC_I_PT, list, n, &r);
	expect_status(&r, ST_GOOD, "REGISTER SPEC_I_PT [B port, C device]");
	expect_gen(&A, 1, "one SPEC_I_PT REGISTER");
	if (read_keys(&A, &k))
		CHECK(k.n == 3 && count_key(&k, KA) == 3, "keys after SPEC_I_PT: %d", k.n);
	if (read_full_status(&A, &fs)) {
		const struct fsd *da = fs_find(&fs, ta, la, 1), *db = fs_find(&fs, tb, lb, 1),
				 *dc = fs_find(&fs, tcn, lcn, 1);

		CHECK(fs.n == 3, "%d descriptors", fs.n);
		CHECK(da && da->key == KA, "A not registered");
		CHECK(db && db->key == KA, "B's initiator port not registered on port 1");
		/* 7.6.4.6 format 00b: name only, first byte 0x05 */
		CHECK(dc && dc->key == KA && dc->tid[0] == 0x05,
		      "C's initiator device not registered with a format 00b TransportID");
	}
	/* B and C (any ISID) are registrants through port 1, not port 2 */
	ini_up(&B, 1);
	prout(&B, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RESERVE with the key SPEC_I_PT gave it");
	prout(&B, SA_RELEASE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B RELEASE");
	{
		struct ini C7 = C, C2 = C;

		C7.label = "C(isid 7)";
		C7.isid_qual = 7;
		ini_up(&C7, 1);
		prout(&C7, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "C with any ISID is covered by the name registration");
		prout(&C7, SA_RELEASE, T_WE, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "C RELEASE");
		ini_logout(&C7);
		C2.label = "C@port2";
		ini_up(&C2, 2);
		prout(&C2, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_CONFLICT, "C through port 2 is not registered");
		ini_logout(&C2);
	}
	/* 6.16.3: SPEC_I_PT from a registered I_T nexus */
	prout(&A, SA_REGISTER, 0, KA, KA, PF_SPEC_I_PT, list, n, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "SPEC_I_PT from a registered I_T nexus");
	expect_field(&r, false, 20, 3, "SPEC_I_PT from a registered I_T nexus");
	/* all or nothing: a list naming an already registered I_T nexus
	 * (C's port, covered by the name registration) registers nobody */
	prout(&B, SA_REGISTER, 0, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B unregisters");
	{
		struct ini A3 = A;
		uint8_t l2[1024];
		int m = 4;

		A3.label = "A(isid 3)";
		A3.isid_qual = 3;
		ini_up(&A3, 1);
		memcpy(l2 + m, tb, (size_t)lb);
		m += lb;
		m += tid_port(&C, l2 + m);
		put32(l2, (uint32_t)(m - 4));
		prout(&A3, SA_REGISTER, 0, 0, KB, PF_SPEC_I_PT, l2, m, &r);
		expect_sense(&r, SK_ILLEGAL, 0x26, 0x00,
			     "SPEC_I_PT naming a registered I_T nexus (table 67)");
		expect_field(&r, false, 28 + lb, -1, "SPEC_I_PT naming a registered I_T nexus");
		if (read_keys(&A3, &k))
			CHECK(k.n == 2 && k.gen == 2 && count_key(&k, KB) == 0,
			      "failed SPEC_I_PT changed state: %d keys gen %u", k.n, k.gen);
		ini_logout(&A3);
	}
}

/* SPC-4 5.13.7 / 6.16.3: ALL_TG_PT registers the initiator port on every
 * target port: one registration (I_T nexus) per port. */
void scen_all_tg_pt(void)
{
	struct rsp r;
	struct keys k;
	struct fullstatus fs;
	uint8_t ta[320];
	int la = tid_port(&A, ta);

	ini_up(&A, 1);
	ini_up(&B, 2);
	/* REPORT CAPABILITIES (6.15.4): ATP_C = 1 */
	prin(&A, 2, 8, &r);
	expect_status(&r, ST_GOOD, "REPORT CAPABILITIES");
	CHECK(r.len == 8 && (r.data[2] & 0x04), "ATP_C not set (byte 2 = %02x)", r.data[2]);
	prout(&A, SA_REGISTER, 0, 0, KA, PF_ALL_TG_PT, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "REGISTER ALL_TG_PT through port 1");
	expect_gen(&A, 1, "one REGISTER with ALL_TG_PT");
	if (read_keys(&B, &k))
		CHECK(k.n == 2 && count_key(&k, KA) == 2,
		      "READ KEYS: %d keys, want KA once per target port", k.n);
	if (read_full_status(&B, &fs)) {
		const struct fsd *d1 = fs_find(&fs, ta, la, 1), *d2 = fs_find(&fs, ta, la, 2);

		CHECK(fs.n == 2 && d1 && d2 && d1->key == KA && d2->key == KA,
		      "READ FULL STATUS: A not registered on both ports (%d descriptors)", fs.n);
	}
	/* the registration through port 2 counts before A ever logs in there:
	 * under EA RO it keeps B (a non-registrant) out but not A */
	prout(&A, SA_RESERVE, T_EA_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE EA RO");
	cmd_read16(&B, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "B (not registered) READ under EA RO");
	prout(&A, SA_RELEASE, T_EA_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RELEASE");
	/* 5.13.7: unregistering through one port leaves the other */
	prout(&A, SA_REGISTER, 0, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@1 unregisters");
	if (read_full_status(&B, &fs)) {
		const struct fsd *d2 = fs_find(&fs, ta, la, 2);

		CHECK(fs.n == 1 && d2 && d2->key == KA && fs.gen == 2,
		      "after unregistering via port 1: %d descriptors gen %u, want A@2 only", fs.n,
		      fs.gen);
	}
	/* registering again with ALL_TG_PT: port 2 is already registered, so
	 * REGISTER (RESERVATION KEY 0 does not match it) conflicts and
	 * REGISTER AND IGNORE EXISTING KEY re-keys it (doc item 4) */
	prout(&A, SA_REGISTER, 0, 0, KC, PF_ALL_TG_PT, NULL, 0, &r);
	expect_status(&r, ST_CONFLICT, "A@1 REGISTER ALL_TG_PT with port 2 registered");
	prout(&A, SA_REGISTER_IGNORE, 0, 0, KC, PF_ALL_TG_PT, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@1 REGISTER AND IGNORE ALL_TG_PT");
	if (read_keys(&B, &k))
		CHECK(k.n == 2 && count_key(&k, KC) == 2,
		      "after REGISTER AND IGNORE ALL_TG_PT: %d keys", k.n);
}

/* The same initiator port logged in through both target ports: the
 * ALL_TG_PT registration made through port 1 is usable through port 2. */
void scen_all_tg_pt_other_port_session(void)
{
	struct rsp r;
	struct keys k;
	struct ini A2 = A;

	A2.label = "A@port2";
	ini_up(&A, 1);
	ini_up(&B, 2);
	prout(&A, SA_REGISTER, 0, 0, KA, PF_ALL_TG_PT, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "REGISTER ALL_TG_PT through port 1");
	ini_up(&A2, 2);
	prout(&A2, SA_RESERVE, T_EA, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A through port 2 RESERVE EA with the ALL_TG_PT key");
	cmd_read16(&A, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "A through port 1 (registrant, not holder) READ under EA");
	cmd_read16(&B, 0, 1, &r);
	expect_status(&r, ST_CONFLICT, "B READ under EA");
	prout(&A2, SA_RELEASE, T_EA, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@2 RELEASE");
	prout(&A2, SA_REGISTER, 0, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@2 unregisters");
	if (read_keys(&B, &k))
		CHECK(k.n == 1 && k.key[0] == KA && k.gen == 2,
		      "after unregister via port 2: %d keys gen %u", k.n, k.gen);
	prout(&A, SA_RESERVE, T_WE, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A@1 still registered");
	ini_logout(&A2);
}

/* SPC-4 6.15.2: PRgeneration +1 for every REGISTER / REGISTER AND IGNORE
 * that does something, CLEAR, PREEMPT, PREEMPT AND ABORT, REGISTER AND
 * MOVE; never for RESERVE, RELEASE, or a command that fails. */
void scen_prgeneration(void)
{
	struct rsp r;
	struct resv rv;
	uint32_t g = 0;
	uint8_t tb[320];
	int lb = tid_port(&B, tb);
	/* the observer never registers, so no PR unit attention is ever
	 * established for it (5.13.11) */
	struct ini O = A;

	O.label = "observer";
	O.isid_qual = 9;
	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	ini_up(&O, 1);
	expect_gen(&O, 0, "power on");
#define STEP(in, sa, type, key, sark, want_status, inc, what)   \
	do {                                                    \
		prout(in, sa, type, key, sark, 0, NULL, 0, &r); \
		expect_status(&r, want_status, what);           \
		g += (inc);                                     \
		expect_gen(&O, g, what);                        \
	} while (0)
	STEP(&A, SA_REGISTER, 0, 0, KA, ST_GOOD, 1, "REGISTER A");
	STEP(&B, SA_REGISTER, 0, 0, KB, ST_GOOD, 1, "REGISTER B");
	STEP(&C, SA_REGISTER_IGNORE, 0, 0, KC, ST_GOOD, 1, "REGISTER AND IGNORE C");
	STEP(&A, SA_RESERVE, T_WE, KA, 0, ST_GOOD, 0, "RESERVE");
	STEP(&A, SA_RESERVE, T_WE, KA, 0, ST_GOOD, 0, "RESERVE again (same type)");
	STEP(&B, SA_RESERVE, T_WE, KB, 0, ST_CONFLICT, 0, "conflicting RESERVE");
	STEP(&A, SA_RELEASE, T_WE, KA, 0, ST_GOOD, 0, "RELEASE");
	STEP(&A, SA_RESERVE, T_WE, KA, 0, ST_GOOD, 0, "RESERVE");
	STEP(&A, SA_REGISTER, 0, KA, KA + 1, ST_GOOD, 1, "re-key A");
	STEP(&A, SA_REGISTER, 0, KA + 1, KA + 1, ST_GOOD, 1, "re-register A with the same key");
	STEP(&A, SA_REGISTER, 0, KA, KA + 2, ST_CONFLICT, 0, "REGISTER with a wrong key");
	STEP(&A, SA_REGISTER_IGNORE, 0, 0, KA, ST_GOOD, 1, "REGISTER AND IGNORE re-key A");
	STEP(&B, SA_PREEMPT, T_WE, KB, KC, ST_GOOD, 1, "PREEMPT C (registrations only)");
	STEP(&B, SA_PREEMPT, T_WE, KB, KC, ST_CONFLICT, 0, "PREEMPT of a key nobody has");
	expect_uas(&C, "preempted", UA_REG_PREEMPTED);
	STEP(&C, SA_REGISTER, 0, 0, KC, ST_GOOD, 1, "REGISTER C again");
	STEP(&B, SA_PREEMPT_ABORT, T_WE, KB, KA, ST_GOOD, 1, "PREEMPT AND ABORT the holder");
	if (read_resv(&O, &rv))
		CHECK(rv.present && rv.key == KB && rv.gen == g,
		      "READ RESERVATION gen %u (want %u), holder %016llx", rv.gen, g,
		      (unsigned long long)rv.key);
	prout_move(&B, T_WE, KB, KC, false, false, 1, tb, lb, &r);
	expect_sense(&r, SK_ILLEGAL, 0x26, 0x00, "MOVE to itself");
	expect_gen(&O, g, "refused MOVE");
	{
		uint8_t tc[320];
		int lc = tid_port(&C, tc);

		prout_move(&B, T_WE, KB, KC, false, false, 1, tc, lc, &r);
		expect_status(&r, ST_GOOD, "REGISTER AND MOVE to C");
		g++;
		expect_gen(&O, g, "REGISTER AND MOVE");
	}
	STEP(&C, SA_RELEASE, T_WE, KC, 0, ST_GOOD, 0, "RELEASE");
	expect_uas(&A, "preempted and aborted", UA_REG_PREEMPTED);
	STEP(&A, SA_REGISTER, 0, 0, 0, ST_GOOD, 0, "unregistered SARK 0 (does nothing)");
	STEP(&C, SA_CLEAR, 0, KC, 0, ST_GOOD, 1, "CLEAR");
	STEP(&C, SA_CLEAR, 0, KC, 0, ST_CONFLICT, 0, "CLEAR from an unregistered I_T nexus");
#undef STEP
	ini_logout(&O);
}
