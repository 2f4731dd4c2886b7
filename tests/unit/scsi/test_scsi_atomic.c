// SPDX-License-Identifier: MIT
/*
 * WRITE ATOMIC(16) (SBC-4 5.48) and the atomic limits of VPD B0h (SBC-4
 * 6.6.4): a mem LU (atomic at any length, capped at 1 MiB), and a file LU
 * whose limits come from the kernel (statx STATX_WRITE_ATOMIC): whatever it
 * says, VPD B0h, the dispatcher and REPORT SUPPORTED OPERATION CODES agree.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "scsi_harness.h"

#define BS 512u

static void fx4m(struct fx *f)
{
	fx_init_lu(f, "mem:4M", BS, false, true);
}

static void vpd_b0(struct fx *f, uint32_t *max, uint32_t *align, uint32_t *gran)
{
	uint8_t cdb[6] = {0x12, 0x01, 0xb0, 0, 64, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 64);
	*max = get_be32(c.t.buf + 44);
	*align = get_be32(c.t.buf + 48);
	*gran = get_be32(c.t.buf + 52);
	/* atomic boundaries are not supported */
	assert_int_equal(get_be32(c.t.buf + 56), 0);
	assert_int_equal(get_be32(c.t.buf + 60), 0);
	cmd_fini(&c);
}

static void atomic_prep(struct cmd *c, struct fx *f, uint64_t lba, uint32_t n, uint8_t fill,
			uint8_t *data)
{
	uint8_t cdb[16] = {0x9c};

	put_be64(cdb + 2, lba);
	put_be16(cdb + 12, (uint16_t)n);
	memset(data, fill, (size_t)n * BS);
	cmd_prep(c, f, f->nx, 0, cdb, 16, n * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(c, data, n * BS);
}

static void read_prep(struct cmd *c, struct fx *f, uint64_t lba, uint32_t n)
{
	uint8_t cdb[16] = {0x88};

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_prep(c, f, f->nx, 0, cdb, 16, n * BS, SCSI_TASK_F_READ);
}

static void assert_filled(const uint8_t *b, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			fail_msg("byte %zu is %02x, want %02x", i, b[i], v);
}

/* RSOC one command (REPORTING OPTIONS 001b): SUPPORT field of 9Ch */
static uint8_t rsoc_support_9c(struct fx *f)
{
	uint8_t cdb[12] = {0xa3, 0x0c, 0x01, 0x9c, 0, 0, 0, 0, 0, 64, 0, 0};
	struct cmd c;
	uint8_t s;

	cmd_run(&c, f, cdb, 12, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	s = c.t.buf[1] & 0x07;
	cmd_fini(&c);
	return s;
}

/* SBC-4 6.6.4: a mem LU writes any length atomically; limits capped at 1 MiB */
static void sbc4_6_6_4_block_limits_report_atomic_limits_on_mem(void **state)
{
	(void)state;
	struct fx f;
	uint32_t max, align, gran;

	fx4m(&f);
	vpd_b0(&f, &max, &align, &gran);
	assert_int_equal(max, (1u << 20) / BS);
	assert_int_equal(align, 1);
	assert_int_equal(gran, 1);
	assert_int_equal(rsoc_support_9c(&f), 3); /* SPC-4 6.35.2: supported */
	fx_fini(&f);
}

/* SBC-4 5.48: the data is written; 0 blocks is GOOD and writes nothing */
static void sbc4_5_48_write_atomic_writes_data(void **state)
{
	(void)state;
	struct fx f;
	uint8_t *data = malloc(64 * BS);
	struct cmd c;

	fx4m(&f);
	atomic_prep(&c, &f, 100, 64, 0x5a, data);
	cmd_submit(&c);
	fx_run(&f);
	assert_good(&c);
	cmd_fini(&c);
	read_prep(&c, &f, 100, 64);
	cmd_submit(&c);
	fx_run(&f);
	assert_good(&c);
	assert_filled(c.t.buf, 64 * BS, 0x5a);
	cmd_fini(&c);
	atomic_prep(&c, &f, 100, 0, 0, data);
	cmd_submit(&c);
	fx_run(&f);
	assert_good(&c);
	cmd_fini(&c);
	free(data);
	fx_fini(&f);
}

/* SBC-4 5.48: ATOMIC BOUNDARY != 0 while MAXIMUM ATOMIC TRANSFER LENGTH
 * WITH ATOMIC BOUNDARY is 0; TRANSFER LENGTH above MAXIMUM ATOMIC TRANSFER
 * LENGTH; WRPROTECT without protection information (SBC-4 4.22): INVALID
 * FIELD IN CDB pointing at the field. Beyond the end: LBA OUT OF RANGE. */
static void sbc4_5_48_write_atomic_invalid_fields(void **state)
{
	(void)state;
	struct fx f;
	uint8_t *data = malloc(2049 * BS);
	struct cmd c;

	fx4m(&f);
	atomic_prep(&c, &f, 0, 1, 1, data);
	put_be16(c.t.cdb + 10, 1);
	cmd_submit(&c);
	fx_run(&f);
	assert_invalid_cdb(&c, 10, 7);
	cmd_fini(&c);

	atomic_prep(&c, &f, 0, 2049, 1, data);
	cmd_submit(&c);
	fx_run(&f);
	assert_invalid_cdb(&c, 12, 7);
	cmd_fini(&c);

	atomic_prep(&c, &f, 0, 1, 1, data);
	c.t.cdb[1] = 0x20;
	cmd_submit(&c);
	fx_run(&f);
	assert_invalid_cdb(&c, 1, 7);
	cmd_fini(&c);

	atomic_prep(&c, &f, 8191, 2, 1, data);
	cmd_submit(&c);
	fx_run(&f);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
	free(data);
	fx_fini(&f);
}

/* SBC-4 4.29 / 5.48: no other command sees part of an atomic write: an
 * overlapping READ submitted behind it completes after it, with all of the
 * new data; an overlapping WRITE after it wins. */
static void sbc4_5_48_write_atomic_not_interleaved(void **state)
{
	(void)state;
	struct fx f;
	uint8_t *data = malloc(256 * BS), *wr = malloc(BS);
	uint8_t wcdb[16] = {0x8a};
	struct cmd c1, c2, c3;

	fx4m(&f);
	atomic_prep(&c1, &f, 0, 256, 0xa6, data);
	read_prep(&c2, &f, 0, 256);
	put_be64(wcdb + 2, 255);
	put_be32(wcdb + 10, 1);
	memset(wr, 0x77, BS);
	cmd_prep(&c3, &f, f.nx, 0, wcdb, 16, BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&c3, wr, BS);
	cmd_submit(&c1);
	cmd_submit(&c2);
	cmd_submit(&c3);
	fx_run(&f);
	assert_good(&c1);
	assert_good(&c2);
	assert_good(&c3);
	assert_true(c1.order < c2.order);
	assert_true(c1.order < c3.order);
	assert_filled(c2.t.buf, 256 * BS, 0xa6);
	cmd_fini(&c1);
	cmd_fini(&c2);
	cmd_fini(&c3);
	free(data);
	free(wr);
	fx_fini(&f);
}

/* SBC-4 4.5 / 5.48: a read-only LU answers DATA PROTECT / WRITE PROTECTED */
static void sbc4_5_48_write_atomic_read_only_lu_write_protected(void **state)
{
	(void)state;
	struct fx f;
	uint8_t data[BS];
	struct cmd c;

	fx_init_lu(&f, "mem:1M", BS, true, true);
	atomic_prep(&c, &f, 0, 1, 1, data);
	cmd_submit(&c);
	fx_run(&f);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	fx_fini(&f);
}

/* SBC-4 5.48 / SPC-4 6.35: on a file LU the limits are what the kernel
 * reports for untorn writes (RWF_ATOMIC). If it reports none, WRITE
 * ATOMIC(16) is INVALID COMMAND OPERATION CODE and RSOC says "not
 * supported"; if it reports some, every length VPD B0h allows succeeds
 * (the advertised lengths really are written with RWF_ATOMIC). */
static void sbc4_5_48_file_lu_limits_dispatch_and_rsoc_agree(void **state)
{
	(void)state;
	char path[] = "/var/tmp/targetd-atomic-XXXXXX";
	int fd = mkstemp(path);
	struct fx f;
	uint32_t max, align, gran;
	struct cmd c;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
	fx_init_lu(&f, path, BS, false, true);
	vpd_b0(&f, &max, &align, &gran);
	print_message("file LU atomic limits: max %u align %u gran %u (blocks)\n", max, align,
		      gran);
	if (max == 0) {
		uint8_t data[BS];
		assert_int_equal(align, 0);
		assert_int_equal(gran, 0);
		assert_int_equal(rsoc_support_9c(&f), 1); /* not supported */
		atomic_prep(&c, &f, 0, 1, 1, data);
		cmd_submit(&c);
		fx_run(&f);
		assert_sense(&c, 0x05, 0x20, 0x00);
		cmd_fini(&c);
	} else {
		uint8_t *data = malloc((size_t)max * BS);
		assert_int_equal(rsoc_support_9c(&f), 3);
		assert_true(gran >= 1 && align >= 1);
		for (uint32_t n = gran; n <= max; n += gran) {
			atomic_prep(&c, &f, align * 3, n, (uint8_t)n, data);
			cmd_submit(&c);
			fx_run(&f);
			assert_good(&c);
			cmd_fini(&c);
			read_prep(&c, &f, align * 3, n);
			cmd_submit(&c);
			fx_run(&f);
			assert_good(&c);
			assert_filled(c.t.buf, (size_t)n * BS, (uint8_t)n);
			cmd_fini(&c);
		}
		/* misaligned LBA: INVALID FIELD IN CDB at the LBA */
		if (align > 1) {
			atomic_prep(&c, &f, 1, gran, 1, data);
			cmd_submit(&c);
			fx_run(&f);
			assert_invalid_cdb(&c, 2, 7);
			cmd_fini(&c);
		}
		free(data);
	}
	fx_fini(&f);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sbc4_6_6_4_block_limits_report_atomic_limits_on_mem),
	    cmocka_unit_test(sbc4_5_48_write_atomic_writes_data),
	    cmocka_unit_test(sbc4_5_48_write_atomic_invalid_fields),
	    cmocka_unit_test(sbc4_5_48_write_atomic_not_interleaved),
	    cmocka_unit_test(sbc4_5_48_write_atomic_read_only_lu_write_protected),
	    cmocka_unit_test(sbc4_5_48_file_lu_limits_dispatch_and_rsoc_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
