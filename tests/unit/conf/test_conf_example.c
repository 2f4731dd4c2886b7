/* SPDX-License-Identifier: MIT */
/* The shipped conf/targetd.conf is valid and means what its comments say. */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/conf.h"

static void shipped_example_loads_without_problems(void **state)
{
	char here[4096], path[4200];
	struct conf_problems p;
	struct conf *c = NULL;

	(void)state;
	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../../conf/targetd.conf", dirname(here));
	assert_int_equal(conf_load_ex(path, &c, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(c->n_portals, 1);
	assert_int_equal(c->portals[0].port, 3260);
	assert_int_equal(c->n_targets, 1);
	assert_int_equal(c->targets[0].n_allow, 2);
	assert_int_equal(c->targets[0].n_luns, 2);
	assert_int_equal(c->targets[0].luns[1].block_size, 4096);
	assert_true(c->targets[0].luns[0].write_cache);
	conf_free(c);
	conf_problems_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shipped_example_loads_without_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
