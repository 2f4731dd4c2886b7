// SPDX-License-Identifier: MIT
/*
 * The one table from reason to status + sense key + ASC/ASCQ (SPC-4 4.5.6,
 * table 47 for ASC/ASCQ; SAM-5 5.3.1 for status), and the sense data builder
 * for fixed (70h, SPC-4 4.5.3) and descriptor (72h, SPC-4 4.5.2) formats.
 */
#include <errno.h>
#include <string.h>

#include "scsi_reason.h"
#include "targetd/scsi.h"

/* SPC-4 4.5.6 sense keys */
enum {
	SK_NO_SENSE = 0x0,
	SK_NOT_READY = 0x2,
	SK_MEDIUM_ERROR = 0x3,
	SK_HARDWARE_ERROR = 0x4,
	SK_ILLEGAL_REQUEST = 0x5,
	SK_UNIT_ATTENTION = 0x6,
	SK_DATA_PROTECT = 0x7,
	SK_COPY_ABORTED = 0xa,
	SK_MISCOMPARE = 0xe,
};

#define CC SCSI_STATUS_CHECK_CONDITION
#define ROW(k, a, q)        \
	{                   \
		CC, k, a, q \
	}

static const struct scsi_sense_row rows[SR__COUNT] = {
    [SR_OK] = {SCSI_STATUS_GOOD, 0, 0, 0},
    [SR_PENDING] = {SCSI_STATUS_GOOD, 0, 0, 0},
    [SR_NO_SENSE] = {SCSI_STATUS_GOOD, SK_NO_SENSE, 0, 0},
    [SR_INVALID_OPCODE] = ROW(SK_ILLEGAL_REQUEST, 0x20, 0x00),
    [SR_INVALID_CDB_FIELD] = ROW(SK_ILLEGAL_REQUEST, 0x24, 0x00),
    [SR_INVALID_PARAM_FIELD] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x00),
    [SR_PARAM_LIST_LENGTH] = ROW(SK_ILLEGAL_REQUEST, 0x1a, 0x00),
    [SR_INVALID_IU_FIELD] = ROW(SK_ILLEGAL_REQUEST, 0x0e, 0x03),
    [SR_LBA_OUT_OF_RANGE] = ROW(SK_ILLEGAL_REQUEST, 0x21, 0x00),
    [SR_LUN_NOT_SUPPORTED] = ROW(SK_ILLEGAL_REQUEST, 0x25, 0x00),
    [SR_SAVING_PARAMS_UNSUP] = ROW(SK_ILLEGAL_REQUEST, 0x39, 0x00),
    [SR_INVALID_MESSAGE] = ROW(SK_ILLEGAL_REQUEST, 0x49, 0x00),
    [SR_INSUFFICIENT_REG_RES] = ROW(SK_ILLEGAL_REQUEST, 0x55, 0x04),
    [SR_INVALID_RELEASE] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x04),
    [SR_PR_INFO_LOST] = ROW(SK_DATA_PROTECT, 0x44, 0x01),
    [SR_WRITE_PROTECTED] = ROW(SK_DATA_PROTECT, 0x27, 0x00),
    [SR_SW_WRITE_PROTECTED] = ROW(SK_DATA_PROTECT, 0x27, 0x02),
    [SR_SPACE_ALLOC_FAILED] = ROW(SK_DATA_PROTECT, 0x27, 0x07),
    [SR_READ_ERROR] = ROW(SK_MEDIUM_ERROR, 0x11, 0x00),
    [SR_WRITE_ERROR] = ROW(SK_MEDIUM_ERROR, 0x0c, 0x00),
    [SR_HARDWARE_ERROR] = ROW(SK_HARDWARE_ERROR, 0x44, 0x00),
    [SR_MISCOMPARE] = ROW(SK_MISCOMPARE, 0x1d, 0x00),
    [SR_RESERVATION_CONFLICT] = {SCSI_STATUS_RESERVATION_CONFLICT, 0, 0, 0},
    [SR_BUSY] = {SCSI_STATUS_BUSY, 0, 0, 0},
    [SR_TOO_MANY_TGT_DESC] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x06),
    [SR_UNSUPP_TGT_DESC] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x07),
    [SR_TOO_MANY_SEG_DESC] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x08),
    [SR_UNSUPP_SEG_DESC] = ROW(SK_ILLEGAL_REQUEST, 0x26, 0x09),
    [SR_COPY_ABORTED] = ROW(SK_COPY_ABORTED, 0x00, 0x00),
    [SR_COPY_TARGET_UNREACHABLE] = ROW(SK_COPY_ABORTED, 0x0d, 0x02),
    [SR_SANITIZE_IN_PROGRESS] = ROW(SK_NOT_READY, 0x04, 0x1b),
    [SR_SANITIZE_FAILED] = ROW(SK_MEDIUM_ERROR, 0x31, 0x03),
    [SR_NOT_READY_INIT_REQUIRED] = ROW(SK_NOT_READY, 0x04, 0x02),
    [SR_UA_POWER_ON] = ROW(SK_UNIT_ATTENTION, 0x29, 0x00),
    [SR_UA_BUS_RESET] = ROW(SK_UNIT_ATTENTION, 0x29, 0x02),
    [SR_UA_LU_RESET] = ROW(SK_UNIT_ATTENTION, 0x29, 0x03),
    [SR_UA_NEXUS_LOSS] = ROW(SK_UNIT_ATTENTION, 0x29, 0x07),
    [SR_UA_MODE_CHANGED] = ROW(SK_UNIT_ATTENTION, 0x2a, 0x01),
    [SR_UA_RES_PREEMPTED] = ROW(SK_UNIT_ATTENTION, 0x2a, 0x03),
    [SR_UA_RES_RELEASED] = ROW(SK_UNIT_ATTENTION, 0x2a, 0x04),
    [SR_UA_REG_PREEMPTED] = ROW(SK_UNIT_ATTENTION, 0x2a, 0x05),
    [SR_UA_CAPACITY_CHANGED] = ROW(SK_UNIT_ATTENTION, 0x2a, 0x09),
    [SR_UA_CMDS_CLEARED] = ROW(SK_UNIT_ATTENTION, 0x2f, 0x00),
    [SR_UA_INQUIRY_CHANGED] = ROW(SK_UNIT_ATTENTION, 0x3f, 0x03),
    [SR_UA_LUNS_CHANGED] = ROW(SK_UNIT_ATTENTION, 0x3f, 0x0e),
};

const struct scsi_sense_row *scsi_reason_row(enum scsi_reason r)
{
	if ((unsigned)r >= SR__COUNT)
		r = SR_HARDWARE_ERROR;
	return &rows[r];
}

bool scsi_reason_is_ua(enum scsi_reason r)
{
	return r >= SR_UA_POWER_ON && r <= SR_UA_LUNS_CHANGED;
}

/* Sense-key specific bytes for ILLEGAL REQUEST (SPC-4 4.5.2.4.2): SKSV,
 * C/D (1 = CDB, 0 = parameter list), BPV, BIT POINTER, FIELD POINTER. */
static void put_sks(const struct scsi_result *res, uint8_t *p)
{
	p[0] = 0x80;
	/* SPC-4 4.5.2.4.4: NOT READY carries a PROGRESS INDICATION (field) */
	if (res->reason == SR_INVALID_CDB_FIELD ||
	    (res->cd && res->reason != SR_SANITIZE_IN_PROGRESS))
		p[0] |= 0x40;
	if (res->bpv)
		p[0] |= 0x08 | (res->bit & 0x07);
	p[1] = (uint8_t)(res->field >> 8);
	p[2] = (uint8_t)res->field;
}

uint8_t scsi_sense_build(const struct scsi_result *res, bool desc, uint8_t *buf, size_t cap)
{
	const struct scsi_sense_row *row = scsi_reason_row(res->reason);

	if ((row->status != SCSI_STATUS_CHECK_CONDITION && res->reason != SR_NO_SENSE) || cap < 32)
		return 0;
	memset(buf, 0, 32);
	if (!desc) {
		/* SPC-4 4.5.3 fixed format: 18 bytes, ADDITIONAL SENSE LENGTH 10 */
		buf[0] = 0x70;
		buf[2] = row->key;
		if (res->info_valid) {
			buf[0] |= 0x80;
			buf[3] = (uint8_t)(res->info >> 24);
			buf[4] = (uint8_t)(res->info >> 16);
			buf[5] = (uint8_t)(res->info >> 8);
			buf[6] = (uint8_t)res->info;
		}
		buf[7] = 10;
		buf[12] = row->asc;
		buf[13] = row->ascq;
		if (res->sksv)
			put_sks(res, buf + 15);
		return 18;
	}
	/* SPC-4 4.5.2 descriptor format */
	uint8_t n = 8;
	buf[0] = 0x72;
	buf[1] = row->key;
	buf[2] = row->asc;
	buf[3] = row->ascq;
	if (res->info_valid) {
		/* 4.5.2.2 information descriptor */
		buf[n] = 0x00;
		buf[n + 1] = 0x0a;
		buf[n + 2] = 0x80;
		for (int i = 0; i < 8; i++)
			buf[n + 4 + i] = (uint8_t)(res->info >> (56 - 8 * i));
		n += 12;
	}
	if (res->sksv) {
		/* 4.5.2.4 sense key specific descriptor */
		buf[n] = 0x02;
		buf[n + 1] = 0x06;
		put_sks(res, buf + n + 4);
		n += 8;
	}
	buf[7] = (uint8_t)(n - 8);
	return n;
}

enum scsi_reason scsi_reason_from_errno(int err, bool is_write)
{
	switch (err) {
	case 0:
		return SR_OK;
	case -ENOMEM:
	case -EAGAIN:
		return SR_BUSY;
	case -ENOSPC:
	case -EDQUOT:
		/* SBC-4 4.7.3.6: thin provisioning exhausted */
		return SR_SPACE_ALLOC_FAILED;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		return SR_WRITE_PROTECTED;
	case -EIO:
	case -EILSEQ:
	case -ENODATA:
		return is_write ? SR_WRITE_ERROR : SR_READ_ERROR;
	default:
		return SR_HARDWARE_ERROR;
	}
}
