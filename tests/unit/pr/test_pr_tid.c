/* SPDX-License-Identifier: MIT */
/* iSCSI TransportIDs, SPC-4 7.6.4.6 (formats 00b and 01b). */
#include "pr_test.h"

#include <errno.h>

static size_t raw_tid(uint8_t *b, uint8_t byte0, const char *s, unsigned addl)
{
	memset(b, 0, 4 + addl);
	b[0] = byte0;
	put_be16(b + 2, (uint16_t)addl);
	memcpy(b + 4, s, strlen(s));
	return 4 + addl;
}

static void spc4_7_6_4_6_format_01b_port_name(void **state)
{
	uint8_t b[64];
	struct pr_itn itn;
	size_t used, bad;
	size_t n = raw_tid(b, 0x45, "iqn.x:a,i,0x80000000ABcd", 28);

	(void)state;
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), 0);
	assert_string_equal(itn.initiator, "iqn.x:a");
	assert_true(itn.has_isid);
	assert_memory_equal(itn.isid, ((uint8_t[]){0x80, 0, 0, 0, 0xab, 0xcd}), 6);
	assert_int_equal(used, 32);
}

static void spc4_7_6_4_6_format_00b_device_name(void **state)
{
	uint8_t b[64];
	struct pr_itn itn;
	size_t used, bad;
	size_t n = raw_tid(b, 0x05, "iqn.2026-01.test:dev", 24);

	(void)state;
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), 0);
	assert_string_equal(itn.initiator, "iqn.2026-01.test:dev");
	assert_false(itn.has_isid);
	assert_int_equal(used, 28);
}

static void spc4_7_6_4_6_rejects_malformed(void **state)
{
	uint8_t b[300];
	struct pr_itn itn;
	size_t used, bad, n;

	(void)state;
	n = raw_tid(b, 0x01, "iqn.x:a", 20); /* FC protocol identifier... (1 = SPI) */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x85, "iqn.x:a", 20); /* format 10b */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x05, "iqn.x:a", 22); /* ADDITIONAL LENGTH not a multiple of 4 */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	n = raw_tid(b, 0x05, "iqn.x:a", 16); /* below 20 */
	assert_int_equal(pr_tid_parse(b, 24, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x05, "iqn.2026-01.test:abcdefgh", 20); /* not NUL-terminated */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	assert_int_equal(bad, 4);
	n = raw_tid(b, 0x45, "iqn.x:a,i,0x80000000zzzz", 24); /* bad ISID hex */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x45, "iqn.x:a,i,0x8000", 20); /* short ISID */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x45, "iqn.x:a-no-separator", 24);
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x05, "iqn.x:a,i,0x800000000001", 28); /* port name in 00b */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	n = raw_tid(b, 0x05, "", 20); /* empty name */
	assert_int_equal(pr_tid_parse(b, n, &itn, &used, &bad), -EINVAL);
	/* truncated: ADDITIONAL LENGTH runs past the buffer */
	n = raw_tid(b, 0x05, "iqn.x:a", 20);
	assert_int_equal(pr_tid_parse(b, n - 4, &itn, &used, &bad), -EINVAL);
	assert_int_equal(pr_tid_parse(b, 3, &itn, &used, &bad), -EINVAL);
	/* a name of 224 bytes or more */
	memset(b, 0, sizeof(b));
	b[0] = 0x05;
	put_be16(b + 2, 240);
	memset(b + 4, 'n', 230);
	assert_int_equal(pr_tid_parse(b, 244, &itn, &used, &bad), -EINVAL);
}

static void spc4_7_6_4_6_encode_pads_to_multiple_of_4(void **state)
{
	struct pr_itn itn, back;
	uint8_t b[300];
	size_t used, bad, n;

	(void)state;
	memset(&itn, 0, sizeof(itn));
	strcpy(itn.initiator, "iqn.2026-01.test:a");
	memcpy(itn.isid, ((uint8_t[]){0x80, 0x12, 0x34, 0x56, 0x78, 0x9a}), 6);
	itn.has_isid = true;
	n = pr_tid_encode(&itn, b);
	assert_int_equal(n, pr_tid_len(&itn));
	assert_int_equal(n % 4, 0);
	/* 18 name + 5 sep + 12 isid + NUL = 36 */
	assert_int_equal(n, 4 + 36);
	assert_int_equal(b[0], 0x45);
	assert_int_equal(get_be16(b + 2), 36);
	assert_string_equal((char *)b + 4, "iqn.2026-01.test:a,i,0x80123456789a");
	assert_int_equal(pr_tid_parse(b, n, &back, &used, &bad), 0);
	assert_string_equal(back.initiator, itn.initiator);
	assert_memory_equal(back.isid, itn.isid, 6);
	/* short device name: minimum ADDITIONAL LENGTH 20 */
	memset(&itn, 0, sizeof(itn));
	strcpy(itn.initiator, "iqn.x");
	n = pr_tid_encode(&itn, b);
	assert_int_equal(n, 24);
	assert_int_equal(b[0], 0x05);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spc4_7_6_4_6_format_01b_port_name),
	    cmocka_unit_test(spc4_7_6_4_6_format_00b_device_name),
	    cmocka_unit_test(spc4_7_6_4_6_rejects_malformed),
	    cmocka_unit_test(spc4_7_6_4_6_encode_pads_to_multiple_of_4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
