/* SPDX-License-Identifier: MIT */
/*
 * Login phase (RFC 7143 section 6, 11.12, 11.13): stage transitions, C-bit
 * accumulation, identity checks, session creation and reinstatement.
 * Security stage: AuthMethod=None, or CHAP when the target (or discovery)
 * has credentials (iscsi_chap.c, RFC 7143 12.1.3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_chap.h"
#include "iscsi_conn.h"
#include "iscsi_netacl.h"
#include "targetd/util.h"

struct iscsi_login {
	struct iscsi_nego nego;
	bool started, checked;
	int stage; /* the CSG the next request must carry */
	uint8_t isid[6];
	uint16_t tsih, cid;
	uint32_t itt;
	uint8_t *acc; /* C-bit accumulation (6.2.1), bounded */
	size_t acc_len;
	struct scsi_target *target;
	struct iscsi_chap chap;
	bool chap_started; /* AuthMethod=CHAP answered in an earlier response */
};

void iscsi_login_free(struct iscsi_conn *c)
{
	if (!c->login)
		return;
	free(c->login->acc);
	iscsi_chap_clear(&c->login->chap);
	free(c->login);
	c->login = NULL;
}

static void login_respond(struct iscsi_conn *c, const uint8_t *req, uint16_t status, uint8_t flags,
			  struct iscsi_textbuf *tb)
{
	struct iscsi_login *L = c->login;
	struct iscsi_tx_pdu *p = iscsi_conn_pdu(c, ISCSI_OP_LOGIN_RSP);

	if (!p) {
		if (tb)
			iscsi_textbuf_free(tb);
		return;
	}
	p->bhs[1] = flags;
	p->bhs[2] = ISCSI_VERSION; /* 11.13.2 Version-max */
	p->bhs[3] = ISCSI_VERSION; /* 11.13.3 Version-active */
	memcpy(p->bhs + 8, req + 8, 6); /* ISID */
	put_be16(p->bhs + 14, L ? L->tsih : 0);
	memcpy(p->bhs + 16, req + 16, 4); /* ITT */
	p->bhs[36] = (uint8_t)(status >> 8);
	p->bhs[37] = (uint8_t)status;
	if (tb && tb->len) {
		p->owned = tb->buf;
		p->data = (const uint8_t *)tb->buf;
		p->data_len = (uint32_t)tb->len;
		tb->buf = NULL;
	} else if (tb) {
		iscsi_textbuf_free(tb);
	}
	iscsi_conn_send(c, p, true);
}

static enum iscsi_verdict login_fail(struct iscsi_conn *c, const uint8_t *req, uint16_t status)
{
	log_notice("iscsi", "%s: %s -> %s: login failed, status %02x/%02x", c->peer,
		   c->params.initiator_name[0] ? c->params.initiator_name : "-",
		   c->params.target_name[0] ? c->params.target_name : "-", status >> 8,
		   status & 0xff);
	/* 11.13.5: a non-zero status ends the login; close after sending */
	login_respond(c, req, status, 0, NULL);
	iscsi_conn_finish(c);
	return ISCSI_V_OK;
}

static struct iscsi_conn *find_session(struct iscsi_server *srv, uint16_t tsih)
{
	for (struct iscsi_conn *o = srv->conns; o; o = o->next)
		if (o->state == CONN_FFP && o->sess && o->sess->tsih == tsih)
			return o;
	return NULL;
}

/* Identity checks on the first complete request (13.4, 13.6, 13.21). */
static uint16_t login_identity(struct iscsi_conn *c, struct iscsi_login *L,
			       struct iscsi_textbuf *tb)
{
	struct iscsi_params *p = &c->params;
	struct iscsi_server *srv = c->srv;

	if (!p->initiator_name[0]) /* 13.6: MUST be sent on the first login */
		return ISCSI_LOGIN_STATUS_MISSING_PARAMETER;
	if (L->tsih) {
		/* 6.3.1: adding a connection to an existing session; we run
		 * MaxConnections=1 */
		if (!find_session(srv, L->tsih))
			return ISCSI_LOGIN_STATUS_NO_SESSION;
		return ISCSI_LOGIN_STATUS_TOO_MANY_CONNECTIONS;
	}
	if (p->discovery)
		return 0;
	if (!p->target_name[0]) /* 13.4: required for Normal sessions */
		return ISCSI_LOGIN_STATUS_MISSING_PARAMETER;
	L->target = scsi_target_find(srv->core, p->target_name);
	/* 11.13.5: 02/03 "not found" also when the target is not reachable
	 * through this portal group */
	if (!L->target || !scsi_target_has_port(L->target, c->portal->tpgt)) {
		log_notice("iscsi", "%s: %s -> %s: %s", c->peer, p->initiator_name, p->target_name,
			   L->target ? "target not exported on this portal group"
				     : "unknown target");
		return ISCSI_LOGIN_STATUS_NOT_FOUND;
	}
	if (!scsi_target_acl_allows(L->target, p->initiator_name)) {
		log_notice("iscsi", "%s: %s -> %s: initiator not in the target's ACL (allow=)",
			   c->peer, p->initiator_name, p->target_name);
		return ISCSI_LOGIN_STATUS_AUTHZ_FAILED;
	}
	if (!iscsi_netacl_allows(c, p->target_name)) {
		log_notice("iscsi", "%s: %s -> %s: source address not in the target's allow_net",
			   c->peer, p->initiator_name, p->target_name);
		return ISCSI_LOGIN_STATUS_AUTHZ_FAILED;
	}
	/* 13.9: TargetPortalGroupTag in the first response of a Normal login */
	iscsi_textbuf_add(tb, "TargetPortalGroupTag", "%u", c->portal->tpgt);
	return 0;
}

/* Who logs in to what was checked (ACL, CHAP) on the first request; a later
 * request may repeat InitiatorName, TargetName and SessionType but not
 * change them (RFC 7143 13.4, 13.6, 13.21: declared once, for the session). */
struct login_ident {
	char initiator[sizeof(((struct iscsi_params *)0)->initiator_name)];
	char target[sizeof(((struct iscsi_params *)0)->target_name)];
	bool discovery;
};

static void login_ident_save(struct login_ident *id, const struct iscsi_params *p)
{
	memcpy(id->initiator, p->initiator_name, sizeof(id->initiator));
	memcpy(id->target, p->target_name, sizeof(id->target));
	id->discovery = p->discovery;
}

static bool login_ident_changed(struct iscsi_conn *c, const struct login_ident *id)
{
	const struct iscsi_params *p = &c->params;

	if (!strcmp(id->initiator, p->initiator_name) && !strcmp(id->target, p->target_name) &&
	    id->discovery == p->discovery)
		return false;
	log_notice("iscsi",
		   "%s: %s -> %s: InitiatorName, TargetName or SessionType changed "
		   "after the first login request",
		   c->peer, id->initiator[0] ? id->initiator : "-",
		   id->target[0] ? id->target : "-");
	return true;
}

/* Before the first request's keys are negotiated: does this login need CHAP?
 * (SessionType and TargetName come in the first request, 13.4 / 13.21.) */
static void login_chap_prepare(struct iscsi_conn *c, struct iscsi_login *L,
			       const struct iscsi_kv *kv, size_t nkv)
{
	const char *target = NULL;
	bool discovery = false;

	for (size_t i = 0; i < nkv; i++) {
		if (!strcmp(kv[i].key, "SessionType"))
			discovery = !strcmp(kv[i].val, "Discovery");
		else if (!strcmp(kv[i].key, "TargetName"))
			target = kv[i].val;
	}
	L->nego.chap_required = iscsi_chap_lookup(c->srv, discovery, target, &L->chap.creds);
}

/* Security stage (RFC 7143 6.3.3, 12.1.3): run CHAP, and refuse to leave
 * the security stage (or to skip it) before CHAP succeeded. */
static uint16_t login_auth(struct iscsi_conn *c, struct iscsi_login *L, const struct iscsi_kv *kv,
			   size_t nkv, struct iscsi_textbuf *tb, int csg, bool *transit)
{
	enum iscsi_chap_state before = L->chap.state;
	bool progress;
	const char *ini = c->params.initiator_name, *tgt = c->params.target_name;
	char who[600];
	bool chap_keys = false;

	snprintf(who, sizeof(who), "%s: %s -> %s", c->peer, ini[0] ? ini : "-",
		 c->params.discovery ? "(discovery)" : (tgt[0] ? tgt : "-"));
	for (size_t i = 0; i < nkv; i++)
		chap_keys |= iscsi_chap_is_key(kv[i].key);
	if (L->nego.chap_chosen) {
		uint16_t st = (uint16_t)iscsi_chap_step(&L->chap, kv, nkv, tb, who);

		if (st)
			return st;
		progress = !L->chap_started || L->chap.state != before;
		L->chap_started = true;
		/* 6.3: a target that needs more exchanges in this stage answers
		 * with T=0, even if the initiator asked to transit */
		if (*transit && L->chap.state != ISCSI_CHAP_DONE && progress)
			*transit = false;
	} else if (chap_keys) {
		log_notice("iscsi", "%s: CHAP failure: CHAP keys without AuthMethod=CHAP", who);
		return ISCSI_LOGIN_STATUS_AUTH_FAILED;
	}
	if (!L->nego.chap_required || L->chap.state == ISCSI_CHAP_DONE)
		return 0;
	if (csg == ISCSI_LOGIN_STAGE_OPERATIONAL) {
		log_notice("iscsi", "%s: CHAP failure: CHAP required, security stage skipped", who);
		return ISCSI_LOGIN_STATUS_AUTH_FAILED;
	}
	if (*transit) {
		log_notice("iscsi", "%s: CHAP failure: CHAP required, %s", who,
			   L->nego.chap_chosen ? "security stage left before CHAP completed"
					       : "initiator did not offer AuthMethod=CHAP");
		return ISCSI_LOGIN_STATUS_AUTH_FAILED;
	}
	return 0;
}

static uint16_t new_tsih(struct iscsi_server *srv)
{
	for (;;) {
		uint16_t t = ++srv->next_tsih;

		if (t && !find_session(srv, t)) /* 11.12.6: unique, non-zero */
			return t;
	}
}

static uint16_t login_complete(struct iscsi_conn *c, struct iscsi_login *L)
{
	struct iscsi_server *srv = c->srv;
	struct iscsi_params *p = &c->params;
	struct iscsi_session *s = c->sess;
	unsigned count = 0;

	if (srv->shutting_down)
		return ISCSI_LOGIN_STATUS_SERVICE_UNAVAILABLE;
	if (!p->discovery) {
		for (struct iscsi_conn *o = srv->conns; o; o = o->next) {
			if (o == c || o->state != CONN_FFP || !o->sess || o->params.discovery ||
			    o->sess->target != L->target)
				continue;
			/* 6.3.5: same initiator port (name + ISID) on the same target
			 * portal group: session reinstatement, the old session goes
			 * first. The session identifier is (ISID, TPGT) (4.4.3), so the
			 * same initiator port may hold one session per portal group. */
			if (!strcmp(o->params.initiator_name, p->initiator_name) &&
			    !memcmp(o->sess->isid, L->isid, 6) &&
			    o->sess->tpgt == c->portal->tpgt) {
				iscsi_conn_close(o, "session reinstatement");
				continue;
			}
			count++;
		}
		if (count >= srv->s.max_sessions_per_target)
			return ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES;
		s->nexus = scsi_nexus_get(L->target, p->initiator_name, L->isid, c->portal->tpgt);
		if (!s->nexus)
			return ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES;
		scsi_nexus_set_abort_hook(s->nexus, iscsi_tmf_abort_unsubmitted, c);
		s->target = L->target;
	}
	if (p->max_outstanding_r2t > ISCSI_R2T_MAX)
		p->max_outstanding_r2t = ISCSI_R2T_MAX;
	memcpy(s->isid, L->isid, 6);
	s->tpgt = c->portal->tpgt;
	s->tsih = L->tsih = new_tsih(srv);
	c->cid = L->cid;
	log_notice("iscsi", "%s: %s isid %02x%02x%02x%02x%02x%02x -> %s: logged in, tsih %u%s",
		   c->peer, p->initiator_name, L->isid[0], L->isid[1], L->isid[2], L->isid[3],
		   L->isid[4], L->isid[5], p->discovery ? "(discovery)" : p->target_name, s->tsih,
		   p->header_digest || p->data_digest ? ", digests" : "");
	return 0;
}

enum iscsi_verdict iscsi_login_rx(struct iscsi_conn *c, const uint8_t *bhs, const uint8_t *data,
				  uint32_t dsl)
{
	struct iscsi_login *L = c->login;
	uint8_t flags = bhs[1];
	bool transit = flags & ISCSI_LOGIN_FLAG_TRANSIT;
	bool cont = flags & ISCSI_LOGIN_FLAG_CONTINUE;
	int csg = ISCSI_LOGIN_CSG(flags), nsg = ISCSI_LOGIN_NSG(flags);
	struct iscsi_kv kv[ISCSI_KEYS_MAX];
	struct iscsi_textbuf tb;
	struct login_ident ident;
	bool checked;
	size_t nkv;
	char *store;
	uint16_t st;
	uint8_t rflags;

	if (!L) {
		L = c->login = calloc(1, sizeof(*L));
		c->sess = c->sess ? c->sess : calloc(1, sizeof(*c->sess));
		if (!L || !c->sess)
			return ISCSI_V_CLOSE;
		iscsi_nego_init(&L->nego, &c->params, &c->srv->s);
	}
	if (!L->started) {
		L->started = true;
		memcpy(L->isid, bhs + 8, 6);
		L->tsih = get_be16(bhs + 14);
		L->itt = get_be32(bhs + 16);
		L->cid = get_be16(bhs + 20);
		L->stage = csg;
		/* 11.12.7/11.12.8: the first response's StatSN follows the
		 * initiator's ExpStatSN; CmdSN is not advanced during login */
		c->stat_sn = get_be32(bhs + 28);
		c->sess->exp_cmdsn = get_be32(bhs + 24);
		c->sess->max_cmdsn = c->sess->exp_cmdsn + c->srv->s.cmdsn_window - 1;
		L->nego.leading = L->tsih == 0;
		/* 11.12.4: Version-min above what we speak */
		if (bhs[3] > ISCSI_VERSION)
			return login_fail(c, bhs, ISCSI_LOGIN_STATUS_UNSUPPORTED_VERSION);
	} else if (memcmp(L->isid, bhs + 8, 6) || L->tsih != get_be16(bhs + 14)) {
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	}
	/* 6.3 / 11.12.3: stage checks. CSG must be the stage we are in (security
	 * or operational); T needs a later NSG that is not the reserved 2;
	 * T and C together are a protocol error (11.12.2). */
	if (csg != L->stage ||
	    (csg != ISCSI_LOGIN_STAGE_SECURITY && csg != ISCSI_LOGIN_STAGE_OPERATIONAL))
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	if (transit && (cont || nsg == 2 || nsg <= csg))
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	if (L->acc_len + dsl > ISCSI_TEXT_MAX)
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	if (dsl) {
		uint8_t *n = realloc(L->acc, L->acc_len + dsl);

		if (!n)
			return login_fail(c, bhs, ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES);
		memcpy(n + L->acc_len, data, dsl);
		L->acc = n;
		L->acc_len += dsl;
	}
	if (cont) {
		/* 6.2.1: more text follows; answer with an empty response */
		login_respond(c, bhs, 0, (uint8_t)(csg << 2), NULL);
		return ISCSI_V_OK;
	}
	switch (iscsi_kv_parse(L->acc, L->acc_len, kv, ARRAY_SIZE(kv), &nkv, &store)) {
	case 0:
		for (size_t i = 0; i < nkv; i++)
			log_debug("login", "%s: key %s=%s", c->peer, kv[i].key, kv[i].val);
		break;
	case -ENOMEM:
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES);
	default:
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	}
	free(L->acc);
	L->acc = NULL;
	L->acc_len = 0;
	if (iscsi_textbuf_init(&tb, ISCSI_LOGIN_DSL_MAX)) {
		free(store);
		return login_fail(c, bhs, ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES);
	}
	L->nego.stage = csg;
	checked = L->checked;
	if (!checked)
		login_chap_prepare(c, L, kv, nkv);
	else
		login_ident_save(&ident, &c->params);
	st = (uint16_t)iscsi_nego_process(&L->nego, kv, nkv, &tb);
	if (!st && checked && login_ident_changed(c, &ident))
		st = ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
	if (!st && !L->checked) {
		L->checked = true;
		st = login_identity(c, L, &tb);
	}
	if (!st)
		st = login_auth(c, L, kv, nkv, &tb, csg, &transit);
	free(store);
	/* 6.3.3 / 12: leaving the security stage needs an agreed AuthMethod */
	if (!st && transit && csg == ISCSI_LOGIN_STAGE_SECURITY && L->nego.auth_rejected)
		st = ISCSI_LOGIN_STATUS_AUTH_FAILED;
	if (!st)
		iscsi_nego_declare(&L->nego, &tb);
	if (!st && tb.overflow)
		st = ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
	if (st) {
		iscsi_textbuf_free(&tb);
		return login_fail(c, bhs, st);
	}
	rflags = (uint8_t)(csg << 2);
	if (transit) {
		rflags |= ISCSI_LOGIN_FLAG_TRANSIT | (uint8_t)nsg;
		L->stage = nsg;
		if (nsg == ISCSI_LOGIN_STAGE_FFP) {
			st = login_complete(c, L);
			if (st) {
				iscsi_textbuf_free(&tb);
				return login_fail(c, bhs, st);
			}
		}
	}
	login_respond(c, bhs, 0, rflags, &tb);
	if (transit && nsg == ISCSI_LOGIN_STAGE_FFP) {
		iscsi_login_free(c);
		iscsi_conn_enter_ffp(c);
	}
	return ISCSI_V_OK;
}
