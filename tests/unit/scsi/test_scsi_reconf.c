/* SPDX-License-Identifier: MIT */
/*
 * scsi_reconf.c: what live reload does to the SCSI state.
 *
 *   target FX_TARGET, port tpgt 1
 *     LUN 0 -> lu (mem:1M, the fixture's)      nexus FX_INIT isid 80..01
 *     LUN 1 -> lu2 (added by the tests)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "scsi_harness.h"
#include "targetd/pr.h"
#include "targetd/scsi_reconf.h"

static const uint8_t tur[6] = {0x00};

static struct scsi_lu *add_lu(struct fx *f, const char *path, const char *serial)
{
	struct scsi_lu_params lp = {.path = path, .block_size = 512, .serial = serial};
	struct scsi_lu *lu;

	assert_int_equal(scsi_lu_create(f->core, &lp, &lu), 0);
	return lu;
}

static void run_on(struct fx *f, struct cmd *c, uint64_t lun, const uint8_t *cdb, size_t len,
		   uint32_t edtl, uint32_t flags)
{
	cmd_prep(c, f, f->nx, lun, cdb, len, edtl, flags);
	cmd_submit(c);
	fx_run(f);
	assert_int_equal(c->ndone, 1);
}

static void expect_tur(struct fx *f, uint64_t lun, int key, int asc, int ascq)
{
	struct cmd c;

	run_on(f, &c, lun, tur, sizeof(tur), 0, 0);
	if (key < 0)
		assert_good(&c);
	else
		assert_sense(&c, (uint8_t)key, (uint8_t)asc, (uint8_t)ascq);
	cmd_fini(&c);
}

/* REPORT LUNS (SPC-4 6.33): number of LUNs listed. */
static unsigned report_luns(struct fx *f)
{
	uint8_t cdb[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0};
	struct cmd c;
	unsigned n;

	run_on(f, &c, 0, cdb, sizeof(cdb), 4096, SCSI_TASK_F_READ);
	assert_good(&c);
	n = get_be32(c.t.buf) / 8;
	cmd_fini(&c);
	return n;
}

static void spc4_6_33_unmap_lun_raises_reported_luns_changed(void **state)
{
	struct fx *f = *state;
	struct scsi_lu *lu2 = add_lu(f, "mem:1M", "reconf-lu2");

	assert_int_equal(scsi_target_map_lun(f->tgt, 1, lu2), 0);
	/* map: 3F/0E on LUN 0 (the mapped LU itself starts with POWER ON) */
	expect_tur(f, 0, 0x06, 0x3f, 0x0e);
	expect_tur(f, 1, 0x06, 0x29, 0x00);
	assert_int_equal(report_luns(f), 2);
	assert_true(scsi_lu_mapped(lu2));

	assert_int_equal(scsi_target_unmap_lun(f->tgt, 1), 0);
	assert_int_equal(scsi_target_unmap_lun(f->tgt, 1), -ENOENT);
	assert_false(scsi_lu_mapped(lu2));
	/* SAM-5 5.14 / SPC-4 table 47: REPORTED LUNS DATA HAS CHANGED */
	expect_tur(f, 0, 0x06, 0x3f, 0x0e);
	expect_tur(f, 0, -1, 0, 0);
	assert_int_equal(report_luns(f), 1);
	/* SPC-4 4.6.3 / SAM-5: LOGICAL UNIT NOT SUPPORTED */
	expect_tur(f, 1, 0x05, 0x25, 0x00);
	assert_int_equal(scsi_lu_destroy(lu2), 0);
}

static void scsi_lu_destroy_refuses_a_mapped_lu(void **state)
{
	struct fx *f = *state;

	assert_int_equal(scsi_lu_destroy(f->lu), -EINVAL);
	expect_tur(f, 0, -1, 0, 0);
}

static void sbc4_4_6_resize_raises_capacity_data_has_changed(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/targetd-reconf-XXXXXX";
	int fd = mkstemp(path);
	uint8_t rc16[16] = {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
	struct scsi_lu *lu2;
	struct cmd c;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	lu2 = add_lu(f, path, "reconf-resize");
	assert_int_equal(scsi_target_map_lun(f->tgt, 1, lu2), 0);
	expect_tur(f, 1, 0x06, 0x29, 0x00);
	assert_int_equal(scsi_lu_resize(lu2), 0); /* unchanged: no UA */
	expect_tur(f, 1, -1, 0, 0);

	assert_int_equal(ftruncate(fd, 3 << 20), 0);
	assert_int_equal(scsi_lu_resize(lu2), 1);
	assert_int_equal(scsi_lu_size_bytes(lu2), 3 << 20);
	/* SPC-4 table 47: 2A/09 CAPACITY DATA HAS CHANGED, once */
	expect_tur(f, 1, 0x06, 0x2a, 0x09);
	expect_tur(f, 1, -1, 0, 0);
	run_on(f, &c, 1, rc16, sizeof(rc16), 32, SCSI_TASK_F_READ);
	assert_good(&c);
	assert_int_equal(get_be64(c.t.buf), (3u << 20) / 512 - 1); /* last LBA */
	cmd_fini(&c);
	/* the other LU saw nothing */
	expect_tur(f, 0, 0x06, 0x3f, 0x0e); /* from the map above */
	expect_tur(f, 0, -1, 0, 0);
	close(fd);
	unlink(path);
}

static void acl_del_removes_only_that_initiator(void **state)
{
	struct fx *f = *state;

	assert_true(scsi_target_acl_allows(f->tgt, FX_INIT2)); /* empty: everyone */
	assert_int_equal(scsi_target_acl_add(f->tgt, FX_INIT), 0);
	assert_int_equal(scsi_target_acl_add(f->tgt, FX_INIT2), 0);
	assert_int_equal(scsi_target_acl_del(f->tgt, FX_INIT), 0);
	assert_int_equal(scsi_target_acl_del(f->tgt, FX_INIT), -ENOENT);
	assert_false(scsi_target_acl_allows(f->tgt, FX_INIT));
	assert_true(scsi_target_acl_allows(f->tgt, FX_INIT2));
}

static void del_port_removes_the_portal_group(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 2};

	assert_int_equal(scsi_target_add_port(f->tgt, 2, 2), 0);
	assert_int_equal(scsi_target_del_port(f->tgt, 2), 0);
	assert_int_equal(scsi_target_del_port(f->tgt, 2), -ENOENT);
	assert_false(scsi_target_has_port(f->tgt, 2));
	assert_null(scsi_nexus_get(f->tgt, FX_INIT2, isid, 2));
	assert_true(scsi_target_has_port(f->tgt, 1));
}

static void target_detach_hides_it_and_destroy_waits_for_nexus_refs(void **state)
{
	struct fx *f = *state;
	static const uint8_t isid[6] = {0x80, 0, 0, 0, 0, 3};
	struct scsi_target *t2;
	struct scsi_nexus *nx;
	struct scsi_lu *lu2 = add_lu(f, "mem:1M", "reconf-detach");

	assert_int_equal(scsi_target_create(f->core, "iqn.2026-12.org.example:gone", &t2), 0);
	assert_int_equal(scsi_target_add_port(t2, 1, 1), 0);
	assert_int_equal(scsi_target_map_lun(t2, 0, lu2), 0);
	nx = scsi_nexus_get(t2, FX_INIT2, isid, 1);
	assert_non_null(nx);

	scsi_target_detach(t2);
	assert_null(scsi_target_find(f->core, "iqn.2026-12.org.example:gone"));
	assert_ptr_equal(scsi_target_next(f->core, NULL), f->tgt);
	assert_null(scsi_target_next(f->core, f->tgt));
	assert_false(scsi_lu_mapped(lu2));
	/* no port left: no new nexus */
	assert_null(scsi_nexus_get(t2, FX_INIT2, isid, 1));
	assert_int_equal(scsi_target_destroy(t2), -EBUSY);
	scsi_nexus_put(nx);
	assert_int_equal(scsi_target_destroy(t2), 0);
	assert_int_equal(scsi_lu_destroy(lu2), 0);
	/* the same name can come back */
	assert_int_equal(scsi_target_create(f->core, "iqn.2026-12.org.example:gone", &t2), 0);
}

static void reg_cb(const struct scsi_pr_reg_info *r, void *arg)
{
	struct scsi_pr_reg_info *out = arg;

	*out = *r;
}

static void spc4_6_16_pr_info_shows_registration_and_reservation(void **state)
{
	struct fx *f = *state;
	struct scsi_pr_info pi;
	struct scsi_pr_reg_info ri = {0};
	/* PERSISTENT RESERVE OUT REGISTER (SPC-4 6.16.2), then RESERVE type 1 */
	uint8_t reg[10] = {0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0};
	uint8_t res[10] = {0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0};
	uint8_t param[24] = {0};
	struct cmd c;

	scsi_lu_pr_info(f->lu, &pi, NULL, NULL);
	assert_false(pi.res_present);
	assert_int_equal(pi.n_regs, 0);

	put_be64(param + 8, 0x1234); /* SERVICE ACTION RESERVATION KEY */
	cmd_prep(&c, f, f->nx, 0, reg, sizeof(reg), 24, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, param, 24);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);
	memset(param, 0, sizeof(param));
	put_be64(param, 0x1234); /* RESERVATION KEY */
	cmd_prep(&c, f, f->nx, 0, res, sizeof(res), 24, SCSI_TASK_F_WRITE);
	cmd_data_out(&c, param, 24);
	cmd_submit(&c);
	fx_run(f);
	assert_good(&c);
	cmd_fini(&c);

	scsi_lu_pr_info(f->lu, &pi, reg_cb, &ri);
	assert_true(pi.res_present);
	assert_int_equal(pi.res_type, PR_TYPE_WR_EX);
	assert_false(pi.aptpl);
	assert_int_equal(pi.n_regs, 1);
	assert_int_equal(pi.generation, 1); /* RESERVE does not bump it (SPC-4 6.15.2) */
	assert_string_equal(ri.initiator, FX_INIT);
	assert_true(ri.has_isid);
	assert_int_equal(ri.isid[5], 1);
	assert_int_equal(ri.key, 0x1234);
	assert_true(ri.holder);
	assert_false(ri.all_tg_pt);
	assert_int_equal(ri.rel_tport_id, 1);
}

static void lu_info_reports_counters(void **state)
{
	struct fx *f = *state;
	struct scsi_lu_info li;
	uint8_t rd[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	struct cmd c;

	run_on(f, &c, 0, rd, sizeof(rd), 512, SCSI_TASK_F_READ);
	assert_good(&c);
	cmd_fini(&c);
	scsi_lu_get_info(f->lu, &li);
	assert_int_equal(li.reads, 1);
	assert_int_equal(li.read_bytes, 512);
	assert_false(li.read_only);
	assert_true(li.write_cache);
	assert_int_equal(li.inflight, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(spc4_6_33_unmap_lun_raises_reported_luns_changed),
	    T(scsi_lu_destroy_refuses_a_mapped_lu),
	    T(sbc4_4_6_resize_raises_capacity_data_has_changed),
	    T(acl_del_removes_only_that_initiator),
	    T(del_port_removes_the_portal_group),
	    T(target_detach_hides_it_and_destroy_waits_for_nexus_refs),
	    T(spc4_6_16_pr_info_shows_registration_and_reservation),
	    T(lu_info_reports_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
