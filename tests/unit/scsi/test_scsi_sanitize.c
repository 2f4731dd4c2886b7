// SPDX-License-Identifier: MIT
/*
 * SANITIZE (SBC-4 5.30, 4.11): only on LUs configured for it; OVERWRITE
 * (pattern, count, invert), BLOCK ERASE on a file LU, IMMED with NOT READY /
 * SANITIZE IN PROGRESS and its progress indication for other commands and
 * REQUEST SENSE, parameter checks.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "scsi_harness.h"

#define BS 512u

static void init_lu(struct fx *f, const char *path, bool ro, bool sanitize)
{
	struct scsi_lu_params lp = {
	    .path = path,
	    .block_size = BS,
	    .serial = "targetd-test-san1",
	    .read_only = ro,
	    .write_cache = true,
	    .sanitize = sanitize,
	};

	fx_init_params(f, &lp);
}

static void fill(struct fx *f, uint64_t lba, uint32_t n, uint8_t v)
{
	uint8_t cdb[16] = {0x8a};
	uint8_t *d = malloc(n * BS);
	struct cmd c;

	memset(d, v, n * BS);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_prep(&c, f, f->nx, 0, cdb, 16, n * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, d, n * BS);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
	free(d);
}

/* reads n blocks at lba and checks every block equals blk (BS bytes) */
static void check(struct fx *f, uint64_t lba, uint32_t n, const uint8_t *blk)
{
	uint8_t cdb[16] = {0x88};
	struct cmd c;

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_run(&c, f, cdb, 16, n * BS, SCSI_TASK_F_READ);
	assert_good(&c);
	for (uint32_t i = 0; i < n; i++)
		assert_memory_equal(c.t.buf + i * BS, blk, BS);
	cmd_fini(&c);
}

/* SANITIZE with parameter list p (len bytes) */
static void sanitize_prep(struct cmd *c, struct fx *f, uint8_t sa, bool immed, const uint8_t *p,
			  uint16_t len)
{
	uint8_t cdb[10] = {0x48, (uint8_t)(sa | (immed ? 0x80 : 0))};

	put_be16(cdb + 7, len);
	cmd_prep(c, f, f->nx, 0, cdb, 10, len, len ? SCSI_TASK_F_WRITE : 0);
	if (len)
		cmd_data_out(c, p, len);
}

static void sanitize_run(struct cmd *c, struct fx *f, uint8_t sa, bool immed, const uint8_t *p,
			 uint16_t len)
{
	sanitize_prep(c, f, sa, immed, p, len);
	cmd_submit(c);
	fx_run(f);
	assert_int_equal(c->ndone, 1);
}

/* SBC-4 5.30 / SPC-4 4.5.2.2: not configured (sanitize = no): the opcode
 * is not supported, and REPORT SUPPORTED OPERATION CODES agrees */
static void sbc4_5_30_sanitize_not_configured_invalid_opcode(void **state)
{
	(void)state;
	struct fx f;
	struct cmd c;
	uint8_t p[8] = {0x01, 0, 0, 4, 1, 2, 3, 4};
	uint8_t rsoc[12] = {0xa3, 0x0c, 0x02, 0x48, 0, 0x01, 0, 0, 0, 64, 0, 0};

	init_lu(&f, "mem:1M", false, false);
	sanitize_run(&c, &f, 0x01, false, p, 8);
	assert_sense(&c, 0x05, 0x20, 0x00);
	cmd_fini(&c);
	cmd_run(&c, &f, rsoc, 12, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1] & 0x07, 1); /* not supported */
	cmd_fini(&c);
	fx_fini(&f);
}

/* SBC-4 5.30.3.2: OVERWRITE writes the initialization pattern over every
 * block (a short pattern repeats from the start of each block); OVERWRITE
 * COUNT passes with INVERT alternate pattern and complement */
static void sbc4_5_30_3_2_overwrite_pattern_count_invert(void **state)
{
	(void)state;
	struct fx f;
	struct cmd c;
	uint8_t p[4 + BS], blk[BS];
	uint8_t rsoc[12] = {0xa3, 0x0c, 0x02, 0x48, 0, 0x01, 0, 0, 0, 64, 0, 0};

	init_lu(&f, "mem:4M", false, true);
	cmd_run(&c, &f, rsoc, 12, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1] & 0x07, 3);
	cmd_fini(&c);
	fill(&f, 0, 16, 'a');
	fill(&f, 8192 - 16, 16, 'a');
	p[0] = 0x01;
	p[1] = 0;
	put_be16(p + 2, BS);
	memset(p + 4, 0xaa, BS);
	sanitize_run(&c, &f, 0x01, false, p, 4 + BS);
	assert_good(&c);
	cmd_fini(&c);
	memset(blk, 0xaa, BS);
	check(&f, 0, 16, blk);
	check(&f, 8192 - 16, 16, blk);

	/* 4-byte pattern, two passes, INVERT: the medium ends with the
	 * complement */
	p[0] = 0x80 | 0x02;
	put_be16(p + 2, 4);
	p[4] = 1, p[5] = 2, p[6] = 3, p[7] = 4;
	sanitize_run(&c, &f, 0x01, false, p, 8);
	assert_good(&c);
	cmd_fini(&c);
	for (unsigned i = 0; i < BS; i++)
		blk[i] = (uint8_t) ~(i % 4 + 1);
	check(&f, 0, 4, blk);
	check(&f, 8192 - 4, 4, blk);
	fx_fini(&f);
}

/* SBC-4 5.30.3.2: PARAMETER LIST LENGTH below 5 or above block length + 4
 * is an invalid CDB field; OVERWRITE COUNT 0 and an INITIALIZATION PATTERN
 * LENGTH of 0 or above the block length are invalid fields of the
 * parameter list (SPC-4 4.5.2.4.2: the field is in the parameter list) */
static void sbc4_5_30_3_2_overwrite_invalid_parameters(void **state)
{
	(void)state;
	struct fx f;
	struct cmd c;
	uint8_t p[8 + BS] = {0};

	init_lu(&f, "mem:1M", false, true);
	for (uint16_t len = 0; len < 5; len++) {
		sanitize_run(&c, &f, 0x01, false, p, len);
		assert_invalid_cdb(&c, 7, 7);
		cmd_fini(&c);
	}
	sanitize_run(&c, &f, 0x01, false, p, BS + 5);
	assert_invalid_cdb(&c, 7, 7);
	cmd_fini(&c);

	put_be16(p + 2, BS); /* OVERWRITE COUNT 0 */
	sanitize_run(&c, &f, 0x01, false, p, BS + 4);
	assert_sense(&c, 0x05, 0x26, 0x00);
	assert_int_equal(get_be16(c.t.sense + 16), 0);
	cmd_fini(&c);

	p[0] = 1;
	put_be16(p + 2, 0);
	sanitize_run(&c, &f, 0x01, false, p, BS + 4);
	assert_sense(&c, 0x05, 0x26, 0x00);
	assert_int_equal(get_be16(c.t.sense + 16), 2);
	cmd_fini(&c);

	put_be16(p + 2, BS + 4);
	sanitize_run(&c, &f, 0x01, false, p, BS + 4);
	assert_sense(&c, 0x05, 0x26, 0x00);
	cmd_fini(&c);

	/* BLOCK ERASE is not offered on mem (no deallocated blocks to show) */
	sanitize_run(&c, &f, 0x02, false, NULL, 0);
	assert_sense(&c, 0x05, 0x20, 0x00);
	cmd_fini(&c);
	fx_fini(&f);
}

/* SBC-4 4.11.1, 5.30.2: with IMMED=1 the command returns at once; while
 * the operation runs TEST UNIT READY and READ get NOT READY / SANITIZE IN
 * PROGRESS with a progress indication, INQUIRY runs, REQUEST SENSE reports
 * the progress; afterwards the LU is ready and overwritten */
static void sbc4_4_11_immed_sanitize_in_progress_not_ready(void **state)
{
	(void)state;
	struct fx f;
	struct cmd c;
	uint8_t p[8] = {0x01, 0, 0, 4, 0x11, 0x22, 0x33, 0x44}, blk[BS];
	uint8_t tur[6] = {0}, inq[6] = {0x12, 0, 0, 0, 96, 0}, rs[6] = {0x03, 0, 0, 0, 18, 0};
	uint8_t rd[16] = {0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
	int n;
	char path[] = "/var/tmp/targetd-sanitize-XXXXXX";
	int fd = mkstemp(path);

	/* a file LU: its writes complete through aio, so the loop (and the
	 * commands below) runs between the chunks of the operation */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 256 << 20), 0);
	close(fd);
	init_lu(&f, path, false, true);
	sanitize_run(&c, &f, 0x01, true, p, 8);
	assert_good(&c);
	cmd_fini(&c);

	cmd_run(&c, &f, tur, 6, 0, 0);
	assert_sense(&c, 0x02, 0x04, 0x1b);
	assert_int_equal(c.t.sense[15] & 0x80, 0x80); /* SKSV: progress */
	cmd_fini(&c);
	cmd_run(&c, &f, rd, 16, BS, SCSI_TASK_F_READ);
	assert_sense(&c, 0x02, 0x04, 0x1b);
	cmd_fini(&c);
	cmd_run(&c, &f, inq, 6, 96, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	cmd_run(&c, &f, rs, 6, 18, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[2] & 0x0f, 0x02);
	assert_int_equal(c.t.buf[12], 0x04);
	assert_int_equal(c.t.buf[13], 0x1b);
	assert_int_equal(c.t.buf[15] & 0x80, 0x80);
	cmd_fini(&c);
	/* another SANITIZE while one runs: NOT READY too */
	sanitize_run(&c, &f, 0x01, true, p, 8);
	assert_sense(&c, 0x02, 0x04, 0x1b);
	cmd_fini(&c);

	for (n = 0; n < 100000; n++) {
		cmd_run(&c, &f, tur, 6, 0, 0);
		bool ready = c.t.status == SCSI_STATUS_GOOD;
		cmd_fini(&c);
		if (ready)
			break;
	}
	assert_true(n > 0 && n < 100000);
	for (unsigned i = 0; i < BS; i++)
		blk[i] = p[4 + i % 4];
	check(&f, 0, 8, blk);
	check(&f, 256 * 2048 - 8, 8, blk);
	fx_fini(&f);
	unlink(path);
}

struct tmf {
	struct scsi_tmf_req req;
	struct fx *fx;
	int ndone;
	enum scsi_tmf_resp resp;
};

static void tmf_done_cb(struct scsi_tmf_req *req, enum scsi_tmf_resp resp)
{
	struct tmf *m = container_of(req, struct tmf, req);

	m->ndone++;
	m->resp = resp;
	if (--m->fx->pending == 0)
		evl_stop(m->fx->evl);
}

static void tmf_prep(struct tmf *m, struct fx *f, enum scsi_tmf_fn fn, uint64_t tag)
{
	memset(m, 0, sizeof(*m));
	m->fx = f;
	m->req.nexus = f->nx;
	m->req.fn = fn;
	m->req.lun_raw = 0;
	m->req.ref_tag = tag;
	m->req.done = tmf_done_cb;
}

/* SBC-4 4.11.1: the sanitize operation is not stopped by ABORT TASK or a
 * LOGICAL UNIT RESET: the IMMED=0 SANITIZE task ends aborted, the LU stays
 * NOT READY / SANITIZE IN PROGRESS until the operation is done, and the
 * medium ends overwritten */
static void sbc4_4_11_sanitize_survives_abort_and_lun_reset(void **state)
{
	(void)state;
	char path[] = "/var/tmp/targetd-sanitize-XXXXXX";
	int fd = mkstemp(path);
	struct fx f;
	struct cmd c, s;
	struct tmf m1, m2;
	uint8_t p[8] = {0x01, 0, 0, 4, 0x5a, 0xa5, 0x0f, 0xf0}, blk[BS], tur[6] = {0};
	int n;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 256 << 20), 0);
	close(fd);
	init_lu(&f, path, false, true);
	sanitize_prep(&s, &f, 0x01, false, p, 8);
	s.t.tag = 0x55;
	cmd_submit(&s);
	tmf_prep(&m1, &f, SCSI_TMF_ABORT_TASK, 0x55);
	tmf_prep(&m2, &f, SCSI_TMF_LUN_RESET, 0);
	f.pending += 2;
	scsi_tmf_submit(&m1.req);
	scsi_tmf_submit(&m2.req);
	fx_run(&f);
	assert_true(s.t.aborted);
	assert_int_equal(m1.resp, SCSI_TMF_COMPLETE);
	assert_int_equal(m2.resp, SCSI_TMF_COMPLETE);
	cmd_fini(&s);
	/* the LUN RESET's unit attention (SAM-5 6.3.3: every nexus, this one
	 * too), then the operation still running */
	cmd_run(&c, &f, tur, 6, 0, 0);
	assert_sense(&c, 0x06, 0x29, 0x03);
	cmd_fini(&c);
	cmd_run(&c, &f, tur, 6, 0, 0);
	assert_sense(&c, 0x02, 0x04, 0x1b);
	cmd_fini(&c);
	for (n = 0; n < 100000; n++) {
		cmd_run(&c, &f, tur, 6, 0, 0);
		bool ready = c.t.status == SCSI_STATUS_GOOD;
		cmd_fini(&c);
		if (ready)
			break;
	}
	assert_true(n < 100000);
	for (unsigned i = 0; i < BS; i++)
		blk[i] = p[4 + i % 4];
	check(&f, 0, 8, blk);
	check(&f, 256 * 2048 - 8, 8, blk);
	fx_fini(&f);
	unlink(path);
}

/* SBC-4 5.30.3.3, 4.11.4: BLOCK ERASE on a file LU deallocates every block
 * (they read back as zeroes, LBPRZ); a parameter list is an invalid field */
static void sbc4_5_30_3_3_block_erase_file_lu(void **state)
{
	(void)state;
	char path[] = "/var/tmp/targetd-sanitize-XXXXXX";
	int fd = mkstemp(path);
	struct fx f;
	struct cmd c;
	uint8_t zero[BS] = {0}, p[8] = {0};

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
	init_lu(&f, path, false, true);
	fill(&f, 0, 64, 'a');
	fill(&f, 8192 - 64, 64, 'a');
	sanitize_run(&c, &f, 0x02, false, p, 8);
	assert_invalid_cdb(&c, 7, 7);
	cmd_fini(&c);
	sanitize_run(&c, &f, 0x02, false, NULL, 0);
	if (c.t.status == SCSI_STATUS_CHECK_CONDITION && c.t.sense[12] == 0x20) {
		/* the file system cannot punch holes: not offered */
		cmd_fini(&c);
		fx_fini(&f);
		unlink(path);
		skip();
	}
	assert_good(&c);
	cmd_fini(&c);
	check(&f, 0, 64, zero);
	check(&f, 8192 - 64, 64, zero);
	fx_fini(&f);
	unlink(path);
}

/* SBC-4 4.5: a read-only LU answers DATA PROTECT / WRITE PROTECTED */
static void sbc4_5_30_sanitize_read_only_write_protected(void **state)
{
	(void)state;
	struct fx f;
	struct cmd c;
	uint8_t p[8] = {0x01, 0, 0, 4, 1, 2, 3, 4};

	init_lu(&f, "mem:1M", true, true);
	sanitize_run(&c, &f, 0x01, false, p, 8);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sbc4_5_30_sanitize_not_configured_invalid_opcode),
	    cmocka_unit_test(sbc4_5_30_3_2_overwrite_pattern_count_invert),
	    cmocka_unit_test(sbc4_5_30_3_2_overwrite_invalid_parameters),
	    cmocka_unit_test(sbc4_4_11_immed_sanitize_in_progress_not_ready),
	    cmocka_unit_test(sbc4_4_11_sanitize_survives_abort_and_lun_reset),
	    cmocka_unit_test(sbc4_5_30_3_3_block_erase_file_lu),
	    cmocka_unit_test(sbc4_5_30_sanitize_read_only_write_protected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
