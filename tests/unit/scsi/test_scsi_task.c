// SPDX-License-Identifier: MIT
/* Task lifecycle, unit attentions (SAM-5 5.14) and task management (SAM-5 7)
 * through scsi_task_submit / scsi_tmf_submit (real evloop + mem bdev). */
#include "scsi_harness.h"
#include "scsi_priv.h"

static const uint8_t tur[6] = {0};
static const uint8_t isid2[6] = {0x80, 0, 0, 0, 0, 2};

struct tmf {
	struct scsi_tmf_req req;
	struct fx *fx;
	int ndone;
	enum scsi_tmf_resp resp;
	int order;
};

static void tmf_done_cb(struct scsi_tmf_req *req, enum scsi_tmf_resp resp)
{
	struct tmf *m = container_of(req, struct tmf, req);

	m->ndone++;
	m->resp = resp;
	m->order = ++fx_seq;
	if (--m->fx->pending == 0)
		evl_stop(m->fx->evl);
}

static void tmf_submit(struct tmf *m, struct fx *f, struct scsi_nexus *nx, enum scsi_tmf_fn fn,
		       uint64_t ref_tag)
{
	memset(m, 0, sizeof(*m));
	m->fx = f;
	m->req.nexus = nx;
	m->req.fn = fn;
	m->req.lun_raw = 0;
	m->req.ref_tag = ref_tag;
	m->req.done = tmf_done_cb;
	f->pending++;
	scsi_tmf_submit(&m->req);
	assert_int_equal(m->ndone, 0);
}

static void read1(struct cmd *c, struct fx *f, struct scsi_nexus *nx, uint64_t tag)
{
	uint8_t cdb[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};

	cmd_prep(c, f, nx, 0, cdb, 10, 512, SCSI_TASK_F_READ);
	c->t.tag = tag;
	cmd_submit(c);
}

static struct scsi_nexus *second_nexus(struct fx *f)
{
	struct scsi_nexus *nx = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	struct cmd c;

	assert_non_null(nx);
	cmd_prep(&c, f, nx, 0, tur, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x06, 0x29, 0x00);
	return nx;
}

static void run_tur(struct fx *f, struct scsi_nexus *nx, struct cmd *c)
{
	cmd_prep(c, f, nx, 0, tur, 6, 0, 0);
	cmd_submit(c);
	fx_run(f);
}

static void sam5_6_3_1_power_on_ua_reported_once(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
	struct cmd c;

	/* SAM-5 5.14: INQUIRY is not failed and does not clear the UA */
	cmd_prep(&c, f, nx, 0, inq, 6, 36, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
	run_tur(f, nx, &c);
	assert_sense(&c, 0x06, 0x29, 0x00);
	run_tur(f, nx, &c);
	assert_good(&c);
	/* the first nexus is unaffected */
	run_tur(f, f->nx, &c);
	assert_good(&c);
	scsi_nexus_put(nx);
}

static void sam5_4_6_4_nexus_state_survives_relogin(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	struct cmd c;

	scsi_nexus_put(nx);
	/* same initiator port again: same nexus, UA still pending */
	struct scsi_nexus *again = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	assert_ptr_equal(nx, again);
	run_tur(f, again, &c);
	assert_sense(&c, 0x06, 0x29, 0x00);
	scsi_nexus_put(again);
	/* an unknown portal group gets no nexus */
	assert_null(scsi_nexus_get(f->tgt, FX_INIT2, isid2, 99));
}

static void spc4_6_39_request_sense_reports_and_clears_ua(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	uint8_t rs[6] = {0x03, 0, 0, 0, 252, 0};
	struct cmd c;

	cmd_prep(&c, f, nx, 0, rs, 6, 252, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(c.t.buf[2], 0x06);
	assert_int_equal(c.t.buf[12], 0x29);
	cmd_fini(&c);
	run_tur(f, nx, &c);
	assert_good(&c);
	scsi_nexus_put(nx);
}

static void sam5_5_14_ua_precedes_invalid_opcode(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx = scsi_nexus_get(f->tgt, FX_INIT2, isid2, 1);
	uint8_t bad[6] = {0x02, 0, 0, 0, 0, 0};
	struct cmd c;

	cmd_prep(&c, f, nx, 0, bad, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x06, 0x29, 0x00);
	cmd_prep(&c, f, nx, 0, bad, 6, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x20, 0x00);
	scsi_nexus_put(nx);
}

static void sam5_7_2_abort_task_in_flight_read(void **state)
{
	struct fx *f = *state;
	struct cmd c, other;
	struct tmf m;

	read1(&c, f, f->nx, 0x1234);
	read1(&other, f, f->nx, 0x9999);
	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK, 0x1234);
	fx_run(f);
	assert_int_equal(c.ndone, 1);
	assert_true(c.t.aborted);
	assert_int_equal(m.ndone, 1);
	assert_int_equal(m.resp, SCSI_TMF_COMPLETE);
	/* SAM-5 7.1: the TMF completes after the aborted task */
	assert_true(c.order < m.order);
	assert_good(&other);
	cmd_fini(&c);
	cmd_fini(&other);
}

static void sam5_7_1_tmf_response_after_all_aborted_tasks(void **state)
{
	struct fx *f = *state;
	struct cmd a, b;
	struct tmf m;

	/* ABORT TASK SET over two in-flight tasks: the TMF response comes
	 * after both aborted tasks' done */
	read1(&a, f, f->nx, 7);
	read1(&b, f, f->nx, 8);
	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK_SET, 0);
	fx_run(f);
	assert_true(a.t.aborted && b.t.aborted);
	assert_int_equal(m.ndone, 1);
	assert_true(a.order < m.order && b.order < m.order);
	cmd_fini(&a);
	cmd_fini(&b);
}

static void sam5_7_2_abort_task_unknown_tag(void **state)
{
	struct fx *f = *state;
	struct tmf m;

	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK, 0xdead);
	fx_run(f);
	assert_int_equal(m.resp, SCSI_TMF_NO_TASK);
}

static void sam5_7_2_abort_task_unknown_lun(void **state)
{
	struct fx *f = *state;
	struct tmf m;

	memset(&m, 0, sizeof(m));
	m.fx = f;
	m.req.nexus = f->nx;
	m.req.fn = SCSI_TMF_LUN_RESET;
	m.req.lun_raw = 5ull << 48;
	m.req.done = tmf_done_cb;
	f->pending++;
	scsi_tmf_submit(&m.req);
	fx_run(f);
	assert_int_equal(m.resp, SCSI_TMF_NO_LUN);
}

static void sam5_6_3_3_lun_reset_aborts_and_sets_ua_for_every_nexus(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx2 = second_nexus(f);
	struct cmd a, b, c;
	struct tmf m;

	read1(&a, f, f->nx, 1);
	read1(&b, f, nx2, 2);
	tmf_submit(&m, f, f->nx, SCSI_TMF_LUN_RESET, 0);
	fx_run(f);
	assert_true(a.t.aborted);
	assert_true(b.t.aborted);
	assert_int_equal(m.resp, SCSI_TMF_COMPLETE);
	cmd_fini(&a);
	cmd_fini(&b);
	/* SAM-5 6.3.3: 29/03 for every I_T nexus, the requester's included */
	run_tur(f, nx2, &c);
	assert_sense(&c, 0x06, 0x29, 0x03);
	run_tur(f, nx2, &c);
	assert_good(&c);
	run_tur(f, f->nx, &c);
	assert_sense(&c, 0x06, 0x29, 0x03);
	run_tur(f, f->nx, &c);
	assert_good(&c);
	scsi_nexus_put(nx2);
}

static void sam5_7_4_clear_task_set_commands_cleared_ua(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx2 = second_nexus(f);
	struct cmd a, b, c;
	struct tmf m;

	read1(&a, f, f->nx, 1);
	read1(&b, f, nx2, 2);
	tmf_submit(&m, f, f->nx, SCSI_TMF_CLEAR_TASK_SET, 0);
	fx_run(f);
	assert_true(a.t.aborted);
	assert_true(b.t.aborted);
	cmd_fini(&a);
	cmd_fini(&b);
	run_tur(f, nx2, &c);
	assert_sense(&c, 0x06, 0x2f, 0x00);
	scsi_nexus_put(nx2);
}

static void sam5_7_3_abort_task_set_only_own_nexus(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx2 = second_nexus(f);
	struct cmd a, b, c;
	struct tmf m;

	read1(&a, f, f->nx, 1);
	read1(&b, f, nx2, 2);
	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK_SET, 0);
	fx_run(f);
	assert_true(a.t.aborted);
	assert_good(&b);
	cmd_fini(&a);
	cmd_fini(&b);
	run_tur(f, nx2, &c);
	assert_good(&c);
	scsi_nexus_put(nx2);
}

static void sam5_6_3_2_target_warm_reset_ua(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx2 = second_nexus(f);
	struct cmd c;
	struct tmf m;

	tmf_submit(&m, f, f->nx, SCSI_TMF_TARGET_WARM_RESET, 0);
	fx_run(f);
	assert_int_equal(m.resp, SCSI_TMF_COMPLETE);
	/* SAM-5 6.3.2: every I_T nexus, the requester's included */
	run_tur(f, nx2, &c);
	assert_sense(&c, 0x06, 0x29, 0x02);
	run_tur(f, f->nx, &c);
	assert_sense(&c, 0x06, 0x29, 0x02);
	run_tur(f, f->nx, &c);
	assert_good(&c);
	scsi_nexus_put(nx2);
}

static void sam5_6_3_4_i_t_nexus_reset_ua_nexus_loss(void **state)
{
	struct fx *f = *state;
	struct cmd a, c;
	struct tmf m;

	read1(&a, f, f->nx, 1);
	tmf_submit(&m, f, f->nx, SCSI_TMF_I_T_NEXUS_RESET, 0);
	fx_run(f);
	assert_true(a.t.aborted);
	cmd_fini(&a);
	run_tur(f, f->nx, &c);
	assert_sense(&c, 0x06, 0x29, 0x07);
}

static void spc4_6_33_lun_map_change_ua_cleared_by_report_luns(void **state)
{
	struct fx *f = *state;
	uint8_t rl[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
	struct cmd c;

	assert_int_equal(scsi_target_map_lun(f->tgt, 1, f->lu), 0);
	/* the mapping is the same LU here, so LUN 0 gets no UA for itself;
	 * map a second LU to see it */
	struct scsi_lu_params lp = {.path = "mem:64k", .block_size = 512, .serial = "second"};
	struct scsi_lu *lu2;
	assert_int_equal(scsi_lu_create(f->core, &lp, &lu2), 0);
	assert_int_equal(scsi_target_map_lun(f->tgt, 2, lu2), 0);
	run_tur(f, f->nx, &c);
	assert_sense(&c, 0x06, 0x3f, 0x0e);
	/* queued again by a further change, then cleared by REPORT LUNS */
	assert_int_equal(scsi_target_map_lun(f->tgt, 3, lu2), 0);
	cmd_prep(&c, f, f->nx, 0, rl, 12, 256, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	assert_int_equal(get_be32(c.t.buf), 32);
	cmd_fini(&c);
	run_tur(f, f->nx, &c);
	assert_good(&c);
}

static void sam5_8_6_ordered_task_waits_for_older_tasks(void **state)
{
	struct fx *f = *state;
	struct cmd r, o, s, h;

	read1(&r, f, f->nx, 1);
	cmd_prep(&o, f, f->nx, 0, tur, 6, 0, 0);
	o.t.attr = SCSI_TASK_ORDERED;
	cmd_submit(&o);
	assert_true(scsi_tp(&o.t)->dormant); /* waits for the READ */
	read1(&s, f, f->nx, 3);
	assert_true(scsi_tp(&s.t)->dormant); /* SIMPLE after ORDERED waits */
	cmd_prep(&h, f, f->nx, 0, tur, 6, 0, 0);
	h.t.attr = SCSI_TASK_HEAD_OF_QUEUE;
	cmd_submit(&h);
	assert_false(scsi_tp(&h.t)->dormant);
	fx_run(f);
	assert_good(&r);
	assert_good(&o);
	assert_good(&s);
	assert_good(&h);
	assert_true(r.order < o.order);
	assert_true(o.order < s.order);
	assert_int_equal(f->lu->n_enabled, 0);
	assert_null(f->lu->dormant_head);
	cmd_fini(&r);
	cmd_fini(&s);
}

static void sam5_7_3_abort_task_set_aborts_dormant_tasks(void **state)
{
	struct fx *f = *state;
	struct cmd r, o, s;
	struct tmf m;

	read1(&r, f, f->nx, 1);
	cmd_prep(&o, f, f->nx, 0, tur, 6, 0, 0);
	o.t.attr = SCSI_TASK_ORDERED;
	cmd_submit(&o);
	read1(&s, f, f->nx, 3);
	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK_SET, 0);
	fx_run(f);
	assert_true(r.t.aborted && o.t.aborted && s.t.aborted);
	assert_int_equal(m.resp, SCSI_TMF_COMPLETE);
	assert_true(r.order < m.order && o.order < m.order && s.order < m.order);
	assert_null(f->lu->dormant_head);
	assert_int_equal(f->lu->n_enabled, 0);
	cmd_fini(&r);
	cmd_fini(&s);
}

static void sam5_7_2_abort_task_only_on_own_nexus(void **state)
{
	struct fx *f = *state;
	struct scsi_nexus *nx2 = second_nexus(f);
	struct cmd a;
	struct tmf m;

	read1(&a, f, nx2, 42);
	tmf_submit(&m, f, f->nx, SCSI_TMF_ABORT_TASK, 42);
	fx_run(f);
	assert_int_equal(m.resp, SCSI_TMF_NO_TASK);
	assert_good(&a);
	cmd_fini(&a);
	scsi_nexus_put(nx2);
}

static void sam5_4_7_bad_lun_and_short_cdb(void **state)
{
	struct fx *f = *state;
	uint8_t r10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	struct cmd c;

	/* a second-level LUN is not representable: LUN NOT SUPPORTED */
	cmd_prep(&c, f, f->nx, 0, tur, 6, 0, 0);
	c.t.lun_raw = 0x0000000100000000ull;
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x25, 0x00);
	/* a READ(10) CDB shorter than 10 bytes */
	cmd_prep(&c, f, f->nx, 0, r10, 6, 512, SCSI_TASK_F_READ);
	cmd_submit(&c);
	fx_run(f);
	assert_invalid_cdb(&c, 0, 7);
	cmd_fini(&c);
	/* no CDB at all */
	cmd_prep(&c, f, f->nx, 0, r10, 0, 0, 0);
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x20, 0x00);
}

static void sam5_7_clear_aca_not_supported(void **state)
{
	struct fx *f = *state;
	struct tmf m;

	tmf_submit(&m, f, f->nx, SCSI_TMF_CLEAR_ACA, 0);
	fx_run(f);
	assert_int_equal(m.resp, SCSI_TMF_NOT_SUPPORTED);
}

static void sam5_8_9_aca_attribute_without_aca_rejected(void **state)
{
	struct fx *f = *state;
	struct cmd c;

	cmd_prep(&c, f, f->nx, 0, tur, 6, 0, 0);
	c.t.attr = SCSI_TASK_ACA;
	cmd_submit(&c);
	fx_run(f);
	assert_sense(&c, 0x05, 0x49, 0x00);
}

static void scsi_h_many_outstanding_tasks_complete(void **state)
{
	struct fx *f = *state;
	struct cmd c[32];

	for (int i = 0; i < 32; i++)
		read1(&c[i], f, f->nx, (uint64_t)i);
	fx_run(f);
	for (int i = 0; i < 32; i++) {
		assert_good(&c[i]);
		assert_int_equal(c[i].ndone, 1);
		cmd_fini(&c[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	    T(sam5_6_3_1_power_on_ua_reported_once),
	    T(sam5_4_6_4_nexus_state_survives_relogin),
	    T(spc4_6_39_request_sense_reports_and_clears_ua),
	    T(sam5_5_14_ua_precedes_invalid_opcode),
	    T(sam5_7_2_abort_task_in_flight_read),
	    T(sam5_7_1_tmf_response_after_all_aborted_tasks),
	    T(sam5_7_2_abort_task_unknown_tag),
	    T(sam5_7_2_abort_task_unknown_lun),
	    T(sam5_6_3_3_lun_reset_aborts_and_sets_ua_for_every_nexus),
	    T(sam5_7_4_clear_task_set_commands_cleared_ua),
	    T(sam5_7_3_abort_task_set_only_own_nexus),
	    T(sam5_6_3_2_target_warm_reset_ua),
	    T(sam5_6_3_4_i_t_nexus_reset_ua_nexus_loss),
	    T(spc4_6_33_lun_map_change_ua_cleared_by_report_luns),
	    T(sam5_8_6_ordered_task_waits_for_older_tasks),
	    T(sam5_7_3_abort_task_set_aborts_dormant_tasks),
	    T(sam5_7_2_abort_task_only_on_own_nexus),
	    T(sam5_4_7_bad_lun_and_short_cdb),
	    T(sam5_7_clear_aca_not_supported),
	    T(sam5_8_9_aca_attribute_without_aca_rejected),
	    T(scsi_h_many_outstanding_tasks_complete),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
