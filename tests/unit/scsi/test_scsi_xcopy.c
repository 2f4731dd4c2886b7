// SPDX-License-Identifier: MIT
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18). Fixture:
 * LUN 0 (the harness LU) and LUN 1 of the same target, plus an LU mapped only
 * into another target: the requesting nexus must not reach it
 * (CVE-2020-28374 class).
 */
#include <stdlib.h>

#include <errno.h>

#include "scsi_harness.h"
#include "targetd/scsi_reconf.h"

#define BS 512u

/* scsi_vpd.c (src/scsi/scsi_blk.h): the NAA designator of an LU */
void scsi_vpd_naa(const struct scsi_lu *lu, uint8_t out[16]);

struct xfx {
	struct fx f;
	struct scsi_lu *lu1, *other;
	struct scsi_target *tgt2;
};

static int xsetup(void **state)
{
	static struct xfx x;
	struct scsi_lu_params lp = {.path = "mem:4M", .block_size = BS, .write_cache = true};
	struct cmd c;
	uint8_t tur[6] = {0};

	fx_init(&x.f);
	lp.serial = "targetd-test-lun1";
	assert_int_equal(scsi_lu_create(x.f.core, &lp, &x.lu1), 0);
	assert_int_equal(scsi_target_map_lun(x.f.tgt, 1, x.lu1), 0);
	lp.serial = "targetd-test-other";
	assert_int_equal(scsi_lu_create(x.f.core, &lp, &x.other), 0);
	assert_int_equal(scsi_target_create(x.f.core, FX_TARGET "-2", &x.tgt2), 0);
	assert_int_equal(scsi_target_add_port(x.tgt2, 2, 2), 0);
	assert_int_equal(scsi_target_map_lun(x.tgt2, 0, x.other), 0);
	/* the unit attentions of the new map (power on for LUN 1, REPORTED
	 * LUNS DATA HAS CHANGED for LUN 0) */
	for (uint64_t lun = 0; lun < 2; lun++) {
		for (int i = 0; i < 4; i++) {
			cmd_prep(&c, &x.f, x.f.nx, lun, tur, 6, 0, 0);
			cmd_submit(&c);
			fx_run(&x.f);
			bool good = c.t.status == SCSI_STATUS_GOOD;
			cmd_fini(&c);
			if (good)
				break;
		}
	}
	*state = &x;
	return 0;
}

static int xteardown(void **state)
{
	struct xfx *x = *state;

	fx_fini(&x->f);
	return 0;
}

/* The NAA designator of LUN lun, from VPD 83h. */
static void naa_of(struct fx *f, uint64_t lun, uint8_t out[16])
{
	uint8_t inq[6] = {0x12, 0x01, 0x83, 0, 255, 0};
	struct cmd c;

	cmd_prep(&c, f, f->nx, lun, inq, 6, 255, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.buf[5] & 0x0f, 0x03); /* first designator: NAA */
	memcpy(out, c.t.buf + 8, 16);
	cmd_fini(&c);
}

static size_t tgt_desc(uint8_t *d, const uint8_t naa[16])
{
	memset(d, 0, 32);
	d[0] = 0xe4;
	d[4] = 0x01; /* binary */
	d[5] = 0x03; /* NAA, LU association */
	d[7] = 16;
	memcpy(d + 8, naa, 16);
	put_be24(d + 29, BS);
	return 32;
}

static size_t seg_desc(uint8_t *d, uint16_t src, uint16_t dst, uint16_t n, uint64_t slba,
		       uint64_t dlba)
{
	memset(d, 0, 28);
	d[0] = 0x02;
	put_be16(d + 2, 24);
	put_be16(d + 4, src);
	put_be16(d + 6, dst);
	put_be16(d + 10, n);
	put_be64(d + 12, slba);
	put_be64(d + 20, dlba);
	return 28;
}

static void xcopy_run(struct cmd *c, struct fx *f, const uint8_t *p, uint32_t len)
{
	uint8_t cdb[16] = {0x83, 0x00};

	put_be32(cdb + 10, len);
	cmd_prep(c, f, f->nx, 0, cdb, 16, len, len ? SCSI_TASK_F_WRITE : 0);
	if (len)
		cmd_data_out(c, p, len);
	cmd_submit(c);
	fx_run(f);
}

static void lun_io(struct fx *f, uint64_t lun, bool write, uint64_t lba, uint32_t n, uint8_t *data)
{
	uint8_t cdb[16] = {write ? 0x8a : 0x88};
	struct cmd c;

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	cmd_prep(&c, f, f->nx, lun, cdb, 16, n * BS, write ? SCSI_TASK_F_WRITE : SCSI_TASK_F_READ);
	if (write)
		cmd_data_out(&c, data, n * BS);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	if (!write)
		memcpy(data, c.t.buf, n * BS);
	cmd_fini(&c);
}

/* SPC-4 6.4.4.6: the identification descriptor has no LU IDENTIFIER, so the
 * LU ID TYPE field that qualifies one is ignored there, reserved code 11b
 * included (libiscsi ExtendedCopy.ValidTgtDescr expects GOOD). */
static void spc4_6_4_4_6_xcopy_ident_descriptor_ignores_lu_id_type(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], p[16 + 32 + 28];
	static uint8_t data[8 * BS], back[8 * BS];
	struct cmd c;
	size_t off = 16;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	lun_io(f, 0, true, 100, 8, data);
	naa_of(f, 0, n0);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, n0);
	p[16 + 1] = 0xc0; /* LU ID TYPE 11b (reserved) */
	off += seg_desc(p + off, 0, 0, 8, 100, 300);
	p[1] = 0x18; /* LIST ID USAGE 11b */
	put_be16(p + 2, 32);
	put_be32(p + 8, 28);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_good(&c);
	cmd_fini(&c);
	lun_io(f, 0, false, 300, 8, back);
	assert_memory_equal(back, data, sizeof(data));
}

static void spc4_6_4_xcopy_between_luns_and_copy_status(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], n1[16], p[16 + 64 + 2 * 28];
	static uint8_t data[3000 * BS], back[3000 * BS];
	struct cmd c;
	size_t off = 16;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 512);
	lun_io(f, 0, true, 10, 1500, data);
	lun_io(f, 1, true, 2000, 1500, data + 1500 * BS);
	naa_of(f, 0, n0);
	naa_of(f, 1, n1);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, n0);
	off += tgt_desc(p + off, n1);
	/* LUN 0 -> LUN 1, then within LUN 1 (3000 blocks: two 1 MiB chunks) */
	off += seg_desc(p + off, 0, 1, 1500, 10, 500);
	off += seg_desc(p + off, 1, 1, 3000, 500, 5000);
	p[0] = 7; /* LIST IDENTIFIER, LIST ID USAGE 00b: hold results */
	put_be16(p + 2, 64);
	put_be32(p + 8, 56);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_good(&c);
	cmd_fini(&c);
	lun_io(f, 1, false, 500, 1500, back);
	assert_memory_equal(back, data, 1500 * BS);
	lun_io(f, 1, false, 5000, 3000, back);
	assert_memory_equal(back, data, sizeof(data));

	/* SPC-4 6.18.2 COPY STATUS for list 7: completed, 2 segments */
	uint8_t rcr[16] = {0x84, 0x00, 7};
	put_be32(rcr + 10, 64);
	cmd_run(&c, f, rcr, 16, 64, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[4] & 0x7f, 0x01);
	assert_int_equal(get_be16(c.t.buf + 5), 2);
	assert_int_equal(get_be32(c.t.buf + 8), 4500 * BS / 1024);
	cmd_fini(&c);
	/* another list identifier: nothing held */
	rcr[2] = 8;
	cmd_run(&c, f, rcr, 16, 64, SCSI_TASK_F_READ);
	assert_invalid_cdb(&c, 2, 7);
	cmd_fini(&c);
}

/* SBC-4 5.3 with SPC-4 6.4: while EXTENDED COPY copies a segment it holds the
 * source and destination ranges like READ and WRITE do, so a COMPARE AND
 * WRITE sent during the copy to the destination range runs after it: it
 * compares against the copied data, and its write is not overwritten. */
static void sbc4_5_3_xcopy_holds_its_ranges_against_compare_and_write(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], n1[16], p[16 + 64 + 28], cdb[16] = {0x83, 0x00};
	uint8_t cw[16] = {0x89}, cwdata[2 * BS];
	static uint8_t aa[8 * BS], zero[8 * BS], back[8 * BS];
	struct cmd xc, caw;
	size_t off = 16;

	memset(aa, 0xaa, sizeof(aa));
	memset(zero, 0, sizeof(zero));
	lun_io(f, 0, true, 0, 8, aa);
	lun_io(f, 1, true, 0, 8, zero);
	naa_of(f, 0, n0);
	naa_of(f, 1, n1);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, n0);
	off += tgt_desc(p + off, n1);
	off += seg_desc(p + off, 0, 1, 8, 0, 0);
	p[1] = 0x18; /* LIST ID USAGE 11b: no held results */
	put_be16(p + 2, 64);
	put_be32(p + 8, 28);
	put_be32(cdb + 10, (uint32_t)off);
	cmd_prep(&xc, f, f->nx, 0, cdb, 16, (uint32_t)off, SCSI_TASK_F_WRITE);
	cmd_data_out(&xc, p, (uint32_t)off);
	cmd_submit(&xc);
	/* CAW on LUN 1 block 0: compare with the copied 0xAA, write 0x55 */
	cw[13] = 1;
	memset(cwdata, 0xaa, BS);
	memset(cwdata + BS, 0x55, BS);
	cmd_prep(&caw, f, f->nx, 1, cw, 16, 2 * BS, SCSI_TASK_F_WRITE);
	cmd_data_out(&caw, cwdata, 2 * BS);
	cmd_submit(&caw);
	fx_run(f);
	assert_good(&xc);
	assert_good(&caw);
	assert_true(caw.order > xc.order);
	cmd_fini(&xc);
	cmd_fini(&caw);
	lun_io(f, 1, false, 0, 8, back);
	for (unsigned i = 0; i < BS; i++)
		assert_int_equal(back[i], 0x55);
	assert_memory_equal(back + BS, aa, 7 * BS);
}

/* SPC-4 7.5.8 SWP on the destination LU: EXTENDED COPY to it is DATA PROTECT
 * / LOGICAL UNIT SOFTWARE WRITE PROTECTED (SBC-4 4.x write protection) and
 * nothing is written; copying from it still works. */
static void sbc4_4_x_xcopy_to_software_write_protected_lu(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], n1[16], p[16 + 64 + 28];
	uint8_t ms[6] = {0x1a, 0x08, 0x0a, 0, 255, 0}, sel[6] = {0x15, 0x10, 0, 0, 16, 0};
	uint8_t page[16];
	static uint8_t aa[4 * BS], back[4 * BS], zero[4 * BS];
	struct cmd c;
	size_t off = 16;

	memset(aa, 0xaa, sizeof(aa));
	lun_io(f, 0, true, 0, 4, aa);
	lun_io(f, 1, true, 0, 4, zero);
	/* SWP=1 on LUN 1: its control page written back with byte 4 bit 3 */
	cmd_prep(&c, f, f->nx, 1, ms, 6, 255, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	memcpy(page, c.t.buf, 16);
	cmd_fini(&c);
	page[0] = 0;
	page[4 + 4] |= 0x08;
	cmd_prep(&c, f, f->nx, 1, sel, 6, 16, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, page, 16);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);

	naa_of(f, 0, n0);
	naa_of(f, 1, n1);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, n0);
	off += tgt_desc(p + off, n1);
	off += seg_desc(p + off, 0, 1, 4, 0, 0);
	p[1] = 0x18;
	put_be16(p + 2, 64);
	put_be32(p + 8, 28);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_sense(&c, 0x07, 0x27, 0x02);
	cmd_fini(&c);
	lun_io(f, 1, false, 0, 4, back);
	assert_memory_equal(back, zero, sizeof(zero));
	/* the other direction: LUN 1 is only read */
	seg_desc(p + 16 + 64, 1, 0, 4, 0, 0);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_good(&c);
	cmd_fini(&c);
	lun_io(f, 0, false, 0, 4, back);
	assert_memory_equal(back, zero, sizeof(zero));
}

/* CVE-2020-28374: an LU outside the nexus's LUN map cannot be named as a
 * copy source or destination. */
static void spc4_6_4_xcopy_lu_outside_lun_map_unreachable(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], nother[16], p[16 + 64 + 28];
	struct cmd c;
	size_t off = 16;

	naa_of(f, 0, n0);
	scsi_vpd_naa(x->other, nother);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, nother);
	off += tgt_desc(p + off, n0);
	off += seg_desc(p + off, 0, 1, 1, 0, 0);
	put_be16(p + 2, 64);
	put_be32(p + 8, 28);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_sense(&c, 0x0a, 0x0d, 0x02);
	cmd_fini(&c);
}

static void spc4_6_4_xcopy_parameter_list_errors(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16];
	static uint8_t p[16 + 5 * 32 + 9 * 28];
	struct cmd c;
	size_t off = 16;

	naa_of(f, 0, n0);
	/* PARAMETER LIST LENGTH 0 */
	xcopy_run(&c, f, NULL, 0);
	assert_good(&c);
	cmd_fini(&c);
	/* five target descriptors: TOO MANY TARGET DESCRIPTORS */
	memset(p, 0, sizeof(p));
	for (int i = 0; i < 5; i++)
		off += tgt_desc(p + off, n0);
	off += seg_desc(p + off, 0, 0, 1, 0, 1);
	put_be16(p + 2, 5 * 32);
	put_be32(p + 8, 28);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_sense(&c, 0x05, 0x26, 0x06);
	cmd_fini(&c);
	/* truncated: PARAMETER LIST LENGTH ERROR */
	xcopy_run(&c, f, p, (uint32_t)off - 1);
	assert_sense(&c, 0x05, 0x1a, 0x00);
	cmd_fini(&c);
	/* unsupported target descriptor type (E0h) */
	off = 16;
	off += tgt_desc(p + off, n0);
	p[16] = 0xe0;
	off += seg_desc(p + off, 0, 0, 1, 0, 1);
	put_be16(p + 2, 32);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_sense(&c, 0x05, 0x26, 0x07);
	cmd_fini(&c);
	/* beyond the destination's capacity: COPY ABORTED, nothing copied */
	p[16] = 0xe4;
	seg_desc(p + 48, 0, 0, 2, 0, 2047);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_int_equal(c.t.sense[2] & 0x0f, 0x0a);
	cmd_fini(&c);
	/* destination index without a target descriptor */
	seg_desc(p + 48, 0, 1, 1, 0, 1);
	xcopy_run(&c, f, p, (uint32_t)off);
	assert_sense(&c, 0x0a, 0x0d, 0x02);
	cmd_fini(&c);
}

static void spc4_6_18_4_receive_copy_results_operating_parameters(void **state)
{
	struct xfx *x = *state;
	uint8_t rcr[16] = {0x84, 0x03};
	struct cmd c;

	put_be32(rcr + 10, 255);
	cmd_run(&c, &x->f, rcr, 16, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 42);
	assert_int_equal(get_be16(c.t.buf + 8), 4); /* MAXIMUM TARGET DESCRIPTOR COUNT */
	assert_int_equal(get_be16(c.t.buf + 10), 8);
	assert_int_equal(get_be32(c.t.buf + 12), 4 * 32 + 8 * 28);
	assert_int_equal(c.t.buf[43], 2);
	assert_int_equal(c.t.buf[44], 0x02);
	assert_int_equal(c.t.buf[45], 0xe4);
	cmd_fini(&c);
}

/* An LU a copy is reading or writing cannot be destroyed under it, even once
 * unmapped (scsi_lu_destroy -EBUSY until the EXTENDED COPY completes). */
static void spc4_6_4_xcopy_keeps_its_lus_alive(void **state)
{
	struct xfx *x = *state;
	struct fx *f = &x->f;
	uint8_t n0[16], n1[16], p[16 + 64 + 28];
	uint8_t cdb[16] = {0x83, 0x00};
	struct cmd c;
	size_t off = 16;

	naa_of(f, 0, n0);
	naa_of(f, 1, n1);
	memset(p, 0, sizeof(p));
	off += tgt_desc(p + off, n0);
	off += tgt_desc(p + off, n1);
	off += seg_desc(p + off, 0, 1, 1000, 0, 0);
	p[1] = 0x18; /* LIST ID USAGE 11b: no list identifier, nothing held */
	put_be16(p + 2, 64);
	put_be32(p + 8, 28);
	put_be32(cdb + 10, (uint32_t)off);
	cmd_prep(&c, f, f->nx, 0, cdb, 16, (uint32_t)off, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, p, (uint32_t)off);
	cmd_submit(&c);
	assert_int_equal(scsi_target_unmap_lun(f->tgt, 1), 0);
	assert_int_equal(scsi_lu_destroy(x->lu1), -EBUSY);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
	assert_int_equal(scsi_lu_destroy(x->lu1), 0);
	x->lu1 = NULL;
}

/* SPC-4 7.8.17: the third-party copy VPD page lists the copy commands */
static void spc4_7_8_17_third_party_copy_vpd_supported_commands(void **state)
{
	struct xfx *x = *state;
	uint8_t inq[6] = {0x12, 0x01, 0x8f, 0, 255, 0};
	static const uint8_t want[] = {0x83, 1, 0x00, 0x84, 2, 0x00, 0x03};
	struct cmd c;

	cmd_run(&c, &x->f, inq, 6, 255, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(c.t.buf[1], 0x8f);
	assert_int_equal(get_be16(c.t.buf + 4), 0x0001); /* Supported Commands */
	assert_int_equal(get_be16(c.t.buf + 6) % 4, 0);
	assert_int_equal(c.t.buf[8], sizeof(want));
	assert_memory_equal(c.t.buf + 9, want, sizeof(want));
	cmd_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(spc4_6_4_4_6_xcopy_ident_descriptor_ignores_lu_id_type,
					    xsetup, xteardown),
	    cmocka_unit_test_setup_teardown(spc4_6_4_xcopy_between_luns_and_copy_status, xsetup,
					    xteardown),
	    cmocka_unit_test_setup_teardown(spc4_6_4_xcopy_lu_outside_lun_map_unreachable, xsetup,
					    xteardown),
	    cmocka_unit_test_setup_teardown(spc4_6_4_xcopy_parameter_list_errors, xsetup,
					    xteardown),
	    cmocka_unit_test_setup_teardown(spc4_6_18_4_receive_copy_results_operating_parameters,
					    xsetup, xteardown),
	    cmocka_unit_test_setup_teardown(spc4_7_8_17_third_party_copy_vpd_supported_commands,
					    xsetup, xteardown),
	    cmocka_unit_test_setup_teardown(spc4_6_4_xcopy_keeps_its_lus_alive, xsetup, xteardown),
	    cmocka_unit_test_setup_teardown(
		sbc4_5_3_xcopy_holds_its_ranges_against_compare_and_write, xsetup, xteardown),
	    cmocka_unit_test_setup_teardown(sbc4_4_x_xcopy_to_software_write_protected_lu, xsetup,
					    xteardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
