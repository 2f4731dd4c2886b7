/* SPDX-License-Identifier: MIT */
/* Unit tests: durable file writes, removal, whole-file reads. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "targetd/util.h"

static int setup_dir(void **state)
{
	char *d = strdup("/var/tmp/targetd-util-XXXXXX");

	if (!d || !mkdtemp(d))
		return -1;
	*state = d;
	return 0;
}

static int teardown_dir(void **state)
{
	char *d = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static int count_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static void write_atomic_replaces_and_leaves_no_temp(void **state)
{
	const char *d = *state;
	char path[512], *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/lu1", d);
	assert_int_equal(util_file_write_atomic(d, "lu1", "old contents\n", 13), 0);
	assert_int_equal(util_file_write_atomic(d, "lu1", "new\n", 4), 0);
	assert_int_equal(util_file_read_all(path, &buf, &len, 1024), 0);
	assert_int_equal(len, 4);
	assert_string_equal(buf, "new\n");
	free(buf);
	assert_int_equal(count_entries(d), 1); /* no .lu1.tmp left behind */
}

static void write_atomic_errors(void **state)
{
	const char *d = *state;

	assert_int_equal(util_file_write_atomic("/nonexistent-dir-xyz", "a", "x", 1), -ENOENT);
	assert_int_equal(util_file_write_atomic(d, "a/b", "x", 1), -EINVAL);
	assert_int_equal(util_file_write_atomic(d, "", "x", 1), -EINVAL);
	assert_int_equal(count_entries(d), 0);
}

static void remove_durable_enoent_is_success(void **state)
{
	const char *d = *state;

	assert_int_equal(util_file_write_atomic(d, "gone", "x", 1), 0);
	assert_int_equal(util_file_remove_durable(d, "gone"), 0);
	assert_int_equal(count_entries(d), 0);
	assert_int_equal(util_file_remove_durable(d, "gone"), 0);
}

static void read_all_limits(void **state)
{
	const char *d = *state;
	char path[512], *buf = NULL, big[10000];
	size_t len;

	memset(big, 'a', sizeof(big));
	assert_int_equal(util_file_write_atomic(d, "big", big, sizeof(big)), 0);
	snprintf(path, sizeof(path), "%s/big", d);
	assert_int_equal(util_file_read_all(path, &buf, &len, 9999), -EFBIG);
	assert_int_equal(util_file_read_all(path, &buf, &len, 10000), 0);
	assert_int_equal(len, 10000);
	assert_int_equal(buf[10000], '\0');
	free(buf);
	assert_int_equal(util_file_write_atomic(d, "empty", "", 0), 0);
	snprintf(path, sizeof(path), "%s/empty", d);
	assert_int_equal(util_file_read_all(path, &buf, &len, 10), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	snprintf(path, sizeof(path), "%s/none", d);
	assert_int_equal(util_file_read_all(path, &buf, &len, 10), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(write_atomic_replaces_and_leaves_no_temp, setup_dir,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(write_atomic_errors, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(remove_durable_enoent_is_success, setup_dir,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(read_all_limits, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
