/* SPDX-License-Identifier: MIT */
/* conf_load: a good file becomes the expected struct; every problem is
 * reported with its line, and all of them are reported. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf_test_helpers.h"

static const char good[] = "; example\n" /* 1 */
			   "[global]\n" /* 2 */
			   "state_dir = /tmp/targetd-state\n" /* 3 */
			   "max_recv_data_segment_length = 128k\n" /* 4 */
			   "first_burst_length = 65536\n" /* 5 */
			   "max_burst_length = 1M\n" /* 6 */
			   "nop_interval = 5s\n" /* 7 */
			   "nop_timeout = 1500ms\n" /* 8 */
			   "login_timeout = 20\n" /* 9 */
			   "max_registrants = 64\n" /* 10 */
			   "cmdsn_window = 64\n" /* 11 */
			   "log_level = info\n" /* 12 */
			   "\n" /* 13 */
			   "[portal lan]\n" /* 14 */
			   "listen = 127.0.0.1:3261\n" /* 15 */
			   "listen = [::1]\n" /* 16 */
			   "group = 2\n" /* 17 */
			   "advertise = 192.0.2.1\n" /* 18 */
			   "[portal other]\n" /* 19 */
			   "listen = 127.0.0.1:0\n" /* 20 */
			   "[target iqn.2024-01.org.example:disk1]\n" /* 21 */
			   "portal_group = 2\n" /* 22 */
			   "allow = iqn.1994-05.com.redhat:client1\n" /* 23 */
			   "allow = iqn.1994-05.com.redhat:client2 ; c\n" /* 24 */
			   "[lun iqn.2024-01.org.example:disk1 1]\n" /* 25 */
			   "path = /dev/sdb\n" /* 26 */
			   "block_size = 4096\n" /* 27 */
			   "read_only = yes\n" /* 28 */
			   "write_cache = no\n" /* 29 */
			   "[lun iqn.2024-01.org.example:disk1 0]\n" /* 30 */
			   "path = mem:1G\n" /* 31 */
			   "serial = DISK0-A\n"; /* 32 */

static void good_file_parsed_to_expected_struct(void **state)
{
	struct loaded l;
	struct conf *c;
	struct conf_target *t;

	(void)state;
	load_text(&l, good);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.p.n, 0);
	c = l.c;
	assert_string_equal(c->state_dir, "/tmp/targetd-state");
	assert_int_equal(c->max_recv_data_segment_length, 131072);
	assert_int_equal(c->first_burst_length, 65536);
	assert_int_equal(c->max_burst_length, 1048576);
	assert_int_equal(c->nop_interval_ms, 5000);
	assert_int_equal(c->nop_timeout_ms, 1500);
	assert_int_equal(c->login_timeout_ms, 20000);
	assert_int_equal(c->max_registrants, 64);
	assert_int_equal(c->cmdsn_window, 64);
	assert_int_equal(c->log_level, 6);
	assert_int_equal(c->max_connections, 0); /* unset: default */

	assert_int_equal(c->n_portals, 3);
	assert_string_equal(c->portals[0].host, "127.0.0.1");
	assert_int_equal(c->portals[0].port, 3261);
	assert_int_equal(c->portals[0].tpgt, 2);
	assert_string_equal(c->portals[0].advertise, "192.0.2.1:3261");
	assert_int_equal(c->portals[0].line, 15);
	assert_string_equal(c->portals[1].host, "::1");
	assert_int_equal(c->portals[1].port, 3260);
	assert_string_equal(c->portals[1].advertise, "192.0.2.1:3260");
	assert_int_equal(c->portals[2].port, 0);
	assert_int_equal(c->portals[2].tpgt, 1);
	assert_null(c->portals[2].advertise);

	assert_int_equal(c->n_targets, 1);
	t = &c->targets[0];
	assert_string_equal(t->name, "iqn.2024-01.org.example:disk1");
	assert_int_equal(t->line, 21);
	assert_int_equal(t->n_tpgts, 1);
	assert_int_equal(t->tpgts[0], 2);
	assert_int_equal(t->n_allow, 2);
	assert_string_equal(t->allow[1], "iqn.1994-05.com.redhat:client2");
	assert_int_equal(t->n_luns, 2);
	/* sorted by LUN number */
	assert_int_equal(t->luns[0].lun, 0);
	assert_string_equal(t->luns[0].path, "mem:1G");
	assert_string_equal(t->luns[0].serial, "DISK0-A");
	assert_int_equal(t->luns[0].block_size, 512);
	assert_false(t->luns[0].read_only);
	assert_true(t->luns[0].write_cache);
	assert_int_equal(t->luns[1].lun, 1);
	assert_int_equal(t->luns[1].block_size, 4096);
	assert_true(t->luns[1].read_only);
	assert_false(t->luns[1].write_cache);
	assert_int_equal(strlen(t->luns[1].serial), 32);
	assert_int_equal(t->luns[1].line, 25);
	unload(&l);
}

static void spc4_7_8_15_default_serial_stable_and_distinct(void **state)
{
	static const char text[] = "[target iqn.2024-01.org.example:a]\n"
				   "[lun iqn.2024-01.org.example:a 0]\npath=/x\n"
				   "[lun iqn.2024-01.org.example:a 1]\npath=/y\n";
	struct loaded a, b;

	(void)state;
	load_text(&a, text);
	load_text(&b, text);
	assert_int_equal(a.r, 0);
	assert_int_equal(b.r, 0);
	const char *s0 = a.c->targets[0].luns[0].serial, *s1 = a.c->targets[0].luns[1].serial;

	assert_int_equal(strlen(s0), 32);
	assert_int_equal(strspn(s0, "0123456789abcdef"), 32);
	assert_string_equal(s0, b.c->targets[0].luns[0].serial);
	assert_string_not_equal(s0, s1);
	/* defaults: one portal 0.0.0.0:3260 group 1, target on group 1 */
	assert_int_equal(a.c->n_portals, 1);
	assert_string_equal(a.c->portals[0].host, "0.0.0.0");
	assert_int_equal(a.c->portals[0].port, 3260);
	assert_int_equal(a.c->targets[0].tpgts[0], 1);
	assert_string_equal(a.c->state_dir, "/var/lib/targetd");
	unload(&a);
	unload(&b);
}

static const char bad[] = "[global]\n" /* 1 */
			  "max_recv_data_segment_length = 100\n" /* 2 */
			  "first_burst_length = 2M\n" /* 3 */
			  "max_burst_length = 1M\n" /* 4 */
			  "bogus = 1\n" /* 5 */
			  "nop_interval = 5 parsecs\n" /* 6 */
			  "[frobnicate]\n" /* 7 */
			  "whatever = 1\n" /* 8 */
			  "[portal a]\n" /* 9 */
			  "listen = 127.0.0.1:3260\n" /* 10 */
			  "listen = ::1:3260\n" /* 11 */
			  "[portal b]\n" /* 12 */
			  "listen = 127.0.0.1:3260\n" /* 13 */
			  "group = 0\n" /* 14 */
			  "[target iqn.2024-01.org.Example:x]\n" /* 15 */
			  "[target iqn.2024-01.org.example:x]\n" /* 16 */
			  "portal_group = 7\n" /* 17 */
			  "allow = someone\n" /* 18 */
			  "[target iqn.2024-01.org.example:x]\n" /* 19 */
			  "[lun iqn.2024-01.org.example:x 0]\n" /* 20 */
			  "path = /a\n" /* 21 */
			  "path = /b\n" /* 22 */
			  "block_size = 1024\n" /* 23 */
			  "serial = S1\n" /* 24 */
			  "[lun iqn.2024-01.org.example:x 0]\n" /* 25 */
			  "[lun iqn.2024-01.org.example:x 1]\n" /* 26 */
			  "serial = S1\n" /* 27 */
			  "read_only = maybe\n" /* 28 */
			  "[lun iqn.2024-01.org.example:nosuch 0]\n" /* 29 */
			  "path = /c\n" /* 30 */
			  "[target iqn.2024-01.org.example:empty\n" /* 31 */
			  "just some words\n" /* 32 */
			  "[target iqn.2024-01.org.example:nolun]\n"; /* 33 */

static void every_problem_reported_with_its_line(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, bad);
	assert_int_equal(l.r, -EINVAL);
	assert_null(l.c);
	/* RFC 7143 13.12: MaxRecvDataSegmentLength 512..2^24-1 */
	assert_int_equal(count_problems(&l, 2, false, "max_recv_data_segment_length"), 1);
	/* RFC 7143 13.14: FirstBurstLength <= MaxBurstLength */
	assert_int_equal(count_problems(&l, 3, false, "must not exceed"), 1);
	assert_int_equal(count_problems(&l, 5, false, "unknown key 'bogus'"), 1);
	assert_int_equal(count_problems(&l, 6, false, "nop_interval"), 1);
	assert_int_equal(count_problems(&l, 7, false, "unknown section [frobnicate]"), 1);
	assert_int_equal(count_problems(&l, 8, false, ""), 0); /* keys of a bad section: quiet */
	assert_int_equal(count_problems(&l, 11, false, "brackets"), 1);
	assert_int_equal(count_problems(&l, 13, false, "duplicate portal address"), 1);
	assert_int_equal(count_problems(&l, 14, false, "group"), 1);
	/* RFC 3722: names are lower case after stringprep */
	assert_int_equal(count_problems(&l, 15, false, "lower case"), 1);
	assert_int_equal(count_problems(&l, 16, false, "portal group 7"), 1);
	assert_int_equal(count_problems(&l, 18, false, "allow = someone"), 1);
	assert_int_equal(count_problems(&l, 19, false, "duplicate [target"), 1);
	assert_int_equal(count_problems(&l, 22, false, "duplicate key 'path' (first at line 21)"),
			 1);
	assert_int_equal(count_problems(&l, 23, false, "block_size must be 512 or 4096"), 1);
	assert_int_equal(count_problems(&l, 25, false, "duplicate LUN 0"), 1);
	assert_int_equal(count_problems(&l, 26, false, "has no path"), 1);
	assert_int_equal(count_problems(&l, 26, false, "duplicate serial S1 (first at line 20)"),
			 1);
	assert_int_equal(count_problems(&l, 28, false, "read_only must be yes or no"), 1);
	assert_int_equal(count_problems(&l, 29, false, "there is no [target"), 1);
	assert_int_equal(count_problems(&l, 31, false, "missing ']'"), 1);
	assert_int_equal(count_problems(&l, 32, false, "expected 'key = value'"), 1);
	assert_int_equal(count_problems(&l, 33, true, "has no LUN"), 1);
	assert_int_equal(count_errors(&l), 21);
	/* in file order */
	for (size_t i = 1; i < l.p.n; i++)
		assert_true(l.p.v[i - 1].line <= l.p.v[i].line);
	unload(&l);
}

static void target_without_lun_is_only_a_warning(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "[target iqn.2024-01.org.example:x]\nallow=eui.02004567A425678D\n");
	assert_int_equal(l.r, 0);
	assert_int_equal(l.p.n, 1);
	assert_int_equal(count_problems(&l, 1, true, "has no LUN"), 1);
	unload(&l);
}

static void key_outside_section_and_empty_value_rejected(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "state_dir = /x\n[global]\nlog_level =\nstate_dir = relative\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 1, false, "outside any section"), 1);
	assert_int_equal(count_problems(&l, 3, false, "needs a value"), 1);
	assert_int_equal(count_problems(&l, 4, false, "absolute"), 1);
	unload(&l);
}

/* issue 11: pr_state = ignore is the operator's override for a corrupt APTPL file. */
static void aptpl_pr_state_ignore_override_parsed(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l,
		  "[portal p]\nlisten = 127.0.0.1:3260\n[target iqn.2024-01.org.example:x]\n"
		  "[lun iqn.2024-01.org.example:x 0]\npath=/x\npr_state = ignore\n"
		  "[lun iqn.2024-01.org.example:x 1]\npath=/y\npr_state = maybe\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 9, false, "pr_state must be load or ignore"), 1);
	unload(&l);
	load_text(&l,
		  "[portal p]\nlisten = 127.0.0.1:3260\n[target iqn.2024-01.org.example:x]\n"
		  "[lun iqn.2024-01.org.example:x 0]\npath=/x\npr_state = ignore\n"
		  "[lun iqn.2024-01.org.example:x 1]\npath=/y\n");
	assert_int_equal(l.r, 0);
	assert_true(l.c->targets[0].luns[0].pr_ignore_state);
	assert_false(l.c->targets[0].luns[1].pr_ignore_state);
	unload(&l);
}

/* issue 5: sanitize = yes|no per [lun], default no (SANITIZE destroys every
 * block, SBC-4 5.30: only where the operator allowed it) */
static void sbc4_5_30_sanitize_key_default_no(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l,
		  "[portal p]\nlisten = 127.0.0.1:3260\n[target iqn.2024-01.org.example:x]\n"
		  "[lun iqn.2024-01.org.example:x 0]\npath=/x\nsanitize = yes\n"
		  "[lun iqn.2024-01.org.example:x 1]\npath=/y\n"
		  "[lun iqn.2024-01.org.example:x 2]\npath=/z\nsanitize = no\n");
	assert_int_equal(l.r, 0);
	assert_true(l.c->targets[0].luns[0].sanitize);
	assert_false(l.c->targets[0].luns[1].sanitize);
	assert_false(l.c->targets[0].luns[2].sanitize);
	unload(&l);
	load_text(&l,
		  "[portal p]\nlisten = 127.0.0.1:3260\n[target iqn.2024-01.org.example:x]\n"
		  "[lun iqn.2024-01.org.example:x 0]\npath=/x\nsanitize = maybe\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 6, false, "sanitize must be yes or no"), 1);
	unload(&l);
}

/* issue 8: poll_us = 0..10000 in [global], default 0 (busy polling off) */
static void poll_us_key_range_and_default(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "[global]\npoll_us = 50\n[portal p]\nlisten = 127.0.0.1:3260\n");
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->poll_us, 50);
	unload(&l);
	load_text(&l, "[global]\nstate_dir = /x\n[portal p]\nlisten = 127.0.0.1:3260\n");
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->poll_us, 0);
	unload(&l);
	load_text(&l, "[global]\npoll_us = 10001\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 2, false, "poll_us must be"), 1);
	unload(&l);
}

static void portal_without_listen_and_target_on_missing_group(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l,
		  "[portal p]\ngroup = 3\n[target iqn.2024-01.org.example:x]\n"
		  "[lun iqn.2024-01.org.example:x 0]\npath=/x\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 1, false, "no listen"), 1);
	/* the default group 1 has no portal (the section above is group 3) */
	assert_int_equal(count_problems(&l, 3, false, "portal group 1"), 1);
	unload(&l);
}

static void rfc7143_4_2_7_target_header_with_spaces_rejected(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "[portal p1]\nlisten = 127.0.0.1:3260\n\n[target IQN.Not A Name]\n[lun]\n");
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 4, false, "no spaces"), 1);
	assert_int_equal(count_problems(&l, 5, false, "expected [lun IQN N]"), 1);
	unload(&l);
}

/* inih's line buffer is small (200 bytes in Debian's build); names of up to
 * 223 bytes (RFC 7143 4.2.7.1) and long paths must still work. */
static void rfc7143_4_2_7_1_max_length_names_and_long_lines(void **state)
{
	char name[224], path[600], text[2400];
	struct loaded l;
	struct conf_target *t;

	(void)state;
	snprintf(name, sizeof(name), "iqn.2024-01.org.example:%0199d", 7);
	assert_int_equal(strlen(name), 223);
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "[target %s]\nallow = %s ; the same name\n[lun %s 3]\npath  =   %s   ; long\n"
		 "bogus_long_key_%s = 1\n",
		 name, name, name, path, path);
	load_text(&l, text);
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(l.p.n, 1);
	assert_int_equal(count_problems(&l, 5, false, "unknown key 'bogus_long_key_/ppp"), 1);
	unload(&l);

	*strstr(text, "bogus_long_key_") = '\0';
	load_text(&l, text);
	assert_int_equal(l.r, 0);
	t = &l.c->targets[0];
	assert_string_equal(t->name, name);
	assert_int_equal(t->n_allow, 1);
	assert_string_equal(t->allow[0], name);
	assert_int_equal(t->n_luns, 1);
	assert_int_equal(t->luns[0].lun, 3);
	assert_string_equal(t->luns[0].path, path);
	unload(&l);
}

static void missing_file_is_enoent(void **state)
{
	struct conf *c = NULL;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/targetd.conf", &c), -ENOENT);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_file_parsed_to_expected_struct),
	    cmocka_unit_test(spc4_7_8_15_default_serial_stable_and_distinct),
	    cmocka_unit_test(every_problem_reported_with_its_line),
	    cmocka_unit_test(target_without_lun_is_only_a_warning),
	    cmocka_unit_test(key_outside_section_and_empty_value_rejected),
	    cmocka_unit_test(poll_us_key_range_and_default),
	    cmocka_unit_test(portal_without_listen_and_target_on_missing_group),
	    cmocka_unit_test(rfc7143_4_2_7_target_header_with_spaces_rejected),
	    cmocka_unit_test(rfc7143_4_2_7_1_max_length_names_and_long_lines),
	    cmocka_unit_test(missing_file_is_enoent),
	    cmocka_unit_test(aptpl_pr_state_ignore_override_parsed),
	    cmocka_unit_test(sbc4_5_30_sanitize_key_default_no),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
