//! The host's clipboard, primary selection and drags as they reach the bridge: a new host
//! selection, the host reading or cancelling the sources the bridge set there, a drag entering,
//! moving over and dropped on the bridge's surfaces. What becomes of them is
//! [`crate::selection`]'s and [`crate::dnd`]'s business.

use std::os::fd::{AsFd as _, OwnedFd};

use smithay::reexports::wayland_server::Resource as _;
use smithay::wayland::selection::SelectionTarget;
use smithay_client_toolkit::data_device_manager::data_device::DataDeviceHandler;
use smithay_client_toolkit::data_device_manager::data_offer::{DataOfferHandler, DragOffer};
use smithay_client_toolkit::data_device_manager::data_source::DataSourceHandler;
use smithay_client_toolkit::data_device_manager::WritePipe;
use smithay_client_toolkit::primary_selection::device::PrimarySelectionDeviceHandler;
use smithay_client_toolkit::primary_selection::selection::PrimarySelectionSourceHandler;
use wayland_client::protocol::wl_data_device::WlDataDevice;
use wayland_client::protocol::wl_data_device_manager::DndAction;
use wayland_client::protocol::wl_data_source::WlDataSource;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::{Connection, QueueHandle};
use wayland_protocols::wp::primary_selection::zv1::client::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use wayland_protocols::wp::primary_selection::zv1::client::zwp_primary_selection_source_v1::ZwpPrimarySelectionSourceV1;

use crate::bridge::Bridge;

impl DataDeviceHandler for Bridge {
    fn enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &WlDataDevice,
        x: f64,
        y: f64,
        surface: &HostSurface,
    ) {
        self.host_drag_entered(surface, (x, y).into());
    }

    fn leave(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {
        // After a drop the offer stays, for the client to read and finish.
        if self.end_drag_grab(false) {
            self.connected().drags.incoming = None;
        }
    }

    fn motion(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice, x: f64, y: f64) {
        self.host_drag_moved((x, y).into());
    }

    fn selection(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {
        let offer = self
            .connected()
            .data_device
            .as_ref()
            .and_then(|d| d.data().selection_offer());
        let mime_types = offer.map(|o| o.with_mime_types(|m| m.to_vec()));
        self.host_selection_changed(SelectionTarget::Clipboard, mime_types);
    }

    fn drop_performed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {
        self.end_drag_grab(true);
    }
}

impl DataOfferHandler for Bridge {
    fn source_actions(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &mut DragOffer,
        _: DndAction,
    ) {
    }

    fn selected_action(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &mut DragOffer,
        _: DndAction,
    ) {
    }
}

/// The host's requests to the bridge's sources: the clipboard's, or a drag's, which go to the
/// client's source of the drag.
impl DataSourceHandler for Bridge {
    fn accept_mime(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        source: &WlDataSource,
        mime: Option<String>,
    ) {
        if let Some(Some(client)) = self.drag_source(source) {
            client.target(mime);
        }
    }

    fn send_request(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        source: &WlDataSource,
        mime: String,
        fd: WritePipe,
    ) {
        match self.drag_source(source) {
            Some(Some(client)) => client.send(mime, OwnedFd::from(fd).as_fd()),
            Some(None) => {}
            None => self.write_own_selection(SelectionTarget::Clipboard, mime, fd.into()),
        }
    }

    fn cancelled(&mut self, _: &Connection, _: &QueueHandle<Self>, source: &WlDataSource) {
        if let Some(client) = self.drag_source(source) {
            if let Some(client) = client {
                client.cancelled();
            }
            self.end_drag_grab(false);
            return;
        }
        if self
            .connected()
            .clipboard_source
            .as_ref()
            .is_some_and(|(s, _)| s.inner() == source)
        {
            self.own_source_cancelled(SelectionTarget::Clipboard);
        }
    }

    fn dnd_dropped(&mut self, _: &Connection, _: &QueueHandle<Self>, source: &WlDataSource) {
        if let Some(client) = self.drag_source(source) {
            if let Some(client) = client.filter(|c| c.version() >= 3) {
                client.dnd_drop_performed();
            }
            self.end_drag_grab(false);
        }
    }

    fn dnd_finished(&mut self, _: &Connection, _: &QueueHandle<Self>, source: &WlDataSource) {
        if let Some(client) = self.drag_source(source) {
            if let Some(client) = client.filter(|c| c.version() >= 3) {
                client.dnd_finished();
            }
            self.connected().drags.outgoing = None;
        }
    }

    fn action(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        source: &WlDataSource,
        action: DndAction,
    ) {
        if let Some(Some(client)) = self.drag_source(source) {
            if client.version() >= 3 {
                client.action(crate::dnd::server_actions(action));
            }
        }
    }
}

impl PrimarySelectionDeviceHandler for Bridge {
    fn selection(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &ZwpPrimarySelectionDeviceV1,
    ) {
        let offer = self
            .connected()
            .primary_device
            .as_ref()
            .and_then(|d| d.data().selection_offer());
        let mime_types = offer.map(|o| o.with_mime_types(|m| m.to_vec()));
        self.host_selection_changed(SelectionTarget::Primary, mime_types);
    }
}

impl PrimarySelectionSourceHandler for Bridge {
    fn send_request(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &ZwpPrimarySelectionSourceV1,
        mime: String,
        fd: WritePipe,
    ) {
        self.write_own_selection(SelectionTarget::Primary, mime, fd.into());
    }

    fn cancelled(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        source: &ZwpPrimarySelectionSourceV1,
    ) {
        if self
            .connected()
            .primary_source
            .as_ref()
            .is_some_and(|(s, _)| s.inner() == source)
        {
            self.own_source_cancelled(SelectionTarget::Primary);
        }
    }
}

smithay_client_toolkit::delegate_data_device!(Bridge);
smithay_client_toolkit::delegate_primary_selection!(Bridge);
