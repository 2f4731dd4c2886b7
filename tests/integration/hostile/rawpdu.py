# SPDX-License-Identifier: MIT
"""A raw-PDU iSCSI initiator for hostile-client tests (Python stdlib only).

libiscsi hides the hooks needed to send malformed PDUs, so this module builds
every PDU itself from RFC 7143 section 11: the 48-byte Basic Header Segment
(11.2.1), optional AHS (11.2.1.2), CRC32C header and data digests (13.1,
appendix A: least significant byte first), and the data segment padded to 4
bytes (11.2.3). Helpers exist for a well-formed login (6, 11.12), NOP-Out
pings (11.18), simple SCSI READ/WRITE (11.3) and detecting a closed
connection, so that each test states only what it breaks.
"""

import socket
import struct
import time

# Opcodes (RFC 7143 11.2.1.2)
OP_NOP_OUT, OP_SCSI_CMD, OP_TMF, OP_LOGIN, OP_TEXT, OP_DATA_OUT, OP_LOGOUT = \
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
OP_NOP_IN, OP_SCSI_RSP, OP_TEXT_RSP, OP_LOGIN_RSP, OP_DATA_IN, OP_LOGOUT_RSP, OP_R2T, \
    OP_REJECT = 0x20, 0x21, 0x24, 0x23, 0x25, 0x26, 0x31, 0x3f
IMMEDIATE = 0x40
RSVD = 0xffffffff

# Login stages (11.12.3)
SECURITY, OPERATIONAL, FULL_FEATURE = 0, 1, 3

LOGIN_MRDSL = 8192  # MaxRecvDataSegmentLength before negotiation (13.12)


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc32c_table()


def crc32c(data):
    """CRC32C (Castagnoli) as used by iSCSI digests (RFC 7143 appendix A)."""
    c = 0xffffffff
    for b in data:
        c = _CRC[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def digest_bytes(data):
    return struct.pack("<I", crc32c(data))


def pad4(n):
    return (4 - n % 4) % 4


def keys(*pairs, terminate=True):
    """key=value text (RFC 7143 6.1): every pair ends with a NUL."""
    out = b""
    for k, v in pairs:
        out += f"{k}={v}".encode() + (b"\0" if terminate else b"")
    return out


def parse_keys(data):
    out = {}
    for kv in data.split(b"\0"):
        if kv:
            k, _, v = kv.partition(b"=")
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def bhs(opcode, flags=0, b2=0, b3=0, ahs_len=None, dsl=0, lun=b"\0" * 8, itt=0,
        f20=0, f24=0, f28=0, f32=0, f36=0, f40=0, f44=0, cdb=None):
    """A 48-byte BHS (11.2.1). ahs_len is in bytes (stored as 4-byte words)."""
    h = bytearray(48)
    h[0] = opcode
    h[1] = flags
    h[2] = b2
    h[3] = b3
    h[4] = (ahs_len or 0) // 4
    h[5:8] = struct.pack(">I", dsl)[1:]
    h[8:16] = lun
    struct.pack_into(">IIIII", h, 16, itt, f20, f24, f28, f32)
    if cdb is not None:
        h[32:32 + len(cdb)] = cdb
    else:
        struct.pack_into(">III", h, 36, f36, f40, f44)
    return bytes(h)


def login_bhs(csg, nsg, transit=True, cont=False, isid=b"\x80\x00\x00\x00\x00\x01", tsih=0,
              itt=1, cid=0, cmdsn=0, exp_statsn=0, dsl=0):
    """Login Request (11.12): I bit always set, T C CSG NSG in byte 1."""
    flags = (0x80 if transit else 0) | (0x40 if cont else 0) | (csg & 3) << 2 | (nsg & 3)
    h = bytearray(bhs(OP_LOGIN | IMMEDIATE, flags, dsl=dsl, itt=itt, f24=cmdsn, f28=exp_statsn))
    h[8:14] = isid
    struct.pack_into(">H", h, 14, tsih)
    struct.pack_into(">H", h, 20, cid)
    return bytes(h)


def cdb10(op, lba, blocks):
    return struct.pack(">BBIBHB", op, 0, lba, 0, blocks, 0)


class Closed(Exception):
    """The target closed (or reset) the connection."""


class LoginFailed(Exception):
    def __init__(self, status_class, detail):
        super().__init__(f"login status class 0x{status_class:02x} detail 0x{detail:02x}")
        self.status_class = status_class
        self.detail = detail


class Pdu:
    def __init__(self, hdr, ahs, data):
        self.hdr = hdr
        self.ahs = ahs
        self.data = data

    @property
    def opcode(self):
        return self.hdr[0] & 0x3f

    @property
    def flags(self):
        return self.hdr[1]

    def u32(self, off):
        return struct.unpack_from(">I", self.hdr, off)[0]

    @property
    def itt(self):
        return self.u32(16)

    @property
    def ttt(self):
        return self.u32(20)

    def __repr__(self):
        return f"<PDU op 0x{self.opcode:02x} flags 0x{self.flags:02x} itt 0x{self.itt:08x} " \
               f"dsl {len(self.data)}>"


class Conn:
    """One TCP connection speaking raw iSCSI."""

    def __init__(self, host, port, timeout=5.0, source=None):
        """source: local address to connect from (e.g. "127.0.0.2")."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.hdigest = self.ddigest = False
        self.itt = 0x100
        self.cmdsn = 0
        self.exp_statsn = 0
        self.max_cmdsn = 0
        self.max_send_dsl = LOGIN_MRDSL
        self.tsih = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def next_itt(self):
        self.itt += 1
        return self.itt

    # -- raw I/O -------------------------------------------------------------
    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e))

    def send_trickle(self, data, step=1, pause=0.0005):
        for i in range(0, len(data), step):
            self.send(data[i:i + step])
            if pause:
                time.sleep(pause)

    def frame(self, hdr, data=b"", ahs=b"", bad_hdigest=False, bad_ddigest=False):
        """Header [+AHS] [+digest] [+data+pad [+digest]] as bytes."""
        out = hdr + ahs
        if self.hdigest:
            d = crc32c(hdr + ahs)
            if bad_hdigest:
                d ^= 0x1
            out += struct.pack("<I", d)
        if data:
            padded = data + b"\0" * pad4(len(data))
            out += padded
            if self.ddigest:
                d = crc32c(padded)
                if bad_ddigest:
                    d ^= 0x1
                out += struct.pack("<I", d)
        return out

    def _recv_exact(self, n, timeout):
        buf = b""
        self.sock.settimeout(timeout)
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed(f"EOF after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def recv_pdu(self, timeout=None):
        """One PDU, digests checked. Raises Closed, socket.timeout."""
        timeout = self.timeout if timeout is None else timeout
        hdr = self._recv_exact(48, timeout)
        ahs = self._recv_exact(hdr[4] * 4, timeout) if hdr[4] else b""
        if self.hdigest:
            d = self._recv_exact(4, timeout)
            if d != digest_bytes(hdr + ahs):
                raise AssertionError("bad header digest from the target")
        dsl = struct.unpack(">I", b"\0" + hdr[5:8])[0]
        data = b""
        if dsl:
            padded = self._recv_exact(dsl + pad4(dsl), timeout)
            data = padded[:dsl]
            if self.ddigest:
                d = self._recv_exact(4, timeout)
                if d != digest_bytes(padded):
                    raise AssertionError("bad data digest from the target")
        p = Pdu(hdr, ahs, data)
        self._track(p)
        return p

    def _track(self, p):
        if p.opcode in (OP_NOP_IN, OP_SCSI_RSP, OP_TEXT_RSP, OP_LOGIN_RSP, OP_LOGOUT_RSP,
                        OP_REJECT, OP_R2T, OP_DATA_IN, 0x22):
            if p.opcode != OP_R2T and not (p.opcode == OP_DATA_IN and not p.flags & 1) and \
                    not (p.opcode == OP_NOP_IN and p.itt == RSVD):
                self.exp_statsn = (p.u32(24) + 1) & 0xffffffff
            if p.opcode != OP_REJECT:
                self.max_cmdsn = p.u32(32)

    def recv(self, timeout=None):
        """Next PDU, answering target pings (NOP-In with a TTT, 11.19) on the way."""
        while True:
            p = self.recv_pdu(timeout)
            if p.opcode == OP_NOP_IN and p.itt == RSVD and p.ttt != RSVD:
                self.send(self.frame(bhs(OP_NOP_OUT | IMMEDIATE, 0x80, itt=RSVD, f20=p.ttt,
                                         f24=self.cmdsn, f28=self.exp_statsn)))
                continue
            return p

    def wait_closed(self, timeout=5.0):
        """True if the target closes the connection within timeout (whatever it sends first)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
        return False

    # -- login (RFC 7143 6, 11.12) -------------------------------------------
    def login_pdus(self, csg, nsg, text, isid=b"\x80\x00\x00\x00\x00\x01", itt=1, cid=0,
                   max_len=LOGIN_MRDSL):
        """Text split over Login Requests with the C bit (6.2.1); the last one has T."""
        chunks = [text[i:i + max_len] for i in range(0, len(text), max_len)] or [b""]
        out = b""
        for i, ch in enumerate(chunks):
            last = i == len(chunks) - 1
            out += self.frame(login_bhs(csg, nsg, transit=last, cont=not last, isid=isid,
                                        tsih=self.tsih, itt=itt, cid=cid, cmdsn=self.cmdsn,
                                        exp_statsn=self.exp_statsn, dsl=len(ch)), ch)
        return out

    def login_exchange(self, csg, nsg, text, isid=b"\x80\x00\x00\x00\x00\x01", itt=1):
        """Send one login request (C-bit split) and collect the answer, following
        target continuations (11.13.2 C bit). Returns (last response, keys)."""
        pdus = self.login_pdus(csg, nsg, text, isid=isid, itt=itt)
        # send all but the last piece one at a time, reading the empty answers (6.2.1)
        pieces = []
        off = 0
        while off < len(pdus):
            dsl = struct.unpack(">I", b"\0" + pdus[off + 5:off + 8])[0]
            n = 48 + dsl + pad4(dsl)
            pieces.append(pdus[off:off + n])
            off += n
        for piece in pieces[:-1]:
            self.send(piece)
            r = self.recv()
            self._check_login(r)
        self.send(pieces[-1])
        got = b""
        while True:
            r = self.recv()
            self._check_login(r)
            if len(r.data) > self.max_send_dsl_for_login():
                raise AssertionError(f"login response of {len(r.data)} bytes exceeds our "
                                     f"MaxRecvDataSegmentLength {LOGIN_MRDSL}")
            got += r.data
            if not r.flags & 0x40:
                break
            # target has more text: empty request, same stage (11.12.2)
            self.send(self.frame(login_bhs(csg, nsg, transit=False, isid=isid, tsih=self.tsih,
                                           itt=itt, cmdsn=self.cmdsn,
                                           exp_statsn=self.exp_statsn)))
        return r, parse_keys(got)

    @staticmethod
    def max_send_dsl_for_login():
        return LOGIN_MRDSL

    def _check_login(self, r):
        if r.opcode != OP_LOGIN_RSP:
            raise AssertionError(f"expected a Login Response, got {r}")
        if r.hdr[36] != 0:
            raise LoginFailed(r.hdr[36], r.hdr[37])
        self.tsih = struct.unpack_from(">H", r.hdr, 14)[0]

    def login(self, initiator, target, digests=False, isid=b"\x80\x00\x00\x00\x00\x01",
              extra=()):
        """A complete normal-session login straight from the operational stage
        (6.3: the security stage may be skipped) into full feature phase."""
        dg = "CRC32C" if digests else "None"
        text = keys(("InitiatorName", initiator), ("TargetName", target),
                    ("SessionType", "Normal"), ("HeaderDigest", dg), ("DataDigest", dg),
                    ("MaxRecvDataSegmentLength", 262144), ("ImmediateData", "Yes"),
                    ("InitialR2T", "Yes"), ("ErrorRecoveryLevel", 0),
                    ("FirstBurstLength", 65536), ("MaxBurstLength", 262144), *extra)
        r, kv = self.login_exchange(OPERATIONAL, FULL_FEATURE, text, isid=isid)
        for _ in range(4):
            if r.flags & 0x80 and r.flags & 3 == FULL_FEATURE:
                break
            r, more = self.login_exchange(OPERATIONAL, FULL_FEATURE, b"", isid=isid)
            kv.update(more)
        else:
            raise AssertionError("target never moved to full feature phase")
        self.cmdsn = r.u32(28)
        self.max_cmdsn = r.u32(32)
        self.max_send_dsl = int(kv.get("MaxRecvDataSegmentLength", LOGIN_MRDSL))
        self.hdigest = kv.get("HeaderDigest") == "CRC32C"
        self.ddigest = kv.get("DataDigest") == "CRC32C"
        if digests and not (self.hdigest and self.ddigest):
            raise AssertionError(f"digests not negotiated: {kv}")
        return kv

    # -- full feature phase --------------------------------------------------
    def nop_out_pdu(self, itt=None, data=b"", immediate=False, cmdsn=None, **kw):
        itt = self.next_itt() if itt is None else itt
        h = bhs(OP_NOP_OUT | (IMMEDIATE if immediate else 0), 0x80, dsl=len(data), itt=itt,
                f20=RSVD, f24=self.cmdsn if cmdsn is None else cmdsn, f28=self.exp_statsn)
        return itt, self.frame(h, data, **kw)

    def ping(self, data=b"", timeout=None):
        """NOP-Out ping (11.18) that must be answered by a NOP-In with the same ITT
        and data (11.19). Non-immediate: it uses and advances CmdSN."""
        itt, pdu = self.nop_out_pdu(data=data)
        self.cmdsn = (self.cmdsn + 1) & 0xffffffff
        self.send(pdu)
        return self.expect_nop_in(itt, data, timeout)

    def expect_nop_in(self, itt, data=b"", timeout=None):
        r = self.recv(timeout)
        if r.opcode != OP_NOP_IN or r.itt != itt or r.data != data:
            raise AssertionError(f"expected NOP-In for ITT 0x{itt:08x}, got {r} {r.data[:64]!r}")
        return r

    def scsi_cmd_pdu(self, cdb, lun=0, read=0, write=b"", edtl=None, immediate_data=True,
                     itt=None, cmdsn=None):
        itt = self.next_itt() if itt is None else itt
        flags = 0x80 | (0x40 if read else 0) | (0x20 if write or edtl else 0) | 1  # SIMPLE
        data = write if immediate_data else b""
        length = edtl if edtl is not None else (read or len(write))
        h = bhs(OP_SCSI_CMD, flags, dsl=len(data), lun=struct.pack(">HHI", lun, 0, 0),
                itt=itt, f20=length, f24=self.cmdsn if cmdsn is None else cmdsn,
                f28=self.exp_statsn, cdb=cdb.ljust(16, b"\0"))
        return itt, self.frame(h, data)

    def scsi(self, cdb, read=0, write=b""):
        """Run one command with immediate data; returns (status, data read)."""
        itt, pdu = self.scsi_cmd_pdu(cdb, read=read, write=write)
        self.cmdsn = (self.cmdsn + 1) & 0xffffffff
        self.send(pdu)
        got = b""
        while True:
            r = self.recv()
            if r.itt != itt:
                raise AssertionError(f"unexpected {r} while waiting for ITT 0x{itt:08x}")
            if r.opcode == OP_DATA_IN:
                got += r.data
                if r.flags & 1:
                    return r.hdr[3], got
            elif r.opcode == OP_SCSI_RSP:
                return r.hdr[3], got
            else:
                raise AssertionError(f"unexpected {r}")

    def logout(self):
        itt = self.next_itt()
        h = bhs(OP_LOGOUT | IMMEDIATE, 0x80, itt=itt, f24=self.cmdsn, f28=self.exp_statsn)
        self.send(self.frame(h))
        r = self.recv()
        if r.opcode != OP_LOGOUT_RSP or r.hdr[2] != 0:
            raise AssertionError(f"logout: {r}")
