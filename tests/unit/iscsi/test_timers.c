/* SPDX-License-Identifier: MIT */
/* Login timeout and NOP-In keepalive (RFC 7143 11.19, 6) over loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iscsi_harness.h"

static void login(struct fx *f)
{
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ,
		 ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3, 0, 0, 0,
		 "InitiatorName=iqn.2026-01.test:init|TargetName=iqn.2026-01.test:t1");
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(bhs[36], 0);
}

static void login_timeout_drops_silent_connection(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	client_connect(f);
	/* nothing sent: the 200 ms login timer closes the connection */
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), -1);
	close(f->fd);
}

static void rfc7143_11_19_nop_in_ping_answered_keeps_session(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48],
	    b[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL};

	login(f);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
		/* 11.19: target ping: ITT reserved, TTT valid */
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
		assert_int_equal(get_be32(bhs + 16), ISCSI_RSVD_TAG);
		assert_int_not_equal(get_be32(bhs + 20), ISCSI_RSVD_TAG);
		/* 11.18: the answer echoes the TTT with ITT reserved */
		put_be32(b + 16, ISCSI_RSVD_TAG);
		memcpy(b + 20, bhs + 20, 4);
		put_be32(b + 24, 1);
		assert_int_equal(write(f->fd, b, sizeof(b)), (ssize_t)sizeof(b));
	}
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_19_nop_in_unanswered_drops_connection(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	int pings = 0;

	login(f);
	for (;;) {
		if (recv_pdu(f, bhs, NULL, 0))
			break;
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
		pings++;
	}
	assert_true(pings >= 1);
	close(f->fd);
}

static void rfc7143_11_19_busy_connection_gets_no_ping(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48],
	    b[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL};

	login(f);
	/* ~4 NOP intervals (250 ms, setup_busy) of back-to-back traffic: every
	 * PDU the target sends is the answer to ours (ITT echoed), never an
	 * unsolicited ping (ITT reserved). A gap of a whole interval between
	 * two PDUs (a descheduled test process) would make a ping legitimate,
	 * so the interval is long against the ~10 ms per round trip here. */
	for (uint32_t i = 1; i <= 100; i++) {
		put_be32(b + 16, i);
		put_be32(b + 20, ISCSI_RSVD_TAG);
		put_be32(b + 24, 1);
		assert_int_equal(write(f->fd, b, sizeof(b)), (ssize_t)sizeof(b));
		assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
		assert_int_equal(get_be32(bhs + 16), i);
	}
	close(f->fd);
	pump(f, 10);
}

static int setup(void **state)
{
	struct iscsi_settings s = {0};

	s.nop_interval_ms = 100;
	s.nop_timeout_ms = 250;
	s.login_timeout_ms = 200;
	iscsi_settings_defaults(&s);
	return fx_setup(state, &s);
}

static int setup_busy(void **state)
{
	struct iscsi_settings s = {0};

	s.nop_interval_ms = 250;
	s.nop_timeout_ms = 1000;
	s.login_timeout_ms = 1000;
	iscsi_settings_defaults(&s);
	return fx_setup(state, &s);
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(login_timeout_drops_silent_connection),
	    cmocka_unit_test(rfc7143_11_19_nop_in_ping_answered_keeps_session),
	    cmocka_unit_test(rfc7143_11_19_nop_in_unanswered_drops_connection),
	    cmocka_unit_test_setup_teardown(rfc7143_11_19_busy_connection_gets_no_ping, setup_busy,
					    teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
