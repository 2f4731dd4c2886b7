#!/bin/bash
# Build targetd and run every test, twice: a -Werror build (build-ci) and an
# ASan+UBSan build (build-ci-san). Then the fuzz harnesses briefly, cppcheck and
# clang-tidy (tests/tools/lint.sh) and the clang-format check. Between them,
# a third build (build-ci-vg) runs the integration tests with targetd under
# valgrind memcheck.
# Labels run: unit, integration, conformance (and the boundary check, label unit).
# Prints "targetd tests: N passed, M failed" last; exits non-zero on any failure.
# A build failure does not stop the run: ctest still runs what was built and
# counts what was not as failed, so one broken module does not hide the rest.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

jobs=${TARGETD_JOBS:-2}
passed=0
failed=0
failures=()

note_fail() {
	failed=$((failed + 1))
	failures+=("$1")
}

if ! bash scripts/install-deps.sh; then
	echo "test.sh: installing dependencies failed" >&2
	echo "targetd tests: 0 passed, 1 failed"
	exit 1
fi

# build_and_test DIR NAME [cmake options...]
build_and_test() {
	local dir=$1 name=$2
	shift 2
	local log=$top/$dir/ctest.log
	echo "=== $name: configure ($dir)"
	mkdir -p "$top/$dir"
	if ! cmake -S "$top" -B "$top/$dir" -DTARGETD_TESTS=ON -DTARGETD_WERROR=ON "$@" \
		>"$top/$dir/configure.log" 2>&1; then
		cat "$top/$dir/configure.log"
		note_fail "$name: cmake configure"
		return
	fi
	echo "=== $name: build"
	local keep=-k
	if grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$top/$dir/CMakeCache.txt"; then
		keep="-k0"
	fi
	local targets=()
	if [ ${#build_targets[@]} -gt 0 ]; then
		targets=(--target "${build_targets[@]}")
	fi
	if ! cmake --build "$top/$dir" -j"$jobs" "${targets[@]}" -- "$keep" \
		>"$top/$dir/build.log" 2>&1; then
		grep -E 'error|Error' "$top/$dir/build.log" | head -40
		note_fail "$name: build (see $dir/build.log)"
	fi
	echo "=== $name: ctest"
	ctest --test-dir "$top/$dir" -j"${ctest_jobs:-$jobs}" --output-on-failure --timeout 600 \
		"${ctest_extra[@]}" --output-junit "$top/$dir/ctest-junit.xml" 2>&1 | tee "$log"
	local line total nfail
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		if grep -q 'No tests were found' "$log"; then
			note_fail "$name: no tests found"
		else
			note_fail "$name: ctest did not report a result"
		fi
		return
	fi
	total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
	nfail=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
	passed=$((passed + total - nfail))
	failed=$((failed + nfail))
	if [ "$nfail" -gt 0 ]; then
		while IFS= read -r t; do
			failures+=("$name: $t")
		done < <(sed -n '/The following tests FAILED:/,$p' "$log" |
			sed -nE 's/^[[:space:]]+[0-9]+ - (.*)$/\1/p')
	fi
}

start=$(date +%s)

ctest_extra=()
build_targets=()
build_and_test build-ci "werror"

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The qemu initiator VM tests (label initiator, issue 7) run once, against the
# -Werror build: they test the protocol with real Linux initiators, and a second
# run under software emulation would double their minutes for little gain.
ctest_extra=(-LE initiator)
build_and_test build-ci-san "sanitize" -DTARGETD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
unset ASAN_OPTIONS UBSAN_OPTIONS

# valgrind memcheck (issue 9): a third build, plain -O1 -g without sanitizers
# (-DTARGETD_VALGRIND=ON), runs the integration label with TARGETD_VALGRIND=1:
# targetd_harness.py starts targetd under memcheck and any error, leak or
# descriptor left open at exit fails the test. Only the binaries those tests
# need are built. One ctest more than $jobs at a time: the tests mostly wait
# (about 100 s of CPU in 280 s). The whole label but install (no daemon) and
# harness (the fakes; the valgrind self-check runs in the other two passes):
# about 3 minutes on 2 cores (docs/testing.md, "valgrind").
VG_EXCLUDE=${TARGETD_VG_EXCLUDE:-'^(initiator|install|harness)$'}
if command -v valgrind >/dev/null; then
	ctest_extra=(-L integration -LE "$VG_EXCLUDE")
	ctest_jobs=$((jobs + 1))
	build_targets=(targetd targetctl iscsi_rw_verify iscsi_probe iscsi_pr pr_scenarios)
	build_and_test build-ci-vg "valgrind" -DTARGETD_VALGRIND=ON -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	build_targets=()
	unset ctest_jobs
else
	note_fail "valgrind: not installed (scripts/install-deps.sh)"
fi

# libFuzzer harnesses (issue 9): each replays its regression inputs, then fuzzes 10 s.
if command -v clang >/dev/null; then
	echo "=== fuzz (10 s per harness + regress)"
	if tests/fuzz/run-fuzz.sh 10; then
		passed=$((passed + 1))
	else
		note_fail "fuzz: tests/fuzz/run-fuzz.sh 10 (crash inputs in build-fuzz/fuzz-artifacts)"
	fi
fi

# Static analysis (issue 9): cppcheck and clang-tidy over src/, zero findings; one step each.
for tool in cppcheck clang-tidy; do
	if bash tests/tools/lint.sh --jobs "$jobs" "$tool"; then
		passed=$((passed + 1))
	else
		note_fail "lint: $tool (tests/tools/lint.sh $tool; output above)"
	fi
done

echo "=== clang-format"
mapfile -t cfiles < <(find src include tests -name '*.[ch]' -not -path '*/build*' | sort)
fmt_bad=0
for f in "${cfiles[@]}"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "clang-format: $f needs formatting (clang-format -i $f)"
		fmt_bad=$((fmt_bad + 1))
		failures+=("clang-format: $f")
	fi
done
if [ "$fmt_bad" -eq 0 ]; then
	passed=$((passed + 1))
else
	failed=$((failed + fmt_bad))
fi

echo
echo "=== finished in $(($(date +%s) - start)) s"
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "targetd tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
