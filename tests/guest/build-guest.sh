#!/bin/sh
# Build the test guest from Debian's own packages: Debian's kernel
# (linux-image-amd64) and a busybox initramfs with the kernel's drivers for
# our emulated hardware.  Output, in the cache directory (default
# tests/guest/cache, or $GUEST_CACHE):
#   vmlinuz         the kernel, as Debian ships it
#   initrd.img      a gzip'd cpio: busybox, /init (tests/guest/init), modules
# Re-running is cheap: the kernel package is downloaded once.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${GUEST_CACHE:-$here/cache}
mkdir -p "$cache"
cd "$cache"

die() { echo "build-guest: $*" >&2; exit 1; }

[ -x /sbin/depmod ] || die "/sbin/depmod missing (Debian package kmod; run scripts/install-deps.sh)"
[ -x /bin/busybox ] || die "/bin/busybox missing (Debian package busybox-static; run scripts/install-deps.sh)"
command -v cpio >/dev/null || die "cpio missing (run scripts/install-deps.sh)"

# The kernel package linux-image-amd64 points at today.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (is 'apt-get update' done?)"

if [ ! -f "kernel/$kpkg.stamp" ]; then
	rm -rf kernel && mkdir kernel
	deb=$(ls "$kpkg"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		apt-get download "$kpkg" >/dev/null 2>&1 ||
			die "could not download $kpkg (needs Debian's apt repositories)"
		deb=$(ls "$kpkg"_*.deb | head -n 1)
	fi
	dpkg-deb -x "$deb" kernel
	# The package leaves modules.dep to the installer; make it here.
	kv=$(ls kernel/lib/modules | head -n 1)
	/sbin/depmod -b kernel "$kv" || die "depmod failed (Debian package kmod)"
	touch "kernel/$kpkg.stamp"
	rm -f "$deb"
fi

kver=$(ls kernel/lib/modules | head -n 1)
cp "kernel/boot/vmlinuz-$kver" vmlinuz.tmp && mv vmlinuz.tmp vmlinuz

# The initramfs.
rm -rf root && mkdir -p root/bin root/sbin root/proc root/sys root/dev \
	root/tmp root/mnt root/etc root/lib/modules/"$kver"
cp /bin/busybox root/bin/busybox
for app in sh mount umount mkdir cat echo ls sleep poweroff reboot halt \
	modprobe insmod nproc hwclock date grep sed awk head tail \
	sha256sum dd wc ifconfig ip udhcpc ping mknod uname dmesg stty \
	setsid cttyhack getty login true false seq od tr printf wget readlink \
	basename acpid; do
	ln -sf busybox "root/bin/$app"
done

# Drivers for the emulated devices, with what they depend on.
mods="ata_piix ata_generic sd_mod sr_mod isofs ne2k-pci pcnet32 8139too 8139cp
      uhci-hcd usbhid hid-generic evdev button"
mdir="kernel/lib/modules/$kver"
: >root/lib/modules/"$kver"/modules.dep
want=""
for m in $mods; do
	f=$(find "$mdir/kernel" -name "$m.ko" -o -name "$(echo "$m" | tr - _).ko" | head -n 1)
	[ -n "$f" ] || continue
	want="$want ${f#"$mdir"/}"
done
# Close over modules.dep.
all=""
add() {
	case " $all " in *" $1 "*) return ;; esac
	all="$all $1"
	for d in $(awk -F: -v m="$1" '$1 == m { print $2 }' "$mdir/modules.dep"); do
		add "$d"
	done
}
for m in $want; do add "$m"; done
for m in $all; do
	mkdir -p "root/lib/modules/$kver/$(dirname "$m")"
	cp "$mdir/$m" "root/lib/modules/$kver/$m"
	grep "^$m:" "$mdir/modules.dep" >>root/lib/modules/"$kver"/modules.dep || true
done

cp "$here/init" root/init
chmod 755 root/init
(cd root && find . | cpio -o -H newc --quiet | gzip -9) >initrd.img.tmp
mv initrd.img.tmp initrd.img
rm -rf root
echo "$cache/vmlinuz"
echo "$cache/initrd.img"
