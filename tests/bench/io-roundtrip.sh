#!/bin/sh
# Benchmark: the cost of one guest I/O exit served by the device model,
# ours (hvmd + qemu-dm, KVM backend) beside QEMU with KVM, same guest
# program (tests/guest-progs/bench-io.S), same device (fw_cfg's data port).
# Each figure is the slope between a short and a long run, so process
# start-up and firmware set-up cancel out.  Prints ns per `inb` and MB/s
# of 4 KiB `rep insw`, with the ratio ours/QEMU (time) and QEMU/ours (rate).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
progs=$top/tests/guest-progs
if ! [ -w /dev/kvm ]; then echo "SKIP: io-roundtrip: no /dev/kvm"; exit 0; fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP: io-roundtrip: qemu-system-x86_64 not installed"; exit 0
fi
export HVMD_DIR=$(mktemp -d)
trap 'rm -rf "$HVMD_DIR"' EXIT

secs() {   # secs CMD...: wall-clock seconds of the command
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 </dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
ours() { secs "$top/bin/qemu-dm" -accel kvm -m 64 -bios "$progs/$1.bin" \
	-device hvm-testdev -display none; }
qemu() { secs qemu-system-x86_64 -accel kvm -m 64 -bios "$progs/$1.bin" \
	-display none -nodefaults -device isa-debug-exit,iobase=0x501,iosize=1; }
best() {   # best of three runs of: FN PROG
	b=""
	for i in 1 2 3; do
		t=$("$1" "$2")
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

o1=$(best ours bench-inb-2000); o2=$(best ours bench-inb-200000)
q1=$(best qemu bench-inb-2000); q2=$(best qemu bench-inb-200000)
o_inb=$(echo "($o2 - $o1) * 1000000000 / 198000" | bc)
q_inb=$(echo "($q2 - $q1) * 1000000000 / 198000" | bc)
o1=$(best ours bench-insw-200); o2=$(best ours bench-insw-2000)
q1=$(best qemu bench-insw-200); q2=$(best qemu bench-insw-2000)
o_ins=$(echo "scale=1; 1800 * 4096 / (($o2 - $o1) * 1000000)" | bc)
q_ins=$(echo "scale=1; 1800 * 4096 / (($q2 - $q1) * 1000000)" | bc)

printf '%-28s %12s %12s %8s\n' "figure" "ours" "QEMU+KVM" "ratio"
printf '%-28s %12s %12s %8s\n' "ns per inb round trip" "$o_inb" "$q_inb" \
	"$(echo "scale=2; $o_inb / $q_inb" | bc)"
printf '%-28s %12s %12s %8s\n' "rep insw MB/s (4 KiB)" "$o_ins" "$q_ins" \
	"$(echo "scale=2; $q_ins / $o_ins" | bc)"
echo "(ratio: ours/QEMU for time, QEMU/ours for throughput; below 1 is better)"
