//! Porthole's configuration: a TOML file read with serde, unknown keys rejected.
//!
//! Values that need checking beyond their TOML type (colours, key combinations, output modes)
//! are parsed while deserializing, so a mistake is reported by `toml` with its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use smithay::input::keyboard::{keysyms, xkb, ModifiersState};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Keyboard layout and repeat.
    pub keyboard: KeyboardConfig,
    /// Colours and sizes of what the compositor draws.
    pub appearance: AppearanceConfig,
    /// The headless backend's virtual outputs.
    pub headless: HeadlessConfig,
    /// Key combinations the compositor keeps for itself; clients never see them.
    pub bindings: BTreeMap<KeyCombo, Action>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            keyboard: KeyboardConfig::default(),
            appearance: AppearanceConfig::default(),
            headless: HeadlessConfig::default(),
            bindings: default_bindings(),
        }
    }
}

fn default_bindings() -> BTreeMap<KeyCombo, Action> {
    [
        ("Super+Q", Action::Close),
        ("Super+M", Action::ToggleMaximize),
        ("Super+F", Action::ToggleFullscreen),
        ("Super+N", Action::Minimize),
        ("Alt+Tab", Action::FocusNext),
        ("Alt+Shift+Tab", Action::FocusPrevious),
        ("Super+Shift+E", Action::Quit),
    ]
    .into_iter()
    .map(|(combo, action)| {
        (
            KeyCombo::parse(combo).expect("default bindings parse"),
            action,
        )
    })
    .collect()
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid configuration in {}", path.display()))
    }

    /// Parses configuration text. Errors carry the line and column of the offending value.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut config: Config = toml::from_str(text).map_err(|err| anyhow::anyhow!("{err}"))?;
        // A file with a [bindings] table replaces the defaults as a whole, except that the quit
        // binding is kept unless rebound: a person must always be able to leave the session.
        if !config.bindings.values().any(|a| *a == Action::Quit) {
            config.bindings.insert(
                KeyCombo::parse("Super+Shift+E").expect("parses"),
                Action::Quit,
            );
        }
        Ok(config)
    }
}

/// Keyboard settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyboardConfig {
    /// xkb layout, e.g. `us` or `de,us`.
    pub layout: String,
    /// xkb variant.
    pub variant: String,
    /// xkb options, e.g. `ctrl:nocaps`.
    pub options: String,
    /// Milliseconds before a held key repeats.
    pub repeat_delay: u16,
    /// Repeats per second.
    pub repeat_rate: u16,
}

impl Default for KeyboardConfig {
    fn default() -> Self {
        Self {
            layout: "us".into(),
            variant: String::new(),
            options: String::new(),
            repeat_delay: 600,
            repeat_rate: 25,
        }
    }
}

/// What the compositor draws itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppearanceConfig {
    /// Desktop background.
    pub background: Color,
    /// Frame colour of the focused window.
    pub focused: Color,
    /// Frame colour of other windows.
    pub unfocused: Color,
    /// Border width around server-side decorated windows, in logical pixels (0–32).
    pub border_width: u8,
    /// Title bar height, in logical pixels (0–64; 0 hides it).
    pub titlebar_height: u8,
}

impl Default for AppearanceConfig {
    fn default() -> Self {
        Self {
            background: Color::rgb(0x20, 0x24, 0x28),
            focused: Color::rgb(0x5a, 0x8f, 0xd0),
            unfocused: Color::rgb(0x50, 0x50, 0x58),
            border_width: 2,
            titlebar_height: 24,
        }
    }
}

/// The headless backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadlessConfig {
    /// One virtual output per entry, placed left to right.
    pub outputs: Vec<OutputMode>,
}

impl Default for HeadlessConfig {
    fn default() -> Self {
        Self {
            outputs: vec![OutputMode {
                width: 1280,
                height: 720,
                refresh_hz: 60,
            }],
        }
    }
}

/// A mode such as `1920x1080` or `1920x1080@60`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct OutputMode {
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Refresh rate in Hz.
    pub refresh_hz: u32,
}

impl OutputMode {
    /// Parses `WIDTHxHEIGHT[@HZ]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a mode: write WIDTHxHEIGHT or WIDTHxHEIGHT@HZ, e.g. 1920x1080@60"
            )
        };
        let (size, refresh) = match text.split_once('@') {
            Some((size, hz)) => (size, hz.parse::<u32>().map_err(|_| bad())?),
            None => (text, 60),
        };
        let (w, h) = size.split_once('x').ok_or_else(bad)?;
        let width: i32 = w.trim().parse().map_err(|_| bad())?;
        let height: i32 = h.trim().parse().map_err(|_| bad())?;
        if !(16..=16384).contains(&width) || !(16..=16384).contains(&height) {
            return Err(format!(
                "`{text}`: width and height must be between 16 and 16384"
            ));
        }
        if !(1..=1000).contains(&refresh) {
            return Err(format!("`{text}`: refresh must be between 1 and 1000 Hz"));
        }
        Ok(Self {
            width,
            height,
            refresh_hz: refresh,
        })
    }

    /// Parses a comma-separated list, as `--outputs` takes it.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',').map(|s| Self::parse(s.trim())).collect()
    }
}

impl TryFrom<String> for OutputMode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

/// An sRGB colour written `#rrggbb` or `#rrggbbaa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha.
    pub a: u8,
}

impl Color {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b, a: 255 }
    }

    /// Parses `#rrggbb` or `#rrggbbaa`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a colour: write #rrggbb or #rrggbbaa");
        let hex = text.strip_prefix('#').ok_or_else(bad)?;
        if !(hex.len() == 6 || hex.len() == 8) || !hex.is_ascii() {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Self {
            r: byte(0)?,
            g: byte(2)?,
            b: byte(4)?,
            a: if hex.len() == 8 { byte(6)? } else { 255 },
        })
    }

    /// Premultiplied float components, as smithay's renderers take them.
    pub fn to_f32_premultiplied(self) -> [f32; 4] {
        let a = self.a as f32 / 255.0;
        [
            self.r as f32 / 255.0 * a,
            self.g as f32 / 255.0 * a,
            self.b as f32 / 255.0 * a,
            a,
        ]
    }
}

impl TryFrom<String> for Color {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

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
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = Mods::default();
        let mut parts: Vec<&str> = text.split('+').map(str::trim).collect();
        let key = parts.pop().filter(|k| !k.is_empty()).ok_or_else(|| {
            format!("`{text}` names no key: write modifiers and a key, e.g. Super+Shift+Q")
        })?;
        for part in parts {
            match part.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => mods.ctrl = true,
                "alt" | "mod1" => mods.alt = true,
                "shift" => mods.shift = true,
                "super" | "logo" | "mod4" | "win" => mods.logo = true,
                other => {
                    return Err(format!(
                        "`{other}` in `{text}` is not a modifier: use Ctrl, Alt, Shift or Super"
                    ))
                }
            }
        }
        let keysym = xkb::keysym_from_name(key, xkb::KEYSYM_CASE_INSENSITIVE);
        if keysym.raw() == keysyms::KEY_NoSymbol {
            return Err(format!(
                "`{key}` in `{text}` is not a key name (xkb keysym names, e.g. Q, Return, F1, Tab)"
            ));
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
    type Error = String;
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

/// What a binding does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Ask the focused window to close.
    Close,
    /// Toggle maximized on the focused window.
    ToggleMaximize,
    /// Toggle fullscreen on the focused window.
    ToggleFullscreen,
    /// Minimize the focused window.
    Minimize,
    /// Focus and raise the next window.
    FocusNext,
    /// Focus and raise the previous window.
    FocusPrevious,
    /// Leave the session.
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_configs_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Config::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                seen += 1;
            }
        }
        assert!(
            seen >= 2,
            "configs/ should hold default.toml and example.toml"
        );
    }

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let err = Config::parse("[keyboard]\nlayout = \"us\"\nrepeat_dealy = 300\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("repeat_dealy"), "{text}");
    }

    #[test]
    fn bad_colour_is_reported_with_its_line_and_a_hint() {
        let err = Config::parse("[appearance]\n\nfocused = \"blue\"\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("#rrggbb"), "{text}");
    }

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

    #[test]
    fn quit_binding_survives_a_custom_bindings_table() {
        let config = Config::parse("[bindings]\n\"Super+W\" = \"close\"\n").unwrap();
        assert_eq!(config.bindings.len(), 2);
        assert!(config.bindings.values().any(|a| *a == Action::Quit));
    }

    #[test]
    fn output_modes_parse_and_reject_nonsense() {
        assert_eq!(
            OutputMode::parse_list("1280x720, 1920x1080@144").unwrap(),
            vec![
                OutputMode {
                    width: 1280,
                    height: 720,
                    refresh_hz: 60
                },
                OutputMode {
                    width: 1920,
                    height: 1080,
                    refresh_hz: 144
                },
            ]
        );
        assert!(OutputMode::parse("0x720").is_err());
        assert!(OutputMode::parse("1280*720").is_err());
        assert!(OutputMode::parse("99999x720").is_err());
    }
}
