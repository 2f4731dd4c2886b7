/* SPDX-License-Identifier: MIT */
/* Task Management Function Request / Response (RFC 7143 11.5, 11.6). */
#include <string.h>

#include "iscsi_conn.h"
#include "targetd/util.h"

static void tmf_respond(struct iscsi_cmd *cmd, uint8_t resp)
{
	struct iscsi_conn *c = cmd->conn;
	uint8_t fn = cmd->bhs[1] & ISCSI_TMF_FUNC_MASK;
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_TMF_RSP);

	if (p) {
		p->bhs[1] = ISCSI_FLAG_FINAL;
		p->bhs[2] = resp;
		put_be32(p->bhs + 16, cmd->itt);
		iscsi_conn_send(c, p, true);
		/* 11.5.1: TARGET COLD RESET: the target drops its connections
		 * after the response */
		if (fn == ISCSI_TMF_TARGET_COLD_RESET && resp == ISCSI_TMF_RSP_COMPLETE) {
			struct scsi_target *t = c->sess->target;

			for (struct iscsi_conn *o = c->srv->conns, *next; o; o = next) {
				next = o->next;
				if (o != c && o->state == CONN_FFP && o->sess &&
				    o->sess->target == t)
					iscsi_conn_close(o, "target cold reset");
			}
			iscsi_conn_finish(c);
		}
	}
	iscsi_cmd_release(cmd);
}

static void tmf_done(struct scsi_tmf_req *req, enum scsi_tmf_resp r)
{
	struct iscsi_cmd *cmd = req->transport_priv;
	struct iscsi_conn *c = cmd->conn;
	uint8_t resp = ISCSI_TMF_RSP_REJECTED;

	c->n_tmf--;
	if (c->state == CONN_DEAD) {
		iscsi_cmd_release(cmd);
		return;
	}
	switch (r) {
	case SCSI_TMF_COMPLETE:
		resp = ISCSI_TMF_RSP_COMPLETE;
		break;
	case SCSI_TMF_NO_TASK:
		resp = ISCSI_TMF_RSP_NO_TASK;
		break;
	case SCSI_TMF_NO_LUN:
		resp = ISCSI_TMF_RSP_NO_LUN;
		break;
	case SCSI_TMF_NOT_SUPPORTED:
		resp = ISCSI_TMF_RSP_NOT_SUPPORTED;
		break;
	case SCSI_TMF_REJECTED:
		resp = ISCSI_TMF_RSP_REJECTED;
		break;
	}
	tmf_respond(cmd, resp);
}

/* Commands of this connection that never reached scsi: abort them here.
 * all: every LUN; else only lun. Held commands keep their CmdSN slot. */
static void abort_local(struct iscsi_conn *c, bool all, uint64_t lun)
{
	struct iscsi_cmd *cmd, *next;

	for (cmd = c->cmds; cmd; cmd = next) {
		next = cmd->next;
		if (!all && cmd->task.lun_raw != lun)
			continue;
		if (cmd->state == CMD_HELD)
			cmd->aborted_local = true;
		else if (cmd->state == CMD_DATA_OUT)
			iscsi_cmd_release(cmd);
	}
}

/* scsi's abort hook (scsi_nexus_set_abort_hook): PREEMPT AND ABORT from
 * another initiator aborts this nexus's tasks on LUN lun, including the
 * commands that have not reached scsi (SPC-4 5.13.11.2.6). They end without
 * a response, like aborted submitted tasks (RFC 7143 4.2.3.x); Data-Out still
 * in flight for them is discarded as Data-Out for an unknown ITT. */
unsigned iscsi_tmf_abort_unsubmitted(void *arg, uint64_t lun)
{
	struct iscsi_conn *c = arg;
	struct iscsi_cmd *cmd, *next;
	unsigned n = 0;
	uint64_t l;

	for (cmd = c->cmds; cmd; cmd = next) {
		next = cmd->next;
		if ((cmd->state != CMD_HELD && cmd->state != CMD_DATA_OUT) || cmd->aborted_local ||
		    !scsi_lun_decode(cmd->task.lun_raw, &l) || l != lun)
			continue;
		n++;
		if (cmd->state == CMD_HELD)
			cmd->aborted_local = true; /* keeps its CmdSN slot */
		else
			iscsi_cmd_release(cmd);
	}
	return n;
}

void iscsi_tmf_exec(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	const struct iscsi_bhs_tmf_req *h = (const void *)cmd->bhs;
	uint8_t fn = h->function & ISCSI_TMF_FUNC_MASK;
	struct scsi_tmf_req *req = &cmd->tmf;
	uint64_t lun = get_be64(h->lun);

	memset(req, 0, sizeof(*req));
	req->nexus = c->sess->nexus;
	req->lun_raw = lun;
	req->done = tmf_done;
	req->transport_priv = cmd;
	if (!req->nexus) {
		tmf_respond(cmd, ISCSI_TMF_RSP_REJECTED);
		return;
	}
	switch (fn) {
	case ISCSI_TMF_ABORT_TASK: {
		struct iscsi_cmd *t = iscsi_cmd_find(c, get_be32(h->rtt));

		if (!t || t->state == CMD_TX) {
			/* 11.5.1 b/c: no such task. If RefCmdSN is inside the
			 * window and before this TMF, the command was lost on the
			 * way: Function Complete. Otherwise (it completed, its
			 * CmdSN is behind ExpCmdSN): Task Does Not Exist. */
			uint32_t ref = get_be32(h->ref_cmdsn);
			struct iscsi_session *s = c->sess;
			bool in_window = iscsi_cmdsn_check(s->exp_cmdsn, s->max_cmdsn, ref) !=
				ISCSI_CMDSN_IGNORE &&
			    sna32_lt(ref, cmd->cmdsn);

			tmf_respond(cmd,
				    in_window ? ISCSI_TMF_RSP_COMPLETE : ISCSI_TMF_RSP_NO_TASK);
			return;
		}
		if (t->state != CMD_SUBMITTED) {
			if (t->state == CMD_HELD)
				t->aborted_local = true;
			else
				iscsi_cmd_release(t);
			tmf_respond(cmd, ISCSI_TMF_RSP_COMPLETE);
			return;
		}
		req->fn = SCSI_TMF_ABORT_TASK;
		req->ref_tag = t->itt;
		break;
	}
	case ISCSI_TMF_ABORT_TASK_SET:
		abort_local(c, false, lun);
		req->fn = SCSI_TMF_ABORT_TASK_SET;
		break;
	case ISCSI_TMF_CLEAR_TASK_SET:
		abort_local(c, false, lun);
		req->fn = SCSI_TMF_CLEAR_TASK_SET;
		break;
	case ISCSI_TMF_CLEAR_ACA:
		req->fn = SCSI_TMF_CLEAR_ACA;
		break;
	case ISCSI_TMF_LUN_RESET:
		abort_local(c, false, lun);
		req->fn = SCSI_TMF_LUN_RESET;
		break;
	case ISCSI_TMF_TARGET_WARM_RESET:
		abort_local(c, true, 0);
		req->fn = SCSI_TMF_TARGET_WARM_RESET;
		break;
	case ISCSI_TMF_TARGET_COLD_RESET:
		abort_local(c, true, 0);
		req->fn = SCSI_TMF_TARGET_COLD_RESET;
		break;
	case ISCSI_TMF_TASK_REASSIGN:
		/* 11.6.1: ERL 0 has no allegiance reassignment */
		tmf_respond(cmd, ISCSI_TMF_RSP_NO_REASSIGN);
		return;
	default:
		tmf_respond(cmd, ISCSI_TMF_RSP_NOT_SUPPORTED);
		return;
	}
	c->n_tmf++;
	scsi_tmf_submit(req);
}
