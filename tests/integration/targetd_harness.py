# SPDX-License-Identifier: MIT
"""Start and stop a real targetd for integration and conformance tests.

Hermetic and impatient (docs/testing.md): every daemon gets its own temporary
directory, a NOTIFY_SOCKET datagram socket in it and port 0 (the kernel picks a
free port). Readiness is READY=1 on the notify socket -- never a sleep -- and
the port comes from the "ready, listening on HOST:PORT" line on stderr. Stop is
SIGTERM to the PID we started, and a clean stop means exit status 0 and no
error line or sanitizer report on stderr. Loop devices are attached with
`losetup --find --show` and detached by name. Python stdlib only.

TARGETD_VALGRIND=1 runs every targetd this harness starts under valgrind's
memcheck (docs/testing.md): readiness is still READY=1 (valgrind passes the
environment through and the daemon keeps its PID), the default timeouts grow
by VALGRIND_SLOWDOWN, and any memcheck error or leak (definite, indirect or
possible) fails the test with the valgrind log. Suppressions, third-party code
only, are in tests/tools/valgrind.supp.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

VALGRIND = os.environ.get("TARGETD_VALGRIND", "") not in ("", "0", "no")
# memcheck runs targetd 10-50 times slower; the default waits grow with it.
VALGRIND_SLOWDOWN = 10 if VALGRIND else 1
VALGRIND_EXIT = 99  # --error-exitcode: memcheck found an error or a leak
VALGRIND_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                             "valgrind.supp")

READY_TIMEOUT = float(os.environ.get("TARGETD_READY_TIMEOUT", 30 * VALGRIND_SLOWDOWN))
STOP_TIMEOUT = float(os.environ.get("TARGETD_STOP_TIMEOUT", 30 * VALGRIND_SLOWDOWN))

# Lines that make a run unclean. util_log writes "targetd: error: SUBSYS: ..."
# (or "<3>SUBSYS: ..." under the journal, never the case here).
SANITIZER_PATTERNS = [
    re.compile(r"ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer"),
    re.compile(r"runtime error:"),
    re.compile(r"SUMMARY: \w+Sanitizer"),
]
ERROR_PATTERNS = SANITIZER_PATTERNS + [
    re.compile(r"^targetd: error: ", re.M),
    re.compile(r"\bERROR\b"),
]

READY_RE = re.compile(r"ready, listening on (.+)$", re.M)


class HarnessError(Exception):
    pass


SKIP = 77  # ctest SKIP_RETURN_CODE


class Skip(Exception):
    """Raised by a test that cannot run on this machine: exit SKIP."""


def expect(cond, msg):
    """Fail the test with msg unless cond holds."""
    if not cond:
        raise HarnessError(msg)


def _port_of(addr):
    # "127.0.0.1:3260" or "[::1]:3260"
    host, _, port = addr.strip().rpartition(":")
    return host.strip("[]"), int(port)


def scaled(timeout):
    """A client-side timeout stretched when the daemon runs under valgrind (x3: the
    clients themselves run natively)."""
    return timeout * 3 if VALGRIND else timeout


def _is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def daemon_argv(binary, args, logdir):
    """The command line that starts binary with args: under TARGETD_VALGRIND, memcheck
    in front of it, logging to logdir/valgrind.PID.log. A script (the harness self-check's
    fake daemon) is never wrapped."""
    argv = [binary] + list(args)
    if not VALGRIND or not _is_elf(binary):
        return argv
    vg = ["valgrind", "--tool=memcheck", "--leak-check=full",
          "--show-leak-kinds=definite,indirect,possible",
          "--errors-for-leak-kinds=definite,indirect,possible",
          f"--error-exitcode={VALGRIND_EXIT}", "--track-fds=yes", "--num-callers=40",
          "--trace-children=no", "--child-silent-after-fork=yes",
          f"--log-file={os.path.join(logdir, 'valgrind.%p.log')}"]
    if os.path.exists(VALGRIND_SUPP):
        vg.append(f"--suppressions={os.path.abspath(VALGRIND_SUPP)}")
    # e.g. TARGETD_VALGRIND_ARGS=--track-origins=yes to find where an uninitialised value came from
    vg += os.environ.get("TARGETD_VALGRIND_ARGS", "").split()
    return vg + argv


# The first line of every memcheck error record (valgrind 3.19 memcheck manual 4.2,
# "Explanation of error messages from Memcheck"), and the leak records.
_VG_ERROR_RE = re.compile(
    r"^==\d+== (Invalid (read|write|free|realloc)|Mismatched free|"
    r"Conditional jump or move depends on uninitialised|"
    r"Use of uninitialised value|Syscall param .* (uninitialised|unaddressable)|"
    r"Source and destination overlap|Argument '.*' of function .* has a fishy|"
    r"Jump to the invalid address|Process terminating with default action|"
    r"\d[\d,]* .*bytes in [\d,]+ blocks are (definitely|indirectly|possibly) lost)", re.M)
_VG_SUMMARY_RE = re.compile(r"ERROR SUMMARY: ([\d,]+) errors", re.M)


def valgrind_logs(logdir):
    """(path, text) of every valgrind log in logdir."""
    res = []
    try:
        names = sorted(n for n in os.listdir(logdir) if n.startswith("valgrind."))
    except FileNotFoundError:
        return res
    for n in names:
        with open(os.path.join(logdir, n), "rb") as f:
            res.append((os.path.join(logdir, n), f.read().decode(errors="replace")))
    return res


def _vg_open_fds(text):
    """Descriptors open at exit that targetd opened itself (--track-fds=yes lists them
    after "FILE DESCRIPTORS:"; inherited ones say "<inherited from parent>")."""
    fds = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^==\d+== Open (?:file descriptor|AF_\w+ socket) (\d+)", line)
        if not m:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if "<inherited from parent>" not in nxt:
            fds.append(line.split("== ", 1)[1])
    return fds


def valgrind_problems(text, killed=False):
    """What is wrong in one memcheck log, or None. A process that was SIGKILLed
    (killed=True) has no leak check, fd list or summary: only its error records count."""
    m = _VG_SUMMARY_RE.search(text)
    if m and int(m.group(1).replace(",", "")) > 0:
        return f"memcheck: {m.group(0)}"
    e = _VG_ERROR_RE.search(text)
    if e:
        return f"memcheck: {e.group(0).split('== ', 1)[1]}"
    if killed:
        return None
    if not m:
        return "memcheck: no ERROR SUMMARY (valgrind did not finish)"
    fds = _vg_open_fds(text)
    if fds:
        return f"memcheck --track-fds: open at exit: {'; '.join(fds)}"
    return None


def check_valgrind(logdir, killed=False):
    """Raise HarnessError with the log when any memcheck log in logdir shows a problem."""
    for path, text in valgrind_logs(logdir):
        why = valgrind_problems(text, killed)
        if why:
            raise HarnessError(f"{why}\n--- {path}\n{text}")


class Cleanup:
    """LIFO cleanup stack, run even when a test fails (like nbdkit's cleanup_fn)."""

    def __init__(self):
        self._fns = []

    def add(self, fn, *args):
        self._fns.append((fn, args))

    def run(self):
        errors = []
        while self._fns:
            fn, args = self._fns.pop()
            try:
                fn(*args)
            except Exception as e:  # keep cleaning; report the first error
                errors.append(e)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.run()
        return False


def make_tempdir(cleanup, prefix="targetd-test-", base=None):
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    if os.environ.get("TARGETD_KEEP_TMP"):
        print(f"harness: keeping {d}")
    else:
        cleanup.add(shutil.rmtree, d, True)
    return d


def sparse_file(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def losetup_attach(cleanup, path):
    """Attach path to a free loop device; detach it (by name) at cleanup."""
    out = subprocess.run(["losetup", "--find", "--show", path], check=True,
                         capture_output=True, text=True)
    dev = out.stdout.strip()
    if not dev.startswith("/dev/loop"):
        raise HarnessError(f"losetup returned {dev!r}")
    cleanup.add(losetup_detach, dev)
    return dev


def losetup_detach(dev):
    subprocess.run(["losetup", "--detach", dev], check=False)


def loop_devices_available():
    return os.geteuid() == 0 and os.path.exists("/dev/loop-control") and \
        shutil.which("losetup") is not None


class Targetd:
    """One targetd process.

    args: the command line after the binary (e.g. ["-f", "--listen", "127.0.0.1:0",
    "--export", "IQN=PATH"]). The harness adds nothing but the environment.
    """

    def __init__(self, binary, args, cleanup, check_errors=True):
        self.binary = binary
        self.args = list(args)
        self.cleanup = cleanup
        self.check_errors = check_errors
        self.dir = make_tempdir(cleanup, prefix="targetd-run-")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.portals = []
        self.status = None
        self._vg_checked = False

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout=READY_TIMEOUT):
        """Start and wait for READY=1; returns self. Raises if it exits first."""
        notify_path = os.path.join(self.dir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(notify_path)
        self.cleanup.add(sock.close)
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = notify_path
        env.pop("JOURNAL_STREAM", None)
        self._stderr = open(self.stderr_path, "wb")
        self.cleanup.add(self._stderr.close)
        self.proc = subprocess.Popen(daemon_argv(self.binary, self.args, self.dir),
                                     stdin=subprocess.DEVNULL, stdout=self._stderr,
                                     stderr=self._stderr, env=env)
        # LIFO: reap (SIGKILL if still running) first, then read valgrind's verdict.
        self.cleanup.add(self.check_valgrind)
        self.cleanup.add(self._reap)
        deadline = time.monotonic() + timeout
        ready = False
        while not ready:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(f"no READY=1 within {timeout}s\n{self.stderr()}")
            if self.proc.poll() is not None:
                self.check_valgrind()
                raise HarnessError(
                    f"targetd exited with {self.proc.returncode} before READY=1\n"
                    f"{self.stderr()}")
            sock.settimeout(min(left, 0.2))
            try:
                msg = sock.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            for kv in msg.split("\n"):
                if kv == "READY=1":
                    ready = True
                elif kv.startswith("STATUS="):
                    self.status = kv[7:]
        # Nobody reads the notify socket after READY=1, and a full datagram queue
        # would block the daemon's later sd_notify() calls (reload, stop): close
        # and unlink it so those calls fail fast instead (sd_notify(3) ignores that).
        sock.close()
        os.unlink(notify_path)
        # The log line may be written just after sd_notify: wait for it too.
        while True:
            m = READY_RE.search(self.stderr())
            if m:
                self.portals = [_port_of(a) for a in m.group(1).split(",") if a.strip()]
                break
            if time.monotonic() > deadline:
                raise HarnessError(f"READY=1 but no 'ready, listening on' line\n{self.stderr()}")
            if self.proc.poll() is not None:
                self.check_valgrind()
                raise HarnessError(f"targetd exited after READY=1\n{self.stderr()}")
            time.sleep(0.01)
        return self

    @property
    def host(self):
        return self.portals[0][0]

    @property
    def port(self):
        return self.portals[0][1]

    def url(self, iqn=None, lun=None):
        host = f"[{self.host}]" if ":" in self.host else self.host
        u = f"iscsi://{host}:{self.port}"
        if iqn is not None:
            u += f"/{iqn}/{0 if lun is None else lun}"
        return u

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait, assert exit 0 and a clean stderr. Returns stderr."""
        if self.proc is None or self.proc.poll() is not None:
            raise HarnessError(f"targetd is not running (status {self.proc.returncode})\n"
                               f"{self.stderr()}")
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"targetd did not exit within {timeout}s of SIGTERM\n"
                               f"{self.stderr()}")
        err = self.stderr()
        self.check_valgrind()
        if rc != 0:
            raise HarnessError(f"targetd exited with {rc} after SIGTERM (want 0)\n{err}")
        self.assert_clean(err)
        return err

    def check_valgrind(self):
        """Under TARGETD_VALGRIND, once the process has exited: raise with the memcheck
        log if it reports any error, leak or descriptor left open. A SIGKILLed daemon
        (crash tests) is checked for error records only: it had no chance to free."""
        if not VALGRIND or self._vg_checked or self.proc is None or self.proc.poll() is None:
            return
        self._vg_checked = True
        check_valgrind(self.dir, killed=self.proc.returncode == -signal.SIGKILL)

    def assert_clean(self, err=None):
        self.check_valgrind()
        err = self.stderr() if err is None else err
        patterns = ERROR_PATTERNS if self.check_errors else SANITIZER_PATTERNS
        for p in patterns:
            m = p.search(err)
            if m:
                raise HarnessError(f"unclean stderr (matched {p.pattern!r}):\n{err}")

    def _reap(self):
        # Only ever signals the PID this object started.
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_targetd_once(binary, args, timeout=30):
    """Run targetd to completion (e.g. --check-config); returns (rc, stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="targetd-once-") as logdir:
        p = subprocess.run(daemon_argv(binary, args, logdir), capture_output=True, text=True,
                           errors="replace", timeout=scaled(timeout), stdin=subprocess.DEVNULL)
        if VALGRIND:
            check_valgrind(logdir)
    return p.returncode, p.stdout, p.stderr


def run_tool(argv, timeout=60, check=True):
    """Run an initiator tool; returns CompletedProcess. Raises with its output on failure."""
    p = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                       timeout=scaled(timeout), stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} exited {p.returncode}\n"
                           f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def test_main(tests, options, make_ctx, failures=(), binaries=()):
    """The command line of a test driver (ctest runs one test per process).

    tests: {name: function}; options: the driver's own "--flag" names (values are
    paths); make_ctx(args, cleanup) builds what each test function is given;
    failures: exception types beyond the harness's own that mean FAIL;
    binaries: attribute names of options that must name an executable.
    --list prints the names; --test NAME runs one. Returns the exit status:
    0 pass, 1 fail, 2 usage, SKIP (77) skipped.
    """
    ap = argparse.ArgumentParser()
    for o in options:
        ap.add_argument(o)
    ap.add_argument("--test")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(tests))
        return 0
    if args.test not in tests:
        print(f"unknown test {args.test!r}; --list shows them", file=sys.stderr)
        return 2
    for b in binaries:
        path = getattr(args, b)
        if not path or not os.access(path, os.X_OK):
            print(f"{b} {path!r} not built", file=sys.stderr)
            return 1
    fail = (HarnessError, AssertionError, ValueError, KeyError,
            subprocess.TimeoutExpired) + tuple(failures)
    try:
        with Cleanup() as cleanup:
            tests[args.test](make_ctx(args, cleanup))
    except Skip as e:
        print(f"SKIP: {args.test}: {e}")
        return SKIP
    except fail as e:
        print(f"FAIL: {args.test}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"PASS: {args.test}")
    return 0
