#!/bin/sh
# SPDX-License-Identifier: MIT
# PROUT latency with APTPL off and on, and the daemon's fsyncs per commit
# (issue 11 benchmark; not a test). Starts targetd under
# `strace -f -c -e trace=fsync,fdatasync` once per APTPL setting, on a RAM LU
# with the state directory in DIR (default: a new directory under /var/tmp,
# so the fsyncs hit a real filesystem), runs prout-bench, stops the daemon
# with SIGTERM and prints the strace summary.
#
#   tests/bench/prout-bench.sh BUILD_DIR [CYCLES] [STATE_PARENT_DIR]
#
# strace stops the daemon at every traced syscall and inflates the
# latencies: STRACE=0 runs without it (latency only, no fsync count).
#
# Commits with APTPL=1: the first REGISTER activates APTPL, every one of the
# 3*CYCLES PROUTs changes the state (one commit each: file fsync + directory
# fsync), and the final unregister removes the file (one directory fsync).
set -eu
build=${1:?usage: prout-bench.sh BUILD_DIR [CYCLES] [STATE_PARENT_DIR]}
cycles=${2:-1000}
parent=${3:-/var/tmp}
iqn=iqn.2026-12.org.example:prout-bench
work=$(mktemp -d "$parent/prout-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

for aptpl in 0 1; do
	mkdir -p "$work/state$aptpl"
	tracer=
	[ "${STRACE:-1}" = 0 ] || tracer="strace -f -c -e trace=fsync,fdatasync -o $work/strace$aptpl"
	$tracer "$build/targetd" -f --listen 127.0.0.1:0 --export "$iqn=mem:64M" \
		--state-dir "$work/state$aptpl" 2>"$work/log$aptpl" &
	spid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*ready, listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/log$aptpl")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$work/log$aptpl"; kill "$spid"; exit 1; }
	tpid=$spid
	[ -z "$tracer" ] || tpid=$(cat /proc/"$spid"/task/*/children | tr ' ' '\n' | head -n 1)
	"$build/tests/bench/prout-bench" "iscsi://127.0.0.1:$port/$iqn/0" "$cycles" "$aptpl"
	kill -TERM "$tpid"
	wait "$spid" || true
	[ -n "$tracer" ] || continue
	fs=$(awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 } END { print n + 0 }' \
		"$work/strace$aptpl")
	commits=$((aptpl ? 3 * cycles : 0))
	echo "  daemon fsync+fdatasync calls: $fs for $commits durable commits" \
		"(+1 directory fsync removing the file at the end when APTPL=1)"
	[ "$commits" -gt 0 ] && awk -v f="$fs" -v c="$commits" \
		'BEGIN { printf "  fsyncs per commit: %.2f\n", (f - 1) / c }'
done
