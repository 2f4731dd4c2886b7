// SPDX-License-Identifier: MIT
/*
 * WRITE ATOMIC(16) (SBC-4 5.48) and the atomic limits of VPD B0h (SBC-4
 * 6.6.4). "Atomic" is kept in both senses of SBC-4 4.29 (atomic writes):
 *  - against other commands: the range is held with an exclusive LBA range
 *    lock (scsi_rl.c) for the whole write, so no READ sees part of it and no
 *    other write interleaves;
 *  - against power loss: the data goes to the backend as one BDEV_IO_ATOMIC
 *    write (RWF_ATOMIC on the aio backend), and only lengths the backend
 *    reported as writable untorn (bdev_info.atomic_*) are advertised.
 * An LU whose backend cannot write atomically reports 0 limits, and the
 * command is not supported there: INVALID COMMAND OPERATION CODE, and REPORT
 * SUPPORTED OPERATION CODES leaves it out (scsi_atomic_supported).
 */
#include "scsi_atomic.h"

#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

/* Largest atomic write advertised when the backend has no bound (mem). */
#define SCSI_ATOMIC_CAP (1u << 20)

static uint32_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p <= v / 2)
		p *= 2;
	return v ? p : 0;
}

void scsi_atomic_limits(const struct scsi_lu *lu, struct scsi_atomic_lim *l)
{
	const struct bdev_info *bi = bdev_get_info(lu->bdev);
	uint32_t bs = lu->block_size, g, m;

	l->max = l->align = l->gran = 0;
	if (!bi->atomic_max || !bs)
		return;
	g = bi->atomic_min > bs ? bi->atomic_min : bs;
	if (g % bs)
		return;
	if (!bi->atomic_pow2) {
		m = UTIL_MIN(bi->atomic_max, UTIL_MIN(SCSI_ATOMIC_CAP, SCSI_XFER_MAX));
		m -= m % g;
		if (m < g)
			return;
		l->gran = g / bs;
		l->max = m / bs;
		l->align = 1;
		return;
	}
	/* RWF_ATOMIC takes a power-of-two length at an offset aligned to it.
	 * SBC-4 describes allowed lengths as multiples of a granularity, so
	 * advertise only lengths g and 2g (both powers of two when g is) and
	 * an alignment of 2g: every request VPD B0h permits is one the kernel
	 * writes untorn; nothing is promised that it could tear. */
	if (g & (g - 1))
		return;
	m = pow2_floor(UTIL_MIN(bi->atomic_max, SCSI_XFER_MAX));
	if (m < g)
		return;
	if (m > 2 * g)
		m = 2 * g;
	l->gran = g / bs;
	l->max = m / bs;
	l->align = m / bs;
}

bool scsi_atomic_supported(const struct scsi_lu *lu)
{
	struct scsi_atomic_lim l;

	scsi_atomic_limits(lu, &l);
	return l.max != 0;
}

static void write_step(struct scsi_task *t, int res)
{
	if (res)
		scsi_blk_fail(t, res);
	else
		scsi_task_complete(t, SR_OK);
}

static enum scsi_reason atomic_start(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	scsi_blk_io(t, BDEV_OP_WRITE, tp->xpos, tp->xend - tp->xpos, tp->xbuf,
		    tp->xarg | BDEV_IO_ATOMIC, write_step);
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_write_atomic(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	uint64_t lba = get_be64(c + 2);
	uint16_t boundary = get_be16(c + 10);
	uint32_t nblk = get_be16(c + 12);
	uint64_t len = (uint64_t)nblk * lu->block_size;
	struct scsi_atomic_lim l;
	enum scsi_reason r;

	t->xfer_len = (uint32_t)len;
	scsi_atomic_limits(lu, &l);
	/* the dispatcher refuses the opcode on such an LU; kept for safety */
	if (!l.max)
		return SR_INVALID_OPCODE;
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	/* SBC-4 4.22: WRPROTECT other than 000b needs protection information */
	if (c[1] & 0xe0)
		return scsi_bad_cdb(t, 1, 7);
	/* SBC-4 5.48: an ATOMIC BOUNDARY when MAXIMUM ATOMIC TRANSFER LENGTH
	 * WITH ATOMIC BOUNDARY is 0 (not supported) is an invalid field */
	if (boundary)
		return scsi_bad_cdb(t, 10, 7);
	if (!scsi_blk_in_range(lu, lba, nblk))
		return SR_LBA_OUT_OF_RANGE;
	/* SBC-4 5.48: TRANSFER LENGTH above MAXIMUM ATOMIC TRANSFER LENGTH or
	 * not a multiple of ATOMIC TRANSFER LENGTH GRANULARITY, or an LBA not
	 * a multiple of ATOMIC ALIGNMENT: INVALID FIELD IN CDB */
	if (nblk > l.max || nblk % l.gran)
		return scsi_bad_cdb(t, 12, 7);
	if (lba % l.align)
		return scsi_bad_cdb(t, 2, 7);
	/* SBC-4 5.48: 0 blocks transfers nothing and is not an error */
	if (nblk == 0)
		return SR_OK;
	if (scsi_blk_data_out(t) < len)
		return SR_INVALID_IU_FIELD;
	/* one contiguous aligned buffer: a single segment for RWF_ATOMIC */
	r = scsi_blk_xbuf(t, (uint32_t)len);
	if (r)
		return r;
	memcpy(tp->xbuf, t->buf, (size_t)len);
	tp->xpos = lba;
	tp->xend = lba + nblk;
	tp->xarg = scsi_blk_wflags(lu, c[1] & 0x08);
	return scsi_rl_acquire(t, lba, nblk, true, atomic_start);
}
