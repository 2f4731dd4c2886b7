/* SPDX-License-Identifier: MIT */
/*
 * scsi_task_data_in_max (scsi.h): how large a Data-In buffer a command will make
 * scsi allocate, known before it is submitted. A READ's buffer follows its CDB
 * (TRANSFER LENGTH x block size, scsi_sbc.c), not the transport's expected
 * length, so a transport that bounds the buffers of a connection (issue 9,
 * iscsi max_conn_data_bytes) asks here instead of trusting the EDTL.
 */
#include "scsi_priv.h"
#include "targetd/util.h"

uint32_t scsi_task_data_in_max(const struct scsi_task *t)
{
	const uint8_t *c = t->cdb;
	struct scsi_lu *lu;
	uint64_t lun, nblk, bytes;

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
	if (!t->nexus || !scsi_lun_decode(t->lun_raw, &lun))
		return 0;
	lu = scsi_target_lun_lookup(t->nexus->target, lun);
	if (!lu)
		return 0;
	bytes = nblk * lu->block_size;
	/* SBC-4 6.6.4: above MAXIMUM TRANSFER LENGTH the CDB is refused before
	 * anything is allocated */
	return bytes > SCSI_XFER_MAX ? 0 : (uint32_t)bytes;
}
