#!/bin/sh
# timeout: 1800
# Disks and CD-ROM in a whole guest, on -accel soft: SeaBIOS boots an
# isolinux CD (made by scripts/make-iso.sh from the test guest's kernel
# and initramfs, see tests/guest/build-guest.sh) from the IDE CD-ROM,
# isolinux loads Debian's kernel, and the kernel's own ata_piix, sr_mod
# and sd_mod drivers do the rest:
#   smp2: -smp 2 -m 256, hda a raw image with a pattern: the CD's file
#         system mounts and a file on it has the host's sha256; the
#         guest reads the pattern from hda and writes 1 MiB that the host
#         finds in the image after power-off; with -device piix4-ide
#         libata runs the disk and the CD-ROM in a UDMA mode.
#   smp1: -smp 1: the same CD boots and its file reads right; on the
#         PC's PIIX3 libata runs them in multiword DMA (ata_piix gives
#         PIIX3 no UDMA).
# Neither run may log a kernel warning, oops or panic, or an ATA error.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! "$top/tests/guest/build-guest.sh" >/dev/null 2>&1; then
	echo "SKIP: cdrom: cannot build the test guest (needs Debian's apt repositories; see tests/guest/build-guest.sh)"
	exit 0
fi
cache=${GUEST_CACHE:-$top/tests/guest/cache}
work=$(mktemp -d)
export HVMD_DIR=$work/hvmd
mkdir -p "$HVMD_DIR"
trap 'rm -rf "$work"' EXIT
limit=${GUEST_TEST_TIMEOUT:-1500}

# A file for the CD, a disk with a pattern in its first MiB.
head -c 3000000 /dev/urandom >"$work/payload.bin"
payload_sha=$(sha256sum <"$work/payload.bin" | cut -d' ' -f1)
truncate -s 64M "$work/hda.img"
head -c 1048576 /dev/urandom | dd of="$work/hda.img" conv=notrunc status=none
disk_sha=$(head -c 1048576 "$work/hda.img" | sha256sum | cut -d' ' -f1)
written_sha=$(head -c 1048576 /dev/zero | tr '\000' G | sha256sum | cut -d' ' -f1)
if ! "$top/scripts/make-iso.sh" "$work/test.iso" "$cache/vmlinuz" \
	"$cache/initrd.img" "console=ttyS0 guest.test=nproc,cdrom,disk,udma guest.end=poweroff" \
	"$work/payload.bin" >"$work/iso.log" 2>&1; then
	echo "FAIL: cdrom/make-iso: $(tail -n 3 "$work/iso.log")"
	exit 1
fi

boot() {   # boot NAME SMP [ARGS]: serial log in $work/NAME.log
	name=$1 smp=$2; shift 2
	( timeout "$limit" "$top/bin/qemu-dm" -accel soft -m 256 -smp "$smp" \
		-serial stdio -display none -cdrom "$work/test.iso" \
		-drive file="$work/hda.img",if=ide,index=0,format=raw \
		-boot d "$@" </dev/null
	  echo "QEMU-DM EXIT $?" ) >"$work/$name.log" 2>&1
	tr -d '\r' <"$work/$name.log" >"$work/$name.tmp" && mv "$work/$name.tmp" "$work/$name.log"
	cp "$work/$name.log" "$cache/last-cdrom-$name.log" 2>/dev/null || true
}

failed=0
check() {   # check RUN NAME COMMAND...
	run=$1 name=$2; shift 2
	if "$@"; then
		echo "PASS: cdrom/$run/$name"
	else
		echo "FAIL: cdrom/$run/$name"
		failed=1
	fi
}
has() { grep -q -- "$2" "$work/$1.log"; }
hasnt() { ! grep -q -E -- "$2" "$work/$1.log"; }
status_is() { [ "$(sed -n 's/^QEMU-DM EXIT //p' "$work/$1.log")" = "$2" ]; }
tail_log() {
	echo "-- serial console of $1 (last 30 lines; whole log in $cache/last-cdrom-$1.log):"
	tail -n 30 "$work/$1.log" | sed 's/^/   | /'
}
clean_kernel_log() {
	hasnt "$1" '(WARNING: CPU|BUG: |Oops|Kernel panic|Call Trace|unable to handle|ata[0-9.]*: (failed command|status: |exception Emask)|I/O error)'
}
written_back() {
	got=$(dd if="$work/hda.img" bs=1M skip=16 count=1 status=none | sha256sum | cut -d' ' -f1)
	[ "$got" = "$written_sha" ]
}
mode() {   # mode RUN DEVICE MODE-PREFIX: libata runs that device in it
	grep -q "GUEST: xfer_mode $2 $3" "$work/$1.log"
}

# PIIX4's IDE function (ata_piix: UDMA/33) here, the PC's PIIX3 (multiword
# DMA at best for ata_piix) in the smp1 run.
boot smp2 2 -device piix4-ide
check smp2 seabios-boots-the-cd has smp2 "Booting from DVD/CD"
check smp2 isolinux-loads-the-kernel has smp2 "Linux version"
check smp2 two-cpus-online has smp2 "GUEST: nproc=2"
check smp2 cd-file-sha256 has smp2 "GUEST: cdrom-sha256 $payload_sha"
check smp2 disk-read-sha256 has smp2 "GUEST: disk-read-sha256 $disk_sha"
check smp2 disk-write-done has smp2 "GUEST: disk-write done"
check smp2 disk-write-in-image written_back
check smp2 piix4-disk-runs-udma mode smp2 dev1.0 XFER_UDMA
check smp2 piix4-cdrom-runs-udma mode smp2 dev2.0 XFER_UDMA
check smp2 poweroff-exit-status-0 status_is smp2 0
check smp2 no-kernel-or-ata-errors clean_kernel_log smp2
[ $failed = 0 ] || tail_log smp2

failed=0
boot smp1 1
check smp1 seabios-boots-the-cd has smp1 "Booting from DVD/CD"
check smp1 one-cpu has smp1 "GUEST: nproc=1"
check smp1 cd-file-sha256 has smp1 "GUEST: cdrom-sha256 $payload_sha"
check smp1 piix3-disk-runs-mwdma mode smp1 dev1.0 XFER_MW_DMA
check smp1 piix3-cdrom-runs-mwdma mode smp1 dev2.0 XFER_MW_DMA
check smp1 poweroff-exit-status-0 status_is smp1 0
check smp1 no-kernel-or-ata-errors clean_kernel_log smp1
[ $failed = 0 ] || tail_log smp1
exit 0
