/* SPDX-License-Identifier: MIT */
/*
 * iscsi: runtime reconfiguration for live reload (SIGHUP, targetctl reload).
 * Part of the iscsi module's public interface, kept apart from iscsi.h so the
 * contract header stays stable. Loop thread only.
 */
#ifndef TARGETD_ISCSI_RECONF_H
#define TARGETD_ISCSI_RECONF_H

#include <stdbool.h>
#include <stdint.h>

#include "targetd/iscsi.h"

/* ---- runtime reconfiguration (live reload; iscsi_reconf.c) -----------------
 * Added by ops (additive). Loop thread only. */

struct scsi_target;
/* Ends the sessions (and logins in progress) of target t whose initiator is
 * initiator_name (NULL: every initiator) and whose portal group is tpgt
 * (0: any). The connections close at once; tasks inside scsi finish before
 * they are freed (and their nexus reference put). Returns how many. */
unsigned iscsi_sessions_drop(struct iscsi_server *srv, const struct scsi_target *t,
			     const char *initiator_name, uint16_t tpgt, const char *why);
/* Stops listening on the idx-th portal (as for iscsi_portal_port; indexes
 * of other portals do not change, the slot then reports port 0 and is left
 * out of SendTargets). Connections accepted through it keep running.
 * 0 or -ENOENT. */
int iscsi_portal_remove(struct iscsi_server *srv, unsigned idx);
/* Changes the portal group tag / SendTargets address of the idx-th portal
 * for new logins and discovery. 0, -ENOENT or -ENOMEM. */
int iscsi_portal_update(struct iscsi_server *srv, unsigned idx, uint16_t tpgt,
			const char *advertise);
/* Settings for sessions that log in from now on (running sessions keep
 * what they negotiated). 0 fields get defaults. */
void iscsi_server_set_settings(struct iscsi_server *srv, const struct iscsi_settings *s);

#endif
