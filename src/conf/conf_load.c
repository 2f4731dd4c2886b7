/* SPDX-License-Identifier: MIT */
/*
 * conf_load: /etc/targetd.conf through inih. inih splits "key = value" lines
 * and strips comments; our line reader counts lines (so every problem carries
 * file:line), recognises section headers itself (so empty sections and their
 * lines are known) and reports malformed lines. Every problem is collected;
 * parsing never stops at the first one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf_priv.h"
#include "targetd/util.h"

enum sect_kind {
	S_NONE,
	S_BAD,
	S_GLOBAL,
	S_PORTAL,
	S_TARGET,
	S_LUN
};

struct key {
	const char *name;
	bool repeatable;
	void (*fn)(struct conf_state *st, const char *key, const char *val);
};

#define ERR(st, ...) conf_problem(st, (st)->line, false, __VA_ARGS__)

/* ---- [global] ------------------------------------------------------------ */

static void k_state_dir(struct conf_state *st, const char *key, const char *val)
{
	(void)key;
	if (val[0] != '/') {
		ERR(st, "state_dir must be an absolute path");
		return;
	}
	free(st->c->state_dir);
	st->c->state_dir = strdup(val);
}

static uint32_t *global_u32(struct conf *c, const char *key)
{
	if (!strcmp(key, "max_recv_data_segment_length"))
		return &c->max_recv_data_segment_length;
	if (!strcmp(key, "first_burst_length"))
		return &c->first_burst_length;
	if (!strcmp(key, "max_burst_length"))
		return &c->max_burst_length;
	if (!strcmp(key, "max_outstanding_r2t"))
		return &c->max_outstanding_r2t;
	if (!strcmp(key, "cmdsn_window"))
		return &c->cmdsn_window;
	if (!strcmp(key, "nop_interval"))
		return &c->nop_interval_ms;
	if (!strcmp(key, "nop_timeout"))
		return &c->nop_timeout_ms;
	if (!strcmp(key, "login_timeout"))
		return &c->login_timeout_ms;
	if (!strcmp(key, "max_connections"))
		return &c->max_connections;
	if (!strcmp(key, "max_sessions_per_target"))
		return &c->max_sessions_per_target;
	return &c->max_registrants;
}

/* RFC 7143 13.12-13.14: MaxRecvDataSegmentLength, MaxBurstLength and
 * FirstBurstLength are 512..2^24-1 bytes. */
static void k_bytes(struct conf_state *st, const char *key, const char *val)
{
	if (!strcmp(key, "first_burst_length"))
		st->fbl_line = st->line;
	else if (!strcmp(key, "max_burst_length"))
		st->mbl_line = st->line;
	if (conf_parse_bytes(val, 512, 16777215, global_u32(st->c, key)))
		ERR(st, "%s must be 512 to 16777215 bytes (RFC 7143 13.12-13.14), got '%s'", key,
		    val);
}

static void k_count(struct conf_state *st, const char *key, const char *val)
{
	uint32_t max = 65535, min = 1;

	if (!strcmp(key, "cmdsn_window"))
		max = 65536; /* well inside the 2^31 RFC 1982 window (RFC 7143 4.2.2.1) */
	else if (!strcmp(key, "max_connections"))
		max = 1048576;
	/* max_outstanding_r2t: RFC 7143 13.17, 1..65535 */
	if (conf_parse_u32(val, min, max, global_u32(st->c, key)))
		ERR(st, "%s must be a number from %u to %u, got '%s'", key, min, max, val);
}

/* issue 9: data buffers held by one connection's commands. At least 1 MiB (a
 * command is admitted anyway while its connection holds none, so an 8 MiB
 * transfer still runs); at most 4095 MiB (32 bits). */
static void k_conn_data(struct conf_state *st, const char *key, const char *val)
{
	(void)key;
	if (conf_parse_bytes(val, 1u << 20, 4095u << 20, &st->c->max_conn_data_bytes))
		ERR(st, "max_conn_data_bytes must be 1M to 4095M bytes, got '%s'", val);
}

/* issue 9: connections per source address; 0 turns the limit off. */
static void k_per_address(struct conf_state *st, const char *key, const char *val)
{
	uint32_t v;

	(void)key;
	if (conf_parse_u32(val, 0, 1048576, &v)) {
		ERR(st,
		    "max_connections_per_address must be a number from 0 (off) to 1048576, "
		    "got '%s'",
		    val);
		return;
	}
	st->c->max_connections_per_address = v ? v : UINT32_MAX;
}

static void k_duration(struct conf_state *st, const char *key, const char *val)
{
	/* 0 would mean "built-in default" to the iscsi module, so it is refused
	 * rather than silently meaning something else. */
	if (conf_parse_duration_ms(val, 1, 3600000, global_u32(st->c, key)))
		ERR(st,
		    "%s must be a duration from 1ms to 1h (\"15\", \"15s\", \"500ms\"), got '%s'",
		    key, val);
}

static void k_log_level(struct conf_state *st, const char *key, const char *val)
{
	(void)key;
	if (conf_parse_log_level(val, &st->c->log_level))
		ERR(st, "log_level must be err, warn, notice, info or debug, got '%s'", val);
}

/* Busy polling of the event loop (evloop.h evl_set_poll_us): microseconds,
 * 0 = off. Capped at 10 ms: beyond that it is a spinning core, not a latency
 * trade. */
static void k_poll_us(struct conf_state *st, const char *key, const char *val)
{
	(void)key;
	if (conf_parse_u32(val, 0, 10000, &st->c->poll_us))
		ERR(st, "poll_us must be a number of microseconds from 0 to 10000, got '%s'", val);
}

static const struct key global_keys[] = {
    {"state_dir", false, k_state_dir},
    {"max_recv_data_segment_length", false, k_bytes},
    {"first_burst_length", false, k_bytes},
    {"max_burst_length", false, k_bytes},
    {"max_outstanding_r2t", false, k_count},
    {"cmdsn_window", false, k_count},
    {"nop_interval", false, k_duration},
    {"nop_timeout", false, k_duration},
    {"login_timeout", false, k_duration},
    {"max_connections", false, k_count},
    {"max_connections_per_address", false, k_per_address},
    {"max_conn_data_bytes", false, k_conn_data},
    {"max_sessions_per_target", false, k_count},
    {"max_registrants", false, k_count},
    {"log_level", false, k_log_level},
    {"poll_us", false, k_poll_us},
    /* CHAP for discovery sessions (conf_chap.c) */
    {"discovery_chap_user", false, conf_k_chap},
    {"discovery_chap_secret", false, conf_k_chap},
    {"discovery_chap_secret_file", false, conf_k_chap},
    {"discovery_mutual_user", false, conf_k_chap},
    {"discovery_mutual_secret", false, conf_k_chap},
    {"discovery_mutual_secret_file", false, conf_k_chap},
    {NULL, false, NULL},
};

/* ---- [portal NAME] ------------------------------------------------------- */

static void k_listen(struct conf_state *st, const char *key, const char *val)
{
	struct conf_psect *ps = &st->ps[st->idx];
	struct conf_listen *v;
	uint16_t port = CONF_DEFAULT_PORT;
	const char *why;
	bool has_port;
	char *host;

	(void)key;
	if (conf_parse_hostport(val, &host, &port, &has_port, &why)) {
		ERR(st, "listen = %s: %s", val, why);
		return;
	}
	v = realloc(ps->listens, (ps->n_listens + 1) * sizeof(*v));
	if (!v) {
		free(host);
		ERR(st, "out of memory");
		return;
	}
	ps->listens = v;
	v[ps->n_listens++] = (struct conf_listen){.host = host, .port = port, .line = st->line};
}

static void k_group(struct conf_state *st, const char *key, const char *val)
{
	uint32_t g;

	(void)key;
	/* RFC 7143 13.9 TargetPortalGroupTag is 16 bits; it is also the relative
	 * target port identifier, where 0 is reserved (SPC-4 7.8.6.7). */
	if (conf_parse_u32(val, 1, 65535, &g))
		ERR(st, "group must be a portal group tag from 1 to 65535, got '%s'", val);
	else
		st->ps[st->idx].tpgt = (uint16_t)g;
}

static void k_advertise(struct conf_state *st, const char *key, const char *val)
{
	struct conf_psect *ps = &st->ps[st->idx];
	uint16_t port = 0;
	const char *why;
	bool has_port;
	char *host;

	(void)key;
	if (conf_parse_hostport(val, &host, &port, &has_port, &why)) {
		ERR(st, "advertise = %s: %s", val, why);
		return;
	}
	if (has_port && port == 0) {
		free(host);
		ERR(st, "advertise = %s: port 0 cannot be advertised", val);
		return;
	}
	free(ps->adv_host);
	ps->adv_host = host;
	ps->adv_port = port;
}

static const struct key portal_keys[] = {
    {"listen", true, k_listen},
    {"group", false, k_group},
    {"advertise", false, k_advertise},
    {NULL, false, NULL},
};

/* ---- [target IQN] -------------------------------------------------------- */

static int push_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void k_portal_group(struct conf_state *st, const char *key, const char *val)
{
	struct conf_target *t = &st->c->targets[st->idx];
	uint16_t *v;
	uint32_t g;

	(void)key;
	if (conf_parse_u32(val, 1, 65535, &g)) {
		ERR(st, "portal_group must be a portal group tag from 1 to 65535, got '%s'", val);
		return;
	}
	for (size_t i = 0; i < t->n_tpgts; i++) {
		if (t->tpgts[i] == g) {
			ERR(st, "portal_group %u listed twice for %s", g, t->name);
			return;
		}
	}
	v = realloc(t->tpgts, (t->n_tpgts + 1) * sizeof(*v));
	if (!v) {
		ERR(st, "out of memory");
		return;
	}
	t->tpgts = v;
	v[t->n_tpgts++] = (uint16_t)g;
}

static void k_allow(struct conf_state *st, const char *key, const char *val)
{
	struct conf_target *t = &st->c->targets[st->idx];
	const char *why;

	(void)key;
	if (conf_check_iscsi_name(val, &why)) {
		ERR(st, "allow = %s: %s", val, why);
		return;
	}
	for (size_t i = 0; i < t->n_allow; i++) {
		if (!strcmp(t->allow[i], val)) {
			ERR(st, "allow = %s listed twice", val);
			return;
		}
	}
	if (push_str(&t->allow, &t->n_allow, val))
		ERR(st, "out of memory");
}

static const struct key target_keys[] = {
    {"portal_group", true, k_portal_group},
    {"allow", true, k_allow},
    {"allow_net", true, conf_k_allow_net},
    /* CHAP (conf_chap.c) */
    {"chap_user", false, conf_k_chap},
    {"chap_secret", false, conf_k_chap},
    {"chap_secret_file", false, conf_k_chap},
    {"mutual_user", false, conf_k_chap},
    {"mutual_secret", false, conf_k_chap},
    {"mutual_secret_file", false, conf_k_chap},
    {NULL, false, NULL},
};

/* ---- [lun IQN N] --------------------------------------------------------- */

static void k_path(struct conf_state *st, const char *key, const char *val)
{
	struct conf_lun *l = &st->ls[st->idx].lun;

	(void)key;
	free(l->path);
	l->path = strdup(val);
}

static void k_block_size(struct conf_state *st, const char *key, const char *val)
{
	uint32_t bs;

	(void)key;
	/* SBC-4 6.4.2 READ CAPACITY LOGICAL BLOCK LENGTH: we offer 512 and 4096. */
	if (conf_parse_u32(val, 0, UINT32_MAX, &bs) || (bs != 512 && bs != 4096))
		ERR(st, "block_size must be 512 or 4096, got '%s'", val);
	else
		st->ls[st->idx].lun.block_size = bs;
}

static void k_serial(struct conf_state *st, const char *key, const char *val)
{
	struct conf_lsect *ls = &st->ls[st->idx];
	const char *why;

	(void)key;
	if (conf_check_serial(val, &why)) {
		ERR(st, "serial = %s: %s", val, why);
		return;
	}
	free(ls->lun.serial);
	ls->lun.serial = strdup(val);
	ls->serial_given = true;
}

static void k_lun_bool(struct conf_state *st, const char *key, const char *val)
{
	struct conf_lun *l = &st->ls[st->idx].lun;

	bool *dst = &l->write_cache;

	if (!strcmp(key, "read_only"))
		dst = &l->read_only;
	else if (!strcmp(key, "sanitize"))
		dst = &l->sanitize;

	if (conf_parse_bool(val, dst))
		ERR(st, "%s must be yes or no, got '%s'", key, val);
}

/* pr_state = load (default) | ignore: the operator's override for a corrupt
 * APTPL state file (issue 11; docs/aptpl-format.md). */
static void k_pr_state(struct conf_state *st, const char *key, const char *val)
{
	struct conf_lun *l = &st->ls[st->idx].lun;

	(void)key;
	if (!strcmp(val, "load"))
		l->pr_ignore_state = false;
	else if (!strcmp(val, "ignore"))
		l->pr_ignore_state = true;
	else
		ERR(st, "pr_state must be load or ignore, got '%s'", val);
}

static const struct key lun_keys[] = {
    {"path", false, k_path},
    {"block_size", false, k_block_size},
    {"serial", false, k_serial},
    {"read_only", false, k_lun_bool},
    {"write_cache", false, k_lun_bool},
    {"pr_state", false, k_pr_state},
    /* SANITIZE destroys every block: off unless asked for (issue 5) */
    {"sanitize", false, k_lun_bool},
    {NULL, false, NULL},
};

/* ---- sections ------------------------------------------------------------ */

static const struct key *keys_of(int kind)
{
	switch ((enum sect_kind)kind) {
	case S_GLOBAL:
		return global_keys;
	case S_PORTAL:
		return portal_keys;
	case S_TARGET:
		return target_keys;
	case S_LUN:
		return lun_keys;
	case S_NONE:
	case S_BAD:
		break;
	}
	return NULL;
}

static void begin_global(struct conf_state *st)
{
	if (st->have_global)
		ERR(st, "duplicate [global] section");
	st->have_global = true;
	st->kind = S_GLOBAL;
}

static void begin_portal(struct conf_state *st, const char *name)
{
	struct conf_psect *v;

	for (size_t i = 0; i < st->n_ps; i++) {
		if (!strcmp(st->ps[i].name, name)) {
			ERR(st, "duplicate [portal %s] (first at line %d)", name, st->ps[i].line);
			return;
		}
	}
	v = realloc(st->ps, (st->n_ps + 1) * sizeof(*v));
	if (!v) {
		ERR(st, "out of memory");
		return;
	}
	st->ps = v;
	v[st->n_ps] =
	    (struct conf_psect){.name = strdup(name), .line = st->line, .tpgt = CONF_DEFAULT_TPGT};
	st->idx = st->n_ps++;
	st->kind = S_PORTAL;
}

static void begin_target(struct conf_state *st, const char *name)
{
	struct conf *c = st->c;
	struct conf_target *v;
	const char *why;

	if (conf_check_iscsi_name(name, &why)) {
		ERR(st, "[target %s]: %s", name, why);
		return;
	}
	for (size_t i = 0; i < c->n_targets; i++) {
		if (!strcmp(c->targets[i].name, name)) {
			ERR(st, "duplicate [target %s] (first at line %d)", name,
			    c->targets[i].line);
			return;
		}
	}
	v = realloc(c->targets, (c->n_targets + 1) * sizeof(*v));
	if (!v) {
		ERR(st, "out of memory");
		return;
	}
	c->targets = v;
	v[c->n_targets] = (struct conf_target){.name = strdup(name), .line = st->line};
	st->idx = c->n_targets++;
	st->kind = S_TARGET;
}

static void begin_lun(struct conf_state *st, const char *target, const char *num)
{
	struct conf_lsect *v;
	const char *why;
	uint32_t n;

	if (conf_check_iscsi_name(target, &why)) {
		ERR(st, "[lun %s %s]: %s", target, num, why);
		return;
	}
	if (conf_parse_u32(num, 0, CONF_LUN_MAX, &n)) {
		ERR(st,
		    "[lun %s %s]: LUN must be a number from 0 to %u (SAM-5 flat space "
		    "addressing)",
		    target, num, CONF_LUN_MAX);
		return;
	}
	for (size_t i = 0; i < st->n_ls; i++) {
		if (!strcmp(st->ls[i].target, target) && st->ls[i].lun.lun == n) {
			ERR(st, "duplicate LUN %u of %s (first at line %d)", n, target,
			    st->ls[i].lun.line);
			return;
		}
	}
	v = realloc(st->ls, (st->n_ls + 1) * sizeof(*v));
	if (!v) {
		ERR(st, "out of memory");
		return;
	}
	st->ls = v;
	v[st->n_ls] = (struct conf_lsect){
	    .target = strdup(target),
	    .lun = {.lun = n, .block_size = 512, .write_cache = true, .line = st->line},
	};
	st->idx = st->n_ls++;
	st->kind = S_LUN;
}

/* Section header "[...]" seen by the reader at st->line. */
static void begin_section(struct conf_state *st, char *hdr)
{
	char *w[4] = {0};
	size_t n = 0;

	st->kind = S_BAD; /* keys of a rejected section are not reported again */
	st->sect_line = st->line;
	memset(st->seen, 0, sizeof(st->seen));
	for (char *save = NULL, *tok = strtok_r(hdr, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(w)) {
			n++;
			break;
		}
		w[n++] = tok;
	}
	if (n == 1 && !strcmp(w[0], "global"))
		begin_global(st);
	else if (n == 2 && !strcmp(w[0], "portal"))
		begin_portal(st, w[1]);
	else if (n == 2 && !strcmp(w[0], "target"))
		begin_target(st, w[1]);
	else if (n == 3 && !strcmp(w[0], "lun"))
		begin_lun(st, w[1], w[2]);
	else if (n >= 1 && !strcmp(w[0], "global"))
		ERR(st, "malformed section header: [global] takes no name");
	else if (n >= 1 && !strcmp(w[0], "portal"))
		ERR(st, "malformed section header: expected [portal NAME]");
	else if (n >= 1 && !strcmp(w[0], "target"))
		ERR(st,
		    "malformed section header: expected [target IQN] (one iSCSI name, no spaces)");
	else if (n >= 1 && !strcmp(w[0], "lun"))
		ERR(st, "malformed section header: expected [lun IQN N]");
	else
		ERR(st, "unknown section [%s]", n ? w[0] : "");
}

/* inih handler: one key = value of the current section. */
/* Placeholder key the reader hands inih for a line too long for inih's fixed
 * line buffer (200 bytes in Debian's build); the handler splits the real line
 * itself with inih's rules: key up to the first '=' or ':', both sides
 * trimmed, " ;" starts a comment. */
#define LONG_LINE_KEY "\x01"

static void split_long_line(char *line, char **name, char **value)
{
	char *sep = line + strcspn(line, "=:"), *v, *c, *e;

	*sep = '\0'; /* the reader only defers lines that have a separator */
	for (e = sep; e > line && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	v = sep + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (c = v; (c = strchr(c, ';')) != NULL; c++) {
		if (c > v && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	}
	for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	*name = line;
	*value = v;
}

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
	struct conf_state *st = user;
	const struct key *keys = keys_of(st->kind);
	char *lname, *lvalue;

	(void)section; /* the reader tracks sections itself, with their lines */
	if (st->long_line && !strcmp(name, LONG_LINE_KEY)) {
		split_long_line(st->long_line, &lname, &lvalue);
		name = lname;
		value = lvalue;
	}
	if (st->kind == S_BAD)
		return 1;
	if (!keys) {
		ERR(st, "'%s' outside any section", name);
		return 1;
	}
	for (size_t i = 0; keys[i].name; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (!keys[i].repeatable && i < ARRAY_SIZE(st->seen)) {
			if (st->seen[i]) {
				ERR(st, "duplicate key '%s' (first at line %d)", name, st->seen[i]);
				return 1;
			}
			st->seen[i] = st->line;
		}
		if (!*value && strcmp(name, "allow")) {
			ERR(st, "'%s' needs a value", name);
			return 1;
		}
		keys[i].fn(st, name, value);
		return 1;
	}
	ERR(st, "unknown key '%s'", name);
	return 1;
}

#define CONF_LINE_MAX 65536

/* inih reader: one physical line per call, counted. Section headers are
 * handled here; key = value lines longer than inih's buffer are handed over
 * as LONG_LINE_KEY and split by on_kv. */
static char *reader(char *buf, int num, void *stream)
{
	struct conf_state *st = stream;
	char *line = NULL, *p, *end;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, (FILE *)st->stream);

	if (len < 0) {
		free(line);
		return NULL;
	}
	st->line++;
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	free(st->long_line);
	st->long_line = NULL;
	if (len > CONF_LINE_MAX) {
		conf_problem(st, st->line, false, "line longer than %d characters", CONF_LINE_MAX);
		line[0] = '\0';
		len = 0;
	}
	/* Classify the line the way inih will, to see sections and bad lines. */
	p = line;
	if (st->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	bool kv = false;

	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			conf_problem(st, st->line, false, "missing ']' in section header");
			st->kind = S_BAD;
		} else {
			char *hdr = strndup(p + 1, (size_t)(end - p - 1));

			if (hdr)
				begin_section(st, hdr);
			free(hdr);
		}
	} else if (*p && *p != ';' && *p != '#') {
		kv = strchr(p, '=') || strchr(p, ':');
		if (!kv)
			conf_problem(st, st->line, false, "expected 'key = value'");
	}
	if (len + 2 > num) {
		/* Too long for inih: sections and comments were dealt with above. */
		if (kv)
			st->long_line = strdup(p);
		snprintf(buf, (size_t)num, "%s\n", kv ? LONG_LINE_KEY "=" : "");
		free(line);
		return buf;
	}
	memcpy(buf, line, (size_t)len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	free(line);
	return buf;
}

int conf_load_ex(const char *path, struct conf **out, struct conf_problems *probs)
{
	struct conf_state st = {.file = path};
	FILE *f;
	int r;

	if (probs)
		*probs = (struct conf_problems){0};
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		log_err("conf", "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	st.c = calloc(1, sizeof(*st.c));
	if (!st.c) {
		fclose(f);
		return -ENOMEM;
	}
	st.c->source = strdup(path);
	st.stream = f;
	/* Indented lines are not continuations: every line stands alone so every
	 * problem has its own line number. */
	ini_allow_multiline = false;
	r = ini_parse_stream(reader, &st, on_kv, &st);
	free(st.long_line);
	st.long_line = NULL;
	if (ferror(f))
		conf_problem(&st, st.line, false, "read error");
	fclose(f);
	if (r > 0 && st.n_errors == 0)
		conf_problem(&st, r, false, "syntax error");
	else if (r < 0)
		conf_problem(&st, 0, false, "out of memory while parsing");
	conf_validate(&st);
	r = conf_state_finish(&st, probs);
	if (r) {
		conf_free(st.c);
		return r;
	}
	*out = st.c;
	return 0;
}

int conf_load(const char *path, struct conf **out)
{
	return conf_load_ex(path, out, NULL);
}
