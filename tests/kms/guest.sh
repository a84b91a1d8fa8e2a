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

# Porthole runs as an ordinary user, as people run it: the user has no access to the GPU or the
# input devices; seatd opens them for it.
user=porthole-a
uid=$(id -u "$user" 2>/dev/null) || { echo "GUEST_FAILED: no user $user (.ci/test creates it)"; exit 1; }
gid=$(id -g "$user")
seatd -u "$user" -l info >/tmp/seatd.log 2>&1 &
i=0
until [ -S /run/seatd.sock ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
export XDG_RUNTIME_DIR=/run/user/$uid
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
chown "$user:$gid" "$XDG_RUNTIME_DIR"
# Commands run as the user: setpriv execs them, so that $! of `$as_user cmd &` is cmd's pid.
as_user="setpriv --reuid=$uid --regid=$gid --clear-groups"
# The dmabuf client renders on the GPU itself, as a desktop user in the video group may.
as_gpu_user="setpriv --reuid=$uid --regid=$gid --groups=$(getent group video | cut -d: -f3)"
echo "GUEST: porthole runs as $user (uid $uid); $(ls -l /dev/dri/card0 | cut -d' ' -f1,3,4)"

export WAYLAND_DISPLAY=wayland-1
windows() { $as_user "$bin" windows --json | grep -c '"id"'; }
# Waits (at most 30 s) for the client whose log is /tmp/$2.log to open the window number $1.
wait_windows() {
  started=$(cut -d' ' -f1 /proc/uptime)
  until [ "$(windows)" -ge "$1" ]; do
    if [ "$(awk -v s="$started" '{print ($1 - s > 30)}' /proc/uptime)" = 1 ]; then
      echo "GUEST: $2 opened no window; its output:"
      tail -20 "/tmp/$2.log"
      return 1
    fi
    sleep 0.2
  done
}

# Starts porthole with the renderer $1 and the clients: a terminal whose shell the host types
# into, a shm client, and a dmabuf client that renders with EGL on the GPU device (Mesa's llvmpipe
# on virtio-gpu without 3D) and hands the compositor dmabufs through linux-dmabuf.
# Porthole starts as a display manager starts it, through session/porthole-session (which runs
# `porthole serve --backend drm` directly here: the guest has no systemd user manager).
session="$(dirname "$0")/../../session/porthole-session"
start_desktop() {
  $as_user env PATH="$(dirname "$bin"):$PATH" LIBSEAT_BACKEND=seatd RUST_LOG=info \
    "$session" --renderer "$1" --socket wayland-1 >/tmp/porthole.out 2>/tmp/porthole.log &
  server=$!
  i=0
  until $as_user "$bin" outputs >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 $server 2>/dev/null; then
      echo "GUEST_FAILED: porthole did not start"
      tail -40 /tmp/porthole.log
      exit 1
    fi
    sleep 0.1
  done
  echo "GUEST: porthole is up ($1): $($as_user "$bin" outputs)"
  $as_user foot -o colors.background=203040 -o shell=/bin/sh >/tmp/foot.log 2>&1 &
  clients=$!
  wait_windows 1 foot
  $as_user weston-simple-shm >/tmp/shm.log 2>&1 &
  clients="$clients $!"
  wait_windows 2 shm
  # pixman imports only dmabufs with an explicit linear modifier, which Mesa's llvmpipe does not
  # give its buffers.
  if [ "$1" != pixman ]; then
    $as_gpu_user weston-simple-dmabuf-egl -d /dev/dri/card0 -s 200 >/tmp/dmabuf.log 2>&1 &
    clients="$clients $!"
    wait_windows 3 dmabuf
  fi
}

stop_desktop() {
  kill $clients $server 2>/dev/null
  for pid in $clients $server; do
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
}

start_desktop auto
echo "GUEST_READY"

while read -r cmd arg; do
  echo "BEGIN $cmd"
  case "$cmd" in
    windows) $as_user "$bin" windows --json ;;
    outputs) $as_user "$bin" outputs --json ;;
    exists) [ -e "$arg" ] && echo yes || echo no ;;
    log) tail -n "${arg:-60}" /tmp/porthole.log ;;
    clientlog) tail -n 40 "/tmp/$arg.log" ;;
    output-set) $as_user "$bin" output set $arg ;;
    chvt) busybox chvt "$arg" ;;
    input) $as_user "$bin" input $arg ;;
    spawn-shm) $as_user weston-simple-shm >/tmp/shm2.log 2>&1 & clients="$clients $!" ;;
    capslock-leds) cat /sys/class/leds/*::capslock/brightness ;;
    restart) stop_desktop; start_desktop "$arg" ;;
    quit) echo "END $cmd"; stop_desktop; exit 0 ;;
    *) echo "unknown command $cmd" ;;
  esac
  echo "END $cmd"
done
