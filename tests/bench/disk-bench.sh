#!/bin/sh
# Benchmark: IDE disk and CD-ROM throughput inside the test guest, beside
# QEMU's (qemu-system-x86_64 -accel tcg) on the same CD, disk and
# options: busybox dd with 1 MiB blocks and O_DIRECT, timed by the host
# between markers the guest prints around it, 256 MiB written to
# and read from hda (a raw image, cache=writeback on both), and the whole
# CD read (the guest by direct boot, the CD in the drive); and the seconds
# from start until isolinux's banner (the CD's boot menu) on the serial
# console when SeaBIOS boots the same CD.  Each side runs BENCH_RUNS times
# (default 2), alternating; the best of each figure is kept.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null 2>&1 ||
	{ echo "disk-bench: cannot build the test guest"; exit 0; }
cache=${GUEST_CACHE:-$top/tests/guest/cache}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd
mkdir -p "$HVMD_DIR"
trap 'rm -rf "$work"' EXIT
runs=${BENCH_RUNS:-2}
cr=$(printf '\r')
limit=600

head -c 200000000 /dev/urandom >"$work/payload.bin"
"$top/scripts/make-iso.sh" "$work/bench.iso" "$cache/vmlinuz" "$cache/initrd.img" \
	"console=ttyS0 guest.test=diskbench guest.end=poweroff" "$work/payload.bin" ||
	{ echo "disk-bench: making the CD failed"; exit 1; }
rm -f "$work/payload.bin"

# run SIDE N: boot once; appends "menu S", "disk-write MB/s", ... to $work/SIDE
run() {
	rm -f "$work/hda.img"
	truncate -s 512M "$work/hda.img"
	if [ "$1" = ours ]; then
		set -- "$1" "$top/bin/qemu-dm" -accel soft \
			-serial stdio -display none
	else
		set -- "$1" qemu-system-x86_64 -accel tcg \
			-nographic -vga none -net none
	fi
	side=$1; shift
	# The time to the CD's boot menu: SeaBIOS boots the CD, up to the
	# isolinux banner.
	start=$(date +%s.%N)
	timeout 120 "$@" -m 512 -cdrom "$work/bench.iso" -boot d </dev/null 2>&1 |
		while IFS= read -r line; do
		case "$line" in
		*ISOLINUX*) echo "menu $(echo "$(date +%s.%N) - $start" | bc)"
			    pkill -f "$work/bench.iso" ; break ;;
		esac
	done >>"$work/$side"
	# Throughput: the kernel by direct boot, the CD in the drive.
	timeout "$limit" "$@" -m 512 -cdrom "$work/bench.iso" -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" \
		-append "console=ttyS0 guest.test=diskbench guest.end=poweroff" \
		-drive file="$work/hda.img",if=ide,index=0,format=raw,cache=writeback \
		</dev/null 2>&1 | while IFS= read -r line; do
		# No tr in between: it would buffer, and the stamps are taken
		# as each line arrives.
		line=${line%"$cr"}
		case "$line" in
		*"GUEST: bench "*" start "*)
			mib=$(echo "$line" | sed -n 's/.* start \([0-9]*\) MiB.*/\1/p')
			t0=$(date +%s.%N) ;;
		*"GUEST: bench "*" done"*)
			what=$(echo "$line" | sed 's/.*GUEST: bench \([a-z-]*\).*/\1/')
			echo "$what $(echo "scale=1; $mib / ($(date +%s.%N) - $t0)" | bc)" ;;
		esac
	done >>"$work/$side"
}
best() {   # best SIDE FIGURE min|max
	awk -v f="$2" -v how="$3" '$1 == f && $2 != "-" {
		if (n == 0 || (how == "max" ? $2 > b : $2 < b)) b = $2; n++ }
		END { if (n) print b; else print "-" }' "$work/$1" 2>/dev/null
}
have_qemu=0
command -v qemu-system-x86_64 >/dev/null && have_qemu=1
i=0
while [ $i -lt "$runs" ]; do
	run ours
	[ $have_qemu = 1 ] && run qemu
	i=$((i + 1))
done
ratio() { [ "$1" = "-" ] || [ "$2" = "-" ] && { echo "-"; return; }
	echo "scale=2; $1 / $2" | bc; }
printf '%-36s %10s %10s %10s\n' "figure (best of $runs)" "ours" "QEMU tcg" "ours/QEMU"
for f in disk-write disk-read cd-read; do
	o=$(best ours $f max) q=$(best qemu $f max)
	printf '%-36s %10s %10s %10s\n' "$f MB/s (dd 1M, direct)" "$o" "$q" "$(ratio "$o" "$q")"
done
o=$(best ours menu min) q=$(best qemu menu min)
printf '%-36s %10s %10s %10s\n' "s from start to the CD's boot menu" "$o" "$q" "$(ratio "$o" "$q")"
