/* SPDX-License-Identifier: MIT */
/*
 * iscsi internals shared by the connection, login, text, command, TMF and
 * server files. Ownership: the server owns portals and connections; a
 * connection owns its session (MaxConnections=1), its commands and its tx
 * queue. A connection is freed from a deferred call once it is dead and no
 * submitted scsi task still points at it (never inside its own callback).
 */
#ifndef ISCSI_CONN_H
#define ISCSI_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "iscsi_keys.h"
#include "iscsi_pdu.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"

#define ISCSI_R2T_MAX 8 /* descriptors per command: MaxOutstandingR2T is capped to this */

struct iscsi_conn;

struct iscsi_portal {
	struct iscsi_server *srv;
	int fd;
	uint16_t tpgt;
	uint16_t port;
	char host[64]; /* bound address text, no brackets */
	char *advertise; /* "addr:port" or NULL */
	bool wildcard; /* bound to 0.0.0.0 / :: */
};

struct iscsi_server {
	struct evl *evl;
	struct scsi_core *core;
	struct iscsi_settings s;
	struct iscsi_portal **portals; /* pointers: connections keep them */
	unsigned n_portals;
	struct iscsi_conn *conns; /* all connections, doubly linked */
	unsigned n_conns;
	uint16_t next_tsih;
	bool shutting_down;
	void (*shutdown_done)(void *arg);
	void *shutdown_arg;
	struct evl_timer *shutdown_timer;
	struct evl_defer shutdown_defer;
	struct iscsi_chap_entry *chap; /* CHAP credentials (iscsi_chap.c) */
	struct iscsi_netacl *netacls; /* allow_net per target (iscsi_netacl.c) */
	int spare_fd; /* /dev/null held in reserve for EMFILE (portal_accept) */
};

/* Session state (RFC 7143 4.2.2: CmdSN window). One connection per session. */
struct iscsi_session {
	uint16_t tsih;
	uint8_t isid[6];
	uint16_t tpgt;
	struct scsi_target *target; /* NULL for discovery */
	struct scsi_nexus *nexus; /* NULL for discovery */
	uint32_t exp_cmdsn, max_cmdsn;
	struct iscsi_cmd *held; /* out-of-order commands, ascending CmdSN */
	unsigned n_held;
	uint64_t commands, read_bytes, write_bytes;
};

enum iscsi_cmd_state {
	CMD_FREE,
	CMD_RX, /* receiving immediate data (header seen) */
	CMD_HELD, /* waiting for its CmdSN turn */
	CMD_DATA_OUT, /* waiting for unsolicited data or R2T'd data */
	CMD_SUBMITTED, /* in scsi */
	CMD_TX, /* response PDUs queued */
};

struct iscsi_r2t {
	uint32_t ttt, offset, len, received, datasn;
	bool active;
};

/* One request PDU that takes a CmdSN (or an immediate one), and for SCSI
 * Command PDUs the task it carries. From the per-connection free list. */
struct iscsi_cmd {
	struct scsi_task task;
	struct iscsi_conn *conn;
	struct iscsi_cmd *next, *prev; /* conn->cmds: SCSI commands by ITT */
	struct iscsi_cmd *hold_next;
	enum iscsi_cmd_state state;
	uint8_t bhs[ISCSI_BHS_LEN]; /* copy of the request header */
	uint8_t opcode;
	bool immediate, on_list;
	bool aborted_local; /* aborted by a TMF before reaching scsi */
	uint32_t itt, cmdsn;
	uint8_t *ctl; /* data segment of a non-SCSI request (malloc) */
	uint32_t ctl_len;
	/* write path (RFC 7143 11.3, 11.7.1, 11.8) */
	uint32_t xfer_len; /* bytes expected: min(edtl, SCSI_XFER_MAX) or 0 */
	uint32_t received; /* data bytes received so far */
	uint32_t imm_len; /* immediate data bytes */
	int dout_r2t; /* rx: R2T index of the Data-Out, -1 unsolicited */
	uint32_t unsol_end; /* end offset of the unsolicited burst */
	uint32_t unsol_datasn;
	bool unsol_open; /* unsolicited Data-Out still allowed */
	bool discard_data; /* edtl > SCSI_XFER_MAX: data thrown away */
	bool dout_failed; /* 7.9: DataSN out of order (an implied digest error):
			   * the rest of the data is discarded, the task is never
			   * submitted and ends with CHECK CONDITION 0B/47/05 */
	uint32_t r2t_next; /* next offset to request */
	uint32_t r2tsn;
	struct iscsi_r2t r2t[ISCSI_R2T_MAX];
	/* read path */
	uint32_t tx_pending; /* queued PDUs that reference task.buf */
	/* issue 9: data-buffer bytes charged to conn->data_bytes (WRITE buffer or
	 * the READ's Data-In buffer), given back in iscsi_cmd_release */
	uint32_t data_charge;
	bool task_set_full; /* over max_conn_data_bytes: answered TASK SET FULL
			     * at its CmdSN turn, never submitted (SAM-5 5.3.1) */
	struct scsi_tmf_req tmf;
};

enum iscsi_conn_state {
	CONN_LOGIN,
	CONN_FFP,
	CONN_DEAD,
};

struct iscsi_login; /* iscsi_login.c */

struct iscsi_conn {
	struct iscsi_conn *next, *prev;
	struct iscsi_server *srv;
	struct iscsi_portal *portal;
	int fd;
	enum iscsi_conn_state state;
	bool want_out; /* EPOLLOUT registered */
	bool rx_paused; /* EPOLLIN dropped: too much unsent output (backpressure) */
	bool close_after_flush; /* login failure, logout, cold reset */
	bool freeing;
	char peer[64], local[64];
	struct iscsi_rx rx;
	/* Receive ring: one read() takes whatever the socket holds (several
	 * PDUs at high queue depth) and the rx machine is fed from here; a data
	 * segment the machine wants in place is read straight into its buffer
	 * (readv: the segment, then the ring for what follows). */
	uint8_t *rx_ring;
	uint32_t rx_ring_pos, rx_ring_len;
	uint32_t rx_ring_cap; /* 16 KiB; 64 KiB once a read found more queued */
	bool rx_ring_grow; /* grow at the next read (the ring is empty then) */
	struct iscsi_txq txq;
	struct iscsi_params params;
	struct iscsi_session *sess;
	struct iscsi_login *login;
	uint8_t *ctl_buf; /* data segment of control PDUs */
	uint32_t ctl_cap;
	uint16_t cid;
	uint32_t stat_sn;
	struct iscsi_cmd *cmds; /* SCSI commands (by ITT) */
	unsigned n_cmds; /* all SCSI commands alive (window accounting) */
	unsigned n_submitted; /* tasks scsi still owns */
	unsigned n_tmf; /* TMFs inside scsi */
	uint64_t data_bytes; /* sum of the commands' data_charge (issue 9) */
	struct in6_addr peer_ip; /* source address, IPv4 as v4-mapped (per-address limit) */
	struct iscsi_cmd *free_cmds;
	unsigned n_free_cmds;
	struct iscsi_cmd *rx_cmd; /* command whose data segment is being received */
	struct iscsi_cmd *rx_dout; /* Data-Out target */
	uint32_t rx_dout_offset;
	uint32_t next_ttt;
	/* Logout (11.14): response held until outstanding commands finish */
	struct iscsi_cmd *logout;
	/* Text (11.10/11.11) response continuation */
	char *text_pending;
	size_t text_pending_len, text_pending_off;
	uint32_t text_ttt;
	/* NOP-In keepalive (11.19) */
	struct evl_timer *nop_timer;
	uint64_t nop_sent_ms;
	bool nop_outstanding;
	bool rx_since_nop_tick; /* a PDU arrived since the last NOP timer tick */
	uint32_t nop_ttt;
	struct evl_timer *login_timer;
	struct evl_defer free_defer;
	struct evl_defer tx_defer; /* one writev batch per loop iteration */
};

/* ---- iscsi_conn.c -------------------------------------------------------- */
int iscsi_conn_create(struct iscsi_server *srv, struct iscsi_portal *portal, int fd);
/* The source address of a peer as one key: IPv4 as an IPv4-mapped IPv6 address
 * (so a v4 peer on a [::] listener and on a 0.0.0.0 one count alike). */
void iscsi_peer_ip(const struct sockaddr_storage *ss, struct in6_addr *out);
/* Mark dead: stop reading, drop the socket, abort local state; freed later. */
void iscsi_conn_close(struct iscsi_conn *c, const char *why);
/* Stop reading; close once the queued PDUs are sent (login reject, logout). */
void iscsi_conn_finish(struct iscsi_conn *c);
/* Descriptor with the opcode set, or NULL (connection closed on OOM). */
struct iscsi_tx_pdu *iscsi_conn_pdu(struct iscsi_conn *c, uint8_t opcode);
/* Queue a PDU; fills StatSN (advancing it if adv), ExpCmdSN, MaxCmdSN. */
void iscsi_conn_send(struct iscsi_conn *c, struct iscsi_tx_pdu *pdu, bool adv_statsn);
/* Reject (11.17) carrying the offending header. */
void iscsi_conn_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason);
/* Free a dead connection now if scsi holds none of its tasks. */
void iscsi_conn_reap(struct iscsi_conn *c);
struct iscsi_cmd *iscsi_cmd_alloc(struct iscsi_conn *c);
void iscsi_cmd_release(struct iscsi_cmd *cmd);
/* Enter full feature phase after a successful login. */
void iscsi_conn_enter_ffp(struct iscsi_conn *c);
/* A SCSI command finished / was freed: logout and close bookkeeping. */
void iscsi_conn_cmd_gone(struct iscsi_conn *c);
void iscsi_sess_update_window(struct iscsi_conn *c);
/* CmdSN ordering of a complete request PDU, then execution (4.2.2.1). */
void iscsi_sess_sequence(struct iscsi_conn *c, struct iscsi_cmd *cmd);
void iscsi_conn_session_info(struct iscsi_conn *c, struct iscsi_session_info *info);

/* ---- iscsi_settings.c (pure) ------------------------------------------------ */
/* Numeric defaults and RFC ranges only; booleans as given. */
void iscsi_settings_numeric_defaults(struct iscsi_settings *s);

/* ---- iscsi_cmdsn.c (pure) ------------------------------------------------ */
enum iscsi_cmdsn_verdict {
	ISCSI_CMDSN_NOW, /* == ExpCmdSN: execute and advance */
	ISCSI_CMDSN_HOLD, /* in window, ahead: hold until the gap fills */
	ISCSI_CMDSN_IGNORE, /* outside [ExpCmdSN, MaxCmdSN]: silently ignored (4.2.2.1) */
};
enum iscsi_cmdsn_verdict iscsi_cmdsn_check(uint32_t exp, uint32_t max, uint32_t cmdsn);
/* MaxCmdSN for window w with busy commands, never moving backwards. */
uint32_t iscsi_cmdsn_max(uint32_t exp, uint32_t prev_max, uint32_t window, uint32_t busy);

/* ---- iscsi_login.c ------------------------------------------------------- */
enum iscsi_verdict iscsi_login_rx(struct iscsi_conn *c, const uint8_t *bhs, const uint8_t *data,
				  uint32_t dsl);
void iscsi_login_free(struct iscsi_conn *c);

/* ---- iscsi_text.c -------------------------------------------------------- */
void iscsi_text_exec(struct iscsi_cmd *cmd);

/* ---- iscsi_sendtargets.c (pure) ------------------------------------------- */
/* "host:port" with IPv6 literals in brackets (RFC 7143 13.8). */
void iscsi_format_addr(char *buf, size_t cap, const char *host, uint16_t port);
/* One TargetAddress value: "<addr>,<tpgt>". */
void iscsi_sendtargets_addr(struct iscsi_textbuf *tb, const char *hostport, uint16_t tpgt);

/* ---- iscsi_cmd.c --------------------------------------------------------- */
/* Header of a SCSI Command PDU seen: allocate, check, pick the data place. */
enum iscsi_verdict iscsi_scsi_cmd_hdr(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl,
				      uint8_t **data);
enum iscsi_verdict iscsi_scsi_cmd_pdu(struct iscsi_conn *c, struct iscsi_cmd *cmd);
void iscsi_scsi_cmd_exec(struct iscsi_cmd *cmd);
enum iscsi_verdict iscsi_data_out_hdr(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl,
				      uint8_t **data);
enum iscsi_verdict iscsi_data_out_pdu(struct iscsi_conn *c, const uint8_t *bhs, uint32_t dsl);
struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *c, uint32_t itt);
/* Drop a command that never reached scsi (held, waiting for data). */
void iscsi_cmd_drop(struct iscsi_cmd *cmd);

/* ---- iscsi_datain.c (pure) ------------------------------------------------- */
struct iscsi_residual {
	uint8_t flags; /* ISCSI_RSP_FLAG_OVERFLOW / _UNDERFLOW */
	uint32_t count;
};
/* RFC 7143 11.4.5.1: from what the CDB transfers vs the EDTL. */
struct iscsi_residual iscsi_residual(uint32_t edtl, uint32_t xfer_len);
/* Data-In PDU i of a transfer of len bytes split at mrdsl and bursts of
 * max_burst: offset and length of the segment, and whether it ends a burst
 * (F bit, 11.7.2). Returns false past the end. */
bool iscsi_datain_seg(uint32_t len, uint32_t mrdsl, uint32_t max_burst, uint32_t i, uint32_t *off,
		      uint32_t *seg, bool *final);

/* ---- iscsi_tmf.c ----------------------------------------------------------- */
void iscsi_tmf_exec(struct iscsi_cmd *cmd);
unsigned iscsi_tmf_abort_unsubmitted(void *arg, uint64_t lun);

#endif
