// SPDX-License-Identifier: MIT
/*
 * I_T nexuses, identified by value (initiator port name = initiator name +
 * ISID, target port = target + TPGT; SAM-5 4.6.4, RFC 7143 4.4.1), and the
 * unit attention conditions queued per I_T_L nexus (SAM-5 5.14, SPC-4 4.5.7).
 */
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"
#include "targetd/util.h"

struct scsi_nexus *scsi_nexus_get(struct scsi_target *t, const char *initiator_name,
				  const uint8_t isid[6], uint16_t tpgt)
{
	const struct scsi_port *port = scsi_target_port(t, tpgt);
	struct scsi_nexus *nx;

	if (!port || !initiator_name)
		return NULL;
	for (nx = t->nexuses; nx; nx = nx->next) {
		if (nx->tpgt == tpgt && !memcmp(nx->isid, isid, 6) &&
		    !strcmp(nx->initiator, initiator_name)) {
			nx->refs++;
			return nx;
		}
	}
	nx = calloc(1, sizeof(*nx));
	if (!nx)
		return NULL;
	nx->initiator = strdup(initiator_name);
	if (!nx->initiator) {
		free(nx);
		return NULL;
	}
	nx->target = t;
	memcpy(nx->isid, isid, 6);
	nx->tpgt = tpgt;
	nx->rel_port = port->rel_id;
	nx->refs = 1;
	nx->next = t->nexuses;
	t->nexuses = nx;
	/* SPC-4 5.13.11: PR unit attentions established for this I_T nexus
	 * while it did not exist yet */
	scsi_pr_nexus_created(nx);
	return nx;
}

/* The state (pending UAs, PR identity) is kept by value after the last
 * reference is dropped, so a re-login of the same initiator port finds it.
 * A session ending is not reported as I_T NEXUS LOSS here: the iSCSI logout
 * is orderly (SAM-5 6.3.4 applies to a nexus lost by the transport; an
 * I_T NEXUS RESET TMF queues 29/07 explicitly). It does end the I_T nexus,
 * which releases its SPC-2 reservations (SPC-2 5.5.1); persistent
 * reservations stay (SPC-4 5.13.1). */
void scsi_nexus_put(struct scsi_nexus *nx)
{
	if (!nx || !nx->refs)
		return;
	if (--nx->refs == 0)
		for (struct scsi_itl *i = nx->itls; i; i = i->next)
			scsi_spc2_release_lu(i->lu, nx);
}

void scsi_nexus_set_abort_hook(struct scsi_nexus *nx, unsigned (*fn)(void *arg, uint64_t lun),
			       void *arg)
{
	if (!nx || (!fn && nx->abort_arg != arg))
		return;
	nx->abort_hook = fn;
	nx->abort_arg = fn ? arg : NULL;
}

static struct scsi_itl *itl_get(struct scsi_nexus *nx, struct scsi_lu *lu)
{
	struct scsi_itl *i;

	for (i = nx->itls; i; i = i->next)
		if (i->lu == lu)
			return i;
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->lu = lu;
	/* SAM-5 6.3.1: every I_T_L nexus starts with a power on UA */
	i->ua[i->nua++] = SR_UA_POWER_ON;
	i->next = nx->itls;
	nx->itls = i;
	return i;
}

static void ua_add(struct scsi_nexus *nx, struct scsi_lu *lu, enum scsi_reason r, bool keep)
{
	struct scsi_itl *i = itl_get(nx, lu);

	if (!i)
		return;
	for (unsigned k = 0; k < i->nua; k++) {
		/* SAM-5 5.14: a pending power on UA subsumes every later
		 * condition (the initiator rediscovers everything after it);
		 * the same condition is not queued twice */
		if (i->ua[k] == r || (!keep && i->ua[k] == SR_UA_POWER_ON))
			return;
	}
	if (i->nua == SCSI_UA_QUEUE) {
		/* SPC-4 4.5.7: when the queue overflows the oldest
		 * non-reset entry is dropped; keep the newest instead */
		memmove(i->ua, i->ua + 1, SCSI_UA_QUEUE - 1);
		i->nua--;
	}
	i->ua[i->nua++] = (uint8_t)r;
}

void scsi_ua_add(struct scsi_nexus *nx, struct scsi_lu *lu, enum scsi_reason r)
{
	ua_add(nx, lu, r, false);
}

void scsi_ua_add_keep(struct scsi_nexus *nx, struct scsi_lu *lu, enum scsi_reason r)
{
	ua_add(nx, lu, r, true);
}

enum scsi_reason scsi_ua_peek(struct scsi_nexus *nx, struct scsi_lu *lu, bool clear)
{
	struct scsi_itl *i = itl_get(nx, lu);
	enum scsi_reason r;

	if (!i || !i->nua)
		return SR_OK;
	r = (enum scsi_reason)i->ua[0];
	if (clear) {
		memmove(i->ua, i->ua + 1, i->nua - 1u);
		i->nua--;
	}
	return r;
}

void scsi_ua_broadcast(struct scsi_core *core, struct scsi_lu *lu, const struct scsi_nexus *except,
		       enum scsi_reason r)
{
	for (struct scsi_target *t = core->targets; t; t = t->next) {
		bool maps = false;
		for (unsigned k = 0; k < t->nluns; k++)
			maps |= t->luns[k].lu == lu;
		if (!maps)
			continue;
		for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next)
			if (nx != except)
				scsi_ua_add(nx, lu, r);
	}
}

void scsi_ua_clear(struct scsi_nexus *nx, enum scsi_reason r)
{
	for (struct scsi_itl *i = nx->itls; i; i = i->next) {
		unsigned w = 0;
		for (unsigned k = 0; k < i->nua; k++)
			if (i->ua[k] != r)
				i->ua[w++] = i->ua[k];
		i->nua = (uint8_t)w;
	}
}
