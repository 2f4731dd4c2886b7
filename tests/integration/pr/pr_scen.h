/* SPDX-License-Identifier: MIT */
/* The scenarios (one per ctest) and the three initiators they use. */
#ifndef PR_SCEN_H
#define PR_SCEN_H

#include "pr_lib.h"

/* PERSISTENT RESERVE OUT service actions (SPC-4 6.16.2 table 213) */
#define SA_REGISTER 0x00
#define SA_RESERVE 0x01
#define SA_RELEASE 0x02
#define SA_CLEAR 0x03
#define SA_PREEMPT 0x04
#define SA_PREEMPT_ABORT 0x05
#define SA_REGISTER_IGNORE 0x06
/* types (SPC-4 6.15.3.4 table 204) */
#define T_WE 1
#define T_EA 3
#define T_WE_RO 5
#define T_EA_RO 6
#define T_WE_AR 7
#define T_EA_AR 8

#define KA 0xa1a1a1a1a1a1a1a1ull
#define KB 0xb2b2b2b2b2b2b2b2ull
#define KC 0xc3c3c3c3c3c3c3c3ull

/* sense keys / ASCs used throughout */
#define SK_ILLEGAL 0x05
#define SK_UA 0x06
#define UA_POWER_ON 0x2900
#define UA_RES_PREEMPTED 0x2a03
#define UA_RES_RELEASED 0x2a04
#define UA_REG_PREEMPTED 0x2a05
#define UA_CMDS_CLEARED 0x2f00

extern struct ini A, B, C;
extern const char *g_state_file; /* APTPL scenario: where phase 1 leaves its snapshot */
extern int g_phase;

void scen_full_status(void);
void scen_register_and_move(void);
void scen_spec_i_pt(void);
void scen_all_tg_pt(void);
void scen_all_tg_pt_other_port_session(void);
void scen_move_to_other_port_session(void);
void scen_prgeneration(void);
void scen_unit_attentions(void);
void scen_relogin(void);
void scen_conflict_table(void);
void scen_fence_scsi(void);
void scen_preempt_abort(void);
void scen_aptpl_restart(void);
void scen_aptpl_off_restart(void);
void scen_insufficient_resources(void);
void scen_preempt_abort_pending_data_out(void);

#endif
