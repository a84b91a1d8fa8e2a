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
//! keyboard and pointer input, the clipboard and primary selection (see [`crate::selection`]).
//! Not yet: subsurfaces (drawn by the client but not forwarded), popups (dismissed at once) and
//! drag and drop.

use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::backend::{ClientData, ClientId, DisconnectReason};
use smithay::reexports::wayland_server::protocol::wl_seat::WlSeat;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::DisplayHandle;
use smithay::utils::Serial;
use smithay::wayland::compositor::{with_states, CompositorClientState};
use smithay::wayland::selection::data_device::DataDeviceState;
use smithay::wayland::selection::primary_selection::PrimarySelectionState;
use smithay::wayland::shell::xdg::decoration::{XdgDecorationHandler, XdgDecorationState};
use smithay::wayland::shell::xdg::{
    PopupSurface, PositionerState, ToplevelSurface, XdgShellHandler, XdgShellState,
    XdgToplevelSurfaceData,
};
use smithay_client_toolkit::shell::xdg::window::{Window, WindowConfigure, WindowDecorations};
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::debug;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

use crate::mirror::{bounded, HostView};
use crate::Bridge;

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
}

impl ClientData for NativeClient {
    fn initialized(&self, _: ClientId) {}
    fn disconnected(&self, _: ClientId, _: DisconnectReason) {}
}

/// One native toplevel and its host counterpart.
#[derive(Debug)]
pub struct Native {
    pub toplevel: ToplevelSurface,
    pub role: Option<Window>,
    pub view: HostView,
    /// The title or app id changed since the host was told.
    pub names_changed: bool,
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
        let window = host
            .xdg
            .create_window(surface, WindowDecorations::RequestServer, &qh);
        let (title, app_id) = names(&native.toplevel);
        window.set_title(bounded(title));
        window.set_app_id(bounded(app_id));
        if let Some(parent) = parent {
            window.set_parent(Some(&parent));
        }
        if let Some(bridge) = &host.bridge {
            bridge.set_slot(window.wl_surface(), native.view.token.clone());
        }
        window.commit();
        self.natives[index].role = Some(window);
    }

    fn host_window_of_native(&self, surface: &WlSurface) -> Option<Window> {
        self.natives
            .iter()
            .find(|n| n.toplevel.wl_surface() == surface)
            .and_then(|n| n.role.clone())
    }

    /// A native client committed `surface`. Returns whether the host will answer its frame
    /// callbacks.
    pub fn native_commit(&mut self, surface: &WlSurface) -> bool {
        let Some(index) = self
            .natives
            .iter()
            .position(|n| n.toplevel.wl_surface() == surface)
        else {
            return false;
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
        let native = &mut self.natives[index];
        let (Some(host), Some(role)) = (self.host.as_mut(), native.role.as_ref()) else {
            return false;
        };
        if !native.view.configured {
            return false;
        }
        let host_surface = role.wl_surface().clone();
        native.view.show(host, surface, &host_surface);
        true
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
        if let Some(host) = self.host.as_mut() {
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
        let token = format!("wl-{}", self.last_token);
        debug!(%token, "a native toplevel");
        self.natives.push(Native {
            toplevel,
            role: None,
            view: HostView::new(token),
            names_changed: false,
        });
    }

    fn toplevel_destroyed(&mut self, toplevel: ToplevelSurface) {
        self.natives.retain(|n| n.toplevel != toplevel);
    }

    fn new_popup(&mut self, popup: PopupSurface, _: PositionerState) {
        // Popups of native clients are not forwarded yet: the menu closes at once, as when the
        // person clicks elsewhere, rather than waiting for a configure that never comes.
        popup.send_popup_done();
    }

    fn grab(&mut self, _: PopupSurface, _: WlSeat, _: Serial) {}

    fn reposition_request(&mut self, _: PopupSurface, _: PositionerState, _: u32) {}

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
