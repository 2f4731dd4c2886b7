/* SPDX-License-Identifier: MIT */
/*
 * CHAP settings (RFC 7143 12.1.3): chap_user / chap_secret / chap_secret_file
 * and mutual_* in [target IQN], the same with a discovery_ prefix in
 * [global]. Secrets are 1..255 bytes; shorter than 12 bytes (96 bits) is a
 * warning (RFC 7143 12.1.3: CHAP secrets of fewer than 96 random bits need
 * IPsec), and so is a config or secret file others can read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_priv.h"
#include "targetd/util.h"

#define CHAP_SECRET_MAX 255
#define CHAP_SECRET_MIN_RECOMMENDED 12 /* 96 bits */
#define CHAP_USER_MAX 255

#define ERR(st, ...) conf_problem(st, (st)->line, false, __VA_ARGS__)
#define WARN(st, ...) conf_problem(st, (st)->line, true, __VA_ARGS__)

static bool readable_by_others(mode_t m)
{
	return m & (S_IRGRP | S_IROTH);
}

/* A secret file: the secret is its content up to the first newline. */
static char *read_secret_file(struct conf_state *st, const char *key, const char *path)
{
	char buf[CHAP_SECRET_MAX + 3];
	struct stat sb;
	size_t n;
	FILE *f;

	if (path[0] != '/') {
		ERR(st, "%s must be an absolute path, got '%s'", key, path);
		return NULL;
	}
	f = fopen(path, "re");
	if (!f) {
		ERR(st, "%s = %s: cannot open: %s", key, path, strerror(errno));
		return NULL;
	}
	if (!fstat(fileno(f), &sb) && readable_by_others(sb.st_mode))
		WARN(st, "%s = %s is readable by group or others (mode %04o); chmod 600 it", key,
		     path, (unsigned)(sb.st_mode & 07777));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > CHAP_SECRET_MAX || n == sizeof(buf) - 1) {
		ERR(st, "%s = %s: secret longer than %d bytes", key, path, CHAP_SECRET_MAX);
		return NULL;
	}
	return strdup(buf);
}

static bool check_secret(struct conf_state *st, const char *key, const char *s)
{
	size_t n = strlen(s);

	if (!n) {
		ERR(st, "%s: the secret is empty", key);
		return false;
	}
	if (n > CHAP_SECRET_MAX) {
		ERR(st, "%s: secret longer than %d bytes", key, CHAP_SECRET_MAX);
		return false;
	}
	if (n < CHAP_SECRET_MIN_RECOMMENDED)
		WARN(st,
		     "%s: secret of %zu bytes is shorter than 12 (96 bits; RFC 7143 12.1.3 "
		     "wants IPsec below that)",
		     key, n);
	return true;
}

static bool check_user(struct conf_state *st, const char *key, const char *s)
{
	if (strlen(s) > CHAP_USER_MAX) {
		ERR(st, "%s: longer than %d bytes", key, CHAP_USER_MAX);
		return false;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			ERR(st, "%s: control characters are not allowed", key);
			return false;
		}
	}
	return true;
}

static void set(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

void conf_k_chap(struct conf_state *st, const char *key, const char *val)
{
	bool disc = !strncmp(key, "discovery_", 10);
	struct conf_chap *ch = disc ? &st->c->discovery_chap : &st->c->targets[st->idx].chap;
	const char *k = disc ? key + 10 : key;
	bool mutual = !strncmp(k, "mutual_", 7);
	char **secret = mutual ? &ch->mutual_secret : &ch->secret;
	char *v;

	if (!ch->line)
		ch->line = st->line;
	if (!strcmp(k, "chap_user") || !strcmp(k, "mutual_user")) {
		if (check_user(st, key, val))
			set(mutual ? &ch->mutual_user : &ch->user, strdup(val));
		return;
	}
	if (*secret) {
		ERR(st, "%s: the secret is already set (give either the secret or a secret file)",
		    key);
		return;
	}
	if (strstr(k, "_secret_file"))
		v = read_secret_file(st, key, val);
	else
		v = strdup(val);
	if (v && !check_secret(st, key, v)) {
		free(v);
		v = NULL;
	}
	set(secret, v);
}

static void check_one(struct conf_state *st, const struct conf_chap *ch, const char *what,
		      const char *pfx)
{
	int saved = st->line;

	if (!ch->line)
		return;
	st->line = ch->line;
	if (!ch->user != !ch->secret)
		ERR(st, "%s: %schap_user and %schap_secret (or %schap_secret_file) go together",
		    what, pfx, pfx, pfx);
	if (!ch->mutual_user != !ch->mutual_secret)
		ERR(st,
		    "%s: %smutual_user and %smutual_secret (or %smutual_secret_file) go together",
		    what, pfx, pfx, pfx);
	if (ch->mutual_user && !ch->user)
		ERR(st, "%s: mutual CHAP needs one-way CHAP (%schap_user) too", what, pfx);
	/* RFC 7143 12.1.3: a secret used to authenticate initiators MUST NOT be
	 * configured for authenticating targets, and vice versa */
	if (ch->secret && ch->mutual_secret && !strcmp(ch->secret, ch->mutual_secret))
		ERR(st, "%s: %smutual_secret must differ from %schap_secret (RFC 7143 12.1.3)",
		    what, pfx, pfx);
	st->line = saved;
}

void conf_chap_validate(struct conf_state *st)
{
	struct conf *c = st->c;
	bool any = c->discovery_chap.secret || c->discovery_chap.mutual_secret;
	struct stat sb;

	check_one(st, &c->discovery_chap, "[global]", "discovery_");
	for (size_t i = 0; i < c->n_targets; i++) {
		char what[300];

		snprintf(what, sizeof(what), "[target %s]", c->targets[i].name);
		check_one(st, &c->targets[i].chap, what, "");
		any |= c->targets[i].chap.secret || c->targets[i].chap.mutual_secret;
	}
	if (any && !stat(st->file, &sb) && readable_by_others(sb.st_mode))
		conf_problem(st, 0, true,
			     "holds CHAP secrets but is readable by group or others (mode %04o); "
			     "chmod 600 it or use *_secret_file",
			     (unsigned)(sb.st_mode & 07777));
}

void conf_chap_free(struct conf_chap *ch)
{
	if (ch->secret)
		explicit_bzero(ch->secret, strlen(ch->secret));
	if (ch->mutual_secret)
		explicit_bzero(ch->mutual_secret, strlen(ch->mutual_secret));
	free(ch->user);
	free(ch->secret);
	free(ch->mutual_user);
	free(ch->mutual_secret);
	*ch = (struct conf_chap){0};
}
