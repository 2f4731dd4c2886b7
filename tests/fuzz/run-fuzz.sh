#!/bin/bash
# Run the libFuzzer harnesses (docs/fuzzing.md).
#
#   tests/fuzz/run-fuzz.sh [options] [SECONDS]      (default 20 s per harness)
#     --build-dir DIR   build directory (default: <repo>/build-fuzz)
#     --no-build        do not configure/build; use the binaries in DIR
#     --only NAME       run one harness (pdu keys cdb prout aptpl conf chap); repeatable
#     --jobs N          build parallelism (default 2)
#
# Configures DIR with clang and -DTARGETD_FUZZ=ON (module libraries built with
# -fsanitize=fuzzer-no-link,address,undefined), builds the fuzz_* targets,
# then for each harness: replays tests/fuzz/regress/<name>/* (every file a
# past crash, must pass now), and fuzzes for SECONDS on a temporary copy of
# tests/fuzz/corpus/<name>/ (the checked-in corpus never grows). Prints the
# executions and coverage (libFuzzer's final cov:/ft:) per harness. Crash
# inputs are kept in DIR/fuzz-artifacts/<name>/; the script exits non-zero on
# any crash, leak, timeout or failed regression input.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-fuzz"
do_build=1
jobs=2
only=()
secs=20
all=(pdu keys cdb prout aptpl conf chap)

while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift 2 ;;
	--no-build) do_build=0; shift ;;
	--only) only+=("$2"); shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	[0-9]*) secs=$1; shift ;;
	*) echo "run-fuzz.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ ${#only[@]} -gt 0 ] || only=("${all[@]}")

if [ $do_build -eq 1 ]; then
	cc=${CC:-clang}
	if ! command -v "$cc" >/dev/null; then
		echo "run-fuzz.sh: $cc not found (apt-get install clang)" >&2
		exit 2
	fi
	echo "=== configure $build (CC=$cc, TARGETD_FUZZ=ON)"
	mkdir -p "$build"
	if ! CC=$cc cmake -S "$top" -B "$build" -DTARGETD_FUZZ=ON -DTARGETD_TESTS=ON \
		-DTARGETD_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		"-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g" >"$build/fuzz-configure.log" 2>&1; then
		cat "$build/fuzz-configure.log"
		exit 2
	fi
	echo "=== build"
	targets=()
	for n in "${only[@]}"; do targets+=(--target "fuzz_$n"); done
	if ! cmake --build "$build" -j"$jobs" "${targets[@]}" >"$build/fuzz-build.log" 2>&1; then
		grep -E 'error' "$build/fuzz-build.log" | head -30
		echo "run-fuzz.sh: build failed (see $build/fuzz-build.log)" >&2
		exit 2
	fi
fi

tmp=$(mktemp -d /tmp/targetd-fuzz-run.XXXXXX)
export TMPDIR=$tmp # harness state dirs (APTPL files) die with the run
trap 'rm -rf "$tmp"' EXIT
fail=0
summary=()

for n in "${only[@]}"; do
	bin="$build/tests/fuzz/fuzz_$n"
	if [ ! -x "$bin" ]; then
		echo "run-fuzz.sh: $bin missing" >&2
		summary+=("$(printf '%-6s MISSING' "$n")")
		fail=1
		continue
	fi
	art="$build/fuzz-artifacts/$n"
	mkdir -p "$art"
	opts=(-close_fd_mask=2 -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
		"-artifact_prefix=$art/")
	[ -f "$here/$n.dict" ] && opts+=("-dict=$here/$n.dict")
	case $n in
	pdu) opts+=(-max_len=16384) ;;
	*) opts+=(-max_len=8192) ;;
	esac

	# 1. regression inputs: each must run clean
	reg="$here/regress/$n"
	nreg=0
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		nreg=$(find "$reg" -type f | wc -l)
		if ! "$bin" "${opts[@]}" "$reg"/* >"$tmp/$n.regress.log" 2>&1; then
			echo "=== $n: REGRESSION input failed"
			grep -E 'ERROR|SUMMARY|invariant|Running:' "$tmp/$n.regress.log" | head -20
			fail=1
		fi
	fi

	# 2. fuzz on a throw-away copy of the seed corpus
	mkdir -p "$tmp/corpus-$n"
	[ -d "$here/corpus/$n" ] && cp -r "$here/corpus/$n/." "$tmp/corpus-$n/"
	echo "=== $n: fuzzing ${secs}s"
	"$bin" "${opts[@]}" -max_total_time="$secs" "$tmp/corpus-$n" >"$tmp/$n.log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/$n.log" | awk '{print $2}')
	cov=$(grep -E '^#[0-9]+.*cov: ' "$tmp/$n.log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
	ft=$(grep -E '^#[0-9]+.*ft: ' "$tmp/$n.log" | tail -1 | sed -E 's/.*ft: ([0-9]+).*/\1/')
	corp=$(ls "$tmp/corpus-$n" | wc -l)
	status=ok
	if [ $rc -ne 0 ]; then
		status="CRASH (rc $rc)"
		fail=1
		grep -E 'ERROR: |SUMMARY: |invariant broken|hang:|Test unit written' "$tmp/$n.log" |
			head -20
		cp "$tmp/$n.log" "$art/last-run.log"
	fi
	summary+=("$(printf '%-6s execs %-9s cov %-6s ft %-6s corpus %-5s regress %-3s %s' \
		"$n" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$nreg" "$status")")
done

echo "=== fuzz summary (${secs}s per harness)"
printf '%s\n' "${summary[@]}"
exit $fail
