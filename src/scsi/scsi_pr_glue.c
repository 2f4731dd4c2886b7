// SPDX-License-Identifier: MIT
/*
 * The persistent reservation glue: the access hook every command passes
 * (SPC-2 reservations, then the pr engine's conflict table, SPC-4 5.13.1
 * tables 65/66 and SBC-4 4.17 table 13), the identity of an I_T nexus as the
 * engine sees it, and unit attentions established by identity (SPC-4
 * 5.13.11) -- including for registrants that have no I_T nexus right now:
 * they find the UA when they log in (scsi_pr_nexus_created).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scsi_priv.h"
#include "targetd/util.h"

/* Bound on UAs kept for nexuses that do not exist (per LU): a registrant
 * that never comes back must not grow memory without limit. */
#define PUA_MAX 1024

void scsi_pr_who(const struct scsi_nexus *nx, struct pr_nexus_id *who)
{
	who->initiator = nx->initiator;
	memcpy(who->isid, nx->isid, 6);
	who->rel_tport_id = nx->rel_port;
	who->tpgt = nx->tpgt;
}

/* iSCSI names compare case-insensitively (as in the pr engine, RFC 3722). A
 * registration without an ISID (TransportID format 00b) covers every
 * initiator port of that name. */
bool scsi_pr_itn_matches(const struct pr_itn *itn, const struct scsi_nexus *nx)
{
	if (itn->rel_tport_id != nx->rel_port || strcasecmp(itn->initiator, nx->initiator) != 0)
		return false;
	return !itn->has_isid || memcmp(itn->isid, nx->isid, 6) == 0;
}

static bool target_maps(const struct scsi_target *t, const struct scsi_lu *lu)
{
	for (unsigned i = 0; i < t->nluns; i++)
		if (t->luns[i].lu == lu)
			return true;
	return false;
}

static void pua_add(struct scsi_lu *lu, const struct pr_itn *itn, enum scsi_reason r)
{
	struct scsi_pr_pua *p, **pp;

	for (p = lu->pua; p; p = p->next)
		if (p->reason == r && p->itn.has_isid == itn->has_isid &&
		    p->itn.rel_tport_id == itn->rel_tport_id &&
		    !strcasecmp(p->itn.initiator, itn->initiator) &&
		    (!itn->has_isid || !memcmp(p->itn.isid, itn->isid, 6)))
			return;
	if (lu->npua >= PUA_MAX && lu->pua) {
		/* drop the oldest (npua counts lu->pua, so the list is not empty) */
		p = lu->pua;
		lu->pua = p->next;
		free(p);
		lu->npua--;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		log_err(SCSI_LOG, "lu %s: out of memory queueing a unit attention for %s",
			lu->serial, itn->initiator);
		return;
	}
	p->itn = *itn;
	p->reason = (uint8_t)r;
	for (pp = &lu->pua; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	lu->npua++;
}

void scsi_pr_ua_itn(struct scsi_lu *lu, const struct pr_itn *itn, enum scsi_reason r)
{
	bool found = false;

	for (struct scsi_target *t = lu->core->targets; t; t = t->next) {
		if (!target_maps(t, lu))
			continue;
		for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next) {
			if (!scsi_pr_itn_matches(itn, nx))
				continue;
			scsi_ua_add_keep(nx, lu, r);
			found = true;
		}
	}
	/* SPC-4 5.13.11 establishes the UA for the I_T nexus whether or not
	 * it is connected; a nexus we have not seen yet (restored from APTPL,
	 * registered through SPEC_I_PT) gets it when it first logs in. A
	 * name-only registration (any ISID) also covers ports not seen yet. */
	if (!found || !itn->has_isid)
		pua_add(lu, itn, r);
}

void scsi_pr_nexus_created(struct scsi_nexus *nx)
{
	struct scsi_target *t = nx->target;

	for (unsigned k = 0; k < t->nluns; k++) {
		struct scsi_lu *lu = t->luns[k].lu;
		struct scsi_pr_pua **pp = &lu->pua;

		while (*pp) {
			struct scsi_pr_pua *p = *pp;
			if (!scsi_pr_itn_matches(&p->itn, nx)) {
				pp = &p->next;
				continue;
			}
			scsi_ua_add_keep(nx, lu, (enum scsi_reason)p->reason);
			*pp = p->next;
			free(p);
			lu->npua--;
		}
	}
}

enum scsi_reason scsi_pr_result(struct scsi_task *t, const struct pr_result *res)
{
	struct scsi_result *sr = &scsi_tp(t)->res;
	enum scsi_reason r;

	switch (res->status) {
	case PR_GOOD:
		return SR_OK;
	case PR_RESERVATION_CONFLICT:
		return SR_RESERVATION_CONFLICT;
	case PR_CHECK_CONDITION:
		break;
	}
	switch (res->reason) {
	case PR_R_INVALID_FIELD_IN_CDB:
		r = SR_INVALID_CDB_FIELD;
		break;
	case PR_R_INVALID_FIELD_IN_PARAM:
		r = SR_INVALID_PARAM_FIELD;
		break;
	case PR_R_PARAM_LIST_LENGTH:
		r = SR_PARAM_LIST_LENGTH;
		break;
	case PR_R_INVALID_RELEASE:
		r = SR_INVALID_RELEASE;
		break;
	case PR_R_INSUFFICIENT_REG_RESOURCES:
		r = SR_INSUFFICIENT_REG_RES;
		break;
	case PR_R_INFO_LOST:
		r = SR_PR_INFO_LOST;
		break;
	case PR_R_NONE:
	default:
		r = SR_HARDWARE_ERROR;
		break;
	}
	if (res->field_valid) {
		/* SPC-4 4.5.2.4.2 field pointer */
		sr->sksv = true;
		sr->cd = res->field_in_cdb;
		sr->field = res->byte;
		sr->bpv = res->bit_valid;
		sr->bit = res->bit;
	}
	return r;
}

/* SPC-2 5.5.1 / 7.21: while an SPC-2 reservation is held, another I_T
 * nexus may run only INQUIRY, REPORT LUNS, REQUEST SENSE (the ALWAYS class)
 * and RELEASE (which then does nothing); everything else, PERSISTENT RESERVE
 * IN/OUT included (SPC-4 5.13.3), is a RESERVATION CONFLICT. */
static enum scsi_reason spc2_access(const struct scsi_nexus *nx, struct scsi_lu *lu,
				    enum pr_class cls)
{
	if (!lu->spc2_holder || lu->spc2_holder == nx)
		return SR_OK;
	if (cls == PR_CLASS_ALWAYS || cls == PR_CLASS_SPC2_RELEASE)
		return SR_OK;
	return SR_RESERVATION_CONFLICT;
}

enum scsi_reason scsi_pr_access(struct scsi_nexus *nx, struct scsi_lu *lu, const struct scsi_cmd *c,
				const uint8_t *cdb)
{
	enum pr_class cls = (enum pr_class)c->pr_class;
	struct pr_nexus_id who;
	enum scsi_reason r;

	(void)cdb;
	r = spc2_access(nx, lu, cls);
	if (r)
		return r;
	scsi_pr_who(nx, &who);
	switch (pr_check(&lu->pr, &who, cls)) {
	case PR_ACCESS_ALLOWED:
	case PR_ACCESS_NOOP_GOOD: /* the SPC-2 handlers ask pr_check again */
		return SR_OK;
	case PR_ACCESS_CONFLICT:
		return SR_RESERVATION_CONFLICT;
	case PR_ACCESS_LOST:
		/* SPC-4 5.13.5.3.2: DATA PROTECT, PR INFORMATION LOST */
		return SR_PR_INFO_LOST;
	}
	return SR_RESERVATION_CONFLICT;
}
