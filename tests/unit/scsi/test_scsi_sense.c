// SPDX-License-Identifier: MIT
/* The reason table and the sense data builder (SPC-4 4.5), no loop needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scsi_reason.h"
#include "targetd/scsi.h"

static void spc4_4_5_3_fixed_format_field_pointer(void **state)
{
	struct scsi_result r = {
	    .reason = SR_INVALID_CDB_FIELD, .sksv = true, .field = 10, .bpv = true, .bit = 7};
	uint8_t b[64];

	(void)state;
	assert_int_equal(scsi_sense_build(&r, false, b, sizeof(b)), 18);
	assert_int_equal(b[0], 0x70);
	assert_int_equal(b[2], 0x05);
	assert_int_equal(b[7], 10);
	assert_int_equal(b[12], 0x24);
	assert_int_equal(b[13], 0x00);
	assert_int_equal(b[15], 0x80 | 0x40 | 0x08 | 7); /* SKSV C/D BPV bit 7 */
	assert_int_equal(b[16], 0);
	assert_int_equal(b[17], 10);
}

static void spc4_4_5_2_descriptor_format_info_and_sks(void **state)
{
	struct scsi_result r = {.reason = SR_INVALID_PARAM_FIELD,
				.sksv = true,
				.field = 0x0102,
				.info_valid = true,
				.info = 0x1122334455667788ull};
	uint8_t b[64];

	(void)state;
	assert_int_equal(scsi_sense_build(&r, true, b, sizeof(b)), 8 + 12 + 8);
	assert_int_equal(b[0], 0x72);
	assert_int_equal(b[1], 0x05);
	assert_int_equal(b[2], 0x26);
	assert_int_equal(b[7], 20);
	assert_int_equal(b[8], 0x00); /* information descriptor */
	assert_int_equal(b[9], 0x0a);
	assert_int_equal(b[10], 0x80);
	assert_int_equal(b[12], 0x11);
	assert_int_equal(b[19], 0x88);
	assert_int_equal(b[20], 0x02); /* sense key specific */
	assert_int_equal(b[21], 0x06);
	assert_int_equal(b[24], 0x80); /* SKSV, C/D=0 (parameter list), BPV=0 */
	assert_int_equal(b[25], 0x01);
	assert_int_equal(b[26], 0x02);
}

static void spc4_4_5_6_table_rows(void **state)
{
	(void)state;
	const struct scsi_sense_row *row = scsi_reason_row(SR_LBA_OUT_OF_RANGE);
	assert_int_equal(row->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(row->key, 0x05);
	assert_int_equal(row->asc, 0x21);
	row = scsi_reason_row(SR_WRITE_PROTECTED);
	assert_int_equal(row->key, 0x07);
	assert_int_equal(row->asc, 0x27);
	row = scsi_reason_row(SR_RESERVATION_CONFLICT);
	assert_int_equal(row->status, SCSI_STATUS_RESERVATION_CONFLICT);
	row = scsi_reason_row(SR_UA_LU_RESET);
	assert_int_equal(row->key, 0x06);
	assert_int_equal(row->asc, 0x29);
	assert_int_equal(row->ascq, 0x03);
	/* every reason has a row with a valid status */
	for (int i = 0; i < SR__COUNT; i++) {
		row = scsi_reason_row((enum scsi_reason)i);
		if (i > SR_NO_SENSE && row->status == SCSI_STATUS_CHECK_CONDITION)
			assert_true(row->key != 0);
	}
	/* no sense data for statuses without CHECK CONDITION */
	struct scsi_result r = {.reason = SR_RESERVATION_CONFLICT};
	uint8_t b[64];
	assert_int_equal(scsi_sense_build(&r, false, b, sizeof(b)), 0);
}

static void scsi_errno_maps_to_one_reason(void **state)
{
	(void)state;
	assert_int_equal(scsi_reason_from_errno(0, false), SR_OK);
	assert_int_equal(scsi_reason_from_errno(-EIO, false), SR_READ_ERROR);
	assert_int_equal(scsi_reason_from_errno(-EIO, true), SR_WRITE_ERROR);
	assert_int_equal(scsi_reason_from_errno(-ENOSPC, true), SR_SPACE_ALLOC_FAILED);
	assert_int_equal(scsi_reason_from_errno(-ENOMEM, true), SR_BUSY);
	assert_int_equal(scsi_reason_from_errno(-EROFS, true), SR_WRITE_PROTECTED);
	assert_int_equal(scsi_reason_from_errno(-EXDEV, true), SR_HARDWARE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spc4_4_5_3_fixed_format_field_pointer),
	    cmocka_unit_test(spc4_4_5_2_descriptor_format_info_and_sks),
	    cmocka_unit_test(spc4_4_5_6_table_rows),
	    cmocka_unit_test(scsi_errno_maps_to_one_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
