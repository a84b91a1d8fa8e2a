//! Containers: one listening Wayland socket each, in `$XDG_RUNTIME_DIR/porthole/<name>/`, whose
//! clients are tagged with the container and its profile.

mod lifecycle;
pub mod run_as;
pub mod sandbox;
pub mod seccomp;
pub mod shm;
pub mod supervise;
pub mod watched;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use smithay::reexports::calloop::RegistrationToken;
use smithay::reexports::wayland_server::backend::ObjectId;
use smithay::reexports::wayland_server::Client;

pub use self::shm::ShmAccounting;
pub use self::watched::Watched;
use crate::config::{Color, ContainerName, Limits};
use crate::paths::CONTAINER_SOCKET;
use crate::policy::Profile;

/// A container known to the compositor.
#[derive(Debug)]
pub struct Container {
    /// Its name.
    pub name: ContainerName,
    /// What its clients may bind.
    pub profile: Profile,
    /// The colour drawn around its windows.
    pub color: Color,
    /// Its limits.
    pub limits: Limits,
    /// Output its windows fill, for kiosk containers.
    pub output: Option<String>,
    /// Its fullscreen windows cover the whole output, without the labelled strip.
    pub plain_fullscreen: bool,
    /// `porthole run` starts its X11 bridge.
    pub x11: bool,
    /// What may move between its clipboard and others'.
    pub clipboard: crate::config::ClipboardRules,
    /// `$XDG_RUNTIME_DIR/porthole/<name>`; none for a security context's socket, which its
    /// sandbox owns.
    pub dir: Option<PathBuf>,
    /// Connected clients.
    pub clients: Vec<Client>,
    /// Bytes of live wl_shm pools of its clients.
    pub shm_bytes: u64,
    /// Its clients' live wl_shm pools.
    pub shm_pools: u32,
    /// Its clients' live surfaces.
    pub surfaces: u32,
    /// Whether its socket still accepts clients (a security context's may close before its
    /// clients leave).
    pub listening: bool,
    /// Its listening socket's source in the event loop.
    token: RegistrationToken,
}

impl Container {
    /// The socket clients connect to, if Porthole made it.
    pub fn socket_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(CONTAINER_SOCKET))
    }
}

/// Colours containers get when none is configured: sixteen that are at least [`DISTINCT`]
/// apart from each other.
const PALETTE: [Color; 16] = [
    Color::rgb(0x34, 0x65, 0xa4),
    Color::rgb(0x4e, 0x9a, 0x06),
    Color::rgb(0xc4, 0xa0, 0x00),
    Color::rgb(0xce, 0x5c, 0x00),
    Color::rgb(0x75, 0x50, 0x7b),
    Color::rgb(0xcc, 0x00, 0x00),
    Color::rgb(0x06, 0x98, 0x9a),
    Color::rgb(0xa4, 0x00, 0x62),
    Color::rgb(0x73, 0xd2, 0x16),
    Color::rgb(0xad, 0x7f, 0xa8),
    Color::rgb(0xe9, 0xb9, 0x6e),
    Color::rgb(0x2e, 0x8b, 0x57),
    Color::rgb(0xef, 0x29, 0x29),
    Color::rgb(0x72, 0x9f, 0xcf),
    Color::rgb(0x00, 0xa0, 0xe0),
    Color::rgb(0xd0, 0x30, 0x8a),
];

/// How far apart ([`Color::distance`]) two containers' colours must be for a person to tell
/// them apart at a glance.
pub const DISTINCT: f64 = 110.0;

/// The palette colour a container's name picks when nothing else decides.
pub fn color_for(name: &str) -> Color {
    PALETTE[palette_index(name)]
}

fn palette_index(name: &str) -> usize {
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % PALETTE.len() as u64) as usize
}

/// A colour for a new container without one configured, far from every colour `taken` (other
/// containers', and the host's frames): the first palette colour from where its name points
/// that is [`DISTINCT`] from all of them, else the one farthest from the nearest.
pub fn color_among(name: &str, taken: &[Color]) -> Color {
    let nearest = |c: Color| {
        taken
            .iter()
            .map(|t| c.distance(*t))
            .fold(f64::INFINITY, f64::min)
    };
    let start = palette_index(name);
    let candidates = (0..PALETTE.len()).map(|i| PALETTE[(start + i) % PALETTE.len()]);
    candidates
        .clone()
        .find(|c| nearest(*c) >= DISTINCT)
        .unwrap_or_else(|| {
            candidates
                .max_by(|a, b| nearest(*a).total_cmp(&nearest(*b)))
                .unwrap_or(PALETTE[start])
        })
}

/// Warnings for `porthole validate`: configured containers whose colours (configured, or the
/// ones they will get) a person could mistake for each other.
pub fn color_warnings(config: &crate::config::Config) -> Vec<String> {
    let appearance = &config.appearance;
    let mut taken: Vec<(String, Color)> = vec![
        ("the host's focused frames".into(), appearance.focused),
        ("the host's unfocused frames".into(), appearance.unfocused),
    ];
    let mut warnings = Vec::new();
    for (name, container) in &config.containers {
        let colors: Vec<Color> = taken.iter().map(|(_, c)| *c).collect();
        let color = container
            .color
            .unwrap_or_else(|| color_among(name.as_str(), &colors));
        for (other, c) in &taken {
            if color.distance(*c) < DISTINCT {
                warnings.push(format!(
                    "container `{name}`'s colour {} looks like {other}'s {}: give one a \
                     `color =` further apart",
                    color.to_hex(),
                    c.to_hex()
                ));
            }
        }
        taken.push((format!("container `{name}`"), color));
    }
    warnings
}

/// Every container by name, and what is counted against them.
#[derive(Debug, Default)]
pub struct Containers {
    by_name: BTreeMap<ContainerName, Container>,
    /// Live wl_shm pools and buffers, for the `shm_bytes` limit.
    pub shm: ShmAccounting,
    /// The container each live surface counts against, for the `surfaces` limit (a surface's
    /// client may be gone by the time it is destroyed).
    pub surface_owners: HashMap<ObjectId, String>,
    /// Containers whose security-context listener its sandbox closed, to be handled after the
    /// dispatch that noticed it.
    pub closed_listeners: Rc<RefCell<Vec<String>>>,
}

impl Containers {
    /// The container called `name`.
    pub fn get(&self, name: &str) -> Option<&Container> {
        self.by_name.get(name)
    }

    /// The container called `name`, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Container> {
        self.by_name.get_mut(name)
    }

    /// Whether a container is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every container, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Container> {
        self.by_name.values()
    }

    fn insert(&mut self, container: Container) {
        self.by_name.insert(container.name.clone(), container);
    }

    fn remove(&mut self, name: &str) -> Option<Container> {
        self.by_name.remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_palette_is_distinct() {
        for (i, a) in PALETTE.iter().enumerate() {
            for b in &PALETTE[i + 1..] {
                assert!(a.distance(*b) >= DISTINCT, "{} {}", a.to_hex(), b.to_hex());
            }
        }
    }

    #[test]
    fn a_new_container_gets_a_colour_far_from_those_taken() {
        // `bank` and `evil` picked the same colour from the old 8-colour palette.
        let bank = color_among("bank", &[]);
        let evil = color_among("evil", &[bank]);
        assert!(bank.distance(evil) >= DISTINCT);
        // Sixteen containers get sixteen distinct colours.
        let mut taken = Vec::new();
        for i in 0..16 {
            taken.push(color_among(&format!("c{i}"), &taken));
        }
        for (i, a) in taken.iter().enumerate() {
            for b in &taken[i + 1..] {
                assert!(a.distance(*b) >= DISTINCT);
            }
        }
    }
}
