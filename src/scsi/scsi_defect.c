// SPDX-License-Identifier: MIT
/*
 * READ DEFECT DATA(10)/(12) (SBC-4 5.18, 5.19). A virtual disk has no
 * defects: the primary and grown lists are returned, empty, in the format
 * asked for (short block, extended bytes from index, extended physical
 * sector, long block, bytes from index, physical sector). A reserved or
 * vendor-specific format is answered in the short block format, as SBC-4
 * 5.18 allows ("the device server shall transfer the defect data in the
 * format it supports").
 */
#include <string.h>

#include "scsi_blk.h"
#include "targetd/util.h"

static bool format_ok(uint8_t f)
{
	/* SBC-4 6.2 table 118: 000b short block, 001b extended bytes from
	 * index, 010b extended physical sector, 011b long block, 100b bytes
	 * from index, 101b physical sector; 110b vendor, 111b reserved */
	return f <= 5;
}

enum scsi_reason scsi_sbc_read_defect(struct scsi_task *t)
{
	bool twelve = t->cdb[0] == 0xb7;
	uint8_t req = twelve ? t->cdb[1] : t->cdb[2];
	uint8_t fmt = req & 0x07;
	uint32_t alloc = twelve ? get_be32(t->cdb + 6) : get_be16(t->cdb + 7);
	uint8_t b[8] = {0};

	if (!format_ok(fmt))
		fmt = 0;
	/* PLISTV / GLISTV: the lists asked for are valid (and empty) */
	uint8_t hdr = (uint8_t)((req & 0x18) | fmt);
	if (twelve) {
		/* SBC-4 5.19: 8-byte header, GENERATION 0 (not supported),
		 * DEFECT LIST LENGTH 0 */
		b[1] = hdr;
		return scsi_data_in(t, b, 8, alloc);
	}
	b[1] = hdr;
	return scsi_data_in(t, b, 4, alloc);
}
