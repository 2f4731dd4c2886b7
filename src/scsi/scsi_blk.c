// SPDX-License-Identifier: MIT
/*
 * Helpers for the SBC-4 block commands: CDB decoding, range checks, the
 * multi-step backend I/O used by commands that read, compare and write, and
 * READ/WRITE under a shared range lock (so COMPARE AND WRITE is atomic
 * against them, SBC-4 5.3).
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

void scsi_blk_cdb_lba(const struct scsi_task *t, uint64_t *lba, uint32_t *nblk, uint16_t *len_byte)
{
	const uint8_t *c = t->cdb;

	switch (c[0] >> 5) {
	case 1: /* group 1/2: 10-byte CDBs */
	case 2:
		*lba = get_be32(c + 2);
		*nblk = get_be16(c + 7);
		*len_byte = 7;
		break;
	case 5: /* 12-byte */
		*lba = get_be32(c + 2);
		*nblk = get_be32(c + 6);
		*len_byte = 6;
		break;
	default: /* group 4: 16-byte */
		*lba = get_be64(c + 2);
		*nblk = get_be32(c + 10);
		*len_byte = 10;
		break;
	}
}

bool scsi_blk_in_range(const struct scsi_lu *lu, uint64_t lba, uint64_t nblk)
{
	return lba <= lu->nblocks && lu->nblocks - lba >= nblk;
}

uint32_t scsi_blk_data_out(const struct scsi_task *t)
{
	return t->buf ? UTIL_MIN(t->data_out_len, t->edtl) : 0;
}

bool scsi_blk_is_zero(const uint8_t *buf, size_t len)
{
	return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

enum scsi_reason scsi_blk_xbuf(struct scsi_task *t, uint32_t len)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	if (tp->xbuf && tp->xbuf_alloc >= len)
		return SR_OK;
	if (tp->xbuf)
		util_buf_free(tp->xbuf, tp->xbuf_alloc);
	tp->xbuf = util_buf_alloc(len ? len : 1);
	tp->xbuf_alloc = tp->xbuf ? (len ? len : 1) : 0;
	return tp->xbuf ? SR_OK : SR_BUSY;
}

uint32_t scsi_blk_wflags(const struct scsi_lu *lu, bool fua)
{
	return (fua || !lu->write_cache) ? BDEV_IO_FUA : 0;
}

bool scsi_blk_lbpme(const struct scsi_lu *lu)
{
	const struct bdev_info *bi = bdev_get_info(lu->bdev);

	return bi->can_discard && !lu->read_only;
}

bool scsi_blk_lbprz(const struct scsi_lu *lu)
{
	return scsi_blk_lbpme(lu) && bdev_get_info(lu->bdev)->discard_zeroes;
}

static void io_done(struct bdev_io *io, int res)
{
	struct scsi_task *t = io->ctx;
	struct scsi_tpriv *tp = scsi_tp(t);

	if (tp->aborted) {
		/* SAM-5 7.1: stop after the I/O in flight; finish() reports the
		 * task aborted */
		scsi_task_complete(t, SR_OK);
		return;
	}
	tp->step(t, res);
}

void scsi_blk_io(struct scsi_task *t, enum bdev_op op, uint64_t lba, uint64_t nblk, void *buf,
		 uint32_t flags, void (*step)(struct scsi_task *t, int res))
{
	scsi_blk_io_lu(t, scsi_tp(t)->lu, op, lba, nblk, buf, flags, step);
}

void scsi_blk_io_lu(struct scsi_task *t, struct scsi_lu *lu, enum bdev_op op, uint64_t lba,
		    uint64_t nblk, void *buf, uint32_t flags,
		    void (*step)(struct scsi_task *t, int res))
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct bdev_io *io = &tp->bio;
	uint64_t bs = lu->block_size;

	io->op = op;
	io->flags = flags;
	io->offset = lba * bs;
	io->len = nblk * bs;
	if (op == BDEV_OP_READ || op == BDEV_OP_WRITE) {
		tp->iov.iov_base = buf;
		tp->iov.iov_len = io->len;
		io->iov = &tp->iov;
		io->iovcnt = 1;
	} else {
		io->iov = NULL;
		io->iovcnt = 0;
	}
	io->done = io_done;
	io->ctx = t;
	tp->step = step;
	tp->in_io = true;
	bdev_submit(lu->bdev, io);
}

void scsi_blk_fail(struct scsi_task *t, int res)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct bdev_io *io = &tp->bio;
	enum scsi_reason r = scsi_reason_from_errno(res, io->op != BDEV_OP_READ);

	if (r == SR_READ_ERROR || r == SR_WRITE_ERROR) {
		tp->res.info_valid = true;
		tp->res.info = io->offset / tp->lu->block_size;
	}
	scsi_task_complete(t, r);
}

void scsi_blk_task_fini(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	if (tp->lu && (tp->rl_held || tp->rl_wait))
		scsi_rl_release(t);
	if (tp->xbuf && tp->cmd && tp->cmd->handler == scsi_spc_xcopy)
		scsi_xcopy_task_fini(t);
	if (tp->xbuf) {
		util_buf_free(tp->xbuf, tp->xbuf_alloc);
		tp->xbuf = NULL;
		tp->xbuf_alloc = 0;
	}
}

/* READ/WRITE(6): LBA 21 bits in bytes 1-3, TRANSFER LENGTH byte 4 (0 = 256) */
static void rw_range(const struct scsi_task *t, uint64_t *lba, uint32_t *nblk)
{
	uint16_t lb;

	if (t->cdb[0] == 0x08 || t->cdb[0] == 0x0a) {
		*lba = get_be24(t->cdb + 1) & 0x1fffff;
		*nblk = t->cdb[4] ? t->cdb[4] : 256;
		return;
	}
	scsi_blk_cdb_lba(t, lba, nblk, &lb);
}

enum scsi_reason scsi_blk_rw(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint64_t lba;
	uint32_t nblk;

	rw_range(t, &lba, &nblk);
	/* out of range or empty: nothing to protect, scsi_sbc_rw answers */
	if (nblk == 0 || !scsi_blk_in_range(lu, lba, nblk))
		return scsi_sbc_rw(t);
	return scsi_rl_acquire(t, lba, nblk, false, scsi_sbc_rw);
}
