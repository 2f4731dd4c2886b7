#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# callgrind.sh: instructions executed by the target per I/O, for a fixed workload.
#
# Runs the target (targetd or tgtd) under valgrind --tool=callgrind on loopback with a
# memory/null LU, and for each workload runs targetd-bench twice with a fixed number of
# commands (--ios N1, then --ios N2), zeroing and dumping callgrind's counters around each
# run (callgrind_control -z / -d). Instructions per I/O = (Ir(N2) - Ir(N1)) / (N2 - N1):
# the login, READ CAPACITY and logout of each bench run cancel out. Deterministic to a
# fraction of a percent on a noisy machine, unlike IOPS.
set -euo pipefail

usage() {
	echo "usage: $0 [--impl targetd|tgt] [--targetd PATH] [--bench PATH] [--n1 N] [--n2 N] [--out DIR]" >&2
	echo "          [--lu mem:64M|PATH]   (targetd's LU; a file or device goes through libaio)" >&2
	exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
IMPL=targetd TARGETD='' BENCH='' N1=2000 N2=12000 OUT='' LU=mem:64M
while [ $# -gt 0 ]; do
	case "$1" in
	--impl) IMPL=$2; shift 2 ;;
	--targetd) TARGETD=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--n1) N1=$2; shift 2 ;;
	--n2) N2=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--lu) LU=$2; shift 2 ;;
	*) usage ;;
	esac
done
case $IMPL in targetd|tgt) ;; *) usage ;; esac
[[ "$N1" =~ ^[0-9]+$ && "$N2" =~ ^[0-9]+$ && $N2 -gt $N1 ]] || usage
newest() { ls -t "$@" 2>/dev/null | head -n1 || true; }
[ -n "$BENCH" ] || BENCH=$(newest "$root"/build*/tests/bench/targetd-bench)
[ -x "$BENCH" ] || { echo "callgrind.sh: targetd-bench not found (--bench)" >&2; exit 2; }
if [ "$IMPL" = targetd ]; then
	[ -n "$TARGETD" ] || TARGETD=$(newest "$root"/build*/targetd)
	[ -x "$TARGETD" ] || { echo "callgrind.sh: targetd not found (--targetd)" >&2; exit 2; }
fi

KEEP=1
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/targetd-callgrind.XXXXXX); KEEP=0; fi
mkdir -p "$OUT"
PID='' CTL=''
cleanup() {
	local rc=$?
	set +e
	if [ -n "$PID" ]; then
		if [ -n "$CTL" ]; then # tgtd ignores SIGTERM while it has targets
			tgtadm -C "$CTL" --lld iscsi --op delete --mode target --tid 1 --force
			tgtadm -C "$CTL" --op delete --mode system
		fi >/dev/null 2>&1
		kill -TERM "$PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -z "$CTL" ] || rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock"
	[ "$KEEP" = 1 ] || rm -rf "$OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done; }
port=$((20000 + RANDOM % 20000))
while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
VG=(valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p")
IQN=iqn.2026-12.io.targetd.bench:callgrind
if [ "$IMPL" = tgt ]; then
	ctl=$((1000 + RANDOM % 30000))
	while [ -e /var/run/tgtd/socket.$ctl ]; do ctl=$((ctl + 1)); done
	"${VG[@]}" tgtd -f --iscsi portal=127.0.0.1:$port -C $ctl >"$OUT/target.log" 2>&1 &
	PID=$! CTL=$ctl
	wait_for 60 tgtadm -C $ctl --op show --mode sys >/dev/null 2>&1
	T="tgtadm -C $ctl --lld iscsi"
	$T --op new --mode target --tid 1 -T $IQN
	$T --op new --mode logicalunit --tid 1 --lun 1 --bstype null --backing-store /dev/null
	$T --op bind --mode target --tid 1 -I ALL
	URL=iscsi://127.0.0.1:$port/$IQN/1
else
	mkdir -p "$OUT/state"
	"${VG[@]}" "$TARGETD" -f --listen 127.0.0.1:$port --export "$IQN=$LU" \
		--state-dir "$OUT/state" >"$OUT/target.log" 2>&1 &
	PID=$!
	wait_for 60 grep -q "ready, listening on" "$OUT/target.log" ||
		{ cat "$OUT/target.log" >&2; exit 1; }
	URL=iscsi://127.0.0.1:$port/$IQN/0
fi
wait_for 60 sh -c "ss -Hltn 'sport = :$port' | grep -q ."

# Ir of the newest dump of $PID.
last_ir() {
	local f
	f=$(ls -t "$OUT"/callgrind.out."$PID"* | head -n1)
	awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
measure() { # rw bs n
	callgrind_control -z "$PID" >/dev/null
	"$BENCH" --url "$URL" --rw "$1" --bs "$2" --qd 1 --ios "$3" --time 600 --size 64M >/dev/null
	callgrind_control -d "$PID" >/dev/null
	sleep 0.5
	last_ir
}
printf '%s callgrind, N1=%s N2=%s (QD1, 1 session, LU %s)\n' "$IMPL" "$N1" "$N2" \
	"$([ "$IMPL" = tgt ] && echo null || echo "$LU")"
printf '| workload | Ir per I/O |\n|---|---:|\n'
for spec in "randread 4k" "randwrite 4k" "read 128k" "write 128k"; do
	read -r rw bs <<<"$spec"
	a=$(measure "$rw" "$bs" "$N1")
	b=$(measure "$rw" "$bs" "$N2")
	printf '| %s %s | %s |\n' "$bs" "$rw" "$(( (b - a) / (N2 - N1) ))"
done
