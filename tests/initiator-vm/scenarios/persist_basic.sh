# SPDX-License-Identifier: MIT
# Scenario 2: sg_persist from one initiator (SPC-4 5.13, 6.15 PERSISTENT
# RESERVE IN, 6.16 PERSISTENT RESERVE OUT).
# shellcheck source=../guest/lib.sh
. ./lib.sh

K=0x1234abcd
discover
login
dev=$(disk_of "$INITIATOR") || fail "no disk after login"
step "LU 0 is $dev"

step "REPORT CAPABILITIES (SPC-4 6.15.4)"
must sg_persist --in --report-capabilities "$dev"
expect_out "Persist Through Power Loss Capable\(PTPL_C\): 1"
expect_out "Persist Through Power Loss Active\(PTPL_A\): 0"
expect_out "Write Exclusive, registrants only: 1"
expect_out "Exclusive Access, all registrants: 1"

step "no keys, no reservation yet"
must sg_persist --in --read-keys "$dev"
expect_out "there are NO registered reservation keys"
must sg_persist --in --read-reservation "$dev"
expect_out "there is NO reservation held"

step "RESERVE with an unregistered key: RESERVATION CONFLICT (SPC-4 5.13.9)"
run sg_persist --out --reserve --param-rk=$K --prout-type=5 "$dev"
[ $rc -eq 24 ] || fail "reserve unregistered: exit $rc, want 24 (reservation conflict)"

step "REGISTER (SPC-4 5.13.7)"
must sg_persist --out --register --param-sark=$K "$dev"
must sg_persist --in --read-keys "$dev"
expect_out "1 registered reservation key follows"
expect_out "^ *$K\$"

step "RESERVE type 5, Write Exclusive - Registrants Only (SPC-4 5.13.9)"
must sg_persist --out --reserve --param-rk=$K --prout-type=5 "$dev"
must sg_persist --in --read-reservation "$dev"
expect_out "Key=$K"
expect_out "scope: LU_SCOPE, +type: Write Exclusive, registrants only"

step "READ FULL STATUS (SPC-4 6.15.5)"
must sg_persist --in --read-full-status "$dev"
expect_out "Key=$K"
expect_out "<< Reservation holder >>"
expect_out "scope: LU_SCOPE, +type: Write Exclusive, registrants only"
expect_out "iSCSI world wide unique port id: $INITIATOR,i,0x"

step "the holder writes and reads"
dd if=/dev/urandom of=/tmp/blk bs=4k count=1 2>/dev/null
must dd if=/tmp/blk of="$dev" bs=4k seek=1 oflag=direct
must dd if="$dev" of=/tmp/blk2 bs=4k skip=1 count=1 iflag=direct
cmp /tmp/blk /tmp/blk2 || fail "read back differs"

step "RELEASE with the wrong type: INVALID RELEASE OF PERSISTENT RESERVATION (SPC-4 5.13.11.2.2)"
run sg_persist --out --release --param-rk=$K --prout-type=1 "$dev"
[ $rc -ne 0 ] || fail "release with wrong type succeeded"
must sg_persist --in --read-reservation "$dev"
expect_out "Key=$K"

step "RELEASE"
must sg_persist --out --release --param-rk=$K --prout-type=5 "$dev"
must sg_persist --in --read-reservation "$dev"
expect_out "there is NO reservation held"
must sg_persist --in --read-keys "$dev"
expect_out "^ *$K\$"

step "unregister: REGISTER with service action key 0 (SPC-4 5.13.11.2.3)"
must sg_persist --out --register --param-rk=$K --param-sark=0 "$dev"
must sg_persist --in --read-keys "$dev"
expect_out "there are NO registered reservation keys"

logout
step "done"
