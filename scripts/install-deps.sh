#!/bin/bash
# Install every Debian package targetd needs to build, test and benchmark.
# Idempotent and quiet: when everything is already installed (dpkg -s) it does
# not touch apt at all, so local runs stay fast. Needs root only when something
# is missing.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libaio-dev libinih-dev uuid-dev libisal-dev
	libssl-dev libsystemd-dev)
test_pkgs=(libcmocka-dev libiscsi-dev libiscsi-bin sg3-utils python3 clang clang-format
	util-linux systemd man-db libclang-rt-14-dev cppcheck clang-tidy valgrind)
# Benchmarks and the side-by-side comparison (tgt is also the conformance runner's
# self-check; tgt, jq and iproute2's ss are what the bench smoke test runs compare.sh with).
bench_pkgs=(tgt fio iperf3 jq iproute2)

pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages and not root; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
