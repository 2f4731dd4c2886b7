/* SPDX-License-Identifier: MIT */
/* pr_state: the LU's registrations and reservation, as plain copyable data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pr_internal.h"

void pr_state_init(struct pr_state *st, unsigned max_registrants)
{
	memset(st, 0, sizeof(*st));
	st->max_registrants = max_registrants ? max_registrants : PR_DEFAULT_MAX_REGISTRANTS;
	st->res_scope = PR_SCOPE_LU;
}

void pr_state_free(struct pr_state *st)
{
	free(st->regs);
	st->regs = NULL;
	st->n_regs = st->cap_regs = 0;
}

int pr_state_copy(struct pr_state *dst, const struct pr_state *src)
{
	*dst = *src;
	dst->regs = NULL;
	dst->cap_regs = 0;
	if (src->n_regs == 0) {
		dst->n_regs = 0;
		return 0;
	}
	dst->regs = malloc(sizeof(*dst->regs) * src->n_regs);
	if (!dst->regs) {
		dst->n_regs = 0;
		return -ENOMEM;
	}
	memcpy(dst->regs, src->regs, sizeof(*dst->regs) * src->n_regs);
	dst->cap_regs = src->n_regs;
	return 0;
}

bool pr_type_valid(unsigned type)
{
	switch (type) {
	case PR_TYPE_WR_EX:
	case PR_TYPE_EX_AC:
	case PR_TYPE_WR_EX_RO:
	case PR_TYPE_EX_AC_RO:
	case PR_TYPE_WR_EX_AR:
	case PR_TYPE_EX_AC_AR:
		return true;
	default:
		return false;
	}
}

bool pr_type_all_registrants(unsigned type)
{
	return type == PR_TYPE_WR_EX_AR || type == PR_TYPE_EX_AC_AR;
}

/* iSCSI names compare case-insensitively: RFC 7143 4.2.7.1 names are
 * normalised to lower case (RFC 3722 stringprep), so accept either case. */
static bool name_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool pr_itn_matches(const struct pr_itn *itn, const struct pr_nexus_id *who)
{
	if (!who->initiator || itn->rel_tport_id != who->rel_tport_id ||
	    !name_eq(itn->initiator, who->initiator))
		return false;
	return !itn->has_isid || memcmp(itn->isid, who->isid, 6) == 0;
}

bool pr_itn_equal(const struct pr_itn *a, const struct pr_itn *b)
{
	if (a->rel_tport_id != b->rel_tport_id || a->has_isid != b->has_isid ||
	    !name_eq(a->initiator, b->initiator))
		return false;
	return !a->has_isid || memcmp(a->isid, b->isid, 6) == 0;
}

bool pr_itn_overlap(const struct pr_itn *a, const struct pr_itn *b)
{
	if (a->rel_tport_id != b->rel_tport_id || !name_eq(a->initiator, b->initiator))
		return false;
	return !a->has_isid || !b->has_isid || memcmp(a->isid, b->isid, 6) == 0;
}

void pr_itn_from_nexus(struct pr_itn *itn, const struct pr_nexus_id *who)
{
	memset(itn, 0, sizeof(*itn));
	if (who->initiator)
		util_strlcpy(itn->initiator, who->initiator, sizeof(itn->initiator));
	memcpy(itn->isid, who->isid, 6);
	itn->has_isid = true;
	itn->rel_tport_id = who->rel_tport_id;
}

int pr_find_idx(const struct pr_state *st, const struct pr_nexus_id *who)
{
	int wild = -1;

	for (unsigned i = 0; i < st->n_regs; i++) {
		const struct pr_itn *itn = &st->regs[i].itn;

		if (!pr_itn_matches(itn, who))
			continue;
		if (itn->has_isid)
			return (int)i;
		if (wild < 0)
			wild = (int)i;
	}
	return wild;
}

const struct pr_reg *pr_state_find(const struct pr_state *st, const struct pr_nexus_id *who)
{
	int i = pr_find_idx(st, who);

	return i < 0 ? NULL : &st->regs[i];
}

/* SPC-4 5.13.10: for an all registrants type every registered I_T nexus is a
 * holder; otherwise the one the reservation was established for/moved to. */
bool pr_is_holder(const struct pr_state *st, const struct pr_nexus_id *who)
{
	const struct pr_reg *r;

	if (!st->res_present)
		return false;
	r = pr_state_find(st, who);
	if (!r)
		return false;
	return pr_type_all_registrants(st->res_type) || r->holder;
}

int pr_add_reg(struct pr_state *st, const struct pr_reg *reg)
{
	if (st->n_regs == st->cap_regs) {
		unsigned cap = st->cap_regs ? st->cap_regs * 2 : 8;
		struct pr_reg *n = realloc(st->regs, sizeof(*n) * cap);

		if (!n)
			return -ENOMEM;
		st->regs = n;
		st->cap_regs = cap;
	}
	st->regs[st->n_regs++] = *reg;
	return 0;
}

void pr_del_reg(struct pr_state *st, unsigned idx)
{
	if (idx >= st->n_regs)
		return;
	memmove(&st->regs[idx], &st->regs[idx + 1], sizeof(*st->regs) * (st->n_regs - idx - 1));
	st->n_regs--;
}
