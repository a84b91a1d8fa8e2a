//! The bridge's connection to the container's Wayland socket on the host: an ordinary client
//! of that container, bound by its policy like any other.

pub mod cursor;

use std::os::fd::{AsFd as _, OwnedFd};

use porthole_protocols::bridge::client::porthole_bridge_v1::{self, PortholeBridgeV1};
use porthole_protocols::x11::client::porthole_x11_manager_v1::PortholeX11ManagerV1;
use porthole_protocols::x11::client::porthole_x11_toplevel_v1::{self, PortholeX11ToplevelV1};
use smithay::backend::input::{ButtonState, KeyState};
use smithay::input::keyboard::{FilterResult, Keycode};
use smithay::input::pointer::{AxisFrame, ButtonEvent, MotionEvent};
use smithay::utils::SERIAL_COUNTER;
use smithay::wayland::selection::SelectionTarget;
use smithay_client_toolkit::compositor::{CompositorHandler, CompositorState as HostCompositor};
use smithay_client_toolkit::data_device_manager::data_device::{DataDevice, DataDeviceHandler};
use smithay_client_toolkit::data_device_manager::data_offer::{DataOfferHandler, DragOffer};
use smithay_client_toolkit::data_device_manager::data_source::{
    CopyPasteSource, DataSourceHandler,
};
use smithay_client_toolkit::data_device_manager::{DataDeviceManagerState, WritePipe};
use smithay_client_toolkit::output::{OutputHandler, OutputState};
use smithay_client_toolkit::primary_selection::device::{
    PrimarySelectionDevice, PrimarySelectionDeviceHandler,
};
use smithay_client_toolkit::primary_selection::selection::{
    PrimarySelectionSource, PrimarySelectionSourceHandler,
};
use smithay_client_toolkit::primary_selection::PrimarySelectionManagerState;
use smithay_client_toolkit::registry::{ProvidesRegistryState, RegistryState};
use smithay_client_toolkit::seat::pointer::cursor_shape::CursorShapeManager;
use smithay_client_toolkit::seat::pointer::{PointerEvent, PointerEventKind, PointerHandler};
use smithay_client_toolkit::seat::{Capability, SeatHandler, SeatState};
use smithay_client_toolkit::shell::xdg::popup::{Popup, PopupConfigure, PopupHandler};
use smithay_client_toolkit::shell::xdg::window::{Window, WindowConfigure, WindowHandler};
use smithay_client_toolkit::shell::xdg::XdgShell;
use smithay_client_toolkit::shm::slot::SlotPool;
use smithay_client_toolkit::shm::{Shm, ShmHandler};
use smithay_client_toolkit::subcompositor::SubcompositorState;
use tracing::{info, warn};
use wayland_client::globals::GlobalList;
use wayland_client::protocol::wl_data_device::WlDataDevice;
use wayland_client::protocol::wl_data_device_manager::DndAction;
use wayland_client::protocol::wl_data_source::WlDataSource;
use wayland_client::protocol::wl_keyboard::{self, WlKeyboard};
use wayland_client::protocol::wl_output::{Transform, WlOutput};
use wayland_client::protocol::wl_pointer::WlPointer;
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::{Connection, Dispatch, QueueHandle, WEnum};
use wayland_protocols::wp::cursor_shape::v1::client::wp_cursor_shape_device_v1::WpCursorShapeDeviceV1;
use wayland_protocols::wp::primary_selection::zv1::client::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use wayland_protocols::wp::primary_selection::zv1::client::zwp_primary_selection_source_v1::ZwpPrimarySelectionSourceV1;

use crate::bridge::Bridge;

/// What the bridge holds of its host connection.
pub struct Host {
    pub conn: Connection,
    pub qh: QueueHandle<Bridge>,
    pub registry: RegistryState,
    pub compositor: HostCompositor,
    /// wl_subcompositor, for native clients' subsurfaces.
    pub subcompositor: Option<SubcompositorState>,
    pub xdg: XdgShell,
    pub shm: Shm,
    pub pool: SlotPool,
    pub outputs: OutputState,
    pub seats: SeatState,
    pub seat: Option<WlSeat>,
    pub pointer: Option<WlPointer>,
    /// The serial of the host pointer's last enter on one of the bridge's surfaces, for
    /// wl_pointer.set_cursor (see [`cursor`]).
    pub pointer_enter: Option<u32>,
    /// wp_cursor_shape_manager_v1 where the host offers it, and its device for the pointer.
    cursor_shapes: Option<CursorShapeManager>,
    pub cursor_shape: Option<WpCursorShapeDeviceV1>,
    pub keyboard: Option<WlKeyboard>,
    pub data_devices: DataDeviceManagerState,
    pub data_device: Option<DataDevice>,
    pub primary: Option<PrimarySelectionManagerState>,
    pub primary_device: Option<PrimarySelectionDevice>,
    /// Sources this bridge set on the host for its clients' selections, by selection, and
    /// whose selection each is.
    pub clipboard_source: Option<(CopyPasteSource, crate::selection::Owner)>,
    pub primary_source: Option<(PrimarySelectionSource, crate::selection::Owner)>,
    /// The serial of the last input event, for requests the host checks against input.
    pub last_serial: u32,
    /// porthole_x11_v1, where the host offers it: where the host placed each toplevel.
    pub x11: Option<PortholeX11ManagerV1>,
    /// porthole_bridge_v1, bound by a checkpointable container's bridge.
    pub bridge: Option<PortholeBridgeV1>,
    /// xdg_session_manager_v1, where the compositor offers it, for a checkpointable container's
    /// native clients (see [`crate::native::session`]).
    pub session_manager:
        Option<porthole_protocols::session::client::xdg_session_manager_v1::XdgSessionManagerV1>,
}

impl Host {
    /// Binds what the bridge needs; the container's policy decides what exists.
    pub fn new(
        conn: Connection,
        globals: &GlobalList,
        qh: QueueHandle<Bridge>,
        proxy: bool,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let compositor = HostCompositor::bind(globals, &qh)
            .context("the container's socket offers no wl_compositor")?;
        let xdg =
            XdgShell::bind(globals, &qh).context("the container's socket offers no xdg_wm_base")?;
        let shm = Shm::bind(globals, &qh).context("the container's socket offers no wl_shm")?;
        let pool = SlotPool::new(4 * 1024 * 1024, &shm).context("creating a shm pool")?;
        let subcompositor = if proxy {
            SubcompositorState::bind(compositor.wl_compositor().clone(), globals, &qh).ok()
        } else {
            None
        };
        Ok(Self {
            subcompositor,
            registry: RegistryState::new(globals),
            outputs: OutputState::new(globals, &qh),
            seats: SeatState::new(globals, &qh),
            data_devices: DataDeviceManagerState::bind(globals, &qh)
                .context("the container's socket offers no wl_data_device_manager")?,
            primary: PrimarySelectionManagerState::bind(globals, &qh).ok(),
            compositor,
            xdg,
            shm,
            pool,
            seat: None,
            pointer: None,
            pointer_enter: None,
            cursor_shapes: CursorShapeManager::bind(globals, &qh).ok(),
            cursor_shape: None,
            keyboard: None,
            data_device: None,
            primary_device: None,
            clipboard_source: None,
            primary_source: None,
            last_serial: 0,
            x11: globals.bind(&qh, 1..=1, ()).ok(),
            session_manager: if proxy {
                globals.bind(&qh, 1..=1, ()).ok()
            } else {
                None
            },
            bridge: if proxy {
                Some(globals.bind(&qh, 1..=1, ()).context(
                    "the compositor offers no porthole_bridge_v1 (is it older than this bridge?)",
                )?)
            } else {
                None
            },
            conn,
            qh,
        })
    }

    /// Uses `seat` for selections, unless the bridge has one already. Seats present at start
    /// come from [`SeatState::seats`], later ones from `new_seat`.
    pub fn adopt_seat(&mut self, seat: WlSeat) {
        if self.seat.is_some() {
            return;
        }
        self.data_device = Some(self.data_devices.get_data_device(&self.qh, &seat));
        self.primary_device = self
            .primary
            .as_ref()
            .map(|p| p.get_selection_device(&self.qh, &seat));
        self.seat = Some(seat);
    }

    /// The size of the host's desktop: the bounding box of its outputs, in logical pixels.
    pub fn desktop_size(&self) -> (i32, i32) {
        let (mut w, mut h) = (0, 0);
        for output in self.outputs.outputs() {
            if let Some(info) = self.outputs.info(&output) {
                let (x, y) = info.logical_position.unwrap_or((0, 0));
                let size = info
                    .logical_size
                    .or_else(|| info.modes.iter().find(|m| m.current).map(|m| m.dimensions))
                    .unwrap_or((0, 0));
                w = w.max(x + size.0);
                h = h.max(y + size.1);
            }
        }
        if w == 0 || h == 0 {
            (1920, 1080)
        } else {
            (w, h)
        }
    }
}

impl Bridge {
    /// The host connection. Its events, and so every handler in this file, arrive only while it
    /// exists: the bridge connects when it starts Xwayland and disconnects when Xwayland is gone.
    fn connected(&mut self) -> &mut Host {
        self.host
            .as_mut()
            .expect("host events arrive only while the bridge is connected")
    }
}

impl CompositorHandler for Bridge {
    fn scale_factor_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: i32,
    ) {
    }

    fn transform_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: Transform,
    ) {
    }

    fn frame(&mut self, _: &Connection, _: &QueueHandle<Self>, surface: &HostSurface, time: u32) {
        self.host_frame_done(surface, time);
    }

    fn surface_enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: &WlOutput,
    ) {
    }

    fn surface_leave(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: &WlOutput,
    ) {
    }
}

impl OutputHandler for Bridge {
    fn output_state(&mut self) -> &mut OutputState {
        &mut self.connected().outputs
    }

    fn new_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }

    fn update_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }

    fn output_destroyed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }
}

impl WindowHandler for Bridge {
    fn request_close(&mut self, _: &Connection, _: &QueueHandle<Self>, window: &Window) {
        if !self.native_close_requested(window) {
            self.close_requested(window);
        }
    }

    fn configure(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        window: &Window,
        configure: WindowConfigure,
        _serial: u32,
    ) {
        if self.native_configured(window, &configure) {
            return;
        }
        let size = match configure.new_size {
            (Some(w), Some(h)) => Some((w.get(), h.get())),
            _ => None,
        };
        self.toplevel_configured(
            window,
            size,
            configure.is_activated(),
            configure.is_maximized(),
            configure.is_fullscreen(),
        );
    }
}

impl PopupHandler for Bridge {
    fn configure(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        popup: &Popup,
        configure: PopupConfigure,
    ) {
        if !self.native_popup_configured(popup, &configure) {
            self.popup_configured(popup);
        }
    }

    fn done(&mut self, _: &Connection, _: &QueueHandle<Self>, popup: &Popup) {
        if !self.native_popup_dismissed(popup) {
            self.popup_dismissed(popup);
        }
    }
}

impl ShmHandler for Bridge {
    fn shm_state(&mut self) -> &mut Shm {
        &mut self.connected().shm
    }
}

impl SeatHandler for Bridge {
    fn seat_state(&mut self) -> &mut SeatState {
        &mut self.connected().seats
    }

    fn new_seat(&mut self, _: &Connection, _: &QueueHandle<Self>, seat: WlSeat) {
        self.connected().adopt_seat(seat);
    }

    fn new_capability(
        &mut self,
        _: &Connection,
        qh: &QueueHandle<Self>,
        seat: WlSeat,
        capability: Capability,
    ) {
        if capability == Capability::Pointer && self.connected().pointer.is_none() {
            match self.connected().seats.get_pointer(qh, &seat) {
                Ok(pointer) => {
                    let host = self.connected();
                    host.cursor_shape = host
                        .cursor_shapes
                        .as_ref()
                        .map(|m| m.get_shape_device(&pointer, qh));
                    host.pointer = Some(pointer);
                }
                Err(err) => warn!(?err, "binding the host pointer failed"),
            }
        }
        if capability == Capability::Keyboard && self.connected().keyboard.is_none() {
            self.connected().keyboard = Some(seat.get_keyboard(qh, ()));
        }
    }

    fn remove_capability(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: WlSeat,
        capability: Capability,
    ) {
        if capability == Capability::Pointer {
            let host = self.connected();
            if let Some(device) = host.cursor_shape.take() {
                device.destroy();
            }
            host.pointer_enter = None;
            if let Some(pointer) = host.pointer.take() {
                pointer.release();
            }
        }
        if capability == Capability::Keyboard {
            if let Some(keyboard) = self.connected().keyboard.take() {
                keyboard.release();
            }
        }
    }

    fn remove_seat(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlSeat) {}
}

impl PointerHandler for Bridge {
    fn pointer_frame(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &WlPointer,
        events: &[PointerEvent],
    ) {
        let pointer = self.server.pointer.clone();
        for event in events {
            let focus = self.server_surface_of(&event.surface);
            let location = event.position.into();
            match event.kind {
                PointerEventKind::Enter { serial } => {
                    self.connected().last_serial = serial;
                    self.connected().pointer_enter = Some(serial);
                    let event = MotionEvent {
                        location,
                        serial: SERIAL_COUNTER.next_serial(),
                        time: self.now_ms(),
                    };
                    pointer.motion(self, focus.map(|s| (s, (0.0, 0.0).into())), &event);
                    // The host's image on entering is its own: the clients' goes back.
                    self.show_cursor(None);
                }
                PointerEventKind::Leave { .. } => {
                    self.connected().pointer_enter = None;
                    let event = MotionEvent {
                        location,
                        serial: SERIAL_COUNTER.next_serial(),
                        time: self.now_ms(),
                    };
                    pointer.motion(self, None, &event);
                }
                PointerEventKind::Motion { time } => {
                    let event = MotionEvent {
                        location,
                        serial: SERIAL_COUNTER.next_serial(),
                        time,
                    };
                    pointer.motion(self, focus.map(|s| (s, (0.0, 0.0).into())), &event);
                }
                PointerEventKind::Press {
                    time,
                    button,
                    serial,
                }
                | PointerEventKind::Release {
                    time,
                    button,
                    serial,
                } => {
                    self.connected().last_serial = serial;
                    let state = if matches!(event.kind, PointerEventKind::Press { .. }) {
                        ButtonState::Pressed
                    } else {
                        ButtonState::Released
                    };
                    let event = ButtonEvent {
                        serial: SERIAL_COUNTER.next_serial(),
                        time,
                        button,
                        state,
                    };
                    pointer.button(self, &event);
                }
                PointerEventKind::Axis {
                    time,
                    horizontal,
                    vertical,
                    ..
                } => {
                    use smithay::backend::input::Axis;
                    let mut frame = AxisFrame::new(time);
                    if horizontal.absolute != 0.0 {
                        frame = frame.value(Axis::Horizontal, horizontal.absolute);
                    }
                    if vertical.absolute != 0.0 {
                        frame = frame.value(Axis::Vertical, vertical.absolute);
                    }
                    if horizontal.discrete != 0 {
                        frame = frame.v120(Axis::Horizontal, horizontal.discrete * 120);
                    }
                    if vertical.discrete != 0 {
                        frame = frame.v120(Axis::Vertical, vertical.discrete * 120);
                    }
                    pointer.axis(self, frame);
                }
            }
        }
        pointer.frame(self);
    }
}

impl Dispatch<WlKeyboard, ()> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &WlKeyboard,
        event: wl_keyboard::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let keyboard = bridge.server.keyboard.clone();
        match event {
            wl_keyboard::Event::Keymap { format, fd, size } => {
                if format != WEnum::Value(wl_keyboard::KeymapFormat::XkbV1) {
                    return;
                }
                match read_keymap(fd, size as usize) {
                    Ok(keymap) => {
                        if let Err(err) = keyboard.set_keymap_from_string(bridge, keymap) {
                            warn!(?err, "the host's keymap does not compile");
                        }
                    }
                    Err(err) => warn!(%err, "reading the host's keymap failed"),
                }
            }
            wl_keyboard::Event::Enter {
                serial, surface, ..
            } => {
                bridge.connected().last_serial = serial;
                let focus = bridge.key_focus_of(&surface);
                if let Some(window) = focus.as_ref().and_then(|f| f.window.clone()) {
                    bridge.raise(&window);
                }
                bridge.focus = focus.as_ref().and_then(|f| f.window.clone());
                keyboard.set_focus(bridge, focus, SERIAL_COUNTER.next_serial());
            }
            wl_keyboard::Event::Leave { .. } => {
                keyboard.set_focus(bridge, None, SERIAL_COUNTER.next_serial());
            }
            wl_keyboard::Event::Key {
                serial,
                time,
                key,
                state,
            } => {
                bridge.connected().last_serial = serial;
                let state = match state {
                    WEnum::Value(wl_keyboard::KeyState::Pressed) => KeyState::Pressed,
                    _ => KeyState::Released,
                };
                keyboard.input::<(), _>(
                    bridge,
                    Keycode::new(key + 8),
                    state,
                    SERIAL_COUNTER.next_serial(),
                    time,
                    |_, _, _| FilterResult::Forward,
                );
            }
            _ => {}
        }
    }
}

impl Dispatch<PortholeX11ManagerV1, ()> for Bridge {
    fn event(
        _: &mut Self,
        _: &PortholeX11ManagerV1,
        _: <PortholeX11ManagerV1 as wayland_client::Proxy>::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

/// The X11 window a followed toplevel shows.
impl Dispatch<PortholeX11ToplevelV1, u32> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &PortholeX11ToplevelV1,
        event: porthole_x11_toplevel_v1::Event,
        window: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let porthole_x11_toplevel_v1::Event::Position { x, y } = event {
            bridge.placed(*window, (x, y));
        }
    }
}

/// The compositor asks the bridge to let go before a checkpoint; the bridge does once this
/// dispatch is over.
impl Dispatch<PortholeBridgeV1, ()> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &PortholeBridgeV1,
        event: porthole_bridge_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let porthole_bridge_v1::Event::Detach = event {
            info!("the compositor asks the bridge to detach for a checkpoint");
            bridge.loop_handle.insert_idle(|bridge| bridge.detach());
        }
    }
}

/// Reads a keymap the host shared (with pread: the file may be shared with other clients).
fn read_keymap(fd: OwnedFd, size: usize) -> std::io::Result<String> {
    if size > 16 * 1024 * 1024 {
        return Err(std::io::Error::other("keymap larger than 16 MiB"));
    }
    let mut buf = vec![0u8; size];
    let mut read = 0;
    while read < size {
        let n = rustix::io::pread(fd.as_fd(), &mut buf[read..], read as u64)?;
        if n == 0 {
            break;
        }
        read += n;
    }
    buf.truncate(read);
    while buf.last() == Some(&0) {
        buf.pop();
    }
    String::from_utf8(buf).map_err(std::io::Error::other)
}

impl DataDeviceHandler for Bridge {
    fn enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &WlDataDevice,
        _: f64,
        _: f64,
        _: &HostSurface,
    ) {
    }

    fn leave(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {}

    fn motion(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice, _: f64, _: f64) {}

    fn selection(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {
        let offer = self
            .connected()
            .data_device
            .as_ref()
            .and_then(|d| d.data().selection_offer());
        let mime_types = offer.map(|o| o.with_mime_types(|m| m.to_vec()));
        self.host_selection_changed(SelectionTarget::Clipboard, mime_types);
    }

    fn drop_performed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataDevice) {}
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

impl DataSourceHandler for Bridge {
    fn accept_mime(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &WlDataSource,
        _: Option<String>,
    ) {
    }

    fn send_request(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &WlDataSource,
        mime: String,
        fd: WritePipe,
    ) {
        self.write_own_selection(SelectionTarget::Clipboard, mime, fd.into());
    }

    fn cancelled(&mut self, _: &Connection, _: &QueueHandle<Self>, source: &WlDataSource) {
        if self
            .connected()
            .clipboard_source
            .as_ref()
            .is_some_and(|(s, _)| s.inner() == source)
        {
            self.own_source_cancelled(SelectionTarget::Clipboard);
        }
    }

    fn dnd_dropped(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataSource) {}

    fn dnd_finished(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataSource) {}

    fn action(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &WlDataSource, _: DndAction) {}
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

impl ProvidesRegistryState for Bridge {
    fn registry(&mut self) -> &mut RegistryState {
        &mut self.connected().registry
    }
    smithay_client_toolkit::registry_handlers![OutputState, SeatState];
}

smithay_client_toolkit::delegate_compositor!(Bridge);
smithay_client_toolkit::delegate_subcompositor!(Bridge);
smithay_client_toolkit::delegate_output!(Bridge);
smithay_client_toolkit::delegate_shm!(Bridge);
smithay_client_toolkit::delegate_seat!(Bridge);
smithay_client_toolkit::delegate_pointer!(Bridge);
smithay_client_toolkit::delegate_xdg_shell!(Bridge);
smithay_client_toolkit::delegate_xdg_window!(Bridge);
smithay_client_toolkit::delegate_xdg_popup!(Bridge);
smithay_client_toolkit::delegate_data_device!(Bridge);
smithay_client_toolkit::delegate_primary_selection!(Bridge);
smithay_client_toolkit::delegate_registry!(Bridge);
