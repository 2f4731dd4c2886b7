/* SPDX-License-Identifier: MIT */
/* CmdSN window arithmetic (RFC 7143 4.2.2.1), RFC 1982 serial numbers. */
#include "iscsi_conn.h"
#include "targetd/util.h"

enum iscsi_cmdsn_verdict iscsi_cmdsn_check(uint32_t exp, uint32_t max, uint32_t cmdsn)
{
	/* 4.2.2.1: "outside of this range [ExpCmdSN, MaxCmdSN] ... SHOULD be
	 * ignored" — silently, the session stays up. */
	if (sna32_lt(cmdsn, exp) || sna32_gt(cmdsn, max))
		return ISCSI_CMDSN_IGNORE;
	return cmdsn == exp ? ISCSI_CMDSN_NOW : ISCSI_CMDSN_HOLD;
}

uint32_t iscsi_cmdsn_max(uint32_t exp, uint32_t prev_max, uint32_t window, uint32_t busy)
{
	/* The window shrinks while commands are busy (MaxCmdSN == ExpCmdSN - 1
	 * closes it) but MaxCmdSN never moves backwards (4.2.2.1). */
	uint32_t open = busy < window ? window - busy : 0;
	uint32_t cand = exp + open - 1;

	return sna32_gt(cand, prev_max) ? cand : prev_max;
}
