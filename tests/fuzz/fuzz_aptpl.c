/* SPDX-License-Identifier: MIT */
/*
 * fuzz_aptpl: the persistent-reservation state-file readers in src/pr
 * (docs/aptpl-format.md): pr_state_decode for targetd's own APTPL file and
 * pr_lio_import for a Linux LIO aptpl_<serial> file. Both read a file an
 * operator or a damaged disk can hand the daemon at LU start (SPC-4 5.13.5.1
 * persist through power loss).
 *
 * Input: byte 0 picks the reader and options, the rest is the file.
 *   bit 0   LIO import (otherwise targetd format)
 *   bit 1   targetd format: recompute the crc32c line, so the fuzzer gets past
 *           the checksum into the line parsers (a real file carries a good one)
 *   bits 2-3 registrant limit: 1, 2, 8 or 128
 * Checks: a failed decode names a message and leaves the state empty; a
 * successful one respects the registrant limit, holds a valid reservation
 * type (SPC-4 6.15.3.4 table 204) with exactly one holder for a
 * non-all-registrants type (SPC-4 5.13.10), and round-trips: encode, decode
 * and encode again give the same text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "targetd/pr.h"
#include "targetd/util.h"

#define LIO_TARGET "iqn.2003-01.org.linux-iscsi.vmtarget:lio"

static const struct pr_port ports_arr[] = {{1, 1}, {2, 2}};
static const struct pr_ports ports = {ports_arr, 2};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_aptpl: invariant broken: %s\n", what);
		abort();
	}
}

static void check_state(const struct pr_state *st, unsigned max_regs)
{
	unsigned holders = 0;

	check(st->n_regs <= max_regs, "more registrations than max_registrants");
	check(st->n_regs <= st->cap_regs || st->cap_regs == 0, "n_regs above capacity");
	check(!st->res_present || pr_type_valid(st->res_type), "reservation type (table 204)");
	for (unsigned i = 0; i < st->n_regs; i++) {
		const struct pr_reg *r = &st->regs[i];

		check(memchr(r->itn.initiator, '\0', sizeof(r->itn.initiator)) != NULL,
		      "initiator name not terminated");
		holders += r->holder;
	}
	if (st->res_present && !pr_type_all_registrants(st->res_type))
		check(holders == 1, "non-all-registrants reservation needs one holder (5.13.10)");
	if (!st->res_present)
		check(holders == 0, "holder without a reservation");
}

/* Rewrite the last "crc32c=" line with the checksum of what precedes it. */
static size_t fix_crc(char *buf, size_t len, size_t cap)
{
	char *crc = NULL;

	for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), "crc32c=", 7)); p++)
		if (p == buf || p[-1] == '\n')
			crc = p;
	if (!crc)
		return len;
	size_t pre = (size_t)(crc - buf);
	int n = snprintf(crc, cap - pre, "crc32c=%08x\n", util_crc32c(0, buf, pre));

	return pre + (size_t)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned limits[] = {1, 2, 8, 128};
	struct pr_state st;
	unsigned line = 0, max_regs;
	const char *msg = NULL;
	char *buf;
	size_t len;
	uint8_t ctl;
	int r;

	if (size < 1)
		return 0;
	ctl = data[0];
	max_regs = limits[(ctl >> 2) & 3];
	len = size - 1;
	buf = malloc(len + 32); /* exact-size copy plus room for a fixed crc line */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (ctl & 1) {
		r = pr_lio_import(buf, len, LIO_TARGET, 0, &ports, max_regs, &st, &line, &msg);
	} else {
		if (ctl & 2)
			len = fix_crc(buf, len, len + 32);
		r = pr_state_decode(buf, len, max_regs, &st, &line, &msg);
	}
	check(r == 0 || r == -EINVAL || r == -ENOMEM, "decode result");
	if (r == -EINVAL) {
		check(msg != NULL, "failed decode without a message");
		check(st.n_regs == 0, "failed decode left registrations");
		pr_state_free(&st);
	}
	if (r == 0) {
		char *t1 = NULL, *t2 = NULL;
		size_t l1 = 0, l2 = 0;
		struct pr_state st2;

		check_state(&st, max_regs);
		if (pr_state_encode(&st, &t1, &l1) == 0) {
			r = pr_state_decode(t1, l1, max_regs, &st2, &line, &msg);
			if (r) {
				fprintf(stderr, "fuzz_aptpl: re-decode failed at line %u: %s\n",
					line, msg ? msg : "?");
				abort();
			}
			check(st2.n_regs == st.n_regs, "round trip lost registrations");
			check(st2.res_present == st.res_present && st2.res_type == st.res_type,
			      "round trip changed the reservation");
			check(pr_state_encode(&st2, &t2, &l2) == 0, "re-encode");
			check(l1 == l2 && !memcmp(t1, t2, l1), "encode(decode(encode(x))) differs");
			pr_state_free(&st2);
		}
		free(t1);
		free(t2);
		pr_state_free(&st);
	}
	free(buf);
	return 0;
}
