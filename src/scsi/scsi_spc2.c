// SPDX-License-Identifier: MIT
/*
 * SPC-2 RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21, 7.22, 7.17, 7.18)
 * with the Compatible Reservation Handling of SPC-4 5.13.3 (CRH=1 in REPORT
 * CAPABILITIES). Logical unit reservations only: the third-party and
 * extent forms are refused by the CDB usage masks. The holder is an I_T
 * nexus; LUN reset, hard reset and I_T nexus loss release the reservation
 * (SPC-2 5.5.1), persistent reservations are not touched by any of them.
 */
#include "scsi_priv.h"
#include "targetd/util.h"

/* SPC-4 5.13.3: from the persistent reservation holder, or a registrant
 * under a registrants only / all registrants type, RESERVE and RELEASE
 * complete with GOOD and change nothing. Otherwise SPC-2 applies, and
 * SPC-2 5.5.1 makes every RESERVE and RELEASE a RESERVATION CONFLICT while
 * any I_T nexus is registered. */
static enum scsi_reason crh(struct scsi_task *t, struct scsi_lu *lu, enum pr_class cls, bool *done)
{
	struct pr_nexus_id who;

	scsi_pr_who(t->nexus, &who);
	*done = true;
	switch (pr_check(&lu->pr, &who, cls)) {
	case PR_ACCESS_NOOP_GOOD:
		return SR_OK;
	case PR_ACCESS_CONFLICT:
		return SR_RESERVATION_CONFLICT;
	case PR_ACCESS_LOST:
		return SR_PR_INFO_LOST;
	case PR_ACCESS_ALLOWED:
		break;
	}
	if (lu->pr.n_regs)
		return SR_RESERVATION_CONFLICT;
	*done = false;
	return SR_OK;
}

enum scsi_reason scsi_spc2_reserve(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	bool done;
	enum scsi_reason r = crh(t, lu, PR_CLASS_SPC2_RESERVE, &done);

	if (done)
		return r;
	/* SPC-2 7.21.1: reserved by another I_T nexus -> conflict (the access
	 * hook already refused it); by this one -> the reservation stays */
	if (lu->spc2_holder && lu->spc2_holder != t->nexus)
		return SR_RESERVATION_CONFLICT;
	lu->spc2_holder = t->nexus;
	return SR_OK;
}

enum scsi_reason scsi_spc2_release(struct scsi_task *t)
{
	struct scsi_lu *lu = scsi_tp(t)->lu;
	bool done;
	enum scsi_reason r = crh(t, lu, PR_CLASS_SPC2_RELEASE, &done);

	if (done)
		return r;
	/* SPC-2 7.17: a RELEASE from an I_T nexus that holds no reservation
	 * (none, or another's) completes GOOD and releases nothing */
	if (lu->spc2_holder == t->nexus)
		lu->spc2_holder = NULL;
	return SR_OK;
}

void scsi_spc2_release_lu(struct scsi_lu *lu, const struct scsi_nexus *nx)
{
	if (lu->spc2_holder && (!nx || lu->spc2_holder == nx))
		lu->spc2_holder = NULL;
}
