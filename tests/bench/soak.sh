#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# soak.sh: the long soak of issue 9 (not in CI). Starts targetd on loopback with a memory LU
# and a file LU, runs targetd-bench against it with hundreds of sessions, mixed verified I/O
# at a capped rate and reconnect churn (every session logs out and in again about every
# --churn seconds), samples the daemon every --interval seconds into a TSV, and at the end
# prints per metric first/min/max/last and the least-squares slope per hour over the second
# half of the run. The verdict is "flat" when the RSS and fd slopes stay under the stated
# thresholds.
#
# Exit status: 0 flat and clean; 1 a data-verify or I/O error in the bench, the daemon died,
# or RSS / fds / threads grew; 2 bad arguments or setup failure. Everything it starts is
# stopped by PID. See tests/bench/README.md and docs/performance.md ("Soak").
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [options]
  --targetd PATH     targetd binary (default: newest build*/targetd under the repo)
  --targetctl PATH   targetctl binary (default: targetctl next to targetd)
  --bench PATH       targetd-bench binary (default: newest build*/tests/bench/targetd-bench)
  --duration S       seconds of load (default 3600)
  --sessions N       sessions in total, half on each LU (default 500)
  --rate IOPS        total command rate cap (default 2000)
  --churn S          mean seconds between logout + re-login per session (default 60; 0 = none)
  --qd N             commands outstanding per session (default 2)
  --mix PCT          read percentage of the 4 KiB random read/write mix (default 70)
  --size SIZE        size of each LU (default 256M)
  --interval S       sampling interval (default 10)
  --max-rss-slope K  growth threshold for VmRSS, KiB per hour over the second half (default 4096)
  --max-fd-slope N   growth threshold for open fds, per hour over the second half (default 10)
  --out DIR          samples (soak.tsv), logs, bench JSON (default /work/soak/run-TIMESTAMP)
  --report-from TSV  only print the table and verdict of a kept soak.tsv
EOF
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
DURATION=3600 SESSIONS=500 RATE=2000 CHURN=60 QD=2 MIX=70 SIZE=256M INTERVAL=10
MAX_RSS_SLOPE=4096 MAX_FD_SLOPE=10
TARGETD='' TARGETCTL='' BENCH='' OUT='' REPORT_FROM=''

while [ $# -gt 0 ]; do
	case "$1" in
	--targetd) TARGETD=$2; shift 2 ;;
	--targetctl) TARGETCTL=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--sessions) SESSIONS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--churn) CHURN=$2; shift 2 ;;
	--qd) QD=$2; shift 2 ;;
	--mix) MIX=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--interval) INTERVAL=$2; shift 2 ;;
	--max-rss-slope) MAX_RSS_SLOPE=$2; shift 2 ;;
	--max-fd-slope) MAX_FD_SLOPE=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--report-from) REPORT_FROM=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "soak.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
for v in DURATION SESSIONS RATE QD MIX INTERVAL MAX_RSS_SLOPE MAX_FD_SLOPE; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || { echo "soak.sh: --${v,,} must be a whole number" >&2; usage; }
done
[[ "$CHURN" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "soak.sh: bad --churn" >&2; usage; }
[ "$SESSIONS" -ge 2 ] && [ "$INTERVAL" -ge 1 ] && [ "$DURATION" -ge "$INTERVAL" ] || usage

log() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- analysis: first/min/max/last and second-half slope per hour of every column -----------
# Columns of soak.tsv (header line first): t_s rss_kb fds threads sessions conns
# bench_rss_kb ios logins errors verify_errors load1
report() { # tsv -> table on stdout; exit status 0 flat, 1 growth
	awk -F'\t' -v max_rss="$MAX_RSS_SLOPE" -v max_fd="$MAX_FD_SLOPE" '
	NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; nf = NF; next }
	{ n++; for (i = 1; i <= nf; i++) v[n, i] = $i }
	END {
		if (n < 4) { print "soak: fewer than 4 samples, no verdict"; exit 1 }
		tlast = v[n, 1]; half = tlast / 2
		printf "| metric | first | min | max | last | slope/h (2nd half) |\n"
		printf "|---|---:|---:|---:|---:|---:|\n"
		for (i = 2; i <= nf; i++) {
			first = v[1, i]; mn = first; mx = first
			st = 0; sy = 0; m = 0
			for (k = 1; k <= n; k++) {
				y = v[k, i]
				if (y < mn) mn = y
				if (y > mx) mx = y
				if (v[k, 1] >= half) { st += v[k, 1] / 3600; sy += y; m++ }
			}
			tb = st / m; yb = sy / m; sxy = 0; sxx = 0
			for (k = 1; k <= n; k++) if (v[k, 1] >= half) {
				dt = v[k, 1] / 3600 - tb
				sxy += dt * (v[k, i] - yb); sxx += dt * dt
			}
			slope[name[i]] = sxx > 0 ? sxy / sxx : 0
			printf "| %s | %s | %s | %s | %s | %.1f |\n", name[i], first, mn, mx, v[n, i], slope[name[i]]
			mxv[name[i]] = mx; mnv[name[i]] = mn
		}
		printf "\nsamples: %d over %d s; slopes are least squares over t >= %d s\n", n, tlast, half
		bad = 0
		if (slope["rss_kb"] > max_rss) { printf "GROWTH: VmRSS %.0f KiB/h > %d KiB/h\n", slope["rss_kb"], max_rss; bad = 1 }
		if (slope["fds"] > max_fd) { printf "GROWTH: fds %.1f/h > %d/h\n", slope["fds"], max_fd; bad = 1 }
		if (mxv["threads"] != mnv["threads"]) { printf "GROWTH: threads varied %d..%d\n", mnv["threads"], mxv["threads"]; bad = 1 }
		if (bad) exit 1
		printf "verdict: flat (VmRSS slope %.0f KiB/h <= %d, fd slope %.1f/h <= %d, threads constant)\n", slope["rss_kb"], max_rss, slope["fds"], max_fd
	}' "$1"
}

if [ -n "$REPORT_FROM" ]; then
	report "$REPORT_FROM"
	exit $?
fi

newest() { ls -t "$@" 2>/dev/null | head -n1 || true; }
[ -n "$TARGETD" ] || TARGETD=$(newest "$root"/build*/targetd)
[ -n "$BENCH" ] || BENCH=$(newest "$root"/build*/tests/bench/targetd-bench)
[ -n "$TARGETCTL" ] || TARGETCTL=$(dirname "$TARGETD")/targetctl
for b in TARGETD BENCH TARGETCTL; do
	[ -x "${!b}" ] || { echo "soak.sh: ${b,,} binary '${!b}' not found" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "soak.sh: jq not installed" >&2; exit 2; }

[ -n "$OUT" ] || OUT=/work/soak/run-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$OUT"
TSV=$OUT/soak.tsv
WORK=$(mktemp -d /var/tmp/targetd-soak.XXXXXX)
TPID='' BPID=''

# A child that exited stays a zombie until waited for: kill -0 would still succeed.
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

STOP_RC=0
stop_pid() { # pid: TERM, KILL after 10 s; exit status in STOP_RC
	local p=$1
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	STOP_RC=0
	wait "$p" 2>/dev/null || STOP_RC=$?
}

cleanup() {
	local rc=$?
	set +e
	[ -z "$BPID" ] || stop_pid "$BPID"
	[ -z "$TPID" ] || stop_pid "$TPID"
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- LUs and configuration -------------------------------------------------------------------
size_bytes=$(numfmt --from=iec "$SIZE")
IMG=$WORK/file.img
fallocate -l "$size_bytes" "$IMG" 2>/dev/null ||
	dd if=/dev/zero of="$IMG" bs=1M count=$((size_bytes >> 20)) status=none
mkdir -p "$WORK/state"
IQN=iqn.2026-12.io.targetd.soak
CONF=$WORK/targetd.conf
write_conf() { # extra global lines...
	{
		echo "[global]"
		echo "state_dir = $WORK/state"
		# every session is one connection; churn briefly overlaps old and new ones
		echo "max_connections = $((SESSIONS * 2 + 64))"
		echo "max_sessions_per_target = $((SESSIONS + 64))"
		for l in "$@"; do echo "$l"; done
		echo
		echo "[portal soak]"
		echo "listen = 127.0.0.1:0"
		echo
		echo "[target $IQN:mem]"
		echo "[lun $IQN:mem 0]"
		echo "path = mem:$SIZE"
		echo
		echo "[target $IQN:file]"
		echo "[lun $IQN:file 0]"
		echo "path = $IMG"
	} >"$CONF"
}
# All sessions come from 127.0.0.1: lift a per-address connection limit if this build has one.
write_conf "max_connections_per_address = 0"
if ! "$TARGETD" --check-config -c "$CONF" >"$WORK/check.log" 2>&1; then
	write_conf
	"$TARGETD" --check-config -c "$CONF" >"$WORK/check.log" 2>&1 ||
		{ cat "$WORK/check.log" >&2; exit 2; }
fi
cp "$CONF" "$OUT/targetd.conf"

# ---- daemon ----------------------------------------------------------------------------------
CTL=$WORK/control
"$TARGETD" -c "$CONF" --control "$CTL" >"$OUT/targetd.log" 2>&1 &
TPID=$!
for _ in $(seq 100); do
	grep -q "ready, listening on" "$OUT/targetd.log" && break
	alive "$TPID" || { cat "$OUT/targetd.log" >&2; exit 2; }
	sleep 0.1
done
PORT=$(sed -n 's/.*ready, listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$OUT/targetd.log" | head -n1)
[ -n "$PORT" ] || { log "targetd not ready"; cat "$OUT/targetd.log" >&2; exit 2; }
log "targetd pid $TPID port $PORT; out $OUT"

# ---- load --------------------------------------------------------------------------------------
per=$((SESSIONS / 2))
BENCH_CMD=("$BENCH" --url "iscsi://127.0.0.1:$PORT/$IQN:mem/0" --url "iscsi://127.0.0.1:$PORT/$IQN:file/0"
	--sessions "$per" --rw randrw --mix "$MIX" --bs 4k --qd "$QD" --verify --rate "$RATE"
	--time "$DURATION" --progress "$INTERVAL" --pid "$TPID" --json)
[ "$CHURN" = 0 ] || BENCH_CMD+=(--churn "$CHURN")
echo "${BENCH_CMD[*]}" >"$OUT/bench.cmd"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"${BENCH_CMD[@]}" >"$OUT/bench.json" 2>"$OUT/bench.log" &
BPID=$!
log "bench pid $BPID: $((per * 2)) sessions, rate $RATE, churn $CHURN s, ${DURATION} s; load $LOAD0"

# ---- sampling ----------------------------------------------------------------------------------
printf 't_s\trss_kb\tfds\tthreads\tsessions\tconns\tbench_rss_kb\tios\tlogins\terrors\tverify_errors\tload1\n' >"$TSV"
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
T0=$SECONDS
DIED=0
next=0
while alive "$BPID"; do
	if ! alive "$TPID"; then DIED=1; break; fi
	now=$((SECONDS - T0))
	if [ "$now" -ge "$next" ]; then
		next=$((next + INTERVAL))
		rss=$(status_field "$TPID" VmRSS)
		thr=$(status_field "$TPID" Threads)
		fds=$(ls "/proc/$TPID/fd" 2>/dev/null | wc -l)
		sess=$(timeout 5 "$TARGETCTL" -s "$CTL" -o json status 2>/dev/null | jq -r '.sessions // -1' || echo -1)
		conns=$(ss -Htn state established "sport = :$PORT" 2>/dev/null | wc -l)
		brss=$(status_field "$BPID" VmRSS)
		prog=$(grep 'progress' "$OUT/bench.log" | tail -n1 || true)
		ios=$(sed -n 's/.* ios=\([0-9]*\).*/\1/p' <<<"$prog")
		logins=$(sed -n 's/.* logins=\([0-9]*\).*/\1/p' <<<"$prog")
		errs=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$prog")
		verrs=$(sed -n 's/.* verify_errors=\([0-9]*\).*/\1/p' <<<"$prog")
		load1=$(cut -d' ' -f1 /proc/loadavg)
		[ -n "$rss" ] || { DIED=1; break; }
		printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$now" "$rss" "$fds" "$thr" \
			"$sess" "$conns" "${brss:-0}" "${ios:-0}" "${logins:-0}" "${errs:-0}" "${verrs:-0}" \
			"$load1" >>"$TSV"
	fi
	sleep 1
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
BRC=0
if [ "$DIED" = 0 ]; then
	wait "$BPID" || BRC=$?
	BPID=''
	alive "$TPID" || DIED=1
fi

# ---- verdict -----------------------------------------------------------------------------------
FAIL=0
echo
echo "soak: $(date -u +%FT%TZ) duration ${DURATION}s, $((per * 2)) sessions, rate $RATE, churn ${CHURN}s, qd $QD, randrw $MIX% read, 4 KiB, verify"
echo "soak: load average at start $LOAD0, at end $LOAD1"
echo "soak: bench: ${BENCH_CMD[*]}"
if [ "$DIED" = 1 ]; then
	echo "FAIL: targetd (pid $TPID) died; last log lines:"
	tail -n 20 "$OUT/targetd.log"
	FAIL=1
else
	if [ -s "$OUT/bench.json" ]; then
		jq -r '"bench: ios=\(.ios) iops=\(.iops) errors=\(.errors) verify_errors=\(.verify_errors) logouts=\(.logouts) logins=\(.logins) relogin_errors=\(.relogin_errors) logout_errors=\(.logout_errors) drops=\(.drops) p99_us=\(.all.lat_us.p99) max_us=\(.all.lat_us.max) target_cpu_pct=\(.target_cpu_pct) bench_cpu_pct=\(.bench_cpu_pct)"' \
			"$OUT/bench.json" || cat "$OUT/bench.json"
	fi
	if [ "$BRC" != 0 ]; then
		echo "FAIL: targetd-bench exit status $BRC (I/O or verify errors); see $OUT/bench.log:"
		grep -v progress "$OUT/bench.log" | tail -n 10
		FAIL=1
	fi
fi
echo
report "$TSV" | tee "$OUT/report.md" || FAIL=1
if [ "$DIED" = 0 ]; then
	stop_pid "$TPID"
	TPID=''
	echo "soak: targetd stopped (SIGTERM), exit status $STOP_RC"
	[ "$STOP_RC" = 0 ] || FAIL=1
fi
[ "$FAIL" = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $FAIL
