/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cdb: CDB dispatch of the SCSI target core (src/scsi) through
 * scsi_task_submit, with a real evloop and the mem: backend, the way the
 * iSCSI transport drives it: the CDB table, SPC-4 / SBC-4 commands, sense,
 * unit attentions, task attributes (SAM-5 8.6), the PR glue with APTPL files
 * on the evloop worker, and task management (SAM-5 7).
 *
 * Each input is a fresh power-on: a core with two LUs (LUN 0: mem:1M, 512-byte
 * blocks; LUN 1: mem:1M, 4096-byte blocks, read-only, write cache off), one
 * target with two ports, two nexuses. The input is up to 16 records:
 *   [ctl 1][cdb length selector 1][CDB n][length 2, big endian][data-out ...]
 * ctl bits 0-1: R/W flags (SCSI_TASK_F_*); bit 2: second nexus; bits 3-4: task
 * attribute; bit 5: LUN 1 (bit 6 as well: unmapped LUN 7); bit 7: a TMF
 * instead of a command (function = CDB[0] % 8, ABORT TASK's tag = CDB[1]).
 * CDB length is 6, 10, 12, 16 or 32 (selector % 5). For W the length is the
 * data-out byte count taken from the input (EDTL = it); otherwise EDTL is
 * length * 8. Records are submitted back to back (up to 8 in flight) unless
 * the selector's bit 7 asks to wait for everything first.
 * Checks (scsi.h contract): done exactly once and never inside
 * scsi_task_submit; data_in_len <= buf_alloc when there is data; sense_len
 * <= SCSI_SENSE_MAX; CHECK CONDITION carries fixed or descriptor sense
 * (SPC-4 4.5) of at least 8 bytes; a TMF's done runs after its tasks' (SAM-5
 * 7.1); everything settles within 10 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "targetd/evloop.h"
#include "targetd/scsi.h"
#include "targetd/util.h"

#define MAX_REC 16
#define MAX_INFLIGHT 8

struct fcmd {
	struct scsi_task t;
	struct scsi_tmf_req tmf;
	bool is_tmf, in_submit;
	int ndone;
};

static struct evl *evl;
static int pending;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cdb: invariant broken: %s\n", what);
		abort();
	}
}

static void task_done(struct scsi_task *t)
{
	struct fcmd *c = t->transport_priv;

	check(!c->in_submit, "done inside scsi_task_submit (scsi.h)");
	check(++c->ndone == 1, "task done twice");
	check(t->sense_len <= SCSI_SENSE_MAX, "sense_len above SCSI_SENSE_MAX");
	if (t->data_in_len) {
		check(t->buf != NULL, "data_in_len without a buffer");
		check(t->data_in_len <= t->buf_alloc, "data_in_len above buf_alloc");
	}
	if (!t->aborted && t->status == SCSI_STATUS_CHECK_CONDITION) {
		uint8_t rc = t->sense[0] & 0x7f;

		check(t->sense_len >= 8, "CHECK CONDITION with short sense (SPC-4 4.5)");
		check(rc >= 0x70 && rc <= 0x73, "sense response code (SPC-4 4.5.1)");
	}
	pending--;
}

static void tmf_done(struct scsi_tmf_req *req, enum scsi_tmf_resp resp)
{
	struct fcmd *c = req->transport_priv;

	check(!c->in_submit, "TMF done inside scsi_tmf_submit");
	check(++c->ndone == 1, "TMF done twice");
	check(resp <= SCSI_TMF_REJECTED, "TMF response");
	pending--;
}

static bool settled(void *arg)
{
	(void)arg;
	return pending == 0;
}

static uint64_t lun_raw(uint64_t lun)
{
	return lun << 48; /* SAM-5 4.7.4 peripheral addressing, LUN < 256 */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (evl_create(&evl)) {
		fprintf(stderr, "fuzz_cdb: evl_create failed\n");
		abort();
	}
	fuzz_state_dir_get();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cdb_lens[5] = {6, 10, 12, 16, 32};
	static const uint8_t isid1[6] = {0x80, 0, 0, 0, 0, 1}, isid2[6] = {0x40, 0, 0, 0, 0, 2};
	struct scsi_core_params cp = {.state_dir = fuzz_state_dir_get(), .max_registrants = 8};
	struct scsi_lu_params lp0 = {
	    .path = "mem:1M", .block_size = 512, .serial = "FUZZ-LU0", .write_cache = true};
	struct scsi_lu_params lp1 = {
	    .path = "mem:1M", .block_size = 4096, .serial = "FUZZ-LU1", .read_only = true};
	struct fcmd *cmds = calloc(MAX_REC, sizeof(*cmds));
	struct scsi_core *core = NULL;
	struct scsi_lu *lu0, *lu1;
	struct scsi_target *tgt;
	struct scsi_nexus *nx[2];
	int n = 0;

	if (!cmds)
		return 0;
	fuzz_state_dir_clean();
	if (scsi_core_create(evl, &cp, &core) || scsi_lu_create(core, &lp0, &lu0) ||
	    scsi_lu_create(core, &lp1, &lu1) ||
	    scsi_target_create(core, "iqn.2026-12.org.example:fuzz", &tgt) ||
	    scsi_target_add_port(tgt, 1, 1) || scsi_target_add_port(tgt, 2, 2) ||
	    scsi_target_map_lun(tgt, 0, lu0) || scsi_target_map_lun(tgt, 1, lu1)) {
		fprintf(stderr, "fuzz_cdb: setup failed\n");
		abort();
	}
	nx[0] = scsi_nexus_get(tgt, "iqn.2026-12.org.example:host1", isid1, 1);
	nx[1] = scsi_nexus_get(tgt, "iqn.2026-12.org.example:host2", isid2, 2);
	check(nx[0] && nx[1], "nexus");

	while (n < MAX_REC && size >= 2) {
		struct fcmd *c = &cmds[n];
		uint8_t ctl = data[0], sel = data[1];
		uint8_t cl = cdb_lens[sel % 5];
		uint64_t lun = ctl & 0x20 ? (ctl & 0x40 ? 7 : 1) : 0;
		uint32_t len;

		data += 2;
		size -= 2;
		if (size < (size_t)cl + 2)
			break;
		len = get_be16(data + cl);
		if (pending >= MAX_INFLIGHT || (sel & 0x80))
			fuzz_evl_pump(evl, settled, NULL, 10000);
		c->t.transport_priv = c;
		c->tmf.transport_priv = c;
		if (ctl & 0x80) {
			c->is_tmf = true;
			c->tmf.nexus = nx[(ctl >> 2) & 1];
			c->tmf.fn = (enum scsi_tmf_fn)(data[0] % 8);
			c->tmf.lun_raw = lun_raw(lun);
			c->tmf.ref_tag = data[1];
			c->tmf.done = tmf_done;
			data += (size_t)cl + 2;
			size -= (size_t)cl + 2;
			pending++;
			n++;
			c->in_submit = true;
			scsi_tmf_submit(&c->tmf);
			c->in_submit = false;
			continue;
		}
		c->t.nexus = nx[(ctl >> 2) & 1];
		c->t.lun_raw = lun_raw(lun);
		memcpy(c->t.cdb, data, cl);
		c->t.cdb_len = cl;
		c->t.attr = (enum scsi_task_attr)((ctl >> 3) & 3);
		c->t.flags = ctl & 3;
		c->t.tag = (uint64_t)n;
		c->t.done = task_done;
		data += (size_t)cl + 2;
		size -= (size_t)cl + 2;
		if (c->t.flags & SCSI_TASK_F_WRITE) {
			if (len > size)
				len = (uint32_t)size;
			c->t.edtl = len;
			c->t.buf_alloc = len ? len : 1;
			c->t.buf = util_buf_alloc(c->t.buf_alloc);
			check(c->t.buf != NULL, "util_buf_alloc");
			memcpy(c->t.buf, data, len);
			c->t.data_out_len = len;
			data += len;
			size -= len;
		} else {
			c->t.edtl = len * 8u;
		}
		pending++;
		n++;
		c->in_submit = true;
		scsi_task_submit(&c->t);
		c->in_submit = false;
	}
	fuzz_evl_pump(evl, settled, NULL, 10000);
	for (int i = 0; i < n; i++) {
		check(cmds[i].ndone == 1, "command never completed");
		if (cmds[i].t.buf)
			util_buf_free(cmds[i].t.buf, cmds[i].t.buf_alloc);
	}
	fuzz_state_dir_check_aptpl();
	scsi_nexus_put(nx[0]);
	scsi_nexus_put(nx[1]);
	fuzz_evl_pump(evl, NULL, NULL, 10000);
	scsi_core_destroy(core);
	free(cmds);
	return 0;
}
