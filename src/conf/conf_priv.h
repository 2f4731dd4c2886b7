/* SPDX-License-Identifier: MIT */
/*
 * conf internals: the parse state shared by the INI reader (conf_load.c), the
 * cross-section checks (conf_validate.c), the quick-export builder
 * (conf_args.c) and the value parsers (conf_values.c, conf_names.c).
 */
#ifndef TARGETD_CONF_PRIV_H
#define TARGETD_CONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targetd/conf.h"

#define CONF_DEFAULT_STATE_DIR "/var/lib/targetd"
#define CONF_DEFAULT_PORT 3260
#define CONF_DEFAULT_TPGT 1
#define CONF_ISCSI_NAME_MAX 223 /* RFC 7143 4.2.7.1: at most 223 bytes */
#define CONF_SERIAL_MAX 32
#define CONF_LUN_MAX 16383 /* SAM-5 4.7.7 flat space addressing: 14-bit LUN */

/* A [portal NAME] section, materialised into struct conf_portal entries (one
 * per listen=) once the whole file is read (group= may follow listen=). */
struct conf_listen {
	char *host;
	uint16_t port;
	int line;
};
struct conf_psect {
	char *name;
	int line;
	uint16_t tpgt;
	char *adv_host; /* advertise= host, NULL if unset */
	uint16_t adv_port; /* 0: use the listen port */
	struct conf_listen *listens;
	size_t n_listens;
};

/* A [lun IQN N] section, attached to its target at the end (any order). */
struct conf_lsect {
	char *target;
	bool serial_given;
	struct conf_lun lun;
};

struct conf_state {
	const char *file;
	struct conf *c;
	struct conf_problems probs;
	size_t n_errors;
	int line; /* line the reader handed to inih last */
	void *stream; /* FILE * */
	char *long_line; /* current line, when too long for inih's buffer */
	/* current section */
	int kind; /* enum in conf_load.c */
	int sect_line;
	size_t idx; /* index into c->targets / psect / lsect */
	int seen[32]; /* first line of each non-repeatable key, per section */
	bool have_global;
	int fbl_line, mbl_line; /* where first/max_burst_length were set */
	struct conf_psect *ps;
	size_t n_ps;
	struct conf_lsect *ls;
	size_t n_ls;
};

/* Records a problem (logged, in line order, by conf_state_finish). */
void conf_problem(struct conf_state *st, int line, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sorts the problems by line, logs each as "file:line: msg", moves them to
 * probs (or frees them). Returns -EINVAL if any was an error. */
int conf_state_finish(struct conf_state *st, struct conf_problems *probs);

/* conf_chap.c: chap_* keys of [target IQN] and discovery_chap_* of [global]
 * (inih handler), their checks at the end, and freeing. */
void conf_k_chap(struct conf_state *st, const char *key, const char *val);
void conf_chap_validate(struct conf_state *st);
void conf_chap_free(struct conf_chap *ch);
/* conf_net.c: allow_net = NETWORK in [target IQN]. */
void conf_k_allow_net(struct conf_state *st, const char *key, const char *val);

/* Cross-section checks and materialisation of portals and LUNs. */
void conf_validate(struct conf_state *st);

/* ---- value parsers: 0 or -EINVAL, with *why set to a static message ---- */
/* RFC 7143 4.2.7 iSCSI name (iqn./eui./naa.), normalised (RFC 3722) form. */
int conf_check_iscsi_name(const char *s, const char **why);
/* Unit serial: 1..32 of [A-Za-z0-9._:-], not starting with '.'. */
int conf_check_serial(const char *s, const char **why);
/* Default serial: SHA-1 name-based UUID over "IQN/N" (32 lowercase hex). */
char *conf_default_serial(const char *target, uint64_t lun);
/* "host", "host:port", "[v6]", "[v6]:port". *port untouched if absent. */
int conf_parse_hostport(const char *s, char **host, uint16_t *port, bool *has_port,
			const char **why);
int conf_parse_bool(const char *s, bool *out);
int conf_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Byte sizes: "262144", "256k", "1M". */
int conf_parse_bytes(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Durations in ms: "5" (seconds), "5s", "500ms", "2m". */
int conf_parse_duration_ms(const char *s, uint32_t min_ms, uint32_t max_ms, uint32_t *out);
int conf_parse_log_level(const char *s, int *out);

/* Adds a portal to c (grows the array). 0 or -ENOMEM. */
int conf_add_portal(struct conf *c, const char *host, uint16_t port, uint16_t tpgt,
		    const char *advertise, int line);
/* Formats host:port with brackets for IPv6 literals; malloc'd. */
char *conf_format_hostport(const char *host, uint16_t port);

#endif
