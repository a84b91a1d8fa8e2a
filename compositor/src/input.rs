//! Input: device events from backends, synthetic events from the control socket, and the key
//! bindings the compositor keeps for itself.

use std::collections::HashMap;

use porthole_ipc::InputAction;
use smithay::backend::input::{
    AbsolutePositionEvent, Axis, AxisSource, ButtonState, Event, InputBackend, InputEvent,
    KeyState, KeyboardKeyEvent, PointerAxisEvent, PointerButtonEvent, PointerMotionEvent,
    TouchEvent as _, TouchSlot,
};
use smithay::desktop::Window;
use smithay::input::keyboard::{keysyms, xkb, FilterResult, Keycode};
use smithay::input::pointer::{AxisFrame, ButtonEvent, MotionEvent};
use smithay::input::touch::{
    DownEvent as TouchDownEvent, MotionEvent as TouchMotionEvent, UpEvent as TouchUpEvent,
};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point, SERIAL_COUNTER};

use crate::config::{normalize_keysym, Action, KeyCombo, KeyboardConfig, Mods};
use crate::shell::FramePart;
use crate::state::State;

/// Linux input event codes of pointer buttons.
pub const BTN_LEFT: u32 = 0x110;
/// Right button.
pub const BTN_RIGHT: u32 = 0x111;
/// Middle button.
pub const BTN_MIDDLE: u32 = 0x112;

/// Which key (and whether shift) produces a keysym in the configured layout, for synthetic
/// typing.
pub struct KeyLookup {
    by_keysym: HashMap<u32, (u32, bool)>,
}

impl KeyLookup {
    /// Builds the table from the same layout the seat's keyboard uses.
    pub fn new(config: &KeyboardConfig) -> Option<Self> {
        let context = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
        let keymap = xkb::Keymap::new_from_names(
            &context,
            "",
            "",
            &config.layout,
            &config.variant,
            (!config.options.is_empty()).then(|| config.options.clone()),
            xkb::KEYMAP_COMPILE_NO_FLAGS,
        )?;
        let mut by_keysym = HashMap::new();
        for raw in keymap.min_keycode().raw()..=keymap.max_keycode().raw() {
            let code = xkb::Keycode::new(raw);
            for (level, shift) in [(0, false), (1, true)] {
                for sym in keymap.key_get_syms_by_level(code, 0, level) {
                    by_keysym.entry(sym.raw()).or_insert((raw, shift));
                }
            }
        }
        Some(Self { by_keysym })
    }

    /// The xkb keycode and shift state that produce `keysym`.
    pub fn find(&self, keysym: u32) -> Option<(u32, bool)> {
        self.by_keysym.get(&keysym).copied()
    }
}

/// What a key the compositor kept does.
enum KeyOutcome {
    /// A binding.
    Action(Action),
    /// An answer to the clipboard prompt.
    Answer(bool),
    /// Ctrl+Alt+F1…F12: another virtual terminal.
    SwitchVt(i32),
}

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
        let output = self.comp.shell.space.outputs().next()?;
        let geo = self.comp.shell.space.output_geometry(output)?;
        Some(event.position_transformed(geo.size) + geo.loc.to_f64())
    }

    /// The window at `pos`, by its frame or its content, and the part of its frame there.
    fn window_at(&self, pos: Point<f64, Logical>) -> (Option<Window>, Option<FramePart>) {
        match self.comp.frame_part_under(pos) {
            Some((window, part)) => (Some(window), Some(part)),
            None => {
                let window = self.comp.shell.space.element_under(pos).map(|(w, _)| w);
                (window.cloned(), None)
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
    fn press_frame_button(&mut self, window: &Window, part: FramePart) -> bool {
        match part {
            FramePart::Close => self.comp.close_window(window),
            FramePart::Maximize => self.comp.toggle_maximize(window),
            FramePart::Minimize => self.comp.minimize(window),
            FramePart::Titlebar | FramePart::Border(_) => return false,
        }
        true
    }

    /// A key press or release; bindings (and, while the clipboard prompt shows, every key) are
    /// taken out before clients see them.
    pub fn on_key(&mut self, code: Keycode, key_state: KeyState, time: u32) {
        let Some(keyboard) = self.comp.seat.get_keyboard() else {
            return;
        };
        let serial = SERIAL_COUNTER.next_serial();
        let raw = code.raw();
        let action = keyboard.input(
            self,
            code,
            key_state,
            serial,
            time,
            |state, mods, handle| {
                if key_state == KeyState::Released {
                    // The release of a key whose press fired a binding stays with the compositor.
                    if let Some(i) = state.comp.suppressed_keys.iter().position(|k| *k == raw) {
                        state.comp.suppressed_keys.swap_remove(i);
                        return FilterResult::Intercept(None);
                    }
                    return FilterResult::Forward;
                }
                // Ctrl+Alt+Fn (XF86Switch_VT_n in every xkb layout) always reaches the session,
                // so a person can leave Porthole's VT whatever has the keyboard.
                let vt = handle.modified_syms().iter().find_map(|s| {
                    let sym = s.raw();
                    (keysyms::KEY_XF86Switch_VT_1..=keysyms::KEY_XF86Switch_VT_12)
                        .contains(&sym)
                        .then(|| (sym - keysyms::KEY_XF86Switch_VT_1 + 1) as i32)
                });
                if let Some(vt) = vt {
                    state.comp.suppressed_keys.push(raw);
                    return FilterResult::Intercept(Some(KeyOutcome::SwitchVt(vt)));
                }
                if state.comp.clipboard.asking.is_some() {
                    // The clipboard prompt has the keyboard until it is answered.
                    state.comp.suppressed_keys.push(raw);
                    let raw_syms: Vec<u32> = handle.raw_syms().iter().map(|s| s.raw()).collect();
                    let answer = if raw_syms.contains(&keysyms::KEY_Return)
                        || raw_syms.contains(&keysyms::KEY_KP_Enter)
                    {
                        Some(KeyOutcome::Answer(true))
                    } else if raw_syms.contains(&keysyms::KEY_Escape) {
                        Some(KeyOutcome::Answer(false))
                    } else {
                        None
                    };
                    return FilterResult::Intercept(answer);
                }
                let syms = handle
                    .modified_syms()
                    .into_iter()
                    .chain(handle.raw_syms())
                    .map(|s| s.raw());
                match binding_for(&state.comp.config.bindings, Mods::from_state(mods), syms) {
                    Some(action) => {
                        state.comp.suppressed_keys.push(raw);
                        FilterResult::Intercept(Some(KeyOutcome::Action(action)))
                    }
                    None => FilterResult::Forward,
                }
            },
        );
        match action {
            Some(Some(KeyOutcome::Action(action))) => self.run_action(action),
            Some(Some(KeyOutcome::Answer(yes))) => self.answer_ask(yes),
            Some(Some(KeyOutcome::SwitchVt(vt))) => self.backend.change_vt(vt),
            _ => {}
        }
    }

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
        if self.pointer_target(pos) != self.comp.pointer_focus_sent {
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
        self.comp.pointer_focus_sent = focus.clone();
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
    }

    /// Carries out a binding's action.
    pub fn run_action(&mut self, action: Action) {
        let focused = self.comp.focused_window();
        match action {
            Action::Close => focused.iter().for_each(|w| self.comp.close_window(w)),
            Action::ToggleMaximize => focused.iter().for_each(|w| self.comp.toggle_maximize(w)),
            Action::ToggleFullscreen => focused.iter().for_each(|w| self.comp.toggle_fullscreen(w)),
            Action::Minimize => focused.iter().for_each(|w| self.comp.minimize(w)),
            Action::FocusNext => self.comp.focus_next(true),
            Action::FocusPrevious => self.comp.focus_next(false),
            Action::Quit => self.comp.loop_signal.stop(),
            Action::ClipboardCopy => self.clipboard_copy_chord(),
            Action::ClipboardPaste => self.clipboard_paste_chord(),
            Action::Spawn(command) => self.comp.spawn(&command),
        }
        self.apply_pending_focus();
    }

    /// Delivers synthetic input from the control socket.
    pub fn inject_input(&mut self, input: InputAction) -> Result<(), String> {
        let lookup = self
            .comp
            .key_lookup
            .as_ref()
            .ok_or("the keyboard layout has no keymap")?;
        let key_of = |sym: u32| -> Result<(u32, bool), String> {
            lookup.find(sym).ok_or_else(|| {
                format!(
                    "`{}` is not on the configured keyboard layout",
                    xkb::keysym_get_name(xkb::Keysym::new(sym))
                )
            })
        };
        let shift = key_of(keysyms::KEY_Shift_L)?.0;
        let mut strokes: Vec<(u32, bool)> = Vec::new();
        match input {
            InputAction::Key { combo } => {
                let combo = KeyCombo::parse(&combo)?;
                // The keysym is normalized to lower case: find it as written or capitalised.
                let (code, needs_shift) = key_of(combo.keysym)?;
                let mods = combo.mods;
                let mut held = Vec::new();
                for (on, sym) in [
                    (mods.ctrl, keysyms::KEY_Control_L),
                    (mods.alt, keysyms::KEY_Alt_L),
                    (mods.shift || needs_shift, keysyms::KEY_Shift_L),
                    (mods.logo, keysyms::KEY_Super_L),
                ] {
                    if on {
                        held.push(key_of(sym)?.0);
                    }
                }
                strokes.extend(held.iter().map(|c| (*c, true)));
                strokes.push((code, true));
                strokes.push((code, false));
                strokes.extend(held.iter().rev().map(|c| (*c, false)));
            }
            InputAction::Type { text } => {
                for ch in text.chars() {
                    let sym = match ch {
                        '\n' => keysyms::KEY_Return,
                        '\t' => keysyms::KEY_Tab,
                        c => xkb::utf32_to_keysym(c as u32).raw(),
                    };
                    let (code, needs_shift) = key_of(sym).map_err(|_| {
                        format!("cannot type {ch:?}: no key on the configured layout")
                    })?;
                    if needs_shift {
                        strokes.push((shift, true));
                    }
                    strokes.push((code, true));
                    strokes.push((code, false));
                    if needs_shift {
                        strokes.push((shift, false));
                    }
                }
            }
            InputAction::KeyState { key, pressed } => {
                let sym = xkb::keysym_from_name(&key, xkb::KEYSYM_NO_FLAGS);
                if sym.raw() == keysyms::KEY_NoSymbol {
                    return Err(format!("`{key}` is not an xkb keysym name"));
                }
                strokes.push((key_of(sym.raw())?.0, pressed));
            }
            InputAction::PointerMove { x, y } => {
                if !x.is_finite() || !y.is_finite() {
                    return Err("pointer coordinates must be finite numbers".into());
                }
                let time = self.comp.now_ms();
                self.on_pointer_move((x, y).into(), time);
            }
            InputAction::Click { button } => {
                let code = button_code(&button)?;
                let time = self.comp.now_ms();
                self.on_button(code, ButtonState::Pressed, time);
                self.on_button(code, ButtonState::Released, time);
            }
            InputAction::Button { button, pressed } => {
                let code = button_code(&button)?;
                let state = if pressed {
                    ButtonState::Pressed
                } else {
                    ButtonState::Released
                };
                let time = self.comp.now_ms();
                self.on_button(code, state, time);
            }
            InputAction::Scroll { steps } => {
                if !steps.is_finite() || steps.abs() > 1000.0 {
                    return Err("scroll steps must be a number between -1000 and 1000".into());
                }
                let time = self.comp.now_ms();
                let frame = AxisFrame::new(time)
                    .source(AxisSource::Wheel)
                    .value(Axis::Vertical, steps * 15.0)
                    .v120(Axis::Vertical, (steps * 120.0) as i32);
                if let Some(pointer) = self.comp.seat.get_pointer() {
                    pointer.axis(self, frame);
                    pointer.frame(self);
                }
            }
        }
        for (code, pressed) in strokes {
            let time = self.comp.now_ms();
            let state = if pressed {
                KeyState::Pressed
            } else {
                KeyState::Released
            };
            self.on_key(Keycode::new(code), state, time);
        }
        self.apply_pending_focus();
        Ok(())
    }
}

fn button_code(name: &str) -> Result<u32, String> {
    match name {
        "left" => Ok(BTN_LEFT),
        "right" => Ok(BTN_RIGHT),
        "middle" => Ok(BTN_MIDDLE),
        other => Err(format!(
            "`{other}` is not a button: use left, right or middle"
        )),
    }
}

impl crate::state::Porthole {
    /// Keeps a point inside the union of the outputs.
    pub fn clamp_to_outputs(&self, pos: Point<f64, Logical>) -> Point<f64, Logical> {
        if self.shell.space.output_under(pos).next().is_some() {
            return pos;
        }
        // Clamp into the nearest output.
        let mut best: Option<(f64, Point<f64, Logical>)> = None;
        for output in self.shell.space.outputs() {
            let Some(geo) = self.shell.space.output_geometry(output) else {
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
        let Some(geo) = self.shell.space.element_geometry(window) else {
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

/// The binding a key press triggers, if any.
pub fn binding_for(
    bindings: &std::collections::BTreeMap<KeyCombo, Action>,
    mods: Mods,
    syms: impl IntoIterator<Item = u32>,
) -> Option<Action> {
    syms.into_iter().find_map(|sym| {
        bindings
            .get(&KeyCombo {
                mods,
                keysym: normalize_keysym(sym),
            })
            .cloned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_layout_types_capitals_with_shift() {
        let lookup = KeyLookup::new(&KeyboardConfig::default()).unwrap();
        let (a, shift_a) = lookup.find(keysyms::KEY_a).unwrap();
        let (big_a, shift_big_a) = lookup.find(keysyms::KEY_A).unwrap();
        assert_eq!(a, big_a);
        assert!(!shift_a && shift_big_a);
        // evdev KEY_A is 30; xkb keycodes are evdev codes plus 8.
        assert_eq!(a, 30 + 8);
    }

    #[test]
    fn bindings_match_shifted_and_unshifted_syms() {
        let config = crate::config::Config::default();
        let mods = Mods {
            logo: true,
            shift: true,
            ..Default::default()
        };
        assert_eq!(
            binding_for(&config.bindings, mods, [keysyms::KEY_E]),
            Some(Action::Quit)
        );
        assert_eq!(
            binding_for(&config.bindings, Mods::default(), [keysyms::KEY_q]),
            None
        );
    }
}
