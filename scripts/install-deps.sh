#!/bin/sh
# The one list of Debian 12 packages this project needs, for building,
# running and testing.  Used by the README's commands and by .ci/run.
# Run as root (or with sudo available).  Safe to run again: apt skips what
# is already installed.
set -e

BUILD_PKGS="build-essential pkg-config
  libglib2.0-dev libpixman-1-dev libvncserver-dev libsdl2-dev libpng-dev
  libslirp-dev zlib1g-dev libzstd-dev libaio-dev libjson-glib-dev
  acpica-tools"
FIRMWARE_PKGS="seabios ipxe-qemu"
TEST_PKGS="dpkg-dev python3 debian-archive-keyring qemu-utils qemu-system-x86 busybox-static cpio kmod bc xorriso isolinux
  syslinux-common gzip xz-utils memtest86+ xvfb x11-apps"

missing=""
for p in $BUILD_PKGS $FIRMWARE_PKGS $TEST_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
