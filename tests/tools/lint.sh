#!/bin/bash
# Static analysis (issue 9): cppcheck and clang-tidy over src/ (and tests/bench for cppcheck),
# zero findings allowed. See docs/testing.md, "Static analysis".
#
#   tests/tools/lint.sh [--build-dir DIR] [--jobs N] [cppcheck] [clang-tidy]
#     --build-dir DIR   where to configure (compile_commands.json only, nothing is built;
#                       default <repo>/build-lint)
#     --jobs N          parallel analyser processes (default $TARGETD_JOBS or 2)
#     cppcheck          run cppcheck only; clang-tidy: run clang-tidy only (default: both)
#
# Include paths and defines come from CMake's compile_commands.json, so the analysers see
# exactly what the compiler sees. cppcheck: --enable=warning,style,performance,portability with
# --inline-suppr; clang-tidy: the check set in the repository's .clang-tidy, every check an
# error. Each finding is printed as FILE:LINE:COL: ... [check]; the script prints one line
# "lint TOOL: N findings (S s)" per tool and exits non-zero if any tool found anything
# (or could not run).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-lint"
jobs=${TARGETD_JOBS:-2}
tools=()

while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	cppcheck|clang-tidy) tools+=("$1"); shift ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "lint.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ ${#tools[@]} -gt 0 ] || tools=(cppcheck clang-tidy)

mkdir -p "$build"
build=$(cd "$build" && pwd)
# Configure only: CMake writes compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS is on in
# the top CMakeLists.txt). No -Werror: clang-tidy reports compiler warnings by itself.
if ! cmake -S "$top" -B "$build" -DTARGETD_TESTS=ON -DTARGETD_WERROR=OFF \
	-DTARGETD_SANITIZE=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$build/configure.log" 2>&1; then
	cat "$build/configure.log"
	echo "lint.sh: cmake configure failed" >&2
	exit 2
fi
db="$build/compile_commands.json"

# Every src/**/*.c must be in the compile database, or it would escape both tools.
mapfile -t srcs < <(cd "$top" && find src -name '*.c' | sort)
missing=0
for f in "${srcs[@]}"; do
	if ! grep -q "\"file\": \"$top/$f\"" "$db"; then
		echo "lint.sh: $f is not in $db" >&2
		missing=1
	fi
done
[ $missing -eq 0 ] || exit 2

status=0

run_cppcheck() {
	local out="$build/cppcheck.txt" t0 n rc
	t0=$(date +%s)
	mkdir -p "$build/cppcheck-cache"
	# missingIncludeSystem: cppcheck is not given the system include paths (on purpose: its
	# library files --library=... model libc/POSIX instead, and parsing glibc headers is slow
	# and noisy). checkersReport/unmatchedSuppression: informational, not findings.
	cppcheck --project="$db" --file-filter="$top/src/*" --file-filter="$top/tests/bench/*" \
		--enable=warning,style,performance,portability --std=c11 \
		--library=posix --library=gnu --library=openssl \
		--inline-suppr --error-exitcode=1 -j "$jobs" -q \
		--cppcheck-build-dir="$build/cppcheck-cache" \
		--suppress=missingIncludeSystem --suppress=unmatchedSuppression \
		--suppressions-list="$here/cppcheck-suppressions.txt" \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
		>"$out" 2>&1
	rc=$?
	sed "s|^$top/||" "$out"
	n=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: [a-z]+: .*\[[A-Za-z0-9_]+\]$' "$out")
	echo "lint cppcheck: $n findings ($(($(date +%s) - t0)) s)"
	if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ]; then
		status=1
	fi
}

run_clang_tidy() {
	local dir="$build/clang-tidy" t0 n rc
	t0=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir"
	# One clang-tidy per file, $jobs at a time; each writes its own log so output does not
	# interleave. A header finding repeats in every file that includes it: printed once.
	printf '%s\n' "${srcs[@]}" | (cd "$top" && xargs -P "$jobs" -I{} sh -c \
		'clang-tidy -p "$1" --quiet "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 ||
			echo "$2" >>"$3/failed"' sh "$build" {} "$dir")
	rc=0
	[ ! -s "$dir/failed" ] || rc=1
	cat "$dir"/*.log | grep -vE '^[0-9]+ (warnings?|errors?) (and [0-9]+ errors? )?generated\.$' |
		grep -vE '^(Suppressed [0-9]+ warnings|Use -header-filter|Use -system-headers)' |
		grep -vE 'treated as errors?\.?$' | sed "s|^$top/||" >"$dir/all.txt"
	grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): .*\]$' "$dir/all.txt" | sort -u \
		>"$dir/findings.txt"
	n=$(wc -l <"$dir/findings.txt")
	if [ "$n" -gt 0 ]; then
		cat "$dir/all.txt"
		echo "--- clang-tidy findings, each once:"
		cat "$dir/findings.txt"
	elif [ "$rc" -ne 0 ]; then
		cat "$dir/all.txt"
		echo "lint.sh: clang-tidy failed on: $(tr '\n' ' ' <"$dir/failed")" >&2
	fi
	echo "lint clang-tidy: $n findings ($(($(date +%s) - t0)) s)"
	if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ]; then
		status=1
	fi
}

for t in "${tools[@]}"; do
	if ! command -v "$t" >/dev/null; then
		echo "lint.sh: $t not found (apt-get install $t)" >&2
		status=1
		continue
	fi
	echo "=== lint: $t"
	case $t in
	cppcheck) run_cppcheck ;;
	clang-tidy) run_clang_tidy ;;
	esac
done
exit $status
