// SPDX-License-Identifier: MIT
/*
 * PREEMPT AND ABORT with commands in flight (SPC-4 5.13.11.2.6, SAM-5 5.6,
 * RFC 7143 4.2.3.5 / 11.5.1) and APTPL across a daemon restart (SPC-4
 * 5.13.5.1, 6.15.2; issue 11). The abort scenario runs against an LU on a
 * loop device whose I/O the harness throttles (blkio), so that the victim's
 * READs and WRITEs are still at the device when the preempt arrives.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "pr_scen.h"

struct inflight {
	const char *owner;
	bool done;
	int status;
};

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct inflight *f = priv;
	struct scsi_task *t = data;

	(void)ctx;
	f->done = true;
	f->status = status;
	if (t)
		scsi_free_scsi_task(t);
}

/* Service one context until `f` completes (or the timeout). */
static bool pump_until(struct ini *in, struct inflight *f, int ms)
{
	for (int waited = 0; !f->done && waited < ms; waited += 10) {
		struct pollfd p = {iscsi_get_fd(in->ctx), (short)iscsi_which_events(in->ctx), 0};

		if (poll(&p, 1, 10) < 0)
			return false;
		if (iscsi_service(in->ctx, p.revents) < 0)
			return false;
	}
	return f->done;
}

/* Flush the context's queued PDUs onto the socket without reading
 * anything: an R2T or a response that arrives meanwhile stays unread. */
static void flush_out(struct ini *in)
{
	for (int i = 0; i < 500 && iscsi_out_queue_length(in->ctx) > 0; i++) {
		struct pollfd p = {iscsi_get_fd(in->ctx), POLLOUT, 0};

		if (poll(&p, 1, 10) < 0 || iscsi_service(in->ctx, p.revents & POLLOUT) < 0)
			return;
	}
}

#define NREAD 6
#define NWRITE 2
#define XFER (64 * 1024)

void scen_preempt_abort(void)
{
	struct inflight va[NREAD + NWRITE], vb = {"B", false, 0}, vc = {"C", false, 0};
	static uint8_t wbuf[NWRITE][XFER];
	struct rsp r;
	int answered = 0, unanswered = 0;

	ini_up(&A, 1);
	ini_up(&B, 1);
	ini_up(&C, 1);
	/* SPC-4 7.5.8 control mode page: TAS (byte 5 bit 6) = 0, so the
	 * victim's aborted commands get no status and it is told with
	 * COMMANDS CLEARED BY ANOTHER INITIATOR (SAM-5 5.6) */
	{
		uint8_t cdb[6] = {0x1a, 0x08, 0x0a, 0, 255};

		run_cdb(&A, cdb, 6, 1, 255, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "MODE SENSE control page");
		CHECK(r.len >= 4 + 12 && r.data[4] == 0x0a && !(r.data[4 + 5] & 0x40),
		      "control mode page: TAS set or page missing (len %d)", r.len);
	}
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE RO");

	/* the victim's commands, in flight at the (throttled) device */
	for (int i = 0; i < NREAD + NWRITE; i++) {
		struct scsi_task *t;

		va[i] = (struct inflight){"A", false, 0};
		if (i < NREAD) {
			t = iscsi_read16_task(A.ctx, g_lun, (uint64_t)i * 1024, XFER, 512, 0, 0, 0,
					      0, 0, io_cb, &va[i]);
		} else {
			memset(wbuf[i - NREAD], 0x5a, sizeof(wbuf[0]));
			t = iscsi_write16_task(A.ctx, g_lun, 65536 + (uint64_t)i * 1024,
					       wbuf[i - NREAD], sizeof(wbuf[0]), 512, 0, 0, 0, 0, 0,
					       io_cb, &va[i]);
		}
		REQUIRE(t != NULL, "queue victim command %d", i);
	}
	flush_out(&A);
	/* commands on one connection are delivered in CmdSN order: when
	 * this TEST UNIT READY is answered, every READ/WRITE before it has
	 * reached the task set */
	cmd_tur(&A, &r);
	expect_status(&r, ST_GOOD, "victim TEST UNIT READY");
	/* the preempter's and a bystander's own commands, also in flight */
	REQUIRE(iscsi_read16_task(B.ctx, g_lun, 4096, XFER, 512, 0, 0, 0, 0, 0, io_cb, &vb),
		"B READ");
	REQUIRE(iscsi_read16_task(C.ctx, g_lun, 8192, XFER, 512, 0, 0, 0, 0, 0, io_cb, &vc),
		"C READ");
	flush_out(&B);
	flush_out(&C);
	cmd_tur(&C, &r);
	expect_status(&r, ST_GOOD, "bystander TEST UNIT READY");
	{
		int before = 0;
		for (int i = 0; i < NREAD + NWRITE; i++)
			before += va[i].done;
		note("victim commands completed before the PREEMPT AND ABORT: %d of %d", before,
		     NREAD + NWRITE);
		CHECK(before < NREAD + NWRITE,
		      "every victim command completed before the preempt: the device is not slow "
		      "enough for this test");
	}

	/* 5.13.11.2.6 / SAM-5 5.6: the PERSISTENT RESERVE OUT completes only
	 * after the aborted commands have, i.e. after their I/O left the
	 * (throttled) device: about 1.5 s here */
	{
		struct timespec t0, t1;
		double s;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		prout(&B, SA_PREEMPT_ABORT, T_WE_RO, KB, KA, 0, NULL, 0, &r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		expect_status(&r, ST_GOOD, "B PREEMPT AND ABORT KA");
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		note("PREEMPT AND ABORT took %.2f s", s);
		CHECK(s >= 0.5,
		      "PREEMPT AND ABORT answered after %.2f s: before the aborted "
		      "commands' I/O could have finished",
		      s);
	}

	/* not aborted: the preempter's own command, and the bystander's */
	CHECK(pump_until(&B, &vb, 30000) && vb.status == SCSI_STATUS_GOOD,
	      "preempter's own READ: done %d status %d", vb.done, vb.status);
	CHECK(pump_until(&C, &vc, 30000) && vc.status == SCSI_STATUS_GOOD,
	      "bystander's READ: done %d status %d", vc.done, vc.status);

	/* The victim: a response arrives for the commands that completed
	 * before the abort (GOOD), none for the aborted ones (SAM-5 5.6 with
	 * TAS=0; RFC 7143 4.2.3.5: no response for an aborted task). The
	 * unit attentions come after every earlier response on this
	 * connection. */
	expect_uas(&A, "preempted and aborted", UA_REG_PREEMPTED, UA_CMDS_CLEARED);
	cmd_read16(&A, 0, 1, &r);
	expect_status(&r, ST_GOOD, "victim READ after the fence (WE RO, not registered)");
	cmd_write16(&A, 0, 1, 0xaa, &r);
	expect_status(&r, ST_CONFLICT, "victim WRITE after the fence");
	for (int i = 0; i < NREAD + NWRITE; i++) {
		if (!va[i].done) {
			unanswered++;
			continue;
		}
		answered++;
		CHECK(va[i].status == SCSI_STATUS_GOOD,
		      "victim command %d answered with status %d (completed before the abort, "
		      "want GOOD)",
		      i, va[i].status);
	}
	note("victim: %d answered, %d aborted without a response", answered, unanswered);
	CHECK(unanswered >= 1, "no victim command was aborted");
	expect_uas(&B, "preempter", 0);
	expect_uas(&C, "bystander", 0);
	/* the victim's session still works: CmdSN window not stalled */
	for (int i = 0; i < 4; i++) {
		cmd_tur(&A, &r);
		expect_status(&r, ST_GOOD, "victim TEST UNIT READY after the abort");
	}
	/* releases the outstanding tasks (callbacks with CANCELLED) */
	iscsi_destroy_context(A.ctx);
	A.ctx = NULL;
}

/* ---- APTPL across a restart (issue 11) ---- */

struct snap {
	int len[3];
	uint8_t data[3][8192];
};

static void take_snap(struct ini *in, struct snap *s)
{
	struct rsp r;

	for (int sa = 0; sa < 3; sa++) {
		int which = sa == 2 ? 3 : sa; /* READ KEYS, READ RESERVATION, READ FULL STATUS */

		prin(in, which, 8192, &r);
		expect_status(&r, ST_GOOD, "PERSISTENT RESERVE IN");
		s->len[sa] = r.len;
		memcpy(s->data[sa], r.data, (size_t)r.len);
	}
}

void scen_aptpl_restart(void)
{
	struct rsp r;
	struct snap now, before;
	FILE *f;

	if (g_phase == 1) {
		ini_up(&A, 1);
		ini_up(&B, 2);
		prout(&A, SA_REGISTER, 0, 0, KA, PF_APTPL, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A REGISTER APTPL=1");
		prout(&B, SA_REGISTER, 0, 0, KB, PF_APTPL, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "B REGISTER APTPL=1 (through port 2)");
		prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RESERVE WE RO");
		prin(&A, 2, 8, &r);
		CHECK(r.status == ST_GOOD && (r.data[3] & 0x01), "PTPL_A not set after APTPL=1");
		take_snap(&A, &now);
		CHECK(be32(now.data[0]) == 2, "PRgeneration before restart %u", be32(now.data[0]));
		f = fopen(g_state_file, "wb");
		REQUIRE(f && fwrite(&now, sizeof(now), 1, f) == 1, "write %s", g_state_file);
		fclose(f);
		return; /* the harness SIGKILLs the daemon now: no logout */
	}
	f = fopen(g_state_file, "rb");
	REQUIRE(f && fread(&before, sizeof(before), 1, f) == 1, "read %s", g_state_file);
	fclose(f);
	/* enforced from the first command, before the holder is back: C (never
	 * registered) gets POWER ON first (SAM-5 6.3.1, a restart is a power
	 * on), then its WRITE conflicts; B (registrant under WE RO) writes */
	ini_up(&C, 1);
	cmd_write16(&C, 0, 1, 0xcc, &r);
	expect_status(&r, ST_CONFLICT, "C WRITE after restart, holder not logged in");
	cmd_read16(&C, 0, 1, &r);
	expect_status(&r, ST_GOOD, "C READ under WE RO");
	ini_up(&B, 2);
	cmd_write16(&B, 0, 1, 0xbb, &r);
	expect_status(&r, ST_GOOD, "B (restored registrant) WRITE under WE RO");
	take_snap(&B, &now);
	/* identical except PRgeneration, which a power on sets to 0 (6.15.2) */
	for (int i = 0; i < 3; i++) {
		static const char *nm[3] = {"READ KEYS", "READ RESERVATION", "READ FULL STATUS"};

		CHECK(be32(now.data[i]) == 0, "%s: PRgeneration %u after restart, want 0", nm[i],
		      be32(now.data[i]));
		CHECK(now.len[i] == before.len[i] &&
			  !memcmp(now.data[i] + 4, before.data[i] + 4, (size_t)now.len[i] - 4),
		      "%s differs after restart (%d vs %d bytes)", nm[i], now.len[i],
		      before.len[i]);
	}
	prin(&B, 2, 8, &r);
	CHECK(r.status == ST_GOOD && (r.data[3] & 0x01), "PTPL_A not set after restart");
	ini_up(&A, 1);
	cmd_write16(&A, 0, 1, 0xaa, &r);
	expect_status(&r, ST_GOOD, "A (restored holder) WRITE");
	prout(&A, SA_RELEASE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RELEASE after restart");
}

void scen_aptpl_off_restart(void)
{
	struct rsp r;
	struct keys k;
	struct resv rv;
	struct fullstatus fs;

	if (g_phase == 1) {
		ini_up(&A, 1);
		ini_up(&B, 2);
		prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A REGISTER APTPL=0");
		prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "B REGISTER APTPL=0");
		prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
		expect_status(&r, ST_GOOD, "A RESERVE WE RO");
		return;
	}
	/* SPC-4 5.13.5.1: without APTPL a power on loses everything */
	ini_up(&C, 1);
	cmd_write16(&C, 0, 1, 0xcc, &r);
	expect_status(&r, ST_GOOD, "C WRITE after restart without APTPL");
	if (read_keys(&C, &k))
		CHECK(k.gen == 0 && k.addlen == 0 && k.n == 0, "READ KEYS: gen %u, %d keys", k.gen,
		      k.n);
	if (read_resv(&C, &rv))
		CHECK(rv.gen == 0 && !rv.present, "READ RESERVATION: gen %u present %d", rv.gen,
		      rv.present);
	if (read_full_status(&C, &fs))
		CHECK(fs.gen == 0 && fs.addlen == 0 && fs.n == 0,
		      "READ FULL STATUS: %d descriptors", fs.n);
	prin(&C, 2, 8, &r);
	CHECK(r.status == ST_GOOD && !(r.data[3] & 0x01), "PTPL_A set without APTPL");
}

/* A victim WRITE that is still waiting for its solicited Data-Out (R2T)
 * when PREEMPT AND ABORT arrives: the command PDU has been received, so
 * the task is in the task set (SAM-5 4.6, RFC 7143 4.2.3.2 "outstanding
 * tasks") and is aborted like any other: no response once its data comes
 * (the initiator still answers the R2T, RFC 7143 4.2.3.3 b), and COMMANDS
 * CLEARED BY ANOTHER INITIATOR with TAS=0. */
void scen_preempt_abort_pending_data_out(void)
{
	static uint8_t big[1 << 20];
	struct inflight w = {"A", false, 0};
	struct rsp r;

	ini_up(&A, 1);
	ini_up(&B, 1);
	prout(&A, SA_REGISTER, 0, 0, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A REGISTER");
	prout(&B, SA_REGISTER, 0, 0, KB, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B REGISTER");
	prout(&A, SA_RESERVE, T_WE_RO, KA, 0, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "A RESERVE WE RO");
	memset(big, 0x77, sizeof(big));
	/* 1 MiB: more than FirstBurstLength (64 KiB), so the rest waits
	 * for R2Ts; the victim is not serviced until after the preempt */
	REQUIRE(
	    iscsi_write16_task(A.ctx, g_lun, 0, big, sizeof(big), 512, 0, 0, 0, 0, 0, io_cb, &w),
	    "queue the victim's WRITE");
	flush_out(&A);
	prout(&B, SA_PREEMPT_ABORT, T_WE_RO, KB, KA, 0, NULL, 0, &r);
	expect_status(&r, ST_GOOD, "B PREEMPT AND ABORT KA");
	/* now the victim answers its R2Ts; the WRITE must not complete */
	pump_until(&A, &w, 2000);
	CHECK(!w.done,
	      "the victim's WRITE (awaiting Data-Out at the preempt) was answered "
	      "with status %d instead of being aborted",
	      w.status);
	expect_uas(&A, "preempted and aborted", UA_REG_PREEMPTED, UA_CMDS_CLEARED);
	{
		struct ini *in = &A;
		uint8_t buf[512];

		cmd_read16(in, 0, 1, &r);
		expect_status(&r, ST_GOOD, "READ after the fence");
		memcpy(buf, r.data, sizeof(buf));
		CHECK(buf[0] != 0x77, "the aborted WRITE's data reached the medium");
	}
	iscsi_destroy_context(A.ctx);
	A.ctx = NULL;
}
