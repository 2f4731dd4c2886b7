/* SPDX-License-Identifier: MIT */
/*
 * CHAP (RFC 7143 12.1.3, RFC 1994) for the login security stage, one-way and
 * mutual, with MD5, SHA-1 and SHA-256 (IANA PPP Authentication Algorithms
 * 5, 6, 7). Hashes and random numbers from libcrypto; responses compared in
 * constant time; every binary value is length-checked before decoding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "iscsi_chap.h"
#include "iscsi_conn.h"
#include "targetd/util.h"

/* ---- credential store ------------------------------------------------------ */

struct iscsi_chap_entry {
	struct iscsi_chap_entry *next;
	char *target; /* NULL: discovery sessions */
	struct iscsi_chap_creds creds;
};

static bool same_target(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void entry_free(struct iscsi_chap_entry *e)
{
	OPENSSL_cleanse(&e->creds, sizeof(e->creds));
	free(e->target);
	free(e);
}

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

static int copy_secret(uint8_t *dst, size_t *len, const char *src)
{
	size_t n = strlen(src);

	if (!n || n > ISCSI_CHAP_SECRET_MAX)
		return -EINVAL;
	/* a secret is bytes plus *len, never used as a C string */
	memcpy(dst, src, n); /* NOLINT(bugprone-not-null-terminated-result) */
	*len = n;
	return 0;
}

int iscsi_server_set_chap(struct iscsi_server *srv, const char *target_name,
			  const struct iscsi_chap_cred *cred)
{
	struct iscsi_chap_entry **pp, *e, *old = NULL;
	int r;

	for (pp = &srv->chap; *pp; pp = &(*pp)->next) {
		if (same_target((*pp)->target, target_name)) {
			old = *pp;
			break;
		}
	}
	if (!cred || !cred->user || !cred->user[0]) {
		if (old) {
			*pp = old->next;
			entry_free(old);
		}
		return 0;
	}
	if (!cred->secret)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (target_name && !(e->target = strdup(target_name))) {
		entry_free(e);
		return -ENOMEM;
	}
	r = copy_str(e->creds.user, sizeof(e->creds.user), cred->user);
	if (!r)
		r = copy_secret(e->creds.secret, &e->creds.secret_len, cred->secret);
	if (!r && cred->mutual_user && cred->mutual_user[0]) {
		r = copy_str(e->creds.mutual_user, sizeof(e->creds.mutual_user), cred->mutual_user);
		if (!r)
			r = cred->mutual_secret
			    ? copy_secret(e->creds.mutual_secret, &e->creds.mutual_secret_len,
					  cred->mutual_secret)
			    : -EINVAL;
	}
	if (r) { /* the old credentials, if any, stay in force */
		entry_free(e);
		return r;
	}
	if (old) { /* replaced in place: never a moment without CHAP */
		e->next = old->next;
		*pp = e;
		entry_free(old);
	} else {
		e->next = srv->chap;
		srv->chap = e;
	}
	return 0;
}

void iscsi_chap_store_free(struct iscsi_server *srv)
{
	while (srv->chap) {
		struct iscsi_chap_entry *e = srv->chap;

		srv->chap = e->next;
		entry_free(e);
	}
}

void iscsi_server_clear_chap(struct iscsi_server *srv)
{
	iscsi_chap_store_free(srv);
}

bool iscsi_chap_lookup(const struct iscsi_server *srv, bool discovery, const char *target_name,
		       struct iscsi_chap_creds *out)
{
	for (const struct iscsi_chap_entry *e = srv->chap; e; e = e->next) {
		if (discovery ? e->target != NULL
			      : (!e->target || !target_name || strcmp(e->target, target_name)))
			continue;
		*out = e->creds;
		return true;
	}
	return false;
}

/* ---- primitives ------------------------------------------------------------ */

static const EVP_MD *chap_md(int alg)
{
	switch (alg) {
	case ISCSI_CHAP_MD5:
		return EVP_md5();
	case ISCSI_CHAP_SHA1:
		return EVP_sha1();
	case ISCSI_CHAP_SHA256:
		return EVP_sha256();
	default:
		return NULL;
	}
}

size_t iscsi_chap_digest_len(int alg)
{
	const EVP_MD *md = chap_md(alg);

	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

int iscsi_chap_digest(int alg, uint8_t id, const uint8_t *secret, size_t slen, const uint8_t *chal,
		      size_t clen, uint8_t *out)
{
	const EVP_MD *md = chap_md(alg);
	EVP_MD_CTX *ctx;
	int ok;

	if (!md)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* RFC 1994 4.1: Response = H(Identifier || secret || Challenge) */
	ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &id, 1) &&
	    EVP_DigestUpdate(ctx, secret, slen) && EVP_DigestUpdate(ctx, chal, clen) &&
	    EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int decode_hex(const char *s, size_t l, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = (l + 1) / 2, o = 0, i = 0;

	if (!l)
		return -EINVAL;
	if (n > cap) /* checked before decoding anything */
		return -E2BIG;
	if (l % 2) { /* an odd digit count has an implied leading zero */
		int v = util_hexval(s[0]);

		if (v < 0)
			return -EINVAL;
		out[o++] = (uint8_t)v;
		i = 1;
	}
	for (; i < l; i += 2) {
		int h = util_hexval(s[i]), lo = util_hexval(s[i + 1]);

		if (h < 0 || lo < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(h << 4 | lo);
	}
	*len = o;
	return 0;
}

static int decode_b64(const char *s, size_t l, uint8_t *out, size_t cap, size_t *len)
{
	uint32_t acc = 0;
	size_t o = 0, bits = 0, pad = 0;

	while (l && s[l - 1] == '=' && pad < 2) {
		l--;
		pad++;
	}
	if (!l || l % 4 == 1 || (pad && (l + pad) % 4))
		return -EINVAL;
	if (l / 4 * 3 + (l % 4 ? l % 4 - 1 : 0) > cap) /* before decoding */
		return -E2BIG;
	for (size_t i = 0; i < l; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*len = o;
	return 0;
}

int iscsi_chap_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	/* RFC 7143 6.1: binary-value = "0x"/"0X" hex-string / "0b"/"0B" base64 */
	if (s[0] != '0')
		return -EINVAL;
	if (s[1] == 'x' || s[1] == 'X')
		return decode_hex(s + 2, strlen(s + 2), out, cap, len);
	if (s[1] == 'b' || s[1] == 'B')
		return decode_b64(s + 2, strlen(s + 2), out, cap, len);
	return -EINVAL;
}

static void hex_encode(char *dst, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	*dst++ = '0';
	*dst++ = 'x';
	for (size_t i = 0; i < n; i++) {
		*dst++ = digits[src[i] >> 4];
		*dst++ = digits[src[i] & 15];
	}
	*dst = '\0';
}

/* RFC 7143 6.1 numerical value (decimal or 0x hex), 0..max. */
static bool parse_small(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoul(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	return !errno && !*end && *v <= max;
}

bool iscsi_chap_is_key(const char *key)
{
	return !strncmp(key, "CHAP_", 5);
}

void iscsi_chap_clear(struct iscsi_chap *ch)
{
	OPENSSL_cleanse(ch, sizeof(*ch));
}

/* ---- the exchange ---------------------------------------------------------- */

static int chap_fail(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int chap_fail(const char *who, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_notice("iscsi", "%s: CHAP failure: %s", who, msg);
	return ISCSI_LOGIN_STATUS_AUTH_FAILED;
}

/* RFC 7143 12.1.3: CHAP_A=<A1,A2,...>; the target picks the first algorithm
 * of the initiator's list that it supports. */
static int pick_alg(const char *list)
{
	for (const char *q = list; *q;) {
		const char *c = strchr(q, ',');
		size_t l = c ? (size_t)(c - q) : strlen(q);
		char item[16];
		unsigned long v;

		if (l < sizeof(item)) {
			memcpy(item, q, l);
			item[l] = '\0';
			if (parse_small(item, 255, &v) && iscsi_chap_digest_len((int)v))
				return (int)v;
		}
		if (!c)
			break;
		q = c + 1;
	}
	return 0;
}

static int chap_challenge(struct iscsi_chap *ch, const char *a, struct iscsi_textbuf *reply,
			  const char *who)
{
	char hex[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];

	ch->alg = pick_alg(a);
	if (!ch->alg)
		return chap_fail(who, "step CHAP_A: none of '%s' supported (we support 7, 6, 5)",
				 a);
	ch->dlen = iscsi_chap_digest_len(ch->alg);
	/* RFC 1994 2.3: an unpredictable identifier and challenge; the
	 * challenge as long as the digest (16, 20 or 32 bytes) */
	ch->clen = ch->dlen;
	if (RAND_bytes(&ch->id, 1) != 1 || RAND_bytes(ch->challenge, (int)ch->clen) != 1)
		return chap_fail(who, "step CHAP_C: no random bytes from libcrypto");
	hex_encode(hex, ch->challenge, ch->clen);
	iscsi_textbuf_add(reply, "CHAP_A", "%d", ch->alg);
	iscsi_textbuf_add(reply, "CHAP_I", "%u", ch->id);
	iscsi_textbuf_add(reply, "CHAP_C", "%s", hex);
	ch->state = ISCSI_CHAP_WAIT_R;
	return 0;
}

/* Mutual CHAP (RFC 7143 12.1.3): answer the initiator's CHAP_I/CHAP_C with
 * CHAP_N=<mutual_user> CHAP_R=H(I || mutual_secret || C). */
static int chap_mutual(struct iscsi_chap *ch, const char *i, const char *c,
		       struct iscsi_textbuf *reply, const char *who)
{
	uint8_t chal[ISCSI_CHAP_CHALLENGE_MAX], rsp[ISCSI_CHAP_DIGEST_MAX];
	char hex[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
	unsigned long id;
	size_t clen;
	int r;

	if (!i || !c)
		return chap_fail(who, "step mutual: CHAP_I and CHAP_C must come together");
	if (!ch->creds.mutual_user[0])
		return chap_fail(who,
				 "step mutual: initiator asked for mutual CHAP but no "
				 "mutual_user is configured");
	if (!parse_small(i, 255, &id))
		return chap_fail(who, "step mutual: CHAP_I '%.16s' is not a number 0..255", i);
	r = iscsi_chap_decode(c, chal, sizeof(chal), &clen);
	if (r == -E2BIG)
		return chap_fail(who, "step mutual: CHAP_C longer than %d bytes",
				 ISCSI_CHAP_CHALLENGE_MAX);
	if (r || !clen)
		return chap_fail(who, "step mutual: CHAP_C is not valid hex (0x) or base64 (0b)");
	/* RFC 7143 12.1.3: a challenge identical to the one we sent is a
	 * reflection attack; we must not answer it */
	if (clen == ch->clen && !CRYPTO_memcmp(chal, ch->challenge, clen))
		return chap_fail(who, "step mutual: initiator reflected our challenge");
	if (iscsi_chap_digest(ch->alg, (uint8_t)id, ch->creds.mutual_secret,
			      ch->creds.mutual_secret_len, chal, clen, rsp))
		return chap_fail(who, "step mutual: digest failed");
	hex_encode(hex, rsp, ch->dlen);
	iscsi_textbuf_add(reply, "CHAP_N", "%s", ch->creds.mutual_user);
	iscsi_textbuf_add(reply, "CHAP_R", "%s", hex);
	OPENSSL_cleanse(rsp, sizeof(rsp));
	return 0;
}

static int chap_verify(struct iscsi_chap *ch, const char *n, const char *r, const char *who)
{
	uint8_t got[ISCSI_CHAP_DIGEST_MAX], want[ISCSI_CHAP_DIGEST_MAX];
	size_t len, enc;
	bool user_ok;
	int e;

	if (!n || !r)
		return chap_fail(who, "step CHAP_N/CHAP_R: both expected after the challenge");
	enc = strlen(r);
	/* Oversized values are refused before decoding: hex of the digest is
	 * 2 + 2*dlen characters, base64 2 + 4*ceil(dlen/3). */
	if (enc > 2 + 2 * ch->dlen + 1)
		return chap_fail(who, "step CHAP_R: %zu characters, longer than a %zu-byte digest",
				 enc, ch->dlen);
	e = iscsi_chap_decode(r, got, ch->dlen, &len);
	if (e == -E2BIG || (!e && len != ch->dlen))
		return chap_fail(who, "step CHAP_R: not a %zu-byte digest", ch->dlen);
	if (e)
		return chap_fail(who, "step CHAP_R: not valid hex (0x) or base64 (0b)");
	if (iscsi_chap_digest(ch->alg, ch->id, ch->creds.secret, ch->creds.secret_len,
			      ch->challenge, ch->clen, want))
		return chap_fail(who, "step CHAP_R: digest failed");
	/* Both checks always run, so timing tells nothing about which failed. */
	user_ok = !strcmp(n, ch->creds.user);
	e = CRYPTO_memcmp(got, want, ch->dlen);
	OPENSSL_cleanse(want, sizeof(want));
	if (!user_ok)
		return chap_fail(who, "step CHAP_N: user '%.64s' is not the configured one", n);
	if (e)
		return chap_fail(who, "step CHAP_R: response does not match (wrong secret)");
	return 0;
}

int iscsi_chap_step(struct iscsi_chap *ch, const struct iscsi_kv *kv, size_t nkv,
		    struct iscsi_textbuf *reply, const char *who)
{
	static const char *const names[] = {"CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R"};
	const char *v[ARRAY_SIZE(names)] = {0};
	bool any = false;
	int r;

	for (size_t k = 0; k < nkv; k++) {
		size_t j;

		if (!iscsi_chap_is_key(kv[k].key))
			continue;
		for (j = 0; j < ARRAY_SIZE(names) && strcmp(kv[k].key, names[j]); j++)
			;
		if (j == ARRAY_SIZE(names))
			return chap_fail(who, "unknown key %.32s", kv[k].key);
		if (v[j]) /* 6.1: a key sent twice is an error */
			return chap_fail(who, "%s sent twice", names[j]);
		v[j] = kv[k].val;
		any = true;
	}
	if (!any)
		return 0;
	switch (ch->state) {
	case ISCSI_CHAP_WAIT_A:
		if (!v[0])
			return chap_fail(who, "step CHAP_A: other CHAP keys before CHAP_A");
		if (v[1] || v[2] || v[3] || v[4])
			return chap_fail(who, "step CHAP_A: response keys before the challenge");
		return chap_challenge(ch, v[0], reply, who);
	case ISCSI_CHAP_WAIT_R:
		if (v[0])
			return chap_fail(who, "step CHAP_R: CHAP_A sent again");
		r = chap_verify(ch, v[3], v[4], who);
		if (!r && (v[1] || v[2]))
			r = chap_mutual(ch, v[1], v[2], reply, who);
		if (!r)
			ch->state = ISCSI_CHAP_DONE;
		return r;
	case ISCSI_CHAP_DONE:
		break;
	}
	return chap_fail(who, "CHAP keys after authentication completed");
}
