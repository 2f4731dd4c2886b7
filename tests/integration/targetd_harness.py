# SPDX-License-Identifier: MIT
"""Start and stop a real targetd for integration and conformance tests.

Hermetic and impatient (docs/testing.md): every daemon gets its own temporary
directory, a NOTIFY_SOCKET datagram socket in it and port 0 (the kernel picks a
free port). Readiness is READY=1 on the notify socket -- never a sleep -- and
the port comes from the "ready, listening on HOST:PORT" line on stderr. Stop is
SIGTERM to the PID we started, and a clean stop means exit status 0 and no
error line or sanitizer report on stderr. Loop devices are attached with
`losetup --find --show` and detached by name. Python stdlib only.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

READY_TIMEOUT = float(os.environ.get("TARGETD_READY_TIMEOUT", "30"))
STOP_TIMEOUT = float(os.environ.get("TARGETD_STOP_TIMEOUT", "30"))

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


def expect(cond, msg):
    """Fail the test with msg unless cond holds."""
    if not cond:
        raise HarnessError(msg)


def _port_of(addr):
    # "127.0.0.1:3260" or "[::1]:3260"
    host, _, port = addr.strip().rpartition(":")
    return host.strip("[]"), int(port)


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
        self.proc = subprocess.Popen([self.binary] + self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr, env=env)
        self.cleanup.add(self._reap)
        deadline = time.monotonic() + timeout
        ready = False
        while not ready:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(f"no READY=1 within {timeout}s\n{self.stderr()}")
            if self.proc.poll() is not None:
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
        if rc != 0:
            raise HarnessError(f"targetd exited with {rc} after SIGTERM (want 0)\n{err}")
        self.assert_clean(err)
        return err

    def assert_clean(self, err=None):
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
    p = subprocess.run([binary] + list(args), capture_output=True, text=True, errors="replace",
                       timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def run_tool(argv, timeout=60, check=True):
    """Run an initiator tool; returns CompletedProcess. Raises with its output on failure."""
    p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} exited {p.returncode}\n"
                           f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p
