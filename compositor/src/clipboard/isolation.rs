//! Each container keeps its own clipboard and primary selection: a selection belongs to the
//! container whose client set it (the host is one), and a client is offered only its own
//! container's. A drag never enters another container's windows; dropped on one, what was
//! dragged moves into that container's clipboard under both sides' rules.

use smithay::input::Seat;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_manager_v1::{
    self, ZwpPrimarySelectionDeviceManagerV1,
};
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use smithay::reexports::wayland_server::protocol::wl_data_device::WlDataDevice;
use smithay::reexports::wayland_server::protocol::wl_data_device_manager::{
    self, WlDataDeviceManager,
};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{Client, DataInit, Dispatch, DisplayHandle, Resource};
use smithay::wayland::selection::data_device::{set_data_device_focus, DataDeviceState};
use smithay::wayland::selection::primary_selection::{set_primary_focus, PrimarySelectionState};
use smithay::wayland::selection::{SelectionSource, SelectionTarget};

use super::SelectionDevice;
use crate::handlers::new_object_protocol_id;
use crate::state::{Porthole, State};

impl State {
    /// A client set (or cleared) a selection. It belongs to the container of the client that set
    /// it (noted as its request passed through `handlers/selection.rs`), focused or not: a host
    /// clipboard manager's selection is the host's, and no container sees it.
    pub fn selection_changed(
        &mut self,
        ty: SelectionTarget,
        source: Option<SelectionSource>,
        seat: &Seat<State>,
    ) {
        if ty == SelectionTarget::Clipboard {
            // A client's selection replaces whatever a transfer offered.
            self.comp.clipboard.offered = None;
            self.comp.clipboard.source_mimes =
                source.as_ref().map(|s| s.mime_types()).unwrap_or_default();
        }
        // A selection nobody noted the setter of belongs to the host, which no container sees.
        let owner = source.map(|_| {
            self.comp
                .clipboard
                .setter
                .clone()
                .unwrap_or_else(|| crate::policy::HOST_CONTAINER.to_string())
        });
        match ty {
            SelectionTarget::Clipboard => self.comp.clipboard.owner = owner,
            SelectionTarget::Primary => self.comp.clipboard.primary_owner = owner,
        }
        let focus = seat.get_keyboard().and_then(|k| k.current_focus());
        self.comp.offer_selections(seat, focus.as_ref());
    }

    /// A drag started, from the surface holding the implicit pointer grab.
    pub fn drag_started(&mut self, seat: &Seat<State>) {
        let focus = seat.get_pointer().and_then(|p| p.current_focus());
        self.comp.clipboard.drag_from = focus
            .and_then(|s| self.comp.display_handle.get_client(s.id()).ok())
            .map(|c| crate::policy::container_of(&c));
    }

    /// A drag ended (within its container: it never enters another's windows).
    pub fn drag_dropped(&mut self) {
        self.comp.clipboard.drag_from = None;
        self.comp.clipboard.drag_source = None;
    }

    /// The button of a drag in progress is released over `target`: a drop on another
    /// container's window moves what was dragged into that container's clipboard, as a transfer
    /// under both containers' rules (see `transfer.rs`).
    pub fn drop_across(&mut self, target: &WlSurface) {
        let (Some(from), Some(to)) = (
            self.comp.clipboard.drag_from.clone(),
            self.comp.surface_container(target),
        ) else {
            return;
        };
        if from == to {
            return;
        }
        if let Some(source) = self.comp.clipboard.drag_source.clone() {
            self.drag_copy(&from, &to, source);
        }
    }
}

impl Porthole {
    /// Whether a drag in progress may show its offer to `surface`: only within the container it
    /// started in. A client that is offered a drag can read it before any drop, so a drag never
    /// enters another container's windows; a drop there is a transfer ([`State::drop_across`]).
    pub fn drag_may_enter(&self, surface: &WlSurface) -> bool {
        let Some(from) = &self.clipboard.drag_from else {
            return true;
        };
        self.surface_container(surface).as_ref() == Some(from)
    }

    /// The container of a surface's client.
    pub fn surface_container(&self, surface: &WlSurface) -> Option<String> {
        let client = self.display_handle.get_client(surface.id()).ok()?;
        Some(crate::policy::container_of(&client))
    }

    /// Offers the focused client what it may see again (after it made a new device).
    pub fn refresh_selection_offers(&self) {
        let seat = self.seat.clone();
        let focus = seat.get_keyboard().and_then(|k| k.current_focus());
        self.offer_selections(&seat, focus.as_ref());
    }

    /// Selections follow keyboard focus, within a container: the focused client is offered the
    /// clipboard and primary selection only when they belong to its own container. Nothing a
    /// container or the host copies reaches another by focus alone.
    pub fn offer_selections(&self, seat: &Seat<State>, focused: Option<&WlSurface>) {
        let dh = &self.display_handle;
        let client = focused.and_then(|s| dh.get_client(s.id()).ok());
        let container = client.as_ref().map(crate::policy::container_of);
        let may_see = |owner: &Option<String>| owner.is_some() && *owner == container;
        let clipboard = may_see(&self.clipboard.owner);
        let primary = may_see(&self.clipboard.primary_owner);
        set_data_device_focus(dh, seat, client.clone().filter(|_| clipboard));
        set_primary_focus(dh, seat, client.clone().filter(|_| primary));
        // A client denied a selection is told there is none, as if nothing had been copied.
        let Some(client) = client else { return };
        for device in &self.clipboard.devices {
            match device {
                SelectionDevice::Clipboard(d)
                    if !clipboard && d.client().as_ref() == Some(&client) =>
                {
                    d.selection(None)
                }
                SelectionDevice::Primary(d) if !primary && d.client().as_ref() == Some(&client) => {
                    d.selection(None)
                }
                _ => {}
            }
        }
    }
}

// Data devices are recorded as they are made, so that a client denied the selection can be told
// there is none (otherwise clients like wl-paste wait for an event that never comes).
impl Dispatch<WlDataDeviceManager, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        manager: &WlDataDeviceManager,
        request: wl_data_device_manager::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let new = match &request {
            wl_data_device_manager::Request::GetDataDevice { id, .. } => new_object_protocol_id(id),
            _ => None,
        };
        <DataDeviceState as Dispatch<WlDataDeviceManager, (), State>>::request(
            state, client, manager, request, data, dh, data_init,
        );
        if let Some(device) =
            new.and_then(|pid| client.object_from_protocol_id::<WlDataDevice>(dh, pid).ok())
        {
            state.comp.clipboard.devices.retain(|d| d.alive());
            state
                .comp
                .clipboard
                .devices
                .push(SelectionDevice::Clipboard(device));
            state.comp.refresh_selection_offers();
        }
    }
}

impl Dispatch<ZwpPrimarySelectionDeviceManagerV1, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        manager: &ZwpPrimarySelectionDeviceManagerV1,
        request: zwp_primary_selection_device_manager_v1::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let new = match &request {
            zwp_primary_selection_device_manager_v1::Request::GetDevice { id, .. } => {
                new_object_protocol_id(id)
            }
            _ => None,
        };
        <PrimarySelectionState as Dispatch<ZwpPrimarySelectionDeviceManagerV1, (), State>>::request(
            state, client, manager, request, data, dh, data_init,
        );
        let device = new.and_then(|pid| {
            client
                .object_from_protocol_id::<ZwpPrimarySelectionDeviceV1>(dh, pid)
                .ok()
        });
        if let Some(device) = device {
            state.comp.clipboard.devices.retain(|d| d.alive());
            state
                .comp
                .clipboard
                .devices
                .push(SelectionDevice::Primary(device));
            state.comp.refresh_selection_offers();
        }
    }
}
