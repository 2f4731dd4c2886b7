/* SPDX-License-Identifier: MIT */
/*
 * CHAP for the login security stage (RFC 7143 12.1.3, RFC 1994): algorithm
 * choice, challenge, verification of the initiator's response, and the
 * target's answer for mutual CHAP. The credential store of the server
 * (iscsi_server_set_chap) lives here too. Loop thread only.
 */
#ifndef ISCSI_CHAP_H
#define ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi_keys.h"

struct iscsi_server;

/* IANA "PPP Authentication Algorithms" registry, as RFC 7143 12.1.3 and
 * 13.x refer to it for CHAP_A: 5 = CHAP with MD5 (RFC 1994), 6 = SHA-1,
 * 7 = SHA-256 (8 = SHA3-256 is not offered). */
enum iscsi_chap_alg {
	ISCSI_CHAP_MD5 = 5,
	ISCSI_CHAP_SHA1 = 6,
	ISCSI_CHAP_SHA256 = 7,
};

#define ISCSI_CHAP_DIGEST_MAX 32 /* SHA-256 */
#define ISCSI_CHAP_SECRET_MAX 255
#define ISCSI_CHAP_NAME_MAX 255
/* Largest challenge we accept from the initiator (mutual CHAP). RFC 7143
 * 12.1.3 bounds binary values by the 8192-byte text value limit; we keep it
 * at 1024 bytes, far above any digest. */
#define ISCSI_CHAP_CHALLENGE_MAX 1024

/* Credentials of one target (or of discovery), copied at login start. */
struct iscsi_chap_creds {
	char user[ISCSI_CHAP_NAME_MAX + 1];
	uint8_t secret[ISCSI_CHAP_SECRET_MAX];
	size_t secret_len;
	char mutual_user[ISCSI_CHAP_NAME_MAX + 1]; /* "" : one-way only */
	uint8_t mutual_secret[ISCSI_CHAP_SECRET_MAX];
	size_t mutual_secret_len;
};

enum iscsi_chap_state {
	ISCSI_CHAP_WAIT_A, /* expecting CHAP_A */
	ISCSI_CHAP_WAIT_R, /* challenge sent, expecting CHAP_N / CHAP_R */
	ISCSI_CHAP_DONE, /* initiator authenticated (and we answered) */
};

/* One login's CHAP exchange. */
struct iscsi_chap {
	struct iscsi_chap_creds creds;
	enum iscsi_chap_state state;
	int alg;
	size_t dlen;
	uint8_t id;
	uint8_t challenge[ISCSI_CHAP_DIGEST_MAX];
	size_t clen;
};

/* Digest length of alg, 0 if unsupported. */
size_t iscsi_chap_digest_len(int alg);
/* RFC 1994 4.1: out = H(id || secret || challenge). 0 or -EINVAL/-EIO. */
int iscsi_chap_digest(int alg, uint8_t id, const uint8_t *secret, size_t slen, const uint8_t *chal,
		      size_t clen, uint8_t *out);
/* RFC 7143 6.1 binary-value: "0x" hex or "0b" base64. The encoded length
 * is checked against cap before anything is decoded. 0, or -EINVAL (bad
 * encoding), -E2BIG (more than cap bytes). */
int iscsi_chap_decode(const char *s, uint8_t *out, size_t cap, size_t *len);

/* Is CHAP configured for this login (discovery, or target_name)? Copies the
 * credentials into *out. */
bool iscsi_chap_lookup(const struct iscsi_server *srv, bool discovery, const char *target_name,
		       struct iscsi_chap_creds *out);
void iscsi_chap_store_free(struct iscsi_server *srv);

/* Process the CHAP_* keys of one complete request and append the answers.
 * who names the login for the log. Returns 0, or
 * ISCSI_LOGIN_STATUS_AUTH_FAILED (02/01, RFC 7143 11.13.5) after logging
 * which step failed. */
int iscsi_chap_step(struct iscsi_chap *ch, const struct iscsi_kv *kv, size_t nkv,
		    struct iscsi_textbuf *reply, const char *who);
/* Wipe the credentials and challenge. */
void iscsi_chap_clear(struct iscsi_chap *ch);

/* Is key a CHAP_* key (handled by iscsi_chap_step, not the negotiation)? */
bool iscsi_chap_is_key(const char *key);

#endif
