/* SPDX-License-Identifier: MIT */
/*
 * SANITIZE (scsi_sanitize.c, SBC-4 5.30).
 */
#ifndef TARGETD_SCSI_SANITIZE_H
#define TARGETD_SCSI_SANITIZE_H

#include "scsi_priv.h"

/* SBC-4 table: SANITIZE service actions */
#define SAN_OVERWRITE 0x01
#define SAN_BLOCK_ERASE 0x02
#define SAN_EXIT_FAILURE_MODE 0x1f

enum scsi_reason scsi_sbc_sanitize(struct scsi_task *t);
/* per-LU availability of the service actions (command table) */
bool scsi_sanitize_overwrite_avail(const struct scsi_lu *lu);
bool scsi_sanitize_block_erase_avail(const struct scsi_lu *lu);
/* dispatch: NOT READY / SANITIZE IN PROGRESS, or sanitize failure mode */
enum scsi_reason scsi_sanitize_check(struct scsi_task *t, struct scsi_lu *lu,
				     const struct scsi_cmd *c);
/* PROGRESS INDICATION (fraction of 65536) of the LU's sanitize, 0 if none */
uint16_t scsi_sanitize_progress(const struct scsi_lu *lu);
/* LU teardown: drop the state of an operation still running */
void scsi_sanitize_lu_fini(struct scsi_lu *lu);

#endif
