// SPDX-License-Identifier: MIT
/*
 * Block commands beyond READ/WRITE: WRITE SAME, UNMAP, GET LBA STATUS,
 * COMPARE AND WRITE (with its range lock), ORWRITE, VERIFY, WRITE AND VERIFY,
 * PRE-FETCH, MODE SELECT, READ DEFECT DATA and the thin provisioning VPD /
 * READ CAPACITY(16) bits. A mem LU: discard supported, reads back zeroes.
 */
#include <stdlib.h>

#include "scsi_harness.h"

#define BS 512u
#define NBLK 2048u /* mem:1M */

static void write_blocks(struct fx *f, uint64_t lba, uint32_t n, uint8_t fill)
{
	uint8_t cdb[16] = {0x8a};
	uint8_t *data = malloc(n * BS);
	struct cmd c;

	memset(data, fill, n * BS);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_prep(&c, f, f->nx, 0, cdb, 16, n * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, n * BS);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
	free(data);
}

/* Reads n blocks at lba into out. */
static void read_blocks(struct fx *f, uint64_t lba, uint32_t n, uint8_t *out)
{
	uint8_t cdb[16] = {0x88};
	struct cmd c;

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_run(&c, f, cdb, 16, n * BS, SCSI_TASK_F_READ);
	assert_good(&c);
	memcpy(out, c.t.buf, n * BS);
	cmd_fini(&c);
}

static void assert_filled(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			fail_msg("byte %zu is %#x, want %#x", i, p[i], v);
}

/* Runs a data-out command with payload on the fixture's nexus. */
static void run_out(struct cmd *c, struct fx *f, const uint8_t *cdb, size_t cdb_len,
		    const void *data, uint32_t len)
{
	cmd_prep(c, f, f->nx, 0, cdb, cdb_len, len, len ? SCSI_TASK_F_WRITE : 0);
	if (len)
		cmd_data_out(c, data, len);
	cmd_submit(c);
	fx_run(f);
	assert_int_equal(c->ndone, 1);
}

static void assert_invalid_param(const struct cmd *c, uint16_t field)
{
	assert_sense(c, 0x05, 0x26, 0x00);
	assert_int_equal(c->t.sense[15] & 0xc0, 0x80); /* SKSV, C/D=0 */
	assert_int_equal(get_be16(c->t.sense + 16), field);
}

static void sbc4_5_49_write_same16_pattern_ndob_and_unmap(void **state)
{
	struct fx *f = *state;
	uint8_t blk[BS], buf[8 * BS];
	uint8_t cdb[16] = {0x93};
	struct cmd c;

	for (unsigned i = 0; i < BS; i++)
		blk[i] = (uint8_t)i;
	put_be64(cdb + 2, 10);
	put_be32(cdb + 10, 5);
	run_out(&c, f, cdb, 16, blk, BS);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, BS);
	cmd_fini(&c);
	read_blocks(f, 9, 7, buf);
	assert_filled(buf, BS, 0);
	for (unsigned b = 1; b <= 5; b++)
		assert_memory_equal(buf + b * BS, blk, BS);
	assert_filled(buf + 6 * BS, BS, 0);

	/* NDOB=1: no Data-Out, the blocks become zero */
	cdb[1] = 0x01;
	run_out(&c, f, cdb, 16, NULL, 0);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 0);
	cmd_fini(&c);
	read_blocks(f, 10, 5, buf);
	assert_filled(buf, 5 * BS, 0);

	/* UNMAP=1 with a zero block deallocates (LBPRZ=1 on mem) */
	write_blocks(f, 20, 4, 0xaa);
	memset(blk, 0, BS);
	cdb[1] = 0x08;
	put_be64(cdb + 2, 20);
	put_be32(cdb + 10, 4);
	run_out(&c, f, cdb, 16, blk, BS);
	assert_good(&c);
	cmd_fini(&c);
	read_blocks(f, 20, 4, buf);
	assert_filled(buf, 4 * BS, 0);
}

static void sbc4_5_48_write_same10_field_errors(void **state)
{
	struct fx *f = *state;
	uint8_t blk[BS] = {0};
	uint8_t cdb[10] = {0x41};
	struct cmd c;

	/* WSNZ=1: NUMBER OF LOGICAL BLOCKS 0 */
	put_be32(cdb + 2, 0);
	run_out(&c, f, cdb, 10, blk, BS);
	assert_invalid_cdb(&c, 7, 7);
	cmd_fini(&c);
	/* ANCHOR without ANC_SUP: byte 1 bit 4 */
	cdb[1] = 0x10;
	put_be16(cdb + 7, 1);
	run_out(&c, f, cdb, 10, blk, BS);
	assert_invalid_cdb(&c, 1, 4);
	cmd_fini(&c);
	/* WRPROTECT without protection information */
	cdb[1] = 0x20;
	run_out(&c, f, cdb, 10, blk, BS);
	assert_invalid_cdb(&c, 1, 7);
	cmd_fini(&c);
	/* beyond the end */
	cdb[1] = 0;
	put_be32(cdb + 2, NBLK - 1);
	put_be16(cdb + 7, 2);
	run_out(&c, f, cdb, 10, blk, BS);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void unmap_list(uint8_t *p, uint32_t ndesc)
{
	put_be16(p, (uint16_t)(6 + 16 * ndesc));
	put_be16(p + 2, (uint16_t)(16 * ndesc));
}

static void sbc4_5_30_unmap_parameter_list_checks(void **state)
{
	struct fx *f = *state;
	static uint8_t p[8 + 300 * 16];
	uint8_t cdb[10] = {0x42};
	uint8_t buf[4 * BS];
	struct cmd c;

	/* PARAMETER LIST LENGTH 0: nothing to do */
	run_out(&c, f, cdb, 10, NULL, 0);
	assert_good(&c);
	cmd_fini(&c);
	/* 1..7 bytes: PARAMETER LIST LENGTH ERROR */
	memset(p, 0, sizeof(p));
	put_be16(cdb + 7, 4);
	run_out(&c, f, cdb, 10, p, 4);
	assert_sense(&c, 0x05, 0x1a, 0x00);
	cmd_fini(&c);
	/* more descriptors than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (256) */
	unmap_list(p, 257);
	put_be16(cdb + 7, 8 + 257 * 16);
	run_out(&c, f, cdb, 10, p, 8 + 257 * 16);
	assert_invalid_param(&c, 2);
	cmd_fini(&c);
	/* beyond capacity: LBA OUT OF RANGE */
	unmap_list(p, 1);
	put_be64(p + 8, NBLK - 1);
	put_be32(p + 16, 2);
	put_be16(cdb + 7, 24);
	run_out(&c, f, cdb, 10, p, 24);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
	/* ANCHOR=1 (ANC_SUP=0) */
	cdb[1] = 0x01;
	run_out(&c, f, cdb, 10, p, 24);
	assert_invalid_cdb(&c, 1, 0);
	cmd_fini(&c);
	cdb[1] = 0;
	/* two good descriptors deallocate (read back zero, LBPRZ) */
	write_blocks(f, 100, 4, 0x5a);
	unmap_list(p, 2);
	put_be64(p + 8, 100);
	put_be32(p + 16, 1);
	put_be64(p + 24, 102);
	put_be32(p + 32, 2);
	put_be16(cdb + 7, 40);
	run_out(&c, f, cdb, 10, p, 40);
	assert_good(&c);
	cmd_fini(&c);
	read_blocks(f, 100, 4, buf);
	assert_filled(buf, BS, 0);
	assert_filled(buf + BS, BS, 0x5a);
	assert_filled(buf + 2 * BS, 2 * BS, 0);
}

static void sbc4_5_7_get_lba_status(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x9e, 0x12};
	struct cmd c;

	put_be64(cdb + 2, 5);
	put_be32(cdb + 10, 64);
	cmd_run(&c, f, cdb, 16, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 20); /* one descriptor */
	assert_int_equal(get_be64(c.t.buf + 8), 5);
	assert_int_equal(get_be32(c.t.buf + 16), NBLK - 5);
	assert_int_equal(c.t.buf[20] & 0x0f, 0); /* mapped */
	cmd_fini(&c);
	/* STARTING LBA beyond the last LBA */
	put_be64(cdb + 2, NBLK);
	cmd_run(&c, f, cdb, 16, 64, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void sbc4_5_3_compare_and_write_miscompare_offset(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x89};
	uint8_t data[4 * BS], buf[2 * BS];
	struct cmd c;

	write_blocks(f, 40, 2, 'A');
	put_be64(cdb + 2, 40);
	cdb[13] = 2;
	memset(data, 'A', 2 * BS);
	memset(data + 2 * BS, 'B', 2 * BS);
	data[700] = 'x'; /* first differing byte */
	data[900] = 'y';
	run_out(&c, f, cdb, 16, data, 4 * BS);
	assert_sense(&c, 0x0e, 0x1d, 0x00);
	assert_true(c.t.sense[0] & 0x80); /* VALID */
	assert_int_equal(get_be32(c.t.sense + 3), 700);
	cmd_fini(&c);
	read_blocks(f, 40, 2, buf);
	assert_filled(buf, 2 * BS, 'A'); /* nothing written */

	data[700] = 'A';
	data[900] = 'A';
	run_out(&c, f, cdb, 16, data, 4 * BS);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 4 * BS);
	cmd_fini(&c);
	read_blocks(f, 40, 2, buf);
	assert_filled(buf, 2 * BS, 'B');

	/* above MAXIMUM COMPARE AND WRITE LENGTH is not expressible (255 is
	 * the byte's maximum); 0 blocks with Data-Out is refused */
	cdb[13] = 0;
	run_out(&c, f, cdb, 16, data, 2 * BS);
	assert_invalid_cdb(&c, 13, 7);
	cmd_fini(&c);
	cdb[13] = 0;
	run_out(&c, f, cdb, 16, NULL, 0);
	assert_good(&c);
	cmd_fini(&c);
}

/* SBC-4 5.3: no other command touches the range between the compare and
 * the write: an overlapping WRITE submitted while the COMPARE AND WRITE runs
 * waits for it; a READ of another range does not. */
static void sbc4_5_3_compare_and_write_atomic_against_overlapping_write(void **state)
{
	struct fx *f = *state;
	uint8_t ccdb[16] = {0x89}, wcdb[16] = {0x8a}, rcdb[16] = {0x88};
	uint8_t caw[2 * BS], wr[BS], buf[BS];
	struct cmd c1, c2, c3;

	write_blocks(f, 60, 1, 'A');
	memset(caw, 'A', BS);
	memset(caw + BS, 'B', BS);
	memset(wr, 'W', BS);
	put_be64(ccdb + 2, 60);
	ccdb[13] = 1;
	put_be64(wcdb + 2, 60);
	put_be32(wcdb + 10, 1);
	put_be64(rcdb + 2, 500);
	put_be32(rcdb + 10, 1);

	cmd_prep(&c1, f, f->nx, 0, ccdb, 16, 2 * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c1, caw, 2 * BS);
	cmd_prep(&c2, f, f->nx, 0, wcdb, 16, BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c2, wr, BS);
	cmd_prep(&c3, f, f->nx, 0, rcdb, 16, BS, SCSI_TASK_F_READ);
	cmd_submit(&c1);
	cmd_submit(&c2);
	cmd_submit(&c3);
	fx_run(f);
	assert_good(&c1); /* compared against 'A', not the WRITE's data */
	assert_good(&c2);
	assert_good(&c3);
	assert_true(c1.order < c2.order);
	assert_true(c3.order < c2.order); /* unrelated range: not held up */
	cmd_fini(&c1);
	cmd_fini(&c2);
	cmd_fini(&c3);
	read_blocks(f, 60, 1, buf);
	assert_filled(buf, BS, 'W');
}

struct tmf {
	struct scsi_tmf_req req;
	struct fx *fx;
	int ndone;
	enum scsi_tmf_resp resp;
	int order;
};

static void tmf_done_cb(struct scsi_tmf_req *req, enum scsi_tmf_resp resp)
{
	struct tmf *m = container_of(req, struct tmf, req);

	m->ndone++;
	m->resp = resp;
	m->order = ++fx_seq;
	if (--m->fx->pending == 0)
		evl_stop(m->fx->evl);
}

/* SAM-5 7.2: ABORT TASK of a WRITE waiting for the range a COMPARE AND WRITE
 * holds: the WRITE leaves the wait queue at once (aborted, nothing written),
 * the TMF completes, the COMPARE AND WRITE is unaffected. */
static void sam5_7_2_abort_task_waiting_for_range(void **state)
{
	struct fx *f = *state;
	uint8_t ccdb[16] = {0x89}, wcdb[16] = {0x8a};
	uint8_t caw[2 * BS], wr[BS], buf[BS];
	struct cmd c1, c2;
	struct tmf m;

	write_blocks(f, 64, 1, 'A');
	memset(caw, 'A', BS);
	memset(caw + BS, 'B', BS);
	memset(wr, 'W', BS);
	put_be64(ccdb + 2, 64);
	ccdb[13] = 1;
	put_be64(wcdb + 2, 64);
	put_be32(wcdb + 10, 1);
	cmd_prep(&c1, f, f->nx, 0, ccdb, 16, 2 * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c1, caw, 2 * BS);
	cmd_prep(&c2, f, f->nx, 0, wcdb, 16, BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c2, wr, BS);
	c2.t.tag = 0x77;
	cmd_submit(&c1);
	cmd_submit(&c2);
	memset(&m, 0, sizeof(m));
	m.fx = f;
	m.req.nexus = f->nx;
	m.req.fn = SCSI_TMF_ABORT_TASK;
	m.req.ref_tag = 0x77;
	m.req.done = tmf_done_cb;
	f->pending++;
	scsi_tmf_submit(&m.req);
	fx_run(f);
	assert_good(&c1);
	assert_true(c2.t.aborted);
	assert_int_equal(m.resp, SCSI_TMF_COMPLETE);
	assert_true(c2.order < m.order);
	cmd_fini(&c1);
	cmd_fini(&c2);
	read_blocks(f, 64, 1, buf);
	assert_filled(buf, BS, 'B');
}

static void sbc4_5_9_orwrite16(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x8b};
	uint8_t data[BS], buf[BS];
	struct cmd c;

	write_blocks(f, 70, 1, 0x0f);
	memset(data, 0x30, BS);
	put_be64(cdb + 2, 70);
	put_be32(cdb + 10, 1);
	run_out(&c, f, cdb, 16, data, BS);
	assert_good(&c);
	cmd_fini(&c);
	read_blocks(f, 70, 1, buf);
	assert_filled(buf, BS, 0x3f);
}

static void sbc4_5_33_verify10_bytchk(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x2f};
	uint8_t data[2 * BS];
	struct cmd c;

	write_blocks(f, 80, 2, 'V');
	put_be32(cdb + 2, 80);
	put_be16(cdb + 7, 2);
	/* BYTCHK 00b: medium verification only */
	run_out(&c, f, cdb, 10, NULL, 0);
	assert_good(&c);
	cmd_fini(&c);
	/* BYTCHK 01b: compare, first mismatch at byte 600 */
	cdb[1] = 0x02;
	memset(data, 'V', sizeof(data));
	run_out(&c, f, cdb, 10, data, 2 * BS);
	assert_good(&c);
	cmd_fini(&c);
	data[600] = 0;
	run_out(&c, f, cdb, 10, data, 2 * BS);
	assert_sense(&c, 0x0e, 0x1d, 0x00);
	assert_int_equal(get_be32(c.t.sense + 3), 600);
	cmd_fini(&c);
	/* BYTCHK 11b: one block compared with each */
	cdb[1] = 0x06;
	memset(data, 'V', BS);
	run_out(&c, f, cdb, 10, data, BS);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, BS);
	cmd_fini(&c);
	/* BYTCHK 10b is reserved */
	cdb[1] = 0x04;
	run_out(&c, f, cdb, 10, data, BS);
	assert_invalid_cdb(&c, 1, 2);
	cmd_fini(&c);
}

static void sbc4_5_44_write_and_verify16(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x8e, 0x02};
	uint8_t data[3 * BS], buf[3 * BS];
	struct cmd c;

	memset(data, 'Z', sizeof(data));
	put_be64(cdb + 2, 90);
	put_be32(cdb + 10, 3);
	run_out(&c, f, cdb, 16, data, 3 * BS);
	assert_good(&c);
	cmd_fini(&c);
	read_blocks(f, 90, 3, buf);
	assert_filled(buf, 3 * BS, 'Z');
}

/* RFC 7143 11.4.5.1 (libiscsi WriteVerify10Residuals): EDTL below the CDB's
 * transfer writes and verifies only what was received */
static void rfc7143_11_4_5_1_write_and_verify10_edtl_below_transfer(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x2e, 0x02};
	uint8_t data[2 * BS], buf[2 * BS];
	struct cmd c;

	write_blocks(f, 95, 2, 'a');
	memset(data, 'b', sizeof(data));
	put_be32(cdb + 2, 95);
	put_be16(cdb + 7, 2);
	run_out(&c, f, cdb, 10, data, BS);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 2 * BS); /* overflow residual: one block */
	cmd_fini(&c);
	read_blocks(f, 95, 2, buf);
	assert_filled(buf, BS, 'b');
	assert_filled(buf + BS, BS, 'a');
	/* EDTL 0: nothing written, GOOD */
	run_out(&c, f, cdb, 10, NULL, 0);
	assert_good(&c);
	cmd_fini(&c);
}

static void sbc4_5_11_prefetch16_range(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x90};
	struct cmd c;

	put_be64(cdb + 2, 0);
	put_be32(cdb + 10, 8);
	cmd_run(&c, f, cdb, 16, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
	put_be64(cdb + 2, NBLK);
	put_be32(cdb + 10, 1);
	cmd_run(&c, f, cdb, 16, 0, 0);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void sbc4_5_20_read_capacity16_lbpme_and_vpd_b0_b2(void **state)
{
	struct fx *f = *state;
	uint8_t rc[16] = {0x9e, 0x10};
	uint8_t inq[6] = {0x12, 0x01, 0xb2, 0, 64, 0};
	struct cmd c;

	put_be32(rc + 10, 32);
	cmd_run(&c, f, rc, 16, 32, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[14] & 0xc0, 0xc0); /* LBPME, LBPRZ */
	cmd_fini(&c);
	cmd_run(&c, f, inq, 6, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[5], 0x80 | 0x40 | 0x20 | 0x04); /* LBPU LBPWS LBPWS10 LBPRZ */
	assert_int_equal(c.t.buf[6] & 0x07, 0x02); /* thin */
	cmd_fini(&c);
	inq[2] = 0xb0;
	cmd_run(&c, f, inq, 6, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[4] & 0x01, 1); /* WSNZ */
	assert_int_equal(c.t.buf[5], 255); /* MAXIMUM COMPARE AND WRITE LENGTH */
	assert_int_equal(get_be32(c.t.buf + 20), 1u << 20); /* MAXIMUM UNMAP LBA COUNT */
	assert_int_equal(get_be32(c.t.buf + 24), 256);
	assert_int_equal(get_be64(c.t.buf + 36), 0xffff); /* MAXIMUM WRITE SAME LENGTH */
	cmd_fini(&c);
}

static void spc4_6_9_mode_select_wce_changes_and_ua(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 2};
	struct scsi_nexus *nx2 = scsi_nexus_get(f->tgt, FX_INIT2, isid, 1);
	uint8_t tur[6] = {0};
	uint8_t sel[6] = {0x15, 0x10, 0, 0, 24, 0};
	uint8_t sense[6] = {0x1a, 0x08, 0x08, 0, 255, 0};
	uint8_t p[24] = {0};
	struct cmd c;

	/* the other nexus consumes its power on UA */
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	cmd_fini(&c);
	/* header (4) + caching page with WCE=0 */
	p[4] = 0x08;
	p[5] = 0x12;
	run_out(&c, f, sel, 6, p, 24);
	assert_good(&c);
	cmd_fini(&c);
	cmd_run(&c, f, sense, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[4 + 2] & 0x04, 0); /* WCE now 0 */
	cmd_fini(&c);
	/* SPC-4 6.9.1: MODE PARAMETERS CHANGED for the other I_T nexus only */
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x06, 0x2a, 0x01);
	cmd_fini(&c);
	cmd_run(&c, f, tur, 6, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
	/* a non-changeable field (caching page byte 12, bit 5: FSW) */
	p[4 + 12] = 0x20;
	run_out(&c, f, sel, 6, p, 24);
	assert_invalid_param(&c, 16);
	cmd_fini(&c);
	/* SP=1: no saveable pages */
	sel[1] = 0x11;
	p[4 + 12] = 0;
	run_out(&c, f, sel, 6, p, 24);
	assert_invalid_cdb(&c, 1, 0);
	cmd_fini(&c);
	/* a truncated page */
	sel[1] = 0x10;
	sel[4] = 10;
	run_out(&c, f, sel, 6, p, 10);
	assert_sense(&c, 0x05, 0x1a, 0x00);
	cmd_fini(&c);
	scsi_nexus_put(nx2);
}

static void sbc4_5_18_read_defect_data10_empty(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x37, 0, 0x18 | 0x03, 0, 0, 0, 0, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 10, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 4);
	assert_int_equal(c.t.buf[1], 0x18 | 0x03); /* PLISTV GLISTV, long block */
	assert_int_equal(get_be16(c.t.buf + 2), 0);
	cmd_fini(&c);
}

static void sbc4_4_5_read_only_lu_write_same_unmap_caw_protected(void **state)
{
	struct fx f;
	uint8_t ws[16] = {0x93, 0x01}, um[10] = {0x42}, cw[16] = {0x89};
	uint8_t blk[2 * BS] = {0};
	struct cmd c;

	(void)state;
	fx_init_lu(&f, "mem:1M", BS, true, false);
	put_be32(ws + 10, 1);
	cmd_run(&c, &f, ws, 16, 0, 0);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	put_be16(um + 7, 24);
	run_out(&c, &f, um, 10, blk, 24);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	cw[13] = 1;
	run_out(&c, &f, cw, 16, blk, 2 * BS);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	fx_fini(&f);
}

/* SBC-4 4.17 table 13 / SPC-4 5.13.1 table 65: under a Write Exclusive
 * reservation held by another I_T nexus, the write class (WRITE SAME, UNMAP,
 * COMPARE AND WRITE, WRITE AND VERIFY, ORWRITE) and MODE SELECT conflict;
 * VERIFY, PRE-FETCH, GET LBA STATUS and READ DEFECT DATA are allowed. */
static void sbc4_4_17_table13_new_commands_under_write_exclusive(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 3};
	struct scsi_nexus *nx2 = scsi_nexus_get(f->tgt, FX_INIT2, isid, 1);
	uint8_t reg[10] = {0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0};
	uint8_t res[10] = {0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0};
	uint8_t p[24] = {0}, tur[6] = {0};
	uint8_t blk[2 * BS] = {0};
	struct cmd c;
	struct {
		uint8_t cdb[16];
		uint8_t len;
		uint32_t out;
		bool conflict;
	} cases[] = {
	    {{0x93, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, BS, true}, /* WRITE SAME(16) */
	    {{0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, 0, true}, /* UNMAP */
	    {{0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	     16,
	     2 * BS,
	     true}, /* COMPARE AND WRITE */
	    {{0x2e, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, BS, true}, /* WRITE AND VERIFY */
	    {{0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, BS, true}, /* ORWRITE */
	    {{0x15, 0x10, 0, 0, 0, 0}, 6, 0, true}, /* MODE SELECT */
	    {{0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, 0, false}, /* VERIFY */
	    {{0x34, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 10, 0, false}, /* PRE-FETCH */
	    {{0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64}, 16, 0, false}, /* GET LBA STATUS */
	    {{0x37, 0, 0x18, 0, 0, 0, 0, 0, 8, 0}, 10, 0, false}, /* READ DEFECT DATA */
	};

	/* nexus 1 registers key 0x11 and takes Write Exclusive */
	put_be64(p + 8, 0x11);
	run_out(&c, f, reg, 10, p, 24);
	assert_good(&c);
	cmd_fini(&c);
	memset(p, 0, sizeof(p));
	put_be64(p, 0x11);
	run_out(&c, f, res, 10, p, 24);
	assert_good(&c);
	cmd_fini(&c);
	cmd_prep(&c, f, nx2, 0, tur, 6, 0, 0); /* power on UA */
	cmd_submit(&c);
	fx_run(f);
	cmd_fini(&c);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cmd_prep(&c, f, nx2, 0, cases[i].cdb, cases[i].len, cases[i].out,
			 cases[i].out ? SCSI_TASK_F_WRITE : SCSI_TASK_F_READ);
		if (cases[i].out)
			cmd_data_out(&c, blk, cases[i].out);
		cmd_submit(&c);
		fx_run(f);
		if (cases[i].conflict)
			assert_int_equal(c.t.status, SCSI_STATUS_RESERVATION_CONFLICT);
		else
			assert_good(&c);
		cmd_fini(&c);
	}
	scsi_nexus_put(nx2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(sbc4_5_49_write_same16_pattern_ndob_and_unmap, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_48_write_same10_field_errors, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_30_unmap_parameter_list_checks, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_7_get_lba_status, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_3_compare_and_write_miscompare_offset, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(
		sbc4_5_3_compare_and_write_atomic_against_overlapping_write, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sam5_7_2_abort_task_waiting_for_range, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_9_orwrite16, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_33_verify10_bytchk, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_44_write_and_verify16, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_11_4_5_1_write_and_verify10_edtl_below_transfer,
					    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_11_prefetch16_range, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_20_read_capacity16_lbpme_and_vpd_b0_b2, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(spc4_6_9_mode_select_wce_changes_and_ua, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(sbc4_5_18_read_defect_data10_empty, fx_setup,
					    fx_teardown),
	    cmocka_unit_test(sbc4_4_5_read_only_lu_write_same_unmap_caw_protected),
	    cmocka_unit_test_setup_teardown(sbc4_4_17_table13_new_commands_under_write_exclusive,
					    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
