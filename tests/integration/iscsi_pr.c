// SPDX-License-Identifier: MIT
/*
 * iscsi_pr: one persistent reservation step as a given initiator port, for
 * the APTPL integration tests (test_pr.py). Logs in with a fixed ISID (OUI
 * format, qualifier from the command line) so a later run is the same I_T
 * nexus (QUALIFIER: the OUI-format ISID's qualifier, or a whole
 * random-format ISID of 12 hex digits starting with 80), clears unit attentions with TEST UNIT READY, runs one operation and
 * prints its result on stdout:
 *
 *   iscsi_pr URL INITIATOR QUALIFIER register KEY APTPL   -> status=N
 *   iscsi_pr URL INITIATOR QUALIFIER reserve KEY TYPE      -> status=N
 *   iscsi_pr URL INITIATOR QUALIFIER write|read            -> status=N
 *   iscsi_pr URL INITIATOR QUALIFIER keys                  -> gen=N keys=K1,K2
 *   iscsi_pr URL INITIATOR QUALIFIER res                   -> type=T key=K
 *   iscsi_pr URL INITIATOR QUALIFIER luns                  -> luns=L1,L2 (REPORT LUNS)
 *   iscsi_pr URL INITIATOR QUALIFIER full                  -> one line per registrant:
 *                                                            key=K holder=H type=T isid=I name=N
 *   iscsi_pr URL INITIATOR QUALIFIER storm BASE N          -> ack=K per line
 *   iscsi_pr URL INITIATOR QUALIFIER bench N APTPL         -> p50/p99 latency
 *
 * storm re-registers N times with APTPL=1 and keys BASE+1 .. BASE+N, printing
 * (and flushing) each key once its GOOD status arrived: the crash test kills
 * the daemon meanwhile and checks the restored key is the last acknowledged
 * one or the one in flight.
 *
 * Exit 0 when the command ran (whatever its SCSI status), 2 on a transport
 * or usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)scsi_get_uint32(p) << 32 | scsi_get_uint32(p + 4);
}

static struct iscsi_context *c;
static struct iscsi_url *u;

/* Frees everything (a sanitizer build of this tool reports leaks). */
static int finish(int rc)
{
	if (u)
		iscsi_destroy_url(u);
	if (c)
		iscsi_destroy_context(c);
	return rc;
}

static int status_of(struct scsi_task *t)
{
	int s = t ? t->status : -1;

	if (t)
		scsi_free_scsi_task(t);
	return s;
}

/* "status=N", plus " sense=K/AA/QQ" for CHECK CONDITION */
static void print_status(struct scsi_task *t)
{
	if (t && t->status == SCSI_STATUS_CHECK_CONDITION)
		printf("status=%d sense=%02x/%02x/%02x\n", t->status, t->sense.key,
		       (t->sense.ascq >> 8) & 0xff, t->sense.ascq & 0xff);
	else
		printf("status=%d\n", t ? t->status : -1);
	if (t)
		scsi_free_scsi_task(t);
}

int main(int argc, char **argv)
{
	struct scsi_task *t;
	const char *op;
	int lun;

	if (argc < 5) {
		fprintf(stderr, "usage: iscsi_pr URL INITIATOR QUALIFIER OP [ARGS]\n");
		return 2;
	}
	op = argv[4];
	c = iscsi_create_context(argv[2]);
	u = c ? iscsi_parse_full_url(c, argv[1]) : NULL;
	if (!u) {
		fprintf(stderr, "bad url %s\n", argv[1]);
		return finish(2);
	}
	iscsi_set_targetname(c, u->target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	if (strlen(argv[3]) == 12 && !strncmp(argv[3], "80", 2)) {
		/* a whole random-format ISID (RFC 7143 10.12.5, T = 10b), e.g.
		 * 8000a0010000 of the LIO sample */
		uint64_t isid = strtoull(argv[3], NULL, 16);
		iscsi_set_isid_random(c, (uint32_t)(isid >> 16) & 0xffffff,
				      (uint32_t)isid & 0xffff);
	} else {
		iscsi_set_isid_oui(c, 0x001405, (uint32_t)strtoul(argv[3], NULL, 0));
	}
	/* a dead daemon is an error here, not something to wait out */
	iscsi_set_noautoreconnect(c, 1);
	iscsi_set_reconnect_max_retries(c, 0);
	if (iscsi_full_connect_sync(c, u->portal, u->lun)) {
		fprintf(stderr, "login: %s\n", iscsi_get_error(c));
		return finish(2);
	}
	lun = u->lun;
	/* SAM-5 5.14: report (and so clear) pending unit attentions first */
	for (int i = 0; i < 16; i++) {
		t = iscsi_testunitready_sync(c, lun);
		if (!t)
			return finish(2);
		int ua = t->status == SCSI_STATUS_CHECK_CONDITION &&
		    t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
		scsi_free_scsi_task(t);
		if (!ua)
			break;
	}
	if (!strcmp(op, "register") && argc == 7) {
		struct scsi_persistent_reserve_out_basic b = {.service_action_reservation_key =
								  strtoull(argv[5], NULL, 0),
							      .aptpl = (uint8_t)atoi(argv[6])};
		print_status(iscsi_persistent_reserve_out_sync(
		    c, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, &b));
	} else if (!strcmp(op, "storm") && argc == 7) {
		uint64_t base = strtoull(argv[5], NULL, 0);
		long n = atol(argv[6]);
		for (long i = 1; i <= n; i++) {
			struct scsi_persistent_reserve_out_basic b = {
			    .service_action_reservation_key = base + (uint64_t)i, .aptpl = 1};
			t = iscsi_persistent_reserve_out_sync(
			    c, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
			    &b);
			if (!t)
				return finish(2); /* the daemon went away */
			if (t->status != SCSI_STATUS_GOOD) {
				fprintf(stderr, "storm: status %d\n", t->status);
				return finish(2);
			}
			scsi_free_scsi_task(t);
			printf("ack=%llx\n", (unsigned long long)(base + (uint64_t)i));
			fflush(stdout);
		}
	} else if (!strcmp(op, "bench") && argc == 7) {
		/* PROUT latency (issue 11 benchmark): N re-registrations */
		long n = atol(argv[5]);
		int aptpl = atoi(argv[6]);
		double *us = calloc((size_t)(n > 0 ? n : 1), sizeof(*us));
		if (!us || n <= 0)
			return finish(2);
		for (long i = 0; i < n; i++) {
			struct scsi_persistent_reserve_out_basic b = {
			    .service_action_reservation_key = 0x1000 + (uint64_t)i,
			    .aptpl = (uint8_t)aptpl};
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			t = iscsi_persistent_reserve_out_sync(
			    c, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0,
			    &b);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (status_of(t) != SCSI_STATUS_GOOD) {
				free(us);
				return finish(2);
			}
			us[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
		}
		for (long i = 1; i < n; i++) /* insertion sort: n is small */
			for (long j = i; j > 0 && us[j - 1] > us[j]; j--) {
				double x = us[j];
				us[j] = us[j - 1];
				us[j - 1] = x;
			}
		printf(
		    "PROUT REGISTER AND IGNORE EXISTING KEY, APTPL=%d, %ld commands: p50 %.0f us, "
		    "p99 %.0f us\n",
		    aptpl, n, us[n / 2], us[n * 99 / 100]);
		free(us);
	} else if (!strcmp(op, "reserve") && argc == 7) {
		struct scsi_persistent_reserve_out_basic b = {.reservation_key =
								  strtoull(argv[5], NULL, 0)};
		printf("status=%d\n",
		       status_of(iscsi_persistent_reserve_out_sync(
			   c, lun, SCSI_PERSISTENT_RESERVE_RESERVE, 0, atoi(argv[6]), &b)));
	} else if (!strcmp(op, "write") || !strcmp(op, "read")) {
		static unsigned char buf[512];
		if (op[0] == 'w')
			t = iscsi_write10_sync(c, lun, 0, buf, 512, 512, 0, 0, 0, 0, 0);
		else
			t = iscsi_read10_sync(c, lun, 0, 512, 512, 0, 0, 0, 0, 0);
		printf("status=%d\n", status_of(t));
	} else if (!strcmp(op, "keys")) {
		t = iscsi_persistent_reserve_in_sync(c, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS,
						     4096);
		if (!t || t->status || t->datain.size < 8)
			return finish(2);
		uint32_t n = scsi_get_uint32(t->datain.data + 4) / 8;
		printf("gen=%u keys=", scsi_get_uint32(t->datain.data));
		for (uint32_t i = 0; i < n && 8 + 8 * (int)i + 8 <= t->datain.size; i++)
			printf("%s%llx", i ? "," : "",
			       (unsigned long long)be64(t->datain.data + 8 + 8 * i));
		printf("\n");
		scsi_free_scsi_task(t);
	} else if (!strcmp(op, "res")) {
		t = iscsi_persistent_reserve_in_sync(
		    c, lun, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 4096);
		if (!t || t->status || t->datain.size < 8)
			return finish(2);
		if (t->datain.size >= 24)
			printf("type=%u key=%llx\n", t->datain.data[21] & 0x0f,
			       (unsigned long long)be64(t->datain.data + 8));
		else
			printf("type=0 key=0\n");
		scsi_free_scsi_task(t);
	} else if (!strcmp(op, "luns")) {
		/* SPC-4 6.33: the LUN inventory of this I_T nexus */
		struct scsi_reportluns_list *l;
		t = iscsi_reportluns_sync(c, 0, 4096);
		if (!t || t->status)
			return finish(2);
		l = scsi_datain_unmarshall(t);
		if (!l) {
			scsi_free_scsi_task(t);
			return finish(2);
		}
		printf("luns=");
		for (uint32_t i = 0; i < l->num; i++)
			printf("%s%u", i ? "," : "", (unsigned)l->luns[i]);
		printf("\n");
		scsi_free_scsi_task(t);
	} else if (!strcmp(op, "full")) {
		/* SPC-4 6.15.5 READ FULL STATUS: one line per registrant */
		t = iscsi_persistent_reserve_in_sync(
		    c, lun, SCSI_PERSISTENT_RESERVE_READ_FULL_STATUS, 8192);
		if (!t || t->status || t->datain.size < 8)
			return finish(2);
		const unsigned char *d = t->datain.data;
		uint32_t len = scsi_get_uint32(d + 4), off = 8;
		if (len > (uint32_t)t->datain.size - 8)
			len = (uint32_t)t->datain.size - 8;
		printf("gen=%u\n", scsi_get_uint32(d));
		while (off + 24 <= 8 + len) {
			const unsigned char *e = d + off;
			uint32_t tl = scsi_get_uint32(e + 20);
			const unsigned char *tid = e + 24;
			if (off + 24 + tl > 8 + len)
				break;
			/* iSCSI TransportID format 01b: "name,i,0xISID" (SPC-4 7.6.4.6) */
			printf("key=%llx holder=%u type=%u rtpi=%u all_tg_pt=%u tid=%.*s\n",
			       (unsigned long long)be64(e), e[12] & 1, e[13] & 0x0f,
			       (unsigned)(e[18] << 8 | e[19]), (e[12] >> 1) & 1,
			       tl > 4 ? (int)strnlen((const char *)tid + 4, tl - 4) : 0,
			       (const char *)tid + 4);
			off += 24 + tl;
		}
		scsi_free_scsi_task(t);
	} else {
		fprintf(stderr, "unknown op %s\n", op);
		return finish(2);
	}
	iscsi_logout_sync(c);
	return finish(0);
}
