//! The sessions of each container as stored in `$XDG_STATE_HOME/porthole/sessions/NAME.json`:
//! each session's toplevels by name, and where each was. A container's file is read on first
//! use; changed ones are written together (see [`Store::write_changed`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use smithay::utils::{Logical, Rectangle};
use tracing::warn;

/// Sessions one container keeps, and toplevels one session keeps: past these the least
/// recently used session goes, and further toplevel names are not remembered.
const MAX_SESSIONS: usize = 64;
const MAX_TOPLEVELS: usize = 64;

/// Where a toplevel was: its content's place and size (its size before it was maximized, when
/// it was), and whether it was maximized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    pub maximized: bool,
}

impl Place {
    /// The content's place and size.
    pub fn geometry(&self) -> Rectangle<i32, Logical> {
        Rectangle::new((self.x, self.y).into(), (self.width, self.height).into())
    }
}

/// One session as stored.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Session {
    /// When it was last taken, in the container's count: the least recent goes first.
    used: u64,
    toplevels: BTreeMap<String, Place>,
}

/// One container's sessions, by id.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Stored {
    uses: u64,
    sessions: BTreeMap<String, Session>,
}

/// The stored sessions of every container that used one.
#[derive(Debug, Default)]
pub struct Store {
    stored: BTreeMap<String, Stored>,
    /// Containers whose sessions changed since they were last written.
    dirty: BTreeSet<String>,
}

/// A fresh session id: 128 random bits in hex.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if let Err(err) = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
    {
        warn!(%err, "reading /dev/urandom for a session id");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    fn container(&mut self, container: &str) -> &mut Stored {
        self.stored.entry(container.to_string()).or_insert_with(|| {
            let path = match crate::paths::sessions_file(container) {
                Ok(path) => path,
                Err(_) => return Stored::default(),
            };
            match std::fs::read(&path) {
                Ok(text) => serde_json::from_slice(&text).unwrap_or_else(|err| {
                    warn!(%err, path = %path.display(), "unreadable sessions; starting afresh");
                    Stored::default()
                }),
                Err(_) => Stored::default(),
            }
        })
    }

    /// Marks a container's sessions as changed, to be written.
    pub fn changed(&mut self, container: &str) {
        self.dirty.insert(container.to_string());
    }

    /// Whether some container's sessions changed since they were last written.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Writes the sessions that changed.
    pub fn write_changed(&mut self) {
        for container in std::mem::take(&mut self.dirty) {
            self.write(&container);
        }
    }

    fn write(&mut self, container: &str) {
        let stored = self.container(container).clone();
        let written = crate::paths::sessions_file(container).and_then(|path| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&stored)?)?;
            std::fs::rename(&tmp, &path)?;
            Ok(())
        });
        if let Err(err) = written {
            warn!(%container, "storing the sessions failed: {err:#}");
        }
    }

    /// Takes session `id` of `container` if it is known, else creates one. Returns its id and
    /// whether it was known.
    pub fn take(&mut self, container: &str, id: Option<&str>) -> (String, bool) {
        let stored = self.container(container);
        stored.uses += 1;
        let uses = stored.uses;
        if let Some(session) = id.and_then(|id| stored.sessions.get_mut(id)) {
            session.used = uses;
            return (id.unwrap_or_default().to_string(), true);
        }
        if stored.sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = stored
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(id, _)| id.clone())
            {
                stored.sessions.remove(&oldest);
            }
        }
        let id = new_id();
        stored.sessions.insert(
            id.clone(),
            Session {
                used: uses,
                toplevels: BTreeMap::new(),
            },
        );
        (id, false)
    }

    /// Forgets a session.
    pub fn remove(&mut self, container: &str, session: &str) {
        self.container(container).sessions.remove(session);
        self.changed(container);
    }

    /// Where the toplevel named `name` of a session was.
    pub fn place(&mut self, container: &str, session: &str, name: &str) -> Option<Place> {
        let stored = self.container(container);
        stored.sessions.get(session)?.toplevels.get(name).copied()
    }

    /// Records where the toplevel named `name` of a session is.
    pub fn set_place(&mut self, container: &str, session: &str, name: &str, place: Place) {
        let Some(session) = self.container(container).sessions.get_mut(session) else {
            return;
        };
        if session.toplevels.len() >= MAX_TOPLEVELS && !session.toplevels.contains_key(name) {
            return;
        }
        session.toplevels.insert(name.to_string(), place);
        self.changed(container);
    }

    /// Forgets the toplevel named `name` of a session.
    pub fn remove_toplevel(&mut self, container: &str, session: &str, name: &str) {
        if let Some(s) = self.container(container).sessions.get_mut(session) {
            s.toplevels.remove(name);
        }
        self.changed(container);
    }

    /// Keeps the place of a session's toplevel under its new name.
    pub fn rename_toplevel(&mut self, container: &str, session: &str, old: &str, new: &str) {
        if let Some(s) = self.container(container).sessions.get_mut(session) {
            if let Some(place) = s.toplevels.remove(old) {
                s.toplevels.insert(new.to_string(), place);
            }
        }
        self.changed(container);
    }
}
