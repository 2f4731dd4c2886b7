#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Self-check of the runner's known-failure verification (no target needed).

A known test-suite failure may only ever match the exact recorded answer:
another sense code, a second failed command, a second failed assertion, or
another command must all be rejected, or the entry could hide a regression.
"""

import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("runner", os.path.join(HERE, "run-iscsi-test-cu.py"))
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)

OK_LINE = ("    [FAILED] EXTENDEDCOPY command failed with status 2 / sense key "
           "ILLEGAL_REQUEST(0x05) / ASCQ INVALID_FIELD_IN_PARAMETER_LIST(0x2600)")
ASSERT = "    1. test_extendedcopy_validate_tgt_descr.c:69  - CU_ASSERT_EQUAL(_r,0)"


def output(*lines):
    return "\n".join(["Suite: ExtendedCopy", "  Test: DescrType ...passed",
                      "  Test: ValidTgtDescr ..." + lines[0]] + list(lines[1:]) +
                     ["  Test: ValidSegDescr ...passed", "", "Run Summary:"])


class KnownFailure(unittest.TestCase):
    def check(self, out):
        return runner.check_known_failure(out, "ExtendedCopy", "ValidTgtDescr")

    def test_recorded_answer_accepted(self):
        self.assertIsNone(self.check(output(OK_LINE, "FAILED", ASSERT)))

    def test_other_sense_code_rejected(self):
        line = OK_LINE.replace("INVALID_FIELD_IN_PARAMETER_LIST(0x2600)",
                               "INVALID_FIELD_IN_CDB(0x2400)")
        self.assertIn("not the recorded answer", self.check(output(line, "FAILED", ASSERT)))

    def test_other_command_rejected(self):
        line = OK_LINE.replace("EXTENDEDCOPY", "RECEIVE_COPY_RESULTS")
        self.assertIsNotNone(self.check(output(line, "FAILED", ASSERT)))

    def test_second_failed_command_rejected(self):
        self.assertIn("2 failed commands",
                      self.check(output(OK_LINE, OK_LINE, "FAILED", ASSERT)))

    def test_second_failed_assertion_rejected(self):
        extra = "    2. test_extendedcopy_validate_tgt_descr.c:90  - CU_ASSERT_EQUAL(_r,0)"
        self.assertIn("2 CUnit assertions",
                      self.check(output(OK_LINE, "FAILED", ASSERT, extra)))

    def test_failure_without_the_command_rejected(self):
        self.assertIn("0 failed commands", self.check(output("", "FAILED", ASSERT)))


if __name__ == "__main__":
    unittest.main()
