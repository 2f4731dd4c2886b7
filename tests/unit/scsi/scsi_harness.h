/* SPDX-License-Identifier: MIT */
/*
 * Test fixture for the scsi unit tests: a real evloop, the real mem bdev, one
 * target with one portal group and LUN 0, and helpers that submit a CDB and
 * run the loop until its done() fires. Every helper asserts the scsi.h rule
 * that done never runs inside scsi_task_submit().
 */
#ifndef SCSI_HARNESS_H
#define SCSI_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targetd/bdev.h"
#include "targetd/evloop.h"
#include "targetd/scsi.h"
#include "targetd/util.h"

#define FX_TARGET "iqn.2026-12.org.example:disk1"
#define FX_INIT "iqn.2026-12.org.example:host1"
#define FX_INIT2 "iqn.2026-12.org.example:host2"

struct fx {
	struct evl *evl;
	struct scsi_core *core;
	struct scsi_target *tgt;
	struct scsi_lu *lu;
	struct scsi_nexus *nx;
	struct evl_timer *guard;
	int pending;
	bool timed_out;
};

struct cmd {
	struct scsi_task t;
	struct fx *fx;
	int ndone;
	int order; /* completion order among tasks and TMFs (fx_seq) */
	bool submitting;
};

static int fx_seq;

static inline void fx_guard(void *arg)
{
	struct fx *f = arg;

	f->timed_out = true;
	evl_stop(f->evl);
}

static inline void fx_run(struct fx *f)
{
	if (f->pending <= 0)
		return;
	assert_int_equal(evl_timer_arm(f->guard, 5000, 0), 0);
	assert_int_equal(evl_run(f->evl), 0);
	evl_timer_arm(f->guard, 0, 0);
	assert_false(f->timed_out);
	assert_int_equal(f->pending, 0);
}

static inline void cmd_done_cb(struct scsi_task *t)
{
	struct cmd *c = container_of(t, struct cmd, t);

	assert_false(c->submitting); /* scsi.h: never inside scsi_task_submit */
	c->ndone++;
	c->order = ++fx_seq;
	if (--c->fx->pending == 0)
		evl_stop(c->fx->evl);
}

static inline void cmd_prep(struct cmd *c, struct fx *f, struct scsi_nexus *nx, uint64_t lun,
			    const uint8_t *cdb, size_t cdb_len, uint32_t edtl, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	c->fx = f;
	c->t.nexus = nx;
	c->t.lun_raw = lun < 256 ? lun << 48 : (0x4000ull | lun) << 48;
	memcpy(c->t.cdb, cdb, cdb_len);
	c->t.cdb_len = (uint8_t)cdb_len;
	c->t.edtl = edtl;
	c->t.flags = flags;
	c->t.done = cmd_done_cb;
}

/* Data-out: allocate the buffer as the transport would and fill it. */
static inline void cmd_data_out(struct cmd *c, const void *data, uint32_t len)
{
	c->t.buf_alloc = len ? len : 1;
	c->t.buf = util_buf_alloc(c->t.buf_alloc);
	assert_non_null(c->t.buf);
	if (len)
		memcpy(c->t.buf, data, len);
	c->t.data_out_len = len;
}

static inline void cmd_submit(struct cmd *c)
{
	c->fx->pending++;
	c->submitting = true;
	scsi_task_submit(&c->t);
	c->submitting = false;
	assert_int_equal(c->ndone, 0);
}

static inline void cmd_fini(struct cmd *c)
{
	if (c->t.buf)
		util_buf_free(c->t.buf, c->t.buf_alloc);
	c->t.buf = NULL;
}

/* Submit on the fixture's nexus and LUN 0 and run until done. */
static inline void cmd_run(struct cmd *c, struct fx *f, const uint8_t *cdb, size_t cdb_len,
			   uint32_t edtl, uint32_t flags)
{
	cmd_prep(c, f, f->nx, 0, cdb, cdb_len, edtl, flags);
	cmd_submit(c);
	fx_run(f);
	assert_int_equal(c->ndone, 1);
}

/* Fixed format sense (SPC-4 4.5.3) key / ASC / ASCQ. */
static inline void assert_sense(const struct cmd *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
	assert_int_equal(c->t.status, SCSI_STATUS_CHECK_CONDITION);
	assert_true(c->t.sense_len >= 18);
	assert_int_equal(c->t.sense[0] & 0x7f, 0x70);
	assert_int_equal(c->t.sense[2] & 0x0f, key);
	assert_int_equal(c->t.sense[12], asc);
	assert_int_equal(c->t.sense[13], ascq);
}

/* INVALID FIELD IN CDB with SKSV=1, C/D=1 and the given field/bit pointer. */
static inline void assert_invalid_cdb(const struct cmd *c, uint16_t field, int bit)
{
	assert_sense(c, 0x05, 0x24, 0x00);
	uint8_t want = 0x80 | 0x40 | (bit >= 0 ? 0x08 | bit : 0);
	assert_int_equal(c->t.sense[15], want);
	assert_int_equal(get_be16(c->t.sense + 16), field);
}

static inline void assert_good(const struct cmd *c)
{
	assert_int_equal(c->t.status, SCSI_STATUS_GOOD);
	assert_false(c->t.aborted);
	assert_int_equal(c->t.sense_len, 0);
}

/* Loop, core, one LU from lp as LUN 0 of FX_TARGET, a nexus, and the power
 * on unit attention consumed. */
static inline void fx_init_params(struct fx *f, const struct scsi_lu_params *lp)
{
	struct scsi_core_params cp = {.state_dir = "/tmp", .max_registrants = 64};
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 1};
	struct cmd c;

	memset(f, 0, sizeof(*f));
	assert_int_equal(evl_create(&f->evl), 0);
	assert_int_equal(evl_timer_create(f->evl, fx_guard, f, &f->guard), 0);
	assert_int_equal(scsi_core_create(f->evl, &cp, &f->core), 0);
	assert_int_equal(scsi_lu_create(f->core, lp, &f->lu), 0);
	assert_int_equal(scsi_target_create(f->core, FX_TARGET, &f->tgt), 0);
	assert_int_equal(scsi_target_add_port(f->tgt, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(f->tgt, 0, f->lu), 0);
	f->nx = scsi_nexus_get(f->tgt, FX_INIT, isid, 1);
	assert_non_null(f->nx);
	/* consume the power on unit attention (SAM-5 6.3.1) */
	static const uint8_t tur[6] = {0};
	cmd_run(&c, f, tur, 6, 0, 0);
	assert_sense(&c, 0x06, 0x29, 0x00);
	cmd_fini(&c);
}

static inline void fx_init_lu(struct fx *f, const char *path, uint32_t bs, bool ro, bool wc)
{
	struct scsi_lu_params lp = {
	    .path = path,
	    .block_size = bs,
	    .serial = "targetd-test-0001",
	    .read_only = ro,
	    .write_cache = wc,
	};

	fx_init_params(f, &lp);
}

static inline void fx_init(struct fx *f)
{
	fx_init_lu(f, "mem:1M", 512, false, true);
}

static inline void fx_fini(struct fx *f)
{
	scsi_nexus_put(f->nx);
	scsi_core_destroy(f->core);
	evl_timer_destroy(f->guard);
	evl_destroy(f->evl);
}

static inline int fx_setup(void **state)
{
	static struct fx f;

	fx_init(&f);
	*state = &f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	fx_fini(*state);
	return 0;
}

#endif
