#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# compare.sh: targetd vs Debian's tgtd on the same kinds of LU, same workloads, same box.
#
# Starts both targets on loopback (own ports, tgtd with its own control port), creates
# the LUs (memory/null, a file on /var/tmp, a loop device through libaio), runs the matrix
# interleaved A/B/A/B for --reps repetitions with targetd-bench, and prints a Markdown table
# of medians and ratios A/B, plus reference lines: local fio (libaio, direct=1) on the same
# loop device, iperf3 over loopback and tcp-floor (a QD1-shaped TCP ping-pong). Everything
# it starts is stopped on exit (by PID; loop devices by the backing-file name this script
# created).
#
# Needs root (tgtd, losetup). See tests/bench/README.md.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [options]
  --targetd PATH    targetd binary (default: newest build*/targetd under the repo)
  --bench PATH      targetd-bench binary (default: newest build*/tests/bench/targetd-bench)
  --a IMPL          column A implementation: targetd|tgt (default targetd)
  --b IMPL          column B implementation: targetd|tgt (default tgt)
  --reps N          repetitions of the whole matrix (default 3)
  --time S          seconds per run (default 10), plus --ramp S warm-up (default 1)
  --lus LIST        LU kinds, comma separated: mem,file,loop (default all)
  --size SIZE       LU size (default 1G)
  --tgt-file-oflags F  bsoflags for tgt's rdwr file LU: direct|none (default direct,
                    since targetd opens files O_DIRECT)
  --no-ref          skip the fio / iperf3 / tcp-floor / tcp-depth reference lines
  --cork            run targetd-bench with --cork (a WRITE's BHS and data in one
                    segment, as the Linux initiator sends them); both columns
  --quick           ~2 minutes: reps 1, time 3, LUs mem,loop, 1-session rows + one 4-session row
  --out DIR         keep raw results and logs here (default: a temp dir, removed)
  --report-from F   only print the table from a kept results.tsv (same --lus/--quick as the run)
EOF
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
A=targetd B=tgt REPS=3 TIME=10 RAMP=1 LUS=mem,file,loop SIZE=1G QUICK=0 REF=1
TARGETD='' BENCH='' OUT='' REPORT_FROM='' TGT_FILE_OFLAGS=direct CORK=()
declare -A GIVEN=()

while [ $# -gt 0 ]; do
	case "$1" in
	--targetd) TARGETD=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--a) A=$2; shift 2 ;;
	--b) B=$2; shift 2 ;;
	--reps) REPS=$2; GIVEN[REPS]=1; shift 2 ;;
	--time) TIME=$2; GIVEN[TIME]=1; shift 2 ;;
	--ramp) RAMP=$2; GIVEN[RAMP]=1; shift 2 ;;
	--lus) LUS=$2; GIVEN[LUS]=1; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--tgt-file-oflags) TGT_FILE_OFLAGS=$2; shift 2 ;;
	--no-ref) REF=0; shift ;;
	--cork) CORK=(--cork); shift ;;
	--report-from) REPORT_FROM=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "compare.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
if [ "$QUICK" = 1 ]; then # explicit options win over --quick's defaults
	[ -n "${GIVEN[REPS]:-}" ] || REPS=1
	[ -n "${GIVEN[TIME]:-}" ] || TIME=3
	[ -n "${GIVEN[RAMP]:-}" ] || RAMP=0.5
	[ -n "${GIVEN[LUS]:-}" ] || LUS=mem,loop
fi
for impl in "$A" "$B"; do
	case "$impl" in targetd|tgt) ;; *) echo "compare.sh: bad implementation '$impl'" >&2; usage ;; esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (tgtd, losetup)" >&2; exit 2; }

newest() { ls -t "$@" 2>/dev/null | head -n1 || true; }
[ -n "$BENCH" ] || BENCH=$(newest "$root"/build*/tests/bench/targetd-bench)
[ -x "$BENCH" ] || [ -n "$REPORT_FROM" ] || { echo "compare.sh: targetd-bench not found; build target targetd-bench or pass --bench" >&2; exit 2; }
if [ -z "$REPORT_FROM" ] && { [ "$A" = targetd ] || [ "$B" = targetd ]; }; then
	[ -n "$TARGETD" ] || TARGETD=$(newest "$root"/build*/targetd)
	[ -x "$TARGETD" ] || { echo "compare.sh: targetd binary not found; pass --targetd" >&2; exit 2; }
fi
for tool in tgtd tgtadm jq ss losetup; do
	command -v $tool >/dev/null || { echo "compare.sh: $tool not installed" >&2; exit 2; }
done

KEEP=1
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/targetd-compare.XXXXXX); KEEP=0; fi
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
: >"$RESULTS"
WORK=/var/tmp/targetd-bench.$$
mkdir -p "$WORK"
FILE_IMG=$WORK/file.img
LOOP_IMG=$WORK/loop.img
LOOPDEV=
PIDS=()
declare -A TGT_CTL=() TGT_NTID=()

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

cleanup() {
	local rc=$? p col t
	set +e
	# tgtd ignores SIGTERM while it has targets: delete them, then the system (graceful exit).
	for col in "${!TGT_CTL[@]}"; do
		for t in $(seq "${TGT_NTID[$col]:-0}"); do
			tgtadm -C "${TGT_CTL[$col]}" --lld iscsi --op delete --mode target --tid "$t" --force
		done
		tgtadm -C "${TGT_CTL[$col]}" --op delete --mode system
	done >/dev/null 2>&1
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for col in "${!TGT_CTL[@]}"; do # tgtd leaves its control socket behind
		rm -f "/var/run/tgtd/socket.${TGT_CTL[$col]}" "/var/run/tgtd/socket.${TGT_CTL[$col]}.lock"
	done
	# Loop devices by name: only those backed by the image this run created.
	if [ -e "$LOOP_IMG" ]; then
		losetup -j "$LOOP_IMG" | cut -d: -f1 | while read -r d; do losetup -d "$d"; done
	fi
	rm -rf "$WORK"
	[ "$KEEP" = 1 ] || rm -rf "$OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nobody listens on (loopback), starting at a random point.
free_port() {
	local p=$((20000 + RANDOM % 20000))
	while ss -Hltn "sport = :$p" | grep -q . || [ -n "${USED_PORTS[$p]:-}" ]; do
		p=$((p + 1))
	done
	USED_PORTS[$p]=1
	echo $p
}
declare -A USED_PORTS

wait_for() { # timeout_s command...
	local t=$1; shift
	local end=$((SECONDS + t))
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# ---- matrix ------------------------------------------------------------------------------
# name rw bs qd mix sessions
ROWS=(
	"4k-randread-qd1 randread 4k 1 - 1"
	"4k-randread-qd32 randread 4k 32 - 1"
	"4k-randwrite-qd1 randwrite 4k 1 - 1"
	"4k-randwrite-qd32 randwrite 4k 32 - 1"
	"128k-read-qd8 read 128k 8 - 1"
	"128k-write-qd8 write 128k 8 - 1"
	"4k-randrw70-qd32 randrw 4k 32 70 1"
	"4k-randread-qd32 randread 4k 32 - 4"
)
if [ "$QUICK" = 0 ]; then
	ROWS+=(
		"4k-randwrite-qd32 randwrite 4k 32 - 4"
		"128k-read-qd8 read 128k 8 - 4"
		"128k-write-qd8 write 128k 8 - 4"
		"4k-randrw70-qd32 randrw 4k 32 70 4"
		"4k-randread-qd1 randread 4k 1 - 64"
		"4k-randrw70-qd1 randrw 4k 1 70 64"
	)
fi

if [ -n "$REPORT_FROM" ]; then
	RESULTS=$REPORT_FROM REFS=$(dirname "$REPORT_FROM")/refs.tsv REPS='?' LOAD0='?'
	total=$(wc -l <"$RESULTS")
else
# ---- LUs ---------------------------------------------------------------------------------
size_bytes=$(numfmt --from=iec "$SIZE")
need_file=0 need_loop=0
[[ ",$LUS," == *,file,* ]] && need_file=1
[[ ",$LUS," == *,loop,* ]] && need_loop=1
if [ $need_file = 1 ]; then
	log "creating $SIZE file LU $FILE_IMG"
	dd if=/dev/zero of="$FILE_IMG" bs=1M count=$((size_bytes >> 20)) oflag=direct status=none
fi
if [ $need_loop = 1 ]; then
	log "creating $SIZE loop device"
	dd if=/dev/zero of="$LOOP_IMG" bs=1M count=$((size_bytes >> 20)) oflag=direct status=none
	LOOPDEV=$(losetup --find --show --direct-io=on "$LOOP_IMG")
	log "loop device $LOOPDEV (direct-io=on) backed by $LOOP_IMG"
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
IQN_BASE=iqn.2026-12.io.targetd.bench
declare -A URL PID

start_tgt() { # column
	local col=$1 port ctl tid=0 kind
	port=$(free_port)
	ctl=$((1000 + RANDOM % 30000))
	while [ -e /var/run/tgtd/socket.$ctl ]; do ctl=$((ctl + 1)); done
	tgtd -f --iscsi portal=127.0.0.1:$port -C $ctl >"$OUT/tgtd-$col.log" 2>&1 &
	PID[$col]=$!
	PIDS+=("${PID[$col]}")
	TGT_CTL[$col]=$ctl
	wait_for 10 tgtadm -C $ctl --op show --mode sys >/dev/null 2>&1 ||
		{ log "tgtd ($col) did not come up"; cat "$OUT/tgtd-$col.log" >&2; exit 1; }
	wait_for 10 sh -c "ss -Hltn 'sport = :$port' | grep -q ." ||
		{ log "tgtd ($col) not listening on $port"; exit 1; }
	local T="tgtadm -C $ctl --lld iscsi"
	for kind in ${LUS//,/ }; do
		tid=$((tid + 1))
		local iqn=$IQN_BASE:tgt-${col,,}-$kind
		$T --op new --mode target --tid $tid -T "$iqn"
		TGT_NTID[$col]=$tid
		case $kind in
		mem) # tgt's null backing store: reads return without touching data
			$T --op new --mode logicalunit --tid $tid --lun 1 --bstype null --backing-store /dev/null ;;
		file)
			if [ "$TGT_FILE_OFLAGS" = none ]; then
				$T --op new --mode logicalunit --tid $tid --lun 1 --bstype rdwr --backing-store "$FILE_IMG"
			else
				$T --op new --mode logicalunit --tid $tid --lun 1 --bstype rdwr \
					--bsoflags "$TGT_FILE_OFLAGS" --backing-store "$FILE_IMG"
			fi ;;
		loop)
			$T --op new --mode logicalunit --tid $tid --lun 1 --bstype aio --backing-store "$LOOPDEV" ;;
		*) log "unknown LU kind $kind"; exit 2 ;;
		esac
		$T --op bind --mode target --tid $tid -I ALL
		URL[$col,$kind]=iscsi://127.0.0.1:$port/$iqn/1
	done
	log "tgtd ($col) pid ${PID[$col]} port $port control $ctl"
}

# targetd's readiness line; fails at once (exit status 2 stops wait_for) if it died.
ready_or_dead() {
	grep -q "ready, listening on" "$2" && return 0
	kill -0 "$1" 2>/dev/null || { log "targetd exited during startup"; return 0; }
	return 1
}

start_targetd() { # column
	local col=$1 port kind args=()
	port=$(free_port)
	mkdir -p "$WORK/state-$col"
	for kind in ${LUS//,/ }; do
		local iqn=$IQN_BASE:targetd-${col,,}-$kind
		case $kind in
		mem) args+=(--export "$iqn=mem:$SIZE") ;;
		file) args+=(--export "$iqn=$FILE_IMG") ;;
		loop) args+=(--export "$iqn=$LOOPDEV") ;;
		esac
		URL[$col,$kind]=iscsi://127.0.0.1:$port/$iqn/0
	done
	"$TARGETD" -f --listen 127.0.0.1:$port "${args[@]}" --state-dir "$WORK/state-$col" \
		>"$OUT/targetd-$col.log" 2>&1 &
	PID[$col]=$!
	PIDS+=("${PID[$col]}")
	# Readiness: the daemon's own line, never a fixed sleep.
	if ! wait_for 15 ready_or_dead "${PID[$col]}" "$OUT/targetd-$col.log" ||
		! grep -q "ready, listening on" "$OUT/targetd-$col.log"; then
		log "targetd ($col) did not become ready"
		cat "$OUT/targetd-$col.log" >&2
		exit 1
	fi
	log "targetd ($col) pid ${PID[$col]} port $port"
}

start_impl() { if [ "$2" = tgt ]; then start_tgt "$1"; else start_targetd "$1"; fi; }
start_impl A "$A"
start_impl B "$B"

run_one() { # col kind row rep
	local col=$1 kind=$2 row=$3 rep=$4 name rw bs qd mix sess extra=() out
	read -r name rw bs qd mix sess <<<"$row"
	[ "$mix" = - ] || extra=(--mix "$mix")
	if ! out=$("$BENCH" --url "${URL[$col,$kind]}" --sessions "$sess" --rw "$rw" --bs "$bs" \
		--qd "$qd" "${extra[@]}" "${CORK[@]}" --time "$TIME" --ramp "$RAMP" --size "$SIZE" \
		--pid "${PID[$col]}" --json 2>>"$OUT/bench-errors.log"); then
		log "run failed: $col $kind $name s$sess rep $rep (see bench-errors.log)"
		[ -n "$out" ] || return 0
	fi
	printf '%s\t%s\t%s\ts%s\t%s\t%s\n' "$col" "$kind" "$name" "$sess" "$rep" "$out" >>"$RESULTS"
}

total=$((REPS * $(echo ${LUS//,/ } | wc -w) * ${#ROWS[@]} * 2))
n=0
for rep in $(seq "$REPS"); do
	for kind in ${LUS//,/ }; do
		for row in "${ROWS[@]}"; do
			# A/B/A/B, alternating who goes first each repetition
			if [ $((rep % 2)) = 1 ]; then order="A B"; else order="B A"; fi
			for col in $order; do
				n=$((n + 1))
				log "[$n/$total] rep $rep $kind ${row%% *} s${row##* } $col"
				run_one "$col" "$kind" "$row" "$rep"
			done
		done
	done
done

# ---- references --------------------------------------------------------------------------
REFS=$OUT/refs.tsv
: >"$REFS"
if [ "$REF" = 1 ]; then
	if [ -n "$LOOPDEV" ] && command -v fio >/dev/null; then
		specs=("4k-randread-qd1 randread 4k 1" "4k-randread-qd32 randread 4k 32"
			"128k-read-qd8 read 128k 8")
		[ "$QUICK" = 1 ] || specs+=("4k-randwrite-qd32 randwrite 4k 32" "128k-write-qd8 write 128k 8")
		for spec in "${specs[@]}"; do
			read -r name rw bs qd <<<"$spec"
			log "fio $name on $LOOPDEV"
			j=$(fio --name=ref --filename="$LOOPDEV" --ioengine=libaio --direct=1 --rw="$rw" \
				--bs="$bs" --iodepth="$qd" --runtime="$TIME" --time_based --size="$SIZE" \
				--output-format=json 2>/dev/null) || continue
			dir='read'
			[[ $rw == *write ]] && dir='write'
			jq -r --arg n "$name" --arg d "$dir" '.jobs[0][$d] |
				[$n, .iops, .bw_bytes/1e6, (.clat_ns.percentile["50.000000"] // 0)/1e3,
				 (.clat_ns.percentile["99.000000"] // 0)/1e3] | @tsv' <<<"$j" >>"$REFS"
		done
	fi
	if command -v iperf3 >/dev/null; then
		port=$(free_port)
		iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$OUT/iperf3-server.log" 2>&1 &
		ipid=$!
		PIDS+=("$ipid")
		wait_for 5 sh -c "ss -Hltn 'sport = :$port' | grep -q ." || true
		log "iperf3 loopback"
		if j=$(iperf3 -c 127.0.0.1 -p "$port" -t "$TIME" -J 2>/dev/null); then
			jq -r '["iperf3-loopback-1-stream", "nan", .end.sum_received.bits_per_second/8e6, "nan", "nan"] | @tsv' \
				<<<"$j" >>"$REFS"
		fi
	fi
	# The floor under QD1: the same message sizes as a 4 KiB READ / WRITE as a plain
	# loopback ping-pong against an epoll server (tcp-floor.c; built next to the bench).
	TCP_FLOOR=$(dirname "$BENCH")/tcp-floor
	if [ -x "$TCP_FLOOR" ]; then
		for mode in read write; do
			log "tcp-floor $mode"
			j=$("$TCP_FLOOR" --mode "$mode" --ios $((TIME * 10000)) --json) || continue
			jq -r '["tcp-floor 4k-\(.mode)-qd1 (server cpu \(.server_cpu_us_per_rt) us/rt)",
				.rtt_per_s, .mbps, .p50_us, .p99_us] | @tsv' <<<"$j" >>"$REFS"
		done
	fi
	# The ceiling at depth: one client thread making libiscsi's syscalls per 4 KiB
	# command against a server that only answers (tcp-depth.c). With the client at
	# 100 % of a CPU, no target can show this initiator more IOPS on this host.
	TCP_DEPTH=$(dirname "$BENCH")/tcp-depth
	if [ -x "$TCP_DEPTH" ]; then
		for spec in "read" "write" "write --one-send"; do
			log "tcp-depth $spec"
			# shellcheck disable=SC2086 # spec is the mode plus an optional flag
			j=$("$TCP_DEPTH" --mode $spec --qd 32 --time "$TIME" --ramp "$RAMP" --json) || continue
			jq -r '(if .one_send then " one send" else "" end) as $o
				| "(client cpu \(.client_cpu_pct) %, server cpu \(.server_cpu_us_per_rt) us/rt)" as $c
				| ["tcp-depth 4k-\(.mode)-qd32\($o) \($c)", .rt_per_s, .rt_per_s * 4096 / 1e6,
				   "nan", "nan"] | @tsv' <<<"$j" >>"$REFS"
		done
	fi
fi

fi

# ---- report ------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "nan") printf "%.2f", a / b; else print "-" }'; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "nan" || v < 0) print "-"; else printf f, v }'; }
# One jq pass over all results: medians per (LU, workload, sessions, column).
REPORT_JQ='
# Input: results.tsv lines (col, kind, name, sess, rep, json) read raw; $order: [[kind, name, sess], ...]
def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def fmt(d): if . == null or . < 0 then "-" elif d == 0 then (round | tostring)
	else (. * 10 | round / 10 | tostring) end;
def ratio(a; b): if a == null or b == null or b <= 0 or a < 0 then "-"
	else (a / b * 100 | round / 100 | tostring) end;
[inputs | select(length > 0) | split("\t") | {col: .[0], kind: .[1], name: .[2], sess: .[3], r: (.[5] | fromjson)}] as $all
| $order[] as [$k, $n, $s]
| [$all[] | select(.kind == $k and .name == $n and .sess == $s)] as $rs
| def m(c; e): [$rs[] | select(.col == c) | .r | e | select(. != null)] | median;
  { ai: m("A"; .iops), bi: m("B"; .iops), am: m("A"; .mbps), bm: m("B"; .mbps),
    a5: m("A"; .all.lat_us.p50), b5: m("B"; .all.lat_us.p50),
    a9: m("A"; .all.lat_us.p99), b9: m("B"; .all.lat_us.p99),
    ac: m("A"; .target_cpu_us_per_io), bc: m("B"; .target_cpu_us_per_io) }
| "| \($k) | \($n) | \($s | ltrimstr("s")) | \(.ai | fmt(0)) | \(.bi | fmt(0)) | \(ratio(.ai; .bi)) | \(.am | fmt(1)) | \(.bm | fmt(1)) | \(.a5 | fmt(1)) | \(.b5 | fmt(1)) | \(.a9 | fmt(1)) | \(.b9 | fmt(1)) | \(.ac | fmt(1)) | \(.bc | fmt(1)) | \(ratio(.ac; .bc)) |"

'
order=$(for kind in ${LUS//,/ }; do
	for row in "${ROWS[@]}"; do
		read -r name _ _ _ _ sess <<<"$row"
		printf '["%s","%s","s%s"]\n' "$kind" "$name" "$sess"
	done
done | jq -sc .)

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
echo
echo "## targetd-bench comparison: A=$A, B=$B"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($cpu_model), kernel $(uname -r)," \
	"reps=$REPS time=${TIME}s ramp=${RAMP}s size=$SIZE, medians of $REPS; initiator on the same host${CORK:+ (targetd-bench --cork)}."
echo "tgt $(tgtd -V 2>/dev/null || dpkg-query -W -f='${Version}' tgt 2>/dev/null), libiscsi $(pkg-config --modversion libiscsi 2>/dev/null || echo '?')," \
	"load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| LU | workload | sess | A IOPS | B IOPS | A/B | A MB/s | B MB/s | A p50 us | B p50 us | A p99 us | B p99 us | A cpu us/io | B cpu us/io | A/B cpu |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
jq -nrR --argjson order "$order" "$REPORT_JQ" "$RESULTS"
if [ -s "$REFS" ]; then
	echo
	echo "Reference lines (physical limits on this host):"
	echo
	echo "| reference | IOPS | MB/s | p50 us | p99 us |"
	echo "|---|---:|---:|---:|---:|"
	while IFS=$'\t' read -r name iops mbps p50 p99; do
		case $name in iperf3* | tcp-floor* | tcp-depth*) label=$name ;; *) label="fio libaio direct $name on loop" ;; esac
		printf '| %s | %s | %s | %s | %s |\n' "$label" "$(fmt "$iops" %.0f)" "$(fmt "$mbps" %.1f)" \
			"$(fmt "$p50" %.1f)" "$(fmt "$p99" %.1f)"
	done <"$REFS"
fi
errs=$(awk -F'\t' '{print $6}' "$RESULTS" | jq -s '[.[] | .errors + .verify_errors] | add // 0')
echo
echo "I/O errors across all runs: $errs; runs recorded: $(wc -l <"$RESULTS") of $total"
[ "$KEEP" = 1 ] && echo "raw results: $RESULTS"
exit 0
