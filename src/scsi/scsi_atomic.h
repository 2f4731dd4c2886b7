/* SPDX-License-Identifier: MIT */
/*
 * WRITE ATOMIC(16) and its limits (scsi_atomic.c, SBC-4 5.48, 6.6.4).
 */
#ifndef TARGETD_SCSI_ATOMIC_H
#define TARGETD_SCSI_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#include "scsi_priv.h"

/* VPD B0h atomic fields, in logical blocks; all 0 when the LU cannot write
 * atomically (backend without untorn writes). */
struct scsi_atomic_lim {
	uint32_t max; /* MAXIMUM ATOMIC TRANSFER LENGTH */
	uint32_t align; /* ATOMIC ALIGNMENT */
	uint32_t gran; /* ATOMIC TRANSFER LENGTH GRANULARITY */
};

void scsi_atomic_limits(const struct scsi_lu *lu, struct scsi_atomic_lim *l);
/* Is WRITE ATOMIC(16) supported on this LU (dispatch and RSOC agree)? */
bool scsi_atomic_supported(const struct scsi_lu *lu);
enum scsi_reason scsi_sbc_write_atomic(struct scsi_task *t);

#endif
