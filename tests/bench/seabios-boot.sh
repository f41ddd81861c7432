#!/bin/sh
# Benchmark: SeaBIOS's boot path on the software CPU, beside QEMU's
# (qemu-system-x86_64 -accel tcg): seconds from start until SeaBIOS prints
# "No bootable device" (on the debug console, port 0x402), and guest MIPS.
# Our instruction count comes from hvmd (HVMD_SOFT_STATS); QEMU cannot
# count, so its MIPS is that same count over its time (the same firmware
# doing the same work), which is an estimate.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'kill $hv 2>/dev/null; rm -rf "$dir"' EXIT
export HVMD_DIR=$dir
limit=${SEABIOS_BENCH_TIMEOUT:-300}

# wait_for FILE PID: seconds until FILE says "No bootable device"
wait_for() {
	start=$(date +%s.%N)
	while ! grep -q "No bootable device" "$1" 2>/dev/null; do
		sleep 0.05
		now=$(date +%s.%N)
		if [ "$(echo "$now - $start > $limit" | bc)" = 1 ]; then
			echo "-"; return
		fi
	done
	echo "$(date +%s.%N) - $start" | bc
}

HVMD_SOFT_STATS=1 "$top/bin/hvmd" --socket-dir "$dir" 2>"$dir/hvmd.log" &
hv=$!
sleep 0.5
start=$(date +%s.%N)
"$top/bin/qemu-dm" -accel soft -m 128 -display none -serial null \
	-debugcon "file:$dir/ours.txt" </dev/null >/dev/null 2>&1 &
dm=$!
t_ours=$(wait_for "$dir/ours.txt")
kill $dm; wait $dm 2>/dev/null
sleep 0.5
insns=$(sed -n 's/.*soft vCPU 0: \([0-9]*\) instructions.*/\1/p' "$dir/hvmd.log" | tail -1)

if command -v qemu-system-x86_64 >/dev/null; then
	qemu-system-x86_64 -accel tcg -m 128 -display none -nodefaults \
		-serial null -debugcon "file:$dir/qemu.txt" \
		-global isa-debugcon.iobase=0x402 </dev/null \
		>/dev/null 2>&1 &
	qm=$!
	t_qemu=$(wait_for "$dir/qemu.txt")
	kill $qm; wait $qm 2>/dev/null
else
	t_qemu="-"
fi
mips() { [ "$1" = "-" ] || [ -z "$insns" ] && { echo "-"; return; }
	echo "scale=1; $insns / ($1 * 1000000)" | bc; }
ratio() { [ "$1" = "-" ] || [ "$2" = "-" ] && { echo "-"; return; }
	echo "scale=2; $1 / $2" | bc; }
printf '%-40s %12s %12s %8s\n' "figure" "ours" "QEMU tcg" "ours/QEMU"
printf '%-40s %12s %12s %8s\n' "s to 'No bootable device'" "$t_ours" "$t_qemu" \
	"$(ratio "$t_ours" "$t_qemu")"
printf '%-40s %12s %12s\n' "guest MIPS on the path" "$(mips "$t_ours")" \
	"$(mips "$t_qemu")"
echo "(instructions on our CPU: ${insns:-unknown}; QEMU's MIPS assumes the same count)"
