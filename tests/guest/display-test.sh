#!/bin/sh
# timeout: 600
# The display on the software CPU, end to end.
#
# 1. tests/guest-progs/vbe.bin draws through the stdvga's linear
#    framebuffer (Bochs VBE 64x48x32, memory hvmd maps with dirty
#    logging): a screendump (PPM) and a VNC client (tests/guest/vnc-check,
#    libvncclient) both see exactly its pixels; a key sent over QMP makes
#    it draw a second frame, which reaches the still-connected client as
#    an update (the dirty log) and the screendump.  Then the guest idles
#    with a still screen: qemu-dm's CPU time over 3 s is reported.
# 2. SeaBIOS and its VGA BIOS (vgabios-stdvga.bin) boot with no disk:
#    the screen is 80x25 text (720x400) and its first text rows are not
#    blank.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
dm=
vc=
cleanup() {
	[ -n "$vc" ] && kill "$vc" 2>/dev/null
	[ -n "$dm" ] && kill "$dm" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
export HVMD_DIR="$dir"
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; fails=$((fails + 1)); }

qmp() {
	python3 - "$dir/qmp.sock" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rw')
f.readline()
for c in ['{"execute": "qmp_capabilities"}'] + sys.argv[2:]:
    f.write(c + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if 'event' not in r:
            break
    if 'error' in r:
        print(r['error']['desc'])
        sys.exit(1)
PY
}

# ppm_check FILE K: the 64x48 frame K of vbe.S, exactly.
ppm_check() {
	python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
k = int(sys.argv[2])
magic, dims, maxv, px = d.split(b'\n', 3)
w, h = map(int, dims.split())
if (w, h) != (64, 48):
    print("%dx%d" % (w, h)); sys.exit(1)
bad = sum(1 for y in range(h) for x in range(w)
          if tuple(px[3 * (y * w + x):3 * (y * w + x) + 3]) !=
          (((x * 3 + k) & 255), ((y * 5) & 255), ((x ^ y ^ k) & 255)))
if bad:
    print("%d pixels differ" % bad); sys.exit(1)
PY
}

wait_for() {    # FILE TEXT SECONDS
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt $(($3 * 10)) ] && return 1
		kill -0 "$dm" 2>/dev/null || return 1
		sleep 0.1
	done
}

if [ ! -x "$top/tests/guest/vnc-check" ]; then
	echo "SKIP: display/vnc: tests/guest/vnc-check not built (configure without --disable-vnc)"
	exit 0
fi
base=$((300 + $$ % 300))
"$top/bin/qemu-dm" -accel soft -m 32 -bios "$top/tests/guest-progs/vbe.bin" \
	-device hvm-testdev -display none -vnc ":$base,to=$((base + 99))" \
	-qmp "unix:$dir/qmp.sock,server,nowait" </dev/null >"$dir/out" 2>&1 &
dm=$!
if ! wait_for "$dir/out" "GUEST: drawn 0" 120; then
	fail display/vbe-guest-draws "no 'GUEST: drawn 0'; output: $(tail -3 "$dir/out")"
	exit 1
fi
port=$(sed -n 's/.*VNC server on .* (port \([0-9]*\)).*/\1/p' "$dir/out")
if qmp '{"execute": "screendump", "arguments": {"filename": "'"$dir/s0.ppm"'", "format": "ppm"}}' &&
   why=$(ppm_check "$dir/s0.ppm" 0); then
	pass display/lfb-screendump
else
	fail display/lfb-screendump "$why"
fi
"$top/tests/guest/vnc-check" 127.0.0.1 "$port" 64 48 0 1 >"$dir/vnc" 2>&1 &
vc=$!
if wait_for "$dir/vnc" "seen 0" 120; then
	pass display/vnc-client-frame
else
	fail display/vnc-client-frame "$(cat "$dir/vnc")"
fi
qmp '{"execute": "send-key", "arguments": {"keys": [{"type": "qcode", "data": "a"}]}}'
wait_for "$dir/out" "GUEST: drawn 1" 60
wait "$vc"
rc=$?
vc=
if [ "$rc" = 0 ] && grep -q "seen 1" "$dir/vnc"; then
	pass display/vnc-update-from-dirty-log
else
	fail display/vnc-update-from-dirty-log "$(cat "$dir/vnc")"
fi
if qmp '{"execute": "screendump", "arguments": {"filename": "'"$dir/s1.ppm"'", "format": "ppm"}}' &&
   why=$(ppm_check "$dir/s1.ppm" 1); then
	pass display/lfb-screendump-after-change
else
	fail display/lfb-screendump-after-change "$why"
fi
# Idle: the guest halts, nobody watches.  Reported, not judged (timing).
t0=$(awk '{print $14 + $15}' "/proc/$dm/stat")
sleep 3
t1=$(awk '{print $14 + $15}' "/proc/$dm/stat")
echo "display: qemu-dm used $((t1 - t0)) ticks of $(getconf CLK_TCK)/s in 3 s idle"
kill "$dm"
wait "$dm" 2>/dev/null
dm=

# 2. SeaBIOS's text screen through the VGA BIOS.
rm -f "$dir/qmp.sock"
"$top/bin/qemu-dm" -accel soft -m 64 -nographic -boot reboot-timeout=-1 \
	-qmp "unix:$dir/qmp.sock,server,nowait" </dev/null >"$dir/bios" 2>&1 &
dm=$!
if wait_for "$dir/bios" "No bootable device" 120 &&
   qmp '{"execute": "screendump", "arguments": {"filename": "'"$dir/t.ppm"'", "format": "ppm"}}' &&
   why=$(python3 - "$dir/t.ppm" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
magic, dims, maxv, px = d.split(b'\n', 3)
w, h = map(int, dims.split())
if (w, h) != (720, 400):
    print("screen is %dx%d, not 80x25 text" % (w, h)); sys.exit(1)
# Text rows (16 pixels) with lit pixels: SeaBIOS prints several lines.
rows = [any(px[3 * (y * w + x)] > 0x80 for y in range(r * 16, r * 16 + 16)
            for x in range(w)) for r in range(25)]
if sum(rows) < 3 or not rows[0]:
    print("only %d text rows have text" % sum(rows)); sys.exit(1)
PY
); then
	pass display/seabios-vga-text
else
	fail display/seabios-vga-text "${why:-no 'No bootable device' on the serial console}"
fi
exit $((fails > 0))
