/* SPDX-License-Identifier: MIT */
/* daemon_import_lio (targetd --import-lio, issue 11): the LIO file becomes
 * <state_dir>/pr-<serial>.state that pr_state_decode reads back as the same
 * state; an existing state file needs force; a file with nothing for the
 * LIO target/LUN, a malformed one, or a missing [lun] writes nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "targetd/conf.h"
#include "targetd/pr.h"
#include "targetd/util.h"

#define LIO_TARGET "iqn.2003-01.org.linux-iscsi.vmtarget:lio"

/* two registrations; B holds Exclusive Access (type 3); LIO keys in decimal */
static const char lio[] = "PR_REG_START: 0\n"
			  "initiator_fabric=iSCSI\n"
			  "initiator_node=iqn.2024-01.org.vmtarget:node-a\n"
			  "initiator_sid=8000a0010000\n"
			  "sa_res_key=10\n"
			  "res_holder=0\n"
			  "res_all_tg_pt=0\n"
			  "mapped_lun=0\n"
			  "target_fabric=iSCSI\n"
			  "target_node=" LIO_TARGET "\n"
			  "tpgt=2\n"
			  "port_rtpi=1\n"
			  "target_lun=3\n"
			  "PR_REG_END: 0\n"
			  "PR_REG_START: 1\n"
			  "initiator_fabric=iSCSI\n"
			  "initiator_node=iqn.2024-01.org.vmtarget:node-b\n"
			  "initiator_sid=8000b0020000\n"
			  "sa_res_key=11\n"
			  "res_holder=1\n"
			  "res_type=03\n"
			  "res_scope=00\n"
			  "res_all_tg_pt=0\n"
			  "mapped_lun=0\n"
			  "target_fabric=iSCSI\n"
			  "target_node=" LIO_TARGET "\n"
			  "tpgt=2\n"
			  "port_rtpi=1\n"
			  "target_lun=3\n"
			  "PR_REG_END: 1\n";

struct fx {
	char dir[64];
	char lio_path[128];
	char state_path[128];
	struct conf c;
	struct conf_target t;
	struct conf_lun l;
	uint16_t tpgt;
	FILE *out;
	char *out_buf;
	size_t out_len;
};

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/targetd-import-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->lio_path, sizeof(f->lio_path), "%s/aptpl_x", f->dir);
	snprintf(f->state_path, sizeof(f->state_path), "%s/pr-disk3.state", f->dir);
	write_file(f->lio_path, lio, sizeof(lio)); /* with LIO's final NUL */
	f->tpgt = 2;
	f->l = (struct conf_lun){.lun = 7, .path = "mem:1M", .serial = "disk3"};
	f->t = (struct conf_target){.name = "iqn.2026-12.org.example:new",
				    .tpgts = &f->tpgt,
				    .n_tpgts = 1,
				    .luns = &f->l,
				    .n_luns = 1};
	f->c = (struct conf){
	    .source = "test.conf", .state_dir = f->dir, .targets = &f->t, .n_targets = 1};
	f->out = open_memstream(&f->out_buf, &f->out_len);
	assert_non_null(f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fclose(f->out);
	free(f->out_buf);
	unlink(f->lio_path);
	unlink(f->state_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct daemon_import imp_of(struct fx *f)
{
	return (struct daemon_import){.lio_file = f->lio_path,
				      .conf = &f->c,
				      .target = f->t.name,
				      .lun = 7,
				      .from_target = LIO_TARGET,
				      .from_lun = 3,
				      .has_from_lun = true};
}

static void issue11_import_writes_the_state_lio_persisted(void **state)
{
	struct fx *f = *state;
	struct daemon_import imp = imp_of(f);
	struct pr_state st;
	char *buf;
	size_t len;
	unsigned line;
	const char *msg;

	assert_int_equal(daemon_import_lio(&imp, f->out), 0);
	fflush(f->out);
	assert_non_null(strstr(f->out_buf, "2 registration(s)"));
	assert_non_null(strstr(f->out_buf, "type 3 (Exclusive Access)"));
	assert_int_equal(util_file_read_all(f->state_path, &buf, &len, 1 << 20), 0);
	assert_int_equal(pr_state_decode(buf, len, 128, &st, &line, &msg), 0);
	free(buf);
	assert_true(st.aptpl);
	assert_int_equal(st.generation, 0); /* SPC-4 6.15.2 */
	assert_int_equal(st.n_regs, 2);
	assert_true(st.res_present);
	assert_int_equal(st.res_type, 3);
	/* LIO tpgt 2 -> the targetd port of portal group 2 (rtpi = tpgt) */
	assert_int_equal(st.regs[0].itn.rel_tport_id, 2);
	assert_int_equal(st.regs[0].key, 10);
	assert_false(st.regs[0].holder);
	assert_int_equal(st.regs[1].key, 11);
	assert_true(st.regs[1].holder);
	pr_state_free(&st);
}

static void issue11_import_refuses_to_replace_without_force(void **state)
{
	struct fx *f = *state;
	struct daemon_import imp = imp_of(f);

	write_file(f->state_path, "keep", 4);
	assert_int_equal(daemon_import_lio(&imp, f->out), -EEXIST);
	imp.force = true;
	assert_int_equal(daemon_import_lio(&imp, f->out), 0);
}

static void issue11_import_writes_nothing_on_a_bad_or_foreign_file(void **state)
{
	struct fx *f = *state;
	struct daemon_import imp = imp_of(f);

	/* nothing for this LIO LUN */
	imp.from_lun = 4;
	assert_int_equal(daemon_import_lio(&imp, f->out), -ENOENT);
	/* truncated inside a block */
	imp.from_lun = 3;
	write_file(f->lio_path, lio, 100);
	assert_int_equal(daemon_import_lio(&imp, f->out), -EINVAL);
	/* no such [lun] */
	imp.lun = 8;
	assert_int_equal(daemon_import_lio(&imp, f->out), -ENOENT);
	/* no configuration and no serial */
	imp.conf = NULL;
	assert_int_equal(daemon_import_lio(&imp, f->out), -EINVAL);
	assert_int_equal(access(f->state_path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(issue11_import_writes_the_state_lio_persisted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(issue11_import_refuses_to_replace_without_force, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(issue11_import_writes_nothing_on_a_bad_or_foreign_file,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
