// SPDX-License-Identifier: MIT
/*
 * SPC-4 primary commands: INQUIRY (6.6), REPORT LUNS (6.33), TEST UNIT READY
 * (6.47), REQUEST SENSE (6.39), START STOP UNIT (SBC-4 5.25).
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
	for (uint32_t i = 0; i < n && 8 + 8 * i < alloc; i++) {
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
	}
	n = scsi_sense_build(&res, desc, sense, sizeof(sense));
	return scsi_data_in(t, sense, n, t->cdb[4]);
}

enum scsi_reason scsi_spc_start_stop_unit(struct scsi_task *t)
{
	/* SBC-4 5.25: accepted. The LU has no stopped state to model (no
	 * medium to spin down, nothing removable): START=0 does not make
	 * media access fail afterwards, LOEJ has nothing to eject, and power
	 * conditions are not implemented. With NO_FLUSH=0 the device would
	 * flush its cache first; every completed write is already made
	 * durable by SYNCHRONIZE CACHE or FUA, so there is nothing pending. */
	(void)t;
	return SR_OK;
}
