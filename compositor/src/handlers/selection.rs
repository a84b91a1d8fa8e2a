//! wl_data_device (clipboard and drag and drop) and primary selection; what each container may
//! see of them is `clipboard/`'s.

use smithay::input::Seat;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_manager_v1::ZwpPrimarySelectionDeviceManagerV1;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_source_v1::{self, ZwpPrimarySelectionSourceV1};
use smithay::reexports::wayland_server::protocol::wl_data_device::WlDataDevice;
use smithay::reexports::wayland_server::protocol::wl_data_device_manager::WlDataDeviceManager;
use smithay::reexports::wayland_server::backend::{ClientId, ObjectId};
use smithay::reexports::wayland_server::protocol::wl_data_source::{self, WlDataSource};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{Client, DataInit, Dispatch, DisplayHandle, Resource};
use smithay::wayland::selection::data_device::{
    ClientDndGrabHandler, DataDeviceHandler, DataDeviceState, DataDeviceUserData,
    DataSourceUserData, ServerDndGrabHandler,
};
use smithay::wayland::selection::primary_selection::{
    PrimaryDeviceManagerGlobalData, PrimaryDeviceUserData, PrimarySelectionHandler,
    PrimarySelectionState, PrimarySourceUserData,
};
use smithay::wayland::selection::{SelectionHandler, SelectionSource, SelectionTarget};

use smithay::reexports::wayland_protocols::ext::data_control::v1::server::ext_data_control_device_v1::ExtDataControlDeviceV1;
use smithay::reexports::wayland_protocols_wlr::data_control::v1::server::zwlr_data_control_device_v1::ZwlrDataControlDeviceV1;
use smithay::wayland::selection::{ext_data_control, wlr_data_control};

use crate::bounds;
use crate::state::State;

impl SelectionHandler for State {
    type SelectionUserData = ();

    fn new_selection(
        &mut self,
        ty: SelectionTarget,
        source: Option<SelectionSource>,
        seat: Seat<Self>,
    ) {
        self.selection_changed(ty, source, &seat);
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

impl DataDeviceHandler for State {
    fn data_device_state(&self) -> &DataDeviceState {
        &self.comp.globals.data_device
    }
}

impl ClientDndGrabHandler for State {
    fn started(
        &mut self,
        source: Option<WlDataSource>,
        _icon: Option<WlSurface>,
        seat: Seat<Self>,
    ) {
        self.comp.clipboard.drag_source = source;
        self.drag_started(&seat);
    }

    fn dropped(&mut self, _target: Option<WlSurface>, _validated: bool, _seat: Seat<Self>) {
        self.drag_dropped();
    }
}
impl ServerDndGrabHandler for State {}

impl PrimarySelectionHandler for State {
    fn primary_selection_state(&self) -> &PrimarySelectionState {
        &self.comp.globals.primary_selection
    }
}

// The device managers' requests pass through `clipboard/isolation.rs`, which records devices.
crate::policy_global!(WlDataDeviceManager, () => DataDeviceState);
smithay::reexports::wayland_server::delegate_global_dispatch!(State: [ZwpPrimarySelectionDeviceManagerV1: PrimaryDeviceManagerGlobalData] => PrimarySelectionState);

/// A selection device's requests go to smithay with the requesting client's container noted, so
/// that the selection it sets belongs to that container whether or not it has the keyboard
/// focus (data-control needs none).
macro_rules! note_setter {
    ($($device:ty: $data:ty => $state:ty),* $(,)?) => {$(
        impl Dispatch<$device, $data> for State {
            fn request(
                state: &mut Self,
                client: &Client,
                device: &$device,
                request: <$device as Resource>::Request,
                data: &$data,
                dh: &DisplayHandle,
                data_init: &mut DataInit<'_, Self>,
            ) {
                state.comp.clipboard.setter = Some(crate::policy::container_of(client));
                <$state as Dispatch<$device, $data, State>>::request(
                    state, client, device, request, data, dh, data_init,
                );
                state.comp.clipboard.setter = None;
            }

            fn destroyed(state: &mut Self, client: ClientId, device: &$device, data: &$data) {
                <$state as Dispatch<$device, $data, State>>::destroyed(state, client, device, data);
            }
        }
    )*};
}

note_setter!(
    WlDataDevice: DataDeviceUserData => DataDeviceState,
    ZwpPrimarySelectionDeviceV1: PrimaryDeviceUserData => PrimarySelectionState,
    ZwlrDataControlDeviceV1: wlr_data_control::DataControlDeviceUserData => wlr_data_control::DataControlState,
    ExtDataControlDeviceV1: ext_data_control::ExtDataControlDeviceUserData => ext_data_control::DataControlState,
);

// Data sources pass through here first: what they offer is bounded (`bounds.rs`).
impl Dispatch<WlDataSource, DataSourceUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        source: &WlDataSource,
        request: wl_data_source::Request,
        data: &DataSourceUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if let wl_data_source::Request::Offer { mime_type } = &request {
            if !state.admit_offer(client, source.id(), mime_type) {
                return;
            }
        }
        <DataDeviceState as Dispatch<WlDataSource, DataSourceUserData, State>>::request(
            state, client, source, request, data, dh, data_init,
        );
    }

    fn destroyed(
        state: &mut Self,
        client: ClientId,
        source: &WlDataSource,
        data: &DataSourceUserData,
    ) {
        state.comp.counts.forget(&source.id());
        <DataDeviceState as Dispatch<WlDataSource, DataSourceUserData, State>>::destroyed(
            state, client, source, data,
        );
    }
}

impl Dispatch<ZwpPrimarySelectionSourceV1, PrimarySourceUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        source: &ZwpPrimarySelectionSourceV1,
        request: zwp_primary_selection_source_v1::Request,
        data: &PrimarySourceUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if let zwp_primary_selection_source_v1::Request::Offer { mime_type } = &request {
            if !state.admit_offer(client, source.id(), mime_type) {
                return;
            }
        }
        <PrimarySelectionState as Dispatch<
            ZwpPrimarySelectionSourceV1,
            PrimarySourceUserData,
            State,
        >>::request(state, client, source, request, data, dh, data_init);
    }

    fn destroyed(
        state: &mut Self,
        client: ClientId,
        source: &ZwpPrimarySelectionSourceV1,
        data: &PrimarySourceUserData,
    ) {
        state.comp.counts.forget(&source.id());
        <PrimarySelectionState as Dispatch<
            ZwpPrimarySelectionSourceV1,
            PrimarySourceUserData,
            State,
        >>::destroyed(state, client, source, data);
    }
}

impl State {
    /// Whether a data source may offer one more MIME type; if not, its client is cut off.
    fn admit_offer(&mut self, client: &Client, source: ObjectId, mime_type: &str) -> bool {
        let limits = self.comp.limits_of(client);
        match bounds::admit_mime_type(&mut self.comp.counts, &source, mime_type, &limits) {
            Ok(()) => true,
            Err(over) => {
                self.comp.over_limit(client, source, over);
                false
            }
        }
    }
}
