#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real Linux initiators against targetd: open-iscsi and sg3_utils in a qemu VM.

One test per scenario (ctest label "initiator", see CMakeLists.txt beside this
file and docs/initiator-vm.md). Each test starts its own targetd from a config
file on a free loopback port -- the [portal] section advertises 10.0.2.2:PORT,
the address qemu's user network gives the host inside the guest -- boots the VM
with run-vm.sh and the scenario's guest script (scenarios/NAME.sh), checks what
the guest reports against the backing file on the host, and stops targetd
cleanly (exit 0, no error lines).

Exit status: 0 pass, 1 fail, 77 skip (qemu cannot run here).
"""

import argparse
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import targetd_harness as th  # noqa: E402

TARGET = "iqn.2026-01.org.targetd.test:vm-disk"
NODE1 = "iqn.1994-05.com.redhat:node1"
NODE2 = "iqn.1994-05.com.redhat:node2"
NODE3 = "iqn.1994-05.com.redhat:node3"
LU_SIZE = 64 << 20
SKIP = 77


class VmSkip(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(path, port, lu_path, state_dir, allow=(), target_extra=(),
                 nop=("2s", "15s")):
    lines = [
        "[global]",
        f"state_dir = {state_dir}",
        # quick failure detection when a scenario restarts targetd
        f"nop_interval = {nop[0]}",
        f"nop_timeout = {nop[1]}",
        "",
        "[portal vm]",
        f"listen = 127.0.0.1:{port}",
        "group = 1",
        # RFC 7143 appendix C / targetd.conf(5): SendTargets reports the
        # address the initiator can reach, not the bound 127.0.0.1.
        f"advertise = 10.0.2.2:{port}",
        "",
        f"[target {TARGET}]",
        "portal_group = 1",
    ]
    lines += [f"allow = {a}" for a in allow]
    lines += list(target_extra)
    lines += ["", f"[lun {TARGET} 0]", f"path = {lu_path}", ""]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold secrets
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))


class Scenario:
    def __init__(self, args, cleanup):
        self.args = args
        self.cleanup = cleanup
        self.dir = th.make_tempdir(cleanup, prefix="targetd-vm-test-")
        self.lu = os.path.join(self.dir, "lu0.img")
        th.sparse_file(self.lu, LU_SIZE)
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.conf = os.path.join(self.dir, "targetd.conf")
        self.console = os.path.join(self.dir, "console.log")
        self.targetd = None
        self.killed = []  # instances restart_targetd() killed, for their stderr
        self.vm_pid = None  # run-vm.sh while a VM runs (stall_vm)
        self.port = None
        self.timings = {}
        self.target_extra = []
        self.nop = ("2s", "15s")  # nop_interval, nop_timeout

    def start_targetd(self, port=None):
        """Start targetd on PORT (or a free one; retried if taken meanwhile)."""
        for attempt in range(5):
            self.port = port or free_port()
            write_config(self.conf, self.port, self.lu, self.state,
                         target_extra=self.target_extra, nop=self.nop)
            t = th.Targetd(self.args.targetd, ["-f", "-c", self.conf], self.cleanup)
            try:
                t.start()
            except th.HarnessError as e:
                if port is None and "in use" in str(e).lower() and attempt < 4:
                    continue
                raise
            self.targetd = t
            return t
        raise th.HarnessError("no free port")

    def run_vm(self, script, initiator2=None, env=(), timeout=None, on_host=None, fence=False):
        """Boot the VM with scenarios/SCRIPT; returns (rc, output).

        on_host(action) is called when the guest prints "@@HOST action@@"."""
        cmd = [os.path.join(HERE, "run-vm.sh"), "--port", str(self.port), "--target", TARGET,
               "--initiator", NODE1, "--script", os.path.join(HERE, "scenarios", script),
               "--timeout", str(timeout or self.args.vm_timeout), "--log", self.console,
               "--env", f"LU_BLOCKS={LU_SIZE // 512}"]
        if self.args.cache:
            cmd += ["--cache", self.args.cache]
        if initiator2:
            cmd += ["--initiator2", initiator2]
        if fence:
            cmd += ["--fence"]
        for e in env:
            cmd += ["--env", e]
        t0 = time.monotonic()
        out_path = os.path.join(self.dir, "vm.out")
        with open(out_path, "wb") as out:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT)
            self.vm_pid = p.pid
            done = set()
            while p.poll() is None:
                text = self._console()
                # host-clock milestones (0.2 s resolution): qemu start to the
                # guest script, and to the first session's LU showing up
                for key, marker in (("host_boot_s", "@@TARGETD-VM-BEGIN"),
                                    ("host_login_s", "RESULT logged_in=")):
                    if key not in self.timings and marker in text:
                        self.timings[key] = round(time.monotonic() - t0, 1)
                if on_host:
                    for action in re.findall(r"@@HOST ([a-z0-9-]+)@@", text):
                        if action not in done:
                            done.add(action)
                            on_host(action)
                try:
                    p.wait(0.2)
                except subprocess.TimeoutExpired:
                    pass
        with open(out_path, "rb") as f:
            output = f.read().decode(errors="replace")
        sys.stdout.write(output)
        sys.stdout.flush()
        if p.returncode == SKIP:
            raise VmSkip("run-vm.sh: qemu cannot run on this host")
        self.timings["vm_seconds"] = round(time.monotonic() - t0, 1)
        m = re.search(r"booted to script start in ([0-9.]+)s", output)
        if m:
            self.timings["boot_to_script_guest_s"] = float(m.group(1))
        return p.returncode, output

    def _console(self):
        try:
            with open(self.console, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stall_vm(self, seconds):
        """Freeze the VM (SIGSTOP to its qemu, a child of run-vm.sh) for SECONDS:
        the guest answers nothing meanwhile, as a hung or partitioned host."""
        qemu = [pid for pid, (ppid, comm) in
                ((int(d), _ppid_comm(int(d))) for d in os.listdir("/proc") if d.isdigit())
                if ppid == self.vm_pid and comm.startswith("qemu-system")]
        check(len(qemu) == 1, f"qemu child of run-vm.sh {self.vm_pid}: {qemu}")
        os.kill(qemu[0], signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(qemu[0], signal.SIGCONT)

    def restart_targetd(self):
        """Kill targetd hard (SIGKILL: a crash, no clean logout) and start it again
        on the same port and state directory."""
        old = self.targetd
        old.proc.kill()
        old.proc.wait()
        self.killed.append(old)
        self.start_targetd(port=self.port)


def _ppid_comm(pid):
    """(parent pid, command name) of a process, (None, "") once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None, ""
    comm = st[st.index("(") + 1:st.rindex(")")]
    return int(st[st.rindex(")") + 2:].split()[1]), comm


def results(output):
    return dict(re.findall(r"^RESULT (\w+)=(\S+)$", output, re.M))


def sha256_range(path, off, length):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(off)
        h.update(f.read(length))
    return h.hexdigest()


def check(cond, msg):
    if not cond:
        raise th.HarnessError(msg)


# ---- scenarios ----------------------------------------------------------------

def rfc7143_discovery_login_sbc4_direct_io_round_trip(s):
    """open-iscsi discovers through the advertised portal and logs in; sg_inq and
    sg_readcap see the LU; 8 MiB written with O_DIRECT read back equal, and the
    backing file on the host holds the same bytes; logout leaves no session; a
    second login with CRC32C header and data digests (RFC 7143 13.1) moves data
    correctly too."""
    s.start_targetd()
    rc, out = s.run_vm("login_io.sh")
    check(rc == 0, f"guest script failed ({rc})")
    r = results(out)
    for sfx in ("", "2"):
        check(f"sha256{'_' + sfx if sfx else ''}" in r, f"guest printed no RESULT sha256 {sfx}")
        want = r[f"sha256{'_' + sfx if sfx else ''}"]
        host = sha256_range(s.lu, int(r[f"offset{sfx}_mib"]) << 20,
                            int(r[f"length{sfx}_mib"]) << 20)
        check(host == want, f"backing file holds {host}, guest wrote {want}")
        print(f"host: backing file bytes match the guest's write ({host[:16]}...)")


def spc4_sg_persist_register_reserve_release_unregister(s):
    """SPC-4 5.13 with sg_persist from one initiator: capabilities, register,
    read keys, reserve type 5, read reservation and full status, release,
    unregister."""
    s.start_targetd()
    rc, _ = s.run_vm("persist_basic.sh")
    check(rc == 0, f"guest script failed ({rc})")


def spc4_two_initiators_fence_preempt_and_abort(s):
    """Two initiator names in one VM (two iscsiadm ifaces), the fence_scsi
    sequence with sg_persist: an unregistered initiator conflicts on write under
    a type 5 reservation, REGISTER AND IGNORE EXISTING KEY lets it write, PREEMPT
    moves the reservation (the preempted node sees the unit attention, then
    conflicts), PREEMPT AND ABORT fences node2 the same way while its reads still
    work; CLEAR frees the LU."""
    s.start_targetd()
    rc, _ = s.run_vm("persist_fence.sh", initiator2=NODE2)
    check(rc == 0, f"guest script failed ({rc})")


def spc4_aptpl_reservation_survives_target_restart(s):
    """SPC-4 5.13.5 APTPL: the reservation is made with APTPL=1; targetd is killed
    and restarted while the VM stays up; the sessions recover and sg_persist shows
    the same keys, holder and type (PRgeneration 0: a power on), and a newcomer
    that never registered conflicts on write before anyone re-registers."""
    s.start_targetd()

    def on_host(action):
        if action == "restart-target":
            t0 = time.monotonic()
            s.restart_targetd()
            s.timings["restart_s"] = round(time.monotonic() - t0, 2)

    rc, _ = s.run_vm("persist_aptpl_restart.sh", initiator2=NODE2, on_host=on_host,
                     env=[f"INITIATOR3={NODE3}"])
    check(rc == 0, f"guest script failed ({rc})")


CHAP = {"CHAP_USER": "node1-user", "CHAP_SECRET": "targetd-chap-secret-1",
        "MUTUAL_USER": "targetd-user", "MUTUAL_SECRET": "targetd-mutual-secret-2"}


def rfc7143_12_1_3_open_iscsi_mutual_chap(s):
    """open-iscsi's CHAP against targetd's (RFC 7143 12.1.3): a wrong secret is
    refused with an authentication failure, a wrong mutual secret is refused by
    the initiator, the right pair logs in and moves data."""
    s.target_extra = [f"chap_user = {CHAP['CHAP_USER']}", f"chap_secret = {CHAP['CHAP_SECRET']}",
                      f"mutual_user = {CHAP['MUTUAL_USER']}",
                      f"mutual_secret = {CHAP['MUTUAL_SECRET']}"]
    s.start_targetd()
    rc, _ = s.run_vm("chap.sh", env=[f"{k}={v}" for k, v in CHAP.items()])
    check(rc == 0, f"guest script failed ({rc})")


def integrity_job(s, stalls=0):
    """integrity_restart.sh with the host's side of its requests: freeze the VM
    for 4 s at each "stall-K" (STALLS=stalls), SIGKILL and restart targetd at
    "restart-target". Checks that the script passed, that the host served every
    request, and that the backing file holds the guest's bytes; when the guest
    found a differing chunk, first prints the backing file's checksum of it
    (was the write lost, or only the read wrong?). Prints how each connection
    ended, and returns those lines."""
    s.start_targetd()

    def on_host(action):
        t0 = time.monotonic()
        if action.startswith("stall-"):
            s.stall_vm(4)
        elif action == "restart-target":
            s.restart_targetd()
        else:
            return
        key = "restart_s" if action == "restart-target" else action.replace("-", "_") + "_s"
        s.timings[key] = round(time.monotonic() - t0, 2)

    rc, out = s.run_vm("integrity_restart.sh", on_host=on_host, timeout=400,
                       env=[f"STALLS={stalls}"])
    r = results(out)
    if rc != 0 and "bad_chunk_mib" in r:
        mib = int(r["bad_chunk_mib"])
        print(f"host: backing file sha256 of MiB {mib}: {sha256_range(s.lu, mib << 20, 1 << 20)}")
    check(rc == 0, f"guest script failed ({rc})")
    want = {"restart_s"} | {f"stall_{k}_s" for k in range(1, stalls + 1)}
    check(want <= set(s.timings), f"the host served {sorted(s.timings)}, want {sorted(want)}")
    host = sha256_range(s.lu, int(r["offset_mib"]) << 20, int(r["length_mib"]) << 20)
    check(host == r["sha256"], f"backing file holds {host}, guest wrote {r['sha256']}")
    print(f"host: backing file bytes match the guest's job ({host[:16]}...)")
    closed = [ln for t in s.killed + [s.targetd] for ln in t.stderr().splitlines()
              if "connection closed" in ln]
    for ln in closed:
        print(f"host: {ln}")
    return closed


def sbc4_data_integrity_across_target_restart(s):
    """Issue 7 scenario 6: a verified O_DIRECT write/read job in the guest while
    targetd is killed and restarted once; no error, no corruption, and the
    backing file holds what the guest wrote."""
    integrity_job(s)


def rfc7143_11_19_connections_dropped_under_io_no_corruption(s):
    """The integrity job of the scenario above, with the target dropping the
    connection under it: twice while chunks are being written, the host freezes
    the VM for 4 s, so targetd's NOP-In ping (nop_interval 1 s, nop_timeout 1 s)
    goes unanswered and it closes the connection (RFC 7143 11.19); open-iscsi
    reinstates the session (RFC 7143 6.3.5) and retries what was in flight, and
    the SIGKILL restart follows as before. No error, every chunk equal, the
    backing file holds the guest's bytes, and targetd's log shows the drops."""
    s.nop = ("1s", "1s")
    drops = [ln for ln in integrity_job(s, stalls=2) if "NOP-In ping timed out" in ln]
    check(len(drops) >= 2, f"targetd dropped {len(drops)} connections by NOP timeout, want >= 2")
    print(f"host: {len(drops)} connections dropped by NOP timeout; backing file matches")


def spc4_fence_scsi_two_nodes_on_off_status(s):
    """Debian's fence_scsi (issue 7 scenario 5): nodes A and B unfence, A fences
    B, B's writes conflict and its status is OFF, B unfences again."""
    s.start_targetd()
    rc, _ = s.run_vm("fence_scsi.sh", initiator2=NODE2, fence=True, timeout=400)
    check(rc == 0, f"guest script failed ({rc})")


TESTS = {f.__name__: f for f in [
    rfc7143_discovery_login_sbc4_direct_io_round_trip,
    spc4_sg_persist_register_reserve_release_unregister,
    spc4_two_initiators_fence_preempt_and_abort,
    spc4_aptpl_reservation_survives_target_restart,
    rfc7143_12_1_3_open_iscsi_mutual_chap,
    spc4_fence_scsi_two_nodes_on_off_status,
    sbc4_data_integrity_across_target_restart,
    rfc7143_11_19_connections_dropped_under_io_no_corruption,
]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targetd", required=True)
    ap.add_argument("--test", required=True, choices=sorted(TESTS))
    ap.add_argument("--cache", default=os.environ.get("TARGETD_VM_CACHE"))
    ap.add_argument("--vm-timeout", type=int, default=150)
    args = ap.parse_args()

    t0 = time.monotonic()
    try:
        with th.Cleanup() as cleanup:
            s = Scenario(args, cleanup)
            try:
                TESTS[args.test](s)
            except th.HarnessError:
                for n, old in enumerate(s.killed):
                    sys.stdout.write(f"---- stderr of targetd killed by restart {n + 1} ----\n"
                                     + old.stderr())
                if s.targetd:
                    sys.stdout.write("---- targetd stderr ----\n" + s.targetd.stderr())
                raise
            if s.targetd:
                s.targetd.stop()
    except th.HarnessError as e:
        if "SKIP" in str(e):
            print(e)
            return SKIP
        print(f"FAIL {args.test}: {e}")
        return 1
    except VmSkip as e:
        print(f"SKIP {args.test}: {e}")
        return SKIP
    s.timings["total_s"] = round(time.monotonic() - t0, 1)
    print("TIMING " + args.test + " " + " ".join(f"{k}={v}" for k, v in s.timings.items()))
    print(f"PASS {args.test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
