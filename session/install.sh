#!/bin/sh
# Installs Porthole as a desktop session: the binaries (built with `cargo build --release`), the
# session entry display managers list, the session script and the systemd user unit.
# usage: session/install.sh [PREFIX]   (default /usr/local; run as root)
set -eu
prefix=${1:-/usr/local}
root=$(cd "$(dirname "$0")/.." && pwd)
for bin in porthole porthole-bridge porthole-x11-probe; do
  install -Dm755 "$root/target/release/$bin" "$prefix/bin/$bin"
done
install -Dm755 "$root/session/porthole-session" "$prefix/bin/porthole-session"
# Display managers read /usr/share/wayland-sessions only.
install -Dm644 "$root/session/porthole.desktop" /usr/share/wayland-sessions/porthole.desktop
sed "s|^ExecStart=porthole |ExecStart=$prefix/bin/porthole |" "$root/session/porthole.service" \
  | install -Dm644 /dev/stdin /usr/lib/systemd/user/porthole.service
echo "installed: log out, pick Porthole in the display manager's session menu, or run porthole-session on a text console"
