/* SPDX-License-Identifier: MIT */
/*
 * Block command helpers shared by the SBC-4 command files beyond plain
 * READ/WRITE (scsi_sbc_ws.c, scsi_caw.c, scsi_verify.c, ...): CDB field
 * decoding, LBA range locks, and multi-step backend I/O. Loop thread only.
 */
#ifndef TARGETD_SCSI_BLK_H
#define TARGETD_SCSI_BLK_H

#include "scsi_priv.h"

/* Largest scratch buffer a chunked command (WRITE SAME pattern, VERIFY
 * medium verification) uses per step. */
#define SCSI_BLK_CHUNK (1u << 20)

/* The LOGICAL BLOCK ADDRESS and the length field of a 10, 12 or 16 byte
 * SBC-4 CDB in the common layout (10: LBA 2-5, length 7-8; 12: LBA 2-5,
 * length 6-9; 16: LBA 2-9, length 10-13). *len_byte is the field's offset
 * (for the field pointer). */
void scsi_blk_cdb_lba(const struct scsi_task *t, uint64_t *lba, uint32_t *nblk, uint16_t *len_byte);
/* SBC-4 4.5 overflow-safe check that [lba, lba + nblk) lies within the LU. */
bool scsi_blk_in_range(const struct scsi_lu *lu, uint64_t lba, uint64_t nblk);
/* Data-out bytes actually received for the task (0 if none). */
uint32_t scsi_blk_data_out(const struct scsi_task *t);
/* Is buf all zero bytes? */
bool scsi_blk_is_zero(const uint8_t *buf, size_t len);
/* Allocates the task's scratch buffer (tp->xbuf, freed at completion). */
enum scsi_reason scsi_blk_xbuf(struct scsi_task *t, uint32_t len);

/* Submits one backend I/O for the task; step(t, res) runs on completion
 * (never inside this call). For READ/WRITE buf holds len bytes. If the task
 * has been aborted meanwhile, step is not called: the task completes. */
void scsi_blk_io(struct scsi_task *t, enum bdev_op op, uint64_t lba, uint64_t nblk, void *buf,
		 uint32_t flags, void (*step)(struct scsi_task *t, int res));
/* As scsi_blk_io, on another LU's backend (EXTENDED COPY); the task stays
 * the task of its own LU. */
void scsi_blk_io_lu(struct scsi_task *t, struct scsi_lu *lu, enum bdev_op op, uint64_t lba,
		    uint64_t nblk, void *buf, uint32_t flags,
		    void (*step)(struct scsi_task *t, int res));
/* Completes after a failed backend I/O: reason from errno, INFORMATION = the
 * first LBA of the failed request (SBC-4 4.14). */
void scsi_blk_fail(struct scsi_task *t, int res);
/* BDEV_IO_FUA when the command asked for FUA or the LU writes through. */
uint32_t scsi_blk_wflags(const struct scsi_lu *lu, bool fua);

/* ---- LBA range locks (scsi_rl.c) ---------------------------------------- */
/* Takes [lba, lba + nblk) for the task, shared or exclusive. Returns
 * cont(t) when granted at once; else SR_PENDING, and cont runs later from a
 * deferred call (a result other than SR_PENDING then completes the task).
 * The range is released when the task completes. */
enum scsi_reason scsi_rl_acquire(struct scsi_task *t, uint64_t lba, uint64_t nblk, bool excl,
				 enum scsi_reason (*cont)(struct scsi_task *t));
void scsi_rl_release(struct scsi_task *t);

/* ---- handlers ------------------------------------------------------------ */
/* READ/WRITE 6/10/12/16 under a shared range lock (scsi_blk.c) */
enum scsi_reason scsi_blk_rw(struct scsi_task *t);
/* scsi_sbc_ws.c */
enum scsi_reason scsi_sbc_write_same(struct scsi_task *t);
enum scsi_reason scsi_sbc_unmap(struct scsi_task *t);
enum scsi_reason scsi_sbc_get_lba_status(struct scsi_task *t);
/* scsi_caw.c */
enum scsi_reason scsi_sbc_caw(struct scsi_task *t);
enum scsi_reason scsi_sbc_orwrite(struct scsi_task *t);
/* scsi_verify.c */
enum scsi_reason scsi_sbc_verify(struct scsi_task *t);
enum scsi_reason scsi_sbc_write_verify(struct scsi_task *t);
enum scsi_reason scsi_sbc_prefetch(struct scsi_task *t);
/* scsi_mode.c: builds mode page `page` (08h, 0Ah) for page control pc
 * into p; returns its length, 0 if the page is not supported. */
size_t scsi_mode_page(const struct scsi_lu *lu, uint8_t page, int pc, uint8_t *p);
/* scsi_modesel.c */
enum scsi_reason scsi_spc_mode_select(struct scsi_task *t);
/* scsi_xcopy.c: EXTENDED COPY (LID1), RECEIVE COPY RESULTS */
enum scsi_reason scsi_spc_xcopy(struct scsi_task *t);
enum scsi_reason scsi_spc_copy_results(struct scsi_task *t);
/* Drops the references an EXTENDED COPY task holds on its LUs. */
void scsi_xcopy_task_fini(struct scsi_task *t);
/* scsi_vpd.c: the LU's NAA 6 designator (VPD 83h), 16 bytes */
void scsi_vpd_naa(const struct scsi_lu *lu, uint8_t out[16]);
/* scsi_defect.c */
enum scsi_reason scsi_sbc_read_defect(struct scsi_task *t);

/* Limits reported in VPD B0h and enforced by the handlers (SBC-4 6.6.4). */
/* MAXIMUM WRITE SAME LENGTH in blocks: the largest count a WRITE SAME(10)
 * can express; zeroing and unmapping are single backend requests, a
 * non-zero pattern is written in SCSI_BLK_CHUNK pieces */
#define SCSI_WS_MAX_BLOCKS 0xffffu
#define SCSI_UNMAP_MAX_BLOCKS (1u << 20) /* MAXIMUM UNMAP LBA COUNT */
#define SCSI_UNMAP_MAX_DESC 256u /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
#define SCSI_CAW_MAX_BLOCKS 255u /* MAXIMUM COMPARE AND WRITE LENGTH */
/* Does the LU do logical block provisioning (LBPME, SBC-4 4.7.3.1)? */
bool scsi_blk_lbpme(const struct scsi_lu *lu);
/* Do unmapped blocks read as zeroes (LBPRZ)? */
bool scsi_blk_lbprz(const struct scsi_lu *lu);

#endif
