#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-vm.sh --port P --target IQN --initiator IQN1 [--initiator2 IQN2]
#           --script guest.sh [--timeout S] [--cache DIR] [--log FILE]
#           [--env NAME=VALUE]... [--memory MB] [--fence]
#
# Boots the initiator VM (build-image.sh, cached) with qemu in software
# emulation, runs guest.sh inside it and exits with guest.sh's exit status,
# printing what the guest printed. The guest reaches the host's loopback as
# 10.0.2.2 (qemu user networking), so the target listens on 127.0.0.1:P and
# advertises 10.0.2.2:P for SendTargets.
#
# guest.sh runs under busybox sh with guest/lib.sh beside it and these
# variables: TARGET, INITIATOR, INITIATOR2, PORTAL (10.0.2.2:P), PORT and every
# --env. The script and the variables travel as a second cpio archive appended
# to the image's initramfs (the kernel unpacks concatenated archives).
#
# Hard timeout (default 120 s): qemu is killed by the PID this script started,
# and only that one; exit 124 then. Other exits: 125 the VM never ran the
# script, 77 qemu cannot run on this host. The full serial console is kept in
# --log FILE (default: a temporary file, removed on success).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT='' TARGET='' INITIATOR='' INITIATOR2='' SCRIPT='' TIMEOUT=120 CACHE='' LOG='' MEM=512
EXTRA_ENV=()
IMAGE_OPTS=()

usage() {
	sed -n '4,7p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--port) PORT=$2 ;;
	--target) TARGET=$2 ;;
	--initiator) INITIATOR=$2 ;;
	--initiator2) INITIATOR2=$2 ;;
	--script) SCRIPT=$2 ;;
	--timeout) TIMEOUT=$2 ;;
	--cache) CACHE=$2 ;;
	--log) LOG=$2 ;;
	--memory) MEM=$2 ;;
	--env) EXTRA_ENV+=("$2") ;;
	--fence) # the image with python3 and fence_scsi
		IMAGE_OPTS+=(--fence)
		shift
		continue
		;;
	*) usage ;;
	esac
	shift 2 || usage
done
[ -n "$PORT" ] && [ -n "$TARGET" ] && [ -n "$INITIATOR" ] && [ -n "$SCRIPT" ] || usage

log() { printf 'run-vm: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

QEMU=$(command -v qemu-system-x86_64 || true)
if [ -z "$QEMU" ]; then
	# build-image.sh installs it; run it first so a fresh host gets qemu.
	"$HERE/build-image.sh" "${IMAGE_OPTS[@]+"${IMAGE_OPTS[@]}"}" ${CACHE:+"$CACHE"} >/dev/null ||
		exit $?
	QEMU=$(command -v qemu-system-x86_64 || true)
	[ -n "$QEMU" ] || { log "SKIP: qemu-system-x86_64 not available"; exit 77; }
fi
out=$("$HERE/build-image.sh" "${IMAGE_OPTS[@]+"${IMAGE_OPTS[@]}"}" ${CACHE:+"$CACHE"}) || exit $?
IMAGE_DIR=${out##*IMAGE_DIR=}
KERNEL=$(sed -n 's/^KERNEL=//p' "$IMAGE_DIR/image.env")
for f in "$IMAGE_DIR/$KERNEL" "$IMAGE_DIR/initrd.img"; do
	[ -s "$f" ] || { log "broken image: $f missing or empty"; exit 125; }
done

RUN=$(mktemp -d "${TMPDIR:-/tmp}/targetd-vm.XXXXXX")
QPID=
WDPID=
cleanup() {
	# Only what this script started, by PID.
	[ -n "$WDPID" ] && kill "$WDPID" 2>/dev/null || true
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null || true
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# ---- per-run archive: /guest/{env,script.sh,lib.sh} -----------------------
mkdir -p "$RUN/root/guest"
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "TARGET=$(q "$TARGET")"
	echo "INITIATOR=$(q "$INITIATOR")"
	echo "INITIATOR2=$(q "$INITIATOR2")"
	echo "PORT=$(q "$PORT")"
	echo "PORTAL=$(q "10.0.2.2:$PORT")"
	for e in "${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"}"; do
		echo "${e%%=*}=$(q "${e#*=}")"
		echo "export ${e%%=*}"
	done
	echo "export TARGET INITIATOR INITIATOR2 PORT PORTAL"
} >"$RUN/root/guest/env"
cp "$SCRIPT" "$RUN/root/guest/script.sh"
cp "$HERE/guest/lib.sh" "$RUN/root/guest/lib.sh"
(cd "$RUN/root" && find . | cpio -o -H newc --owner=0:0 --quiet) >"$RUN/guest.cpio"
cat "$IMAGE_DIR/initrd.img" "$RUN/guest.cpio" >"$RUN/initrd.img"

# ---- boot --------------------------------------------------------------------
CONSOLE=${LOG:-$RUN/console.log}
: >"$CONSOLE"
ACCEL=tcg
if [ -w /dev/kvm ]; then
	ACCEL=kvm
fi
t0=$(now)
# User networking: 10.0.2.2 is the host's loopback. The guest scripts talk to
# that address only (the image has no resolver configuration and no route
# use beyond the portal).
"$QEMU" -machine q35,accel=$ACCEL -cpu max -smp 1 -m "$MEM" \
	-display none -monitor none -serial "file:$CONSOLE" -no-reboot \
	-nodefaults -no-user-config \
	-netdev user,id=n0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3 \
	-device virtio-net-pci,netdev=n0,romfile= \
	-kernel "$IMAGE_DIR/$KERNEL" -initrd "$RUN/initrd.img" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic mitigations=off tsc=reliable no_timer_check" \
	</dev/null >"$RUN/qemu.out" 2>&1 &
QPID=$!
# Watchdog: its sleep must not outlive it (it would hold our stdout open).
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$TIMEOUT" &
	sp=$!
	wait "$sp"
	echo timeout >"$RUN/timed-out"
	kill -9 "$QPID"
) >/dev/null 2>&1 &
WDPID=$!
qrc=0
wait "$QPID" || qrc=$?
QPID=
kill "$WDPID" 2>/dev/null || true
wait "$WDPID" 2>/dev/null || true
WDPID=
elapsed=$(since "$t0")

tr -d '\r' <"$CONSOLE" >"$RUN/console.txt"
begin=$(sed -n 's/.*@@TARGETD-VM-BEGIN uptime=\([0-9.]*\)@@.*/\1/p' "$RUN/console.txt" | head -1)
exit_line=$(grep -o '@@TARGETD-VM-EXIT rc=[0-9]*' "$RUN/console.txt" | head -1 || true)

# What the guest script printed: the lines between the two markers.
sed -n '/@@TARGETD-VM-BEGIN/,/@@TARGETD-VM-EXIT/p' "$RUN/console.txt" |
	grep -v '@@TARGETD-VM-' || true

if [ -f "$RUN/timed-out" ]; then
	log "TIMEOUT after ${TIMEOUT}s; console:"
	tail -n 40 "$RUN/console.txt" >&2
	[ -n "$LOG" ] || cp "$RUN/console.txt" "${TMPDIR:-/tmp}/targetd-vm-timeout.log" || true
	exit 124
fi
if [ -z "$exit_line" ]; then
	if [ "$qrc" -ne 0 ] && [ ! -s "$RUN/console.txt" ]; then
		# The image files were checked above: qemu itself cannot run here.
		log "SKIP: qemu cannot run on this host (exit $qrc):"
		cat "$RUN/qemu.out" >&2
		exit 77
	fi
	log "the VM stopped without running the script (qemu status $qrc); console:"
	tail -n 60 "$RUN/console.txt" >&2
	cat "$RUN/qemu.out" >&2
	exit 125
fi
rc=${exit_line##*rc=}
log "guest script exit $rc; booted to script start in ${begin:-?}s (guest clock)," \
	"VM total ${elapsed}s (host clock), accel $ACCEL"
exit "$rc"
