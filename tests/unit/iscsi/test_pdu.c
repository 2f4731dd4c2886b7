/* SPDX-License-Identifier: MIT */
/* iscsi PDU framing: rx state machine fed at every byte boundary, tx queue,
 * digests (RFC 7143 11.2, 13.1). Pure: no scsi, no loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi_pdu.h"
#include "targetd/util.h"

/* ---- a recording receiver ------------------------------------------------ */

#define MAX_PDUS 16
struct rec {
	unsigned n;
	uint8_t op[MAX_PDUS];
	uint32_t dsl[MAX_PDUS];
	uint32_t ahs[MAX_PDUS];
	bool bad[MAX_PDUS];
	uint8_t data[MAX_PDUS][4096];
	bool discard_op1; /* discard data of SCSI commands */
	unsigned hdr_calls;
};

static enum iscsi_verdict rec_hdr(void *arg, struct iscsi_rx *rx, uint8_t **data)
{
	struct rec *r = arg;

	r->hdr_calls++;
	if ((rx->hdr[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_SCSI_CMD && r->discard_op1)
		return ISCSI_V_OK;
	*data = r->data[r->n];
	return ISCSI_V_OK;
}

static enum iscsi_verdict rec_pdu(void *arg, struct iscsi_rx *rx)
{
	struct rec *r = arg;

	assert_true(r->n < MAX_PDUS);
	r->op[r->n] = rx->hdr[0] & ISCSI_OPCODE_MASK;
	r->dsl[r->n] = rx->dsl;
	r->ahs[r->n] = rx->ahs_len;
	r->bad[r->n] = rx->ddigest_bad;
	r->n++;
	return ISCSI_V_OK;
}

static const struct iscsi_rx_ops rec_ops = {.hdr = rec_hdr, .pdu = rec_pdu};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Append one PDU to buf: opcode, AHS words, data of dsl bytes (value seed). */
static size_t make_pdu(uint8_t *buf, uint8_t op, unsigned ahs_words, uint32_t dsl, uint8_t seed,
		       bool hd, bool dd)
{
	size_t n = 0, hlen = ISCSI_BHS_LEN + ahs_words * 4u;

	memset(buf, 0, hlen);
	buf[0] = op;
	buf[1] = ISCSI_FLAG_FINAL;
	buf[4] = (uint8_t)ahs_words;
	put_be24(buf + 5, dsl);
	put_be32(buf + 16, 0x1234u + seed);
	for (size_t i = ISCSI_BHS_LEN; i < hlen; i++)
		buf[i] = (uint8_t)(0xa0 + i);
	n = hlen;
	if (hd) {
		put_le32(buf + n, util_crc32c(0, buf, hlen));
		n += 4;
	}
	for (uint32_t i = 0; i < dsl; i++)
		buf[n + i] = (uint8_t)(seed + i);
	memset(buf + n + dsl, 0, ISCSI_PAD(dsl));
	if (dd && dsl) {
		put_le32(buf + n + dsl + ISCSI_PAD(dsl),
			 util_crc32c(0, buf + n, dsl + ISCSI_PAD(dsl)));
		n += 4;
	}
	return n + dsl + ISCSI_PAD(dsl);
}

static size_t make_stream(uint8_t *buf, bool hd, bool dd)
{
	size_t n = 0;

	n += make_pdu(buf + n, ISCSI_OP_NOP_OUT | ISCSI_OP_IMMEDIATE, 0, 5, 1, hd, dd);
	n += make_pdu(buf + n, ISCSI_OP_SCSI_CMD, 2, 1500, 2, hd, dd);
	n += make_pdu(buf + n, ISCSI_OP_TEXT_REQ, 0, 0, 3, hd, dd);
	n += make_pdu(buf + n, ISCSI_OP_DATA_OUT, 0, 1027, 4, hd, dd);
	return n;
}

/* Feed the stream in chunks of `chunk` bytes (0: split once at `cut`). */
static void feed(struct iscsi_rx *rx, const uint8_t *s, size_t len, size_t chunk, size_t cut)
{
	size_t off = 0;

	while (off < len) {
		size_t lim = chunk ? chunk : (off < cut ? cut - off : len - off);

		while (lim) {
			uint8_t *p;
			size_t w = iscsi_rx_want(rx, &p);
			size_t n = UTIL_MIN(w, lim);

			assert_true(w > 0);
			memcpy(p, s + off, n);
			assert_int_equal(iscsi_rx_advance(rx, n), ISCSI_V_OK);
			off += n;
			lim -= n;
		}
	}
}

static void check_rec(const struct rec *r)
{
	assert_int_equal(r->n, 4);
	assert_int_equal(r->op[0], ISCSI_OP_NOP_OUT);
	assert_int_equal(r->dsl[0], 5);
	assert_int_equal(r->data[0][4], 5);
	assert_int_equal(r->op[1], ISCSI_OP_SCSI_CMD);
	assert_int_equal(r->ahs[1], 8);
	assert_int_equal(r->dsl[1], 1500);
	assert_int_equal(r->data[1][1499], (uint8_t)(2 + 1499));
	assert_int_equal(r->op[2], ISCSI_OP_TEXT_REQ);
	assert_int_equal(r->dsl[2], 0);
	assert_int_equal(r->op[3], ISCSI_OP_DATA_OUT);
	assert_int_equal(r->dsl[3], 1027);
	assert_int_equal(r->data[3][1026], (uint8_t)(4 + 1026));
	for (unsigned i = 0; i < r->n; i++)
		assert_false(r->bad[i]);
}

static void run_stream(bool hd, bool dd)
{
	static uint8_t s[8192];
	size_t len = make_stream(s, hd, dd);
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec *r = malloc(sizeof(*r));

	/* all at once, 1 byte at a time, and every single cut point */
	for (size_t mode = 0; mode < len + 2; mode++) {
		memset(r, 0, sizeof(*r));
		iscsi_rx_init(rx, &rec_ops, r, 8192);
		rx->hdigest = hd;
		rx->ddigest = dd;
		if (mode == 0)
			feed(rx, s, len, len, 0);
		else if (mode == 1)
			feed(rx, s, len, 1, 0);
		else
			feed(rx, s, len, 0, mode - 1);
		check_rec(r);
	}
	free(rx);
	free(r);
}

static void rfc7143_11_2_rx_every_byte_boundary(void **state)
{
	(void)state;
	run_stream(false, false);
}

static void rfc7143_13_1_rx_every_byte_boundary_with_digests(void **state)
{
	(void)state;
	run_stream(true, true);
	run_stream(true, false);
	run_stream(false, true);
}

static void rfc7143_12_1_crc32c_check_value(void **state)
{
	(void)state;
	/* CRC-32C check value of "123456789" */
	assert_int_equal(util_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(util_crc32c(util_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static void rfc7143_13_12_dsl_over_limit_closes_before_data(void **state)
{
	uint8_t s[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT};
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec r = {0};
	uint8_t *p;

	(void)state;
	put_be24(s + 5, 8193);
	iscsi_rx_init(rx, &rec_ops, &r, 8192);
	assert_int_equal(iscsi_rx_want(rx, &p), ISCSI_BHS_LEN);
	memcpy(p, s, sizeof(s));
	assert_int_equal(iscsi_rx_advance(rx, sizeof(s)), ISCSI_V_CLOSE);
	assert_int_equal(r.hdr_calls, 0); /* nothing looked at or allocated */
	assert_int_equal(iscsi_rx_want(rx, &p), 0);
	free(rx);
}

static void rfc7143_13_1_header_digest_error_closes(void **state)
{
	static uint8_t s[4096];
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec r = {0};
	size_t len = make_pdu(s, ISCSI_OP_NOP_OUT, 0, 4, 1, true, false);
	uint8_t *p;

	(void)state;
	s[ISCSI_BHS_LEN] ^= 1; /* corrupt the digest */
	iscsi_rx_init(rx, &rec_ops, &r, 8192);
	rx->hdigest = true;
	iscsi_rx_want(rx, &p);
	memcpy(p, s, ISCSI_BHS_LEN);
	assert_int_equal(iscsi_rx_advance(rx, ISCSI_BHS_LEN), ISCSI_V_OK);
	iscsi_rx_want(rx, &p);
	memcpy(p, s + ISCSI_BHS_LEN, 4);
	assert_int_equal(iscsi_rx_advance(rx, 4), ISCSI_V_CLOSE);
	assert_int_equal(r.hdr_calls, 0);
	(void)len;
	free(rx);
}

static void rfc7143_13_1_data_digest_error_reported(void **state)
{
	static uint8_t s[4096];
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec *r = calloc(1, sizeof(*r));
	size_t len = make_pdu(s, ISCSI_OP_NOP_OUT, 0, 7, 1, false, true);

	(void)state;
	s[ISCSI_BHS_LEN + 2] ^= 0x40; /* corrupt one data byte */
	iscsi_rx_init(rx, &rec_ops, r, 8192);
	rx->ddigest = true;
	feed(rx, s, len, 1, 0);
	assert_int_equal(r->n, 1);
	assert_true(r->bad[0]);
	free(rx);
	free(r);
}

static void rfc7143_11_2_discarded_data_is_consumed(void **state)
{
	static uint8_t s[8192];
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec *r = calloc(1, sizeof(*r));
	size_t len = make_stream(s, false, false);

	(void)state;
	r->discard_op1 = true; /* 1500 bytes of the SCSI command go to the 512-byte sink */
	iscsi_rx_init(rx, &rec_ops, r, 8192);
	feed(rx, s, len, 7, 0);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->op[3], ISCSI_OP_DATA_OUT);
	assert_int_equal(r->data[3][1026], (uint8_t)(4 + 1026));
	free(rx);
	free(r);
}

/* ---- transmit -------------------------------------------------------------- */

static unsigned done_calls, done_sent;

static void count_done(struct iscsi_tx_pdu *pdu, bool sent)
{
	(void)pdu;
	done_calls++;
	done_sent += sent;
}

static size_t queue_three(struct iscsi_txq *q, const uint8_t *payload)
{
	for (unsigned i = 0; i < 3; i++) {
		struct iscsi_tx_pdu *p = iscsi_tx_pdu_get(q);

		p->bhs[0] = i == 1 ? ISCSI_OP_SCSI_CMD : ISCSI_OP_NOP_OUT;
		p->bhs[1] = ISCSI_FLAG_FINAL;
		p->data = payload;
		p->data_len = i == 0 ? 5 : i == 1 ? 512 : 0;
		p->done = count_done;
		iscsi_txq_push(q, p);
	}
	return 3;
}

/* What tx produces must be what rx accepts, for any write split. */
static void txq_roundtrip(bool hd, bool dd, size_t step)
{
	uint8_t payload[512];
	static uint8_t out[8192];
	struct iscsi_txq q;
	struct iovec iov[16];
	size_t olen = 0;
	struct iscsi_rx *rx = malloc(sizeof(*rx));
	struct rec *r = calloc(1, sizeof(*r));

	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	iscsi_txq_init(&q);
	q.hdigest = hd;
	q.ddigest = dd;
	done_calls = done_sent = 0;
	queue_three(&q, payload);
	while (!iscsi_txq_empty(&q)) {
		unsigned n = iscsi_txq_gather(&q, iov, ARRAY_SIZE(iov));
		size_t take = step;
		size_t sent = 0;

		for (unsigned i = 0; i < n && take; i++) {
			size_t k = UTIL_MIN(take, iov[i].iov_len);

			memcpy(out + olen, iov[i].iov_base, k);
			olen += k;
			sent += k;
			take -= k;
		}
		iscsi_txq_consume(&q, sent);
	}
	assert_int_equal(done_calls, 3);
	assert_int_equal(done_sent, 3);
	iscsi_rx_init(rx, &rec_ops, r, 8192);
	rx->hdigest = hd;
	rx->ddigest = dd;
	feed(rx, out, olen, olen, 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->dsl[0], 5);
	assert_int_equal(r->dsl[1], 512);
	assert_memory_equal(r->data[1], payload, 512);
	assert_false(r->bad[0] || r->bad[1] || r->bad[2]);
	iscsi_txq_destroy(&q);
	free(rx);
	free(r);
}

static void rfc7143_11_2_tx_partial_writes_resume_at_any_byte(void **state)
{
	(void)state;
	for (size_t step = 1; step < 80; step++)
		txq_roundtrip(false, false, step);
	txq_roundtrip(false, false, 100000);
}

static void rfc7143_13_1_tx_digests_roundtrip(void **state)
{
	(void)state;
	for (size_t step = 1; step < 60; step += 3) {
		txq_roundtrip(true, true, step);
		txq_roundtrip(true, false, step);
		txq_roundtrip(false, true, step);
	}
}

static void txq_destroy_reports_unsent(void **state)
{
	uint8_t payload[512] = {0};
	struct iscsi_txq q;

	(void)state;
	iscsi_txq_init(&q);
	done_calls = done_sent = 0;
	queue_three(&q, payload);
	iscsi_txq_destroy(&q);
	assert_int_equal(done_calls, 3);
	assert_int_equal(done_sent, 0);
}

static void txq_flush_over_socketpair(void **state)
{
	uint8_t payload[512];
	uint8_t out[2048];
	struct iscsi_txq q;
	int sv[2];
	ssize_t n;

	(void)state;
	memset(payload, 0x5a, sizeof(payload));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	iscsi_txq_init(&q);
	done_calls = done_sent = 0;
	queue_three(&q, payload);
	assert_int_equal(iscsi_txq_flush(&q, sv[0]), 0);
	assert_true(iscsi_txq_empty(&q));
	n = read(sv[1], out, sizeof(out));
	/* 3 BHS + 5 (+3 pad) + 512 */
	assert_int_equal(n, 3 * ISCSI_BHS_LEN + 8 + 512);
	assert_int_equal(get_be24(out + 5), 5);
	iscsi_txq_destroy(&q);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_12_1_crc32c_check_value),
	    cmocka_unit_test(rfc7143_11_2_rx_every_byte_boundary),
	    cmocka_unit_test(rfc7143_13_1_rx_every_byte_boundary_with_digests),
	    cmocka_unit_test(rfc7143_13_12_dsl_over_limit_closes_before_data),
	    cmocka_unit_test(rfc7143_13_1_header_digest_error_closes),
	    cmocka_unit_test(rfc7143_13_1_data_digest_error_reported),
	    cmocka_unit_test(rfc7143_11_2_discarded_data_is_consumed),
	    cmocka_unit_test(rfc7143_11_2_tx_partial_writes_resume_at_any_byte),
	    cmocka_unit_test(rfc7143_13_1_tx_digests_roundtrip),
	    cmocka_unit_test(txq_destroy_reports_unsent),
	    cmocka_unit_test(txq_flush_over_socketpair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
