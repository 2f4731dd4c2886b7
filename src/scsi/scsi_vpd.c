// SPDX-License-Identifier: MIT
/*
 * Vital product data pages (SPC-4 7.8, SBC-4 6.6): 00h, 80h, 83h, 86h, 8Fh,
 * B0h, B1h, B2h.
 *
 * NAA designator: NAA 6 (IEEE Registered Extended, SPC-4 7.8.6.6.5) with the
 * 24-bit company identifier 0x5A5444. That is NOT an IEEE-assigned OUI: it is
 * a locally administered CID (low nibble of the first octet 1010b, SPC-4 and
 * IEEE "CID" rules), chosen so the identifiers never collide with a real
 * vendor's. The 100 remaining bits are FNV-1a hashes of the unit serial, so
 * the identifier is stable across restarts and unique per serial.
 */
#include <stdio.h>
#include <string.h>

#include "scsi_atomic.h"
#include "scsi_blk.h"
#include "scsi_priv.h"
#include "scsi_sanitize.h"
#include "targetd/util.h"

#define TARGETD_CID 0x5a5444u

static uint64_t fnv1a64(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Designation descriptor header (SPC-4 7.8.6.1). */
static size_t desig(uint8_t *p, uint8_t proto_codeset, uint8_t piv_assoc_type, uint8_t len)
{
	p[0] = proto_codeset;
	p[1] = piv_assoc_type;
	p[2] = 0;
	p[3] = len;
	return 4;
}

void scsi_vpd_naa(const struct scsi_lu *lu, uint8_t out[16])
{
	uint64_t h1 = fnv1a64(lu->serial, 0xcbf29ce484222325ull);
	uint64_t h2 = fnv1a64(lu->serial, h1 ^ 0x5a5444ull);

	/* NAA 6: NAA(4) CID(24) VENDOR SPECIFIC ID(36) | EXTENSION(64) */
	put_be64(out, (uint64_t)6 << 60 | (uint64_t)TARGETD_CID << 36 | (h1 & 0xfffffffffull));
	put_be64(out + 8, h2);
}

static int vpd83(struct scsi_task *t, uint8_t *b, size_t cap)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	struct scsi_nexus *nx = t->nexus;
	size_t n = 4;
	char name[300];
	size_t sl;

	n += desig(b + n, 0x01, 0x03, 16);
	scsi_vpd_naa(lu, b + n);
	n += 16;

	/* T10 vendor ID based (7.8.6.4): vendor + serial, ASCII */
	sl = strlen(lu->serial);
	if (sl > 64)
		sl = 64;
	n += desig(b + n, 0x02, 0x01, (uint8_t)(8 + sl));
	memcpy(b + n, lu->vendor, 8);
	memcpy(b + n + 8, lu->serial, sl);
	n += 8 + sl;

	/* Target port: relative target port (7.8.6.7), PIV=1, assoc 01b,
	 * protocol iSCSI (5) */
	n += desig(b + n, 0x51, 0x80 | 0x10 | 0x04, 4);
	memset(b + n, 0, 4);
	put_be16(b + n + 2, nx->rel_port);
	n += 4;

	/* Target port group (7.8.6.8): the portal group */
	n += desig(b + n, 0x51, 0x80 | 0x10 | 0x05, 4);
	memset(b + n, 0, 4);
	put_be16(b + n + 2, nx->tpgt);
	n += 4;

	/* SCSI name strings (7.8.6.11), UTF-8, NUL-terminated, padded to a
	 * multiple of 4: target port name "<iqn>,t,0x<tpgt>" (RFC 7143
	 * 13.2) and the target device name */
	for (int which = 0; which < 2; which++) {
		if (which == 0)
			snprintf(name, sizeof(name), "%s,t,0x%04x", nx->target->name, nx->tpgt);
		else
			snprintf(name, sizeof(name), "%s", nx->target->name);
		size_t l = strlen(name) + 1;
		size_t pl = (l + 3) & ~(size_t)3;
		if (pl > 252 || n + 4 + pl > cap)
			continue;
		n += desig(b + n, 0x53, (uint8_t)(0x80 | (which == 0 ? 0x10 : 0x20) | 0x08),
			   (uint8_t)pl);
		memset(b + n, 0, pl);
		memcpy(b + n, name, l);
		n += pl;
	}
	return (int)n;
}

int scsi_vpd_build(struct scsi_task *t, uint8_t page, uint8_t *b, size_t cap)
{
	static const uint8_t pages[] = {0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb1, 0xb2};
	struct scsi_lu *lu = scsi_tp(t)->lu;
	const struct bdev_info *bi = bdev_get_info(lu->bdev);
	int n;

	memset(b, 0, 64);
	b[0] = 0x00; /* qualifier 000b, direct access block device */
	b[1] = page;
	switch (page) {
	case 0x00: /* SPC-4 7.8.13 supported VPD pages */
		memcpy(b + 4, pages, sizeof(pages));
		n = 4 + (int)sizeof(pages);
		break;
	case 0x80: { /* SPC-4 7.8.15 unit serial number */
		size_t sl = strlen(lu->serial);
		if (sl > 250)
			sl = 250;
		memcpy(b + 4, lu->serial, sl);
		n = 4 + (int)sl;
		break;
	}
	case 0x83: /* SPC-4 7.8.6 device identification */
		n = vpd83(t, b, cap);
		break;
	case 0x86: /* SPC-4 7.8.7 extended INQUIRY data */
		/* HEADSUP, ORDSUP, SIMPSUP: all three task attributes are
		 * honoured (SAM-5 8.6). V_SUP: a volatile cache exists when
		 * WCE=1. */
		b[5] = 0x04 | 0x02 | 0x01;
		b[6] = lu->write_cache ? 0x01 : 0x00;
		n = 64;
		break;
	case 0x8f: { /* SPC-4 7.8.17 third-party copy: the Supported
		      * Commands descriptor (0001h, table 607) lists EXTENDED
		      * COPY(LID1) and RECEIVE COPY RESULTS (scsi_xcopy.c) */
		static const uint8_t cmds[] = {0x83, 1, 0x00, 0x84, 2, 0x00, 0x03};
		uint8_t *d = b + 4;
		size_t dl = (5 + sizeof(cmds) + 3) & ~(size_t)3; /* padded to 4 */
		memset(d, 0, dl);
		put_be16(d, 0x0001);
		put_be16(d + 2, (uint16_t)(dl - 4));
		d[4] = sizeof(cmds);
		memcpy(d + 5, cmds, sizeof(cmds));
		n = 4 + (int)dl;
		break;
	}
	case 0xb0: { /* SBC-4 6.6.4 block limits */
		uint32_t gran = bi->opt_io > lu->block_size ? bi->opt_io / lu->block_size : 1;
		/* WSNZ=1: WRITE SAME with 0 blocks is rejected */
		b[4] = 0x01;
		b[5] = SCSI_CAW_MAX_BLOCKS; /* MAXIMUM COMPARE AND WRITE LENGTH */
		put_be16(b + 6, (uint16_t)UTIL_MIN(gran, 0xffffu));
		put_be32(b + 8, SCSI_XFER_MAX / lu->block_size);
		put_be32(b + 12,
			 bi->opt_io ? UTIL_MIN(bi->opt_io, SCSI_XFER_MAX) / lu->block_size : 0);
		if (scsi_blk_lbpme(lu)) {
			/* MAXIMUM UNMAP LBA COUNT / BLOCK DESCRIPTOR COUNT,
			 * OPTIMAL UNMAP GRANULARITY (the physical block) */
			uint32_t ug =
			    bi->phys_io > lu->block_size ? bi->phys_io / lu->block_size : 1;
			put_be32(b + 20, SCSI_UNMAP_MAX_BLOCKS);
			put_be32(b + 24, SCSI_UNMAP_MAX_DESC);
			put_be32(b + 28, ug);
		}
		/* MAXIMUM WRITE SAME LENGTH */
		put_be64(b + 36, SCSI_WS_MAX_BLOCKS);
		/* SBC-4 6.6.4: MAXIMUM ATOMIC TRANSFER LENGTH, ATOMIC ALIGNMENT,
		 * ATOMIC TRANSFER LENGTH GRANULARITY (0 = no WRITE ATOMIC);
		 * atomic boundaries are not supported (bytes 56-63 zero) */
		struct scsi_atomic_lim al;
		scsi_atomic_limits(lu, &al);
		put_be32(b + 44, al.max);
		put_be32(b + 48, al.align);
		put_be32(b + 52, al.gran);
		n = 64;
		break;
	}
	case 0xb1: /* SBC-4 6.6.2 block device characteristics: rotation rate
		    * 1 = non-rotating for memory; 0 = not reported otherwise
		    * (the backend does not say) */
		put_be16(b + 4, bi->volatile_media ? 1 : 0);
		/* WABEREQ 01b: after a BLOCK ERASE reads succeed (the blocks
		 * are deallocated and read as zeroes), SBC-4 6.6.2 */
		if (scsi_sanitize_block_erase_avail(lu))
			b[7] |= 0x40;
		n = 64;
		break;
	case 0xb2: /* SBC-4 6.6.5 logical block provisioning */
		if (scsi_blk_lbpme(lu)) {
			/* LBPU (UNMAP), LBPWS (WRITE SAME(16) UNMAP), LBPWS10;
			 * LBPRZ 001b when deallocated blocks read as zeroes;
			 * ANC_SUP=0, DP=0; PROVISIONING TYPE 010b (thin) */
			b[5] = 0x80 | 0x40 | 0x20 | (scsi_blk_lbprz(lu) ? 0x04 : 0);
			b[6] = 0x02;
		}
		n = 8;
		break;
	default:
		return -1;
	}
	put_be16(b + 2, (uint16_t)(n - 4));
	return n;
}
