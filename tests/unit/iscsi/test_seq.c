/* SPDX-License-Identifier: MIT */
/* CmdSN window (RFC 7143 4.2.2.1), Data-In splitting (11.7.2), residuals
 * (11.4.5), SendTargets text (13.8). Pure arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "iscsi_conn.h"
#include "targetd/util.h"

static void rfc7143_4_2_2_1_cmdsn_window(void **state)
{
	(void)state;
	assert_int_equal(iscsi_cmdsn_check(10, 20, 10), ISCSI_CMDSN_NOW);
	assert_int_equal(iscsi_cmdsn_check(10, 20, 11), ISCSI_CMDSN_HOLD);
	assert_int_equal(iscsi_cmdsn_check(10, 20, 20), ISCSI_CMDSN_HOLD);
	/* outside [ExpCmdSN, MaxCmdSN]: silently ignored */
	assert_int_equal(iscsi_cmdsn_check(10, 20, 21), ISCSI_CMDSN_IGNORE);
	assert_int_equal(iscsi_cmdsn_check(10, 20, 9), ISCSI_CMDSN_IGNORE);
	assert_int_equal(iscsi_cmdsn_check(10, 20, 0), ISCSI_CMDSN_IGNORE);
	/* closed window: MaxCmdSN == ExpCmdSN - 1 */
	assert_int_equal(iscsi_cmdsn_check(10, 9, 10), ISCSI_CMDSN_IGNORE);
}

static void rfc1982_cmdsn_window_across_wrap(void **state)
{
	(void)state;
	uint32_t exp = 0xfffffff0u, max = exp + 127; /* wraps to 0x6f */

	assert_int_equal(max, 0x6fu);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0xfffffff0u), ISCSI_CMDSN_NOW);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0xffffffffu), ISCSI_CMDSN_HOLD);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0), ISCSI_CMDSN_HOLD);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0x6f), ISCSI_CMDSN_HOLD);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0x70), ISCSI_CMDSN_IGNORE);
	assert_int_equal(iscsi_cmdsn_check(exp, max, 0xffffffefu), ISCSI_CMDSN_IGNORE);
}

static void rfc7143_4_2_2_1_maxcmdsn_never_decreases(void **state)
{
	(void)state;
	/* window 128, idle: ExpCmdSN + 127 */
	assert_int_equal(iscsi_cmdsn_max(100, 0, 128, 0), 227);
	/* busy commands shrink the offer, but never below what was given */
	assert_int_equal(iscsi_cmdsn_max(100, 227, 128, 50), 227);
	assert_int_equal(iscsi_cmdsn_max(200, 227, 128, 50), 277);
	/* fully busy: window closed at ExpCmdSN - 1 */
	assert_int_equal(iscsi_cmdsn_max(300, 299, 128, 128), 299);
	/* across the wrap */
	assert_int_equal(iscsi_cmdsn_max(0xffffffffu, 0xfffffff0u, 128, 0), 126);
}

static void rfc7143_11_7_2_datain_split(void **state)
{
	uint32_t off, seg, i, total = 0;
	bool fin;
	unsigned finals = 0;

	(void)state;
	/* 100000 bytes, MRDSL 8192, MaxBurst 32768: bursts of 4 PDUs */
	for (i = 0; iscsi_datain_seg(100000, 8192, 32768, i, &off, &seg, &fin); i++) {
		assert_int_equal(off, total);
		assert_true(seg <= 8192 && seg > 0);
		total += seg;
		finals += fin;
		if (fin)
			assert_true(total % 32768 == 0 || total == 100000);
	}
	assert_int_equal(total, 100000);
	assert_int_equal(i, 13); /* 12 full + 1696 */
	assert_int_equal(finals, 4); /* 3 full bursts + the tail */
	/* burst not a multiple of MRDSL */
	total = 0;
	for (i = 0; iscsi_datain_seg(10000, 3000, 5000, i, &off, &seg, &fin); i++) {
		assert_int_equal(off, total);
		total += seg;
	}
	assert_int_equal(total, 10000);
	assert_int_equal(i, 4); /* 3000+2000 | 3000+2000 */
	assert_false(iscsi_datain_seg(0, 8192, 8192, 0, &off, &seg, &fin));
	assert_true(iscsi_datain_seg(1, 8192, 8192, 0, &off, &seg, &fin));
	assert_true(fin);
	assert_int_equal(seg, 1);
}

static void rfc7143_11_4_5_residuals(void **state)
{
	struct iscsi_residual r;

	(void)state;
	/* libiscsi iSCSIResiduals: EDTL < CDB length -> overflow of the difference */
	r = iscsi_residual(512, 1024);
	assert_int_equal(r.flags, ISCSI_RSP_FLAG_OVERFLOW);
	assert_int_equal(r.count, 512);
	/* EDTL > CDB length -> underflow */
	r = iscsi_residual(4096, 512);
	assert_int_equal(r.flags, ISCSI_RSP_FLAG_UNDERFLOW);
	assert_int_equal(r.count, 3584);
	r = iscsi_residual(512, 512);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.count, 0);
	r = iscsi_residual(0, 512); /* no data expected at all */
	assert_int_equal(r.flags, ISCSI_RSP_FLAG_OVERFLOW);
	assert_int_equal(r.count, 512);
}

static void rfc7143_13_8_target_address_text(void **state)
{
	char buf[64];
	struct iscsi_textbuf tb;

	(void)state;
	iscsi_format_addr(buf, sizeof(buf), "192.0.2.1", 3260);
	assert_string_equal(buf, "192.0.2.1:3260");
	iscsi_format_addr(buf, sizeof(buf), "2001:db8::1", 3261);
	assert_string_equal(buf, "[2001:db8::1]:3261");
	assert_int_equal(iscsi_textbuf_init(&tb, 128), 0);
	iscsi_sendtargets_addr(&tb, "[2001:db8::1]:3261", 7);
	assert_int_equal(tb.len, strlen("TargetAddress=[2001:db8::1]:3261,7") + 1);
	assert_string_equal(tb.buf, "TargetAddress=[2001:db8::1]:3261,7");
	iscsi_textbuf_free(&tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_4_2_2_1_cmdsn_window),
	    cmocka_unit_test(rfc1982_cmdsn_window_across_wrap),
	    cmocka_unit_test(rfc7143_4_2_2_1_maxcmdsn_never_decreases),
	    cmocka_unit_test(rfc7143_11_7_2_datain_split),
	    cmocka_unit_test(rfc7143_11_4_5_residuals),
	    cmocka_unit_test(rfc7143_13_8_target_address_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
