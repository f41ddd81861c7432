#!/bin/sh
# Benchmark: guest instructions per second of the software CPU on a
# compute loop (tests/guest-progs/compute.S, about 9.5 instructions per
# iteration), beside QEMU's software CPU (qemu-system-x86_64 -accel tcg)
# on the same firmware image.  Each figure is the slope between a short
# and a long run (1e5 and 1e7 iterations for ours, 1e5 and 1e9 for QEMU,
# whose translated code is far faster), so start-up cancels out.  Ours runs under hvmd (-accel soft) when the build
# has the soft backend, else on the interpreter alone (tests/soft/prog-test).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
progs=$top/tests/guest-progs
export HVMD_DIR=$(mktemp -d)
trap 'rm -rf "$HVMD_DIR"' EXIT
ipi=9.5

secs() {
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 </dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
if "$top/bin/qemu-dm" -accel soft -m 16 -bios "$progs/compute-100000.bin" \
	-device hvm-testdev -display none >/dev/null 2>&1 </dev/null; then
	how="hvmd -accel soft"
	ours() { secs "$top/bin/qemu-dm" -accel soft -m 16 -bios "$progs/$1.bin" \
		-device hvm-testdev -display none; }
else
	how="interpreter alone"
	ours() { secs "$top/tests/soft/prog-test" "$progs/$1.bin"; }
fi
qemu() { secs qemu-system-x86_64 -accel tcg -m 16 -bios "$progs/$1.bin" \
	-display none -nodefaults -device isa-debug-exit,iobase=0x501,iosize=1; }

o1=$(ours compute-100000); o2=$(ours compute-10000000)
o_mips=$(echo "scale=1; 9900000 * $ipi / (($o2 - $o1) * 1000000)" | bc)
if command -v qemu-system-x86_64 >/dev/null; then
	q1=$(qemu compute-100000); q2=$(qemu compute-1000000000)
	q_mips=$(echo "scale=1; 999900000 * $ipi / (($q2 - $q1) * 1000000)" | bc)
	ratio=$(echo "scale=2; $q_mips / $o_mips" | bc)
else
	q_mips="-"; ratio="-"
fi
printf '%-36s %12s %12s %8s\n' "figure" "ours" "QEMU tcg" "QEMU/ours"
printf '%-36s %12s %12s %8s\n' "guest MIPS, compute loop" "$o_mips" "$q_mips" "$ratio"
echo "(ours: $how)"
