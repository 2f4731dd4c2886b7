/* SPDX-License-Identifier: MIT */
/*
 * Login phase over a real loopback connection (RFC 7143 6, 11.12, 11.13):
 * the real loop, the real scsi core with a mem LU, the server on port 0.
 * The test plays the initiator with raw PDUs and pumps the loop between
 * request and response.
 *
 *   target iqn.2026-01.test:t1  (tpgt 1, LUN 0, ACL empty: everyone)
 *   target iqn.2026-01.test:acl (tpgt 1, ACL: iqn.2026-01.test:allowed)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "iscsi_harness.h"

static uint16_t login_status(const uint8_t *bhs)
{
	return (uint16_t)(bhs[36] << 8 | bhs[37]);
}

#define OP_TO_FFP (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3)

static void expect_login_fail(struct fx *f, uint8_t flags, uint8_t vmin, const char *keys,
			      uint16_t status)
{
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, flags, vmin, 0, 0, keys);
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_LOGIN_RSP);
	assert_int_equal(login_status(bhs), status);
	/* 11.13.5: the target closes the connection after a failed login */
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), -1);
	close(f->fd);
}

static void rfc7143_6_3_normal_login_to_ffp(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[8192];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1 "|SessionType=Normal|"
		 "MaxRecvDataSegmentLength=65536|ImmediateData=Yes");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_true(bhs[1] & ISCSI_LOGIN_FLAG_TRANSIT);
	assert_int_equal(ISCSI_LOGIN_NSG(bhs[1]), ISCSI_LOGIN_STAGE_FFP);
	assert_true(get_be16(bhs + 14) != 0); /* 11.12.6: TSIH assigned */
	assert_memory_equal(bhs + 8, "\x80\x12\x34\x56\x00\x01", 6);
	assert_non_null(strstr(text, "TargetPortalGroupTag=1")); /* 13.9 */
	assert_non_null(strstr(text, "ImmediateData=Yes"));
	assert_non_null(strstr(text, "MaxRecvDataSegmentLength=262144"));
	/* ExpCmdSN = the login's CmdSN (not advanced by login) */
	assert_int_equal(get_be32(bhs + 28), 1);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_6_3_security_then_operational(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[8192];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL, 0,
		 0, 0, "InitiatorName=" INIT "|TargetName=" T1 "|AuthMethod=None");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_non_null(strstr(text, "AuthMethod=None"));
	assert_int_equal(ISCSI_LOGIN_NSG(bhs[1]), ISCSI_LOGIN_STAGE_OPERATIONAL);
	assert_int_equal(get_be16(bhs + 14), 0);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0, "HeaderDigest=None");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_true(get_be16(bhs + 14) != 0);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_6_2_1_c_bit_continuation(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[8192];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ,
		 ISCSI_LOGIN_FLAG_CONTINUE | ISCSI_LOGIN_STAGE_OPERATIONAL << 2, 0, 0, 0,
		 "InitiatorName=" INIT "|");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_int_equal(get_be24(bhs + 5), 0); /* empty: send the rest */
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0, "TargetName=" T1);
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_true(get_be16(bhs + 14) != 0);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_13_6_missing_initiator_name_0207(void **state)
{
	expect_login_fail(*state, OP_TO_FFP, 0, "TargetName=" T1,
			  ISCSI_LOGIN_STATUS_MISSING_PARAMETER);
}

static void rfc7143_13_4_missing_target_name_0207(void **state)
{
	expect_login_fail(*state, OP_TO_FFP, 0, "InitiatorName=" INIT,
			  ISCSI_LOGIN_STATUS_MISSING_PARAMETER);
}

static void rfc7143_11_13_5_unknown_target_0203(void **state)
{
	expect_login_fail(*state, OP_TO_FFP, 0,
			  "InitiatorName=" INIT "|TargetName=iqn.2026-01.test:nope",
			  ISCSI_LOGIN_STATUS_NOT_FOUND);
}

static void rfc7143_11_13_5_acl_refuses_0202(void **state)
{
	expect_login_fail(*state, OP_TO_FFP, 0, "InitiatorName=" INIT "|TargetName=" TACL,
			  ISCSI_LOGIN_STATUS_AUTHZ_FAILED);
}

static void rfc7143_11_12_4_unsupported_version_0205(void **state)
{
	expect_login_fail(*state, OP_TO_FFP, 1, "InitiatorName=" INIT "|TargetName=" T1,
			  ISCSI_LOGIN_STATUS_UNSUPPORTED_VERSION);
}

static void rfc7143_6_3_backwards_transition_0200(void **state)
{
	/* T with NSG <= CSG */
	expect_login_fail(*state,
			  ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 |
			      ISCSI_LOGIN_STAGE_SECURITY,
			  0, "InitiatorName=" INIT "|TargetName=" T1,
			  ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
}

static void rfc7143_11_12_3_reserved_stage_0200(void **state)
{
	expect_login_fail(*state, ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 2,
			  0, "InitiatorName=" INIT "|TargetName=" T1,
			  ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
}

static void rfc7143_11_12_2_transit_and_continue_0200(void **state)
{
	expect_login_fail(*state, OP_TO_FFP | ISCSI_LOGIN_FLAG_CONTINUE, 0,
			  "InitiatorName=" INIT "|TargetName=" T1,
			  ISCSI_LOGIN_STATUS_INITIATOR_ERROR);
}

static void rfc7143_12_no_acceptable_auth_0201(void **state)
{
	expect_login_fail(*state, ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL, 0,
			  "InitiatorName=" INIT "|TargetName=" T1 "|AuthMethod=CHAP",
			  ISCSI_LOGIN_STATUS_AUTH_FAILED);
}

static void rfc7143_6_3_1_unknown_tsih_020a(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0x7777, 0,
		 "InitiatorName=" INIT "|TargetName=" T1);
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(login_status(bhs), ISCSI_LOGIN_STATUS_NO_SESSION);
	close(f->fd);
}

/* Behind NAT the advertised address replaces the bound one in SendTargets
 * (Appendix C); "HOST:0" (advertise without a port, listen on port 0)
 * advertises the port actually bound. */
static void rfc7143_appendix_c_advertised_address_with_bound_port(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[8192], want[128];
	uint16_t port2;

	assert_int_equal(iscsi_portal_add(f->srv, "127.0.0.1", 0, 1, "10.0.2.2:0"), 0);
	port2 = iscsi_portal_port(f->srv, 1);
	assert_true(port2 != 0);
	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|SessionType=Discovery");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, ISCSI_RSVD_TAG, "SendTargets=All");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	snprintf(want, sizeof(want), "TargetAddress=10.0.2.2:%u,1", port2);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "10.0.2.2:0,"));
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_6_non_login_pdu_during_login_closes(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, ISCSI_RSVD_TAG, "SendTargets=All");
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), -1);
	close(f->fd);
}

static void rfc7143_appendix_c_discovery_send_targets(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	char text[8192], want[128];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|SessionType=Discovery|HeaderDigest=CRC32C,None");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(login_status(bhs), 0);
	assert_non_null(strstr(text, "HeaderDigest=None")); /* no digests on discovery */
	assert_null(strstr(text, "TargetPortalGroupTag"));
	send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, ISCSI_RSVD_TAG, "SendTargets=All");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_TEXT_RSP);
	assert_true(bhs[1] & ISCSI_FLAG_FINAL);
	snprintf(want, sizeof(want), "TargetName=" T1 "|TargetAddress=127.0.0.1:%u,1", f->port);
	assert_non_null(strstr(text, want));
	/* the ACL'd target is not listed to an initiator it refuses */
	assert_null(strstr(text, TACL));
	close(f->fd);
	pump(f, 10);
}

static void count_session(const struct iscsi_session_info *info, void *arg)
{
	(void)info;
	(*(unsigned *)arg)++;
}

static void rfc7143_6_3_5_session_reinstatement_closes_old(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	int old_fd;
	unsigned n = 0;

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1);
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(login_status(bhs), 0);
	old_fd = f->fd;
	/* same InitiatorName + ISID + target, TSIH 0: reinstatement */
	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1);
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(login_status(bhs), 0);
	iscsi_sessions_foreach(f->srv, count_session, &n);
	assert_int_equal(n, 1);
	{
		int new_fd = f->fd;

		f->fd = old_fd;
		assert_int_equal(recv_pdu(f, bhs, NULL, 0), -1); /* old one was closed */
		f->fd = new_fd;
	}
	close(old_fd);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_11_send_targets_reply_continues_with_c_bit(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	static char text[65536];
	size_t total = 0;
	unsigned pdus = 0;

	for (int i = 0; i < 200; i++) { /* ~14 KiB of SendTargets text */
		char name[64];
		struct scsi_target *t;

		snprintf(name, sizeof(name), "iqn.2026-01.test:many-%03d", i);
		assert_int_equal(scsi_target_create(f->core, name, &t), 0);
		assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	}
	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|SessionType=Discovery");
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(login_status(bhs), 0);
	send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, ISCSI_RSVD_TAG, "SendTargets=All");
	for (;;) {
		assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_TEXT_RSP);
		/* the initiator did not declare MaxRecvDataSegmentLength: 8192 */
		assert_true(get_be24(bhs + 5) <= 8192);
		total += get_be24(bhs + 5);
		pdus++;
		if (bhs[1] & ISCSI_FLAG_FINAL)
			break;
		assert_true(bhs[1] & ISCSI_TEXT_FLAG_CONTINUE);
		/* 11.10.4: an empty request with the target's TTT asks for more */
		send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, get_be32(bhs + 20), NULL);
	}
	assert_true(pdus >= 2);
	assert_true(total > 8192);
	assert_non_null(strstr(text, "many-199"));
	close(f->fd);
	pump(f, 10);
}

static int setup(void **state)
{
	return fx_setup(state, NULL);
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_6_3_normal_login_to_ffp),
	    cmocka_unit_test(rfc7143_6_3_security_then_operational),
	    cmocka_unit_test(rfc7143_6_2_1_c_bit_continuation),
	    cmocka_unit_test(rfc7143_13_6_missing_initiator_name_0207),
	    cmocka_unit_test(rfc7143_13_4_missing_target_name_0207),
	    cmocka_unit_test(rfc7143_11_13_5_unknown_target_0203),
	    cmocka_unit_test(rfc7143_11_13_5_acl_refuses_0202),
	    cmocka_unit_test(rfc7143_11_12_4_unsupported_version_0205),
	    cmocka_unit_test(rfc7143_6_3_backwards_transition_0200),
	    cmocka_unit_test(rfc7143_11_12_3_reserved_stage_0200),
	    cmocka_unit_test(rfc7143_11_12_2_transit_and_continue_0200),
	    cmocka_unit_test(rfc7143_12_no_acceptable_auth_0201),
	    cmocka_unit_test(rfc7143_6_3_1_unknown_tsih_020a),
	    cmocka_unit_test(rfc7143_6_non_login_pdu_during_login_closes),
	    cmocka_unit_test(rfc7143_appendix_c_discovery_send_targets),
	    cmocka_unit_test(rfc7143_appendix_c_advertised_address_with_bound_port),
	    cmocka_unit_test(rfc7143_6_3_5_session_reinstatement_closes_old),
	    cmocka_unit_test(rfc7143_11_11_send_targets_reply_continues_with_c_bit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
