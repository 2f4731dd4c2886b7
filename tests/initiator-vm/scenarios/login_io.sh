# SPDX-License-Identifier: MIT
# Scenario 1: discovery through the advertised portal, login, sg_inq,
# sg_readcap, O_DIRECT write + read back with checksums, logout; then a
# second login with CRC32C header and data digests and more I/O.
# shellcheck source=../guest/lib.sh
. ./lib.sh

step "SendTargets discovery at $PORTAL (RFC 7143 appendix C)"
discover
step "login (RFC 7143 6)"
login
dev=$(disk_of "$INITIATOR") || fail "no disk after login"
logged_in
step "LU 0 is $dev"

step "INQUIRY (SPC-4 6.6)"
must sg_inq "$dev"
expect_out "Peripheral device type: disk"
expect_out "Vendor identification: TARGETD"
must sg_inq -p 0x83 "$dev"
expect_out "NAA"
step "READ CAPACITY (SBC-4 5.20)"
must sg_readcap -l "$dev"
expect_out "Number of logical blocks=$LU_BLOCKS"
expect_out "Logical block length=512 bytes"

OFF=4
LEN=8
step "write $LEN MiB at $OFF MiB with O_DIRECT, read back"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$LEN 2>/dev/null
want=$(sha256sum /tmp/pattern | cut -d' ' -f1)
t0=$(uptime_s)
must dd if=/tmp/pattern of="$dev" bs=1M seek=$OFF oflag=direct conv=fsync
t1=$(uptime_s)
echo 3 >/proc/sys/vm/drop_caches
got=$(sha256_of "$dev" $OFF $LEN)
t2=$(uptime_s)
[ "$got" = "$want" ] || fail "read back $got, wrote $want"
echo "read back equal: $got"
# Buffered read as well (the page cache path, after the O_DIRECT write).
got2=$(dd if="$dev" bs=1M skip=$OFF count=$LEN 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got2" = "$want" ] || fail "buffered read back $got2, wrote $want"
# An area never written reads as zeros (sparse backing file).
z=$(dd if="$dev" bs=1M skip=32 count=1 iflag=direct 2>/dev/null | tr -d '\000' | wc -c)
[ "$z" -eq 0 ] || fail "unwritten area is not zero"
echo "RESULT sha256=$want"
echo "RESULT offset_mib=$OFF"
echo "RESULT length_mib=$LEN"
echo "RESULT write_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')"
echo "RESULT read_s=$(awk -v a="$t2" -v b="$t1" 'BEGIN { print a - b }')"

step "logout"
logout
[ "$(sessions)" -eq 0 ] || fail "sessions left after logout"

step "again with HeaderDigest and DataDigest CRC32C (RFC 7143 13.1, 13.2)"
for k in HeaderDigest DataDigest; do
	must iscsiadm -m node -T "$TARGET" -p "$PORTAL" -o update \
		-n "node.conn[0].iscsi.$k" -v CRC32C
done
login
must iscsiadm -m session -P 2
expect_out "HeaderDigest: CRC32C"
expect_out "DataDigest: CRC32C"
dev=$(disk_of "$INITIATOR") || fail "no disk after the digest login"
OFF2=20
LEN2=4
dd if=/dev/urandom of=/tmp/pattern2 bs=1M count=$LEN2 2>/dev/null
want2=$(sha256sum /tmp/pattern2 | cut -d' ' -f1)
must dd if=/tmp/pattern2 of="$dev" bs=1M seek=$OFF2 oflag=direct
got=$(sha256_of "$dev" $OFF2 $LEN2)
[ "$got" = "$want2" ] || fail "digest session: read back $got, wrote $want2"
got=$(sha256_of "$dev" $OFF $LEN)
[ "$got" = "$want" ] || fail "digest session: the first write reads back $got"
echo "RESULT sha256_2=$want2"
echo "RESULT offset2_mib=$OFF2"
echo "RESULT length2_mib=$LEN2"
logout
step "done"
