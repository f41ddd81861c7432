#!/bin/sh
# timeout: 3600
# Guest tests: Debian's kernel with the busybox initramfs the tests build
# (tests/guest/build-guest.sh), booted directly on -accel soft, checked
# from inside the guest through markers its /init prints (tests/guest/init).
#   smp2: -smp 2 -m 256: both CPUs online, ACPI on, hwclock within 2 s of
#         the host, busybox's view of PCI lists the chipset (8086:1237,
#         8086:7000, 8086:7113), `reboot -f` boots again (a CMOS flag tells
#         the second boot apart), `poweroff -f` ends qemu-dm with status 0.
#   smp1: -smp 1: the kernel's log on the serial console up to /init,
#         the shell's marker, power-off with status 0; with -usbdevice
#         tablet and keyboard: uhci-hcd and usbhid bind both (0627:0001),
#         and a position and keys sent over QMP arrive as evdev events
#         and as a line typed on the console's tty1.
#         And network cards (NE2000 PCI, RTL8139C+, PCnet-PCI II, and
#         an RTL8139C for 8139too) each
#         on user networking: Linux's driver gets an address by DHCP,
#         pings the gateway and fetches a file from an HTTP server on the
#         host's loopback, whose SHA-256 must match.
# Neither run may log a kernel warning, oops or panic.  Each boot takes
# minutes on the interpreter: this is the slowest part of `make check`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! "$top/tests/guest/build-guest.sh" >/dev/null 2>&1; then
	echo "SKIP: guest: cannot build the test guest (needs Debian's apt repositories; see tests/guest/build-guest.sh)"
	exit 0
fi
cache=${GUEST_CACHE:-$top/tests/guest/cache}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd
mkdir -p "$HVMD_DIR"
trap 'rm -rf "$work"' EXIT
limit=${GUEST_TEST_TIMEOUT:-1500}
cr=$(printf '\r')

# boot NAME SMP KERNEL-ARGS [QEMU-DM-ARGS]: serial log in $work/NAME.log, with each
# hwclock marker stamped with the host's time as it came out, and the
# exit status of qemu-dm on a last line "QEMU-DM EXIT n".
boot() {
	( timeout "$limit" "$top/bin/qemu-dm" -accel soft -m 256 -smp "$2" \
		-serial stdio -display none -kernel "$cache/vmlinuz" \
		-initrd "$cache/initrd.img" -append "console=ttyS0 $3" ${4:-} </dev/null
	  echo "QEMU-DM EXIT $?" ) 2>&1 | while IFS= read -r line; do
		# Stamped here, as each line arrives: nothing buffers before.
		line=${line%"$cr"}
		case "$line" in
		*"GUEST: hwclock="*) echo "$line host=$(date -u +%s)" ;;
		*) echo "$line" ;;
		esac
	done >"$work/$1.log"
	# Kept for a look after a failure.
	cp "$work/$1.log" "$cache/last-$1.log" 2>/dev/null || true
}

failed=0
check() {   # check RUN NAME COMMAND...: PASS or FAIL guest/RUN/NAME
	run=$1 name=$2; shift 2
	if "$@"; then
		echo "PASS: guest/$run/$name"
	else
		echo "FAIL: guest/$run/$name"
		failed=1
	fi
}
has() { grep -q -- "$2" "$work/$1.log"; }
hasnt() { ! grep -q -E -- "$2" "$work/$1.log"; }
status_is() { [ "$(sed -n 's/^QEMU-DM EXIT //p' "$work/$1.log")" = "$2" ]; }
tail_log() {
	echo "-- serial console of $1 (last 30 lines; whole log in $cache/last-$1.log):"
	tail -n 30 "$work/$1.log" | sed 's/^/   | /'
}
# Kernel complaints: a WARNING/BUG/oops/panic line, or code running on
# after the power-off request.
clean_kernel_log() {
	hasnt "$1" '(WARNING: CPU|BUG: |Oops|Kernel panic|Call Trace|unable to handle)'
}

# busybox prints hwclock in ctime() form ("Sun Nov 22 20:50:01 2026  0.000000
# seconds"); the host's time was appended when the line came out.
hwclock_ok() {
	line=$(grep -m1 "GUEST: hwclock=" "$work/$1.log") || return 1
	text=$(echo "$line" | sed 's/.*hwclock=//; s/ epoch=.*//; s/ *[-0-9.]* seconds$//')
	guest=$(date -u -d "$text" +%s 2>/dev/null) || return 1
	host=$(echo "$line" | sed -n 's/.* host=\([0-9]*\).*/\1/p')
	[ -n "$host" ] && [ $((guest - host)) -le 2 ] && [ $((host - guest)) -le 2 ]
}

boot smp2 2 "guest.test=nproc,acpi,hwclock,lspci guest.end=reboot-once"
check smp2 two-cpus-online has smp2 "GUEST: nproc=2"
check smp2 acpi-enabled has smp2 "GUEST: acpi=on"
check smp2 lspci-i440fx-8086:1237 has smp2 "GUEST: pci .* 8086:1237"
check smp2 lspci-piix3-8086:7000 has smp2 "GUEST: pci .* 8086:7000"
check smp2 lspci-piix4-pm-8086:7113 has smp2 "GUEST: pci .* 8086:7113"
check smp2 hwclock-within-2s-of-host hwclock_ok smp2
check smp2 reboot-f-boots-again has smp2 "GUEST: second boot"
check smp2 poweroff-f-exit-status-0 status_is smp2 0
check smp2 no-kernel-warnings clean_kernel_log smp2
[ $failed = 0 ] || tail_log smp2

# The HTTP server the guests fetch from, on the host's loopback only.
mkdir -p "$work/www"
head -c 65536 /dev/urandom >"$work/www/blob"
blob_sum=$(sha256sum "$work/www/blob" | cut -d' ' -f1)
timeout "$limit" python3 -c '
import http.server, socketserver, sys
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=sys.argv[1], **k)
    def log_message(self, *a):
        pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()' "$work/www" "$work/http-port" 2>/dev/null &
http_pid=$!
trap 'kill $http_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/http-port" ] && break; sleep 0.1; done
http_port=$(cat "$work/http-port" 2>/dev/null)
nics="-netdev user,id=n0 -device ne2k_pci,netdev=n0 -netdev user,id=n1 -device rtl8139,netdev=n1 -netdev user,id=n2 -device pcnet,netdev=n2 -netdev user,id=n3 -device rtl8139,netdev=n3,cplus=off"

# inject SOCKET LOG: once the guest's usb check listens, a tablet
# position and a key over QMP (python3's json and socket modules).
inject() {
	i=0
	while ! grep -q "GUEST: usb-listening" "$2" 2>/dev/null; do
		[ $i -lt $limit ] || return 0
		grep -q "QEMU-DM EXIT" "$2" 2>/dev/null && return 0
		sleep 1; i=$((i + 1))
	done
	python3 - "$1" <<'EOF' >/dev/null 2>&1
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
def cmd(c):
    f.write(json.dumps(c) + "\n")
    f.flush()
    while "event" in json.loads(f.readline()):
        pass
cmd({"execute": "qmp_capabilities"})
cmd({"execute": "input-send-event", "arguments": {"events": [
    {"type": "abs", "data": {"axis": "x", "value": 12345}},
    {"type": "abs", "data": {"axis": "y", "value": 23456}}]}})
for key in ["a", "h", "i", "ret"]:
    cmd({"execute": "send-key", "arguments": {"keys": [
        {"type": "qcode", "data": key}], "hold-time": 50}})
    time.sleep(0.3)
EOF
}

failed=0
inject "$work/qmp1.sock" "$work/smp1.log" &
boot smp1 1 "guest.test=nproc,usb,net guest.http=${http_port:-0} guest.end=poweroff" \
	"-usbdevice tablet -usbdevice keyboard -qmp unix:$work/qmp1.sock,server,nowait $nics"
check smp1 kernel-banner has smp1 "Linux version"
check smp1 kernel-starts-init has smp1 "Run /init as init process"
check smp1 init-runs has smp1 "GUEST: init started"
check smp1 one-cpu has smp1 "GUEST: nproc=1"
check smp1 usb-tablet-0627:0001 has smp1 "GUEST: usb-device 0627:0001 QEMU USB Tablet"
check smp1 usb-keyboard-0627:0001 has smp1 "GUEST: usb-device 0627:0001 QEMU USB Keyboard"
check smp1 usb-tablet-input-device has smp1 "GUEST: usb-input event.* QEMU USB Tablet"
check smp1 usb-tablet-abs-x-12345 has smp1 "GUEST: usb-event type=3 code=0 value=12345"
check smp1 usb-tablet-abs-y-23456 has smp1 "GUEST: usb-event type=3 code=1 value=23456"
check smp1 usb-keyboard-key-a-down has smp1 "GUEST: usb-event type=1 code=30 value=1"
check smp1 usb-keyboard-key-a-up has smp1 "GUEST: usb-event type=1 code=30 value=0"
check smp1 usb-keyboard-types-on-tty1 has smp1 "GUEST: usb-typed ahi"
check smp1 shell-ready has smp1 "GUEST: shell ready"
check smp1 poweroff-exit-status-0 status_is smp1 0
check smp1 no-kernel-warnings clean_kernel_log smp1
for drv in ne2k-pci 8139cp pcnet32 8139too; do
	check smp1 "net-$drv-dhcp" has smp1 "GUEST: net $drv dhcp 10.0.2.15"
	check smp1 "net-$drv-ping-gateway" has smp1 "GUEST: net $drv ping ok"
	check smp1 "net-$drv-http-sha256" has smp1 "GUEST: net $drv sha256 $blob_sum"
done
[ $failed = 0 ] || tail_log smp1
exit 0
