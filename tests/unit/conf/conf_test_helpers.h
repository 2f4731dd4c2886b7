/* SPDX-License-Identifier: MIT */
/* Helpers for the conf unit tests: write an INI text to a temp file, load it,
 * find problems by line. */
#ifndef CONF_TEST_HELPERS_H
#define CONF_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "targetd/conf.h"

struct loaded {
	char path[64];
	struct conf *c;
	struct conf_problems p;
	int r;
};

static inline void load_text(struct loaded *l, const char *text)
{
	int fd;

	strcpy(l->path, "/tmp/targetd-conf-test-XXXXXX");
	fd = mkstemp(l->path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	l->c = NULL;
	l->r = conf_load_ex(l->path, &l->c, &l->p);
	unlink(l->path);
}

static inline void unload(struct loaded *l)
{
	conf_free(l->c);
	conf_problems_free(&l->p);
}

/* Number of errors (warning == false) or warnings on `line` whose message
 * contains `needle`. */
static inline int count_problems(const struct loaded *l, int line, bool warning, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < l->p.n; i++)
		if (l->p.v[i].line == line && l->p.v[i].warning == warning &&
		    strstr(l->p.v[i].msg, needle))
			n++;
	return n;
}

static inline size_t count_errors(const struct loaded *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->p.n; i++)
		n += !l->p.v[i].warning;
	return n;
}

#endif
