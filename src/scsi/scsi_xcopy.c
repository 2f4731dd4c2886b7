// SPDX-License-Identifier: MIT
/*
 * EXTENDED COPY (LID1) (SPC-4 6.4) and RECEIVE COPY RESULTS (SPC-4 6.18):
 * block-to-block copies (segment descriptor 02h, SPC-4 6.4.5.5) between LUs
 * named by identification descriptor target descriptors (E4h, SPC-4
 * 6.4.4.6) carrying the LU's NAA designator from VPD 83h.
 *
 * Access control (the Linux target's CVE-2020-28374 was its absence): a
 * designator is looked up only among the LUs of the LUN map of the target
 * the requesting I_T nexus is logged in to (whose ACL admitted it), and the
 * persistent reservations of the source (read) and destination (write) LUs
 * are checked for that nexus like READ and WRITE would be. An LU the nexus
 * cannot reach is COPY TARGET DEVICE NOT REACHABLE.
 *
 * Range locks (scsi_rl.c): while a segment is copied its source range (on
 * the source LU) and destination range (on the destination LU) are held
 * shared, like READ and WRITE hold theirs, so a COMPARE AND WRITE, ORWRITE or
 * WRITE ATOMIC (exclusive) on either range runs wholly before or wholly after
 * the segment (SBC-4 5.3). The two locks belong to two lock-only proxy tasks
 * in the job (a task is on one LU's lock lists at a time) and are taken in a
 * fixed order (LU address, then LBA), so copies cannot deadlock each other.
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

#define XC_HDR 16
#define XC_TD_LEN 32 /* identification descriptor target descriptor */
#define XC_SD_LEN 28 /* block -> block segment descriptor */
#define XC_MAX_TD 4 /* MAXIMUM TARGET DESCRIPTOR COUNT */
#define XC_MAX_SD 8 /* MAXIMUM SEGMENT DESCRIPTOR COUNT */
#define XC_MAX_DESC_LEN (XC_MAX_TD * XC_TD_LEN + XC_MAX_SD * XC_SD_LEN)
#define XC_MAX_SEG_BLOCKS 0xffffu /* the 16-bit BLOCK DEVICE NUMBER OF BLOCKS */

/* The parsed copy, kept in the task's scratch buffer while it runs. */
struct xc_seg {
	uint8_t src, dst;
	uint32_t nblk;
	uint64_t src_lba, dst_lba;
};

struct xc_job {
	/* lock-only proxies holding the current segment's source and
	 * destination ranges (transport_priv = the EXTENDED COPY task) */
	struct scsi_task lock[2];
	unsigned nlocked; /* of lock[], in acquisition order */
	int locked_seg; /* segment the locks are for, -1 none */
	struct scsi_lu *lk_lu[2];
	uint64_t lk_lba[2], lk_nblk[2];
	struct scsi_lu *td[XC_MAX_TD];
	unsigned ntd;
	struct xc_seg seg[XC_MAX_SD];
	unsigned nseg, cur;
	uint64_t done; /* blocks of the current segment copied */
	uint64_t bytes; /* total copied */
	uint32_t chunk; /* in blocks */
	bool hold; /* LIST ID USAGE 00b: keep the results */
	uint8_t list_id;
	uint8_t *buf;
};

static enum scsi_reason bad_param(struct scsi_task *t, size_t byte, int bit, enum scsi_reason r)
{
	struct scsi_result *res = &scsi_tp(t)->res;

	res->sksv = true;
	res->cd = false;
	res->field = (uint16_t)byte;
	res->bpv = bit >= 0;
	res->bit = bit >= 0 ? (uint8_t)bit : 0;
	return r;
}

/* The LU with this NAA designator in the nexus's LUN map, or NULL. */
static struct scsi_lu *find_lu(struct scsi_nexus *nx, const uint8_t *naa)
{
	struct scsi_target *tg = nx->target;
	uint8_t id[16];

	for (unsigned i = 0; i < tg->nluns; i++) {
		scsi_vpd_naa(tg->luns[i].lu, id);
		if (memcmp(id, naa, 16) == 0)
			return tg->luns[i].lu;
	}
	return NULL;
}

static const struct scsi_cmd xc_read = {.pr_class = PR_CLASS_READ, .name = "EXTENDED COPY src"};
static const struct scsi_cmd xc_write = {.pr_class = PR_CLASS_WRITE, .name = "EXTENDED COPY dst"};

static enum scsi_reason parse_td(struct scsi_task *t, const uint8_t *d, size_t off,
				 struct scsi_lu **out)
{
	struct scsi_lu *lu;

	/* SPC-4 6.4.4.1: only the identification descriptor (E4h) */
	if (d[0] != 0xe4)
		return bad_param(t, off, 7, SR_UNSUPP_TGT_DESC);
	/* LU ID TYPE (byte 1 bits 7:6) is not checked: it says how to read an
	 * LU IDENTIFIER field, and the identification descriptor (SPC-4
	 * 6.4.4.6) has none (it names the LU by its designator), so in this
	 * format the field is ignored (libiscsi since PR #229
	 * expects GOOD, ExtendedCopy.ValidTgtDescr).
	 * NUL=1 (a null copy target) and non-block device types are not
	 * supported: the target cannot be reached */
	if (d[1] & 0x20)
		return SR_COPY_TARGET_UNREACHABLE;
	if (d[1] & 0x1f)
		return bad_param(t, off + 1, 4, SR_INVALID_PARAM_FIELD);
	/* SPC-4 6.4.4.6: designation descriptor at byte 4: NAA (type 3),
	 * binary code set, LU association, 16 bytes */
	if ((d[4] & 0x0f) != 0x01 || (d[5] & 0x0f) != 0x03 || (d[5] & 0x30) || d[7] != 16)
		return SR_COPY_TARGET_UNREACHABLE;
	lu = find_lu(t->nexus, d + 8);
	if (!lu)
		return SR_COPY_TARGET_UNREACHABLE;
	/* SPC-4 6.4.4.2.2 block device type specific parameters: DISK BLOCK
	 * LENGTH must be the LU's */
	if (get_be24(d + 29) != lu->block_size)
		return bad_param(t, off + 29, 7, SR_INVALID_PARAM_FIELD);
	*out = lu;
	return SR_OK;
}

static void copy_next(struct scsi_task *t);

static void record(struct scsi_task *t, struct xc_job *j, uint8_t status)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;

	if (!j->hold)
		return;
	lu->xcopy.nexus = t->nexus;
	lu->xcopy.list_id = j->list_id;
	lu->xcopy.valid = true;
	lu->xcopy.status = status;
	lu->xcopy.segs = (uint16_t)j->cur;
	lu->xcopy.bytes = j->bytes;
}

static void copy_fail(struct scsi_task *t, struct xc_job *j, int res)
{
	record(t, j, 0x02); /* completed with errors */
	log_warn(SCSI_LOG, "%s: EXTENDED COPY segment %u failed: %d", t->nexus->initiator, j->cur,
		 res);
	scsi_task_complete(t, SR_COPY_ABORTED);
}

static void write_step(struct scsi_task *t, int res)
{
	struct xc_job *j = (struct xc_job *)(void *)scsi_tp(t)->xbuf;
	struct xc_seg *s = &j->seg[j->cur];
	uint64_t n = scsi_tp(t)->bio.len / j->td[s->dst]->block_size;

	if (res) {
		copy_fail(t, j, res);
		return;
	}
	j->done += n;
	j->bytes += n * j->td[s->dst]->block_size;
	copy_next(t);
}

static void read_step(struct scsi_task *t, int res)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct xc_job *j = (struct xc_job *)(void *)tp->xbuf;
	struct xc_seg *s = &j->seg[j->cur];
	struct scsi_lu *dst = j->td[s->dst];
	uint64_t n = tp->bio.len / dst->block_size;

	if (res) {
		copy_fail(t, j, res);
		return;
	}
	scsi_blk_io_lu(t, dst, BDEV_OP_WRITE, s->dst_lba + j->done, n, j->buf,
		       scsi_blk_wflags(dst, false), write_step);
}

static struct xc_job *job(struct scsi_task *t)
{
	return (struct xc_job *)(void *)scsi_tp(t)->xbuf;
}

/* Releases the ranges of the segment held (or waited for) by the proxies. */
static void unlock_seg(struct xc_job *j)
{
	for (unsigned i = 0; i < 2; i++)
		if (scsi_tp(&j->lock[i])->lu)
			scsi_rl_release(&j->lock[i]);
	j->nlocked = 0;
	j->locked_seg = -1;
}

static void lock_more(struct scsi_task *t);

/* A proxy got its range: take the next one, or copy. Always SR_PENDING:
 * the proxy itself is never completed. */
static enum scsi_reason lock_granted(struct scsi_task *p)
{
	struct scsi_task *t = p->transport_priv;

	job(t)->nlocked++;
	lock_more(t);
	return SR_PENDING;
}

static void copy_chunk(struct scsi_task *t)
{
	struct xc_job *j = job(t);
	struct xc_seg *s = &j->seg[j->cur];
	uint64_t n = UTIL_MIN((uint64_t)j->chunk, s->nblk - j->done);

	scsi_blk_io_lu(t, j->td[s->src], BDEV_OP_READ, s->src_lba + j->done, n, j->buf, 0,
		       read_step);
}

static void lock_more(struct scsi_task *t)
{
	struct xc_job *j = job(t);

	if (j->nlocked == 2) {
		copy_chunk(t);
		return;
	}
	struct scsi_task *p = &j->lock[j->nlocked];
	struct scsi_tpriv *pp = scsi_tp(p);
	unsigned k = j->nlocked;

	pp->lu = j->lk_lu[k];
	p->transport_priv = t;
	p->nexus = t->nexus;
	/* shared, like READ (source) and WRITE (destination) */
	scsi_rl_acquire(p, j->lk_lba[k], j->lk_nblk[k], false, lock_granted);
}

/* Takes the ranges of segment j->cur: source and destination, ordered by
 * (LU, LBA) so that no two copies wait for each other in a cycle. */
static void lock_seg(struct scsi_task *t)
{
	struct xc_job *j = job(t);
	struct xc_seg *s = &j->seg[j->cur];
	struct scsi_lu *a = j->td[s->src], *b = j->td[s->dst];
	uint64_t al = s->src_lba, bl = s->dst_lba;
	bool swap = (uintptr_t)b < (uintptr_t)a || (a == b && bl < al);

	j->lk_lu[0] = swap ? b : a;
	j->lk_lba[0] = swap ? bl : al;
	j->lk_lu[1] = swap ? a : b;
	j->lk_lba[1] = swap ? al : bl;
	j->lk_nblk[0] = j->lk_nblk[1] = s->nblk;
	j->nlocked = 0;
	j->locked_seg = (int)j->cur;
	lock_more(t);
}

static void copy_next(struct scsi_task *t)
{
	struct xc_job *j = job(t);

	while (j->cur < j->nseg && j->done == j->seg[j->cur].nblk) {
		j->cur++;
		j->done = 0;
	}
	if (j->locked_seg >= 0 && (unsigned)j->locked_seg != j->cur)
		unlock_seg(j);
	if (j->cur == j->nseg) {
		record(t, j, 0x01); /* completed without errors */
		scsi_task_complete(t, SR_OK);
		return;
	}
	if (j->locked_seg < 0) {
		lock_seg(t);
		return;
	}
	copy_chunk(t);
}

enum scsi_reason scsi_spc_xcopy(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	uint32_t plen = get_be32(t->cdb + 10);
	struct scsi_lu *td[XC_MAX_TD];
	struct xc_seg seg[XC_MAX_SD];
	unsigned nseg = 0;
	enum scsi_reason r;

	t->xfer_len = plen;
	/* SPC-4 6.4.1: PARAMETER LIST LENGTH 0 is not an error */
	if (plen == 0)
		return SR_OK;
	if (plen < XC_HDR)
		return SR_PARAM_LIST_LENGTH;
	if (scsi_blk_data_out(t) < plen)
		return SR_INVALID_IU_FIELD;
	const uint8_t *p = t->buf;
	uint8_t usage = (p[1] >> 3) & 0x3;
	uint32_t tdl = get_be16(p + 2), sdl = get_be32(p + 8), idl = get_be32(p + 12);

	/* SPC-4 6.4.3.2 table 108: LIST ID USAGE 01b is reserved; 11b
	 * requires LIST IDENTIFIER 0 */
	if (usage == 1 || (usage == 3 && p[0]))
		return bad_param(t, 1, 4, SR_INVALID_PARAM_FIELD);
	/* MAXIMUM INLINE DATA LENGTH is 0 */
	if (idl)
		return bad_param(t, 12, 7, SR_INVALID_PARAM_FIELD);
	/* SPC-4 6.4.3.2: the lists must fit the parameter list sent, and
	 * their total MAXIMUM DESCRIPTOR LIST LENGTH */
	if ((uint64_t)XC_HDR + tdl + sdl > plen)
		return SR_PARAM_LIST_LENGTH;
	if ((uint64_t)tdl + sdl > XC_MAX_DESC_LEN)
		return SR_PARAM_LIST_LENGTH;
	if (tdl % XC_TD_LEN)
		return bad_param(t, 2, 7, SR_INVALID_PARAM_FIELD);
	unsigned ntd = tdl / XC_TD_LEN;
	if (ntd > XC_MAX_TD)
		return SR_TOO_MANY_TGT_DESC;
	for (unsigned i = 0; i < ntd; i++) {
		size_t off = XC_HDR + i * XC_TD_LEN;
		r = parse_td(t, p + off, off, &td[i]);
		if (r)
			return r;
	}
	for (size_t off = XC_HDR + tdl; off < XC_HDR + tdl + sdl;) {
		const uint8_t *d = p + off;
		if (XC_HDR + tdl + sdl - off < 4)
			return SR_PARAM_LIST_LENGTH;
		size_t dlen = 4u + get_be16(d + 2);
		/* SPC-4 6.4.5.1: block -> block (02h) only */
		if (d[0] != 0x02)
			return bad_param(t, off, 7, SR_UNSUPP_SEG_DESC);
		if (nseg == XC_MAX_SD)
			return SR_TOO_MANY_SEG_DESC;
		if (dlen != XC_SD_LEN)
			return bad_param(t, off + 2, 7, SR_INVALID_PARAM_FIELD);
		if (XC_HDR + tdl + sdl - off < dlen)
			return SR_PARAM_LIST_LENGTH;
		struct xc_seg *s = &seg[nseg++];
		uint16_t si = get_be16(d + 4), di = get_be16(d + 6);
		/* SPC-4 6.4.5.5: a descriptor index without a target
		 * descriptor cannot be reached */
		if (si >= ntd || di >= ntd)
			return SR_COPY_TARGET_UNREACHABLE;
		s->src = (uint8_t)si;
		s->dst = (uint8_t)di;
		s->nblk = get_be16(d + 10);
		s->src_lba = get_be64(d + 12);
		s->dst_lba = get_be64(d + 20);
		struct scsi_lu *src = td[si], *dst = td[di];
		if (src->block_size != dst->block_size)
			return bad_param(t, off, 7, SR_INVALID_PARAM_FIELD);
		/* the whole copy is checked before anything is written */
		if (!scsi_blk_in_range(src, s->src_lba, s->nblk) ||
		    !scsi_blk_in_range(dst, s->dst_lba, s->nblk))
			return SR_COPY_ABORTED;
		if (scsi_lu_wp(dst))
			return scsi_lu_wp(dst);
		/* SPC-4 5.13.1: the source is read and the destination
		 * written on behalf of this I_T nexus */
		r = scsi_pr_access(t->nexus, src, &xc_read, t->cdb);
		if (!r)
			r = scsi_pr_access(t->nexus, dst, &xc_write, t->cdb);
		if (r)
			return r;
		off += dlen;
	}
	r = scsi_blk_xbuf(t, UTIL_BUF_ALIGN + SCSI_BLK_CHUNK);
	if (r)
		return r;
	_Static_assert(sizeof(struct xc_job) <= UTIL_BUF_ALIGN, "xc_job fits the first page");
	struct xc_job *j = (struct xc_job *)(void *)tp->xbuf;
	memset(j, 0, sizeof(*j));
	j->locked_seg = -1;
	memcpy(j->td, td, ntd * sizeof(struct scsi_lu *));
	/* the LUs stay alive until the task completes (scsi_lu_destroy) */
	j->ntd = ntd;
	for (unsigned i = 0; i < ntd; i++)
		td[i]->xcopy_refs++;
	memcpy(j->seg, seg, sizeof(seg[0]) * nseg);
	j->nseg = nseg;
	j->buf = tp->xbuf + UTIL_BUF_ALIGN;
	j->chunk = SCSI_BLK_CHUNK / tp->lu->block_size;
	j->hold = usage == 0;
	j->list_id = p[0];
	copy_next(t);
	return SR_PENDING;
}

void scsi_xcopy_task_fini(struct scsi_task *t)
{
	struct xc_job *j = (struct xc_job *)(void *)scsi_tp(t)->xbuf;

	unlock_seg(j);
	for (unsigned i = 0; i < j->ntd; i++)
		j->td[i]->xcopy_refs--;
	j->ntd = 0;
}

/* SPC-4 6.18.4 OPERATING PARAMETERS (LID1) */
static enum scsi_reason op_params(struct scsi_task *t, uint32_t alloc)
{
	uint8_t b[46] = {0};

	put_be32(b, sizeof(b) - 4);
	b[4] = 0x01; /* SNLID: LID1 commands supported */
	put_be16(b + 8, XC_MAX_TD);
	put_be16(b + 10, XC_MAX_SD);
	put_be32(b + 12, XC_MAX_DESC_LEN);
	put_be32(b + 16, XC_MAX_SEG_BLOCKS * 512u); /* MAXIMUM SEGMENT LENGTH */
	put_be32(b + 20, 0); /* MAXIMUM INLINE DATA LENGTH */
	put_be32(b + 24, 0); /* HELD DATA LIMIT */
	put_be16(b + 34, 1); /* TOTAL CONCURRENT COPIES */
	b[36] = 1; /* MAXIMUM CONCURRENT COPIES */
	b[37] = 9; /* DATA SEGMENT GRANULARITY: 2^9 */
	b[43] = 2; /* IMPLEMENTED DESCRIPTOR LIST LENGTH */
	b[44] = 0x02; /* block -> block segment descriptor */
	b[45] = 0xe4; /* identification descriptor target descriptor */
	return scsi_data_in(t, b, sizeof(b), alloc);
}

/* SPC-4 6.18.2 COPY STATUS (LID1) */
static enum scsi_reason copy_status(struct scsi_task *t, uint32_t alloc)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint8_t b[12] = {0};

	/* only the held results of this I_T nexus's copy with this LIST
	 * IDENTIFIER; anything else is an invalid field (byte 2) */
	if (!lu->xcopy.valid || lu->xcopy.nexus != t->nexus || lu->xcopy.list_id != t->cdb[2])
		return scsi_bad_cdb(t, 2, 7);
	put_be32(b, 8);
	b[4] = lu->xcopy.status;
	put_be16(b + 5, lu->xcopy.segs);
	b[7] = 0x01; /* TRANSFER COUNT UNITS: kibibytes */
	put_be32(b + 8, (uint32_t)UTIL_MIN(lu->xcopy.bytes >> 10, 0xffffffffull));
	return scsi_data_in(t, b, sizeof(b), alloc);
}

enum scsi_reason scsi_spc_copy_results(struct scsi_task *t)
{
	uint32_t alloc = get_be32(t->cdb + 10);

	switch (t->cdb[1] & 0x1f) {
	case 0x00:
		return copy_status(t, alloc);
	case 0x03:
		return op_params(t, alloc);
	default:
		return scsi_bad_cdb(t, 1, 4);
	}
}
