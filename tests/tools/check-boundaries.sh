#!/bin/sh
# Module boundary check (docs/architecture.md, "Modules and who may call whom").
# A module's public headers are include/targetd/<mod>.h, include/targetd/<mod>_*.h
# and include/targetd/wire/<mod>_*.h. A source or header under src/<mod>/ may
# include only its own headers and those of the modules the table allows; it may
# never reach into another module's src/ directory.
# Fails (exit 1) naming every offending file:line.
top=${1:-.}
cd "$top" || exit 2
allowed() {
	case $1 in
	util) echo "util" ;;
	evloop) echo "evloop util" ;;
	bdev) echo "bdev evloop util" ;;
	pr) echo "pr evloop util" ;;
	scsi) echo "scsi pr bdev evloop util" ;;
	iscsi) echo "iscsi scsi evloop util" ;;
	conf) echo "conf util" ;;
	ctl) echo "ctl util" ;;
	daemon) echo "daemon ctl iscsi scsi pr bdev conf evloop util" ;;
	*) echo "" ;;
	esac
}
owner() { # header path below include/targetd -> module
	h=${1#wire/}
	h=${h%.h}
	echo "${h%%_*}"
}
bad=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for dir in src/*/; do
	mod=$(basename "$dir")
	ok=$(allowed "$mod")
	[ -n "$ok" ] || { echo "unknown module directory $dir (add it to the table)"; bad=1; continue; }
	for f in $(find "$dir" -name '*.[ch]'); do
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
			ln=${line%%:*}
			inc=$(echo "$line" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
			case $inc in
			targetd/*)
				m=$(owner "${inc#targetd/}")
				case " $ok " in *" $m "*) ;; *)
					echo "$f:$ln: module '$mod' may not include $inc (module '$m')"; echo x >>"$tmp" ;;
				esac ;;
			../*|*/*)
				echo "$f:$ln: module '$mod' reaches outside its directory with \"$inc\""; echo x >>"$tmp" ;;
			esac
		done
	done
done
[ -s "$tmp" ] && bad=1
if [ $bad -ne 0 ]; then echo "module boundary check FAILED"; exit 1; fi
echo "module boundaries OK"
