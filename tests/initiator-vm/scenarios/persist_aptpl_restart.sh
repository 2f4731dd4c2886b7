# SPDX-License-Identifier: MIT
# Scenario 4: persistent reservations made with APTPL=1 survive a target
# crash and restart while the initiator stays up (SPC-4 5.13.5: with APTPL
# the registrations and the reservation persist through a power loss; a
# restart of targetd is a power on). The sequence: both nodes REGISTER with
# APTPL, node2 RESERVEs type 5, node1 PREEMPT AND ABORTs node2 (takes the
# reservation), node2 registers again and node1 REGISTER AND MOVEs the
# reservation to node2's nexus. Then the host kills targetd (SIGKILL) and
# starts it again on the same port; open-iscsi recovers the sessions and
# sg_persist shows the same keys, holder and type.
# shellcheck source=../guest/lib.sh
. ./lib.sh

K1=0xa1a1000000000001
K2=0xb2b2000000000002
K3=0xc3c3000000000003

make_iface node1 "$INITIATOR"
make_iface node2 "$INITIATOR2"
# Fail over fast: replacement timeout bounds how long I/O waits for the
# session to come back (open-iscsi README, "Timeouts").
set_iscsid_conf node.session.timeo.replacement_timeout 60
discover node1 node2
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
d1=$(disk_of "$INITIATOR") || fail "no disk for $INITIATOR"
d2=$(disk_of "$INITIATOR2") || fail "no disk for $INITIATOR2"
step "node1 $d1, node2 $d2"

step "REGISTER with APTPL=1 from both nodes (SPC-4 5.13.7, 6.16.3)"
must sg_persist --out --register --param-sark=$K1 --param-aptpl "$d1"
must sg_persist --out --register --param-sark=$K2 --param-aptpl "$d2"
must sg_persist --in --report-capabilities "$d1"
expect_out "Persist Through Power Loss Active\(PTPL_A\): 1"

step "node2 RESERVEs type 5 (SPC-4 5.13.9)"
must sg_persist --out --reserve --param-rk=$K2 --prout-type=5 "$d2"

step "node1 PREEMPT AND ABORT of K2 (SPC-4 5.13.11.2.6)"
must sg_persist --out --preempt-abort --param-rk=$K1 --param-sark=$K2 --prout-type=5 "$d1"
must sg_persist --in --read-reservation "$d1"
expect_out "Key=$K1"
run sg_turs "$d2" # consume REGISTRATIONS PREEMPTED

step "node2 registers K3; node1 REGISTER AND MOVE to node2's nexus (SPC-4 5.13.8)"
must sg_persist --out --register --param-sark=$K3 --param-aptpl "$d2"
must sg_persist --in --read-full-status "$d2"
tid=$(grep -o "$INITIATOR2,i,0x[0-9a-fA-F]*" "$OUT" | head -1)
[ -n "$tid" ] || fail "no TransportID for $INITIATOR2 in READ FULL STATUS"
rtp=$(sed -n 's/.*Relative port address: \(0x[0-9a-f]*\).*/\1/p' "$OUT" | head -1)
must sg_persist --out --register-move --param-rk=$K1 --param-sark=$K3 --prout-type=5 \
	--param-aptpl --relative-target-port="${rtp:-1}" --transport-id="$tid" "$d1"

expect_state() { # DEV: keys K1 and K3, K3 (node2) holds type 5, APTPL active
	must sg_persist --in --read-keys "$1"
	expect_out "2 registered reservation keys follow"
	expect_out "^ *$K1\$"
	expect_out "^ *$K3\$"
	must sg_persist --in --read-reservation "$1"
	expect_out "Key=$K3"
	expect_out "scope: LU_SCOPE, +type: Write Exclusive, registrants only"
	must sg_persist --in --read-full-status "$1"
	# the holder is node2's nexus
	awk '/Key=/ { k = $0 } /Reservation holder/ { print k }' "$OUT" | grep -q "$K3" ||
		fail "K3 is not the reservation holder"
	expect_out "$INITIATOR2,i,0x"
	must sg_persist --in --report-capabilities "$1"
	expect_out "Persist Through Power Loss Active\(PTPL_A\): 1"
}
step "state before the restart"
expect_state "$d1"

before=$(portal_conns | tr '\n' ' ')
[ -n "$before" ] || fail "no connections to the portal?"
echo "connections before: $before"
step "asking the host to kill and restart targetd"
t0=$(uptime_s)
host_action restart-target

# Recovered when none of the old connections is left and two new ones are
# established (two sessions, one connection each).
wait_reconnect "$before" 2 90 || fail "sessions did not recover in 90 s (now: $now)"
t1=$(uptime_s)
echo "connections after: $now"
echo "RESULT recovery_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')"
iscsiadm -m session

step "after the restart: the first command may report the power on (29/00)"
# SPC-4 6.39 / SAM-5: a unit attention per I_T nexus; consume it.
run sg_turs "$d1"
run sg_turs "$d2"
must sg_turs "$d1"
must sg_turs "$d2"
step "PRgeneration starts from 0 again: a restart is a power on (SPC-4 6.15.2)"
must sg_persist --in --read-keys "$d1"
expect_out "PR generation=0x0,"
step "same keys, holder and type, still APTPL (SPC-4 5.13.5)"
expect_state "$d1"
expect_state "$d2"

step "a newcomer that never registered is held off by the restored reservation"
make_iface node3 "$INITIATOR3"
# a static node record (a discovery through node3 alone would try to drop
# the other ifaces' records)
must iscsiadm -m node -o new -T "$TARGET" -p "$PORTAL" -I node3
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" -I node3 --login
d3=$(disk_of "$INITIATOR3") || fail "no disk for $INITIATOR3"
run sg_turs "$d3"
dd if=/dev/urandom of=/tmp/blk3 bs=512 count=1 2>/dev/null
if run sg_raw -s 512 -i /tmp/blk3 "$d3" 2a 00 00 00 00 42 00 00 01 00; then
	fail "unregistered node3 could write under the restored type 5 reservation"
fi
expect_out "Reservation Conflict"
must sg_raw -r 512 -o /tmp/rd3 "$d3" 28 00 00 00 00 42 00 00 01 00
# with APTPL=1: the last REGISTER's APTPL bit decides for the LU (SPC-4 5.13.5.1)
must sg_persist --out --register --param-sark=0xd4 --param-aptpl "$d3"
run sg_persist --out --reserve --param-rk=0xd4 --prout-type=5 "$d3"
[ $rc -eq 24 ] || fail "node3 RESERVE while node2 holds: exit $rc, want 24 (SPC-4 5.13.9)"
must sg_persist --out --register --param-rk=0xd4 --param-sark=0 --param-aptpl "$d3"
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" -I node3 --logout

step "the reservation is enforced: both registered, both may write (type 5)"
dd if=/dev/urandom of=/tmp/blk bs=512 count=1 2>/dev/null
must sg_raw -s 512 -i /tmp/blk "$d1" 2a 00 00 00 00 40 00 00 01 00
must sg_raw -s 512 -i /tmp/blk "$d2" 2a 00 00 00 00 41 00 00 01 00

step "clean up: CLEAR (APTPL state file goes with it)"
must sg_persist --out --clear --param-rk=$K3 "$d2"
run sg_turs "$d1" # RESERVATIONS PREEMPTED for the other registrant (SPC-4 5.13.11.2.7)
must sg_persist --in --read-keys "$d1"
expect_out "there are NO registered reservation keys"
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
step "done"
