/* SPDX-License-Identifier: MIT */
/*
 * conf: /etc/targetd.conf (INI, parsed by the system's inih) into an immutable
 * struct conf, with validation that reports every problem as "file:line:
 * message". Also builds the same struct from the quick-export command line
 * (--listen / --export). No I/O beyond reading the file; the daemon applies it.
 */
#ifndef TARGETD_CONF_H
#define TARGETD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_portal {
	char *host; /* IPv4/IPv6 literal or name, no brackets */
	uint16_t port; /* default 3260 */
	uint16_t tpgt; /* portal group tag, default 1 */
	char *advertise; /* "addr:port" for SendTargets, or NULL */
	int line;
};

struct conf_lun {
	uint64_t lun;
	char *path;
	uint32_t block_size; /* 512 (default) or 4096 */
	char *serial; /* default: stable UUID derived from target name + LUN */
	bool read_only;
	bool write_cache; /* default true */
	bool pr_ignore_state; /* pr_state = ignore: start with empty PR state if the
			       * APTPL file is corrupt (docs/aptpl-format.md) */
	bool sanitize; /* sanitize = yes: SANITIZE (SBC-4 5.30) allowed; default no */
	int line;
};

/* CHAP credentials (RFC 7143 12.1.3); all NULL: no CHAP. Secrets come from
 * the file itself or from a *_secret_file (read at load time). */
struct conf_chap {
	char *user, *secret; /* the initiator authenticates with these */
	char *mutual_user, *mutual_secret; /* the target answers with these; NULL: one-way */
	int line; /* first CHAP key's line, 0 if none */
};

struct conf_target {
	char *name; /* iSCSI name (iqn./eui./naa.), validated per RFC 3722/7143 4.2.7 */
	char **allow; /* initiator names; n_allow == 0: everyone */
	size_t n_allow;
	uint16_t *tpgts; /* portal groups this target is exported on; n == 0: all */
	size_t n_tpgts;
	struct conf_lun *luns;
	size_t n_luns;
	int line;
	struct conf_chap chap; /* added (additive): chap_user = ... in [target IQN] */
	char **allow_net; /* source networks ("10.0.0.0/8"); n_allow_net == 0: any */
	size_t n_allow_net;
};

struct conf {
	char *source; /* file name, or "command line" */
	char *state_dir; /* default /var/lib/targetd */
	/* iSCSI settings: 0 = default (see struct iscsi_settings) */
	uint32_t max_recv_data_segment_length, first_burst_length, max_burst_length;
	uint32_t nop_interval_ms, nop_timeout_ms, login_timeout_ms;
	uint32_t max_connections, max_sessions_per_target;
	/* Added (additive, issue 9): data buffers per connection (bytes), and
	 * connections per source address (UINT32_MAX: off, "= 0" in the file). */
	uint32_t max_conn_data_bytes, max_connections_per_address;
	uint32_t max_registrants; /* PR registrants per LU, default 128 */
	struct conf_portal *portals;
	size_t n_portals;
	struct conf_target *targets;
	size_t n_targets;
	/* Added by the conf module (additive): more iSCSI settings, 0 = default. */
	uint32_t max_outstanding_r2t, cmdsn_window;
	int log_level; /* enum util_log_level; 0 = not set (daemon default) */
	struct conf_chap discovery_chap; /* [global] discovery_chap_user = ... */
	uint32_t poll_us; /* [global] poll_us: event loop busy poll, 0 = off (issue 8) */
};

/* Parse and validate. Every problem is logged as "path:line: message" (subsys
 * "conf"); returns 0, or -EINVAL if there was any problem (*out untouched),
 * or -errno if the file cannot be read. */
int conf_load(const char *path, struct conf **out);
/* Quick export: listens = "host:port" / "[v6]:port" strings; exports =
 * "IQN=PATH[,PATH...]" strings (each PATH a LUN, numbered from 0). */
int conf_from_args(const char *const *listens, size_t n_listens, const char *const *exports,
		   size_t n_exports, const char *state_dir, struct conf **out);
void conf_free(struct conf *c);

/* Every problem conf_load found, in file order (additive, for --check-config
 * and tests). Warnings do not make conf_load fail. */
struct conf_problem {
	int line; /* 0: not tied to a line */
	bool warning;
	char *msg; /* without the "file:line: " prefix */
};
struct conf_problems {
	struct conf_problem *v;
	size_t n;
};
/* conf_load, and also hands back every problem (errors and warnings) when
 * probs != NULL; release with conf_problems_free. */
int conf_load_ex(const char *path, struct conf **out, struct conf_problems *probs);
void conf_problems_free(struct conf_problems *probs);

#endif
