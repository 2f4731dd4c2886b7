// SPDX-License-Identifier: MIT
/*
 * Task lifecycle: scsi_task_submit() -> LUN lookup -> unit attention -> CDB
 * table row + field check -> PR access check -> handler; completion through
 * task->done, always from the loop (a deferred call or a bdev completion),
 * never inside scsi_task_submit() (scsi.h contract).
 */
#include <string.h>

#include "scsi_blk.h"
#include "scsi_priv.h"
#include "scsi_sanitize.h"
#include "targetd/util.h"

static struct util_ratelimit task_rl = UTIL_RATELIMIT_INIT(5000, 10);

enum scsi_reason scsi_bad_cdb(struct scsi_task *t, uint16_t byte, int bit)
{
	struct scsi_result *res = &scsi_tp(t)->res;

	res->sksv = true;
	res->field = byte;
	res->bpv = bit >= 0;
	res->bit = bit >= 0 ? (uint8_t)bit : 0;
	return SR_INVALID_CDB_FIELD;
}

enum scsi_reason scsi_data_in_buf(struct scsi_task *t, uint32_t len)
{
	if (len == 0 || (t->buf && t->buf_alloc >= len))
		return SR_OK;
	if (t->buf) {
		util_buf_free(t->buf, t->buf_alloc);
		t->buf = NULL;
		t->buf_alloc = 0;
	}
	t->buf = util_buf_alloc(len);
	if (!t->buf)
		return SR_BUSY;
	t->buf_alloc = len;
	return SR_OK;
}

enum scsi_reason scsi_data_in(struct scsi_task *t, const void *src, uint32_t len,
			      uint32_t alloc_len)
{
	/* SPC-4 4.2.5.6: the device server transfers at most ALLOCATION
	 * LENGTH bytes; truncation is not an error. */
	uint32_t n = UTIL_MIN(len, alloc_len);
	enum scsi_reason r = scsi_data_in_buf(t, n);

	if (r)
		return r;
	if (n)
		memcpy(t->buf, src, n);
	t->data_in_len = n;
	t->xfer_len = n;
	return SR_OK;
}

static struct scsi_core *task_core(struct scsi_task *t)
{
	return t->nexus->target->core;
}

/* SAM-5 8.6: a HEAD OF QUEUE task is enabled at once; an ORDERED task after
 * every older task has completed; a SIMPLE task when no older ORDERED task is
 * pending. Dormant tasks leave the queue in order. */
static bool must_wait(const struct scsi_lu *lu, const struct scsi_task *t, bool queue_empty)
{
	switch (t->attr) {
	case SCSI_TASK_HEAD_OF_QUEUE:
		return false;
	case SCSI_TASK_ORDERED:
		return !queue_empty || lu->n_enabled > 0;
	case SCSI_TASK_SIMPLE:
	case SCSI_TASK_ACA:
		break;
	}
	return !queue_empty || lu->n_ordered > 0;
}

static void enable(struct scsi_lu *lu, struct scsi_task *t)
{
	scsi_tp(t)->enabled = true;
	lu->n_enabled++;
	if (t->attr == SCSI_TASK_ORDERED)
		lu->n_ordered++;
}

static void run_handler(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	enum scsi_reason r = tp->cmd->handler(t);

	if (r == SR_PENDING) {
		tp->in_io = true;
		return;
	}
	tp->res.reason = r;
	evl_defer_schedule(t->nexus->target->core->evl, &tp->defer);
}

static void wake_dormant(struct scsi_lu *lu)
{
	struct scsi_task *t;

	while ((t = lu->dormant_head) && !must_wait(lu, t, true)) {
		struct scsi_tpriv *tp = scsi_tp(t);
		lu->dormant_head = tp->dnext;
		if (!lu->dormant_head)
			lu->dormant_tail = NULL;
		tp->dormant = false;
		enable(lu, t);
		run_handler(t);
	}
}

void scsi_task_abort_dormant(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	struct scsi_task **pp, *prev = NULL;

	if (tp->rl_wait) {
		/* waiting for an LBA range (scsi_rl.c): leave that queue and
		 * complete now, like a dormant task */
		scsi_rl_release(t);
		evl_defer_schedule(t->nexus->target->core->evl, &tp->defer);
		return;
	}
	if (!tp->dormant)
		return;
	for (pp = &lu->dormant_head; *pp && *pp != t; prev = *pp, pp = &scsi_tp(*pp)->dnext)
		;
	if (*pp) {
		*pp = tp->dnext;
		if (lu->dormant_tail == t)
			lu->dormant_tail = prev;
	}
	tp->dormant = false;
	evl_defer_schedule(t->nexus->target->core->evl, &tp->defer);
}

static void finish(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;

	scsi_blk_task_fini(t);
	if (tp->enabled) {
		tp->enabled = false;
		lu->n_enabled--;
		if (t->attr == SCSI_TASK_ORDERED)
			lu->n_ordered--;
		/* waking runs handlers that only schedule completions or
		 * submit I/O: nothing re-enters this task */
		wake_dormant(lu);
	}

	if (tp->in_set) {
		if (tp->prev)
			scsi_tp(tp->prev)->next = tp->next;
		else
			lu->tasks = tp->next;
		if (tp->next)
			scsi_tp(tp->next)->prev = tp->prev;
		tp->in_set = false;
	}
	if (tp->aborted) {
		/* SAM-5 7.1: an aborted task sends no status; the transport
		 * only frees it */
		t->aborted = true;
		t->status = SCSI_STATUS_TASK_ABORTED;
		t->sense_len = 0;
		t->data_in_len = 0;
		scsi_tmf_task_finished(task_core(t), t);
		t->done(t);
		return;
	}
	const struct scsi_sense_row *row = scsi_reason_row(tp->res.reason);
	t->status = row->status;
	if (t->status != SCSI_STATUS_GOOD) {
		t->data_in_len = 0;
		t->sense_len = scsi_sense_build(&tp->res, lu ? lu->d_sense : false, t->sense,
						sizeof(t->sense));
		if (row->status == SCSI_STATUS_CHECK_CONDITION &&
		    !scsi_reason_is_ua(tp->res.reason))
			log_debug(SCSI_LOG, "%s lun %llu: %s -> %02x/%02x/%02x",
				  t->nexus->initiator, (unsigned long long)tp->lun,
				  tp->cmd ? tp->cmd->name : "?", row->key, row->asc, row->ascq);
	}
	t->done(t);
}

static void deferred_done(void *arg)
{
	finish(arg);
}

void scsi_task_complete(struct scsi_task *t, enum scsi_reason r)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	tp->in_io = false;
	tp->res.reason = r;
	/* (a failed APTPL commit is logged where it fails, with its file) */
	if (r == SR_HARDWARE_ERROR && !(tp->cmd && tp->cmd->pr_class == PR_CLASS_PR_OUT) &&
	    util_ratelimit_ok(&task_rl))
		log_err(SCSI_LOG, "%s lun %llu: %s failed in the backend", t->nexus->initiator,
			(unsigned long long)tp->lun, tp->cmd ? tp->cmd->name : "?");
	finish(t);
}

static void task_set_add(struct scsi_task *t, struct scsi_lu *lu)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	tp->lu = lu;
	tp->prev = NULL;
	tp->next = lu->tasks;
	if (lu->tasks)
		scsi_tp(lu->tasks)->prev = t;
	lu->tasks = t;
	tp->in_set = true;
}

static enum scsi_reason dispatch(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = NULL;
	const struct scsi_cmd *c;
	enum scsi_reason r;

	if (scsi_lun_decode(t->lun_raw, &tp->lun))
		lu = scsi_target_lun_lookup(t->nexus->target, tp->lun);
	c = scsi_cdb_lookup(t->cdb);
	tp->cmd = c;
	if (!lu) {
		/* SPC-4 4.6.3 / 6.6.2: INQUIRY, REPORT LUNS and REQUEST SENSE
		 * answer for an incorrect LUN; everything else fails with
		 * LOGICAL UNIT NOT SUPPORTED. */
		if (!c || !(c->flags & SCSI_CMD_F_NO_LU))
			return SR_LUN_NOT_SUPPORTED;
		r = scsi_cdb_check(c, t);
		return r ? r : c->handler(t);
	}
	task_set_add(t, lu);
	/* SAM-5 5.14: a pending unit attention fails every command except
	 * INQUIRY, REPORT LUNS and REQUEST SENSE, and is cleared by being
	 * reported. */
	if (!c || !(c->flags & SCSI_CMD_F_NO_UA)) {
		r = scsi_ua_peek(t->nexus, lu, true);
		if (r)
			return r;
	}
	/* SPC-4 4.5.2.2 (and a per-LU capability, e.g. WRITE ATOMIC(16)) */
	if (!c || !scsi_cmd_avail(c, lu))
		return SR_INVALID_OPCODE;
	/* SBC-4 4.11: a sanitize operation in progress or failed */
	r = scsi_sanitize_check(t, lu, c);
	if (r)
		return r;
	/* SBC-4 4.20: stopped by START STOP UNIT */
	r = scsi_lu_stopped_check(lu, c);
	if (r)
		return r;
	/* SAM-5 8.9: ACA task attribute without an ACA condition (NACA is
	 * not supported) */
	if (t->attr == SCSI_TASK_ACA)
		return SR_INVALID_MESSAGE;
	r = scsi_cdb_check(c, t);
	if (r)
		return r;
	r = scsi_pr_access(t->nexus, lu, c, t->cdb);
	if (r)
		return r;
	if (must_wait(lu, t, lu->dormant_head == NULL)) {
		tp->dormant = true;
		tp->dnext = NULL;
		if (lu->dormant_tail)
			scsi_tp(lu->dormant_tail)->dnext = t;
		else
			lu->dormant_head = t;
		lu->dormant_tail = t;
		return SR_PENDING;
	}
	enable(lu, t);
	return c->handler(t);
}

void scsi_task_submit(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_core *core = task_core(t);
	enum scsi_reason r;

	memset(tp, 0, sizeof(*tp));
	t->status = SCSI_STATUS_GOOD;
	t->aborted = false;
	t->sense_len = 0;
	t->data_in_len = 0;
	t->xfer_len = 0;
	tp->seq = ++core->task_seq;
	evl_defer_init(&tp->defer, deferred_done, t);
	if (t->cdb_len == 0 || t->cdb_len > SCSI_CDB_MAX) {
		r = SR_INVALID_OPCODE;
	} else {
		r = dispatch(t);
	}
	if (r == SR_PENDING) {
		tp->in_io = true;
		return;
	}
	tp->res.reason = r;
	evl_defer_schedule(core->evl, &tp->defer);
}
