/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture for iscsi tests that run the real server on loopback: the
 * real loop, the real scsi core with a mem LU, the server on port 0. The test
 * plays the initiator with raw PDUs and pumps the loop between request and
 * response.
 */
#ifndef ISCSI_HARNESS_H
#define ISCSI_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "targetd/evloop.h"
#include "targetd/iscsi.h"
#include "targetd/scsi.h"
#include "targetd/util.h"
#include "targetd/wire/iscsi_pdu.h"

#define T1 "iqn.2026-01.test:t1"
#define TACL "iqn.2026-01.test:acl"
#define INIT "iqn.2026-01.test:init"

struct fx {
	struct evl *evl;
	struct evl_timer *stop;
	struct scsi_core *core;
	struct scsi_lu *lu;
	struct iscsi_server *srv;
	uint16_t port;
	int fd;
};

static inline void stop_fn(void *arg)
{
	evl_stop(((struct fx *)arg)->evl);
}

static inline void pump(struct fx *f, unsigned ms)
{
	evl_timer_arm(f->stop, ms, 0);
	evl_run(f->evl);
}

static inline int fx_setup(void **state, const struct iscsi_settings *override)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct scsi_core_params cp = {.state_dir = "/tmp", .max_registrants = 16};
	struct scsi_lu_params lp = {
	    .path = "mem:1M", .block_size = 512, .serial = "iscsi-login-test", .write_cache = true};
	struct iscsi_settings s = {0};
	struct scsi_target *t;

	iscsi_settings_defaults(&s);
	if (override)
		s = *override;
	assert_int_equal(evl_create(&f->evl), 0);
	assert_int_equal(evl_timer_create(f->evl, stop_fn, f, &f->stop), 0);
	assert_int_equal(scsi_core_create(f->evl, &cp, &f->core), 0);
	assert_int_equal(scsi_lu_create(f->core, &lp, &f->lu), 0);
	assert_int_equal(scsi_target_create(f->core, T1, &t), 0);
	assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t, 0, f->lu), 0);
	assert_int_equal(scsi_target_create(f->core, TACL, &t), 0);
	assert_int_equal(scsi_target_add_port(t, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t, 0, f->lu), 0);
	assert_int_equal(scsi_target_acl_add(t, "iqn.2026-01.test:allowed"), 0);
	assert_int_equal(iscsi_server_create(f->evl, f->core, &s, &f->srv), 0);
	assert_int_equal(iscsi_portal_add(f->srv, "127.0.0.1", 0, 1, NULL), 0);
	f->port = iscsi_portal_port(f->srv, 0);
	assert_true(f->port != 0);
	*state = f;
	return 0;
}

static inline void shutdown_done(void *arg)
{
	*(bool *)arg = true;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	bool done = false;

	iscsi_server_shutdown(f->srv, 1000, shutdown_done, &done);
	for (int i = 0; i < 50 && !done; i++)
		pump(f, 20);
	assert_true(done);
	iscsi_server_destroy(f->srv);
	scsi_core_destroy(f->core);
	evl_timer_destroy(f->stop);
	evl_destroy(f->evl);
	free(f);
	return 0;
}

static inline void client_connect(struct fx *f)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(connect(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(f->fd, F_SETFL, O_NONBLOCK);
	pump(f, 10); /* accept */
}

/* Keys as "k=v|k=v". */
static inline void send_pdu(struct fx *f, uint8_t op, uint8_t flags, uint8_t vmin, uint16_t tsih,
			    uint32_t ttt, const char *keys)
{
	uint8_t buf[8192 + ISCSI_BHS_LEN + 4] = {0};
	size_t len = keys ? strlen(keys) : 0, tot;

	buf[0] = op | ISCSI_OP_IMMEDIATE;
	buf[1] = flags;
	buf[3] = vmin;
	put_be24(buf + 5, (uint32_t)len);
	memcpy(buf + 8, "\x80\x12\x34\x56\x00\x01", 6);
	put_be16(buf + 14, tsih);
	put_be32(buf + 16, 0x1000);
	if (op == ISCSI_OP_TEXT_REQ)
		put_be32(buf + 20, ttt);
	put_be32(buf + 24, 1); /* CmdSN */
	memcpy(buf + ISCSI_BHS_LEN, keys ? keys : "", len);
	for (size_t i = 0; i < len; i++)
		if (buf[ISCSI_BHS_LEN + i] == '|')
			buf[ISCSI_BHS_LEN + i] = 0;
	tot = ISCSI_BHS_LEN + len + ISCSI_PAD(len);
	assert_int_equal(write(f->fd, buf, tot), (ssize_t)tot);
}

/* Pump until one whole PDU arrives; 0 (BHS in bhs, data copied to data up
 * to cap, *dsl set) or -1 when the connection was closed (*dsl then 0). */
static inline int recv_pdu_raw(struct fx *f, uint8_t *bhs, uint8_t *data, size_t cap,
			       uint32_t *dsl_out)
{
	static uint8_t buf[(1u << 18) + 64];
	size_t have = 0, need = ISCSI_BHS_LEN;
	uint32_t dsl = 0;

	memset(bhs, 0, ISCSI_BHS_LEN);
	if (dsl_out)
		*dsl_out = 0;
	for (int i = 0; i < 200; i++) {
		ssize_t n = read(f->fd, buf + have, need - have);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) /* closed (RST if unread) */
			return -1;
		if (n > 0) {
			have += (size_t)n;
			if (have == ISCSI_BHS_LEN) {
				dsl = get_be24(buf + 5);
				need = ISCSI_BHS_LEN + dsl + ISCSI_PAD(dsl);
				assert_true(need <= sizeof(buf));
			}
			if (have == need)
				break;
			continue;
		}
		assert_true(errno == EAGAIN);
		pump(f, 10);
	}
	assert_int_equal(have, need);
	memcpy(bhs, buf, ISCSI_BHS_LEN);
	if (data)
		memcpy(data, buf + ISCSI_BHS_LEN, UTIL_MIN((size_t)dsl, cap));
	if (dsl_out)
		*dsl_out = dsl;
	return 0;
}

/* As recv_pdu_raw, the data as text with NULs shown as '|'. */
static inline int recv_pdu(struct fx *f, uint8_t *bhs, char *text, size_t cap)
{
	static uint8_t data[1u << 18];
	uint32_t dsl;
	size_t o = 0;

	if (recv_pdu_raw(f, bhs, data, sizeof(data), &dsl))
		return -1;
	if (text) {
		for (uint32_t i = 0; i < dsl && o + 1 < cap; i++)
			text[o++] = data[i] ? (char)data[i] : '|';
		text[o] = 0;
	}
	return 0;
}

/* One PDU from the test client: the BHS with DataSegmentLength set, then the
 * data and its pad (RFC 7143 11.2). */
static inline void send_raw(struct fx *f, const uint8_t *bhs, const void *data, uint32_t len)
{
	uint8_t pad[4] = {0};
	uint8_t h[ISCSI_BHS_LEN];

	memcpy(h, bhs, ISCSI_BHS_LEN);
	put_be24(h + 5, len);
	assert_int_equal(write(f->fd, h, ISCSI_BHS_LEN), ISCSI_BHS_LEN);
	if (len) {
		assert_int_equal(write(f->fd, data, len), (ssize_t)len);
		if (ISCSI_PAD(len))
			assert_int_equal(write(f->fd, pad, ISCSI_PAD(len)), ISCSI_PAD(len));
	}
}

/* SCSI Command (11.3) with a 10-byte CDB: op, LBA, TRANSFER LENGTH. */
static inline void send_scsi_cmd(struct fx *f, uint8_t flags, uint32_t itt, uint32_t cmdsn,
				 uint32_t edtl, uint8_t op, uint32_t lba, uint16_t blocks,
				 const void *imm, uint32_t immlen)
{
	uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_SCSI_CMD, flags};

	put_be32(b + 16, itt);
	put_be32(b + 20, edtl);
	put_be32(b + 24, cmdsn);
	b[32] = op;
	put_be32(b + 34, lba);
	put_be16(b + 39, blocks);
	send_raw(f, b, imm, immlen);
}

/* SCSI Data-Out (11.7): len bytes of buf starting at BufferOffset off. */
static inline void send_data_out(struct fx *f, uint32_t itt, uint32_t ttt, uint32_t datasn,
				 uint32_t off, const uint8_t *buf, uint32_t len, bool final)
{
	uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_DATA_OUT, final ? ISCSI_FLAG_FINAL : 0};

	put_be32(b + 16, itt);
	put_be32(b + 20, ttt);
	put_be32(b + 36, datasn);
	put_be32(b + 40, off);
	send_raw(f, b, buf + off, len);
}

#endif
