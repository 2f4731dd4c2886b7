/* SPDX-License-Identifier: MIT */
/* pr internals shared by the pr_*.c files. Not a public header. */
#ifndef TARGETD_PR_INTERNAL_H
#define TARGETD_PR_INTERNAL_H

#include "targetd/pr.h"
#include "targetd/util.h"

/* Does registration identity `itn` cover the I_T nexus `who`? */
bool pr_itn_matches(const struct pr_itn *itn, const struct pr_nexus_id *who);
/* Same initiator port(s) and target port (exact identity, wildcard ISID
 * equal only to wildcard). */
bool pr_itn_equal(const struct pr_itn *a, const struct pr_itn *b);
/* Would a registration for `a` and one for `b` describe an overlapping I_T
 * nexus (same name, same target port, ISIDs equal or either a wildcard)? */
bool pr_itn_overlap(const struct pr_itn *a, const struct pr_itn *b);
void pr_itn_from_nexus(struct pr_itn *itn, const struct pr_nexus_id *who);

/* Index of who's registration (exact ISID match preferred) or -1. */
int pr_find_idx(const struct pr_state *st, const struct pr_nexus_id *who);
/* Append a registration; -ENOMEM. Capacity limits are the caller's job. */
int pr_add_reg(struct pr_state *st, const struct pr_reg *reg);
void pr_del_reg(struct pr_state *st, unsigned idx);

#endif
