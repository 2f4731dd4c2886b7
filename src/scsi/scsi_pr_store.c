// SPDX-License-Identifier: MIT
/*
 * The APTPL state file of an LU (issue 11, docs/aptpl-format.md):
 * <state_dir>/pr-<serial>.state. Loaded when the LU is created, so the
 * reservation is enforced from the first command (SPC-4 5.13.5.1); written
 * by PROUTs on the worker thread with util_file_write_atomic (temp file,
 * fsync, rename, directory fsync: two fsyncs) and removed durably when APTPL
 * is turned off. PRgeneration is not in the file: a restart is a power on
 * and SPC-4 6.15.2 sets it to zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scsi_priv.h"
#include "targetd/util.h"

#define PR_FILE_MAX (4u << 20) /* far above any registrant limit's encoding */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

/* pr_state=ignore: keep the bad file for the operator, out of the way. */
static void move_aside(struct scsi_lu *lu, const char *path)
{
	char aside[4096];
	long long now = (long long)time(NULL);
	int n = -1, rc = -1;

	/* never over an earlier copy moved aside in the same second */
	for (unsigned i = 0; i < 100; i++) {
		n = i ? snprintf(aside, sizeof(aside), "%s.corrupt-%lld-%u", path, now, i)
		      : snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, now);
		if (n < 0 || (size_t)n >= sizeof(aside))
			break;
		rc = renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE);
		if (rc == 0 || errno != EEXIST)
			break;
	}
	if (n < 0 || (size_t)n >= sizeof(aside) || rc) {
		log_err(SCSI_LOG, "lu %s: cannot move %s aside: %s", lu->serial, path,
			strerror(errno));
		return;
	}
	fsync_dir(lu->core->state_dir);
	log_warn(SCSI_LOG, "lu %s: the unreadable state file was moved to %s", lu->serial, aside);
}

static const char *res_name(const struct pr_state *st)
{
	return st->res_present ? "a reservation" : "no reservation";
}

int scsi_pr_lu_init(struct scsi_lu *lu, const struct scsi_lu_params *lp)
{
	const char *dir = lu->core->state_dir;
	char path[4096];
	char *buf = NULL;
	size_t len = 0;
	unsigned line = 0;
	const char *msg = NULL;
	struct pr_state st;
	int rc, n;

	pr_state_init(&lu->pr, lu->core->max_registrants);
	scsi_pr_out_init(lu);
	if (!dir)
		return 0; /* no state directory: APTPL commits will fail */
	/* conf_check_serial keeps serials to [A-Za-z0-9._:-], not leading
	 * '.'; check again, the serial names a file */
	if (strchr(lu->serial, '/') || lu->serial[0] == '.') {
		log_err(SCSI_LOG, "lu %s: serial cannot name a state file", lu->serial);
		return -EINVAL;
	}
	n = asprintf(&lu->pr_file, "pr-%s.state", lu->serial);
	if (n < 0) {
		lu->pr_file = NULL;
		return -ENOMEM;
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir, lu->pr_file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	rc = util_file_read_all(path, &buf, &len, PR_FILE_MAX);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		log_err(SCSI_LOG, "lu %s: cannot read persistent reservation state %s: %s",
			lu->serial, path, strerror(-rc));
		return rc;
	}
	rc = pr_state_decode(buf, len, lu->core->max_registrants, &st, &line, &msg);
	free(buf);
	if (rc) {
		if (!lp->pr_ignore_state) {
			log_err(SCSI_LOG,
				"lu %s: %s:%u: %s; the LU does not start (pr_state = ignore in its "
				"[lun] section starts it without reservations)",
				lu->serial, path, line, msg ? msg : "cannot decode");
			/* distinct from every other failure: the daemon starts
			 * without this LU only (issue 11: other LUs unaffected) */
			return -EUCLEAN;
		}
		log_err(SCSI_LOG,
			"lu %s: %s:%u: %s; pr_state = ignore: STARTING WITH NO PERSISTENT "
			"RESERVATIONS OR REGISTRATIONS (APTPL state lost)",
			lu->serial, path, line, msg ? msg : "cannot decode");
		move_aside(lu, path);
		return 0;
	}
	pr_state_free(&lu->pr);
	lu->pr = st;
	/* the canonical encoding of what is on disk: a PROUT that would
	 * write the same bytes writes nothing */
	if (pr_state_encode(&lu->pr, &lu->pr_text, &lu->pr_text_len)) {
		lu->pr_text = NULL;
		return -ENOMEM;
	}
	log_notice(SCSI_LOG, "lu %s: restored %u registration(s) and %s from %s (APTPL)",
		   lu->serial, lu->pr.n_regs, res_name(&lu->pr), path);
	return 0;
}

void scsi_pr_lu_fini(struct scsi_lu *lu)
{
	struct scsi_pr_pua *p;

	pr_state_free(&lu->pr);
	while ((p = lu->pua)) {
		lu->pua = p->next;
		free(p);
	}
	free(lu->pr_file);
	free(lu->pr_text);
	lu->pr_file = lu->pr_text = NULL;
}

/* Worker thread: reads only what does not change after LU creation. */
static int store_work(void *arg)
{
	struct scsi_pr_op *op = arg;
	const char *dir = op->lu->core->state_dir;

	if (!dir || !op->lu->pr_file)
		return -ENOENT;
	if (op->text)
		return util_file_write_atomic(dir, op->lu->pr_file, op->text, op->text_len);
	return util_file_remove_durable(dir, op->lu->pr_file);
}

void scsi_pr_store_submit(struct scsi_pr_op *op, void (*done)(void *arg, int result))
{
	op->job.work = store_work;
	op->job.done = done;
	op->job.arg = op;
	evl_job_submit(op->lu->core->evl, &op->job);
}
