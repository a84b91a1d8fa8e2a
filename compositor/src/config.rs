//! Porthole's configuration: a TOML file read with serde, unknown keys rejected.
//!
//! Values that need checking beyond their TOML type (colours, key combinations, output modes)
//! are parsed while deserializing, so a mistake is reported by `toml` with its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;
use smithay::input::keyboard::{keysyms, xkb, ModifiersState};

use crate::policy::Profile;

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
            outputs: BTreeMap::new(),
            bindings: default_bindings(),
            containers: BTreeMap::new(),
            profiles: BTreeMap::new(),
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
        // A file with a [bindings] table replaces the defaults as a whole, except that the quit
        // binding is kept unless rebound: a person must always be able to leave the session.
        if !config.bindings.values().any(|a| *a == Action::Quit) {
            config.bindings.insert(
                KeyCombo::parse("Super+Shift+E").expect("parses"),
                Action::Quit,
            );
        }
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

/// A container's name: it names a directory, so it is short and plain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ContainerName(String);

impl ContainerName {
    /// Checks a name: 1 to 32 of `a-z 0-9 - _`, starting with a letter or digit, not `host`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let ok_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if name.is_empty() || name.len() > 32 || !ok_start || !ok_chars {
            return Err(format!(
                "`{name}` is not a container name: use 1 to 32 of a-z, 0-9, '-' and '_', \
                 starting with a letter or digit"
            ));
        }
        if name == crate::state::HOST_CONTAINER {
            return Err("`host` is the name of the trusted host socket; choose another".into());
        }
        Ok(Self(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Containers are kept in a map by name; looking one up by a plain `&str` is then a `get`.
impl std::borrow::Borrow<str> for ContainerName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContainerName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Display for ContainerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[container.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerConfig {
    /// The trust colour drawn around its windows; picked from the name when absent.
    #[serde(default)]
    pub color: Option<Color>,
    /// `trusted`, `untrusted`, `kiosk`, or the name of a `[profile.NAME]` table.
    #[serde(default = "default_profile")]
    pub profile: toml::Spanned<String>,
    /// Whether `porthole run` gives the container its own Xwayland (started on the first X11
    /// connection, so an idle container costs nothing).
    #[serde(default = "default_true")]
    pub x11: bool,
    /// Owner of the container's socket; the compositor's user when absent.
    #[serde(default)]
    pub uid: Option<u32>,
    /// For kiosk containers: the output their windows fill (the first when absent).
    #[serde(default)]
    pub output: Option<String>,
    /// Let its windows cover a whole output when fullscreen. Without it (the default, but for
    /// kiosk containers) a strip with the container's colour and name stays visible.
    #[serde(default)]
    pub plain_fullscreen: bool,
    /// Resource limits.
    #[serde(default)]
    pub limits: Limits,
    /// What may move between its clipboard and other containers' (always on the person's
    /// request: a key chord or the control socket).
    #[serde(default)]
    pub clipboard: ClipboardRules,
}

/// `[container.NAME.clipboard]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClipboardRules {
    /// Whether a selection from another container may be pasted into this one.
    pub import: Import,
    /// Whether this container's selection may be taken to another.
    pub export: Export,
    /// The largest transfer into this container.
    pub max_bytes: ByteSize,
    /// What happens to a larger one: `refuse` it, or `cut` it to `max_bytes` (text only).
    pub oversize: Oversize,
    /// The MIME types a transfer into this container may carry.
    pub mime: Vec<String>,
}

/// The text types a transfer carries by default (Wayland's and X11's names for text).
pub const TEXT_MIME_TYPES: &[&str] = &[
    "text/plain;charset=utf-8",
    "text/plain",
    "UTF8_STRING",
    "STRING",
    "TEXT",
];

impl Default for ClipboardRules {
    fn default() -> Self {
        Self {
            import: Import::Allow,
            export: Export::Allow,
            max_bytes: ByteSize(1 << 20),
            oversize: Oversize::Refuse,
            mime: TEXT_MIME_TYPES.iter().map(|m| m.to_string()).collect(),
        }
    }
}

/// `import = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Import {
    /// The paste chord is consent enough.
    #[default]
    Allow,
    /// Never.
    Deny,
    /// The compositor asks the person (Enter pastes, Escape refuses) before offering it.
    Ask,
}

/// `export = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Export {
    /// The copy chord is consent enough.
    #[default]
    Allow,
    /// Never.
    Deny,
}

/// `oversize = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Oversize {
    /// Refuse the whole transfer.
    #[default]
    Refuse,
    /// Keep the first `max_bytes` (cut at a character boundary).
    Cut,
}

fn default_true() -> bool {
    true
}

fn default_profile() -> toml::Spanned<String> {
    toml::Spanned::new(0..0, "untrusted".to_string())
}

impl ContainerConfig {
    /// A container with the given profile and defaults otherwise.
    pub fn with_profile(profile: &str) -> Self {
        Self {
            color: None,
            profile: toml::Spanned::new(0..0, profile.to_string()),
            x11: true,
            uid: None,
            output: None,
            plain_fullscreen: false,
            limits: Limits::default(),
            clipboard: ClipboardRules::default(),
        }
    }
}

/// Per-container limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Connected clients; more connections are refused.
    pub clients: u32,
    /// Toplevel windows; a client creating one more is disconnected.
    pub toplevels: u32,
    /// Bytes of wl_shm pools, summed over the container's live pools (their full sizes, as the
    /// compositor maps them, even when the client's file is sparse).
    pub shm_bytes: ByteSize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            clients: 32,
            toplevels: 64,
            // Pool sizes are address space, not memory in use: foot alone maps two sparse
            // 512 MiB pools. The default leaves room for a few such clients.
            shm_bytes: ByteSize(8 << 30),
        }
    }
}

/// A size in bytes, written as a number or as a string with a unit: `"512MiB"`, `"2GiB"`, `"64KiB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `N`, `NKiB`, `NMiB`, `NGiB` (also `K`, `M`, `G`, `KB`, ... as binary units).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("`{text}` is not a size: write e.g. 512MiB, 2GiB or a number of bytes");
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(bad()),
        };
        n.checked_mul(1 << shift).map(Self).ok_or_else(bad)
    }
}

impl TryFrom<toml::Value> for ByteSize {
    type Error = String;
    fn try_from(value: toml::Value) -> Result<Self, Self::Error> {
        match value {
            toml::Value::Integer(n) if n >= 0 => Ok(Self(n as u64)),
            toml::Value::String(s) => Self::parse(&s),
            other => Err(format!(
                "`{other}` is not a size: write e.g. \"512MiB\" or a number of bytes"
            )),
        }
    }
}

/// `[profile.NAME]`: a custom allow-list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// Wayland interface names the profile's clients may bind.
    pub allow: Vec<GlobalName>,
}

/// A Wayland global interface name Porthole knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct GlobalName(String);

impl TryFrom<String> for GlobalName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if crate::policy::is_known_global(&value) {
            Ok(Self(value))
        } else {
            Err(format!(
                "`{value}` is not a Wayland global Porthole knows; known: {}",
                crate::policy::DESKTOP_GLOBALS
                    .iter()
                    .chain(crate::policy::PRIVILEGED_GLOBALS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

impl std::ops::Deref for GlobalName {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl From<GlobalName> for String {
    fn from(value: GlobalName) -> Self {
        value.0
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

/// One output, `[output.NAME]`; what is not given keeps its default (the preferred mode, placed
/// right of the outputs before it, scale 1, upright, enabled).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Mode, `WIDTHxHEIGHT[@HZ]`: the connector's mode closest to it.
    pub mode: Option<OutputMode>,
    /// Top-left corner in the global space, `[x, y]` in logical pixels.
    pub position: Option<[i32; 2]>,
    /// Scale factor, 0.5 to 4.
    pub scale: Option<f64>,
    /// Rotation and flip.
    pub transform: Option<OutputTransform>,
    /// Whether the output is lit (default true).
    pub enabled: Option<bool>,
}

impl OutputConfig {
    /// Checks values TOML's types cannot.
    pub fn check(&self) -> Result<(), String> {
        if let Some(scale) = self.scale {
            if !(0.5..=4.0).contains(&scale) {
                return Err(format!("scale {scale} is out of range: use 0.5 to 4"));
            }
        }
        if let Some([x, y]) = self.position {
            if x.unsigned_abs() > 1 << 20 || y.unsigned_abs() > 1 << 20 {
                return Err(format!("position [{x}, {y}] is out of range"));
            }
        }
        Ok(())
    }

    /// `other`'s values where it has them, these otherwise.
    pub fn merged(&self, other: &OutputConfig) -> OutputConfig {
        OutputConfig {
            mode: other.mode.or(self.mode),
            position: other.position.or(self.position),
            scale: other.scale.or(self.scale),
            transform: other.transform.or(self.transform),
            enabled: other.enabled.or(self.enabled),
        }
    }
}

/// An output's transform, as written in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OutputTransform {
    /// Upright.
    #[serde(rename = "normal")]
    Normal,
    /// Rotated 90° counter-clockwise.
    #[serde(rename = "90")]
    R90,
    /// Upside down.
    #[serde(rename = "180")]
    R180,
    /// Rotated 270° counter-clockwise.
    #[serde(rename = "270")]
    R270,
    /// Mirrored left to right.
    #[serde(rename = "flipped")]
    Flipped,
    /// Mirrored, then rotated 90°.
    #[serde(rename = "flipped-90")]
    Flipped90,
    /// Mirrored, then rotated 180°.
    #[serde(rename = "flipped-180")]
    Flipped180,
    /// Mirrored, then rotated 270°.
    #[serde(rename = "flipped-270")]
    Flipped270,
}

impl OutputTransform {
    /// The names `transform` takes.
    pub const NAMES: &'static str =
        "normal, 90, 180, 270, flipped, flipped-90, flipped-180, flipped-270";

    /// Parses a name as written in the configuration.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(text.to_string()))
            .map_err(|_| format!("`{text}` is not a transform: use one of {}", Self::NAMES))
    }

    /// smithay's transform.
    pub fn to_smithay(self) -> smithay::utils::Transform {
        use smithay::utils::Transform as T;
        match self {
            Self::Normal => T::Normal,
            Self::R90 => T::_90,
            Self::R180 => T::_180,
            Self::R270 => T::_270,
            Self::Flipped => T::Flipped,
            Self::Flipped90 => T::Flipped90,
            Self::Flipped180 => T::Flipped180,
            Self::Flipped270 => T::Flipped270,
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

    /// The same colour, scaled towards black by `factor` (0 black, 1 unchanged).
    pub fn darkened(self, factor: f32) -> Self {
        let f = |c: u8| (c as f32 * factor.clamp(0.0, 1.0)) as u8;
        Self {
            r: f(self.r),
            g: f(self.g),
            b: f(self.b),
            a: self.a,
        }
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

/// What a binding does: an action's name, or `spawn COMMAND`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
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
    /// Take the focused window's container's clipboard into the compositor's transfer buffer.
    ClipboardCopy,
    /// Offer the transfer buffer to the focused window's container, if its rules allow.
    ClipboardPaste,
    /// Run a command line (with `sh -c`) as a client of the host socket.
    Spawn(String),
}

impl TryFrom<String> for Action {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if let Some(command) = text.strip_prefix("spawn ") {
            let command = command.trim();
            if command.is_empty() {
                return Err("`spawn` needs a command, e.g. \"spawn foot\"".into());
            }
            return Ok(Action::Spawn(command.to_string()));
        }
        Ok(match text.as_str() {
            "close" => Action::Close,
            "toggle-maximize" => Action::ToggleMaximize,
            "toggle-fullscreen" => Action::ToggleFullscreen,
            "minimize" => Action::Minimize,
            "focus-next" => Action::FocusNext,
            "focus-previous" => Action::FocusPrevious,
            "quit" => Action::Quit,
            "clipboard-copy" => Action::ClipboardCopy,
            "clipboard-paste" => Action::ClipboardPaste,
            other => {
                return Err(format!(
                    "`{other}` is not an action: use close, toggle-maximize, toggle-fullscreen, \
                     minimize, focus-next, focus-previous, quit, clipboard-copy, clipboard-paste \
                     or spawn COMMAND"
                ))
            }
        })
    }
}

/// The session: what starts with it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Command lines started (with `sh -c`) once Porthole listens, as clients of the host socket.
    pub autostart: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_positions_and_scales_out_of_range_are_refused() {
        for bad in [
            "position = [-2147483648, 0]",
            "position = [0, 2000000]",
            "scale = 9.0",
            "scale = nan",
        ] {
            let err = Config::parse(&format!("[output.DP-1]\n{bad}\n")).unwrap_err();
            assert!(
                format!("{err:#}").contains("[output.DP-1]"),
                "{bad}: {err:#}"
            );
        }
        assert!(Config::parse("[output.DP-1]\nposition = [-1920, 0]\nscale = 1.5\n").is_ok());
    }

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
    fn containers_parse_with_defaults_and_limits() {
        let config = Config::parse(
            "[container.work]\ncolor = \"#3465a4\"\nprofile = \"untrusted\"\nx11 = true\nuid = 1000\n\
             [container.work.limits]\nclients = 4\ntoplevels = 8\nshm_bytes = \"16MiB\"\n\
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
                shm_bytes: ByteSize(16 << 20)
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

    #[test]
    fn container_names_are_plain() {
        assert!(ContainerName::parse("work-1_dev").is_ok());
        for bad in ["", "host", "../x", "A", "a/b", "-x", "a.b", &"x".repeat(33)] {
            assert!(ContainerName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Config::parse("[container.\"../etc\"]\n").is_err());
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(ByteSize::parse("512MiB"), Ok(ByteSize(512 << 20)));
        assert_eq!(ByteSize::parse("2G"), Ok(ByteSize(2 << 30)));
        assert_eq!(ByteSize::parse("100"), Ok(ByteSize(100)));
        assert!(ByteSize::parse("lots").is_err());
        assert!(ByteSize::parse("99999999999999999999GiB").is_err());
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
