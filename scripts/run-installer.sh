#!/bin/sh
# `make run`: the Debian installer, booted by SeaBIOS from an isolinux CD
# in qemu-dm's IDE CD-ROM (scripts/make-installer-iso.sh), with a blank
# raw disk as hda to install onto, on the software CPU.  The installer's
# screen is the serial console in this terminal (Ctrl-A x quits).
# Environment: ACCEL (default soft), MEM (MB, default 1024),
# DISK (default images/disk.img, made blank at 8 GiB if missing; an
# existing one is used as it is, never overwritten), ISO (another CD).
# Extra arguments go to qemu-dm.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
iso=${ISO:-$("$top/scripts/make-installer-iso.sh")}
disk=${DISK:-$top/images/disk.img}
if [ ! -e "$disk" ]; then
	mkdir -p "$(dirname "$disk")"
	truncate -s 8G "$disk"
	echo "run-installer: made a blank 8 GiB disk, $disk" >&2
fi
exec "$top/bin/qemu-dm" -accel "${ACCEL:-soft}" -m "${MEM:-1024}" \
	-cdrom "$iso" -drive file="$disk",if=ide,index=0,format=raw \
	-boot order=dc -nographic "$@"
