/* SPDX-License-Identifier: MIT */
/*
 * scsi internals shared by the files of this module. Loop thread only.
 */
#ifndef TARGETD_SCSI_PRIV_H
#define TARGETD_SCSI_PRIV_H

#include <sys/uio.h>

#include "scsi_reason.h"
#include "targetd/bdev.h"
#include "targetd/evloop.h"
#include "targetd/scsi.h"

#define SCSI_LOG "scsi"
#define SCSI_MAX_PORTS 16
#define SCSI_UA_QUEUE 8

struct scsi_core {
	struct evl *evl;
	char *state_dir;
	uint32_t max_registrants;
	struct scsi_target *targets; /* configuration order */
	struct scsi_lu *lus;
	uint64_t task_seq; /* submission order, for TMF accounting */
	struct scsi_tmf_req **tmfs; /* TMFs waiting for aborted tasks */
	unsigned ntmfs, tmfs_cap;
};

struct scsi_port {
	uint16_t tpgt;
	uint16_t rel_id;
};

struct scsi_lun_map {
	uint64_t lun;
	struct scsi_lu *lu;
};

struct scsi_target {
	struct scsi_core *core;
	struct scsi_target *next;
	char *name;
	struct scsi_port ports[SCSI_MAX_PORTS];
	unsigned nports;
	struct scsi_lun_map *luns; /* ascending lun */
	unsigned nluns, luns_cap;
	char **acl;
	unsigned nacl;
	struct scsi_nexus *nexuses;
};

struct scsi_lu {
	struct scsi_core *core;
	struct scsi_lu *next;
	struct bdev *bdev;
	char *path;
	char *serial;
	char vendor[9];
	char product[17];
	uint32_t block_size;
	uint64_t nblocks;
	bool read_only;
	bool write_cache;
	bool d_sense; /* control mode page D_SENSE (SPC-4 7.5.8) */
	struct scsi_task *tasks; /* the task set (SAM-5 4.6.1), TST=000b: one for all nexuses */
	/* SAM-5 8.6 task attributes: tasks in the enabled state, and the
	 * dormant ones waiting (FIFO) behind an ORDERED task */
	uint32_t n_enabled;
	uint32_t n_ordered;
	struct scsi_task *dormant_head, *dormant_tail;
};

/* Per (I_T nexus, LU) state: pending unit attentions (SAM-5 5.14: a UA is
 * established per I_T_L nexus). Created at the first command of the nexus to
 * the LU with POWER ON queued: the nexus has not seen this LU since it (the
 * daemon) started. */
struct scsi_itl {
	struct scsi_itl *next;
	struct scsi_lu *lu;
	uint8_t nua;
	uint8_t ua[SCSI_UA_QUEUE]; /* enum scsi_reason, oldest first */
};

struct scsi_nexus {
	struct scsi_target *target;
	struct scsi_nexus *next;
	char *initiator;
	uint8_t isid[6];
	uint16_t tpgt;
	uint16_t rel_port;
	unsigned refs;
	/* No saved "current sense": iSCSI delivers sense with the status
	 * (autosense, SAM-5 5.13), so REQUEST SENSE reports a pending UA, or
	 * NO SENSE (SPC-4 6.39.2). */
	struct scsi_itl *itls;
};

/* Task private state, overlaid on task->priv. */
struct scsi_tpriv {
	struct scsi_lu *lu;
	struct scsi_task *next, *prev; /* in lu->tasks */
	const struct scsi_cmd *cmd;
	uint64_t seq;
	uint64_t lun;
	struct scsi_result res;
	struct evl_defer defer;
	struct iovec iov;
	bool in_set;
	bool in_io;
	bool aborted;
	bool enabled; /* counted in lu->n_enabled */
	bool dormant; /* queued on lu->dormant_* */
	struct scsi_task *dnext;
	struct bdev_io bio;
};

_Static_assert(sizeof(struct scsi_tpriv) <= sizeof(((struct scsi_task *)0)->priv),
	       "scsi_tpriv must fit in scsi_task.priv");

static inline struct scsi_tpriv *scsi_tp(struct scsi_task *t)
{
	return (struct scsi_tpriv *)(void *)&t->priv;
}

/* ---- CDB table (scsi_cdb.c) --------------------------------------------- */

enum scsi_dir {
	SCSI_DIR_NONE,
	SCSI_DIR_IN,
	SCSI_DIR_OUT
};

/* SPC-4 5.9 table 64-style classes for the persistent reservation conflict
 * table (filled in by the pr engine later). */
enum scsi_pr_class {
	SCSI_PRC_ALLOWED, /* allowed in every reservation type (INQUIRY, ...) */
	SCSI_PRC_READ, /* medium read */
	SCSI_PRC_WRITE, /* medium write */
	SCSI_PRC_CONFLICT, /* conflicts with any reservation held by another */
};

#define SCSI_CMD_F_NO_LU (1u << 0) /* runs on an unmapped LUN (SPC-4 4.6.3) */
#define SCSI_CMD_F_NO_UA (1u << 1) /* not failed by a pending UA (SAM-5 5.14) */

typedef enum scsi_reason (*scsi_handler)(struct scsi_task *t);

struct scsi_cmd {
	uint8_t opcode;
	int16_t sa; /* service action, -1 none */
	uint8_t len; /* CDB length */
	uint8_t dir; /* enum scsi_dir */
	uint8_t pr_class; /* enum scsi_pr_class */
	uint8_t flags; /* SCSI_CMD_F_* */
	const char *name;
	scsi_handler handler;
	uint8_t usage[16]; /* CDB usage data (SPC-4 6.35.3): bits that may be set */
};

/* Looks up the row for the CDB; NULL if the opcode (or service action) is not
 * supported. */
const struct scsi_cmd *scsi_cdb_lookup(const uint8_t *cdb);
/* The whole table, in opcode order (REPORT SUPPORTED OPERATION CODES). */
const struct scsi_cmd *scsi_cdb_table(size_t *n);
/* Checks reserved bits against the usage mask (SPC-4 4.5.2.4.2 field pointer). */
enum scsi_reason scsi_cdb_check(const struct scsi_cmd *c, struct scsi_task *t);

/* ---- results ------------------------------------------------------------ */

/* INVALID FIELD IN CDB pointing at byte/bit (C/D=1). */
enum scsi_reason scsi_bad_cdb(struct scsi_task *t, uint16_t byte, int bit);
/* Copies a response built in src (len bytes) into the task's data-in buffer,
 * clamped to alloc_len. Returns SR_OK or SR_BUSY. */
enum scsi_reason scsi_data_in(struct scsi_task *t, const void *src, uint32_t len,
			      uint32_t alloc_len);
/* Ensures a data-in buffer of at least len bytes. */
enum scsi_reason scsi_data_in_buf(struct scsi_task *t, uint32_t len);

/* ---- task completion (scsi_task.c) --------------------------------------- */
/* Completes a task whose handler went async (SR_PENDING). */
void scsi_task_complete(struct scsi_task *t, enum scsi_reason r);
void scsi_tmf_task_finished(struct scsi_core *core, struct scsi_task *t);
/* TMF: an aborted dormant task leaves the queue and completes (deferred). */
void scsi_task_abort_dormant(struct scsi_task *t);

/* ---- LU / target / nexus --------------------------------------------------- */
struct scsi_lu *scsi_target_lun_lookup(struct scsi_target *t, uint64_t lun);
/* Decodes the 8-byte SAM LUN (SAM-5 4.7: peripheral or flat addressing);
 * false if not representable. */
bool scsi_lun_decode(uint64_t raw, uint64_t *lun);
uint64_t scsi_lun_encode(uint64_t lun);
const struct scsi_port *scsi_target_port(const struct scsi_target *t, uint16_t tpgt);

/* Unit attentions (scsi_nexus.c) */
void scsi_ua_add(struct scsi_nexus *nx, struct scsi_lu *lu, enum scsi_reason r);
/* The oldest pending UA for (nexus, lu), SR_OK if none; with clear, removes it. */
enum scsi_reason scsi_ua_peek(struct scsi_nexus *nx, struct scsi_lu *lu, bool clear);
/* Removes every pending r of the nexus, on all LUs. */
void scsi_ua_clear(struct scsi_nexus *nx, enum scsi_reason r);
/* Adds r for every nexus that can reach lu except `except` (may be NULL). */
void scsi_ua_broadcast(struct scsi_core *core, struct scsi_lu *lu, struct scsi_nexus *except,
		       enum scsi_reason r);

/* ---- PR glue (scsi_pr_glue.c) --------------------------------------------- */
/* May this nexus run this command on this LU? SR_OK or SR_RESERVATION_CONFLICT. */
enum scsi_reason scsi_pr_access(struct scsi_nexus *nx, struct scsi_lu *lu, const struct scsi_cmd *c,
				const uint8_t *cdb);

/* ---- handlers ------------------------------------------------------------ */
enum scsi_reason scsi_spc_inquiry(struct scsi_task *t);
enum scsi_reason scsi_spc_report_luns(struct scsi_task *t);
enum scsi_reason scsi_spc_test_unit_ready(struct scsi_task *t);
enum scsi_reason scsi_spc_request_sense(struct scsi_task *t);
enum scsi_reason scsi_spc_start_stop_unit(struct scsi_task *t);
enum scsi_reason scsi_spc_mode_sense(struct scsi_task *t);
enum scsi_reason scsi_spc_report_opcodes(struct scsi_task *t);
enum scsi_reason scsi_sbc_read_capacity10(struct scsi_task *t);
enum scsi_reason scsi_sbc_read_capacity16(struct scsi_task *t);
enum scsi_reason scsi_sbc_rw(struct scsi_task *t);
enum scsi_reason scsi_sbc_sync_cache(struct scsi_task *t);

/* VPD pages (scsi_vpd.c): builds page into buf (cap bytes); returns length or
 * -1 if the page is not supported. */
int scsi_vpd_build(struct scsi_task *t, uint8_t page, uint8_t *buf, size_t cap);

#endif
