/* SPDX-License-Identifier: MIT */
/*
 * fuzz_prout: the persistent reservation engine (src/pr) fed sequences of
 * PERSISTENT RESERVE OUT commands (SPC-4 6.16) with arbitrary CDBs and
 * parameter lists, including TransportIDs (SPC-4 7.6.4.6, SPEC_I_PT and
 * REGISTER AND MOVE), from four I_T nexuses over two target ports. After each
 * command every PERSISTENT RESERVE IN service action (SPC-4 6.15) is encoded
 * and the access table (SPC-4 5.13.1) is consulted for every command class.
 *
 * Input: records of [nexus 1][CDB 10][param length 2, big endian][param ...],
 * at most 64 per input; the CDB's PARAMETER LIST LENGTH is set to the bytes
 * actually present (pr.h: param_len is what the CDB announces and the
 * transport received). The state carries over from command to command like on
 * a LU; a committed change replaces it (design.md: PROUT works on a copy).
 * Checks: pr_out returns 0 (or -ENOMEM); the next state keeps the registrant
 * limit, a valid type (table 204) and the holder rules (5.13.10); PR IN never
 * writes more than its allocation length and READ KEYS reports 8 bytes per
 * registration (6.15.2); a CHECK CONDITION names a reason; every state reached
 * survives an APTPL save and load unchanged (SPC-4 5.13.5.1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "targetd/pr.h"
#include "targetd/util.h"

#define MAX_REGS 8

static const struct pr_port ports_arr[] = {{1, 1}, {2, 2}};
static const struct pr_ports ports = {ports_arr, 2};

static const struct pr_nexus_id who_tab[4] = {
    {"iqn.2026-12.org.example:host1", {0x80, 0, 0, 0, 0, 1}, 1, 1},
    {"iqn.2026-12.org.example:host1", {0x80, 0, 0, 0, 0, 2}, 2, 2},
    {"iqn.2026-12.org.example:host2", {0x40, 0, 0, 0, 0, 1}, 1, 1},
    {"iqn.2026-12.org.example:host3", {0x80, 0, 0, 0, 0, 3}, 2, 2},
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_prout: invariant broken: %s\n", what);
		abort();
	}
}

static void check_state(const struct pr_state *st)
{
	unsigned holders = 0;

	check(st->n_regs <= MAX_REGS, "registrations above max_registrants (5.13.7)");
	check(!st->res_present || pr_type_valid(st->res_type), "reservation type (table 204)");
	check(!st->res_present || st->res_scope == PR_SCOPE_LU, "reservation scope");
	for (unsigned i = 0; i < st->n_regs; i++) {
		check(memchr(st->regs[i].itn.initiator, '\0', PR_NAME_MAX) != NULL,
		      "registrant name not terminated");
		check(st->regs[i].itn.initiator[0] != '\0', "registrant with an empty name");
		holders += st->regs[i].holder;
	}
	if (st->res_present && !pr_type_all_registrants(st->res_type))
		check(holders == 1, "non-all-registrants reservation with holders != 1 (5.13.10)");
	else
		check(holders == 0, "holder flag without a holder reservation");
}

/* Every state the engine can reach must survive an APTPL save and load
 * (SPC-4 5.13.5.1, docs/aptpl-format.md): encode, decode, same encoding. */
static void check_persistable(const struct pr_state *st)
{
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	unsigned line = 0;
	const char *msg = NULL;
	struct pr_state back;

	if (pr_state_encode(st, &t1, &l1))
		return;
	if (pr_state_decode(t1, l1, MAX_REGS, &back, &line, &msg)) {
		fprintf(stderr, "fuzz_prout: state not loadable after an APTPL save: line %u: %s\n",
			line, msg ? msg : "?");
		abort();
	}
	check(pr_state_encode(&back, &t2, &l2) == 0, "re-encode");
	check(l1 == l2 && !memcmp(t1, t2, l1), "APTPL save/load round trip differs");
	pr_state_free(&back);
	free(t1);
	free(t2);
}

static void check_pr_in(const struct pr_state *st, uint32_t alloc)
{
	static uint8_t buf[65536 + 64];

	for (uint8_t sa = 0; sa < 5; sa++) {
		struct pr_result res = {0};
		uint32_t out = 0;

		memset(buf + alloc, 0xa5, 64);
		if (pr_in(st, sa, buf, alloc, &out, &res))
			continue;
		check(out <= alloc, "PR IN wrote past the allocation length (SPC-4 4.2.5.6)");
		for (unsigned i = 0; i < 64; i++)
			check(buf[alloc + i] == 0xa5, "PR IN wrote past its buffer");
		if (sa == PR_IN_READ_KEYS && alloc >= 8 && res.status == PR_GOOD)
			check(get_be32(buf + 4) == 8u * st->n_regs, "READ KEYS additional length");
		if (sa > PR_IN_READ_FULL_STATUS)
			check(res.status == PR_CHECK_CONDITION,
			      "unknown PR IN service action accepted");
	}
	for (int cls = 0; cls < PR_CLASS__COUNT; cls++)
		for (int w = 0; w < 4; w++)
			(void)pr_check(st, &who_tab[w], (enum pr_class)cls);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_state cur;
	unsigned cmds = 0;

	pr_state_init(&cur, MAX_REGS);
	while (size >= 13 && cmds++ < 64) {
		const struct pr_nexus_id *who = &who_tab[data[0] & 3];
		uint32_t alloc = data[0] >> 2 ? (uint32_t)(data[0] >> 2) * 4u : 65536;
		uint8_t cdb[10];
		uint32_t plen = get_be16(data + 11);
		struct pr_state next;
		struct pr_effects fx;
		const uint8_t *param;
		uint8_t *pcopy = NULL;
		int r;

		memcpy(cdb, data + 1, 10);
		data += 13;
		size -= 13;
		if (plen > size)
			plen = (uint32_t)size;
		put_be32(cdb + 5, plen);
		/* exact-size heap copy: ASan catches any read past the list */
		if (plen) {
			pcopy = malloc(plen);
			if (!pcopy)
				break;
			memcpy(pcopy, data, plen);
		}
		param = pcopy;
		data += plen;
		size -= plen;

		memset(&fx, 0, sizeof(fx));
		r = pr_out(&cur, &next, cdb, param, plen, who, &ports, &fx);
		free(pcopy);
		check(r == 0 || r == -ENOMEM, "pr_out result");
		if (r)
			break;
		check(fx.result.status != PR_CHECK_CONDITION || fx.result.reason != PR_R_NONE,
		      "CHECK CONDITION without a reason");
		check(fx.result.status == PR_GOOD || !fx.changed,
		      "state changed by a failed command (SPC-4 5.13: no partial effects)");
		check_state(&next);
		for (unsigned i = 0; i < fx.n_ua; i++)
			check(fx.ua[i].asc == PR_ASC_UA, "unit attention ASC");
		if (fx.changed) {
			check_persistable(&next);
			pr_state_free(&cur);
			cur = next;
		} else {
			pr_state_free(&next);
		}
		pr_effects_free(&fx);
		check_pr_in(&cur, alloc);
	}
	pr_state_free(&cur);
	return 0;
}
