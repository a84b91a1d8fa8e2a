//! The host's seat: its pointer and keyboard events become the bridge's own seat's, sent to the
//! server surface that the host surface under them shows.

use std::os::fd::{AsFd as _, OwnedFd};

use smithay::backend::input::{ButtonState, KeyState};
use smithay::input::keyboard::{FilterResult, Keycode};
use smithay::input::pointer::{AxisFrame, ButtonEvent, MotionEvent};
use smithay::utils::SERIAL_COUNTER;
use smithay_client_toolkit::seat::pointer::{PointerEvent, PointerEventKind, PointerHandler};
use smithay_client_toolkit::seat::{Capability, SeatHandler, SeatState};
use tracing::warn;
use wayland_client::protocol::wl_keyboard::{self, WlKeyboard};
use wayland_client::protocol::wl_pointer::WlPointer;
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::{Connection, Dispatch, QueueHandle, WEnum};

use crate::bridge::Bridge;

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
            host.pointer_surface = None;
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
                    // The host gives no surface the pointer during a drag: one that ended
                    // unseen (over no surface of the bridge's) ends here.
                    self.end_drag_grab(false);
                    let ours = SERIAL_COUNTER.next_serial();
                    let host = self.connected();
                    host.last_serial = serial;
                    host.pointer_enter = Some(serial);
                    host.pointer_surface = Some(event.surface.clone());
                    host.input_serials.passed(ours, serial);
                    let event = MotionEvent {
                        location,
                        serial: ours,
                        time: self.now_ms(),
                    };
                    pointer.motion(self, focus.map(|s| (s, (0.0, 0.0).into())), &event);
                    // The host's image on entering is its own: the clients' goes back.
                    self.show_cursor(None);
                }
                PointerEventKind::Leave { .. } => {
                    self.connected().pointer_enter = None;
                    self.connected().pointer_surface = None;
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
                    let ours = SERIAL_COUNTER.next_serial();
                    self.connected().last_serial = serial;
                    self.connected().input_serials.passed(ours, serial);
                    let state = if matches!(event.kind, PointerEventKind::Press { .. }) {
                        ButtonState::Pressed
                    } else {
                        ButtonState::Released
                    };
                    let event = ButtonEvent {
                        serial: ours,
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
                let ours = SERIAL_COUNTER.next_serial();
                bridge.connected().last_serial = serial;
                bridge.connected().input_serials.passed(ours, serial);
                let focus = bridge.key_focus_of(&surface);
                if let Some(window) = focus.as_ref().and_then(|f| f.window.clone()) {
                    bridge.raise(&window);
                }
                bridge.focus = focus.as_ref().and_then(|f| f.window.clone());
                keyboard.set_focus(bridge, focus, ours);
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
                let ours = SERIAL_COUNTER.next_serial();
                bridge.connected().last_serial = serial;
                bridge.connected().input_serials.passed(ours, serial);
                let state = match state {
                    WEnum::Value(wl_keyboard::KeyState::Pressed) => KeyState::Pressed,
                    _ => KeyState::Released,
                };
                keyboard.input::<(), _>(
                    bridge,
                    Keycode::new(key + 8),
                    state,
                    ours,
                    time,
                    |_, _, _| FilterResult::Forward,
                );
            }
            _ => {}
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

smithay_client_toolkit::delegate_seat!(Bridge);
smithay_client_toolkit::delegate_pointer!(Bridge);
