//! wl_data_device (clipboard and drag and drop) and primary selection.

use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_manager_v1::{
    self, ZwpPrimarySelectionDeviceManagerV1,
};
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_source_v1::ZwpPrimarySelectionSourceV1;
use smithay::reexports::wayland_server::protocol::wl_data_device_manager;
use smithay::reexports::wayland_server::{Client, DataInit, Dispatch, DisplayHandle};
use smithay::wayland::selection::primary_selection::{
    PrimaryDeviceManagerGlobalData, PrimaryDeviceUserData, PrimarySourceUserData,
};
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::reexports::wayland_server::protocol::wl_data_device::WlDataDevice;
use smithay::reexports::wayland_server::protocol::wl_data_device_manager::WlDataDeviceManager;
use smithay::reexports::wayland_server::protocol::wl_data_source::WlDataSource;
use smithay::wayland::selection::data_device::{
    ClientDndGrabHandler, DataDeviceHandler, DataDeviceState, ServerDndGrabHandler,
};
use smithay::wayland::selection::data_device::{DataDeviceUserData, DataSourceUserData};
use smithay::wayland::selection::primary_selection::{
    PrimarySelectionHandler, PrimarySelectionState,
};
use smithay::wayland::selection::SelectionHandler;

use smithay::input::Seat;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource;
use smithay::wayland::selection::data_device::set_data_device_focus;
use smithay::wayland::selection::primary_selection::set_primary_focus;
use smithay::wayland::selection::{SelectionSource, SelectionTarget};

use super::compositor::new_object_protocol_id;
use crate::config::{Export, Import};
use crate::state::{Porthole, State};

impl SelectionHandler for State {
    type SelectionUserData = ();

    fn new_selection(
        &mut self,
        ty: SelectionTarget,
        source: Option<SelectionSource>,
        seat: Seat<Self>,
    ) {
        // Setting a selection needs keyboard focus (smithay checks), so the focused client's
        // container owns it.
        let focus = seat.get_keyboard().and_then(|k| k.current_focus());
        if ty == SelectionTarget::Clipboard {
            // A client's selection replaces whatever a transfer offered.
            self.comp.clipboard.offered = None;
            self.comp.clipboard.source_mimes =
                source.as_ref().map(|s| s.mime_types()).unwrap_or_default();
        }
        let owner = source.and_then(|_| {
            let surface = focus.as_ref()?;
            let client = self.comp.display_handle.get_client(surface.id()).ok()?;
            Some(Porthole::client_container(&client))
        });
        match ty {
            SelectionTarget::Clipboard => self.comp.clipboard_owner = owner,
            SelectionTarget::Primary => self.comp.primary_owner = owner,
        }
        self.comp.offer_selections(&seat, focus.as_ref());
    }

    fn send_selection(
        &mut self,
        ty: SelectionTarget,
        _mime_type: String,
        fd: std::os::fd::OwnedFd,
        _seat: Seat<Self>,
        _user_data: &(),
    ) {
        // The compositor owns a selection only after a transfer between containers.
        if ty == SelectionTarget::Clipboard {
            self.send_offered_clipboard(fd);
        }
    }
}

impl Porthole {
    /// Whether a drag in progress may show its offer to `surface`: within the container it
    /// started in, and across containers only when the source's clipboard rules export and the
    /// target's import (`allow`; a drag cannot wait for an `ask` prompt).
    pub fn drag_may_enter(&self, surface: &WlSurface) -> bool {
        let Some(from) = &self.drag_container else {
            return true;
        };
        let Some(to) = self.surface_container(surface) else {
            return false;
        };
        let exports = self
            .configured_rules(from)
            .is_none_or(|r| r.export == Export::Allow);
        let imports = self
            .configured_rules(&to)
            .is_none_or(|r| r.import == Import::Allow);
        to == *from || (exports && imports)
    }

    fn surface_container(&self, surface: &WlSurface) -> Option<String> {
        let client = self.display_handle.get_client(surface.id()).ok()?;
        Some(Porthole::client_container(&client))
    }

    /// Offers the focused client what it may see again (after it made a new device).
    pub fn refresh_selection_offers(&self) {
        let seat = self.seat.clone();
        let focus = seat.get_keyboard().and_then(|k| k.current_focus());
        self.offer_selections(&seat, focus.as_ref());
    }

    /// Selections follow keyboard focus, within a container: the focused client is offered the
    /// clipboard and primary selection only when they belong to its own container (or to
    /// nobody). Nothing a container copies reaches another by focus alone.
    pub fn offer_selections(&self, seat: &Seat<State>, focused: Option<&WlSurface>) {
        let dh = &self.display_handle;
        let client = focused.and_then(|s| dh.get_client(s.id()).ok());
        let container = client.as_ref().map(Porthole::client_container);
        let may_see = |owner: &Option<String>| owner.is_none() || *owner == container;
        let clipboard = may_see(&self.clipboard_owner);
        let primary = may_see(&self.primary_owner);
        set_data_device_focus(dh, seat, client.clone().filter(|_| clipboard));
        set_primary_focus(dh, seat, client.clone().filter(|_| primary));
        // A client denied a selection is told there is none, as if nothing had been copied.
        let Some(client) = client else { return };
        for device in &self.selection_devices {
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

impl DataDeviceHandler for State {
    fn data_device_state(&self) -> &DataDeviceState {
        &self.comp.data_device_state
    }
}

impl ClientDndGrabHandler for State {
    fn started(
        &mut self,
        _source: Option<WlDataSource>,
        _icon: Option<WlSurface>,
        seat: Seat<Self>,
    ) {
        // A drag starts from the surface holding the implicit pointer grab.
        let focus = seat.get_pointer().and_then(|p| p.current_focus());
        self.comp.drag_container = focus
            .and_then(|s| self.comp.display_handle.get_client(s.id()).ok())
            .map(|c| Porthole::client_container(&c));
    }

    fn dropped(&mut self, target: Option<WlSurface>, validated: bool, _seat: Seat<Self>) {
        let from = self.comp.drag_container.take();
        let to = target.as_ref().and_then(|s| self.comp.surface_container(s));
        // A drop into another container is a transfer too: it goes on the event stream.
        if let (Some(from), Some(to), true) = (from, to, validated) {
            if from != to {
                self.comp.emit(porthole_ipc::Event::ClipboardTransfer {
                    from,
                    to: Some(to),
                    mime: None,
                    bytes: 0,
                    allowed: true,
                    reason: None,
                });
            }
        }
    }
}
impl ServerDndGrabHandler for State {}

impl PrimarySelectionHandler for State {
    fn primary_selection_state(&self) -> &PrimarySelectionState {
        &self.comp.primary_selection_state
    }
}

crate::policy_global!(WlDataDeviceManager, () => DataDeviceState);

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
            state.comp.selection_devices.retain(|d| d.alive());
            state
                .comp
                .selection_devices
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
            state.comp.selection_devices.retain(|d| d.alive());
            state
                .comp
                .selection_devices
                .push(SelectionDevice::Primary(device));
            state.comp.refresh_selection_offers();
        }
    }
}

/// A client's clipboard or primary selection device.
#[derive(Debug, Clone)]
pub enum SelectionDevice {
    /// wl_data_device.
    Clipboard(WlDataDevice),
    /// zwp_primary_selection_device_v1.
    Primary(ZwpPrimarySelectionDeviceV1),
}

impl SelectionDevice {
    fn alive(&self) -> bool {
        match self {
            SelectionDevice::Clipboard(d) => d.is_alive(),
            SelectionDevice::Primary(d) => d.is_alive(),
        }
    }
}
delegate_dispatch!(State: [WlDataDevice: DataDeviceUserData] => DataDeviceState);
delegate_dispatch!(State: [WlDataSource: DataSourceUserData] => DataDeviceState);
smithay::reexports::wayland_server::delegate_global_dispatch!(State: [ZwpPrimarySelectionDeviceManagerV1: PrimaryDeviceManagerGlobalData] => PrimarySelectionState);
delegate_dispatch!(State: [ZwpPrimarySelectionDeviceV1: PrimaryDeviceUserData] => PrimarySelectionState);
delegate_dispatch!(State: [ZwpPrimarySelectionSourceV1: PrimarySourceUserData] => PrimarySelectionState);
