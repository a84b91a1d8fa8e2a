//! Synthetic input from the control socket (`porthole input`): keys found on the configured
//! layout, and pointer events, delivered as a device's would be.

use porthole_ipc::InputAction;
use smithay::backend::input::{Axis, AxisSource, ButtonState, KeyState};
use smithay::input::keyboard::{keysyms, xkb, Keycode};
use smithay::input::pointer::AxisFrame;

use super::keymap::{BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
use crate::config::{KeyCombo, ValueError};
use crate::state::State;

/// Why synthetic input could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the keyboard layout has no keymap")]
    NoKeymap,
    #[error("`{0}` is not on the configured keyboard layout")]
    NotOnLayout(String),
    #[error("cannot type {0:?}: no key on the configured layout")]
    CannotType(char),
    #[error("`{0}` is not an xkb keysym name")]
    NotAKeysym(String),
    #[error("pointer coordinates must be finite numbers")]
    NotFinite,
    #[error("scroll steps must be a number between -1000 and 1000")]
    Scroll,
    #[error("`{0}` is not a button: use left, right or middle")]
    Button(String),
    #[error(transparent)]
    Combo(#[from] ValueError),
}

impl State {
    /// Delivers synthetic input from the control socket.
    pub fn inject_input(&mut self, input: InputAction) -> Result<(), InputError> {
        let lookup = self
            .comp
            .input
            .key_lookup
            .as_ref()
            .ok_or(InputError::NoKeymap)?;
        let key_of = |sym: u32| -> Result<(u32, bool), InputError> {
            lookup
                .find(sym)
                .ok_or_else(|| InputError::NotOnLayout(xkb::keysym_get_name(xkb::Keysym::new(sym))))
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
                    let (code, needs_shift) =
                        key_of(sym).map_err(|_| InputError::CannotType(ch))?;
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
                    return Err(InputError::NotAKeysym(key));
                }
                strokes.push((key_of(sym.raw())?.0, pressed));
            }
            InputAction::PointerMove { x, y } => {
                if !x.is_finite() || !y.is_finite() {
                    return Err(InputError::NotFinite);
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
                    return Err(InputError::Scroll);
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

fn button_code(name: &str) -> Result<u32, InputError> {
    match name {
        "left" => Ok(BTN_LEFT),
        "right" => Ok(BTN_RIGHT),
        "middle" => Ok(BTN_MIDDLE),
        other => Err(InputError::Button(other.to_string())),
    }
}
