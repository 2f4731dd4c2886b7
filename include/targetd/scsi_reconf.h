/* SPDX-License-Identifier: MIT */
/*
 * scsi: runtime reconfiguration for live reload (SIGHUP, targetctl reload) and PR introspection for targetctl.
 * Part of the scsi module's public interface, kept apart from scsi.h so the
 * contract header stays stable. Loop thread only.
 */
#ifndef TARGETD_SCSI_RECONF_H
#define TARGETD_SCSI_RECONF_H

#include <stdbool.h>
#include <stdint.h>

#include "targetd/scsi.h"

/* ---- runtime reconfiguration (live reload; scsi_reconf.c) ------------------
 * Added by ops (additive). Loop thread only. The daemon computes the
 * difference between two configurations and applies it with these calls. */

/* Removes LUN lun from t's map. New commands to it get LOGICAL UNIT NOT
 * SUPPORTED; tasks already running finish. Every nexus of t gets REPORTED
 * LUNS DATA HAS CHANGED (3F/0E) on the LUs still mapped (SPC-4 6.33, SAM-5
 * 5.14). The LU itself stays until scsi_lu_destroy(). 0 or -ENOENT. */
int scsi_target_unmap_lun(struct scsi_target *t, uint64_t lun);
/* Frees an LU that no target maps any more (closes its bdev), once it is
 * idle: -EBUSY while tasks or a PERSISTENT RESERVE OUT are still running
 * (call again later), -EINVAL if a target still maps it, else 0. */
int scsi_lu_destroy(struct scsi_lu *lu);
/* Re-reads the backing size (bdev_refresh_size). If the number of blocks
 * changed, every nexus that can reach lu gets CAPACITY DATA HAS CHANGED
 * (2A/09, SBC-4 4.6 / SPC-4 table 47). 1 changed, 0 unchanged, or -errno. */
int scsi_lu_resize(struct scsi_lu *lu);
/* Removes an initiator from the ACL (-ENOENT if absent). Sessions are the
 * transport's: the caller ends them (iscsi_sessions_drop). */
int scsi_target_acl_del(struct scsi_target *t, const char *initiator_name);
/* Removes a target port (portal group) added with scsi_target_add_port:
 * 0 or -ENOENT. Its sessions are the caller's to end. */
int scsi_target_del_port(struct scsi_target *t, uint16_t tpgt);
/* Takes t out of the core: no longer found by scsi_target_find/_next, its
 * LUN map is emptied (the LUs stay: scsi_lu_destroy them) and the per-LU
 * state of its nexuses dropped. Its sessions must be ended by the caller;
 * then scsi_target_destroy() frees it: -EBUSY while a transport still holds
 * a nexus reference (call again later). */
void scsi_target_detach(struct scsi_target *t);
int scsi_target_destroy(struct scsi_target *t);
/* Does any target map this LU? */
bool scsi_lu_mapped(const struct scsi_lu *lu);

/* ---- persistent reservation introspection (targetctl pr show) ------------ */
struct scsi_pr_reg_info {
	const char *initiator;
	uint8_t isid[6];
	bool has_isid; /* false: registered by TransportID format 00b (any ISID) */
	uint16_t rel_tport_id;
	uint64_t key;
	bool all_tg_pt;
	bool holder;
};
struct scsi_pr_info {
	bool aptpl; /* APTPL active (SPC-4 5.13.5.1) */
	uint32_t generation; /* PRgeneration */
	bool res_present;
	uint8_t res_type; /* enum pr_type */
	uint8_t res_scope;
	bool lost; /* recoverable lost PR condition */
	unsigned n_regs;
};
/* The committed PR state of lu: a summary in *info, and fn called for every
 * registration in registration order (fn may be NULL). Pointers are valid
 * during the call only. */
void scsi_lu_pr_info(const struct scsi_lu *lu, struct scsi_pr_info *info,
		     void (*fn)(const struct scsi_pr_reg_info *reg, void *arg), void *arg);

/* ---- LU details (targetctl luns) ------------------------------------------ */
struct scsi_lu_info {
	bool read_only; /* as exported (configured, or the medium is) */
	bool write_cache; /* WCE */
	bool thin; /* the backing store can deallocate (UNMAP) */
	bool direct; /* O_DIRECT in effect */
	uint64_t reads, writes, flushes, read_bytes, write_bytes, errors;
	uint32_t inflight;
};
void scsi_lu_get_info(const struct scsi_lu *lu, struct scsi_lu_info *out);

#endif
