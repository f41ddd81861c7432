#!/bin/sh
# Make a bootable isolinux CD image (El Torito, no emulation) that boots a
# Linux kernel with an initrd and a command line, as Debian's installer
# CDs do.  Uses Debian's isolinux, syslinux-common and xorriso.
# Usage: make-iso.sh OUT.iso KERNEL INITRD "CMDLINE" [FILE...]
#   FILEs are copied to the CD's root as they are.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 OUT.iso KERNEL INITRD CMDLINE [FILE...]" >&2; exit 2; }
out=$1 kernel=$2 initrd=$3 cmdline=$4
shift 4
die() { echo "make-iso: $*" >&2; exit 1; }
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$isolinux" ] || die "$isolinux missing (Debian package isolinux; run scripts/install-deps.sh)"
[ -f "$ldlinux" ] || die "$ldlinux missing (Debian package syslinux-common)"
command -v xorriso >/dev/null || die "xorriso missing (Debian package xorriso)"

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/isolinux"
cp "$isolinux" "$ldlinux" "$tree/isolinux/"
cp "$kernel" "$tree/vmlinuz"
cp "$initrd" "$tree/initrd.img"
for f in "$@"; do cp "$f" "$tree/"; done
# SERIAL: isolinux talks on COM1 too, so a -nographic run shows its
# prompt; no timeout wait beyond a moment.
cat >"$tree/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img $cmdline
CFG
# xorriso's banner goes to stderr even with -quiet: show it only on failure.
if ! xorriso -as mkisofs -quiet -o "$out.tmp" -R -J -V HVMDM_TEST \
	-b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$tree" \
	2>"$out.log"; then
	cat "$out.log" >&2; rm -f "$out.log"
	die "xorriso failed"
fi
rm -f "$out.log"
mv "$out.tmp" "$out"
