//! A native toplevel and its host toplevel: made at the client's first commit (with its title,
//! app id, parent, decorations and sessions), configured by the host, closed from the host, and
//! renamed at most once a pass.

use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Rectangle};
use smithay::wayland::compositor::with_states;
use smithay::wayland::shell::xdg::{ToplevelSurface, XdgToplevelSurfaceData};
use smithay_client_toolkit::shell::xdg::window::{Window, WindowConfigure, WindowDecorations};
use smithay_client_toolkit::shell::xdg::XdgSurface as _;
use smithay_client_toolkit::shell::WaylandSurface as _;

use super::forward_geometry;
use crate::bridge::Bridge;
use crate::host::bounded;
use crate::host::view::HostView;

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
    pub(super) decorated: bool,
    /// The window geometry last set on the host.
    pub(super) geometry: Option<Rectangle<i32, Logical>>,
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

    pub fn host_window_of_native(&self, surface: &WlSurface) -> Option<Window> {
        self.natives
            .iter()
            .find(|n| n.toplevel.wl_surface() == surface)
            .and_then(|n| n.role.clone())
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

    pub(super) fn names_changed(&mut self, surface: &ToplevelSurface) {
        if let Some(native) = self.natives.iter_mut().find(|n| &n.toplevel == surface) {
            native.names_changed = true;
        }
    }
}
