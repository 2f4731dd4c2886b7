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
#include "targetd/pr.h"
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

/* A unit attention waiting for an I_T nexus that has no scsi_nexus yet
 * (a registrant not logged in since the daemon started, SPC-4 5.13.11:
 * it sees the UA when it logs in). Picked up by scsi_nexus_get(). */
struct scsi_pr_pua {
	struct scsi_pr_pua *next;
	struct pr_itn itn;
	uint8_t reason; /* enum scsi_reason */
};

/* The one PERSISTENT RESERVE OUT of an LU in flight (SPC-4 5.13: PROUTs of
 * an LU are serialised here; later ones queue behind it). */
struct scsi_pr_op {
	struct scsi_lu *lu;
	struct scsi_task *task;
	struct pr_state next; /* the state to commit */
	struct pr_effects fx;
	struct evl_job job; /* APTPL write or remove on the worker */
	char *text; /* encoding of next (APTPL on) or NULL (remove the file) */
	size_t text_len;
	uint32_t aborts; /* PREEMPT AND ABORT: aborted tasks still running */
	struct evl_defer done_defer; /* completes task after the aborted ones */
};

/* The LBA ranges of an LU's data commands (scsi_rl.c). Every command that
 * reads or writes blocks holds its range while it runs; COMPARE AND WRITE and
 * ORWRITE hold theirs exclusively (SBC-4 5.3: no other command may touch the
 * range between the read and the write). Waiters are granted in FIFO order. */
struct scsi_rl {
	struct scsi_task *active; /* holders (tp->rl_next/rl_prev) */
	struct scsi_task *wait_head, *wait_tail;
	uint32_t n_excl; /* exclusive holders + exclusive waiters */
	bool inited;
	struct evl_defer grant; /* grants waiters after a release */
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
	bool write_cache; /* caching mode page WCE, current value */
	bool write_cache_default; /* its default (configuration) */
	bool d_sense; /* control mode page D_SENSE (SPC-4 7.5.8) */
	/* control mode page SWP (SPC-4 7.5.8), set by MODE SELECT; volatile:
	 * 0 at every start (no saved pages) */
	bool swp;
	/* stopped by START STOP UNIT START=0 (SBC-4 5.25, 4.20 stopped power
	 * condition): medium access answers 02/04/02 until START=1; volatile */
	bool stopped;
	struct scsi_task *tasks; /* the task set (SAM-5 4.6.1), TST=000b: one for all nexuses */
	/* SAM-5 8.6 task attributes: tasks in the enabled state, and the
	 * dormant ones waiting (FIFO) behind an ORDERED task */
	uint32_t n_enabled;
	uint32_t n_ordered;
	struct scsi_task *dormant_head, *dormant_tail;

	/* persistent reservations (scsi_pr_*.c) */
	struct pr_state pr; /* committed: access checks and PR IN read it */
	struct scsi_task *prout_head, *prout_tail; /* PROUTs waiting (FIFO) */
	bool prout_busy; /* op below in flight */
	struct scsi_pr_op op;
	struct evl_defer prout_defer; /* runs the PROUT queue */
	struct scsi_pr_pua *pua; /* UAs for nexuses not created yet */
	unsigned npua;
	char *pr_file; /* state file name in core->state_dir */
	char *pr_text; /* content of that file, NULL if there is none */
	size_t pr_text_len;
	/* SPC-2 RESERVE(6)/(10) holder (SPC-2 5.5.1, 7.21), NULL if none */
	struct scsi_nexus *spc2_holder;
	/* LBA range locks (scsi_rl.c): COMPARE AND WRITE atomicity */
	struct scsi_rl rl;
	/* the last EXTENDED COPY sent to this LU with held results (SPC-4
	 * 6.18.2 COPY STATUS, scsi_xcopy.c); nexus is compared, never used */
	struct {
		const struct scsi_nexus *nexus;
		uint8_t list_id;
		bool valid;
		uint8_t status; /* COPY MANAGER STATUS */
		uint16_t segs;
		uint64_t bytes;
	} xcopy;
	/* EXTENDED COPY tasks (of any LU) copying from or to this LU: it must
	 * not be destroyed under them (scsi_lu_destroy) */
	uint32_t xcopy_refs;
	/* SANITIZE (scsi_sanitize.c): allowed by configuration; the operation
	 * in progress (every other medium command: NOT READY, 04/1B); failed
	 * (medium access: 03/31/03 until EXIT FAILURE MODE or a new one) */
	bool sanitize_allowed;
	bool sanitize_failed;
	struct scsi_sanitize *sanitize;
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
	/* the transport's abort of commands not yet submitted (scsi.h) */
	unsigned (*abort_hook)(void *arg, uint64_t lun);
	void *abort_arg;
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
	bool pr_abort; /* aborted by the LU's PREEMPT AND ABORT in flight */
	bool pr_queued; /* on the LU's PROUT queue */
	struct scsi_task *dnext; /* dormant queue, or the LU's PROUT queue */
	struct bdev_io bio;
	/* range lock (scsi_rl.c) and multi-step block commands (scsi_blk.h) */
	struct scsi_task *rl_next, *rl_prev;
	uint64_t rl_lba, rl_nblk;
	bool rl_held, rl_wait, rl_excl;
	enum scsi_reason (*rl_cont)(struct scsi_task *t); /* runs when granted */
	void (*step)(struct scsi_task *t, int res); /* bdev completion */
	uint8_t *xbuf; /* command scratch (util_buf), freed at completion */
	uint32_t xbuf_alloc;
	uint32_t xarg;
	uint64_t xpos, xend; /* progress of a chunked command, in blocks */
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

#define SCSI_CMD_F_NO_LU (1u << 0) /* runs on an unmapped LUN (SPC-4 4.6.3) */
#define SCSI_CMD_F_NO_UA (1u << 1) /* not failed by a pending UA (SAM-5 5.14) */

typedef enum scsi_reason (*scsi_handler)(struct scsi_task *t);

struct scsi_cmd {
	uint8_t opcode;
	int16_t sa; /* service action, -1 none */
	uint8_t len; /* CDB length */
	uint8_t dir; /* enum scsi_dir */
	uint8_t pr_class; /* enum pr_class: the conflict table row (pr_access.c) */
	uint8_t flags; /* SCSI_CMD_F_* */
	const char *name;
	scsi_handler handler;
	uint8_t usage[16]; /* CDB usage data (SPC-4 6.35.3): bits that may be set */
	/* NULL: supported on every LU; else whether this LU supports the
	 * command (the dispatcher answers INVALID COMMAND OPERATION CODE and
	 * REPORT SUPPORTED OPERATION CODES leaves it out when false) */
	bool (*avail)(const struct scsi_lu *lu);
};
/* Is row c supported on lu (c->avail)? */
bool scsi_cmd_avail(const struct scsi_cmd *c, const struct scsi_lu *lu);

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
/* Releases what a block command held (range lock, scratch buffer); called by
 * finish() for every task before done (scsi_blk.c). */
void scsi_blk_task_fini(struct scsi_task *t);
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
/* As scsi_ua_add, but queued even behind a pending POWER ON: the persistent
 * reservation UAs of SPC-4 5.13.11 tell a registrant what happened to its
 * registration, which a power on does not (scsi_pr_glue.c). */
void scsi_ua_add_keep(struct scsi_nexus *nx, struct scsi_lu *lu, enum scsi_reason r);
/* The oldest pending UA for (nexus, lu), SR_OK if none; with clear, removes it. */
enum scsi_reason scsi_ua_peek(struct scsi_nexus *nx, struct scsi_lu *lu, bool clear);
/* Removes every pending r of the nexus, on all LUs. */
void scsi_ua_clear(struct scsi_nexus *nx, enum scsi_reason r);
/* Adds r for every nexus that can reach lu except `except` (may be NULL). */
void scsi_ua_broadcast(struct scsi_core *core, struct scsi_lu *lu, const struct scsi_nexus *except,
		       enum scsi_reason r);

/* ---- PR glue (scsi_pr_glue.c) --------------------------------------------- */
/* May this nexus run this command on this LU? SR_OK, SR_RESERVATION_CONFLICT
 * or SR_PR_INFO_LOST (SPC-2 reservations and the pr conflict table). */
enum scsi_reason scsi_pr_access(struct scsi_nexus *nx, struct scsi_lu *lu, const struct scsi_cmd *c,
				const uint8_t *cdb);
/* The pr identity of a nexus (valid while nx lives). */
void scsi_pr_who(const struct scsi_nexus *nx, struct pr_nexus_id *who);
/* Does a stored identity cover this nexus? */
bool scsi_pr_itn_matches(const struct pr_itn *itn, const struct scsi_nexus *nx);
/* Establishes UA r for every nexus (existing or future) with identity itn. */
void scsi_pr_ua_itn(struct scsi_lu *lu, const struct pr_itn *itn, enum scsi_reason r);
/* A new nexus picks up the UAs queued for its identity on the target's LUs. */
void scsi_pr_nexus_created(struct scsi_nexus *nx);
/* Copies a pr_result into the task's scsi_result; returns the reason. */
enum scsi_reason scsi_pr_result(struct scsi_task *t, const struct pr_result *res);

/* PR state lifetime (scsi_pr_store.c): load the APTPL file at LU creation
 * (lp->pr_ignore_state: start empty, move a bad file aside), free it. */
int scsi_pr_lu_init(struct scsi_lu *lu, const struct scsi_lu_params *lp);
void scsi_pr_lu_fini(struct scsi_lu *lu);
/* Sets up the LU's PROUT queue (scsi_pr_cmd.c). */
void scsi_pr_out_init(struct scsi_lu *lu);
/* Worker-thread job body: write op->text durably, or remove the file. */
void scsi_pr_store_submit(struct scsi_pr_op *op, void (*done)(void *arg, int result));

/* PERSISTENT RESERVE IN/OUT (scsi_pr_cmd.c) */
enum scsi_reason scsi_pr_in(struct scsi_task *t);
enum scsi_reason scsi_pr_out(struct scsi_task *t);
/* An aborted task finished: PREEMPT AND ABORT may now complete. */
void scsi_pr_task_finished(struct scsi_task *t);

/* SPC-2 reservations (scsi_spc2.c) */
enum scsi_reason scsi_spc2_reserve(struct scsi_task *t);
enum scsi_reason scsi_spc2_release(struct scsi_task *t);
/* LUN reset, hard reset, I_T nexus loss release SPC-2 reservations
 * (SPC-2 5.5.1); nx == NULL: whatever nexus holds it. */
void scsi_spc2_release_lu(struct scsi_lu *lu, const struct scsi_nexus *nx);

/* SBC-4 4.x write protection: SR_OK if lu may be written; else DATA PROTECT
 * with WRITE PROTECTED for a read-only LU (configuration or backend) and
 * LOGICAL UNIT SOFTWARE WRITE PROTECTED while SWP is set (software write
 * protect, SPC-4 7.5.8). Every write-class command asks this. */
static inline enum scsi_reason scsi_lu_wp(const struct scsi_lu *lu)
{
	if (lu->read_only)
		return SR_WRITE_PROTECTED;
	return lu->swp ? SR_SW_WRITE_PROTECTED : SR_OK;
}

/* SBC-4 4.20 / 5.25: in the stopped power condition, commands that access
 * the medium (TEST UNIT READY reports its readiness) answer NOT READY /
 * INITIALIZING COMMAND REQUIRED (scsi_spc.c). SR_OK otherwise. */
enum scsi_reason scsi_lu_stopped_check(const struct scsi_lu *lu, const struct scsi_cmd *c);
/* Flushes the LU's backend for the task, then completes it (scsi_sbc.c). */
enum scsi_reason scsi_sbc_flush(struct scsi_task *t);

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
