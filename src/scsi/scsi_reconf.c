// SPDX-License-Identifier: MIT
/*
 * Runtime reconfiguration (live reload): unmapping LUNs, destroying idle LUs,
 * resizing, ACL removal, port removal, detaching whole targets. The daemon
 * decides what changes; this file keeps the SCSI state consistent and raises
 * the unit attentions SAM-5 5.14 / SPC-4 table 47 prescribe for each change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"
#include "targetd/scsi_reconf.h"
#include "targetd/util.h"

int scsi_target_unmap_lun(struct scsi_target *t, uint64_t lun)
{
	unsigned i;

	for (i = 0; i < t->nluns && t->luns[i].lun != lun; i++)
		;
	if (i == t->nluns)
		return -ENOENT;
	memmove(&t->luns[i], &t->luns[i + 1], (t->nluns - i - 1) * sizeof(t->luns[0]));
	t->nluns--;
	/* SPC-4 6.33 / SAM-5 5.14: the LUN inventory changed for every nexus
	 * of the target: REPORTED LUNS DATA HAS CHANGED on the LUs it can still
	 * address (a UA is established per I_T_L nexus) */
	for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next)
		for (unsigned k = 0; k < t->nluns; k++)
			scsi_ua_add(nx, t->luns[k].lu, SR_UA_LUNS_CHANGED);
	log_info(SCSI_LOG, "%s: lun %llu unmapped", t->name, (unsigned long long)lun);
	return 0;
}

bool scsi_lu_mapped(const struct scsi_lu *lu)
{
	for (const struct scsi_target *t = lu->core->targets; t; t = t->next)
		for (unsigned k = 0; k < t->nluns; k++)
			if (t->luns[k].lu == lu)
				return true;
	return false;
}

/* Frees every per-I_T_L record (pending UAs) that names lu. */
static void itl_purge_lu(struct scsi_nexus *nx, const struct scsi_lu *lu)
{
	for (struct scsi_itl **pp = &nx->itls; *pp;) {
		struct scsi_itl *i = *pp;

		if (i->lu == lu) {
			*pp = i->next;
			free(i);
		} else {
			pp = &i->next;
		}
	}
}

int scsi_lu_destroy(struct scsi_lu *lu)
{
	struct scsi_core *core = lu->core;
	struct bdev_stats st;

	if (scsi_lu_mapped(lu))
		return -EINVAL;
	bdev_get_stats(lu->bdev, &st);
	if (lu->tasks || lu->dormant_head || lu->prout_busy || lu->prout_head || st.inflight ||
	    lu->xcopy_refs || lu->sanitize)
		return -EBUSY;
	for (struct scsi_lu **pp = &core->lus; *pp; pp = &(*pp)->next) {
		if (*pp == lu) {
			*pp = lu->next;
			break;
		}
	}
	for (struct scsi_target *t = core->targets; t; t = t->next)
		for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next) {
			scsi_spc2_release_lu(lu, nx);
			itl_purge_lu(nx, lu);
		}
	evl_defer_cancel(core->evl, &lu->prout_defer);
	log_info(SCSI_LOG, "lu %s (%s) closed", lu->serial, lu->path);
	bdev_close(lu->bdev);
	scsi_pr_lu_fini(lu);
	free(lu->path);
	free(lu->serial);
	free(lu);
	return 0;
}

int scsi_lu_resize(struct scsi_lu *lu)
{
	uint64_t nblocks;
	int r = bdev_refresh_size(lu->bdev);

	if (r) {
		log_err(SCSI_LOG, "lu %s: re-reading the size of %s: %s", lu->serial, lu->path,
			strerror(-r));
		return r;
	}
	nblocks = bdev_get_info(lu->bdev)->size / lu->block_size;
	if (nblocks == lu->nblocks)
		return 0;
	log_notice(SCSI_LOG, "lu %s: capacity %llu -> %llu blocks of %u bytes", lu->serial,
		   (unsigned long long)lu->nblocks, (unsigned long long)nblocks, lu->block_size);
	lu->nblocks = nblocks;
	/* SBC-4 4.6 / SPC-4 table 47: 2A/09 CAPACITY DATA HAS CHANGED for every
	 * I_T nexus that can reach the LU */
	scsi_ua_broadcast(lu->core, lu, NULL, SR_UA_CAPACITY_CHANGED);
	return 1;
}

int scsi_target_acl_del(struct scsi_target *t, const char *initiator_name)
{
	for (unsigned i = 0; i < t->nacl; i++) {
		if (strcmp(t->acl[i], initiator_name))
			continue;
		free(t->acl[i]);
		memmove(&t->acl[i], &t->acl[i + 1], (t->nacl - i - 1) * sizeof(t->acl[0]));
		t->nacl--;
		return 0;
	}
	return -ENOENT;
}

int scsi_target_del_port(struct scsi_target *t, uint16_t tpgt)
{
	for (unsigned i = 0; i < t->nports; i++) {
		if (t->ports[i].tpgt != tpgt)
			continue;
		memmove(&t->ports[i], &t->ports[i + 1], (t->nports - i - 1) * sizeof(t->ports[0]));
		t->nports--;
		return 0;
	}
	return -ENOENT;
}

void scsi_target_detach(struct scsi_target *t)
{
	struct scsi_core *core = t->core;

	for (struct scsi_target **pp = &core->targets; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	/* No port, no LUN: a nexus still logged in reaches nothing, and a login
	 * cannot create a new nexus (scsi_nexus_get needs a port). */
	t->nports = 0;
	t->nluns = 0;
	for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next) {
		while (nx->itls) {
			struct scsi_itl *i = nx->itls;

			nx->itls = i->next;
			/* SPC-2 5.5.1: the nexus ends, its reservations go */
			scsi_spc2_release_lu(i->lu, nx);
			free(i);
		}
	}
	log_info(SCSI_LOG, "%s: target removed", t->name);
}

int scsi_target_destroy(struct scsi_target *t)
{
	for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next)
		if (nx->refs)
			return -EBUSY;
	while (t->nexuses) {
		struct scsi_nexus *nx = t->nexuses;

		t->nexuses = nx->next;
		while (nx->itls) {
			struct scsi_itl *i = nx->itls;

			nx->itls = i->next;
			free(i);
		}
		free(nx->initiator);
		free(nx);
	}
	for (unsigned i = 0; i < t->nacl; i++)
		free(t->acl[i]);
	free(t->acl);
	free(t->luns);
	free(t->name);
	free(t);
	return 0;
}

void scsi_lu_pr_info(const struct scsi_lu *lu, struct scsi_pr_info *info,
		     void (*fn)(const struct scsi_pr_reg_info *reg, void *arg), void *arg)
{
	const struct pr_state *st = &lu->pr;

	/* The committed state (what PERSISTENT RESERVE IN reports, SPC-4 6.15) */
	*info = (struct scsi_pr_info){.aptpl = st->aptpl,
				      .generation = st->generation,
				      .res_present = st->res_present,
				      .res_type = st->res_type,
				      .res_scope = st->res_scope,
				      .lost = st->lost,
				      .n_regs = st->n_regs};
	for (unsigned i = 0; fn && i < st->n_regs; i++) {
		const struct pr_reg *r = &st->regs[i];
		struct scsi_pr_reg_info ri = {
		    .initiator = r->itn.initiator,
		    .has_isid = r->itn.has_isid,
		    .rel_tport_id = r->itn.rel_tport_id,
		    .key = r->key,
		    .all_tg_pt = r->all_tg_pt,
		    /* SPC-4 5.13.10: every registrant holds an
					       * all registrants reservation */
		    .holder =
			st->res_present && (r->holder || pr_type_all_registrants(st->res_type))};

		memcpy(ri.isid, r->itn.isid, sizeof(ri.isid));
		fn(&ri, arg);
	}
}

void scsi_lu_get_info(const struct scsi_lu *lu, struct scsi_lu_info *out)
{
	const struct bdev_info *bi = bdev_get_info(lu->bdev);
	struct bdev_stats st;

	bdev_get_stats(lu->bdev, &st);
	*out = (struct scsi_lu_info){.read_only = lu->read_only,
				     .write_cache = lu->write_cache,
				     .thin = bi->can_discard,
				     .direct = bi->direct,
				     .reads = st.reads,
				     .writes = st.writes,
				     .flushes = st.flushes,
				     .read_bytes = st.read_bytes,
				     .write_bytes = st.write_bytes,
				     .errors = st.errors,
				     .inflight = st.inflight};
}
