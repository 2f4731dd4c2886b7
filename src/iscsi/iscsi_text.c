/* SPDX-License-Identifier: MIT */
/* Text Request / Response (RFC 7143 11.10, 11.11): SendTargets (appendix C). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_conn.h"
#include "iscsi_netacl.h"
#include "targetd/util.h"

static void add_target(struct iscsi_conn *c, struct iscsi_textbuf *tb, struct scsi_target *t)
{
	struct iscsi_server *srv = c->srv;
	char addr[128];

	if (!scsi_target_acl_allows(t, c->params.initiator_name) ||
	    !iscsi_netacl_allows(c, scsi_target_name(t)))
		return; /* C.1: only targets this initiator may access */
	iscsi_textbuf_add(tb, "TargetName", "%s", scsi_target_name(t));
	for (unsigned i = 0; i < srv->n_portals; i++) {
		const struct iscsi_portal *p = srv->portals[i];

		if (!p->port)
			continue;
		if (!scsi_target_has_port(t, p->tpgt))
			continue;
		if (p->advertise) {
			size_t n = strlen(p->advertise);

			util_strlcpy(addr, p->advertise, sizeof(addr));
			/* "HOST:0": the advertised port follows the bound one */
			if (n > 2 && n < sizeof(addr) && !strcmp(addr + n - 2, ":0"))
				snprintf(addr + n - 1, sizeof(addr) - (n - 1), "%u", p->port);
		} else if (p->wildcard) {
			/* bound to any address: tell the one this connection reached,
			 * with the portal's port */
			char host[64];
			char *colon;

			util_strlcpy(host, c->local, sizeof(host));
			colon = strrchr(host, ':');
			if (colon)
				*colon = '\0';
			snprintf(addr, sizeof(addr), "%s:%u", host, p->port);
		} else {
			iscsi_format_addr(addr, sizeof(addr), p->host, p->port);
		}
		iscsi_sendtargets_addr(tb, addr, p->tpgt);
	}
}

static void send_text_chunk(struct iscsi_conn *c, uint32_t itt, const uint8_t *lun)
{
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_TEXT_RSP);
	size_t left = c->text_pending_len - c->text_pending_off;
	size_t n = UTIL_MIN(left, (size_t)c->params.max_recv_dsl_initiator);
	uint8_t *d;

	if (!p)
		return;
	memcpy(p->bhs + 8, lun, 8);
	put_be32(p->bhs + 16, itt);
	d = n ? malloc(n) : NULL;
	if (n && !d) {
		free(p);
		iscsi_conn_close(c, "out of memory");
		return;
	}
	if (n)
		memcpy(d, c->text_pending + c->text_pending_off, n);
	c->text_pending_off += n;
	p->owned = d;
	p->data = d;
	p->data_len = (uint32_t)n;
	if (c->text_pending_off < c->text_pending_len) {
		/* 11.11.2: C bit, the initiator asks for the rest with our TTT */
		p->bhs[1] = ISCSI_TEXT_FLAG_CONTINUE;
		c->text_ttt = (c->next_ttt++ & 0x3fffffffu) | 0x80000000u;
		put_be32(p->bhs + 20, c->text_ttt);
	} else {
		p->bhs[1] = ISCSI_FLAG_FINAL;
		put_be32(p->bhs + 20, ISCSI_RSVD_TAG);
		free(c->text_pending);
		c->text_pending = NULL;
		c->text_pending_len = c->text_pending_off = 0;
	}
	iscsi_conn_send(c, p, true);
}

void iscsi_text_exec(struct iscsi_cmd *cmd)
{
	struct iscsi_conn *c = cmd->conn;
	const struct iscsi_bhs_text *h = (const void *)cmd->bhs;
	uint32_t ttt = get_be32(h->ttt);
	struct iscsi_kv kv[ISCSI_KEYS_MAX];
	struct iscsi_textbuf tb;
	char *store;
	size_t nkv;

	if (ttt != ISCSI_RSVD_TAG) {
		/* 11.10.4: continuation of our previous response */
		if (!c->text_pending || ttt != c->text_ttt)
			iscsi_conn_reject(c, cmd->bhs, ISCSI_REJECT_INVALID_PDU_FIELD);
		else
			send_text_chunk(c, cmd->itt, h->lun);
		iscsi_cmd_release(cmd);
		return;
	}
	free(c->text_pending); /* 11.10.2: a new request resets a pending one */
	c->text_pending = NULL;
	if ((h->flags & ISCSI_TEXT_FLAG_CONTINUE) ||
	    iscsi_kv_parse(cmd->ctl, cmd->ctl_len, kv, ARRAY_SIZE(kv), &nkv, &store)) {
		/* request continuation (C bit) is not supported; bad text */
		iscsi_conn_reject(c, cmd->bhs, ISCSI_REJECT_INVALID_PDU_FIELD);
		iscsi_cmd_release(cmd);
		return;
	}
	if (iscsi_textbuf_init(&tb, ISCSI_TEXT_MAX)) {
		free(store);
		iscsi_cmd_release(cmd);
		iscsi_conn_close(c, "out of memory");
		return;
	}
	for (size_t i = 0; i < nkv; i++) {
		if (strcmp(kv[i].key, "SendTargets")) {
			iscsi_textbuf_add(&tb, kv[i].key, "NotUnderstood");
			continue;
		}
		if (!strcmp(kv[i].val, "All")) {
			/* C.1: All is for discovery sessions; a normal session
			 * learns only its own target */
			if (c->params.discovery) {
				for (struct scsi_target *t = scsi_target_next(c->srv->core, NULL);
				     t; t = scsi_target_next(c->srv->core, t))
					add_target(c, &tb, t);
			} else if (c->sess->target) {
				add_target(c, &tb, c->sess->target);
			}
		} else if (!kv[i].val[0]) {
			if (c->sess->target)
				add_target(c, &tb, c->sess->target);
		} else {
			struct scsi_target *t = scsi_target_find(c->srv->core, kv[i].val);

			if (t && (c->params.discovery || t == c->sess->target))
				add_target(c, &tb, t);
		}
	}
	free(store);
	if (tb.overflow) {
		iscsi_textbuf_free(&tb);
		iscsi_conn_reject(c, cmd->bhs, ISCSI_REJECT_OUT_OF_RESOURCES);
		iscsi_cmd_release(cmd);
		return;
	}
	c->text_pending = tb.buf;
	c->text_pending_len = tb.len;
	c->text_pending_off = 0;
	send_text_chunk(c, cmd->itt, h->lun);
	iscsi_cmd_release(cmd);
}
