# SPDX-License-Identifier: MIT
# CHAP with open-iscsi (RFC 7143 12.1.3): the target requires CHAP with
# mutual authentication. A wrong secret is refused (authentication failure,
# iscsiadm exit 24), a wrong mutual secret makes the initiator refuse the
# target, the right pair logs in and moves data.
# shellcheck source=../guest/lib.sh
. ./lib.sh

auth() { # USER SECRET MUTUAL-USER MUTUAL-SECRET
	for kv in authmethod=CHAP username="$1" password="$2" username_in="$3" password_in="$4"; do
		must iscsiadm -m node -T "$TARGET" -p "$PORTAL" -o update \
			-n "node.session.auth.${kv%%=*}" -v "${kv#*=}"
	done
}

discover
step "wrong CHAP secret: refused, AUTHENTICATION FAILURE (RFC 7143 11.13.5 02/01)"
auth "$CHAP_USER" "not-the-secret-0" "$MUTUAL_USER" "$MUTUAL_SECRET"
if run iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login; then
	fail "login with a wrong CHAP secret succeeded"
fi
[ $rc -eq 24 ] || fail "iscsiadm exit $rc, want 24 (authorization failure)"
[ "$(sessions)" -eq 0 ] || fail "a session exists after a refused login"

step "wrong mutual secret: the initiator refuses the target"
auth "$CHAP_USER" "$CHAP_SECRET" "$MUTUAL_USER" "not-the-mutual-0"
if run iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login; then
	fail "login with a wrong mutual secret succeeded"
fi
[ "$(sessions)" -eq 0 ] || fail "a session exists after a refused login"

step "right secrets: mutual CHAP login, I/O, logout"
auth "$CHAP_USER" "$CHAP_SECRET" "$MUTUAL_USER" "$MUTUAL_SECRET"
login
dev=$(disk_of "$INITIATOR") || fail "no disk after the CHAP login"
dd if=/dev/urandom of=/tmp/p bs=64k count=16 2>/dev/null
want=$(sha256sum /tmp/p | cut -d' ' -f1)
must dd if=/tmp/p of="$dev" bs=64k seek=16 oflag=direct
got=$(dd if="$dev" bs=64k skip=16 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "read back $got, wrote $want"
logout
step "done"
