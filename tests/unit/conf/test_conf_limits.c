/* SPDX-License-Identifier: MIT */
/* Issue 9 limits in [global]: max_conn_data_bytes (bytes, 1M..4095M) and
 * max_connections_per_address (0 = off, stored as UINT32_MAX), with file:line
 * problems for bad values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf_test_helpers.h"

#define PORTAL "[portal p]\nlisten = 127.0.0.1:3260\n"

static void issue9_limits_parsed_with_units(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l,
		  "[global]\nmax_conn_data_bytes = 32M\nmax_connections_per_address = 8\n" PORTAL);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->max_conn_data_bytes, 32u << 20);
	assert_int_equal(l.c->max_connections_per_address, 8);
	unload(&l);
}

static void issue9_limits_unset_mean_default(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "[global]\nstate_dir = /x\n" PORTAL);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->max_conn_data_bytes, 0); /* iscsi default: 64 MiB */
	assert_int_equal(l.c->max_connections_per_address, 0); /* iscsi default: 64 */
	unload(&l);
}

static void issue9_max_connections_per_address_zero_is_off(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, "[global]\nmax_connections_per_address = 0\n" PORTAL);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->max_connections_per_address, UINT32_MAX);
	unload(&l);
}

static void expect_bad(const char *key_val, const char *needle)
{
	char text[256];
	struct loaded l;

	snprintf(text, sizeof(text), "[global]\nstate_dir = /x\n%s\n" PORTAL, key_val);
	load_text(&l, text);
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 3, false, needle), 1); /* file:3 */
	unload(&l);
}

static void issue9_bad_limits_reported_with_their_lines(void **state)
{
	(void)state;
	expect_bad("max_conn_data_bytes = 512k", "max_conn_data_bytes must be 1M to 4095M");
	expect_bad("max_conn_data_bytes = 4G", "max_conn_data_bytes must be 1M to 4095M");
	expect_bad("max_conn_data_bytes = 0", "max_conn_data_bytes must be 1M to 4095M");
	expect_bad("max_conn_data_bytes = many", "max_conn_data_bytes must be 1M to 4095M");
	expect_bad("max_connections_per_address = -1", "max_connections_per_address must be");
	expect_bad("max_connections_per_address = 2000000", "max_connections_per_address must be");
	expect_bad("max_connections_per_address = lots", "max_connections_per_address must be");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(issue9_limits_parsed_with_units),
	    cmocka_unit_test(issue9_limits_unset_mean_default),
	    cmocka_unit_test(issue9_max_connections_per_address_zero_is_off),
	    cmocka_unit_test(issue9_bad_limits_reported_with_their_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
