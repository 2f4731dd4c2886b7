// SPDX-License-Identifier: MIT
/*
 * Logical block provisioning commands (SBC-4 4.7): WRITE SAME(10)/(16)
 * (5.48, 5.49), UNMAP (5.30) and GET LBA STATUS (5.7).
 *
 * An LU does logical block provisioning (LBPME=1) when its backend can
 * deallocate: BLKDISCARD on block devices, fallocate PUNCH_HOLE on files,
 * memset on mem. Deallocated blocks read back as zeroes only where that is
 * known (punched holes, mem): LBPRZ says so, and only then does WRITE SAME
 * with the UNMAP bit deallocate instead of writing.
 */
#include <errno.h>
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

/* ---- WRITE SAME --------------------------------------------------------- */

static void ws_pattern_step(struct scsi_task *t, int res);

/* Writes the next chunk of the replicated block (xbuf) or completes. */
static void ws_pattern_next(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint64_t n = UTIL_MIN(tp->xend - tp->xpos, (uint64_t)(tp->xbuf_alloc / tp->lu->block_size));

	if (tp->xpos == tp->xend) {
		scsi_task_complete(t, SR_OK);
		return;
	}
	uint64_t lba = tp->xpos;
	tp->xpos += n;
	scsi_blk_io(t, BDEV_OP_WRITE, lba, n, tp->xbuf, tp->xarg, ws_pattern_step);
}

static void ws_pattern_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		ws_pattern_next(t);
}

static void ws_one_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		scsi_task_complete(t, SR_OK);
}

static void ws_unmap_step(struct scsi_task *t, int res)
{
	if (res == -EOPNOTSUPP) {
		/* SBC-4 5.49: a device server that does not unmap writes */
		struct scsi_tpriv *tp = scsi_tp(t);
		scsi_blk_io(t, BDEV_OP_WRITE_ZEROES, tp->xpos, tp->xend - tp->xpos, NULL, 0,
			    ws_one_step);
		return;
	}
	ws_one_step(t, res);
}

#define WS_DISCARD 1u
#define WS_ZERO 2u

static enum scsi_reason ws_start(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint64_t lba = tp->xpos, nblk = tp->xend - tp->xpos;

	if (tp->xarg == WS_DISCARD) {
		scsi_blk_io(t, BDEV_OP_DISCARD, lba, nblk, NULL, 0, ws_unmap_step);
	} else if (tp->xarg == WS_ZERO) {
		/* BDEV_OP_WRITE_ZEROES has no FUA: like any write behind a
		 * write cache it is durable after the next FLUSH */
		scsi_blk_io(t, BDEV_OP_WRITE_ZEROES, lba, nblk, NULL, 0, ws_one_step);
	} else {
		tp->xarg = scsi_blk_wflags(tp->lu, false);
		ws_pattern_next(t);
	}
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_write_same(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	bool ndob = c[0] == 0x93 && (c[1] & 0x01);
	bool unmap = c[1] & 0x08;
	uint64_t lba;
	uint32_t nblk;
	uint16_t lb;

	scsi_blk_cdb_lba(t, &lba, &nblk, &lb);
	t->xfer_len = ndob ? 0 : lu->block_size;
	/* SBC-4 4.22: no protection information -> WRPROTECT must be 0 */
	if (c[1] & 0xe0)
		return scsi_bad_cdb(t, 1, 7);
	/* ANCHOR is rejected by the usage mask (ANC_SUP=0 in VPD B2h) */
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	/* SBC-4 6.6.4: WSNZ=1, so NUMBER OF LOGICAL BLOCKS 0 is invalid;
	 * above MAXIMUM WRITE SAME LENGTH likewise */
	if (nblk == 0 || nblk > SCSI_WS_MAX_BLOCKS)
		return scsi_bad_cdb(t, lb, 7);
	if (!scsi_blk_in_range(lu, lba, nblk))
		return SR_LBA_OUT_OF_RANGE;
	const uint8_t *blk = NULL;
	if (!ndob) {
		if (scsi_blk_data_out(t) < lu->block_size)
			return SR_INVALID_IU_FIELD;
		blk = t->buf;
	}
	bool zero = ndob || scsi_blk_is_zero(blk, lu->block_size);
	tp->xpos = lba;
	tp->xend = lba + nblk;
	/* SBC-4 5.49 / 4.7.3.4.4: with UNMAP=1 the device server may
	 * deallocate when that leaves the blocks reading as the data
	 * written: only for zeroes with LBPRZ=1 */
	tp->xarg = unmap && zero && scsi_blk_lbprz(lu) ? WS_DISCARD : zero ? WS_ZERO : 0;
	if (!zero) {
		uint64_t bytes =
		    UTIL_MIN((uint64_t)nblk * lu->block_size, (uint64_t)SCSI_BLK_CHUNK);
		enum scsi_reason r = scsi_blk_xbuf(t, (uint32_t)bytes);
		if (r)
			return r;
		/* cppcheck-suppress knownConditionTrueFalse ; bytes >= one block here (nblk > 0) */
		for (uint64_t o = 0; o < bytes; o += lu->block_size)
			memcpy(tp->xbuf + o, blk, lu->block_size);
		tp->xbuf_alloc = (uint32_t)bytes;
	}
	return scsi_rl_acquire(t, lba, nblk, false, ws_start);
}

/* ---- UNMAP -------------------------------------------------------------- */

#define UNMAP_HDR 8
#define UNMAP_DESC 16

static void unmap_next(struct scsi_task *t);

static void unmap_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		unmap_next(t);
}

/* Deallocates the next non-empty descriptor (tp->xpos indexes them). */
static void unmap_next(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	while (tp->xpos < tp->xend) {
		const uint8_t *d = t->buf + UNMAP_HDR + tp->xpos * UNMAP_DESC;
		uint64_t lba = get_be64(d);
		uint32_t n = get_be32(d + 8);
		tp->xpos++;
		if (n) {
			scsi_blk_io(t, BDEV_OP_DISCARD, lba, n, NULL, 0, unmap_step);
			return;
		}
	}
	scsi_task_complete(t, SR_OK);
}

static enum scsi_reason unmap_start(struct scsi_task *t)
{
	unmap_next(t);
	return SR_PENDING;
}

static enum scsi_reason bad_param(struct scsi_task *t, uint16_t byte, int bit)
{
	struct scsi_result *res = &scsi_tp(t)->res;

	res->sksv = true;
	res->cd = false;
	res->field = byte;
	res->bpv = bit >= 0;
	res->bit = bit >= 0 ? (uint8_t)bit : 0;
	return SR_INVALID_PARAM_FIELD;
}

enum scsi_reason scsi_sbc_unmap(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	uint32_t plen = get_be16(t->cdb + 7);
	uint64_t lo = UINT64_MAX, hi = 0; /* span of the descriptors (range lock) */

	t->xfer_len = plen;
	/* SBC-4 5.30.1: ANCHOR=1 with ANC_SUP=0 is rejected by the usage
	 * mask. An LU without logical block provisioning (LBPU=0 in VPD
	 * B2h) does not support the command. */
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	if (!scsi_blk_lbpme(lu))
		return SR_INVALID_OPCODE;
	/* SBC-4 5.30.1: PARAMETER LIST LENGTH 0 is not an error */
	if (plen == 0)
		return SR_OK;
	/* SBC-4 5.30.2: 1..7 bytes cannot hold the header */
	if (plen < UNMAP_HDR)
		return SR_PARAM_LIST_LENGTH;
	if (scsi_blk_data_out(t) < plen)
		return SR_INVALID_IU_FIELD;
	const uint8_t *p = t->buf;
	uint32_t data_len = get_be16(p);
	uint32_t bd_len = get_be16(p + 2);
	/* SBC-4 5.30.2: the UNMAP DATA LENGTH and BLOCK DESCRIPTOR DATA
	 * LENGTH must fit the parameter list that was sent */
	if (data_len + 2 > plen)
		return SR_PARAM_LIST_LENGTH;
	if (bd_len + UNMAP_HDR > plen)
		return SR_PARAM_LIST_LENGTH;
	/* a trailing partial descriptor is ignored (SBC-4 5.30.2) */
	uint32_t ndesc = bd_len / UNMAP_DESC;
	/* SBC-4 5.30.2 / 6.6.4: more descriptors than MAXIMUM UNMAP BLOCK
	 * DESCRIPTOR COUNT is an invalid field in the parameter list */
	if (ndesc > SCSI_UNMAP_MAX_DESC)
		return bad_param(t, 2, -1);
	for (uint32_t i = 0; i < ndesc; i++) {
		const uint8_t *d = p + UNMAP_HDR + (size_t)i * UNMAP_DESC;
		uint64_t lba = get_be64(d);
		uint32_t n = get_be32(d + 8);
		uint16_t off = (uint16_t)(UNMAP_HDR + i * UNMAP_DESC);
		/* SBC-4 5.30.2: range beyond capacity -> LBA OUT OF RANGE;
		 * NUMBER OF LOGICAL BLOCKS above MAXIMUM UNMAP LBA COUNT ->
		 * INVALID FIELD IN PARAMETER LIST */
		if (!scsi_blk_in_range(lu, lba, n))
			return SR_LBA_OUT_OF_RANGE;
		if (n > SCSI_UNMAP_MAX_BLOCKS)
			return bad_param(t, (uint16_t)(off + 8), -1);
		if (n) {
			lo = UTIL_MIN(lo, lba);
			hi = UTIL_MAX(hi, lba + n);
		}
	}
	tp->xpos = 0;
	tp->xend = ndesc;
	if (lo >= hi)
		return SR_OK;
	return scsi_rl_acquire(t, lo, hi - lo, false, unmap_start);
}

/* ---- GET LBA STATUS ----------------------------------------------------- */

#define GLS_MAX_DESC 64u

enum scsi_reason scsi_sbc_get_lba_status(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint64_t lba = get_be64(t->cdb + 2);
	uint32_t alloc = get_be32(t->cdb + 10);
	uint8_t b[8 + GLS_MAX_DESC * 16];
	uint32_t n = 8, max;

	/* SBC-4 5.7.1: STARTING LBA beyond the last LBA */
	if (lba >= lu->nblocks)
		return SR_LBA_OUT_OF_RANGE;
	memset(b, 0, sizeof(b));
	/* as many descriptors as the allocation length holds (at least one
	 * is built; scsi_data_in truncates) */
	max = alloc > 8 ? (alloc - 8) / 16 : 1;
	max = UTIL_MAX(1u, UTIL_MIN(max, GLS_MAX_DESC));
	while (n < 8 + max * 16 && lba < lu->nblocks) {
		bool mapped;
		uint64_t len;
		int ret = bdev_map_status(lu->bdev, lba * lu->block_size, &mapped, &len);
		if (ret)
			return scsi_reason_from_errno(ret, false);
		/* round to whole blocks: a partly mapped block is mapped */
		uint64_t first = lba, end;
		if (mapped)
			end = (lba * lu->block_size + len + lu->block_size - 1) / lu->block_size;
		else
			end = (lba * lu->block_size + len) / lu->block_size;
		if (end <= first)
			end = first + 1, mapped = true;
		end = UTIL_MIN(end, lu->nblocks);
		uint64_t cnt = UTIL_MIN(end - first, 0xffffffffull);
		/* SBC-4 5.7.2 LBA status descriptor: PROVISIONING STATUS
		 * 0h mapped, 1h deallocated */
		uint8_t *d = b + n;
		put_be64(d, first);
		put_be32(d + 8, (uint32_t)cnt);
		d[12] = mapped ? 0x0 : 0x1;
		/* merge with the previous descriptor of the same status */
		if (n > 8 && (d - 16)[12] == d[12] &&
		    get_be64(d - 16) + get_be32(d - 16 + 8) == first &&
		    (uint64_t)get_be32(d - 16 + 8) + cnt <= 0xffffffffull) {
			put_be32(d - 16 + 8, get_be32(d - 16 + 8) + (uint32_t)cnt);
			memset(d, 0, 16);
		} else {
			n += 16;
		}
		lba = first + cnt;
	}
	put_be32(b, n - 4);
	return scsi_data_in(t, b, n, alloc);
}
