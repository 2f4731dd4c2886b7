/* SPDX-License-Identifier: MIT */
/*
 * Issue 9 resource limits over loopback: the data buffers a connection's
 * commands may hold (max_conn_data_bytes: the excess is answered TASK SET
 * FULL, SAM-5 5.3.1, its data discarded, its CmdSN consumed, RFC 7143 4.2.2.1)
 * and the connections one source address may open (max_connections_per_address,
 * refused at accept), both also after iscsi_server_set_settings (live reload).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iscsi_conn.h"
#include "iscsi_harness.h"
#include "targetd/iscsi_reconf.h"

#define CAP (64u << 10)

static uint8_t wbuf[1u << 17];

/* READ(10) / WRITE(10) / TEST UNIT READY with flags (F, R, W, attr). */
static void send_cmd(struct fx *f, uint8_t flags, uint32_t itt, uint32_t cmdsn, uint32_t edtl,
		     uint8_t op, uint16_t blocks, uint32_t immlen)
{
	send_scsi_cmd(f, flags, itt, cmdsn, edtl, op, 0, blocks, wbuf, immlen);
}

static void ping(struct fx *f, uint32_t itt)
{
	uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL};
	uint8_t bhs[48];

	put_be32(b + 16, itt);
	put_be32(b + 20, ISCSI_RSVD_TAG);
	send_raw(f, b, NULL, 0);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
	assert_int_equal(get_be32(bhs + 16), itt);
}

static void login(struct fx *f)
{
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ,
		 ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3, 0, 0, 0,
		 "InitiatorName=iqn.2026-01.test:init|TargetName=iqn.2026-01.test:t1|"
		 "InitialR2T=No|ImmediateData=Yes|FirstBurstLength=4096|MaxBurstLength=65536|"
		 "MaxRecvDataSegmentLength=65536");
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(bhs[36], 0);
	/* SAM-5 6.3.1: consume the power-on unit attention (CmdSN 1) */
	send_cmd(f, ISCSI_FLAG_FINAL, 1, 1, 0, 0x00, 0, 0);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);
}

static void expect_r2t(struct fx *f, uint32_t itt, uint32_t *ttt)
{
	uint8_t bhs[48];

	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_R2T);
	assert_int_equal(get_be32(bhs + 16), itt);
	*ttt = get_be32(bhs + 20);
}

/* SCSI Response for itt: its status; *exp_cmdsn from the header. */
static uint8_t expect_rsp(struct fx *f, uint32_t itt, uint32_t *exp_cmdsn)
{
	uint8_t bhs[48];

	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);
	assert_int_equal(get_be32(bhs + 16), itt);
	if (exp_cmdsn)
		*exp_cmdsn = get_be32(bhs + 28);
	return bhs[3];
}

static struct iscsi_conn *only_conn(struct fx *f)
{
	assert_non_null(f->srv->conns);
	return f->srv->conns;
}

static void sam5_5_3_1_commands_over_max_conn_data_bytes_get_task_set_full(void **state)
{
	struct fx *f = *state;
	uint32_t ttt2, ttt3, ttt, exp;

	login(f);
	/* two 32 KiB WRITEs waiting for R2T data hold the whole 64 KiB */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, 32768, 0x2a, 64, 0);
	expect_r2t(f, 2, &ttt2);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 3, 3, 32768, 0x2a, 64, 0);
	expect_r2t(f, 3, &ttt3);
	assert_int_equal(only_conn(f)->data_bytes, CAP);
	/* a WRITE with immediate data and unsolicited Data-Out (F=0): no buffer,
	 * the data goes to the discard sink, no R2T, TASK SET FULL; its CmdSN is
	 * consumed (ExpCmdSN 5 in the response) */
	send_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 4, 4, 4096, 0x2a, 8, 1024);
	send_data_out(f, 4, ISCSI_RSVD_TAG, 0, 1024, wbuf, 3072, true);
	assert_int_equal(expect_rsp(f, 4, &exp), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(exp, 5);
	/* READs count their Data-In buffer the same way */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 5, 5, 512, 0x28, 1, 0);
	assert_int_equal(expect_rsp(f, 5, &exp), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(exp, 6);
	assert_int_equal(only_conn(f)->data_bytes, CAP);
	ping(f, 0x77);
	/* no deadlock: the admitted WRITE still takes its Data-Out and ends */
	send_data_out(f, 2, ttt2, 0, 0, wbuf, 32768, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	assert_int_equal(only_conn(f)->data_bytes, CAP / 2);
	/* room again: the next WRITE is admitted */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 6, 6, 32768, 0x2a, 64, 0);
	expect_r2t(f, 6, &ttt);
	send_data_out(f, 6, ttt, 0, 0, wbuf, 32768, true);
	assert_int_equal(expect_rsp(f, 6, NULL), SCSI_STATUS_GOOD);
	send_data_out(f, 3, ttt3, 0, 0, wbuf, 32768, true);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_GOOD);
	assert_int_equal(only_conn(f)->data_bytes, 0);
	close(f->fd);
	pump(f, 10);
}

static void sam5_5_3_1_task_set_full_answered_in_cmdsn_order(void **state)
{
	struct fx *f = *state;
	uint32_t ttt, exp;

	login(f);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, CAP, 0x2a, 128, 0);
	expect_r2t(f, 2, &ttt);
	/* CmdSN 4 arrives before 3: refused at its header, answered only at its
	 * turn (RFC 7143 4.2.2.1), after CmdSN 3 */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 4, 4, 512, 0x28, 1, 0);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 3, 3, 512, 0x28, 1, 0);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(expect_rsp(f, 4, &exp), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(exp, 5);
	send_data_out(f, 2, ttt, 0, 0, wbuf, CAP, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_4_2_2_1_held_and_immediate_commands_over_cap_task_set_full(void **state)
{
	struct fx *f = *state;
	uint32_t ttt, exp;

	login(f);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, CAP, 0x2a, 128, 0);
	expect_r2t(f, 2, &ttt);
	/* CmdSN 4 ahead of the gap at 3, with immediate data and unsolicited
	 * Data-Out (F=0): read into the sink while it is held, no R2T */
	send_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 4, 4, 4096, 0x2a, 8, 1024);
	send_data_out(f, 4, ISCSI_RSVD_TAG, 0, 1024, wbuf, 3072, true);
	/* an immediate command (I bit) is answered at once and does not
	 * advance ExpCmdSN (RFC 7143 3.2.2.1) */
	{
		uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_SCSI_CMD | ISCSI_OP_IMMEDIATE,
					    ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1};

		put_be32(b + 16, 5);
		put_be32(b + 20, 512);
		put_be32(b + 24, 3);
		b[32] = 0x28;
		put_be16(b + 39, 1);
		send_raw(f, b, NULL, 0);
	}
	assert_int_equal(expect_rsp(f, 5, &exp), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(exp, 3);
	ping(f, 0x78); /* the connection reads on while CmdSN 4 is held */
	/* the gap fills: 3 and then the held 4 are answered, window moves on */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 3, 3, 512, 0x28, 1, 0);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(expect_rsp(f, 4, &exp), SCSI_STATUS_TASK_SET_FULL);
	assert_int_equal(exp, 5);
	send_data_out(f, 2, ttt, 0, 0, wbuf, CAP, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	assert_int_equal(only_conn(f)->data_bytes, 0);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_4_5_1_read_cdb_longer_than_edtl_charged_by_its_cdb(void **state)
{
	struct fx *f = *state;
	uint32_t ttt;

	login(f);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, CAP / 2, 0x2a, 64, 0);
	expect_r2t(f, 2, &ttt);
	/* READ(10) of 128 blocks (64 KiB) with EDTL 0 and no R bit: scsi would
	 * read, and allocate, what the CDB asks (only the EDTL is sent, the rest
	 * is overflow, 11.4.5.1), so the charge is 64 KiB and it does not fit */
	send_cmd(f, ISCSI_FLAG_FINAL | 1, 3, 3, 0, 0x28, 128, 0);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_TASK_SET_FULL);
	/* 32 KiB with EDTL 512 fits beside the WRITE: 512 bytes come back */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 4, 4, 512, 0x28, 64, 0);
	{
		uint8_t bhs[48];
		uint32_t dsl;

		assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, &dsl), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_DATA_IN);
		assert_int_equal(dsl, 512);
		assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
	}
	send_data_out(f, 2, ttt, 0, 0, wbuf, CAP / 2, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	assert_int_equal(only_conn(f)->data_bytes, 0);
	close(f->fd);
	pump(f, 10);
}

static void issue9_command_larger_than_cap_admitted_when_connection_holds_none(void **state)
{
	struct fx *f = *state;
	uint32_t ttt;

	login(f);
	/* 128 KiB > max_conn_data_bytes, but nothing else is held: admitted, or
	 * such a command could never run */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, 2 * CAP, 0x2a, 256, 0);
	expect_r2t(f, 2, &ttt);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 3, 3, 512, 0x28, 1, 0);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_TASK_SET_FULL);
	/* R2Ts of MaxBurstLength = 64 KiB each (RFC 7143 11.8) */
	send_data_out(f, 2, ttt, 0, 0, wbuf, 65536, true);
	expect_r2t(f, 2, &ttt);
	send_data_out(f, 2, ttt, 0, 65536, wbuf, 65536, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	/* and a READ now runs (GOOD, with its data) */
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 4, 4, 512, 0x28, 1, 0);
	{
		uint8_t bhs[48];

		assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_DATA_IN);
		assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
	}
	close(f->fd);
	pump(f, 10);
}

static void issue9_reload_applies_max_conn_data_bytes_to_new_commands(void **state)
{
	struct fx *f = *state;
	struct iscsi_settings s = f->srv->s;
	uint32_t ttt;

	login(f);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1, 2, 2, 32768, 0x2a, 64, 0);
	expect_r2t(f, 2, &ttt);
	s.max_conn_data_bytes = 32768;
	iscsi_server_set_settings(f->srv, &s);
	send_cmd(f, ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_READ | 1, 3, 3, 512, 0x28, 1, 0);
	assert_int_equal(expect_rsp(f, 3, NULL), SCSI_STATUS_TASK_SET_FULL);
	send_data_out(f, 2, ttt, 0, 0, wbuf, 32768, true);
	assert_int_equal(expect_rsp(f, 2, NULL), SCSI_STATUS_GOOD);
	close(f->fd);
	pump(f, 10);
}

/* ---- connections per source address ------------------------------------- */

static int connect_from(struct fx *f, int family, const char *src, const char *dst)
{
	struct sockaddr_storage a = {0}, b = {0};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *s = (void *)&a, *d = (void *)&b;

		s->sin_family = d->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, src, &s->sin_addr), 1);
		assert_int_equal(inet_pton(AF_INET, dst, &d->sin_addr), 1);
		d->sin_port = htons(f->port);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)&a, *d = (void *)&b;

		s->sin6_family = d->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, src, &s->sin6_addr), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, &d->sin6_addr), 1);
		d->sin6_port = htons(iscsi_portal_port(f->srv, 1));
		len = sizeof(*s);
	}
	if (bind(fd, (struct sockaddr *)&a, len)) {
		close(fd);
		return -1;
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&b, len), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	pump(f, 20); /* accept */
	return fd;
}

/* Still open (the target has not closed it)? */
static bool is_open(struct fx *f, int fd)
{
	char c;
	ssize_t n;

	pump(f, 20);
	n = read(fd, &c, 1);
	return n < 0 && errno == EAGAIN;
}

static void issue9_max_connections_per_address_refuses_extra_ipv4(void **state)
{
	struct fx *f = *state;
	int a = connect_from(f, AF_INET, "127.0.0.1", "127.0.0.1");
	int b = connect_from(f, AF_INET, "127.0.0.1", "127.0.0.1");
	int c = connect_from(f, AF_INET, "127.0.0.1", "127.0.0.1");
	int d = connect_from(f, AF_INET, "127.0.0.2", "127.0.0.1");
	struct iscsi_settings s = f->srv->s;

	assert_true(is_open(f, a));
	assert_true(is_open(f, b));
	assert_false(is_open(f, c)); /* the third from 127.0.0.1: closed at once */
	assert_true(is_open(f, d)); /* another address is not affected */
	assert_int_equal(f->srv->n_conns, 3);
	close(c);
	/* a slot freed: 127.0.0.1 may connect again */
	close(a);
	pump(f, 20);
	c = connect_from(f, AF_INET, "127.0.0.1", "127.0.0.1");
	assert_true(is_open(f, c));
	/* reload: the new value applies to the next connection */
	s.max_connections_per_address = 1;
	iscsi_server_set_settings(f->srv, &s);
	a = connect_from(f, AF_INET, "127.0.0.2", "127.0.0.1");
	assert_false(is_open(f, a));
	s.max_connections_per_address = ISCSI_LIMIT_OFF;
	iscsi_server_set_settings(f->srv, &s);
	close(a);
	a = connect_from(f, AF_INET, "127.0.0.1", "127.0.0.1");
	assert_true(is_open(f, a));
	close(a);
	close(b);
	close(c);
	close(d);
	pump(f, 20);
}

static void issue9_max_connections_per_address_refuses_extra_ipv6(void **state)
{
	struct fx *f = *state;
	int a, b, c;

	if (iscsi_portal_add(f->srv, "::1", 0, 1, NULL)) {
		skip(); /* no IPv6 loopback here */
		return;
	}
	a = connect_from(f, AF_INET6, "::1", "::1");
	if (a < 0) {
		skip();
		return;
	}
	b = connect_from(f, AF_INET6, "::1", "::1");
	c = connect_from(f, AF_INET6, "::1", "::1");
	assert_true(is_open(f, a));
	assert_true(is_open(f, b));
	assert_false(is_open(f, c));
	close(a);
	close(b);
	close(c);
	pump(f, 20);
}

static void issue9_peer_ip_ipv4_and_v4_mapped_are_one_address(void **state)
{
	struct sockaddr_storage s4 = {0}, s6 = {0};
	struct sockaddr_in *in = (void *)&s4;
	struct sockaddr_in6 *in6 = (void *)&s6;
	struct in6_addr a, b;

	(void)state;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &in->sin_addr);
	in6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6->sin6_addr);
	iscsi_peer_ip(&s4, &a);
	iscsi_peer_ip(&s6, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	inet_pton(AF_INET6, "2001:db8::7", &in6->sin6_addr);
	iscsi_peer_ip(&s6, &b);
	assert_memory_not_equal(&a, &b, sizeof(a));
}

static int setup_data(void **state)
{
	struct iscsi_settings s = {0};

	iscsi_settings_defaults(&s);
	s.initial_r2t = false;
	s.max_conn_data_bytes = CAP;
	return fx_setup(state, &s);
}

static int setup_addr(void **state)
{
	struct iscsi_settings s = {0};

	iscsi_settings_defaults(&s);
	s.max_connections_per_address = 2;
	return fx_setup(state, &s);
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		sam5_5_3_1_commands_over_max_conn_data_bytes_get_task_set_full, setup_data,
		teardown),
	    cmocka_unit_test_setup_teardown(sam5_5_3_1_task_set_full_answered_in_cmdsn_order,
					    setup_data, teardown),
	    cmocka_unit_test_setup_teardown(
		rfc7143_4_2_2_1_held_and_immediate_commands_over_cap_task_set_full, setup_data,
		teardown),
	    cmocka_unit_test_setup_teardown(
		rfc7143_11_4_5_1_read_cdb_longer_than_edtl_charged_by_its_cdb, setup_data,
		teardown),
	    cmocka_unit_test_setup_teardown(
		issue9_command_larger_than_cap_admitted_when_connection_holds_none, setup_data,
		teardown),
	    cmocka_unit_test_setup_teardown(
		issue9_reload_applies_max_conn_data_bytes_to_new_commands, setup_data, teardown),
	    cmocka_unit_test_setup_teardown(issue9_max_connections_per_address_refuses_extra_ipv4,
					    setup_addr, teardown),
	    cmocka_unit_test_setup_teardown(issue9_max_connections_per_address_refuses_extra_ipv6,
					    setup_addr, teardown),
	    cmocka_unit_test(issue9_peer_ip_ipv4_and_v4_mapped_are_one_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
