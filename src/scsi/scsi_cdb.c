// SPDX-License-Identifier: MIT
/*
 * The command table: one row per operation code (and service action) with its
 * CDB length, CDB usage data (SPC-4 6.35.3: the bits a CDB may set; reserved
 * bits set -> INVALID FIELD IN CDB with a field pointer, SPC-4 4.5.2.4.2),
 * data direction, persistent reservation class and handler. Read by
 * scsi_cdb_lookup()/scsi_cdb_check() and by REPORT SUPPORTED OPERATION
 * CODES. The persistent reservation class of each row is the row of the
 * conflict table in pr_access.c (SPC-4 5.13.1 table 65, SBC-4 4.17 table 13),
 * placed deliberately for every command.
 */
#include "scsi_atomic.h"
#include "scsi_blk.h"
#include "scsi_priv.h"
#include "scsi_sanitize.h"
#include "targetd/util.h"

#define LBA4 0xff, 0xff, 0xff, 0xff
#define LBA8 LBA4, LBA4

/* SBC-4 5.x READ (10/12/16) byte 1: RDPROTECT(7:5) DPO(4) FUA(3) RARC(2)
 * obsolete FUA_NV(1); WRITE: WRPROTECT DPO FUA reserved obsolete(1). */
#define RW_B1 0xfe
#define WR_B1 0xfa
/* VERIFY / WRITE AND VERIFY byte 1: V/WRPROTECT(7:5) DPO(4) BYTCHK(2:1) */
#define VF_B1 0xf6

/* clang-format off */
static const struct scsi_cmd cmds[] = {
	{ 0x00, -1, 6, SCSI_DIR_NONE, PR_CLASS_TUR, 0, "TEST UNIT READY",
	  scsi_spc_test_unit_ready, { 0xff, 0, 0, 0, 0, 0 } },
	{ 0x03, -1, 6, SCSI_DIR_IN, PR_CLASS_ALWAYS, SCSI_CMD_F_NO_LU | SCSI_CMD_F_NO_UA,
	  "REQUEST SENSE", scsi_spc_request_sense, { 0xff, 0x01, 0, 0, 0xff, 0 } },
	{ 0x08, -1, 6, SCSI_DIR_IN, PR_CLASS_READ, 0, "READ(6)", scsi_blk_rw,
	  { 0xff, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ 0x0a, -1, 6, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE(6)", scsi_blk_rw,
	  { 0xff, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ 0x12, -1, 6, SCSI_DIR_IN, PR_CLASS_ALWAYS, SCSI_CMD_F_NO_LU | SCSI_CMD_F_NO_UA,
	  "INQUIRY", scsi_spc_inquiry, { 0xff, 0x01, 0xff, 0xff, 0xff, 0 } },
	/* SPC-2 7.21 / 7.17: RESERVE(6), RELEASE(6); byte 1 bits 4:1 are
	 * obsolete third-party/extent fields, 3RDPTY and LONGID not supported */
	/* SPC-4 6.9: MODE SELECT(6), PF and SP in byte 1 */
	{ 0x15, -1, 6, SCSI_DIR_OUT, PR_CLASS_CONTROL, 0, "MODE SELECT(6)", scsi_spc_mode_select,
	  { 0xff, 0x11, 0, 0, 0xff, 0 } },
	{ 0x16, -1, 6, SCSI_DIR_NONE, PR_CLASS_SPC2_RESERVE, 0, "RESERVE(6)", scsi_spc2_reserve,
	  { 0xff, 0, 0, 0, 0, 0 } },
	{ 0x17, -1, 6, SCSI_DIR_NONE, PR_CLASS_SPC2_RELEASE, 0, "RELEASE(6)", scsi_spc2_release,
	  { 0xff, 0, 0, 0, 0, 0 } },
	{ 0x1a, -1, 6, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "MODE SENSE(6)", scsi_spc_mode_sense,
	  { 0xff, 0x08, 0xff, 0xff, 0xff, 0 } },
	{ 0x1b, -1, 6, SCSI_DIR_NONE, PR_CLASS_CONTROL, 0, "START STOP UNIT",
	  scsi_spc_start_stop_unit, { 0xff, 0x01, 0, 0x0f, 0xf7, 0 } },
	{ 0x25, -1, 10, SCSI_DIR_IN, PR_CLASS_INFO, 0, "READ CAPACITY(10)",
	  scsi_sbc_read_capacity10, { 0xff, 0, LBA4, 0, 0, 0x01, 0 } },
	{ 0x28, -1, 10, SCSI_DIR_IN, PR_CLASS_READ, 0, "READ(10)", scsi_blk_rw,
	  { 0xff, RW_B1, LBA4, 0x1f, 0xff, 0xff, 0 } },
	{ 0x2a, -1, 10, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE(10)", scsi_blk_rw,
	  { 0xff, WR_B1, LBA4, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.42: WRITE AND VERIFY(10): WRPROTECT, DPO, BYTCHK */
	{ 0x2e, -1, 10, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE AND VERIFY(10)",
	  scsi_sbc_write_verify, { 0xff, VF_B1, LBA4, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.33: VERIFY(10): VRPROTECT, DPO, BYTCHK */
	{ 0x2f, -1, 10, SCSI_DIR_OUT, PR_CLASS_READ, 0, "VERIFY(10)", scsi_sbc_verify,
	  { 0xff, VF_B1, LBA4, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.10: PRE-FETCH(10): IMMED */
	{ 0x34, -1, 10, SCSI_DIR_NONE, PR_CLASS_READ, 0, "PRE-FETCH(10)", scsi_sbc_prefetch,
	  { 0xff, 0x02, LBA4, 0x1f, 0xff, 0xff, 0 } },
	{ 0x35, -1, 10, SCSI_DIR_NONE, PR_CLASS_WRITE, 0, "SYNCHRONIZE CACHE(10)",
	  scsi_sbc_sync_cache, { 0xff, 0x06, LBA4, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.18: READ DEFECT DATA(10): REQ_PLIST, REQ_GLIST, FORMAT */
	{ 0x37, -1, 10, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "READ DEFECT DATA(10)",
	  scsi_sbc_read_defect, { 0xff, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0 } },
	/* SBC-4 5.48: WRITE SAME(10): WRPROTECT, UNMAP (ANCHOR unsupported:
	 * ANC_SUP=0) */
	{ 0x41, -1, 10, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE SAME(10)", scsi_sbc_write_same,
	  { 0xff, 0xe8, LBA4, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.30: UNMAP (ANCHOR unsupported), GROUP, PARAMETER LIST LENGTH */
	{ 0x42, -1, 10, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "UNMAP", scsi_sbc_unmap,
	  { 0xff, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0 } },
	/* SBC-4 5.30: SANITIZE: IMMED, AUSE, SERVICE ACTION, PARAMETER LIST
	 * LENGTH (7-8); only on LUs configured with sanitize = yes
	 * (scsi_sanitize.c); no CRYPTOGRAPHIC ERASE */
	{ 0x48, 0x01, 10, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "SANITIZE(OVERWRITE)", scsi_sbc_sanitize,
	  { 0xff, 0xbf, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, scsi_sanitize_overwrite_avail },
	{ 0x48, 0x02, 10, SCSI_DIR_NONE, PR_CLASS_WRITE, 0, "SANITIZE(BLOCK ERASE)",
	  scsi_sbc_sanitize, { 0xff, 0xbf, 0, 0, 0, 0, 0, 0xff, 0xff, 0 },
	  scsi_sanitize_block_erase_avail },
	{ 0x48, 0x1f, 10, SCSI_DIR_NONE, PR_CLASS_WRITE, 0, "SANITIZE(EXIT FAILURE MODE)",
	  scsi_sbc_sanitize, { 0xff, 0xbf, 0, 0, 0, 0, 0, 0xff, 0xff, 0 },
	  scsi_sanitize_overwrite_avail },
	/* SPC-4 6.10: MODE SELECT(10) */
	{ 0x55, -1, 10, SCSI_DIR_OUT, PR_CLASS_CONTROL, 0, "MODE SELECT(10)", scsi_spc_mode_select,
	  { 0xff, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0 } },
	/* SPC-2 7.22 / 7.18: RESERVE(10), RELEASE(10) without 3RDPTY/LONGID */
	{ 0x56, -1, 10, SCSI_DIR_NONE, PR_CLASS_SPC2_RESERVE, 0, "RESERVE(10)", scsi_spc2_reserve,
	  { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ 0x57, -1, 10, SCSI_DIR_NONE, PR_CLASS_SPC2_RELEASE, 0, "RELEASE(10)", scsi_spc2_release,
	  { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ 0x5a, -1, 10, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "MODE SENSE(10)", scsi_spc_mode_sense,
	  { 0xff, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0 } },
	/* SPC-4 6.15.1: PERSISTENT RESERVE IN, SERVICE ACTION (byte 1 bits 4:0,
	 * checked by pr_in), ALLOCATION LENGTH bytes 7-8 */
	{ 0x5e, -1, 10, SCSI_DIR_IN, PR_CLASS_INFO, 0, "PERSISTENT RESERVE IN", scsi_pr_in,
	  { 0xff, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0 } },
	/* SPC-4 6.16.1: PERSISTENT RESERVE OUT, SERVICE ACTION, SCOPE/TYPE
	 * (byte 2), PARAMETER LIST LENGTH bytes 5-8 */
	{ 0x5f, -1, 10, SCSI_DIR_OUT, PR_CLASS_PR_OUT, 0, "PERSISTENT RESERVE OUT", scsi_pr_out,
	  { 0xff, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0 } },
	/* SPC-4 6.4: EXTENDED COPY (LID1), PARAMETER LIST LENGTH bytes 10-13;
	 * table 65: conflicts like a write */
	{ 0x83, 0x00, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "EXTENDED COPY(LID1)", scsi_spc_xcopy,
	  { 0xff, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, LBA4, 0, 0 } },
	/* SPC-4 6.18: RECEIVE COPY RESULTS, COPY STATUS and OPERATING
	 * PARAMETERS (LIST IDENTIFIER byte 2, ALLOCATION LENGTH 10-13) */
	{ 0x84, 0x00, 16, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "RECEIVE COPY RESULTS(COPY STATUS)",
	  scsi_spc_copy_results, { 0xff, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, LBA4, 0, 0 } },
	{ 0x84, 0x03, 16, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0,
	  "RECEIVE COPY RESULTS(OPERATING PARAMETERS)", scsi_spc_copy_results,
	  { 0xff, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, LBA4, 0, 0 } },
	{ 0x88, -1, 16, SCSI_DIR_IN, PR_CLASS_READ, 0, "READ(16)", scsi_blk_rw,
	  { 0xff, RW_B1, LBA8, LBA4, 0x1f, 0 } },
	/* SBC-4 5.3: COMPARE AND WRITE: WRPROTECT, DPO, FUA, NUMBER OF
	 * LOGICAL BLOCKS (byte 13) */
	{ 0x89, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "COMPARE AND WRITE", scsi_sbc_caw,
	  { 0xff, WR_B1, LBA8, 0, 0, 0, 0xff, 0x1f, 0 } },
	{ 0x8a, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE(16)", scsi_blk_rw,
	  { 0xff, WR_B1, LBA8, LBA4, 0x1f, 0 } },
	/* SBC-4 5.9: ORWRITE(16): ORPROTECT, DPO, FUA */
	{ 0x8b, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "ORWRITE(16)", scsi_sbc_orwrite,
	  { 0xff, WR_B1, LBA8, LBA4, 0x1f, 0 } },
	{ 0x8e, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE AND VERIFY(16)",
	  scsi_sbc_write_verify, { 0xff, VF_B1, LBA8, LBA4, 0x1f, 0 } },
	{ 0x8f, -1, 16, SCSI_DIR_OUT, PR_CLASS_READ, 0, "VERIFY(16)", scsi_sbc_verify,
	  { 0xff, VF_B1, LBA8, LBA4, 0x1f, 0 } },
	{ 0x90, -1, 16, SCSI_DIR_NONE, PR_CLASS_READ, 0, "PRE-FETCH(16)", scsi_sbc_prefetch,
	  { 0xff, 0x02, LBA8, LBA4, 0x1f, 0 } },
	{ 0x91, -1, 16, SCSI_DIR_NONE, PR_CLASS_WRITE, 0, "SYNCHRONIZE CACHE(16)",
	  scsi_sbc_sync_cache, { 0xff, 0x06, LBA8, LBA4, 0x1f, 0 } },
	/* SBC-4 5.49: WRITE SAME(16): WRPROTECT, UNMAP, NDOB */
	{ 0x93, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE SAME(16)", scsi_sbc_write_same,
	  { 0xff, 0xe9, LBA8, LBA4, 0x1f, 0 } },
	/* SBC-4 5.48: WRITE ATOMIC(16): WRPROTECT, DPO, FUA, ATOMIC BOUNDARY
	 * (10-11), TRANSFER LENGTH (12-13); only where the backend writes
	 * untorn (scsi_atomic.c) */
	{ 0x9c, -1, 16, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE ATOMIC(16)", scsi_sbc_write_atomic,
	  { 0xff, 0xf8, LBA8, 0xff, 0xff, 0xff, 0xff, 0x1f, 0 }, scsi_atomic_supported },
	{ 0x9e, 0x10, 16, SCSI_DIR_IN, PR_CLASS_INFO, 0, "READ CAPACITY(16)",
	  scsi_sbc_read_capacity16, { 0xff, 0x1f, LBA8, LBA4, 0x01, 0 } },
	/* SBC-4 5.7: GET LBA STATUS, ALLOCATION LENGTH bytes 10-13 */
	{ 0x9e, 0x12, 16, SCSI_DIR_IN, PR_CLASS_READ, 0, "GET LBA STATUS", scsi_sbc_get_lba_status,
	  { 0xff, 0x1f, LBA8, LBA4, 0, 0 } },
	{ 0xa0, -1, 12, SCSI_DIR_IN, PR_CLASS_ALWAYS, SCSI_CMD_F_NO_LU | SCSI_CMD_F_NO_UA,
	  "REPORT LUNS", scsi_spc_report_luns, { 0xff, 0, 0xff, 0, 0, 0, LBA4, 0, 0 } },
	{ 0xa3, 0x0c, 12, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "REPORT SUPPORTED OPERATION CODES",
	  scsi_spc_report_opcodes, { 0xff, 0x1f, 0x87, 0xff, 0xff, 0xff, LBA4, 0, 0 } },
	{ 0xa8, -1, 12, SCSI_DIR_IN, PR_CLASS_READ, 0, "READ(12)", scsi_blk_rw,
	  { 0xff, RW_B1, LBA4, LBA4, 0x1f, 0 } },
	{ 0xaa, -1, 12, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE(12)", scsi_blk_rw,
	  { 0xff, WR_B1, LBA4, LBA4, 0x1f, 0 } },
	{ 0xae, -1, 12, SCSI_DIR_OUT, PR_CLASS_WRITE, 0, "WRITE AND VERIFY(12)",
	  scsi_sbc_write_verify, { 0xff, VF_B1, LBA4, LBA4, 0x1f, 0 } },
	{ 0xaf, -1, 12, SCSI_DIR_OUT, PR_CLASS_READ, 0, "VERIFY(12)", scsi_sbc_verify,
	  { 0xff, VF_B1, LBA4, LBA4, 0x1f, 0 } },
	/* SBC-4 5.19: READ DEFECT DATA(12): REQ_PLIST, REQ_GLIST, FORMAT in
	 * byte 1, ADDRESS DESCRIPTOR INDEX, ALLOCATION LENGTH */
	{ 0xb7, -1, 12, SCSI_DIR_IN, PR_CLASS_READ_INFO, 0, "READ DEFECT DATA(12)",
	  scsi_sbc_read_defect, { 0xff, 0x1f, LBA4, LBA4, 0, 0 } },
};
/* clang-format on */

const struct scsi_cmd *scsi_cdb_table(size_t *n)
{
	*n = ARRAY_SIZE(cmds);
	return cmds;
}

const struct scsi_cmd *scsi_cdb_lookup(const uint8_t *cdb)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct scsi_cmd *c = &cmds[i];
		if (c->opcode != cdb[0])
			continue;
		/* service action in byte 1 bits 4:0 (SPC-4 4.2.5.1) */
		if (c->sa >= 0 && (cdb[1] & 0x1f) != c->sa)
			continue;
		return c;
	}
	return NULL;
}

bool scsi_cmd_avail(const struct scsi_cmd *c, const struct scsi_lu *lu)
{
	return !c->avail || (lu && c->avail(lu));
}

static int top_bit(uint8_t v)
{
	int b = 7;
	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

enum scsi_reason scsi_cdb_check(const struct scsi_cmd *c, struct scsi_task *t)
{
	/* SAM-5 5.2 / SPC-4 4.2.5.1: the CDB must be as long as the opcode's
	 * group implies; a shorter one is an invalid CDB. */
	if (t->cdb_len < c->len)
		return scsi_bad_cdb(t, 0, 7);
	for (unsigned i = 1; i < c->len; i++) {
		uint8_t bad = (uint8_t)(t->cdb[i] & ~c->usage[i]);
		if (i == c->len - 1u && (t->cdb[i] & 0x04)) {
			/* SAM-5 5.2.3 control byte: NACA=1 but ACA is not
			 * supported (standard INQUIRY NORMACA=0) */
			return scsi_bad_cdb(t, (uint16_t)i, 2);
		}
		if (bad)
			return scsi_bad_cdb(t, (uint16_t)i, top_bit(bad));
	}
	return SR_OK;
}
