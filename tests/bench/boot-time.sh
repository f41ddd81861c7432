#!/bin/sh
# Benchmark: seconds from start to the test guest's shell-ready marker, and
# the guest's own sha256 of 64 MiB, on our stack (-accel soft) and on QEMU's
# software CPU (qemu-system-x86_64 -accel tcg), same kernel, initramfs and
# options, in one run.  Prints a table with the ratio (ours / QEMU).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null || { echo "boot-time: cannot build the test guest"; exit 1; }
cache=${GUEST_CACHE:-$top/tests/guest/cache}
append="console=ttyS0 quiet guest.test=sha256 guest.end=poweroff"
limit=${BOOT_BENCH_TIMEOUT:-600}

# run NAME CMD...: prints "shell_s total_s" or "- -" on failure.
run() {
	log=$(mktemp)
	start=$(date +%s.%N)
	timeout "$limit" "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	ready=""
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$ready" ] && grep -q "GUEST: shell ready" "$log"; then
			ready=$(date +%s.%N)
		fi
		sleep 0.05
	done
	wait "$pid"
	end=$(date +%s.%N)
	[ -z "$ready" ] && grep -q "GUEST: shell ready" "$log" && ready=$end
	if [ -n "$ready" ]; then
		echo "$(echo "$ready - $start" | bc) $(echo "$end - $start" | bc)"
	else
		echo "- -"
	fi
	rm -f "$log"
}

q=$(run qemu-system-x86_64 -accel tcg -m 256 -display none -serial stdio \
	-no-reboot -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" -append "$append")
o=$(run "$top/bin/qemu-dm" -accel soft -m 256 -display none -serial stdio \
	-no-reboot -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" -append "$append")

ratio() { case "$1$2" in *-*) echo "-" ;; *) echo "scale=2; $1 / $2" | bc ;; esac; }
printf '%-34s %10s %10s %7s\n' "guest boot (1 vCPU, 256 MiB)" "ours" "QEMU tcg" "ratio"
set -- $o; ours_ready=$1; ours_total=$2
set -- $q; qemu_ready=$1; qemu_total=$2
printf '%-34s %10s %10s %7s\n' "seconds to shell prompt" "$ours_ready" "$qemu_ready" "$(ratio "$ours_ready" "$qemu_ready")"
printf '%-34s %10s %10s %7s\n' "seconds to power-off (+sha256 64M)" "$ours_total" "$qemu_total" "$(ratio "$ours_total" "$qemu_total")"
