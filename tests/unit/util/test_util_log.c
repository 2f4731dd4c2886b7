/* SPDX-License-Identifier: MIT */
/* Unit tests: logging format, journal prefixes, debug switches, rate limit, clock. */
#include <errno.h>
#include <fcntl.h>
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

/* Redirect stderr into a temp file, run fn, return what it printed. */
static char captured[8192];

static int cap_fd = -1, saved_stderr = -1;

static void cap_begin(void)
{
	char path[] = "/var/tmp/targetd-log-XXXXXX";

	cap_fd = mkstemp(path);
	assert_true(cap_fd >= 0);
	unlink(path);
	saved_stderr = dup(STDERR_FILENO);
	dup2(cap_fd, STDERR_FILENO);
}

static const char *cap_end(void)
{
	ssize_t n;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	n = pread(cap_fd, captured, sizeof(captured) - 1, 0);
	captured[n > 0 ? n : 0] = '\0';
	close(cap_fd);
	return captured;
}

static void plain_format_and_errno_preserved(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	util_log_init("/usr/sbin/targetd");
	cap_begin();
	errno = EBUSY;
	log_err("lu", "lu %s: open failed: %m", "abc");
	assert_int_equal(errno, EBUSY);
	log_info("iscsi", "hello %d", 42);
	cap_end();
	assert_string_equal(captured,
			    "targetd: error: lu: lu abc: open failed: "
			    "Device or resource busy\ntargetd: info: iscsi: hello 42\n");
}

static void journal_stream_gets_priority_prefix(void **state)
{
	struct stat st;
	char js[64];

	(void)state;
	cap_begin();
	fstat(STDERR_FILENO, &st);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	util_log_init("targetd");
	log_warn("pr", "x");
	log_notice("pr", "y");
	cap_end();
	unsetenv("JOURNAL_STREAM");
	util_log_init("targetd");
	assert_string_equal(captured, "<4>pr: x\n<5>pr: y\n");
}

static void long_lines_truncated_with_newline(void **state)
{
	char big[3000];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cap_begin();
	log_err("x", "%s", big);
	cap_end();
	assert_true(strlen(captured) < 1100);
	assert_int_equal(captured[strlen(captured) - 1], '\n');
}

static void debug_switches(void **state)
{
	(void)state;
	assert_int_equal(util_log_set_debug("login,pr"), 0);
	assert_true(util_log_debug_enabled("login"));
	assert_true(util_log_debug_enabled("pr"));
	assert_false(util_log_debug_enabled("scsi"));
	assert_int_equal(util_log_set_debug("all"), 0);
	assert_true(util_log_debug_enabled("scsi"));
	assert_int_equal(util_log_set_debug("bad name"), -EINVAL);
	assert_true(util_log_debug_enabled("scsi")); /* unchanged after junk */
	assert_int_equal(util_log_set_debug("Login"), -EINVAL);
	assert_int_equal(util_log_set_debug(""), 0);
	assert_false(util_log_debug_enabled("scsi"));
	cap_begin();
	log_debug("scsi", "not printed");
	util_log_set_debug("scsi");
	log_debug("scsi", "printed");
	util_log_set_debug("");
	cap_end();
	assert_string_equal(captured, "targetd: debug: scsi: printed\n");
}

static void ratelimit_burst_then_suppressed(void **state)
{
	struct util_ratelimit rl = UTIL_RATELIMIT_INIT(100, 3);
	int ok = 0;

	(void)state;
	cap_begin();
	for (int i = 0; i < 10; i++)
		ok += util_ratelimit_ok(&rl);
	assert_int_equal(ok, 3);
	assert_int_equal(rl.suppressed, 7);
	usleep(120 * 1000);
	assert_true(util_ratelimit_ok(&rl));
	cap_end();
	assert_non_null(strstr(captured, "7 messages suppressed"));
}

static void clock_is_monotonic(void **state)
{
	uint64_t a = util_now_ns(), b;

	(void)state;
	usleep(2000);
	b = util_now_ns();
	assert_true(b - a >= 2000000);
	assert_true(util_now_ms() >= a / 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_format_and_errno_preserved),
	    cmocka_unit_test(journal_stream_gets_priority_prefix),
	    cmocka_unit_test(long_lines_truncated_with_newline),
	    cmocka_unit_test(debug_switches),
	    cmocka_unit_test(ratelimit_burst_then_suppressed),
	    cmocka_unit_test(clock_is_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
