// SPDX-License-Identifier: MIT
/*
 * SBC-4 block commands: READ CAPACITY(10)/(16) (5.16, 5.17), READ/WRITE
 * 6/10/12/16 (5.13-5.16, 5.38-5.41), SYNCHRONIZE CACHE(10)/(16) (5.26, 5.27).
 */
#include "scsi_blk.h"
#include "scsi_priv.h"
#include "targetd/util.h"

enum scsi_reason scsi_sbc_read_capacity10(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint8_t b[8];

	/* SBC-4 5.16: PMI=0 with LOGICAL BLOCK ADDRESS != 0 is invalid */
	if (!(t->cdb[8] & 0x01) && get_be32(t->cdb + 2))
		return scsi_bad_cdb(t, 2, 7);
	/* RETURNED LOGICAL BLOCK ADDRESS saturates at FFFFFFFFh: use
	 * READ CAPACITY(16) */
	uint64_t last = lu->nblocks ? lu->nblocks - 1 : 0;
	put_be32(b, last > 0xfffffffeull ? 0xffffffffu : (uint32_t)last);
	put_be32(b + 4, lu->block_size);
	return scsi_data_in(t, b, sizeof(b), sizeof(b));
}

enum scsi_reason scsi_sbc_read_capacity16(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint8_t b[32] = {0};

	if (!(t->cdb[14] & 0x01) && get_be64(t->cdb + 2))
		return scsi_bad_cdb(t, 2, 7);
	put_be64(b, lu->nblocks ? lu->nblocks - 1 : 0);
	put_be32(b + 8, lu->block_size);
	/* P_TYPE/PROT_EN=0; LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT=0;
	 * LOWEST ALIGNED LBA 0; SBC-4 5.20.2: LBPME when the LU does logical
	 * block provisioning, LBPRZ when deallocated blocks read as zeroes */
	if (scsi_blk_lbpme(lu))
		b[14] = (uint8_t)(0x80 | (scsi_blk_lbprz(lu) ? 0x40 : 0));
	return scsi_data_in(t, b, sizeof(b), get_be32(t->cdb + 10));
}

static void rw_done(struct bdev_io *io, int res)
{
	struct scsi_task *t = io->ctx;
	struct scsi_tpriv *tp = scsi_tp(t);
	enum scsi_reason r = SR_OK;

	if (res) {
		r = scsi_reason_from_errno(res, io->op == BDEV_OP_WRITE);
		if (r == SR_READ_ERROR || r == SR_WRITE_ERROR) {
			/* SBC-4 4.14: INFORMATION = first LBA of the request */
			tp->res.info_valid = true;
			tp->res.info = io->offset / tp->lu->block_size;
		}
	}
	scsi_task_complete(t, r);
}

static enum scsi_reason submit_io(struct scsi_task *t, enum bdev_op op, uint64_t off, uint64_t len,
				  uint32_t flags)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct bdev_io *io = &tp->bio;

	io->op = op;
	io->flags = flags;
	io->offset = off;
	io->len = len;
	if (len && op != BDEV_OP_FLUSH) {
		tp->iov.iov_base = t->buf;
		tp->iov.iov_len = len;
		io->iov = &tp->iov;
		io->iovcnt = 1;
	} else {
		io->iov = NULL;
		io->iovcnt = 0;
	}
	io->done = rw_done;
	io->ctx = t;
	bdev_submit(tp->lu->bdev, io);
	return SR_PENDING;
}

enum scsi_reason scsi_sbc_rw(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	const uint8_t *c = t->cdb;
	bool write = c[0] & 0x02;
	uint64_t lba;
	uint32_t nblk;
	uint16_t len_field;
	bool fua = false;

	switch (c[0]) {
	case 0x08:
	case 0x0a:
		/* SBC-4 5.13/5.39: TRANSFER LENGTH 0 means 256 blocks */
		lba = get_be24(c + 1) & 0x1fffff;
		nblk = c[4] ? c[4] : 256;
		len_field = 4;
		break;
	case 0x28:
	case 0x2a:
		lba = get_be32(c + 2);
		nblk = get_be16(c + 7);
		len_field = 7;
		break;
	case 0xa8:
	case 0xaa:
		lba = get_be32(c + 2);
		nblk = get_be32(c + 6);
		len_field = 6;
		break;
	default: /* 0x88, 0x8a */
		lba = get_be64(c + 2);
		nblk = get_be32(c + 10);
		len_field = 10;
		break;
	}
	if (len_field != 4) {
		/* SBC-4 4.22: no protection information -> RDPROTECT /
		 * WRPROTECT other than 000b is an invalid field */
		if (c[1] & 0xe0)
			return scsi_bad_cdb(t, 1, 7);
		fua = c[1] & 0x08; /* DPO (bit 4) is a cache hint: ignored */
	}
	uint64_t bytes = (uint64_t)nblk * lu->block_size;
	t->xfer_len = bytes > 0xffffffffull ? 0xffffffffu : (uint32_t)bytes;
	/* SBC-4 4.5: writes to a write-protected LU fail with DATA PROTECT */
	if (write && scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	/* overflow-safe range check; a zero-length transfer at LBA == capacity
	 * is in range (nothing is transferred, SBC-4 5.x TRANSFER LENGTH 0) */
	if (lba > lu->nblocks || lu->nblocks - lba < nblk)
		return SR_LBA_OUT_OF_RANGE;
	/* SBC-4 6.6.4: above MAXIMUM TRANSFER LENGTH is an invalid CDB field */
	if (bytes > SCSI_XFER_MAX)
		return scsi_bad_cdb(t, len_field, 7);
	if (nblk == 0)
		return SR_OK;
	if (!write) {
		enum scsi_reason r = scsi_data_in_buf(t, (uint32_t)bytes);
		if (r)
			return r;
		t->data_in_len = (uint32_t)bytes;
		return submit_io(t, BDEV_OP_READ, lba * lu->block_size, bytes, 0);
	}
	/* RFC 7143 11.4.5.1 / libiscsi iSCSIResiduals: write what was
	 * received, never more than the CDB asks for. A partial block cannot
	 * be written: INVALID FIELD IN COMMAND INFORMATION UNIT. */
	if (t->edtl > SCSI_XFER_MAX && !t->buf)
		return SR_INVALID_IU_FIELD;
	uint64_t have = t->buf ? UTIL_MIN(t->data_out_len, t->edtl) : 0;
	uint64_t n = UTIL_MIN(have, bytes);
	if (n % lu->block_size)
		return SR_INVALID_IU_FIELD;
	if (n == 0)
		return SR_OK;
	/* write_cache=false: every write is written through */
	uint32_t flags = (fua || !lu->write_cache) ? BDEV_IO_FUA : 0;
	return submit_io(t, BDEV_OP_WRITE, lba * lu->block_size, n, flags);
}

enum scsi_reason scsi_sbc_flush(struct scsi_task *t)
{
	return submit_io(t, BDEV_OP_FLUSH, 0, 0, 0);
}

enum scsi_reason scsi_sbc_sync_cache(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	const uint8_t *c = t->cdb;
	uint64_t lba;
	uint32_t nblk;

	if (c[0] == 0x35) {
		lba = get_be32(c + 2);
		nblk = get_be16(c + 7);
	} else {
		lba = get_be64(c + 2);
		nblk = get_be32(c + 10);
	}
	/* SBC-4 5.26: NUMBER OF LOGICAL BLOCKS 0 = to the end of the medium;
	 * the range must lie within capacity */
	if (lba > lu->nblocks || lu->nblocks - lba < nblk)
		return SR_LBA_OUT_OF_RANGE;
	/* the whole device is flushed (a superset of the range); IMMED is
	 * honoured by simply completing after the flush */
	return submit_io(t, BDEV_OP_FLUSH, 0, 0, 0);
}
