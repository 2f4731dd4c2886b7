// SPDX-License-Identifier: MIT
/*
 * The persistent reservation hook (SPC-4 5.9.1, table 64 conflict rules).
 * The pr engine is built separately; until it is wired in no reservation can
 * exist (PERSISTENT RESERVE IN/OUT answer INVALID COMMAND OPERATION CODE), so
 * every command is allowed.
 */
#include "scsi_priv.h"

enum scsi_reason scsi_pr_access(struct scsi_nexus *nx, struct scsi_lu *lu, const struct scsi_cmd *c,
				const uint8_t *cdb)
{
	(void)nx;
	(void)lu;
	(void)c;
	(void)cdb;
	return SR_OK;
}
