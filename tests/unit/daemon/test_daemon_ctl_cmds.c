/* SPDX-License-Identifier: MIT */
/*
 * daemon_ctl_cmds.c: the control commands against a real scsi core (one
 * target, LUN 0 on mem:1M) and an iscsi server without portals or sessions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"

#define TGT "iqn.2026-12.org.example:ctl"

struct fx {
	struct evl *evl;
	struct scsi_core *core;
	struct iscsi_server *srv;
	struct daemon_ctl ctl;
	int reloads;
};

static struct fx F;

static void fake_reload(void *arg, struct daemon_reload_report *rep)
{
	struct fx *f = arg;

	f->reloads++;
	*rep = (struct daemon_reload_report){.source = "/etc/t.conf", .result = -EINVAL};
	rep->error = strdup("/etc/t.conf: invalid configuration, keeping the running one");
	rep->probs.v = calloc(1, sizeof(*rep->probs.v));
	rep->probs.v[0] = (struct conf_problem){.line = 7, .msg = strdup("unknown key 'x\"y'")};
	rep->probs.n = 1;
}

static int setup(void **state)
{
	struct scsi_core_params cp = {.state_dir = "/tmp", .max_registrants = 8};
	struct scsi_lu_params lp = {.path = "mem:1M", .block_size = 512, .serial = "ctl-test-0"};
	struct iscsi_settings s = {0};
	struct scsi_target *t;
	struct scsi_lu *lu;

	memset(&F, 0, sizeof(F));
	assert_int_equal(evl_create(&F.evl), 0);
	assert_int_equal(scsi_core_create(F.evl, &cp, &F.core), 0);
	assert_int_equal(scsi_lu_create(F.core, &lp, &lu), 0);
	assert_int_equal(scsi_target_create(F.core, TGT, &t), 0);
	assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t, 0, lu), 0);
	iscsi_settings_defaults(&s);
	assert_int_equal(iscsi_server_create(F.evl, F.core, &s, &F.srv), 0);
	F.ctl = (struct daemon_ctl){.evl = F.evl,
				    .core = F.core,
				    .srv = F.srv,
				    .version = "9.9",
				    .fd = -1,
				    .reload = fake_reload,
				    .reload_arg = &F};
	*state = &F;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	iscsi_server_destroy(F.srv);
	scsi_core_destroy(F.core);
	evl_destroy(F.evl);
	return 0;
}

/* Runs one request; returns the malloc'd answer, *ok the verdict. */
static char *run(const char *req, bool *ok)
{
	char *line = strdup(req), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	*ok = daemon_ctl_run(&F.ctl, line, f);
	assert_int_equal(fclose(f), 0);
	free(line);
	return out;
}

static void json_str_escapes_quotes_backslashes_and_controls(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	daemon_json_str(f, "a\"b\\c\nd\x01");
	fputc(' ', f);
	daemon_json_str(f, NULL);
	fclose(f);
	assert_string_equal(out, "\"a\\\"b\\\\c\\nd\\u0001\" null");
	free(out);
}

static void status_text_and_json(void **state)
{
	bool ok;
	char *out;

	(void)state;
	out = run("status", &ok);
	assert_true(ok);
	assert_non_null(strstr(out, "targetd 9.9\n"));
	assert_non_null(strstr(out, "targets 1\nluns 1\nsessions 0\n"));
	free(out);
	out = run("json status", &ok);
	assert_true(ok);
	assert_non_null(strstr(out, "{\"version\":\"9.9\",\"pid\":"));
	assert_non_null(strstr(out, "\"targets\":1,\"luns\":1,\"sessions\":0}\n"));
	free(out);
}

static void luns_and_sessions_json(void **state)
{
	bool ok;
	char *out;

	(void)state;
	out = run("json luns", &ok);
	assert_true(ok);
	assert_non_null(strstr(out,
			       "[{\"target\":\"" TGT "\",\"lun\":0,\"serial\":\"ctl-test-0\","
			       "\"path\":\"mem:1M\",\"size\":1048576,\"block_size\":512,"));
	assert_string_equal(out + strlen(out) - 2, "]\n");
	free(out);
	out = run("json sessions", &ok);
	assert_true(ok);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void spc4_6_15_pr_show_empty_state(void **state)
{
	bool ok;
	char *out;

	(void)state;
	out = run("json pr show " TGT " 0", &ok);
	assert_true(ok);
	assert_string_equal(out,
			    "{\"target\":\"" TGT "\",\"lun\":0,\"serial\":\"ctl-test-0\","
			    "\"aptpl\":false,\"generation\":0,\"lost\":false,"
			    "\"reservation\":null,\"registrations\":[]}\n");
	free(out);
	out = run("pr show " TGT " 0", &ok);
	assert_true(ok);
	assert_non_null(strstr(out, "reservation: none\n"));
	free(out);
}

static void bad_requests_fail_with_a_message(void **state)
{
	static const char *bad[] = {"pr show " TGT " 5",
				    "pr show iqn.2026-12.org.example:no 0",
				    "pr show " TGT,
				    "pr show " TGT " x",
				    "frobnicate",
				    "json",
				    ""};
	bool ok;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = run(bad[i], &ok);

		assert_false(ok);
		assert_true(strlen(out) > 0);
		free(out);
	}
}

static void reload_reports_problems_as_file_line(void **state)
{
	bool ok;
	char *out;

	(void)state;
	out = run("reload", &ok);
	assert_false(ok);
	assert_non_null(strstr(out, "/etc/t.conf:7: unknown key 'x\"y'\n"));
	assert_non_null(strstr(out, "reload failed: "));
	free(out);
	out = run("json reload", &ok);
	assert_false(ok);
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_non_null(strstr(out,
			       "{\"file\":\"/etc/t.conf\",\"line\":7,\"warning\":false,"
			       "\"message\":\"unknown key 'x\\\"y'\"}"));
	free(out);
	assert_int_equal(F.reloads, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_str_escapes_quotes_backslashes_and_controls),
	    cmocka_unit_test(status_text_and_json),
	    cmocka_unit_test(luns_and_sessions_json),
	    cmocka_unit_test(spc4_6_15_pr_show_empty_state),
	    cmocka_unit_test(bad_requests_fail_with_a_message),
	    cmocka_unit_test(reload_reports_problems_as_file_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
