// SPDX-License-Identifier: MIT
/*
 * LBA range locks. SBC-4 5.3 (COMPARE AND WRITE): "the device server shall
 * not allow any other command to access the specified logical blocks" between
 * the read-and-compare and the write. Every block data command holds its
 * range while it runs (shared); COMPARE AND WRITE and ORWRITE hold theirs
 * exclusively. A request waits while an overlapping holder or an earlier
 * overlapping waiter conflicts with it (FIFO, so an exclusive waiter is not
 * starved by later shared ones). With no exclusive request on the LU the
 * shared path is two list operations and no scan.
 */
#include "scsi_blk.h"
#include "targetd/util.h"

static bool overlap(const struct scsi_tpriv *a, uint64_t lba, uint64_t nblk)
{
	return a->rl_lba < lba + nblk && lba < a->rl_lba + a->rl_nblk;
}

static bool conflicts(const struct scsi_tpriv *a, uint64_t lba, uint64_t nblk, bool excl)
{
	return (a->rl_excl || excl) && overlap(a, lba, nblk);
}

/* Does [lba, nblk) conflict with a holder, or with a waiter queued before
 * `upto` (NULL: every waiter)? */
static bool blocked(struct scsi_lu *lu, uint64_t lba, uint64_t nblk, bool excl,
		    const struct scsi_task *upto)
{
	if (lu->rl.n_excl == 0 && !excl)
		return false;
	for (struct scsi_task *h = lu->rl.active; h; h = scsi_tp(h)->rl_next)
		if (conflicts(scsi_tp(h), lba, nblk, excl))
			return true;
	for (struct scsi_task *w = lu->rl.wait_head; w && w != upto; w = scsi_tp(w)->rl_next)
		if (conflicts(scsi_tp(w), lba, nblk, excl))
			return true;
	return false;
}

static void hold(struct scsi_lu *lu, struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	tp->rl_held = true;
	tp->rl_prev = NULL;
	tp->rl_next = lu->rl.active;
	if (lu->rl.active)
		scsi_tp(lu->rl.active)->rl_prev = t;
	lu->rl.active = t;
}

static void unwait(struct scsi_lu *lu, struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	if (tp->rl_prev)
		scsi_tp(tp->rl_prev)->rl_next = tp->rl_next;
	else
		lu->rl.wait_head = tp->rl_next;
	if (tp->rl_next)
		scsi_tp(tp->rl_next)->rl_prev = tp->rl_prev;
	else
		lu->rl.wait_tail = tp->rl_prev;
	tp->rl_wait = false;
}

static void grant(void *arg)
{
	struct scsi_lu *lu = arg;
	struct scsi_task *w;

again:
	for (w = lu->rl.wait_head; w; w = scsi_tp(w)->rl_next) {
		struct scsi_tpriv *tp = scsi_tp(w);

		if (blocked(lu, tp->rl_lba, tp->rl_nblk, tp->rl_excl, w))
			continue;
		unwait(lu, w);
		hold(lu, w);
		/* SAM-5 7.1: a task aborted while it waited completes now */
		enum scsi_reason r = tp->aborted ? SR_OK : tp->rl_cont(w);
		if (r != SR_PENDING)
			scsi_task_complete(w, r);
		/* completion may have released ranges: rescan from the head */
		goto again;
	}
}

enum scsi_reason scsi_rl_acquire(struct scsi_task *t, uint64_t lba, uint64_t nblk, bool excl,
				 enum scsi_reason (*cont)(struct scsi_task *t))
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;

	if (!lu->rl.inited) {
		evl_defer_init(&lu->rl.grant, grant, lu);
		lu->rl.inited = true;
	}
	tp->rl_lba = lba;
	tp->rl_nblk = nblk ? nblk : 1;
	tp->rl_excl = excl;
	if (excl)
		lu->rl.n_excl++;
	if (!blocked(lu, tp->rl_lba, tp->rl_nblk, excl, NULL)) {
		hold(lu, t);
		return cont(t);
	}
	tp->rl_cont = cont;
	tp->rl_wait = true;
	tp->rl_next = NULL;
	tp->rl_prev = lu->rl.wait_tail;
	if (lu->rl.wait_tail)
		scsi_tp(lu->rl.wait_tail)->rl_next = t;
	else
		lu->rl.wait_head = t;
	lu->rl.wait_tail = t;
	return SR_PENDING;
}

void scsi_rl_release(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_lu *lu = tp->lu;

	if (tp->rl_wait) {
		/* not expected (a waiting task is not finished), but keep the
		 * queue consistent */
		unwait(lu, t);
	} else if (tp->rl_held) {
		if (tp->rl_prev)
			scsi_tp(tp->rl_prev)->rl_next = tp->rl_next;
		else
			lu->rl.active = tp->rl_next;
		if (tp->rl_next)
			scsi_tp(tp->rl_next)->rl_prev = tp->rl_prev;
		tp->rl_held = false;
	} else {
		return;
	}
	if (tp->rl_excl)
		lu->rl.n_excl--;
	tp->rl_excl = false;
	if (lu->rl.wait_head)
		evl_defer_schedule(lu->core->evl, &lu->rl.grant);
}
