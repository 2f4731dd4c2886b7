// SPDX-License-Identifier: MIT
/*
 * Helpers for the persistent reservation scenarios (see pr_lib.h). Each
 * initiator is a libiscsi context that logs in with connect + login only:
 * iscsi_full_connect_sync() would send TEST UNIT READY and might swallow the
 * unit attentions the scenarios are about.
 */
#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "pr_lib.h"

const char *g_portal[3];
const char *g_target;
int g_lun;
int g_failures;

void check_at(const char *file, int line, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	g_failures++;
	fprintf(stderr, "%s:%d: FAIL: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void exit_now(void)
{
	fprintf(stderr, "stopping at the first fatal failure (%d failure(s))\n", g_failures);
	exit(1);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void isid_bytes(const struct ini *in, uint8_t isid[6])
{
	/* RFC 7143 11.12.5: T = 10b (random), then A/B/C 24 bits, D qualifier */
	isid[0] = 0x80;
	isid[1] = (uint8_t)(in->isid_rnd >> 16);
	isid[2] = (uint8_t)(in->isid_rnd >> 8);
	isid[3] = (uint8_t)in->isid_rnd;
	isid[4] = (uint8_t)(in->isid_qual >> 8);
	isid[5] = (uint8_t)in->isid_qual;
}

int ini_login(struct ini *in, int portal)
{
	struct iscsi_context *c = iscsi_create_context(in->name);

	if (!c)
		return -1;
	if (iscsi_set_isid_random(c, in->isid_rnd, in->isid_qual) ||
	    iscsi_set_targetname(c, g_target) || iscsi_set_session_type(c, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE)) {
		iscsi_destroy_context(c);
		return -1;
	}
	iscsi_set_noautoreconnect(c, 1);
	iscsi_set_timeout(c, 60);
	if (iscsi_connect_sync(c, g_portal[portal]) || iscsi_login_sync(c)) {
		fprintf(stderr, "%s: login through %s failed: %s\n", in->label, g_portal[portal],
			iscsi_get_error(c));
		iscsi_destroy_context(c);
		return -1;
	}
	in->ctx = c;
	in->portal = portal;
	return 0;
}

void ini_logout(struct ini *in)
{
	if (!in->ctx)
		return;
	iscsi_logout_sync(in->ctx);
	iscsi_destroy_context(in->ctx);
	in->ctx = NULL;
}

void ini_up_at(const char *file, int line, struct ini *in, int portal)
{
	int uas[8], n;

	if (ini_login(in, portal)) {
		check_at(file, line, false, "%s: login through portal group %d", in->label, portal);
		exit_now();
	}
	/* SAM-5 6.3.1: a new I_T_L nexus starts with POWER ON (29/00) */
	n = collect_uas(in, uas, 8);
	check_at(file, line, n == 1 && uas[0] == 0x2900,
		 "%s: first contact: want exactly UA 29/00, got %d UA(s) (first %04x)", in->label,
		 n, n ? uas[0] : 0);
}

struct cdb_wait {
	bool done;
	int status;
};

static void cdb_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct cdb_wait *w = priv;

	(void)ctx;
	(void)data;
	w->done = true;
	w->status = status;
}

/* A transport failure ends the scenario: the context may not be used again
 * and a status read from its task would mean nothing. */
static void transport_failed(struct ini *in, const uint8_t *cdb, const char *why)
{
	check_at(__FILE__, __LINE__, false, "%s: command %02x: %s: %s", in->label, cdb[0], why,
		 iscsi_get_error(in->ctx));
	exit_now();
}

void run_cdb(struct ini *in, const uint8_t *cdb, int cdb_len, int dir, int xfer, const uint8_t *out,
	     int out_len, struct rsp *r)
{
	struct scsi_task *t;
	struct iscsi_data d = {.size = (size_t)out_len, .data = (unsigned char *)out};
	int xd = dir == 1 ? SCSI_XFER_READ : dir == 2 ? SCSI_XFER_WRITE : SCSI_XFER_NONE;
	struct cdb_wait w = {false, 0};
	int idle = 0;

	memset(r, 0, offsetof(struct rsp, data));
	r->status = ST_NONE;
	t = scsi_create_task(cdb_len, (unsigned char *)cdb, xd, xfer);
	if (!t)
		transport_failed(in, cdb, "out of memory");
	/* asynchronous, with our own wait: the callback's status tells a
	 * SCSI status from a lost connection (iscsi_scsi_command_sync can
	 * return a task whose status was never set) */
	if (iscsi_scsi_command_async(in->ctx, g_lun, t, cdb_cb, dir == 2 ? &d : NULL, &w))
		transport_failed(in, cdb, "cannot queue");
	while (!w.done) {
		struct pollfd p = {iscsi_get_fd(in->ctx), (short)iscsi_which_events(in->ctx), 0};
		int n = poll(&p, 1, 1000);

		if (n < 0)
			transport_failed(in, cdb, "poll");
		if (n == 0 && ++idle > 60)
			transport_failed(in, cdb, "no response within 60 s");
		if (iscsi_service(in->ctx, p.revents) < 0)
			transport_failed(in, cdb, "connection lost");
	}
	if (w.status != SCSI_STATUS_GOOD && w.status != SCSI_STATUS_CHECK_CONDITION &&
	    w.status != SCSI_STATUS_RESERVATION_CONFLICT && w.status != SCSI_STATUS_BUSY &&
	    w.status != SCSI_STATUS_TASK_SET_FULL && w.status != SCSI_STATUS_TASK_ABORTED &&
	    w.status != SCSI_STATUS_ACA_ACTIVE && w.status != SCSI_STATUS_CONDITION_MET)
		transport_failed(in, cdb, "no SCSI status");
	r->status = w.status;
	if (w.status == SCSI_STATUS_CHECK_CONDITION) {
		r->key = t->sense.key;
		r->asc = (t->sense.ascq >> 8) & 0xff;
		r->ascq = t->sense.ascq & 0xff;
		r->sksv = t->sense.sense_specific;
		r->cd = t->sense.ill_param_in_cdb;
		r->bpv = t->sense.bit_pointer_valid;
		r->bit = t->sense.bit_pointer;
		r->field = t->sense.field_pointer;
	}
	if (t->datain.size > 0 && t->datain.data) {
		r->len =
		    t->datain.size < (int)sizeof(r->data) ? t->datain.size : (int)sizeof(r->data);
		memcpy(r->data, t->datain.data, (size_t)r->len);
	}
	scsi_free_scsi_task(t);
}

static const char *st_name(int s)
{
	switch (s) {
	case ST_GOOD:
		return "GOOD";
	case ST_CHECK:
		return "CHECK CONDITION";
	case ST_CONFLICT:
		return "RESERVATION CONFLICT";
	case ST_NONE:
		return "no response";
	default:
		return "other status";
	}
}

void expect_status_at(const char *file, int line, const struct rsp *r, int status, const char *what)
{
	check_at(file, line, r->status == status, "%s: want %s, got %s (0x%02x)%s%02x/%02x/%02x",
		 what, st_name(status), st_name(r->status), r->status & 0xff,
		 r->status == ST_CHECK ? " sense " : " ", r->key, r->asc, r->ascq);
}

void expect_sense_at(const char *file, int line, const struct rsp *r, int key, int asc, int ascq,
		     const char *what)
{
	check_at(file, line,
		 r->status == ST_CHECK && r->key == key && r->asc == asc && r->ascq == ascq,
		 "%s: want CHECK CONDITION %02x/%02x/%02x, got %s (0x%02x) %02x/%02x/%02x", what,
		 key, asc, ascq, st_name(r->status), r->status & 0xff, r->key, r->asc, r->ascq);
}

void expect_field_at(const char *file, int line, const struct rsp *r, bool cd, int byte, int bit,
		     const char *what)
{
	check_at(file, line,
		 r->sksv && r->cd == cd && r->field == byte && r->bpv == (bit >= 0) &&
		     (bit < 0 || r->bit == bit),
		 "%s: want field pointer %s byte %d bit %d, got SKSV %d %s byte %d BPV %d bit %d",
		 what, cd ? "CDB" : "parameter list", byte, bit, r->sksv, r->cd ? "CDB" : "list",
		 r->field, r->bpv, r->bit);
}

void cmd_tur(struct ini *in, struct rsp *r)
{
	uint8_t cdb[6] = {0};

	run_cdb(in, cdb, 6, 0, 0, NULL, 0, r);
}

int collect_uas(struct ini *in, int *uas, int max)
{
	struct rsp r;
	int n = 0;

	for (int i = 0; i < 16; i++) {
		cmd_tur(in, &r);
		if (r.status != ST_CHECK || r.key != SCSI_SENSE_UNIT_ATTENTION)
			break;
		if (n < max)
			uas[n] = r.asc << 8 | r.ascq;
		n++;
	}
	check_at(
	    __FILE__, __LINE__, r.status == ST_GOOD,
	    "%s: TEST UNIT READY after the unit attentions: want GOOD, got 0x%02x %02x/%02x/%02x",
	    in->label, r.status & 0xff, r.key, r.asc, r.ascq);
	return n;
}

void expect_uas_at(const char *file, int line, struct ini *in, const char *what, ...)
{
	int want[16], nw = 0, got[16], ng, v;
	bool used[16] = {false}, ok;
	va_list ap;
	char gs[128] = "", ws[128] = "";

	va_start(ap, what);
	while ((v = va_arg(ap, int)) != 0 && nw < 16)
		want[nw++] = v;
	va_end(ap);
	ng = collect_uas(in, got, 16);
	ok = ng == nw;
	for (int i = 0; ok && i < nw; i++) {
		bool hit = false;
		for (int j = 0; j < ng && !hit; j++)
			if (!used[j] && got[j] == want[i])
				used[j] = hit = true;
		ok = hit;
	}
	for (int i = 0; i < nw; i++)
		snprintf(ws + strlen(ws), sizeof(ws) - strlen(ws), " %02X/%02X", want[i] >> 8,
			 want[i] & 0xff);
	for (int i = 0; i < ng && i < 16; i++)
		snprintf(gs + strlen(gs), sizeof(gs) - strlen(gs), " %02X/%02X", got[i] >> 8,
			 got[i] & 0xff);
	check_at(file, line, ok, "%s: %s: unit attentions want {%s } got {%s }", in->label, what,
		 ws, gs);
}

void cmd_read16(struct ini *in, uint64_t lba, uint32_t blocks, struct rsp *r)
{
	uint8_t cdb[16] = {0x88};

	put64(cdb + 2, lba);
	put32(cdb + 10, blocks);
	run_cdb(in, cdb, 16, 1, (int)blocks * 512, NULL, 0, r);
}

void cmd_write16(struct ini *in, uint64_t lba, uint32_t blocks, uint8_t fill, struct rsp *r)
{
	uint8_t cdb[16] = {0x8a};
	uint8_t *buf = malloc(blocks * 512u);

	memset(buf, fill, blocks * 512u);
	put64(cdb + 2, lba);
	put32(cdb + 10, blocks);
	run_cdb(in, cdb, 16, 2, (int)blocks * 512, buf, (int)blocks * 512, r);
	free(buf);
}

void prout(struct ini *in, int sa, int type, uint64_t key, uint64_t sark, uint8_t flags,
	   const uint8_t *extra, int extra_len, struct rsp *r)
{
	uint8_t cdb[10] = {0x5f, (uint8_t)sa, (uint8_t)type};
	uint8_t p[4096] = {0};
	int len = 24 + extra_len;

	put64(p, key);
	put64(p + 8, sark);
	p[20] = flags;
	if (extra_len)
		memcpy(p + 24, extra, (size_t)extra_len);
	put32(cdb + 5, (uint32_t)len);
	run_cdb(in, cdb, 10, 2, len, p, len, r);
}

void prout_move(struct ini *in, int type, uint64_t key, uint64_t sark, bool unreg, bool aptpl,
		uint16_t rtpi, const uint8_t *tid, int tid_len, struct rsp *r)
{
	uint8_t cdb[10] = {0x5f, 0x07, (uint8_t)type};
	uint8_t p[1024] = {0};
	int len = 24 + tid_len;

	/* SPC-4 6.16.4 table 217 */
	put64(p, key);
	put64(p + 8, sark);
	p[17] = (uint8_t)((unreg ? 0x02 : 0) | (aptpl ? 0x01 : 0));
	p[18] = (uint8_t)(rtpi >> 8);
	p[19] = (uint8_t)rtpi;
	put32(p + 20, (uint32_t)tid_len);
	memcpy(p + 24, tid, (size_t)tid_len);
	put32(cdb + 5, (uint32_t)len);
	run_cdb(in, cdb, 10, 2, len, p, len, r);
}

void prin(struct ini *in, int sa, int alloc, struct rsp *r)
{
	uint8_t cdb[10] = {0x5e, (uint8_t)sa};

	cdb[7] = (uint8_t)(alloc >> 8);
	cdb[8] = (uint8_t)alloc;
	run_cdb(in, cdb, 10, 1, alloc, NULL, 0, r);
}

bool read_keys(struct ini *in, struct keys *k)
{
	struct rsp r;

	memset(k, 0, sizeof(*k));
	prin(in, 0, 8192, &r);
	check_at(__FILE__, __LINE__, r.status == ST_GOOD && r.len >= 8,
		 "%s: READ KEYS: status 0x%02x len %d", in->label, r.status & 0xff, r.len);
	if (r.status != ST_GOOD || r.len < 8)
		return false;
	k->gen = be32(r.data);
	k->addlen = be32(r.data + 4);
	for (uint32_t off = 8; off + 8 <= (uint32_t)r.len && off < 8 + k->addlen && k->n < 64;
	     off += 8)
		k->key[k->n++] = be64(r.data + off);
	return true;
}

bool read_resv(struct ini *in, struct resv *rv)
{
	struct rsp r;

	memset(rv, 0, sizeof(*rv));
	prin(in, 1, 8192, &r);
	check_at(__FILE__, __LINE__, r.status == ST_GOOD && r.len >= 8,
		 "%s: READ RESERVATION: status 0x%02x len %d", in->label, r.status & 0xff, r.len);
	if (r.status != ST_GOOD || r.len < 8)
		return false;
	rv->gen = be32(r.data);
	rv->addlen = be32(r.data + 4);
	/* SPC-4 6.15.3.2: ADDITIONAL LENGTH 0 (none) or 16 (one reservation) */
	check_at(__FILE__, __LINE__, rv->addlen == 0 || rv->addlen == 16,
		 "READ RESERVATION ADDITIONAL LENGTH %u", rv->addlen);
	check_at(__FILE__, __LINE__, r.len == 8 + (int)rv->addlen,
		 "READ RESERVATION returned %d bytes for ADDITIONAL LENGTH %u", r.len, rv->addlen);
	if (rv->addlen >= 16 && r.len >= 24) {
		rv->present = true;
		rv->key = be64(r.data + 8);
		rv->scope = r.data[21] >> 4;
		rv->type = r.data[21] & 0x0f;
	}
	return true;
}

static int tid_pad(uint8_t *buf, int text_len)
{
	/* SPC-4 7.6.4.6: NUL terminated, padded to a multiple of 4, >= 20 */
	int add = (text_len + 1 + 3) & ~3;

	if (add < 20)
		add = 20;
	buf[1] = 0;
	buf[2] = (uint8_t)(add >> 8);
	buf[3] = (uint8_t)add;
	return 4 + add;
}

int tid_port(const struct ini *in, uint8_t *buf)
{
	uint8_t isid[6];
	char text[300];
	int n;

	isid_bytes(in, isid);
	n = snprintf(text, sizeof(text), "%s,i,0x%02x%02x%02x%02x%02x%02x", in->name, isid[0],
		     isid[1], isid[2], isid[3], isid[4], isid[5]);
	memset(buf, 0, 4 + 300);
	buf[0] = 0x45; /* FORMAT CODE 01b, PROTOCOL IDENTIFIER 5 (iSCSI) */
	memcpy(buf + 4, text, (size_t)n);
	return tid_pad(buf, n);
}

int tid_name(const char *name, uint8_t *buf)
{
	int n = (int)strlen(name);

	memset(buf, 0, 4 + 300);
	buf[0] = 0x05; /* FORMAT CODE 00b, iSCSI */
	memcpy(buf + 4, name, (size_t)n);
	return tid_pad(buf, n);
}

bool read_full_status(struct ini *in, struct fullstatus *fs)
{
	struct rsp *r = &fs->r;
	uint32_t off;

	fs->n = 0;
	prin(in, 3, 8192, r);
	check_at(__FILE__, __LINE__, r->status == ST_GOOD && r->len >= 8,
		 "%s: READ FULL STATUS: status 0x%02x len %d", in->label, r->status & 0xff, r->len);
	if (r->status != ST_GOOD || r->len < 8)
		return false;
	fs->gen = be32(r->data);
	fs->addlen = be32(r->data + 4);
	check_at(__FILE__, __LINE__, r->len == 8 + (int)fs->addlen,
		 "READ FULL STATUS: %d bytes for ADDITIONAL LENGTH %u", r->len, fs->addlen);
	for (off = 8; off + 24 <= (uint32_t)r->len && fs->n < 32;) {
		struct fsd *d = &fs->d[fs->n++];
		const uint8_t *p = r->data + off;

		d->key = be64(p);
		d->all_tg_pt = p[12] & 0x02;
		d->r_holder = p[12] & 0x01;
		d->scope = p[13] >> 4;
		d->type = p[13] & 0x0f;
		d->rtpi = (uint16_t)(p[18] << 8 | p[19]);
		d->addlen = be32(p + 20);
		d->tid = p + 24;
		d->raw = p;
		d->raw_len = 24 + (int)d->addlen;
		/* reserved bytes 8..11 and 14..17 (table 209) */
		check_at(__FILE__, __LINE__,
			 !p[8] && !p[9] && !p[10] && !p[11] && !p[14] && !p[15] && !p[16] &&
			     !p[17] && !(p[12] & 0xfc),
			 "READ FULL STATUS descriptor %d: reserved bits set", fs->n - 1);
		off += 24 + d->addlen;
	}
	check_at(__FILE__, __LINE__, off == (uint32_t)r->len,
		 "READ FULL STATUS: descriptors end at %u, data at %d", off, r->len);
	return true;
}

const struct fsd *fs_find(const struct fullstatus *fs, const uint8_t *tid, int tid_len,
			  uint16_t rtpi)
{
	for (int i = 0; i < fs->n; i++) {
		const struct fsd *d = &fs->d[i];
		bool eq = (int)d->addlen == tid_len && d->rtpi == rtpi;

		/* RFC 7143 / SPC-4: hex digits of the ISID compare case-insensitively */
		for (int k = 0; eq && k < tid_len; k++)
			eq = tolower(d->tid[k]) == tolower(tid[k]);
		if (eq)
			return d;
	}
	return NULL;
}
