#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one libiscsi iscsi-test-cu suite against a live target.

    run-iscsi-test-cu.py --targetd PATH --suite Read10
    run-iscsi-test-cu.py --server tgtd --suite Read10     (checks the runner itself)

Creates a sparse scratch file in /var/tmp, attaches it to a loop device (plain
file if loop devices are unavailable, or with --no-loop), starts the target on
127.0.0.1 with a free port, runs
    iscsi-test-cu --dataloss -i INIT1 -I INIT2 --test=ALL.<Suite> iscsi://127.0.0.1:PORT/IQN/LUN
and fails if any test failed, if none ran, or if the tool itself failed. The
scratch device is ours, so destructive (--dataloss) tests are allowed. targetd
must then stop on SIGTERM with exit 0 and no sanitizer report. Everything is
cleaned up (loop device detached by name, processes stopped by PID, the blkio
group removed).

--throttle-bps N exports a loop device whose I/O, for the daemon only, is
limited to N bytes/s by a blkio cgroup (v1 blkio.throttle.*_bps_device, or v2
io.max): a medium with a realistic speed, so that a SANITIZE runs for
seconds (Sanitize.Reset) without faking time.
Exit: 0 pass, 1 fail, 77 skip.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from targetd_harness import (Cleanup, HarnessError, Targetd, loop_devices_available,  # noqa: E402
                             losetup_attach, make_tempdir, sparse_file)

IQN = "iqn.2026-11.org.example:conformance"
INIT1 = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test"
INIT2 = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2"
MiB = 1 << 20

SUMMARY_RE = re.compile(r"^\s+tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", re.M)
TEST_RE = re.compile(r"^\s+Test: (\S+) \.\.\.(.*)$", re.M)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Tgtd:
    """Debian's tgtd on its own control port, to check the runner (not the product)."""

    def __init__(self, cleanup, backing):
        self.cleanup = cleanup
        self.backing = backing
        self.port = free_port()
        self.ctl = None
        for n in range(4000 + os.getpid() % 1000, 6000):
            if not os.path.exists(f"/var/run/tgtd/socket.{n}"):
                self.ctl = n
                break
        self.proc = None
        self.lun = 1  # tgt puts a controller LU at LUN 0

    def adm(self, *args, check=True):
        return subprocess.run(["tgtadm", "-C", str(self.ctl), "--lld", "iscsi"] + list(args),
                              capture_output=True, text=True, check=check)

    def start(self):
        self.log = open(os.path.join(make_tempdir(self.cleanup), "tgtd.log"), "w")
        self.cleanup.add(self.log.close)
        self.proc = subprocess.Popen(
            ["tgtd", "-f", "-C", str(self.ctl), "--iscsi", f"portal=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.cleanup.add(self.stop)
        deadline = time.monotonic() + 20
        while self.adm("--mode", "target", "--op", "show", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise HarnessError("tgtd did not come up")
            time.sleep(0.05)  # polling the control socket, not a readiness guess
        self.adm("--mode", "target", "--op", "new", "--tid", "1", "--targetname", IQN)
        self.adm("--mode", "logicalunit", "--op", "new", "--tid", "1", "--lun", "1",
                 "--backing-store", self.backing)
        self.adm("--mode", "target", "--op", "bind", "--tid", "1", "--initiator-address", "ALL")
        return self

    def url(self):
        return f"iscsi://127.0.0.1:{self.port}/{IQN}/{self.lun}"

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.adm("--mode", "target", "--op", "delete", "--force", "--tid", "1", check=False)
        self.adm("--mode", "system", "--op", "delete", check=False)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        for suffix in ("", ".lock"):  # tgtd leaves its control socket behind
            try:
                os.unlink(f"/var/run/tgtd/socket.{self.ctl}{suffix}")
            except FileNotFoundError:
                pass

    def finish(self):
        self.stop()


class TargetdServer:
    def __init__(self, cleanup, binary, backing, read_only=False, sanitize=False):
        state = make_tempdir(cleanup, base="/var/tmp")
        if read_only or sanitize:
            # the quick-export mode has neither: a configuration file
            conf = os.path.join(state, "targetd.conf")
            with open(conf, "w") as f:
                # libiscsi's Sanitize.Reset sleeps 60 s between commands
                # without reading its socket: NOP-In keepalives (default
                # every 5 s, 15 s to answer) would drop the connection and
                # its reconnect would see POWER ON again each time
                f.write(f"[global]\nstate_dir = {state}\n"
                        "nop_interval = 90s\nnop_timeout = 90s\n"
                        "[portal p]\nlisten = 127.0.0.1:0\ngroup = 1\n"
                        f"[target {IQN}]\nportal_group = 1\n"
                        f"[lun {IQN} 0]\npath = {backing}\n"
                        f"read_only = {'yes' if read_only else 'no'}\n"
                        f"sanitize = {'yes' if sanitize else 'no'}\n")
            args = ["-f", "-c", conf]
        else:
            args = ["-f", "--listen", "127.0.0.1:0", "--state-dir", state,
                    "--export", f"{IQN}={backing}"]
        self.t = Targetd(binary, args, cleanup, check_errors=False)

    def start(self):
        self.t.start()
        return self

    def url(self):
        return self.t.url(IQN, 0)

    def finish(self):
        err = self.t.stop()  # exit 0 and no sanitizer report, or raises
        if os.environ.get("TARGETD_SHOW_STDERR"):
            print(err)


class Throttle:
    """A blkio cgroup that limits reads and writes of one device for the
    processes in it -- only the daemon, moved in after it started -- so
    nothing else on the machine is slowed. v1 (blkio.throttle.*_bps_device)
    or v2 (io.max); None from create() when neither can be used."""

    V1 = "/sys/fs/cgroup/blkio"
    V2 = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")

    @classmethod
    def create(cls, cleanup, dev, bps):
        st = os.stat(dev)
        mm = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
        name = f"targetd-cu-{os.getpid()}"
        if os.access(os.path.join(cls.V1, "blkio.throttle.write_bps_device"), os.W_OK):
            path = os.path.join(cls.V1, name)
            os.mkdir(path)
            cleanup.add(os.rmdir, path)  # runs after the daemon is reaped
            for kind in ("read", "write"):
                with open(os.path.join(path, f"blkio.throttle.{kind}_bps_device"), "w") as f:
                    f.write(f"{mm} {bps}\n")
            return cls(path)
        for root in cls.V2:
            ctl = os.path.join(root, "cgroup.subtree_control")
            try:
                with open(ctl) as f:
                    if "io" not in f.read().split():
                        continue
            except OSError:
                continue
            path = os.path.join(root, name)
            try:
                os.mkdir(path)
            except OSError:
                continue
            cleanup.add(os.rmdir, path)
            with open(os.path.join(path, "io.max"), "w") as f:
                f.write(f"{mm} rbps={bps} wbps={bps}\n")
            return cls(path)
        return None

    def __init__(self, path):
        self.path = path

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(f"{pid}\n")


def parse(out):
    """Returns (total, ran, passed, failed, inactive) or None, and failing tests."""
    m = SUMMARY_RE.search(out)
    counts = tuple(int(x) for x in m.groups()) if m else None
    failing = []
    for m in TEST_RE.finditer(out):
        name = m.group(1)
        # CUnit's verdict is a bare "FAILED" (then the numbered asserts) or
        # "passed". The test helpers' own log lines say "[FAILED] ..." when a
        # command did not get the status they were told to expect; a test that
        # expects that failure (e.g. iSCSIDataSnInvalid) still passes.
        end = out.find("\n  Test: ", m.end())
        block = out[m.end(1):end if end >= 0 else len(out)]
        if "FAILED" in re.sub(r"\[FAILED\]", "", block.split("Run Summary")[0]):
            failing.append(name)
    return counts, failing


def skipped_tests(out):
    """(test, reason) for every test that logged [SKIPPED] (it counts as passed)."""
    res = []
    for m in TEST_RE.finditer(out):
        sk = re.search(r"\[SKIPPED\]\s*(.*)", m.group(2))
        if sk:
            res.append((m.group(1), sk.group(1).strip()))
    return res


def failure_details(out, name):
    """The assert lines CUnit prints under a failed test."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"^\s+Test: {re.escape(name)} \.\.\.", line):
            det = []
            for follow in lines[i + 1:]:
                if re.match(r"^\s+(Test:|Suite:)|^Run Summary", follow):
                    break
                det.append(follow)
            return "\n".join(det[:20])
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targetd", help="path of the targetd binary")
    ap.add_argument("--server", choices=["targetd", "tgtd"], default="targetd")
    ap.add_argument("--suite", required=True, help="iscsi-test-cu suite, e.g. Read10")
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--no-loop", action="store_true", help="export the file, not a loop device")
    ap.add_argument("--multipath", action="store_true",
                    help="give the tool the LU's URL twice: two sessions (paths) to one LU")
    ap.add_argument("--read-only", action="store_true",
                    help="export the LU read-only (targetd only; ReadOnly suite)")
    ap.add_argument("--sanitize", action="store_true",
                    help="targetd only: a file LU with sanitize = yes, and --allow-sanitize "
                    "(the Sanitize suite)")
    ap.add_argument("--mem", action="store_true",
                    help="export mem:SIZE instead (targetd only): a backend that writes any "
                    "length atomically, so WriteAtomic16 runs rather than skips")
    ap.add_argument("--throttle-bps", type=int, default=0,
                    help="export a loop device limited to this many bytes/s (blkio cgroup)")
    ap.add_argument("--tool-verbose", action="store_true",
                    help="pass -V to iscsi-test-cu (every command and what it expected)")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--iscsi-test-cu", default="iscsi-test-cu", help="the tool's path")
    args = ap.parse_args()

    tool = shutil.which(args.iscsi_test_cu)
    if tool is None:
        print("SKIP: iscsi-test-cu not installed (libiscsi-bin)")
        return 77
    if args.server == "targetd" and not (args.targetd and os.access(args.targetd, os.X_OK)):
        print(f"FAIL: targetd binary {args.targetd!r} not built", file=sys.stderr)
        return 1
    if args.server == "tgtd" and shutil.which("tgtd") is None:
        print("SKIP: tgtd not installed (tgt)")
        return 77

    suite_name = args.suite.split(".")[0]  # --suite may name one test
    if args.throttle_bps and not loop_devices_available():
        print("SKIP: --throttle-bps needs root and loop devices")
        return 77
    try:
        with Cleanup() as cleanup:
            tmp = make_tempdir(cleanup, prefix="targetd-cu-", base="/var/tmp")
            if args.mem and args.server == "targetd":
                backing = f"mem:{args.size_mib}M"
            else:
                backing = sparse_file(os.path.join(tmp, "disk.img"), args.size_mib * MiB)
                if args.throttle_bps or (not args.no_loop and not args.sanitize and
                                         loop_devices_available()):
                    backing = losetup_attach(cleanup, backing)
            throttle = None
            if args.throttle_bps:
                throttle = Throttle.create(cleanup, backing, args.throttle_bps)
                if throttle is None:
                    print("SKIP: --throttle-bps needs a writable blkio (v1) or io (v2) cgroup")
                    return 77
            if args.server == "tgtd":
                srv = Tgtd(cleanup, backing).start()
            else:
                srv = TargetdServer(cleanup, args.targetd, backing, args.read_only,
                                    args.sanitize).start()
                if throttle:
                    throttle.add(srv.t.proc.pid)
            argv = [tool, "--dataloss", "-i", INIT1, "-I", INIT2, f"--test=ALL.{args.suite}",
                    srv.url()] + ([srv.url()] if args.multipath else [])
            if args.sanitize:
                argv.insert(1, "--allow-sanitize")
            if args.tool_verbose:
                argv.insert(1, "-V")
            print("+ " + " ".join(argv), flush=True)
            try:
                p = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                                   timeout=args.timeout,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode(errors="replace") if isinstance(
                    e.stdout, bytes) else (e.stdout or "")
                print(out)
                raise HarnessError(f"iscsi-test-cu did not finish within {args.timeout}s")
            out = p.stdout + p.stderr
            print(out)
            counts, failing = parse(out)
            problems = []
            if counts is None:
                problems.append("no CUnit run summary in the output (did the tool crash?)")
            else:
                total, ran, passed, nfail, inactive = counts
                print(f"suite {args.suite}: {ran} ran, {passed} passed, {nfail} failed")
                for name, why in skipped_tests(out):
                    print(f"skipped {suite_name}.{name}: {why}")
                if ran == 0:
                    problems.append(f"no test of suite {args.suite} ran")
                if nfail:
                    problems.append(f"{nfail} test(s) failed")
            for name in failing:
                problems.append(f"FAILED {suite_name}.{name}\n{failure_details(out, name)}")
            if p.returncode != 0 and not failing:
                problems.append(f"iscsi-test-cu exited {p.returncode}")
            srv.finish()
            if problems:
                raise HarnessError("\n".join(problems))
    except HarnessError as e:
        print(f"FAIL: {args.suite}: {e}", file=sys.stderr)
        return 1
    print(f"PASS: {args.suite}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
