/* SPDX-License-Identifier: MIT */
/* iSCSI PDU framing: receive state machine and transmit queue (RFC 7143 11.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iscsi_pdu.h"
#include "targetd/util.h"

void iscsi_rx_init(struct iscsi_rx *rx, const struct iscsi_rx_ops *ops, void *arg, uint32_t max_dsl)
{
	memset(rx, 0, offsetof(struct iscsi_rx, hdr));
	rx->state = ISCSI_RX_BHS;
	rx->ops = ops;
	rx->arg = arg;
	rx->max_dsl = max_dsl;
}

size_t iscsi_rx_want(struct iscsi_rx *rx, uint8_t **p)
{
	switch (rx->state) {
	case ISCSI_RX_BHS:
		*p = rx->hdr + rx->got;
		return ISCSI_BHS_LEN - rx->got;
	case ISCSI_RX_AHS:
		*p = rx->hdr + ISCSI_BHS_LEN + rx->got;
		return rx->ahs_len - rx->got;
	case ISCSI_RX_HDIGEST:
	case ISCSI_RX_DDIGEST:
		*p = rx->digest + rx->got;
		return ISCSI_DIGEST_LEN - rx->got;
	case ISCSI_RX_DATA:
		if (rx->data) {
			*p = rx->data + rx->got;
			return rx->dsl - rx->got;
		}
		*p = rx->sink;
		return UTIL_MIN(sizeof(rx->sink), (size_t)(rx->dsl - rx->got));
	case ISCSI_RX_PAD:
		*p = rx->pad + rx->got;
		return ISCSI_PAD(rx->dsl) - rx->got;
	case ISCSI_RX_DEAD:
		break;
	}
	*p = NULL;
	return 0;
}

/* Enter the state that follows `from` for this PDU, skipping empty ones. */
static enum iscsi_verdict rx_next(struct iscsi_rx *rx, enum iscsi_rx_state from);

static enum iscsi_verdict rx_header_done(struct iscsi_rx *rx)
{
	rx->data = NULL;
	rx->ddigest_bad = false;
	if (rx->ops->hdr(rx->arg, rx, &rx->data) != ISCSI_V_OK)
		return ISCSI_V_CLOSE;
	rx->crc = 0; /* util_crc32c chains from 0 (pre/post inversion inside) */
	return rx_next(rx, ISCSI_RX_HDIGEST);
}

static enum iscsi_verdict rx_pdu_done(struct iscsi_rx *rx)
{
	enum iscsi_verdict v = rx->ops->pdu(rx->arg, rx);

	if (v != ISCSI_V_OK)
		return v;
	rx->state = ISCSI_RX_BHS;
	rx->got = 0;
	return ISCSI_V_OK;
}

static enum iscsi_verdict rx_next(struct iscsi_rx *rx, enum iscsi_rx_state from)
{
	rx->got = 0;
	switch (from) {
	case ISCSI_RX_BHS:
		if (rx->ahs_len) {
			rx->state = ISCSI_RX_AHS;
			return ISCSI_V_OK;
		}
		/* fall through */
	case ISCSI_RX_AHS:
		if (rx->hdigest) {
			rx->state = ISCSI_RX_HDIGEST;
			return ISCSI_V_OK;
		}
		return rx_header_done(rx);
	case ISCSI_RX_HDIGEST:
		if (rx->dsl) {
			rx->state = ISCSI_RX_DATA;
			return ISCSI_V_OK;
		}
		return rx_pdu_done(rx);
	case ISCSI_RX_DATA:
		if (ISCSI_PAD(rx->dsl)) {
			rx->state = ISCSI_RX_PAD;
			return ISCSI_V_OK;
		}
		/* fall through */
	case ISCSI_RX_PAD:
		if (rx->ddigest) {
			rx->state = ISCSI_RX_DDIGEST;
			return ISCSI_V_OK;
		}
		return rx_pdu_done(rx);
	case ISCSI_RX_DDIGEST:
		return rx_pdu_done(rx);
	case ISCSI_RX_DEAD:
		break;
	}
	return ISCSI_V_CLOSE;
}

enum iscsi_verdict iscsi_rx_advance(struct iscsi_rx *rx, size_t n)
{
	uint8_t *p;
	size_t want = iscsi_rx_want(rx, &p);
	enum iscsi_verdict v = ISCSI_V_OK;

	if (n == 0 || n > want || rx->state == ISCSI_RX_DEAD)
		return rx->state == ISCSI_RX_DEAD ? ISCSI_V_CLOSE : ISCSI_V_OK;
	if (rx->state == ISCSI_RX_DATA || rx->state == ISCSI_RX_PAD) {
		if (rx->ddigest)
			rx->crc = util_crc32c(rx->crc, p, n);
	}
	rx->got += (uint32_t)n;
	if (n < want)
		return ISCSI_V_OK;
	/* discarded data arrives through the small sink in pieces: the state
	 * ends with the segment, not with one piece */
	if (rx->state == ISCSI_RX_DATA && rx->got < rx->dsl)
		return ISCSI_V_OK;

	switch (rx->state) {
	case ISCSI_RX_BHS: {
		const struct iscsi_bhs *b = iscsi_rx_bhs(rx);

		rx->ahs_len = b->total_ahs_len * 4u;
		rx->dsl = get_be24(b->data_seg_len);
		/* RFC 7143 11.2.1.4 / 13.12: never accept (or allocate for) more
		 * than the declared MaxRecvDataSegmentLength. */
		if (rx->dsl > rx->max_dsl) {
			log_warn("iscsi", "opcode 0x%02x: DataSegmentLength %u > limit %u",
				 b->opcode & ISCSI_OPCODE_MASK, rx->dsl, rx->max_dsl);
			v = ISCSI_V_CLOSE;
			break;
		}
		v = rx_next(rx, ISCSI_RX_BHS);
		break;
	}
	case ISCSI_RX_AHS:
		v = rx_next(rx, ISCSI_RX_AHS);
		break;
	case ISCSI_RX_HDIGEST: {
		/* RFC 7143 13.1 / appendix A: CRC32C over BHS and AHS, least
		 * significant byte first on the wire. At ERL 0 a bad header digest leaves
		 * the framing untrustworthy: close (7.8). */
		uint32_t crc = util_crc32c(0, rx->hdr, ISCSI_BHS_LEN + rx->ahs_len);
		uint32_t got = (uint32_t)rx->digest[0] | (uint32_t)rx->digest[1] << 8 |
		    (uint32_t)rx->digest[2] << 16 | (uint32_t)rx->digest[3] << 24;
		if (crc != got) {
			log_warn("iscsi", "header digest error");
			v = ISCSI_V_CLOSE;
			break;
		}
		v = rx_header_done(rx);
		break;
	}
	case ISCSI_RX_DATA:
		v = rx_next(rx, ISCSI_RX_DATA);
		break;
	case ISCSI_RX_PAD:
		v = rx_next(rx, ISCSI_RX_PAD);
		break;
	case ISCSI_RX_DDIGEST: {
		uint32_t crc = rx->crc;
		uint32_t got = (uint32_t)rx->digest[0] | (uint32_t)rx->digest[1] << 8 |
		    (uint32_t)rx->digest[2] << 16 | (uint32_t)rx->digest[3] << 24;
		rx->ddigest_bad = crc != got;
		v = rx_next(rx, ISCSI_RX_DDIGEST);
		break;
	}
	case ISCSI_RX_DEAD:
		v = ISCSI_V_CLOSE;
		break;
	}
	if (v != ISCSI_V_OK)
		rx->state = ISCSI_RX_DEAD;
	return v;
}

/* ---- transmit ------------------------------------------------------------- */

#define TX_FREE_MAX 64

void iscsi_txq_init(struct iscsi_txq *q)
{
	memset(q, 0, sizeof(*q));
}

static void tx_pdu_release(struct iscsi_txq *q, struct iscsi_tx_pdu *pdu, bool sent)
{
	if (pdu->done)
		pdu->done(pdu, sent);
	free(pdu->owned);
	if (q->free_count < TX_FREE_MAX) {
		pdu->next = q->free_list;
		q->free_list = pdu;
		q->free_count++;
	} else {
		free(pdu);
	}
}

void iscsi_txq_destroy(struct iscsi_txq *q)
{
	struct iscsi_tx_pdu *p;

	while ((p = q->head)) {
		q->head = p->next;
		tx_pdu_release(q, p, false);
	}
	q->tail = NULL;
	q->queued = 0;
	while ((p = q->free_list)) {
		q->free_list = p->next;
		free(p);
	}
	q->free_count = 0;
}

struct iscsi_tx_pdu *iscsi_tx_pdu_get(struct iscsi_txq *q)
{
	struct iscsi_tx_pdu *p = q->free_list;

	if (p) {
		q->free_list = p->next;
		q->free_count--;
		memset(p, 0, sizeof(*p));
		return p;
	}
	return calloc(1, sizeof(*p));
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void iscsi_txq_push(struct iscsi_txq *q, struct iscsi_tx_pdu *pdu)
{
	unsigned n = 0;
	uint32_t pad = ISCSI_PAD(pdu->data_len);
	uint32_t tlen = pad;

	put_be24(pdu->bhs + 5, pdu->data_len);
	pdu->bhs[4] = 0; /* we never send AHS */
	pdu->iov[n++] = (struct iovec){pdu->bhs, ISCSI_BHS_LEN};
	if (q->hdigest) {
		put_le32(pdu->hdig, util_crc32c(0, pdu->bhs, ISCSI_BHS_LEN));
		pdu->iov[n++] = (struct iovec){pdu->hdig, ISCSI_DIGEST_LEN};
	}
	if (pdu->data_len) {
		pdu->iov[n++] = (struct iovec){(void *)pdu->data, pdu->data_len};
		memset(pdu->trailer, 0, pad);
		if (q->ddigest) {
			uint32_t crc = util_crc32c(0, pdu->data, pdu->data_len);

			crc = util_crc32c(crc, pdu->trailer, pad);
			put_le32(pdu->trailer + pad, crc);
			tlen += ISCSI_DIGEST_LEN;
		}
		if (tlen)
			pdu->iov[n++] = (struct iovec){pdu->trailer, tlen};
	}
	pdu->iovcnt = n;
	pdu->iov_idx = 0;
	pdu->iov_off = 0;
	pdu->next = NULL;
	for (unsigned i = 0; i < n; i++)
		q->bytes += pdu->iov[i].iov_len;
	if (q->tail)
		q->tail->next = pdu;
	else
		q->head = pdu;
	q->tail = pdu;
	q->queued++;
}

unsigned iscsi_txq_gather(struct iscsi_txq *q, struct iovec *iov, unsigned max)
{
	unsigned n = 0;

	for (struct iscsi_tx_pdu *p = q->head; p && n < max; p = p->next) {
		for (unsigned i = p->iov_idx; i < p->iovcnt && n < max; i++) {
			size_t off = i == p->iov_idx ? p->iov_off : 0;

			iov[n].iov_base = (uint8_t *)p->iov[i].iov_base + off;
			iov[n].iov_len = p->iov[i].iov_len - off;
			n++;
		}
	}
	return n;
}

void iscsi_txq_consume(struct iscsi_txq *q, size_t n)
{
	struct iscsi_tx_pdu *p;

	q->bytes -= n < q->bytes ? n : q->bytes;
	while ((p = q->head)) {
		while (p->iov_idx < p->iovcnt) {
			size_t left = p->iov[p->iov_idx].iov_len - p->iov_off;

			if (n < left) {
				p->iov_off += n;
				return;
			}
			n -= left;
			p->iov_idx++;
			p->iov_off = 0;
		}
		q->head = p->next;
		if (!q->head)
			q->tail = NULL;
		q->queued--;
		tx_pdu_release(q, p, true);
	}
}

int iscsi_txq_flush(struct iscsi_txq *q, int fd)
{
	struct iovec iov[64];

	while (q->head) {
		unsigned n = iscsi_txq_gather(q, iov, ARRAY_SIZE(iov));
		ssize_t w = writev(fd, iov, (int)n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		iscsi_txq_consume(q, (size_t)w);
	}
	return 0;
}
