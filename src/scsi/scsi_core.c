// SPDX-License-Identifier: MIT
/*
 * The configured objects: core, logical units, targets with their ports, LUN
 * maps and ACLs (SAM-5 4.6, 4.7).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_priv.h"
#include "scsi_sanitize.h"
#include "targetd/util.h"

int scsi_core_create(struct evl *evl, const struct scsi_core_params *p, struct scsi_core **out)
{
	struct scsi_core *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->evl = evl;
	c->max_registrants = p ? p->max_registrants : 0;
	if (p && p->state_dir && !(c->state_dir = strdup(p->state_dir))) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

static void nexus_free_all(struct scsi_target *t)
{
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
}

void scsi_core_destroy(struct scsi_core *core)
{
	if (!core)
		return;
	while (core->targets) {
		struct scsi_target *t = core->targets;
		core->targets = t->next;
		nexus_free_all(t);
		for (unsigned i = 0; i < t->nacl; i++)
			free(t->acl[i]);
		free(t->acl);
		free(t->luns);
		free(t->name);
		free(t);
	}
	while (core->lus) {
		struct scsi_lu *lu = core->lus;
		core->lus = lu->next;
		/* a SANITIZE still running at exit: its request is the last
		 * I/O; closing the backend ends it (io_destroy waits for the
		 * kernel), then its buffer can go */
		if (lu->bdev)
			bdev_close(lu->bdev);
		scsi_sanitize_lu_fini(lu);
		scsi_pr_lu_fini(lu);
		free(lu->path);
		free(lu->serial);
		free(lu);
	}
	free(core->tmfs);
	free(core->state_dir);
	free(core);
}

/* INQUIRY strings are left-aligned ASCII padded with spaces (SPC-4 4.3.1). */
static void pad_copy(char *dst, size_t n, const char *src)
{
	size_t l = src ? strlen(src) : 0;

	memset(dst, ' ', n);
	memcpy(dst, src, l > n ? n : l);
	dst[n] = '\0';
}

int scsi_lu_create(struct scsi_core *core, const struct scsi_lu_params *p, struct scsi_lu **out)
{
	struct scsi_lu *lu;
	int rc;

	if (!p->path || !p->serial || (p->block_size != 512 && p->block_size != 4096))
		return -EINVAL;
	lu = calloc(1, sizeof(*lu));
	if (!lu)
		return -ENOMEM;
	lu->core = core;
	lu->block_size = p->block_size;
	lu->write_cache = p->write_cache;
	lu->write_cache_default = p->write_cache;
	lu->path = strdup(p->path);
	lu->serial = strdup(p->serial);
	if (!lu->path || !lu->serial) {
		rc = -ENOMEM;
		goto fail;
	}
	pad_copy(lu->vendor, 8, p->vendor ? p->vendor : "TARGETD");
	pad_copy(lu->product, 16, p->product ? p->product : "VIRTUAL-DISK");
	rc = bdev_open(core->evl, p->path, p->read_only ? BDEV_OPEN_RDONLY : 0, &lu->bdev);
	if (rc) {
		log_err(SCSI_LOG, "lu %s: cannot open %s: %d", p->serial, p->path, rc);
		goto fail;
	}
	const struct bdev_info *bi = bdev_get_info(lu->bdev);
	if (bi->min_io > lu->block_size) {
		log_err(SCSI_LOG, "lu %s: block size %u below the medium's %u", p->serial,
			lu->block_size, bi->min_io);
		bdev_close(lu->bdev);
		rc = -EINVAL;
		goto fail;
	}
	lu->read_only = p->read_only || bi->read_only;
	lu->sanitize_allowed = p->sanitize;
	lu->nblocks = bi->size / lu->block_size;
	rc = scsi_pr_lu_init(lu, p);
	if (rc) {
		scsi_pr_lu_fini(lu);
		bdev_close(lu->bdev);
		goto fail;
	}
	lu->next = core->lus;
	core->lus = lu;
	*out = lu;
	return 0;
fail:
	free(lu->path);
	free(lu->serial);
	free(lu);
	return rc;
}

int scsi_target_create(struct scsi_core *core, const char *name, struct scsi_target **out)
{
	struct scsi_target *t, **pp;

	if (!name || scsi_target_find(core, name))
		return -EEXIST;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->core = core;
	t->name = strdup(name);
	if (!t->name) {
		free(t);
		return -ENOMEM;
	}
	for (pp = &core->targets; *pp; pp = &(*pp)->next)
		;
	*pp = t;
	*out = t;
	return 0;
}

int scsi_target_add_port(struct scsi_target *t, uint16_t tpgt, uint16_t rel_port_id)
{
	if (scsi_target_port(t, tpgt))
		return -EEXIST;
	if (t->nports == SCSI_MAX_PORTS)
		return -ENOSPC;
	/* SPC-4 7.8.6.5: relative port identifier 0 is reserved */
	t->ports[t->nports].tpgt = tpgt;
	t->ports[t->nports].rel_id = rel_port_id ? rel_port_id : tpgt;
	t->nports++;
	return 0;
}

const struct scsi_port *scsi_target_port(const struct scsi_target *t, uint16_t tpgt)
{
	for (unsigned i = 0; i < t->nports; i++)
		if (t->ports[i].tpgt == tpgt)
			return &t->ports[i];
	return NULL;
}

int scsi_target_map_lun(struct scsi_target *t, uint64_t lun, struct scsi_lu *lu)
{
	unsigned i;

	/* flat space addressing reaches 0..16383 (SAM-5 4.7.7) */
	if (lun >= 16384 || !lu)
		return -EINVAL;
	if (scsi_target_lun_lookup(t, lun))
		return -EEXIST;
	if (t->nluns == t->luns_cap) {
		unsigned cap = t->luns_cap ? t->luns_cap * 2 : 8;
		struct scsi_lun_map *n = realloc(t->luns, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->luns = n;
		t->luns_cap = cap;
	}
	for (i = t->nluns; i > 0 && t->luns[i - 1].lun > lun; i--)
		t->luns[i] = t->luns[i - 1];
	t->luns[i].lun = lun;
	t->luns[i].lu = lu;
	t->nluns++;
	/* SPC-4 6.33 / SAM-5 5.14: the LUN inventory changed for every
	 * existing nexus of the target (REPORTED LUNS DATA HAS CHANGED) */
	for (struct scsi_nexus *nx = t->nexuses; nx; nx = nx->next)
		for (unsigned k = 0; k < t->nluns; k++)
			if (t->luns[k].lu != lu)
				scsi_ua_add(nx, t->luns[k].lu, SR_UA_LUNS_CHANGED);
	return 0;
}

int scsi_target_acl_add(struct scsi_target *t, const char *initiator_name)
{
	char **n = realloc(t->acl, (t->nacl + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->acl = n;
	if (!(t->acl[t->nacl] = strdup(initiator_name)))
		return -ENOMEM;
	t->nacl++;
	return 0;
}

struct scsi_target *scsi_target_find(struct scsi_core *core, const char *name)
{
	for (struct scsi_target *t = core->targets; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

const char *scsi_target_name(const struct scsi_target *t)
{
	return t->name;
}

struct scsi_target *scsi_target_next(struct scsi_core *core, struct scsi_target *prev)
{
	return prev ? prev->next : core->targets;
}

bool scsi_target_has_port(const struct scsi_target *t, uint16_t tpgt)
{
	return scsi_target_port(t, tpgt) != NULL;
}

bool scsi_target_acl_allows(const struct scsi_target *t, const char *initiator_name)
{
	if (!t->nacl)
		return true;
	for (unsigned i = 0; i < t->nacl; i++)
		if (!strcmp(t->acl[i], initiator_name))
			return true;
	return false;
}

struct scsi_lu *scsi_target_lun_lookup(struct scsi_target *t, uint64_t lun)
{
	for (unsigned i = 0; i < t->nluns; i++)
		if (t->luns[i].lun == lun)
			return t->luns[i].lu;
	return NULL;
}

/* SAM-5 4.7.7: single level LUN, peripheral device addressing (00b, bus 0)
 * for 0..255 and flat space addressing (01b) for 0..16383; the remaining six
 * bytes are zero. */
bool scsi_lun_decode(uint64_t raw, uint64_t *lun)
{
	uint8_t b0 = (uint8_t)(raw >> 56), b1 = (uint8_t)(raw >> 48);

	if (raw & 0x0000ffffffffffffull)
		return false;
	switch (b0 >> 6) {
	case 0:
		if (b0 & 0x3f)
			return false;
		*lun = b1;
		return true;
	case 1:
		*lun = (uint64_t)(b0 & 0x3f) << 8 | b1;
		return true;
	default:
		return false;
	}
}

uint64_t scsi_lun_encode(uint64_t lun)
{
	if (lun < 256)
		return lun << 48;
	return (0x4000ull | (lun & 0x3fff)) << 48;
}

const char *scsi_lu_serial(const struct scsi_lu *lu)
{
	return lu->serial;
}

const char *scsi_lu_path(const struct scsi_lu *lu)
{
	return lu->path;
}

uint64_t scsi_lu_size_bytes(const struct scsi_lu *lu)
{
	return lu->nblocks * lu->block_size;
}

uint32_t scsi_lu_block_size(const struct scsi_lu *lu)
{
	return lu->block_size;
}

struct scsi_lu *scsi_target_lun_next(struct scsi_target *t, uint64_t *lun_inout, bool first)
{
	for (unsigned i = 0; i < t->nluns; i++) {
		if (first || t->luns[i].lun > *lun_inout) {
			*lun_inout = t->luns[i].lun;
			return t->luns[i].lu;
		}
	}
	return NULL;
}
