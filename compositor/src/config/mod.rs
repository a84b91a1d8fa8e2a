//! Porthole's configuration: a TOML file read with serde, unknown keys rejected.
//!
//! Values that need checking beyond their TOML type (colours, key combinations, output modes)
//! are parsed while deserializing, so a mistake is reported by `toml` with its line and column.

mod bindings;
mod color;
mod containers;
mod error;
mod outputs;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use porthole_ipc::WindowAction;
use serde::Deserialize;

use crate::policy::Profile;

pub use self::bindings::{normalize_keysym, Action, KeyCombo, Mods};
pub use self::color::Color;
pub use self::containers::{
    ByteSize, ClipboardRules, ContainerConfig, ContainerName, Export, GlobalName, Import, Limits,
    Oversize, ProfileConfig, TEXT_MIME_TYPES,
};
pub use self::error::ValueError;
pub use self::outputs::{OutputConfig, OutputMode, OutputTransform};

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
    /// Pointer devices (mice, touchpads) on a real seat.
    pub pointer: PointerConfig,
    /// What starts with the session.
    pub session: SessionConfig,
    /// A kiosk machine's lockdown.
    pub kiosk: KioskConfig,
    /// Outputs by connector name, `[output.NAME]` (e.g. `[output.HDMI-A-1]`).
    #[serde(rename = "output")]
    pub outputs: BTreeMap<String, OutputConfig>,
    /// Key combinations the compositor keeps for itself; clients never see them.
    pub bindings: BTreeMap<KeyCombo, Action>,
    /// Containers that get their own Wayland socket at start, `[container.NAME]`.
    #[serde(rename = "container")]
    pub containers: BTreeMap<ContainerName, ContainerConfig>,
    /// Custom profiles, `[profile.NAME]`: allow-lists of Wayland interfaces.
    #[serde(rename = "profile")]
    pub profiles: BTreeMap<String, ProfileConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            keyboard: KeyboardConfig::default(),
            appearance: AppearanceConfig::default(),
            headless: HeadlessConfig::default(),
            pointer: PointerConfig::default(),
            session: SessionConfig::default(),
            kiosk: KioskConfig::default(),
            outputs: BTreeMap::new(),
            bindings: default_bindings(),
            containers: BTreeMap::new(),
            profiles: BTreeMap::new(),
        }
    }
}

fn default_bindings() -> BTreeMap<KeyCombo, Action> {
    [
        ("Super+Q", Action::Window(WindowAction::Close)),
        ("Super+M", Action::Window(WindowAction::ToggleMaximize)),
        ("Super+F", Action::Window(WindowAction::ToggleFullscreen)),
        ("Super+N", Action::Window(WindowAction::Minimize)),
        ("Alt+Tab", Action::FocusNext),
        ("Alt+Shift+Tab", Action::FocusPrevious),
        ("Super+Shift+E", Action::Quit),
        ("Ctrl+Shift+C", Action::ClipboardCopy),
        ("Ctrl+Shift+V", Action::ClipboardPaste),
        ("Super+Return", Action::Spawn("foot".into())),
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
        let raw: toml::Table = toml::from_str(text).map_err(|err| anyhow::anyhow!("{err}"))?;
        // Locked down, the compositor keeps no chord but those the file binds itself (the admin
        // chord, if any).
        if config.locked_down() {
            if !raw.contains_key("bindings") {
                config.bindings.clear();
            }
            return config.checked(text);
        }
        // A file with a [bindings] table replaces the defaults as a whole, except that the quit
        // binding is kept unless rebound: a person must always be able to leave the session.
        if !config.bindings.values().any(|a| *a == Action::Quit) {
            config.bindings.insert(
                KeyCombo::parse("Super+Shift+E").expect("parses"),
                Action::Quit,
            );
        }
        config.checked(text)
    }

    /// Checks what the file's parts must agree on.
    fn checked(self, text: &str) -> anyhow::Result<Self> {
        let config = self;
        for name in config.profiles.keys() {
            if BUILTIN_PROFILES.contains(&name.as_str()) {
                anyhow::bail!(
                    "[profile.{name}] would replace a built-in profile; choose another name"
                );
            }
        }
        for (name, output) in &config.outputs {
            output
                .check()
                .map_err(|err| anyhow::anyhow!("[output.{name}]: {err}"))?;
        }
        for (name, container) in &config.containers {
            let profile = container.profile.get_ref();
            if config.profile(profile).is_none() {
                let line = line_of(text, container.profile.span().start);
                anyhow::bail!(
                    "line {line}: container `{name}` uses profile `{profile}`, which is neither \
                     trusted, untrusted, kiosk nor a [profile.{profile}] table"
                );
            }
        }
        Ok(config)
    }

    /// Whether the machine is a locked-down kiosk: `[kiosk] lockdown`, on by default where a
    /// container has the kiosk profile.
    pub fn locked_down(&self) -> bool {
        self.kiosk.lockdown.unwrap_or_else(|| {
            self.containers
                .values()
                .any(|c| c.profile.get_ref() == "kiosk")
        })
    }

    /// Whether Ctrl+Alt+Fn switches virtual terminals: `[session] vt_switch`, on unless locked
    /// down.
    pub fn vt_switch(&self) -> bool {
        self.session.vt_switch.unwrap_or(!self.locked_down())
    }

    /// What leaves a way out of a kiosk machine's tenants, for `porthole validate`.
    pub fn kiosk_warnings(&self) -> Vec<String> {
        let kiosks = self
            .containers
            .values()
            .any(|c| c.profile.get_ref() == "kiosk");
        let mut warnings = Vec::new();
        if !kiosks {
            return warnings;
        }
        if !self.locked_down() {
            warnings.push(
                "[kiosk] lockdown = false: the default chords (Super+Return opens a terminal,                  Super+Q closes the tenant's app, Alt+Tab, Super+Shift+E) stay open"
                    .to_string(),
            );
        }
        if self.vt_switch() {
            warnings.push(
                "[session] vt_switch = true: Ctrl+Alt+Fn leaves the kiosk for another virtual                  terminal"
                    .to_string(),
            );
        }
        if self.locked_down() {
            for (combo, action) in &self.bindings {
                if *action != Action::Quit {
                    warnings.push(format!(
                        "[bindings] {combo:?} = {action:?} is open to anyone at the screen"
                    ));
                }
            }
        }
        warnings
    }

    /// The profile called `name`: a built-in one or a `[profile.NAME]` table.
    pub fn profile(&self, name: &str) -> Option<Profile> {
        match name {
            "trusted" => Some(Profile::Trusted),
            "untrusted" => Some(Profile::Untrusted),
            "kiosk" => Some(Profile::Kiosk),
            custom => self.profiles.get(custom).map(|p| Profile::Custom {
                name: custom.to_string(),
                allow: Arc::new(p.allow.iter().map(|g| g.to_string()).collect()),
            }),
        }
    }
}

/// Profiles that need no table.
pub const BUILTIN_PROFILES: &[&str] = &["trusted", "untrusted", "kiosk"];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
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

/// Pointer devices: libinput's settings, applied to every mouse and touchpad as it appears.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointerConfig {
    /// Acceleration speed from -1.0 (slowest) to 1.0 (fastest).
    pub accel_speed: f64,
    /// `adaptive` (speed-dependent) or `flat` (constant factor).
    pub accel_profile: AccelProfile,
    /// Touchpads: a tap clicks.
    pub tap_to_click: bool,
    /// Content follows the fingers when scrolling.
    pub natural_scroll: bool,
}

impl Default for PointerConfig {
    fn default() -> Self {
        Self {
            accel_speed: 0.0,
            accel_profile: AccelProfile::Adaptive,
            tap_to_click: true,
            natural_scroll: false,
        }
    }
}

/// libinput's pointer acceleration profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccelProfile {
    /// Faster movements go further.
    Adaptive,
    /// A constant factor.
    Flat,
}

/// The session: what starts with it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Command lines started (with `sh -c`) once Porthole listens, as clients of the host socket.
    pub autostart: Vec<String>,
    /// Whether Ctrl+Alt+Fn switches virtual terminals; by default yes, but on a locked-down
    /// kiosk.
    pub vt_switch: Option<bool>,
}

/// `[kiosk]`: a machine whose screens run kiosk tenants.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskConfig {
    /// No compositor chord but those `[bindings]` names (none by default), and no VT switching
    /// unless `[session] vt_switch`. On by default where a container has the kiosk profile.
    pub lockdown: Option<bool>,
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
    fn quit_binding_survives_a_custom_bindings_table() {
        let config = Config::parse("[bindings]\n\"Super+W\" = \"close\"\n").unwrap();
        assert_eq!(config.bindings.len(), 2);
        assert!(config.bindings.values().any(|a| *a == Action::Quit));
    }

    #[test]
    fn a_kiosk_machine_is_locked_down_unless_it_says_otherwise() {
        let kiosk = "[container.k]\nprofile = \"kiosk\"\n";
        let config = Config::parse(kiosk).unwrap();
        assert!(config.locked_down());
        assert!(config.bindings.is_empty(), "{:?}", config.bindings);
        assert!(!config.vt_switch());
        assert!(config.kiosk_warnings().is_empty());

        // The admin chord is the one the file binds; no quit chord is added.
        let admin = format!("{kiosk}[bindings]\n\"Ctrl+Alt+Shift+Q\" = \"quit\"\n");
        let config = Config::parse(&admin).unwrap();
        assert_eq!(config.bindings.len(), 1);
        assert!(config.kiosk_warnings().is_empty());

        let open = format!(
            "{kiosk}[kiosk]\nlockdown = false\n[session]\nvt_switch = true\n\
             [bindings]\n\"Super+Return\" = \"spawn foot\"\n"
        );
        let config = Config::parse(&open).unwrap();
        assert!(!config.locked_down());
        assert!(config.vt_switch());
        assert_eq!(
            config.kiosk_warnings().len(),
            2,
            "{:?}",
            config.kiosk_warnings()
        );
        let spawn = format!("{kiosk}[bindings]\n\"Super+Return\" = \"spawn foot\"\n");
        let warnings = Config::parse(&spawn).unwrap().kiosk_warnings();
        assert!(warnings[0].contains("Super+Return"), "{warnings:?}");

        // A desktop without kiosk containers keeps its chords and VT switching.
        let desktop = Config::parse("[container.u]\n").unwrap();
        assert!(!desktop.locked_down() && desktop.vt_switch());
        assert!(!desktop.bindings.is_empty());
    }

    #[test]
    fn containers_parse_with_defaults_and_limits() {
        let config = Config::parse(
            "[container.work]\ncolor = \"#3465a4\"\nprofile = \"untrusted\"\nx11 = true\nuid = 1000\n\
             [container.work.limits]\nclients = 4\ntoplevels = 8\nshm_bytes = \"16MiB\"\n\
             region_rects = 16\n\
             [container.kiosk1]\nprofile = \"kiosk\"\noutput = \"HEADLESS-2\"\n",
        )
        .unwrap();
        let work = &config.containers[&ContainerName::parse("work").unwrap()];
        assert_eq!(work.color, Some(Color::rgb(0x34, 0x65, 0xa4)));
        assert_eq!(
            work.limits,
            Limits {
                clients: 4,
                toplevels: 8,
                shm_bytes: ByteSize(16 << 20),
                region_rects: 16,
                ..Limits::default()
            }
        );
        assert_eq!(
            config.profile(work.profile.get_ref()),
            Some(Profile::Untrusted)
        );
        let kiosk = &config.containers[&ContainerName::parse("kiosk1").unwrap()];
        assert_eq!(kiosk.limits, Limits::default());
    }

    #[test]
    fn a_container_naming_an_unknown_profile_is_reported_with_its_line() {
        let err = Config::parse("[container.a]\n\nprofile = \"sandboxed\"\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("line 3") && text.contains("sandboxed"),
            "{text}"
        );
    }

    #[test]
    fn custom_profiles_accept_only_known_interfaces() {
        let config = Config::parse(
            "[profile.viewer]\nallow = [\"wl_compositor\", \"xdg_wm_base\", \"wl_shm\"]\n\
             [container.v]\nprofile = \"viewer\"\n",
        )
        .unwrap();
        let p = config.profile("viewer").unwrap();
        assert!(p.allows("wl_shm") && !p.allows("wl_seat"));
        let err = Config::parse("[profile.x]\nallow = [\"wl_compositor\", \"wl_drm_typo\"]\n")
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("line 2") && text.contains("wl_drm_typo"),
            "{text}"
        );
    }
}
