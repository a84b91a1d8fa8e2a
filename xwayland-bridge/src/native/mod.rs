//! The container's native Wayland clients, in a checkpointable container (`--serve-wayland`).
//!
//! The bridge serves the container's own Wayland socket and forwards each native toplevel the way
//! it forwards an X11 window: a host toplevel whose buffers are copies of what the client
//! committed, and whose configures, input and close requests go back to the client. Every
//! client's protocol state (its objects, pools and roles) lives in the bridge's smithay server,
//! inside the container, so the host connection can be dropped before a checkpoint and made again
//! after a restore without the clients noticing.
//!
//! Forwarded: toplevels with shm buffers, their titles, app ids, parents, sizes and states,
//! popups (menus, placed by the host with the client's positioner), keyboard and pointer input,
//! the clipboard and primary selection (see [`crate::selection`]), subsurfaces (see
//! [`subsurface`]), sessions (see [`session`]). Not yet: drag and drop.

pub mod session;
pub mod subsurface;

use anyhow::Context as _;
use calloop::LoopHandle;
use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::backend::{ClientData, ClientId, DisconnectReason};
use smithay::reexports::wayland_server::protocol::wl_seat::WlSeat;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::DisplayHandle;
use smithay::utils::Serial;
use smithay::wayland::compositor::{
    get_parent, is_sync_subsurface, with_states, CompositorClientState,
};
use smithay::wayland::selection::data_device::DataDeviceState;
use smithay::wayland::selection::primary_selection::PrimarySelectionState;
use smithay::wayland::shell::xdg::decoration::{XdgDecorationHandler, XdgDecorationState};
use smithay::wayland::shell::xdg::{
    PopupSurface, PositionerState, SurfaceCachedState, ToplevelSurface, XdgShellHandler,
    XdgShellState, XdgToplevelSurfaceData,
};
use smithay::utils::{Logical, Rectangle};
use smithay_client_toolkit::shell::xdg::popup::{Popup, PopupConfigure};
use smithay_client_toolkit::shell::xdg::window::{Window, WindowConfigure, WindowDecorations};
use smithay_client_toolkit::shell::xdg::{XdgPositioner, XdgSurface as _};
use wayland_protocols::xdg::shell::client::xdg_positioner::{
    Anchor as HostAnchor, ConstraintAdjustment as HostAdjustment, Gravity as HostGravity,
};
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::{debug, info, warn};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::Proxy as _;

use crate::bridge::Bridge;
use crate::host::bounded;
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

/// One native toplevel and its host counterpart.
#[derive(Debug)]
pub struct Native {
    pub toplevel: ToplevelSurface,
    pub role: Option<Window>,
    pub view: HostView,
    /// The title or app id changed since the host was told.
    pub names_changed: bool,
    /// The client asked for server-side decorations (xdg-decoration): the compositor draws its
    /// title bar. Otherwise it draws its own, and the compositor only a border.
    decorated: bool,
    /// The window geometry last set on the host.
    geometry: Option<Rectangle<i32, Logical>>,
}

/// One native popup (a menu, a tooltip) and its host counterpart: a host popup of the host
/// surface that shows its parent, placed by the same positioner.
#[derive(Debug)]
pub struct NativePopup {
    pub popup: PopupSurface,
    pub role: Option<Popup>,
    pub view: HostView,
    /// The client asked for a grab (a menu): the host popup asks for one too.
    grab: bool,
    /// The window geometry last set on the host.
    geometry: Option<Rectangle<i32, Logical>>,
}

/// The host's version of a native client's positioner.
fn host_positioner(host: &crate::host::Host, state: &PositionerState) -> Option<XdgPositioner> {
    let positioner = XdgPositioner::new(&host.xdg).ok()?;
    let size = state.rect_size;
    positioner.set_size(size.w.max(1), size.h.max(1));
    let anchor = state.anchor_rect;
    positioner.set_anchor_rect(
        anchor.loc.x,
        anchor.loc.y,
        anchor.size.w.max(1),
        anchor.size.h.max(1),
    );
    if let Ok(edges) = HostAnchor::try_from(u32::from(state.anchor_edges)) {
        positioner.set_anchor(edges);
    }
    if let Ok(gravity) = HostGravity::try_from(u32::from(state.gravity)) {
        positioner.set_gravity(gravity);
    }
    positioner.set_constraint_adjustment(HostAdjustment::from_bits_truncate(
        state.constraint_adjustment.bits(),
    ));
    positioner.set_offset(state.offset.x, state.offset.y);
    if state.reactive && positioner.version() >= 3 {
        positioner.set_reactive();
    }
    Some(positioner)
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

/// A toplevel's title and app id.
fn names(toplevel: &ToplevelSurface) -> (String, String) {
    with_states(toplevel.wl_surface(), |states| {
        states
            .data_map
            .get::<XdgToplevelSurfaceData>()
            .and_then(|data| data.lock().ok())
            .map(|data| {
                (
                    data.title.clone().unwrap_or_default(),
                    data.app_id.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    })
}

impl Native {
    /// The host connection is gone, and with it the host toplevel and what it was told.
    pub fn forget_host(&mut self) {
        self.role = None;
        self.view.forget_host();
        self.geometry = None;
    }
}

impl Bridge {
    /// Gives a native toplevel its host toplevel, once the client made its initial commit.
    pub fn create_native_role(&mut self, index: usize) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let native = &self.natives[index];
        if native.role.is_some() || !native.toplevel.alive() {
            return;
        }
        let parent = native
            .toplevel
            .parent()
            .and_then(|p| self.host_window_of_native(&p));
        let qh = host.qh.clone();
        let surface = host.compositor.create_surface(&qh);
        let decorations = if native.decorated {
            WindowDecorations::RequestServer
        } else {
            WindowDecorations::ClientOnly
        };
        let window = host.xdg.create_window(surface, decorations, &qh);
        let (title, app_id) = names(&native.toplevel);
        window.set_title(bounded(title));
        window.set_app_id(bounded(app_id));
        if let Some(parent) = parent {
            window.set_parent(Some(&parent));
        }
        if let Some(bridge) = &host.bridge {
            bridge.set_slot(window.wl_surface(), native.view.token.clone());
        }
        let toplevel = native.toplevel.clone();
        self.forward_toplevel_sessions(&toplevel, &window);
        window.commit();
        self.natives[index].role = Some(window);
    }

    /// Gives a native popup its host popup, once the client made its initial commit and its
    /// parent is shown on the host.
    fn create_native_popup_role(&mut self, index: usize) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let native = &self.native_popups[index];
        if native.role.is_some() || !native.popup.alive() {
            return;
        }
        let Some(parent) = native.popup.get_parent_surface() else {
            return;
        };
        let Some(parent_xdg) = self.host_xdg_surface_of_native(&parent) else {
            // A popup of a surface the host does not show cannot be placed: it closes.
            native.popup.send_popup_done();
            return;
        };
        let Some(positioner) =
            host_positioner(host, &native.popup.with_pending_state(|s| s.positioner))
        else {
            return;
        };
        let qh = host.qh.clone();
        let surface = host.compositor.create_surface(&qh);
        match Popup::from_surface(Some(&parent_xdg), &positioner, &qh, surface, &host.xdg) {
            Ok(popup) => {
                if native.grab {
                    if let (Some(seat), serial) = (host.seat.as_ref(), host.last_serial) {
                        popup.xdg_popup().grab(seat, serial);
                    }
                }
                popup.wl_surface().commit();
                self.native_popups[index].role = Some(popup);
            }
            Err(err) => {
                debug!(?err, "creating a host popup failed");
                native.popup.send_popup_done();
            }
        }
    }

    /// The host xdg_surface that shows a native toplevel or popup.
    fn host_xdg_surface_of_native(
        &self,
        surface: &WlSurface,
    ) -> Option<wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface> {
        if let Some(window) = self.host_window_of_native(surface) {
            return Some(window.xdg_surface().clone());
        }
        self.native_popups
            .iter()
            .find(|p| p.popup.wl_surface() == surface)
            .and_then(|p| p.role.as_ref())
            .map(|r| r.xdg_surface().clone())
    }

    /// The host configured a popup; returns false when it is not a native one.
    pub fn native_popup_configured(
        &mut self,
        host_popup: &Popup,
        configure: &PopupConfigure,
    ) -> bool {
        let Some(index) = self
            .native_popups
            .iter()
            .position(|p| p.role.as_ref() == Some(host_popup))
        else {
            return false;
        };
        let native = &mut self.native_popups[index];
        native.popup.with_pending_state(|state| {
            state.geometry = Rectangle::new(
                configure.position.into(),
                (configure.width, configure.height).into(),
            );
        });
        if let Err(err) = native.popup.send_configure() {
            debug!(?err, "configuring a native popup failed");
        }
        let surface = native.popup.wl_surface().clone();
        if let Some(host) = self.host.as_mut() {
            let now_ms = self.started.elapsed().as_millis() as u32;
            self.subsurfaces
                .forward(host, &surface, host_popup.wl_surface(), now_ms);
            native
                .view
                .configured(host, Some(&surface), host_popup.wl_surface());
        }
        true
    }

    /// The host dismissed a popup; returns false when it is not a native one.
    pub fn native_popup_dismissed(&mut self, host_popup: &Popup) -> bool {
        let Some(native) = self
            .native_popups
            .iter_mut()
            .find(|p| p.role.as_ref() == Some(host_popup))
        else {
            return false;
        };
        native.popup.send_popup_done();
        native.role = None;
        native.view.forget_host();
        true
    }

    pub fn host_window_of_native(&self, surface: &WlSurface) -> Option<Window> {
        self.natives
            .iter()
            .find(|n| n.toplevel.wl_surface() == surface)
            .and_then(|n| n.role.clone())
    }

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

    fn native_popup_commit(&mut self, index: usize, surface: &WlSurface) -> bool {
        if self.native_popups[index].role.is_none() {
            if self.host.is_some() {
                self.create_native_popup_role(index);
            } else {
                self.native_popups[index].popup.send_popup_done();
            }
            return false;
        }
        let now_ms = self.now_ms();
        let native = &mut self.native_popups[index];
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

    /// The host configured a toplevel; returns false when it is not a native one.
    pub fn native_configured(&mut self, host_window: &Window, configure: &WindowConfigure) -> bool {
        let Some(index) = self
            .natives
            .iter()
            .position(|n| n.role.as_ref() == Some(host_window))
        else {
            return false;
        };
        let native = &mut self.natives[index];
        native.toplevel.with_pending_state(|state| {
            state.size = match configure.new_size {
                (Some(w), Some(h)) => Some((w.get() as i32, h.get() as i32).into()),
                _ => None,
            };
            for (on, flag) in [
                (configure.is_activated(), xdg_toplevel::State::Activated),
                (configure.is_maximized(), xdg_toplevel::State::Maximized),
                (configure.is_fullscreen(), xdg_toplevel::State::Fullscreen),
                (configure.is_resizing(), xdg_toplevel::State::Resizing),
            ] {
                if on {
                    state.states.set(flag);
                } else {
                    state.states.unset(flag);
                }
            }
        });
        // A configure that changes nothing is not sent again; the first one always is.
        if native.toplevel.is_initial_configure_sent() {
            native.toplevel.send_pending_configure();
        } else {
            native.toplevel.send_configure();
        }
        let surface = native.toplevel.wl_surface().clone();
        forward_geometry(&surface, host_window.xdg_surface(), &mut native.geometry);
        if let Some(host) = self.host.as_mut() {
            let now_ms = self.started.elapsed().as_millis() as u32;
            self.subsurfaces
                .forward(host, &surface, host_window.wl_surface(), now_ms);
            native
                .view
                .configured(host, Some(&surface), host_window.wl_surface());
        }
        true
    }

    /// The person closed a native window on the host; returns false when it is not a native one.
    pub fn native_close_requested(&mut self, host_window: &Window) -> bool {
        match self
            .natives
            .iter()
            .find(|n| n.role.as_ref() == Some(host_window))
        {
            Some(native) => {
                native.toplevel.send_close();
                true
            }
            None => false,
        }
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

    /// Tells the host the native titles and app ids that changed since the last pass.
    pub fn send_native_names(&mut self) {
        for native in self.natives.iter_mut().filter(|n| n.names_changed) {
            if let Some(role) = &native.role {
                let (title, app_id) = names(&native.toplevel);
                role.set_title(bounded(title));
                role.set_app_id(bounded(app_id));
            }
            native.names_changed = false;
        }
    }

    fn names_changed(&mut self, surface: &ToplevelSurface) {
        if let Some(native) = self.natives.iter_mut().find(|n| &n.toplevel == surface) {
            native.names_changed = true;
        }
    }
}

impl XdgShellHandler for Bridge {
    fn xdg_shell_state(&mut self) -> &mut XdgShellState {
        &mut self
            .server
            .native
            .as_mut()
            .expect("xdg-shell is offered only with --serve-wayland")
            .xdg_shell
    }

    fn new_toplevel(&mut self, toplevel: ToplevelSurface) {
        self.last_token += 1;
        // The client's pid lets `porthole checkpoint` name the windows of a process it refuses.
        let pid = smithay::reexports::wayland_server::Resource::client(toplevel.wl_surface())
            .and_then(|c| c.get_data::<NativeClient>()?.pid)
            .unwrap_or(0);
        let token = format!("wl-{}-p{pid}", self.last_token);
        debug!(%token, "a native toplevel");
        self.natives.push(Native {
            toplevel,
            role: None,
            view: HostView::new(token),
            names_changed: false,
            decorated: false,
            geometry: None,
        });
    }

    fn toplevel_destroyed(&mut self, toplevel: ToplevelSurface) {
        self.natives.retain(|n| n.toplevel != toplevel);
    }

    fn new_popup(&mut self, popup: PopupSurface, _: PositionerState) {
        self.native_popups.push(NativePopup {
            popup,
            role: None,
            view: HostView::new(String::new()),
            grab: false,
            geometry: None,
        });
    }

    fn popup_destroyed(&mut self, popup: PopupSurface) {
        self.native_popups.retain(|p| p.popup != popup);
    }

    fn grab(&mut self, popup: PopupSurface, _: WlSeat, _: Serial) {
        // The grab goes with the host popup, made on the popup's first commit (which follows
        // the grab request).
        if let Some(native) = self.native_popups.iter_mut().find(|p| p.popup == popup) {
            native.grab = true;
        }
    }

    fn reposition_request(&mut self, popup: PopupSurface, positioner: PositionerState, token: u32) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let Some(native) = self.native_popups.iter().find(|p| p.popup == popup) else {
            return;
        };
        popup.with_pending_state(|s| s.positioner = positioner);
        if let (Some(role), Some(host_positioner)) =
            (&native.role, host_positioner(host, &positioner))
        {
            if role.xdg_popup().version() >= 3 {
                role.reposition(&host_positioner, token);
                popup.send_repositioned(token);
            }
        }
    }

    fn title_changed(&mut self, toplevel: ToplevelSurface) {
        self.names_changed(&toplevel);
    }

    fn app_id_changed(&mut self, toplevel: ToplevelSurface) {
        self.names_changed(&toplevel);
    }
}

/// The compositor draws every container window's frame, so native clients are told not to.
impl XdgDecorationHandler for Bridge {
    fn new_decoration(&mut self, toplevel: ToplevelSurface) {
        toplevel
            .with_pending_state(|state| state.decoration_mode = Some(DecorationMode::ServerSide));
        if let Some(native) = self.natives.iter_mut().find(|n| n.toplevel == toplevel) {
            native.decorated = true;
        }
    }

    fn request_mode(&mut self, toplevel: ToplevelSurface, _: DecorationMode) {
        self.new_decoration(toplevel.clone());
        if toplevel.is_initial_configure_sent() {
            toplevel.send_pending_configure();
        }
    }

    fn unset_mode(&mut self, toplevel: ToplevelSurface) {
        self.request_mode(toplevel, DecorationMode::ServerSide);
    }
}

smithay::delegate_xdg_shell!(Bridge);
smithay::delegate_xdg_decoration!(Bridge);
