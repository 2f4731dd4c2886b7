/* SPDX-License-Identifier: MIT */
/*
 * pr_access: which command classes an I_T nexus may run under which
 * persistent reservation -- SPC-4 5.13.1 table 65 (SPC commands), SBC-4 4.17
 * table 13 (block commands) and 5.13.3 (SPC-2 RESERVE/RELEASE with CRH=1).
 *
 * The table is data. Each row gives table 65's five columns for a class:
 *   we, ea     "from any I_T nexus" not holding a Write Exclusive /
 *              Exclusive Access reservation (registered or not);
 *   reg_rr     "from a registered I_T nexus" under a registrants only or
 *              all registrants type (RR);
 *   we_rr, ea_rr "from a not registered I_T nexus" under WR EX RO/AR and
 *              EX AC RO/AR respectively.
 * The holder (every registrant, for all registrants types, 5.13.10) is
 * always allowed, except for the SPC-2 classes whose holder outcome is
 * given explicitly. pr_check expands a row to the six types x three roles.
 */
#include "pr_internal.h"

#define A PR_ACCESS_ALLOWED
#define C PR_ACCESS_CONFLICT
#define N PR_ACCESS_NOOP_GOOD

struct access_row {
	uint8_t holder, we, ea, reg_rr, we_rr, ea_rr;
	bool allowed_when_lost; /* SPC-4 5.13.5.2 list */
};

static const struct access_row access_table[PR_CLASS__COUNT] = {
    /*                         holder we ea reg_rr we_rr ea_rr lost */
    /* table 65: INQUIRY, REPORT LUNS, REQUEST SENSE, LOG SENSE, REPORT TPG */
    [PR_CLASS_ALWAYS] = {A, A, A, A, A, A, true},
    /* table 65: PERSISTENT RESERVE IN, READ MEDIA SERIAL NUMBER; SBC-4
	 * table 13: READ CAPACITY(10)/(16) */
    [PR_CLASS_INFO] = {A, A, A, A, A, A, false},
    /* table 65: TEST UNIT READY (Allowed^b; ALLOW COMMANDS 011b) */
    [PR_CLASS_TUR] = {A, A, A, A, A, A, false},
    /* SBC-4 table 13: READ(*), VERIFY(*), PRE-FETCH, GET LBA STATUS:
	 * allowed through Write Exclusive, conflict under Exclusive Access */
    [PR_CLASS_READ] = {A, A, C, A, A, C, false},
    /* table 65: MODE SENSE, READ BUFFER, RECEIVE DIAGNOSTIC RESULTS,
	 * REPORT SUPPORTED OPCODES/TMFs; SBC-4: READ DEFECT DATA (Allowed^b
	 * under WE, reported as ALLOW COMMANDS 011b) */
    [PR_CLASS_READ_INFO] = {A, A, C, A, A, C, false},
    /* SBC-4 table 13: WRITE(*), WRITE SAME, UNMAP, COMPARE AND WRITE,
	 * SYNCHRONIZE CACHE, FORMAT UNIT, WRITE AND VERIFY */
    [PR_CLASS_WRITE] = {A, C, C, A, C, C, false},
    /* table 65: MODE SELECT, LOG SELECT, WRITE BUFFER, SEND DIAGNOSTIC;
	 * SBC-4: START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL */
    [PR_CLASS_CONTROL] = {A, C, C, A, C, C, false},
    /* table 66 is applied inside pr_out (which also handles the lost
	 * condition: REPLACE LOST RESERVATION must get through) */
    [PR_CLASS_PR_OUT] = {A, A, A, A, A, A, true},
    /* 5.13.3: RESERVE/RELEASE(6/10) from the holder, or from a registrant
	 * under an RR type, complete GOOD and change nothing; otherwise SPC-2
	 * applies, which conflicts with a persistent reservation held by
	 * another I_T nexus */
    [PR_CLASS_SPC2_RESERVE] = {N, C, C, N, C, C, false},
    [PR_CLASS_SPC2_RELEASE] = {N, C, C, N, C, C, false},
};

#undef A
#undef C
#undef N

enum pr_access pr_check(const struct pr_state *st, const struct pr_nexus_id *who, enum pr_class cls)
{
	const struct access_row *row;
	const struct pr_reg *reg;
	bool rr, holder;

	if ((unsigned)cls >= PR_CLASS__COUNT)
		return PR_ACCESS_CONFLICT;
	row = &access_table[cls];
	/* SPC-4 5.13.5.3.2: recoverable lost PR condition */
	if (st->lost && !row->allowed_when_lost)
		return PR_ACCESS_LOST;
	if (!st->res_present)
		return PR_ACCESS_ALLOWED;
	reg = pr_state_find(st, who);
	holder = reg && (pr_type_all_registrants(st->res_type) || reg->holder);
	if (holder)
		return (enum pr_access)row->holder;
	switch ((enum pr_type)st->res_type) {
	case PR_TYPE_WR_EX:
		return (enum pr_access)row->we;
	case PR_TYPE_EX_AC:
		return (enum pr_access)row->ea;
	case PR_TYPE_WR_EX_RO:
	case PR_TYPE_EX_AC_RO:
	case PR_TYPE_WR_EX_AR:
	case PR_TYPE_EX_AC_AR:
		rr = true;
		break;
	case PR_TYPE_NONE:
	default:
		return PR_ACCESS_CONFLICT;
	}
	if (rr && reg)
		return (enum pr_access)row->reg_rr;
	if (st->res_type == PR_TYPE_WR_EX_RO || st->res_type == PR_TYPE_WR_EX_AR)
		return (enum pr_access)row->we_rr;
	return (enum pr_access)row->ea_rr;
}
