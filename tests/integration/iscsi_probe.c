/* SPDX-License-Identifier: MIT */
/*
 * iscsi_probe: one long-lived iSCSI session (libiscsi) driven line by line
 * from stdin, so a test can observe what a running session sees across a live
 * reload: unit attentions, REPORT LUNS, capacity, a dropped connection.
 * Automatic reconnects are off: a connection the target ends stays ended.
 *
 * usage: iscsi_probe [-i INITIATOR] URL
 * Commands (one per line) and their one-line answers on stdout:
 *   tur            GOOD | CHECK k/asc/ascq | ERROR text   (TEST UNIT READY)
 *   luns           LUNS n n ... | CHECK ... | ERROR ...    (REPORT LUNS)
 *   cap            CAP blocks block_size | CHECK | ERROR   (READ CAPACITY(16))
 *   read LBA       GOOD | CHECK | ERROR                    (READ(16), 1 block)
 *   prreg KEY      GOOD | CHECK | CONFLICT | ERROR         (PROUT REGISTER AND IGNORE)
 *   prres TYPE KEY GOOD | CHECK | CONFLICT | ERROR         (PROUT RESERVE)
 *   quit           logout, exit 0
 * It prints "READY" once logged in ("LOGIN-FAILED text" and exit 2 if not).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static int lun;

/* Prints the generic outcome; returns 1 if GOOD (caller may print more). */
static int outcome(struct iscsi_context *iscsi, struct scsi_task *task, int print_good)
{
	if (!task) {
		printf("ERROR %s\n", iscsi_get_error(iscsi));
		return 0;
	}
	if (task->status == SCSI_STATUS_GOOD) {
		if (print_good)
			printf("GOOD\n");
		return 1;
	}
	if (task->status == SCSI_STATUS_CHECK_CONDITION)
		printf("CHECK %x/%02x/%02x\n", task->sense.key, (task->sense.ascq >> 8) & 0xff,
		       task->sense.ascq & 0xff);
	else if (task->status == SCSI_STATUS_RESERVATION_CONFLICT)
		printf("CONFLICT\n");
	else
		printf("ERROR status %d: %s\n", task->status, iscsi_get_error(iscsi));
	return 0;
}

static void run(struct iscsi_context *iscsi, char *line)
{
	struct scsi_task *task = NULL;
	char *arg = strchr(line, ' ');

	if (arg)
		*arg++ = '\0';
	if (!strcmp(line, "tur")) {
		task = iscsi_testunitready_sync(iscsi, lun);
		outcome(iscsi, task, 1);
	} else if (!strcmp(line, "luns")) {
		task = iscsi_reportluns_sync(iscsi, 0, 16384);
		if (outcome(iscsi, task, 0)) {
			struct scsi_reportluns_list *l = scsi_datain_unmarshall(task);

			printf("LUNS");
			for (uint32_t i = 0; l && i < l->num; i++)
				printf(" %u", l->luns[i] & 0x3fff);
			printf("\n");
		}
	} else if (!strcmp(line, "cap")) {
		task = iscsi_readcapacity16_sync(iscsi, lun);
		if (outcome(iscsi, task, 0)) {
			struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(task);

			if (rc)
				printf("CAP %" PRIu64 " %u\n", rc->returned_lba + 1,
				       rc->block_length);
			else
				printf("ERROR cannot parse READ CAPACITY data\n");
		}
	} else if (!strcmp(line, "read") && arg) {
		task =
		    iscsi_read16_sync(iscsi, lun, strtoull(arg, NULL, 0), 512, 512, 0, 0, 0, 0, 0);
		outcome(iscsi, task, 1);
	} else if (!strcmp(line, "prreg") && arg) {
		struct scsi_persistent_reserve_out_basic b = {.service_action_reservation_key =
								  strtoull(arg, NULL, 0)};

		task = iscsi_persistent_reserve_out_sync(
		    iscsi, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, &b);
		outcome(iscsi, task, 1);
	} else if (!strcmp(line, "prres") && arg) {
		char *key = strchr(arg, ' ');
		struct scsi_persistent_reserve_out_basic b = {0};

		if (!key) {
			printf("ERROR usage: prres TYPE KEY\n");
			return;
		}
		b.reservation_key = strtoull(key + 1, NULL, 0);
		task = iscsi_persistent_reserve_out_sync(
		    iscsi, lun, SCSI_PERSISTENT_RESERVE_RESERVE, 0, (int)strtol(arg, NULL, 0), &b);
		outcome(iscsi, task, 1);
	} else {
		printf("ERROR unknown command\n");
	}
	if (task)
		scsi_free_scsi_task(task);
}

int main(int argc, char **argv)
{
	const char *initiator = "iqn.2026-11.org.example:probe";
	struct iscsi_context *iscsi;
	struct iscsi_url *url;
	char line[256];
	int opt;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt != 'i') {
			fprintf(stderr, "usage: iscsi_probe [-i INITIATOR] URL\n");
			return 2;
		}
		initiator = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: iscsi_probe [-i INITIATOR] URL\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	iscsi = iscsi_create_context(initiator);
	url = iscsi ? iscsi_parse_full_url(iscsi, argv[optind]) : NULL;
	if (!url) {
		printf("LOGIN-FAILED bad url %s\n", argv[optind]);
		return 2;
	}
	iscsi_set_targetname(iscsi, url->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_reconnect_max_retries(iscsi, 0);
	iscsi_set_timeout(iscsi, 10);
	if (iscsi_full_connect_sync(iscsi, url->portal, url->lun) != 0) {
		printf("LOGIN-FAILED %s\n", iscsi_get_error(iscsi));
		return 2;
	}
	lun = url->lun;
	printf("READY\n");
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strcmp(line, "quit"))
			break;
		run(iscsi, line);
	}
	iscsi_logout_sync(iscsi);
	iscsi_destroy_url(url);
	iscsi_destroy_context(iscsi);
	return 0;
}
