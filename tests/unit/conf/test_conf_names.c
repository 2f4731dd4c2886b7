/* SPDX-License-Identifier: MIT */
/* conf_names / conf_values: iSCSI names (RFC 7143 4.2.7), serials, durations,
 * addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_priv.h"

static void rfc7143_4_2_7_iscsi_names(void **state)
{
	static const char *const good[] = {
	    "iqn.2001-04.com.example",
	    "iqn.2001-04.com.example:storage:diskarrays-sn-a8675309",
	    "iqn.2001-04.com.example.storage.tape1.sys1.xyz",
	    "eui.02004567A425678D",
	    "naa.52004567BA64678D",
	    "naa.62004567BA64678D0123456789ABCDEF",
	};
	static const char *const bad[] = {
	    "",
	    "iqn.",
	    "iqn.2001-4.com.example",
	    "iqn.2001-13.com.example",
	    "iqn.2001-04",
	    "iqn.2001-04.",
	    "iqn.2001-04.com.Example", /* RFC 3722: lower case */
	    "iqn.2001-04.com.example:a b",
	    "iqn.2001-04.com.example_x",
	    "eui.02004567A425678", /* 15 digits */
	    "eui.02004567A425678G",
	    "naa.52004567BA64678D00",
	    "IQN.2001-04.com.example",
	    "foo.bar",
	};
	const char *why;
	char longname[300];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(conf_check_iscsi_name(good[i], &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(conf_check_iscsi_name(bad[i], &why), -EINVAL);
		assert_non_null(why);
	}
	/* RFC 7143 4.2.7.1: at most 223 bytes */
	strcpy(longname, "iqn.2001-04.com.example:");
	memset(longname + strlen(longname), 'a', 223 - strlen(longname));
	longname[223] = '\0';
	assert_int_equal(conf_check_iscsi_name(longname, &why), 0);
	strcat(longname, "a");
	assert_int_equal(conf_check_iscsi_name(longname, &why), -EINVAL);
}

static void spc4_7_8_15_serial_charset(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(conf_check_serial("ABC-123_x.y:z", &why), 0);
	assert_int_equal(conf_check_serial("0123456789abcdef0123456789abcdef", &why), 0);
	assert_int_equal(conf_check_serial("0123456789abcdef0123456789abcdef0", &why), -EINVAL);
	assert_int_equal(conf_check_serial("", &why), -EINVAL);
	assert_int_equal(conf_check_serial("a/b", &why), -EINVAL);
	assert_int_equal(conf_check_serial("a b", &why), -EINVAL);
	assert_int_equal(conf_check_serial(".hidden", &why), -EINVAL);
}

static void default_serial_is_name_based_uuid_hex(void **state)
{
	char *a = conf_default_serial("iqn.2024-01.org.example:a", 0);
	char *b = conf_default_serial("iqn.2024-01.org.example:a", 0);
	char *c = conf_default_serial("iqn.2024-01.org.example:a", 1);

	(void)state;
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	/* RFC 4122 4.3: version 5 (SHA-1) in the time_hi_and_version nibble */
	assert_int_equal(a[12], '5');
	free(a);
	free(b);
	free(c);
}

static void durations_and_sizes(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(conf_parse_duration_ms("5", 1, 3600000, &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(conf_parse_duration_ms("5s", 1, 3600000, &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(conf_parse_duration_ms("500ms", 1, 3600000, &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(conf_parse_duration_ms("2m", 1, 3600000, &v), 0);
	assert_int_equal(v, 120000);
	assert_int_not_equal(conf_parse_duration_ms("0", 1, 3600000, &v), 0);
	assert_int_not_equal(conf_parse_duration_ms("5h", 1, 3600000, &v), 0);
	assert_int_not_equal(conf_parse_duration_ms("s", 1, 3600000, &v), 0);
	assert_int_not_equal(conf_parse_duration_ms("99999999999", 1, 3600000, &v), 0);
	assert_int_equal(conf_parse_bytes("256k", 512, 16777215, &v), 0);
	assert_int_equal(v, 262144);
	/* RFC 7143 13.12: 2^24 - 1 is the largest MaxRecvDataSegmentLength */
	assert_int_not_equal(conf_parse_bytes("16M", 512, 16777215, &v), 0);
	assert_int_not_equal(conf_parse_u32("-1", 0, 10, &v), 0);
	assert_int_not_equal(conf_parse_u32("", 0, 10, &v), 0);
}

static void host_port_forms(void **state)
{
	const char *why;
	uint16_t port = 3260;
	bool has;
	char *h = NULL;

	(void)state;
	assert_int_equal(conf_parse_hostport("[fe80::1]:3261", &h, &port, &has, &why), 0);
	assert_string_equal(h, "fe80::1");
	assert_int_equal(port, 3261);
	assert_true(has);
	free(h);
	port = 3260;
	assert_int_equal(conf_parse_hostport("storage.example.com", &h, &port, &has, &why), 0);
	assert_string_equal(h, "storage.example.com");
	assert_int_equal(port, 3260);
	assert_false(has);
	free(h);
	assert_int_equal(conf_parse_hostport("[nothex]:1", &h, &port, &has, &why), -EINVAL);
	assert_int_equal(conf_parse_hostport("[::1]x", &h, &port, &has, &why), -EINVAL);
	assert_int_equal(conf_parse_hostport("a:b", &h, &port, &has, &why), -EINVAL);
	h = conf_format_hostport("::1", 3260);
	assert_string_equal(h, "[::1]:3260");
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_4_2_7_iscsi_names),
	    cmocka_unit_test(spc4_7_8_15_serial_charset),
	    cmocka_unit_test(default_serial_is_name_based_uuid_hex),
	    cmocka_unit_test(durations_and_sizes),
	    cmocka_unit_test(host_port_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
