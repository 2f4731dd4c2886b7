/* SPDX-License-Identifier: MIT */
/*
 * iSCSI PDU wire layouts (RFC 7143 section 11). Every PDU starts with a 48-byte
 * Basic Header Segment (BHS, 11.2.1). The structs below are made of byte arrays
 * only, so they have no padding and no alignment requirement: overlay them on
 * any received byte buffer and read multi-byte fields with get_be*().
 */
#ifndef TARGETD_WIRE_ISCSI_PDU_H
#define TARGETD_WIRE_ISCSI_PDU_H

#include <stdint.h>

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_AHS_MAX (255u * 4u) /* TotalAHSLength is in 4-byte words (11.2.1.2) */
#define ISCSI_DSL_MAX ((1u << 24) - 1) /* DataSegmentLength is 24 bits */
#define ISCSI_PAD(len) ((4u - ((len)&3u)) & 3u) /* 11.2.3: pad to 4 bytes */
#define ISCSI_RSVD_TAG 0xffffffffu /* reserved ITT/TTT value (11.2.1.8) */

/* ---- opcodes (11.2.1.2) --------------------------------------------------- */
/* initiator -> target */
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_SCSI_CMD 0x01
#define ISCSI_OP_TMF_REQ 0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ 0x04
#define ISCSI_OP_DATA_OUT 0x05
#define ISCSI_OP_LOGOUT_REQ 0x06
#define ISCSI_OP_SNACK_REQ 0x10
/* target -> initiator */
#define ISCSI_OP_NOP_IN 0x20
#define ISCSI_OP_SCSI_RSP 0x21
#define ISCSI_OP_TMF_RSP 0x22
#define ISCSI_OP_LOGIN_RSP 0x23
#define ISCSI_OP_TEXT_RSP 0x24
#define ISCSI_OP_DATA_IN 0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T 0x31
#define ISCSI_OP_ASYNC_MSG 0x32
#define ISCSI_OP_REJECT 0x3f

#define ISCSI_OPCODE_MASK 0x3f
#define ISCSI_OP_IMMEDIATE 0x40 /* I bit in byte 0 */

/* ---- common flags (byte 1) ------------------------------------------------- */
#define ISCSI_FLAG_FINAL 0x80
/* SCSI Command (11.3.1) */
#define ISCSI_CMD_FLAG_READ 0x40
#define ISCSI_CMD_FLAG_WRITE 0x20
#define ISCSI_CMD_ATTR_MASK 0x07
/* SCSI Response / Data-In residual flags (11.4.1, 11.7.5) */
#define ISCSI_RSP_FLAG_BIDI_OVERFLOW 0x10
#define ISCSI_RSP_FLAG_BIDI_UNDERFLOW 0x08
#define ISCSI_RSP_FLAG_OVERFLOW 0x04
#define ISCSI_RSP_FLAG_UNDERFLOW 0x02
#define ISCSI_DATAIN_FLAG_ACK 0x40
#define ISCSI_DATAIN_FLAG_STATUS 0x01
/* Login (11.12.1) */
#define ISCSI_LOGIN_FLAG_TRANSIT 0x80
#define ISCSI_LOGIN_FLAG_CONTINUE 0x40
#define ISCSI_LOGIN_CSG(f) (((f) >> 2) & 3)
#define ISCSI_LOGIN_NSG(f) ((f)&3)
#define ISCSI_LOGIN_STAGE_SECURITY 0
#define ISCSI_LOGIN_STAGE_OPERATIONAL 1
#define ISCSI_LOGIN_STAGE_FFP 3
/* Text (11.10.1) */
#define ISCSI_TEXT_FLAG_CONTINUE 0x40

#define ISCSI_VERSION 0x00 /* 11.12.4: Version-max / Version-min */

/* ---- the generic BHS (11.2.1) ---------------------------------------------- */
struct iscsi_bhs {
	uint8_t opcode;
	uint8_t flags;
	uint8_t opspec1[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8]; /* or opcode specific */
	uint8_t itt[4];
	uint8_t opspec2[28];
};

/* SCSI Command (11.3) */
struct iscsi_bhs_scsi_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t edtl[4];
	uint8_t cmdsn[4];
	uint8_t exp_statsn[4];
	uint8_t cdb[16];
};

/* SCSI Response (11.4) */
struct iscsi_bhs_scsi_rsp {
	uint8_t opcode;
	uint8_t flags;
	uint8_t response;
	uint8_t status;
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t rsvd8[8];
	uint8_t itt[4];
	uint8_t snack_tag[4];
	uint8_t statsn[4];
	uint8_t exp_cmdsn[4];
	uint8_t max_cmdsn[4];
	uint8_t exp_datasn[4];
	uint8_t bidi_residual[4];
	uint8_t residual[4];
};
#define ISCSI_RESPONSE_COMPLETED 0x00
#define ISCSI_RESPONSE_TARGET_FAILURE 0x01

/* Task Management Function Request (11.5) */
struct iscsi_bhs_tmf_req {
	uint8_t opcode;
	uint8_t function; /* F bit | function */
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t rtt[4];
	uint8_t cmdsn[4];
	uint8_t exp_statsn[4];
	uint8_t ref_cmdsn[4];
	uint8_t exp_datasn[4];
	uint8_t rsvd40[8];
};
#define ISCSI_TMF_FUNC_MASK 0x7f
#define ISCSI_TMF_ABORT_TASK 1
#define ISCSI_TMF_ABORT_TASK_SET 2
#define ISCSI_TMF_CLEAR_ACA 3
#define ISCSI_TMF_CLEAR_TASK_SET 4
#define ISCSI_TMF_LUN_RESET 5
#define ISCSI_TMF_TARGET_WARM_RESET 6
#define ISCSI_TMF_TARGET_COLD_RESET 7
#define ISCSI_TMF_TASK_REASSIGN 8

/* Task Management Function Response (11.6) */
struct iscsi_bhs_tmf_rsp {
	uint8_t opcode;
	uint8_t flags;
	uint8_t response;
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t rsvd8[8];
	uint8_t itt[4];
	uint8_t rsvd20[4];
	uint8_t statsn[4];
	uint8_t exp_cmdsn[4];
	uint8_t max_cmdsn[4];
	uint8_t rsvd36[12];
};
/* 11.6.1 */
#define ISCSI_TMF_RSP_COMPLETE 0
#define ISCSI_TMF_RSP_NO_TASK 1
#define ISCSI_TMF_RSP_NO_LUN 2
#define ISCSI_TMF_RSP_TASK_ALLEGIANT 3
#define ISCSI_TMF_RSP_NO_REASSIGN 4
#define ISCSI_TMF_RSP_NOT_SUPPORTED 5
#define ISCSI_TMF_RSP_AUTH_FAILED 6
#define ISCSI_TMF_RSP_REJECTED 255

/* SCSI Data-Out (11.7.1) and Data-In (11.7.2) */
struct iscsi_bhs_data {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2;
	uint8_t status; /* Data-In only, valid with S bit */
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t ttt[4];
	uint8_t statsn[4]; /* Data-In: StatSN (valid with S bit); Data-Out: reserved */
	uint8_t exp_cmdsn[4]; /* Data-In: ExpCmdSN; Data-Out: ExpStatSN (11.7.1) */
	uint8_t max_cmdsn[4]; /* Data-In: MaxCmdSN; Data-Out: reserved */
	uint8_t datasn[4];
	uint8_t buffer_offset[4];
	uint8_t residual[4]; /* Data-In only */
};

/* Ready To Transfer (11.8) */
struct iscsi_bhs_r2t {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t ttt[4];
	uint8_t statsn[4];
	uint8_t exp_cmdsn[4];
	uint8_t max_cmdsn[4];
	uint8_t r2tsn[4];
	uint8_t buffer_offset[4];
	uint8_t desired_len[4];
};

/* Asynchronous Message (11.9) */
struct iscsi_bhs_async {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4]; /* 0xffffffff */
	uint8_t rsvd20[4];
	uint8_t statsn[4];
	uint8_t exp_cmdsn[4];
	uint8_t max_cmdsn[4];
	uint8_t async_event;
	uint8_t async_vcode;
	uint8_t param1[2];
	uint8_t param2[2];
	uint8_t param3[2];
	uint8_t rsvd44[4];
};
#define ISCSI_ASYNC_LOGOUT_REQUEST 1

/* Text Request (11.10) / Text Response (11.11) */
struct iscsi_bhs_text {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t ttt[4];
	uint8_t sn1[4]; /* req: CmdSN;    rsp: StatSN */
	uint8_t sn2[4]; /* req: ExpStatSN; rsp: ExpCmdSN */
	uint8_t sn3[4]; /* rsp: MaxCmdSN */
	uint8_t rsvd36[12];
};

/* Login Request (11.12) / Login Response (11.13) */
struct iscsi_bhs_login {
	uint8_t opcode;
	uint8_t flags;
	uint8_t version_max; /* rsp: Version-max */
	uint8_t version_min; /* rsp: Version-active */
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t isid[6];
	uint8_t tsih[2];
	uint8_t itt[4];
	uint8_t cid[2]; /* rsp: reserved */
	uint8_t rsvd22[2];
	uint8_t sn1[4]; /* req: CmdSN;     rsp: StatSN */
	uint8_t sn2[4]; /* req: ExpStatSN; rsp: ExpCmdSN */
	uint8_t sn3[4]; /* rsp: MaxCmdSN */
	uint8_t status_class; /* rsp only */
	uint8_t status_detail;
	uint8_t rsvd38[10];
};

/* Login status (11.13.5), class << 8 | detail */
#define ISCSI_LOGIN_STATUS_SUCCESS 0x0000
#define ISCSI_LOGIN_STATUS_INITIATOR_ERROR 0x0200
#define ISCSI_LOGIN_STATUS_AUTH_FAILED 0x0201
#define ISCSI_LOGIN_STATUS_AUTHZ_FAILED 0x0202
#define ISCSI_LOGIN_STATUS_NOT_FOUND 0x0203
#define ISCSI_LOGIN_STATUS_TARGET_REMOVED 0x0204
#define ISCSI_LOGIN_STATUS_UNSUPPORTED_VERSION 0x0205
#define ISCSI_LOGIN_STATUS_TOO_MANY_CONNECTIONS 0x0206
#define ISCSI_LOGIN_STATUS_MISSING_PARAMETER 0x0207
#define ISCSI_LOGIN_STATUS_CANT_INCLUDE 0x0208
#define ISCSI_LOGIN_STATUS_SESSION_TYPE 0x0209
#define ISCSI_LOGIN_STATUS_NO_SESSION 0x020a
#define ISCSI_LOGIN_STATUS_INVALID_REQUEST 0x020b
#define ISCSI_LOGIN_STATUS_TARGET_ERROR 0x0300
#define ISCSI_LOGIN_STATUS_SERVICE_UNAVAILABLE 0x0301
#define ISCSI_LOGIN_STATUS_OUT_OF_RESOURCES 0x0302

/* Logout Request (11.14) / Logout Response (11.15) */
struct iscsi_bhs_logout {
	uint8_t opcode;
	uint8_t flags; /* req: F | reason code */
	uint8_t response; /* rsp only */
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t rsvd8[8];
	uint8_t itt[4];
	uint8_t cid[2]; /* req only */
	uint8_t rsvd22[2];
	uint8_t sn1[4]; /* req: CmdSN;     rsp: StatSN */
	uint8_t sn2[4]; /* req: ExpStatSN; rsp: ExpCmdSN */
	uint8_t sn3[4]; /* rsp: MaxCmdSN */
	uint8_t rsvd36[4];
	uint8_t time2wait[2]; /* rsp */
	uint8_t time2retain[2]; /* rsp */
	uint8_t rsvd44[4];
};
#define ISCSI_LOGOUT_REASON_MASK 0x7f
#define ISCSI_LOGOUT_CLOSE_SESSION 0
#define ISCSI_LOGOUT_CLOSE_CONNECTION 1
#define ISCSI_LOGOUT_REMOVE_FOR_RECOVERY 2
#define ISCSI_LOGOUT_RSP_OK 0
#define ISCSI_LOGOUT_RSP_CID_NOT_FOUND 1
#define ISCSI_LOGOUT_RSP_NO_RECOVERY 2
#define ISCSI_LOGOUT_RSP_CLEANUP_FAILED 3

/* NOP-Out (11.18) / NOP-In (11.19) */
struct iscsi_bhs_nop {
	uint8_t opcode;
	uint8_t flags;
	uint8_t rsvd2[2];
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t lun[8];
	uint8_t itt[4];
	uint8_t ttt[4];
	uint8_t sn1[4]; /* out: CmdSN;     in: StatSN */
	uint8_t sn2[4]; /* out: ExpStatSN; in: ExpCmdSN */
	uint8_t sn3[4]; /* in: MaxCmdSN */
	uint8_t rsvd36[12];
};

/* Reject (11.17) */
struct iscsi_bhs_reject {
	uint8_t opcode;
	uint8_t flags;
	uint8_t reason;
	uint8_t rsvd3;
	uint8_t total_ahs_len;
	uint8_t data_seg_len[3];
	uint8_t rsvd8[8];
	uint8_t itt[4]; /* 0xffffffff */
	uint8_t rsvd20[4];
	uint8_t statsn[4];
	uint8_t exp_cmdsn[4];
	uint8_t max_cmdsn[4];
	uint8_t datasn_r2tsn[4];
	uint8_t rsvd40[8];
};
/* 11.17.1 */
#define ISCSI_REJECT_DATA_DIGEST 0x02
#define ISCSI_REJECT_SNACK 0x03
#define ISCSI_REJECT_PROTOCOL_ERROR 0x04
#define ISCSI_REJECT_CMD_NOT_SUPPORTED 0x05
#define ISCSI_REJECT_IMMEDIATE_CMD 0x06
#define ISCSI_REJECT_TASK_IN_PROGRESS 0x07
#define ISCSI_REJECT_INVALID_DATA_ACK 0x08
#define ISCSI_REJECT_INVALID_PDU_FIELD 0x09
#define ISCSI_REJECT_OUT_OF_RESOURCES 0x0a
#define ISCSI_REJECT_WAITING_FOR_LOGOUT 0x0c

/* Extended CDB AHS (11.3.5): AHSType 1, AHSLength = CDB bytes beyond 16 + 1 */
#define ISCSI_AHS_TYPE_EXT_CDB 1

_Static_assert(sizeof(struct iscsi_bhs) == ISCSI_BHS_LEN, "bhs");
_Static_assert(sizeof(struct iscsi_bhs_scsi_cmd) == ISCSI_BHS_LEN, "cmd");
_Static_assert(sizeof(struct iscsi_bhs_scsi_rsp) == ISCSI_BHS_LEN, "rsp");
_Static_assert(sizeof(struct iscsi_bhs_tmf_req) == ISCSI_BHS_LEN, "tmf req");
_Static_assert(sizeof(struct iscsi_bhs_tmf_rsp) == ISCSI_BHS_LEN, "tmf rsp");
_Static_assert(sizeof(struct iscsi_bhs_data) == ISCSI_BHS_LEN, "data");
_Static_assert(sizeof(struct iscsi_bhs_r2t) == ISCSI_BHS_LEN, "r2t");
_Static_assert(sizeof(struct iscsi_bhs_async) == ISCSI_BHS_LEN, "async");
_Static_assert(sizeof(struct iscsi_bhs_text) == ISCSI_BHS_LEN, "text");
_Static_assert(sizeof(struct iscsi_bhs_login) == ISCSI_BHS_LEN, "login");
_Static_assert(sizeof(struct iscsi_bhs_logout) == ISCSI_BHS_LEN, "logout");
_Static_assert(sizeof(struct iscsi_bhs_nop) == ISCSI_BHS_LEN, "nop");
_Static_assert(sizeof(struct iscsi_bhs_reject) == ISCSI_BHS_LEN, "reject");

#endif
