#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Persistent reservation scenarios against a live targetd (issue 3).

Starts targetd (tests/integration/targetd_harness.py) with a configuration of
two portal groups -- 127.0.0.1 is group 1 (relative target port 1),
127.0.0.2 is group 2 -- one target reachable through both, and one LU, then
runs one scenario of pr_scenarios (C, libiscsi: three initiators with fixed
names and ISIDs). Exit 0 pass, 1 fail, 77 skip.

  run_scenario.py --targetd BUILD/targetd --scenarios BUILD/.../pr_scenarios --test NAME
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import targetd_harness as h  # noqa: E402

TARGET = "iqn.2026-01.test.prtest:pr"
SKIP = 77

# ctest name -> (scenario, kind)
TESTS = {
    "spc4_6_15_5_read_full_status_layout_and_truncation": ("full_status", "plain"),
    "spc4_5_13_8_register_and_move_every_branch": ("register_and_move", "plain"),
    "spc4_6_16_3_spec_i_pt_registers_listed_initiators_all_or_nothing": ("spec_i_pt", "plain"),
    "spc4_6_16_3_all_tg_pt_registers_on_every_target_port": ("all_tg_pt", "plain"),
    "spc4_6_16_3_all_tg_pt_key_usable_through_a_session_on_the_other_port":
        ("all_tg_pt_other_port_session", "plain"),
    "spc4_5_13_8_register_and_move_to_the_same_initiator_port_on_another_target_port":
        ("move_to_other_port_session", "plain"),
    "spc4_6_15_2_prgeneration_after_every_service_action": ("prgeneration", "plain"),
    "spc4_5_13_11_unit_attentions_to_exactly_the_named_nexuses": ("unit_attentions", "plain"),
    "spc4_5_13_1_relogin_keeps_registration_and_reservation": ("relogin", "plain"),
    "spc4_5_13_1_table_65_sbc4_table_13_conflicts_beyond_read_write":
        ("conflict_table", "plain"),
    "fence_scsi_register_ignore_reserve_we_ro_preempt_abort_self_preempt":
        ("fence_scsi", "plain"),
    "spc4_5_13_11_2_6_preempt_and_abort_aborts_only_the_victims_commands":
        ("preempt_abort", "throttled"),
    "spc4_5_13_5_aptpl_state_survives_sigkill_restart": ("aptpl_restart", "restart"),
    "spc4_5_13_5_without_aptpl_restart_forgets_everything": ("aptpl_off_restart", "restart"),
    "spc4_5_13_7_insufficient_registration_resources_at_max_registrants":
        ("insufficient_resources", "maxreg"),
    "spc4_5_13_11_2_6_preempt_and_abort_aborts_write_awaiting_data_out":
        ("preempt_abort_pending_data_out", "plain"),
}

BLKIO = "/sys/fs/cgroup/blkio"
# The victim's 64 KiB READs take about a quarter of a second each at the
# device: long enough to be in flight when the preempt arrives.
THROTTLE_BPS = 256 * 1024


class Skip(Exception):
    pass


def write_conf(d, lu_path, extra_global=""):
    state = os.path.join(d, "state")
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(d, "targetd.conf")
    with open(conf, "w") as f:
        f.write(f"""[global]
state_dir = {state}
{extra_global}
[portal one]
listen = 127.0.0.1:0
group = 1

[portal two]
listen = 127.0.0.2:0
group = 2

[target {TARGET}]
portal_group = 1
portal_group = 2

[lun {TARGET} 0]
path = {lu_path}
serial = PRTEST0
""")
    return conf


def portals(t):
    by_host = {host: port for host, port in t.portals}
    if "127.0.0.1" not in by_host or "127.0.0.2" not in by_host:
        raise h.HarnessError(f"ready line lists {t.portals}, want 127.0.0.1 and 127.0.0.2")
    return [f"127.0.0.1:{by_host['127.0.0.1']}", f"127.0.0.2:{by_host['127.0.0.2']}"]


def run_scenario(args, t, scenario, extra=()):
    p1, p2 = portals(t)
    argv = [args.scenarios, "--portal1", p1, "--portal2", p2, "--target", TARGET] + \
        list(extra) + [scenario]
    p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=150,
                       stdin=subprocess.DEVNULL)
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    if p.returncode != 0:
        raise h.HarnessError(f"{' '.join(argv)} exited {p.returncode}")


class Throttle:
    """A blkio (cgroup v1) child group that limits reads and writes of one
    device for the processes in it -- only the daemon, moved in after it
    started -- so nothing else on the machine is slowed, and a run that is
    killed leaves at most an empty group behind."""

    def __init__(self, cleanup, dev):
        st = os.stat(dev)
        mm = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
        self.path = os.path.join(BLKIO, f"targetd-prtest-{os.getpid()}")
        os.mkdir(self.path)
        # registered before the daemon starts, so it runs after its reap
        cleanup.add(os.rmdir, self.path)
        for kind in ("read", "write"):
            with open(os.path.join(self.path, f"blkio.throttle.{kind}_bps_device"), "w") as f:
                f.write(f"{mm} {THROTTLE_BPS}\n")

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(f"{pid}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targetd", required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--test", required=True, choices=sorted(TESTS))
    args = ap.parse_args()
    scenario, kind = TESTS[args.test]
    try:
        with h.Cleanup() as cleanup:
            d = h.make_tempdir(cleanup, prefix="targetd-pr-")
            lu = "mem:64M"
            if kind == "throttled":
                if not h.loop_devices_available():
                    raise Skip("needs root and loop devices")
                if not os.access(BLKIO, os.W_OK) or not os.path.exists(
                        os.path.join(BLKIO, "blkio.throttle.read_bps_device")):
                    raise Skip("needs the blkio throttle (cgroup v1) to slow the device")
                img = h.sparse_file(os.path.join(
                    h.make_tempdir(cleanup, prefix="targetd-pr-img-", base="/var/tmp"),
                    "lu.img"), 64 << 20)
                lu = h.losetup_attach(cleanup, img)
                throttle = Throttle(cleanup, lu)
            conf = write_conf(d, lu, "max_registrants = 2\n" if kind == "maxreg" else "")
            t = h.Targetd(args.targetd, ["-c", conf], cleanup).start()
            if kind == "throttled":
                throttle.add(t.proc.pid)
            if kind != "restart":
                run_scenario(args, t, scenario)
                t.stop()
            else:
                snap = os.path.join(d, "snapshot.bin")
                run_scenario(args, t, scenario, ["--state", snap, "--phase", "1"])
                # a crash, not a stop: whatever was acknowledged must be on disk
                t.proc.kill()
                t.proc.wait()
                t.assert_clean()
                t2 = h.Targetd(args.targetd, ["-c", conf], cleanup).start()
                run_scenario(args, t2, scenario, ["--state", snap, "--phase", "2"])
                t2.stop()
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    except (h.HarnessError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        return 1
    print(f"PASS: {args.test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
