/* SPDX-License-Identifier: MIT */
/* pr_result: the reason -> sense triple (documentation for the scsi glue's
 * one sense table; SPC-4 4.5.6 / annex) and releasing PROUT effects. */
#include <stdlib.h>

#include "pr_internal.h"

void pr_reason_sense(enum pr_reason r, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	static const struct {
		uint8_t key, asc, ascq;
	} tab[] = {
	    [PR_R_NONE] = {0x00, 0x00, 0x00},
	    [PR_R_INVALID_FIELD_IN_CDB] = {0x05, 0x24, 0x00},
	    [PR_R_INVALID_FIELD_IN_PARAM] = {0x05, 0x26, 0x00},
	    [PR_R_PARAM_LIST_LENGTH] = {0x05, 0x1a, 0x00},
	    [PR_R_INVALID_RELEASE] = {0x05, 0x26, 0x04},
	    [PR_R_INSUFFICIENT_REG_RESOURCES] = {0x05, 0x55, 0x04},
	    [PR_R_INFO_LOST] = {0x07, 0x44, 0x01},
	};
	unsigned i = (unsigned)r < ARRAY_SIZE(tab) ? (unsigned)r : 0;

	*key = tab[i].key;
	*asc = tab[i].asc;
	*ascq = tab[i].ascq;
}

void pr_effects_free(struct pr_effects *fx)
{
	free(fx->ua);
	free(fx->abort);
	fx->ua = NULL;
	fx->abort = NULL;
	fx->n_ua = fx->n_abort = 0;
}
