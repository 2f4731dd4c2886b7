#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""targetd integration tests: the real daemon on loopback, driven by libiscsi tools.

One ctest per test function (tests/integration/CMakeLists.txt):
    test_targetd.py --targetd PATH --rw-verify PATH --test NAME
Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE).
"""

import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targetd_harness import (Skip, test_main, HarnessError, expect, Targetd,  # noqa: E402
                             loop_devices_available,
                             check_valgrind, daemon_argv, losetup_attach, make_tempdir,
                             run_targetd_once, run_tool, scaled, sparse_file)

IQN = "iqn.2026-11.org.example:demo"
IQN2 = "iqn.2026-11.org.example:second"
MiB = 1 << 20



class Ctx:
    def __init__(self, args, cleanup):
        self.targetd = args.targetd
        self.rw_verify = args.rw_verify
        self.iscsi_bin = args.iscsi_bin
        self.cleanup = cleanup
        self.tmp = make_tempdir(cleanup, base="/var/tmp")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)

    def tool(self, name):
        """A libiscsi tool from --iscsi-bin (the one CMake found), else from PATH."""
        if self.iscsi_bin:
            return os.path.join(self.iscsi_bin, name)
        return name

    def image(self, name, size):
        return sparse_file(os.path.join(self.tmp, name), size)

    def daemon(self, exports, extra=(), check_errors=True):
        args = ["-f", "--listen", "127.0.0.1:0", "--state-dir", self.state]
        for e in exports:
            args += ["--export", e]
        args += list(extra)
        return Targetd(self.targetd, args, self.cleanup, check_errors=check_errors)


def run_until_exit(ctx, args, timeout=30):
    """Run targetd expecting it to exit on its own. Returns (rc, stderr, got_ready)."""
    d = make_tempdir(ctx.cleanup, prefix="targetd-run-")
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    ctx.cleanup.add(sock.close)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    p = subprocess.Popen(daemon_argv(ctx.targetd, args, d), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    ctx.cleanup.add(lambda: p.poll() is None and (p.kill(), p.wait()))
    try:
        out, _ = p.communicate(timeout=scaled(timeout))
    except subprocess.TimeoutExpired:
        raise HarnessError(f"targetd {' '.join(args)} did not exit within {timeout}s")
    check_valgrind(d)  # under TARGETD_VALGRIND: no memcheck error or leak on this exit path
    got_ready = False
    sock.setblocking(False)
    while True:
        try:
            msg = sock.recv(4096).decode(errors="replace")
        except BlockingIOError:
            break
        got_ready |= "READY=1" in msg.split("\n")
    return p.returncode, out.decode(errors="replace"), got_ready


# ---------------------------------------------------------------------------
# Discovery and identification


def rfc7143_sendtargets_lists_demo_target_and_lun_sizes(ctx):
    """RFC 7143 12.3 / Appendix C: SendTargets=All lists every target; each LUN
    answers INQUIRY and READ CAPACITY with the size of its backing file."""
    a = ctx.image("a.img", 64 * MiB)
    b = ctx.image("b.img", 32 * MiB)
    c = ctx.image("c.img", 16 * MiB)
    t = ctx.daemon([f"{IQN}={a},{b}", f"{IQN2}={c}"]).start()
    out = run_tool([ctx.tool("iscsi-ls"), "-s", t.url()]).stdout
    print(out)
    targets = re.findall(r"^Target:(\S+) Portal:(\S+)", out, re.M)
    names = [n for n, _ in targets]
    expect(IQN in names and IQN2 in names, f"both targets listed: {names}")
    expect(all(p.startswith(f"127.0.0.1:{t.port},") for _, p in targets),
           f"portal is 127.0.0.1:{t.port},TPGT: {targets}")
    # iscsi-ls prints (last LBA * block size) >> 20, i.e. one block short of the size.
    sizes = [int(s) for s in re.findall(r"Type:DIRECT_ACCESS \(Size:(\d+)M\)", out)]
    expect(sorted(sizes) in ([15, 31, 63], [16, 32, 64]), f"LUN sizes 64M, 32M, 16M: {sizes}")
    lun_lines = re.findall(r"^Lun:(\d+)\s+Type:DIRECT_ACCESS", out, re.M)
    expect(sorted(lun_lines) == ["0", "0", "1"], f"LUNs 0,1 and 0: {lun_lines}")
    t.stop()


def spc4_inquiry_reports_direct_access_and_vpd_pages(ctx):
    """SPC-4 6.6 INQUIRY: peripheral device type 0 (SBC), VPD 00h lists the
    mandatory 80h/83h pages, 80h carries a unit serial number."""
    a = ctx.image("a.img", 64 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    url = t.url(IQN, 0)
    std = run_tool([ctx.tool("iscsi-inq"), url]).stdout
    print(std)
    expect("Peripheral Device Type:DIRECT_ACCESS" in std, "standard INQUIRY: direct access")
    expect("Peripheral Qualifier:CONNECTED" in std, "standard INQUIRY: qualifier connected")
    vpd0 = run_tool([ctx.tool("iscsi-inq"), "-e", "1", "-c", "0", url]).stdout
    print(vpd0)
    for page in ("0x80", "0x83"):
        expect(f"Page:{page}" in vpd0, f"VPD 00h lists page {page} (SPC-4 7.8.1)")
    serial = run_tool([ctx.tool("iscsi-inq"), "-e", "1", "-c", "128", url]).stdout
    print(serial)
    m = re.search(r"Unit Serial Number:\[\s*(\S+)\]", serial)
    expect(m is not None, "VPD 80h has a non-empty serial (SPC-4 7.8.15)")
    devid = run_tool([ctx.tool("iscsi-inq"), "-e", "1", "-c", "131", url]).stdout
    print(devid)
    expect("DEVICE DESIGNATOR #0" in devid, "VPD 83h has at least one designator (SPC-4 7.8.6)")
    t.stop()


def sbc4_read_capacity16_matches_backing_file(ctx):
    """SBC-4 5.20 READ CAPACITY (16): RETURNED LOGICAL BLOCK ADDRESS is the last
    LBA of the backing file, block length 512 by default."""
    a = ctx.image("a.img", 64 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    out = run_tool([ctx.tool("iscsi-readcapacity16"), t.url(IQN, 0)]).stdout
    print(out)
    lba = int(re.search(r"RETURNED LOGICAL BLOCK ADDRESS:(\d+)", out).group(1))
    bs = int(re.search(r"LOGICAL BLOCK LENGTH IN BYTES:(\d+)", out).group(1))
    expect(bs == 512, f"default block size 512, got {bs}")
    expect(lba == 64 * MiB // bs - 1, f"last LBA {64 * MiB // bs - 1}, got {lba}")
    size = run_tool([ctx.tool("iscsi-readcapacity16"), "-s", t.url(IQN, 0)]).stdout.strip()
    expect(size == str(64 * MiB), f"size {64 * MiB}, got {size}")
    t.stop()


# ---------------------------------------------------------------------------
# Data path


def _round_trip(ctx, t, lun_path, url, lba=2048, size=MiB, chunk=262144):
    data = os.urandom(size)
    inp = os.path.join(ctx.tmp, "in.bin")
    outp = os.path.join(ctx.tmp, "out.bin")
    with open(inp, "wb") as f:
        f.write(data)
    run_tool([ctx.rw_verify, url, str(lba), inp, outp, str(chunk)], timeout=120)
    with open(outp, "rb") as f:
        back = f.read()
    expect(back == data, "data read back over iSCSI equals data written")
    t.stop()
    # After a clean stop the bytes must be in the backing store (SBC-4 5.24
    # SYNCHRONIZE CACHE was sent, and SIGTERM flushes).
    with open(lun_path, "rb") as f:
        f.seek(lba * 512)
        disk = f.read(size)
    expect(disk == data, f"backing store {lun_path} holds the written data at lba {lba}")


def sbc4_write16_read16_round_trip_on_file(ctx):
    """SBC-4 5.43/5.16: WRITE (16) then READ (16) returns the same bytes; the
    writes span more than FirstBurstLength, so R2T (RFC 7143 11.8) is exercised."""
    a = ctx.image("a.img", 64 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    _round_trip(ctx, t, a, t.url(IQN, 0))


def sbc4_write16_read16_round_trip_on_loop_block_device(ctx):
    """Same round trip on a block device (loop device over a file in /var/tmp):
    the aio backend's O_DIRECT path on a real block device."""
    if not loop_devices_available():
        raise Skip("loop devices not available (need root and /dev/loop-control)")
    img = ctx.image("loop.img", 64 * MiB)
    dev = losetup_attach(ctx.cleanup, img)
    t = ctx.daemon([f"{IQN}={dev}"]).start()
    _round_trip(ctx, t, dev, t.url(IQN, 0))


def sbc4_unaligned_small_writes_round_trip(ctx):
    """One-block commands at an odd LBA: smaller than any immediate-data limit
    (RFC 7143 13.11/13.14), each a single PDU."""
    a = ctx.image("a.img", 16 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    _round_trip(ctx, t, a, t.url(IQN, 0), lba=12345, size=64 * 512, chunk=512)


# ---------------------------------------------------------------------------
# Configuration and lifecycle

BAD_CONFIGS = [
    # (name, text, line(s) the error may be reported on)
    ("ini_syntax", "[global]\nstate_dir = /var/tmp\n[portal p\n", 3),
    ("unknown_section", "[global]\nstate_dir = /var/tmp\n\n[bogus thing]\nfoo = bar\n", 4),
    ("unknown_key", "[global]\nstate_dir = /var/tmp\nno_such_key = 1\n", 3),
    ("bad_iqn", "[portal p1]\nlisten = 127.0.0.1:3260\n\n[target IQN.Not A Name]\n", 4),
    ("bad_block_size",
     "[target iqn.2026-11.org.example:t]\n\n[lun iqn.2026-11.org.example:t 0]\n"
     "path = {img}\nblock_size = 1000\n", 5),
    ("lun_without_target",
     "[target iqn.2026-11.org.example:t]\n[lun iqn.2026-11.org.example:t 0]\npath = {img}\n"
     "[lun iqn.2026-11.org.example:missing 0]\npath = {img}\n", (4, 5)),
    ("bad_number", "[global]\nmax_recv_data_segment_length = 12\n", 2),
    # RFC 7143 4.2.7.2: iqn.yyyy-mm.reversed-domain
    ("bad_iqn_date", "# comment\n[target iqn.26-11.org.example:t]\n", 2),
    ("duplicate_lun",
     "[target iqn.2026-11.org.example:t]\n[lun iqn.2026-11.org.example:t 0]\npath = {img}\n"
     "\n[lun iqn.2026-11.org.example:t 0]\npath = {img}\n", (5, 6)),
    # RFC 7143 13.14: FirstBurstLength <= MaxBurstLength
    ("fbl_over_mbl", "[global]\nmax_burst_length = 64k\nfirst_burst_length = 128k\n", (2, 3)),
    ("duplicate_portal",
     "[portal a]\nlisten = 127.0.0.1:3260\n[portal b]\nlisten = 127.0.0.1:3260\n", 4),
]


def conf_check_config_reports_file_line_for_each_bad_file(ctx):
    """--check-config: every problem as "file:line: message", exit 1."""
    img = ctx.image("a.img", 16 * MiB)
    failures = []
    for name, text, line in BAD_CONFIGS:
        path = os.path.join(ctx.tmp, f"{name}.conf")
        with open(path, "w") as f:
            f.write(text.format(img=img))
        rc, out, err = run_targetd_once(ctx.targetd, ["--check-config", "-c", path])
        both = out + err
        print(f"--- {name}: rc={rc}\n{both}")
        if rc != 1:
            failures.append(f"{name}: exit {rc}, want 1")
        lines = line if isinstance(line, tuple) else (line,)
        if not any(f"{path}:{n}:" in both for n in lines):
            failures.append(f"{name}: no '{path}:{lines[0]}:' in output")
        if "Sanitizer" in both or "runtime error:" in both:
            failures.append(f"{name}: sanitizer report")
    expect(not failures, "\n".join(failures))


def conf_check_config_good_file_prints_ok(ctx):
    """--check-config on a valid file: prints OK, exit 0."""
    img = ctx.image("a.img", 16 * MiB)
    path = os.path.join(ctx.tmp, "good.conf")
    with open(path, "w") as f:
        f.write(f"# a valid file\n[global]\nstate_dir = {ctx.state}\n\n"
                "[portal p1]\nlisten = 127.0.0.1:3260\n\n"
                "[target iqn.2026-11.org.example:good]\n\n"
                f"[lun iqn.2026-11.org.example:good 0]\npath = {img}\n")
    rc, out, err = run_targetd_once(ctx.targetd, ["--check-config", "-c", path])
    print(out + err)
    expect(rc == 0, f"exit 0, got {rc}")
    expect("OK" in out + err, "prints OK")


def daemon_missing_lu_path_exits_1_before_ready(ctx):
    """An LU that cannot be opened stops startup: exit 1, never READY=1."""
    missing = os.path.join(ctx.tmp, "does-not-exist.img")
    rc, out, ready = run_until_exit(
        ctx, ["-f", "--listen", "127.0.0.1:0", "--state-dir", ctx.state,
              "--export", f"{IQN}={missing}"])
    print(out)
    expect(rc == 1, f"exit 1, got {rc}")
    expect(not ready, "no READY=1 was sent")
    expect("ready, listening on" not in out, "no ready line was logged")
    expect(missing in out, "the error names the missing path")
    expect("Sanitizer" not in out and "runtime error:" not in out, "no sanitizer report")


def daemon_sigterm_while_idle_exits_0(ctx):
    """SIGTERM with no sessions: graceful exit 0, clean stderr."""
    a = ctx.image("a.img", 16 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    expect(t.port != 0, "the ready line reports the port the kernel picked")
    t.stop()


def daemon_sigterm_with_open_connections_exits_0(ctx):
    """SIGTERM while a TCP connection sits before login and another is half-way
    through a PDU header: the daemon still exits 0 promptly."""
    a = ctx.image("a.img", 16 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    s1 = socket.create_connection((t.host, t.port), timeout=5)
    s2 = socket.create_connection((t.host, t.port), timeout=5)
    ctx.cleanup.add(s1.close)
    ctx.cleanup.add(s2.close)
    s2.sendall(b"\x43\x87" + b"\x00" * 10)  # 12 of 48 BHS bytes of a Login Request
    time.sleep(0.1)  # let the daemon read them (not a readiness wait)
    t.stop()


def daemon_sigterm_during_io_exits_0(ctx):
    """SIGTERM while a logged-in session is writing: sessions are closed, in-flight
    I/O drains, exit 0 (graceful stop; SAM-5 7.1 tasks end before the nexus goes)."""
    a = ctx.image("a.img", 256 * MiB)
    t = ctx.daemon([f"{IQN}={a}"]).start()
    inp = os.path.join(ctx.tmp, "in.bin")
    with open(inp, "wb") as f:
        f.write(os.urandom(128 * MiB))
    rw = subprocess.Popen([ctx.rw_verify, t.url(IQN, 0), "0", inp,
                           os.path.join(ctx.tmp, "out.bin"), "65536"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.cleanup.add(lambda: rw.poll() is None and (rw.kill(), rw.wait()))
    deadline = time.monotonic() + 30
    while os.stat(a).st_blocks == 0:  # the first write has reached the file
        expect(rw.poll() is None, f"writer exited early with {rw.returncode}")
        expect(time.monotonic() < deadline, "no write reached the backing file in 30 s")
        time.sleep(0.01)
    expect(rw.poll() is None, "writer still running when SIGTERM is sent")
    t.stop()
    # libiscsi's sync API keeps trying to reconnect; the cleanup kills the writer.


def daemon_survives_garbage_pdu(ctx):
    """A connection that sends garbage is closed alone (RFC 7143 7.1 / design:
    'nothing on the wire can stop the daemon'); discovery still works after."""
    a = ctx.image("a.img", 16 * MiB)
    t = ctx.daemon([f"{IQN}={a}"], check_errors=False).start()
    s = socket.create_connection((t.host, t.port), timeout=5)
    ctx.cleanup.add(s.close)
    s.sendall(bytes([0xff]) * 48 + os.urandom(4096))
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    out = run_tool([ctx.tool("iscsi-ls"), t.url()]).stdout
    expect(IQN in out, "discovery still works after a garbage connection")
    t.stop()


TESTS = {f.__name__: f for f in [
    rfc7143_sendtargets_lists_demo_target_and_lun_sizes,
    spc4_inquiry_reports_direct_access_and_vpd_pages,
    sbc4_read_capacity16_matches_backing_file,
    sbc4_write16_read16_round_trip_on_file,
    sbc4_write16_read16_round_trip_on_loop_block_device,
    sbc4_unaligned_small_writes_round_trip,
    conf_check_config_reports_file_line_for_each_bad_file,
    conf_check_config_good_file_prints_ok,
    daemon_missing_lu_path_exits_1_before_ready,
    daemon_sigterm_while_idle_exits_0,
    daemon_sigterm_with_open_connections_exits_0,
    daemon_sigterm_during_io_exits_0,
    daemon_survives_garbage_pdu,
]}


def main():
    return test_main(TESTS, ["--targetd", "--rw-verify", "--iscsi-bin"], Ctx,
                     binaries=("targetd",))


if __name__ == "__main__":
    sys.exit(main())
