// SPDX-License-Identifier: MIT
/* SPC-4 primary commands through scsi_task_submit (real evloop + mem bdev). */
#include "scsi_harness.h"

static void spc4_6_6_2_inquiry_standard_data(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x12, 0, 0, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 96);
	assert_int_equal(c.t.xfer_len, 96);
	uint8_t *b = c.t.buf;
	assert_int_equal(b[0], 0x00); /* connected, direct access */
	assert_int_equal(b[2], 0x06); /* SPC-4 */
	assert_int_equal(b[3] & 0x0f, 0x02); /* RESPONSE DATA FORMAT */
	assert_true(b[3] & 0x10); /* HISUP */
	assert_false(b[3] & 0x20); /* NORMACA */
	assert_int_equal(b[4], 91);
	assert_true(b[7] & 0x02); /* CMDQUE */
	assert_memory_equal(b + 8, "TARGETD ", 8);
	assert_memory_equal(b + 16, "VIRTUAL-DISK    ", 16);
	assert_int_equal(get_be16(b + 58), 0x00a0); /* SAM-5 */
	cmd_fini(&c);
}

static void spc4_4_2_5_6_inquiry_allocation_length_truncates(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x12, 0, 0, 0, 5, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 5, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 5);
	assert_int_equal(c.t.xfer_len, 5);
	cmd_fini(&c);
}

static void spc4_6_6_1_inquiry_page_code_without_evpd_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x12, 0, 0x80, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 7);
	assert_int_equal(c.t.data_in_len, 0);
	cmd_fini(&c);
}

static void inquiry_vpd(struct fx *f, struct cmd *c, uint8_t page)
{
	uint8_t cdb[6] = {0x12, 0x01, page, 0x10, 0x00, 0};

	cmd_run(c, f, cdb, 6, 4096, SCSI_TASK_F_READ);
	assert_good(c);
	assert_int_equal(c->t.buf[1], page);
	assert_int_equal(get_be16(c->t.buf + 2) + 4u, c->t.data_in_len);
}

static void spc4_7_8_13_vpd_supported_pages(void **state)
{
	static const uint8_t want[] = {0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb1, 0xb2};
	struct fx *f = *state;
	struct cmd c, p;

	inquiry_vpd(f, &c, 0x00);
	assert_int_equal(c.t.data_in_len, 4 + sizeof(want));
	assert_memory_equal(c.t.buf + 4, want, sizeof(want));
	/* every listed page can be read */
	for (size_t i = 0; i < sizeof(want); i++) {
		inquiry_vpd(f, &p, want[i]);
		cmd_fini(&p);
	}
	cmd_fini(&c);
}

static void spc4_7_8_15_vpd_unit_serial_number(void **state)
{
	struct fx *f = *state;
	struct cmd c;

	inquiry_vpd(f, &c, 0x80);
	assert_int_equal(get_be16(c.t.buf + 2), strlen("targetd-test-0001"));
	assert_memory_equal(c.t.buf + 4, "targetd-test-0001", 17);
	cmd_fini(&c);
}

static void spc4_7_8_6_vpd_device_identification(void **state)
{
	struct fx *f = *state;
	struct cmd c, c2;
	bool naa = false, t10 = false, relport = false, portname = false, tpg = false;

	inquiry_vpd(f, &c, 0x83);
	for (uint32_t o = 4; o + 4 <= c.t.data_in_len;) {
		uint8_t *d = c.t.buf + o;
		uint8_t type = d[1] & 0x0f, assoc = (d[1] >> 4) & 3, len = d[3];
		if (type == 3 && assoc == 0) {
			naa = true;
			assert_int_equal(len, 16);
			assert_int_equal(d[4] >> 4, 6); /* NAA IEEE Registered Extended */
			assert_int_equal((get_be32(d + 4) >> 4) & 0xffffff, 0x5a5444);
		} else if (type == 1) {
			t10 = true;
			assert_memory_equal(d + 4, "TARGETD ", 8);
		} else if (type == 4 && assoc == 1) {
			relport = true;
			assert_int_equal(get_be16(d + 6), 1);
		} else if (type == 5 && assoc == 1) {
			tpg = true;
		} else if (type == 8 && assoc == 1) {
			portname = true;
			assert_string_equal((char *)d + 4, FX_TARGET ",t,0x0001");
			assert_int_equal(len % 4, 0);
		}
		o += 4u + len;
	}
	assert_true(naa && t10 && relport && portname && tpg);
	/* stable: the same page twice */
	inquiry_vpd(f, &c2, 0x83);
	assert_memory_equal(c.t.buf, c2.t.buf, c.t.data_in_len);
	cmd_fini(&c);
	cmd_fini(&c2);
}

static void sbc4_6_6_4_vpd_block_limits(void **state)
{
	struct fx *f = *state;
	struct cmd c;

	inquiry_vpd(f, &c, 0xb0);
	assert_int_equal(get_be16(c.t.buf + 2), 0x3c);
	assert_int_equal(get_be32(c.t.buf + 8), SCSI_XFER_MAX / 512);
	cmd_fini(&c);
}

static void spc4_6_6_1_inquiry_unsupported_vpd_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x12, 0x01, 0x42, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 7);
	cmd_fini(&c);
}

static void spc4_6_6_2_inquiry_unmapped_lun_qualifier_011b(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x12, 0, 0, 0, 96, 0};
	struct cmd c;

	cmd_prep(&c, f, f->nx, 7, cdb, 6, 96, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.buf[0], 0x7f);
	cmd_fini(&c);
}

static void spc4_4_6_3_unmapped_lun_not_supported(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0};
	struct cmd c;

	cmd_prep(&c, f, f->nx, 7, cdb, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x25, 0x00);
	cmd_fini(&c);
}

static void spc4_6_33_report_luns_lists_the_map(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
	struct cmd c;

	assert_int_equal(scsi_target_map_lun(f->tgt, 300, f->lu), 0);
	cmd_run(&c, f, cdb, 12, 256, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 24);
	assert_int_equal(get_be32(c.t.buf), 16);
	assert_int_equal(get_be64(c.t.buf + 8), 0);
	/* SAM-5 4.7.7 flat space addressing for LUN 300 */
	assert_int_equal(get_be64(c.t.buf + 16), 0x412c000000000000ull);
	cmd_fini(&c);

	/* allocation length 16: the header still tells the full length */
	cdb[8] = 0;
	cdb[9] = 16;
	cmd_run(&c, f, cdb, 12, 16, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 16);
	assert_int_equal(get_be32(c.t.buf), 16);
	cmd_fini(&c);
}

static void spc4_6_33_report_luns_allocation_below_16_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 12, 15, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 6, 7);
	cmd_fini(&c);
}

static void spc4_6_33_report_luns_select_report(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0xa0, 0, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 12, 256, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 0); /* no well known LUNs */
	cmd_fini(&c);
	cdb[2] = 0x02;
	cmd_run(&c, f, cdb, 12, 256, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 8);
	cmd_fini(&c);
	cdb[2] = 0x07;
	cmd_run(&c, f, cdb, 12, 256, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 7);
	cmd_fini(&c);
}

static void spc4_6_47_test_unit_ready_good(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 0, 0);
	assert_good(&c);
	assert_int_equal(c.t.xfer_len, 0);
	cmd_fini(&c);
}

static void spc4_6_39_request_sense_no_sense_fixed_and_descriptor(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x03, 0, 0, 0, 252, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 252, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 18);
	assert_int_equal(c.t.buf[0], 0x70);
	assert_int_equal(c.t.buf[2], 0x00);
	assert_int_equal(c.t.buf[12], 0x00);
	cmd_fini(&c);
	cdb[1] = 0x01; /* DESC */
	cmd_run(&c, f, cdb, 6, 252, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.data_in_len, 8);
	assert_int_equal(c.t.buf[0], 0x72);
	assert_int_equal(c.t.buf[7], 0);
	cmd_fini(&c);
}

static void spc4_6_39_request_sense_unmapped_lun(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x03, 0, 0, 0, 252, 0};
	struct cmd c;

	cmd_prep(&c, f, f->nx, 9, cdb, 6, 252, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.buf[2], 0x05);
	assert_int_equal(c.t.buf[12], 0x25);
	cmd_fini(&c);
}

static void spc4_6_12_mode_sense10_llbaa_caching_control(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[10] = {0x5a, 0x10, 0x3f, 0, 0, 0, 0, 0x01, 0x00, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 10, 256, SCSI_TASK_F_READ);
	assert_good(&c);
	uint8_t *b = c.t.buf;
	assert_int_equal(get_be16(b) + 2u, c.t.data_in_len);
	assert_int_equal(b[3] & 0x80, 0); /* not write protected */
	assert_int_equal(b[4] & 0x01, 1); /* LONGLBA */
	assert_int_equal(get_be16(b + 6), 16);
	assert_int_equal(get_be64(b + 8), 2048); /* 1 MiB / 512 */
	assert_int_equal(get_be32(b + 20), 512);
	uint8_t *p = b + 24;
	assert_int_equal(p[0], 0x08);
	assert_int_equal(p[2] & 0x04, 0x04); /* WCE = write_cache */
	p += 2 + p[1];
	assert_int_equal(p[0], 0x0a);
	assert_int_equal(p[2] & 0x04, 0); /* D_SENSE=0 */
	assert_int_equal(p[2] >> 5, 0); /* TST=000b */
	cmd_fini(&c);
}

static void spc4_6_11_mode_sense6_dbd_and_changeable(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x1a, 0x08, 0x40 | 0x08, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[0] + 1u, c.t.data_in_len);
	assert_int_equal(c.t.buf[3], 0); /* DBD: no block descriptor */
	assert_int_equal(c.t.buf[4], 0x08);
	assert_int_equal(c.t.buf[6], 0x04); /* only WCE changeable (MODE SELECT) */
	cmd_fini(&c);
	/* short block descriptor */
	cdb[1] = 0;
	cdb[2] = 0x08;
	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[3], 8);
	assert_int_equal(get_be32(c.t.buf + 4), 2048);
	assert_int_equal(get_be24(c.t.buf + 9), 512);
	cmd_fini(&c);
}

static void spc4_6_11_mode_sense_saved_values_not_supported(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x1a, 0, 0xc0 | 0x3f, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x39, 0x00);
	cmd_fini(&c);
}

static void spc4_6_11_mode_sense_unknown_page_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x1a, 0, 0x19, 0, 255, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 5);
	cmd_fini(&c);
}

static void sbc4_6_5_1_mode_sense_write_protect_bit(void **state)
{
	uint8_t cdb[6] = {0x1a, 0x08, 0x3f, 0, 255, 0};
	struct fx f;
	struct cmd c;

	(void)state;
	fx_init_lu(&f, "mem:64k", 512, true, false);
	cmd_run(&c, &f, cdb, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[2] & 0x80, 0x80);
	assert_int_equal(c.t.buf[4 + 2] & 0x04, 0); /* WCE=0 */
	cmd_fini(&c);
	fx_fini(&f);
}

static void spc4_4_5_6_unknown_opcode_invalid_command_operation_code(void **state)
{
	struct fx *f = *state;
	/* C0h: vendor specific, not implemented */
	uint8_t cdb[10] = {0xc0, 0, 0, 0, 0, 0, 0, 0, 8, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 10, 8, SCSI_TASK_F_READ);
	assert_sense(&c, 0x05, 0x20, 0x00);
	cmd_fini(&c);
}

static void sam5_5_2_3_control_byte_naca_invalid_field(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0, 0, 0, 0, 0, 0x04};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 0, 0);
	assert_invalid_cdb(&c, 5, 2);
	cmd_fini(&c);
}

static void spc4_4_5_2_4_2_reserved_bit_field_pointer(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0, 0x08, 0, 0, 0, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 0, 0);
	assert_invalid_cdb(&c, 1, 3);
	cmd_fini(&c);
}

static void sbc4_5_25_start_stop_unit_accepted(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[6] = {0x1b, 0, 0, 0, 0x01, 0};
	struct cmd c;

	cmd_run(&c, f, cdb, 6, 0, 0);
	assert_good(&c);
	cmd_fini(&c);
}

static void spc4_6_35_report_supported_operation_codes(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 0x10, 0, 0, 0};
	struct cmd c;
	bool saw_read10 = false, saw_rc16 = false, saw_prin = false;

	/* all commands */
	cmd_run(&c, f, cdb, 12, 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	uint32_t len = get_be32(c.t.buf);
	assert_int_equal(len % 8, 0);
	assert_int_equal(len + 4, c.t.data_in_len);
	for (uint32_t o = 4; o < len + 4; o += 8) {
		uint8_t *d = c.t.buf + o;
		if (d[0] == 0x28) {
			saw_read10 = true;
			assert_int_equal(get_be16(d + 6), 10);
		}
		if (d[0] == 0x9e) {
			/* READ CAPACITY(16) and GET LBA STATUS */
			assert_int_equal(d[5] & 0x01, 1); /* SERVACTV */
			saw_rc16 |= get_be16(d + 2) == 0x10;
		}
		saw_prin |= d[0] == 0x5e; /* PERSISTENT RESERVE IN */
	}
	assert_true(saw_read10 && saw_rc16 && saw_prin);
	cmd_fini(&c);

	/* one command, no service action: WRITE(10) usage data */
	cdb[2] = 0x01;
	cdb[3] = 0x2a;
	cmd_run(&c, f, cdb, 12, 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1] & 0x07, 0x03);
	assert_int_equal(get_be16(c.t.buf + 2), 10);
	assert_int_equal(c.t.buf[4], 0x2a);
	assert_int_equal(c.t.buf[4 + 9], 0x00); /* control byte: NACA not usable */
	cmd_fini(&c);

	/* 001b for an opcode with service actions is an invalid field */
	cdb[3] = 0x9e;
	cmd_run(&c, f, cdb, 12, 4096, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 2);
	cmd_fini(&c);

	/* 010b: READ CAPACITY(16) */
	cdb[2] = 0x02;
	put_be16(cdb + 4, 0x10);
	cmd_run(&c, f, cdb, 12, 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1] & 0x07, 0x03);
	assert_int_equal(c.t.buf[5], 0x10);
	cmd_fini(&c);

	/* an unsupported opcode: SUPPORT 001b */
	cdb[2] = 0x01;
	cdb[3] = 0xc0;
	cmd_run(&c, f, cdb, 12, 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1] & 0x07, 0x01);
	cmd_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(spc4_6_6_2_inquiry_standard_data),
	    T(spc4_4_2_5_6_inquiry_allocation_length_truncates),
	    T(spc4_6_6_1_inquiry_page_code_without_evpd_invalid),
	    T(spc4_7_8_13_vpd_supported_pages),
	    T(spc4_7_8_15_vpd_unit_serial_number),
	    T(spc4_7_8_6_vpd_device_identification),
	    T(sbc4_6_6_4_vpd_block_limits),
	    T(spc4_6_6_1_inquiry_unsupported_vpd_invalid),
	    T(spc4_6_6_2_inquiry_unmapped_lun_qualifier_011b),
	    T(spc4_4_6_3_unmapped_lun_not_supported),
	    T(spc4_6_33_report_luns_lists_the_map),
	    T(spc4_6_33_report_luns_allocation_below_16_invalid),
	    T(spc4_6_33_report_luns_select_report),
	    T(spc4_6_47_test_unit_ready_good),
	    T(spc4_6_39_request_sense_no_sense_fixed_and_descriptor),
	    T(spc4_6_39_request_sense_unmapped_lun),
	    T(spc4_6_12_mode_sense10_llbaa_caching_control),
	    T(spc4_6_11_mode_sense6_dbd_and_changeable),
	    T(spc4_6_11_mode_sense_saved_values_not_supported),
	    T(spc4_6_11_mode_sense_unknown_page_invalid),
	    cmocka_unit_test(sbc4_6_5_1_mode_sense_write_protect_bit),
	    T(spc4_4_5_6_unknown_opcode_invalid_command_operation_code),
	    T(sam5_5_2_3_control_byte_naca_invalid_field),
	    T(spc4_4_5_2_4_2_reserved_bit_field_pointer),
	    T(sbc4_5_25_start_stop_unit_accepted),
	    T(spc4_6_35_report_supported_operation_codes),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
