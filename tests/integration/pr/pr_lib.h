/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the persistent reservation integration scenarios: libiscsi
 * initiators with fixed names and ISIDs (so every I_T nexus is known by
 * value), raw CDBs, PERSISTENT RESERVE IN/OUT parameter lists built byte by
 * byte (SPC-4 6.15, 6.16), iSCSI TransportIDs (SPC-4 7.6.4.6) and
 * non-fatal checks that name the file and line of a failed expectation.
 */
#ifndef PR_LIB_H
#define PR_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iscsi_context;

#define ST_GOOD 0x00
#define ST_CHECK 0x02
#define ST_CONFLICT 0x18
#define ST_NONE (-1) /* no response (transport error / timeout) */

/* One libiscsi initiator: fixed name and ISID (random-type ISID, SPC-4
 * 7.6.4.6 / RFC 7143 11.12.5: 0x80, 24-bit value, 16-bit qualifier). */
struct ini {
	const char *label;
	const char *name;
	uint32_t isid_rnd;
	uint16_t isid_qual;
	int portal; /* 1 or 2: which portal group it logged in through */
	struct iscsi_context *ctx;
};

struct rsp {
	int status; /* SCSI status, or ST_NONE */
	int key, asc, ascq; /* sense, when status == ST_CHECK */
	/* sense-key specific field pointer (SPC-4 4.5.2.4.2) */
	bool sksv, cd, bpv;
	int bit, field;
	uint8_t data[16384];
	int len; /* bytes of data-in received */
};

/* test configuration (argv) */
extern const char *g_portal[3]; /* [1], [2]: "host:port" of portal groups 1 and 2 */
extern const char *g_target;
extern int g_lun;
extern int g_failures;

void check_at(const char *file, int line, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) check_at(__FILE__, __LINE__, (cond), __VA_ARGS__)
/* fatal: the scenario cannot go on (cond is evaluated once) */
#define REQUIRE(cond, ...)                                              \
	do {                                                            \
		bool require_ok_ = (cond);                              \
		check_at(__FILE__, __LINE__, require_ok_, __VA_ARGS__); \
		if (!require_ok_)                                       \
			exit_now();                                     \
	} while (0)
void exit_now(void) __attribute__((noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void isid_bytes(const struct ini *in, uint8_t isid[6]);
/* connect + login only (no TEST UNIT READY: unit attentions stay queued) */
int ini_login(struct ini *in, int portal);
void ini_logout(struct ini *in);
/* login, then the first contact's POWER ON UA (SAM-5 6.3.1) and TUR GOOD */
void ini_up_at(const char *file, int line, struct ini *in, int portal);
#define ini_up(in, portal) ini_up_at(__FILE__, __LINE__, in, portal)

/* A raw command; dir: 0 none, 1 data-in (xfer = allocation), 2 data-out */
void run_cdb(struct ini *in, const uint8_t *cdb, int cdb_len, int dir, int xfer, const uint8_t *out,
	     int out_len, struct rsp *r);

/* expectations on a response */
void expect_status_at(const char *file, int line, const struct rsp *r, int status,
		      const char *what);
void expect_sense_at(const char *file, int line, const struct rsp *r, int key, int asc, int ascq,
		     const char *what);
/* the field pointer: in the CDB (cd) or the parameter list, byte, bit (-1:
 * no bit pointer) */
void expect_field_at(const char *file, int line, const struct rsp *r, bool cd, int byte, int bit,
		     const char *what);
#define expect_field(r, cd, byte, bit, what) \
	expect_field_at(__FILE__, __LINE__, r, cd, byte, bit, what)
#define expect_status(r, st, what) expect_status_at(__FILE__, __LINE__, r, st, what)
#define expect_sense(r, k, a, q, what) expect_sense_at(__FILE__, __LINE__, r, k, a, q, what)

/* Unit attentions: TEST UNIT READY until it is not UNIT ATTENTION; the
 * ASC/ASCQ seen (asc << 8 | ascq), in order. Returns the count. */
int collect_uas(struct ini *in, int *uas, int max);
/* expect exactly this set of UAs (order free), given as 0xAAQQ values,
 * terminated by 0; then TUR is GOOD */
void expect_uas_at(const char *file, int line, struct ini *in, const char *what, ...);
#define expect_uas(in, what, ...) expect_uas_at(__FILE__, __LINE__, in, what, __VA_ARGS__, 0)

/* ---- commands ---- */
void cmd_tur(struct ini *in, struct rsp *r);
void cmd_read16(struct ini *in, uint64_t lba, uint32_t blocks, struct rsp *r);
void cmd_write16(struct ini *in, uint64_t lba, uint32_t blocks, uint8_t fill, struct rsp *r);

/* PERSISTENT RESERVE OUT, basic parameter list (SPC-4 6.16.3) plus `extra`
 * bytes appended (SPEC_I_PT: TRANSPORTID PARAMETER DATA LENGTH + ids).
 * flags: byte 20 (SPEC_I_PT 0x08, ALL_TG_PT 0x04, APTPL 0x01). */
#define PF_SPEC_I_PT 0x08
#define PF_ALL_TG_PT 0x04
#define PF_APTPL 0x01
void prout(struct ini *in, int sa, int type, uint64_t key, uint64_t sark, uint8_t flags,
	   const uint8_t *extra, int extra_len, struct rsp *r);
/* REGISTER AND MOVE (SPC-4 6.16.4) */
void prout_move(struct ini *in, int type, uint64_t key, uint64_t sark, bool unreg, bool aptpl,
		uint16_t rtpi, const uint8_t *tid, int tid_len, struct rsp *r);
void prin(struct ini *in, int sa, int alloc, struct rsp *r);

/* PR IN decoded; each returns false (and counts a failure) if the
 * command did not complete GOOD */
struct keys {
	uint32_t gen, addlen;
	int n;
	uint64_t key[64];
};
bool read_keys(struct ini *in, struct keys *k);
struct resv {
	uint32_t gen, addlen;
	bool present;
	uint64_t key;
	int scope, type;
};
bool read_resv(struct ini *in, struct resv *rv);

/* TransportIDs (SPC-4 7.6.4.6): format 01b (name + ",i,0x" + ISID) or
 * 00b (name only); NUL-terminated, padded with zeros to a multiple of 4,
 * at least 24 bytes. Returns the length. */
int tid_port(const struct ini *in, uint8_t *buf);
int tid_name(const char *name, uint8_t *buf);

/* READ FULL STATUS descriptor (SPC-4 6.15.5 table 209) */
struct fsd {
	uint64_t key;
	bool all_tg_pt, r_holder;
	int scope, type;
	uint16_t rtpi;
	uint32_t addlen; /* ADDITIONAL DESCRIPTOR LENGTH */
	const uint8_t *tid;
	const uint8_t *raw; /* whole descriptor */
	int raw_len;
};
struct fullstatus {
	uint32_t gen, addlen;
	int n;
	struct fsd d[32];
	struct rsp r;
};
bool read_full_status(struct ini *in, struct fullstatus *fs);
/* the descriptor whose TransportID equals tid (NULL if none) */
const struct fsd *fs_find(const struct fullstatus *fs, const uint8_t *tid, int tid_len,
			  uint16_t rtpi);

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

#endif
