/* SPDX-License-Identifier: MIT */
/* Text keys and negotiation (RFC 7143 6.1, 6.2, section 13). Table driven. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_keys.h"
#include "targetd/util.h"
#include "targetd/wire/iscsi_pdu.h"

static struct iscsi_settings settings(void)
{
	struct iscsi_settings s = {0};

	s.max_recv_data_segment_length = 262144;
	s.first_burst_length = 65536;
	s.max_burst_length = 1048576;
	s.max_outstanding_r2t = 1;
	s.cmdsn_window = 128;
	s.immediate_data = true;
	s.initial_r2t = true;
	s.allow_digests = true;
	return s;
}

/* Run one request given as "k=v|k=v" and return the reply as "k=v|k=v". */
static int negotiate(const char *req, bool discovery, int stage, char *out, size_t cap,
		     struct iscsi_params *p)
{
	struct iscsi_settings s = settings();
	struct iscsi_nego n;
	struct iscsi_kv kv[ISCSI_KEYS_MAX];
	struct iscsi_textbuf tb;
	size_t len = strlen(req), nkv;
	char *raw = malloc(len + 1);
	char *store;
	int st;

	memcpy(raw, req, len);
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '|')
			raw[i] = '\0';
	iscsi_params_init(p, &s);
	p->discovery = discovery;
	iscsi_nego_init(&n, p, &s);
	n.stage = stage;
	assert_int_equal(
	    iscsi_kv_parse((const uint8_t *)raw, len, kv, ARRAY_SIZE(kv), &nkv, &store), 0);
	assert_int_equal(iscsi_textbuf_init(&tb, ISCSI_LOGIN_DSL_MAX), 0);
	st = iscsi_nego_process(&n, kv, nkv, &tb);
	iscsi_nego_declare(&n, &tb);
	size_t o = 0;
	for (size_t i = 0; i < tb.len && o + 1 < cap; i++)
		out[o++] = tb.buf[i] ? tb.buf[i] : '|';
	if (o && out[o - 1] == '|')
		o--;
	out[o] = '\0';
	iscsi_textbuf_free(&tb);
	free(store);
	free(raw);
	return st;
}

struct nego_case {
	const char *name;
	const char *req;
	bool discovery;
	const char *reply;
};

static const struct nego_case cases[] = {
    {"13.1 digest: first acceptable of the initiator's list", "HeaderDigest=CRC32C,None", false,
     "HeaderDigest=CRC32C|MaxRecvDataSegmentLength=262144"},
    {"13.1 digest: None preferred", "DataDigest=None,CRC32C", false,
     "DataDigest=None|MaxRecvDataSegmentLength=262144"},
    {"13.1 digest: discovery never gets a proposed digest", "HeaderDigest=CRC32C,None", true,
     "HeaderDigest=None|MaxRecvDataSegmentLength=262144"},
    {"13.1 digest: unknown algorithm rejected", "HeaderDigest=MD5", false,
     "HeaderDigest=Reject|MaxRecvDataSegmentLength=262144"},
    {"13.10 InitialR2T is OR: No|Yes -> Yes", "InitialR2T=No", false,
     "InitialR2T=Yes|MaxRecvDataSegmentLength=262144"},
    {"13.11 ImmediateData is AND", "ImmediateData=Yes", false,
     "ImmediateData=Yes|MaxRecvDataSegmentLength=262144"},
    {"13.11 ImmediateData=No wins", "ImmediateData=No", false,
     "ImmediateData=No|MaxRecvDataSegmentLength=262144"},
    {"6.2.2 boolean junk rejected", "ImmediateData=Maybe", false,
     "ImmediateData=Reject|MaxRecvDataSegmentLength=262144"},
    {"13.13 MaxBurstLength is min", "MaxBurstLength=16776192", false,
     "MaxBurstLength=1048576|MaxRecvDataSegmentLength=262144"},
    {"13.14 FirstBurstLength is min", "FirstBurstLength=4096", false,
     "FirstBurstLength=4096|MaxRecvDataSegmentLength=262144"},
    {"13.13 below range rejected", "MaxBurstLength=511", false,
     "MaxBurstLength=Reject|MaxRecvDataSegmentLength=262144"},
    {"13.13 not a number rejected", "MaxBurstLength=12ab", false,
     "MaxBurstLength=Reject|MaxRecvDataSegmentLength=262144"},
    {"6.1 hex numbers", "MaxBurstLength=0x1000", false,
     "MaxBurstLength=4096|MaxRecvDataSegmentLength=262144"},
    {"13.15 DefaultTime2Wait is max", "DefaultTime2Wait=0", false,
     "DefaultTime2Wait=2|MaxRecvDataSegmentLength=262144"},
    {"13.16 DefaultTime2Retain is min", "DefaultTime2Retain=20", false,
     "DefaultTime2Retain=0|MaxRecvDataSegmentLength=262144"},
    {"13.17 MaxOutstandingR2T is min", "MaxOutstandingR2T=16", false,
     "MaxOutstandingR2T=1|MaxRecvDataSegmentLength=262144"},
    {"13.20 ErrorRecoveryLevel: we offer 0", "ErrorRecoveryLevel=2", false,
     "ErrorRecoveryLevel=0|MaxRecvDataSegmentLength=262144"},
    {"13.2 MaxConnections: one", "MaxConnections=8", false,
     "MaxConnections=1|MaxRecvDataSegmentLength=262144"},
    {"13.18/13.19 in-order is OR with our Yes", "DataPDUInOrder=No|DataSequenceInOrder=No", false,
     "DataPDUInOrder=Yes|DataSequenceInOrder=Yes|MaxRecvDataSegmentLength=262144"},
    {"13.25 markers: No", "IFMarker=Yes|OFMarker=No|OFMarkInt=2048", false,
     "IFMarker=No|OFMarker=No|OFMarkInt=Irrelevant|MaxRecvDataSegmentLength=262144"},
    {"13.12 MaxRecvDataSegmentLength is declarative", "MaxRecvDataSegmentLength=8192", false,
     "MaxRecvDataSegmentLength=262144"},
    {"6.2.1 unknown and X- keys NotUnderstood", "X-com.example.Foo=1|Bogus=2", false,
     "X-com.example.Foo=NotUnderstood|Bogus=NotUnderstood|MaxRecvDataSegmentLength=262144"},
    {"13.21 discovery: session keys Irrelevant",
     "SessionType=Discovery|InitialR2T=Yes|MaxBurstLength=4096", true,
     "InitialR2T=Irrelevant|MaxBurstLength=Irrelevant|MaxRecvDataSegmentLength=262144"},
    {"13.8/13.9 target-only keys rejected", "TargetAddress=1.2.3.4|TargetAlias=x", false,
     "TargetAddress=Reject|TargetAlias=Reject|MaxRecvDataSegmentLength=262144"},
    {"declaratives get no answer", "InitiatorName=iqn.1994-05.com.example:a|InitiatorAlias=a",
     false, "MaxRecvDataSegmentLength=262144"},
};

static void rfc7143_13_negotiation_table(void **state)
{
	char out[8192];
	struct iscsi_params p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int st = negotiate(cases[i].req, cases[i].discovery, ISCSI_LOGIN_STAGE_OPERATIONAL,
				   out, sizeof(out), &p);

		if (st || strcmp(out, cases[i].reply))
			fail_msg("%s: status %d reply '%s', want '%s'", cases[i].name, st, out,
				 cases[i].reply);
	}
}

static void rfc7143_13_results_stored(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(negotiate("InitiatorName=iqn.2000-01.x:y|SessionType=Normal|"
				   "TargetName=iqn.2000-01.t:z|HeaderDigest=CRC32C|"
				   "DataDigest=CRC32C|MaxRecvDataSegmentLength=65536|"
				   "MaxBurstLength=131072|FirstBurstLength=262144|"
				   "ImmediateData=No|InitialR2T=No",
				   false, ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 0);
	assert_string_equal(p.initiator_name, "iqn.2000-01.x:y");
	assert_string_equal(p.target_name, "iqn.2000-01.t:z");
	assert_true(p.header_digest);
	assert_true(p.data_digest);
	assert_int_equal(p.max_recv_dsl_initiator, 65536);
	assert_int_equal(p.max_burst, 131072);
	/* 13.14: FirstBurstLength never above MaxBurstLength */
	assert_int_equal(p.first_burst, 65536);
	assert_false(p.immediate_data);
	assert_true(p.initial_r2t);
	assert_false(p.discovery);
}

static void rfc7143_13_defaults_hold_when_not_negotiated(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(negotiate("InitiatorName=iqn.2000-01.x:y", false,
				   ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 0);
	assert_int_equal(p.max_recv_dsl_initiator, 8192); /* 13.12 */
	assert_int_equal(p.max_burst, 262144); /* 13.13 */
	assert_int_equal(p.first_burst, 65536); /* 13.14 */
	assert_true(p.initial_r2t && p.immediate_data);
	assert_false(p.header_digest || p.data_digest);
}

static void rfc7143_4_2_7_2_name_with_space_or_control_char_refused(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(negotiate("InitiatorName=iqn.2000-01.x:a b", false,
				   ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	assert_int_equal(negotiate("InitiatorName=iqn.2000-01.x:a\tb", false,
				   ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	assert_int_equal(negotiate("InitiatorName=iqn.2000-01.x:ab", false,
				   ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 0);
}

static void rfc7143_6_1_duplicate_key_is_initiator_error(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(negotiate("MaxBurstLength=4096|MaxBurstLength=8192", false,
				   ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
}

static void rfc7143_13_21_bad_session_type(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(
	    negotiate("SessionType=Weird", false, ISCSI_LOGIN_STAGE_SECURITY, out, sizeof(out), &p),
	    ISCSI_LOGIN_STATUS_SESSION_TYPE);
}

static void rfc7143_12_auth_method_none_only(void **state)
{
	char out[4096];
	struct iscsi_params p;

	(void)state;
	assert_int_equal(negotiate("AuthMethod=CHAP,None", false, ISCSI_LOGIN_STAGE_SECURITY, out,
				   sizeof(out), &p),
			 0);
	assert_string_equal(out, "AuthMethod=None");
	assert_int_equal(
	    negotiate("AuthMethod=CHAP", false, ISCSI_LOGIN_STAGE_SECURITY, out, sizeof(out), &p),
	    0);
	assert_string_equal(out, "AuthMethod=Reject");
}

static void rfc7143_6_2_unknown_key_flood_rejects_login(void **state)
{
	char *req = malloc(ISCSI_KEYS_MAX * 80);
	char out[16384];
	struct iscsi_params p;
	size_t o = 0;

	(void)state;
	/* 128 keys of 56-byte names: the NotUnderstood replies would exceed the
	 * 8192-byte login reply bound */
	for (int i = 0; i < ISCSI_KEYS_MAX; i++)
		o += (size_t)sprintf(req + o, "%sX-flood-%048d=1", i ? "|" : "", i);
	assert_int_equal(negotiate(req, false, ISCSI_LOGIN_STAGE_OPERATIONAL, out, sizeof(out), &p),
			 ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
	free(req);
}

static void rfc7143_6_1_kv_parse_bounds(void **state)
{
	struct iscsi_kv kv[4];
	size_t n;
	char *store;
	static const uint8_t ok[] = "A=1\0B=\0\0C=x=y"; /* no trailing NUL: not trusted */
	static const uint8_t noeq[] = "A=1\0B";
	static const uint8_t noname[] = "=1";
	char longname[80];

	(void)state;
	assert_int_equal(iscsi_kv_parse(ok, sizeof(ok) - 1, kv, 4, &n, &store), 0);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].key, "A");
	assert_string_equal(kv[1].val, "");
	assert_string_equal(kv[2].key, "C");
	assert_string_equal(kv[2].val, "x=y");
	free(store);
	assert_int_equal(iscsi_kv_parse(noeq, sizeof(noeq) - 1, kv, 4, &n, &store), -EPROTO);
	assert_int_equal(iscsi_kv_parse(noname, sizeof(noname) - 1, kv, 4, &n, &store), -EPROTO);
	memset(longname, 'k', 64);
	longname[64] = '=';
	longname[65] = '1';
	assert_int_equal(iscsi_kv_parse((uint8_t *)longname, 66, kv, 4, &n, &store), -EPROTO);
	assert_int_equal(iscsi_kv_parse((const uint8_t *)"a=1\0b=2\0c=3", 11, kv, 2, &n, &store),
			 -E2BIG);
}

static void textbuf_overflow_sticks(void **state)
{
	struct iscsi_textbuf tb;

	(void)state;
	assert_int_equal(iscsi_textbuf_init(&tb, 16), 0);
	iscsi_textbuf_add(&tb, "Key", "%s", "value"); /* 10 bytes */
	assert_int_equal(tb.len, 10);
	iscsi_textbuf_add(&tb, "Key", "%s", "value"); /* would need 20 */
	assert_true(tb.overflow);
	assert_int_equal(tb.len, 10);
	iscsi_textbuf_add(&tb, "K", "1");
	assert_int_equal(tb.len, 10);
	iscsi_textbuf_free(&tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_13_negotiation_table),
	    cmocka_unit_test(rfc7143_13_results_stored),
	    cmocka_unit_test(rfc7143_13_defaults_hold_when_not_negotiated),
	    cmocka_unit_test(rfc7143_6_1_duplicate_key_is_initiator_error),
	    cmocka_unit_test(rfc7143_4_2_7_2_name_with_space_or_control_char_refused),
	    cmocka_unit_test(rfc7143_13_21_bad_session_type),
	    cmocka_unit_test(rfc7143_12_auth_method_none_only),
	    cmocka_unit_test(rfc7143_6_2_unknown_key_flood_rejects_login),
	    cmocka_unit_test(rfc7143_6_1_kv_parse_bounds),
	    cmocka_unit_test(textbuf_overflow_sticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
