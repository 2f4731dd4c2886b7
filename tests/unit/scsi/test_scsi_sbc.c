// SPDX-License-Identifier: MIT
/* SBC-4 block commands and the RFC 7143 residual rules of scsi.h, through
 * scsi_task_submit (real evloop + mem bdev, 1 MiB, 512-byte blocks). */
#include "scsi_harness.h"
#include "scsi_priv.h"

#define NBLK 2048u

static void rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, n);
}

static void write_pattern(struct fx *f, uint32_t lba, uint16_t n, uint8_t byte)
{
	uint8_t cdb[10], data[4096];
	struct cmd c;

	assert_true(n * 512u <= sizeof(data));
	memset(data, byte, sizeof(data));
	rw10(cdb, 0x2a, lba, n);
	cmd_prep(&c, f, f->nx, 0, cdb, 10, n * 512u, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, n * 512u);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, n * 512u);
	cmd_fini(&c);
}

static void read_check(struct fx *f, uint32_t lba, uint8_t byte)
{
	uint8_t cdb[10];
	struct cmd c;

	rw10(cdb, 0x28, lba, 1);
	cmd_run(&c, f, cdb, 10, 512, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(c.t.buf[i], byte);
	cmd_fini(&c);
}

static void sbc4_5_16_read_capacity10(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x25};
	struct cmd c;

	cmd_run(&c, f, cdb, 10, 8, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 8);
	assert_int_equal(get_be32(c.t.buf), NBLK - 1);
	assert_int_equal(get_be32(c.t.buf + 4), 512);
	cmd_fini(&c);
}

static void sbc4_5_16_read_capacity10_lba_without_pmi_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 10, 8, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 7);
	cmd_fini(&c);
}

static void sbc4_5_16_read_capacity10_saturates_above_32_bits(void **state)
{
	uint8_t cdb10[10] = {0x25}, cdb16[16] = {0x9e, 0x10, [13] = 32};
	struct fx f;
	struct cmd c;

	(void)state;
	/* 3 TiB of 512-byte blocks: more than 2^32 blocks (mem is sparse) */
	fx_init_lu(&f, "mem:3T", 512, false, true);
	cmd_run(&c, &f, cdb10, 10, 8, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 0xffffffffu);
	cmd_fini(&c);
	cmd_run(&c, &f, cdb16, 16, 32, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be64(c.t.buf), (3ull << 40) / 512 - 1);
	cmd_fini(&c);
	/* an LBA above 2^32 is reachable with READ(16) only */
	uint8_t r16[16] = {0x88};
	put_be64(r16 + 2, (3ull << 40) / 512 - 1);
	put_be32(r16 + 10, 1);
	cmd_run(&c, &f, r16, 16, 512, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	fx_fini(&f);
}

static void sbc4_5_17_read_capacity16(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x9e, 0x10};
	struct cmd c;

	put_be32(cdb + 10, 32);
	cmd_run(&c, f, cdb, 16, 32, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 32);
	assert_int_equal(get_be64(c.t.buf), NBLK - 1);
	assert_int_equal(get_be32(c.t.buf + 8), 512);
	assert_int_equal(c.t.buf[12] & 0x01, 0); /* PROT_EN */
	cmd_fini(&c);
	/* allocation length truncates (SPC-4 4.2.5.6) */
	put_be32(cdb + 10, 12);
	cmd_run(&c, f, cdb, 16, 12, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 12);
	cmd_fini(&c);
	/* 9Eh with another service action is not supported */
	cdb[1] = 0x11;
	cmd_run(&c, f, cdb, 16, 12, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x20, 0x00);
	cmd_fini(&c);
}

static void sbc4_5_39_write10_read10_roundtrip(void **state)
{
	struct fx *f = *state;

	write_pattern(f, 10, 4, 0xa5);
	read_check(f, 10, 0xa5);
	read_check(f, 13, 0xa5);
	read_check(f, 14, 0x00);
	/* the last block */
	write_pattern(f, NBLK - 1, 1, 0x5a);
	read_check(f, NBLK - 1, 0x5a);
}

static void sbc4_5_13_read6_transfer_length_0_is_256(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x08, 0, 0, 0, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 256 * 512, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 256 * 512);
	assert_int_equal(c.t.xfer_len, 256 * 512);
	cmd_fini(&c);
}

static void sbc4_5_15_read10_transfer_length_0_no_transfer(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10];
	struct cmd c;

	rw10(cdb, 0x28, 0, 0);
	cmd_run(&c, f, cdb, 10, 0, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 0);
	assert_int_equal(c.t.xfer_len, 0);
	cmd_fini(&c);
	/* LBA == capacity with no blocks is in range; one past is not */
	rw10(cdb, 0x28, NBLK, 0);
	cmd_run(&c, f, cdb, 10, 0, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	rw10(cdb, 0x28, NBLK + 1, 0);
	cmd_run(&c, f, cdb, 10, 0, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void sbc4_4_5_read_beyond_capacity_lba_out_of_range(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0};
	struct cmd c;

	rw10(cdb, 0x28, NBLK - 1, 2);
	cmd_run(&c, f, cdb, 10, 1024, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x21, 0x00);
	assert_int_equal(c.t.data_in_len, 0);
	cmd_fini(&c);
	/* READ(16) at LBA 2^64-1: the overflow-safe check */
	memset(cdb, 0, 16);
	cdb[0] = 0x88;
	put_be64(cdb + 2, ~0ull);
	put_be32(cdb + 10, 1);
	cmd_run(&c, f, cdb, 16, 512, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
	/* WRITE(12) one block past the end */
	uint8_t data[1024] = {0};
	memset(cdb, 0, 16);
	cdb[0] = 0xaa;
	put_be32(cdb + 2, NBLK - 1);
	put_be32(cdb + 6, 2);
	cmd_prep(&c, f, f->nx, 0, cdb, 12, 1024, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 1024);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void sbc4_4_22_rdprotect_without_protection_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0xa8, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 12, 512, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 1, 7);
	cmd_fini(&c);
}

static void sbc4_4_5_write_to_read_only_lu_write_protected(void **state)
{
	uint8_t cdb[10], data[512] = {0};
	struct fx f;
	struct cmd c;

	(void)state;
	fx_init_lu(&f, "mem:64k", 512, true, false);
	rw10(cdb, 0x2a, 0, 1);
	cmd_prep(&c, &f, f.nx, 0, cdb, 10, 512, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 512);
	cmd_submit(&c);
	fx_run(&f);
	assert_sense(&c, 0x07, 0x27, 0x00);
	cmd_fini(&c);
	/* reads still work */
	rw10(cdb, 0x28, 0, 1);
	cmd_run(&c, &f, cdb, 10, 512, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	fx_fini(&f);
}

static void sbc4_6_6_4_transfer_over_maximum_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x88};
	struct cmd c;

	put_be32(cdb + 10, SCSI_XFER_MAX / 512 + 1);
	/* in range of a 1 MiB LU? no: use LBA 0 on a bigger LU below */
	struct fx big;
	fx_init_lu(&big, "mem:64M", 512, false, true);
	cmd_run(&c, &big, cdb, 16, 0, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 10, 7);
	cmd_fini(&c);
	fx_fini(&big);
	(void)f;
}

static void rfc7143_11_4_5_write_edtl_below_tl_writes_edtl_only(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10], data[1024];
	struct cmd c;

	write_pattern(f, 100, 2, 'a');
	memset(data, 'b', sizeof(data));
	rw10(cdb, 0x2a, 100, 2);
	cmd_prep(&c, f, f->nx, 0, cdb, 10, 512, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 512);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 1024); /* transport: overflow 512 */
	cmd_fini(&c);
	read_check(f, 100, 'b');
	read_check(f, 101, 'a');
}

static void rfc7143_11_4_5_write_edtl_above_tl_writes_tl_only(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10], data[1024];
	struct cmd c;

	write_pattern(f, 200, 2, 'a');
	memset(data, 'b', sizeof(data));
	rw10(cdb, 0x2a, 200, 1);
	cmd_prep(&c, f, f->nx, 0, cdb, 10, 1024, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 1024);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 512); /* transport: underflow 512 */
	cmd_fini(&c);
	read_check(f, 200, 'b');
	read_check(f, 201, 'a');
}

static void rfc7143_11_4_5_write_edtl_zero_good_nothing_written(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10];
	struct cmd c;

	write_pattern(f, 300, 1, 'a');
	rw10(cdb, 0x2a, 300, 1);
	cmd_run(&c, f, cdb, 10, 0, 0);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 512);
	cmd_fini(&c);
	read_check(f, 300, 'a');
}

static void rfc7143_11_4_5_write_partial_block_invalid_iu_field(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10], data[200] = {0};
	struct cmd c;

	rw10(cdb, 0x2a, 0, 1);
	cmd_prep(&c, f, f->nx, 0, cdb, 10, 200, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 200);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x0e, 0x03);
	assert_int_equal(c.t.xfer_len, 512);
	cmd_fini(&c);
}

static void rfc7143_11_4_5_read_reports_cdb_length_not_edtl(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10];
	struct cmd c;

	rw10(cdb, 0x28, 0, 2);
	cmd_run(&c, f, cdb, 10, 512, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 1024);
	assert_int_equal(c.t.data_in_len, 1024);
	assert_true(c.t.buf_alloc >= 1024);
	cmd_fini(&c);
}

static void sbc4_5_26_synchronize_cache_flushes_and_checks_range(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[16] = {0x35};
	struct bdev_stats before, after;
	struct cmd c;

	bdev_get_stats(f->lu->bdev, &before);
	cmd_run(&c, f, cdb, 10, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
	bdev_get_stats(f->lu->bdev, &after);
	assert_int_equal(after.flushes, before.flushes + 1);
	/* SYNCHRONIZE CACHE(16) past the end */
	memset(cdb, 0, 16);
	cdb[0] = 0x91;
	put_be64(cdb + 2, NBLK - 1);
	put_be32(cdb + 10, 2);
	cmd_run(&c, f, cdb, 16, 0, 0);
	assert_sense(&c, 0x05, 0x21, 0x00);
	cmd_fini(&c);
}

static void sbc4_5_41_write16_fua_and_4k_blocks(void **state)
{
	uint8_t cdb[16] = {0x8a, 0x08}, data[4096];
	struct fx f;
	struct cmd c;

	(void)state;
	fx_init_lu(&f, "mem:1M", 4096, false, false);
	memset(data, 0x77, sizeof(data));
	put_be64(cdb + 2, 255);
	put_be32(cdb + 10, 1);
	cmd_prep(&c, &f, f.nx, 0, cdb, 16, 4096, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, data, 4096);
	cmd_submit(&c);
	fx_run(&f);
	assert_good(&c);
	cmd_fini(&c);
	cdb[0] = 0x88;
	cdb[1] = 0;
	cmd_run(&c, &f, cdb, 16, 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[4095], 0x77);
	cmd_fini(&c);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(sbc4_5_16_read_capacity10),
	    T(sbc4_5_16_read_capacity10_lba_without_pmi_invalid),
	    cmocka_unit_test(sbc4_5_16_read_capacity10_saturates_above_32_bits),
	    T(sbc4_5_17_read_capacity16),
	    T(sbc4_5_39_write10_read10_roundtrip),
	    T(sbc4_5_13_read6_transfer_length_0_is_256),
	    T(sbc4_5_15_read10_transfer_length_0_no_transfer),
	    T(sbc4_4_5_read_beyond_capacity_lba_out_of_range),
	    T(sbc4_4_22_rdprotect_without_protection_invalid),
	    cmocka_unit_test(sbc4_4_5_write_to_read_only_lu_write_protected),
	    T(sbc4_6_6_4_transfer_over_maximum_invalid),
	    T(rfc7143_11_4_5_write_edtl_below_tl_writes_edtl_only),
	    T(rfc7143_11_4_5_write_edtl_above_tl_writes_tl_only),
	    T(rfc7143_11_4_5_write_edtl_zero_good_nothing_written),
	    T(rfc7143_11_4_5_write_partial_block_invalid_iu_field),
	    T(rfc7143_11_4_5_read_reports_cdb_length_not_edtl),
	    T(sbc4_5_26_synchronize_cache_flushes_and_checks_range),
	    cmocka_unit_test(sbc4_5_41_write16_fua_and_4k_blocks),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
