//! Events of input devices, from the backends: keys go to the keyboard's path, motion and
//! buttons to the pointer's, and touch is handled here.

use smithay::backend::input::{
    AbsolutePositionEvent, Axis, AxisSource, Event, InputBackend, InputEvent, KeyboardKeyEvent,
    PointerAxisEvent, PointerButtonEvent, PointerMotionEvent, TouchEvent as _, TouchSlot,
};
use smithay::desktop::Window;
use smithay::input::keyboard::Keycode;
use smithay::input::pointer::AxisFrame;
use smithay::input::touch::{
    DownEvent as TouchDownEvent, MotionEvent as TouchMotionEvent, UpEvent as TouchUpEvent,
};
use smithay::utils::{Logical, Point, SERIAL_COUNTER};

use crate::decorations::FramePart;
use crate::state::State;

impl State {
    /// Handles one event from a device backend.
    pub fn process_input_event<I: InputBackend>(&mut self, event: InputEvent<I>) {
        match event {
            InputEvent::Keyboard { event } => {
                let code = Keycode::new(event.key_code().raw());
                self.on_key(code, event.state(), event.time_msec());
            }
            InputEvent::PointerMotion { event } => {
                let pos = self.comp.pointer_location() + event.delta();
                self.on_pointer_move(pos, event.time_msec());
            }
            InputEvent::PointerMotionAbsolute { event } => {
                if let Some(pos) = self.absolute_position(&event) {
                    self.on_pointer_move(pos, event.time_msec());
                }
            }
            InputEvent::TouchDown { event } => {
                if let Some(pos) = self.absolute_position(&event) {
                    self.on_touch_down(event.slot(), pos, event.time_msec());
                }
            }
            InputEvent::TouchMotion { event } => {
                if let Some(pos) = self.absolute_position(&event) {
                    self.on_touch_motion(event.slot(), pos, event.time_msec());
                }
            }
            InputEvent::TouchUp { event } => self.on_touch_up(event.slot(), event.time_msec()),
            InputEvent::TouchFrame { .. } => {
                if let Some(touch) = self.comp.seat.get_touch() {
                    touch.frame(self);
                }
            }
            InputEvent::TouchCancel { .. } => {
                if let Some(touch) = self.comp.seat.get_touch() {
                    touch.cancel(self);
                }
            }
            InputEvent::PointerButton { event } => {
                self.on_button(event.button_code(), event.state(), event.time_msec());
            }
            InputEvent::PointerAxis { event } => {
                let mut frame = AxisFrame::new(event.time_msec()).source(event.source());
                for axis in [Axis::Horizontal, Axis::Vertical] {
                    let amount = event
                        .amount(axis)
                        .unwrap_or_else(|| event.amount_v120(axis).unwrap_or(0.0) * 15.0 / 120.0);
                    if amount != 0.0 {
                        frame = frame.value(axis, amount);
                        if let Some(v120) = event.amount_v120(axis) {
                            frame = frame.v120(axis, v120 as i32);
                        }
                    } else if event.source() == AxisSource::Finger {
                        frame = frame.stop(axis);
                    }
                }
                if let Some(pointer) = self.comp.seat.get_pointer() {
                    pointer.axis(self, frame);
                    pointer.frame(self);
                }
            }
            _ => {}
        }
        self.apply_pending_focus();
    }

    /// Where an absolute device (a tablet, a touch screen) points: on the first output, which it
    /// spans.
    fn absolute_position<I: InputBackend>(
        &self,
        event: &impl AbsolutePositionEvent<I>,
    ) -> Option<Point<f64, Logical>> {
        let output = self.comp.shell.outputs().next()?;
        let geo = self.comp.shell.output_geometry(output)?;
        Some(event.position_transformed(geo.size) + geo.loc.to_f64())
    }

    /// The window at `pos`, by its frame or its content, and the part of its frame there.
    pub(super) fn window_at(
        &self,
        pos: Point<f64, Logical>,
    ) -> (Option<Window>, Option<FramePart>) {
        match self.comp.frame_part_under(pos) {
            Some((window, part)) => (Some(window), Some(part)),
            None => {
                let window = self.comp.window_taking_input(pos).map(|(w, _)| w);
                (window, None)
            }
        }
    }

    /// A finger went down. Like a click, it focuses and raises the window under it, and on a
    /// frame's buttons it presses them; elsewhere on a frame it goes nowhere. The surface it went
    /// down on gets the finger's motion and release, wherever the finger goes.
    pub fn on_touch_down(&mut self, slot: TouchSlot, pos: Point<f64, Logical>, time: u32) {
        let Some(touch) = self.comp.seat.get_touch() else {
            return;
        };
        let pos = self.comp.clamp_to_outputs(pos);
        let (window, frame_part) = self.window_at(pos);
        self.comp.focus_window(window.as_ref());
        self.apply_pending_focus();
        if let (Some(window), Some(part)) = (window, frame_part) {
            self.press_frame_button(&window, part);
            self.apply_pending_focus();
            return;
        }
        let focus = self.comp.surface_under(pos);
        let serial = SERIAL_COUNTER.next_serial();
        if let Some(to) = focus
            .as_ref()
            .and_then(|(s, _)| self.comp.surface_container(s))
        {
            self.comp
                .input
                .guard
                .sent(serial, &to, std::time::Instant::now());
        }
        touch.down(
            self,
            focus,
            &TouchDownEvent {
                slot,
                location: pos,
                serial,
                time,
            },
        );
    }

    /// A finger moved.
    pub fn on_touch_motion(&mut self, slot: TouchSlot, pos: Point<f64, Logical>, time: u32) {
        let Some(touch) = self.comp.seat.get_touch() else {
            return;
        };
        let pos = self.comp.clamp_to_outputs(pos);
        let focus = self.comp.surface_under(pos);
        touch.motion(
            self,
            focus,
            &TouchMotionEvent {
                slot,
                location: pos,
                time,
            },
        );
    }

    /// A finger went up.
    pub fn on_touch_up(&mut self, slot: TouchSlot, time: u32) {
        let Some(touch) = self.comp.seat.get_touch() else {
            return;
        };
        let serial = SERIAL_COUNTER.next_serial();
        touch.up(self, &TouchUpEvent { slot, serial, time });
    }

    /// Presses the close, maximize or minimize button of a window's frame; `false` for the other
    /// parts of a frame.
    pub(super) fn press_frame_button(&mut self, window: &Window, part: FramePart) -> bool {
        match part {
            FramePart::Close => self.comp.close_window(window),
            FramePart::Maximize => self.comp.toggle_maximize(window),
            FramePart::Minimize => self.comp.minimize(window),
            FramePart::Titlebar | FramePart::Border(_) => return false,
        }
        true
    }
}
