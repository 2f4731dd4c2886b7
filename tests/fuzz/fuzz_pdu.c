/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pdu: the whole iSCSI receive path (src/iscsi) fed as a byte stream from
 * an unauthenticated peer: PDU framing (RFC 7143 11.2: BHS, AHS, digests, data
 * segment, padding), login and key negotiation (6, 11.12, 13), text /
 * SendTargets (11.10), SCSI commands with immediate and solicited data (11.3,
 * 11.7, 11.8), TMF (11.5), NOP (11.18), logout (11.14), the CmdSN window
 * (4.2.2.1), into the real scsi core with a mem: LU.
 *
 * Each input gets a fresh core and server and one connection on a socketpair
 * (iscsi_conn_create on our end, the other end is the "initiator", drained by
 * the same evloop). Byte 0 is control, the rest is written to the socket:
 *   bits 0-3  chunk size: 0 = everything at once, else 1, 2, 3, 5, 7, 13, 47,
 *             48, 49, 52, 100, 512, 1000, 4096, 8200 bytes with the loop run
 *             to quiet between chunks (PDUs split anywhere, RFC 7143 issue 9
 *             "PDUs delivered one byte at a time and several in one segment")
 *   bit 4     InitialR2T=No offered (unsolicited Data-Out allowed, 13.10)
 *   bit 5     the initiator never reads: the target's tx queue backs up
 *   bit 6     half-close (EOF) after the input instead of keeping it open
 *   bit 7     small limits: MaxRecvDataSegmentLength 512, FirstBurst 512,
 *             MaxBurst 4096, MaxOutstandingR2T 4, CmdSN window 4
 * Then the peer end is closed and the loop runs until the connection is
 * freed; anything that does not settle in 10 s aborts ("hang").
 * The target must never crash, leak or read out of bounds, whatever arrives
 * (design.md: a bad PDU closes at most its own connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "iscsi_conn.h"
#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"
#include "targetd/util.h"

static struct evl *evl;

struct peer {
	int fd;
	bool registered;
	bool eof;
	bool reads;
	uint64_t rx_bytes;
};

static void peer_cb(struct evl *e, int fd, uint32_t events, void *arg)
{
	struct peer *p = arg;
	static uint8_t sink[65536];

	(void)events;
	for (;;) {
		ssize_t n = read(fd, sink, sizeof(sink));

		if (n > 0) {
			p->rx_bytes += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or error: the target closed its end */
		p->eof = true;
		evl_fd_del(e, fd);
		p->registered = false;
		return;
	}
}

static bool tasks_idle(void *arg)
{
	struct iscsi_server *srv = arg;

	for (struct iscsi_conn *c = srv->conns; c; c = c->next)
		if (c->n_submitted || c->n_tmf)
			return false;
	return true;
}

static bool conns_gone(void *arg)
{
	struct iscsi_server *srv = arg;

	return srv->n_conns == 0;
}

/* Write all of buf to the peer socket, running the loop when it is full. */
static void peer_write(struct iscsi_server *srv, int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && fuzz_evl_busy(evl)) {
			fuzz_evl_pump(evl, NULL, NULL, 10000);
			continue;
		}
		/* EPIPE / ECONNRESET: the target closed; EAGAIN with nothing
		 * to run: the target stopped reading (backpressure) */
		(void)srv;
		return;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (evl_create(&evl)) {
		fprintf(stderr, "fuzz_pdu: evl_create failed\n");
		abort();
	}
	fuzz_state_dir_get();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t chunks[16] = {0,  1,  2,  3,   5,   7,    13,   47,
					    48, 49, 52, 100, 512, 1000, 4096, 8200};
	struct scsi_core_params cp = {.state_dir = fuzz_state_dir_get(), .max_registrants = 8};
	struct scsi_lu_params lp = {
	    .path = "mem:1M", .block_size = 512, .serial = "FUZZ-PDU0", .write_cache = true};
	struct iscsi_settings s = {0};
	struct iscsi_server *srv = NULL;
	struct iscsi_portal *portal;
	struct scsi_core *core = NULL;
	struct scsi_target *tgt;
	struct scsi_lu *lu;
	struct peer peer = {0};
	int sv[2];
	uint8_t ctl;
	size_t chunk;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	chunk = chunks[ctl & 15];
	peer.reads = !(ctl & 0x20);
	if (ctl & 0x80) {
		s.max_recv_data_segment_length = 512;
		s.first_burst_length = 512;
		s.max_burst_length = 4096;
		s.max_outstanding_r2t = 4;
		s.cmdsn_window = 4;
	}
	iscsi_settings_defaults(&s);
	s.initial_r2t = !(ctl & 0x10); /* booleans: set after the defaults (iscsi.h) */

	fuzz_state_dir_clean();
	if (scsi_core_create(evl, &cp, &core) || scsi_lu_create(core, &lp, &lu) ||
	    scsi_target_create(core, "iqn.2026-12.org.example:fuzz", &tgt) ||
	    scsi_target_add_port(tgt, 1, 1) || scsi_target_map_lun(tgt, 0, lu) ||
	    iscsi_server_create(evl, core, &s, &srv)) {
		fprintf(stderr, "fuzz_pdu: setup failed\n");
		abort();
	}
	/* a portal without a listening socket: the connection comes from us */
	portal = calloc(1, sizeof(*portal));
	srv->portals = calloc(1, sizeof(*srv->portals));
	if (!portal || !srv->portals)
		abort();
	portal->srv = srv;
	portal->fd = -1;
	portal->tpgt = 1;
	portal->port = 3260;
	snprintf(portal->host, sizeof(portal->host), "192.0.2.1");
	srv->portals[0] = portal;
	srv->n_portals = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	if (iscsi_conn_create(srv, portal, sv[0])) {
		fprintf(stderr, "fuzz_pdu: iscsi_conn_create failed\n");
		abort();
	}
	peer.fd = sv[1];
	if (peer.reads) {
		if (evl_fd_add(evl, sv[1], EPOLLIN | EPOLLRDHUP, peer_cb, &peer))
			abort();
		peer.registered = true;
	}

	if (!chunk) {
		peer_write(srv, sv[1], data, size);
		fuzz_evl_pump(evl, tasks_idle, srv, 10000);
	} else {
		for (size_t off = 0; off < size && srv->n_conns; off += chunk) {
			size_t n = UTIL_MIN(chunk, size - off);

			peer_write(srv, sv[1], data + off, n);
			fuzz_evl_pump(evl, tasks_idle, srv, 10000);
		}
	}
	if (ctl & 0x40) {
		shutdown(sv[1], SHUT_WR);
		fuzz_evl_pump(evl, tasks_idle, srv, 10000);
	}
	/* the initiator goes away: the connection must close and be freed */
	if (peer.registered)
		evl_fd_del(evl, sv[1]);
	close(sv[1]);
	fuzz_evl_pump(evl, conns_gone, srv, 10000);
	fuzz_state_dir_check_aptpl();
	iscsi_server_destroy(srv);
	scsi_core_destroy(core);
	return 0;
}
