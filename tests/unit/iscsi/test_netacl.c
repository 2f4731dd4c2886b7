/* SPDX-License-Identifier: MIT */
/*
 * Source-network ACLs (allow_net, issue 6): network parsing and matching, and
 * over a real loopback login: a target restricted to other networks refuses
 * the login with 02/02 (RFC 7143 11.13.5) and is left out of SendTargets
 * (RFC 7143 appendix C.1: only targets the initiator may access).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iscsi_harness.h"
#include "iscsi_netacl.h"

#define OP_TO_FFP (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3)

static bool match(const char *net, const char *addr)
{
	struct iscsi_net n;
	struct sockaddr_storage ss = {0};

	assert_int_equal(iscsi_net_parse(net, &n), 0);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
	return iscsi_net_list_match(&n, 1, (struct sockaddr *)&ss);
}

static void allow_net_parse_and_match(void **state)
{
	struct iscsi_net n;

	(void)state;
	assert_true(match("10.0.0.0/8", "10.200.1.2"));
	assert_false(match("10.0.0.0/8", "11.0.0.1"));
	assert_true(match("192.168.1.0/25", "192.168.1.127"));
	assert_false(match("192.168.1.0/25", "192.168.1.128"));
	assert_true(match("192.0.2.7", "192.0.2.7"));
	assert_false(match("192.0.2.7", "192.0.2.8"));
	assert_true(match("0.0.0.0/0", "203.0.113.9"));
	assert_true(match("fd00::/8", "fd12:3456::1"));
	assert_false(match("fd00::/8", "fe80::1"));
	assert_true(match("127.0.0.0/8", "::ffff:127.0.0.1")); /* [::] listener */
	assert_int_equal(iscsi_net_parse("10.0.0.0/33", &n), -EINVAL);
	assert_int_equal(iscsi_net_parse("10.0.0.0/", &n), -EINVAL);
	assert_int_equal(iscsi_net_parse("10.0.0/8", &n), -EINVAL);
	assert_int_equal(iscsi_net_parse("fd00::/129", &n), -EINVAL);
	assert_int_equal(iscsi_net_parse("host.example/8", &n), -EINVAL);
}

static uint16_t login(struct fx *f)
{
	uint8_t bhs[48];
	char text[1024];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|TargetName=" T1 "|SessionType=Normal");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	close(f->fd);
	pump(f, 10);
	return (uint16_t)(bhs[36] << 8 | bhs[37]);
}

static bool send_targets_lists_t1(struct fx *f)
{
	uint8_t bhs[48];
	char text[8192];
	bool found;

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ, OP_TO_FFP, 0, 0, 0,
		 "InitiatorName=" INIT "|SessionType=Discovery");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(bhs[36], 0);
	send_pdu(f, ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL, 0, 0, ISCSI_RSVD_TAG, "SendTargets=All");
	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	found = strstr(text, "TargetName=" T1) != NULL;
	close(f->fd);
	pump(f, 10);
	return found;
}

static void rfc7143_11_13_5_allow_net_refuses_other_networks_0202(void **state)
{
	struct fx *f = *state;
	const char *other[] = {"10.0.0.0/8", "fd00::/8"};
	const char *lo[] = {"10.0.0.0/8", "127.0.0.0/8"};

	assert_int_equal(login(f), 0);
	assert_true(send_targets_lists_t1(f));
	assert_int_equal(iscsi_server_set_allow_net(f->srv, T1, other, 2), 0);
	assert_int_equal(login(f), ISCSI_LOGIN_STATUS_AUTHZ_FAILED);
	assert_false(send_targets_lists_t1(f));
	assert_int_equal(iscsi_server_set_allow_net(f->srv, T1, lo, 2), 0);
	assert_int_equal(login(f), 0);
	assert_true(send_targets_lists_t1(f));
	/* a bad network changes nothing */
	const char *bad[] = {"10.0.0.0/99"};
	assert_int_equal(iscsi_server_set_allow_net(f->srv, T1, bad, 1), -EINVAL);
	assert_int_equal(login(f), 0);
	/* removed: everyone again */
	assert_int_equal(iscsi_server_set_allow_net(f->srv, T1, other, 2), 0);
	assert_int_equal(iscsi_server_set_allow_net(f->srv, T1, NULL, 0), 0);
	assert_int_equal(login(f), 0);
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
	    cmocka_unit_test(allow_net_parse_and_match),
	    cmocka_unit_test_setup_teardown(rfc7143_11_13_5_allow_net_refuses_other_networks_0202,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
