// SPDX-License-Identifier: MIT
/*
 * SANITIZE (SBC-4 5.30, 4.11): OVERWRITE (01h), BLOCK ERASE (02h) and EXIT
 * FAILURE MODE (1Fh), only on LUs configured with `sanitize = yes`
 * (scsi_lu_params.sanitize). Elsewhere the opcode is not supported: SBC-4
 * makes SANITIZE optional, so a device server that does not offer it answers
 * INVALID COMMAND OPERATION CODE (SPC-4 4.5.2.2), and REPORT SUPPORTED
 * OPERATION CODES leaves it out (scsi_cmd_avail). CRYPTOGRAPHIC ERASE is not
 * supported (nothing is encrypted).
 *
 * The operation belongs to the LU, not to the task (SBC-4 4.11.1: it
 * continues across task aborts, resets and I_T nexus loss): lu->sanitize
 * holds its own bdev request and pattern buffer and walks the LU in chunks.
 * While it runs every command but INQUIRY, REPORT LUNS and REQUEST SENSE
 * gets NOT READY, LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS with a
 * progress indication (scsi_sanitize_check), and REQUEST SENSE reports the
 * same (SPC-4 6.39.2). With IMMED=0 the task completes when the operation
 * does; with IMMED=1 at once. An aborted task is let go; the operation goes
 * on. A backend error puts the LU in sanitize failure mode (SBC-4 4.11.3):
 * medium access commands get MEDIUM ERROR / SANITIZE COMMAND FAILED until a
 * SANITIZE completes or EXIT FAILURE MODE.
 */
#include "scsi_sanitize.h"

#include <stdlib.h>
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

/* Blocks per backend request: progress is reported at this grain. */
#define SAN_CHUNK (1u << 20)

struct scsi_sanitize {
	struct scsi_lu *lu;
	struct scsi_task *task; /* IMMED=0 task waiting, NULL otherwise */
	struct bdev_io io;
	struct iovec iov;
	uint8_t *buf; /* OVERWRITE: one chunk of the pattern */
	uint32_t buf_len;
	uint64_t pos, end; /* blocks */
	uint8_t sa;
	uint8_t passes; /* OVERWRITE COUNT still to run, this one included */
	bool invert; /* INVERT: alternate pattern and its complement */
	uint8_t pass; /* number of the current pass, from 0 */
};

bool scsi_sanitize_overwrite_avail(const struct scsi_lu *lu)
{
	return lu->sanitize_allowed;
}

/* BLOCK ERASE (SBC-4 4.11.4) deallocates every block. Offered only where
 * that is true and visible: a file with PUNCH_HOLE (GET LBA STATUS then
 * reports the whole LU deallocated, and the blocks read back as zeroes,
 * LBPRZ). Block devices report everything mapped, mem has no holes. */
bool scsi_sanitize_block_erase_avail(const struct scsi_lu *lu)
{
	const struct bdev_info *bi = bdev_get_info(lu->bdev);

	return lu->sanitize_allowed && bi->can_discard && bi->discard_zeroes && !bi->is_blockdev &&
	    !bi->volatile_media;
}

static void san_free(struct scsi_lu *lu)
{
	struct scsi_sanitize *s = lu->sanitize;

	if (!s)
		return;
	if (s->buf)
		util_buf_free(s->buf, s->buf_len);
	free(s);
	lu->sanitize = NULL;
}

void scsi_sanitize_lu_fini(struct scsi_lu *lu)
{
	if (lu->sanitize)
		log_warn(SCSI_LOG, "%s: shut down while a SANITIZE was running", lu->path);
	san_free(lu);
}

static void san_finish(struct scsi_sanitize *s, int res)
{
	struct scsi_lu *lu = s->lu;
	struct scsi_task *t = s->task;

	if (res) {
		log_err(SCSI_LOG, "%s: SANITIZE failed at LBA %llu: %s", lu->path,
			(unsigned long long)s->pos, strerror(-res));
		lu->sanitize_failed = true;
	} else {
		log_notice(SCSI_LOG, "%s: SANITIZE %s complete", lu->path,
			   s->sa == SAN_OVERWRITE ? "OVERWRITE" : "BLOCK ERASE");
		lu->sanitize_failed = false;
	}
	san_free(lu);
	if (t)
		scsi_task_complete(t, res ? SR_SANITIZE_FAILED : SR_OK);
}

static void san_step(struct scsi_sanitize *s);

static void san_done(struct bdev_io *io, int res)
{
	struct scsi_sanitize *s = io->ctx;

	/* SBC-4 4.11.1: an aborted SANITIZE command completes (aborted), the
	 * sanitize operation does not stop */
	if (s->task && scsi_tp(s->task)->aborted) {
		scsi_task_complete(s->task, SR_OK);
		s->task = NULL;
	}
	if (res) {
		san_finish(s, res);
		return;
	}
	s->pos += io->len / s->lu->block_size;
	if (s->pos >= s->end && s->sa == SAN_OVERWRITE && s->passes > 1) {
		/* SBC-4 5.30.3.2: OVERWRITE COUNT passes over the medium */
		s->passes--;
		s->pass++;
		s->pos = 0;
		if (s->invert)
			for (uint32_t i = 0; i < s->buf_len; i++)
				s->buf[i] = (uint8_t)~s->buf[i];
	}
	if (s->pos >= s->end) {
		san_finish(s, 0);
		return;
	}
	san_step(s);
}

static void san_step(struct scsi_sanitize *s)
{
	struct scsi_lu *lu = s->lu;
	uint64_t bs = lu->block_size;
	/* block_size is never 0: scsi_lu_create() accepts only 512 or 4096 */
	/* NOLINTNEXTLINE(clang-analyzer-core.DivideZero) */
	uint64_t n = UTIL_MIN(s->end - s->pos, (uint64_t)(SAN_CHUNK / bs));
	struct bdev_io *io = &s->io;

	memset(io, 0, sizeof(*io));
	io->offset = s->pos * bs;
	io->len = n * bs;
	io->done = san_done;
	io->ctx = s;
	if (s->sa == SAN_OVERWRITE) {
		io->op = BDEV_OP_WRITE;
		s->iov.iov_base = s->buf;
		s->iov.iov_len = io->len;
		io->iov = &s->iov;
		io->iovcnt = 1;
	} else {
		io->op = BDEV_OP_DISCARD;
	}
	bdev_submit(lu->bdev, io);
}

uint16_t scsi_sanitize_progress(const struct scsi_lu *lu)
{
	const struct scsi_sanitize *s = lu->sanitize;
	uint64_t total, done;

	if (!s || !s->end)
		return 0;
	/* SPC-4 4.5.2.4.4: PROGRESS INDICATION, fraction of 65536 */
	total = s->end * (uint64_t)(s->pass + s->passes);
	done = s->end * s->pass + s->pos;
	return (uint16_t)(done * 65536 / (total ? total : 1));
}

enum scsi_reason scsi_sanitize_check(struct scsi_task *t, struct scsi_lu *lu,
				     const struct scsi_cmd *c)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	/* SBC-4 4.11.1: INQUIRY, REPORT LUNS and REQUEST SENSE run; all else
	 * is NOT READY, SANITIZE IN PROGRESS with the progress indication */
	if (lu->sanitize && !(c && (c->flags & SCSI_CMD_F_NO_UA))) {
		tp->res.sksv = true;
		tp->res.field = scsi_sanitize_progress(lu);
		return SR_SANITIZE_IN_PROGRESS;
	}
	/* SBC-4 4.11.3: sanitize failure mode: medium access fails; SANITIZE
	 * itself (a new one, or EXIT FAILURE MODE) may run */
	if (lu->sanitize_failed && c && c->dir != SCSI_DIR_NONE && c->opcode != 0x48 &&
	    (c->pr_class == PR_CLASS_READ || c->pr_class == PR_CLASS_WRITE))
		return SR_SANITIZE_FAILED;
	return SR_OK;
}

static enum scsi_reason bad_param(struct scsi_task *t, uint16_t byte, int bit)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	tp->res.sksv = true;
	tp->res.field = byte;
	tp->res.bpv = bit >= 0;
	tp->res.bit = (uint8_t)(bit < 0 ? 0 : bit);
	return SR_INVALID_PARAM_FIELD;
}

enum scsi_reason scsi_sbc_sanitize(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	const uint8_t *c = t->cdb;
	uint8_t sa = c[1] & 0x1f;
	bool immed = c[1] & 0x80;
	uint16_t plen = get_be16(c + 7);
	uint32_t bs = lu->block_size;
	struct scsi_sanitize *s;

	t->xfer_len = plen;
	if (scsi_lu_wp(lu))
		return scsi_lu_wp(lu);
	if (sa == SAN_EXIT_FAILURE_MODE) {
		/* SBC-4 5.30.3.4: no parameter list */
		if (plen)
			return scsi_bad_cdb(t, 7, 7);
		lu->sanitize_failed = false;
		return SR_OK;
	}
	if (sa == SAN_BLOCK_ERASE) {
		/* SBC-4 5.30.3.3: PARAMETER LIST LENGTH shall be zero */
		if (plen)
			return scsi_bad_cdb(t, 7, 7);
	} else {
		/* SBC-4 5.30.3.2: OVERWRITE parameter list is 4 bytes plus
		 * an initialization pattern of 1 .. logical block length */
		if (plen < 5 || plen > bs + 4)
			return scsi_bad_cdb(t, 7, 7);
		if (scsi_blk_data_out(t) < plen)
			return SR_INVALID_IU_FIELD;
		const uint8_t *p = t->buf;
		uint16_t ipl = get_be16(p + 2);
		/* OVERWRITE COUNT 0, TEST != 00b, a pattern length of 0, above
		 * the block length or not what the list holds: the field is in
		 * the parameter list (SPC-4 4.5.2.4.2) */
		if ((p[0] & 0x1f) == 0)
			return bad_param(t, 0, 4);
		if (p[0] & 0x60)
			return bad_param(t, 0, 6);
		if (ipl == 0 || ipl > bs || ipl != plen - 4u)
			return bad_param(t, 2, 7);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return SR_BUSY;
	s->lu = lu;
	s->sa = sa;
	s->end = lu->nblocks;
	s->passes = 1;
	if (sa == SAN_OVERWRITE) {
		const uint8_t *p = t->buf;
		uint16_t ipl = get_be16(p + 2);
		uint64_t chunk = UTIL_MIN((uint64_t)SAN_CHUNK, lu->nblocks * bs);
		s->passes = p[0] & 0x1f;
		s->invert = p[0] & 0x80;
		s->buf_len = (uint32_t)chunk;
		s->buf = util_buf_alloc(s->buf_len);
		if (!s->buf) {
			free(s);
			return SR_BUSY;
		}
		/* the pattern repeated from the start of every block */
		for (uint32_t b = 0; b < s->buf_len; b += bs)
			for (uint32_t i = 0; i < bs; i++)
				s->buf[b + i] = p[4 + i % ipl];
	}
	lu->sanitize = s;
	log_notice(SCSI_LOG, "%s: SANITIZE %s started by %s", lu->path,
		   sa == SAN_OVERWRITE ? "OVERWRITE" : "BLOCK ERASE", t->nexus->initiator);
	if (!immed)
		s->task = t;
	san_step(s);
	/* SBC-4 5.30.2: IMMED=1 returns status once the CDB is validated */
	return immed ? SR_OK : SR_PENDING;
}
