#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Operations tests: live reload and targetctl against a real targetd.

One ctest per test function (tests/integration/CMakeLists.txt):
    test_ops.py --targetd PATH --targetctl PATH --probe PATH --rw-verify PATH
                [--iscsi-bin DIR] --test NAME
Exit 0 pass, 1 fail, 77 skipped. The daemon runs from a configuration file
(reload needs one) on 127.0.0.1 port 0 with a control socket in its temp dir.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targetd_harness import (Skip, test_main, HarnessError, expect, Targetd, make_tempdir,  # noqa: E402
                             run_tool, sparse_file)

T1 = "iqn.2026-11.org.example:ops.one"
T2 = "iqn.2026-11.org.example:ops.two"
IQN3 = "iqn.2026-11.org.example:ops.three"
INIT_A = "iqn.2026-11.org.example:host.a"
INIT_B = "iqn.2026-11.org.example:host.b"
MiB = 1 << 20



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

    def image(self, name, size):
        return sparse_file(os.path.join(self.tmp, name), size)

    def write_conf(self, targets, extra_portals=()):
        """targets: [(iqn, [path, ...], [allowed initiator, ...])]"""
        lines = ["[global]", f"state_dir = {self.state}", "",
                 "[portal main]", "listen = 127.0.0.1:0", "group = 1", ""]
        for i, p in enumerate(extra_portals):
            lines += [f"[portal extra{i}]", f"listen = {p}", "group = 1", ""]
        for iqn, paths, allow in targets:
            lines += [f"[target {iqn}]", "portal_group = 1"]
            lines += [f"allow = {a}" for a in allow]
            lines.append("")
            for n, path in enumerate(paths):
                lines += [f"[lun {iqn} {n}]", f"path = {path}", ""]
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines))
        os.rename(tmp, self.conf)

    def start(self, check_errors=True):
        self.t = Targetd(self.args.targetd, ["-f", "-c", self.conf, "--control", self.sock],
                         self.cleanup, check_errors=check_errors).start()
        return self.t

    def ctl(self, *argv, check=True, json_out=False):
        cmd = [self.args.targetctl, "-s", self.sock] + (["-o", "json"] if json_out else [])
        p = subprocess.run(cmd + list(argv), capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise HarnessError(f"targetctl {' '.join(argv)} exited {p.returncode}\n"
                               f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        if json_out and p.returncode == 0:
            try:
                return p, json.loads(p.stdout)
            except ValueError as e:
                raise HarnessError(f"targetctl -o json {' '.join(argv)}: not JSON ({e}):\n"
                                   f"{p.stdout}")
        return p

    def probe(self, iqn, lun=0, initiator=None):
        return Probe(self, iqn, lun, initiator)


class Probe:
    """A long-lived libiscsi session (iscsi_probe), one command per call."""

    def __init__(self, ctx, iqn, lun, initiator):
        argv = [ctx.args.probe]
        if initiator:
            argv += ["-i", initiator]
        argv.append(ctx.t.url(iqn, lun))
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        ctx.cleanup.add(self.close)
        first = self.p.stdout.readline().strip()
        if first != "READY":
            raise HarnessError(f"probe login to {iqn} lun {lun} failed: {first}")

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline().strip()
        print(f"probe> {line}: {out}")
        return out

    def settle(self):
        """TEST UNIT READY until GOOD: consumes the POWER ON UA of a new
        I_T_L nexus (SAM-5 6.3.1) so later answers are about the change."""
        for _ in range(8):
            r = self.cmd("tur")
            if r == "GOOD":
                return
            expect(r.startswith("CHECK 6/"), f"TUR while settling: {r}")
        raise HarnessError("TEST UNIT READY never became GOOD")

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired, OSError):
                self.p.kill()
                self.p.wait()
        for f in (self.p.stdin, self.p.stdout):
            try:
                f.close()
            except OSError:
                pass


class BackgroundIO:
    """iscsi_rw_verify on iqn LUN 0, run again and again until stop(): a
    session the reloads do not concern, writing and reading throughout. Each
    run logs in afresh, writes size bytes, reads them back; any error fails."""

    def __init__(self, ctx, iqn, size=32 * MiB):
        self.ctx = ctx
        self.url = ctx.t.url(iqn, 0)
        self.inp = os.path.join(ctx.tmp, "io-in.bin")
        self.outp = os.path.join(ctx.tmp, "io-out.bin")
        with open(self.inp, "wb") as f:
            f.write(os.urandom(size))
        self.runs = []  # (start, end, rc, output)
        self.proc = None
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        ctx.cleanup.add(self._kill)
        self.thread.start()

    def _loop(self):
        while not self.stopping:
            start = time.monotonic()
            self.proc = subprocess.Popen([self.ctx.args.rw_verify, self.url, "0", self.inp,
                                          self.outp, "65536"], stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True)
            out, _ = self.proc.communicate()
            rc = self.proc.returncode
            if rc == 0:
                with open(self.inp, "rb") as a, open(self.outp, "rb") as b:
                    if a.read() != b.read():
                        rc, out = -1, "read back differs from what was written"
            self.runs.append((start, time.monotonic(), rc, out))
            if rc != 0:
                return

    def wait_running(self):
        deadline = time.monotonic() + 30
        while not self.runs and (self.proc is None or self.proc.poll() is None):
            if self.proc is not None and os.path.exists(self.outp):
                break
            expect(time.monotonic() < deadline, "background I/O did not start")
            time.sleep(0.05)
        time.sleep(0.2)  # inside a write/read pass, not at login

    def _kill(self):
        self.stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.thread.join(60)

    def stop_and_check(self, moments):
        self.stopping = True
        self.thread.join(300)
        expect(not self.thread.is_alive(), "background I/O did not finish")
        bad = [r for r in self.runs if r[2] != 0]
        expect(not bad, f"the unrelated session's I/O failed: {bad[:1]}")
        for m in moments:
            expect(any(s <= m <= e for s, e, _, _ in self.runs),
                   "background I/O was running at each reload")
        print(f"background I/O: {len(self.runs)} passes, all good")


def reload_ok(ctx):
    p = ctx.ctl("reload")
    print(p.stdout)
    return p.stdout


# ---------------------------------------------------------------------------


def reload_adds_resizes_removes_lun_while_unrelated_session_does_io(ctx):
    """Live reload (issue 6): adding, resizing and removing LUNs of one target
    while a session on another target writes and reads. The session on the
    changed target gets REPORTED LUNS DATA HAS CHANGED (06/3F/0E, SPC-4 6.33 /
    SAM-5 5.14) after an add or remove and CAPACITY DATA HAS CHANGED (06/2A/09,
    SBC-4 4.6) after a resize; REPORT LUNS then lists the new inventory. The
    unrelated session finishes without a single error."""
    a = ctx.image("a.img", 32 * MiB)
    b = ctx.image("b.img", 16 * MiB)
    c = ctx.image("c.img", 128 * MiB)
    ctx.write_conf([(T1, [a], []), (T2, [c], [])])
    ctx.start()
    io = BackgroundIO(ctx, T2)
    io.wait_running()
    moments = []
    pr = ctx.probe(T1, 0)
    pr.settle()
    expect(pr.cmd("luns") == "LUNS 0", "one LUN before the reload")

    # add LUN 1
    ctx.write_conf([(T1, [a, b], []), (T2, [c], [])])
    moments.append(time.monotonic())
    out = reload_ok(ctx)
    expect(f"{T1} lun 1 added" in out, f"reload reports the new LUN:\n{out}")
    expect(pr.cmd("tur") == "CHECK 6/3f/0e", "REPORTED LUNS DATA HAS CHANGED after the add")
    expect(pr.cmd("luns") == "LUNS 0 1", "REPORT LUNS lists LUN 1 after the UA")
    expect(pr.cmd("tur") == "GOOD", "the UA is reported once")

    # grow LUN 0's file: same configuration, new size
    os.truncate(a, 48 * MiB)
    moments.append(time.monotonic())
    out = reload_ok(ctx)
    expect(f"{T1} lun 0 resized" in out, f"reload reports the resize:\n{out}")
    expect(pr.cmd("tur") == "CHECK 6/2a/09", "CAPACITY DATA HAS CHANGED after the resize")
    expect(pr.cmd("cap") == f"CAP {48 * MiB // 512} 512", "READ CAPACITY(16) shows 48 MiB")

    # remove LUN 1 again
    ctx.write_conf([(T1, [a], []), (T2, [c], [])])
    moments.append(time.monotonic())
    out = reload_ok(ctx)
    expect(f"{T1} lun 1 removed" in out, f"reload reports the removal:\n{out}")
    expect(pr.cmd("tur") == "CHECK 6/3f/0e", "REPORTED LUNS DATA HAS CHANGED after the removal")
    expect(pr.cmd("luns") == "LUNS 0", "REPORT LUNS no longer lists LUN 1")
    _, luns = ctx.ctl("luns", json_out=True)
    expect(sorted((x["target"], x["lun"]) for x in luns) == [(T1, 0), (T2, 0)],
           f"targetctl luns after the removal: {luns}")

    # a whole new target, then the old one removed
    ctx.write_conf([(T2, [c], []), (IQN3, [b], [])])
    moments.append(time.monotonic())
    out = reload_ok(ctx)
    expect(f"target {T1} removed" in out and f"target {IQN3} added" in out, out)
    expect(pr.cmd("tur").startswith("ERROR"), "the removed target's session was ended")
    ls = run_tool([ctx.tool("iscsi-ls"), ctx.t.url()]).stdout
    expect(IQN3 in ls and T1 not in ls, f"discovery after the target swap:\n{ls}")

    io.stop_and_check(moments)
    pr.close()
    ctx.t.stop()


def reload_invalid_file_keeps_running_config(ctx):
    """An invalid file is refused as a whole: targetctl reload exits 1 and
    prints every problem as file:line, SIGHUP logs them, and the running
    configuration (targets, LUNs, sessions) stays exactly as it was."""
    a = ctx.image("a.img", 16 * MiB)
    ctx.write_conf([(T1, [a], [])])
    ctx.start(check_errors=False)  # the refused reload logs errors on purpose
    pr = ctx.probe(T1, 0)
    pr.settle()
    with open(ctx.conf, "a") as f:
        f.write("[lun iqn.2026-11.org.example:ops.one 1]\npath = /nonexistent/x.img\n")
        f.write("this line is not key = value\n")
    bad_line = sum(1 for _ in open(ctx.conf))
    p = ctx.ctl("reload", check=False)
    print(p.stdout, p.stderr)
    expect(p.returncode == 1, f"targetctl reload exits 1 on a bad file (got {p.returncode})")
    expect(f"{ctx.conf}:{bad_line}:" in p.stderr, f"the problem is reported as file:line:\n"
           f"{p.stderr}")
    expect("keeping the running" in p.stderr, f"says the old configuration stays:\n{p.stderr}")
    p = ctx.ctl("reload", json_out=True, check=False)
    expect(p.returncode == 1, "targetctl -o json reload exits 1 too")
    j = json.loads(p.stdout)
    expect(j["ok"] is False and any(x["line"] == bad_line for x in j["problems"]),
           f"JSON lists the problem with its line: {j}")
    # SIGHUP with the same file: logged, daemon keeps running
    ctx.t.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while ctx.t.stderr().count("invalid configuration, keeping the running one") < 3:
        expect(time.monotonic() < deadline, "SIGHUP reload logged the refusal")
        time.sleep(0.02)
    expect(f"{ctx.conf}:{bad_line}:" in ctx.t.stderr(), "SIGHUP logs file:line")
    expect(pr.cmd("tur") == "GOOD", "the session saw no change (no UA)")
    _, luns = ctx.ctl("luns", json_out=True)
    expect([(x["target"], x["lun"]) for x in luns] == [(T1, 0)], f"LUNs unchanged: {luns}")
    # a file that parses but whose new LU cannot be opened aborts too
    ctx.write_conf([(T1, [a, "/nonexistent/dir/x.img"], [])])
    p = ctx.ctl("reload", check=False)
    print(p.stdout, p.stderr)
    expect(p.returncode == 1, "a LUN that cannot be opened aborts the reload")
    _, luns = ctx.ctl("luns", json_out=True)
    expect(len(luns) == 1, f"nothing changed after the aborted reload: {luns}")
    expect(pr.cmd("tur") == "GOOD", "still no UA for the session")
    # and a good file through SIGHUP is applied
    b = ctx.image("b.img", 8 * MiB)
    ctx.write_conf([(T1, [a, b], [])])
    ctx.t.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reload of " + ctx.conf + " done" not in ctx.t.stderr():
        expect(time.monotonic() < deadline, "SIGHUP applied the good file")
        time.sleep(0.02)
    _, luns = ctx.ctl("luns", json_out=True)
    expect(len(luns) == 2, f"SIGHUP added LUN 1: {luns}")
    expect(pr.cmd("tur") == "CHECK 6/3f/0e", "and the session sees REPORTED LUNS DATA HAS CHANGED")
    pr.close()
    ctx.t.stop()


def reload_acl_removal_ends_that_initiators_session_only(ctx):
    """Removing an initiator from a target's ACL ends its sessions on that
    target (and it cannot log in again: RFC 7143 11.13.5 02/02); another
    allowed initiator's session continues with no unit attention."""
    a = ctx.image("a.img", 16 * MiB)
    ctx.write_conf([(T1, [a], [INIT_A, INIT_B])])
    ctx.start()
    pa = ctx.probe(T1, 0, INIT_A)
    pb = ctx.probe(T1, 0, INIT_B)
    pa.settle()
    pb.settle()
    _, sess = ctx.ctl("sessions", json_out=True)
    expect(sorted(s["initiator"] for s in sess) == [INIT_A, INIT_B],
           f"both sessions listed: {sess}")
    ctx.write_conf([(T1, [a], [INIT_B])])
    out = reload_ok(ctx)
    expect(f"initiator {INIT_A} removed from the ACL" in out, out)
    _, sess = ctx.ctl("sessions", json_out=True)
    expect([s["initiator"] for s in sess] == [INIT_B], f"only host.b is left: {sess}")
    r = pa.cmd("tur")
    expect(r.startswith("ERROR"), f"host.a's connection was ended: {r}")
    expect(pb.cmd("tur") == "GOOD", "host.b continues without a unit attention")
    p = run_tool([ctx.tool("iscsi-inq"), "-i", INIT_A, ctx.t.url(T1, 0)], check=False)
    expect(p.returncode != 0, "host.a cannot log in again")
    pb.close()
    ctx.t.stop()


def targetctl_text_and_json_outputs_parse(ctx):
    """targetctl status, sessions, luns and pr show in text and JSON against a
    live daemon with a session that registered a key and holds a Write
    Exclusive reservation (the tcm_node --pr view, SPC-4 6.16)."""
    a = ctx.image("a.img", 16 * MiB)
    ctx.write_conf([(T1, [a], []), (T2, [ctx.image("b.img", 8 * MiB)], [])])
    ctx.start()
    pr = ctx.probe(T1, 0, INIT_A)
    pr.settle()
    expect(pr.cmd("prreg 0xabc123") == "GOOD", "REGISTER AND IGNORE EXISTING KEY")
    expect(pr.cmd("prres 1 0xabc123") == "GOOD", "RESERVE Write Exclusive")

    p, st = ctx.ctl("status", json_out=True)
    expect(st["targets"] == 2 and st["luns"] == 2 and st["sessions"] == 1, f"status: {st}")
    expect("targets 2" in ctx.ctl("status").stdout, "status text")

    _, sess = ctx.ctl("sessions", json_out=True)
    expect(len(sess) == 1, f"one session: {sess}")
    s = sess[0]
    expect(s["initiator"] == INIT_A and s["target"] == T1 and s["tpgt"] == 1 and
           re.fullmatch(r"[0-9a-f]{12}", s["isid"]) and s["tsih"] > 0, f"session: {s}")
    expect(s["params"]["header_digest"] == "None" and s["commands"] >= 3, f"params: {s}")
    txt = ctx.ctl("sessions").stdout
    expect(INIT_A in txt and f"target={T1}" in txt, f"sessions text:\n{txt}")

    _, luns = ctx.ctl("luns", json_out=True)
    l0 = [x for x in luns if x["target"] == T1][0]
    expect(l0["lun"] == 0 and l0["size"] == 16 * MiB and l0["block_size"] == 512 and
           l0["path"] == a and l0["serial"], f"luns: {l0}")
    expect(f"{T1} lun=0" in ctx.ctl("luns").stdout, "luns text")

    _, prj = ctx.ctl("pr", "show", T1, "0", json_out=True)
    print(prj)
    expect(prj["reservation"] and prj["reservation"]["type"] == 1, f"pr reservation: {prj}")
    expect(prj["generation"] >= 1 and prj["aptpl"] is False, f"pr generation/aptpl: {prj}")
    regs = prj["registrations"]
    expect(len(regs) == 1 and regs[0]["initiator"] == INIT_A and
           regs[0]["key"] == "0x0000000000abc123" and regs[0]["holder"] is True and
           regs[0]["isid"] == s["isid"] and regs[0]["all_tg_pt"] is False,
           f"pr registration: {regs}")
    txt = ctx.ctl("pr", "show", T1, "0").stdout
    print(txt)
    expect("Write Exclusive" in txt and "key=0x0000000000abc123" in txt and "holder" in txt,
           f"pr show text:\n{txt}")
    # errors: unknown target, unknown LUN -> exit 1 with a message
    p = ctx.ctl("pr", "show", "iqn.2026-11.org.example:nope", "0", check=False)
    expect(p.returncode == 1 and "no target" in p.stderr, f"unknown target: {p.stderr}")
    p = ctx.ctl("pr", "show", T1, "7", check=False)
    expect(p.returncode == 1 and "no LUN 7" in p.stderr, f"unknown LUN: {p.stderr}")
    p = ctx.ctl("pr", "show", T1, "7", check=False, json_out=True)
    expect(p.returncode == 1 and "no LUN 7" in json.loads(p.stdout)["error"],
           f"unknown LUN, JSON: {p.stdout}")
    pr.close()
    ctx.t.stop()
    # the daemon is gone: a clear message, exit 1
    p = ctx.ctl("status", check=False)
    expect(p.returncode == 1 and "not running" in p.stderr, f"daemon stopped: {p.stderr}")


def targetctl_permission_denied_is_explained(ctx):
    """The control socket is root-only (mode 0600); another user gets a clear
    'permission denied' from targetctl (needs root to switch user)."""
    if os.geteuid() != 0:
        raise Skip("needs root to run targetctl as another user")
    a = ctx.image("a.img", 8 * MiB)
    ctx.write_conf([(T1, [a], [])])
    ctx.start()
    mode = os.stat(ctx.sock).st_mode & 0o777
    expect(mode == 0o600, f"control socket mode {mode:o}, want 600")
    os.chmod(ctx.tmp, 0o755)  # let nobody reach the socket's directory

    def drop():
        os.setgid(65534)
        os.setuid(65534)
    p = subprocess.run([ctx.args.targetctl, "-s", ctx.sock, "status"], capture_output=True,
                       text=True, preexec_fn=drop, timeout=30)
    expect(p.returncode == 1 and "permission denied" in p.stderr,
           f"unprivileged targetctl: {p.returncode} {p.stderr}")
    ctx.t.stop()


def reload_portal_added_listens_and_bind_failure_changes_nothing(ctx):
    """Portals: a new portal is bound before anything else changes; if the
    address cannot be bound the reload is refused as a whole (a LUN added in
    the same file does not appear); a portal added later listens and serves
    discovery (RFC 7143 12.3); a removed portal stops listening."""
    a = ctx.image("a.img", 16 * MiB)
    b = ctx.image("b.img", 8 * MiB)
    ctx.write_conf([(T1, [a], [])])
    ctx.start(check_errors=False)  # the refused bind is logged as an error
    busy = socket.socket()
    ctx.cleanup.add(busy.close)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    ctx.write_conf([(T1, [a, b], [])], extra_portals=[f"127.0.0.1:{port}"])
    p = ctx.ctl("reload", check=False)
    print(p.stdout, p.stderr)
    expect(p.returncode == 1 and f"cannot listen on 127.0.0.1 port {port}" in p.stderr,
           f"bind failure refuses the reload: {p.stderr}")
    _, luns = ctx.ctl("luns", json_out=True)
    expect(len(luns) == 1, f"the LUN of the refused file was not added: {luns}")
    busy.close()

    ctx.write_conf([(T1, [a], [])], extra_portals=["127.0.0.1:0"])
    out = reload_ok(ctx)
    m = re.search(r"portal 127\.0\.0\.1:(\d+) added", out)
    expect(m is not None, f"reload reports the new portal with its port:\n{out}")
    new_port = int(m.group(1))
    ls = run_tool([ctx.tool("iscsi-ls"), f"iscsi://127.0.0.1:{new_port}"]).stdout
    expect(T1 in ls, f"discovery through the new portal:\n{ls}")
    expect(f"127.0.0.1:{new_port},1" in ls and f"127.0.0.1:{ctx.t.port},1" in ls,
           f"SendTargets lists both portals:\n{ls}")

    ctx.write_conf([(T1, [a], [])])
    out = reload_ok(ctx)
    expect(f"portal 127.0.0.1:{new_port} removed" in out, out)
    try:
        socket.create_connection(("127.0.0.1", new_port), timeout=5).close()
        raise HarnessError("the removed portal still accepts connections")
    except ConnectionRefusedError:
        pass
    ls = run_tool([ctx.tool("iscsi-ls"), ctx.t.url()]).stdout
    expect(f"127.0.0.1:{new_port}," not in ls, f"SendTargets no longer lists it:\n{ls}")
    ctx.t.stop()


TESTS = {f.__name__: f for f in [
    reload_adds_resizes_removes_lun_while_unrelated_session_does_io,
    reload_invalid_file_keeps_running_config,
    reload_acl_removal_ends_that_initiators_session_only,
    targetctl_text_and_json_outputs_parse,
    targetctl_permission_denied_is_explained,
    reload_portal_added_listens_and_bind_failure_changes_nothing,
]}


def main():
    return test_main(TESTS, ["--targetd", "--targetctl", "--probe", "--rw-verify", "--iscsi-bin"], Ctx)


if __name__ == "__main__":
    sys.exit(main())
