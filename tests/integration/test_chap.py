#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CHAP and ACL tests against a real targetd (issue 6, RFC 7143 12.1.3).

One ctest per test function (tests/integration/CMakeLists.txt):
    test_chap.py --targetd PATH --targetctl PATH [--iscsi-bin DIR] --test NAME
Exit 0 pass, 1 fail, 77 skipped.

libiscsi 1.19 only offers CHAP_A=5 (MD5), so it is the initiator for MD5;
SHA-1 (6) and SHA-256 (7) are driven by the small raw-socket login client
below (hashlib), which also covers MD5 for comparison.
"""

import hashlib
import os
import re
import socket
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targetd_harness import test_main, HarnessError, expect, Targetd, make_tempdir, sparse_file  # noqa: E402

T1 = "iqn.2026-12.org.example:chap.one"  # CHAP one-way + mutual
T2 = "iqn.2026-12.org.example:chap.acl"  # no CHAP, ACL: INIT_A only
INIT_A = "iqn.2026-12.org.example:host.a"
INIT_B = "iqn.2026-12.org.example:host.b"
USER, SECRET = "alice", "alice-secret-12"
MUSER, MSECRET = "tgt1", "target-secret-34"
DUSER, DSECRET = "disc", "discovery-secret"
HASH = {5: hashlib.md5, 6: hashlib.sha1, 7: hashlib.sha256}


class Ctx:
    def __init__(self, args, cleanup):
        self.args = args
        self.cleanup = cleanup
        self.tmp = make_tempdir(cleanup, base="/var/tmp")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        self.conf = os.path.join(self.tmp, "targetd.conf")
        self.sock = os.path.join(self.tmp, "control")
        self.t = None

    def tool(self, name):
        return os.path.join(self.args.iscsi_bin, name) if self.args.iscsi_bin else name

    def write_conf(self, secret=SECRET, discovery=True, t2_nets=()):
        img = sparse_file(os.path.join(self.tmp, "lun0.img"), 16 << 20)
        lines = ["[global]", f"state_dir = {self.state}"]
        if discovery:
            lines += [f"discovery_chap_user = {DUSER}", f"discovery_chap_secret = {DSECRET}"]
        lines += ["", "[portal main]", "listen = 127.0.0.1:0", "",
                  f"[target {T1}]", f"chap_user = {USER}", f"chap_secret = {secret}",
                  f"mutual_user = {MUSER}", f"mutual_secret = {MSECRET}", "",
                  f"[lun {T1} 0]", f"path = {img}", "",
                  f"[target {T2}]", f"allow = {INIT_A}"] + \
                 [f"allow_net = {n}" for n in t2_nets] + ["",
                  f"[lun {T2} 0]", f"path = {img}", ""]
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines))
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.conf)

    def start(self):
        self.t = Targetd(self.args.targetd, ["-f", "-c", self.conf, "--control", self.sock],
                         self.cleanup).start()
        return self.t

    def run(self, argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        print(f"$ {' '.join(argv)} -> {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def inq(self, iqn, auth="", query="", initiator=INIT_A):
        url = f"iscsi://{auth}{self.t.host}:{self.t.port}/{iqn}/0{query}"
        return self.run([self.tool("iscsi-inq"), "-i", initiator, url])

    def ls(self, auth="", initiator=INIT_A):
        url = f"iscsi://{auth}{self.t.host}:{self.t.port}"
        return self.run([self.tool("iscsi-ls"), "-i", initiator, url])

    def log_has(self, pattern):
        return re.search(pattern, self.t.stderr()) is not None


# ---- a minimal login client (RFC 7143 11.12 / 11.13) --------------------------

class RawLogin:
    def __init__(self, ctx):
        self.s = socket.create_connection((ctx.t.host, ctx.t.port), timeout=10)
        self.statsn = 0

    def close(self):
        self.s.close()

    def _recvn(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("connection closed")
            b += c
        return b

    def send(self, flags, keys):
        data = b"".join(f"{k}={v}".encode() + b"\0" for k, v in keys)
        bhs = bytearray(48)
        bhs[0] = 0x43  # Login Request, immediate
        bhs[1] = flags
        bhs[5:8] = len(data).to_bytes(3, "big")
        bhs[8:14] = bytes([0x80, 0x12, 0x34, 0x56, 0x00, 0x01])  # ISID
        struct.pack_into(">I", bhs, 16, 0x1000)  # ITT
        struct.pack_into(">I", bhs, 24, 1)  # CmdSN
        struct.pack_into(">I", bhs, 28, self.statsn)  # ExpStatSN
        self.s.sendall(bytes(bhs) + data + b"\0" * (-len(data) % 4))
        rsp = self._recvn(48)
        dsl = int.from_bytes(rsp[5:8], "big")
        body = self._recvn(dsl + (-dsl % 4))[:dsl]
        self.statsn = struct.unpack_from(">I", rsp, 24)[0] + 1
        status = rsp[36] << 8 | rsp[37]
        kv = dict(x.split("=", 1) for x in body.decode().split("\0") if "=" in x)
        return status, rsp[1], kv


SEC = 0x00  # CSG 0, no transit
SEC_TO_OP = 0x81  # T, CSG 0, NSG 1
OP_TO_FFP = 0x87  # T, CSG 1, NSG 3


def chap_raw(ctx, target, alg, user=USER, secret=SECRET, mutual=None, reflect=False):
    """CHAP login with algorithm alg; returns (status, step) of the first
    failure or (0, 4) after reaching full feature phase. mutual: the target
    secret we expect in the answer."""
    c = RawLogin(ctx)
    try:
        keys = [("InitiatorName", INIT_A)]
        keys += [("TargetName", target), ("SessionType", "Normal")] if target else \
            [("SessionType", "Discovery")]
        st, _, kv = c.send(SEC, keys + [("AuthMethod", "CHAP,None")])
        if st:
            return st, 1
        expect(kv.get("AuthMethod") == "CHAP", f"AuthMethod answer {kv}")
        st, _, kv = c.send(SEC, [("CHAP_A", str(alg))])
        if st:
            return st, 2
        expect(int(kv["CHAP_A"]) == alg, f"CHAP_A answer {kv}")
        ident, chal = int(kv["CHAP_I"]), bytes.fromhex(kv["CHAP_C"][2:])
        rsp = HASH[alg](bytes([ident]) + secret.encode() + chal).hexdigest()
        keys = [("CHAP_N", user), ("CHAP_R", "0x" + rsp)]
        mychal = chal if reflect else os.urandom(24)
        if mutual:
            keys += [("CHAP_I", "9"), ("CHAP_C", "0x" + mychal.hex())]
        st, _, kv = c.send(SEC_TO_OP, keys)
        if st:
            return st, 3
        if mutual:
            want = HASH[alg](bytes([9]) + mutual.encode() + mychal).hexdigest()
            expect(kv.get("CHAP_N") == MUSER, f"mutual CHAP_N {kv}")
            expect(kv.get("CHAP_R", "").lower() == "0x" + want, "mutual CHAP_R is wrong")
        st, _, kv = c.send(OP_TO_FFP, [("MaxRecvDataSegmentLength", "65536")])
        return (st, 4) if st else (0, 4)
    except EOFError:
        raise HarnessError("target closed the connection without a login response")
    finally:
        c.close()


# ---------------------------------------------------------------------------

def chap_libiscsi_md5_one_way_and_mutual(ctx):
    ctx.write_conf()
    ctx.start()
    ok = f"{USER}%{SECRET}@"
    expect(ctx.inq(T1, ok).returncode == 0, "one-way CHAP (MD5) login failed")
    mq = f"?target_user={MUSER}&target_password={MSECRET}"
    expect(ctx.inq(T1, ok, mq).returncode == 0, "mutual CHAP (MD5) login failed")
    # failures: each leaves a log line naming the step
    expect(ctx.inq(T1, f"{USER}%wrong-secret-xx@").returncode != 0, "wrong secret logged in")
    expect(ctx.log_has(r"CHAP failure: step CHAP_R: response does not match"),
           "no log line for the wrong secret")
    expect(ctx.inq(T1, f"mallory%{SECRET}@").returncode != 0, "wrong user logged in")
    expect(ctx.log_has(r"CHAP failure: step CHAP_N: user 'mallory'"),
           "no log line for the wrong user")
    expect(ctx.inq(T1).returncode != 0, "login without CHAP succeeded")
    # libiscsi without credentials starts in the operational stage
    expect(ctx.log_has(r"CHAP failure: CHAP required, (security stage skipped|initiator did "
                       r"not offer)"),
           "no log line for the missing CHAP")
    # the initiator checks our mutual answer: a wrong target secret fails there
    bad = f"?target_user={MUSER}&target_password=not-the-target-secret"
    expect(ctx.inq(T1, ok, bad).returncode != 0, "wrong mutual secret accepted by libiscsi")
    ctx.t.stop()
    ctx.t.assert_clean()


def chap_raw_each_algorithm_one_way_and_mutual(ctx):
    ctx.write_conf()
    ctx.start()
    for alg in (5, 6, 7):
        expect(chap_raw(ctx, T1, alg) == (0, 4), f"CHAP_A={alg} one-way failed")
        expect(chap_raw(ctx, T1, alg, mutual=MSECRET) == (0, 4), f"CHAP_A={alg} mutual failed")
        expect(chap_raw(ctx, T1, alg, secret="wrong-secret-xx") == (0x0201, 3),
               f"CHAP_A={alg} wrong secret not 02/01 at CHAP_R")
        expect(chap_raw(ctx, T1, alg, user="mallory") == (0x0201, 3),
               f"CHAP_A={alg} wrong user not 02/01")
        expect(chap_raw(ctx, T1, alg, mutual=MSECRET, reflect=True) == (0x0201, 3),
               f"CHAP_A={alg} reflected challenge not refused")
    expect(ctx.log_has(r"initiator reflected our challenge"), "no log line for the reflection")
    expect(chap_raw(ctx, T1, 8) == (0x0201, 2), "unsupported CHAP_A=8 not refused")
    expect(ctx.log_has(r"step CHAP_A: none of '8' supported"), "no log line for CHAP_A")
    ctx.t.stop()
    ctx.t.assert_clean()


def chap_discovery_and_reload_new_secret(ctx):
    ctx.write_conf()
    ctx.start()
    p = ctx.ls(f"{DUSER}%{DSECRET}@")
    expect(p.returncode == 0 and T1 in p.stdout, "discovery with CHAP failed")
    expect(ctx.ls().returncode != 0, "discovery without CHAP succeeded")
    expect(chap_raw(ctx, None, 7, user=DUSER, secret=DSECRET) == (0, 4),
           "discovery CHAP SHA-256 failed")
    # reload: a new secret applies to the next login
    ctx.write_conf(secret="a-new-secret-5678")
    p = subprocess.run([ctx.args.targetctl, "-s", ctx.sock, "reload"], capture_output=True,
                       text=True, timeout=60)
    print(p.stdout, p.stderr)
    expect(p.returncode == 0, "reload failed")
    expect("CHAP credentials changed" in p.stdout + ctx.t.stderr(), "reload did not report CHAP")
    expect(chap_raw(ctx, T1, 6) == (0x0201, 3), "old secret still accepted after reload")
    expect(chap_raw(ctx, T1, 6, secret="a-new-secret-5678") == (0, 4),
           "new secret refused after reload")
    ctx.t.stop()
    ctx.t.assert_clean()


def acl_refusal_and_sendtargets_filtering(ctx):
    ctx.write_conf(discovery=False)
    ctx.start()
    a = ctx.ls(initiator=INIT_A)
    b = ctx.ls(initiator=INIT_B)
    expect(a.returncode == 0 and T2 in a.stdout, "allowed initiator does not see its target")
    expect(b.returncode == 0 and T2 not in b.stdout,
           "SendTargets lists a target the initiator may not log in to")
    expect(ctx.inq(T2, initiator=INIT_A).returncode == 0, "allowed initiator refused")
    expect(ctx.inq(T2, initiator=INIT_B).returncode != 0, "initiator outside the ACL logged in")
    expect(ctx.log_has(re.escape(INIT_B) + r" -> " + re.escape(T2) +
                       r": initiator not in the target's ACL"), "no log line for the ACL")
    expect(ctx.log_has(r"status 02/02"), "ACL refusal is not 02/02 (RFC 7143 11.13.5)")
    expect(ctx.inq("iqn.2026-12.org.example:nope", initiator=INIT_A).returncode != 0,
           "unknown target accepted")
    expect(ctx.log_has(r"unknown target"), "no log line for the unknown target")
    ctx.t.stop()
    ctx.t.assert_clean()


def acl_allow_net_refuses_other_networks(ctx):
    ctx.write_conf(discovery=False, t2_nets=("10.0.0.0/8", "fd00::/8"))
    ctx.start()
    a = ctx.ls(initiator=INIT_A)
    expect(a.returncode == 0 and T2 not in a.stdout,
           "SendTargets lists a target the source network may not reach")
    expect(ctx.inq(T2, initiator=INIT_A).returncode != 0, "login from outside allow_net")
    expect(ctx.log_has(re.escape(T2) + r": source address not in the target's allow_net"),
           "no log line for allow_net")
    # reload: loopback allowed now
    ctx.write_conf(discovery=False, t2_nets=("127.0.0.0/8",))
    p = subprocess.run([ctx.args.targetctl, "-s", ctx.sock, "reload"], capture_output=True,
                       text=True, timeout=60)
    print(p.stdout, p.stderr)
    expect(p.returncode == 0, "reload failed")
    expect("allow_net changed" in p.stdout + ctx.t.stderr(), "reload did not report allow_net")
    expect(T2 in ctx.ls(initiator=INIT_A).stdout, "allowed network does not see the target")
    expect(ctx.inq(T2, initiator=INIT_A).returncode == 0, "login from allow_net refused")
    ctx.t.stop()
    ctx.t.assert_clean()


TESTS = {f.__name__: f for f in [
    chap_libiscsi_md5_one_way_and_mutual,
    chap_raw_each_algorithm_one_way_and_mutual,
    chap_discovery_and_reload_new_secret,
    acl_refusal_and_sendtargets_filtering,
    acl_allow_net_refuses_other_networks,
]}


def main():
    return test_main(TESTS, ["--targetd", "--targetctl", "--iscsi-bin"], Ctx)


if __name__ == "__main__":
    sys.exit(main())
