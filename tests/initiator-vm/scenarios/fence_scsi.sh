# SPDX-License-Identifier: MIT
# Scenario 5: Debian's fence_scsi (fence-agents) against targetd. Two cluster
# nodes A and B are two initiator identities in one VM (iscsiadm ifaces); each
# runs fence_scsi in its own mount namespace, so each has its own
# /var/run/cluster.key like a real node. Both unfence ("on": REGISTER AND
# IGNORE EXISTING KEY, RESERVE type 5 if no reservation), A fences B ("off":
# PREEMPT AND ABORT of B's key), B's writes fail with RESERVATION CONFLICT,
# "status" says OFF for B and ON for A, B unfences again and writes.
# shellcheck source=../guest/lib.sh
. ./lib.sh

KA=a1a1
KB=b2b2
dd if=/dev/urandom of=/tmp/blk bs=512 count=1 2>/dev/null
write10() { run sg_raw -s 512 -i /tmp/blk "$1" 2a 00 00 00 00 40 00 00 01 00; }
read10() { run sg_raw -r 512 -o /tmp/rd "$1" 28 00 00 00 00 40 00 00 01 00; }

# on_node NAME CMD...: CMD in a mount namespace with /run private to NAME.
on_node() {
	n=$1
	shift
	mkdir -p "/tmp/run-$n"
	unshare -m sh -c 'mount --bind "$0" /run && exec "$@"' "/tmp/run-$n" "$@"
}
fence() { # NODE DEV KEY ACTION: fence_scsi as NODE, exit status in $rc
	run on_node "$1" fence_scsi --devices="$2" --key="$3" --action="$4"
}

make_iface nodeA "$INITIATOR"
make_iface nodeB "$INITIATOR2"
discover nodeA nodeB
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
dA=$(disk_of "$INITIATOR") || fail "no disk for node A"
dB=$(disk_of "$INITIATOR2") || fail "no disk for node B"
step "node A $dA, node B $dB"
must fence_scsi --version

step "both nodes unfence (on)"
t0=$(uptime_s)
fence A "$dA" $KA on || fail "fence_scsi on (A) exited $rc"
t1=$(uptime_s)
echo "RESULT fence_scsi_on_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')"
fence B "$dB" $KB on || fail "fence_scsi on (B) exited $rc"
must sg_persist --in --read-keys "$dA"
expect_out "2 registered reservation keys follow"
expect_out "0x$KA"
expect_out "0x$KB"
must sg_persist --in --read-reservation "$dA"
expect_out "Key=0x$KA"
expect_out "type: Write Exclusive, registrants only"
fence A "$dA" $KA status || fail "status A: exit $rc"
expect_out "Status: ON"
fence B "$dB" $KB status || fail "status B: exit $rc"
expect_out "Status: ON"
write10 "$dB" || fail "unfenced node B cannot write"

step "node A fences node B (off)"
fence A "$dA" $KB off || fail "fence_scsi off (B, from A) exited $rc"
must sg_persist --in --read-keys "$dA"
expect_out "1 registered reservation key follows"
expect_no_out "0x$KB"

step "node B is fenced: status OFF, writes conflict, reads work"
fence B "$dB" $KB status
# fence agents: status exit 0 = on, 2 = off (fencing.py EC_STATUS)
[ $rc -eq 2 ] || fail "status of fenced B: exit $rc, want 2"
expect_out "Status: OFF"
run sg_turs "$dB" # REGISTRATIONS PREEMPTED, if fence_scsi's own TURs left it
write10 "$dB" && fail "fenced node B could write"
expect_out "Reservation Conflict"
read10 "$dB" || fail "fenced node B cannot read"
if run dd if=/tmp/blk of="$dB" bs=512 seek=64 count=1 oflag=direct; then
	fail "dd from fenced node B succeeded"
fi
fence A "$dA" $KA status || fail "status A after fencing B: exit $rc"
expect_out "Status: ON"
write10 "$dA" || fail "node A cannot write"

step "node B unfences again (on) and writes"
fence B "$dB" $KB on || fail "fence_scsi on (B again) exited $rc"
fence B "$dB" $KB status || fail "status B: exit $rc"
expect_out "Status: ON"
write10 "$dB" || fail "node B cannot write after unfencing"

step "clean up"
must sg_persist --out --clear --param-rk=0x$KA "$dA"
must iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
step "done"
