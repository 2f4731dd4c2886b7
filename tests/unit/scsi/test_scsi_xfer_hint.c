/* SPDX-License-Identifier: MIT */
/* scsi_task_data_in_max (issue 9): the Data-In buffer a READ's CDB will make
 * scsi allocate (TRANSFER LENGTH x block size, SBC-4 5.13-5.16), known before
 * submission, whatever the EDTL says; scsi_task_scratch_max: the scratch chunk
 * VERIFY, WRITE SAME and EXTENDED COPY take besides. */
#include "scsi_harness.h"

static void hint(struct fx *f, uint64_t lun, const uint8_t *cdb, uint32_t want)
{
	struct cmd c;

	cmd_prep(&c, f, f->nx, lun, cdb, 16, 0, 0);
	assert_int_equal(scsi_task_data_in_max(&c.t), want);
}

static void scratch(struct fx *f, uint64_t lun, const uint8_t *cdb, uint32_t want)
{
	struct cmd c;

	cmd_prep(&c, f, f->nx, lun, cdb, 16, 0, 0);
	assert_int_equal(scsi_task_scratch_max(&c.t), want);
}

/* scsi_task_scratch_max: the chunk VERIFY, WRITE AND VERIFY and WRITE SAME
 * read or write through (up to 1 MiB), EXTENDED COPY's job page + chunk */
static void sbc4_5_33_verify_write_same_xcopy_scratch_by_cdb(void **state)
{
	struct fx f;
	uint8_t v10[16] = {0x2f}, v16[16] = {0x8f}, wav12[16] = {0xae}, ws10[16] = {0x41},
		ws16[16] = {0x93}, xc[16] = {0x83}, r10[16] = {0x28};

	(void)state;
	fx_init_lu(&f, "mem:16M", 4096, false, true);
	put_be16(v10 + 7, 3);
	scratch(&f, 0, v10, 3 * 4096); /* SBC-4 5.33 VERIFY(10) */
	put_be32(v16 + 10, 1000);
	scratch(&f, 0, v16, 1u << 20); /* 1000 blocks: one 1 MiB chunk */
	put_be32(wav12 + 6, 2);
	scratch(&f, 0, wav12, 2 * 4096); /* SBC-4 5.43 WRITE AND VERIFY(12) */
	put_be16(ws10 + 7, 64);
	scratch(&f, 0, ws10, 64 * 4096); /* SBC-4 5.48 WRITE SAME(10): pattern */
	put_be32(ws16 + 10, 4096);
	scratch(&f, 0, ws16, 1u << 20);
	ws16[1] = 0x01; /* SBC-4 5.49 NDOB: zeroes, no pattern buffer */
	scratch(&f, 0, ws16, 0);
	scratch(&f, 0, xc, 4096 + (1u << 20)); /* SPC-4 6.4 EXTENDED COPY(LID1) */
	xc[1] = 0x01; /* LID4: not implemented, nothing allocated */
	scratch(&f, 0, xc, 0);
	put_be16(r10 + 7, 16);
	scratch(&f, 0, r10, 0); /* a READ's buffer is scsi_task_data_in_max */
	scratch(&f, 5, v10, 0); /* no such LUN */
	fx_fini(&f);
}

static void sbc4_5_read_cdbs_give_transfer_length_times_block_size(void **state)
{
	struct fx f;
	uint8_t r6[16] = {0x08, 0, 0, 0, 0}, r10[16] = {0x28}, r12[16] = {0xa8}, r16[16] = {0x88};

	(void)state;
	fx_init_lu(&f, "mem:16M", 4096, false, true);
	hint(&f, 0, r6, 256 * 4096); /* SBC-4 5.13: READ(6) length 0 is 256 blocks */
	r6[4] = 3;
	hint(&f, 0, r6, 3 * 4096);
	put_be16(r10 + 7, 16);
	hint(&f, 0, r10, 16 * 4096);
	put_be32(r12 + 6, 2048);
	hint(&f, 0, r12, 2048 * 4096); /* 8 MiB: SCSI_XFER_MAX */
	put_be32(r16 + 10, 2049);
	hint(&f, 0, r16, 0); /* over MAXIMUM TRANSFER LENGTH: refused, nothing allocated */
	put_be32(r16 + 10, 1);
	hint(&f, 0, r16, 4096);
	hint(&f, 5, r16, 0); /* no such LUN */
	fx_fini(&f);
}

static void sbc4_5_other_commands_give_zero(void **state)
{
	struct fx f;
	uint8_t w10[16] = {0x2a}, inq[16] = {0x12, 0, 0, 0xff, 0xff};

	(void)state;
	fx_init(&f);
	put_be16(w10 + 7, 16);
	hint(&f, 0, w10, 0); /* data-out: the transport's own buffer */
	hint(&f, 0, inq, 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sbc4_5_read_cdbs_give_transfer_length_times_block_size),
	    cmocka_unit_test(sbc4_5_other_commands_give_zero),
	    cmocka_unit_test(sbc4_5_33_verify_write_same_xcopy_scratch_by_cdb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
