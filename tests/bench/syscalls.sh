#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# syscalls.sh: system calls the target makes per I/O, for a fixed workload.
#
# Starts targetd on loopback with one LU (from a generated config file, so that
# poll_us can be set), attaches `strace -f -c` to it, runs targetd-bench with a fixed
# number of commands (--ios N) per workload, and prints the calls per I/O of every
# syscall that made at least 0.01 per I/O. Login and logout add a few dozen calls per
# run (< 0.01 per I/O at the default N). Counts are exact whatever the load on the
# machine; the time strace adds makes latency meaningless while it is attached.
#
#   sudo tests/bench/syscalls.sh --targetd build/targetd --bench build/tests/bench/targetd-bench
#   sudo tests/bench/syscalls.sh --lu /dev/loop0 --poll-us 50
set -euo pipefail

usage() {
	cat >&2 <<EOF
usage: $0 [--targetd PATH] [--bench PATH] [--lu mem:256M|PATH] [--poll-us N] [--ios N]
          [--rows "name rw bs qd;..."] [--out DIR]
EOF
	exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TARGETD='' BENCH='' LU=mem:256M POLL=0 IOS=20000 OUT=''
ROWS='4k-randread-qd1 randread 4k 1;4k-randwrite-qd1 randwrite 4k 1;4k-randread-qd32 randread 4k 32;4k-randwrite-qd32 randwrite 4k 32'
while [ $# -gt 0 ]; do
	case "$1" in
	--targetd) TARGETD=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--lu) LU=$2; shift 2 ;;
	--poll-us) POLL=$2; shift 2 ;;
	--ios) IOS=$2; shift 2 ;;
	--rows) ROWS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) usage ;;
	esac
done
[[ "$IOS" =~ ^[1-9][0-9]*$ && "$POLL" =~ ^[0-9]+$ ]] || usage
newest() { ls -t "$@" 2>/dev/null | head -n1 || true; }
[ -n "$BENCH" ] || BENCH=$(newest "$root"/build*/tests/bench/targetd-bench)
[ -n "$TARGETD" ] || TARGETD=$(newest "$root"/build*/targetd)
[ -x "$BENCH" ] || { echo "syscalls.sh: targetd-bench not found (--bench)" >&2; exit 2; }
[ -x "$TARGETD" ] || { echo "syscalls.sh: targetd not found (--targetd)" >&2; exit 2; }
command -v strace >/dev/null || { echo "syscalls.sh: strace not installed" >&2; exit 2; }

KEEP=1
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/targetd-syscalls.XXXXXX); KEEP=0; fi
mkdir -p "$OUT/state"
PID='' SPID=''
cleanup() {
	local rc=$?
	set +e
	[ -z "$SPID" ] || { kill -INT "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ "$KEEP" = 1 ] || rm -rf "$OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done; }

port=$((20000 + RANDOM % 20000))
while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
IQN=iqn.2026-12.io.targetd.bench:syscalls
cat >"$OUT/targetd.conf" <<EOF
[global]
state_dir = $OUT/state
$([ "$POLL" = 0 ] || echo "poll_us = $POLL")
[portal p]
listen = 127.0.0.1:$port
[target $IQN]
[lun $IQN 0]
path = $LU
EOF
"$TARGETD" -f -c "$OUT/targetd.conf" >"$OUT/targetd.log" 2>&1 &
PID=$!
wait_for 15 grep -q "ready, listening on" "$OUT/targetd.log" || {
	cat "$OUT/targetd.log" >&2
	exit 1
}
URL=iscsi://127.0.0.1:$port/$IQN/0
traced() { [ "$(awk '/^TracerPid:/ {print $2}' /proc/"$PID"/status)" != 0 ]; }
untraced() { ! traced; }

echo "targetd $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'), LU $LU, poll_us $POLL, $IOS I/Os per row"
echo
echo "| workload | total syscalls/io | per I/O | IOPS under strace | target cpu us/io (strace inflates) |"
echo "|---|---:|---|---:|---:|"
IFS=';' read -ra rows <<<"$ROWS"
for row in "${rows[@]}"; do
	read -r name rw bs qd <<<"$row"
	strace -f -c -qq -o "$OUT/strace-$name.txt" -p "$PID" &
	SPID=$!
	wait_for 10 traced
	j=$("$BENCH" --url "$URL" --rw "$rw" --bs "$bs" --qd "$qd" --ios "$IOS" --time 600 \
		--size 64M --pid "$PID" --json)
	kill -INT "$SPID"
	wait "$SPID" || true
	SPID=''
	wait_for 10 untraced || true
	# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
	per=$(awk -v n="$IOS" '
		$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
			tot += $4
			if ($4 / n >= 0.01) out = out sprintf("%s %.2f, ", $NF, $4 / n)
		}
		END { sub(/, $/, "", out); printf "%.2f\t%s\n", tot / n, out }' "$OUT/strace-$name.txt")
	printf '| %s | %s | %s | %s | %s |\n' "$name" "${per%%$'\t'*}" "${per#*$'\t'}" \
		"$(jq -r '.iops | round' <<<"$j")" "$(jq -r '.target_cpu_us_per_io * 10 | round / 10' <<<"$j")"
done
[ "$KEEP" = 0 ] || echo "raw strace tables: $OUT/strace-*.txt"
