/* SPDX-License-Identifier: MIT */
/*
 * SCSI Command (RFC 7143 11.3), Data-Out (11.7.1), R2T (11.8), Data-In
 * (11.7.2) and SCSI Response (11.4). Data lands straight in the task buffer
 * and is sent straight from it: no copy, no malloc per I/O beyond the pooled
 * buffer (util_buf_alloc) and the per-connection free lists.
 */
#include <stdlib.h>
#include <string.h>

#include "iscsi_conn.h"
#include "targetd/util.h"

static struct util_ratelimit cmd_rl = UTIL_RATELIMIT_INIT(5000, 10);
static struct util_ratelimit tsf_rl = UTIL_RATELIMIT_INIT(5000, 5);

struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->itt == itt)
			return cmd;
	return NULL;
}

void iscsi_cmd_drop(struct iscsi_cmd *cmd)
{
	iscsi_cmd_release(cmd);
}

static enum scsi_task_attr task_attr(uint8_t a)
{
	/* 11.3.1: 0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA */
	switch (a) {
	case 2:
		return SCSI_TASK_ORDERED;
	case 3:
		return SCSI_TASK_HEAD_OF_QUEUE;
	case 4:
		return SCSI_TASK_ACA;
	default:
		return SCSI_TASK_SIMPLE;
	}
}

/* A command PDU we refuse: Reject it, but still consume its CmdSN so the
 * window does not stall (the initiator considers the command done). */
static enum iscsi_verdict cmd_refuse(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason)
{
	struct iscsi_cmd *cmd;

	iscsi_conn_reject(c, bhs, reason);
	if (bhs[0] & ISCSI_OP_IMMEDIATE)
		return ISCSI_V_OK;
	cmd = iscsi_cmd_alloc(c);
	if (!cmd)
		return ISCSI_V_CLOSE;
	cmd->opcode = 0xff; /* no-op when its turn comes */
	cmd->cmdsn = get_be32(bhs + 24);
	iscsi_sess_sequence(c, cmd);
	return ISCSI_V_OK;
}

/*
 * Bounded memory per connection (issue 9): the data buffers of a connection's
 * commands (a WRITE's, allocated here; a READ's Data-In buffer, allocated by
 * scsi as large as its CDB asks: scsi_task_data_in_max; and the scratch scsi
 * takes for VERIFY, WRITE SAME and EXTENDED COPY: scsi_task_scratch_max) are
 * charged when the command header arrives and given back when the command is
 * released, and may not exceed max_conn_data_bytes. SAM-5 5.3.1
 * (status codes): when the logical unit has at least one command in the task
 * set for an I_T nexus and a lack of task set resources prevents entering a
 * newly received command from that I_T nexus, TASK SET FULL shall be returned
 * (BUSY when it has none). A command is always admitted while the connection
 * holds no buffer, so a refused one always has older commands of its nexus
 * whose completion frees room: TASK SET FULL is the status, and nothing waits
 * on anything (no deadlock: those commands keep receiving their Data-Out).
 */
static void charge_data(struct iscsi_conn *c, struct iscsi_cmd *cmd, uint32_t need)
{
	uint64_t cap = c->srv->s.max_conn_data_bytes;

	if (c->data_bytes && c->data_bytes + need > cap) {
		cmd->task_set_full = true;
		if (util_ratelimit_ok(&tsf_rl))
			log_notice("iscsi",
				   "%s: ITT 0x%x needs %u bytes, %llu of max_conn_data_bytes %llu "
				   "held: TASK SET FULL (SAM-5 5.3.1)",
				   c->peer, cmd->itt, need, (unsigned long long)c->data_bytes,
				   (unsigned long long)cap);
		return;
	}
	cmd->data_charge = need;
	c->data_bytes += need;
}

enum iscsi_verdict iscsi_scsi_cmd_hdr(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl,
				      uint8_t **data)
{
	const struct iscsi_bhs_scsi_cmd *h = (const void *)bhs;
	const struct iscsi_params *p = &c->params;
	bool rd = h->flags & ISCSI_CMD_FLAG_READ, wr = h->flags & ISCSI_CMD_FLAG_WRITE;
	uint32_t edtl = get_be32(h->edtl), itt = get_be32(h->itt);
	uint32_t ahs_len = bhs[4] * 4u, need;
	struct iscsi_cmd *cmd;
	struct scsi_task *t;

	if (p->discovery || !c->sess->nexus) /* 3.3: discovery sessions carry no SCSI */
		return ISCSI_V_CLOSE;
	if (itt == ISCSI_RSVD_TAG || iscsi_cmd_find(c, itt)) /* 11.2.1.8, 11.17.1 */
		return cmd_refuse(c, bhs, ISCSI_REJECT_TASK_IN_PROGRESS);
	/* 4.2.2.1: immediate commands are outside the CmdSN window, so it does
	 * not bound them; 11.17.1 reason 0x06 refuses one while the connection
	 * already holds cmdsn_window commands (bounded memory, issue 9) */
	if ((bhs[0] & ISCSI_OP_IMMEDIATE) && c->n_cmds >= c->srv->s.cmdsn_window)
		return cmd_refuse(c, bhs, ISCSI_REJECT_IMMEDIATE_CMD);
	/* 11.3.4 / 13.10 / 13.11: immediate data only for writes, only when
	 * ImmediateData=Yes, never beyond FirstBurstLength or the EDTL */
	if (dsl && (!wr || !p->immediate_data || dsl > p->first_burst || dsl > edtl))
		return cmd_refuse(c, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
	cmd = iscsi_cmd_alloc(c);
	if (!cmd)
		return ISCSI_V_CLOSE;
	t = &cmd->task;
	memcpy(cmd->bhs, bhs, ISCSI_BHS_LEN);
	cmd->opcode = ISCSI_OP_SCSI_CMD;
	cmd->immediate = bhs[0] & ISCSI_OP_IMMEDIATE;
	cmd->itt = itt;
	cmd->cmdsn = get_be32(h->cmdsn);
	t->nexus = c->sess->nexus;
	t->lun_raw = get_be64(h->lun);
	memcpy(t->cdb, h->cdb, 16);
	t->cdb_len = 16;
	if (ahs_len) {
		/* 11.3.5: Extended CDB AHS, AHSLength = extra CDB bytes + 1 */
		const uint8_t *a = bhs + ISCSI_BHS_LEN;
		uint16_t alen = get_be16(a);

		if (a[2] == ISCSI_AHS_TYPE_EXT_CDB && alen >= 1 && 16u + alen - 1 <= SCSI_CDB_MAX &&
		    4u + alen <= ahs_len) {
			memcpy(t->cdb + 16, a + 4, alen - 1u);
			t->cdb_len = (uint8_t)(16 + alen - 1);
		}
	}
	t->attr = task_attr(h->flags & ISCSI_CMD_ATTR_MASK);
	t->flags = (rd ? SCSI_TASK_F_READ : 0) | (wr ? SCSI_TASK_F_WRITE : 0);
	t->tag = itt;
	t->edtl = edtl;
	t->transport_priv = cmd;
	/* the buffer is the EDTL's (a WRITE's, up to SCSI_XFER_MAX) or what a
	 * READ's CDB makes scsi allocate, which the EDTL does not bound */
	need =
	    (rd || wr) && edtl && !(wr && edtl > SCSI_XFER_MAX) ? UTIL_MIN(edtl, SCSI_XFER_MAX) : 0;
	need = UTIL_MAX(need, scsi_task_data_in_max(t));
	/* and the scratch scsi takes besides (VERIFY, WRITE SAME, EXTENDED COPY) */
	need += scsi_task_scratch_max(t);
	if (need)
		charge_data(c, cmd, need);
	if (wr && edtl) {
		if (edtl > SCSI_XFER_MAX || cmd->task_set_full) {
			/* scsi.h: discard the data, submit with buf == NULL; or
			 * TASK SET FULL: read the data into the sink, no buffer */
			cmd->discard_data = true;
		} else {
			t->buf = util_buf_alloc(edtl);
			if (!t->buf) {
				iscsi_cmd_release(cmd);
				return ISCSI_V_CLOSE;
			}
			t->buf_alloc = edtl;
		}
		cmd->xfer_len = edtl;
	}
	cmd->next = c->cmds;
	if (c->cmds)
		c->cmds->prev = cmd;
	c->cmds = cmd;
	cmd->on_list = true;
	c->n_cmds++;
	cmd->imm_len = dsl;
	*data = t->buf; /* NULL: discarded */
	c->rx_cmd = cmd;
	return ISCSI_V_OK;
}

enum iscsi_verdict iscsi_scsi_cmd_pdu(struct iscsi_conn *c, struct iscsi_cmd *cmd)
{
	bool final = cmd->bhs[1] & ISCSI_FLAG_FINAL;

	cmd->received = cmd->imm_len;
	/* 11.3.1 F bit: 0 means unsolicited Data-Out follows (InitialR2T=No),
	 * up to FirstBurstLength in total with the immediate data (13.14) */
	if (cmd->xfer_len && !final && !c->params.initial_r2t) {
		cmd->unsol_open = true;
		cmd->unsol_end = UTIL_MIN(c->params.first_burst, cmd->xfer_len);
	} else {
		cmd->unsol_end = cmd->imm_len;
	}
	iscsi_sess_sequence(c, cmd);
	return ISCSI_V_OK;
}

/* ---- responses ----------------------------------------------------------------- */

static void cmd_tx_done(struct iscsi_tx_pdu *pdu, bool sent)
{
	struct iscsi_cmd *cmd = pdu->arg;

	(void)sent;
	iscsi_cmd_release(cmd);
}

static void send_scsi_rsp(struct iscsi_conn *c, struct iscsi_cmd *cmd, uint32_t exp_datasn)
{
	struct scsi_task *t = &cmd->task;
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_SCSI_RSP);
	struct iscsi_residual r = iscsi_residual(t->edtl, t->xfer_len);

	if (!p) {
		iscsi_cmd_release(cmd);
		return;
	}
	p->bhs[1] = ISCSI_FLAG_FINAL | r.flags;
	p->bhs[2] = ISCSI_RESPONSE_COMPLETED;
	p->bhs[3] = t->status;
	put_be32(p->bhs + 16, cmd->itt);
	put_be32(p->bhs + 36, exp_datasn); /* 11.4.8 */
	put_be32(p->bhs + 44, r.count); /* 11.4.5 */
	if (t->sense_len) {
		/* 11.4.7: SenseLength (2 bytes) then the sense data */
		uint8_t *sd = malloc(2u + t->sense_len);

		if (sd) {
			put_be16(sd, t->sense_len);
			memcpy(sd + 2, t->sense, t->sense_len);
			p->owned = sd;
			p->data = sd;
			p->data_len = 2u + t->sense_len;
		}
	}
	p->done = cmd_tx_done;
	p->arg = cmd;
	cmd->state = CMD_TX;
	iscsi_conn_send(c, p, true);
}

static void send_data_in(struct iscsi_conn *c, struct iscsi_cmd *cmd, uint32_t len)
{
	struct scsi_task *t = &cmd->task;
	const struct iscsi_params *p = &c->params;
	bool collapse = t->sense_len == 0; /* 11.7.2: status in the last Data-In */
	struct iscsi_residual r = iscsi_residual(t->edtl, t->xfer_len);
	uint32_t off, seg, i;
	bool fin;

	cmd->state = CMD_TX;
	for (i = 0;
	     iscsi_datain_seg(len, p->max_recv_dsl_initiator, p->max_burst, i, &off, &seg, &fin);
	     i++) {
		struct iscsi_tx_pdu *d = iscsi_conn_pdu(c, ISCSI_OP_DATA_IN);
		bool last = off + seg == len;

		if (!d)
			return; /* connection closed; cmd freed by the teardown */
		d->bhs[1] = fin ? ISCSI_FLAG_FINAL : 0;
		memcpy(d->bhs + 8, cmd->bhs + 8, 8); /* LUN */
		put_be32(d->bhs + 16, cmd->itt);
		put_be32(d->bhs + 20, ISCSI_RSVD_TAG);
		put_be32(d->bhs + 36, i); /* DataSN */
		put_be32(d->bhs + 40, off); /* Buffer Offset */
		d->data = t->buf + off;
		d->data_len = seg;
		if (last && collapse) {
			d->bhs[1] |= ISCSI_FLAG_FINAL | ISCSI_DATAIN_FLAG_STATUS | r.flags;
			d->bhs[3] = t->status;
			put_be32(d->bhs + 44, r.count);
			d->done = cmd_tx_done;
			d->arg = cmd;
			iscsi_conn_send(c, d, true);
			return;
		}
		iscsi_conn_send(c, d, false);
	}
	send_scsi_rsp(c, cmd, i);
}

static void task_done(struct scsi_task *t)
{
	struct iscsi_cmd *cmd = t->transport_priv;
	struct iscsi_conn *c = cmd->conn;
	uint32_t len;

	c->n_submitted--;
	/* 4.2.3.x / SAM-5 7.x: an aborted task gets no SCSI Response */
	if (c->state == CONN_DEAD || t->aborted) {
		iscsi_cmd_release(cmd);
		return;
	}
	len = (t->flags & SCSI_TASK_F_READ) ? UTIL_MIN(t->data_in_len, t->edtl) : 0;
	if (len && t->buf) {
		c->sess->read_bytes += len;
		send_data_in(c, cmd, len);
	} else {
		send_scsi_rsp(c, cmd, cmd->r2tsn);
	}
}

static void cmd_submit(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	struct scsi_task *t = &cmd->task;

	if (t->flags & SCSI_TASK_F_WRITE) {
		t->data_out_len = cmd->discard_data ? 0 : cmd->received;
		c->sess->write_bytes += cmd->received;
	}
	t->done = task_done;
	cmd->state = CMD_SUBMITTED;
	c->n_submitted++;
	scsi_task_submit(t);
}

/* ---- write path: unsolicited data and R2T ------------------------------------------ */

static void send_r2ts(struct iscsi_conn *c, struct iscsi_cmd *cmd)
{
	const struct iscsi_params *p = &c->params;
	unsigned active = 0;

	for (unsigned i = 0; i < ISCSI_R2T_MAX; i++)
		active += cmd->r2t[i].active;
	if (cmd->r2t_next < cmd->unsol_end)
		cmd->r2t_next = cmd->unsol_end;
	/* 11.8 / 13.17: up to MaxOutstandingR2T at once, each at most
	 * MaxBurstLength, covering the rest of the EDTL in order */
	while (active < p->max_outstanding_r2t && cmd->r2t_next < cmd->xfer_len) {
		struct iscsi_r2t *r = NULL;
		struct iscsi_tx_pdu *pdu;

		for (unsigned i = 0; i < ISCSI_R2T_MAX && !r; i++)
			if (!cmd->r2t[i].active)
				r = &cmd->r2t[i];
		if (!r)
			return;
		pdu = iscsi_conn_pdu(c, ISCSI_OP_R2T);
		if (!pdu)
			return;
		r->active = true;
		r->ttt = c->next_ttt++ & 0x3fffffffu; /* never the reserved tag */
		r->offset = cmd->r2t_next;
		r->len = UTIL_MIN(p->max_burst, cmd->xfer_len - cmd->r2t_next);
		r->received = 0;
		r->datasn = 0;
		cmd->r2t_next += r->len;
		active++;
		pdu->bhs[1] = ISCSI_FLAG_FINAL;
		memcpy(pdu->bhs + 8, cmd->bhs + 8, 8);
		put_be32(pdu->bhs + 16, cmd->itt);
		put_be32(pdu->bhs + 20, r->ttt);
		put_be32(pdu->bhs + 36, cmd->r2tsn++);
		put_be32(pdu->bhs + 40, r->offset);
		put_be32(pdu->bhs + 44, r->len);
		iscsi_conn_send(c, pdu, false); /* R2T: StatSN not advanced */
	}
}

/*
 * RFC 7143 7.8 (digest errors), applied through 7.9 (an out-of-order DataSN is
 * an implied digest error): with no recovery R2T at ErrorRecoveryLevel 0 the
 * target terminates the task with a SCSI Response, CHECK CONDITION and the
 * iSCSI condition "protocol service CRC error" (11.4.7.2: ABORTED COMMAND,
 * ASC/ASCQ 47h/05h), and MUST first wait for all the data, signalled by a
 * Data-Out with the F bit for every outstanding R2T (and the unsolicited
 * burst). The connection stays up. The sense is an iSCSI condition, not a
 * SCSI outcome, so the transport writes it (fixed format, SPC-4 4.5.3).
 */
static void dout_failed_finish(struct iscsi_cmd *cmd)
{
	struct scsi_task *t = &cmd->task;

	if (cmd->unsol_open)
		return;
	for (unsigned i = 0; i < ISCSI_R2T_MAX; i++)
		if (cmd->r2t[i].active)
			return;
	t->status = SCSI_STATUS_CHECK_CONDITION;
	memset(t->sense, 0, 18);
	t->sense[0] = 0x70; /* current error, fixed format */
	t->sense[2] = 0x0b; /* ABORTED COMMAND */
	t->sense[7] = 10; /* additional sense length */
	t->sense[12] = 0x47;
	t->sense[13] = 0x05; /* PROTOCOL SERVICE CRC ERROR */
	t->sense_len = 18;
	t->xfer_len = t->edtl; /* no residual: the task transferred nothing */
	send_scsi_rsp(cmd->conn, cmd, cmd->r2tsn);
}

static void write_progress(struct iscsi_cmd *cmd)
{
	if (cmd->state != CMD_DATA_OUT)
		return;
	if (cmd->dout_failed) {
		/* 7.8: no new R2Ts; answer once the outstanding data is in */
		dout_failed_finish(cmd);
		return;
	}
	if (cmd->received >= cmd->xfer_len || cmd->discard_data) {
		cmd_submit(cmd);
		return;
	}
	if (!cmd->unsol_open)
		send_r2ts(cmd->conn, cmd);
}

void iscsi_scsi_cmd_exec(struct iscsi_cmd *cmd)
{
	if (cmd->task_set_full) {
		/* SAM-5 5.3.1 (see charge_data): answered at its CmdSN turn
		 * (RFC 7143 4.2.2.1: the CmdSN is consumed), never submitted;
		 * any data it carried went to the discard sink, no R2T */
		struct scsi_task *t = &cmd->task;

		t->status = SCSI_STATUS_TASK_SET_FULL;
		t->sense_len = 0;
		t->xfer_len = t->edtl; /* 11.4.5.1: no residual reported */
		send_scsi_rsp(cmd->conn, cmd, 0); /* 11.4.8: no R2T or Data-In sent */
		return;
	}
	if (cmd->xfer_len && !cmd->discard_data) {
		cmd->state = CMD_DATA_OUT;
		write_progress(cmd);
		return;
	}
	cmd_submit(cmd);
}

enum iscsi_verdict iscsi_data_out_hdr(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl,
				      uint8_t **data)
{
	const struct iscsi_bhs_data *h = (const void *)bhs;
	uint32_t itt = get_be32(h->itt), ttt = get_be32(h->ttt);
	uint32_t datasn = get_be32(h->datasn), off = get_be32(h->buffer_offset);
	uint32_t exp_datasn, exp_off;
	struct iscsi_cmd *cmd = iscsi_cmd_find(c, itt);

	c->rx_dout = NULL;
	if (!cmd ||
	    (cmd->state != CMD_HELD && cmd->state != CMD_DATA_OUT && cmd->state != CMD_RX) ||
	    !cmd->xfer_len) {
		/* a task we aborted or finished: drop the data quietly */
		log_debug("iscsi", "%s: Data-Out for unknown ITT 0x%x discarded", c->peer, itt);
		return ISCSI_V_OK;
	}
	if (ttt == ISCSI_RSVD_TAG) {
		/* 11.7.1: unsolicited data within the first burst */
		if (!cmd->unsol_open || (uint64_t)off + dsl > cmd->unsol_end)
			goto proto;
		cmd->dout_r2t = -1;
		exp_datasn = cmd->unsol_datasn;
		exp_off = cmd->received;
	} else {
		struct iscsi_r2t *r = NULL;

		for (unsigned i = 0; i < ISCSI_R2T_MAX; i++)
			if (cmd->r2t[i].active && cmd->r2t[i].ttt == ttt) {
				r = &cmd->r2t[i];
				cmd->dout_r2t = (int)i;
			}
		/* 11.7.1 / 11.8: TTT of an outstanding R2T, inside its range */
		if (!r || off < r->offset || (uint64_t)off + dsl > (uint64_t)r->offset + r->len)
			goto proto;
		exp_datasn = r->datasn;
		exp_off = r->offset + r->received;
	}
	if ((uint64_t)off + dsl > cmd->xfer_len)
		goto proto;
	if (!cmd->dout_failed) {
		/* 11.7.1 / 13.19: DataSN counts from 0 per R2T (or unsolicited
		 * burst) and DataPDUInOrder=Yes puts offsets in order. 7.9: an
		 * out-of-order DataSN means an earlier data PDU was lost, an
		 * implied digest error (7.8): fail the task, keep the connection. */
		if (datasn != exp_datasn) {
			if (util_ratelimit_ok(&cmd_rl))
				log_warn("iscsi",
					 "%s: Data-Out ITT 0x%x DataSN %u, expected %u: task "
					 "ends with PROTOCOL SERVICE CRC ERROR (RFC 7143 7.9)",
					 c->peer, itt, datasn, exp_datasn);
			cmd->dout_failed = true;
		} else if (off != exp_off) {
			goto proto;
		}
	}
	c->rx_dout = cmd;
	/* a failed task's data is read (bounds-checked above) and thrown away */
	*data = cmd->discard_data || cmd->dout_failed ? NULL : cmd->task.buf + off;
	return ISCSI_V_OK;
proto:
	if (util_ratelimit_ok(&cmd_rl))
		log_warn("iscsi",
			 "%s: Data-Out ITT 0x%x TTT 0x%x DataSN %u offset %u len %u out "
			 "of sequence: protocol error",
			 c->peer, itt, ttt, datasn, off, dsl);
	/* ERL 0 (7.1.1): a sequence error ends the connection */
	return ISCSI_V_CLOSE;
}

enum iscsi_verdict iscsi_data_out_pdu(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl)
{
	struct iscsi_cmd *cmd = c->rx_dout;
	bool final = bhs[1] & ISCSI_FLAG_FINAL;

	c->rx_dout = NULL;
	if (!cmd)
		return ISCSI_V_OK;
	cmd->received += dsl;
	if (cmd->dout_r2t < 0) {
		cmd->unsol_datasn++;
		if (final || cmd->received >= cmd->unsol_end) {
			cmd->unsol_open = false;
			cmd->unsol_end = cmd->received;
		}
	} else {
		struct iscsi_r2t *r = &cmd->r2t[cmd->dout_r2t];

		r->received += dsl;
		r->datasn++;
		if (r->received >= r->len || (final && cmd->dout_failed))
			r->active = false; /* 7.8: F ends a failed task's burst */
		else if (final)
			return ISCSI_V_CLOSE; /* 11.7.1: F before the burst is complete */
	}
	write_progress(cmd);
	return ISCSI_V_OK;
}
