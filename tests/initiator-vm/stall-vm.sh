#!/bin/bash
# SPDX-License-Identifier: MIT
#
# stall-vm.sh: pause the initiator VM's qemu (SIGSTOP) for STOP seconds every
# STOP + RUN seconds while a scenario runs, so that targetd's NOP-In pings go
# unanswered and it drops the connection (RFC 7143 11.19) again and again: the
# Linux initiator then recovers the session each time (RFC 7143 6.3.5). Not a
# test by itself; run it beside a scenario whose targetd has a short
# nop_timeout (docs/initiator-vm.md, "Stress: connections dropped under I/O"):
#
#   tests/initiator-vm/stall-vm.sh --stop 3 --run 2 --for 400 &
#   ctest --test-dir build -R rfc7143_11_19_connections_dropped_under_io_no_corruption -V
#
# It pauses the newest qemu-system process; run no other VM meanwhile.
set -euo pipefail
STOP=3 RUN=2 FOR=300
while [ $# -gt 0 ]; do
	case "$1" in
	--stop) STOP=$2; shift 2 ;;
	--run) RUN=$2; shift 2 ;;
	--for) FOR=$2; shift 2 ;;
	*) echo "usage: $0 [--stop S] [--run S] [--for S]" >&2; exit 2 ;;
	esac
done
start=$(date +%s)
pid=''
cont() { [ -z "$pid" ] || kill -CONT "$pid" 2>/dev/null || true; }
trap cont EXIT
while [ $(($(date +%s) - start)) -lt "$FOR" ]; do
	pid=$(pgrep -n qemu-system || true)
	if [ -n "$pid" ]; then
		sleep "$RUN"
		kill -STOP "$pid" 2>/dev/null || continue
		echo "$(date -u +%T) qemu $pid stopped for ${STOP}s"
		sleep "$STOP"
		cont
	else
		sleep 0.2
	fi
done
