// SPDX-License-Identifier: MIT
/*
 * pr_scenarios: persistent reservation integration scenarios against a live
 * targetd (tests/integration/pr/run_scenario.py starts it). Three libiscsi
 * initiators with distinct names and fixed ISIDs.
 *
 *   pr_scenarios --portal1 H:P --portal2 H:P --target IQN [--lun N]
 *                [--state FILE --phase N] SCENARIO
 *
 * Exit 0: every check passed; 1: a check failed (each printed as
 * file:line: FAIL: ...); 2: usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_scen.h"

struct ini A = {"A", "iqn.2026-01.test.prtest:node-a", 0x0a0a0a, 1, 0, NULL};
struct ini B = {"B", "iqn.2026-01.test.prtest:node-b", 0x0b0b0b, 1, 0, NULL};
struct ini C = {"C", "iqn.2026-01.test.prtest:node-c", 0x0c0c0c, 1, 0, NULL};
const char *g_state_file;
int g_phase = 1;

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
    {"full_status", scen_full_status},
    {"register_and_move", scen_register_and_move},
    {"spec_i_pt", scen_spec_i_pt},
    {"all_tg_pt", scen_all_tg_pt},
    {"all_tg_pt_other_port_session", scen_all_tg_pt_other_port_session},
    {"move_to_other_port_session", scen_move_to_other_port_session},
    {"prgeneration", scen_prgeneration},
    {"unit_attentions", scen_unit_attentions},
    {"relogin", scen_relogin},
    {"conflict_table", scen_conflict_table},
    {"fence_scsi", scen_fence_scsi},
    {"preempt_abort", scen_preempt_abort},
    {"aptpl_restart", scen_aptpl_restart},
    {"aptpl_off_restart", scen_aptpl_off_restart},
    {"insufficient_resources", scen_insufficient_resources},
    {"preempt_abort_pending_data_out", scen_preempt_abort_pending_data_out},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"portal1", required_argument, NULL, '1'},
	    {"portal2", required_argument, NULL, '2'},
	    {"target", required_argument, NULL, 't'},
	    {"lun", required_argument, NULL, 'l'},
	    {"state", required_argument, NULL, 's'},
	    {"phase", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case '1':
			g_portal[1] = optarg;
			break;
		case '2':
			g_portal[2] = optarg;
			break;
		case 't':
			g_target = optarg;
			break;
		case 'l':
			g_lun = atoi(optarg);
			break;
		case 's':
			g_state_file = optarg;
			break;
		case 'p':
			g_phase = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !g_portal[1] || !g_portal[2] || !g_target) {
		fprintf(stderr,
			"usage: %s --portal1 H:P --portal2 H:P --target IQN [--lun N] "
			"[--state FILE --phase N] SCENARIO\n",
			argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].name, argv[optind]))
			continue;
		scenarios[i].fn();
		if (A.ctx)
			ini_logout(&A);
		if (B.ctx)
			ini_logout(&B);
		if (C.ctx)
			ini_logout(&C);
		printf("%s: %s (%d failure(s))\n", argv[optind], g_failures ? "FAIL" : "ok",
		       g_failures);
		return g_failures ? 1 : 0;
	}
	fprintf(stderr, "unknown scenario %s\n", argv[optind]);
	return 2;
}
