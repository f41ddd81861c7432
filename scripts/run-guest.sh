#!/bin/sh
# `make run`: boot the test guest (Debian's kernel and a busybox initramfs,
# built by tests/guest/build-guest.sh) under our stack with its serial
# console in this terminal.  Extra arguments go to qemu-dm, e.g.
#   scripts/run-guest.sh -smp 2
# Environment: ACCEL (default soft), MEM (MB, default 256),
# APPEND (extra kernel command line).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/guest/build-guest.sh" >/dev/null
cache=${GUEST_CACHE:-$top/tests/guest/cache}
exec "$top/bin/qemu-dm" -accel "${ACCEL:-soft}" -m "${MEM:-256}" \
	-kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" \
	-append "console=ttyS0 ${APPEND:-}" -nographic "$@"
