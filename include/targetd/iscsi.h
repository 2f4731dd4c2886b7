/* SPDX-License-Identifier: MIT */
/*
 * iscsi: the iSCSI transport (RFC 7143, ErrorRecoveryLevel 0). Portals,
 * connections, PDU rx/tx, login and key negotiation, (later) CHAP, sessions,
 * the CmdSN window, R2T, Data-In/Data-Out, TMF, NOP, Text/SendTargets,
 * Logout. Turns SCSI Command PDUs into struct scsi_task and back.
 * Loop thread only.
 */
#ifndef TARGETD_ISCSI_H
#define TARGETD_ISCSI_H

#include <stdbool.h>
#include <stdint.h>

struct evl;
struct scsi_core;
struct iscsi_server;

struct iscsi_settings {
	/* Target-side limits and proposals (RFC 7143 13.x). 0 = built-in default. */
	uint32_t max_recv_data_segment_length; /* what we accept; default 256 KiB */
	uint32_t first_burst_length; /* default 64 KiB */
	uint32_t max_burst_length; /* default 1 MiB */
	uint32_t max_outstanding_r2t; /* default 1 (we may offer more) */
	uint32_t cmdsn_window; /* MaxCmdSN - ExpCmdSN + 1; default 128 */
	bool immediate_data; /* default true */
	bool initial_r2t; /* default true */
	bool allow_digests; /* offer CRC32C when the initiator asks; default true */
	/* Timers (ms). */
	uint32_t nop_interval_ms; /* target NOP-In keepalive; default 5000; 0 off */
	uint32_t nop_timeout_ms; /* no reply -> drop connection; default 15000 */
	uint32_t login_timeout_ms; /* whole login phase; default 15000 */
	/* Resource limits. */
	uint32_t max_connections; /* total; default 1024 */
	uint32_t max_sessions_per_target; /* default 256 */
	/* Added (additive, issue 9). Both are read when a command or connection
	 * arrives, so iscsi_server_set_settings() applies them at once. */
	uint32_t max_conn_data_bytes; /* data buffers (WRITE and READ) held by the
				       * commands of one connection; default 64 MiB */
	uint32_t max_connections_per_address; /* per source IP address; default 64;
					       * ISCSI_LIMIT_OFF: no limit */
};

#define ISCSI_LIMIT_OFF UINT32_MAX

/* Fills every 0 field of s with the default. */
void iscsi_settings_defaults(struct iscsi_settings *s);

int iscsi_server_create(struct evl *evl, struct scsi_core *core, const struct iscsi_settings *s,
			struct iscsi_server **out);

/* Bind and listen on host:port for portal group tpgt. host is an IPv4 or IPv6
 * literal (no brackets) or a name; port 0 picks a free port. advertise, if not
 * NULL, is the "addr:port" SendTargets returns for this portal instead of the
 * bound address (for NAT); an advertised port 0 stands for the port actually
 * bound (the config's "advertise = HOST" with "listen = ...:0"). 0 or -errno
 * (logged with the address). */
int iscsi_portal_add(struct iscsi_server *srv, const char *host, uint16_t port, uint16_t tpgt,
		     const char *advertise);
/* The port actually bound for the n-th portal added (0-based), 0 if none. */
uint16_t iscsi_portal_port(const struct iscsi_server *srv, unsigned idx);

/* Graceful stop (SIGTERM): close listeners, stop accepting commands, let
 * in-flight commands finish (bounded by timeout_ms, then abort them), close
 * every connection, then call done(arg) on the loop thread. */
void iscsi_server_shutdown(struct iscsi_server *srv, uint32_t timeout_ms, void (*done)(void *arg),
			   void *arg);
void iscsi_server_destroy(struct iscsi_server *srv);

/* CHAP (RFC 7143 12.1.3). Secrets are NUL-terminated, 1..255 bytes. */
struct iscsi_chap_cred {
	const char *user; /* CHAP_N the initiator must send; NULL or "": no CHAP */
	const char *secret; /* the initiator's secret */
	const char *mutual_user; /* CHAP_N we answer with (mutual CHAP); NULL: one-way */
	const char *mutual_secret; /* the target's secret for mutual CHAP */
};
/* Require CHAP for logins to target_name (NULL: discovery sessions); cred
 * NULL or without a user removes the requirement. Copies everything; later
 * logins use the new credentials (reload). 0 or -errno. */
int iscsi_server_set_chap(struct iscsi_server *srv, const char *target_name,
			  const struct iscsi_chap_cred *cred);
/* Remove every CHAP requirement. */
void iscsi_server_clear_chap(struct iscsi_server *srv);

/* Source-network ACL of target_name (issue 6): logins to it, and its
 * SendTargets entry, only from these networks ("10.0.0.0/8", "fd00::/8", a
 * bare address), in addition to the initiator-name ACL. n == 0 removes it.
 * Copies; replaces the old list in one step. 0, -EINVAL (a bad network:
 * nothing changes) or -ENOMEM. */
int iscsi_server_set_allow_net(struct iscsi_server *srv, const char *target_name,
			       const char *const *nets, size_t n);

/* Sessions for targetctl. */
struct iscsi_session_info {
	const char *initiator_name;
	const char *target_name;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t tpgt;
	char peer_addr[64];
	char local_addr[64];
	uint32_t max_recv_dsl_initiator, max_recv_dsl_target, first_burst, max_burst;
	bool header_digest, data_digest, immediate_data, initial_r2t;
	uint64_t commands, read_bytes, write_bytes;
	bool discovery;
};
/* Calls fn for each logged-in session. */
void iscsi_sessions_foreach(struct iscsi_server *srv,
			    void (*fn)(const struct iscsi_session_info *info, void *arg),
			    void *arg);

#endif
