/* SPDX-License-Identifier: MIT */
/*
 * Runtime reconfiguration (live reload): ending the sessions a changed ACL or
 * a removed target no longer allows, removing and updating portals, new
 * settings for future logins. Everything else keeps running untouched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iscsi_conn.h"
#include "targetd/iscsi_reconf.h"
#include "targetd/util.h"

static bool conn_matches(const struct iscsi_conn *c, const struct scsi_target *t,
			 const char *initiator_name, uint16_t tpgt)
{
	if (c->state == CONN_DEAD)
		return false;
	if (c->sess) {
		if (c->sess->target != t || (tpgt && c->sess->tpgt != tpgt))
			return false;
	} else {
		/* login in progress: by the names it sent so far */
		if (strcmp(c->params.target_name, scsi_target_name(t)) ||
		    (tpgt && c->portal->tpgt != tpgt))
			return false;
	}
	return !initiator_name || !strcmp(c->params.initiator_name, initiator_name);
}

unsigned iscsi_sessions_drop(struct iscsi_server *srv, const struct scsi_target *t,
			     const char *initiator_name, uint16_t tpgt, const char *why)
{
	unsigned n = 0;

	for (struct iscsi_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		if (!conn_matches(c, t, initiator_name, tpgt))
			continue;
		/* RFC 7143 has no target-initiated "you are no longer allowed"
		 * message short of an Async Message asking for logout, which an
		 * initiator may ignore; access is revoked now, so the connection
		 * is dropped (the initiator's relogin then fails authorization,
		 * 11.13.5 class 02 detail 02). */
		iscsi_conn_close(c, why);
		n++;
	}
	return n;
}

int iscsi_portal_remove(struct iscsi_server *srv, unsigned idx)
{
	struct iscsi_portal *p;

	if (idx >= srv->n_portals || srv->portals[idx]->fd < 0)
		return -ENOENT;
	p = srv->portals[idx];
	evl_fd_del(srv->evl, p->fd);
	close(p->fd);
	p->fd = -1;
	log_info("iscsi", "no longer listening on %s:%u, portal group %u", p->host, p->port,
		 p->tpgt);
	/* connections keep their pointer to p: the slot stays, port 0 marks it
	 * closed (SendTargets skips it) */
	p->port = 0;
	return 0;
}

int iscsi_portal_update(struct iscsi_server *srv, unsigned idx, uint16_t tpgt,
			const char *advertise)
{
	struct iscsi_portal *p;
	char *adv = NULL;

	if (idx >= srv->n_portals || srv->portals[idx]->fd < 0)
		return -ENOENT;
	p = srv->portals[idx];
	if (advertise && !(adv = strdup(advertise)))
		return -ENOMEM;
	free(p->advertise);
	p->advertise = adv;
	p->tpgt = tpgt;
	return 0;
}

void iscsi_server_set_settings(struct iscsi_server *srv, const struct iscsi_settings *s)
{
	struct iscsi_settings n = *s;

	iscsi_settings_defaults(&n);
	srv->s = n;
}
