#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Smoke tests of the benchmark instruments (issue 8): each runs for a second
or two against a real targetd on loopback, so that CI notices a benchmark that
no longer builds, runs, parses its arguments or reports numbers. They measure
nothing; the numbers are in docs/performance.md (tests/bench/compare.sh).

One ctest per function, label "bench"; exit 77 = skipped.
"""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from targetd_harness import Skip, Targetd, expect, run_tool, test_main  # noqa: E402

IQN = "iqn.2026-12.io.targetd.bench:smoke"
HERE = os.path.dirname(os.path.abspath(__file__))


class Ctx:
    def __init__(self, args, cleanup):
        self.args = args
        self.cleanup = cleanup


def start_mem_target(a, cleanup):
    return Targetd(a.targetd, ["-f", "--listen", "127.0.0.1:0", "--export", f"{IQN}=mem:64M"],
                   cleanup).start()


def bench_json(a, url, *extra):
    p = run_tool([a.bench, "--url", url, "--time", "1", "--size", "16M", "--json", *extra],
                 timeout=60)
    return json.loads(p.stdout)


def bench_randrw_verify_reports_iops_latency_and_target_cpu(c):
    """targetd-bench against targetd: 70/30 verified random I/O at QD8 on two
    sessions, with and without --cork; every field compare.sh reads is there."""
    a, cleanup = c.args, c.cleanup
    t = start_mem_target(a, cleanup)
    for cork in ([], ["--cork"]):
        j = bench_json(a, t.url(IQN, 0), "--rw", "randrw", "--mix", "70", "--qd", "8",
                       "--sessions", "2", "--verify", "--pid", str(t.proc.pid), *cork)
        expect(j["errors"] == 0 and j["verify_errors"] == 0, f"errors in {j}")
        expect(j["ios"] > 100 and j["iops"] > 0 and j["mbps"] > 0, f"no I/O in {j}")
        expect(j["cork"] == bool(cork), f"cork not reported: {j}")
        expect(j["target_cpu_us_per_io"] > 0, f"no target CPU in {j}")
        for d in ("read", "write"):
            lat = j[d]["lat_us"]
            expect(0 < lat["p50"] <= lat["p99"] <= lat["max"], f"{d} latency {lat}")
    t.stop()
    t.assert_clean()


def bench_bad_arguments_print_usage_and_exit_2(c):
    """A bad option, a bad size and a missing --url each get the usage text."""
    a = c.args
    for argv in (["--url", "iscsi://127.0.0.1/x/0", "--bogus"],
                 ["--url", "iscsi://127.0.0.1/x/0", "--bs", "3k7"],
                 ["--qd", "4"]):
        p = run_tool([a.bench, *argv], check=False)
        expect(p.returncode == 2, f"{argv}: exit {p.returncode}, want 2\n{p.stderr}")
        expect("usage:" in p.stderr, f"{argv}: no usage text\n{p.stderr}")


def floor_tools_report_rates(c):
    """tcp-floor (QD1) and tcp-depth (QD32, both modes and --one-send) run and
    print sane JSON: the reference lines of compare.sh."""
    a = c.args
    p = run_tool([a.tcp_floor, "--mode", "write", "--ios", "2000", "--warmup", "200", "--json"])
    j = json.loads(p.stdout)
    expect(j["rtt_per_s"] > 0 and 0 < j["p50_us"] <= j["p99_us"], f"tcp-floor: {j}")
    for mode in (["read"], ["write"], ["write", "--one-send"]):
        p = run_tool([a.tcp_depth, "--mode", *mode, "--qd", "32", "--time", "0.5", "--ramp",
                      "0.1", "--json"])
        j = json.loads(p.stdout)
        expect(j["rt_per_s"] > 0 and j["client_cpu_us_per_rt"] > 0, f"tcp-depth {mode}: {j}")
    p = run_tool([a.tcp_depth, "--qd", "0"], check=False)
    expect(p.returncode == 2 and "usage:" in p.stderr, f"tcp-depth --qd 0: {p.returncode}")


def compare_quick_mem_against_tgt_prints_full_table(c):
    """compare.sh end to end: targetd and Debian's tgtd side by side on the
    memory LU, one repetition of one-second runs; every row of the table has
    numbers for both columns and no run reported an I/O error."""
    a = c.args
    if os.geteuid() != 0:
        raise Skip("compare.sh needs root")
    if not all(shutil.which(p) for p in ("tgtd", "jq", "ss")):
        raise Skip("tgt, jq or ss (iproute2) not installed: scripts/install-deps.sh")
    p = run_tool(["bash", os.path.join(HERE, "compare.sh"), "--quick", "--lus", "mem",
                  "--time", "1", "--ramp", "0", "--size", "64M", "--no-ref", "--targetd", a.targetd,
                  "--bench", a.bench], timeout=300)
    rows = [ln for ln in p.stdout.splitlines() if ln.startswith("| mem |")]
    expect(len(rows) == 8, f"want 8 mem rows, got {len(rows)}\n{p.stdout}\n{p.stderr}")
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        expect(re.fullmatch(r"[0-9]+", cells[3]) and re.fullmatch(r"[0-9]+", cells[4]),
               f"row without IOPS for both targets: {r}")
    expect(re.search(r"I/O errors across all runs: 0; runs recorded: 16 of 16", p.stdout),
           f"errors or missing runs:\n{p.stdout}\n{p.stderr}")


TESTS = {f.__name__: f for f in [
    bench_randrw_verify_reports_iops_latency_and_target_cpu,
    bench_bad_arguments_print_usage_and_exit_2,
    floor_tools_report_rates,
    compare_quick_mem_against_tgt_prints_full_table,
]}


def main():
    return test_main(TESTS, ["--targetd", "--bench", "--tcp-floor", "--tcp-depth"], Ctx)


if __name__ == "__main__":
    sys.exit(main())
