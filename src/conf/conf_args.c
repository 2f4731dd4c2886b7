/* SPDX-License-Identifier: MIT */
/*
 * conf_args: the quick-export mode, `targetd --listen ADDR:PORT --export
 * IQN=PATH[,PATH...]`, built into the same struct conf (and put through the
 * same checks) as a configuration file. Problems are reported as
 * "command line: ...".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_priv.h"
#include "targetd/util.h"

static void add_listen(struct conf_state *st, const char *arg)
{
	struct conf_psect *v;
	struct conf_listen *l;
	uint16_t port = CONF_DEFAULT_PORT;
	const char *why;
	bool has_port;
	char *host;

	if (conf_parse_hostport(arg, &host, &port, &has_port, &why)) {
		conf_problem(st, 0, false, "--listen %s: %s", arg, why);
		return;
	}
	v = realloc(st->ps, (st->n_ps + 1) * sizeof(*v));
	l = malloc(sizeof(*l));
	if (v)
		st->ps = v;
	if (!v || !l) {
		free(l);
		free(host);
		conf_problem(st, 0, false, "out of memory");
		return;
	}
	*l = (struct conf_listen){.host = host, .port = port};
	v[st->n_ps++] = (struct conf_psect){
	    .name = strdup(arg), .tpgt = CONF_DEFAULT_TPGT, .listens = l, .n_listens = 1};
}

static void add_lun(struct conf_state *st, const char *target, uint64_t n, const char *path,
		    size_t len)
{
	struct conf_lsect *v = realloc(st->ls, (st->n_ls + 1) * sizeof(*v));

	if (!v) {
		conf_problem(st, 0, false, "out of memory");
		return;
	}
	st->ls = v;
	v[st->n_ls++] = (struct conf_lsect){
	    .target = strdup(target),
	    .lun = {.lun = n, .path = strndup(path, len), .block_size = 512, .write_cache = true},
	};
}

static void add_export(struct conf_state *st, const char *arg)
{
	struct conf *c = st->c;
	const char *eq = strchr(arg, '='), *why, *p;
	struct conf_target *v;
	uint64_t lun = 0;
	char *name;

	if (!eq || eq == arg || !eq[1]) {
		conf_problem(st, 0, false, "--export %s: expected IQN=PATH[,PATH...]", arg);
		return;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name) {
		conf_problem(st, 0, false, "out of memory");
		return;
	}
	if (conf_check_iscsi_name(name, &why)) {
		conf_problem(st, 0, false, "--export %s: %s", arg, why);
		free(name);
		return;
	}
	for (size_t i = 0; i < c->n_targets; i++) {
		if (!strcmp(c->targets[i].name, name)) {
			conf_problem(st, 0, false, "--export %s: target exported twice", name);
			free(name);
			return;
		}
	}
	v = realloc(c->targets, (c->n_targets + 1) * sizeof(*v));
	if (!v) {
		conf_problem(st, 0, false, "out of memory");
		free(name);
		return;
	}
	c->targets = v;
	v[c->n_targets++] = (struct conf_target){.name = name};
	for (p = eq + 1;; lun++) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			conf_problem(st, 0, false, "--export %s: empty path for LUN %llu", arg,
				     (unsigned long long)lun);
		else if (lun > CONF_LUN_MAX)
			conf_problem(st, 0, false, "--export %s: more than %u LUNs", arg,
				     CONF_LUN_MAX + 1);
		else
			add_lun(st, name, lun, p, len);
		if (!p[len])
			break;
		p += len + 1;
	}
}

int conf_from_args(const char *const *listens, size_t n_listens, const char *const *exports,
		   size_t n_exports, const char *state_dir, struct conf **out)
{
	struct conf_state st = {.file = "command line"};
	int r;

	st.c = calloc(1, sizeof(*st.c));
	if (!st.c)
		return -ENOMEM;
	st.c->source = strdup("command line");
	if (state_dir) {
		if (state_dir[0] != '/')
			conf_problem(&st, 0, false, "--state-dir %s: must be an absolute path",
				     state_dir);
		st.c->state_dir = strdup(state_dir);
	}
	for (size_t i = 0; i < n_listens; i++)
		add_listen(&st, listens[i]);
	for (size_t i = 0; i < n_exports; i++)
		add_export(&st, exports[i]);
	conf_validate(&st);
	r = conf_state_finish(&st, NULL);
	if (r) {
		conf_free(st.c);
		return r;
	}
	*out = st.c;
	return 0;
}
