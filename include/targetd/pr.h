/* SPDX-License-Identifier: MIT */
/*
 * pr: the SPC-4 persistent reservation engine (plus SPC-5 REPLACE LOST
 * RESERVATION). Pure: no I/O, no sense bytes, no task plumbing. Depends on
 * util only. The scsi module glues it in: it calls pr_check() for every
 * command (with the LU's committed state), pr_out() for PERSISTENT RESERVE
 * OUT (on a copy, which it may persist before swapping it in), and pr_in()
 * for PERSISTENT RESERVE IN. See docs/persistent-reservations.md.
 *
 * Identity is by value (design.md): an I_T nexus is (initiator iSCSI name,
 * ISID, relative target port identifier). A registration made from a
 * TransportID of format 00b (SPC-4 7.6.4.6: iSCSI name only) has no ISID and
 * matches every initiator port of that name on its target port.
 *
 * Threading: loop thread only; nothing here blocks or allocates per I/O
 * (pr_check does no allocation at all).
 */
#ifndef TARGETD_PR_H
#define TARGETD_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PR_NAME_MAX 224 /* iSCSI name: at most 223 bytes + NUL (RFC 7143 4.2.7.1) */
#define PR_DEFAULT_MAX_REGISTRANTS 128

/* SPC-4 6.16.2 table 213 (+ SPC-5 REPLACE LOST RESERVATION) */
enum pr_out_sa {
	PR_OUT_REGISTER = 0x00,
	PR_OUT_RESERVE = 0x01,
	PR_OUT_RELEASE = 0x02,
	PR_OUT_CLEAR = 0x03,
	PR_OUT_PREEMPT = 0x04,
	PR_OUT_PREEMPT_AND_ABORT = 0x05,
	PR_OUT_REGISTER_AND_IGNORE = 0x06,
	PR_OUT_REGISTER_AND_MOVE = 0x07,
	PR_OUT_REPLACE_LOST = 0x08,
};

/* SPC-4 6.15.1 table 201 */
enum pr_in_sa {
	PR_IN_READ_KEYS = 0x00,
	PR_IN_READ_RESERVATION = 0x01,
	PR_IN_REPORT_CAPABILITIES = 0x02,
	PR_IN_READ_FULL_STATUS = 0x03,
};

/* SPC-4 6.15.3.4 table 204 */
enum pr_type {
	PR_TYPE_NONE = 0,
	PR_TYPE_WR_EX = 1,
	PR_TYPE_EX_AC = 3,
	PR_TYPE_WR_EX_RO = 5,
	PR_TYPE_EX_AC_RO = 6,
	PR_TYPE_WR_EX_AR = 7,
	PR_TYPE_EX_AC_AR = 8,
};
#define PR_SCOPE_LU 0

/* An initiator port / I_T nexus identity, by value. */
struct pr_itn {
	char initiator[PR_NAME_MAX]; /* iSCSI name, NUL-terminated */
	uint8_t isid[6];
	bool has_isid; /* false: TransportID format 00b, any ISID matches */
	uint16_t rel_tport_id; /* SPC-4 relative target port identifier */
};

/* Who is asking: the I_T nexus a command arrived on. */
struct pr_nexus_id {
	const char *initiator; /* iSCSI initiator name */
	uint8_t isid[6];
	uint16_t rel_tport_id;
	uint16_t tpgt;
};

/* The target's ports (one per portal group), for ALL_TG_PT and REGISTER AND
 * MOVE's RELATIVE TARGET PORT IDENTIFIER. */
struct pr_port {
	uint16_t rel_tport_id;
	uint16_t tpgt;
};
struct pr_ports {
	const struct pr_port *port;
	unsigned n;
};

struct pr_reg {
	struct pr_itn itn;
	uint64_t key;
	bool all_tg_pt; /* created by ALL_TG_PT=1 */
	bool holder; /* holder of a non-all-registrants reservation (SPC-4 5.13.10) */
};

/* The persistent reservation state of one LU. Plain data: copy with
 * pr_state_copy (deep), release with pr_state_free. */
struct pr_state {
	uint32_t generation; /* PRgeneration (SPC-4 6.15.2); zero at power on */
	bool aptpl; /* last valid APTPL bit (SPC-4 5.13.5.1) */
	bool lost; /* recoverable lost PR condition (SPC-4 5.13.5.3.2) */
	bool res_present;
	uint8_t res_type; /* enum pr_type */
	uint8_t res_scope; /* always PR_SCOPE_LU */
	unsigned max_registrants; /* INSUFFICIENT REGISTRATION RESOURCES above this */
	unsigned n_regs, cap_regs;
	struct pr_reg *regs; /* one per registered I_T nexus, registration order */
};

void pr_state_init(struct pr_state *st, unsigned max_registrants);
void pr_state_free(struct pr_state *st);
int pr_state_copy(struct pr_state *dst, const struct pr_state *src); /* 0 / -ENOMEM */
/* Registration of the I_T nexus `who`, or NULL. */
const struct pr_reg *pr_state_find(const struct pr_state *st, const struct pr_nexus_id *who);
bool pr_type_valid(unsigned type);
bool pr_type_all_registrants(unsigned type);
bool pr_is_holder(const struct pr_state *st, const struct pr_nexus_id *who);

/* ---- outcomes ------------------------------------------------------------
 * pr's own small result; scsi maps reason -> sense (its one table). The
 * sense triple for each reason is documented (and returned by
 * pr_reason_sense() for the glue and the tests). */
enum pr_status {
	PR_GOOD = 0,
	PR_RESERVATION_CONFLICT,
	PR_CHECK_CONDITION,
};

enum pr_reason {
	PR_R_NONE = 0,
	PR_R_INVALID_FIELD_IN_CDB, /* 05/24/00 */
	PR_R_INVALID_FIELD_IN_PARAM, /* 05/26/00 */
	PR_R_PARAM_LIST_LENGTH, /* 05/1A/00 */
	PR_R_INVALID_RELEASE, /* 05/26/04 INVALID RELEASE OF PERSISTENT RESERVATION */
	PR_R_INSUFFICIENT_REG_RESOURCES, /* 05/55/04 */
	PR_R_INFO_LOST, /* 07/44/01 DATA PROTECT, PR INFORMATION LOST */
};

struct pr_result {
	enum pr_status status;
	enum pr_reason reason; /* when status == PR_CHECK_CONDITION */
	/* sense-key specific field pointer (SPC-4 4.5.2.4.2), if field_valid */
	bool field_valid;
	bool field_in_cdb; /* C/D bit */
	bool bit_valid; /* BPV */
	uint8_t bit;
	uint16_t byte;
};

void pr_reason_sense(enum pr_reason r, uint8_t *key, uint8_t *asc, uint8_t *ascq);

/* Unit attention to establish for one I_T nexus (SPC-4 5.13.11). The
 * nexus need not be logged in: scsi keeps UAs per identity. */
struct pr_ua {
	struct pr_itn itn;
	uint8_t asc,
	    ascq; /* 2A/03 RESERVATIONS PREEMPTED, 2A/04 RELEASED, 2A/05 REGISTRATIONS PREEMPTED */
};
#define PR_ASC_UA 0x2a
#define PR_ASCQ_RESERVATIONS_PREEMPTED 0x03
#define PR_ASCQ_RESERVATIONS_RELEASED 0x04
#define PR_ASCQ_REGISTRATIONS_PREEMPTED 0x05

/* What pr_out decided. Owned arrays: release with pr_effects_free. */
struct pr_effects {
	struct pr_result result;
	bool changed; /* next differs from cur: commit (and persist if APTPL) */
	bool aptpl_changed; /* APTPL activated or deactivated by this command */
	bool aptpl; /* next->aptpl */
	struct pr_ua *ua;
	unsigned n_ua;
	struct pr_itn *abort; /* PREEMPT AND ABORT: abort these nexuses' tasks on the LU */
	unsigned n_abort;
};
void pr_effects_free(struct pr_effects *fx);

/*
 * PERSISTENT RESERVE OUT. cdb: the 10-byte CDB (service action, scope,
 * type); param/param_len: the parameter list as received (param_len is the
 * CDB's PARAMETER LIST LENGTH; param may be NULL when 0). On entry *next is
 * uninitialised; on return 0 it holds the new state (equal to *cur unless
 * fx->changed) and must be released with pr_state_free; *fx is filled and
 * must be released with pr_effects_free. Returns -ENOMEM (nothing to free)
 * on allocation failure.
 */
int pr_out(const struct pr_state *cur, struct pr_state *next, const uint8_t *cdb,
	   const uint8_t *param, uint32_t param_len, const struct pr_nexus_id *who,
	   const struct pr_ports *ports, struct pr_effects *fx);

/*
 * PERSISTENT RESERVE IN. Writes min(full length, alloc_len) bytes to buf and
 * stores that count in *out_len; the length fields inside always describe
 * the full data (SPC-4 4.2.5.6). res gets INVALID FIELD IN CDB for an unknown
 * service action. Returns 0 or -ENOMEM.
 */
int pr_in(const struct pr_state *st, uint8_t service_action, uint8_t *buf, uint32_t alloc_len,
	  uint32_t *out_len, struct pr_result *res);

/* ---- access control (SPC-4 5.13.1 tables 65/66, SBC-4 4.17 table 13) -----
 * Command classes: scsi tags each CDB-table row with one. The outcome for a
 * holder / registrant / non-registrant under each of the six types is data
 * in pr_access.c and docs/persistent-reservations.md. */
enum pr_class {
	PR_CLASS_ALWAYS = 0, /* INQUIRY, REPORT LUNS, REQUEST SENSE, LOG SENSE, REPORT TPG */
	PR_CLASS_INFO, /* READ CAPACITY, PERSISTENT RESERVE IN, READ MEDIA SERIAL NUMBER */
	PR_CLASS_TUR, /* TEST UNIT READY */
	PR_CLASS_READ, /* READ(6/10/12/16), VERIFY, PRE-FETCH, GET LBA STATUS */
	PR_CLASS_READ_INFO, /* MODE SENSE, READ BUFFER, RECEIVE DIAGNOSTIC RESULTS,
			       * REPORT SUPPORTED OPCODES / TMFs, READ DEFECT DATA */
	PR_CLASS_WRITE, /* WRITE*, WRITE SAME, UNMAP, COMPARE AND WRITE,
			       * SYNCHRONIZE CACHE, FORMAT UNIT, WRITE AND VERIFY */
	PR_CLASS_CONTROL, /* MODE SELECT, LOG SELECT, WRITE BUFFER, SEND DIAGNOSTIC,
			       * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL */
	PR_CLASS_PR_OUT, /* PERSISTENT RESERVE OUT: pr_out applies table 66 itself */
	PR_CLASS_SPC2_RESERVE, /* RESERVE(6)/(10), SPC-4 5.13.3 (CRH=1) */
	PR_CLASS_SPC2_RELEASE, /* RELEASE(6)/(10), SPC-4 5.13.3 */
	PR_CLASS__COUNT
};

enum pr_access {
	PR_ACCESS_ALLOWED = 0,
	PR_ACCESS_CONFLICT, /* RESERVATION CONFLICT status */
	PR_ACCESS_NOOP_GOOD, /* SPC-4 5.13.3: complete with GOOD, change nothing */
	PR_ACCESS_LOST, /* CHECK CONDITION, PR_R_INFO_LOST (SPC-4 5.13.5.3.2) */
};

enum pr_access pr_check(const struct pr_state *st, const struct pr_nexus_id *who,
			enum pr_class cls);

/* ---- TransportIDs (SPC-4 7.6.4.6, iSCSI, formats 00b and 01b) ------------
 * Parse one TransportID from buf[0..len). On success fills *itn (rel_tport_id
 * left 0) and *used (bytes consumed, 4 + ADDITIONAL LENGTH). On failure
 * returns -EINVAL and *bad_off is the byte offset (within buf) of the
 * offending field. */
int pr_tid_parse(const uint8_t *buf, size_t len, struct pr_itn *itn, size_t *used, size_t *bad_off);
/* Encoded size of itn's TransportID (multiple of 4, >= 24). */
size_t pr_tid_len(const struct pr_itn *itn);
/* Encode into buf (at least pr_tid_len bytes); returns the length. */
size_t pr_tid_encode(const struct pr_itn *itn, uint8_t *buf);

/* ---- APTPL serialization (docs/aptpl-format.md) --------------------------
 * Versioned, endian-neutral key=value text ending with a CRC32C line. The
 * APTPL flag, registrations and reservation are stored; PRgeneration and the
 * lost condition are not (SPC-4 6.15.2: a power on sets PRgeneration to 0).
 * encode: malloc'd text in *out (caller frees), 0 or -ENOMEM.
 * decode: fills *st (initialised here with max_registrants); on -EINVAL
 * *err_line (1-based, 0 = whole file) and *err_msg (static string) say what
 * is wrong and *st is left empty. */
int pr_state_encode(const struct pr_state *st, char **out, size_t *len);
int pr_state_decode(const char *buf, size_t len, unsigned max_registrants, struct pr_state *st,
		    unsigned *err_line, const char **err_msg);

/* Import a Linux kernel target (LIO) APTPL file (<dbroot>/pr/aptpl_<serial>)
 * for one LU: the registrations whose target_node and target_lun match;
 * each LIO tpgt is mapped to the targetd port with that tpgt. Keys are
 * decimal there. The trailing NUL LIO writes is accepted. Errors as for
 * pr_state_decode. */
int pr_lio_import(const char *buf, size_t len, const char *target_node, unsigned target_lun,
		  const struct pr_ports *ports, unsigned max_registrants, struct pr_state *st,
		  unsigned *err_line, const char **err_msg);

#endif
