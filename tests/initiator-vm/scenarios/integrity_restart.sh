# SPDX-License-Identifier: MIT
# Scenario 6: data integrity under load across a target restart. A writer
# fills CHUNKS chunks of 1 MiB with random data through O_DIRECT while a
# reader re-reads chunks already written and checks their checksums; a third
# of the way in, the host kills targetd (SIGKILL) and starts it again. The
# Linux initiator queues and retries the commands that were in flight
# (session recovery, RFC 7143 7.1.4 / 6.2), so the job finishes, and every
# chunk must read back equal -- through the target here, and in the backing
# file on the host (test_initiator_vm.py compares the RESULT sha256).
# STALLS=N: before the restart, N times ask the host to freeze this VM for a
# few seconds ("stall-K"), long enough for targetd to drop the connection on
# an unanswered NOP-In (RFC 7143 11.19); the session is reinstated each time.
# shellcheck source=../guest/lib.sh
. ./lib.sh

CHUNKS=${CHUNKS:-24}
STALLS=${STALLS:-0}
OFF=8 # MiB
set_iscsid_conf node.session.timeo.replacement_timeout 60
discover
login
dev=$(disk_of "$INITIATOR") || fail "no disk after login"
step "LU 0 is $dev; $CHUNKS MiB at $OFF MiB"

mkdir -p /tmp/chunks
i=0
while [ $i -lt "$CHUNKS" ]; do
	dd if=/dev/urandom of=/tmp/chunks/$i bs=1M count=1 2>/dev/null
	sha256sum /tmp/chunks/$i | cut -d' ' -f1 >/tmp/chunks/$i.sum
	i=$((i + 1))
done
cat /tmp/chunks/[0-9] /tmp/chunks/[0-9][0-9] 2>/dev/null >/tmp/all # 0..99 in order
want=$(sha256sum /tmp/all | cut -d' ' -f1)
rm -f /tmp/all

# writer: chunk i at OFF + i MiB; /tmp/written counts the chunks done
writer() {
	i=0
	while [ $i -lt "$CHUNKS" ]; do
		dd if=/tmp/chunks/$i of="$dev" bs=1M seek=$((OFF + i)) oflag=direct \
			2>/tmp/writer.err || { echo "writer: chunk $i: $(cat /tmp/writer.err)"; return 1; }
		i=$((i + 1))
		echo $i >/tmp/written
	done
}
# reader: re-reads random written chunks and compares; /tmp/reads counts
reader() {
	r=0
	while [ ! -f /tmp/writer.done ]; do
		w=$(cat /tmp/written 2>/dev/null || echo 0)
		if [ "$w" -gt 0 ]; then
			k=$((($(head -c 2 /dev/urandom | od -An -tu2) + 0) % w))
			got=$(sha256_of "$dev" $((OFF + k)) 1)
			[ "$got" = "$(cat /tmp/chunks/$k.sum)" ] ||
				{ echo "reader: chunk $k: got $got, want $(cat /tmp/chunks/$k.sum)"; return 1; }
			r=$((r + 1))
			echo $r >/tmp/reads
		fi
	done
}

before=$(portal_conns | tr '\n' ' ')
t0=$(uptime_s)
(writer; echo $? >/tmp/writer.rc; touch /tmp/writer.done) &
(reader; echo $? >/tmp/reader.rc) &
asked=0 stalled=0
while [ ! -f /tmp/writer.done ]; do
	w=$(cat /tmp/written 2>/dev/null || echo 0)
	# stall K at K/(STALLS+1) of the way to the restart
	if [ $stalled -lt "$STALLS" ] &&
		[ "$w" -ge $(((stalled + 1) * CHUNKS / (3 * (STALLS + 1)))) ]; then
		stalled=$((stalled + 1))
		step "$w chunks written: asking the host to freeze this VM (stall $stalled)"
		host_action "stall-$stalled"
	fi
	if [ $asked -eq 0 ] && [ $stalled -eq "$STALLS" ] && [ "$w" -ge $((CHUNKS / 3)) ]; then
		step "$w chunks written: asking the host to kill and restart targetd"
		host_action restart-target
		asked=1
	fi
	sleep 0.1
done
wait
t1=$(uptime_s)
[ $asked -eq 1 ] || fail "the writer finished before the restart was asked for"
[ $stalled -eq "$STALLS" ] || fail "the writer finished after $stalled of $STALLS stalls"
[ "$(cat /tmp/writer.rc)" = 0 ] || fail "writer failed"
[ "$(cat /tmp/reader.rc)" = 0 ] || fail "reader found a difference"
echo "writer done, reader verified $(cat /tmp/reads 2>/dev/null || echo 0) chunks during the job"
echo "RESULT job_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')"

# The restart must really have happened while the job ran.
wait_reconnect "$before" 1 60 || fail "the session was never re-established (now: $now)"
echo "connections before: $before after: $now"

step "verify every chunk through the target"
run sg_turs "$dev" # a pending POWER ON unit attention, if any
i=0
while [ $i -lt "$CHUNKS" ]; do
	got=$(sha256_of "$dev" $((OFF + i)) 1)
	if [ "$got" != "$(cat /tmp/chunks/$i.sum)" ]; then
		echo "RESULT bad_chunk_mib=$((OFF + i))" # the host reports what its file holds there
		fail "chunk $i differs after the job: got $got, want $(cat /tmp/chunks/$i.sum)"
	fi
	i=$((i + 1))
done
all=$(sha256_of "$dev" $OFF "$CHUNKS")
[ "$all" = "$want" ] || fail "whole range: $all, want $want"
echo "RESULT sha256=$want"
echo "RESULT offset_mib=$OFF"
echo "RESULT length_mib=$CHUNKS"
logout
step "done"
