/* SPDX-License-Identifier: MIT */
/* Data-In splitting and residual computation (RFC 7143 11.4.5, 11.7). Pure. */
#include "iscsi_conn.h"
#include "targetd/util.h"

struct iscsi_residual iscsi_residual(uint32_t edtl, uint32_t xfer_len)
{
	struct iscsi_residual r = {0, 0};

	/* 11.4.5.1: Residual Overflow: the command wanted to move more than the
	 * initiator expected; Underflow: less than expected. */
	if (xfer_len > edtl) {
		r.flags = ISCSI_RSP_FLAG_OVERFLOW;
		r.count = xfer_len - edtl;
	} else if (xfer_len < edtl) {
		r.flags = ISCSI_RSP_FLAG_UNDERFLOW;
		r.count = edtl - xfer_len;
	}
	return r;
}

bool iscsi_datain_seg(uint32_t len, uint32_t mrdsl, uint32_t max_burst, uint32_t i, uint32_t *off,
		      uint32_t *seg, bool *final)
{
	uint64_t per_burst, burst, j, bstart, bend, o;

	if (!mrdsl || !max_burst)
		return false;
	/* 11.7.2: a Data-In sequence (burst) is at most MaxBurstLength; each PDU
	 * at most the initiator's MaxRecvDataSegmentLength; F ends a sequence. */
	per_burst = ((uint64_t)max_burst + mrdsl - 1) / mrdsl;
	burst = i / per_burst;
	j = i % per_burst;
	bstart = burst * max_burst;
	if (bstart >= len)
		return false;
	bend = UTIL_MIN((uint64_t)len, bstart + max_burst);
	o = bstart + j * mrdsl;
	if (o >= bend)
		return false;
	*off = (uint32_t)o;
	*seg = (uint32_t)UTIL_MIN((uint64_t)mrdsl, bend - o);
	*final = o + *seg == bend;
	return true;
}
