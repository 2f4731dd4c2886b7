/* SPDX-License-Identifier: MIT */
/*
 * CHAP (RFC 7143 12.1.3, RFC 1994): the primitives (digest, binary-value
 * decoding) against answers computed here with libcrypto, and the whole
 * exchange over a real loopback login with the shared harness.
 *
 *   target iqn.2026-01.test:t1   CHAP user "alice" / "alice-secret-1", mutual
 *                                "tgt" / "target-secret-2"
 *   target iqn.2026-01.test:acl  no CHAP (AuthMethod=None)
 *   discovery                    CHAP user "disc" / "discovery-secret"
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "iscsi_chap.h"
#include "iscsi_harness.h"

#define USER "alice"
#define SECRET "alice-secret-1"
#define MUSER "tgt"
#define MSECRET "target-secret-2"

static uint16_t status_of(const uint8_t *bhs)
{
	return (uint16_t)(bhs[36] << 8 | bhs[37]);
}

/* Value of key in "k=v|k=v" text, copied to out; false if absent. */
static bool key_val(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *p = text; *p;) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(out, cap, "%.*s", (int)(l - kl - 1), p + kl + 1);
			return true;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static const EVP_MD *md_of(int alg)
{
	return alg == 5 ? EVP_md5() : alg == 6 ? EVP_sha1() : EVP_sha256();
}

/* The known answer, computed here with libcrypto (RFC 1994 4.1). */
static size_t ref_digest(int alg, uint8_t id, const char *secret, const uint8_t *c, size_t cl,
			 uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, md_of(alg), NULL), 1);
	EVP_DigestUpdate(ctx, &id, 1);
	EVP_DigestUpdate(ctx, secret, strlen(secret));
	EVP_DigestUpdate(ctx, c, cl);
	EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
	return n;
}

static void to_hex(char *dst, const uint8_t *b, size_t n)
{
	dst += sprintf(dst, "0x");
	for (size_t i = 0; i < n; i++)
		dst += sprintf(dst, "%02x", b[i]);
}

/* ---- primitives ------------------------------------------------------------ */

static void rfc1994_4_1_digest_known_answers(void **state)
{
	static const uint8_t chal[] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint8_t want[32], got[32];

	(void)state;
	for (int alg = 5; alg <= 7; alg++) {
		size_t n = ref_digest(alg, 0x42, SECRET, chal, sizeof(chal), want);

		assert_int_equal(iscsi_chap_digest_len(alg), n);
		assert_int_equal(iscsi_chap_digest(alg, 0x42, (const uint8_t *)SECRET,
						   strlen(SECRET), chal, sizeof(chal), got),
				 0);
		assert_memory_equal(got, want, n);
	}
	/* IANA PPP Authentication Algorithms: 5 MD5 (16), 6 SHA-1 (20), 7 SHA-256 (32) */
	assert_int_equal(iscsi_chap_digest_len(5), 16);
	assert_int_equal(iscsi_chap_digest_len(6), 20);
	assert_int_equal(iscsi_chap_digest_len(7), 32);
	assert_int_equal(iscsi_chap_digest_len(8), 0);
	assert_int_equal(iscsi_chap_digest_len(128), 0);
}

static void rfc7143_6_1_binary_value_decoding(void **state)
{
	uint8_t b[8];
	size_t n;

	(void)state;
	assert_int_equal(iscsi_chap_decode("0x0aFf10", b, sizeof(b), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "\x0a\xff\x10", 3);
	assert_int_equal(iscsi_chap_decode("0xabc", b, sizeof(b), &n), 0); /* implied 0 */
	assert_int_equal(n, 2);
	assert_memory_equal(b, "\x0a\xbc", 2);
	assert_int_equal(iscsi_chap_decode("0bAQID", b, sizeof(b), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "\x01\x02\x03", 3);
	assert_int_equal(iscsi_chap_decode("0bAQI=", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(iscsi_chap_decode("0x0102030405060708", b, sizeof(b), &n), 0);
	/* length-checked before decoding */
	assert_int_equal(iscsi_chap_decode("0x010203040506070809", b, sizeof(b), &n), -E2BIG);
	assert_int_equal(iscsi_chap_decode("0bAQIDBAUGBwgJ", b, sizeof(b), &n), -E2BIG);
	assert_int_equal(iscsi_chap_decode("0x12zz", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(iscsi_chap_decode("0x", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(iscsi_chap_decode("0bA", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(iscsi_chap_decode("0bAQ*D", b, sizeof(b), &n), -EINVAL);
	assert_int_equal(iscsi_chap_decode("1234", b, sizeof(b), &n), -EINVAL);
}

/* ---- the exchange over a login ------------------------------------------- */

#define SEC_STAY (ISCSI_LOGIN_STAGE_SECURITY << 2)
#define SEC_TO_OP (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_SECURITY << 2 | 1)
#define OP_TO_FFP (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3)

struct chap_run {
	const char *target; /* NULL: discovery */
	const char *alg_list; /* CHAP_A offered */
	const char *user, *secret;
	bool mutual, reflect;
	const char *r_override; /* CHAP_R sent instead of the right one */
	/* results */
	int alg;
	uint16_t status; /* of the first failing step, or 0 */
	int failed_step; /* 1 AuthMethod, 2 CHAP_A, 3 CHAP_N/R, 4 operational */
};

static bool step(struct fx *f, struct chap_run *r, int n, uint8_t flags, const char *keys,
		 char *text, size_t cap)
{
	uint8_t bhs[48];

	send_pdu(f, ISCSI_OP_LOGIN_REQ, flags, 0, 0, 0, keys);
	assert_int_equal(recv_pdu(f, bhs, text, cap), 0);
	r->status = status_of(bhs);
	if (r->status) {
		r->failed_step = n;
		/* 11.13.5: the target closes the connection after a failure */
		assert_int_equal(recv_pdu(f, bhs, NULL, 0), -1);
		return false;
	}
	/* our T bit: only once CHAP completed */
	if (n <= 2)
		assert_false(bhs[1] & ISCSI_LOGIN_FLAG_TRANSIT);
	return true;
}

static void chap_login(struct fx *f, struct chap_run *r)
{
	char text[8192], keys[4096], v[2100], hex[2 * 1024 + 3];
	uint8_t chal[1024], rsp[32], mchal[16];
	unsigned long id;
	size_t clen;

	r->status = 0;
	r->failed_step = 0;
	client_connect(f);
	if (r->target)
		snprintf(keys, sizeof(keys),
			 "InitiatorName=" INIT "|TargetName=%s|SessionType=Normal|"
			 "AuthMethod=CHAP,None",
			 r->target);
	else
		snprintf(keys, sizeof(keys),
			 "InitiatorName=" INIT "|SessionType=Discovery|AuthMethod=CHAP,None");
	if (!step(f, r, 1, SEC_STAY, keys, text, sizeof(text)))
		goto out;
	assert_non_null(strstr(text, "AuthMethod=CHAP"));
	snprintf(keys, sizeof(keys), "CHAP_A=%s", r->alg_list);
	if (!step(f, r, 2, SEC_STAY, keys, text, sizeof(text)))
		goto out;
	assert_true(key_val(text, "CHAP_A", v, sizeof(v)));
	r->alg = atoi(v);
	assert_true(key_val(text, "CHAP_I", v, sizeof(v)));
	id = strtoul(v, NULL, 10);
	assert_true(id <= 255);
	assert_true(key_val(text, "CHAP_C", v, sizeof(v)));
	assert_int_equal(iscsi_chap_decode(v, chal, sizeof(chal), &clen), 0);
	/* RFC 1994 2.3: challenge at least as long as the digest */
	assert_true(clen >= iscsi_chap_digest_len(r->alg));
	to_hex(hex, rsp, ref_digest(r->alg, (uint8_t)id, r->secret, chal, clen, rsp));
	snprintf(keys, sizeof(keys), "CHAP_N=%s|CHAP_R=%s", r->user,
		 r->r_override ? r->r_override : hex);
	if (r->mutual) {
		size_t l = strlen(keys);

		if (r->reflect) {
			to_hex(hex, chal, clen);
		} else {
			for (size_t i = 0; i < sizeof(mchal); i++)
				mchal[i] = (uint8_t)(i * 7 + 3);
			to_hex(hex, mchal, sizeof(mchal));
		}
		snprintf(keys + l, sizeof(keys) - l, "|CHAP_I=77|CHAP_C=%s", hex);
	}
	if (!step(f, r, 3, SEC_TO_OP, keys, text, sizeof(text)))
		goto out;
	if (r->mutual) {
		uint8_t want[32];
		size_t n = ref_digest(r->alg, 77, MSECRET, mchal, sizeof(mchal), want), got_n;

		assert_true(key_val(text, "CHAP_N", v, sizeof(v)));
		assert_string_equal(v, MUSER);
		assert_true(key_val(text, "CHAP_R", v, sizeof(v)));
		assert_int_equal(iscsi_chap_decode(v, rsp, sizeof(rsp), &got_n), 0);
		assert_int_equal(got_n, n);
		assert_memory_equal(rsp, want, n);
	}
	if (!step(f, r, 4, OP_TO_FFP, "MaxRecvDataSegmentLength=65536", text, sizeof(text)))
		goto out;
out:
	close(f->fd);
}

static void run_ok(struct fx *f, const char *list, int want_alg, bool mutual)
{
	struct chap_run r = {
	    .target = T1, .alg_list = list, .user = USER, .secret = SECRET, .mutual = mutual};

	chap_login(f, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.alg, want_alg);
}

static void rfc7143_12_1_3_md5_one_way(void **state)
{
	run_ok(*state, "5", 5, false);
}

static void rfc7143_12_1_3_sha1_one_way(void **state)
{
	run_ok(*state, "6", 6, false);
}

static void rfc7143_12_1_3_sha256_one_way(void **state)
{
	run_ok(*state, "7", 7, false);
}

static void rfc7143_12_1_3_md5_mutual(void **state)
{
	run_ok(*state, "5", 5, true);
}

static void rfc7143_12_1_3_sha1_mutual(void **state)
{
	run_ok(*state, "6", 6, true);
}

static void rfc7143_12_1_3_sha256_mutual(void **state)
{
	run_ok(*state, "7", 7, true);
}

static void rfc7143_12_1_3_first_supported_in_initiator_order(void **state)
{
	run_ok(*state, "128,6,7,5", 6, false);
	run_ok(*state, "0x81,7,5", 7, false);
}

static void run_fail(struct fx *f, struct chap_run *r, int want_step)
{
	if (!r->target)
		r->target = T1;
	if (!r->alg_list)
		r->alg_list = "5";
	if (!r->user)
		r->user = USER;
	if (!r->secret)
		r->secret = SECRET;
	chap_login(f, r);
	assert_int_equal(r->status, ISCSI_LOGIN_STATUS_AUTH_FAILED);
	assert_int_equal(r->failed_step, want_step);
}

static void rfc7143_12_1_3_wrong_secret_0201(void **state)
{
	for (int a = 5; a <= 7; a++) {
		char list[4];
		struct chap_run r = {.secret = "not-the-secret"};

		snprintf(list, sizeof(list), "%d", a);
		r.alg_list = list;
		run_fail(*state, &r, 3);
	}
}

static void rfc7143_12_1_3_wrong_user_0201(void **state)
{
	struct chap_run r = {.user = "mallory"};

	run_fail(*state, &r, 3);
}

static void rfc7143_6_1_bad_hex_response_0201(void **state)
{
	struct chap_run r = {.r_override = "0x0123456789abcdef0123456789abcdXY"};

	run_fail(*state, &r, 3);
}

static void rfc7143_12_1_3_oversized_response_0201(void **state)
{
	static char big[4100];
	struct chap_run r = {.r_override = big};

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '0';
	big[1] = 'x';
	run_fail(*state, &r, 3);
	/* one byte more than the MD5 digest */
	r = (struct chap_run){.r_override = "0x00112233445566778899aabbccddeeff00"};
	run_fail(*state, &r, 3);
}

/* found by fuzz_chap: CHAP_N without CHAP_R (and the reverse) */
static void rfc7143_12_1_3_response_without_name_or_value_0201(void **state)
{
	static const char *const keys[] = {"CHAP_N=" USER, "CHAP_R=0x00", "CHAP_I=1|CHAP_C=0x01"};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		uint8_t bhs[48];
		char text[1024];

		client_connect(f);
		send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_STAY, 0, 0, 0,
			 "InitiatorName=" INIT "|TargetName=" T1 "|AuthMethod=CHAP");
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_STAY, 0, 0, 0, "CHAP_A=5");
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		assert_int_equal(status_of(bhs), 0);
		send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_TO_OP, 0, 0, 0, keys[i]);
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		assert_int_equal(status_of(bhs), ISCSI_LOGIN_STATUS_AUTH_FAILED);
		close(f->fd);
	}
}

static void rfc7143_12_1_3_reflected_challenge_0201(void **state)
{
	struct chap_run r = {.mutual = true, .reflect = true};

	run_fail(*state, &r, 3);
}

static void rfc7143_12_1_3_unsupported_algorithm_only_0201(void **state)
{
	struct chap_run r = {.alg_list = "128,129,8"};

	run_fail(*state, &r, 2);
}

static void rfc7143_12_1_3_mutual_not_configured_0201(void **state)
{
	struct fx *f = *state;
	struct iscsi_chap_cred one_way = {.user = USER, .secret = SECRET};
	struct chap_run r = {.mutual = true};

	assert_int_equal(iscsi_server_set_chap(f->srv, T1, &one_way), 0);
	run_fail(f, &r, 3);
}

static void rfc7143_12_chap_required_none_offered_0201(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[1024];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_TO_OP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1 "|AuthMethod=None");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(status_of(bhs), ISCSI_LOGIN_STATUS_AUTH_FAILED);
	close(f->fd);
}

static void rfc7143_6_3_chap_required_security_skipped_0201(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[1024];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1);
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(status_of(bhs), ISCSI_LOGIN_STATUS_AUTH_FAILED);
	close(f->fd);
}

static void rfc7143_6_3_transit_before_chap_done_answered_t0(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[1024];

	/* T=1 with AuthMethod=CHAP: the target stays in the security stage */
	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_TO_OP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1 "|AuthMethod=CHAP");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(status_of(bhs), 0);
	assert_false(bhs[1] & ISCSI_LOGIN_FLAG_TRANSIT);
	assert_non_null(strstr(text, "AuthMethod=CHAP"));
	close(f->fd);
}

static void rfc7143_12_no_chap_configured_answers_none(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[1024];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_TO_OP, 0, 0, 0,
		 "InitiatorName=iqn.2026-01.test:allowed|TargetName=" TACL "|AuthMethod=CHAP,None");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(status_of(bhs), 0);
	assert_non_null(strstr(text, "AuthMethod=None"));
	close(f->fd);
}

static void rfc7143_12_1_3_discovery_chap(void **state)
{
	struct chap_run r = {.alg_list = "7", .user = "disc", .secret = "discovery-secret"};

	chap_login(*state, &r);
	assert_int_equal(r.status, 0);
	r = (struct chap_run){.alg_list = "7", .user = "disc", .secret = SECRET};
	chap_login(*state, &r);
	assert_int_equal(r.status, ISCSI_LOGIN_STATUS_AUTH_FAILED);
}

static void reload_new_secret_applies_to_later_logins(void **state)
{
	struct fx *f = *state;
	struct iscsi_chap_cred c = {.user = USER, .secret = "a-brand-new-secret"};
	struct chap_run r = {.target = T1, .alg_list = "5", .user = USER, .secret = SECRET};

	assert_int_equal(iscsi_server_set_chap(f->srv, T1, &c), 0);
	run_fail(f, &r, 3);
	r = (struct chap_run){
	    .target = T1, .alg_list = "5", .user = USER, .secret = "a-brand-new-secret"};
	chap_login(f, &r);
	assert_int_equal(r.status, 0);
	/* removed: back to AuthMethod=None */
	assert_int_equal(iscsi_server_set_chap(f->srv, T1, NULL), 0);
	rfc7143_12_no_chap_configured_answers_none(state);
}

/* A login that passed the checks for a target without CHAP must not turn into
 * a discovery session (which requires discovery CHAP) or change initiator. */
static void rfc7143_13_21_identity_cannot_change_after_first_request_0200(void **state)
{
	static const char *const later[] = {
	    "SessionType=Discovery", "InitiatorName=iqn.2026-01.test:other", "TargetName=" T1};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
		uint8_t bhs[48];
		char text[1024];

		client_connect(f);
		send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_STAY, 0, 0, 0,
			 "InitiatorName=iqn.2026-01.test:allowed|TargetName=" TACL
			 "|AuthMethod=None");
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		assert_int_equal(status_of(bhs), 0);
		send_pdu(f, ISCSI_OP_LOGIN_REQ, SEC_TO_OP, 0, 0, 0, later[i]);
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		assert_int_equal(status_of(bhs), ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
		close(f->fd);
	}
}

static int setup(void **state)
{
	struct iscsi_chap_cred t1 = {
	    .user = USER, .secret = SECRET, .mutual_user = MUSER, .mutual_secret = MSECRET};
	struct iscsi_chap_cred disc = {.user = "disc", .secret = "discovery-secret"};
	struct fx *f;

	fx_setup(state, NULL);
	f = *state;
	assert_int_equal(iscsi_server_set_chap(f->srv, T1, &t1), 0);
	assert_int_equal(iscsi_server_set_chap(f->srv, NULL, &disc), 0);
	return 0;
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc1994_4_1_digest_known_answers),
	    cmocka_unit_test(rfc7143_6_1_binary_value_decoding),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_md5_one_way, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_sha1_one_way, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_sha256_one_way, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_md5_mutual, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_sha1_mutual, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_sha256_mutual, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_first_supported_in_initiator_order,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_wrong_secret_0201, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_wrong_user_0201, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_6_1_bad_hex_response_0201, setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_oversized_response_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_reflected_challenge_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_response_without_name_or_value_0201,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_unsupported_algorithm_only_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_mutual_not_configured_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_chap_required_none_offered_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_6_3_chap_required_security_skipped_0201, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_6_3_transit_before_chap_done_answered_t0, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_no_chap_configured_answers_none, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rfc7143_12_1_3_discovery_chap, setup, teardown),
	    cmocka_unit_test_setup_teardown(reload_new_secret_applies_to_later_logins, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		rfc7143_13_21_identity_cannot_change_after_first_request_0200, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
