#!/bin/sh
# The Debian installer on an isolinux CD, from Debian's own package
# debian-installer-12-netboot-amd64 (its text-mode kernel and initrd),
# with the installer's screen on the serial console until qemu-dm has a
# display.  Prints the ISO's path.  Cached: the package is downloaded
# once (apt-get download, so from the sources apt is configured with).
# Usage: make-installer-iso.sh [CACHE_DIR]   (default: images/ in the tree)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${INSTALLER_CACHE:-$top/images}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
die() { echo "make-installer-iso: $*" >&2; exit 1; }
pkg=debian-installer-12-netboot-amd64
iso=$cache/debian-installer.iso

deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	(cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) ||
		die "could not download $pkg (needs Debian's apt repositories; 'apt-get update' first)"
	deb=$(ls "$cache/${pkg}"_*.deb | head -n 1)
fi
if [ ! -f "$iso" ] || [ "$deb" -nt "$iso" ]; then
	x=$(mktemp -d)
	trap 'rm -rf "$x"' EXIT
	dpkg-deb -x "$deb" "$x"
	d=$(ls -d "$x"/usr/lib/debian-installer/images/*/amd64/text/debian-installer/amd64 | head -n 1)
	[ -f "$d/linux" ] && [ -f "$d/initrd.gz" ] || die "$pkg has no text-mode kernel and initrd"
	# console=ttyS0: the installer's text frontend talks on COM1.
	"$top/scripts/make-iso.sh" "$iso" "$d/linux" "$d/initrd.gz" \
		"console=ttyS0,115200n8 ${INSTALLER_APPEND:-}" ||
		die "making the ISO failed"
fi
echo "$iso"
