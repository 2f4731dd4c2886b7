// SPDX-License-Identifier: MIT
/*
 * Persistent reservations through scsi_task_submit (real evloop, mem bdev,
 * real pr engine, real worker thread for APTPL):
 *
 *   target iqn...:disk1, port tpgt 1 (relative target port 1), LUN 0
 *        ^            ^            ^
 *   host1 (A)     host2 (B)     host3 (C)     host4: no nexus until a test
 *   isid ..01     isid ..02     isid ..03     creates one (pending UAs)
 *
 * Each test has its own state directory (mkdtemp).
 */
#include <dirent.h>
#include <semaphore.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scsi_harness.h"
#include "scsi_priv.h"
#include "targetd/pr.h"

#define INIT3 "iqn.2026-12.org.example:host3"
#define INIT4 "iqn.2026-12.org.example:host4"
#define SERIAL "prglue-0001"
#define STATE_FILE "pr-" SERIAL ".state"

enum {
	A,
	B,
	C,
	NNX
};

static const uint8_t isids[4][6] = {
    {0x80, 0, 0, 0, 0, 1}, {0x80, 0, 0, 0, 0, 2}, {0x80, 0, 0, 0, 0, 3}, {0x80, 0, 0, 0, 0, 4}};
static const char *const inits[4] = {FX_INIT, FX_INIT2, INIT3, INIT4};

struct pfx {
	struct fx f;
	char dir[64];
	char state_dir[128]; /* what the core is given (may not exist) */
	struct scsi_nexus *nx[NNX];
};

static const uint8_t tur[6] = {0};

static void consume_power_on(struct pfx *p, struct scsi_nexus *nx)
{
	struct cmd c;

	cmd_prep(&c, &p->f, nx, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x06, 0x29, 0x00);
	cmd_fini(&c);
}

static int lu_create(struct pfx *p, bool ignore)
{
	struct scsi_lu_params lp = {
	    .path = "mem:1M", .block_size = 512, .serial = SERIAL, .pr_ignore_state = ignore};

	return scsi_lu_create(p->f.core, &lp, &p->f.lu);
}

/* A new core (a restart) on the same state directory. */
static void core_start(struct pfx *p)
{
	struct scsi_core_params cp = {.state_dir = p->state_dir, .max_registrants = 8};

	assert_int_equal(scsi_core_create(p->f.evl, &cp, &p->f.core), 0);
	assert_int_equal(lu_create(p, false), 0);
	assert_int_equal(scsi_target_create(p->f.core, FX_TARGET, &p->f.tgt), 0);
	assert_int_equal(scsi_target_add_port(p->f.tgt, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(p->f.tgt, 0, p->f.lu), 0);
	for (int i = 0; i < NNX; i++) {
		p->nx[i] = scsi_nexus_get(p->f.tgt, inits[i], isids[i], 1);
		assert_non_null(p->nx[i]);
		consume_power_on(p, p->nx[i]);
	}
}

static void core_stop(struct pfx *p)
{
	for (int i = 0; i < NNX; i++)
		scsi_nexus_put(p->nx[i]);
	scsi_core_destroy(p->f.core);
	p->f.core = NULL;
}

static int pfx_setup(void **state)
{
	struct pfx *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	strcpy(p->dir, "/tmp/targetd-prglue-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->state_dir, sizeof(p->state_dir), "%s", p->dir);
	assert_int_equal(evl_create(&p->f.evl), 0);
	assert_int_equal(evl_timer_create(p->f.evl, fx_guard, &p->f, &p->f.guard), 0);
	core_start(p);
	*state = p;
	return 0;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int pfx_teardown(void **state)
{
	struct pfx *p = *state;

	if (p->f.core)
		core_stop(p);
	evl_timer_destroy(p->f.guard);
	evl_destroy(p->f.evl);
	rm_tree(p->dir);
	free(p);
	return 0;
}

/* ---- commands ------------------------------------------------------------ */

#define F_APTPL 0x01
#define F_ALL_TG_PT 0x04
#define F_SPEC_I_PT 0x08

/* Prepare (not submit) a PERSISTENT RESERVE OUT: SPC-4 6.16.1 CDB, 6.16.3
 * basic parameter list plus optional TransportIDs. */
static void prout_prep(struct pfx *p, struct cmd *c, struct scsi_nexus *nx, uint8_t sa,
		       uint8_t type, uint64_t key, uint64_t sark, uint8_t flags,
		       const uint8_t *tids, uint32_t tids_len)
{
	uint8_t param[256] = {0};
	uint32_t plen = 24;
	uint8_t cdb[10] = {0x5f, sa, type, 0, 0, 0, 0, 0, 0, 0};

	put_be64(param, key);
	put_be64(param + 8, sark);
	param[20] = flags;
	if (flags & F_SPEC_I_PT) {
		put_be32(param + 24, tids_len);
		memcpy(param + 28, tids, tids_len);
		plen = 28 + tids_len;
	}
	put_be32(cdb + 5, plen);
	cmd_prep(c, &p->f, nx, 0, cdb, 10, plen, SCSI_TASK_F_WRITE);
	cmd_data_out(c, param, plen);
}

static uint8_t prout(struct pfx *p, struct scsi_nexus *nx, uint8_t sa, uint8_t type, uint64_t key,
		     uint64_t sark, uint8_t flags)
{
	struct cmd c;
	uint8_t st;

	prout_prep(p, &c, nx, sa, type, key, sark, flags, NULL, 0);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_int_equal(c.ndone, 1);
	st = c.t.status;
	cmd_fini(&c);
	return st;
}

static void run_cdb(struct pfx *p, struct cmd *c, struct scsi_nexus *nx, const uint8_t *cdb,
		    size_t len, uint32_t edtl, uint32_t flags)
{
	cmd_prep(c, &p->f, nx, 0, cdb, len, edtl, flags);
	if (flags & SCSI_TASK_F_WRITE) {
		static uint8_t zero[512];
		cmd_data_out(c, zero, edtl);
	}
	cmd_submit(c);
	fx_run(&p->f);
	assert_int_equal(c->ndone, 1);
}

static uint8_t status_of(struct pfx *p, struct scsi_nexus *nx, const uint8_t *cdb, size_t len,
			 uint32_t edtl, uint32_t flags)
{
	struct cmd c;
	uint8_t st;

	run_cdb(p, &c, nx, cdb, len, edtl, flags);
	st = c.t.status;
	cmd_fini(&c);
	return st;
}

static const uint8_t read10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
static const uint8_t write10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};

static uint8_t do_read(struct pfx *p, struct scsi_nexus *nx)
{
	return status_of(p, nx, read10, 10, 512, SCSI_TASK_F_READ);
}

static uint8_t do_write(struct pfx *p, struct scsi_nexus *nx)
{
	return status_of(p, nx, write10, 10, 512, SCSI_TASK_F_WRITE);
}

/* PR IN into c (caller fini). */
static void prin(struct pfx *p, struct cmd *c, struct scsi_nexus *nx, uint8_t sa)
{
	uint8_t cdb[10] = {0x5e, sa, 0, 0, 0, 0, 0, 0x10, 0x00, 0};

	run_cdb(p, c, nx, cdb, 10, 4096, SCSI_TASK_F_READ);
	assert_good(c);
}

/* READ KEYS: generation and number of keys. */
static void read_keys(struct pfx *p, struct scsi_nexus *nx, uint32_t *gen, uint32_t *nkeys,
		      uint64_t *key0)
{
	struct cmd c;

	prin(p, &c, nx, PR_IN_READ_KEYS);
	*gen = get_be32(c.t.buf);
	*nkeys = get_be32(c.t.buf + 4) / 8;
	if (key0)
		*key0 = *nkeys ? get_be64(c.t.buf + 8) : 0;
	cmd_fini(&c);
}

/* READ RESERVATION: type (0 = none) and holder key. */
static uint8_t read_res(struct pfx *p, struct scsi_nexus *nx, uint64_t *key)
{
	struct cmd c;
	uint8_t type = 0;

	prin(p, &c, nx, PR_IN_READ_RESERVATION);
	if (get_be32(c.t.buf + 4) >= 16) {
		type = c.t.buf[21] & 0x0f;
		if (key)
			*key = get_be64(c.t.buf + 8);
	}
	cmd_fini(&c);
	return type;
}

/* The next pending UA of nx (TUR reports and clears it), or 0/0. */
static void next_ua(struct pfx *p, struct scsi_nexus *nx, uint8_t *asc, uint8_t *ascq)
{
	struct cmd c;

	run_cdb(p, &c, nx, tur, 6, 0, 0);
	*asc = *ascq = 0;
	if (c.t.status == SCSI_STATUS_CHECK_CONDITION && (c.t.sense[2] & 0x0f) == 0x06) {
		*asc = c.t.sense[12];
		*ascq = c.t.sense[13];
	}
	cmd_fini(&c);
}

static void assert_ua(struct pfx *p, struct scsi_nexus *nx, uint8_t asc, uint8_t ascq)
{
	uint8_t a, q;

	next_ua(p, nx, &a, &q);
	assert_int_equal(a, asc);
	assert_int_equal(q, ascq);
}

static void assert_no_ua(struct pfx *p, struct scsi_nexus *nx)
{
	assert_ua(p, nx, 0, 0);
}

static bool state_file_exists(struct pfx *p)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", p->dir, STATE_FILE);
	return stat(path, &sb) == 0;
}

#define GOOD SCSI_STATUS_GOOD
#define CONFLICT SCSI_STATUS_RESERVATION_CONFLICT
#define CHECK SCSI_STATUS_CHECK_CONDITION

/* ---- tests ----------------------------------------------------------------- */

static void spc4_5_13_1_reservation_gates_io_by_type(void **state)
{
	struct pfx *p = *state;

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, 0), GOOD);
	/* SBC-4 table 13, Write Exclusive: everyone reads, only the holder
	 * writes */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[A]), GOOD);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	assert_int_equal(do_write(p, p->nx[C]), CONFLICT);
	assert_int_equal(do_read(p, p->nx[C]), GOOD);
	/* SPC-4 table 65: INQUIRY, TUR, PR IN stay allowed */
	assert_int_equal(status_of(p, p->nx[C], tur, 6, 0, 0), GOOD);
	uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
	assert_int_equal(status_of(p, p->nx[C], inq, 6, 36, SCSI_TASK_F_READ), GOOD);
	uint64_t key = 0;
	assert_int_equal(read_res(p, p->nx[C], &key), PR_TYPE_WR_EX);
	assert_int_equal(key, 0xaa);
	/* Exclusive Access: the non-holder cannot read either */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xaa, 0, 0), GOOD);
	assert_int_equal(do_read(p, p->nx[B]), CONFLICT);
	assert_int_equal(do_read(p, p->nx[A]), GOOD);
	/* registrants only: registered B writes, C does not */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RELEASE, PR_TYPE_EX_AC, 0xaa, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xaa, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[B]), GOOD);
	assert_int_equal(do_write(p, p->nx[C]), CONFLICT);
	/* PR OUT from an unregistered nexus: RESERVATION CONFLICT (5.13.7) */
	assert_int_equal(prout(p, p->nx[C], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xcc, 0, 0), CONFLICT);
}

static void spc4_6_16_prout_short_parameter_list_is_length_error(void **state)
{
	struct pfx *p = *state;
	struct cmd c;

	prout_prep(p, &c, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0, NULL, 0);
	c.t.data_out_len = 20; /* the CDB says 24 */
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x05, 0x1a, 0x00);
	cmd_fini(&c);
	/* 6.16.2: with SPEC_I_PT=0 the length shall be 24 */
	uint8_t param[32] = {0};
	uint8_t cdb[10] = {0x5f, PR_OUT_REGISTER, 0, 0, 0, 0, 0, 0, 32, 0};
	put_be64(param + 8, 0xaa);
	cmd_prep(&c, &p->f, p->nx[A], 0, cdb, 10, 32, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, param, 32);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x05, 0x1a, 0x00);
	cmd_fini(&c);
	/* reserved service action: INVALID FIELD IN CDB, byte 1 */
	prout_prep(p, &c, p->nx[A], 0x1f, 0, 0, 0xaa, 0, NULL, 0);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x05, 0x24, 0x00);
	assert_int_equal(get_be16(c.t.sense + 16), 1);
	cmd_fini(&c);
	uint32_t gen, n;
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(n, 0);
}

static void spc4_5_13_11_2_4_preempt_ua_only_to_preempted(void **state)
{
	struct pfx *p = *state;

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xbb, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_PREEMPT, PR_TYPE_WR_EX, 0xaa, 0xbb, 0), GOOD);
	/* B lost its registration: REGISTRATIONS PREEMPTED (2A/05); A (the
	 * preempter) and C (not registered) get nothing */
	assert_ua(p, p->nx[B], 0x2a, 0x05);
	assert_no_ua(p, p->nx[B]);
	assert_no_ua(p, p->nx[A]);
	assert_no_ua(p, p->nx[C]);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	assert_int_equal(do_write(p, p->nx[A]), GOOD);
	uint64_t key = 0;
	assert_int_equal(read_res(p, p->nx[B], &key), PR_TYPE_WR_EX);
	assert_int_equal(key, 0xaa);
}

static void spc4_5_13_11_2_2_release_ro_ua_to_other_registrants(void **state)
{
	struct pfx *p = *state;

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xaa, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RELEASE, PR_TYPE_WR_EX_RO, 0xaa, 0, 0), GOOD);
	assert_ua(p, p->nx[B], 0x2a, 0x04); /* RESERVATIONS RELEASED */
	assert_no_ua(p, p->nx[A]);
	assert_no_ua(p, p->nx[C]);
	/* CLEAR: RESERVATIONS PREEMPTED to every other registrant */
	assert_int_equal(prout(p, p->nx[B], PR_OUT_CLEAR, 0, 0xbb, 0, 0), GOOD);
	assert_ua(p, p->nx[A], 0x2a, 0x03);
	assert_no_ua(p, p->nx[B]);
}

/* A registrant with no I_T nexus now (registered through SPEC_I_PT, never
 * logged in) sees the UA when it logs in: after POWER ON, since it had not
 * seen the LU since power on either. */
static void spc4_5_13_11_ua_reaches_registrant_that_logs_in_later(void **state)
{
	struct pfx *p = *state;
	struct pr_itn d = {.has_isid = true};
	uint8_t tid[256];
	struct cmd c;

	util_strlcpy(d.initiator, INIT4, sizeof(d.initiator));
	memcpy(d.isid, isids[3], 6);
	size_t tl = pr_tid_encode(&d, tid);
	/* A registers itself and host4 (SPC-4 6.16.3 SPEC_I_PT) */
	prout_prep(p, &c, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, F_SPEC_I_PT, tid, (uint32_t)tl);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_good(&c);
	cmd_fini(&c);
	uint32_t gen, n;
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(n, 2);
	/* A reserves and preempts host4 (same key: the self-preempt that
	 * fence_scsi uses keeps A's own registration) */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xaa, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_PREEMPT, PR_TYPE_WR_EX_RO, 0xaa, 0xaa, 0), GOOD);
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(n, 1);
	assert_no_ua(p, p->nx[A]);
	assert_no_ua(p, p->nx[B]);
	/* host4 logs in now */
	struct scsi_nexus *d_nx = scsi_nexus_get(p->f.tgt, INIT4, isids[3], 1);
	assert_non_null(d_nx);
	assert_ua(p, d_nx, 0x29, 0x00);
	assert_ua(p, d_nx, 0x2a, 0x05);
	assert_no_ua(p, d_nx);
	assert_int_equal(do_write(p, d_nx), CONFLICT);
	/* another initiator port of host4 (other ISID) was never registered */
	static const uint8_t isid5[6] = {0x80, 0, 0, 0, 0, 5};
	struct scsi_nexus *d2 = scsi_nexus_get(p->f.tgt, INIT4, isid5, 1);
	assert_ua(p, d2, 0x29, 0x00);
	assert_no_ua(p, d2);
	scsi_nexus_put(d2);
	scsi_nexus_put(d_nx);
}

/* SPC-4 5.13.11.2.6: PREEMPT AND ABORT aborts the preempted nexus' command
 * in flight on the LU (it still finishes its I/O, done with aborted=true),
 * not the preempter's, and completes after it. */
static void spc4_5_13_11_2_6_preempt_and_abort_aborts_victim_only(void **state)
{
	struct pfx *p = *state;
	struct cmd pa, vw, own;
	static uint8_t data[512];

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, 0), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xbb, 0, 0), GOOD);
	/* one batch: the PROUT, then B's write and A's read (both allowed by
	 * the committed state, in flight when the PROUT commits) */
	prout_prep(p, &pa, p->nx[A], PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WR_EX, 0xaa, 0xbb, 0, NULL,
		   0);
	cmd_submit(&pa);
	cmd_prep(&vw, &p->f, p->nx[B], 0, write10, 10, 512, SCSI_TASK_F_WRITE);
	cmd_data_out(&vw, data, 512);
	cmd_submit(&vw);
	cmd_prep(&own, &p->f, p->nx[A], 0, read10, 10, 512, SCSI_TASK_F_READ);
	cmd_submit(&own);
	fx_run(&p->f);
	assert_good(&pa);
	assert_true(vw.t.aborted);
	assert_good(&own);
	assert_true(pa.order > vw.order);
	cmd_fini(&pa);
	cmd_fini(&vw);
	cmd_fini(&own);
	/* B: REGISTRATIONS PREEMPTED and COMMANDS CLEARED BY ANOTHER
	 * INITIATOR (TAS=0); A: nothing */
	assert_ua(p, p->nx[B], 0x2a, 0x05);
	assert_ua(p, p->nx[B], 0x2f, 0x00);
	assert_no_ua(p, p->nx[B]);
	assert_no_ua(p, p->nx[A]);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	uint64_t key = 0;
	assert_int_equal(read_res(p, p->nx[A], &key), PR_TYPE_WR_EX);
	assert_int_equal(key, 0xaa);
}

static void issue11_aptpl_written_and_restored_after_restart(void **state)
{
	struct pfx *p = *state;
	uint32_t gen, n;
	uint64_t key = 0;

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, F_APTPL), GOOD);
	assert_true(state_file_exists(p));
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, F_APTPL), GOOD);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_RESERVE, PR_TYPE_EX_AC, 0xbb, 0, 0), GOOD);
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(gen, 2);
	core_stop(p);
	/* restart: a power on */
	core_start(p);
	read_keys(p, p->nx[A], &gen, &n, &key);
	assert_int_equal(gen, 0); /* SPC-4 6.15.2 */
	assert_int_equal(n, 2);
	assert_int_equal(key, 0xaa);
	assert_int_equal(read_res(p, p->nx[A], &key), PR_TYPE_EX_AC);
	assert_int_equal(key, 0xbb);
	/* enforced before the holder came back: A conflicts, B reads */
	assert_int_equal(do_read(p, p->nx[A]), CONFLICT);
	assert_int_equal(do_read(p, p->nx[B]), GOOD);
	/* PTPL_A in REPORT CAPABILITIES (SPC-4 6.15.4) */
	struct cmd c;
	prin(p, &c, p->nx[C], PR_IN_REPORT_CAPABILITIES);
	assert_int_equal(c.t.buf[2] & 0x01, 1); /* PTPL_C */
	assert_int_equal(c.t.buf[3] & 0x01, 1); /* PTPL_A */
	cmd_fini(&c);
	/* APTPL=0 deactivates: the file goes, and a restart forgets */
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0xbb, 0xbb, 0), GOOD);
	assert_false(state_file_exists(p));
	core_stop(p);
	core_start(p);
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(read_res(p, p->nx[A], NULL), 0);
}

/* A PROUT that changes nothing (RESERVE again by the holder) writes
 * nothing: the file keeps its inode and mtime. */
static void issue11_prout_without_change_writes_nothing(void **state)
{
	struct pfx *p = *state;
	char path[256];
	struct stat a, b;

	snprintf(path, sizeof(path), "%s/%s", p->dir, STATE_FILE);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, F_APTPL), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	/* a RELEASE from a non-holder does nothing either */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0xaa, 0xaa, F_APTPL), GOOD);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
}

/* The commit fails (state directory missing): CHECK CONDITION, HARDWARE
 * ERROR / INTERNAL TARGET FAILURE, memory unchanged; once the directory is
 * back the same PROUT succeeds. */
static void issue11_store_failure_leaves_memory_unchanged(void **state)
{
	struct pfx *p = *state;
	uint32_t gen, n;
	struct cmd c;

	core_stop(p);
	snprintf(p->state_dir, sizeof(p->state_dir), "%s/missing", p->dir);
	core_start(p);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	prout_prep(p, &c, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, F_APTPL, NULL, 0);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x04, 0x44, 0x00);
	cmd_fini(&c);
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(gen, 1);
	assert_int_equal(n, 1);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	assert_int_equal(mkdir(p->state_dir, 0700), 0);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, F_APTPL), GOOD);
	read_keys(p, p->nx[A], &gen, &n, NULL);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 2);
	char path[256];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s", p->state_dir, STATE_FILE);
	assert_int_equal(stat(path, &sb), 0);
	unlink(path);
	rmdir(p->state_dir);
}

/* PROUTs of one LU queue behind the one being written: all complete, in
 * order, and the file holds the last state. */
static void issue11_prouts_queue_behind_the_commit_in_flight(void **state)
{
	struct pfx *p = *state;
	struct cmd c[3];
	uint32_t gen, n;

	prout_prep(p, &c[0], p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, F_APTPL, NULL, 0);
	prout_prep(p, &c[1], p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, F_APTPL, NULL, 0);
	prout_prep(p, &c[2], p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0, NULL, 0);
	for (int i = 0; i < 3; i++)
		cmd_submit(&c[i]);
	fx_run(&p->f);
	for (int i = 0; i < 3; i++) {
		assert_good(&c[i]);
		if (i)
			assert_true(c[i].order > c[i - 1].order);
		cmd_fini(&c[i]);
	}
	read_keys(p, p->nx[C], &gen, &n, NULL);
	assert_int_equal(n, 2);
	core_stop(p);
	core_start(p);
	read_keys(p, p->nx[C], &gen, &n, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(read_res(p, p->nx[C], NULL), PR_TYPE_WR_EX);
}

static int block_work(void *arg)
{
	return sem_wait(arg);
}

static void block_done(void *arg, int result)
{
	(void)arg;
	(void)result;
}

static void stop_loop(void *arg)
{
	evl_stop(arg);
}

/* Run the loop for ms milliseconds whatever is pending. */
static void run_for(struct pfx *p, uint64_t ms)
{
	struct evl_timer *tm;

	assert_int_equal(evl_timer_create(p->f.evl, stop_loop, p->f.evl, &tm), 0);
	assert_int_equal(evl_timer_arm(tm, ms, 0), 0);
	assert_int_equal(evl_run(p->f.evl), 0);
	evl_timer_destroy(tm);
}

/* While a PROUT's APTPL write is on the worker, PR IN and I/O see the
 * committed state, and the PROUT is not answered (issue 11). */
static void issue11_prin_and_io_use_committed_state_during_commit(void **state)
{
	struct pfx *p = *state;
	struct evl_job blocker = {.work = block_work, .done = block_done};
	struct cmd pro, rk, wr;
	sem_t sem;
	static uint8_t data[512];
	uint8_t cdb[10] = {0x5e, PR_IN_READ_KEYS, 0, 0, 0, 0, 0, 0x10, 0x00, 0};

	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, F_APTPL), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	assert_int_equal(sem_init(&sem, 0, 0), 0);
	blocker.arg = &sem;
	evl_job_submit(p->f.evl, &blocker); /* the worker runs jobs in order */
	/* A releases: the new state (no reservation) waits for the disk */
	prout_prep(p, &pro, p->nx[A], PR_OUT_RELEASE, PR_TYPE_WR_EX, 0xaa, 0, 0, NULL, 0);
	cmd_submit(&pro);
	run_for(p, 50);
	assert_int_equal(pro.ndone, 0);
	cmd_prep(&rk, &p->f, p->nx[C], 0, cdb, 10, 4096, SCSI_TASK_F_READ);
	cmd_submit(&rk);
	cmd_prep(&wr, &p->f, p->nx[C], 0, write10, 10, 512, SCSI_TASK_F_WRITE);
	cmd_data_out(&wr, data, 512);
	cmd_submit(&wr);
	run_for(p, 50);
	assert_int_equal(pro.ndone, 0);
	assert_int_equal(rk.ndone, 1);
	assert_good(&rk);
	assert_int_equal(get_be32(rk.t.buf), 1); /* PRgeneration of the committed state */
	assert_int_equal(wr.ndone, 1);
	assert_int_equal(wr.t.status, CONFLICT); /* still reserved by A */
	assert_int_equal(sem_post(&sem), 0);
	fx_run(&p->f);
	assert_good(&pro);
	cmd_fini(&pro);
	cmd_fini(&rk);
	cmd_fini(&wr);
	assert_int_equal(do_write(p, p->nx[C]), GOOD);
	sem_destroy(&sem);
}

static void write_state_file(struct pfx *p, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", p->dir, STATE_FILE);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void issue11_corrupt_file_fails_lu_unless_ignored(void **state)
{
	struct pfx *p = *state;
	struct scsi_core_params cp = {.state_dir = p->dir};
	struct scsi_core *core;
	struct scsi_lu *saved = p->f.lu;

	write_state_file(p, "targetd-pr-state=1\naptpl=1\ngarbage\n");
	assert_int_equal(scsi_core_create(p->f.evl, &cp, &core), 0);
	struct scsi_core *mine = p->f.core;
	p->f.core = core;
	/* -EUCLEAN, distinct from every other failure: the daemon starts
	 * without this LU only */
	assert_int_equal(lu_create(p, false), -EUCLEAN);
	assert_true(state_file_exists(p)); /* left for the operator */
	/* the override: empty state, file moved aside */
	assert_int_equal(lu_create(p, true), 0);
	assert_false(state_file_exists(p));
	assert_int_equal(p->f.lu->pr.n_regs, 0);
	DIR *d = opendir(p->dir);
	struct dirent *e;
	bool aside = false;
	while ((e = readdir(d)))
		aside |=
		    !strncmp(e->d_name, STATE_FILE ".corrupt-", strlen(STATE_FILE ".corrupt-"));
	closedir(d);
	assert_true(aside);
	scsi_core_destroy(core);
	p->f.core = mine;
	p->f.lu = saved;
}

/* scsi_core_params.max_registrants is the engine's limit: one more
 * registration is INSUFFICIENT REGISTRATION RESOURCES (SPC-4 5.13.7). */
static void spc4_5_13_7_registrant_limit_from_core_params(void **state)
{
	struct pfx *p = *state;
	struct scsi_nexus *nx[8];
	uint8_t isid[6] = {0x80, 0, 0, 0, 0x10, 0};
	struct cmd c;

	for (unsigned i = 0; i < 8; i++) {
		isid[5] = (uint8_t)i;
		nx[i] = scsi_nexus_get(p->f.tgt, INIT4, isid, 1);
		assert_non_null(nx[i]);
		consume_power_on(p, nx[i]);
		assert_int_equal(prout(p, nx[i], PR_OUT_REGISTER, 0, 0, 0x100 + i, 0), GOOD);
	}
	prout_prep(p, &c, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0, NULL, 0);
	cmd_submit(&c);
	fx_run(&p->f);
	assert_sense(&c, 0x05, 0x55, 0x04);
	cmd_fini(&c);
	for (unsigned i = 0; i < 8; i++)
		scsi_nexus_put(nx[i]);
}

/* ---- SPC-2 RESERVE/RELEASE (SPC-2 7.21, 7.17; SPC-4 5.13.3) --------------- */

static const uint8_t reserve6[6] = {0x16, 0, 0, 0, 0, 0};
static const uint8_t release6[6] = {0x17, 0, 0, 0, 0, 0};
static const uint8_t reserve10[10] = {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t release10[10] = {0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void spc2_7_21_reserve6_excludes_other_nexuses(void **state)
{
	struct pfx *p = *state;
	uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};

	assert_int_equal(status_of(p, p->nx[A], reserve6, 6, 0, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[A], reserve6, 6, 0, 0), GOOD); /* again */
	assert_int_equal(status_of(p, p->nx[B], reserve6, 6, 0, 0), CONFLICT);
	assert_int_equal(status_of(p, p->nx[B], tur, 6, 0, 0), CONFLICT);
	assert_int_equal(do_read(p, p->nx[B]), CONFLICT);
	assert_int_equal(status_of(p, p->nx[B], inq, 6, 36, SCSI_TASK_F_READ), GOOD);
	/* PR IN/OUT from another nexus conflict with an SPC-2 reservation */
	uint8_t prin_cdb[10] = {0x5e, 0, 0, 0, 0, 0, 0, 0, 8, 0};
	assert_int_equal(status_of(p, p->nx[B], prin_cdb, 10, 8, SCSI_TASK_F_READ), CONFLICT);
	/* RELEASE from a non-holder: GOOD, nothing released */
	assert_int_equal(status_of(p, p->nx[B], release6, 6, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	assert_int_equal(do_write(p, p->nx[A]), GOOD);
	assert_int_equal(status_of(p, p->nx[A], release10, 10, 0, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[B], reserve10, 10, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[A]), CONFLICT);
	/* I_T nexus loss releases it (SPC-2 5.5.1) */
	scsi_nexus_put(p->nx[B]);
	assert_int_equal(do_write(p, p->nx[A]), GOOD);
	p->nx[B] = scsi_nexus_get(p->f.tgt, FX_INIT2, isids[1], 1);
}

static void spc4_5_13_3_crh_reserve6_with_persistent_reservations(void **state)
{
	struct pfx *p = *state;

	/* a registration makes RESERVE/RELEASE conflict (SPC-2 5.5.1) */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[B], reserve6, 6, 0, 0), CONFLICT);
	assert_int_equal(status_of(p, p->nx[A], reserve6, 6, 0, 0), CONFLICT);
	/* CRH: the holder's RESERVE is GOOD and establishes nothing */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[A], reserve6, 6, 0, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[A], release6, 6, 0, 0), GOOD);
	assert_int_equal(do_read(p, p->nx[B]), GOOD); /* no SPC-2 reservation */
	uint64_t key;
	assert_int_equal(read_res(p, p->nx[B], &key), PR_TYPE_WR_EX); /* PR kept */
	assert_int_equal(status_of(p, p->nx[B], reserve6, 6, 0, 0), CONFLICT);
	/* an SPC-2 reservation makes another nexus' PROUT conflict */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_CLEAR, 0, 0xaa, 0, 0), GOOD);
	assert_int_equal(status_of(p, p->nx[B], reserve6, 6, 0, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), CONFLICT);
	assert_int_equal(prout(p, p->nx[B], PR_OUT_REGISTER, 0, 0, 0xbb, 0), GOOD);
}

struct tmfw {
	struct scsi_tmf_req r;
	struct fx *f;
	int ndone;
	enum scsi_tmf_resp resp;
};

static void tmfw_done(struct scsi_tmf_req *r, enum scsi_tmf_resp resp)
{
	struct tmfw *w = container_of(r, struct tmfw, r);

	w->ndone++;
	w->resp = resp;
	if (--w->f->pending == 0)
		evl_stop(w->f->evl);
}

static void tmf_run(struct pfx *p, struct scsi_nexus *nx, enum scsi_tmf_fn fn)
{
	struct tmfw w = {.f = &p->f};

	w.r.nexus = nx;
	w.r.fn = fn;
	w.r.done = tmfw_done;
	p->f.pending++;
	scsi_tmf_submit(&w.r);
	fx_run(&p->f);
	assert_int_equal(w.ndone, 1);
	assert_int_equal(w.resp, SCSI_TMF_COMPLETE);
}

/* SPC-2 5.5.1 / SAM-5 6.3.3: a LUN reset releases an SPC-2 reservation, a
 * persistent reservation survives it (SPC-4 5.13.1). */
static void sam5_6_3_3_lun_reset_releases_spc2_not_persistent(void **state)
{
	struct pfx *p = *state;

	assert_int_equal(status_of(p, p->nx[A], reserve6, 6, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	tmf_run(p, p->nx[B], SCSI_TMF_LUN_RESET);
	assert_ua(p, p->nx[A], 0x29, 0x03);
	assert_ua(p, p->nx[B], 0x29, 0x03); /* SAM-5 6.3.3: the requester too */
	assert_int_equal(do_write(p, p->nx[B]), GOOD);
	/* now a persistent one */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_REGISTER, 0, 0, 0xaa, 0), GOOD);
	assert_int_equal(prout(p, p->nx[A], PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xaa, 0, 0), GOOD);
	tmf_run(p, p->nx[B], SCSI_TMF_LUN_RESET);
	assert_ua(p, p->nx[A], 0x29, 0x03);
	assert_ua(p, p->nx[B], 0x29, 0x03); /* SAM-5 6.3.3: the requester too */
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	/* I_T NEXUS RESET of the SPC-2 holder releases it too (SAM-5 6.3.4) */
	assert_int_equal(prout(p, p->nx[A], PR_OUT_CLEAR, 0, 0xaa, 0, 0), GOOD);
	assert_ua(p, p->nx[C], 0x29, 0x03); /* from the resets above */
	assert_no_ua(p, p->nx[C]);
	assert_int_equal(status_of(p, p->nx[C], reserve6, 6, 0, 0), GOOD);
	assert_int_equal(do_write(p, p->nx[B]), CONFLICT);
	tmf_run(p, p->nx[C], SCSI_TMF_I_T_NEXUS_RESET);
	assert_int_equal(do_write(p, p->nx[B]), GOOD);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, pfx_setup, pfx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(spc4_5_13_1_reservation_gates_io_by_type),
	    T(spc4_6_16_prout_short_parameter_list_is_length_error),
	    T(spc4_5_13_11_2_4_preempt_ua_only_to_preempted),
	    T(spc4_5_13_11_2_2_release_ro_ua_to_other_registrants),
	    T(spc4_5_13_11_ua_reaches_registrant_that_logs_in_later),
	    T(spc4_5_13_11_2_6_preempt_and_abort_aborts_victim_only),
	    T(issue11_aptpl_written_and_restored_after_restart),
	    T(issue11_prout_without_change_writes_nothing),
	    T(issue11_store_failure_leaves_memory_unchanged),
	    T(issue11_prouts_queue_behind_the_commit_in_flight),
	    T(issue11_prin_and_io_use_committed_state_during_commit),
	    T(issue11_corrupt_file_fails_lu_unless_ignored),
	    T(spc4_5_13_7_registrant_limit_from_core_params),
	    T(spc2_7_21_reserve6_excludes_other_nexuses),
	    T(spc4_5_13_3_crh_reserve6_with_persistent_reservations),
	    T(sam5_6_3_3_lun_reset_releases_spc2_not_persistent),
	};

	util_log_init("test_scsi_pr");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
