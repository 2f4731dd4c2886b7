/* SPDX-License-Identifier: MIT */
/* Unit tests: byte order, RFC 1982 serial arithmetic, size parsing, strlcpy, CRC32C. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/util.h"

static void be_roundtrip(void **state)
{
	uint8_t b[8];

	(void)state;
	put_be16(b, 0x1234);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(get_be16(b), 0x1234);
	put_be24(b, 0xabcdef);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(b[2], 0xef);
	assert_int_equal(get_be24(b), 0xabcdef);
	put_be32(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(b[3], 0xef);
	assert_int_equal(get_be32(b), 0xdeadbeef);
	put_be64(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[7], 8);
	assert_true(get_be64(b) == 0x0102030405060708ull);
	put_be32(b, 0xffffffffu);
	assert_int_equal(get_be32(b), 0xffffffffu);
}

/* RFC 1982 3.2 with SERIAL_BITS = 32, as RFC 7143 4.2.2.1 uses for CmdSN/StatSN. */
static void rfc1982_3_2_serial_compare(void **state)
{
	(void)state;
	assert_true(sna32_lt(1, 2));
	assert_true(sna32_gt(2, 1));
	assert_false(sna32_lt(2, 2));
	assert_true(sna32_le(2, 2));
	assert_true(sna32_ge(2, 2));
	/* wrap: 0xffffffff < 0 */
	assert_true(sna32_lt(0xffffffffu, 0));
	assert_true(sna32_gt(0, 0xffffffffu));
	assert_true(sna32_lt(0xfffffff0u, 0x10));
	assert_true(sna32_gt(0x10, 0xfffffff0u));
	/* distance 2^31 - 1 still ordered */
	assert_true(sna32_lt(0, 0x7fffffffu));
	assert_true(sna32_gt(0x7fffffffu, 0));
	/* distance exactly 2^31: undefined, neither lt nor gt */
	assert_false(sna32_lt(0, 0x80000000u));
	assert_false(sna32_gt(0, 0x80000000u));
	assert_false(sna32_lt(0x80000000u, 0));
	assert_false(sna32_gt(0x80000000u, 0));
}

static void parse_size_units(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(util_parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(util_parse_size("64k", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(util_parse_size("64M", &v), 0);
	assert_true(v == 64ull << 20);
	assert_int_equal(util_parse_size("1G", &v), 0);
	assert_true(v == 1ull << 30);
	assert_int_equal(util_parse_size("2T", &v), 0);
	assert_true(v == 2ull << 40);
	assert_int_equal(util_parse_size("8MiB", &v), 0);
	assert_true(v == 8ull << 20);
	assert_int_equal(util_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(util_parse_size("", &v), -EINVAL);
	assert_int_equal(util_parse_size("M", &v), -EINVAL);
	assert_int_equal(util_parse_size("-1", &v), -EINVAL);
	assert_int_equal(util_parse_size(" 1", &v), -EINVAL);
	assert_int_equal(util_parse_size("1 ", &v), -EINVAL);
	assert_int_equal(util_parse_size("1X", &v), -EINVAL);
	assert_int_equal(util_parse_size("1Mx", &v), -EINVAL);
	assert_int_equal(util_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(util_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(util_parse_size("16777216T", &v), -ERANGE);
}

static void strlcpy_truncates(void **state)
{
	char b[4];

	(void)state;
	assert_int_equal(util_strlcpy(b, "ab", sizeof(b)), 2);
	assert_string_equal(b, "ab");
	assert_int_equal(util_strlcpy(b, "abcdef", sizeof(b)), 6);
	assert_string_equal(b, "abc");
	b[0] = 'x';
	assert_int_equal(util_strlcpy(b, "abc", 0), 3);
	assert_int_equal(b[0], 'x');
}

/* RFC 3720 B.4 / RFC 7143 12.1 CRC32C examples (value whose LSB is sent first). */
static void rfc3720_b4_crc32c_vectors(void **state)
{
	uint8_t b[48];
	static const uint8_t read10[48] = {
	    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
	    0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	(void)state;
	memset(b, 0, 32);
	assert_int_equal(util_crc32c(0, b, 32), 0x8a9136aa);
	memset(b, 0xff, 32);
	assert_int_equal(util_crc32c(0, b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(util_crc32c(0, b, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(util_crc32c(0, b, 32), 0x113fdb5c);
	assert_int_equal(util_crc32c(0, read10, 48), 0xd9963a56);
	/* Standard check value and chaining over split buffers. */
	assert_int_equal(util_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(util_crc32c(util_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
	assert_int_equal(util_crc32c(0, "", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(be_roundtrip),
	    cmocka_unit_test(rfc1982_3_2_serial_compare),
	    cmocka_unit_test(parse_size_units),
	    cmocka_unit_test(strlcpy_truncates),
	    cmocka_unit_test(rfc3720_b4_crc32c_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
