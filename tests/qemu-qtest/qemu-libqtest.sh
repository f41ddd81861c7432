#!/bin/bash
# timeout: 1500
# Runs QEMU's own qtest programs (QEMU 7.2's libqtest, unmodified) against
# our qemu-dm: they start it through QTEST_QEMU_BINARY, do the QMP
# handshake and drive ports and memory exactly as they drive QEMU.
#
# First run: fetches Debian 12's qemu source with apt (private apt state,
# see fetch-qemu-src.sh) and builds only the test client (~20s); both are
# cached in tests/qemu-qtest/cache (or $QEMU_QTEST_CACHE).
# Each GLib test case becomes one PASS/FAIL/SKIP line named qemu<path>.
# Cases listed in skip.txt are skipped by name, with the reason given there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${QEMU_QTEST_CACHE:-$here/cache}
progs=${QEMU_QTESTS:-"rtc-test fw_cfg-test i440fx-test endianness-test boot-order-test rtl8139-test usb-hcd-uhci-test ide-test display-vga-test"}

if [ ! -x "$top/bin/qemu-dm" ]; then
	echo "FAIL: qemu-libqtest: bin/qemu-dm missing; run make first"
	exit 1
fi
for tool in apt-get dpkg-source python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: qemu-libqtest: $tool missing; run scripts/install-deps.sh"
		exit 0
	fi
done
if ! src=$("$here/fetch-qemu-src.sh" "$cache" 2>"$cache.fetch.log"); then
	echo "SKIP: qemu-libqtest: cannot obtain QEMU's source with apt-get source" \
		"(see $(basename "$cache").fetch.log)"
	exit 0
fi
rm -f "$cache.fetch.log"
build=$cache/build
mkdir -p "$build"
if ! nice -n 10 make -s -j2 -C "$build" -f "$here/Makefile.qemu" SRC="$src" \
	HERE="$here" PROGS="$progs" >"$build/make.log" 2>&1; then
	echo "FAIL: qemu-libqtest: building QEMU's qtest programs failed:"
	tail -n 20 "$build/make.log"
	exit 1
fi
# libqtest insists on a binary named *-system-<arch>.
ln -sf "$top/bin/qemu-dm" "$build/qemu-system-x86_64"
export QTEST_QEMU_BINARY=$build/qemu-system-x86_64
export QTEST_QEMU_IMG=/bin/false
unset QTEST_LOG

declare -A skip_why
while read -r path why; do
	case $path in ''|'#'*) continue ;; esac
	skip_why[$path]=$why
done <"$here/skip.txt"

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Runs one program to the end.  GLib aborts a program at its first failed
# assertion, so a failed case is reported, skipped with -s and the program
# run again until every case has a result.
run_prog() {
	local prog=$1 p line path
	local -a cases args
	local -A result
	mapfile -t cases < <(timeout 60 "$build/$prog" -l 2>/dev/null | grep '^/')
	if [ "${#cases[@]}" -eq 0 ]; then
		echo "FAIL: qemu-libqtest/$prog: cannot list its test cases"
		return
	fi
	args=()
	for p in "${cases[@]}"; do
		[ -n "${skip_why[$p]+x}" ] && args+=(-s "$p")
	done
	while :; do
		# A failed case aborts the program; the inner shell's report
		# of that goes nowhere, the program's own output to $out.
		bash -c '"$@" >"$0" 2>&1; exit $?' "$out" \
			timeout -k 5 300 "$build/$prog" --tap "${args[@]}" 2>/dev/null
		while read -r line; do
			case $line in
			"ok "*"# SKIP"*) ;;
			"ok "*) path=${line#ok * }; result[${path%% *}]=PASS ;;
			"not ok "*) path=${line#not ok * }; path=${path%% *}
				result[$path]="FAIL: qemu$path: $(grep -m1 '^ERROR:\|^\*\*' "$out")" ;;
			esac
		done <"$out"
		# The first case without a result is the one that stopped the run.
		local stopped=""
		for p in "${cases[@]}"; do
			[ -n "${skip_why[$p]+x}" ] || [ -n "${result[$p]+x}" ] && continue
			stopped=$p
			break
		done
		[ -z "$stopped" ] && break
		line=$(grep -m1 -E '^(ERROR|Bail out|qemu-dm:|[^#].*failed)' "$out")
		result[$stopped]="FAIL: qemu$stopped: ${line:-stopped without a result}"
		args+=(-s "$stopped")
	done
	for p in "${cases[@]}"; do
		if [ -n "${skip_why[$p]+x}" ]; then
			echo "SKIP: qemu$p: ${skip_why[$p]}"
		elif [ "${result[$p]}" = PASS ]; then
			echo "PASS: qemu$p"
		else
			echo "${result[$p]}"
		fi
	done
}

for prog in $progs; do
	run_prog "$prog"
done
