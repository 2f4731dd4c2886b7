#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The harness's valgrind mode checked against a fake daemon (issue 9).

tests/tools/vg_fake_daemon.c speaks targetd's process interface and commits
one memcheck error on purpose when stopped. Under the harness's valgrind mode
(forced on here, whatever TARGETD_VALGRIND says) each error must fail stop()
with the valgrind log, and the clean run must pass: proof that a memcheck
report in a real test cannot go unnoticed. Exit 0 pass, 1 fail, 77 skip (no
valgrind). A failure here is the harness's, not targetd's.

  test_valgrind_selfcheck.py --fake BUILD/tests/integration/vg_fake_daemon
"""

import argparse
import os
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import targetd_harness as h  # noqa: E402

SKIP = 77

# mode -> what the HarnessError must say (None: stop() must succeed)
CASES = {
    "clean": None,
    "leak": "definitely lost",
    "invalid-read": "Invalid read",
    "uninit-write": "uninitialised byte(s)",
    "open-fd": "open at exit",
}


def run_case(fake, mode, want):
    with h.Cleanup() as cleanup:
        t = h.Targetd(fake, [mode], cleanup).start()
        try:
            t.stop()
        except h.HarnessError as e:
            msg = str(e)
            h.expect(want is not None, f"{mode}: a clean run failed:\n{msg}")
            h.expect(want in msg, f"{mode}: the failure does not say {want!r}:\n{msg}")
            h.expect("--- " in msg and "ERROR SUMMARY" in msg,
                     f"{mode}: the failure does not carry the valgrind log:\n{msg}")
            print(f"{mode}: failed as it must ({msg.splitlines()[0]})")
            return
        h.expect(want is None, f"{mode}: memcheck's {want!r} did not fail the run")
        print(f"{mode}: passes")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fake", required=True, help="path of vg_fake_daemon")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("SKIP: valgrind is not installed")
        return SKIP
    h.VALGRIND = True  # the mode under test, forced on
    try:
        for mode, want in CASES.items():
            run_case(args.fake, mode, want)
    except h.HarnessError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("PASS: valgrind_selfcheck")
    return 0


if __name__ == "__main__":
    sys.exit(main())
