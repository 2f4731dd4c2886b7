#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""APTPL integration tests (issue 11): persistent reservations across a
restart of the real daemon, driven by iscsi_pr (a libiscsi program with fixed
ISIDs, so a second run is the same I_T nexus).

    test_pr.py --targetd PATH --iscsi-pr PATH [--targetctl PATH] --test NAME
Exit 0 pass, 1 fail, 77 skipped.
"""

import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targetd_harness import Skip, test_main, HarnessError, Targetd, make_tempdir  # noqa: E402

IQN = "iqn.2026-12.org.example:pr"
NODE_A = ("iqn.2026-12.org.example:node-a", "1")
NODE_B = ("iqn.2026-12.org.example:node-b", "2")
NODE_C = ("iqn.2026-12.org.example:node-c", "3")
GOOD, CONFLICT = "status=0", "status=24"



class Ctx:
    def __init__(self, args, cleanup):
        self.args = args
        self.cleanup = cleanup
        self.state = os.path.join(make_tempdir(cleanup, base="/var/tmp"), "state")
        os.mkdir(self.state)

    def daemon(self, check_errors=True):
        return Targetd(self.args.targetd, ["-f", "--listen", "127.0.0.1:0", "--export",
                                           f"{IQN}=mem:64M", "--state-dir", self.state],
                       self.cleanup, check_errors=check_errors).start()

    def pr(self, d, node, *op):
        p = subprocess.run([self.args.iscsi_pr, d.url(IQN, 0), node[0], node[1]] + list(op),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise HarnessError(f"iscsi_pr {' '.join(op)}: exit {p.returncode}\n{p.stderr}")
        return p.stdout.strip()


def expect(got, want, what):
    if got != want:
        raise HarnessError(f"{what}: got {got!r}, want {want!r}")


def sigkill(d):
    d.proc.kill()
    d.proc.wait()


def issue11_aptpl_state_survives_sigkill_and_is_enforced_at_once(ctx):
    d = ctx.daemon()
    expect(ctx.pr(d, NODE_A, "register", "0xa1", "1"), GOOD, "A REGISTER APTPL=1")
    expect(ctx.pr(d, NODE_B, "register", "0xb2", "1"), GOOD, "B REGISTER APTPL=1")
    expect(ctx.pr(d, NODE_A, "reserve", "0xa1", "5"), GOOD, "A RESERVE WR EX RO")
    expect(ctx.pr(d, NODE_C, "write"), CONFLICT, "C WRITE before restart")
    expect(ctx.pr(d, NODE_A, "keys"), "gen=2 keys=a1,b2", "READ KEYS before restart")
    files = glob.glob(os.path.join(ctx.state, "pr-*.state"))
    expect(len(files), 1, "one state file")
    sigkill(d)
    d = ctx.daemon()
    # SPC-4 6.15.2: PRgeneration is zero after a power on
    expect(ctx.pr(d, NODE_C, "keys"), "gen=0 keys=a1,b2", "READ KEYS after restart")
    expect(ctx.pr(d, NODE_C, "res"), "type=5 key=a1", "READ RESERVATION after restart")
    # enforced before the holder logs back in
    expect(ctx.pr(d, NODE_C, "write"), CONFLICT, "C WRITE after restart")
    expect(ctx.pr(d, NODE_C, "read"), GOOD, "C READ after restart")
    expect(ctx.pr(d, NODE_B, "write"), GOOD, "registrant B WRITE after restart")
    d.stop()


def issue11_aptpl0_state_is_gone_after_restart(ctx):
    d = ctx.daemon()
    expect(ctx.pr(d, NODE_A, "register", "0xa1", "0"), GOOD, "A REGISTER APTPL=0")
    expect(ctx.pr(d, NODE_A, "reserve", "0xa1", "1"), GOOD, "A RESERVE WR EX")
    expect(glob.glob(os.path.join(ctx.state, "pr-*.state")), [], "no state file")
    sigkill(d)
    d = ctx.daemon()
    expect(ctx.pr(d, NODE_C, "keys"), "gen=0 keys=", "READ KEYS after restart")
    expect(ctx.pr(d, NODE_C, "res"), "type=0 key=0", "READ RESERVATION after restart")
    expect(ctx.pr(d, NODE_C, "write"), GOOD, "C WRITE after restart")
    d.stop()


def write_conf(ctx, lun0_extra=""):
    """A configuration file: one target, LUN 0 (serial prlun0) and LUN 1
    (serial prlun1); lun0_extra goes into LUN 0's section."""
    path = os.path.join(ctx.state, "..", "targetd.conf")
    with open(path, "w") as f:
        f.write(f"""[global]
state_dir = {ctx.state}

[portal lo]
listen = 127.0.0.1:0

[target {IQN}]

[lun {IQN} 0]
path = mem:64M
serial = prlun0
{lun0_extra}

[lun {IQN} 1]
path = mem:64M
serial = prlun1
""")
    return path


def conf_daemon(ctx, conf, check_errors=True):
    return Targetd(ctx.args.targetd, ["-f", "-c", conf], ctx.cleanup,
                   check_errors=check_errors).start()


def pr_lun(ctx, d, lun, node, *op, iqn=IQN):
    p = subprocess.run([ctx.args.iscsi_pr, d.url(iqn, lun), node[0], node[1]] + list(op),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise HarnessError(f"iscsi_pr lun {lun} {' '.join(op)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout.strip()


def issue11_corrupt_state_file_keeps_only_that_lu_from_starting(ctx):
    """A state file with one flipped bit (checksum mismatch) keeps THAT LU
    from starting: the daemon starts, names the file, line and problem and
    the override, LUN 0 is absent from REPORT LUNS (SPC-4 6.33), LUN 1 of the
    same target works with its own restored state. With pr_state = ignore
    LUN 0 starts empty and the bad file is moved aside."""
    conf = write_conf(ctx)
    d = conf_daemon(ctx, conf)
    expect(pr_lun(ctx, d, 0, NODE_A, "register", "0xa1", "1"), GOOD, "LUN 0 A REGISTER APTPL=1")
    expect(pr_lun(ctx, d, 1, NODE_B, "register", "0xb2", "1"), GOOD, "LUN 1 B REGISTER APTPL=1")
    expect(pr_lun(ctx, d, 1, NODE_B, "reserve", "0xb2", "5"), GOOD, "LUN 1 B RESERVE")
    d.stop()
    path = os.path.join(ctx.state, "pr-prlun0.state")
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[data.index(b"key:") + 4] ^= 0x01  # one flipped bit
        f.seek(0)
        f.write(data)
    d = conf_daemon(ctx, conf, check_errors=False)  # the error is logged, on purpose
    msg = d.stderr()
    expect(path in msg and "checksum mismatch" in msg and "pr_state = ignore" in msg
           and "NOT STARTED" in msg, True,
           f"a message naming {path}, the problem and the override:\n{msg}")
    expect(pr_lun(ctx, d, 1, NODE_C, "luns"), "luns=1", "REPORT LUNS without the bad LU")
    expect(pr_lun(ctx, d, 1, NODE_C, "keys"), "gen=0 keys=b2", "LUN 1 READ KEYS")
    expect(pr_lun(ctx, d, 1, NODE_C, "write"), CONFLICT, "LUN 1 restored reservation enforced")
    expect(pr_lun(ctx, d, 1, NODE_B, "write"), GOOD, "LUN 1 holder WRITE")
    expect(os.path.exists(path), True, "the corrupt file is left for the operator")
    # a reload with the same configuration tries the LU again: still corrupt
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.stderr().count("NOT STARTED") >= 2, "the reload's warning")
    expect(pr_lun(ctx, d, 1, NODE_C, "luns"), "luns=1", "REPORT LUNS after a reload")
    # the override, by reload: the LU starts empty, the file is moved aside
    write_conf(ctx, "pr_state = ignore")
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "STARTING WITH NO PERSISTENT RESERVATIONS" in d.stderr(), "the override")
    wait_for(lambda: pr_lun(ctx, d, 1, NODE_C, "luns") == "luns=0,1", "LUN 0 mapped by reload")
    expect(pr_lun(ctx, d, 0, NODE_C, "keys"), "gen=0 keys=", "LUN 0 starts empty")
    expect(os.path.exists(path), False, "the corrupt file is gone from its name")
    expect(len(glob.glob(path + ".corrupt-*")), 1, "the corrupt file moved aside")
    d.stop()
    # the override at startup
    d = conf_daemon(ctx, conf)
    expect(pr_lun(ctx, d, 1, NODE_C, "luns"), "luns=0,1", "after restart")
    d.stop()
    with open(path, "wb") as f:
        f.write(b"targetd-pr-state=1\naptpl=1\n")  # truncated: no checksum line
    d = conf_daemon(ctx, conf, check_errors=False)
    msg = d.stderr()
    expect("truncated: no checksum line" in msg and
           "STARTING WITH NO PERSISTENT RESERVATIONS" in msg, True, f"the loud warning:\n{msg}")
    expect(pr_lun(ctx, d, 1, NODE_C, "luns"), "luns=0,1", "REPORT LUNS with the override")
    expect(pr_lun(ctx, d, 0, NODE_C, "keys"), "gen=0 keys=", "LUN 0 starts empty")
    expect(len(glob.glob(path + ".corrupt-*")), 2, "the second corrupt file moved aside")
    d.stop()


def wait_for(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out waiting for {what}")
        time.sleep(0.05)


def issue11_full_state_dir_fails_prout_memory_unchanged(ctx):
    """The state directory fills up (a small tmpfs): an APTPL PROUT fails with
    CHECK CONDITION, HARDWARE ERROR / INTERNAL TARGET FAILURE, the state in
    memory is unchanged, and the same PROUT succeeds once space returns."""
    if os.geteuid() != 0:
        raise Skip("needs root to mount a tmpfs")
    os.rmdir(ctx.state)
    os.mkdir(ctx.state)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", ctx.state],
                      capture_output=True).returncode != 0:
        raise Skip("cannot mount a tmpfs")
    ctx.cleanup.add(lambda: subprocess.run(["umount", "-l", ctx.state], capture_output=True))
    d = ctx.daemon(check_errors=False)  # the failure is logged as an error, on purpose
    expect(ctx.pr(d, NODE_A, "register", "0xa1", "1"), GOOD, "A REGISTER APTPL=1")
    filler = os.path.join(ctx.state, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.close(fd)
    expect(ctx.pr(d, NODE_B, "register", "0xb2", "1"), "status=2 sense=04/44/00",
           "B REGISTER APTPL=1 on a full state directory")
    expect(ctx.pr(d, NODE_C, "keys"), "gen=1 keys=a1", "READ KEYS after the failure")
    expect("failed: No space left on device" in d.stderr(), True, "the log names errno")
    os.unlink(filler)
    expect(ctx.pr(d, NODE_B, "register", "0xb2", "1"), GOOD, "B REGISTER APTPL=1 with space")
    expect(ctx.pr(d, NODE_C, "keys"), "gen=2 keys=a1,b2", "READ KEYS after space returned")
    d.stop()


def issue11_crash_during_prout_storm_restores_acknowledged_state(ctx, rounds=None):
    """Several initiators re-register with APTPL=1 as fast as they can; the
    daemon is SIGKILLed at a random moment (mid-commit included), restarted:
    the file loads and each initiator's key is the last one acknowledged or
    the one in flight -- never older, never torn."""
    rounds = rounds or int(os.environ.get("TARGETD_CRASH_ROUNDS", "5"))
    rng = random.Random(os.environ.get("TARGETD_CRASH_SEED", "1"))
    nodes = [NODE_A, NODE_B, NODE_C]
    last = {}  # base -> last acknowledged key in an earlier round
    for r in range(rounds):
        d = ctx.daemon()
        procs = []
        for i, node in enumerate(nodes):
            base = (i + 1) << 40 | (r + 1) << 20
            procs.append((base, subprocess.Popen(
                [ctx.args.iscsi_pr, d.url(IQN, 0), node[0], node[1], "storm", hex(base),
                 "1000000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)))
        for _, p in procs:
            ctx.cleanup.add(lambda p=p: p.poll() is None and (p.kill(), p.wait()))
        time.sleep(rng.uniform(0.05, 0.6))  # a random crash moment, not a readiness wait
        sigkill(d)
        acked = {}
        for base, p in procs:
            out, _ = p.communicate(timeout=60)
            keys = [int(line[4:], 16) for line in out.split() if line.startswith("ack=")]
            acked[base] = keys[-1] if keys else None
        d = ctx.daemon()  # every file loads, or this raises
        got = ctx.pr(d, NODE_C, "keys")
        keys = [int(k, 16) for k in got.split("keys=")[1].split(",") if k]
        for base, p in procs:
            node = base >> 40
            mine = [k for k in keys if k >> 40 == node]
            expect(len(mine) <= 1, True, f"round {r}: one key per initiator in {got}")
            a = acked[base]
            if a is None:
                # nothing acknowledged this round: the key from before, or
                # the first one of this round if it was in flight
                ok = mine in ([last[node]] if last.get(node) else [], [base + 1])
            else:
                ok = mine in ([a], [a + 1])
            expect(ok, True, f"round {r}: restored {[hex(k) for k in mine]}, last "
                   f"acknowledged {a if a is None else hex(a)}")
            last[node] = mine[0] if mine else None
        print(f"round {r}: acknowledged {[hex(a) if a else a for a in acked.values()]}, "
              f"restored {[hex(k) for k in keys]}")
        d.stop()


LIO_SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                          "aptpl_6a1c6f5e-0b8d-4c1e-9e2a-5f0e7c3d2b10")
LIO_IQN = "iqn.2003-01.org.linux-iscsi.vmtarget:lio"
LIO_A = ("iqn.2024-01.org.vmtarget:node-a", "8000a0010000")
LIO_B = ("iqn.2024-01.org.vmtarget:node-b", "8000b0020000")
LIO_C = ("iqn.2024-01.org.vmtarget:node-c", "8000c0030000")


def issue11_lio_import_of_the_real_sample_is_enforced_from_the_first_command(ctx):
    """targetd --import-lio of the real LIO file (shared/samples/lio-aptpl,
    byte for byte): the LU starts with exactly the state its README lists --
    A 0xa1a1a1a1, B 0xb2b2b2b2, C 0xc3c3c3c3 holding Write Exclusive -
    Registrants Only (SPC-4 table 174, type 5) -- PRgeneration 0 (SPC-4
    6.15.2), seen by targetctl pr show and by PR IN, and enforced from the
    first command: a non-registrant's WRITE conflicts, a registrant's does
    not (SPC-4 table 65)."""
    if not ctx.args.targetctl:
        raise Skip("no --targetctl")
    conf = os.path.join(ctx.state, "..", "lio.conf")
    with open(conf, "w") as f:
        f.write(f"[global]\nstate_dir = {ctx.state}\n\n[portal lo]\nlisten = 127.0.0.1:0\n\n"
                f"[target {LIO_IQN}]\n\n[lun {LIO_IQN} 0]\npath = mem:64M\nserial = lio0\n")
    imp = [ctx.args.targetd, "--import-lio", LIO_SAMPLE, "--target", LIO_IQN, "--lun", "0",
           "-c", conf]
    p = subprocess.run(imp, capture_output=True, text=True, timeout=30)
    expect(p.returncode, 0, f"import exit status ({p.stderr})")
    for want in ["pr-lio0.state", "3 registration(s)", "0xc3c3c3c3 (reservation holder)",
                 "type 5 (Write Exclusive - Registrants Only)"]:
        expect(want in p.stdout, True, f"{want!r} in the import summary:\n{p.stdout}")
    # an existing state file is not replaced without --force
    p = subprocess.run(imp, capture_output=True, text=True, timeout=30)
    expect(p.returncode, 1, "a second import without --force")
    expect("--force" in p.stderr, True, f"the refusal says how:\n{p.stderr}")
    expect(subprocess.run(imp + ["--force"], capture_output=True, timeout=30).returncode, 0,
           "import --force")
    sock = os.path.join(ctx.state, "..", "control")
    d = Targetd(ctx.args.targetd, ["-f", "-c", conf, "--control", sock], ctx.cleanup).start()
    # the very first command, before anyone logs in again: a newcomer's WRITE
    expect(pr_lun(ctx, d, 0, NODE_C, "write", iqn=LIO_IQN), CONFLICT, "non-registrant WRITE, first command")
    p = subprocess.run([ctx.args.targetctl, "-s", sock, "-o", "json", "pr", "show", LIO_IQN, "0"],
                       capture_output=True, text=True, timeout=30)
    expect(p.returncode, 0, f"targetctl pr show ({p.stderr})")
    js = json.loads(p.stdout)
    expect((js["aptpl"], js["generation"], js["reservation"]["type"]), (True, 0, 5),
           f"targetctl pr show: {p.stdout}")
    regs = sorted((r["initiator"], r["isid"], r["rel_tport_id"], r["key"], r["all_tg_pt"],
                   r["holder"]) for r in js["registrations"])
    expect(regs, [(LIO_A[0], LIO_A[1], 1, "0x00000000a1a1a1a1", False, False),
                  (LIO_B[0], LIO_B[1], 1, "0x00000000b2b2b2b2", False, False),
                  (LIO_C[0], LIO_C[1], 1, "0x00000000c3c3c3c3", False, True)],
           "registrations in targetctl pr show")
    full = pr_lun(ctx, d, 0, NODE_C, "full", iqn=LIO_IQN).splitlines()
    expect(full[0], "gen=0", "READ FULL STATUS PRgeneration")
    expect(sorted(full[1:]), sorted([
        f"key=a1a1a1a1 holder=0 type=0 rtpi=1 all_tg_pt=0 tid={LIO_A[0]},i,0x{LIO_A[1]}",
        f"key=b2b2b2b2 holder=0 type=0 rtpi=1 all_tg_pt=0 tid={LIO_B[0]},i,0x{LIO_B[1]}",
        f"key=c3c3c3c3 holder=1 type=5 rtpi=1 all_tg_pt=0 tid={LIO_C[0]},i,0x{LIO_C[1]}"]),
        "READ FULL STATUS")
    expect(pr_lun(ctx, d, 0, NODE_C, "res", iqn=LIO_IQN), "type=5 key=c3c3c3c3", "READ RESERVATION")
    expect(pr_lun(ctx, d, 0, LIO_B, "write", iqn=LIO_IQN), GOOD, "registrant B WRITE (type 5)")
    expect(pr_lun(ctx, d, 0, LIO_C, "write", iqn=LIO_IQN), GOOD, "holder C WRITE")
    expect(pr_lun(ctx, d, 0, NODE_C, "read", iqn=LIO_IQN), GOOD, "non-registrant READ (type 5)")
    d.stop()


TESTS = {f.__name__: f for f in [
    issue11_aptpl_state_survives_sigkill_and_is_enforced_at_once,
    issue11_aptpl0_state_is_gone_after_restart,
    issue11_corrupt_state_file_keeps_only_that_lu_from_starting,
    issue11_crash_during_prout_storm_restores_acknowledged_state,
    issue11_full_state_dir_fails_prout_memory_unchanged,
    issue11_lio_import_of_the_real_sample_is_enforced_from_the_first_command,
]}


def main():
    return test_main(TESTS, ["--targetd", "--iscsi-pr", "--targetctl"], Ctx)


if __name__ == "__main__":
    sys.exit(main())
