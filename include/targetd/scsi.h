/* SPDX-License-Identifier: MIT */
/*
 * scsi: the SCSI target core (SAM-5/SPC-4/SBC-4). Targets, LUN maps, ACLs,
 * logical units, I_T nexuses, the task lifecycle, the CDB table, sense data and
 * unit attentions. Transport independent: it never calls iscsi; a transport
 * fills a struct scsi_task, calls scsi_task_submit(), and is called back
 * through task->done.
 *
 * Threading: loop thread only.
 *
 * Objects and lifetimes
 *  - struct scsi_core: everything the daemon configured; created by the daemon.
 *  - struct scsi_target: one SCSI target device (an iSCSI target name).
 *    Target ports are (target, portal group tag); each has a relative target
 *    port identifier (SPC-4 4.3.5.3 / VPD 83h), by default equal to the tag.
 *  - struct scsi_lu: a logical unit backed by a bdev; may be mapped into
 *    several targets.
 *  - struct scsi_nexus: an I_T nexus, identified BY VALUE as
 *    (initiator name, ISID, target, relative target port). scsi keeps the
 *    per-nexus state (unit attentions, SPC-2 reservations) keyed by that value,
 *    so a re-login of the same initiator port finds it again (state survives the
 *    session). Transports take a reference per session: scsi_nexus_get() at
 *    login, scsi_nexus_put() at session end (= I_T nexus loss, SAM-5 6.3.4).
 */
#ifndef TARGETD_SCSI_H
#define TARGETD_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evl;
struct scsi_core;
struct scsi_target;
struct scsi_lu;
struct scsi_nexus;

/* ---- configuration (called by the daemon) -------------------------------- */

struct scsi_lu_params {
	const char *path; /* bdev path: block device, file, or "mem:SIZE" */
	uint32_t block_size; /* 512 or 4096 */
	const char *serial; /* unit serial number (VPD 80h), also names the PR state file */
	bool read_only;
	bool write_cache; /* WCE reported in the caching mode page; when false
	                         * every write is FUA (written through) */
	const char *vendor; /* INQUIRY T10 vendor, default "TARGETD " */
	const char *product; /* default "VIRTUAL-DISK" */
	/* The LU's APTPL state file (<state_dir>/pr-<serial>.state) does not
	 * load: start with no persistent reservations, log it loudly and move
	 * the file aside (.corrupt-<time>) instead of failing scsi_lu_create.
	 * conf: pr_state = ignore in [lun]. */
	bool pr_ignore_state;
	/* SANITIZE (SBC-4 5.30) allowed on this LU (conf: sanitize = yes):
	 * it destroys every block, so it is off unless configured; when off
	 * the opcode is not supported (INVALID COMMAND OPERATION CODE) */
	bool sanitize;
};

struct scsi_core_params {
	const char *state_dir; /* where per-LU state (APTPL) lives */
	uint32_t
	    max_registrants; /* PR registrant limit per LU (INSUFFICIENT REGISTRATION RESOURCES) */
};

int scsi_core_create(struct evl *evl, const struct scsi_core_params *p, struct scsi_core **out);
/* Destroy after all tasks completed and all nexuses were put. */
void scsi_core_destroy(struct scsi_core *core);

/* Opens the backing device and loads the LU's APTPL state file, if any
 * (blocking). A state file that does not decode (torn, truncated, bad
 * checksum, version or line) fails with -EUCLEAN, distinct from every other
 * failure, and a message naming file, line and problem (unless
 * pr_ignore_state). Logs the reason on failure. */
int scsi_lu_create(struct scsi_core *core, const struct scsi_lu_params *p, struct scsi_lu **out);
int scsi_target_create(struct scsi_core *core, const char *name, struct scsi_target **out);
int scsi_target_add_port(struct scsi_target *t, uint16_t tpgt, uint16_t rel_port_id);
int scsi_target_map_lun(struct scsi_target *t, uint64_t lun, struct scsi_lu *lu);
/* Initiator ACL. A target with an empty ACL admits every initiator. */
int scsi_target_acl_add(struct scsi_target *t, const char *initiator_name);

/* ---- lookups for the transport (login, discovery) ------------------------ */

struct scsi_target *scsi_target_find(struct scsi_core *core, const char *name);
const char *scsi_target_name(const struct scsi_target *t);
/* Iterate targets in configuration order: start with prev == NULL. */
struct scsi_target *scsi_target_next(struct scsi_core *core, struct scsi_target *prev);
bool scsi_target_has_port(const struct scsi_target *t, uint16_t tpgt);
bool scsi_target_acl_allows(const struct scsi_target *t, const char *initiator_name);

/* ---- I_T nexus ------------------------------------------------------------ */

/* Returns a referenced nexus for (initiator, isid, target port tpgt), creating
 * its state on first use. NULL on OOM or unknown port. */
struct scsi_nexus *scsi_nexus_get(struct scsi_target *t, const char *initiator_name,
				  const uint8_t isid[6], uint16_t tpgt);
/* Drops the transport's reference: I_T nexus loss. Outstanding tasks of this
 * nexus must have completed (or been aborted) first. */
void scsi_nexus_put(struct scsi_nexus *nx);

/* The transport's abort for commands of this nexus that it has not handed to
 * scsi_task_submit() yet (a WRITE still waiting for Data-Out, a command held
 * for its CmdSN turn). scsi calls fn when SPC-4 aborts this nexus's tasks on
 * an LU without a TMF of its own: PREEMPT AND ABORT (SPC-4 5.13.11.2.6). The
 * commands addressed to LUN number lun end without a response, as aborted
 * submitted tasks do; fn returns how many it aborted. fn NULL clears the hook,
 * but only when arg is the one set (session reinstatement sets the new
 * session's hook before the old session clears its own). */
void scsi_nexus_set_abort_hook(struct scsi_nexus *nx, unsigned (*fn)(void *arg, uint64_t lun),
			       void *arg);
/* The LUN number a SAM-5 4.7 LUN field addresses (peripheral or flat
 * addressing); false for other formats. */
bool scsi_lun_decode(uint64_t raw, uint64_t *lun);

/* ---- tasks ------------------------------------------------------------------ */

enum scsi_task_attr {
	SCSI_TASK_SIMPLE = 0,
	SCSI_TASK_ORDERED = 1,
	SCSI_TASK_HEAD_OF_QUEUE = 2,
	SCSI_TASK_ACA = 3,
};

/* SAM-5 status codes */
#define SCSI_STATUS_GOOD 0x00
#define SCSI_STATUS_CHECK_CONDITION 0x02
#define SCSI_STATUS_CONDITION_MET 0x04
#define SCSI_STATUS_BUSY 0x08
#define SCSI_STATUS_RESERVATION_CONFLICT 0x18
#define SCSI_STATUS_TASK_SET_FULL 0x28
#define SCSI_STATUS_TASK_ABORTED 0x40

#define SCSI_SENSE_MAX 252
#define SCSI_CDB_MAX 32
/* Largest data transfer of one command (VPD B0h MAXIMUM TRANSFER LENGTH is
 * derived from it). A transport never allocates more than this per command. */
#define SCSI_XFER_MAX (8u << 20)

#define SCSI_TASK_F_READ (1u << 0) /* initiator expects data-in  (iSCSI R bit) */
#define SCSI_TASK_F_WRITE (1u << 1) /* initiator sends data-out (iSCSI W bit) */

/*
 * A SCSI command. The transport embeds it in its own per-command object (no
 * allocation by scsi), fills the "transport" fields and calls
 * scsi_task_submit(). scsi fills the "result" fields and calls done() exactly
 * once, on the loop thread, never from inside scsi_task_submit().
 *
 * Data buffer (buf): 4 KiB-aligned from util_buf_alloc(), released by the
 * transport after done with util_buf_free(buf, buf_alloc).
 *  - Data-out: the transport allocates min(edtl, SCSI_XFER_MAX) bytes, receives
 *    the data straight into it, and sets data_out_len to the bytes received
 *    (== edtl normally). If edtl > SCSI_XFER_MAX it discards the data and
 *    submits with buf == NULL, data_out_len == 0; scsi then fails the command.
 *  - Data-in: scsi allocates buf (if NULL) and sets data_in_len to the bytes
 *    the command produced (already clamped to the CDB's allocation length).
 *    The transport sends min(data_in_len, edtl) bytes.
 * Residuals (RFC 7143 11.4.5.1): scsi sets xfer_len to the byte count the
 * command transfers according to its CDB (data_in_len for data-in commands;
 * the CDB-implied length for data-out commands). The transport reports
 * overflow xfer_len - edtl or underflow edtl - xfer_len.
 */
struct scsi_task {
	/* transport fields */
	struct scsi_nexus *nexus;
	uint64_t lun_raw; /* the 8-byte SAM LUN field as a big-endian number */
	uint8_t cdb[SCSI_CDB_MAX];
	uint8_t cdb_len;
	enum scsi_task_attr attr;
	uint32_t flags; /* SCSI_TASK_F_* */
	uint64_t tag; /* transport task tag (ITT), used by TMF ABORT TASK */
	uint32_t edtl; /* expected data transfer length */
	uint8_t *buf;
	uint32_t buf_alloc; /* size passed to util_buf_alloc */
	uint32_t data_out_len;
	void (*done)(struct scsi_task *task);
	void *transport_priv;

	/* result fields (valid in done) */
	uint8_t status;
	bool aborted; /* task was aborted by a TMF or PREEMPT AND ABORT:
	                         * the transport sends no SCSI Response for it */
	uint8_t sense_len;
	uint32_t data_in_len;
	uint32_t xfer_len;
	uint8_t sense[SCSI_SENSE_MAX];

	/* scsi private: do not touch */
	struct {
		void *p[8];
		uint64_t u[8];
		uint64_t bio[40]; /* room for an embedded struct bdev_io */
	} priv;
};

void scsi_task_submit(struct scsi_task *task);

/* Added (additive, issue 9): the Data-In buffer scsi will allocate for this
 * command (a READ's TRANSFER LENGTH x block size, at most SCSI_XFER_MAX; 0 for
 * commands whose data-in is small), whatever the edtl says. Needs nexus,
 * lun_raw and cdb filled in; call before scsi_task_submit(). Transports that
 * bound memory per connection charge max(edtl, this). */
uint32_t scsi_task_data_in_max(const struct scsi_task *t);

/* Added (additive): the scratch buffer scsi will allocate for this command
 * besides its Data-In and Data-Out (VERIFY, WRITE AND VERIFY, WRITE SAME:
 * up to 1 MiB; EXTENDED COPY: 1 MiB + 4 KiB; 0 for the rest), which no EDTL
 * shows. Same preconditions as scsi_task_data_in_max; transports that bound
 * memory per connection charge it on top. */
uint32_t scsi_task_scratch_max(const struct scsi_task *t);

/* ---- task management (SAM-5 7) -------------------------------------------- */

enum scsi_tmf_fn {
	SCSI_TMF_ABORT_TASK,
	SCSI_TMF_ABORT_TASK_SET,
	SCSI_TMF_CLEAR_TASK_SET,
	SCSI_TMF_LUN_RESET,
	SCSI_TMF_TARGET_WARM_RESET,
	SCSI_TMF_TARGET_COLD_RESET,
	SCSI_TMF_CLEAR_ACA,
	SCSI_TMF_I_T_NEXUS_RESET,
};

enum scsi_tmf_resp {
	SCSI_TMF_COMPLETE, /* function complete */
	SCSI_TMF_NO_TASK, /* ABORT TASK: task not in the task set */
	SCSI_TMF_NO_LUN, /* LUN does not exist */
	SCSI_TMF_NOT_SUPPORTED,
	SCSI_TMF_REJECTED, /* not authorized / function rejected */
};

/*
 * A task management request, caller-owned like a task. scsi marks the affected
 * tasks aborted; each aborted task still gets its done() (with aborted=true)
 * once its backend I/O has finished, and req->done runs only after every
 * aborted task's done has run (SAM-5 7.1: the TMF completes after the tasks).
 * Unit attentions for other nexuses (e.g. 29/03 after LUN RESET, 2F/00 COMMANDS
 * CLEARED BY ANOTHER INITIATOR) are set by scsi. TARGET WARM/COLD RESET reset
 * every LU of the target; dropping connections on COLD RESET is the
 * transport's job after done.
 */
struct scsi_tmf_req {
	struct scsi_nexus *nexus;
	enum scsi_tmf_fn fn;
	uint64_t lun_raw;
	uint64_t ref_tag; /* ABORT TASK: the tag of the task to abort */
	void (*done)(struct scsi_tmf_req *req, enum scsi_tmf_resp resp);
	void *transport_priv;
	/* scsi private */
	void *priv[4];
	uint64_t upriv[2];
};

void scsi_tmf_submit(struct scsi_tmf_req *req);

/* ---- introspection (targetctl) --------------------------------------------- */

const char *scsi_lu_serial(const struct scsi_lu *lu);
const char *scsi_lu_path(const struct scsi_lu *lu);
uint64_t scsi_lu_size_bytes(const struct scsi_lu *lu);
uint32_t scsi_lu_block_size(const struct scsi_lu *lu);
/* Iterate the LUN map of a target in ascending LUN order. */
struct scsi_lu *scsi_target_lun_next(struct scsi_target *t, uint64_t *lun_inout, bool first);

#endif
