//! porthole_x11_v1 (protocols/porthole-x11-v1.xml): tells a container's X11 bridge where its
//! toplevels are, so that its X server's root coordinates match the desktop. Whom the global is
//! offered to is the filter's to say (policy: containers with `x11 = true` whose profile allows
//! it); where a toplevel is, the [`X11Handler`]'s.

use std::collections::HashMap;
use std::sync::Mutex;

use porthole_protocols::x11::server::porthole_x11_manager_v1::{self, PortholeX11ManagerV1};
use porthole_protocols::x11::server::porthole_x11_toplevel_v1::{self, PortholeX11ToplevelV1};
use smithay::reexports::wayland_server::backend::{ClientId, ObjectId};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource,
};

use super::Filter;

/// What the compositor does for porthole_x11_v1.
pub trait X11Handler {
    /// The protocol's state.
    fn x11_state(&mut self) -> &mut X11State;
    /// Where the toplevel of `surface` is shown, if it is.
    fn x11_place(&self, surface: &WlSurface) -> Option<(i32, i32)>;
}

/// The toplevels X11 bridges follow, by their surface: one object per surface, so that what
/// one request or one frame costs does not grow with what a bridge asked before.
#[derive(Debug, Default)]
pub struct X11State {
    toplevels: HashMap<ObjectId, PortholeX11ToplevelV1>,
}

/// A toplevel a bridge follows, and the position last sent for it.
#[derive(Debug)]
pub struct X11Toplevel {
    surface: ObjectId,
    sent: Mutex<Option<(i32, i32)>>,
}

impl X11State {
    /// Creates the global, seen by the clients `filter` accepts.
    pub fn new<D>(
        dh: &DisplayHandle,
        filter: impl Fn(&Client) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        D: GlobalDispatch<PortholeX11ManagerV1, Filter> + 'static,
    {
        dh.create_global::<D, PortholeX11ManagerV1, _>(1, Filter::new(filter));
        Self::default()
    }

    /// Whether no bridge follows any toplevel.
    pub fn is_empty(&self) -> bool {
        self.toplevels.is_empty()
    }

    /// Tells the bridges where these surfaces' toplevels are now, where that changed.
    pub fn send_positions(&self, shown: impl Iterator<Item = (WlSurface, (i32, i32))>) {
        for (surface, position) in shown {
            if let Some(toplevel) = self.toplevels.get(&surface.id()) {
                send_position(toplevel, position);
            }
        }
    }
}

/// Sends `position` unless it was the last one sent.
fn send_position(toplevel: &PortholeX11ToplevelV1, position: (i32, i32)) {
    let Some(data) = toplevel.data::<X11Toplevel>() else {
        return;
    };
    let mut sent = data.sent.lock().unwrap_or_else(|e| e.into_inner());
    if *sent != Some(position) {
        *sent = Some(position);
        toplevel.position(position.0, position.1);
    }
}

impl<D> GlobalDispatch<PortholeX11ManagerV1, Filter, D> for X11State
where
    D: GlobalDispatch<PortholeX11ManagerV1, Filter>
        + Dispatch<PortholeX11ManagerV1, ()>
        + Dispatch<PortholeX11ToplevelV1, X11Toplevel>
        + X11Handler
        + 'static,
{
    fn bind(
        _state: &mut D,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<PortholeX11ManagerV1>,
        _global_data: &Filter,
        data_init: &mut DataInit<'_, D>,
    ) {
        data_init.init(resource, ());
    }

    fn can_view(client: Client, global_data: &Filter) -> bool {
        global_data.allows(&client)
    }
}

impl<D> Dispatch<PortholeX11ManagerV1, (), D> for X11State
where
    D: Dispatch<PortholeX11ManagerV1, ()>
        + Dispatch<PortholeX11ToplevelV1, X11Toplevel>
        + X11Handler
        + 'static,
{
    fn request(
        state: &mut D,
        _client: &Client,
        resource: &PortholeX11ManagerV1,
        request: porthole_x11_manager_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, D>,
    ) {
        if let porthole_x11_manager_v1::Request::GetX11Toplevel { id, surface } = request {
            let toplevel = data_init.init(
                id,
                X11Toplevel {
                    surface: surface.id(),
                    sent: Mutex::new(None),
                },
            );
            let toplevels = &mut state.x11_state().toplevels;
            if toplevels.get(&surface.id()).is_some_and(|t| t.is_alive()) {
                resource.post_error(
                    porthole_x11_manager_v1::Error::AlreadyFollowed,
                    "the surface is already followed",
                );
                return;
            }
            toplevels.insert(surface.id(), toplevel.clone());
            if let Some(position) = state.x11_place(&surface) {
                send_position(&toplevel, position);
            }
        }
    }
}

impl<D> Dispatch<PortholeX11ToplevelV1, X11Toplevel, D> for X11State
where
    D: Dispatch<PortholeX11ToplevelV1, X11Toplevel> + X11Handler + 'static,
{
    fn request(
        _state: &mut D,
        _client: &Client,
        _resource: &PortholeX11ToplevelV1,
        _request: porthole_x11_toplevel_v1::Request,
        _data: &X11Toplevel,
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, D>,
    ) {
    }

    fn destroyed(
        state: &mut D,
        _client: ClientId,
        resource: &PortholeX11ToplevelV1,
        data: &X11Toplevel,
    ) {
        let toplevels = &mut state.x11_state().toplevels;
        if toplevels.get(&data.surface) == Some(resource) {
            toplevels.remove(&data.surface);
        }
    }
}

/// Implements the dispatch of porthole_x11_v1 for `$ty` through [`X11State`].
#[macro_export]
macro_rules! delegate_x11 {
    ($ty:ty) => {
        smithay::reexports::wayland_server::delegate_global_dispatch!($ty: [
            porthole_protocols::x11::server::porthole_x11_manager_v1::PortholeX11ManagerV1:
                $crate::protocols::Filter
        ] => $crate::protocols::x11::X11State);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::x11::server::porthole_x11_manager_v1::PortholeX11ManagerV1: ()
        ] => $crate::protocols::x11::X11State);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::x11::server::porthole_x11_toplevel_v1::PortholeX11ToplevelV1:
                $crate::protocols::x11::X11Toplevel
        ] => $crate::protocols::x11::X11State);
    };
}
