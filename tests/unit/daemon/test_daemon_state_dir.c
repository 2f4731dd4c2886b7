/* SPDX-License-Identifier: MIT */
/* daemon_make_state_dir: quick-export mode creates the state directory
 * (with parents, mode 0700) and refuses what is not a directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

static void creates_parents_mode_0700_and_is_idempotent(void **state)
{
	char base[] = "/tmp/targetd-daemon-test-XXXXXX", dir[128];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/a/b/state", base);
	assert_int_equal(daemon_make_state_dir(dir), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(daemon_make_state_dir(dir), 0);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a/b", base);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", base);
	rmdir(dir);
	rmdir(base);
}

static void refuses_relative_path_and_regular_file(void **state)
{
	char file[] = "/tmp/targetd-daemon-file-XXXXXX";
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(daemon_make_state_dir("relative/dir"), -EINVAL);
	assert_int_not_equal(daemon_make_state_dir(file), 0);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(creates_parents_mode_0700_and_is_idempotent),
	    cmocka_unit_test(refuses_relative_path_and_regular_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
