// SPDX-License-Identifier: MIT
/*
 * COMPARE AND WRITE (SBC-4 5.3) and ORWRITE(16) (SBC-4 5.9): read, combine
 * with the Data-Out buffer, write -- under an exclusive LBA range lock
 * (scsi_rl.c) so that no other command touches the range in between
 * ("the device server shall not allow ... any other command to ... the
 * specified logical blocks", SBC-4 5.3).
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

static void write_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		scsi_task_complete(t, SR_OK);
}

/* ---- COMPARE AND WRITE -------------------------------------------------- */

static void caw_read_step(struct scsi_task *t, int res)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint64_t nblk = tp->xend - tp->xpos;
	size_t len = (size_t)nblk * tp->lu->block_size;

	if (res) {
		scsi_blk_fail(t, res);
		return;
	}
	/* SBC-4 5.3: verify data (first half of the Data-Out buffer) against
	 * the medium; on mismatch MISCOMPARE DURING VERIFY OPERATION with
	 * INFORMATION = offset of the first differing byte */
	if (memcmp(tp->xbuf, t->buf, len) != 0) {
		size_t i = 0;
		while (tp->xbuf[i] == t->buf[i])
			i++;
		tp->res.info_valid = true;
		tp->res.info = i;
		scsi_task_complete(t, SR_MISCOMPARE);
		return;
	}
	scsi_blk_io(t, BDEV_OP_WRITE, tp->xpos, nblk, t->buf + len, tp->xarg, write_step);
}

static enum scsi_reason caw_start(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	scsi_blk_io(t, BDEV_OP_READ, tp->xpos, tp->xend - tp->xpos, tp->xbuf, 0, caw_read_step);
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_caw(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	uint64_t lba = get_be64(c + 2);
	uint32_t nblk = c[13];
	uint64_t len = (uint64_t)nblk * lu->block_size;

	t->xfer_len = (uint32_t)(2 * len);
	/* SBC-4 4.22: no protection information */
	if (c[1] & 0xe0)
		return scsi_bad_cdb(t, 1, 7);
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	/* SBC-4 5.3: NUMBER OF LOGICAL BLOCKS above MAXIMUM COMPARE AND WRITE
	 * LENGTH (VPD B0h) is an invalid field */
	if (nblk > SCSI_CAW_MAX_BLOCKS)
		return scsi_bad_cdb(t, 13, 7);
	if (!scsi_blk_in_range(lu, lba, nblk))
		return SR_LBA_OUT_OF_RANGE;
	/* SBC-4 5.3: 0 blocks is not an error, and no data is transferred.
	 * An initiator that sends Data-Out anyway meant more blocks than the
	 * one-byte field holds (256 wraps to 0): refuse the CDB rather than
	 * answer GOOD for a compare that was not done. */
	if (nblk == 0)
		return scsi_blk_data_out(t) ? scsi_bad_cdb(t, 13, 7) : SR_OK;
	if (scsi_blk_data_out(t) < 2 * len)
		return SR_INVALID_IU_FIELD;
	enum scsi_reason r = scsi_blk_xbuf(t, (uint32_t)len);
	if (r)
		return r;
	tp->xpos = lba;
	tp->xend = lba + nblk;
	tp->xarg = scsi_blk_wflags(lu, c[1] & 0x08);
	return scsi_rl_acquire(t, lba, nblk, true, caw_start);
}

/* ---- ORWRITE(16) -------------------------------------------------------- */

static void or_read_step(struct scsi_task *t, int res)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint64_t nblk = tp->xend - tp->xpos;
	size_t len = (size_t)nblk * tp->lu->block_size;

	if (res) {
		scsi_blk_fail(t, res);
		return;
	}
	/* SBC-4 5.9 / 4.30: BMOP 000b: the new data is the bitwise OR of the
	 * medium's data and the Data-Out buffer */
	for (size_t i = 0; i < len; i++)
		tp->xbuf[i] |= t->buf[i];
	scsi_blk_io(t, BDEV_OP_WRITE, tp->xpos, nblk, tp->xbuf, tp->xarg, write_step);
}

static enum scsi_reason or_start(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	scsi_blk_io(t, BDEV_OP_READ, tp->xpos, tp->xend - tp->xpos, tp->xbuf, 0, or_read_step);
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_orwrite(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	uint64_t lba;
	uint32_t nblk;
	uint16_t lb;

	scsi_blk_cdb_lba(t, &lba, &nblk, &lb);
	uint64_t len = (uint64_t)nblk * lu->block_size;
	t->xfer_len = len > 0xffffffffull ? 0xffffffffu : (uint32_t)len;
	/* SBC-4 4.22: ORPROTECT other than 000b needs protection information */
	if (c[1] & 0xe0)
		return scsi_bad_cdb(t, 1, 7);
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	if (!scsi_blk_in_range(lu, lba, nblk))
		return SR_LBA_OUT_OF_RANGE;
	if (len > SCSI_XFER_MAX)
		return scsi_bad_cdb(t, lb, 7);
	if (nblk == 0)
		return SR_OK;
	if (scsi_blk_data_out(t) < len)
		return SR_INVALID_IU_FIELD;
	enum scsi_reason r = scsi_blk_xbuf(t, (uint32_t)len);
	if (r)
		return r;
	tp->xpos = lba;
	tp->xend = lba + nblk;
	tp->xarg = scsi_blk_wflags(lu, c[1] & 0x08);
	return scsi_rl_acquire(t, lba, nblk, true, or_start);
}
