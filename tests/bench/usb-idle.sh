#!/bin/sh
# Benchmark: what an idle guest with a USB tablet costs the device model.
# The test guest boots with -usbdevice tablet, loads uhci-hcd and usbhid,
# opens the tablet's event device (as a desktop does, so usbhid keeps an
# interrupt transfer queued) and sleeps; from its marker on, the process's
# CPU time (utime + stime from /proc) is read over USB_IDLE_SECONDS (30).
# Rows: qemu-dm with the tablet, qemu-dm without USB, and QEMU's TCG
# (qemu-system-x86_64 -usbdevice tablet; its figure includes its vCPU,
# which under qemu-dm runs in hvmd and is not counted).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null || { echo "usb-idle: cannot build the test guest"; exit 1; }
cache=${GUEST_CACHE:-$top/tests/guest/cache}
secs=${USB_IDLE_SECONDS:-30}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd
mkdir -p "$HVMD_DIR"
trap 'rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)

# cpu CMD...: percent of one core the process used over $secs seconds of
# the idle guest, or "-" when the guest never got there.
cpu() {
	log=$work/log
	: >"$log"
	"$@" -m 256 -display none -serial stdio -no-reboot \
		-kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" \
		-append "console=ttyS0 quiet guest.test=usb-idle guest.idle=$((secs + 30)) guest.end=poweroff" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q "GUEST: usb-idle start" "$log" && [ $i -lt 600 ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1; i=$((i + 1))
	done
	if ! grep -q "GUEST: usb-idle start" "$log"; then
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		echo "-"
		return
	fi
	sleep 5
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep "$secs"
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	echo "scale=2; 100 * ($t1 - $t0) / $hz / $secs" | bc
}

ours_tablet=$(cpu "$top/bin/qemu-dm" -accel soft -usbdevice tablet)
ours_none=$(cpu "$top/bin/qemu-dm" -accel soft)
qemu_tablet=-
command -v qemu-system-x86_64 >/dev/null &&
	qemu_tablet=$(cpu qemu-system-x86_64 -accel tcg -usbdevice tablet)
printf '%-46s %8s\n' "idle guest, ${secs} s, % of one core" "CPU %"
printf '%-46s %8s\n' "qemu-dm -usbdevice tablet (device model only)" "$ours_tablet"
printf '%-46s %8s\n' "qemu-dm without USB" "$ours_none"
printf '%-46s %8s\n' "QEMU tcg -usbdevice tablet (whole process)" "$qemu_tablet"
