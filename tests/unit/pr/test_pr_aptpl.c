/* SPDX-License-Identifier: MIT */
/* The APTPL state file text (docs/aptpl-format.md, issue 11). */
#include "pr_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static char *encode(const struct pr_state *st, size_t *len)
{
	char *out = NULL;

	assert_int_equal(pr_state_encode(st, &out, len), 0);
	return out;
}

/* Re-seal text after editing it (recompute the checksum line). */
static size_t reseal(char *buf, size_t len, size_t cap)
{
	char *crc = strstr(buf, "crc32c=");
	size_t body = crc ? (size_t)(crc - buf) : len;

	return body +
	    (size_t)snprintf(buf + body, cap - body, "crc32c=%08x\n", util_crc32c(0, buf, body));
}

static void expect_bad(const char *text, unsigned want_line, const char *want_msg)
{
	struct pr_state st;
	unsigned line;
	const char *msg;

	assert_int_equal(pr_state_decode(text, strlen(text), 8, &st, &line, &msg), -EINVAL);
	assert_int_equal(line, want_line);
	assert_non_null(msg);
	if (want_msg)
		assert_string_equal(msg, want_msg);
	assert_int_equal(st.n_regs, 0);
	assert_null(st.regs);
}

static void issue11_roundtrip_keeps_state_not_generation(void **state)
{
	struct pr_state a, b;
	unsigned line;
	const char *msg;
	size_t len;
	char *text;

	(void)state;
	pr_state_init(&a, 8);
	expect_good(prout(&a, &NA, PR_OUT_REGISTER, 0, 0, 0xa1a1a1a1, F_APTPL));
	expect_good(
	    prout(&a, &NB, PR_OUT_REGISTER, 0, 0, 0xffffffffffffffffull, F_ALL_TG_PT | F_APTPL));
	expect_good(prout(&a, &NC, PR_OUT_REGISTER, 0, 0, 0xc, F_APTPL));
	expect_good(prout(&a, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX_RO, 0xa1a1a1a1, 0, 0));
	assert_int_equal(a.generation, 3);
	text = encode(&a, &len);
	assert_int_equal(strncmp(text, "targetd-pr-state=1\n", 19), 0);
	assert_int_equal(pr_state_decode(text, len, 8, &b, &line, &msg), 0);
	assert_int_equal(b.generation, 0); /* SPC-4 6.15.2: power on */
	assert_true(b.aptpl);
	assert_true(b.res_present);
	assert_int_equal(b.res_type, PR_TYPE_WR_EX_RO);
	assert_int_equal(b.n_regs, a.n_regs);
	for (unsigned i = 0; i < a.n_regs; i++) {
		assert_string_equal(a.regs[i].itn.initiator, b.regs[i].itn.initiator);
		assert_int_equal(a.regs[i].key, b.regs[i].key);
		assert_int_equal(a.regs[i].itn.rel_tport_id, b.regs[i].itn.rel_tport_id);
		assert_int_equal(a.regs[i].itn.has_isid, b.regs[i].itn.has_isid);
		assert_memory_equal(a.regs[i].itn.isid, b.regs[i].itn.isid, 6);
		assert_int_equal(a.regs[i].holder, b.regs[i].holder);
		assert_int_equal(a.regs[i].all_tg_pt, b.regs[i].all_tg_pt);
	}
	/* enforced from the first command, before the holder logs back in */
	assert_int_equal(pr_check(&b, &NA2, PR_CLASS_WRITE), PR_ACCESS_CONFLICT);
	assert_int_equal(pr_check(&b, &NC, PR_CLASS_WRITE), PR_ACCESS_ALLOWED);
	assert_true(pr_is_holder(&b, &NA));
	free(text);
	pr_state_free(&a);
	pr_state_free(&b);
}

static void issue11_format_00b_registration_roundtrip(void **state)
{
	struct pr_state a, b;
	unsigned line;
	const char *msg;
	size_t len, tl;
	char *text;
	uint8_t p[100];

	(void)state;
	pr_state_init(&a, 8);
	basic_param(p, 0, 0xa, F_SPEC_I_PT);
	tl = put_tid(p + 28, IQN_C, NULL);
	put_be32(p + 24, (uint32_t)tl);
	expect_good(prout_raw(&a, &NA, PR_OUT_REGISTER, 0, p, (uint32_t)(28 + tl)));
	expect_good(prout(&a, &NA, PR_OUT_RESERVE, PR_TYPE_EX_AC_AR, 0xa, 0, 0));
	text = encode(&a, &len);
	assert_non_null(strstr(text, "isid:- "));
	assert_int_equal(pr_state_decode(text, len, 8, &b, &line, &msg), 0);
	assert_false(b.regs[1].itn.has_isid);
	assert_true(pr_is_holder(&b, &NC));
	free(text);
	pr_state_free(&a);
	pr_state_free(&b);
}

static void issue11_empty_state(void **state)
{
	struct pr_state a, b;
	unsigned line;
	const char *msg;
	size_t len;
	char *text;

	(void)state;
	pr_state_init(&a, 8);
	text = encode(&a, &len);
	assert_int_equal(pr_state_decode(text, len, 8, &b, &line, &msg), 0);
	assert_false(b.res_present);
	assert_int_equal(b.n_regs, 0);
	free(text);
	pr_state_free(&a);
	pr_state_free(&b);
}

static void issue11_corrupt_files_name_the_line(void **state)
{
	char buf[1024];
	size_t n;
	struct pr_state a;
	char *text;
	size_t len;

	(void)state;
	pr_state_init(&a, 8);
	register_abc(&a);
	expect_good(prout(&a, &NA, PR_OUT_RESERVE, PR_TYPE_WR_EX, 0xa, 0, 0));
	text = encode(&a, &len);
	pr_state_free(&a);

	/* flipped byte: checksum mismatch on the checksum line (line 8) */
	memcpy(buf, text, len + 1);
	buf[30] ^= 1;
	expect_bad(buf, 8, "checksum mismatch");
	/* truncated in the middle of a line / before the checksum */
	memcpy(buf, text, len + 1);
	buf[len - 3] = '\0';
	expect_bad(buf, 0, "truncated: no final newline");
	memcpy(buf, text, len + 1);
	*strstr(buf, "crc32c=") = '\0';
	expect_bad(buf, 7, "truncated: no checksum line");
	/* bad version */
	memcpy(buf, text, len + 1);
	buf[17] = '2';
	n = reseal(buf, len, sizeof(buf));
	(void)n;
	expect_bad(buf, 1, "not a targetd PR state file of version 1");
	/* bad line, correctly sealed */
	memcpy(buf, text, len + 1);
	memcpy(strstr(buf, "rtpi:1"), "rtpi:x", 6);
	reseal(buf, len, sizeof(buf));
	expect_bad(buf, 5, "bad or missing rtpi (1..65535)");
	memcpy(buf, text, len + 1);
	memcpy(strstr(buf, "res_type=1"), "res_type=2", 10);
	reseal(buf, len, sizeof(buf));
	expect_bad(buf, 3, "bad or repeated res_type");
	/* a reservation with no holder */
	memcpy(buf, text, len + 1);
	memcpy(strstr(buf, "holder:1"), "holder:0", 8);
	reseal(buf, len, sizeof(buf));
	expect_bad(buf, 0, "reservation needs exactly one holder");
	/* unknown line */
	snprintf(buf, sizeof(buf), "targetd-pr-state=1\nfoo=bar\n");
	reseal(buf, strlen(buf), sizeof(buf));
	expect_bad(buf, 2, "unknown line");
	/* data after the checksum */
	memcpy(buf, text, len + 1);
	strcat(buf, "aptpl=1\n");
	expect_bad(buf, 9, "data after the checksum line");
	/* NUL (LIO files end with one) */
	memcpy(buf, text, len + 1);
	{
		unsigned l;
		const char *m;

		assert_int_equal(pr_state_decode(buf, len + 1, 8, &a, &l, &m), -EINVAL);
		assert_string_equal(m, "NUL byte in file");
	}
	free(text);
}

static void issue11_too_many_registrations_rejected(void **state)
{
	struct pr_state a, b;
	unsigned line;
	const char *msg;
	size_t len;
	char *text;

	(void)state;
	pr_state_init(&a, 8);
	register_abc(&a);
	text = encode(&a, &len);
	assert_int_equal(pr_state_decode(text, len, 2, &b, &line, &msg), -EINVAL);
	assert_int_equal(line, 7);
	free(text);
	pr_state_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(issue11_roundtrip_keeps_state_not_generation),
	    cmocka_unit_test(issue11_format_00b_registration_roundtrip),
	    cmocka_unit_test(issue11_empty_state),
	    cmocka_unit_test(issue11_corrupt_files_name_the_line),
	    cmocka_unit_test(issue11_too_many_registrations_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
