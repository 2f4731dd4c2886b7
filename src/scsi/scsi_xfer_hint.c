/* SPDX-License-Identifier: MIT */
/*
 * scsi_task_data_in_max (scsi.h): how large a Data-In buffer a command will make
 * scsi allocate, known before it is submitted. A READ's buffer follows its CDB
 * (TRANSFER LENGTH x block size, scsi_sbc.c), not the transport's expected
 * length, so a transport that bounds the buffers of a connection (issue 9,
 * iscsi max_conn_data_bytes) asks here instead of trusting the EDTL.
 *
 * scsi_task_scratch_max: the scratch buffer (scsi_blk_xbuf) a command will
 * make scsi allocate besides its Data-Out and Data-In, which no EDTL shows:
 * VERIFY and WRITE AND VERIFY read the medium through one chunk
 * (scsi_verify.c), WRITE SAME writes its pattern from one (scsi_sbc_ws.c),
 * EXTENDED COPY copies through one plus its job page (scsi_xcopy.c). COMPARE
 * AND WRITE and WRITE ATOMIC also take scratch, but never more than the
 * Data-Out they are already charged for.
 */
#include "scsi_blk.h"
#include "scsi_priv.h"
#include "targetd/util.h"

/* The LU the task addresses, or NULL (not yet submitted: no tp->lu). */
static struct scsi_lu *task_lu(const struct scsi_task *t)
{
	uint64_t lun;

	if (!t->nexus || !scsi_lun_decode(t->lun_raw, &lun))
		return NULL;
	return scsi_target_lun_lookup(t->nexus->target, lun);
}

uint32_t scsi_task_data_in_max(const struct scsi_task *t)
{
	const uint8_t *c = t->cdb;
	struct scsi_lu *lu;
	uint64_t nblk, bytes;

	switch (c[0]) {
	case 0x08: /* READ(6), SBC-4 5.13: TRANSFER LENGTH 0 means 256 blocks */
		nblk = c[4] ? c[4] : 256;
		break;
	case 0x28: /* READ(10), SBC-4 5.14 */
		nblk = get_be16(c + 7);
		break;
	case 0xa8: /* READ(12), SBC-4 5.15 */
		nblk = get_be32(c + 6);
		break;
	case 0x88: /* READ(16), SBC-4 5.16 */
		nblk = get_be32(c + 10);
		break;
	default: /* other data-in is bounded by 16-bit allocation lengths */
		return 0;
	}
	lu = task_lu(t);
	if (!lu)
		return 0;
	bytes = nblk * lu->block_size;
	/* SBC-4 6.6.4: above MAXIMUM TRANSFER LENGTH the CDB is refused before
	 * anything is allocated */
	return bytes > SCSI_XFER_MAX ? 0 : (uint32_t)bytes;
}

uint32_t scsi_task_scratch_max(const struct scsi_task *t)
{
	const uint8_t *c = t->cdb;
	struct scsi_lu *lu;
	uint64_t lba;
	uint32_t nblk;
	uint16_t lb;

	switch (c[0]) {
	case 0x2e: /* WRITE AND VERIFY(10/12/16), SBC-4 5.42-5.44 */
	case 0xae:
	case 0x8e:
	case 0x2f: /* VERIFY(10/12/16), SBC-4 5.33-5.35 */
	case 0xaf:
	case 0x8f:
	case 0x41: /* WRITE SAME(10/16), SBC-4 5.48/5.49: the pattern chunk; the
		    * zero pattern (known only once the Data-Out block is in)
		    * needs none, so this may charge a chunk that is not used */
	case 0x93:
		break;
	case 0x83: /* EXTENDED COPY(LID1), SPC-4 6.4 */
		return (c[1] & 0x1f) == 0x00 ? UTIL_BUF_ALIGN + SCSI_BLK_CHUNK : 0;
	default:
		return 0;
	}
	if (c[0] == 0x93 && (c[1] & 0x01)) /* NDOB: zeroes, no pattern buffer */
		return 0;
	lu = task_lu(t);
	if (!lu)
		return 0;
	scsi_blk_cdb_lba(t, &lba, &nblk, &lb);
	return (uint32_t)UTIL_MIN((uint64_t)nblk * lu->block_size, (uint64_t)SCSI_BLK_CHUNK);
}
