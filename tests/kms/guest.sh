#!/bin/sh
# Runs inside the KMS test guest, as root in the host's root filesystem (read-only, with fresh
# /tmp and /run): starts udev, `porthole serve --backend drm` on the virtio-gpu display with
# libseat's builtin seat, and real clients; then answers the host's commands, one a line on the
# serial console, between BEGIN/END markers.
bin=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp XDG_RUNTIME_DIR=/run/user/0
export MESA_SHADER_CACHE_DISABLE=true
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
stty -echo 2>/dev/null

# udevadm ignores requests in a chroot unless told that this one is the system.
export SYSTEMD_IGNORE_CHROOT=1
mkdir -p /run/udev
/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1
udevadm trigger --action=add --type=subsystems
udevadm trigger --action=add --type=devices
udevadm settle -t 30
echo "GUEST: udev settled; $(ls /dev/dri /dev/input | tr '\n' ' ')"

LIBSEAT_BACKEND=builtin RUST_LOG=info "$bin" serve --backend drm --socket wayland-1 \
  >/tmp/porthole.out 2>/tmp/porthole.log &
server=$!
i=0
until "$bin" outputs >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 300 ] || ! kill -0 $server 2>/dev/null; then
    echo "GUEST_FAILED: porthole did not start"
    tail -40 /tmp/porthole.log
    exit 1
  fi
  sleep 0.1
done
echo "GUEST: porthole is up: $("$bin" outputs)"

export WAYLAND_DISPLAY=wayland-1
windows() { "$bin" windows --json | grep -c '"id"'; }
wait_windows() {
  i=0
  while [ "$(windows)" -lt "$1" ]; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "GUEST: only $(windows) windows"; return 1; fi
    sleep 0.1
  done
}
# A terminal whose shell the host types into, a shm client, and a dmabuf client that renders
# with EGL on the GPU device (Mesa's llvmpipe on virtio-gpu without 3D) and hands the compositor
# dmabufs through linux-dmabuf.
foot -o colors.background=203040 -o shell=/bin/sh >/tmp/foot.log 2>&1 &
wait_windows 1
weston-simple-shm >/tmp/shm.log 2>&1 &
wait_windows 2
weston-simple-dmabuf-egl -d /dev/dri/card0 -s 200 >/tmp/dmabuf.log 2>&1 &
wait_windows 3 || { echo "GUEST: dmabuf client:"; tail -20 /tmp/dmabuf.log; }
echo "GUEST_READY"

while read -r cmd arg; do
  echo "BEGIN $cmd"
  case "$cmd" in
    windows) "$bin" windows --json ;;
    outputs) "$bin" outputs --json ;;
    exists) [ -e "$arg" ] && echo yes || echo no ;;
    log) tail -n "${arg:-60}" /tmp/porthole.log ;;
    clientlog) tail -n 20 "/tmp/$arg.log" ;;
    output-set) "$bin" output set $arg ;;
    chvt) busybox chvt "$arg" ;;
    quit) echo "END $cmd"; kill $server; exit 0 ;;
    *) echo "unknown command $cmd" ;;
  esac
  echo "END $cmd"
done
