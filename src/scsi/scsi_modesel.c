// SPDX-License-Identifier: MIT
/*
 * MODE SELECT(6)/(10) (SPC-4 6.9, 6.10). The changeable parameters are WCE
 * in the caching mode page (SBC-4 6.5.5) and D_SENSE and SWP in the control
 * mode page (SPC-4 7.5.8); MODE SENSE reports exactly those as changeable (page
 * control 01b). Every other field must equal its current value. The whole
 * parameter list is checked before anything changes; a change establishes
 * MODE PARAMETERS CHANGED for the other I_T nexuses (SPC-4 6.9.1, SAM-5
 * 5.14).
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

static enum scsi_reason bad_param(struct scsi_task *t, size_t byte, int bit)
{
	struct scsi_result *res = &scsi_tp(t)->res;

	res->sksv = true;
	res->cd = false;
	res->field = (uint16_t)byte;
	res->bpv = bit >= 0;
	res->bit = bit >= 0 ? (uint8_t)bit : 0;
	return SR_INVALID_PARAM_FIELD;
}

static int top_bit(uint8_t v)
{
	int b = 7;

	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

enum scsi_reason scsi_spc_mode_select(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	bool ten = t->cdb[0] == 0x55;
	uint32_t plen = ten ? get_be16(t->cdb + 7) : t->cdb[4];
	size_t hl = ten ? 8 : 4;
	bool wce = lu->write_cache, dsense = lu->d_sense, swp = lu->swp;

	t->xfer_len = plen;
	/* SPC-4 6.9.1: SP=1 asks to save pages; none are saveable */
	if (t->cdb[1] & 0x01)
		return scsi_bad_cdb(t, 1, 0);
	if (plen == 0)
		return SR_OK;
	if (scsi_blk_data_out(t) < plen)
		return SR_INVALID_IU_FIELD;
	/* SPC-4 6.9.1: a list that cannot hold the header (or a truncated
	 * block descriptor or page) is a PARAMETER LIST LENGTH ERROR */
	if (plen < hl)
		return SR_PARAM_LIST_LENGTH;
	const uint8_t *p = t->buf;
	size_t bdl = ten ? get_be16(p + 6) : p[3];
	bool longlba = ten && (p[4] & 0x01);
	/* SPC-4 7.5.5: MEDIUM TYPE 00h for direct access devices */
	if (p[ten ? 2 : 1] != 0)
		return bad_param(t, ten ? 2 : 1, 7);
	if (bdl) {
		size_t dl = longlba ? 16 : 8;
		if (bdl != dl)
			return bad_param(t, ten ? 6 : 3, 7);
		if (hl + bdl > plen)
			return SR_PARAM_LIST_LENGTH;
		/* SBC-4 6.5.2: LOGICAL BLOCK LENGTH cannot change */
		uint32_t blen = longlba ? get_be32(p + hl + 12) : get_be24(p + hl + 5);
		if (blen != lu->block_size)
			return bad_param(t, hl + (longlba ? 12 : 5), 7);
	}
	for (size_t off = hl + bdl; off < plen;) {
		uint8_t cur[32], chg[32];
		if (plen - off < 2)
			return SR_PARAM_LIST_LENGTH;
		uint8_t page = p[off] & 0x3f;
		/* SPF=1 (sub-page format): no sub-pages are supported */
		if (p[off] & 0x40)
			return bad_param(t, off, 6);
		size_t n = scsi_mode_page(lu, page, 0, cur);
		if (!n)
			return bad_param(t, off, 5);
		scsi_mode_page(lu, page, 1, chg);
		/* SPC-4 7.5.7: PAGE LENGTH must be the device's */
		if (p[off + 1] != cur[1])
			return bad_param(t, off + 1, 7);
		if (plen - off < n)
			return SR_PARAM_LIST_LENGTH;
		for (size_t i = 2; i < n; i++) {
			uint8_t diff = (uint8_t)((p[off + i] ^ cur[i]) & ~chg[i]);
			if (diff)
				return bad_param(t, off + i, top_bit(diff));
		}
		/* PS (bit 7 of byte 0) is reserved in MODE SELECT: ignored */
		if (page == 0x08)
			wce = p[off + 2] & 0x04;
		else if (page == 0x0a) {
			dsense = p[off + 2] & 0x04;
			/* SPC-4 7.5.8 SWP: software write protect of the
			 * whole LU (SBC-4 4.x write protection); commands
			 * already running finish, later writes get DATA
			 * PROTECT. Volatile: not saved, 0 after a restart */
			swp = p[off + 4] & 0x08;
		}
		off += n;
	}
	if (wce == lu->write_cache && dsense == lu->d_sense && swp == lu->swp)
		return SR_OK;
	lu->write_cache = wce;
	lu->d_sense = dsense;
	lu->swp = swp;
	log_info(SCSI_LOG, "lu %s: mode select by %s: WCE=%d D_SENSE=%d SWP=%d", lu->serial,
		 t->nexus->initiator, wce, dsense, swp);
	/* SPC-4 6.9.1: other I_T nexuses get MODE PARAMETERS CHANGED */
	scsi_ua_broadcast(lu->core, lu, t->nexus, SR_UA_MODE_CHANGED);
	return SR_OK;
}
