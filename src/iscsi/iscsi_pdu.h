/* SPDX-License-Identifier: MIT */
/*
 * iscsi PDU framing (RFC 7143 11.2): the receive state machine and the
 * transmit queue of one connection. Pure: no sockets in the machine itself,
 * no scsi. The connection code drives them with readv/writev.
 *
 * Receive: the driver asks iscsi_rx_want() where the next bytes go, reads
 * into that place (any number of bytes, down to one) and reports them with
 * iscsi_rx_advance(). The machine walks BHS -> AHS -> header digest -> data
 * segment -> pad -> data digest and calls ops->hdr once the header is
 * complete (so the owner checks it and picks the data destination BEFORE any
 * payload byte is read or allocated) and ops->pdu once the PDU is complete.
 */
#ifndef ISCSI_PDU_PRIV_H
#define ISCSI_PDU_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "targetd/wire/iscsi_pdu.h"

/* What the reader does after a callback (design.md "iSCSI verdict"). */
enum iscsi_verdict {
	ISCSI_V_OK = 0, /* go on */
	ISCSI_V_CLOSE, /* protocol error: stop reading, close the connection */
};

struct iscsi_rx;

struct iscsi_rx_ops {
	/* Header complete and (if enabled) its digest verified. Set *data to the
	 * buffer for the dsl data bytes, or leave it NULL to discard them. */
	enum iscsi_verdict (*hdr)(void *arg, struct iscsi_rx *rx, uint8_t **data);
	/* Whole PDU received. rx->ddigest_bad tells a data digest mismatch. */
	enum iscsi_verdict (*pdu)(void *arg, struct iscsi_rx *rx);
};

enum iscsi_rx_state {
	ISCSI_RX_BHS,
	ISCSI_RX_AHS,
	ISCSI_RX_HDIGEST,
	ISCSI_RX_DATA,
	ISCSI_RX_PAD,
	ISCSI_RX_DDIGEST,
	ISCSI_RX_DEAD,
};

struct iscsi_rx {
	enum iscsi_rx_state state;
	uint32_t got; /* bytes of the current state received */
	uint32_t ahs_len; /* bytes */
	uint32_t dsl; /* DataSegmentLength */
	uint32_t max_dsl; /* larger DataSegmentLength closes the connection */
	bool hdigest, ddigest; /* negotiated CRC32C digests (RFC 7143 13.1) */
	bool ddigest_bad;
	uint32_t crc;
	uint8_t *data; /* destination of the data segment, NULL: discard */
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_AHS_MAX];
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint8_t pad[4];
	uint8_t sink[512]; /* discarded data lands here */
	const struct iscsi_rx_ops *ops;
	void *arg;
};

void iscsi_rx_init(struct iscsi_rx *rx, const struct iscsi_rx_ops *ops, void *arg,
		   uint32_t max_dsl);
/* Where the next bytes go; never returns 0 unless the reader is dead. */
size_t iscsi_rx_want(struct iscsi_rx *rx, uint8_t **p);
/* n bytes (<= the last want) arrived at the place want returned. */
enum iscsi_verdict iscsi_rx_advance(struct iscsi_rx *rx, size_t n);

static inline const struct iscsi_bhs *iscsi_rx_bhs(const struct iscsi_rx *rx)
{
	return (const struct iscsi_bhs *)(const void *)rx->hdr;
}

/* ---- transmit ------------------------------------------------------------- */

struct iscsi_tx_pdu;
typedef void (*iscsi_tx_done_fn)(struct iscsi_tx_pdu *pdu, bool sent);

/*
 * One outgoing PDU: the BHS lives inside, the data segment is referenced
 * (a task buffer for Data-In: no copy) or owned (control path, free()d).
 * done (optional) runs when the last byte was handed to the kernel, or with
 * sent=false when the queue is torn down.
 */
struct iscsi_tx_pdu {
	struct iscsi_tx_pdu *next;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t hdig[ISCSI_DIGEST_LEN];
	const uint8_t *data;
	uint32_t data_len;
	uint8_t trailer[3 + ISCSI_DIGEST_LEN]; /* pad, then data digest */
	struct iovec iov[4];
	unsigned iovcnt, iov_idx;
	size_t iov_off;
	void *owned; /* free()d after send */
	iscsi_tx_done_fn done;
	void *arg;
};

struct iscsi_txq {
	struct iscsi_tx_pdu *head, *tail;
	struct iscsi_tx_pdu *free_list;
	unsigned free_count;
	bool hdigest, ddigest;
	size_t queued; /* PDUs in the queue */
	size_t bytes; /* unsent bytes in the queue (backpressure, see iscsi_conn.c) */
};

void iscsi_txq_init(struct iscsi_txq *q);
/* Tear down: done(pdu, false) for queued PDUs; frees cached descriptors. */
void iscsi_txq_destroy(struct iscsi_txq *q);
/* Zeroed descriptor from the per-connection free list (malloc when empty). */
struct iscsi_tx_pdu *iscsi_tx_pdu_get(struct iscsi_txq *q);
/* Sets DataSegmentLength from data_len, computes digests, queues at tail. */
void iscsi_txq_push(struct iscsi_txq *q, struct iscsi_tx_pdu *pdu);
static inline bool iscsi_txq_empty(const struct iscsi_txq *q)
{
	return q->head == NULL;
}
/* Fill up to max iovecs with the unsent bytes; returns the count. */
unsigned iscsi_txq_gather(struct iscsi_txq *q, struct iovec *iov, unsigned max);
/* n bytes of the gathered iovecs were sent; completes finished PDUs. */
void iscsi_txq_consume(struct iscsi_txq *q, size_t n);
/* writev loop on a non-blocking fd: 0 all sent, 1 would block, -errno. */
int iscsi_txq_flush(struct iscsi_txq *q, int fd);

#endif
