#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/<harness>/).

The bytes follow the wire and file layouts byte for byte, so the fuzzers start
from inputs the code accepts: an iSCSI login as open-iscsi / libiscsi send it
(RFC 7143 11.12, keys of section 13) followed by SCSI commands with immediate
and unsolicited data, NOP-Out, Text SendTargets, TMF and Logout; CDBs of the
common SPC-4 / SBC-4 commands; PERSISTENT RESERVE OUT parameter lists with
iSCSI TransportIDs (SPC-4 6.16.3, 7.6.4.6); an APTPL file in the format of
docs/aptpl-format.md and a LIO aptpl file; configuration files.

Usage: tests/fuzz/make-seeds.py [OUTDIR]   (default: tests/fuzz/corpus)
Deterministic: re-running it rewrites the same files.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TARGET = b"iqn.2026-12.org.example:fuzz"
INIT = b"iqn.2026-12.org.example:host1"
ISID = bytes([0x80, 0, 0, 0, 0, 1])


def crc32c(data, crc=0):
    """CRC32C (Castagnoli), as util_crc32c / RFC 7143 12.1."""
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def keys(*kv):
    return b"".join(k + b"=" + v + b"\0" for k, v in kv)


def pad4(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


class Pdu:
    """Builds PDUs; digests (RFC 7143 13.1) once enabled."""

    def __init__(self):
        self.hd = False
        self.dd = False

    def pdu(self, bhs, data=b""):
        assert len(bhs) == 48
        bhs = bytearray(bhs)
        bhs[5:8] = struct.pack(">I", len(data))[1:]
        out = bytes(bhs)
        if self.hd:
            out += struct.pack("<I", crc32c(bytes(bhs)))
        if data:
            out += pad4(data)
            if self.dd:
                out += struct.pack("<I", crc32c(pad4(data)))
        return out


def login_bhs(flags, itt, cmdsn, exp_statsn=0, tsih=0):
    b = bytearray(48)
    b[0] = 0x43  # immediate | Login Request (11.12)
    b[1] = flags
    b[8:14] = ISID
    b[14:16] = struct.pack(">H", tsih)
    b[16:20] = struct.pack(">I", itt)
    b[20:22] = struct.pack(">H", 0)  # CID
    b[24:28] = struct.pack(">I", cmdsn)
    b[28:32] = struct.pack(">I", exp_statsn)
    return b


def cmd_bhs(itt, cmdsn, cdb, edtl, read=False, write=False, lun=0, final=True, imm=False):
    b = bytearray(48)
    b[0] = 0x01 | (0x40 if imm else 0)
    b[1] = (0x80 if final else 0) | (0x40 if read else 0) | (0x20 if write else 0) | 1
    b[8:16] = struct.pack(">Q", lun << 48)
    b[16:20] = struct.pack(">I", itt)
    b[20:24] = struct.pack(">I", edtl)
    b[24:28] = struct.pack(">I", cmdsn)
    b[28:32] = struct.pack(">I", cmdsn)
    b[32:32 + len(cdb)] = cdb
    return b


def dataout_bhs(itt, ttt, datasn, offset, final=True, lun=0):
    b = bytearray(48)
    b[0] = 0x05
    b[1] = 0x80 if final else 0
    b[8:16] = struct.pack(">Q", lun << 48)
    b[16:20] = struct.pack(">I", itt)
    b[20:24] = struct.pack(">I", ttt)
    b[36:40] = struct.pack(">I", datasn)
    b[40:44] = struct.pack(">I", offset)
    return b


def simple_bhs(op, flags, itt, cmdsn, ttt=0xFFFFFFFF, imm=True, extra=None):
    b = bytearray(48)
    b[0] = op | (0x40 if imm else 0)
    b[1] = flags
    b[16:20] = struct.pack(">I", itt)
    b[20:24] = struct.pack(">I", ttt)
    b[24:28] = struct.pack(">I", cmdsn)
    if extra:
        for off, val in extra:
            b[off:off + len(val)] = val
    return b


def cdb10(op, lba=0, blocks=0, b1=0):
    return struct.pack(">BBIBHB", op, b1, lba, 0, blocks, 0)


def tid_iscsi(name, isid=None):
    """iSCSI TransportID (SPC-4 7.6.4.6): format 00b (name) or 01b (name,i,0xISID)."""
    if isid is None:
        body = pad4(name + b"\0")
        while len(body) < 20:
            body += b"\0\0\0\0"
        return bytes([0x05, 0]) + struct.pack(">H", len(body)) + body
    body = pad4(name + b",i,0x" + isid.hex().encode() + b"\0")
    return bytes([0x45, 0]) + struct.pack(">H", len(body)) + body


def prout_params(key, sakey, flags=0, tids=b""):
    p = struct.pack(">QQI", key, sakey, 0) + bytes([flags, 0, 0, 0])
    if flags & 0x08:  # SPEC_I_PT
        p += struct.pack(">I", len(tids)) + tids
    return p


def move_params(key, sakey, rtpi, tid, flags=0):
    return struct.pack(">QQBBH", key, sakey, 0, flags, rtpi) + struct.pack(">I", len(tid)) + tid


def prout_cdb(sa, typ=0, scope=0):
    return bytes([0x5F, sa, (scope << 4) | typ, 0, 0, 0, 0, 0, 0, 0])


INQUIRY = bytes([0x12, 0, 0, 0, 0xFF, 0])
INQUIRY_VPD = [bytes([0x12, 1, p, 0, 0xFF, 0]) for p in (0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2)]
TUR = bytes(6)
READCAP10 = bytes([0x25] + [0] * 9)
READCAP16 = bytes([0x9E, 0x10] + [0] * 8 + [0, 0, 0, 32, 0, 0])
REPORT_LUNS = bytes([0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
MODE_SENSE6 = bytes([0x1A, 0, 0x3F, 0, 0xFF, 0])
MODE_SENSE10 = bytes([0x5A, 0, 0x3F, 0, 0, 0, 0, 0x10, 0, 0])
REQUEST_SENSE = bytes([0x03, 0, 0, 0, 18, 0])
SYNC_CACHE10 = bytes([0x35] + [0] * 9)
RSOC = bytes([0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0])
PRIN_KEYS = bytes([0x5E, 0, 0, 0, 0, 0, 0, 0x10, 0, 0])
PRIN_FULL = bytes([0x5E, 3, 0, 0, 0, 0, 0, 0x10, 0, 0])


def login_normal(p, digests=False, small=False):
    sec = keys((b"InitiatorName", INIT), (b"InitiatorAlias", b"fuzzhost"),
               (b"TargetName", TARGET), (b"SessionType", b"Normal"),
               (b"AuthMethod", b"None"))
    dig = b"CRC32C,None" if digests else b"None,CRC32C"
    op = keys((b"HeaderDigest", dig), (b"DataDigest", dig),
              (b"DefaultTime2Wait", b"2"), (b"DefaultTime2Retain", b"0"),
              (b"IFMarker", b"No"), (b"OFMarker", b"No"), (b"ErrorRecoveryLevel", b"0"),
              (b"InitialR2T", b"No"), (b"ImmediateData", b"Yes"),
              (b"MaxBurstLength", b"16776192"), (b"FirstBurstLength", b"262144"),
              (b"MaxOutstandingR2T", b"1"), (b"MaxConnections", b"1"),
              (b"DataPDUInOrder", b"Yes"), (b"DataSequenceInOrder", b"Yes"),
              (b"MaxRecvDataSegmentLength", b"512" if small else b"262144"))
    out = p.pdu(login_bhs(0x80 | (0 << 2) | 1, 1, 1), sec)  # T, CSG 0 -> NSG 1
    out += p.pdu(login_bhs(0x80 | (1 << 2) | 3, 1, 1, 1), op)  # T, CSG 1 -> FFP
    if digests:
        p.hd = p.dd = True
    return out


def ffp_commands(p, unsolicited=False):
    """With unsolicited (InitialR2T=No on both sides) the rest of the write
    follows as unsolicited Data-Out (TTT ffffffff); otherwise as the answer to
    the target's first R2T, whose TTT is 0 on a new connection."""
    out = b""
    sn = 1
    itt = 0x10

    def cmd(cdb, edtl, read=False, write=False, data=b"", lun=0, final=True):
        nonlocal sn, itt
        r = p.pdu(cmd_bhs(itt, sn, cdb, edtl, read, write, lun, final), data)
        sn += 1
        itt += 1
        return r

    out += cmd(INQUIRY, 255, read=True)
    out += cmd(TUR, 0)
    out += cmd(READCAP10, 8, read=True)
    out += cmd(READCAP16, 32, read=True)
    out += cmd(REPORT_LUNS, 256, read=True)
    out += cmd(MODE_SENSE6, 255, read=True)
    for v in INQUIRY_VPD[:3]:
        out += cmd(v, 255, read=True)
    out += cmd(cdb10(0x2A, 0, 1), 512, write=True, data=bytes(range(256)) * 2)
    out += cmd(cdb10(0x28, 0, 1), 512, read=True)
    # WRITE(10) of 8 blocks: 512 bytes immediate, then Data-Out (11.7.1)
    witt = itt
    ttt = 0xFFFFFFFF if unsolicited else 0
    # 11.3.1: F=0 announces unsolicited Data-Out
    out += cmd(cdb10(0x2A, 8, 8), 4096, write=True, data=b"\xab" * 512, final=not unsolicited)
    for i, off in enumerate(range(512, 4096, 512)):
        out += p.pdu(dataout_bhs(witt, ttt, i, off, final=off + 512 == 4096),
                     b"\xcd" * 512)
    out += cmd(cdb10(0x28, 8, 8), 4096, read=True)
    out += cmd(prout_cdb(0x00)[:7] + bytes([0, 24, 0]), 24, write=True,
               data=prout_params(0, 0x1111))
    out += cmd(prout_cdb(0x01, 1)[:7] + bytes([0, 24, 0]), 24, write=True,
               data=prout_params(0x1111, 0))
    out += cmd(PRIN_KEYS, 4096, read=True)
    out += cmd(SYNC_CACHE10, 0)
    # NOP-Out ping with data (11.18), immediate
    out += p.pdu(simple_bhs(0x00, 0x80, 0x100, sn), b"ping")
    # TMF ABORT TASK for an ITT that is done (11.5.1)
    out += p.pdu(simple_bhs(0x02, 0x80 | 1, 0x101, sn, ttt=0x10))
    # Text SendTargets=All (11.10), not immediate
    out += p.pdu(simple_bhs(0x04, 0x80, 0x102, sn, imm=False), keys((b"SendTargets", b"All")))
    sn += 1
    # Logout: close the session (11.14)
    out += p.pdu(simple_bhs(0x06, 0x80, 0x103, sn, ttt=0))
    return out


def login_discovery(p):
    sec = keys((b"InitiatorName", INIT), (b"SessionType", b"Discovery"),
               (b"AuthMethod", b"None"))
    op = keys((b"HeaderDigest", b"None"), (b"DataDigest", b"None"),
              (b"MaxRecvDataSegmentLength", b"32768"))
    out = p.pdu(login_bhs(0x80 | 1, 1, 1), sec)
    out += p.pdu(login_bhs(0x80 | (1 << 2) | 3, 1, 1, 1), op)
    out += p.pdu(simple_bhs(0x04, 0x80, 2, 1, imm=False), keys((b"SendTargets", b"All")))
    out += p.pdu(simple_bhs(0x06, 0x80, 3, 2, ttt=0))
    return out


def pdu_seeds():
    s = {}
    p = Pdu()
    normal = login_normal(p) + ffp_commands(p)
    s["login-normal-ffp"] = b"\x00" + normal
    s["login-normal-ffp-bytewise"] = b"\x01" + normal
    s["login-normal-ffp-48"] = b"\x08" + normal
    s["login-normal-ffp-noread"] = b"\x20" + normal
    p = Pdu()
    s["login-small-limits"] = b"\x80" + login_normal(p, small=True) + ffp_commands(p)
    p = Pdu()
    s["login-unsolicited-data"] = b"\x10" + login_normal(p) + ffp_commands(p, True)
    p = Pdu()
    s["login-digests"] = b"\x00" + login_normal(p, digests=True) + ffp_commands(p)
    s["login-discovery"] = b"\x40" + login_discovery(Pdu())
    # a login split over two PDUs with the C bit (6.2.1 / 11.12.2)
    p = Pdu()
    sec = keys((b"InitiatorName", INIT), (b"TargetName", TARGET), (b"AuthMethod", b"None"))
    s["login-continue"] = b"\x00" + p.pdu(login_bhs(0x40, 1, 1), sec[:20]) + \
        p.pdu(login_bhs(0x80 | 1, 1, 1), sec[20:]) + \
        p.pdu(login_bhs(0x80 | (1 << 2) | 3, 1, 1, 1), keys((b"MaxRecvDataSegmentLength",
                                                                 b"8192")))
    s["scsi-cmd-before-login"] = b"\x00" + Pdu().pdu(cmd_bhs(1, 1, INQUIRY, 255, read=True))
    return s


def keys_seeds():
    sec = keys((b"InitiatorName", INIT), (b"TargetName", TARGET), (b"SessionType", b"Normal"),
               (b"AuthMethod", b"CHAP,None"))
    op = keys((b"HeaderDigest", b"CRC32C,None"), (b"DataDigest", b"None"),
              (b"MaxRecvDataSegmentLength", b"262144"), (b"MaxBurstLength", b"1048576"),
              (b"FirstBurstLength", b"65536"), (b"InitialR2T", b"No"),
              (b"ImmediateData", b"Yes"), (b"MaxOutstandingR2T", b"1"),
              (b"DefaultTime2Wait", b"2"), (b"DefaultTime2Retain", b"0"),
              (b"ErrorRecoveryLevel", b"0"), (b"MaxConnections", b"1"),
              (b"DataPDUInOrder", b"Yes"), (b"DataSequenceInOrder", b"Yes"),
              (b"IFMarker", b"No"), (b"OFMarker", b"No"), (b"X-com.example.foo", b"bar"))
    return {
        "normal-two-stages": b"\x00" + sec + b"\xfe\xfe" + op,
        "operational": b"\x01" + op,
        "discovery": b"\x00" + keys((b"InitiatorName", INIT), (b"SessionType", b"Discovery"),
                                    (b"AuthMethod", b"None")) + b"\xfe\xfe" + op,
        "non-leading": b"\x03" + op,
        "small-reply": b"\x04" + op,
        "duplicate": b"\x01" + op + b"\xfe\xfe" + op,
        "sendtargets": b"\x01" + keys((b"SendTargets", b"All")),
        "weird-values": b"\x09" + keys((b"MaxRecvDataSegmentLength", b"0x1000"),
                                       (b"MaxBurstLength", b"511"),
                                       (b"FirstBurstLength", b"99999999999999999999"),
                                       (b"HeaderDigest", b"CRC32C,,None,"),
                                       (b"InitialR2T", b"Maybe")),
    }


def cdb_rec(cdb, ctl=0, length=0, data=b"", wait=False):
    sel = {6: 0, 10: 1, 12: 2, 16: 3, 32: 4}[len(cdb)] | (0x80 if wait else 0)
    return bytes([ctl, sel]) + cdb + struct.pack(">H", length) + data


def cdb_seeds():
    R, W = 1, 2
    s = {}
    s["inquiry-and-vpd"] = b"".join(cdb_rec(c, R, 32) for c in [INQUIRY] + INQUIRY_VPD)
    s["capacity-luns-sense"] = b"".join(cdb_rec(c, R, 64) for c in (
        READCAP10 + b"\0\0"[:0], READCAP16, REPORT_LUNS, MODE_SENSE6, MODE_SENSE10,
        REQUEST_SENSE, RSOC))
    s["write-read"] = cdb_rec(cdb10(0x2A, 0, 1), W, 512, b"\x5a" * 512) + \
        cdb_rec(cdb10(0x28, 0, 1), R, 64, wait=True)
    s["write16-read16"] = cdb_rec(struct.pack(">BBQIBB", 0x8A, 0, 4, 2, 0, 0), W, 1024,
                                  b"\x11" * 1024) + \
        cdb_rec(struct.pack(">BBQIBB", 0x88, 0, 4, 2, 0, 0), R, 128, wait=True)
    s["write-same-unmap"] = cdb_rec(struct.pack(">BBQIBB", 0x93, 0x08, 0, 16, 0, 0), W, 512,
                                    b"\0" * 512) + \
        cdb_rec(bytes([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0]), W, 24,
                struct.pack(">HH4xQI4x", 22, 16, 0, 8))
    s["compare-and-write"] = cdb_rec(struct.pack(">BBQ3xBBB", 0x89, 0, 0, 1, 0, 0), W, 1024,
                                     b"\0" * 1024)
    s["prout-register-reserve"] = cdb_rec(prout_cdb(0) , W, 24, prout_params(0, 0xAA)) + \
        cdb_rec(prout_cdb(1, 3), W, 24, prout_params(0xAA, 0), wait=True) + \
        cdb_rec(cdb10(0x2A, 0, 1), W | 4, 512, b"\1" * 512, wait=True) + \
        cdb_rec(PRIN_FULL, R, 512)
    s["ordered-and-tmf"] = cdb_rec(cdb10(0x28, 0, 8), R | (1 << 3), 512) + \
        cdb_rec(TUR, 2 << 3) + bytes([0x80, 0]) + bytes([5, 0, 0, 0, 0, 0]) + b"\0\0"
    s["lun1-readonly-write"] = cdb_rec(cdb10(0x2A, 0, 1), W | 0x20, 4096, b"\0" * 4096)
    s["unmapped-lun"] = cdb_rec(INQUIRY, R | 0x60, 32) + cdb_rec(TUR, 0x60)
    s["cdb32-unknown"] = cdb_rec(bytes([0x7F, 0, 0, 0, 0, 0, 0, 0x18]) + bytes(24), R, 64)
    return s


def prout_rec(nexus, cdb, params, alloc_sel=0):
    return bytes([nexus | (alloc_sel << 2)]) + cdb + struct.pack(">H", len(params)) + params


def prout_seeds():
    s = {}
    h2 = b"iqn.2026-12.org.example:host2"
    h3 = b"iqn.2026-12.org.example:host3"
    s["register-reserve-release"] = prout_rec(0, prout_cdb(0), prout_params(0, 1)) + \
        prout_rec(0, prout_cdb(1, 1), prout_params(1, 0)) + \
        prout_rec(0, prout_cdb(2, 1), prout_params(1, 0), 3)
    s["spec-i-pt"] = prout_rec(0, prout_cdb(0), prout_params(
        0, 7, 0x08, tid_iscsi(h2, bytes([0x40, 0, 0, 0, 0, 1])) + tid_iscsi(h3)))
    s["all-tg-pt-aptpl"] = prout_rec(1, prout_cdb(6), prout_params(0, 9, 0x05))
    s["preempt-and-abort"] = prout_rec(0, prout_cdb(0), prout_params(0, 1)) + \
        prout_rec(2, prout_cdb(0), prout_params(0, 2)) + \
        prout_rec(0, prout_cdb(1, 3), prout_params(1, 0)) + \
        prout_rec(2, prout_cdb(5, 1), prout_params(2, 1)) + \
        prout_rec(2, prout_cdb(3), prout_params(2, 0))
    s["register-and-move"] = prout_rec(0, prout_cdb(0), prout_params(0, 1)) + \
        prout_rec(0, prout_cdb(1, 1), prout_params(1, 0)) + \
        prout_rec(0, prout_cdb(7, 1), move_params(1, 0x22, 2,
                                                   tid_iscsi(h2, bytes([0x40, 0, 0, 0, 0, 1]))))
    s["ex-ac-all-registrants"] = prout_rec(0, prout_cdb(0), prout_params(0, 1)) + \
        prout_rec(3, prout_cdb(6), prout_params(0, 3)) + \
        prout_rec(3, prout_cdb(1, 8), prout_params(3, 0)) + \
        prout_rec(0, prout_cdb(4, 8), prout_params(1, 3))
    return s


def aptpl_file(lines):
    body = "".join(l + "\n" for l in lines).encode()
    return body + b"crc32c=%08x\n" % crc32c(body)


def aptpl_seeds():
    regs = [
        "reg=key:00000000a1a1a1a1 rtpi:1 isid:8000a0010000 all_tg_pt:0 holder:1 "
        "name:iqn.2024-01.org.vmtarget:node-a",
        "reg=key:00000000b2b2b2b2 rtpi:1 isid:8000b0020000 all_tg_pt:0 holder:0 "
        "name:iqn.2024-01.org.vmtarget:node-b",
        "reg=key:00000000c3c3c3c3 rtpi:2 isid:- all_tg_pt:0 holder:0 "
        "name:iqn.2024-01.org.vmtarget:node-c",
    ]
    doc = aptpl_file(["targetd-pr-state=1", "aptpl=1", "res_type=5", "res_scope=0"] + regs)
    assert doc.endswith(b"crc32c=50ae5053\n"), doc  # the docs/aptpl-format.md example
    lio = []
    for i, (name, sid, key, holder) in enumerate([
            ("node-a", "8000a0010000", 2711724449, 0), ("node-b", "8000b0020000", 2998055602, 0),
            ("node-c", "8000c0030000", 3284386755, 1)]):
        lio.append(f"PR_REG_START: {i}\ninitiator_fabric=iSCSI\n"
                   f"initiator_node=iqn.2024-01.org.vmtarget:{name}\ninitiator_sid={sid}\n"
                   f"sa_res_key={key}\nres_holder={holder}\n" +
                   ("res_type=05\nres_scope=00\n" if holder else "") +
                   "res_all_tg_pt=0\nmapped_lun=0\ntarget_fabric=iSCSI\n"
                   "target_node=iqn.2003-01.org.linux-iscsi.vmtarget:lio\ntpgt=1\n"
                   f"port_rtpi=1\ntarget_lun=0\nPR_REG_END: {i}\n")
    lio_bytes = "".join(lio).encode() + b"\0"
    return {
        "docs-example": b"\x00" + doc,
        "docs-example-fixcrc": b"\x02" + doc,
        "empty-state": b"\x02" + aptpl_file(["targetd-pr-state=1", "aptpl=1", "res_type=0",
                                              "res_scope=0"]),
        "all-registrants": b"\x0a" + aptpl_file(["targetd-pr-state=1", "aptpl=1", "res_type=8",
                                                 "res_scope=0", regs[1], regs[2]]),
        "lio-sample": b"\x01" + lio_bytes,
        "lio-sample-limit1": b"\x01" + lio_bytes[:-1],
    }


def conf_seeds():
    s = {}
    with open(os.path.join(TOP, "conf", "targetd.conf"), "rb") as f:
        s["example-conf"] = b"\x00" + f.read()
    s["minimal"] = b"\x00" + b"""[global]
state_dir = /tmp/targetd-fuzz
max_recv_data_segment_length = 64k
nop_interval = 500ms
log_level = debug

[portal a]
listen = 127.0.0.1:3260
listen = [::1]:3261
group = 1
advertise = 203.0.113.10:3260

[target iqn.2026-12.org.example:fuzz]
portal_group = 1
allow = iqn.2026-12.org.example:host1

[lun iqn.2026-12.org.example:fuzz 0]
path = mem:64M
block_size = 4096
serial = FUZZ0
read_only = no
write_cache = no
"""
    s["errors"] = b"\x00[global]\nbogus = 1\nmax_burst_length = 1k\nfirst_burst_length = 2M\n" \
        b"[lun iqn.x 0]\npath=\n[target eui.0123456789ABCDEF]\n[lun eui.0123456789ABCDEF 99999]\n" \
        b"path = /dev/null\nblock_size = 1000\n[portal]\nlisten = 999.1.1.1:70000\n"
    s["args"] = b"\x01L127.0.0.1:3260\nL[::1]:0\nEiqn.2026-12.org.example:a=mem:1M,mem:2M\n" \
        b"Eiqn.2026-12.org.example:b=/dev/null\n"
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    for name, seeds in (("pdu", pdu_seeds()), ("keys", keys_seeds()), ("cdb", cdb_seeds()),
                        ("prout", prout_seeds()), ("aptpl", aptpl_seeds()),
                        ("conf", conf_seeds())):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in seeds.items():
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
