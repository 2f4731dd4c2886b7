/* SPDX-License-Identifier: MIT */
/*
 * fuzz_chap: the CHAP exchange (RFC 7143 12.1.3) on hostile key values:
 * iscsi_kv_parse on the payload, then iscsi_chap_step with configured
 * one-way + mutual credentials, from the state byte 0 selects (waiting for
 * CHAP_A, or challenge sent with a known algorithm), plus iscsi_chap_decode
 * of every value into a small buffer.
 *
 * Checks (abort = finding): decode never reports more than its cap; a step
 * answers 0 or 02/01 only; the reply stays inside its bound and is made of
 * "key=value\0" entries; after a failed step the state does not advance to
 * done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_chap.h"
#include "iscsi_keys.h"
#include "targetd/util.h"
#include "targetd/wire/iscsi_pdu.h"

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_chap: invariant broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_kv kv[ISCSI_KEYS_MAX];
	struct iscsi_textbuf tb;
	struct iscsi_chap ch = {0};
	char *store = NULL;
	size_t nkv;
	int r;

	if (!size)
		return 0;
	if (iscsi_kv_parse(data + 1, size - 1, kv, ARRAY_SIZE(kv), &nkv, &store))
		return 0;
	for (size_t i = 0; i < nkv; i++) {
		uint8_t buf[20];
		size_t len = 0;

		if (!iscsi_chap_decode(kv[i].val, buf, sizeof(buf), &len))
			check(len <= sizeof(buf), "decoded more than the cap");
	}
	strcpy(ch.creds.user, "alice");
	memcpy(ch.creds.secret, "alice-secret-1", 14);
	ch.creds.secret_len = 14;
	if (data[0] & 1) {
		strcpy(ch.creds.mutual_user, "tgt");
		memcpy(ch.creds.mutual_secret, "target-secret-2", 15);
		ch.creds.mutual_secret_len = 15;
	}
	if (data[0] & 2) { /* challenge already sent */
		static const int algs[] = {ISCSI_CHAP_MD5, ISCSI_CHAP_SHA1, ISCSI_CHAP_SHA256};

		ch.state = ISCSI_CHAP_WAIT_R;
		ch.alg = algs[(data[0] >> 2) % 3];
		ch.dlen = iscsi_chap_digest_len(ch.alg);
		ch.clen = ch.dlen;
		ch.id = data[0];
		memset(ch.challenge, 0x5a, ch.clen);
	}
	if (iscsi_textbuf_init(&tb, data[0] & 0x80 ? 64 : ISCSI_LOGIN_DSL_MAX)) {
		free(store);
		return 0;
	}
	enum iscsi_chap_state before = ch.state;

	r = iscsi_chap_step(&ch, kv, nkv, &tb, "fuzz");
	check(r == 0 || r == ISCSI_LOGIN_STATUS_AUTH_FAILED, "status other than 0 or 02/01");
	check(tb.len <= tb.cap, "reply longer than its buffer");
	if (r)
		check(ch.state == before || before == ISCSI_CHAP_WAIT_A,
		      "a failed step moved the exchange on");
	if (r && before == ISCSI_CHAP_WAIT_R)
		check(ch.state != ISCSI_CHAP_DONE, "failed response accepted");
	if (!tb.overflow)
		for (size_t off = 0; off < tb.len;) {
			const char *e = tb.buf + off, *nul = memchr(e, '\0', tb.len - off);

			check(nul && memchr(e, '=', (size_t)(nul - e)),
			      "reply entry not key=value");
			off += (size_t)(nul - e) + 1;
		}
	iscsi_textbuf_free(&tb);
	iscsi_chap_clear(&ch);
	free(store);
	return 0;
}
