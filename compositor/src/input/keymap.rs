//! Which key produces a keysym in the configured layout (for synthetic typing), and the
//! evdev codes of pointer buttons.

use std::collections::HashMap;

use smithay::input::keyboard::xkb;

use crate::config::KeyboardConfig;

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

#[cfg(test)]
mod tests {
    use super::*;
    use smithay::input::keyboard::keysyms;

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
}
