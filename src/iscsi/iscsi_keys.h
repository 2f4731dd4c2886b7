/* SPDX-License-Identifier: MIT */
/*
 * iSCSI text keys (RFC 7143 6.1, 6.2, section 13): parsing key=value
 * payloads, building bounded replies, and the negotiation table. Pure: no
 * scsi, no sockets.
 */
#ifndef ISCSI_KEYS_H
#define ISCSI_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targetd/iscsi.h"

#define ISCSI_KEY_NAME_MAX 63 /* 6.1: key names up to 63 bytes */
#define ISCSI_KEY_VALUE_MAX 8192 /* 6.1: text values up to 8192 (CHAP binary) */
#define ISCSI_KEYS_MAX 128 /* keys per login/text request sequence */
#define ISCSI_TEXT_MAX 65536 /* accumulated request (C bit) or reply */
#define ISCSI_LOGIN_DSL_MAX 8192 /* 6.2 / 13.12: login PDUs use the 8192 default */

struct iscsi_kv {
	const char *key;
	const char *val;
};

/* Split a NUL-separated payload. Copies it into a NUL-terminated buffer
 * (*store, malloc'd, caller frees) so no byte of the wire is trusted to be a
 * terminator. -EPROTO if an entry has no '=', an empty or too long name, or
 * too long a value; -E2BIG if more than max keys. */
int iscsi_kv_parse(const uint8_t *buf, size_t len, struct iscsi_kv *out, size_t max, size_t *n,
		   char **store);

/* Bounded reply text: "key=value\0" appended; overflow sticks. */
struct iscsi_textbuf {
	char *buf;
	size_t len, cap;
	bool overflow;
};
int iscsi_textbuf_init(struct iscsi_textbuf *tb, size_t cap); /* -ENOMEM */
void iscsi_textbuf_free(struct iscsi_textbuf *tb);
void iscsi_textbuf_add(struct iscsi_textbuf *tb, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Operational parameters of a session/connection after negotiation. */
struct iscsi_params {
	bool header_digest, data_digest;
	uint32_t max_recv_dsl_initiator; /* what we may send in one PDU */
	uint32_t max_recv_dsl_target; /* what we accept */
	uint32_t max_burst, first_burst, max_outstanding_r2t;
	bool initial_r2t, immediate_data;
	bool data_pdu_in_order, data_sequence_in_order;
	uint32_t default_time2wait, default_time2retain;
	uint32_t error_recovery_level, max_connections;
	bool discovery;
	char initiator_name[224]; /* 4.2.7.1: up to 223 bytes */
	char initiator_alias[256];
	char target_name[224];
};

/* RFC 7143 section 13 defaults for the negotiated values, our limits from s. */
void iscsi_params_init(struct iscsi_params *p, const struct iscsi_settings *s);

/* Negotiation state of one login. */
struct iscsi_nego {
	struct iscsi_params *p;
	const struct iscsi_settings *s;
	int stage; /* ISCSI_LOGIN_STAGE_* of the current request */
	bool leading; /* leading connection (TSIH == 0) */
	bool auth_done; /* AuthMethod=None agreed */
	bool auth_rejected; /* no AuthMethod we support was offered */
	bool chap_required; /* CHAP configured for this login: offer only CHAP */
	bool chap_chosen; /* AuthMethod=CHAP agreed (iscsi_chap.c runs the exchange) */
	bool declared_mrdsl; /* we declared our MaxRecvDataSegmentLength */
	bool session_type_seen;
	uint64_t seen; /* table rows already negotiated (duplicates) */
};

void iscsi_nego_init(struct iscsi_nego *n, struct iscsi_params *p, const struct iscsi_settings *s);

/*
 * Process one complete request's keys and append the answers to reply.
 * Returns 0, or a login status (11.13.5, class << 8 | detail) that fails
 * the login: 0x0200 for duplicate keys or a reply that would exceed its
 * bound (a flood of unknown keys), 0x0209 for a bad SessionType.
 */
int iscsi_nego_process(struct iscsi_nego *n, const struct iscsi_kv *kv, size_t nkv,
		       struct iscsi_textbuf *reply);
/* Keys we declare on entering the operational stage even when not asked. */
void iscsi_nego_declare(struct iscsi_nego *n, struct iscsi_textbuf *reply);

#endif
