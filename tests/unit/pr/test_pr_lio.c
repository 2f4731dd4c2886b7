/* SPDX-License-Identifier: MIT */
/* Import of a Linux kernel target APTPL file (issue 11). The sample is the
 * real file from ../shared/samples/lio-aptpl/ (Debian 12, kernel 6.1),
 * byte for byte, NUL included; its README lists the state an import must
 * yield: A (0xa1a1a1a1), B (0xb2b2b2b2), C (0xc3c3c3c3, holder, type 5). */
#include "pr_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char lio_sample[] = "PR_REG_START: 0\n"
				 "initiator_fabric=iSCSI\n"
				 "initiator_node=iqn.2024-01.org.vmtarget:node-a\n"
				 "initiator_sid=8000a0010000\n"
				 "sa_res_key=2711724449\n"
				 "res_holder=0\n"
				 "res_all_tg_pt=0\n"
				 "mapped_lun=0\n"
				 "target_fabric=iSCSI\n"
				 "target_node=iqn.2003-01.org.linux-iscsi.vmtarget:lio\n"
				 "tpgt=1\n"
				 "port_rtpi=1\n"
				 "target_lun=0\n"
				 "PR_REG_END: 0\n"
				 "PR_REG_START: 1\n"
				 "initiator_fabric=iSCSI\n"
				 "initiator_node=iqn.2024-01.org.vmtarget:node-b\n"
				 "initiator_sid=8000b0020000\n"
				 "sa_res_key=2998055602\n"
				 "res_holder=0\n"
				 "res_all_tg_pt=0\n"
				 "mapped_lun=0\n"
				 "target_fabric=iSCSI\n"
				 "target_node=iqn.2003-01.org.linux-iscsi.vmtarget:lio\n"
				 "tpgt=1\n"
				 "port_rtpi=1\n"
				 "target_lun=0\n"
				 "PR_REG_END: 1\n"
				 "PR_REG_START: 2\n"
				 "initiator_fabric=iSCSI\n"
				 "initiator_node=iqn.2024-01.org.vmtarget:node-c\n"
				 "initiator_sid=8000c0030000\n"
				 "sa_res_key=3284386755\n"
				 "res_holder=1\n"
				 "res_type=05\n"
				 "res_scope=00\n"
				 "res_all_tg_pt=0\n"
				 "mapped_lun=0\n"
				 "target_fabric=iSCSI\n"
				 "target_node=iqn.2003-01.org.linux-iscsi.vmtarget:lio\n"
				 "tpgt=1\n"
				 "port_rtpi=1\n"
				 "target_lun=0\n"
				 "PR_REG_END: 2\n";
#define LIO_LEN (sizeof(lio_sample)) /* includes the trailing NUL LIO writes */
#define LIO_TARGET "iqn.2003-01.org.linux-iscsi.vmtarget:lio"

static const struct pr_nexus_id LA = {
    "iqn.2024-01.org.vmtarget:node-a", {0x80, 0, 0xa0, 0x01, 0, 0}, 1, 1};
static const struct pr_nexus_id LB = {
    "iqn.2024-01.org.vmtarget:node-b", {0x80, 0, 0xb0, 0x02, 0, 0}, 1, 1};
static const struct pr_nexus_id LC = {
    "iqn.2024-01.org.vmtarget:node-c", {0x80, 0, 0xc0, 0x03, 0, 0}, 1, 1};
static const struct pr_nexus_id LX = {
    "iqn.2024-01.org.vmtarget:node-x", {0x80, 0, 0, 0, 0, 9}, 1, 1};

static void issue11_lio_import_real_sample(void **state)
{
	struct pr_state st;
	unsigned line;
	const char *msg = NULL;

	(void)state;
	assert_int_equal(LIO_LEN, 914);
	assert_int_equal(
	    pr_lio_import(lio_sample, LIO_LEN, LIO_TARGET, 0, &PORTS, 8, &st, &line, &msg), 0);
	assert_int_equal(st.n_regs, 3);
	assert_int_equal(pr_state_find(&st, &LA)->key, 0xa1a1a1a1);
	assert_int_equal(pr_state_find(&st, &LB)->key, 0xb2b2b2b2);
	assert_int_equal(pr_state_find(&st, &LC)->key, 0xc3c3c3c3);
	assert_true(st.res_present);
	assert_int_equal(st.res_type, PR_TYPE_WR_EX_RO);
	assert_true(pr_is_holder(&st, &LC));
	assert_false(pr_is_holder(&st, &LA));
	assert_true(st.aptpl);
	assert_int_equal(st.generation, 0);
	/* enforced from the first command */
	assert_int_equal(pr_check(&st, &LX, PR_CLASS_WRITE), PR_ACCESS_CONFLICT);
	assert_int_equal(pr_check(&st, &LX, PR_CLASS_READ), PR_ACCESS_ALLOWED);
	assert_int_equal(pr_check(&st, &LB, PR_CLASS_WRITE), PR_ACCESS_ALLOWED);
	pr_state_free(&st);
}

static void issue11_lio_import_other_lun_is_empty(void **state)
{
	struct pr_state st;
	unsigned line;
	const char *msg;

	(void)state;
	assert_int_equal(
	    pr_lio_import(lio_sample, LIO_LEN, LIO_TARGET, 1, &PORTS, 8, &st, &line, &msg), 0);
	assert_int_equal(st.n_regs, 0);
	assert_false(st.res_present);
	pr_state_free(&st);
}

static void issue11_lio_import_errors_name_the_line(void **state)
{
	struct pr_state st;
	unsigned line;
	const char *msg;
	char buf[1024];
	static const struct pr_port other[] = {{1, 7}};
	static const struct pr_ports other_ports = {other, 1};

	(void)state;
	/* truncated in the middle of block 2 */
	memcpy(buf, lio_sample, 600);
	assert_int_equal(pr_lio_import(buf, 600, LIO_TARGET, 0, &PORTS, 8, &st, &line, &msg),
			 -EINVAL);
	assert_non_null(msg);
	/* bad decimal key */
	memcpy(buf, lio_sample, LIO_LEN);
	memcpy(strstr(buf, "sa_res_key=2711724449"), "sa_res_key=27117x4449", 21);
	assert_int_equal(pr_lio_import(buf, LIO_LEN, LIO_TARGET, 0, &PORTS, 8, &st, &line, &msg),
			 -EINVAL);
	assert_int_equal(line, 5);
	assert_string_equal(msg, "bad sa_res_key (decimal)");
	/* no targetd port for tpgt 1 */
	assert_int_equal(
	    pr_lio_import(lio_sample, LIO_LEN, LIO_TARGET, 0, &other_ports, 8, &st, &line, &msg),
	    -EINVAL);
	assert_string_equal(msg, "no targetd port for this tpgt");
	/* registrant limit */
	assert_int_equal(
	    pr_lio_import(lio_sample, LIO_LEN, LIO_TARGET, 0, &PORTS, 2, &st, &line, &msg),
	    -EINVAL);
	assert_string_equal(msg, "more registrations than max_registrants");
	assert_null(st.regs);
}

static void issue11_lio_import_then_encode_roundtrip(void **state)
{
	struct pr_state a, b;
	unsigned line;
	const char *msg;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(
	    pr_lio_import(lio_sample, LIO_LEN, LIO_TARGET, 0, &PORTS, 8, &a, &line, &msg), 0);
	assert_int_equal(pr_state_encode(&a, &text, &len), 0);
	assert_int_equal(pr_state_decode(text, len, 8, &b, &line, &msg), 0);
	assert_true(pr_is_holder(&b, &LC));
	assert_int_equal(b.n_regs, 3);
	free(text);
	pr_state_free(&a);
	pr_state_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(issue11_lio_import_real_sample),
	    cmocka_unit_test(issue11_lio_import_other_lun_is_empty),
	    cmocka_unit_test(issue11_lio_import_errors_name_the_line),
	    cmocka_unit_test(issue11_lio_import_then_encode_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
