/* SPDX-License-Identifier: MIT */
/*
 * conf_problems: every problem found while reading a configuration is
 * collected, then sorted into file order (stable, so the messages of one line
 * keep their order) and logged as "file:line: message" in one go.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf_priv.h"
#include "targetd/util.h"

void conf_problem(struct conf_state *st, int line, bool warning, const char *fmt, ...)
{
	struct conf_problem *v;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!warning)
		st->n_errors++;
	v = realloc(st->probs.v, (st->probs.n + 1) * sizeof(*v));
	if (!v || !msg) {
		/* Still fail the load; the message is lost, say so once. */
		log_err("conf", "%s:%d: out of memory recording a problem", st->file, line);
		free(msg);
		if (v)
			st->probs.v = v;
		return;
	}
	st->probs.v = v;
	v[st->probs.n++] = (struct conf_problem){.line = line, .warning = warning, .msg = msg};
}

static int cmp_problem(const void *a, const void *b)
{
	const struct conf_problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return 0;
}

int conf_state_finish(struct conf_state *st, struct conf_problems *probs)
{
	/* Insertion sort: stable and the list is short and nearly sorted. */
	for (size_t i = 1; i < st->probs.n; i++) {
		struct conf_problem t = st->probs.v[i];
		size_t j = i;

		while (j > 0 && cmp_problem(&st->probs.v[j - 1], &t) > 0) {
			st->probs.v[j] = st->probs.v[j - 1];
			j--;
		}
		st->probs.v[j] = t;
	}
	for (size_t i = 0; i < st->probs.n; i++) {
		const struct conf_problem *p = &st->probs.v[i];

		if (p->line > 0)
			util_log(p->warning ? UTIL_LOG_WARN : UTIL_LOG_ERR, "conf", "%s:%d: %s%s",
				 st->file, p->line, p->warning ? "warning: " : "", p->msg);
		else
			util_log(p->warning ? UTIL_LOG_WARN : UTIL_LOG_ERR, "conf", "%s: %s%s",
				 st->file, p->warning ? "warning: " : "", p->msg);
	}
	if (probs) {
		*probs = st->probs;
	} else {
		struct conf_problems tmp = st->probs;

		conf_problems_free(&tmp);
	}
	st->probs = (struct conf_problems){0};
	return st->n_errors ? -EINVAL : 0;
}

void conf_problems_free(struct conf_problems *probs)
{
	if (!probs)
		return;
	for (size_t i = 0; i < probs->n; i++)
		free(probs->v[i].msg);
	free(probs->v);
	probs->v = NULL;
	probs->n = 0;
}
