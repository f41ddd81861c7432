#!/bin/sh
# Memtest86+ (Debian's memtest86+ package, its Linux-boot-protocol image)
# through qemu-dm's direct boot on the software CPU, with its screen
# mirrored on the serial port (console=ttyS0).  Checks, from the serial
# output: the CPU model it reports is our CPUID brand string, it measures
# a TSC clock near our advertised 1000 MHz, the memory
# size matches -m, a test pass starts and the first test completes with no
# errors; with -smp 2 it finds both CPUs (ACPI MADT through the RSDP in the
# EBDA) and runs tests on the second one.  Then the guest is stopped.
#
#   MEMTEST_BIN      the image (default /boot/memtest86+x64.bin)
#   MEMTEST_TIMEOUT  seconds to wait for each boot's milestones (default 240)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${MEMTEST_BIN:-/boot/memtest86+x64.bin}
limit=${MEMTEST_TIMEOUT:-240}

if [ ! -r "$bin" ]; then
	echo "SKIP: memtest: $bin missing (Debian package memtest86+; run scripts/install-deps.sh)"
	exit 0
fi

dir=$(mktemp -d)
hv=
dm=
cleanup() {
	[ -n "$dm" ] && kill "$dm" 2>/dev/null
	[ -n "$hv" ] && kill "$hv" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
export HVMD_DIR="$dir"
"$top/bin/hvmd" --socket-dir "$dir" 2>"$dir/hvmd.log" &
hv=$!

# The screen as text lines: every ANSI control sequence starts a line.
screen() {
	sed 's/\x1b\[[0-9;?]*[A-Za-z]/\n/g' "$1" | sed 's/  *$//'
}

# boot NAME SMP DONE-REGEX: boot, wait until the screen matches DONE-REGEX
# (grep -E on the text lines) or the guest dies or time runs out.
# Leaves the serial output in $dir/NAME.out; returns 0 when it matched.
boot() {
	out="$dir/$1.out"
	: >"$out"
	nice -n 10 "$top/bin/qemu-dm" -accel soft -m 64 -smp "$2" \
		-kernel "$bin" -append "console=ttyS0,115200" \
		-serial "file:$out" -display none </dev/null \
		>"$dir/$1.log" 2>&1 &
	dm=$!
	start=$(date +%s)
	rc=1
	while :; do
		if screen "$out" | grep -Eq "$3"; then rc=0; break; fi
		kill -0 "$dm" 2>/dev/null || break
		[ $(($(date +%s) - start)) -ge "$limit" ] && break
		sleep 1
	done
	echo "# $1: $(($(date +%s) - start)) s"
	kill "$dm" 2>/dev/null
	wait "$dm" 2>/dev/null
	dm=
	return $rc
}

# A test number above 0 on screen: test #0 is done.
if ! boot smp1 1 '^ #([1-9]|1[0-9])  \['; then
	if grep -q "no software CPU" "$dir/smp1.log"; then
		echo "SKIP: memtest: this build has no software CPU backend"
		exit 0
	fi
	echo "FAIL: memtest/first-test-done: no test after #0 within ${limit}s"
	echo "# qemu-dm:"; tail -n 5 "$dir/smp1.log"
	echo "# screen:"; screen "$dir/smp1.out" | grep -v '^ *$' | tail -n 20
	exit 1
fi
s=$(screen "$dir/smp1.out")

# The model is on the title line, after the version.
model=$(printf '%s\n' "$s" | sed -n '/Memtest86+ v/{n;s/^| //p;q}')
if [ -n "$model" ] && LC_ALL=C grep -aqF "$model" "$top/bin/hvmd"; then
	echo "PASS: memtest/cpu-model ($model)"
else
	echo "FAIL: memtest/cpu-model: '$model' is not our CPUID brand string"
fi

# Memtest times the TSC against the ACPI PM timer (the PIT without
# one) over 50 ms.  Host scheduling only lengthens what it measures, so
# only a reading well below our 1 GHz, or none, is wrong.
clk=$(printf '%s\n' "$s" | sed -n 's/^CLK\/Temp: *\([0-9]*\)MHz.*/\1/p' | head -n 1)
if [ -n "$clk" ] && [ "$clk" -ge 900 ] && [ "$clk" -le 5000 ]; then
	echo "PASS: memtest/tsc-rate-measured (${clk} MHz; 1000 advertised)"
else
	echo "FAIL: memtest/tsc-rate-measured: CLK '${clk}' MHz, want about 1000"
fi

mem=$(printf '%s\n' "$s" | sed -n 's/^Memory  *: *\([0-9]*\)MB.*/\1/p' | head -n 1)
if [ -n "$mem" ] && [ "$mem" -ge 60 ] && [ "$mem" -le 64 ]; then
	echo "PASS: memtest/memory-size (${mem} MB of -m 64)"
else
	echo "FAIL: memtest/memory-size: '${mem}' MB reported for -m 64"
fi

# (The screen is redrawn now and then, so test #0 itself may not show.)
if printf '%s\n' "$s" | grep -q '^ #[0-9]*  \[' &&
   printf '%s\n' "$s" | grep -q '^ing: .*MB of '; then
	echo "PASS: memtest/pass-started"
else
	echo "FAIL: memtest/pass-started: no test name or 'Testing:' range on screen"
fi

errs=$(printf '%s\n' "$s" | sed -n 's/.*Errors: *\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
if [ "$errs" = 0 ]; then
	echo "PASS: memtest/no-errors"
else
	echo "FAIL: memtest/no-errors: Errors: '$errs'"
fi

# SMP: both CPUs found and the second one testing.  Test #1 runs on one
# core after the other ("Using: Core #1" for a moment, which a redraw can
# hide from the serial mirror); tests #2 on run on all cores at once
# with a barrier between them, so a later test number after "Using: All
# Cores" means CPU #1 took its share.
if boot smp2 2 '^Using: Core #1|^ #[3-9]  \['; then
	s2=$(screen "$dir/smp2.out")
	if ! printf '%s\n' "$s2" | grep -q '^CPU: .*SMP: 2T'; then
		echo "FAIL: memtest/smp2: the CPU line does not show 2 threads"
	elif printf '%s\n' "$s2" | grep -Eq '^Using: (Core #1|All Cores)'; then
		echo "PASS: memtest/smp2"
	else
		echo "FAIL: memtest/smp2: no test ran on Core #1 or on all cores"
	fi
else
	echo "FAIL: memtest/smp2: CPU #1 never ran a test within ${limit}s"
	screen "$dir/smp2.out" | grep '^CPU: ' | tail -n 1
fi
exit 0
