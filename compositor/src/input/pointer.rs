//! The pointer: what it is over, click to focus and raise, Super+drag to move or resize, and
//! the frame's buttons and edges.

use smithay::backend::input::ButtonState;
use smithay::input::pointer::{ButtonEvent, MotionEvent};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point, SERIAL_COUNTER};

use super::{BTN_LEFT, BTN_RIGHT};
use crate::decorations::FramePart;
use crate::state::State;

impl State {
    /// The surface the pointer at `pos` is over, and where that surface's origin is.
    fn pointer_target(&self, pos: Point<f64, Logical>) -> Option<(WlSurface, Point<f64, Logical>)> {
        self.comp
            .surface_under(pos)
            .filter(|(surface, _)| self.comp.drag_may_enter(surface))
    }

    /// Tells clients what is under the pointer now, when that changed without the pointer
    /// moving: a window opened, closed, moved or was raised under it. The surface entered gets
    /// `enter` at once, not at the next motion, and a surface that moved learns the pointer's new
    /// place on it.
    pub fn refresh_pointer_focus(&mut self) {
        let pos = self.comp.pointer_location();
        if self.pointer_target(pos) != self.comp.input.pointer_focus_sent {
            let time = self.comp.now_ms();
            self.on_pointer_move(pos, time);
        }
    }

    /// Moves the pointer to a global position, clamped to the outputs.
    pub fn on_pointer_move(&mut self, pos: Point<f64, Logical>, time: u32) {
        let pos = self.comp.clamp_to_outputs(pos);
        let Some(pointer) = self.comp.seat.get_pointer() else {
            return;
        };
        let focus = self.pointer_target(pos);
        self.comp.input.pointer_focus_sent = focus.clone();
        let serial = SERIAL_COUNTER.next_serial();
        pointer.motion(
            self,
            focus,
            &MotionEvent {
                location: pos,
                serial,
                time,
            },
        );
        pointer.frame(self);
        self.comp.queue_redraw_all();
    }

    /// A pointer button: click to focus and raise; Super+drag to move or resize; decorations.
    pub fn on_button(&mut self, button: u32, state: ButtonState, time: u32) {
        let Some(pointer) = self.comp.seat.get_pointer() else {
            return;
        };
        let serial = SERIAL_COUNTER.next_serial();
        let pos = self.comp.pointer_location();

        if state == ButtonState::Pressed && !pointer.is_grabbed() {
            let super_held = self
                .comp
                .seat
                .get_keyboard()
                .is_some_and(|k| k.modifier_state().logo);
            let (window, frame_part) = self.window_at(pos);
            self.comp.focus_window(window.as_ref());
            self.apply_pending_focus();

            // Presses the compositor acts on (Super+drag, decorations) never reach the client.
            if let Some(window) = window {
                let start = smithay::input::pointer::GrabStartData {
                    focus: None,
                    button,
                    location: pos,
                };
                let handled = match (super_held, button, frame_part) {
                    (true, BTN_LEFT, _) | (false, BTN_LEFT, Some(FramePart::Titlebar)) => {
                        self.start_move(window, start, serial);
                        true
                    }
                    (true, BTN_RIGHT, _) => {
                        let edges = self.comp.resize_edges_toward(&window, pos);
                        self.start_resize(window, start, edges, serial);
                        true
                    }
                    (false, BTN_LEFT, Some(FramePart::Border(edges))) => {
                        self.start_resize(window, start, edges, serial);
                        true
                    }
                    (
                        false,
                        BTN_LEFT,
                        Some(part @ (FramePart::Close | FramePart::Maximize | FramePart::Minimize)),
                    ) => self.press_frame_button(&window, part),
                    (_, _, Some(_)) => true,
                    _ => false,
                };
                if handled {
                    self.apply_pending_focus();
                    return;
                }
            }
        }

        if state == ButtonState::Released && self.comp.clipboard.drag_from.is_some() {
            // A drag let go over another container's window, which it never entered.
            if let Some((target, _)) = self.comp.surface_under(pos) {
                self.drop_across(&target);
            }
        }
        pointer.button(
            self,
            &ButtonEvent {
                button,
                state,
                serial,
                time,
            },
        );
        pointer.frame(self);
        // A click's serial may mint an activation token for the client it went to.
        let to = pointer
            .current_focus()
            .and_then(|s| self.comp.surface_container(&s));
        if let Some(to) = to {
            self.comp
                .input
                .guard
                .sent(serial, &to, std::time::Instant::now());
        }
    }
}

impl crate::state::Porthole {
    /// Keeps a point inside the union of the outputs.
    pub fn clamp_to_outputs(&self, pos: Point<f64, Logical>) -> Point<f64, Logical> {
        if self.shell.output_under(pos).is_some() {
            return pos;
        }
        // Clamp into the nearest output.
        let mut best: Option<(f64, Point<f64, Logical>)> = None;
        for output in self.shell.outputs() {
            let Some(geo) = self.shell.output_geometry(output) else {
                continue;
            };
            let geo = geo.to_f64();
            let x = pos.x.clamp(geo.loc.x, geo.loc.x + geo.size.w - 1.0);
            let y = pos.y.clamp(geo.loc.y, geo.loc.y + geo.size.h - 1.0);
            let d = (x - pos.x).powi(2) + (y - pos.y).powi(2);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, (x, y).into()));
            }
        }
        best.map(|(_, p)| p).unwrap_or(pos)
    }

    /// The edges a Super+right-drag resizes: those nearest the pointer.
    pub fn resize_edges_toward(
        &self,
        window: &smithay::desktop::Window,
        pos: Point<f64, Logical>,
    ) -> xdg_toplevel::ResizeEdge {
        let Some(geo) = self.shell.geometry(window) else {
            return xdg_toplevel::ResizeEdge::BottomRight;
        };
        let geo = geo.to_f64();
        let left = pos.x < geo.loc.x + geo.size.w / 2.0;
        let top = pos.y < geo.loc.y + geo.size.h / 2.0;
        match (left, top) {
            (true, true) => xdg_toplevel::ResizeEdge::TopLeft,
            (true, false) => xdg_toplevel::ResizeEdge::BottomLeft,
            (false, true) => xdg_toplevel::ResizeEdge::TopRight,
            (false, false) => xdg_toplevel::ResizeEdge::BottomRight,
        }
    }
}
