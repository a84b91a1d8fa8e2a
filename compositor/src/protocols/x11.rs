//! porthole_x11_v1 (protocols/porthole-x11-v1.xml): tells a container's X11 bridge where its
//! toplevels are, so that its X server's root coordinates match the desktop. Offered to clients
//! of containers with `x11 = true` whose profile allows it.

use porthole_protocols::x11::server::porthole_x11_manager_v1::{self, PortholeX11ManagerV1};
use porthole_protocols::x11::server::porthole_x11_toplevel_v1::{self, PortholeX11ToplevelV1};
use smithay::reexports::wayland_server::backend::ClientId;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource, Weak,
};
use std::sync::Mutex;

use crate::policy::ClientState;
use crate::state::{Porthole, State};

/// A toplevel a bridge follows, and the position last sent for it.
#[derive(Debug)]
pub struct X11Toplevel {
    surface: Weak<WlSurface>,
    sent: Mutex<Option<(i32, i32)>>,
}

impl GlobalDispatch<PortholeX11ManagerV1, ()> for State {
    fn bind(
        _state: &mut Self,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<PortholeX11ManagerV1>,
        _global_data: &(),
        data_init: &mut DataInit<'_, Self>,
    ) {
        data_init.init(resource, ());
    }

    fn can_view(client: Client, _global_data: &()) -> bool {
        client
            .get_data::<ClientState>()
            .is_some_and(|c| c.x11 && c.profile.allows(crate::policy::X11_GLOBAL))
    }
}

impl Dispatch<PortholeX11ManagerV1, ()> for State {
    fn request(
        state: &mut Self,
        _client: &Client,
        _resource: &PortholeX11ManagerV1,
        request: porthole_x11_manager_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if let porthole_x11_manager_v1::Request::GetX11Toplevel { id, surface } = request {
            let toplevel = data_init.init(
                id,
                X11Toplevel {
                    surface: surface.downgrade(),
                    sent: Mutex::new(None),
                },
            );
            state.comp.x11_toplevels.push(toplevel);
            state.comp.send_x11_positions();
        }
    }
}

impl Dispatch<PortholeX11ToplevelV1, X11Toplevel> for State {
    fn request(
        _state: &mut Self,
        _client: &Client,
        _resource: &PortholeX11ToplevelV1,
        _request: porthole_x11_toplevel_v1::Request,
        _data: &X11Toplevel,
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, Self>,
    ) {
    }

    fn destroyed(
        state: &mut Self,
        _client: ClientId,
        resource: &PortholeX11ToplevelV1,
        _data: &X11Toplevel,
    ) {
        state.comp.x11_toplevels.retain(|t| t != resource);
    }
}

impl Porthole {
    /// Sends each followed toplevel's position when it changed (mapped, moved, maximized...).
    pub fn send_x11_positions(&mut self) {
        if self.x11_toplevels.is_empty() {
            return;
        }
        self.x11_toplevels.retain(|t| t.is_alive());
        for toplevel in &self.x11_toplevels {
            let Some(data) = toplevel.data::<X11Toplevel>() else {
                continue;
            };
            let Some(window) = data
                .surface
                .upgrade()
                .ok()
                .and_then(|s| self.shell.window_for_surface(&s))
            else {
                continue;
            };
            let Some(loc) = self.shell.location(&window) else {
                continue; // Not on the desktop (minimized, or not mapped yet).
            };
            let position = (
                loc.x + window.geometry().loc.x,
                loc.y + window.geometry().loc.y,
            );
            let mut sent = data.sent.lock().unwrap_or_else(|e| e.into_inner());
            if *sent != Some(position) {
                *sent = Some(position);
                toplevel.position(position.0, position.1);
            }
        }
    }
}
