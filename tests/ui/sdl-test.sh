#!/bin/sh
# timeout: 300
# The SDL front end.  Without a window system it refuses with one clear
# message and exit 1.  Under Xvfb (Debian's xvfb, with xwd from x11-apps)
# a 64x48x32 VBE screen drawn over qtest shows in the window: the pixels
# xwd reads from the X server are exactly the ones the test wrote.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dm=$top/bin/qemu-dm

out=$(env -u DISPLAY -u WAYLAND_DISPLAY timeout 20 "$dm" -accel qtest \
	-qtest stdio -display sdl </dev/null 2>&1)
rc=$?
if [ "$rc" = 1 ] && printf '%s' "$out" | grep -q "cannot open a window"; then
	echo "PASS: sdl/no-window-system-refused"
else
	echo "FAIL: sdl/no-window-system-refused: exit $rc: $out"
fi

if ! command -v xvfb-run >/dev/null || ! command -v xwd >/dev/null ||
   ! command -v python3 >/dev/null; then
	echo "SKIP: sdl/window-under-xvfb: xvfb-run, xwd or python3 missing (Debian packages xvfb, x11-apps; scripts/install-deps.sh)"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
xvfb-run -a -s "-screen 0 640x480x24" python3 - "$dm" "$dir" <<'PY'
import os, socket, struct, subprocess, sys, time
dm, d = sys.argv[1], sys.argv[2]
path = os.path.join(d, "qtest.sock")
ls = socket.socket(socket.AF_UNIX)
ls.bind(path)
ls.listen(1)
p = subprocess.Popen([dm, "-accel", "qtest", "-qtest", "unix:" + path,
                      "-display", "sdl"], stdin=subprocess.DEVNULL,
                     stdout=open(os.path.join(d, "out"), "w"),
                     stderr=subprocess.STDOUT)
ls.settimeout(30)
try:
    c, _ = ls.accept()
except OSError:
    print("FAIL: sdl/window-under-xvfb: qemu-dm did not start: " +
          open(os.path.join(d, "out")).read())
    sys.exit(0)
f = c.makefile("rw")
def cmd(s):
    f.write(s + "\n"); f.flush()
    while True:
        r = f.readline()
        if not r.startswith("IRQ"):
            return r
W, H = 64, 48
def pat(x, y):
    return ((x * 5) & 255) << 16 | ((y * 3 + 7) & 255) << 8 | ((x ^ y) * 9 & 255)
cmd("outl 0xcf8 0x80001010"); cmd("outl 0xcfc 0xe0000000")
cmd("outl 0xcf8 0x80001004"); cmd("outw 0xcfc 0x3")
for i, v in ((4, 0), (1, W), (2, H), (3, 32), (4, 0x41)):
    cmd("outw 0x1ce %#x" % i); cmd("outw 0x1cf %#x" % v)
data = b"".join(struct.pack("<I", pat(x, y)) for y in range(H) for x in range(W))
cmd("write 0xe0000000 %#x 0x%s" % (len(data), data.hex()))
bad = -1
for attempt in range(20):
    time.sleep(1)
    img = subprocess.run(["xwd", "-root", "-silent"], capture_output=True).stdout
    hs, ver, fmt, depth, w, h, xoff, order, unit, bitord, pad, bpp, bpl = \
        struct.unpack(">13I", img[:52])
    ncolors = struct.unpack(">I", img[76:80])[0]
    px = img[hs + ncolors * 12:]
    def root(x, y):
        o = y * bpl + x * (bpp // 8)
        v = int.from_bytes(px[o:o + 4], "little" if order == 0 else "big")
        return v & 0xffffff
    # The window sits where the X server put it: find its top-left pixel.
    first = pat(0, 0)
    spots = [(x, y) for y in range(h - H) for x in range(w - W)
             if root(x, y) == first and root(x + 1, y) == pat(1, 0)]
    for (ox, oy) in spots:
        bad = sum(1 for y in range(H) for x in range(W)
                  if root(ox + x, oy + y) != pat(x, y))
        if bad == 0:
            break
    if bad == 0:
        break
p.terminate()
p.wait()
if bad == 0:
    print("PASS: sdl/window-under-xvfb")
else:
    print("FAIL: sdl/window-under-xvfb: the window does not show the screen "
          "(%d pixels differ)" % bad)
PY
