// SPDX-License-Identifier: MIT
/*
 * Task management functions (SAM-5 7). A TMF marks the affected tasks aborted;
 * each still completes (aborted=true) when its backend I/O ends, and the TMF
 * response is sent only after all of them (SAM-5 7.1). The task set is one
 * per LU shared by all I_T nexuses (control mode page TST=000b).
 *
 * Accounting without allocation: a TMF records the submission sequence number
 * at the time it ran and counts the tasks it aborted; when an aborted task
 * finishes, every waiting TMF whose selection matches it (and that is newer
 * than the task) drops its count.
 */
#include <stdlib.h>

#include "scsi_priv.h"
#include "targetd/util.h"

_Static_assert(sizeof(struct evl_defer) <= sizeof(((struct scsi_tmf_req *)0)->priv),
	       "evl_defer must fit in scsi_tmf_req.priv");

static struct evl_defer *tmf_defer(struct scsi_tmf_req *req)
{
	return (struct evl_defer *)(void *)req->priv;
}

#define TMF_SEQ(req) ((req)->upriv[0])
#define TMF_COUNT(req) ((req)->upriv[1])

static struct scsi_lu *tmf_lu(struct scsi_tmf_req *req)
{
	uint64_t lun;

	if (!scsi_lun_decode(req->lun_raw, &lun))
		return NULL;
	return scsi_target_lun_lookup(req->nexus->target, lun);
}

static bool target_maps(struct scsi_target *t, const struct scsi_lu *lu)
{
	for (unsigned i = 0; i < t->nluns; i++)
		if (t->luns[i].lu == lu)
			return true;
	return false;
}

static bool tmf_selects(struct scsi_tmf_req *req, const struct scsi_lu *lu, struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);

	if (tp->seq > TMF_SEQ(req))
		return false;
	switch (req->fn) {
	case SCSI_TMF_ABORT_TASK:
		/* SAM-5 7.2: the task with this tag on this I_T_L nexus */
		return t->nexus == req->nexus && tp->lu == lu && t->tag == req->ref_tag;
	case SCSI_TMF_ABORT_TASK_SET:
		/* SAM-5 7.3: all tasks of this I_T_L nexus */
		return t->nexus == req->nexus && tp->lu == lu;
	case SCSI_TMF_CLEAR_TASK_SET:
	case SCSI_TMF_LUN_RESET:
		/* SAM-5 7.4 / 7.7: every task in the LU's task set */
		return tp->lu == lu;
	case SCSI_TMF_TARGET_WARM_RESET:
	case SCSI_TMF_TARGET_COLD_RESET:
		return target_maps(req->nexus->target, tp->lu);
	case SCSI_TMF_I_T_NEXUS_RESET:
		/* SAM-5 7.6: every task of the I_T nexus */
		return t->nexus == req->nexus;
	case SCSI_TMF_CLEAR_ACA:
		return false;
	}
	return false;
}

static void tmf_deferred(void *arg)
{
	struct scsi_tmf_req *req = arg;
	enum scsi_tmf_resp resp = (enum scsi_tmf_resp)(TMF_COUNT(req) >> 32);

	req->done(req, resp);
}

static void tmf_finish_later(struct scsi_core *core, struct scsi_tmf_req *req,
			     enum scsi_tmf_resp resp)
{
	TMF_COUNT(req) = (uint64_t)resp << 32;
	evl_defer_schedule(core->evl, tmf_defer(req));
}

/* Marks the selected tasks of lu aborted; returns how many are outstanding. */
static uint32_t abort_on_lu(struct scsi_tmf_req *req, struct scsi_lu *sel_lu, struct scsi_lu *lu)
{
	uint32_t n = 0;

	for (struct scsi_task *t = lu->tasks; t; t = scsi_tp(t)->next) {
		if (!tmf_selects(req, sel_lu, t))
			continue;
		n++;
		if (scsi_tp(t)->aborted)
			continue;
		scsi_tp(t)->aborted = true;
		scsi_task_abort_dormant(t);
		/* SAM-5 7.4: CLEAR TASK SET tells the other nexuses whose
		 * tasks it removed (COMMANDS CLEARED BY ANOTHER INITIATOR) */
		if (t->nexus != req->nexus && req->fn == SCSI_TMF_CLEAR_TASK_SET)
			scsi_ua_add(t->nexus, lu, SR_UA_CMDS_CLEARED);
	}
	return n;
}

static void ua_all_mapped(struct scsi_target *t, struct scsi_nexus *nx, enum scsi_reason r)
{
	for (unsigned i = 0; i < t->nluns; i++)
		scsi_ua_add(nx, t->luns[i].lu, r);
}

void scsi_tmf_submit(struct scsi_tmf_req *req)
{
	struct scsi_target *tgt = req->nexus->target;
	struct scsi_core *core = tgt->core;
	struct scsi_lu *lu = NULL;
	uint32_t n = 0;

	evl_defer_init(tmf_defer(req), tmf_deferred, req);
	TMF_SEQ(req) = core->task_seq;
	switch (req->fn) {
	case SCSI_TMF_CLEAR_ACA:
		/* NACA is not supported (INQUIRY NORMACA=0) */
		tmf_finish_later(core, req, SCSI_TMF_NOT_SUPPORTED);
		return;
	case SCSI_TMF_ABORT_TASK:
	case SCSI_TMF_ABORT_TASK_SET:
	case SCSI_TMF_CLEAR_TASK_SET:
	case SCSI_TMF_LUN_RESET:
		lu = tmf_lu(req);
		if (!lu) {
			tmf_finish_later(core, req, SCSI_TMF_NO_LUN);
			return;
		}
		n = abort_on_lu(req, lu, lu);
		if (req->fn == SCSI_TMF_ABORT_TASK && n == 0) {
			tmf_finish_later(core, req, SCSI_TMF_NO_TASK);
			return;
		}
		if (req->fn == SCSI_TMF_LUN_RESET) {
			/* SAM-5 6.3.3 logical unit reset: a unit attention
			 * BUS DEVICE RESET FUNCTION OCCURRED "for the
			 * initiator port associated with every I_T nexus" of
			 * the LU -- the one that sent the reset included (as
			 * LIO's core_tmr_lun_reset -> target_dev_ua_allocate;
			 * libiscsi MultipathIO.Reset checks every path).
			 * SPC-2 5.5.1: it releases SPC-2 reservations (not
			 * persistent ones, SPC-4 5.13.1) */
			scsi_ua_broadcast(core, lu, NULL, SR_UA_LU_RESET);
			scsi_spc2_release_lu(lu, NULL);
		}
		break;
	case SCSI_TMF_TARGET_WARM_RESET:
	case SCSI_TMF_TARGET_COLD_RESET:
		/* RFC 7143 11.5.1: TARGET WARM/COLD RESET is SAM's target
		 * reset, a hard reset (SAM-5 6.3.2) of every LU of the target.
		 * Like the logical unit reset (6.3.3), a hard reset
		 * establishes its unit attention (SCSI BUS RESET OCCURRED)
		 * for every I_T nexus, the requester's included. */
		for (unsigned i = 0; i < tgt->nluns; i++) {
			struct scsi_lu *l = tgt->luns[i].lu;
			bool seen = false;
			for (unsigned k = 0; k < i; k++)
				seen |= tgt->luns[k].lu == l;
			if (seen)
				continue;
			n += abort_on_lu(req, NULL, l);
			scsi_ua_broadcast(core, l, NULL, SR_UA_BUS_RESET);
			scsi_spc2_release_lu(l, NULL);
		}
		break;
	case SCSI_TMF_I_T_NEXUS_RESET:
		/* SAM-5 6.3.4: I_T nexus loss for this nexus only: its unit
		 * attention (I_T NEXUS LOSS OCCURRED) is established for
		 * that one nexus, the other nexuses see no reset */
		for (struct scsi_lu *l = core->lus; l; l = l->next) {
			n += abort_on_lu(req, NULL, l);
			scsi_spc2_release_lu(l, req->nexus);
		}
		ua_all_mapped(tgt, req->nexus, SR_UA_NEXUS_LOSS);
		break;
	}
	if (n == 0) {
		tmf_finish_later(core, req, SCSI_TMF_COMPLETE);
		return;
	}
	if (core->ntmfs == core->tmfs_cap) {
		unsigned cap = core->tmfs_cap ? core->tmfs_cap * 2 : 8;
		struct scsi_tmf_req **nt = realloc(core->tmfs, cap * sizeof(struct scsi_tmf_req *));
		if (!nt) {
			/* the tasks are marked aborted; answer now rather than
			 * lose the TMF */
			log_err(SCSI_LOG, "%s: out of memory tracking a TMF",
				req->nexus->initiator);
			tmf_finish_later(core, req, SCSI_TMF_REJECTED);
			return;
		}
		core->tmfs = nt;
		core->tmfs_cap = cap;
	}
	/* cppcheck-suppress badBitmaskCheck ; the packed (status << 32 | count) layout, spelled out */
	TMF_COUNT(req) = (uint64_t)SCSI_TMF_COMPLETE << 32 | n;
	core->tmfs[core->ntmfs++] = req;
}

void scsi_tmf_task_finished(struct scsi_core *core, struct scsi_task *t)
{
	scsi_pr_task_finished(t);
	for (unsigned i = 0; i < core->ntmfs;) {
		struct scsi_tmf_req *req = core->tmfs[i];
		struct scsi_lu *lu = NULL;

		if (req->fn == SCSI_TMF_ABORT_TASK || req->fn == SCSI_TMF_ABORT_TASK_SET ||
		    req->fn == SCSI_TMF_CLEAR_TASK_SET || req->fn == SCSI_TMF_LUN_RESET)
			lu = tmf_lu(req);
		if (tmf_selects(req, lu, t) && (--TMF_COUNT(req) & 0xffffffffu) == 0) {
			core->tmfs[i] = core->tmfs[--core->ntmfs];
			evl_defer_schedule(core->evl, tmf_defer(req));
			continue;
		}
		i++;
	}
}
