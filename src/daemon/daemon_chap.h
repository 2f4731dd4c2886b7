/* SPDX-License-Identifier: MIT */
/* CHAP credentials from the configuration into the iSCSI server (daemon_chap.c). */
#ifndef TARGETD_DAEMON_CHAP_H
#define TARGETD_DAEMON_CHAP_H

#include "daemon.h"

/* Installs the CHAP credentials and allow_net lists of nc (every target's and discovery's) in
 * d->srv, replacing all earlier ones; later logins use them, sessions
 * already logged in are left alone. oc (the running configuration, or NULL
 * at startup) and rep (or NULL) are for reporting what changed: one change
 * line per target whose credentials changed, never a secret. 0 or -errno
 * (logged). */
int daemon_apply_chap(struct daemon *d, const struct conf *oc, const struct conf *nc,
		      struct daemon_reload_report *rep);

#endif
