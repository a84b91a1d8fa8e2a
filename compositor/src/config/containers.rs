//! `[container.NAME]` and `[profile.NAME]`: a container's name, profile, colour, limits and
//! clipboard rules, and custom profiles' allow-lists.

use std::fmt;

use serde::Deserialize;

use super::color::Color;
use super::error::ValueError;

/// A container's name: it names a directory, so it is short and plain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ContainerName(String);

impl ContainerName {
    /// Checks a name: 1 to 32 of `a-z 0-9 - _`, starting with a letter or digit, not `host`.
    pub fn parse(name: &str) -> Result<Self, ValueError> {
        let ok_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if name.is_empty() || name.len() > 32 || !ok_start || !ok_chars {
            return Err(ValueError::ContainerName(name.to_string()));
        }
        if name == crate::policy::HOST_CONTAINER {
            return Err(ValueError::HostName);
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
    type Error = ValueError;
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
    /// A command run in the container's sandbox (`porthole run NAME -- app...`) when the
    /// compositor starts, and again whenever it ends; empty for none.
    #[serde(default)]
    pub app: Vec<String>,
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
            app: Vec::new(),
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
    /// wl_shm pools of the container's clients; each holds a file descriptor in the compositor.
    pub shm_pools: u32,
    /// Surfaces of all the container's clients together; one more is a protocol error.
    pub surfaces: u32,
    /// Protocol objects (surfaces, regions, callbacks, ...) one client holds; one more is a
    /// protocol error.
    pub objects_per_client: u32,
    /// Protocol objects all of the container's clients hold together.
    pub objects: u32,
    /// Rectangles added to or cut from one wl_region; one more is a protocol error.
    pub region_rects: u32,
    /// Damage rectangles a surface carries into a commit; past it they are merged into one that
    /// covers the whole buffer, as wlroots does.
    pub damage_rects: u32,
    /// Frame callbacks asked for in one commit of one surface; one more is a protocol error.
    pub frame_callbacks: u32,
    /// MIME types one data source (clipboard, primary selection, drag) offers; one more is a
    /// protocol error.
    pub mime_types: u32,
    /// Bytes of one MIME type's name; a longer one is a protocol error.
    pub mime_type_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            clients: 32,
            toplevels: 64,
            // Pool sizes are address space, not memory in use: foot alone maps two sparse
            // 512 MiB pools. The default leaves room for a few such clients.
            shm_bytes: ByteSize(8 << 30),
            // foot keeps 2, a GTK app a handful.
            shm_pools: 256,
            // A GTK or Qt app has one per window, popup, tooltip and cursor; a client's are torn
            // down at once when it leaves, 2,048 in a few milliseconds.
            surfaces: 2048,
            // A large GTK or Qt app holds a few thousand; a wl_surface costs the compositor
            // about 750 bytes, so a container's objects stay under about 75 MB.
            objects_per_client: 50_000,
            objects: 100_000,
            region_rects: 1024,
            damage_rects: 64,
            frame_callbacks: 16,
            // LibreOffice offers about 30 types, the longest about 100 bytes.
            mime_types: 128,
            mime_type_bytes: 1024,
        }
    }
}

/// A size in bytes, written as a number or as a string with a unit: `"512MiB"`, `"2GiB"`, `"64KiB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `N`, `NKiB`, `NMiB`, `NGiB` (also `K`, `M`, `G`, `KB`, ... as binary units).
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Size(text.to_string());
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
    type Error = ValueError;
    fn try_from(value: toml::Value) -> Result<Self, Self::Error> {
        match value {
            toml::Value::Integer(n) if n >= 0 => Ok(Self(n as u64)),
            toml::Value::String(s) => Self::parse(&s),
            other => Err(ValueError::SizeValue(other.to_string())),
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
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if crate::policy::is_known_global(&value) {
            Ok(Self(value))
        } else {
            Err(ValueError::Global {
                name: value,
                known: crate::policy::DESKTOP_GLOBALS
                    .iter()
                    .chain(crate::policy::PRIVILEGED_GLOBALS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

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
}
