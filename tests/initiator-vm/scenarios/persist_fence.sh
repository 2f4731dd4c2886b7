# SPDX-License-Identifier: MIT
# Scenario 3: two initiator identities in one VM (iscsiadm ifaces node1 and
# node2 with their own initiator names, so two I_T nexuses) run the fence_scsi
# sequence with sg_persist. fence_scsi registers each node's key with REGISTER
# AND IGNORE EXISTING KEY, reserves type 5 (Write Exclusive - Registrants Only)
# and fences a node with PREEMPT AND ABORT of its key. On the way, node2
# PREEMPTs node1 (the reservation moves) and node1 takes it back.
# shellcheck source=../guest/lib.sh
. ./lib.sh

K1=0x1a1a0001
K2=0x2b2b0002

# 512-byte block for raw writes (sg_raw shows the SCSI status itself).
dd if=/dev/urandom of=/tmp/blk bs=512 count=1 2>/dev/null
# WRITE(10) / READ(10) of LBA 64, one block (SBC-4 5.40, 5.16)
write10() { run sg_raw -s 512 -i /tmp/blk "$1" 2a 00 00 00 00 40 00 00 01 00; }
read10() { run sg_raw -r 512 -o /tmp/rd "$1" 28 00 00 00 00 40 00 00 01 00; }

make_iface node1 "$INITIATOR"
make_iface node2 "$INITIATOR2"
step "discovery and login through both ifaces"
discover node1 node2
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
d1=$(disk_of "$INITIATOR") || fail "no disk for $INITIATOR"
d2=$(disk_of "$INITIATOR2") || fail "no disk for $INITIATOR2"
step "node1 sees $d1, node2 sees $d2"
[ "$d1" != "$d2" ] || fail "one disk for both sessions"
must sg_inq -p 0x80 "$d1"
s1=$(grep -o 'Unit serial number: .*' "$OUT")
must sg_inq -p 0x80 "$d2"
s2=$(grep -o 'Unit serial number: .*' "$OUT")
[ -n "$s1" ] && [ "$s1" = "$s2" ] || fail "the two disks are not the same LU ($s1 / $s2)"

step "node1: REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7), RESERVE type 5"
must sg_persist --out --register-ignore --param-sark=$K1 "$d1"
must sg_persist --out --reserve --param-rk=$K1 --prout-type=5 "$d1"

step "node2 unregistered: WRITE gets RESERVATION CONFLICT, READ works (SPC-4 5.13.1 table 65)"
write10 "$d2" && fail "unregistered node2 could write under a type 5 reservation"
expect_out "Reservation Conflict"
if run dd if=/tmp/blk of="$d2" bs=512 seek=64 count=1 oflag=direct; then
	fail "dd O_DIRECT write from unregistered node2 succeeded"
fi
# Linux maps RESERVATION CONFLICT to BLK_STS_NEXUS, EBADE for the writer.
expect_out "Invalid exchange"
read10 "$d2" || fail "node2 READ failed under type 5"

step "node2: REGISTER AND IGNORE EXISTING KEY; a registrant may write under type 5"
must sg_persist --out --register-ignore --param-sark=$K2 "$d2"
must sg_persist --in --read-keys "$d1"
expect_out "2 registered reservation keys follow"
expect_out "^ *$K1\$"
expect_out "^ *$K2\$"
write10 "$d2" || fail "registered node2 WRITE failed under type 5"
must sg_persist --in --read-reservation "$d2"
expect_out "Key=$K1"
expect_out "type: Write Exclusive, registrants only"

step "node2 PREEMPTs node1's key: the reservation moves to node2 (SPC-4 5.13.11.2.4.3)"
must sg_persist --out --preempt --param-rk=$K2 --param-sark=$K1 --prout-type=5 "$d2"
must sg_persist --in --read-reservation "$d2"
expect_out "Key=$K2"
expect_out "type: Write Exclusive, registrants only"
must sg_persist --in --read-keys "$d2"
expect_out "1 registered reservation key follows"
expect_no_out "$K1"
step "node1 sees REGISTRATIONS PREEMPTED, then RESERVATION CONFLICT on WRITE"
run sg_turs -v "$d1"
expect_out "[Uu]nit [Aa]ttention"
expect_out "[Rr]egistrations preempted"
write10 "$d1" && fail "preempted node1 could write"
expect_out "Reservation Conflict"
read10 "$d1" || fail "preempted node1 READ failed"
step "node1 registers again and takes the reservation back (fence_scsi's way)"
must sg_persist --out --register-ignore --param-sark=$K1 "$d1"
must sg_persist --out --preempt-abort --param-rk=$K1 --param-sark=$K2 --prout-type=5 "$d1"
must sg_persist --in --read-reservation "$d1"
expect_out "Key=$K1"
run sg_turs "$d2" # REGISTRATIONS PREEMPTED from the PREEMPT AND ABORT above
must sg_persist --out --register-ignore --param-sark=$K2 "$d2"
write10 "$d2" || fail "re-registered node2 WRITE failed under type 5"

step "node1 fences node2: PREEMPT AND ABORT of K2 (SPC-4 5.13.11.2.4, 5.13.11.2.6)"
must sg_persist --out --preempt-abort --param-rk=$K1 --param-sark=$K2 --prout-type=5 "$d1"
must sg_persist --in --read-keys "$d1"
expect_out "1 registered reservation key follows"
expect_out "^ *$K1\$"
expect_no_out "$K2"
must sg_persist --in --read-reservation "$d1"
expect_out "Key=$K1"

step "node2 sees UNIT ATTENTION, REGISTRATIONS PREEMPTED (SPC-4 5.13.11.2.4, 2A/05)"
run sg_turs -v "$d2"
expect_out "[Uu]nit [Aa]ttention"
expect_out "[Rr]egistrations preempted"
step "then RESERVATION CONFLICT on WRITE, READ still works"
write10 "$d2" && fail "preempted node2 could write"
expect_out "Reservation Conflict"
read10 "$d2" || fail "preempted node2 READ failed"
step "node2's own PR OUT with its lost key conflicts (SPC-4 5.13.7)"
run sg_persist --out --reserve --param-rk=$K2 --prout-type=5 "$d2"
[ $rc -eq 24 ] || fail "reserve with a preempted key: exit $rc, want 24"
step "node1 still writes"
write10 "$d1" || fail "holder node1 WRITE failed"

step "CLEAR (SPC-4 5.13.11.2.7): no keys, no reservation, node2 writes again"
must sg_persist --out --clear --param-rk=$K1 "$d1"
must sg_persist --in --read-keys "$d2"
expect_out "there are NO registered reservation keys"
must sg_persist --in --read-reservation "$d2"
expect_out "there is NO reservation held"
# node1 registered at CLEAR time and gets RESERVATIONS CLEARED; node2 was not.
run sg_turs "$d1"
write10 "$d2" || fail "node2 WRITE failed after CLEAR"

step "logout both"
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
[ "$(sessions)" -eq 0 ] || fail "sessions left"
step "done"
