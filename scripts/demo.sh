#!/bin/bash
# Build targetd (Release) and run it in the foreground exporting one sparse 1 GiB
# file as LUN 0 of iqn.2026-11.org.example:demo on 127.0.0.1:3260.
# From another shell:  iscsi-ls -s iscsi://127.0.0.1
# Stop with Ctrl-C (SIGINT) or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

build=build-release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTARGETD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target targetd

demo=/var/tmp/targetd-demo
img=$demo/disk.img
mkdir -p "$demo/state"
if [ ! -e "$img" ]; then
	truncate -s 1G "$img"
fi

iqn=iqn.2026-11.org.example:demo
echo "demo: exporting $img as $iqn LUN 0 on 127.0.0.1:3260"
echo "demo: try   iscsi-ls -s iscsi://127.0.0.1"
exec "$build/targetd" -f --listen 127.0.0.1:3260 --export "$iqn=$img" --state-dir "$demo/state"
