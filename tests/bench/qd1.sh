#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# qd1.sh: QD1 latency and target CPU per I/O of targetd at several poll_us settings,
# optionally against tgt, interleaved, with the tcp-floor reference (issue 8).
#
# Starts one targetd per poll_us value (own port, generated config, mem LU) and, with
# --tgt, one tgtd with a null LU; idle targets sleep (busy polling only follows
# traffic). For each repetition and workload (4 KiB random read / write, QD1, one
# session) every target is run in turn, in rotating order; then tcp-floor. Prints
# medians of IOPS, p50, p99 and target CPU us/io.
#
#   sudo tests/bench/qd1.sh --poll "0 50 200" --tgt --reps 3 --time 5
set -euo pipefail

usage() {
	cat >&2 <<EOF
usage: $0 [--targetd PATH] [--bench PATH] [--poll "0 50 ..."] [--tgt] [--reps N] [--time S]
          [--lu mem:256M|PATH] [--out DIR]
EOF
	exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TARGETD='' BENCH='' POLLS='0 50' TGT=0 REPS=3 TIME=5 LU=mem:256M OUT=''
while [ $# -gt 0 ]; do
	case "$1" in
	--targetd) TARGETD=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--poll) POLLS=$2; shift 2 ;;
	--tgt) TGT=1; shift ;;
	--reps) REPS=$2; shift 2 ;;
	--time) TIME=$2; shift 2 ;;
	--lu) LU=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) usage ;;
	esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || usage
newest() { ls -t "$@" 2>/dev/null | head -n1 || true; }
[ -n "$BENCH" ] || BENCH=$(newest "$root"/build*/tests/bench/targetd-bench)
[ -n "$TARGETD" ] || TARGETD=$(newest "$root"/build*/targetd)
[ -x "$BENCH" ] || { echo "qd1.sh: targetd-bench not found (--bench)" >&2; exit 2; }
[ -x "$TARGETD" ] || { echo "qd1.sh: targetd not found (--targetd)" >&2; exit 2; }
FLOOR=$(dirname "$BENCH")/tcp-floor

KEEP=1
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/targetd-qd1.XXXXXX); KEEP=0; fi
mkdir -p "$OUT"
RES=$OUT/results.tsv
: >"$RES"
PIDS=() CTL=''
cleanup() {
	local rc=$? p
	set +e
	if [ -n "$CTL" ]; then # tgtd ignores SIGTERM while it has targets
		tgtadm -C "$CTL" --lld iscsi --op delete --mode target --tid 1 --force
		tgtadm -C "$CTL" --op delete --mode system
	fi >/dev/null 2>&1
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -z "$CTL" ] || rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock"
	[ "$KEEP" = 1 ] || rm -rf "$OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done; }
declare -A USED
free_port() {
	local p=$((20000 + RANDOM % 20000))
	while ss -Hltn "sport = :$p" | grep -q . || [ -n "${USED[$p]:-}" ]; do p=$((p + 1)); done
	USED[$p]=1
	echo $p
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }

declare -A URL TPID
NAMES=()
IQN=iqn.2026-12.io.targetd.bench:qd1
for poll in $POLLS; do
	name=targetd-poll$poll
	port=$(free_port)
	mkdir -p "$OUT/$name"
	cat >"$OUT/$name/targetd.conf" <<EOF
[global]
state_dir = $OUT/$name
$([ "$poll" = 0 ] || echo "poll_us = $poll")
[portal p]
listen = 127.0.0.1:$port
[target $IQN]
[lun $IQN 0]
path = $LU
EOF
	"$TARGETD" -f -c "$OUT/$name/targetd.conf" >"$OUT/$name/log" 2>&1 &
	TPID[$name]=$!
	PIDS+=("$!")
	wait_for 20 grep -q "ready, listening on" "$OUT/$name/log" || { cat "$OUT/$name/log" >&2; exit 1; }
	URL[$name]=iscsi://127.0.0.1:$port/$IQN/0
	NAMES+=("$name")
done
if [ "$TGT" = 1 ]; then
	port=$(free_port)
	ctl=$((1000 + RANDOM % 30000))
	while [ -e /var/run/tgtd/socket.$ctl ]; do ctl=$((ctl + 1)); done
	tgtd -f --iscsi portal=127.0.0.1:$port -C $ctl >"$OUT/tgtd.log" 2>&1 &
	TPID[tgt-null]=$!
	PIDS+=("$!")
	CTL=$ctl
	wait_for 10 tgtadm -C $ctl --op show --mode sys >/dev/null 2>&1
	wait_for 10 listening "$port"
	T="tgtadm -C $ctl --lld iscsi"
	$T --op new --mode target --tid 1 -T "$IQN-tgt"
	$T --op new --mode logicalunit --tid 1 --lun 1 --bstype null --backing-store /dev/null
	$T --op bind --mode target --tid 1 -I ALL
	URL[tgt-null]=iscsi://127.0.0.1:$port/$IQN-tgt/1
	NAMES+=(tgt-null)
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq "$REPS"); do
	for rw in randread randwrite; do
		n=${#NAMES[@]}
		for i in $(seq 0 $((n - 1))); do
			name=${NAMES[$(((i + rep) % n))]}
			j=$("$BENCH" --url "${URL[$name]}" --rw "$rw" --bs 4k --qd 1 --time "$TIME" \
				--ramp 0.5 --size 64M --pid "${TPID[$name]}" --json 2>>"$OUT/bench.err") ||
				echo "qd1.sh: $name $rw rep $rep failed (see $OUT/bench.err)" >&2
			if [ -n "$j" ]; then printf '%s\t%s\t%s\n' "$name" "$rw" "$j" >>"$RES"; fi
		done
		if [ -x "$FLOOR" ]; then
			mode=read
			[ "$rw" = randwrite ] && mode=write
			for poll in 0 50; do
				j=$("$FLOOR" --mode $mode --ios $((TIME * 10000)) --poll-us $poll --json) || j=''
				if [ -n "$j" ]; then
					printf '%s\t%s\t%s\n' "tcp-floor-poll$poll" "$rw" \
						"$(jq -c '{iops: .rtt_per_s, all: {lat_us: {p50: .p50_us, p99: .p99_us}},
							target_cpu_us_per_io: .server_cpu_us_per_rt}' <<<"$j")" >>"$RES"
				fi
			done
		fi
	done
done

echo "QD1, 4 KiB, 1 session, LU $LU (tgt: null); $REPS reps x ${TIME}s, medians;" \
	"load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| target | workload | IOPS | p50 us | p99 us | target cpu us/io |"
echo "|---|---|---:|---:|---:|---:|"
jq -nrR '
def median: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def f: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
[inputs | select(length > 0) | split("\t") | {n: .[0], rw: .[1], r: (.[2] | fromjson)}]
| group_by([.rw, .n])[] | . as $g
| "| \($g[0].n) | \($g[0].rw) | \([$g[].r.iops] | median | round) | \([$g[].r.all.lat_us.p50] | median | f) | \([$g[].r.all.lat_us.p99] | median | f) | \([$g[].r.target_cpu_us_per_io] | median | f) |"
' "$RES"
