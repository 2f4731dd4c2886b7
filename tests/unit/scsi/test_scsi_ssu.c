// SPDX-License-Identifier: MIT
/*
 * START STOP UNIT (SBC-4 5.25) and the stopped power condition (SBC-4 4.20):
 * START=0 stops the LU, medium access then answers NOT READY / LOGICAL UNIT
 * NOT READY, INITIALIZING COMMAND REQUIRED (02/04/02) on every nexus until
 * START=1.
 */
#include "scsi_harness.h"

#define BS 512u

static const uint8_t tur[6] = {0};

static void ssu(struct fx *f, uint8_t byte4)
{
	uint8_t cdb[6] = {0x1b, 0, 0, 0, byte4, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
}

static void expect_stopped(struct fx *f, const uint8_t *cdb, size_t len, uint32_t edtl,
			   uint32_t flags)
{
	static uint8_t zero[BS];
	struct cmd c;

	cmd_prep(&c, f, f->nx, 0, cdb, len, edtl, flags);
	if (flags & SCSI_TASK_F_WRITE)
		cmd_data_out(&c, zero, edtl);
	cmd_submit(&c);
	fx_run(f);
	if (c.t.status != SCSI_STATUS_CHECK_CONDITION)
		fail_msg("opcode %#x: status %#x, want NOT READY", cdb[0], c.t.status);
	assert_sense(&c, 0x02, 0x04, 0x02);
	cmd_fini(&c);
}

static void expect_good(struct fx *f, const uint8_t *cdb, size_t len, uint32_t edtl)
{
	struct cmd c;

	cmd_run(&c, f, cdb, len, edtl, edtl ? SCSI_TASK_F_READ : 0);
	if (c.t.status != SCSI_STATUS_GOOD)
		fail_msg("opcode %#x: status %#x, want GOOD", cdb[0], c.t.status);
	cmd_fini(&c);
}

/* SBC-4 5.25 / 4.20.2: START=0 (NO_FLUSH=0: the cache is flushed first)
 * stops the LU for every nexus; INQUIRY, REPORT LUNS, READ CAPACITY, MODE
 * SENSE still run; REQUEST SENSE reports 02/04/02; START=1 restarts it. */
static void sbc4_5_25_start0_stops_medium_access_until_start1(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 2};
	struct scsi_nexus *nx2 = scsi_nexus_get(f->tgt, FX_INIT2, isid, 1);
	uint8_t r10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t w10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t v10[10] = {0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t sc10[10] = {0x35};
	uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
	uint8_t rc10[10] = {0x25};
	uint8_t ms6[6] = {0x1a, 0x08, 0x3f, 0, 255, 0};
	uint8_t rs[6] = {0x03, 0, 0, 0, 18, 0};
	struct cmd c;

	ssu(f, 0x00); /* POWER CONDITION 0h, START=0, NO_FLUSH=0 */
	expect_stopped(f, tur, 6, 0, 0);
	expect_stopped(f, r10, 10, BS, SCSI_TASK_F_READ);
	expect_stopped(f, w10, 10, BS, SCSI_TASK_F_WRITE);
	expect_stopped(f, v10, 10, 0, 0);
	expect_stopped(f, sc10, 10, 0, 0);
	expect_good(f, inq, 6, 36);
	expect_good(f, rc10, 10, 8);
	expect_good(f, ms6, 6, 255);
	cmd_run(&c, f, rs, 6, 18, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[2] & 0x0f, 0x02);
	assert_int_equal(c.t.buf[12], 0x04);
	assert_int_equal(c.t.buf[13], 0x02);
	cmd_fini(&c);
	/* the state belongs to the LU: the other nexus sees it too (after
	 * its power on unit attention) */
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x06, 0x29, 0x00);
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x02, 0x04, 0x02);

	ssu(f, 0x01); /* START=1 */
	expect_good(f, tur, 6, 0);
	expect_good(f, r10, 10, BS);
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	scsi_nexus_put(nx2);
}

/* SBC-4 5.25: NO_FLUSH=1 stops at once; POWER CONDITION 1h (ACTIVE) starts
 * the LU (START ignored); IDLE (2h) leaves the state as it is. */
static void sbc4_5_25_power_condition_active_starts_idle_keeps(void **state)
{
	struct fx *f = *state;

	ssu(f, 0x04); /* NO_FLUSH=1, START=0 */
	expect_stopped(f, tur, 6, 0, 0);
	ssu(f, 0x20); /* POWER CONDITION IDLE, START=0: no change */
	expect_stopped(f, tur, 6, 0, 0);
	ssu(f, 0x10); /* POWER CONDITION ACTIVE, START=0 ignored */
	expect_good(f, tur, 6, 0);
	ssu(f, 0x20 | 0x01); /* IDLE with START=1: still running */
	expect_good(f, tur, 6, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(sbc4_5_25_start0_stops_medium_access_until_start1,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_25_power_condition_active_starts_idle_keeps,
					    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
