// SPDX-License-Identifier: MIT
/*
 * MODE SENSE(6)/(10) (SPC-4 6.11, 6.12) with the caching (SBC-4 6.5.5) and
 * control (SPC-4 7.5.8) mode pages and 3Fh (all pages). MODE SELECT
 * (scsi_modesel.c) can change WCE, D_SENSE and SWP, reported as changeable;
 * saved values do not exist (SAVING PARAMETERS NOT SUPPORTED).
 */
#include <string.h>

#include "scsi_blk.h"
#include "scsi_priv.h"
#include "targetd/util.h"

enum {
	PC_CURRENT = 0,
	PC_CHANGEABLE = 1,
	PC_DEFAULT = 2,
	PC_SAVED = 3
};

static size_t page_caching(const struct scsi_lu *lu, int pc, uint8_t *p)
{
	memset(p, 0, 20);
	p[0] = 0x08; /* PS=0: not saveable */
	p[1] = 0x12;
	/* WCE is changeable with MODE SELECT (scsi_modesel.c) */
	if (pc == PC_CHANGEABLE || (pc == PC_CURRENT && lu->write_cache) ||
	    (pc == PC_DEFAULT && lu->write_cache_default))
		p[2] = 0x04;
	return 20;
}

static size_t page_control(const struct scsi_lu *lu, int pc, uint8_t *p)
{
	memset(p, 0, 12);
	p[0] = 0x0a;
	p[1] = 0x0a;
	if (pc == PC_CHANGEABLE) {
		p[2] = 0x04; /* D_SENSE is changeable (scsi_modesel.c) */
		p[4] = 0x08; /* SWP likewise */
		return 12;
	}
	/* TST=000b (one task set shared by all I_T nexuses), D_SENSE
	 * (default 0: fixed format) */
	p[2] = pc == PC_CURRENT && lu->d_sense ? 0x04 : 0x00;
	/* QUEUE ALGORITHM MODIFIER=1 (unrestricted reordering), QERR=00b */
	p[3] = 0x10;
	/* TAS=0: aborted tasks of other nexuses get no TASK ABORTED status;
	 * SWP (software write protect, default 0, volatile) */
	p[4] = pc == PC_CURRENT && lu->swp ? 0x08 : 0x00;
	put_be16(p + 8, 0xffff); /* BUSY TIMEOUT PERIOD: unlimited */
	return 12;
}

size_t scsi_mode_page(const struct scsi_lu *lu, uint8_t page, int pc, uint8_t *p)
{
	switch (page) {
	case 0x08:
		return page_caching(lu, pc, p);
	case 0x0a:
		return page_control(lu, pc, p);
	default:
		return 0;
	}
}

enum scsi_reason scsi_spc_mode_sense(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	bool ten = t->cdb[0] == 0x5a;
	bool dbd = t->cdb[1] & 0x08;
	bool llbaa = ten && (t->cdb[1] & 0x10);
	int pc = t->cdb[2] >> 6;
	uint8_t page = t->cdb[2] & 0x3f, sub = t->cdb[3];
	uint32_t alloc = ten ? get_be16(t->cdb + 7) : t->cdb[4];
	uint8_t b[128];
	size_t hl = ten ? 8 : 4, n;

	if (pc == PC_SAVED)
		return SR_SAVING_PARAMS_UNSUP;
	/* subpage 00h only; FFh is allowed with 3Fh (all pages and subpages) */
	if (sub != 0x00 && !(sub == 0xff && page == 0x3f))
		return scsi_bad_cdb(t, 3, 7);
	memset(b, 0, sizeof(b));
	n = hl;
	/* SPC-4 7.5.4 block descriptor: short (8 bytes) or, with LLBAA in
	 * MODE SENSE(10), long LBA (16 bytes) */
	if (!dbd) {
		if (llbaa) {
			put_be64(b + n, lu->nblocks);
			put_be32(b + n + 12, lu->block_size);
			n += 16;
		} else {
			put_be32(b + n,
				 lu->nblocks > 0xffffffffull ? 0xffffffffu : (uint32_t)lu->nblocks);
			put_be24(b + n + 5, lu->block_size);
			n += 8;
		}
	}
	size_t bdl = n - hl;
	switch (page) {
	case 0x08:
		n += page_caching(lu, pc, b + n);
		break;
	case 0x0a:
		n += page_control(lu, pc, b + n);
		break;
	case 0x3f:
		n += page_caching(lu, pc, b + n);
		n += page_control(lu, pc, b + n);
		break;
	default:
		return scsi_bad_cdb(t, 2, 5);
	}
	/* SBC-4 6.5.1 device-specific parameter: WP (the LU is write
	 * protected: read-only or SWP set, SBC-4 4.x), DPOFUA */
	uint8_t dsp = (uint8_t)((scsi_lu_wp(lu) ? 0x80 : 0) | 0x10);
	if (ten) {
		put_be16(b, (uint16_t)(n - 2));
		b[3] = dsp;
		b[4] = llbaa && !dbd ? 0x01 : 0x00; /* LONGLBA */
		put_be16(b + 6, (uint16_t)bdl);
	} else {
		b[0] = (uint8_t)(n - 1);
		b[2] = dsp;
		b[3] = (uint8_t)bdl;
	}
	return scsi_data_in(t, b, (uint32_t)n, alloc);
}
