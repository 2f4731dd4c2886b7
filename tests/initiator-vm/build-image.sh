#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build-image.sh [--fence] [CACHE_DIR] -- build the throwaway initiator VM image.
#
# The image is Debian 12's own kernel (linux-image-amd64, fetched with
# `apt-get download` and unpacked, never installed) plus an initramfs holding
# busybox, the kernel modules the Linux iSCSI initiator needs (iscsi_tcp and
# its dependencies, matched to that kernel), open-iscsi (iscsid, iscsiadm) and
# sg3_utils with their shared libraries. --fence adds python3 (the host's
# interpreter and standard library) and Debian's fence-agents (fence_scsi) with
# the Python modules it imports. See docs/initiator-vm.md.
#
# The result lives in CACHE_DIR/<variant>-<key>/ (vmlinux, vmlinuz,
# initrd.img, image.env); the key hashes the package versions and the image
# recipe, so a second run with nothing changed only checks versions and prints
# the directory. CACHE_DIR/current-<variant> points at the newest image of a
# variant (base or fence). Builds are serialised with flock.
#
# Prints "IMAGE_DIR=<dir>" as its last line. Exit 0 on success, 77 when the
# host cannot provide the packages (no apt, no network to the mirror).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARGS=("$@")
VARIANT=base
if [ "${1:-}" = --fence ]; then
	VARIANT=fence
	shift
fi
CACHE_DIR=${1:-${TARGETD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/targetd-initiator-vm}}
mkdir -p "$CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

# Host tools: qemu to boot the image (run-vm.sh), the rest to build it.
HOST_PKGS=(qemu-system-x86 busybox-static cpio kmod xz-utils)
# Unpacked into the image (with the shared libraries their binaries need).
GUEST_PKGS=(open-iscsi libisns0 libopeniscsiusr sg3-utils libsgutils2-1.46-2)
# --fence: fence_scsi and what fencing.py imports (pexpect, pycurl).
FENCE_PKGS=(fence-agents python3-pexpect python3-ptyprocess python3-pycurl)
# The host's interpreter is copied; its packages are part of the cache key.
FENCE_HOST_PKGS=(python3.11 libpython3.11-stdlib libcurl3-gnutls)
[ "$VARIANT" = fence ] && GUEST_PKGS+=("${FENCE_PKGS[@]}")
# Modules the initiator needs; dependencies come from modules.dep.
MODULES=(virtio_pci virtio_net iscsi_tcp sd_mod sg crc32c_generic)

export DEBIAN_FRONTEND=noninteractive

ensure_host_pkgs() {
	local missing=() p
	for p in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
	log "installing host packages: ${missing[*]}"
	if ! apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >&2; then
		apt-get update -q >&2 || skip "apt-get update failed"
		apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >&2 ||
			skip "cannot install ${missing[*]}"
	fi
}

# Candidate versions from the local apt lists (no network), one apt-cache call:
# prints "package=version" lines.
pkg_versions() {
	apt-cache show --no-all-versions "$@" 2>/dev/null |
		awk '/^Package: / { p = $2 } /^Version: / { print p "=" $2 }'
}

# linux-image-amd64 is a metapackage: the kernel is its linux-image-* dependency.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1
}

# One build at a time per cache (parallel ctest jobs; apt's own locks).
exec 9>"$CACHE_DIR/.lock"
flock 9
ensure_host_pkgs

# apt-cache takes seconds here (no pkgcache.bin), so the versions are kept per
# state of the apt lists and dpkg status: they change only with apt-get update
# or an install.
APT_STAMP=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* /var/lib/dpkg/status 2>/dev/null |
	sha256sum | cut -c1-16)
VFILE="$CACHE_DIR/.versions-$APT_STAMP"
if [ -s "$VFILE" ]; then
	KPKG=$(head -1 "$VFILE")
	VERSIONS=$(tail -n +2 "$VFILE")
else
	[ -n "$(kernel_pkg)" ] || { apt-get update -q >&2 || skip "apt-get update failed"; }
	KPKG=$(kernel_pkg)
	[ -n "$KPKG" ] || skip "apt knows no linux-image-amd64"
	VERSIONS=$(pkg_versions "$KPKG" "${GUEST_PKGS[@]}" busybox-static libc6 libssl3 libkmod2 \
		libsystemd0 libmount1)
	rm -f "$CACHE_DIR"/.versions-*
	printf '%s\n%s\n' "$KPKG" "$VERSIONS" >"$VFILE.tmp" && mv "$VFILE.tmp" "$VFILE"
fi
# Cache key: every package that ends up in the image (the host's busybox and
# libc are copied too) and the image recipe itself.
HOST_VERSIONS=
if [ "$VARIANT" = fence ]; then
	HOST_VERSIONS=$(dpkg-query -W "${FENCE_HOST_PKGS[@]}" 2>/dev/null) ||
		die "--fence needs the host packages ${FENCE_HOST_PKGS[*]}"
fi
KEY=$VARIANT-$( (echo "$VERSIONS$HOST_VERSIONS"; cat "$HERE/build-image.sh" "$HERE/guest/init") |
	sha256sum | cut -c1-16)
OUT="$CACHE_DIR/$KEY"

if [ -f "$OUT/image.env" ]; then
	log "cached image $OUT"
	echo "IMAGE_DIR=$OUT"
	exit 0
fi

t0=$(date +%s.%N)
WORK=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEBS="$WORK/debs"
UNPACK="$WORK/unpack"
ROOT="$WORK/root"
mkdir -p "$DEBS" "$UNPACK" "$ROOT"

log "downloading $KPKG ${GUEST_PKGS[*]}"
# apt-get download writes into the current directory; the _apt sandbox user
# may not reach a private temp directory, which only costs a warning.
if ! (cd "$DEBS" && apt-get download -q "$KPKG" "${GUEST_PKGS[@]}" >&2 2>"$WORK/download.log"); then
	cat "$WORK/download.log" >&2
	# Stale lists name versions the mirror no longer has: update, start over.
	if [ -z "${TARGETD_VM_REEXEC:-}" ] && apt-get update -q >&2; then
		log "apt-get download failed; retrying after apt-get update"
		rm -rf "$WORK"
		exec 9>&-
		TARGETD_VM_REEXEC=1 exec "$0" "${ARGS[@]+"${ARGS[@]}"}"
	fi
	skip "apt-get download failed"
fi

# The kernel package is 70 MB: unpack only the image and the module tree.
kdeb=$(ls "$DEBS"/linux-image-*.deb)
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$UNPACK" --wildcards './boot/vmlinuz-*' \
	'./lib/modules/*/modules.*' './lib/modules/*/kernel/drivers/scsi/*' \
	'./lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/drivers/net/*' \
	'./lib/modules/*/kernel/net/core/*' './lib/modules/*/kernel/crypto/*' \
	'./lib/modules/*/kernel/lib/*' './lib/modules/*/kernel/block/*' './boot/config-*'
for d in "$DEBS"/*.deb; do
	[ "$d" = "$kdeb" ] || dpkg-deb -x "$d" "$UNPACK"
done
KVER=$(basename "$(ls -d "$UNPACK"/lib/modules/*)")
# modules.dep is made by the package's postinst; make it here for the subset.
depmod -b "$UNPACK" "$KVER"
MODDIR="$UNPACK/lib/modules/$KVER"

# ---- file system skeleton (merged /usr like Debian 12) --------------------
mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,proc,sys,dev,run,tmp}
mkdir -p "$ROOT"/{etc/iscsi/nodes,etc/iscsi/send_targets,etc/iscsi/ifaces,var/lib,guest}
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
ln -s /run "$ROOT/var/run"
ln -s /run/lock "$ROOT/var/lock"

install -m 0755 /bin/busybox "$ROOT/usr/bin/busybox"
for app in $("$ROOT/usr/bin/busybox" --list); do
	[ -e "$ROOT/usr/bin/$app" ] || ln -s busybox "$ROOT/usr/bin/$app"
done

# ---- binaries and their shared libraries --------------------------------
LIBPATH="$UNPACK/usr/lib/x86_64-linux-gnu:$UNPACK/lib/x86_64-linux-gnu"
BINS=()
for b in iscsid iscsiadm iscsi-iname; do
	install -m 0755 "$UNPACK/sbin/$b" "$ROOT/usr/sbin/$b"
	BINS+=("$UNPACK/sbin/$b")
done
for b in "$UNPACK"/usr/bin/sg_* "$UNPACK"/usr/bin/sginfo; do
	install -m 0755 "$b" "$ROOT/usr/bin/"
	BINS+=("$b")
done
if [ "$VARIANT" = fence ]; then
	# The host's python3.11 under the same paths (sys.prefix is found from
	# the binary's location), without tests, IDLE, tkinter and optimised .pyc.
	PYLIB=/usr/lib/python3.11
	install -m 0755 /usr/bin/python3.11 "$ROOT/usr/bin/python3.11"
	ln -s python3.11 "$ROOT/usr/bin/python3"
	BINS+=(/usr/bin/python3.11)
	(cd / && find "${PYLIB#/}" \( -path '*/test' -o -path '*/tests' -o -path '*/idlelib' \
		-o -path '*/tkinter' -o -path '*/turtledemo' -o -path '*/lib2to3' \
		-o -path '*/ensurepip' -o -path '*/config-3.11-*' \) -prune -o \
		\( -type f ! -name '*.opt-?.pyc' -print \) -o \( -type l -print \) |
		cpio -pdm --quiet "$ROOT")
	for so in "$PYLIB"/lib-dynload/*.so; do BINS+=("$so"); done
	mkdir -p "$ROOT/usr/lib/python3"
	cp -a "$UNPACK/usr/lib/python3/dist-packages" "$ROOT/usr/lib/python3/"
	for so in "$UNPACK"/usr/lib/python3/dist-packages/*.so; do BINS+=("$so"); done
	mkdir -p "$ROOT/usr/share"
	cp -a "$UNPACK/usr/share/fence" "$ROOT/usr/share/fence"
	install -m 0755 "$UNPACK/usr/sbin/fence_scsi" "$ROOT/usr/sbin/fence_scsi"
fi
# One ldd over all binaries: "name => /path (addr)", the interpreter as "/path (addr)".
LD_LIBRARY_PATH=$LIBPATH ldd "${BINS[@]}" >"$WORK/ldd.txt" || true
if grep -q 'not found' "$WORK/ldd.txt"; then
	cat "$WORK/ldd.txt" >&2
	die "missing shared libraries"
fi
for lib in $(grep -o '/[^ ]*' "$WORK/ldd.txt" | grep -v ':$' | sort -u); do
	[ -f "$lib" ] || continue
	case $lib in
	"$UNPACK"/*) dst=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
	/lib64/* | /lib/*) dst=/usr$lib ;;
	*) dst=$lib ;;
	esac
	[ -e "$ROOT$dst" ] && continue
	mkdir -p "$ROOT$(dirname "$dst")"
	cp "$(readlink -f "$lib")" "$ROOT$dst"
done
# coreutils dd/sha256sum would also do; busybox has both, with oflag=direct.
cp "$UNPACK/etc/iscsi/iscsid.conf" "$ROOT/etc/iscsi/iscsid.conf"
# Libraries loaded with dlopen by glibc (name lookups) are not in ldd output.
for l in libnss_files.so.2 libresolv.so.2; do
	f=$(ls /usr/lib/x86_64-linux-gnu/$l 2>/dev/null || ls /lib/x86_64-linux-gnu/$l)
	cp "$(readlink -f "$f")" "$ROOT/usr/lib/x86_64-linux-gnu/$l"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n10.0.2.15 initiator-vm\n' >"$ROOT/etc/hosts"

# ---- kernel modules, in load order ---------------------------------------
declare -A SEEN=()
ORDER=()
mod_path() { # module name -> path relative to MODDIR (names use - or _)
	local n=${1//-/_} p
	p=$(awk -F: -v n="$n" '{ b = $1; sub(".*/", "", b); sub("\\.ko.*$", "", b);
		gsub("-", "_", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
	[ -n "$p" ] || return 1
	echo "$p"
}
visit() { # depth-first over modules.dep: dependencies first
	local p=$1 dep
	[ -n "${SEEN[$p]:-}" ] && return 0
	SEEN[$p]=1
	for dep in $(awk -F: -v p="$p" '$1 == p { print $2; exit }' "$MODDIR/modules.dep"); do
		visit "$dep"
	done
	ORDER+=("$p")
}
for m in "${MODULES[@]}"; do
	if grep -q "/${m}.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
		continue
	fi
	p=$(mod_path "$m") || die "module $m not in $KPKG"
	visit "$p"
done
mkdir -p "$ROOT/lib/modules/$KVER"
: >"$ROOT/etc/modules.load"
for p in "${ORDER[@]}"; do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$p")"
	cp "$MODDIR/$p" "$ROOT/lib/modules/$KVER/$p"
	echo "/lib/modules/$KVER/$p" >>"$ROOT/etc/modules.load"
done
cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/"
depmod -b "$ROOT" "$KVER"

install -m 0755 "$HERE/guest/init" "$ROOT/init"

# ---- pack -------------------------------------------------------------------
mkdir -p "$WORK/out"
cp "$UNPACK"/boot/vmlinuz-* "$WORK/out/vmlinuz"
# The uncompressed kernel boots through its PVH entry (CONFIG_PVH) with qemu
# -kernel, skipping the in-guest xz decompression, which takes seconds under
# TCG. The package has only the bzImage: vmlinux is the xz stream inside it.
KERNEL=vmlinuz
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$WORK/out/vmlinuz" | head -1 | cut -d: -f1)
if [ -n "$off" ]; then
	tail -c +$((off + 1)) "$WORK/out/vmlinuz" | xz -dc >"$WORK/out/vmlinux" 2>/dev/null || true
	if [ "$(head -c 4 "$WORK/out/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
		grep -q '^CONFIG_PVH=y' "$UNPACK"/boot/config-*; then
		KERNEL=vmlinux
	else
		rm -f "$WORK/out/vmlinux"
	fi
fi
# Uncompressed: the guest kernel unpacks it without a decompressor (faster
# under TCG than gunzip of a few MB).
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$WORK/out/initrd.img"
{
	echo "KERNEL=$KERNEL"
	echo "KERNEL_PKG=$KPKG"
	echo "KERNEL_VERSION=$KVER"
	echo "$VERSIONS" | sed 's/^/# /'
	echo "MODULES=\"${ORDER[*]##*/}\""
	echo "BUILD_SECONDS=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')"
} >"$WORK/out/image.env"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
ln -sfn "$KEY" "$CACHE_DIR/current-$VARIANT"
# Keep the cache small: drop older images of this variant.
for d in "$CACHE_DIR/$VARIANT"-*/; do
	d=${d%/}
	[ "$(basename "$d")" = "$KEY" ] || rm -rf "$d"
done
log "built $OUT ($(du -sh "$OUT/initrd.img" | cut -f1) initrd, kernel $KVER)" \
	"in $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
echo "IMAGE_DIR=$OUT"
