#!/usr/bin/env bash
# Builds what tests/kms/mod.rs boots in QEMU: Debian's current kernel (the one the
# linux-image-amd64 package names, which has the virtio-gpu driver) and a small busybox initramfs
# whose /init mounts the host's root read-only over 9p and runs tests/kms/guest.sh in it, so the
# guest runs the porthole binary just built and the host's real clients unchanged.
#
# usage: build-guest.sh DIR    writes DIR/vmlinuz and DIR/initrd.gz; keeps the unpacked kernel
#                              in DIR and downloads it again only when Debian's changes.
set -euo pipefail
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
cd "$dir"

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$pkg" ]; then
  echo "build-guest.sh: apt-cache cannot tell which kernel linux-image-amd64 names; run apt-get update" >&2
  exit 1
fi
version=${pkg#linux-image-}
if [ ! -e "kernel/.unpacked-$version" ]; then
  rm -rf kernel ./*.deb
  # apt-get download as root warns that the _apt user cannot write here; it downloads anyway.
  # Package lists older than the archive name a kernel that is gone: update them and retry.
  download() {
    apt-get download -q "$pkg" 2>&1 | { grep -v '^W: Download is performed unsandboxed' || true; }
    ls ./"$pkg"_*.deb >/dev/null 2>&1
  }
  if ! download; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    version=${pkg#linux-image-}
    download || { echo "build-guest.sh: cannot download $pkg" >&2; exit 1; }
  fi
  dpkg-deb -x ./"$pkg"_*.deb kernel
  rm -f ./*.deb
  touch "kernel/.unpacked-$version"
fi
depmod -b kernel "$version"
cp "kernel/boot/vmlinuz-$version" vmlinuz

rm -rf initramfs
mkdir -p initramfs/bin initramfs/proc initramfs/sys initramfs/dev initramfs/newroot initramfs/modules
cp /bin/busybox initramfs/bin/busybox
# The modules and those they need, in load order.
: > initramfs/modlist
for m in virtio_pci virtio_gpu virtio_input evdev 9p 9pnet_virtio; do
  modprobe -d kernel -S "$version" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
  cp "$ko" initramfs/modules/
  basename "$ko" >> initramfs/modlist
done
cp "$here/init" initramfs/init
chmod 755 initramfs/init
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -1) > initrd.gz
echo "guest: kernel $version, $(wc -l < initramfs/modlist) modules, initrd $(du -k initrd.gz | cut -f1) KiB"
