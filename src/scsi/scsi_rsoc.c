// SPDX-License-Identifier: MIT
/*
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), answered from the command
 * table (scsi_cdb.c), so what is reported is exactly what is dispatched.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"
#include "targetd/util.h"

/* SPC-4 6.35.4 command timeouts descriptor: 0 = not specified */
static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, 12);
	put_be16(p, 0x0a);
	return 12;
}

static enum scsi_reason report_all(struct scsi_task *t, bool rctd, uint32_t alloc)
{
	size_t n;
	const struct scsi_cmd *tab = scsi_cdb_table(&n);
	const struct scsi_lu *lu = scsi_tp(t)->lu;
	size_t per = rctd ? 20 : 8, len = 4 + n * per, k = 0;
	uint8_t *b = calloc(1, len);
	enum scsi_reason r;

	if (!b)
		return SR_BUSY;
	for (size_t i = 0; i < n; i++) {
		/* only what this LU dispatches (scsi_cmd_avail) */
		if (!scsi_cmd_avail(&tab[i], lu))
			continue;
		uint8_t *d = b + 4 + k++ * per;
		d[0] = tab[i].opcode;
		if (tab[i].sa >= 0) {
			put_be16(d + 2, (uint16_t)tab[i].sa);
			d[5] |= 0x01; /* SERVACTV */
		}
		if (rctd) {
			d[5] |= 0x02; /* CTDP */
			put_timeouts(d + 8);
		}
		put_be16(d + 6, tab[i].len);
	}
	len = 4 + k * per;
	put_be32(b, (uint32_t)(len - 4));
	r = scsi_data_in(t, b, (uint32_t)len, alloc);
	free(b);
	return r;
}

static enum scsi_reason report_one(struct scsi_task *t, uint8_t opts, bool rctd, uint32_t alloc)
{
	uint8_t op = t->cdb[3];
	uint16_t sa = get_be16(t->cdb + 4);
	const struct scsi_cmd *tab, *c = NULL;
	bool has_sa = false;
	size_t n;
	uint8_t b[64] = {0};
	size_t len;

	tab = scsi_cdb_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (tab[i].opcode != op || !scsi_cmd_avail(&tab[i], scsi_tp(t)->lu))
			continue;
		has_sa |= tab[i].sa >= 0;
		if (tab[i].sa < 0 || (uint16_t)tab[i].sa == sa)
			c = &tab[i];
	}
	/* SPC-4 6.35.1: 001b asks for an opcode without service actions,
	 * 010b for one with them; asking the wrong way is an invalid field */
	if (opts == 1 && has_sa)
		return scsi_bad_cdb(t, 2, 2);
	if (opts == 2 && !has_sa && c)
		return scsi_bad_cdb(t, 2, 2);
	if (!c) {
		b[1] = 0x01; /* SUPPORT 001b: not supported */
		return scsi_data_in(t, b, 4, alloc);
	}
	b[1] = 0x03 | (rctd ? 0x80 : 0); /* SUPPORT 011b: as in the standard */
	put_be16(b + 2, c->len);
	memcpy(b + 4, c->usage, c->len);
	b[4] = c->opcode;
	if (c->sa >= 0)
		b[5] = (uint8_t)((c->usage[1] & ~0x1fu) | (unsigned)c->sa);
	len = 4u + c->len;
	if (rctd)
		len += put_timeouts(b + len);
	return scsi_data_in(t, b, (uint32_t)len, alloc);
}

enum scsi_reason scsi_spc_report_opcodes(struct scsi_task *t)
{
	bool rctd = t->cdb[2] & 0x80;
	uint8_t opts = t->cdb[2] & 0x07;
	uint32_t alloc = get_be32(t->cdb + 6);

	switch (opts) {
	case 0:
		return report_all(t, rctd, alloc);
	case 1:
	case 2:
	case 3:
		return report_one(t, opts, rctd, alloc);
	default:
		return scsi_bad_cdb(t, 2, 2);
	}
}
