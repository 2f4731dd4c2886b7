# SPDX-License-Identifier: MIT
# Scenario 1: discovery through the advertised portal, login, sg_inq,
# sg_readcap, O_DIRECT write + read back with checksums, logout.
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
step "done"
