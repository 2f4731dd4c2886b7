/* SPDX-License-Identifier: MIT */
/*
 * Full feature phase over loopback: the write path with immediate data,
 * unsolicited Data-Out and R2T (RFC 7143 11.3, 11.7, 11.8), Data-In splitting
 * with phase collapse and residuals (11.7.2, 11.4.5), CmdSN ordering
 * (4.2.2.1), NOP (11.18/11.19), Reject (11.17), Logout (11.14).
 * Server settings: InitialR2T=No so unsolicited data is allowed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iscsi_harness.h"

static uint8_t wbuf[16384], rbuf[16384];

static void send_nop(struct fx *f, bool imm, uint32_t itt, uint32_t cmdsn, const char *ping)
{
	uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT | (imm ? ISCSI_OP_IMMEDIATE : 0),
				    ISCSI_FLAG_FINAL};

	put_be32(b + 16, itt);
	put_be32(b + 20, ISCSI_RSVD_TAG);
	put_be32(b + 24, cmdsn);
	send_raw(f, b, ping, (uint32_t)strlen(ping));
}

static void expect_nop_in(struct fx *f, uint32_t itt, const char *ping)
{
	uint8_t bhs[48];
	char text[256];

	assert_int_equal(recv_pdu(f, bhs, text, sizeof(text)), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
	assert_int_equal(get_be32(bhs + 16), itt);
	assert_string_equal(text, ping); /* 11.19: the ping data comes back */
}

static uint32_t max_cmdsn;

static void login(struct fx *f)
{
	uint8_t bhs[48];

	client_connect(f);
	send_pdu(f, ISCSI_OP_LOGIN_REQ,
		 ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_LOGIN_STAGE_OPERATIONAL << 2 | 3, 0, 0, 0,
		 "InitiatorName=iqn.2026-01.test:init|TargetName=iqn.2026-01.test:t1|"
		 "InitialR2T=No|ImmediateData=Yes|FirstBurstLength=4096|MaxBurstLength=8192|"
		 "MaxRecvDataSegmentLength=4096");
	assert_int_equal(recv_pdu(f, bhs, NULL, 0), 0);
	assert_int_equal(bhs[36], 0);
	max_cmdsn = get_be32(bhs + 32);
	assert_int_equal(get_be32(bhs + 28), 1);
}

static void rfc7143_11_8_write_immediate_unsolicited_then_r2t(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];
	uint32_t ttt, dsl, total = 0, datasn = 0;

	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 1);
	login(f);
	/* power-on unit attention first (SAM-5 6.3.1) */
	send_scsi_cmd(f, ISCSI_FLAG_FINAL, 1, 1, 0, 0x00, 0, 0, NULL, 0);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);

	/* WRITE(10) 32 blocks: 1024 immediate + 3072 unsolicited = FirstBurstLength */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 2, 2, 16384, 0x2a, 0, 32, wbuf, 1024);
	send_data_out(f, 2, ISCSI_RSVD_TAG, 0, 1024, wbuf, 3072, true);
	/* 11.8: R2T for the rest, at most MaxBurstLength, one outstanding */
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_R2T);
	assert_int_equal(get_be32(bhs + 16), 2);
	assert_int_equal(get_be32(bhs + 36), 0); /* R2TSN */
	assert_int_equal(get_be32(bhs + 40), 4096); /* offset */
	assert_int_equal(get_be32(bhs + 44), 8192); /* desired length */
	ttt = get_be32(bhs + 20);
	assert_int_not_equal(ttt, ISCSI_RSVD_TAG);
	send_data_out(f, 2, ttt, 0, 4096, wbuf, 4096, false);
	send_data_out(f, 2, ttt, 1, 8192, wbuf, 4096, true);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_R2T);
	assert_int_equal(get_be32(bhs + 36), 1);
	assert_int_equal(get_be32(bhs + 40), 12288);
	assert_int_equal(get_be32(bhs + 44), 4096);
	send_data_out(f, 2, get_be32(bhs + 20), 0, 12288, wbuf, 4096, true);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);
	assert_int_equal(get_be32(bhs + 16), 2);
	assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
	assert_int_equal(bhs[1] & (ISCSI_RSP_FLAG_OVERFLOW | ISCSI_RSP_FLAG_UNDERFLOW), 0);

	/* READ(10) back with EDTL 512 bytes more than the CDB: underflow */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_READ | ISCSI_FLAG_FINAL | 1, 3, 3, 16384 + 512, 0x28, 0, 32,
		      NULL, 0);
	for (;;) {
		assert_int_equal(recv_pdu_raw(f, bhs, rbuf + total, sizeof(rbuf) - total, &dsl), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_DATA_IN);
		/* 11.7.2: at most the initiator's MRDSL, DataSN in order, F at the
		 * end of each MaxBurstLength sequence */
		assert_true(dsl <= 4096);
		assert_int_equal(get_be32(bhs + 36), datasn++);
		assert_int_equal(get_be32(bhs + 40), total);
		total += dsl;
		assert_int_equal(!!(bhs[1] & ISCSI_FLAG_FINAL), total % 8192 == 0);
		if (bhs[1] & ISCSI_DATAIN_FLAG_STATUS)
			break;
	}
	assert_int_equal(total, 16384);
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	/* phase collapse: status and residual in the last Data-In (11.4.5) */
	assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
	assert_true(bhs[1] & ISCSI_RSP_FLAG_UNDERFLOW);
	assert_int_equal(get_be32(bhs + 44), 512);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_4_2_2_1_out_of_order_commands_wait_for_the_gap(void **state)
{
	struct fx *f = *state;

	login(f);
	send_nop(f, false, 0x21, 2, "second"); /* ahead of ExpCmdSN: held */
	send_nop(f, false, 0x20, 1, "first");
	expect_nop_in(f, 0x20, "first");
	expect_nop_in(f, 0x21, "second");
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_4_2_2_1_cmdsn_outside_window_silently_ignored(void **state)
{
	struct fx *f = *state;

	login(f);
	send_nop(f, false, 0x30, max_cmdsn + 1, "toohigh");
	send_nop(f, false, 0x31, 0, "toolow");
	send_nop(f, true, 0x32, 1, "immediate");
	/* the first answer is the immediate ping: the others were ignored and
	 * the session is still up */
	expect_nop_in(f, 0x32, "immediate");
	send_nop(f, false, 0x33, 1, "inwindow");
	expect_nop_in(f, 0x33, "inwindow");
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_17_unknown_opcode_rejected_session_lives(void **state)
{
	struct fx *f = *state;
	uint8_t b[ISCSI_BHS_LEN] = {0x1c | ISCSI_OP_IMMEDIATE, ISCSI_FLAG_FINAL};
	uint8_t bhs[48], data[48];
	uint32_t dsl;

	login(f);
	send_raw(f, b, NULL, 0);
	assert_int_equal(recv_pdu_raw(f, bhs, data, sizeof(data), &dsl), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_REJECT);
	assert_int_equal(bhs[2], ISCSI_REJECT_CMD_NOT_SUPPORTED);
	assert_int_equal(dsl, ISCSI_BHS_LEN); /* the rejected header comes back */
	assert_int_equal(data[0] & ISCSI_OPCODE_MASK, 0x1c);
	send_nop(f, true, 0x40, 1, "alive");
	expect_nop_in(f, 0x40, "alive");
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_3_immediate_data_over_first_burst_rejected(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	login(f);
	/* 8192 immediate bytes > FirstBurstLength 4096 (MRDSL allows 256 KiB) */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | ISCSI_FLAG_FINAL | 1, 0x50, 1, 8192, 0x2a, 0, 16,
		      wbuf, 8192);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_REJECT);
	assert_int_equal(bhs[2], ISCSI_REJECT_PROTOCOL_ERROR);
	/* its CmdSN was consumed: the next command (CmdSN 2) runs */
	send_nop(f, false, 0x51, 2, "next");
	expect_nop_in(f, 0x51, "next");
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_14_logout_closes_session(void **state)
{
	struct fx *f = *state;
	uint8_t b[ISCSI_BHS_LEN] = {ISCSI_OP_LOGOUT_REQ | ISCSI_OP_IMMEDIATE,
				    ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION};
	uint8_t bhs[48];

	login(f);
	put_be32(b + 16, 0x60);
	put_be32(b + 24, 1);
	send_raw(f, b, NULL, 0);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_LOGOUT_RSP);
	assert_int_equal(get_be32(bhs + 16), 0x60);
	assert_int_equal(bhs[2], ISCSI_LOGOUT_RSP_OK);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), -1);
	close(f->fd);
	pump(f, 10);
}

static void rfc7143_11_7_1_data_out_offset_error_closes(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	login(f);
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 0x70, 1, 4096, 0x2a, 0, 8, NULL, 0);
	/* right DataSN, but offset 512 where 0 is due (DataPDUInOrder=Yes):
	 * a protocol error, the connection ends at ERL 0 */
	send_data_out(f, 0x70, ISCSI_RSVD_TAG, 0, 512, wbuf, 2048, true);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), -1);
	close(f->fd);
	pump(f, 10);
}

/* SCSI Response with CHECK CONDITION, ABORTED COMMAND, 47/05 (RFC 7143
 * 11.4.7.2 "protocol service CRC error"), in fixed format. */
static void expect_crc_error_rsp(struct fx *f, uint32_t itt)
{
	uint8_t bhs[48], data[64];
	uint32_t dsl;

	assert_int_equal(recv_pdu_raw(f, bhs, data, sizeof(data), &dsl), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);
	assert_int_equal(get_be32(bhs + 16), itt);
	assert_int_equal(bhs[2], ISCSI_RESPONSE_COMPLETED);
	assert_int_equal(bhs[3], SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(dsl, 2 + 18);
	assert_int_equal(get_be16(data), 18);
	assert_int_equal(data[2] & 0x7f, 0x70);
	assert_int_equal(data[2 + 2] & 0x0f, 0x0b);
	assert_int_equal(data[2 + 12], 0x47);
	assert_int_equal(data[2 + 13], 0x05);
}

#define DSN_LBA 1024 /* blocks no other test writes */

static void read_back_zero(struct fx *f, uint32_t itt, uint32_t cmdsn, uint32_t len)
{
	uint8_t bhs[48];
	uint32_t dsl, total = 0;

	memset(rbuf, 0xee, sizeof(rbuf));
	send_scsi_cmd(f, ISCSI_CMD_FLAG_READ | ISCSI_FLAG_FINAL | 1, itt, cmdsn, len, 0x28, DSN_LBA,
		      (uint16_t)(len / 512), NULL, 0);
	for (;;) {
		assert_int_equal(recv_pdu_raw(f, bhs, rbuf + total, sizeof(rbuf) - total, &dsl), 0);
		assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_DATA_IN);
		total += dsl;
		if (bhs[1] & ISCSI_DATAIN_FLAG_STATUS)
			break;
	}
	assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
	assert_int_equal(total, len);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(rbuf[i], 0);
}

static void rfc7143_7_9_unsolicited_datasn_error_check_condition_47_05(void **state)
{
	struct fx *f = *state;
	uint8_t bhs[48];

	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 3);
	login(f);
	send_scsi_cmd(f, ISCSI_FLAG_FINAL, 0x80, 1, 0, 0x00, 0, 0, NULL, 0); /* power-on UA */
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);

	/* 4096 unsolicited bytes in two PDUs, both DataSN 0 (libiscsi
	 * iSCSIdatasn case 1): 7.9 implied digest error, 7.8 at ERL 0: all the
	 * data is taken, no R2T follows, the task ends with CHECK CONDITION */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 0x81, 2, 8192, 0x2a, DSN_LBA, 16, NULL, 0);
	send_data_out(f, 0x81, ISCSI_RSVD_TAG, 0, 0, wbuf, 2048, false);
	send_data_out(f, 0x81, ISCSI_RSVD_TAG, 0, 2048, wbuf, 2048, true);
	expect_crc_error_rsp(f, 0x81);

	/* DataSN 1 then 0 within an R2T (case 4), after FirstBurstLength of
	 * immediate data */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | ISCSI_FLAG_FINAL | 1, 0x82, 3, 8192, 0x2a, DSN_LBA,
		      16, wbuf, 4096);
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_R2T);
	assert_int_equal(get_be32(bhs + 40), 4096);
	send_data_out(f, 0x82, get_be32(bhs + 20), 1, 4096, wbuf, 2048, false);
	send_data_out(f, 0x82, get_be32(bhs + 20), 0, 6144, wbuf, 2048, true);
	expect_crc_error_rsp(f, 0x82);

	/* a single PDU with DataSN 27 (case 2) */
	send_scsi_cmd(f, ISCSI_CMD_FLAG_WRITE | 1, 0x83, 4, 512, 0x2a, DSN_LBA, 1, NULL, 0);
	send_data_out(f, 0x83, ISCSI_RSVD_TAG, 27, 0, wbuf, 512, true);
	expect_crc_error_rsp(f, 0x83);

	/* the connection lives and none of the data reached the medium */
	read_back_zero(f, 0x84, 5, 8192);
	close(f->fd);
	pump(f, 10);
}

/* Append one PDU (header + data + pad) to a byte stream. */
static size_t put_pdu(uint8_t *out, const uint8_t *bhs, const void *data, uint32_t len)
{
	memcpy(out, bhs, ISCSI_BHS_LEN);
	put_be24(out + 5, len);
	memcpy(out + ISCSI_BHS_LEN, data, len);
	memset(out + ISCSI_BHS_LEN + len, 0, ISCSI_PAD(len));
	return ISCSI_BHS_LEN + len + ISCSI_PAD(len);
}

static size_t stream_nop_write_nop(uint8_t *out, uint32_t itt, uint32_t cmdsn)
{
	uint8_t nop[ISCSI_BHS_LEN] = {ISCSI_OP_NOP_OUT, ISCSI_FLAG_FINAL};
	uint8_t cmd[ISCSI_BHS_LEN] = {ISCSI_OP_SCSI_CMD,
				      ISCSI_FLAG_FINAL | ISCSI_CMD_FLAG_WRITE | 1};
	size_t n = 0;

	put_be32(nop + 16, itt);
	put_be32(nop + 20, ISCSI_RSVD_TAG);
	put_be32(nop + 24, cmdsn);
	n += put_pdu(out + n, nop, "ping1", 5);
	put_be32(cmd + 16, itt + 1);
	put_be32(cmd + 20, 1024);
	put_be32(cmd + 24, cmdsn + 1);
	cmd[32] = 0x2a; /* WRITE(10) LBA 1536, 2 blocks, 1024 bytes immediate */
	put_be32(cmd + 34, 1536);
	put_be16(cmd + 39, 2);
	n += put_pdu(out + n, cmd, wbuf, 1024);
	put_be32(nop + 16, itt + 2);
	put_be32(nop + 24, cmdsn + 2);
	n += put_pdu(out + n, nop, "ping2", 5);
	return n;
}

/* The three answers, in any order (the write completes asynchronously). */
static void expect_stream_answers(struct fx *f, uint32_t itt)
{
	unsigned seen = 0;

	for (int i = 0; i < 3; i++) {
		uint8_t bhs[48], data[16] = {0};
		uint32_t dsl, k;

		assert_int_equal(recv_pdu_raw(f, bhs, data, sizeof(data) - 1, &dsl), 0);
		k = get_be32(bhs + 16) - itt;
		assert_true(k < 3);
		seen |= 1u << k;
		if (k == 1) {
			assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_SCSI_RSP);
			assert_int_equal(bhs[3], SCSI_STATUS_GOOD);
		} else {
			assert_int_equal(bhs[0] & ISCSI_OPCODE_MASK, ISCSI_OP_NOP_IN);
			assert_string_equal((char *)data, k ? "ping2" : "ping1");
		}
	}
	assert_int_equal(seen, 7);
}

/* 11.2: PDUs are a byte stream; the receiver must not care how the bytes
 * are cut. Three PDUs (one with immediate data read in place) in one write,
 * then the same again trickled a few bytes at a time. */
static void rfc7143_11_2_pdus_coalesced_or_trickled_are_parsed_alike(void **state)
{
	struct fx *f = *state;
	static uint8_t stream[4096];
	uint8_t bhs[48];
	size_t n;

	login(f);
	send_scsi_cmd(f, ISCSI_FLAG_FINAL, 0x90, 1, 0, 0x00, 0, 0, NULL, 0); /* power-on UA */
	assert_int_equal(recv_pdu_raw(f, bhs, NULL, 0, NULL), 0);
	n = stream_nop_write_nop(stream, 0x91, 2);
	assert_int_equal(write(f->fd, stream, n), (ssize_t)n);
	expect_stream_answers(f, 0x91);
	n = stream_nop_write_nop(stream, 0x94, 5);
	for (size_t off = 0; off < n; off += 7) {
		size_t k = UTIL_MIN((size_t)7, n - off);

		assert_int_equal(write(f->fd, stream + off, k), (ssize_t)k);
		if (off % 140 == 0)
			pump(f, 1);
	}
	expect_stream_answers(f, 0x94);
	close(f->fd);
	pump(f, 10);
}

static int setup(void **state)
{
	struct iscsi_settings s = {0};

	iscsi_settings_defaults(&s);
	s.initial_r2t = false;
	return fx_setup(state, &s);
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc7143_11_8_write_immediate_unsolicited_then_r2t),
	    cmocka_unit_test(rfc7143_4_2_2_1_out_of_order_commands_wait_for_the_gap),
	    cmocka_unit_test(rfc7143_4_2_2_1_cmdsn_outside_window_silently_ignored),
	    cmocka_unit_test(rfc7143_11_17_unknown_opcode_rejected_session_lives),
	    cmocka_unit_test(rfc7143_11_3_immediate_data_over_first_burst_rejected),
	    cmocka_unit_test(rfc7143_11_14_logout_closes_session),
	    cmocka_unit_test(rfc7143_11_7_1_data_out_offset_error_closes),
	    cmocka_unit_test(rfc7143_7_9_unsolicited_datasn_error_check_condition_47_05),
	    cmocka_unit_test(rfc7143_11_2_pdus_coalesced_or_trickled_are_parsed_alike),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
