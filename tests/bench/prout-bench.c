// SPDX-License-Identifier: MIT
/*
 * prout-bench: PERSISTENT RESERVE OUT latency (issue 11 benchmark; not a
 * test). One initiator port runs N cycles of
 *   REGISTER AND IGNORE EXISTING KEY (new key, APTPL as given; SPC-4 6.16.7)
 *   RESERVE (type 1, Write Exclusive; SPC-4 6.16.5)
 *   RELEASE (type 1; SPC-4 6.16.4)
 * each of which changes the PR state, so with APTPL=1 each is one durable
 * commit (temp file, fsync, rename, directory fsync) before GOOD, and with
 * APTPL=0 none is. Prints p50/p99/max per service action and overall, then
 * unregisters (which removes the state file if APTPL was on).
 *
 *   prout-bench URL N APTPL [INITIATOR]
 *
 * Fsyncs per commit are counted on the daemon side: see
 * tests/bench/prout-bench.sh (strace -f -c -e fsync,fdatasync) and
 * docs/aptpl-format.md. Exit 0, 1 on a non-GOOD status, 2 on usage/login.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

enum {
	OP_REGISTER,
	OP_RESERVE,
	OP_RELEASE,
	N_OPS
};
static const char *const op_name[N_OPS] = {"REGISTER AND IGNORE", "RESERVE", "RELEASE"};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *us, long n)
{
	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	printf("  %-20s n=%-6ld p50 %8.0f us  p99 %8.0f us  max %8.0f us\n", what, n, us[n / 2],
	       us[n * 99 / 100], us[n - 1]);
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One PROUT; its latency in us, or < 0 if it did not end GOOD. */
static double prout(struct iscsi_context *c, int lun, int sa, int type, uint64_t key, uint64_t sark,
		    int aptpl)
{
	struct scsi_persistent_reserve_out_basic b = {.reservation_key = key,
						      .service_action_reservation_key = sark,
						      .aptpl = (uint8_t)aptpl};
	double t0 = now_us();
	struct scsi_task *t = iscsi_persistent_reserve_out_sync(c, lun, sa, 0, type, &b);
	double dt = now_us() - t0;
	int st = t ? t->status : -1;

	if (t)
		scsi_free_scsi_task(t);
	if (st != SCSI_STATUS_GOOD) {
		fprintf(stderr, "prout-bench: service action %d: status %d\n", sa, st);
		return -1;
	}
	return dt;
}

int main(int argc, char **argv)
{
	struct iscsi_context *c;
	struct iscsi_url *u;
	double *us[N_OPS + 1];
	long n;
	int aptpl, lun, rc = 0;
	uint64_t key = 0;

	if (argc < 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: prout-bench URL N APTPL [INITIATOR]\n");
		return 2;
	}
	aptpl = atoi(argv[3]) ? 1 : 0;
	c = iscsi_create_context(argc > 4 ? argv[4] : "iqn.2026-12.org.example:prout-bench");
	u = c ? iscsi_parse_full_url(c, argv[1]) : NULL;
	if (!u) {
		fprintf(stderr, "prout-bench: bad url %s\n", argv[1]);
		return 2;
	}
	iscsi_set_targetname(c, u->target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(c, u->portal, u->lun)) {
		fprintf(stderr, "prout-bench: login: %s\n", iscsi_get_error(c));
		return 2;
	}
	lun = u->lun;
	for (int i = 0; i < 8; i++) { /* SAM-5 5.14: clear unit attentions */
		struct scsi_task *t = iscsi_testunitready_sync(c, lun);
		int ua = t && t->status == SCSI_STATUS_CHECK_CONDITION;

		if (t)
			scsi_free_scsi_task(t);
		if (!ua)
			break;
	}
	for (int k = 0; k <= N_OPS; k++)
		if (!(us[k] = calloc((size_t)n * (k == N_OPS ? N_OPS : 1), sizeof(double))))
			return 2;
	for (long i = 0; i < n && !rc; i++) {
		uint64_t nk = 0x5000 + (uint64_t)i + 1;
		double d[N_OPS];

		d[OP_REGISTER] =
		    prout(c, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
			  nk, aptpl);
		key = nk;
		d[OP_RESERVE] = prout(c, lun, SCSI_PERSISTENT_RESERVE_RESERVE, 1, key, 0, 0);
		d[OP_RELEASE] = prout(c, lun, SCSI_PERSISTENT_RESERVE_RELEASE, 1, key, 0, 0);
		for (int k = 0; k < N_OPS; k++) {
			if (d[k] < 0)
				rc = 1;
			us[k][i] = d[k];
			us[N_OPS][i * N_OPS + k] = d[k];
		}
	}
	if (!rc) {
		printf("PROUT latency, APTPL=%d, %ld cycles (%ld commands, every one a state "
		       "change%s):\n",
		       aptpl, n, n * N_OPS, aptpl ? " committed durably" : ", memory only");
		for (int k = 0; k < N_OPS; k++)
			report(op_name[k], us[k], n);
		report("all", us[N_OPS], n * N_OPS);
	}
	/* leave the LU as found: unregister (removes the state file) */
	if (key &&
	    prout(c, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, 0, 0) < 0)
		rc = 1;
	for (int k = 0; k <= N_OPS; k++)
		free(us[k]);
	iscsi_logout_sync(c);
	iscsi_destroy_url(u);
	iscsi_destroy_context(c);
	return rc;
}
