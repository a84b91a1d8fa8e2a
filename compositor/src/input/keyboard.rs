//! The keyboard: bindings the compositor keeps for itself (and the keys of the clipboard prompt
//! and VT switching), taken out before clients see them; everything else goes to the focused
//! client.

use smithay::backend::input::KeyState;
use smithay::input::keyboard::{keysyms, FilterResult, Keycode};
use smithay::utils::SERIAL_COUNTER;

use crate::config::{normalize_keysym, Action, KeyCombo, Mods};
use crate::state::State;

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
    /// A key press or release; bindings (and, while the clipboard prompt shows, every key) are
    /// taken out before clients see them.
    pub fn on_key(&mut self, code: Keycode, key_state: KeyState, time: u32) {
        let Some(keyboard) = self.comp.seat.get_keyboard() else {
            return;
        };
        if key_state == KeyState::Pressed {
            self.comp.keep_keys_with_pointer();
            self.apply_pending_focus();
        }
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
                    if let Some(i) = state
                        .comp
                        .input
                        .suppressed_keys
                        .iter()
                        .position(|k| *k == raw)
                    {
                        state.comp.input.suppressed_keys.swap_remove(i);
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
                    state.comp.input.suppressed_keys.push(raw);
                    // A locked-down kiosk keeps its screens.
                    let outcome = state
                        .comp
                        .config
                        .vt_switch()
                        .then_some(KeyOutcome::SwitchVt(vt));
                    return FilterResult::Intercept(outcome);
                }
                if state.comp.clipboard.asking.is_some() {
                    // The clipboard prompt has the keyboard until it is answered.
                    state.comp.input.suppressed_keys.push(raw);
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
                        state.comp.input.suppressed_keys.push(raw);
                        FilterResult::Intercept(Some(KeyOutcome::Action(action)))
                    }
                    None => FilterResult::Forward,
                }
            },
        );
        if action.is_none() {
            // The key reached a client: its serial may mint an activation token, and a press
            // means the person is typing there.
            let to = keyboard
                .current_focus()
                .and_then(|s| self.comp.surface_container(&s));
            if let Some(to) = to {
                let now = std::time::Instant::now();
                self.comp.input.guard.sent(serial, &to, now);
                if key_state == KeyState::Pressed {
                    self.comp.input.guard.key_pressed(&to, now);
                }
            }
        }
        match action {
            Some(Some(KeyOutcome::Action(action))) => self.run_action(action),
            Some(Some(KeyOutcome::Answer(yes))) => self.answer_ask(yes),
            Some(Some(KeyOutcome::SwitchVt(vt))) => self.backend.change_vt(vt),
            _ => {}
        }
    }

    /// Carries out a binding's action.
    pub fn run_action(&mut self, action: Action) {
        let focused = self.comp.focused_window();
        match action {
            Action::Window(action) => {
                if let Some(window) = &focused {
                    self.comp.window_action(window, action);
                }
            }
            Action::FocusNext => self.comp.focus_next(true),
            Action::FocusPrevious => self.comp.focus_next(false),
            Action::Quit => self.comp.loop_signal.stop(),
            Action::ClipboardCopy => self.clipboard_copy_chord(),
            Action::ClipboardPaste => self.clipboard_paste_chord(),
            Action::Spawn(command) => self.comp.spawn(&command),
        }
        self.apply_pending_focus();
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
