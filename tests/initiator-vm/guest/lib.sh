# SPDX-License-Identifier: MIT
# Helpers for the guest scripts of the initiator VM (busybox sh). Sourced by
# each scenario as ". ./lib.sh"; run-vm.sh copies it next to the script.
#
# Conventions: every check that fails prints "FAIL: ..." and exits 1, so the
# scenario's exit status is the verdict. Lines "RESULT name=value" are facts
# for the host side (checksums, timings) and "@@HOST ...@@" lines ask the
# host harness to act (e.g. restart targetd); it answers through the target.

fail() {
	echo "FAIL: $*"
	exit 1
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# step NAME: a timestamped progress line (guest clock, seconds since boot).
step() { echo "== [$(uptime_s)] $*"; }

# run CMD...: echo and run; its output goes to the console and to $OUT.
OUT=/tmp/last.out
run() {
	echo "+ $*"
	"$@" >"$OUT" 2>&1
	rc=$?
	cat "$OUT"
	return $rc
}

# must CMD...: run, fail the scenario on a non-zero exit.
must() {
	run "$@" || fail "'$*' exited $rc"
}

# must_fail CMD...: run, fail the scenario if it succeeds.
must_fail() {
	if run "$@"; then
		fail "'$*' succeeded, expected failure"
	fi
	return 0
}

# expect_out REGEX: the last command's output matches (grep -E).
expect_out() {
	grep -Eq -- "$1" "$OUT" || fail "output of the last command lacks /$1/"
}

# expect_no_out REGEX
expect_no_out() {
	if grep -Eq -- "$1" "$OUT"; then
		fail "output of the last command has /$1/"
	fi
}

# iscsid.conf defaults for new node records (set before discovery).
set_iscsid_conf() { # KEY VALUE
	sed -i "/^$1 *=/d" /etc/iscsi/iscsid.conf
	echo "$1 = $2" >>/etc/iscsi/iscsid.conf
}

# make_iface NAME INITIATOR-IQN: an iscsiadm iface (software iSCSI over tcp)
# with its own initiator name, so one VM can be two initiators.
make_iface() {
	must iscsiadm -m iface -I "$1" -o new
	must iscsiadm -m iface -I "$1" -o update -n iface.transport_name -v tcp
	must iscsiadm -m iface -I "$1" -o update -n iface.initiatorname -v "$2"
}

# discover [IFACE...]: SendTargets through the advertised portal. RFC 7143
# appendix C: TargetAddress must be one the initiator can reach (here the
# [portal] advertise= address, not the 127.0.0.1 targetd is bound to).
discover() {
	args=""
	for i in "$@"; do args="$args -I $i"; done
	# shellcheck disable=SC2086
	must iscsiadm -m discovery -t sendtargets -p "$PORTAL" $args
	expect_out "^$PORTAL,[0-9]+ $TARGET\$"
}

login() { # [IFACE]
	must iscsiadm -m node -T "$TARGET" -p "$PORTAL" ${1:+-I "$1"} --login
}

logout() { # [IFACE]
	must iscsiadm -m node -T "$TARGET" -p "$PORTAL" ${1:+-I "$1"} --logout
}

# logged_in: tell the host (timing) that the first session's LU is up.
logged_in() {
	echo "RESULT logged_in=$(uptime_s)"
}

# disk_of INITIATOR-IQN [LUN]: /dev/sdX of the LU seen through the session
# whose initiator name is INITIATOR-IQN; waits up to 20 s for the scan.
disk_of() {
	lun=${2:-0}
	n=0
	while [ $n -lt 200 ]; do
		for s in /sys/class/iscsi_session/session*; do
			[ -e "$s/initiatorname" ] || continue
			[ "$(cat "$s/initiatorname")" = "$1" ] || continue
			[ "$(cat "$s/targetname")" = "$TARGET" ] || continue
			for b in "$s"/device/target*/*:*:*:"$lun"/block/*; do
				if [ -e "$b" ] && [ -b "/dev/${b##*/}" ]; then
					echo "/dev/${b##*/}"
					return 0
				fi
			done
		done
		sleep 0.1
		n=$((n + 1))
	done
	echo "disk_of: no disk for $1 LUN $lun" >&2
	return 1
}

# sg_of /dev/sdX: the matching /dev/sgN.
sg_of() {
	d=${1#/dev/}
	for g in /sys/block/"$d"/device/scsi_generic/*; do
		echo "/dev/${g##*/}"
		return 0
	done
	return 1
}

sessions() { iscsiadm -m session 2>/dev/null | grep -c . ; }

# sha256 of COUNT MiB at OFFSET MiB, read with O_DIRECT; "read-error:" and dd's
# message instead when the read fails, so that a failed read is never reported
# as different data.
sha256_of() { # FILE-or-DEVICE OFFSET-MIB COUNT-MIB
	_e=$(mktemp) _r=$(mktemp)
	_s=$({
		dd if="$1" bs=1M skip="$2" count="$3" iflag=direct 2>"$_e"
		echo $? >"$_r"
	} | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$_r")" = 0 ]; then
		echo "$_s"
	else
		echo "read-error:$(tail -n1 "$_e" | tr ' ' '_')"
	fi
	rm -f "$_e" "$_r"
}

# portal_conns: local TCP ports of the guest's established connections to
# the portal (/proc/net/tcp: hex addr:port, state 01 = ESTABLISHED), sorted.
portal_conns() {
	hp=$(printf '%04X' "$PORT")
	awk -v hp="$hp" '$3 ~ ":" hp "$" && $4 == "01" { split($2, a, ":"); print a[2] }' \
		/proc/net/tcp | sort
}

# wait_reconnect "PORTS-BEFORE" N [SECONDS]: wait until none of the
# connections in PORTS-BEFORE is left and N new ones are established (the
# sessions came back after a target restart). Sets $now.
wait_reconnect() {
	limit=$((${3:-90} * 10))
	n=0
	while :; do
		now=$(portal_conns | tr '\n' ' ')
		left=0
		for p in $1; do
			case " $now " in *" $p "*) left=1 ;; esac
		done
		if [ $left -eq 0 ] && [ "$(echo "$now" | wc -w)" -ge "$2" ]; then
			return 0
		fi
		n=$((n + 1))
		[ $n -lt $limit ] || return 1
		sleep 0.1
	done
}

# host_action NAME: ask the host harness to do NAME (restart-target, ...);
# the host sees the line on the serial console.
host_action() {
	echo "@@HOST $1@@"
}
