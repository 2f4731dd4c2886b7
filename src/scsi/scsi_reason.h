/* SPDX-License-Identifier: MIT */
/*
 * The SCSI outcome channel: command code returns a reason, and one table in
 * scsi_sense.c turns it into status + sense key + ASC/ASCQ (SPC-4 4.5,
 * table 47 "ASC and ASCQ assignments"). Nothing else writes sense bytes.
 */
#ifndef TARGETD_SCSI_REASON_H
#define TARGETD_SCSI_REASON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum scsi_reason {
	SR_OK = 0,
	SR_PENDING, /* not an outcome: handler submitted backend I/O */
	SR_NO_SENSE, /* 00/00/00, REQUEST SENSE with nothing to report */
	SR_INVALID_OPCODE, /* 05/20/00 */
	SR_INVALID_CDB_FIELD, /* 05/24/00, with field pointer */
	SR_INVALID_PARAM_FIELD, /* 05/26/00, with field pointer */
	SR_PARAM_LIST_LENGTH, /* 05/1A/00 */
	SR_INVALID_IU_FIELD, /* 05/0E/03 INVALID FIELD IN COMMAND INFORMATION UNIT */
	SR_LBA_OUT_OF_RANGE, /* 05/21/00 */
	SR_LUN_NOT_SUPPORTED, /* 05/25/00 */
	SR_SAVING_PARAMS_UNSUP, /* 05/39/00 */
	SR_INVALID_MESSAGE, /* 05/49/00 */
	SR_INSUFFICIENT_REG_RES, /* 05/55/04 */
	SR_INVALID_RELEASE, /* 05/26/04 INVALID RELEASE OF PERSISTENT RESERVATION */
	SR_PR_INFO_LOST, /* 07/44/01 PERSISTENT RESERVATION INFORMATION LOST */
	SR_WRITE_PROTECTED, /* 07/27/00 */
	SR_SW_WRITE_PROTECTED, /* 07/27/02 LOGICAL UNIT SOFTWARE WRITE PROTECTED (SWP) */
	SR_SPACE_ALLOC_FAILED, /* 07/27/07 */
	SR_READ_ERROR, /* 03/11/00 UNRECOVERED READ ERROR */
	SR_WRITE_ERROR, /* 03/0C/00 WRITE ERROR */
	SR_HARDWARE_ERROR, /* 04/44/00 INTERNAL TARGET FAILURE */
	SR_MISCOMPARE, /* 0E/1D/00 */
	SR_RESERVATION_CONFLICT, /* status 18h, no sense */
	SR_BUSY, /* status 08h, no sense (out of resources) */
	SR_TOO_MANY_TGT_DESC, /* 05/26/06 TOO MANY TARGET DESCRIPTORS */
	SR_UNSUPP_TGT_DESC, /* 05/26/07 UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
	SR_TOO_MANY_SEG_DESC, /* 05/26/08 TOO MANY SEGMENT DESCRIPTORS */
	SR_UNSUPP_SEG_DESC, /* 05/26/09 UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE */
	SR_COPY_ABORTED, /* 0A/00/00 EXTENDED COPY failed while copying */
	SR_COPY_TARGET_UNREACHABLE, /* 0A/0D/02 COPY TARGET DEVICE NOT REACHABLE */
	SR_SANITIZE_IN_PROGRESS, /* 02/04/1B LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS
				  * (sense key specific: progress indication in field) */
	SR_SANITIZE_FAILED, /* 03/31/03 SANITIZE COMMAND FAILED */
	SR_NOT_READY_INIT_REQUIRED, /* 02/04/02 LOGICAL UNIT NOT READY, INITIALIZING COMMAND
				     * REQUIRED (stopped by START STOP UNIT) */
	SR_UA_POWER_ON, /* 06/29/00 POWER ON, RESET, OR BUS DEVICE RESET OCCURRED */
	SR_UA_BUS_RESET, /* 06/29/02 SCSI BUS RESET OCCURRED (hard reset) */
	SR_UA_LU_RESET, /* 06/29/03 BUS DEVICE RESET FUNCTION OCCURRED */
	SR_UA_NEXUS_LOSS, /* 06/29/07 I_T NEXUS LOSS OCCURRED */
	SR_UA_MODE_CHANGED, /* 06/2A/01 MODE PARAMETERS CHANGED */
	SR_UA_RES_PREEMPTED, /* 06/2A/03 RESERVATIONS PREEMPTED */
	SR_UA_RES_RELEASED, /* 06/2A/04 RESERVATIONS RELEASED */
	SR_UA_REG_PREEMPTED, /* 06/2A/05 REGISTRATIONS PREEMPTED */
	SR_UA_CAPACITY_CHANGED, /* 06/2A/09 CAPACITY DATA HAS CHANGED */
	SR_UA_CMDS_CLEARED, /* 06/2F/00 COMMANDS CLEARED BY ANOTHER INITIATOR */
	SR_UA_INQUIRY_CHANGED, /* 06/3F/03 INQUIRY DATA HAS CHANGED */
	SR_UA_LUNS_CHANGED, /* 06/3F/0E REPORTED LUNS DATA HAS CHANGED */
	SR__COUNT,
};

/* A reason plus the details SPC-4 4.5.2.4.2 (field pointer) and 4.5.2.2
 * (INFORMATION) let the sense data carry. */
struct scsi_result {
	enum scsi_reason reason;
	uint16_t field; /* byte offset in CDB / parameter list */
	uint8_t bit; /* bit pointer 0..7 */
	bool sksv; /* field pointer valid */
	bool cd; /* field pointer is into the CDB (C/D=1) for reasons other than
		  * SR_INVALID_CDB_FIELD (e.g. SR_INVALID_RELEASE) */
	bool bpv; /* bit pointer valid */
	bool info_valid;
	uint64_t info;
};

struct scsi_sense_row {
	uint8_t status;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

const struct scsi_sense_row *scsi_reason_row(enum scsi_reason r);
bool scsi_reason_is_ua(enum scsi_reason r);
/* Builds sense data for res into buf (>= 32 bytes): descriptor format (72h)
 * when desc, else fixed format (70h). Returns the length (0 if the reason has
 * no sense data). SPC-4 4.5.2 / 4.5.3. */
uint8_t scsi_sense_build(const struct scsi_result *res, bool desc, uint8_t *buf, size_t cap);
/* The one place -errno from the backend turns into a reason. */
enum scsi_reason scsi_reason_from_errno(int err, bool is_write);

#endif
