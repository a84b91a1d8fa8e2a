//! Drag and drop between the container's native clients and the host. Where a drag goes is the
//! compositor's business (it knows what is under the pointer, and never lets a drag into another
//! container's windows), so the bridge runs none of its own:
//!
//! - a client starting a drag starts one on the host instead, from the host surface under the
//!   pointer, with a host source standing for the client's; what the host asks of that source
//!   (its data, the target's choices, the drop) goes to the client's;
//! - a drag the host brings over one of the bridge's surfaces (one of this container's, the
//!   bridge's own included) is shown to the client under it as smithay's server-side drag, fed
//!   by the host's motion, leave and drop; what the client answers (accept, action, reading the
//!   data, finishing) goes to the host's offer.
//!
//! While either runs, the bridge's pointer is grabbed, so that the container's clients see the
//! pointer leave as they would on the host. The host's drag ends the grab: a drop, a leave, the
//! end of the bridge's own source, or the pointer entering a surface again.

use smithay::input::pointer::{
    AxisFrame, ButtonEvent, Focus, GestureHoldBeginEvent, GestureHoldEndEvent,
    GesturePinchBeginEvent, GesturePinchEndEvent, GesturePinchUpdateEvent, GestureSwipeBeginEvent,
    GestureSwipeEndEvent, GestureSwipeUpdateEvent, GrabStartData, MotionEvent, PointerGrab,
    PointerInnerHandle, RelativeMotionEvent,
};
use smithay::input::Seat;
use smithay::reexports::wayland_server::protocol::wl_data_device::{self, WlDataDevice};
use smithay::reexports::wayland_server::protocol::wl_data_device_manager::{
    DndAction, WlDataDeviceManager,
};
use smithay::reexports::wayland_server::protocol::wl_data_source::WlDataSource;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{
    backend::ClientId, Client, DataInit, Dispatch, DisplayHandle, Resource,
};
use smithay::utils::{Logical, Point, Serial, SERIAL_COUNTER};
use smithay::wayland::compositor::give_role;
use smithay::wayland::selection::data_device::{
    start_dnd, with_source_metadata, ClientDndGrabHandler, DataDeviceState, DataDeviceUserData,
    DataSourceUserData, ServerDndGrabHandler, SourceMetadata, DND_ICON_ROLE,
};
use smithay_client_toolkit::data_device_manager::data_offer::{receive_to_fd, DragOffer};
use smithay_client_toolkit::data_device_manager::data_source::DragSource;
use tracing::debug;
use wayland_client::protocol::wl_data_device_manager::DndAction as HostDndAction;
use wayland_client::protocol::wl_data_source::WlDataSource as HostSource;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

use crate::bridge::Bridge;

/// A drag a client of the container started, as the host runs it.
#[derive(Debug)]
pub struct Outgoing {
    /// The client's source; `None` for a drag within one client.
    client: Option<WlDataSource>,
    /// The host's source standing for it, kept until the drag is finished or another starts:
    /// the compositor reads it for a drop on another container's window after the drag ended.
    host: Option<DragSource>,
}

/// What the host's events of one drag concern.
#[derive(Debug, Default)]
pub struct Drags {
    pub outgoing: Option<Outgoing>,
    /// The host's offer of the drag over one of the bridge's surfaces, once it entered one: the
    /// client under it reads the data and answers through it, during and after the drop.
    pub incoming: Option<DragOffer>,
    /// The bridge's pointer is grabbed for a drag the host runs.
    grabbed: bool,
}

fn host_actions(action: DndAction) -> HostDndAction {
    HostDndAction::from_bits_truncate(action.bits())
}

pub fn server_actions(action: HostDndAction) -> DndAction {
    DndAction::from_bits_truncate(action.bits())
}

impl Bridge {
    /// A client asked to start a drag: it starts on the host if the client holds the pointer's
    /// implicit grab, as smithay would check for a drag of its own.
    fn start_drag(
        &mut self,
        device: &WlDataDevice,
        source: Option<WlDataSource>,
        icon: Option<WlSurface>,
        serial: Serial,
    ) {
        let pointer = self.server.pointer.clone();
        if !pointer.has_grab(serial) {
            debug!(
                ?serial,
                "denying a drag without the pointer's implicit grab"
            );
            return;
        }
        // The compositor draws no drag icons: the icon only takes its role.
        if let Some(icon) = &icon {
            if give_role(icon, DND_ICON_ROLE).is_err() {
                device.post_error(
                    wl_data_device::Error::Role,
                    "the drag icon has another role already",
                );
                return;
            }
        }
        let Some(host) = self.host.as_mut() else {
            debug!("no drag while the compositor is away");
            return;
        };
        let (Some(host_device), Some(host_serial), Some(origin)) = (
            host.data_device.as_ref(),
            host.input_serials.host_serial(serial),
            host.pointer_surface.clone(),
        ) else {
            debug!("no host pointer grab to start a drag from");
            return;
        };
        let host_source = source.as_ref().map(|source| {
            let (mime_types, actions) =
                with_source_metadata(source, |m| (m.mime_types.clone(), m.dnd_action))
                    .unwrap_or((Vec::new(), DndAction::empty()));
            host.data_devices.create_drag_and_drop_source(
                &host.qh,
                mime_types,
                host_actions(actions),
            )
        });
        match &host_source {
            Some(s) => s.start_drag(host_device, &origin, None, host_serial),
            None => DragSource::start_internal_drag(host_device, &origin, None, host_serial),
        }
        host.drags.outgoing = Some(Outgoing {
            client: source,
            host: host_source,
        });
        let Some(start_data) = pointer.grab_start_data() else {
            return;
        };
        host.drags.grabbed = true;
        pointer.set_grab(self, HostDrag { start_data }, serial, Focus::Clear);
    }

    /// The client's source of the drag the host's `source` stands for, if it is one.
    pub fn drag_source(&mut self, source: &HostSource) -> Option<Option<WlDataSource>> {
        let outgoing = self.host.as_ref()?.drags.outgoing.as_ref()?;
        (outgoing.host.as_ref()?.inner() == source).then(|| outgoing.client.clone())
    }

    /// The host's drag ended for the bridge's pointer: its grab ends, with the client under a
    /// drag the host brought told of the drop (`dropped`) or of the drag leaving. Returns
    /// whether the pointer was grabbed.
    pub fn end_drag_grab(&mut self, dropped: bool) -> bool {
        let Some(host) = self.host.as_mut() else {
            return false;
        };
        if !std::mem::take(&mut host.drags.grabbed) {
            return false;
        }
        let pointer = self.server.pointer.clone();
        let (serial, time) = (SERIAL_COUNTER.next_serial(), self.now_ms());
        if !dropped {
            let location = pointer.current_location();
            let event = MotionEvent {
                location,
                serial,
                time,
            };
            pointer.motion(self, None, &event);
        }
        pointer.unset_grab(self, serial, time);
        pointer.frame(self);
        true
    }

    /// The host's drag entered `host_surface`, one of the bridge's: the client showing it gets
    /// the offer, as a drag of the bridge's seat.
    pub fn host_drag_entered(&mut self, host_surface: &HostSurface, location: Point<f64, Logical>) {
        if self.server_surface_of(host_surface).is_none() {
            return;
        }
        let Some(offer) = self
            .host
            .as_ref()
            .and_then(|h| h.data_device.as_ref())
            .and_then(|d| d.data().drag_offer())
        else {
            return;
        };
        let metadata = SourceMetadata {
            mime_types: offer.with_mime_types(|m| m.to_vec()),
            dnd_action: server_actions(offer.source_actions),
        };
        let host = self.host.as_mut().expect("checked above");
        host.drags.incoming = Some(offer);
        host.drags.grabbed = true;
        let (dh, seat) = (self.server.dh.clone(), self.server.seat.clone());
        let serial = SERIAL_COUNTER.next_serial();
        let start_data = GrabStartData {
            focus: None,
            button: BTN_LEFT,
            location,
        };
        start_dnd(&dh, &seat, self, serial, Some(start_data), None, metadata);
        self.host_drag_moved(location);
    }

    /// The host's drag moved over the bridge's surface it entered.
    pub fn host_drag_moved(&mut self, location: Point<f64, Logical>) {
        let surface = self
            .host
            .as_ref()
            .and_then(|h| h.drags.incoming.as_ref())
            .and_then(|offer| self.server_surface_of(&offer.surface));
        let event = MotionEvent {
            location,
            serial: SERIAL_COUNTER.next_serial(),
            time: self.now_ms(),
        };
        let pointer = self.server.pointer.clone();
        pointer.motion(self, surface.map(|s| (s, (0.0, 0.0).into())), &event);
        pointer.frame(self);
    }

    /// The host's offer of the drag the client under it answers.
    fn incoming(&self) -> Option<&DragOffer> {
        self.host.as_ref()?.drags.incoming.as_ref()
    }
}

/// The button a drag the host brings is taken to hold: its grab ends with the host's drop.
const BTN_LEFT: u32 = 0x110;

/// The bridge's pointer while the host runs a drag a client of the container started: no
/// client has the pointer (the host sends the bridge no pointer events then either).
struct HostDrag {
    start_data: GrabStartData<Bridge>,
}

impl PointerGrab<Bridge> for HostDrag {
    fn motion(
        &mut self,
        data: &mut Bridge,
        handle: &mut PointerInnerHandle<'_, Bridge>,
        _focus: Option<(WlSurface, Point<f64, Logical>)>,
        event: &MotionEvent,
    ) {
        handle.motion(data, None, event);
    }

    fn relative_motion(
        &mut self,
        data: &mut Bridge,
        handle: &mut PointerInnerHandle<'_, Bridge>,
        _focus: Option<(WlSurface, Point<f64, Logical>)>,
        event: &RelativeMotionEvent,
    ) {
        handle.relative_motion(data, None, event);
    }

    fn button(
        &mut self,
        data: &mut Bridge,
        handle: &mut PointerInnerHandle<'_, Bridge>,
        event: &ButtonEvent,
    ) {
        if handle.current_pressed().is_empty() {
            handle.unset_grab(self, data, event.serial, event.time, true);
        }
    }

    fn axis(&mut self, _: &mut Bridge, _: &mut PointerInnerHandle<'_, Bridge>, _: AxisFrame) {}

    fn frame(&mut self, data: &mut Bridge, handle: &mut PointerInnerHandle<'_, Bridge>) {
        handle.frame(data);
    }

    fn gesture_swipe_begin(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GestureSwipeBeginEvent,
    ) {
    }

    fn gesture_swipe_update(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GestureSwipeUpdateEvent,
    ) {
    }

    fn gesture_swipe_end(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GestureSwipeEndEvent,
    ) {
    }

    fn gesture_pinch_begin(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GesturePinchBeginEvent,
    ) {
    }

    fn gesture_pinch_update(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GesturePinchUpdateEvent,
    ) {
    }

    fn gesture_pinch_end(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GesturePinchEndEvent,
    ) {
    }

    fn gesture_hold_begin(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GestureHoldBeginEvent,
    ) {
    }

    fn gesture_hold_end(
        &mut self,
        _: &mut Bridge,
        _: &mut PointerInnerHandle<'_, Bridge>,
        _: &GestureHoldEndEvent,
    ) {
    }

    fn start_data(&self) -> &GrabStartData<Bridge> {
        &self.start_data
    }

    fn unset(&mut self, _: &mut Bridge) {}
}

/// Drags the clients start go to the host (see [`Bridge::start_drag`]), so smithay's own drag
/// never runs.
impl ClientDndGrabHandler for Bridge {}

/// A drag the host brought over a client: what the client answers goes to the host's offer.
impl ServerDndGrabHandler for Bridge {
    fn accept(&mut self, mime_type: Option<String>, _: Seat<Self>) {
        if let Some(offer) = self.incoming() {
            offer.accept_mime_type(offer.serial, mime_type);
        }
    }

    fn action(&mut self, action: DndAction, _: Seat<Self>) {
        if let Some(offer) = self.incoming() {
            offer.set_actions(host_actions(action), host_actions(action));
        }
    }

    fn send(&mut self, mime_type: String, fd: std::os::fd::OwnedFd, _: Seat<Self>) {
        if let Some(offer) = self.incoming() {
            receive_to_fd(offer.inner(), mime_type, fd);
        }
    }

    fn finished(&mut self, _: Seat<Self>) {
        if let Some(offer) = self.host.as_mut().and_then(|h| h.drags.incoming.take()) {
            offer.finish();
            offer.destroy();
        }
    }
}

/// The data device's requests go to smithay, but for starting a drag.
impl Dispatch<WlDataDevice, DataDeviceUserData> for Bridge {
    fn request(
        bridge: &mut Self,
        client: &Client,
        device: &WlDataDevice,
        request: wl_data_device::Request,
        data: &DataDeviceUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if let wl_data_device::Request::StartDrag {
            source,
            icon,
            serial,
            ..
        } = request
        {
            bridge.start_drag(device, source, icon, Serial::from(serial));
            return;
        }
        <DataDeviceState as Dispatch<WlDataDevice, DataDeviceUserData, Bridge>>::request(
            bridge, client, device, request, data, dh, data_init,
        );
    }

    fn destroyed(
        bridge: &mut Self,
        client: ClientId,
        device: &WlDataDevice,
        data: &DataDeviceUserData,
    ) {
        <DataDeviceState as Dispatch<WlDataDevice, DataDeviceUserData, Bridge>>::destroyed(
            bridge, client, device, data,
        );
    }
}

smithay::reexports::wayland_server::delegate_global_dispatch!(Bridge: [WlDataDeviceManager: ()] => DataDeviceState);
smithay::reexports::wayland_server::delegate_dispatch!(Bridge: [WlDataDeviceManager: ()] => DataDeviceState);
smithay::reexports::wayland_server::delegate_dispatch!(Bridge: [WlDataSource: DataSourceUserData] => DataDeviceState);
