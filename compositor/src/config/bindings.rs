//! `[bindings]`: key combinations the compositor keeps for itself, and what each does.

use porthole_ipc::WindowAction;

use super::error::ValueError;
use std::fmt;

use serde::Deserialize;
use smithay::input::keyboard::{keysyms, xkb, ModifiersState};

/// Modifiers of a key combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mods {
    /// Control.
    pub ctrl: bool,
    /// Alt.
    pub alt: bool,
    /// Shift.
    pub shift: bool,
    /// Super (the logo key).
    pub logo: bool,
}

impl Mods {
    /// The modifiers that matter for bindings, from the seat's state.
    pub fn from_state(state: &ModifiersState) -> Self {
        Self {
            ctrl: state.ctrl,
            alt: state.alt,
            shift: state.shift,
            logo: state.logo,
        }
    }
}

/// A key combination such as `Super+Shift+Q`: modifiers and one keysym.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct KeyCombo {
    /// Modifiers that must be held, and no others.
    pub mods: Mods,
    /// The key, as a lower-case keysym when it has one.
    pub keysym: u32,
}

impl KeyCombo {
    /// Parses `Mod+Mod+Key`; modifier names are case-insensitive, keys are xkb keysym names.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let mut mods = Mods::default();
        let mut parts: Vec<&str> = text.split('+').map(str::trim).collect();
        let key = parts
            .pop()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ValueError::NoKey(text.to_string()))?;
        for part in parts {
            match part.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => mods.ctrl = true,
                "alt" | "mod1" => mods.alt = true,
                "shift" => mods.shift = true,
                "super" | "logo" | "mod4" | "win" => mods.logo = true,
                other => {
                    return Err(ValueError::Modifier {
                        modifier: other.to_string(),
                        combo: text.to_string(),
                    })
                }
            }
        }
        let keysym = xkb::keysym_from_name(key, xkb::KEYSYM_CASE_INSENSITIVE);
        if keysym.raw() == keysyms::KEY_NoSymbol {
            return Err(ValueError::Key {
                key: key.to_string(),
                combo: text.to_string(),
            });
        }
        Ok(Self {
            mods,
            keysym: normalize_keysym(keysym.raw()),
        })
    }
}

/// Lower-cases letter keysyms, so that `Super+Shift+Q` matches whether xkb reports `Q` or `q`.
pub fn normalize_keysym(raw: u32) -> u32 {
    let ch = char::from_u32(xkb::keysym_to_utf32(xkb::Keysym::new(raw)));
    match ch
        .filter(|c| c.is_uppercase())
        .and_then(|c| c.to_lowercase().next())
    {
        Some(lower) => xkb::utf32_to_keysym(lower as u32).raw(),
        None => raw,
    }
}

impl TryFrom<String> for KeyCombo {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Debug for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mods;
        for (on, name) in [
            (m.ctrl, "Ctrl+"),
            (m.alt, "Alt+"),
            (m.shift, "Shift+"),
            (m.logo, "Super+"),
        ] {
            if on {
                f.write_str(name)?;
            }
        }
        f.write_str(&xkb::keysym_get_name(xkb::Keysym::new(self.keysym)))
    }
}

/// What a binding does: an action's name, or `spawn COMMAND`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Action {
    /// A window-management action on the focused window: the same as `porthole window` asks
    /// for (close, toggle-maximize, toggle-fullscreen, minimize).
    Window(WindowAction),
    /// Focus and raise the next window.
    FocusNext,
    /// Focus and raise the previous window.
    FocusPrevious,
    /// Leave the session.
    Quit,
    /// Take the focused window's container's clipboard into the compositor's transfer buffer.
    ClipboardCopy,
    /// Offer the transfer buffer to the focused window's container, if its rules allow.
    ClipboardPaste,
    /// Run a command line (with `sh -c`) as a client of the host socket.
    Spawn(String),
}

impl TryFrom<String> for Action {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if let Some(command) = text.strip_prefix("spawn ") {
            let command = command.trim();
            if command.is_empty() {
                return Err(ValueError::SpawnWithoutCommand);
            }
            return Ok(Action::Spawn(command.to_string()));
        }
        Ok(match text.as_str() {
            "close" => Action::Window(WindowAction::Close),
            "toggle-maximize" => Action::Window(WindowAction::ToggleMaximize),
            "toggle-fullscreen" => Action::Window(WindowAction::ToggleFullscreen),
            "minimize" => Action::Window(WindowAction::Minimize),
            "focus-next" => Action::FocusNext,
            "focus-previous" => Action::FocusPrevious,
            "quit" => Action::Quit,
            "clipboard-copy" => Action::ClipboardCopy,
            "clipboard-paste" => Action::ClipboardPaste,
            other => return Err(ValueError::Action(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn bad_binding_names_the_bad_part() {
        let err = Config::parse("[bindings]\n\"Hyper+Q\" = \"close\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("`hyper`"), "{err:#}");
        let err = Config::parse("[bindings]\n\"Super+Qq\" = \"close\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("not a key name"), "{err:#}");
    }

    #[test]
    fn combos_match_regardless_of_letter_case() {
        assert_eq!(
            KeyCombo::parse("super+shift+q"),
            KeyCombo::parse("Super+Shift+Q")
        );
        let combo = KeyCombo::parse("Super+Shift+Q").unwrap();
        assert!(combo.mods.logo && combo.mods.shift && !combo.mods.ctrl);
        assert_eq!(combo.keysym, keysyms::KEY_q);
    }
}
