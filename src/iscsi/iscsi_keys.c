/* SPDX-License-Identifier: MIT */
/* iSCSI text keys: parsing, bounded replies and the RFC 7143 section 13 table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_keys.h"
#include "targetd/util.h"
#include "targetd/wire/iscsi_pdu.h"

int iscsi_kv_parse(const uint8_t *buf, size_t len, struct iscsi_kv *out, size_t max, size_t *n,
		   char **store)
{
	char *s, *p, *end;
	size_t cnt = 0;

	*n = 0;
	*store = NULL;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	if (len)
		memcpy(s, buf, len);
	s[len] = '\0'; /* the payload's own NULs are never trusted to exist */
	end = s + len;
	for (p = s; p < end;) {
		size_t l = strlen(p);
		char *eq;

		if (l == 0) { /* padding / stray NUL */
			p++;
			continue;
		}
		eq = memchr(p, '=', l);
		if (!eq || eq == p || (size_t)(eq - p) > ISCSI_KEY_NAME_MAX ||
		    l - (size_t)(eq - p) - 1 > ISCSI_KEY_VALUE_MAX) {
			free(s);
			return -EPROTO;
		}
		if (cnt == max) {
			free(s);
			return -E2BIG;
		}
		*eq = '\0';
		out[cnt].key = p;
		out[cnt].val = eq + 1;
		cnt++;
		p += l + 1;
	}
	*n = cnt;
	*store = s;
	return 0;
}

int iscsi_textbuf_init(struct iscsi_textbuf *tb, size_t cap)
{
	tb->buf = malloc(cap ? cap : 1);
	tb->len = 0;
	tb->cap = cap;
	tb->overflow = false;
	return tb->buf ? 0 : -ENOMEM;
}

void iscsi_textbuf_free(struct iscsi_textbuf *tb)
{
	free(tb->buf);
	tb->buf = NULL;
	tb->len = tb->cap = 0;
}

void iscsi_textbuf_add(struct iscsi_textbuf *tb, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int k, v;

	if (tb->overflow)
		return;
	room = tb->cap - tb->len;
	k = snprintf(tb->buf + tb->len, room, "%s=", key);
	if (k < 0 || (size_t)k >= room) {
		tb->overflow = true;
		return;
	}
	va_start(ap, fmt);
	v = vsnprintf(tb->buf + tb->len + k, room - (size_t)k, fmt, ap);
	va_end(ap);
	if (v < 0 || (size_t)k + (size_t)v + 1 > room) { /* +1: the NUL separator */
		tb->overflow = true;
		return;
	}
	tb->len += (size_t)k + (size_t)v + 1;
}

void iscsi_params_init(struct iscsi_params *p, const struct iscsi_settings *s)
{
	memset(p, 0, sizeof(*p));
	/* RFC 7143 section 13 defaults: they hold unless negotiated. */
	p->max_recv_dsl_initiator = 8192; /* 13.12 */
	p->max_recv_dsl_target = s->max_recv_data_segment_length;
	p->max_burst = 262144; /* 13.13 */
	p->first_burst = 65536; /* 13.14 */
	p->max_outstanding_r2t = 1; /* 13.17 */
	p->initial_r2t = true; /* 13.10 */
	p->immediate_data = true; /* 13.11 */
	p->data_pdu_in_order = true; /* 13.18 */
	p->data_sequence_in_order = true; /* 13.19 */
	p->default_time2wait = 2; /* 13.15 */
	p->default_time2retain = 20; /* 13.16 */
	p->error_recovery_level = 0; /* 13.20 */
	p->max_connections = 1; /* 13.2 */
}

void iscsi_nego_init(struct iscsi_nego *n, struct iscsi_params *p, const struct iscsi_settings *s)
{
	memset(n, 0, sizeof(*n));
	n->p = p;
	n->s = s;
	n->leading = true;
}

/* ---- value parsers (6.1) -------------------------------------------------- */

static bool parse_num(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return false;
	errno = 0;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		x = strtoull(v + 2, &end, 16);
	else
		x = strtoull(v, &end, 10);
	if (errno || *end || end == v)
		return false;
	*out = x;
	return true;
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "Yes"))
		return 1;
	if (!strcmp(v, "No"))
		return 0;
	return -1;
}

/* Is `item` in the comma separated list v? */
static bool list_has(const char *v, const char *item)
{
	size_t l = strlen(item);

	for (const char *p = v; *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n == l && !memcmp(p, item, l))
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

/* ---- the table ------------------------------------------------------------ */

enum key_kind {
	K_DIGEST, /* list: CRC32C,None (13.1) */
	K_AUTH, /* list: AuthMethod (13.x / 12) */
	K_BOOL_OR, /* result Yes if either says Yes (6.2.2) */
	K_BOOL_AND, /* result Yes only if both say Yes */
	K_NUM_MIN, /* numerical, result is the minimum */
	K_NUM_MAX, /* numerical, result is the maximum */
	K_MRDSL, /* declarative (13.12) */
	K_DECL, /* declarative string from the initiator: no answer */
	K_TARGET_ONLY, /* only the target declares these: Reject from an initiator */
	K_IRRELEVANT, /* markers' intervals: Irrelevant since markers are No */
	K_FFP_ONLY, /* SendTargets: Reject during login */
	K_TASKREP, /* TaskReporting (13.23): we answer RFC3720 */
};

enum key_id {
	KEY_HEADER_DIGEST,
	KEY_DATA_DIGEST,
	KEY_AUTH_METHOD,
	KEY_MAX_CONNECTIONS,
	KEY_INITIAL_R2T,
	KEY_IMMEDIATE_DATA,
	KEY_MRDSL,
	KEY_MAX_BURST,
	KEY_FIRST_BURST,
	KEY_TIME2WAIT,
	KEY_TIME2RETAIN,
	KEY_MAX_OUTSTANDING_R2T,
	KEY_DATA_PDU_IN_ORDER,
	KEY_DATA_SEQ_IN_ORDER,
	KEY_ERL,
	KEY_IFMARKER,
	KEY_OFMARKER,
	KEY_IFMARKINT,
	KEY_OFMARKINT,
	KEY_INITIATOR_NAME,
	KEY_INITIATOR_ALIAS,
	KEY_TARGET_NAME,
	KEY_SESSION_TYPE,
	KEY_TARGET_ALIAS,
	KEY_TARGET_ADDRESS,
	KEY_TPGT,
	KEY_SEND_TARGETS,
	KEY_TASK_REPORTING,
};

struct key_def {
	const char *name;
	enum key_id id;
	enum key_kind kind;
	uint64_t min, max; /* numerical range (13.x) */
	bool irrelevant_in_discovery; /* 13.x "Irrelevant when: SessionType=Discovery" */
	bool leading_only; /* LO keys (only on the leading connection) */
};

static const struct key_def key_table[] = {
    {"HeaderDigest", KEY_HEADER_DIGEST, K_DIGEST, 0, 0, false, false},
    {"DataDigest", KEY_DATA_DIGEST, K_DIGEST, 0, 0, false, false},
    {"AuthMethod", KEY_AUTH_METHOD, K_AUTH, 0, 0, false, false},
    {"MaxConnections", KEY_MAX_CONNECTIONS, K_NUM_MIN, 1, 65535, true, true},
    {"InitialR2T", KEY_INITIAL_R2T, K_BOOL_OR, 0, 0, true, true},
    {"ImmediateData", KEY_IMMEDIATE_DATA, K_BOOL_AND, 0, 0, true, true},
    {"MaxRecvDataSegmentLength", KEY_MRDSL, K_MRDSL, 512, ISCSI_DSL_MAX, false, false},
    {"MaxBurstLength", KEY_MAX_BURST, K_NUM_MIN, 512, ISCSI_DSL_MAX, true, true},
    {"FirstBurstLength", KEY_FIRST_BURST, K_NUM_MIN, 512, ISCSI_DSL_MAX, true, true},
    {"DefaultTime2Wait", KEY_TIME2WAIT, K_NUM_MAX, 0, 3600, false, true},
    {"DefaultTime2Retain", KEY_TIME2RETAIN, K_NUM_MIN, 0, 3600, false, true},
    {"MaxOutstandingR2T", KEY_MAX_OUTSTANDING_R2T, K_NUM_MIN, 1, 65535, true, true},
    {"DataPDUInOrder", KEY_DATA_PDU_IN_ORDER, K_BOOL_OR, 0, 0, true, true},
    {"DataSequenceInOrder", KEY_DATA_SEQ_IN_ORDER, K_BOOL_OR, 0, 0, true, true},
    {"ErrorRecoveryLevel", KEY_ERL, K_NUM_MIN, 0, 2, false, true},
    {"IFMarker", KEY_IFMARKER, K_BOOL_AND, 0, 0, false, false},
    {"OFMarker", KEY_OFMARKER, K_BOOL_AND, 0, 0, false, false},
    {"IFMarkInt", KEY_IFMARKINT, K_IRRELEVANT, 0, 0, false, false},
    {"OFMarkInt", KEY_OFMARKINT, K_IRRELEVANT, 0, 0, false, false},
    {"InitiatorName", KEY_INITIATOR_NAME, K_DECL, 0, 0, false, false},
    {"InitiatorAlias", KEY_INITIATOR_ALIAS, K_DECL, 0, 0, false, false},
    {"TargetName", KEY_TARGET_NAME, K_DECL, 0, 0, false, false},
    {"SessionType", KEY_SESSION_TYPE, K_DECL, 0, 0, false, true},
    {"TargetAlias", KEY_TARGET_ALIAS, K_TARGET_ONLY, 0, 0, false, false},
    {"TargetAddress", KEY_TARGET_ADDRESS, K_TARGET_ONLY, 0, 0, false, false},
    {"TargetPortalGroupTag", KEY_TPGT, K_TARGET_ONLY, 0, 0, false, false},
    {"SendTargets", KEY_SEND_TARGETS, K_FFP_ONLY, 0, 0, false, false},
    {"TaskReporting", KEY_TASK_REPORTING, K_TASKREP, 0, 0, false, true},
};
_Static_assert(ARRAY_SIZE(key_table) <= 64, "seen bitmask");

static const struct key_def *key_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_table); i++)
		if (!strcmp(key_table[i].name, name))
			return &key_table[i];
	return NULL;
}

/* Our offer for numerical/boolean keys. */
static uint64_t our_num(const struct iscsi_nego *n, enum key_id id)
{
	const struct iscsi_settings *s = n->s;

	switch (id) {
	case KEY_MAX_CONNECTIONS:
		return 1; /* one connection per session */
	case KEY_MAX_BURST:
		return s->max_burst_length;
	case KEY_FIRST_BURST:
		return s->first_burst_length;
	case KEY_TIME2WAIT:
		return 2;
	case KEY_TIME2RETAIN:
		return 0; /* ERL 0: nothing to retain */
	case KEY_MAX_OUTSTANDING_R2T:
		return s->max_outstanding_r2t;
	case KEY_ERL:
		return 0; /* we offer ErrorRecoveryLevel 0 */
	case KEY_INITIAL_R2T:
		return s->initial_r2t;
	case KEY_IMMEDIATE_DATA:
		return s->immediate_data;
	case KEY_DATA_PDU_IN_ORDER:
	case KEY_DATA_SEQ_IN_ORDER:
		return 1; /* we require in-order data */
	case KEY_IFMARKER:
	case KEY_OFMARKER:
		return 0; /* markers not supported */
	case KEY_HEADER_DIGEST:
	case KEY_DATA_DIGEST:
	case KEY_AUTH_METHOD:
	case KEY_MRDSL:
	case KEY_IFMARKINT:
	case KEY_OFMARKINT:
	case KEY_INITIATOR_NAME:
	case KEY_INITIATOR_ALIAS:
	case KEY_TARGET_NAME:
	case KEY_SESSION_TYPE:
	case KEY_TARGET_ALIAS:
	case KEY_TARGET_ADDRESS:
	case KEY_TPGT:
	case KEY_SEND_TARGETS:
	case KEY_TASK_REPORTING:
		break;
	}
	return 0;
}

static void store_result(struct iscsi_params *p, enum key_id id, uint64_t v)
{
	switch (id) {
	case KEY_MAX_CONNECTIONS:
		p->max_connections = (uint32_t)v;
		break;
	case KEY_MAX_BURST:
		p->max_burst = (uint32_t)v;
		break;
	case KEY_FIRST_BURST:
		p->first_burst = (uint32_t)v;
		break;
	case KEY_TIME2WAIT:
		p->default_time2wait = (uint32_t)v;
		break;
	case KEY_TIME2RETAIN:
		p->default_time2retain = (uint32_t)v;
		break;
	case KEY_MAX_OUTSTANDING_R2T:
		p->max_outstanding_r2t = (uint32_t)v;
		break;
	case KEY_ERL:
		p->error_recovery_level = (uint32_t)v;
		break;
	case KEY_INITIAL_R2T:
		p->initial_r2t = v;
		break;
	case KEY_IMMEDIATE_DATA:
		p->immediate_data = v;
		break;
	case KEY_DATA_PDU_IN_ORDER:
		p->data_pdu_in_order = v;
		break;
	case KEY_DATA_SEQ_IN_ORDER:
		p->data_sequence_in_order = v;
		break;
	case KEY_MRDSL:
		p->max_recv_dsl_initiator = (uint32_t)v;
		break;
	case KEY_HEADER_DIGEST:
		p->header_digest = v;
		break;
	case KEY_DATA_DIGEST:
		p->data_digest = v;
		break;
	case KEY_IFMARKER:
	case KEY_OFMARKER:
	case KEY_AUTH_METHOD:
	case KEY_IFMARKINT:
	case KEY_OFMARKINT:
	case KEY_INITIATOR_NAME:
	case KEY_INITIATOR_ALIAS:
	case KEY_TARGET_NAME:
	case KEY_SESSION_TYPE:
	case KEY_TARGET_ALIAS:
	case KEY_TARGET_ADDRESS:
	case KEY_TPGT:
	case KEY_SEND_TARGETS:
	case KEY_TASK_REPORTING:
		break;
	}
}

/* iSCSI names (RFC 7143 4.2.7.1/4.2.7.2, RFC 3722) never contain spaces or
 * control characters. Refusing them here keeps every name that reaches a
 * persistent-reservation registration storable in the APTPL file, whose
 * loader (like the TransportID parser, pr_tid.c) rejects them. */
static int copy_name(char *dst, size_t cap, const char *v)
{
	if (!*v || strlen(v) >= cap)
		return ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c <= 0x20 || *c == 0x7f)
			return ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
	util_strlcpy(dst, v, cap);
	return 0;
}

static int nego_decl(struct iscsi_nego *n, const struct key_def *d, const char *v)
{
	struct iscsi_params *p = n->p;

	if (d->id == KEY_INITIATOR_NAME)
		return copy_name(p->initiator_name, sizeof(p->initiator_name), v);
	if (d->id == KEY_TARGET_NAME)
		return copy_name(p->target_name, sizeof(p->target_name), v);
	if (d->id == KEY_INITIATOR_ALIAS) {
		util_strlcpy(p->initiator_alias, v, sizeof(p->initiator_alias));
		return 0;
	}
	if (d->id == KEY_SESSION_TYPE) { /* 13.21 */
		if (!strcmp(v, "Discovery"))
			p->discovery = true;
		else if (!strcmp(v, "Normal"))
			p->discovery = false;
		else
			return ISCSI_LOGIN_STATUS_SESSION_TYPE;
		n->session_type_seen = true;
	}
	return 0;
}

static void nego_one(struct iscsi_nego *n, const struct key_def *d, const char *v,
		     struct iscsi_textbuf *r)
{
	struct iscsi_params *p = n->p;
	uint64_t x, ours;
	int b;

	if (d->irrelevant_in_discovery && p->discovery) {
		iscsi_textbuf_add(r, d->name, "Irrelevant"); /* 6.2.1 */
		return;
	}
	if (d->leading_only && !n->leading) {
		iscsi_textbuf_add(r, d->name, "Reject");
		return;
	}
	switch (d->kind) {
	case K_DIGEST: {
		/* 13.1: pick the first value in the initiator's list we accept;
		 * discovery sessions never get a digest unless it's the only choice */
		bool crc_ok = n->s->allow_digests && !p->discovery;
		const char *pick = NULL;

		for (const char *q = v; *q && !pick;) {
			const char *c = strchr(q, ',');
			size_t l = c ? (size_t)(c - q) : strlen(q);

			if (l == 4 && !memcmp(q, "None", 4))
				pick = "None";
			else if (l == 6 && !memcmp(q, "CRC32C", 6) && crc_ok)
				pick = "CRC32C";
			q = c ? c + 1 : q + l;
		}
		if (!pick && p->discovery && list_has(v, "CRC32C") && n->s->allow_digests)
			pick = "CRC32C";
		if (!pick) {
			iscsi_textbuf_add(r, d->name, "Reject");
			return;
		}
		store_result(p, d->id, !strcmp(pick, "CRC32C"));
		iscsi_textbuf_add(r, d->name, "%s", pick);
		return;
	}
	case K_AUTH:
		/* RFC 7143 12.1 / 13.x AuthMethod: a target that requires CHAP
		 * offers only CHAP; otherwise only None. */
		if (n->stage != ISCSI_LOGIN_STAGE_SECURITY) {
			iscsi_textbuf_add(r, d->name, "Irrelevant");
			return;
		}
		if (n->chap_required) {
			if (list_has(v, "CHAP")) {
				n->chap_chosen = true;
				iscsi_textbuf_add(r, d->name, "CHAP");
			} else {
				n->auth_rejected = true;
				iscsi_textbuf_add(r, d->name, "Reject");
			}
		} else if (list_has(v, "None")) {
			n->auth_done = true;
			iscsi_textbuf_add(r, d->name, "None");
		} else {
			n->auth_rejected = true;
			iscsi_textbuf_add(r, d->name, "Reject");
		}
		return;
	case K_BOOL_OR:
	case K_BOOL_AND:
		b = parse_bool(v);
		if (b < 0) {
			iscsi_textbuf_add(r, d->name, "Reject");
			return;
		}
		ours = our_num(n, d->id);
		x = d->kind == K_BOOL_OR ? ((uint64_t)b | ours) : ((uint64_t)b & ours);
		store_result(p, d->id, x);
		iscsi_textbuf_add(r, d->name, "%s", x ? "Yes" : "No");
		return;
	case K_NUM_MIN:
	case K_NUM_MAX:
		if (!parse_num(v, &x) || x < d->min || x > d->max) {
			iscsi_textbuf_add(r, d->name, "Reject");
			return;
		}
		ours = our_num(n, d->id);
		x = d->kind == K_NUM_MIN ? UTIL_MIN(x, ours) : UTIL_MAX(x, ours);
		store_result(p, d->id, x);
		iscsi_textbuf_add(r, d->name, "%llu", (unsigned long long)x);
		return;
	case K_MRDSL:
		if (!parse_num(v, &x) || x < d->min || x > d->max) {
			iscsi_textbuf_add(r, d->name, "Reject");
			return;
		}
		store_result(p, d->id, x);
		if (!n->declared_mrdsl) {
			iscsi_textbuf_add(r, d->name, "%u", p->max_recv_dsl_target);
			n->declared_mrdsl = true;
		}
		return;
	case K_TARGET_ONLY:
	case K_FFP_ONLY:
		iscsi_textbuf_add(r, d->name, "Reject");
		return;
	case K_IRRELEVANT:
		iscsi_textbuf_add(r, d->name, "Irrelevant");
		return;
	case K_TASKREP:
		iscsi_textbuf_add(r, d->name, "RFC3720");
		return;
	case K_DECL:
		return;
	}
}

static int nego_process(struct iscsi_nego *n, const struct iscsi_kv *kv, size_t nkv,
			struct iscsi_textbuf *reply)
{
	int st;

	/* SessionType first: it decides what is Irrelevant (13.21). */
	for (size_t i = 0; i < nkv; i++) {
		if (strcmp(kv[i].key, "SessionType"))
			continue;
		if (n->session_type_seen || !n->leading)
			return ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
		st = nego_decl(n, key_find("SessionType"), kv[i].val);
		if (st)
			return st;
	}
	for (size_t i = 0; i < nkv; i++) {
		const struct key_def *d = key_find(kv[i].key);

		if (!d && !strncmp(kv[i].key, "CHAP_", 5))
			continue; /* 12.1.3: the CHAP exchange (iscsi_chap.c) */
		if (!d) {
			/* 6.2.1: unknown and X- / X# extension keys */
			iscsi_textbuf_add(reply, kv[i].key, "NotUnderstood");
			continue;
		}
		if (d->id == KEY_SESSION_TYPE)
			continue;
		if (d->kind == K_DECL) {
			st = nego_decl(n, d, kv[i].val);
			if (st)
				return st;
			continue;
		}
		/* 6.1: a key negotiated twice in one login is an initiator error */
		if (n->seen & (1ull << (d - key_table)))
			return ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
		n->seen |= 1ull << (d - key_table);
		nego_one(n, d, kv[i].val, reply);
	}
	if (reply->overflow) /* bounded reply: reject rather than grow */
		return ISCSI_LOGIN_STATUS_INITIATOR_ERROR;
	return 0;
}

int iscsi_nego_process(struct iscsi_nego *n, const struct iscsi_kv *kv, size_t nkv,
		       struct iscsi_textbuf *reply)
{
	int st = nego_process(n, kv, nkv, reply);

	/* 13.14: FirstBurstLength never exceeds MaxBurstLength, whatever order
	 * the keys came in and even when the request failed half way */
	if (n->p->first_burst > n->p->max_burst)
		n->p->first_burst = n->p->max_burst;
	return st;
}

void iscsi_nego_declare(struct iscsi_nego *n, struct iscsi_textbuf *reply)
{
	/* 13.12: MaxRecvDataSegmentLength is declarative; tell the initiator ours
	 * in the operational stage even if it did not declare its own. */
	if (!n->declared_mrdsl && n->stage == ISCSI_LOGIN_STAGE_OPERATIONAL) {
		iscsi_textbuf_add(reply, "MaxRecvDataSegmentLength", "%u",
				  n->p->max_recv_dsl_target);
		n->declared_mrdsl = true;
	}
}
