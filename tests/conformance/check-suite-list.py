#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prove that CI runs every libiscsi test, rather than claim it.

    check-suite-list.py --iscsi-test-cu TOOL --ci "Read10,MultipathIO.Reset,..." \\
        --exclusions tests/conformance/excluded-tests.txt

Reads `iscsi-test-cu --list`. Every test ALL.<Suite>.<Test> must be covered
by a CI entry (a whole suite "Suite", or one test "Suite.Test") or be listed in
the exclusion file with a reason ("Suite.Test  reason..." or "Suite  reason").
The other families (SCSI, iSCSI, LINUX) are views of the same tests for other
transports: each of their tests must also exist under ALL, so ALL covers them.
Also fails on CI entries or exclusions naming no test (stale entries), on a
test both run and excluded, and on an exclusion without a reason.
Exit: 0 pass, 1 fail, 77 skip (tool not installed).
"""

import argparse
import shutil
import subprocess
import sys


def parse_list(text):
    """{family: set of (suite, test)}"""
    fam = {}
    for line in text.split():
        parts = line.strip().split(".")
        if len(parts) == 3:
            fam.setdefault(parts[0], set()).add((parts[1], parts[2]))
    return fam


def covers(entry, suite, test):
    return entry == suite or entry == f"{suite}.{test}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iscsi-test-cu", default="iscsi-test-cu")
    ap.add_argument("--ci", required=True, help="','-separated suites / Suite.Test run in CI")
    ap.add_argument("--exclusions", required=True, help="file: 'Suite[.Test] reason' per line")
    args = ap.parse_args()

    tool = shutil.which(args.iscsi_test_cu)
    if tool is None:
        print("SKIP: iscsi-test-cu not installed (libiscsi-bin)")
        return 77
    p = subprocess.run([tool, "--list"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    fam = parse_list(p.stdout)
    problems = []
    if p.returncode != 0 or "ALL" not in fam:
        print(p.stdout + p.stderr)
        print("FAIL: iscsi-test-cu --list gave no ALL.<Suite>.<Test> entries", file=sys.stderr)
        return 1
    every = fam["ALL"]
    for name, tests in sorted(fam.items()):
        for suite, test in sorted(tests - every):
            problems.append(f"{name}.{suite}.{test} is not in the ALL family")

    ci = [e for e in args.ci.split(",") if e]
    excl = {}
    with open(args.exclusions) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, reason = line.partition(" ")
            if not reason.strip():
                problems.append(f"{args.exclusions}:{n}: {key} has no reason")
            excl[key] = reason.strip()

    for e in ci:
        if not any(covers(e, s, t) for s, t in every):
            problems.append(f"CI entry {e} names no test of iscsi-test-cu --list (stale?)")
    for e in excl:
        if not any(covers(e, s, t) for s, t in every):
            problems.append(f"exclusion {e} names no test of iscsi-test-cu --list (stale?)")

    ran = excluded = 0
    for suite, test in sorted(every):
        in_ci = any(covers(e, suite, test) for e in ci)
        why = [r for e, r in excl.items() if covers(e, suite, test)]
        if in_ci and why:
            problems.append(f"{suite}.{test} is both run in CI and excluded")
        elif in_ci:
            ran += 1
        elif why:
            excluded += 1
            print(f"excluded {suite}.{test}: {why[0]}")
        else:
            problems.append(f"{suite}.{test} is neither run in CI nor excluded with a reason")

    print(f"{len(every)} tests in {len({s for s, _ in every})} suites: {ran} run in CI, "
          f"{excluded} excluded")
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("PASS: every iscsi-test-cu test is run in CI or excluded with a reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
