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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"
#include "targetd/util.h"
#include "targetd/wire/iscsi_pdu.h"

#define T1 "iqn.2026-01.test:t1"
#define TACL "iqn.2026-01.test:acl"
#define INIT "iqn.2026-01.test:init"

struct fx {
	struct evl *evl;
	struct evl_timer *stop;
	struct scsi_core *core;
	struct scsi_lu *lu;
	struct iscsi_server *srv;
	uint16_t port;
	int fd;
};

static void stop_fn(void *arg)
{
	evl_stop(((struct fx *)arg)->evl);
}

static void pump(struct fx *f, unsigned ms)
{
	evl_timer_arm(f->stop, ms, 0);
	evl_run(f->evl);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct scsi_core_params cp = {.state_dir = "/tmp", .max_registrants = 16};
	struct scsi_lu_params lp = {
	    .path = "mem:1M", .block_size = 512, .serial = "iscsi-login-test", .write_cache = true};
	struct iscsi_settings s = {0};
	struct scsi_target *t;

	iscsi_settings_defaults(&s);
	assert_int_equal(evl_create(&f->evl), 0);
	assert_int_equal(evl_timer_create(f->evl, stop_fn, f, &f->stop), 0);
	assert_int_equal(scsi_core_create(f->evl, &cp, &f->core), 0);
	assert_int_equal(scsi_lu_create(f->core, &lp, &f->lu), 0);
	assert_int_equal(scsi_target_create(f->core, T1, &t), 0);
	assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t, 0, f->lu), 0);
	assert_int_equal(scsi_target_create(f->core, TACL, &t), 0);
	assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t, 0, f->lu), 0);
	assert_int_equal(scsi_target_acl_add(t, "iqn.2026-01.test:allowed"), 0);
	assert_int_equal(iscsi_server_create(f->evl, f->core, &s, &f->srv), 0);
	assert_int_equal(iscsi_portal_add(f->srv, "127.0.0.1", 0, 1, NULL), 0);
	f->port = iscsi_portal_port(f->srv, 0);
	assert_true(f->port != 0);
	*state = f;
	return 0;
}

static void shutdown_done(void *arg)
{
	*(bool *)arg = true;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	bool done = false;

	iscsi_server_shutdown(f->srv, 1000, shutdown_done, &done);
	for (int i = 0; i < 50 && !done; i++)
		pump(f, 20);
	assert_true(done);
	iscsi_server_destroy(f->srv);
	scsi_core_destroy(f->core);
	evl_timer_destroy(f->stop);
	evl_destroy(f->evl);
	free(f);
	return 0;
}

static void client_connect(struct fx *f)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(connect(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(f->fd, F_SETFL, O_NONBLOCK);
	pump(f, 10); /* accept */
}

/* Keys as "k=v|k=v". */
static void send_pdu(struct fx *f, uint8_t op, uint8_t flags, uint8_t vmin, uint16_t tsih,
		     uint32_t ttt, const char *keys)
{
	uint8_t buf[8192 + ISCSI_BHS_LEN + 4] = {0};
	size_t len = keys ? strlen(keys) : 0, tot;

	buf[0] = op | ISCSI_OP_IMMEDIATE;
	buf[1] = flags;
	buf[3] = vmin;
	put_be24(buf + 5, (uint32_t)len);
	memcpy(buf + 8, "\x80\x12\x34\x56\x00\x01", 6);
	put_be16(buf + 14, tsih);
	put_be32(buf + 16, 0x1000);
	if (op == ISCSI_OP_TEXT_REQ)
		put_be32(buf + 20, ttt);
	put_be32(buf + 24, 1); /* CmdSN */
	memcpy(buf + ISCSI_BHS_LEN, keys ? keys : "", len);
	for (size_t i = 0; i < len; i++)
		if (buf[ISCSI_BHS_LEN + i] == '|')
			buf[ISCSI_BHS_LEN + i] = 0;
	tot = ISCSI_BHS_LEN + len + ISCSI_PAD(len);
	assert_int_equal(write(f->fd, buf, tot), (ssize_t)tot);
}

/* Pump until one whole PDU arrives; returns 0 (BHS in bhs, keys joined
 * with '|' in text) or -1 when the connection was closed. */
static int recv_pdu(struct fx *f, uint8_t *bhs, char *text, size_t cap)
{
	uint8_t buf[65536];
	size_t have = 0, need = ISCSI_BHS_LEN;

	for (int i = 0; i < 100; i++) {
		ssize_t n = read(f->fd, buf + have, need - have);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) /* closed (RST if unread) */
			return -1;
		if (n > 0) {
			have += (size_t)n;
			if (have == ISCSI_BHS_LEN) {
				uint32_t dsl = get_be24(buf + 5);

				need = ISCSI_BHS_LEN + dsl + ISCSI_PAD(dsl);
			}
			if (have == need)
				break;
			continue;
		}
		assert_true(errno == EAGAIN);
		pump(f, 10);
	}
	assert_int_equal(have, need);
	memcpy(bhs, buf, ISCSI_BHS_LEN);
	if (text) {
		uint32_t dsl = get_be24(buf + 5);
		size_t o = 0;

		for (uint32_t i = 0; i < dsl && o + 1 < cap; i++)
			text[o++] = buf[ISCSI_BHS_LEN + i] ? (char)buf[ISCSI_BHS_LEN + i] : '|';
		text[o] = 0;
	}
	return 0;
}

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
	    cmocka_unit_test(rfc7143_6_3_5_session_reinstatement_closes_old),
	    cmocka_unit_test(rfc7143_11_11_send_targets_reply_continues_with_c_bit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
