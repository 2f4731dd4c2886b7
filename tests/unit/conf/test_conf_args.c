/* SPDX-License-Identifier: MIT */
/* conf_from_args: the quick-export mode (--listen / --export). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/conf.h"

static void export_two_luns_numbered_from_zero(void **state)
{
	const char *listens[] = {"127.0.0.1:0", "[::1]:3262"};
	const char *exports[] = {"iqn.2024-01.org.example:a=mem:64M,/tmp/disk.img",
				 "iqn.2024-01.org.example:b=mem:1M"};
	struct conf *c = NULL;

	(void)state;
	assert_int_equal(conf_from_args(listens, 2, exports, 2, "/tmp/st", &c), 0);
	assert_string_equal(c->source, "command line");
	assert_string_equal(c->state_dir, "/tmp/st");
	assert_int_equal(c->n_portals, 2);
	assert_string_equal(c->portals[0].host, "127.0.0.1");
	assert_int_equal(c->portals[0].port, 0);
	assert_int_equal(c->portals[0].tpgt, 1);
	assert_string_equal(c->portals[1].host, "::1");
	assert_int_equal(c->portals[1].port, 3262);
	assert_int_equal(c->n_targets, 2);
	assert_int_equal(c->targets[0].n_luns, 2);
	assert_int_equal(c->targets[0].luns[0].lun, 0);
	assert_string_equal(c->targets[0].luns[0].path, "mem:64M");
	assert_int_equal(c->targets[0].luns[1].lun, 1);
	assert_string_equal(c->targets[0].luns[1].path, "/tmp/disk.img");
	assert_int_equal(strlen(c->targets[0].luns[1].serial), 32);
	assert_int_equal(c->targets[0].n_tpgts, 1);
	assert_int_equal(c->targets[0].tpgts[0], 1);
	assert_int_equal(c->targets[0].n_allow, 0);
	assert_int_equal(c->targets[1].luns[0].block_size, 512);
	assert_true(c->targets[1].luns[0].write_cache);
	conf_free(c);
}

static void default_listen_and_state_dir(void **state)
{
	const char *exports[] = {"iqn.2024-01.org.example:a=mem:1M"};
	struct conf *c = NULL;

	(void)state;
	assert_int_equal(conf_from_args(NULL, 0, exports, 1, NULL, &c), 0);
	assert_int_equal(c->n_portals, 1);
	assert_string_equal(c->portals[0].host, "0.0.0.0");
	assert_int_equal(c->portals[0].port, 3260);
	assert_string_equal(c->state_dir, "/var/lib/targetd");
	conf_free(c);
}

static void same_serial_as_config_file_for_same_iqn_and_lun(void **state)
{
	const char *exports[] = {"iqn.2024-01.org.example:a=/x,/y"};
	struct conf *c1 = NULL, *c2 = NULL;

	(void)state;
	assert_int_equal(conf_from_args(NULL, 0, exports, 1, NULL, &c1), 0);
	assert_int_equal(conf_from_args(NULL, 0, exports, 1, NULL, &c2), 0);
	assert_string_equal(c1->targets[0].luns[1].serial, c2->targets[0].luns[1].serial);
	assert_string_not_equal(c1->targets[0].luns[0].serial, c1->targets[0].luns[1].serial);
	conf_free(c1);
	conf_free(c2);
}

static void rfc7143_4_2_7_bad_arguments_rejected(void **state)
{
	const char *bad_exports[][1] = {
	    {"iqn.2024-01.org.example:a"}, /* no '=' */
	    {"IQN.2024-01.org.example:a=/x"}, /* not iqn./eui./naa. */
	    {"iqn.2024-01.org.example:a=/x,,/y"}, /* empty path */
	    {"=/x"},
	};
	const char *bad_listens[][1] = {{"::1:3260"}, {"[::1"}, {"host:99999"}, {":1"}};
	const char *ok_export[] = {"iqn.2024-01.org.example:a=/x"};
	const char *dup_exports[] = {"iqn.2024-01.org.example:a=/x",
				     "iqn.2024-01.org.example:a=/y"};
	const char *dup_listens[] = {"127.0.0.1:3260", "127.0.0.1"};
	struct conf *c = NULL;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(conf_from_args(NULL, 0, bad_exports[i], 1, NULL, &c), -EINVAL);
		assert_null(c);
		assert_int_equal(conf_from_args(bad_listens[i], 1, ok_export, 1, NULL, &c),
				 -EINVAL);
		assert_null(c);
	}
	assert_int_equal(conf_from_args(NULL, 0, dup_exports, 2, NULL, &c), -EINVAL);
	assert_int_equal(conf_from_args(dup_listens, 2, ok_export, 1, NULL, &c), -EINVAL);
	assert_int_equal(conf_from_args(NULL, 0, ok_export, 1, "relative/dir", &c), -EINVAL);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(export_two_luns_numbered_from_zero),
	    cmocka_unit_test(default_listen_and_state_dir),
	    cmocka_unit_test(same_serial_as_config_file_for_same_iqn_and_lun),
	    cmocka_unit_test(rfc7143_4_2_7_bad_arguments_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
