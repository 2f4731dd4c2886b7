/* SPDX-License-Identifier: MIT */
/*
 * iSCSI connections: socket I/O around the PDU machine, dispatch by opcode,
 * CmdSN sequencing, NOP (11.18/11.19), Logout (11.14/11.15), Reject (11.17),
 * keepalive and login timers, and the deferred free.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "iscsi_conn.h"
#include "targetd/util.h"

#define CMD_FREE_MAX 256
#define READ_BUDGET (4u << 20) /* bytes per readable event: fairness */
#define RX_RING_LEN (16u << 10) /* per connection; bounds the copy of a large segment */
#define RX_RING_MAX (64u << 10) /* after a read that filled the ring (depth) */
#define RX_DIRECT_MIN 1024u /* data segments this big are read in place */

static void conn_free_deferred(void *arg);
static void conn_tx_deferred(void *arg);
static void conn_io(struct evl *evl, int fd, uint32_t events, void *arg);

/* ---- commands -------------------------------------------------------------- */

struct iscsi_cmd *iscsi_cmd_alloc(struct iscsi_conn *c)
{
	struct iscsi_cmd *cmd = c->free_cmds;

	if (cmd) {
		c->free_cmds = cmd->next;
		c->n_free_cmds--;
	} else {
		cmd = malloc(sizeof(*cmd));
		if (!cmd)
			return NULL;
	}
	memset(cmd, 0, sizeof(*cmd));
	cmd->conn = c;
	cmd->state = CMD_RX;
	return cmd;
}

void iscsi_cmd_release(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;

	if (cmd->on_list) {
		if (cmd->prev)
			cmd->prev->next = cmd->next;
		else
			c->cmds = cmd->next;
		if (cmd->next)
			cmd->next->prev = cmd->prev;
		cmd->on_list = false;
		c->n_cmds--;
	}
	if (cmd->task.buf)
		util_buf_free(cmd->task.buf, cmd->task.buf_alloc);
	cmd->task.buf = NULL;
	c->data_bytes -= cmd->data_charge; /* issue 9 (iscsi_cmd.c charge_data) */
	cmd->data_charge = 0;
	free(cmd->ctl);
	cmd->ctl = NULL;
	cmd->state = CMD_FREE;
	if (c->n_free_cmds < CMD_FREE_MAX) {
		cmd->next = c->free_cmds;
		c->free_cmds = cmd;
		c->n_free_cmds++;
	} else {
		free(cmd);
	}
	iscsi_conn_cmd_gone(c);
}

/* ---- transmit -------------------------------------------------------------- */

struct iscsi_tx_pdu *iscsi_conn_pdu(struct iscsi_conn *c, uint8_t opcode)
{
	struct iscsi_tx_pdu *p = iscsi_tx_pdu_get(&c->txq);

	if (!p) {
		iscsi_conn_close(c, "out of memory");
		return NULL;
	}
	p->bhs[0] = opcode;
	return p;
}

void iscsi_sess_update_window(struct iscsi_conn *c)
{
	struct iscsi_session *s = c->sess;

	if (s)
		s->max_cmdsn =
		    iscsi_cmdsn_max(s->exp_cmdsn, s->max_cmdsn, c->srv->s.cmdsn_window, c->n_cmds);
}

void iscsi_conn_send(struct iscsi_conn *c, struct iscsi_tx_pdu *pdu, bool adv_statsn)
{
	/* Every target PDU carries StatSN, ExpCmdSN, MaxCmdSN at bytes 24..35
	 * (11.4, 11.6, 11.7.2, 11.8, 11.11, 11.13, 11.15, 11.17, 11.19). */
	if (c->state == CONN_DEAD) {
		if (pdu->done)
			pdu->done(pdu, false);
		free(pdu->owned);
		free(pdu);
		return;
	}
	put_be32(pdu->bhs + 24, c->stat_sn);
	if (adv_statsn)
		c->stat_sn++;
	if (c->sess) {
		iscsi_sess_update_window(c);
		put_be32(pdu->bhs + 28, c->sess->exp_cmdsn);
		put_be32(pdu->bhs + 32, c->sess->max_cmdsn);
	}
	iscsi_txq_push(&c->txq, pdu);
	evl_defer_schedule(c->srv->evl, &c->tx_defer);
}

/* Bounded memory per connection (issue 9): a peer that sends requests but
 * never reads the replies (NOP-Out pings, READs) would make the transmit queue
 * grow without limit. Above ISCSI_TX_HIGH unsent bytes the connection stops
 * reading until the peer has taken enough of its output (TCP flow control does
 * the rest). Twice the largest Data-In of one command, so normal initiators with
 * several large READs in flight never notice. */
#define ISCSI_TX_HIGH ((size_t)2 * SCSI_XFER_MAX)

static void conn_update_events(struct iscsi_conn *c, bool want_out)
{
	uint32_t ev = EPOLLRDHUP;
	bool paused = want_out && c->txq.bytes > ISCSI_TX_HIGH;

	if (c->state == CONN_DEAD)
		return;
	if (!c->close_after_flush && !paused)
		ev |= EPOLLIN;
	if (want_out)
		ev |= EPOLLOUT;
	if (want_out != c->want_out || paused != c->rx_paused || c->close_after_flush) {
		c->want_out = want_out;
		c->rx_paused = paused;
		evl_fd_mod(c->srv->evl, c->fd, ev);
	}
}

static void conn_flush(struct iscsi_conn *c)
{
	int r;

	if (c->state == CONN_DEAD)
		return;
	r = iscsi_txq_flush(&c->txq, c->fd);
	if (r < 0) {
		iscsi_conn_close(c, "send failed");
		return;
	}
	if (r == 0 && c->close_after_flush) {
		iscsi_conn_close(c, "finished");
		return;
	}
	/* EPOLLOUT only while something is queued */
	conn_update_events(c, r == 1);
}

static void conn_tx_deferred(void *arg)
{
	conn_flush(arg);
}

void iscsi_conn_finish(struct iscsi_conn *c)
{
	if (c->state == CONN_DEAD || c->close_after_flush)
		return;
	c->close_after_flush = true;
	conn_update_events(c, c->want_out);
	evl_defer_schedule(c->srv->evl, &c->tx_defer);
}

void iscsi_conn_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason)
{
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_REJECT);
	uint8_t *copy;

	if (!p)
		return;
	copy = malloc(ISCSI_BHS_LEN);
	if (!copy) {
		free(p);
		iscsi_conn_close(c, "out of memory");
		return;
	}
	/* 11.17: the data segment is the complete header of the rejected PDU */
	memcpy(copy, bhs, ISCSI_BHS_LEN);
	p->bhs[1] = ISCSI_FLAG_FINAL;
	p->bhs[2] = reason;
	put_be32(p->bhs + 16, ISCSI_RSVD_TAG);
	p->owned = copy;
	p->data = copy;
	p->data_len = ISCSI_BHS_LEN;
	log_info("iscsi", "%s: reject opcode 0x%02x reason 0x%02x", c->peer,
		 bhs[0] & ISCSI_OPCODE_MASK, reason);
	iscsi_conn_send(c, p, true);
}

/* ---- NOP (11.18, 11.19) ---------------------------------------------------- */

static void nop_exec(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	const struct iscsi_bhs_nop *req = (const void *)cmd->bhs;
	struct iscsi_tx_pdu *p;

	if (cmd->itt == ISCSI_RSVD_TAG) { /* 11.18.2: no response wanted */
		iscsi_cmd_release(cmd);
		return;
	}
	p = iscsi_conn_pdu(c, ISCSI_OP_NOP_IN);
	if (!p) {
		iscsi_cmd_release(cmd);
		return;
	}
	/* 11.19: echo ITT, LUN and the ping data; TTT reserved */
	p->bhs[1] = ISCSI_FLAG_FINAL;
	memcpy(p->bhs + 8, req->lun, 8);
	put_be32(p->bhs + 16, cmd->itt);
	put_be32(p->bhs + 20, ISCSI_RSVD_TAG);
	p->owned = cmd->ctl;
	p->data = cmd->ctl;
	p->data_len = cmd->ctl_len;
	cmd->ctl = NULL;
	iscsi_conn_send(c, p, true);
	iscsi_cmd_release(cmd);
}

static void nop_timer_fn(void *arg)
{
	struct iscsi_conn *c = arg;
	struct iscsi_tx_pdu *p;
	uint64_t now = util_now_ms();

	if (c->state != CONN_FFP || c->close_after_flush)
		return;
	if (c->nop_outstanding) {
		if (now - c->nop_sent_ms >= c->srv->s.nop_timeout_ms)
			iscsi_conn_close(c, "NOP-In ping timed out");
		return;
	}
	/* RFC 7143 11.19: a ping proves an idle connection alive; a PDU received
	 * during the last interval already did. Pinging only idle connections
	 * also keeps a ping reply (an immediate NOP-Out carrying the current
	 * CmdSN) from being queued behind a busy initiator's commands: libiscsi
	 * 1.19 then sees CmdSN < ExpCmdSN and fails the session. */
	if (c->rx_since_nop_tick) {
		c->rx_since_nop_tick = false;
		return;
	}
	p = iscsi_conn_pdu(c, ISCSI_OP_NOP_IN);
	if (!p)
		return;
	/* 11.19: a ping asking for a reply: ITT reserved, TTT valid, StatSN
	 * not advanced */
	p->bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(p->bhs + 16, ISCSI_RSVD_TAG);
	c->nop_ttt = (c->next_ttt++ & 0x7fffffffu) | 0x40000000u;
	put_be32(p->bhs + 20, c->nop_ttt);
	c->nop_outstanding = true;
	c->nop_sent_ms = now;
	iscsi_conn_send(c, p, false);
}

/* ---- Logout (11.14, 11.15) -------------------------------------------------- */

static void logout_respond(struct iscsi_conn *c)
{
	struct iscsi_cmd *cmd = c->logout;
	const struct iscsi_bhs_logout *req = (const void *)cmd->bhs;
	uint8_t reason = req->flags & ISCSI_LOGOUT_REASON_MASK;
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_LOGOUT_RSP);
	uint8_t resp = ISCSI_LOGOUT_RSP_OK;

	c->logout = NULL;
	if (!p) {
		iscsi_cmd_release(cmd);
		return;
	}
	if (reason == ISCSI_LOGOUT_REMOVE_FOR_RECOVERY)
		resp = ISCSI_LOGOUT_RSP_NO_RECOVERY; /* 11.15.1: ERL 0 */
	else if (reason == ISCSI_LOGOUT_CLOSE_CONNECTION && get_be16(req->cid) != c->cid)
		resp = ISCSI_LOGOUT_RSP_CID_NOT_FOUND;
	p->bhs[1] = ISCSI_FLAG_FINAL;
	p->bhs[2] = resp;
	put_be32(p->bhs + 16, cmd->itt);
	put_be16(p->bhs + 40, 0); /* Time2Wait / Time2Retain: ERL 0 */
	put_be16(p->bhs + 42, 0);
	iscsi_conn_send(c, p, true);
	if (resp == ISCSI_LOGOUT_RSP_OK)
		iscsi_conn_finish(c);
	iscsi_cmd_release(cmd);
}

static void logout_exec(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;

	if (c->logout) { /* one at a time */
		iscsi_conn_reject(c, cmd->bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		iscsi_cmd_release(cmd);
		return;
	}
	/* 11.14: respond after the outstanding commands are done */
	c->logout = cmd;
	iscsi_conn_cmd_gone(c);
}

void iscsi_conn_cmd_gone(struct iscsi_conn *c)
{
	if (c->state == CONN_DEAD) {
		evl_defer_schedule(c->srv->evl, &c->free_defer);
		return;
	}
	if (c->logout && c->n_cmds == 0 && c->n_tmf == 0)
		logout_respond(c);
	/* graceful shutdown: go once the in-flight commands are done */
	if (c->srv->shutting_down && c->n_submitted == 0 && c->n_tmf == 0)
		iscsi_conn_finish(c);
}

/* ---- sequencing (4.2.2.1) ---------------------------------------------------- */

static void cmd_exec(struct iscsi_cmd *cmd)
{
	if (cmd->aborted_local) { /* its CmdSN is consumed, nothing runs */
		iscsi_cmd_release(cmd);
		return;
	}
	switch (cmd->opcode) {
	case ISCSI_OP_SCSI_CMD:
		iscsi_scsi_cmd_exec(cmd);
		break;
	case ISCSI_OP_NOP_OUT:
		nop_exec(cmd);
		break;
	case ISCSI_OP_TEXT_REQ:
		iscsi_text_exec(cmd);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		logout_exec(cmd);
		break;
	case ISCSI_OP_TMF_REQ:
		iscsi_tmf_exec(cmd);
		break;
	default:
		iscsi_cmd_release(cmd);
		break;
	}
}

void iscsi_sess_sequence(struct iscsi_conn *c, struct iscsi_cmd *cmd)
{
	struct iscsi_session *s = c->sess;
	struct iscsi_cmd **pp;

	s->commands++;
	if (cmd->immediate) { /* 3.2.2.1: immediate delivery, CmdSN not advanced */
		cmd_exec(cmd);
		return;
	}
	switch (iscsi_cmdsn_check(s->exp_cmdsn, s->max_cmdsn, cmd->cmdsn)) {
	case ISCSI_CMDSN_IGNORE:
		log_debug("iscsi", "%s: CmdSN %u outside [%u, %u]: ignored", c->peer, cmd->cmdsn,
			  s->exp_cmdsn, s->max_cmdsn);
		iscsi_cmd_drop(cmd);
		return;
	case ISCSI_CMDSN_HOLD:
		for (pp = &s->held; *pp && sna32_lt((*pp)->cmdsn, cmd->cmdsn);
		     pp = &(*pp)->hold_next)
			;
		if (*pp && (*pp)->cmdsn == cmd->cmdsn) { /* duplicate: ignore */
			iscsi_cmd_drop(cmd);
			return;
		}
		cmd->state = CMD_HELD;
		cmd->hold_next = *pp;
		*pp = cmd;
		s->n_held++;
		return;
	case ISCSI_CMDSN_NOW:
		break;
	}
	s->exp_cmdsn++;
	cmd_exec(cmd);
	/* the gap may be filled now */
	while (c->state != CONN_DEAD && s->held && s->held->cmdsn == s->exp_cmdsn) {
		struct iscsi_cmd *h = s->held;

		s->held = h->hold_next;
		s->n_held--;
		h->hold_next = NULL;
		s->exp_cmdsn++;
		cmd_exec(h);
	}
	iscsi_sess_update_window(c);
}

/* ---- receive dispatch -------------------------------------------------------- */

static int ctl_reserve(struct iscsi_conn *c, uint32_t len)
{
	uint8_t *b;

	if (len <= c->ctl_cap)
		return 0;
	b = realloc(c->ctl_buf, len);
	if (!b)
		return -ENOMEM;
	c->ctl_buf = b;
	c->ctl_cap = len;
	return 0;
}

static enum iscsi_verdict rx_hdr(void *arg, struct iscsi_rx *rx, uint8_t **data)
{
	struct iscsi_conn *c = arg;
	const uint8_t *bhs = rx->hdr;
	uint8_t op = bhs[0] & ISCSI_OPCODE_MASK;

	c->nop_outstanding = false; /* the initiator is alive */
	c->rx_since_nop_tick = true;
	log_debug("iscsi", "%s: rx op 0x%02x flags 0x%02x itt 0x%08x sn 0x%08x dsl %u", c->peer,
		  bhs[0], bhs[1], get_be32(bhs + 16), get_be32(bhs + 24), rx->dsl);
	if (c->state == CONN_LOGIN) {
		/* 6.3: only Login Requests until the login completes */
		if (op != ISCSI_OP_LOGIN_REQ) {
			log_warn("iscsi", "%s: opcode 0x%02x during login", c->peer, op);
			return ISCSI_V_CLOSE;
		}
		if (ctl_reserve(c, rx->dsl))
			return ISCSI_V_CLOSE;
		*data = c->ctl_buf;
		return ISCSI_V_OK;
	}
	switch (op) {
	case ISCSI_OP_SCSI_CMD:
		return iscsi_scsi_cmd_hdr(c, bhs, rx->dsl, data);
	case ISCSI_OP_DATA_OUT:
		return iscsi_data_out_hdr(c, bhs, rx->dsl, data);
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT_REQ:
	case ISCSI_OP_TMF_REQ:
		if (ctl_reserve(c, rx->dsl))
			return ISCSI_V_CLOSE;
		*data = c->ctl_buf;
		return ISCSI_V_OK;
	default:
		return ISCSI_V_OK; /* data discarded; handled in rx_pdu */
	}
}

static enum iscsi_verdict rx_ctl_pdu(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl)
{
	struct iscsi_cmd *cmd;
	uint8_t op = bhs[0] & ISCSI_OPCODE_MASK;

	if (op == ISCSI_OP_NOP_OUT && get_be32(bhs + 16) == ISCSI_RSVD_TAG) {
		/* 11.18.1: answer to our ping (ITT reserved, must be immediate):
		 * no CmdSN consumed, no response */
		if (get_be32(bhs + 20) == c->nop_ttt)
			c->nop_outstanding = false;
		if (!(bhs[0] & ISCSI_OP_IMMEDIATE))
			log_debug("iscsi", "%s: NOP-Out with reserved ITT not immediate", c->peer);
		return ISCSI_V_OK;
	}
	cmd = iscsi_cmd_alloc(c);
	if (!cmd)
		return ISCSI_V_CLOSE;
	memcpy(cmd->bhs, bhs, ISCSI_BHS_LEN);
	cmd->opcode = op;
	cmd->immediate = bhs[0] & ISCSI_OP_IMMEDIATE;
	cmd->itt = get_be32(bhs + 16);
	cmd->cmdsn = get_be32(bhs + 24);
	if (dsl) {
		cmd->ctl = malloc(dsl);
		if (!cmd->ctl) {
			iscsi_cmd_release(cmd);
			return ISCSI_V_CLOSE;
		}
		memcpy(cmd->ctl, c->ctl_buf, dsl);
		cmd->ctl_len = dsl;
	}
	iscsi_sess_sequence(c, cmd);
	return ISCSI_V_OK;
}

static enum iscsi_verdict rx_pdu(void *arg, struct iscsi_rx *rx)
{
	struct iscsi_conn *c = arg;
	const uint8_t *bhs = rx->hdr;
	uint8_t op = bhs[0] & ISCSI_OPCODE_MASK;

	if (rx->ddigest_bad) {
		/* 7.8 / 11.17.1: Reject "data digest error"; ERL 0 has no
		 * recovery for the lost payload, so end the connection. */
		if (c->state == CONN_FFP) {
			iscsi_conn_reject(c, bhs, ISCSI_REJECT_DATA_DIGEST);
			iscsi_conn_finish(c);
			return ISCSI_V_OK;
		}
		return ISCSI_V_CLOSE;
	}
	if (c->state == CONN_LOGIN)
		return iscsi_login_rx(c, bhs, c->ctl_buf, rx->dsl);
	switch (op) {
	case ISCSI_OP_SCSI_CMD: {
		struct iscsi_cmd *cmd = c->rx_cmd;

		c->rx_cmd = NULL;
		return cmd ? iscsi_scsi_cmd_pdu(c, cmd) : ISCSI_V_OK;
	}
	case ISCSI_OP_DATA_OUT:
		return iscsi_data_out_pdu(c, bhs, rx->dsl);
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT_REQ:
	case ISCSI_OP_TMF_REQ:
		return rx_ctl_pdu(c, bhs, rx->dsl);
	case ISCSI_OP_SNACK_REQ:
		/* 11.16 / 7.x: SNACK needs ERL >= 1; we run ERL 0 */
		iscsi_conn_reject(c, bhs, ISCSI_REJECT_SNACK);
		return ISCSI_V_OK;
	case ISCSI_OP_LOGIN_REQ:
		/* 11.12: Login in full feature phase is a protocol error */
		iscsi_conn_reject(c, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		return ISCSI_V_OK;
	default:
		iscsi_conn_reject(c, bhs, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		return ISCSI_V_OK;
	}
}

static const struct iscsi_rx_ops conn_rx_ops = {
    .hdr = rx_hdr,
    .pdu = rx_pdu,
};

/* Feed the rx machine from the ring, reading the socket when it is empty.
 * Syscalls per PDU: a read that returns less than asked means the socket was
 * empty at that moment, so the loop stops once the ring is used up instead of
 * paying for a read() that only says EAGAIN (epoll is level-triggered and
 * reports later bytes). Data segments of RX_DIRECT_MIN bytes or more land in
 * their buffer without a copy; smaller ones (and headers) cost a memcpy out of
 * the ring, far cheaper than the read() per PDU part it replaces. */
static void conn_read(struct iscsi_conn *c)
{
	size_t budget = READ_BUDGET;
	bool drained = false;

	while (c->state != CONN_DEAD && !c->close_after_flush) {
		uint8_t *p;
		size_t want = iscsi_rx_want(&c->rx, &p), n;

		if (!want) {
			iscsi_conn_close(c, "receive state dead");
			return;
		}
		if (c->rx_ring_len) {
			n = UTIL_MIN(want, (size_t)c->rx_ring_len);
			memcpy(p, c->rx_ring + c->rx_ring_pos, n);
			c->rx_ring_pos += (uint32_t)n;
			c->rx_ring_len -= (uint32_t)n;
		} else {
			struct iovec iov[2];
			int cnt = 0;
			size_t asked = 0;
			ssize_t r;

			if (drained || !budget)
				return;
			if (c->rx_ring_grow) {
				/* The socket held more than a ring's worth (commands
				 * with data at depth): 64 KiB takes ~15 4 KiB WRITEs
				 * per readv instead of ~4. The ring is empty here. */
				uint8_t *big = malloc(RX_RING_MAX);

				c->rx_ring_grow = false;
				if (big) {
					free(c->rx_ring);
					c->rx_ring = big;
					c->rx_ring_cap = RX_RING_MAX;
				}
			}
			if (c->rx.state == ISCSI_RX_DATA && p != c->rx.sink &&
			    want >= RX_DIRECT_MIN)
				iov[cnt++] = (struct iovec){p, UTIL_MIN(want, budget)};
			iov[cnt++] = (struct iovec){c->rx_ring, c->rx_ring_cap};
			for (int i = 0; i < cnt; i++)
				asked += iov[i].iov_len;
			r = readv(c->fd, iov, cnt);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				iscsi_conn_close(c, "read error");
				return;
			}
			if (r == 0) {
				iscsi_conn_close(c, "peer closed");
				return;
			}
			budget -= UTIL_MIN((size_t)r, budget);
			drained = (size_t)r < asked;
			if (!drained && c->rx_ring_cap < RX_RING_MAX)
				c->rx_ring_grow = true;
			c->rx_ring_pos = 0;
			if (cnt == 1) {
				c->rx_ring_len = (uint32_t)r;
				continue;
			}
			n = UTIL_MIN((size_t)r, iov[0].iov_len);
			c->rx_ring_len = (uint32_t)((size_t)r - n);
		}
		if (iscsi_rx_advance(&c->rx, n) != ISCSI_V_OK) {
			iscsi_conn_close(c, "protocol error");
			return;
		}
	}
}

static void conn_io(struct evl *evl, int fd, uint32_t events, void *arg)
{
	struct iscsi_conn *c = arg;

	(void)evl;
	(void)fd;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(c);
	if (c->state != CONN_DEAD && (events & EPOLLOUT))
		conn_flush(c);
}

/* ---- lifecycle --------------------------------------------------------------- */

static void login_timer_fn(void *arg)
{
	struct iscsi_conn *c = arg;

	if (c->state == CONN_LOGIN)
		iscsi_conn_close(c, "login timed out");
}

static void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	iscsi_format_addr(buf, cap, host, port);
}

int iscsi_conn_create(struct iscsi_server *srv, struct iscsi_portal *portal, int fd)
{
	struct iscsi_conn *c = calloc(1, sizeof(*c));
	struct sockaddr_storage ss = {0}; /* the analyzer cannot see getpeername() fill it */
	socklen_t sl;
	int one = 1;
	int r;

	if (!c)
		return -ENOMEM;
	c->rx_ring = malloc(RX_RING_LEN);
	if (!c->rx_ring) {
		free(c);
		return -ENOMEM;
	}
	c->rx_ring_cap = RX_RING_LEN;
	c->srv = srv;
	c->portal = portal;
	c->fd = fd;
	c->state = CONN_LOGIN;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sl = sizeof(ss);
	if (!getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		sockaddr_text(&ss, c->peer, sizeof(c->peer));
		iscsi_peer_ip(&ss, &c->peer_ip);
	}
	sl = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		sockaddr_text(&ss, c->local, sizeof(c->local));
	iscsi_rx_init(&c->rx, &conn_rx_ops, c, ISCSI_LOGIN_DSL_MAX);
	iscsi_txq_init(&c->txq);
	iscsi_params_init(&c->params, &srv->s);
	evl_defer_init(&c->free_defer, conn_free_deferred, c);
	evl_defer_init(&c->tx_defer, conn_tx_deferred, c);
	r = evl_timer_create(srv->evl, login_timer_fn, c, &c->login_timer);
	if (!r)
		r = evl_timer_arm(c->login_timer, srv->s.login_timeout_ms, 0);
	if (!r)
		r = evl_fd_add(srv->evl, fd, EPOLLIN | EPOLLRDHUP, conn_io, c);
	if (r) {
		if (c->login_timer)
			evl_timer_destroy(c->login_timer);
		free(c->rx_ring);
		free(c);
		return r;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	log_debug("iscsi", "%s: connection accepted on %s", c->peer, c->local);
	return 0;
}

void iscsi_conn_enter_ffp(struct iscsi_conn *c)
{
	struct iscsi_server *srv = c->srv;

	c->state = CONN_FFP;
	if (c->login_timer) {
		evl_timer_destroy(c->login_timer);
		c->login_timer = NULL;
	}
	/* 13.1: digests start with the first PDU after the final login response */
	c->txq.hdigest = c->rx.hdigest = c->params.header_digest;
	c->txq.ddigest = c->rx.ddigest = c->params.data_digest;
	c->rx.max_dsl = c->params.max_recv_dsl_target;
	if (srv->s.nop_interval_ms && !evl_timer_create(srv->evl, nop_timer_fn, c, &c->nop_timer))
		evl_timer_arm(c->nop_timer, srv->s.nop_interval_ms, srv->s.nop_interval_ms);
}

static void drop_pending_cmds(struct iscsi_conn *c)
{
	struct iscsi_cmd *cmd, *next;

	if (c->sess) {
		while ((cmd = c->sess->held)) {
			c->sess->held = cmd->hold_next;
			iscsi_cmd_release(cmd);
		}
		c->sess->n_held = 0;
	}
	if (c->rx_cmd) {
		iscsi_cmd_release(c->rx_cmd);
		c->rx_cmd = NULL;
	}
	c->rx_dout = NULL;
	for (cmd = c->cmds; cmd; cmd = next) {
		next = cmd->next;
		if (cmd->state == CMD_DATA_OUT || cmd->state == CMD_RX)
			iscsi_cmd_release(cmd);
	}
	if (c->logout) {
		struct iscsi_cmd *l = c->logout;

		c->logout = NULL;
		iscsi_cmd_release(l);
	}
}

void iscsi_conn_close(struct iscsi_conn *c, const char *why)
{
	if (c->state == CONN_DEAD)
		return;
	log_info("iscsi", "%s: %s%s%s: connection closed (%s)", c->peer,
		 c->params.initiator_name[0] ? c->params.initiator_name : "-",
		 c->params.target_name[0] ? " -> " : "", c->params.target_name, why);
	c->state = CONN_DEAD;
	evl_fd_del(c->srv->evl, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->login_timer) {
		evl_timer_destroy(c->login_timer);
		c->login_timer = NULL;
	}
	if (c->nop_timer) {
		evl_timer_destroy(c->nop_timer);
		c->nop_timer = NULL;
	}
	evl_defer_cancel(c->srv->evl, &c->tx_defer);
	iscsi_txq_destroy(&c->txq);
	drop_pending_cmds(c);
	iscsi_login_free(c);
	evl_defer_schedule(c->srv->evl, &c->free_defer);
}

void iscsi_conn_reap(struct iscsi_conn *c)
{
	conn_free_deferred(c);
}

static void conn_free_deferred(void *arg)
{
	struct iscsi_conn *c = arg;
	struct iscsi_server *srv = c->srv;
	struct iscsi_cmd *cmd;

	/* tasks inside scsi still point at us: wait for their done() */
	if (c->state != CONN_DEAD || c->n_submitted || c->n_tmf || c->freeing)
		return;
	c->freeing = true;
	/* anything left (responses dropped by the tx teardown) */
	/* every command on c->cmds has on_list set, so each release unlinks it
	 * before it can be freed (the analyzer assumes on_list may be false) */
	while (c->cmds)
		iscsi_cmd_release(c->cmds); /* NOLINT(clang-analyzer-unix.Malloc) */
	if (c->sess) {
		if (c->sess->nexus) {
			scsi_nexus_set_abort_hook(c->sess->nexus, NULL, c);
			scsi_nexus_put(c->sess->nexus); /* I_T nexus loss (SAM-5 6.3.4) */
		}
		free(c->sess);
		c->sess = NULL;
	}
	while ((cmd = c->free_cmds)) {
		c->free_cmds = cmd->next;
		free(cmd);
	}
	free(c->ctl_buf);
	free(c->rx_ring);
	free(c->text_pending);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	evl_defer_cancel(srv->evl, &c->free_defer);
	free(c);
	if (srv->shutting_down && srv->n_conns == 0)
		evl_defer_schedule(srv->evl, &srv->shutdown_defer);
}

void iscsi_conn_session_info(struct iscsi_conn *c, struct iscsi_session_info *info)
{
	struct iscsi_session *s = c->sess;

	memset(info, 0, sizeof(*info));
	info->initiator_name = c->params.initiator_name;
	info->target_name = c->params.target_name;
	memcpy(info->isid, s->isid, 6);
	info->tsih = s->tsih;
	info->tpgt = s->tpgt;
	util_strlcpy(info->peer_addr, c->peer, sizeof(info->peer_addr));
	util_strlcpy(info->local_addr, c->local, sizeof(info->local_addr));
	info->max_recv_dsl_initiator = c->params.max_recv_dsl_initiator;
	info->max_recv_dsl_target = c->params.max_recv_dsl_target;
	info->first_burst = c->params.first_burst;
	info->max_burst = c->params.max_burst;
	info->header_digest = c->params.header_digest;
	info->data_digest = c->params.data_digest;
	info->immediate_data = c->params.immediate_data;
	info->initial_r2t = c->params.initial_r2t;
	info->commands = s->commands;
	info->read_bytes = s->read_bytes;
	info->write_bytes = s->write_bytes;
	info->discovery = c->params.discovery;
}
