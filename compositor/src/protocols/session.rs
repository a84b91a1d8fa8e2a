//! xdg-session-management-v1: an app names its toplevels in a session, and a toplevel it later
//! restores by name opens where it was, at its size, maximized if it was: after the app, the
//! container or the compositor started again.
//!
//! Sessions are kept per container: a session id means something only to clients of the
//! container that created it (another container's client asking for it gets a new session), and
//! they are stored in `$XDG_STATE_HOME/porthole/sessions/CONTAINER.json`, which outlives the
//! runtime directory. A toplevel's place is recorded when its window closes, when its session
//! or handle is destroyed, and when the compositor stops.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use porthole_protocols::session::server::xdg_session_manager_v1::{self, XdgSessionManagerV1};
use porthole_protocols::session::server::xdg_session_v1::{self, XdgSessionV1};
use porthole_protocols::session::server::xdg_toplevel_session_v1::{self, XdgToplevelSessionV1};
use porthole_protocols::session::NAME_RULE;
use serde::{Deserialize, Serialize};
use smithay::desktop::Window;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::{self, XdgToplevel};
use smithay::reexports::wayland_server::backend::ClientId;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource, WEnum,
};
use smithay::utils::{Logical, Rectangle};
use tracing::{debug, warn};

use crate::shell::{container_name, with_data};
use crate::state::{Porthole, State};

/// The global's interface name, for profiles.
pub const GLOBAL: &str = "xdg_session_manager_v1";

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

/// The sessions of every container that used one, loaded from disk on first use.
#[derive(Debug, Default)]
pub struct Sessions {
    stored: BTreeMap<String, Stored>,
    /// Session objects in use, by container and session id: one that another client takes over
    /// is told so.
    live: BTreeMap<(String, String), Vec<XdgSessionV1>>,
    /// Containers whose sessions changed since they were last written, and whether a write
    /// is due: writes wait a moment and come together, so that a client flooding session
    /// requests costs no more than one write a moment.
    dirty: BTreeSet<String>,
    write_due: bool,
}

/// How long changed sessions wait before they are written.
const WRITE_DELAY: Duration = Duration::from_millis(500);

/// A window's place in a session.
#[derive(Debug, Clone)]
pub struct Link {
    pub session: String,
    pub name: String,
    pub handle: XdgToplevelSessionV1,
    /// Its stored place, for a toplevel restored before its first configure.
    pub restore: Option<Place>,
}

/// A window's place in a session, in the window's data.
fn with_link<R>(window: &Window, f: impl FnOnce(&mut Option<Link>) -> R) -> R {
    with_data(window, f)
}

/// An xdg_session_v1 object's container and session, which it no longer manages once inert
/// (destroyed, removed or replaced).
#[derive(Debug)]
pub struct SessionData {
    container: String,
    id: String,
    inert: AtomicBool,
}

impl SessionData {
    /// The session, while the object manages it.
    fn id(&self) -> Option<String> {
        (!self.inert.load(Ordering::Relaxed)).then(|| self.id.clone())
    }

    fn make_inert(&self) {
        self.inert.store(true, Ordering::Relaxed);
    }
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

impl Sessions {
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

    fn changed(&mut self, container: &str) {
        self.dirty.insert(container.to_string());
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
    fn take(&mut self, container: &str, id: Option<&str>) -> (String, bool) {
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

    fn place(&mut self, container: &str, session: &str, name: &str) -> Option<Place> {
        let stored = self.container(container);
        stored.sessions.get(session)?.toplevels.get(name).copied()
    }

    fn set_place(&mut self, container: &str, session: &str, name: &str, place: Place) {
        let Some(session) = self.container(container).sessions.get_mut(session) else {
            return;
        };
        if session.toplevels.len() >= MAX_TOPLEVELS && !session.toplevels.contains_key(name) {
            return;
        }
        session.toplevels.insert(name.to_string(), place);
        self.changed(container);
    }
}

impl Porthole {
    /// Writes the sessions that changed in a moment (see [`Sessions::dirty`]).
    fn write_sessions_soon(&mut self) {
        if self.sessions.dirty.is_empty() || self.sessions.write_due {
            return;
        }
        self.sessions.write_due = true;
        let timer =
            self.loop_handle
                .insert_source(Timer::from_duration(WRITE_DELAY), |_, _, state| {
                    state.comp.sessions.write_due = false;
                    state.comp.sessions.write_changed();
                    TimeoutAction::Drop
                });
        if let Err(err) = timer {
            warn!(%err, "cannot schedule writing the sessions; writing them now");
            self.sessions.write_due = false;
            self.sessions.write_changed();
        }
    }

    /// The window an xdg_toplevel belongs to.
    fn window_of_toplevel(&self, toplevel: &XdgToplevel) -> Option<Window> {
        let surface = self.globals.xdg_shell.get_toplevel(toplevel)?;
        self.shell.window_for_surface(surface.wl_surface())
    }

    /// The windows linked to session `id` of `container`.
    fn session_windows(&self, container: &str, id: &str) -> Vec<Window> {
        self.shell
            .all_windows()
            .filter(|w| {
                container_name(*w) == container
                    && with_link(w, |m| m.as_ref().is_some_and(|l| l.session == id))
            })
            .cloned()
            .collect()
    }

    /// Whether a window of session `id` of `container` is named `name` already.
    fn session_name_taken(&self, container: &str, id: &str, name: &str) -> bool {
        self.session_windows(container, id)
            .iter()
            .any(|w| with_link(w, |m| m.as_ref().is_some_and(|l| l.name == name)))
    }

    /// Records where a window of a session is.
    pub fn record_session_place(&mut self, window: &Window) {
        let Some(link) = with_link(window, |m| m.clone()) else {
            return;
        };
        let container = container_name(window).to_string();
        let info = self.window_info(window);
        let geometry = if info.maximized {
            self.shell.restore_place(window)
        } else {
            self.shell.geometry(window)
        };
        let Some(g) = geometry.filter(|g| g.size.w > 0 && g.size.h > 0) else {
            return;
        };
        let place = Place {
            x: g.loc.x,
            y: g.loc.y,
            width: g.size.w,
            height: g.size.h,
            maximized: info.maximized,
        };
        debug!(%container, session = %link.session, name = %link.name, ?place, "session place");
        self.sessions
            .set_place(&container, &link.session, &link.name, place);
        self.write_sessions_soon();
    }

    /// Records every session window's place and writes the sessions (the compositor stops).
    pub fn record_session_places(&mut self) {
        let windows: Vec<Window> = self.shell.all_windows().cloned().collect();
        for window in windows {
            self.record_session_place(&window);
        }
        self.sessions.write_changed();
    }

    /// Unlinks the windows of a session (its object went inert), recording their places first
    /// unless the session was removed.
    fn unlink_session(&mut self, container: &str, id: &str, record: bool) {
        for window in self.session_windows(container, id) {
            if record {
                self.record_session_place(&window);
            }
            with_link(&window, |m| *m = None);
        }
    }

    /// Before a restored toplevel's first configure: its stored size, and the event that says
    /// this configure restores it. A fullscreen window (a kiosk's) keeps its output's size and
    /// place.
    pub fn apply_session_restore(&mut self, window: &Window) {
        let Some(link) = with_link(window, |m| m.clone()) else {
            return;
        };
        let (Some(place), Some(toplevel)) = (link.restore, window.toplevel()) else {
            return;
        };
        if toplevel.with_pending_state(|s| s.states.contains(xdg_toplevel::State::Fullscreen)) {
            with_link(window, |m| m.as_mut().map(|l| l.restore = None));
            return;
        }
        toplevel.with_pending_state(|s| s.size = Some(place.geometry().size));
        if link.handle.is_alive() {
            link.handle.restored();
        }
    }

    /// Where a restored toplevel maps: its stored place, once, when an output still shows it
    /// (and whether to maximize it then).
    pub fn take_session_place(&mut self, window: &Window) -> Option<Place> {
        let place = with_link(window, |m| m.as_mut()?.restore.take())?;
        let g = place.geometry();
        self.shell
            .output_under(g.loc.to_f64())
            .is_some()
            .then_some(place)
    }

    /// Links `toplevel` to a session under `name`, restoring its place when asked to.
    fn link_toplevel(
        &mut self,
        session: &XdgSessionV1,
        data: &SessionData,
        toplevel: &XdgToplevel,
        name: &str,
        handle: XdgToplevelSessionV1,
        restore: bool,
    ) {
        let Some(id) = data.id() else {
            return;
        };
        if !porthole_protocols::session::valid_name(name) {
            session.post_error(xdg_session_v1::Error::InvalidName, NAME_RULE);
            return;
        }
        let Some(window) = self.window_of_toplevel(toplevel) else {
            return;
        };
        if with_link(&window, |m| m.is_some()) {
            session.post_error(
                xdg_session_v1::Error::AlreadyAdded,
                "the toplevel is in a session already",
            );
            return;
        }
        if self.session_name_taken(&data.container, &id, name) {
            session.post_error(
                xdg_session_v1::Error::NameInUse,
                format!("a toplevel of the session is named `{name}` already"),
            );
            return;
        }
        let restore = if restore {
            let mapped = self
                .globals
                .xdg_shell
                .get_toplevel(toplevel)
                .is_some_and(|t| t.is_initial_configure_sent());
            if mapped {
                session.post_error(
                    xdg_session_v1::Error::AlreadyMapped,
                    "restore_toplevel comes before the toplevel's first commit",
                );
                return;
            }
            self.sessions.place(&data.container, &id, name)
        } else {
            None
        };
        debug!(container = %data.container, session = %id, %name, restored = restore.is_some(), "toplevel in a session");
        with_link(&window, |m| {
            *m = Some(Link {
                session: id,
                name: name.to_string(),
                handle,
                restore,
            })
        });
    }
}

impl GlobalDispatch<XdgSessionManagerV1, ()> for State {
    fn bind(
        _state: &mut Self,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<XdgSessionManagerV1>,
        _global_data: &(),
        data_init: &mut DataInit<'_, Self>,
    ) {
        data_init.init(resource, ());
    }

    fn can_view(client: Client, _global_data: &()) -> bool {
        crate::policy::client_may_bind(&client, GLOBAL)
    }
}

impl Dispatch<XdgSessionManagerV1, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        manager: &XdgSessionManagerV1,
        request: xdg_session_manager_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let xdg_session_manager_v1::Request::GetSession {
            id,
            reason,
            session_id,
        } = request
        else {
            return;
        };
        let container = crate::policy::container_of(client);
        if !matches!(reason, WEnum::Value(_)) {
            manager.post_error(
                xdg_session_manager_v1::Error::InvalidReason,
                "the reason is launch, recover or session_restore",
            );
            return;
        }
        let sessions = &mut state.comp.sessions;
        if let Some(wanted) = &session_id {
            let key = (container.clone(), wanted.clone());
            let users: Vec<XdgSessionV1> = sessions
                .live
                .get(&key)
                .into_iter()
                .flatten()
                .filter(|s| {
                    s.is_alive() && s.data::<SessionData>().is_some_and(|d| d.id().is_some())
                })
                .cloned()
                .collect();
            if users.iter().any(|s| s.client().as_ref() == Some(client)) {
                manager.post_error(
                    xdg_session_manager_v1::Error::InUse,
                    "this client uses the session already",
                );
                return;
            }
            // Another client using it loses it.
            for old in users {
                if let Some(data) = old.data::<SessionData>() {
                    data.make_inert();
                }
                old.replaced();
            }
            sessions.live.remove(&key);
        }
        let (session_id, known) = sessions.take(&container, session_id.as_deref());
        sessions.changed(&container);
        let session = data_init.init(
            id,
            SessionData {
                container: container.clone(),
                id: session_id.clone(),
                inert: AtomicBool::new(false),
            },
        );
        if known {
            session.restored();
        } else {
            session.created(session_id.clone());
        }
        debug!(%container, session = %session_id, known, "session");
        state
            .comp
            .sessions
            .live
            .entry((container.clone(), session_id.clone()))
            .or_default()
            .push(session);
        state.comp.write_sessions_soon();
        if known {
            // Windows still linked to the session under its previous owner follow the new one.
            state.comp.unlink_session(&container, &session_id, true);
        }
    }
}

impl Dispatch<XdgSessionV1, SessionData> for State {
    fn request(
        state: &mut Self,
        _client: &Client,
        session: &XdgSessionV1,
        request: xdg_session_v1::Request,
        data: &SessionData,
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let container = data.container.clone();
        match request {
            xdg_session_v1::Request::Destroy => {
                if let Some(id) = data.id() {
                    state.comp.unlink_session(&container, &id, true);
                }
                data.make_inert();
            }
            xdg_session_v1::Request::Remove => {
                if let Some(id) = data.id() {
                    state.comp.unlink_session(&container, &id, false);
                    state
                        .comp
                        .sessions
                        .container(&container)
                        .sessions
                        .remove(&id);
                    state.comp.sessions.changed(&container);
                    state.comp.write_sessions_soon();
                }
                data.make_inert();
            }
            xdg_session_v1::Request::AddToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ToplevelSessionData::new(data));
                state
                    .comp
                    .link_toplevel(session, data, &toplevel, &name, handle, false);
            }
            xdg_session_v1::Request::RestoreToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ToplevelSessionData::new(data));
                state
                    .comp
                    .link_toplevel(session, data, &toplevel, &name, handle, true);
            }
            xdg_session_v1::Request::RemoveToplevel { name } => {
                let Some(id) = data.id() else {
                    return;
                };
                for window in state.comp.session_windows(&container, &id) {
                    with_link(&window, |m| {
                        if m.as_ref().is_some_and(|l| l.name == name) {
                            *m = None;
                        }
                    });
                }
                if let Some(s) = state
                    .comp
                    .sessions
                    .container(&container)
                    .sessions
                    .get_mut(&id)
                {
                    s.toplevels.remove(&name);
                }
                state.comp.sessions.changed(&container);
                state.comp.write_sessions_soon();
            }
            _ => {}
        }
    }

    fn destroyed(state: &mut Self, _client: ClientId, session: &XdgSessionV1, data: &SessionData) {
        let key = (data.container.clone(), data.id.clone());
        if let Some(users) = state.comp.sessions.live.get_mut(&key) {
            users.retain(|s| s != session);
            if users.is_empty() {
                state.comp.sessions.live.remove(&key);
            }
        }
    }
}

/// An xdg_toplevel_session_v1 object's container and session (`None`: made inert).
#[derive(Debug)]
pub struct ToplevelSessionData {
    container: String,
    session: Option<String>,
}

impl ToplevelSessionData {
    fn new(session: &SessionData) -> Self {
        Self {
            container: session.container.clone(),
            session: session.id(),
        }
    }
}

impl Dispatch<XdgToplevelSessionV1, ToplevelSessionData> for State {
    fn request(
        state: &mut Self,
        _client: &Client,
        handle: &XdgToplevelSessionV1,
        request: xdg_toplevel_session_v1::Request,
        data: &ToplevelSessionData,
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, Self>,
    ) {
        let Some(window) = state
            .comp
            .shell
            .all_windows()
            .find(|w| with_link(w, |m| m.as_ref().is_some_and(|l| &l.handle == handle)))
            .cloned()
        else {
            return;
        };
        match request {
            xdg_toplevel_session_v1::Request::Destroy => {
                state.comp.record_session_place(&window);
                with_link(&window, |m| *m = None);
            }
            xdg_toplevel_session_v1::Request::Rename { name } => {
                let Some(session) = &data.session else {
                    return;
                };
                if !porthole_protocols::session::valid_name(&name) {
                    handle.post_error(xdg_session_v1::Error::InvalidName, NAME_RULE);
                    return;
                }
                if state
                    .comp
                    .session_name_taken(&data.container, session, &name)
                {
                    handle.post_error(
                        xdg_session_v1::Error::NameInUse,
                        format!("a toplevel of the session is named `{name}` already"),
                    );
                    return;
                }
                let old = with_link(&window, |m| {
                    let link = m.as_mut()?;
                    Some(std::mem::replace(&mut link.name, name.clone()))
                });
                if let (Some(old), Some(s)) = (
                    old,
                    state
                        .comp
                        .sessions
                        .container(&data.container)
                        .sessions
                        .get_mut(session),
                ) {
                    if let Some(place) = s.toplevels.remove(&old) {
                        s.toplevels.insert(name, place);
                    }
                }
                state.comp.sessions.changed(&data.container);
                state.comp.write_sessions_soon();
            }
            _ => {}
        }
    }
}
