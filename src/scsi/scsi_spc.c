// SPDX-License-Identifier: MIT
/*
 * SPC-4 primary commands: INQUIRY (6.6), REPORT LUNS (6.33), TEST UNIT READY
 * (6.47), REQUEST SENSE (6.39), START STOP UNIT (SBC-4 5.25) and the stopped
 * state it sets.
 */
#include <string.h>

#include "scsi_priv.h"
#include "scsi_sanitize.h"
#include "targetd/util.h"

#define INQ_STD_LEN 96

/* SPC-4 6.6.2: peripheral qualifier 011b + device type 1Fh when the LUN is
 * not accessible; 000b + 00h (direct access block device) otherwise. */
static uint8_t periph(const struct scsi_lu *lu)
{
	return lu ? 0x00 : 0x7f;
}

static void inquiry_standard(const struct scsi_lu *lu, uint8_t *b)
{
	static const uint16_t versions[] = {
	    0x00a0, /* SAM-5 (no version claimed) */
	    0x0960, /* iSCSI (no version claimed) */
	    0x0460, /* SPC-4 (no version claimed) */
	    0x04c0, /* SBC-3 (no version claimed) */
	};

	memset(b, 0, INQ_STD_LEN);
	b[0] = periph(lu);
	b[2] = 0x06; /* VERSION: SPC-4 */
	b[3] = 0x10 | 0x02; /* HISUP, RESPONSE DATA FORMAT 2; NORMACA=0 */
	b[4] = INQ_STD_LEN - 5;
	b[5] = 0x00; /* TPGS=00b: no ALUA, PROTECT=0 */
	b[7] = 0x02; /* CMDQUE */
	memcpy(b + 8, lu ? lu->vendor : "TARGETD ", 8);
	memcpy(b + 16, lu ? lu->product : "VIRTUAL-DISK    ", 16);
	memcpy(b + 32, "0001", 4);
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++)
		put_be16(b + 58 + 2 * i, versions[i]);
}

enum scsi_reason scsi_spc_inquiry(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	uint32_t alloc = get_be16(t->cdb + 3);
	uint8_t buf[1024];
	int n;

	if (!(t->cdb[1] & 0x01)) {
		/* SPC-4 6.6.1: PAGE CODE must be zero when EVPD=0 */
		if (t->cdb[2])
			return scsi_bad_cdb(t, 2, 7);
		inquiry_standard(lu, buf);
		return scsi_data_in(t, buf, INQ_STD_LEN, alloc);
	}
	if (!lu)
		return SR_LUN_NOT_SUPPORTED;
	n = scsi_vpd_build(t, t->cdb[2], buf, sizeof(buf));
	if (n < 0)
		return scsi_bad_cdb(t, 2, 7);
	return scsi_data_in(t, buf, (uint32_t)n, alloc);
}

enum scsi_reason scsi_spc_report_luns(struct scsi_task *t)
{
	struct scsi_target *tgt = t->nexus->target;
	uint32_t alloc = get_be32(t->cdb + 6);
	uint32_t n = 0, len;
	enum scsi_reason r;

	/* SPC-4 6.33: ALLOCATION LENGTH below 16 is an invalid field */
	if (alloc < 16)
		return scsi_bad_cdb(t, 6, 7);
	switch (t->cdb[2]) {
	case 0x00: /* all LUNs but well known ones */
	case 0x02: /* all LUNs */
		n = tgt->nluns;
		break;
	case 0x01: /* well known LUNs only: none */
		break;
	default:
		return scsi_bad_cdb(t, 2, 7);
	}
	/* SPC-4 6.33: REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED */
	scsi_ua_clear(t->nexus, SR_UA_LUNS_CHANGED);
	len = 8 + 8 * n;
	r = scsi_data_in_buf(t, UTIL_MIN(len, alloc));
	if (r)
		return r;
	/* build in place up to the allocation length */
	uint8_t hdr[8] = {0};
	put_be32(hdr, 8 * n);
	memcpy(t->buf, hdr, UTIL_MIN(8u, alloc));
	for (size_t i = 0; i < n && 8 + 8 * i < alloc; i++) {
		uint8_t e[8];
		put_be64(e, scsi_lun_encode(tgt->luns[i].lun));
		memcpy(t->buf + 8 + 8 * i, e, UTIL_MIN(8u, alloc - (8 + 8 * i)));
	}
	t->data_in_len = UTIL_MIN(len, alloc);
	t->xfer_len = t->data_in_len;
	return SR_OK;
}

enum scsi_reason scsi_spc_test_unit_ready(struct scsi_task *t)
{
	(void)t;
	return SR_OK;
}

enum scsi_reason scsi_spc_request_sense(struct scsi_task *t)
{
	struct scsi_tpriv *tp = scsi_tp(t);
	struct scsi_result res = {.reason = SR_NO_SENSE};
	bool desc = t->cdb[1] & 0x01;
	uint8_t sense[SCSI_SENSE_MAX];
	uint8_t n;

	/* SPC-4 6.39.2: report a pending unit attention (and clear it); for
	 * an inaccessible LUN, LOGICAL UNIT NOT SUPPORTED; else NO SENSE.
	 * Status is GOOD: the sense data is the parameter data. */
	if (!tp->lu) {
		res.reason = SR_LUN_NOT_SUPPORTED;
	} else if (tp->lu->sanitize) {
		/* SBC-4 4.11.1: NOT READY, SANITIZE IN PROGRESS with the
		 * PROGRESS INDICATION (SPC-4 4.5.2.4.4) */
		res.reason = SR_SANITIZE_IN_PROGRESS;
		res.sksv = true;
		res.field = scsi_sanitize_progress(tp->lu);
	} else {
		enum scsi_reason ua = scsi_ua_peek(t->nexus, tp->lu, true);
		if (ua)
			res.reason = ua;
		else if (tp->lu->stopped)
			/* SBC-4 4.20.2: the stopped power condition */
			res.reason = SR_NOT_READY_INIT_REQUIRED;
	}
	n = scsi_sense_build(&res, desc, sense, sizeof(sense));
	return scsi_data_in(t, sense, n, t->cdb[4]);
}

enum scsi_reason scsi_lu_stopped_check(const struct scsi_lu *lu, const struct scsi_cmd *c)
{
	/* SBC-4 4.20.2: in the stopped power condition the device server
	 * terminates commands that need the medium with NOT READY, LOGICAL
	 * UNIT NOT READY, INITIALIZING COMMAND REQUIRED: every read and write
	 * class command (READ, WRITE, VERIFY, PRE-FETCH, GET LBA STATUS, WRITE
	 * SAME, UNMAP, SYNCHRONIZE CACHE, SANITIZE, ...) and TEST UNIT READY
	 * (SPC-4 6.47: it reports whether the medium is ready). INQUIRY,
	 * REPORT LUNS, REQUEST SENSE, MODE SENSE/SELECT, READ CAPACITY,
	 * persistent reservations and START STOP UNIT itself still run. */
	if (!lu->stopped || !c || c->opcode == 0x1b)
		return SR_OK;
	if (c->pr_class == PR_CLASS_TUR || c->pr_class == PR_CLASS_READ ||
	    c->pr_class == PR_CLASS_WRITE)
		return SR_NOT_READY_INIT_REQUIRED;
	return SR_OK;
}

enum scsi_reason scsi_spc_start_stop_unit(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	const uint8_t *c = t->cdb;
	uint8_t pc = c[4] >> 4;
	bool no_flush = c[4] & 0x04, start = c[4] & 0x01;

	/* SBC-4 5.25. POWER CONDITION 0h (START_VALID): START=1 makes the LU
	 * active, START=0 stops it (stopped power condition, SBC-4 4.20):
	 * medium access then answers 02/04/02 until a START=1 (or a restart
	 * of the daemon: the state is not kept). 1h (ACTIVE) starts it too.
	 * Other power conditions (idle, standby, their timers) are not
	 * modelled and leave the state as it is; the START bit is ignored
	 * with them (SBC-4 5.25). LOEJ: nothing is removable (RMB=0), so there
	 * is nothing to load or eject. IMMED: completion after the flush
	 * below either way. The state belongs to the LU, not the nexus. */
	if (pc == 0x0 || pc == 0x1) {
		bool stop = pc == 0x0 && !start;
		if (stop != lu->stopped)
			log_info(SCSI_LOG, "lu %s: %s by %s (START STOP UNIT)", lu->serial,
				 stop ? "stopped" : "started", t->nexus->initiator);
		lu->stopped = stop;
		/* SBC-4 5.25: with NO_FLUSH=0 cached data is written to the
		 * medium before the LU stops */
		if (stop && !no_flush)
			return scsi_sbc_flush(t);
	}
	return SR_OK;
}
