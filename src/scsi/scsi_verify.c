// SPDX-License-Identifier: MIT
/*
 * VERIFY(10)/(12)/(16) (SBC-4 5.33-5.35), WRITE AND VERIFY(10)/(12)/(16)
 * (SBC-4 5.42-5.44) and PRE-FETCH(10)/(16) (SBC-4 5.10, 5.11).
 *
 * Medium verification reads the range back in chunks (an unreadable block
 * fails with MEDIUM ERROR); byte-by-byte comparison reports MISCOMPARE
 * DURING VERIFY OPERATION with INFORMATION = the offset of the first
 * differing byte (SBC-4 5.33.1).
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

/* BYTCHK (SBC-4 5.33.1 table 83): 00b medium only, 01b compare the
 * Data-Out buffer, 11b compare every block with the one sent */
enum {
	BYTCHK_NONE = 0,
	BYTCHK_ALL = 1,
	BYTCHK_ONE = 3
};

static void verify_next(struct scsi_task *t);

static void verify_step(struct scsi_task *t, int res)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct bdev_io *io = &tp->bio;
	uint32_t bs = tp->lu->block_size;

	if (res) {
		scsi_blk_fail(t, res);
		return;
	}
	uint64_t lba = io->offset / bs, nblk = io->len / bs;
	uint64_t base = (lba - tp->rl_lba) * bs; /* byte offset in the range */
	for (uint64_t i = 0; tp->xarg != BYTCHK_NONE && i < nblk; i++) {
		const uint8_t *want = tp->xarg == BYTCHK_ONE ? t->buf : t->buf + base + i * bs;
		const uint8_t *got = tp->xbuf + i * bs;
		if (memcmp(want, got, bs) == 0)
			continue;
		uint32_t j = 0;
		while (want[j] == got[j])
			j++;
		tp->res.info_valid = true;
		tp->res.info = base + i * bs + j;
		scsi_task_complete(t, SR_MISCOMPARE);
		return;
	}
	verify_next(t);
}

static void verify_next(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint64_t n = UTIL_MIN(tp->xend - tp->xpos, (uint64_t)(tp->xbuf_alloc / tp->lu->block_size));

	if (tp->xpos == tp->xend) {
		scsi_task_complete(t, SR_OK);
		return;
	}
	uint64_t lba = tp->xpos;
	tp->xpos += n;
	scsi_blk_io(t, BDEV_OP_READ, lba, n, tp->xbuf, 0, verify_step);
}

static enum scsi_reason verify_start(struct scsi_task *t)
{
	verify_next(t);
	return SR_PENDING;
}

/* Common checks; on SR_OK the range is in tp->xpos/xend and BYTCHK in
 * tp->xarg. */
static enum scsi_reason parse(struct scsi_task *t, bool write, uint64_t *lba, uint32_t *nblk)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	uint8_t bytchk = (c[1] >> 1) & 0x3;
	uint16_t lb;

	scsi_blk_cdb_lba(t, lba, nblk, &lb);
	uint64_t len = (uint64_t)*nblk * lu->block_size;
	if (write || bytchk == BYTCHK_ALL)
		t->xfer_len = len > 0xffffffffull ? 0xffffffffu : (uint32_t)len;
	else if (bytchk == BYTCHK_ONE)
		t->xfer_len = *nblk ? lu->block_size : 0;
	/* SBC-4 4.22: VRPROTECT/WRPROTECT need protection information */
	if (c[1] & 0xe0)
		return scsi_bad_cdb(t, 1, 7);
	/* BYTCHK 10b is reserved; WRITE AND VERIFY supports 00b and 01b */
	if (bytchk == 2 || (write && bytchk == BYTCHK_ONE))
		return scsi_bad_cdb(t, 1, 2);
	if (write && scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	if (!scsi_blk_in_range(lu, *lba, *nblk))
		return SR_LBA_OUT_OF_RANGE;
	/* SBC-4 6.6.4: a transfer above MAXIMUM TRANSFER LENGTH */
	if ((write || bytchk == BYTCHK_ALL) && len > SCSI_XFER_MAX)
		return scsi_bad_cdb(t, lb, 7);
	if (*nblk == 0)
		return SR_OK;
	if (write) {
		/* RFC 7143 11.4.5.1 / as WRITE (scsi_sbc.c): write and verify
		 * what was received, never more than the CDB asks for; a
		 * partial block cannot be written */
		uint32_t n = (uint32_t)UTIL_MIN((uint64_t)scsi_blk_data_out(t), len);
		if (n % lu->block_size)
			return SR_INVALID_IU_FIELD;
		*nblk = n / lu->block_size;
		len = n;
		if (*nblk == 0)
			return SR_OK;
	} else {
		uint32_t need = bytchk == BYTCHK_ALL ? (uint32_t)len
		    : bytchk == BYTCHK_ONE           ? lu->block_size
						     : 0;
		if (scsi_blk_data_out(t) < need)
			return SR_INVALID_IU_FIELD;
	}
	enum scsi_reason r = scsi_blk_xbuf(t, (uint32_t)UTIL_MIN(len, (uint64_t)SCSI_BLK_CHUNK));
	if (r)
		return r;
	tp->xpos = *lba;
	tp->xend = *lba + *nblk;
	tp->xarg = write ? (bytchk ? BYTCHK_ALL : BYTCHK_NONE) : bytchk;
	return SR_OK;
}

enum scsi_reason scsi_sbc_verify(struct scsi_task *t)
{
	uint64_t lba;
	uint32_t nblk;
	enum scsi_reason r = parse(t, false, &lba, &nblk);

	/* SBC-4 5.33.1: VERIFICATION LENGTH 0 verifies nothing */
	if (r || nblk == 0)
		return r;
	return scsi_rl_acquire(t, lba, nblk, false, verify_start);
}

static void wv_write_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		verify_next(t);
}

static enum scsi_reason wv_start(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;

	/* written through (FUA) so the verification reads the medium */
	scsi_blk_io(t, BDEV_OP_WRITE, tp->xpos, tp->xend - tp->xpos, t->buf,
		    scsi_blk_wflags(lu, true), wv_write_step);
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_write_verify(struct scsi_task *t)
{
	uint64_t lba;
	uint32_t nblk;
	enum scsi_reason r = parse(t, true, &lba, &nblk);

	if (r || nblk == 0)
		return r;
	/* exclusive: nothing may change the range between write and verify */
	return scsi_rl_acquire(t, lba, nblk, true, wv_start);
}

enum scsi_reason scsi_sbc_prefetch(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint64_t lba;
	uint32_t nblk;
	uint16_t lb;

	scsi_blk_cdb_lba(t, &lba, &nblk, &lb);
	/* SBC-4 5.10: the range must lie within capacity (0 blocks: to the
	 * end of the medium) */
	if (!scsi_blk_in_range(lu, lba, nblk))
		return SR_LBA_OUT_OF_RANGE;
	/* SBC-4 5.10: GOOD means the blocks were not (all) placed in a cache;
	 * CONDITION MET would promise they were. targetd keeps no cache of
	 * its own (O_DIRECT), so it answers GOOD. */
	return SR_OK;
}
