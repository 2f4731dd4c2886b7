// SPDX-License-Identifier: MIT
/*
 * PERSISTENT RESERVE IN (SPC-4 6.15) and OUT (SPC-4 6.16) on a logical unit.
 *
 * PR IN reads the committed state. A PROUT runs the pr engine on a copy
 * (pr_out); when the copy differs and APTPL is (or was) active, the copy is
 * first made durable on the worker thread (issue 11: temp file, fsync,
 * rename, directory fsync), and only then swapped in. Its effects follow the
 * commit: unit attentions by identity (SPC-4 5.13.11) and, for PREEMPT AND
 * ABORT, the abort of the preempted I_T nexuses' commands on this LU
 * (5.13.11.2.6 c); the PROUT completes after those aborted commands have.
 *
 * PROUTs of an LU are serialised: one in flight (lu->op), later ones wait in
 * lu->prout_head (FIFO), run from a deferred call. Everything else --
 * access checks, PR IN -- keeps using the committed state meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"
#include "targetd/util.h"

static struct evl *lu_evl(struct scsi_lu *lu)
{
	return lu->core->evl;
}

enum scsi_reason scsi_pr_in(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint8_t sa = t->cdb[1] & 0x1f;
	uint16_t alloc = get_be16(t->cdb + 7); /* SPC-4 6.15.1 ALLOCATION LENGTH */
	struct pr_result res = {0};
	uint32_t out = 0;
	uint8_t none;
	enum scsi_reason r = scsi_data_in_buf(t, alloc);

	if (r)
		return r;
	if (pr_in(&lu->pr, sa, alloc ? t->buf : &none, alloc, &out, &res))
		return SR_BUSY;
	if (res.status != PR_GOOD)
		return scsi_pr_result(t, &res);
	t->data_in_len = out;
	t->xfer_len = out;
	return SR_OK;
}

/* The parameter list bytes that actually arrived, at most what the CDB's
 * PARAMETER LIST LENGTH says (RFC 7143 11.4.5.1: never use more). */
static uint32_t param_have(const struct scsi_task *t)
{
	uint32_t plen = get_be32(t->cdb + 5);
	uint32_t have = t->buf ? UTIL_MIN(t->data_out_len, t->edtl) : 0;

	return UTIL_MIN(plen, have);
}

static void op_release(struct scsi_pr_op *op)
{
	pr_state_free(&op->next);
	pr_effects_free(&op->fx);
	free(op->text);
	op->text = NULL;
	op->task = NULL;
}

static void op_finish(struct scsi_lu *lu, enum scsi_reason r)
{
	struct scsi_task *t = lu->op.task;

	op_release(&lu->op);
	lu->prout_busy = false;
	scsi_task_complete(t, r);
	/* the next PROUT of this LU, if any */
	evl_defer_schedule(lu_evl(lu), &lu->prout_defer);
}

static void op_done_deferred(void *arg)
{
	op_finish(arg, SR_OK);
}

static enum scsi_reason ua_reason(uint8_t ascq)
{
	switch (ascq) {
	case PR_ASCQ_RESERVATIONS_PREEMPTED:
		return SR_UA_RES_PREEMPTED;
	case PR_ASCQ_RESERVATIONS_RELEASED:
		return SR_UA_RES_RELEASED;
	case PR_ASCQ_REGISTRATIONS_PREEMPTED:
	default:
		return SR_UA_REG_PREEMPTED;
	}
}

static void prout_unqueue(struct scsi_lu *lu, struct scsi_task *t)
{
	struct scsi_task **pp, *prev = NULL;

	for (pp = &lu->prout_head; *pp && *pp != t; prev = *pp, pp = &scsi_tp(*pp)->dnext)
		;
	if (!*pp)
		return;
	*pp = scsi_tp(t)->dnext;
	if (lu->prout_tail == t)
		lu->prout_tail = prev;
	scsi_tp(t)->pr_queued = false;
}

/*
 * SPC-4 5.13.11.2.6 c): every command of the preempted I_T nexuses on this
 * LU, except the PERSISTENT RESERVE OUT itself, is aborted as in SAM-5
 * (the preempter's own commands are not, issue 3). An aborted command still
 * finishes its backend I/O and gets done() with aborted=true; we count them
 * and complete the PROUT after the last one. The control mode page has
 * TAS=0, so each I_T nexus that lost commands gets the unit attention
 * COMMANDS CLEARED BY ANOTHER INITIATOR (SAM-5 5.6, 2F/00) instead of TASK
 * ABORTED status.
 */
/* SPC-4 5.13.11.2.6: the victims' tasks include those the transport still
 * holds (a WRITE waiting for Data-Out is a task from the moment its command
 * arrived, SAM-5 4.6; RFC 7143 4.2.3). They have no I/O in flight, so the
 * transport drops them at once, with no response; the PROUT need not wait. */
static void abort_unsubmitted(struct scsi_lu *lu, struct scsi_pr_op *op)
{
	struct scsi_nexus *self = op->task->nexus;

	for (struct scsi_target *t = lu->core->targets; t; t = t->next) {
		for (unsigned k = 0; k < t->nluns; k++) {
			if (t->luns[k].lu != lu)
				continue;
			for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next) {
				bool hit = false;

				if (nx == self || !nx->abort_hook)
					continue;
				for (unsigned i = 0; i < op->fx.n_abort && !hit; i++)
					hit = scsi_pr_itn_matches(&op->fx.abort[i], nx);
				if (hit && nx->abort_hook(nx->abort_arg, t->luns[k].lun))
					scsi_ua_add_keep(nx, lu, SR_UA_CMDS_CLEARED);
			}
		}
	}
}

static uint32_t abort_preempted(struct scsi_lu *lu, struct scsi_pr_op *op)
{
	struct scsi_nexus *self = op->task->nexus;
	uint32_t n = 0;

	for (struct scsi_task *t = lu->tasks; t; t = scsi_tp(t)->next) {
		struct scsi_tpriv *tp = scsi_tp(t);
		bool hit = false;

		if (t == op->task || t->nexus == self || tp->pr_abort)
			continue;
		for (unsigned i = 0; i < op->fx.n_abort && !hit; i++)
			hit = scsi_pr_itn_matches(&op->fx.abort[i], t->nexus);
		if (!hit)
			continue;
		tp->pr_abort = true;
		n++;
		scsi_ua_add_keep(t->nexus, lu, SR_UA_CMDS_CLEARED);
		if (tp->pr_queued) {
			/* a PROUT of the victim waiting behind this one: it
			 * cannot run before we finish, so it ends now */
			tp->aborted = true;
			prout_unqueue(lu, t);
			evl_defer_schedule(lu_evl(lu), &tp->defer);
			continue;
		}
		if (tp->aborted)
			continue; /* a TMF got there first; it still finishes once */
		tp->aborted = true;
		scsi_task_abort_dormant(t);
	}
	abort_unsubmitted(lu, op);
	return n;
}

/* Swap the new state in and apply its effects. */
static void op_commit(struct scsi_lu *lu)
{
	struct scsi_pr_op *op = &lu->op;

	pr_state_free(&lu->pr);
	lu->pr = op->next;
	memset(&op->next, 0, sizeof(op->next));
	if (op->text) {
		free(lu->pr_text);
		lu->pr_text = op->text;
		lu->pr_text_len = op->text_len;
		op->text = NULL;
	} else if (!lu->pr.aptpl) {
		/* no file any more (removed, or there never was one) */
		free(lu->pr_text);
		lu->pr_text = NULL;
		lu->pr_text_len = 0;
	}
	for (unsigned i = 0; i < op->fx.n_ua; i++)
		scsi_pr_ua_itn(lu, &op->fx.ua[i].itn, ua_reason(op->fx.ua[i].ascq));
	op->aborts = op->fx.n_abort ? abort_preempted(lu, op) : 0;
	if (op->aborts == 0)
		op_finish(lu, SR_OK);
	/* else scsi_pr_task_finished() completes it after the last abort */
}

void scsi_pr_task_finished(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;

	if (!tp->pr_abort || !lu)
		return;
	tp->pr_abort = false;
	if (lu->prout_busy && lu->op.aborts && --lu->op.aborts == 0) {
		/* after this task's done() has run (SAM-5 7.1 order) */
		evl_defer_schedule(lu_evl(lu), &lu->op.done_defer);
	}
}

static void store_done(void *arg, int result)
{
	struct scsi_pr_op *op = arg;
	struct scsi_lu *lu = op->lu;

	if (result < 0) {
		/* issue 11: memory unchanged, the initiator gets CHECK
		 * CONDITION, HARDWARE ERROR / INTERNAL TARGET FAILURE (why:
		 * docs/aptpl-format.md) */
		log_err(SCSI_LOG,
			"lu %s: %s %s/%s failed: %s; PERSISTENT RESERVE OUT from %s not applied",
			lu->serial, op->text ? "writing" : "removing",
			lu->core->state_dir ? lu->core->state_dir : "(no state_dir)",
			lu->pr_file ? lu->pr_file : "-", strerror(-result),
			op->task->nexus->initiator);
		op_finish(lu, SR_HARDWARE_ERROR);
		return;
	}
	op_commit(lu);
}

static void op_start(struct scsi_lu *lu, struct scsi_task *t)
{
	struct scsi_pr_op *op = &lu->op;
	struct scsi_target *tgt = t->nexus->target;
	struct pr_port ports[SCSI_MAX_PORTS];
	struct pr_ports pp = {.port = ports, .n = tgt->nports};
	struct pr_nexus_id who;
	bool persist = false;

	for (unsigned i = 0; i < tgt->nports; i++) {
		/* cppcheck-suppress unreadVariable ; read by pr_out() through pp.port */
		ports[i].rel_tport_id = tgt->ports[i].rel_id;
		/* cppcheck-suppress unreadVariable ; read by pr_out() through pp.port */
		ports[i].tpgt = tgt->ports[i].tpgt;
	}
	scsi_pr_who(t->nexus, &who);
	op->task = t;
	op->text = NULL;
	op->aborts = 0;
	lu->prout_busy = true;
	if (pr_out(&lu->pr, &op->next, t->cdb, t->buf, param_have(t), &who, &pp, &op->fx)) {
		memset(&op->next, 0, sizeof(op->next));
		memset(&op->fx, 0, sizeof(op->fx));
		op_finish(lu, SR_BUSY);
		return;
	}
	if (op->fx.result.status != PR_GOOD || !op->fx.changed) {
		/* an error, a conflict, or nothing to change: nothing is
		 * written (issue 11) */
		op_finish(lu, scsi_pr_result(t, &op->fx.result));
		return;
	}
	/* SPC-4 5.13.5.1 / issue 11: with APTPL active the new state is made
	 * durable before it is committed; turning APTPL off removes the
	 * file. Content already on disk is not written again. */
	if (op->next.aptpl) {
		if (pr_state_encode(&op->next, &op->text, &op->text_len)) {
			op_finish(lu, SR_BUSY);
			return;
		}
		if (lu->pr_text && op->text && lu->pr_text_len == op->text_len &&
		    !memcmp(lu->pr_text, op->text, op->text_len)) {
			free(op->text);
			op->text = NULL;
		} else {
			persist = true;
		}
	} else if (lu->pr_text) {
		persist = true; /* op->text == NULL: remove */
	}
	if (!persist) {
		op_commit(lu);
		return;
	}
	log_debug(SCSI_LOG, "lu %s: %s %s for %s", lu->serial, op->text ? "writing" : "removing",
		  lu->pr_file ? lu->pr_file : "-", t->nexus->initiator);
	scsi_pr_store_submit(op, store_done);
}

static void prout_pump(void *arg)
{
	struct scsi_lu *lu = arg;
	struct scsi_task *t;

	while (!lu->prout_busy && (t = lu->prout_head)) {
		struct scsi_tpriv *tp = scsi_tp(t);

		lu->prout_head = tp->dnext;
		if (!lu->prout_head)
			lu->prout_tail = NULL;
		tp->pr_queued = false;
		tp->dnext = NULL;
		if (tp->aborted) {
			/* aborted by a TMF while it waited */
			scsi_task_complete(t, SR_OK);
			continue;
		}
		op_start(lu, t);
	}
}

void scsi_pr_out_init(struct scsi_lu *lu)
{
	lu->op.lu = lu;
	evl_defer_init(&lu->prout_defer, prout_pump, lu);
	evl_defer_init(&lu->op.done_defer, op_done_deferred, lu);
}

enum scsi_reason scsi_pr_out(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;
	uint32_t plen = get_be32(t->cdb + 5);

	t->xfer_len = plen;
	/* SPC-4 6.16.1: the parameter list must have arrived whole; a list
	 * the transport could not take (over SCSI_XFER_MAX) or that is cut
	 * short is a PARAMETER LIST LENGTH ERROR. The exact lengths per
	 * service action are pr_out's (6.16.2 - 6.16.4). */
	if (plen > SCSI_XFER_MAX || param_have(t) < plen)
		return SR_PARAM_LIST_LENGTH;
	tp->dnext = NULL;
	tp->pr_queued = true;
	if (lu->prout_tail)
		scsi_tp(lu->prout_tail)->dnext = t;
	else
		lu->prout_head = t;
	lu->prout_tail = t;
	evl_defer_schedule(lu_evl(lu), &lu->prout_defer);
	return SR_PENDING;
}
