//! The container's native Wayland clients, in a checkpointable container (`--serve-wayland`).
//!
//! The bridge serves the container's own Wayland socket and forwards each native toplevel the way
//! it forwards an X11 window: a host toplevel whose buffers are copies of what the client
//! committed, and whose configures, input and close requests go back to the client. Every
//! client's protocol state (its objects, pools and roles) lives in the bridge's smithay server,
//! inside the container, so the host connection can be dropped before a checkpoint and made again
//! after a restore without the clients noticing.
//!
//! Forwarded: toplevels with shm buffers, their titles, app ids, parents, sizes and states (see
//! [`toplevel`]), popups (menus, placed by the host with the client's positioner; see [`popup`]),
//! keyboard and pointer input, the clipboard and primary selection (see [`crate::selection`]),
//! subsurfaces (see [`subsurface`]), sessions (see [`session`]). Not yet: drag and drop.
//!
//! This module holds the socket the clients come through and routes each commit and frame to
//! the window it belongs to; [`xdg_shell`] learns of the windows the clients make.

pub mod activation;
mod popup;
pub mod session;
pub mod subsurface;
mod toplevel;
mod xdg_shell;

pub use self::popup::NativePopup;
pub use self::toplevel::Native;

use anyhow::Context as _;
use calloop::LoopHandle;
use smithay::reexports::wayland_server::backend::{ClientData, ClientId, DisconnectReason};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::DisplayHandle;
use smithay::utils::{Logical, Rectangle};
use smithay::wayland::compositor::{
    get_parent, is_sync_subsurface, with_states, CompositorClientState,
};
use smithay::wayland::selection::data_device::DataDeviceState;
use smithay::wayland::selection::primary_selection::PrimarySelectionState;
use smithay::wayland::shell::xdg::decoration::XdgDecorationState;
use smithay::wayland::shell::xdg::{SurfaceCachedState, XdgShellState};
use smithay_client_toolkit::shell::xdg::XdgSurface as _;
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::{info, warn};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

use crate::bridge::Bridge;
use crate::host::view::HostView;

/// xdg-shell, xdg-decoration and the selections for native clients.
pub struct NativeServer {
    pub xdg_shell: XdgShellState,
    _decoration: XdgDecorationState,
    pub data_device: DataDeviceState,
    pub primary_selection: PrimarySelectionState,
}

impl NativeServer {
    pub fn new(dh: &DisplayHandle) -> Self {
        Self {
            xdg_shell: XdgShellState::new::<Bridge>(dh),
            _decoration: XdgDecorationState::new::<Bridge>(dh),
            data_device: DataDeviceState::new::<Bridge>(dh),
            primary_selection: PrimarySelectionState::new::<Bridge>(dh),
        }
    }
}

/// A native client's connection.
#[derive(Debug, Default)]
pub struct NativeClient {
    pub compositor: CompositorClientState,
    /// Its pid as the container sees it, read when it connected.
    pub pid: Option<u32>,
}

impl ClientData for NativeClient {
    fn initialized(&self, _: ClientId) {}
    fn disconnected(&self, _: ClientId, _: DisconnectReason) {}
}

/// Serves the container's Wayland socket, $XDG_RUNTIME_DIR/NAME, to its native clients.
pub fn listen_wayland(
    loop_handle: &LoopHandle<'static, Bridge>,
    name: &str,
) -> anyhow::Result<String> {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .context("XDG_RUNTIME_DIR is not set: the bridge serves the Wayland socket there")?;
    std::fs::create_dir_all(&runtime_dir)
        .with_context(|| format!("creating {}", runtime_dir.display()))?;
    std::fs::set_permissions(
        &runtime_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let source = smithay::wayland::socket::ListeningSocketSource::with_name(name)
        .with_context(|| format!("listening on {}", runtime_dir.join(name).display()))?;
    let socket = source.socket_name().to_string_lossy().into_owned();
    loop_handle
        .insert_source(source, |stream, _, bridge| {
            // As the container sees it; none for a peer outside the bridge's pid namespace,
            // whose pid reads as 0 (rustix says so; wayland-backend's credentials panic).
            let pid = rustix::net::sockopt::socket_peercred(&stream)
                .ok()
                .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
            let data = std::sync::Arc::new(NativeClient {
                pid,
                ..Default::default()
            });
            if let Err(err) = bridge.server.dh.insert_client(stream, data) {
                warn!(%err, "cannot accept a Wayland client");
            }
        })
        .map_err(|err| anyhow::anyhow!("watching the Wayland socket: {err}"))?;
    info!(socket, "serving the container's Wayland socket");
    Ok(socket)
}

/// Shows what a native client committed on `surface` and its subsurfaces on its host role
/// (xdg_surface and wl_surface), once the host configured it. Returns whether the host got a new
/// frame, whose frame callback answers the client's.
fn show_commit(
    host: Option<&mut crate::host::Host>,
    role: Option<(
        &wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface,
        &HostSurface,
    )>,
    view: &mut HostView,
    geometry: &mut Option<Rectangle<i32, Logical>>,
    subsurfaces: &mut subsurface::Subsurfaces,
    surface: &WlSurface,
    now_ms: u32,
) -> bool {
    let (Some(host), Some((xdg, host_surface))) = (host, role) else {
        return false;
    };
    if !view.configured {
        return false;
    }
    forward_geometry(surface, xdg, geometry);
    let moved = subsurfaces.forward(host, surface, host_surface, now_ms);
    let shown = view.show(host, surface, host_surface);
    if !shown && moved {
        host_surface.commit();
    }
    shown
}

/// Passes on the window geometry a client set on its xdg_surface (the part of its buffer that is
/// the window, without the shadows it draws), when it changed since `sent`.
fn forward_geometry(
    surface: &WlSurface,
    host: &wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface,
    sent: &mut Option<Rectangle<i32, Logical>>,
) {
    let geometry = with_states(surface, |states| {
        states
            .cached_state
            .get::<SurfaceCachedState>()
            .current()
            .geometry
    });
    if geometry != *sent {
        if let Some(g) = geometry {
            host.set_window_geometry(g.loc.x, g.loc.y, g.size.w, g.size.h);
        }
        *sent = geometry;
    }
}

impl Bridge {
    /// A native client committed `surface`. Returns whether the host will answer its frame
    /// callbacks.
    pub fn native_commit(&mut self, surface: &WlSurface) -> bool {
        if let Some(index) = self
            .native_popups
            .iter()
            .position(|p| p.popup.wl_surface() == surface)
        {
            return self.native_popup_commit(index, surface);
        }
        let Some(index) = self
            .natives
            .iter()
            .position(|n| n.toplevel.wl_surface() == surface)
        else {
            return self.subsurface_commit(surface);
        };
        if self.natives[index].role.is_none() {
            if self.host.is_some() {
                self.create_native_role(index);
            } else if !self.natives[index].toplevel.is_initial_configure_sent() {
                // Detached: let the client draw; its host toplevel comes on reconnecting.
                self.natives[index].toplevel.send_configure();
            }
            return false;
        }
        let now_ms = self.now_ms();
        let native = &mut self.natives[index];
        let role = native
            .role
            .as_ref()
            .map(|r| (r.xdg_surface(), r.wl_surface()));
        show_commit(
            self.host.as_mut(),
            role,
            &mut native.view,
            &mut native.geometry,
            &mut self.subsurfaces,
            surface,
            now_ms,
        )
    }

    /// The native surface a host surface shows.
    pub fn native_surface_of(&self, host_surface: &HostSurface) -> Option<WlSurface> {
        self.natives
            .iter()
            .find(|n| n.role.as_ref().map(|r| r.wl_surface()) == Some(host_surface))
            .map(|n| n.toplevel.wl_surface().clone())
            .or_else(|| {
                self.native_popups
                    .iter()
                    .find(|p| p.role.as_ref().map(|r| r.wl_surface()) == Some(host_surface))
                    .map(|p| p.popup.wl_surface().clone())
            })
            .or_else(|| self.subsurfaces.server_surface_of(host_surface))
    }

    /// The host showed a frame of `host_surface`, a native toplevel's, popup's or subsurface's:
    /// the server surface whose frame callbacks it answers.
    pub fn native_frame_done(&mut self, host_surface: &HostSurface) -> Option<WlSurface> {
        for native in &mut self.natives {
            if native.role.as_ref().map(|r| r.wl_surface()) == Some(host_surface) {
                native.view.awaiting_frame = false;
                return Some(native.toplevel.wl_surface().clone());
            }
        }
        for popup in &mut self.native_popups {
            if popup.role.as_ref().map(|r| r.wl_surface()) == Some(host_surface) {
                popup.view.awaiting_frame = false;
                return Some(popup.popup.wl_surface().clone());
            }
        }
        self.subsurfaces.frame_done(host_surface)
    }

    /// Whether a frame of the native `surface` went to the host, which has not answered it yet.
    pub fn native_awaits_frame(&self, surface: &WlSurface) -> bool {
        self.natives
            .iter()
            .any(|n| n.toplevel.wl_surface() == surface && n.view.awaiting_frame)
            || self
                .native_popups
                .iter()
                .any(|p| p.popup.wl_surface() == surface && p.view.awaiting_frame)
            || self.subsurfaces.awaits_frame(surface)
    }

    /// A native client committed a subsurface. A desynchronized one is forwarded now, with the
    /// rest of its tree; a synchronized one when its parent commits. Returns whether the host
    /// will answer its frame callbacks.
    fn subsurface_commit(&mut self, surface: &WlSurface) -> bool {
        if is_sync_subsurface(surface) {
            return false;
        }
        let mut root = surface.clone();
        while let Some(parent) = get_parent(&root) {
            root = parent;
        }
        if &root == surface {
            return false;
        }
        let host_root = self
            .natives
            .iter()
            .filter(|n| n.view.configured)
            .find(|n| n.toplevel.wl_surface() == &root)
            .and_then(|n| n.role.as_ref().map(|r| r.wl_surface().clone()))
            .or_else(|| {
                self.native_popups
                    .iter()
                    .filter(|p| p.view.configured)
                    .find(|p| p.popup.wl_surface() == &root)
                    .and_then(|p| p.role.as_ref().map(|r| r.wl_surface().clone()))
            });
        let (Some(host_root), Some(host)) = (host_root, self.host.as_mut()) else {
            return false;
        };
        let now_ms = self.started.elapsed().as_millis() as u32;
        if self.subsurfaces.forward(host, &root, &host_root, now_ms) {
            host_root.commit();
        }
        true
    }
}
