/* SPDX-License-Identifier: MIT */
/* CHAP settings (RFC 7143 12.1.3): per target and for discovery, secrets in
 * the file or in a secret file, every problem with its line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "conf_test_helpers.h"

#define TGT "[target iqn.2024-01.org.example:disk1]\n"

static void chap_per_target_and_discovery(void **state)
{
	struct loaded l;
	const struct conf_chap *ch;

	(void)state;
	load_text(&l,
		  "[global]\n" /* 1 */
		  "discovery_chap_user = disc\n" /* 2 */
		  "discovery_chap_secret = discovery-secret\n" /* 3 */
		  TGT /* 4 */
		  "chap_user = alice\n" /* 5 */
		  "chap_secret = alice-secret-1\n" /* 6 */
		  "mutual_user = tgt\n" /* 7 */
		  "mutual_secret = target-secret-2\n"); /* 8 */
	assert_int_equal(l.r, 0);
	assert_int_equal(count_errors(&l), 0);
	ch = &l.c->targets[0].chap;
	assert_string_equal(ch->user, "alice");
	assert_string_equal(ch->secret, "alice-secret-1");
	assert_string_equal(ch->mutual_user, "tgt");
	assert_string_equal(ch->mutual_secret, "target-secret-2");
	assert_int_equal(ch->line, 5);
	assert_string_equal(l.c->discovery_chap.user, "disc");
	assert_string_equal(l.c->discovery_chap.secret, "discovery-secret");
	assert_null(l.c->discovery_chap.mutual_user);
	unload(&l);
}

static void rfc7143_12_1_3_short_secret_warns(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l, TGT "chap_user = a\nchap_secret = short\n");
	assert_int_equal(l.r, 0);
	assert_int_equal(count_problems(&l, 3, true, "shorter than 12"), 1);
	unload(&l);
}

static void chap_problems_with_lines(void **state)
{
	char long_secret[300];
	char text[1024];
	struct loaded l;

	(void)state;
	memset(long_secret, 'x', 256);
	long_secret[256] = '\0';
	snprintf(text, sizeof(text),
		 TGT /* 1 */
		 "chap_user = alice\n" /* 2: no secret */
		 "[target iqn.2024-01.org.example:disk2]\n" /* 3 */
		 "mutual_user = tgt\n" /* 4: mutual without one-way */
		 "mutual_secret = target-secret-2\n" /* 5 */
		 "[target iqn.2024-01.org.example:disk3]\n" /* 6 */
		 "chap_user = bob\n" /* 7 */
		 "chap_secret = same-secret-xyz\n" /* 8 */
		 "mutual_user = tgt\n" /* 9 */
		 "mutual_secret = same-secret-xyz\n" /* 10: same as one-way */
		 "chap_secret_file = /nonexistent/x\n" /* 11: already set */
		 "[target iqn.2024-01.org.example:disk4]\n" /* 12 */
		 "chap_secret = %s\n" /* 13: too long */
		 "chap_secret_file = relative/path\n", /* 14 */
		 long_secret);
	load_text(&l, text);
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 2, false, "go together"), 1);
	assert_int_equal(count_problems(&l, 4, false, "needs one-way"), 1);
	assert_int_equal(count_problems(&l, 7, false, "must differ"), 1);
	assert_int_equal(count_problems(&l, 11, false, "already set"), 1);
	assert_int_equal(count_problems(&l, 13, false, "longer than 255"), 1);
	assert_int_equal(count_problems(&l, 14, false, "absolute path"), 1);
	unload(&l);
}

static void secret_file_read_and_permissions_warned(void **state)
{
	char sf[] = "/tmp/targetd-chap-secret-XXXXXX";
	char text[512];
	struct loaded l;
	int fd = mkstemp(sf);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file-secret-123\n", 16), 16);
	close(fd);
	snprintf(text, sizeof(text), TGT "chap_user = alice\nchap_secret_file = %s\n", sf);
	load_text(&l, text);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.c->targets[0].chap.secret, "file-secret-123");
	assert_int_equal(count_problems(&l, 3, true, "readable"), 0);
	unload(&l);
	chmod(sf, 0644);
	load_text(&l, text);
	assert_int_equal(l.r, 0);
	assert_int_equal(count_problems(&l, 3, true, "readable by group or others"), 1);
	unload(&l);
	unlink(sf);
}

static void config_readable_by_others_with_secrets_warned(void **state)
{
	char path[] = "/tmp/targetd-chap-conf-XXXXXX";
	static const char text[] = TGT "chap_user = alice\nchap_secret = alice-secret-1\n";
	struct conf_problems p;
	struct conf *c = NULL;
	int fd = mkstemp(path);
	bool found = false;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, 0644);
	assert_int_equal(conf_load_ex(path, &c, &p), 0);
	for (size_t i = 0; i < p.n; i++)
		found |= p.v[i].warning && strstr(p.v[i].msg, "holds CHAP secrets");
	assert_true(found);
	conf_free(c);
	conf_problems_free(&p);
	unlink(path);
}

static void allow_net_parsed_and_checked(void **state)
{
	struct loaded l;

	(void)state;
	load_text(&l,
		  TGT "allow_net = 10.0.0.0/8\n" /* 2 */
		      "allow_net = fd00::/8\n" /* 3 */
		      "allow_net = 192.0.2.7\n"); /* 4 */
	assert_int_equal(l.r, 0);
	assert_int_equal(l.c->targets[0].n_allow_net, 3);
	assert_string_equal(l.c->targets[0].allow_net[1], "fd00::/8");
	unload(&l);
	load_text(&l,
		  TGT "allow_net = 10.0.0.0/33\n" /* 2 */
		      "allow_net = lan\n" /* 3 */
		      "allow_net = 10.0.0.0/8\n" /* 4 */
		      "allow_net = 10.0.0.0/8\n"); /* 5 */
	assert_int_equal(l.r, -EINVAL);
	assert_int_equal(count_problems(&l, 2, false, "expected an IPv4 or IPv6 network"), 1);
	assert_int_equal(count_problems(&l, 3, false, "expected an IPv4 or IPv6 network"), 1);
	assert_int_equal(count_problems(&l, 5, false, "listed twice"), 1);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(chap_per_target_and_discovery),
	    cmocka_unit_test(rfc7143_12_1_3_short_secret_warns),
	    cmocka_unit_test(chap_problems_with_lines),
	    cmocka_unit_test(secret_file_read_and_permissions_warned),
	    cmocka_unit_test(config_readable_by_others_with_secrets_warned),
	    cmocka_unit_test(allow_net_parsed_and_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
