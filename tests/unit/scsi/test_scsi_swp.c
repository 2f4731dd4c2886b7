// SPDX-License-Identifier: MIT
/*
 * Software write protect: the SWP bit of the control mode page (SPC-4
 * 7.5.8), changeable with MODE SELECT, makes every write-class command fail
 * with DATA PROTECT / LOGICAL UNIT SOFTWARE WRITE PROTECTED (SBC-4 4.x write
 * protection) and sets WP in the mode parameter header (SBC-4 6.5.1).
 */
#include "scsi_harness.h"

#define BS 512u

static const uint8_t tur[6] = {0};

/* MODE SENSE(6), DBD, control page, page control pc: the page at buf + 4. */
static void sense_control(struct fx *f, struct cmd *c, int pc)
{
	uint8_t cdb[6] = {0x1a, 0x08, (uint8_t)(pc << 6 | 0x0a), 0, 255, 0};

	cmd_run(c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_good(c);
	assert_int_equal(c->t.buf[3], 0); /* no block descriptor */
	assert_int_equal(c->t.buf[4], 0x0a);
}

/* Reads the current control page and writes it back with SWP = swp. */
static void set_swp(struct fx *f, bool swp)
{
	uint8_t sel[6] = {0x15, 0x10, 0, 0, 16, 0};
	uint8_t p[16];
	struct cmd c;

	sense_control(f, &c, 0);
	memcpy(p, c.t.buf, 16);
	cmd_fini(&c);
	p[0] = 0; /* MODE DATA LENGTH: reserved in MODE SELECT */
	p[2] = 0; /* device-specific parameter: WP is reserved in MODE SELECT */
	p[4 + 4] = (uint8_t)((p[4 + 4] & ~0x08) | (swp ? 0x08 : 0));
	cmd_prep(&c, f, f->nx, 0, sel, 6, 16, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, p, 16);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
}

/* Runs cdb with a data-out buffer of len bytes (zeroes) and returns it. */
static void run_out(struct cmd *c, struct fx *f, const uint8_t *cdb, size_t cdb_len, uint32_t len)
{
	static uint8_t zero[2 * BS];

	cmd_prep(c, f, f->nx, 0, cdb, cdb_len, len, len ? SCSI_TASK_F_WRITE : 0);
	if (len)
		cmd_data_out(c, zero, len);
	cmd_submit(c);
	fx_run(f);
	assert_int_equal(c->ndone, 1);
}

/* Every write-class command of the LU answers DATA PROTECT / asc, ascq. */
static void assert_writes_protected(struct fx *f, uint8_t ascq)
{
	uint8_t w10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t w16[16] = {0x8a};
	uint8_t ws16[16] = {0x93};
	uint8_t um[10] = {0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	uint8_t cw[16] = {0x89};
	uint8_t orw[16] = {0x8b};
	uint8_t wv10[10] = {0x2e, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	struct cmd c;

	w16[13] = 1;
	ws16[13] = 1;
	cw[13] = 1;
	orw[13] = 1;
	const struct {
		const uint8_t *cdb;
		size_t len;
		uint32_t out;
	} cmds[] = {
	    {w10, 10, BS},    {w16, 16, BS}, {ws16, 16, BS}, {um, 10, 24},
	    {cw, 16, 2 * BS}, {orw, 16, BS}, {wv10, 10, BS},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_out(&c, f, cmds[i].cdb, cmds[i].len, cmds[i].out);
		if (c.t.status != SCSI_STATUS_CHECK_CONDITION)
			fail_msg("opcode %#x: status %#x", cmds[i].cdb[0], c.t.status);
		assert_sense(&c, 0x07, 0x27, ascq);
		cmd_fini(&c);
	}
}

static void spc4_7_5_8_swp_reported_changeable(void **state)
{
	struct fx *f = *state;
	struct cmd c;

	sense_control(f, &c, 1);
	assert_int_equal(c.t.buf[4 + 2], 0x04); /* D_SENSE */
	assert_int_equal(c.t.buf[4 + 4], 0x08); /* SWP */
	cmd_fini(&c);
	sense_control(f, &c, 0);
	assert_int_equal(c.t.buf[4 + 4] & 0x08, 0); /* SWP=0 at start */
	assert_int_equal(c.t.buf[2] & 0x80, 0); /* WP=0 */
	cmd_fini(&c);
	sense_control(f, &c, 2);
	assert_int_equal(c.t.buf[4 + 4] & 0x08, 0); /* default 0 */
	cmd_fini(&c);
}

/* SPC-4 7.5.8 SWP=1, SBC-4 4.x: every write-class command gets 07/27/02,
 * reads, VERIFY and SYNCHRONIZE CACHE still work, WP=1 in the header;
 * SPC-4 6.9.1: the other I_T nexus gets MODE PARAMETERS CHANGED; SWP=0
 * undoes it all. */
static void sbc4_4_x_swp_write_class_gets_software_write_protected(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 2};
	struct scsi_nexus *nx2 = scsi_nexus_get(f->tgt, FX_INIT2, isid, 1);
	uint8_t r10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t v10[10] = {0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	uint8_t sc10[10] = {0x35};
	uint8_t w10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	struct cmd c;

	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0); /* its power on UA */
	cmd_submit(&c);
	fx_run(f);
	cmd_fini(&c);

	set_swp(f, true);
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x06, 0x2a, 0x01);
	cmd_fini(&c);
	cmd_run(&c, f, tur, 6, 0, 0);
	assert_good(&c); /* none for the nexus that changed it */
	cmd_fini(&c);

	sense_control(f, &c, 0);
	assert_int_equal(c.t.buf[2] & 0x80, 0x80); /* WP */
	assert_int_equal(c.t.buf[4 + 4] & 0x08, 0x08); /* SWP */
	cmd_fini(&c);
	assert_writes_protected(f, 0x02);
	/* the other nexus is write protected too: SWP belongs to the LU */
	cmd_prep(&c, f, nx2, 0, w10, 10, BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, (uint8_t[BS]){0}, BS);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x07, 0x27, 0x02);
	cmd_fini(&c);
	cmd_run(&c, f, r10, 10, BS, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	cmd_run(&c, f, v10, 10, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
	cmd_run(&c, f, sc10, 10, 0, 0);
	assert_good(&c);
	cmd_fini(&c);

	set_swp(f, false);
	sense_control(f, &c, 0);
	assert_int_equal(c.t.buf[2] & 0x80, 0);
	assert_int_equal(c.t.buf[4 + 4] & 0x08, 0);
	cmd_fini(&c);
	run_out(&c, f, w10, 10, BS);
	assert_good(&c);
	cmd_fini(&c);
	scsi_nexus_put(nx2);
}

/* A read-only LU stays WRITE PROTECTED (27/00) whatever SWP says. */
static void sbc4_4_x_read_only_lu_with_swp_stays_write_protected(void **state)
{
	struct fx f;

	(void)state;
	fx_init_lu(&f, "mem:1M", BS, true, false);
	set_swp(&f, true);
	assert_writes_protected(&f, 0x00);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(spc4_7_5_8_swp_reported_changeable, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_4_x_swp_write_class_gets_software_write_protected,
					    fx_setup, fx_teardown),
	    cmocka_unit_test(sbc4_4_x_read_only_lu_with_swp_stays_write_protected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
