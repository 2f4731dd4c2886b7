/* SPDX-License-Identifier: MIT */
/*
 * fuzz_keys: iSCSI login/text key parsing and negotiation (RFC 7143 6.1, 6.2,
 * section 13) as iscsi_login.c and iscsi_text.c drive it: iscsi_kv_parse on
 * the raw data segment, then iscsi_nego_process / iscsi_nego_declare into a
 * bounded reply.
 *
 * Input: byte 0 selects the start stage (bit 0: operational), a non-leading
 * connection (bit 1), a small reply buffer (bit 2, the 6.2 / 13.12 login
 * default of 8192 otherwise) and non-default target settings (bit 3). The
 * rest is up to four request payloads separated by the two bytes FE FE, each
 * one a complete login request of the same negotiation (duplicates across
 * requests are the 6.1 "negotiated twice" case).
 *
 * Checks (abort = finding): reply never longer than its cap; without overflow
 * every reply entry is "key=value\0" with a key of at most 63 bytes (6.1); the
 * negotiated values stay in their section 13 ranges: MaxRecvDataSegmentLength
 * 512..2^24-1 (13.12), MaxBurstLength 512..2^24-1 (13.13), FirstBurstLength
 * 512..MaxBurstLength (13.14), MaxOutstandingR2T >= 1 (13.17), ERL 0 (13.20).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "iscsi_keys.h"
#include "targetd/iscsi.h"
#include "targetd/wire/iscsi_pdu.h"

#define SEP "\xfe\xfe"

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_keys: invariant broken: %s\n", what);
		abort();
	}
}

static void check_reply(const struct iscsi_textbuf *tb)
{
	check(tb->len <= tb->cap, "reply longer than its buffer");
	if (tb->overflow)
		return;
	for (size_t off = 0; off < tb->len;) {
		const char *e = tb->buf + off;
		const char *nul = memchr(e, '\0', tb->len - off);
		const char *eq;

		check(nul != NULL, "reply entry without NUL terminator (RFC 7143 6.1)");
		eq = memchr(e, '=', (size_t)(nul - e));
		check(eq != NULL && eq != e, "reply entry without key=");
		check((size_t)(eq - e) <= ISCSI_KEY_NAME_MAX, "reply key over 63 bytes (6.1)");
		off += (size_t)(nul - e) + 1;
	}
}

static void check_params(const struct iscsi_params *p)
{
	check(p->max_recv_dsl_initiator >= 512 && p->max_recv_dsl_initiator <= ISCSI_DSL_MAX,
	      "MaxRecvDataSegmentLength out of 512..2^24-1 (13.12)");
	check(p->max_burst >= 512 && p->max_burst <= ISCSI_DSL_MAX,
	      "MaxBurstLength out of 512..2^24-1 (13.13)");
	check(p->first_burst >= 512 && p->first_burst <= p->max_burst,
	      "FirstBurstLength out of 512..MaxBurstLength (13.14)");
	check(p->max_outstanding_r2t >= 1, "MaxOutstandingR2T 0 (13.17)");
	check(p->error_recovery_level == 0, "ErrorRecoveryLevel above what we offer (13.20)");
	check(memchr(p->initiator_name, '\0', sizeof(p->initiator_name)) != NULL,
	      "InitiatorName not terminated");
	check(memchr(p->target_name, '\0', sizeof(p->target_name)) != NULL,
	      "TargetName not terminated");
	check(memchr(p->initiator_alias, '\0', sizeof(p->initiator_alias)) != NULL,
	      "InitiatorAlias not terminated");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_settings s = {0};
	struct iscsi_params p;
	struct iscsi_nego n;
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	if (ctl & 8) {
		s.max_recv_data_segment_length = 512;
		s.first_burst_length = 512;
		s.max_burst_length = 16777215;
		s.max_outstanding_r2t = 8;
	}
	iscsi_settings_defaults(&s);
	if (ctl & 8) { /* booleans: set after the defaults (iscsi.h) */
		s.immediate_data = false;
		s.initial_r2t = false;
		s.allow_digests = false;
	}
	iscsi_params_init(&p, &s);
	iscsi_nego_init(&n, &p, &s);
	n.leading = !(ctl & 2);
	n.stage = ctl & 1 ? ISCSI_LOGIN_STAGE_OPERATIONAL : ISCSI_LOGIN_STAGE_SECURITY;

	for (int req = 0; req < 4 && size; req++) {
		const uint8_t *sep = memmem(data, size, SEP, 2);
		size_t len = sep ? (size_t)(sep - data) : size;
		struct iscsi_kv kv[ISCSI_KEYS_MAX];
		struct iscsi_textbuf tb;
		char *store = NULL;
		size_t nkv = 0;
		int r, st = 0;

		r = iscsi_kv_parse(data, len, kv, ISCSI_KEYS_MAX, &nkv, &store);
		check(r == 0 || r == -EPROTO || r == -E2BIG || r == -ENOMEM, "kv_parse result");
		if (r == 0) {
			check(nkv <= ISCSI_KEYS_MAX, "more keys than max");
			for (size_t i = 0; i < nkv; i++) {
				size_t kl = strlen(kv[i].key);

				check(kl >= 1 && kl <= ISCSI_KEY_NAME_MAX,
				      "parsed key length (6.1)");
				check(strlen(kv[i].val) <= ISCSI_KEY_VALUE_MAX,
				      "value length (6.1)");
			}
			if (iscsi_textbuf_init(&tb, ctl & 4 ? 64 : ISCSI_LOGIN_DSL_MAX) == 0) {
				st = iscsi_nego_process(&n, kv, nkv, &tb);

				check(st >= 0 && st <= 0x03ff,
				      "login status class/detail (11.13.5)");
				if (!st)
					iscsi_nego_declare(&n, &tb);
				check_reply(&tb);
				iscsi_textbuf_free(&tb);
			}
		}
		free(store);
		/* a failed request ends the login (iscsi_login.c login_fail): the
		 * half-negotiated values are never used */
		if (r || st)
			break;
		check_params(&p);
		if (!sep)
			break;
		data = sep + 2;
		size -= len + 2;
		n.stage = ISCSI_LOGIN_STAGE_OPERATIONAL; /* the next request of the login */
	}
	return 0;
}
