#!/bin/sh
# Obtain QEMU's source as Debian 12 packages it (QEMU 7.2), with apt's
# own client and a private apt state directory so the system's apt
# configuration is left untouched.  Prints the source directory.
# Usage: fetch-qemu-src.sh CACHE_DIR
set -eu
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# The stamp names the source directory once it is completely unpacked.
stamp=$cache/qemu-src.done
if [ -f "$stamp" ] && [ -f "$(cat "$stamp")/tests/qtest/libqtest.c" ]; then
	cat "$stamp"
	exit 0
fi
# Whatever an interrupted earlier run left behind.
rm -rf "$cache"/qemu-7.2* "$cache"/qemu_*

# The Debian mirror this machine's apt is configured with (one-line
# sources.list entries or deb822 URIs: fields); no other.
mirror=$(grep -hoE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian ' \
	/etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
	grep -v security | head -n 1 | tr -d ' ')
if [ -z "$mirror" ]; then
	echo "fetch-qemu-src: no Debian mirror in apt's sources" >&2
	exit 1
fi
mirror=${mirror%/}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/archives/partial"
cat >"$apt/sources.list" <<LIST
deb-src [signed-by=$keyring] $mirror bookworm main
deb-src [signed-by=$keyring] ${mirror%/debian}/debian-security bookworm-security main
LIST
set -- -o Dir::Etc::SourceList="$apt/sources.list" \
	-o Dir::Etc::SourceParts=/nonexistent \
	-o Dir::State::Lists="$apt/lists" \
	-o Dir::Cache="$apt" -o Dir::State::status=/var/lib/dpkg/status \
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root -q
# A missing suite (say, no security mirror) is not fatal: the source
# step below fails by itself if no index has qemu.
apt-get "$@" update >&2 || true
cd "$cache"
apt-get "$@" source qemu >&2
rm -rf "$cache"/qemu_*
src=$(ls -d "$cache"/qemu-7.2*/ | head -n 1)
echo "${src%/}" >"$stamp"
cat "$stamp"
