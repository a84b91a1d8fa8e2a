//! xdg-session-management-v1: an app names its toplevels in a session, and a toplevel it later
//! restores by name opens where it was, at its size, maximized if it was: after the app, the
//! container or the compositor started again.
//!
//! Sessions are kept per container: a session id means something only to clients of the
//! container that created it (another container's client asking for it gets a new session), and
//! they are stored ([`store`]) in `$XDG_STATE_HOME/porthole/sessions/CONTAINER.json`, which
//! outlives the runtime directory. This module keeps the protocol's objects; which window is in
//! which session is the [`SessionHandler`]'s (`windows.rs` on the compositor), which records a
//! toplevel's place when its window closes, when its session or handle is destroyed, and when the
//! compositor stops. The rules a client can break are `porthole_protocols::session`'s, which the
//! bridge enforces the same way.

pub mod store;
mod windows;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use porthole_protocols::session::server::xdg_session_manager_v1::{self, XdgSessionManagerV1};
use porthole_protocols::session::server::xdg_session_v1::{self, XdgSessionV1};
use porthole_protocols::session::server::xdg_toplevel_session_v1::{self, XdgToplevelSessionV1};
use porthole_protocols::session::{check_get_session, check_name, Broken, GetSession};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::XdgToplevel;
use smithay::reexports::wayland_server::backend::ClientId;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource, WEnum,
};
use tracing::debug;

pub use self::store::{Place, Store};
use super::Filter;

/// The global's interface name, for profiles.
pub const GLOBAL: &str = "xdg_session_manager_v1";

/// What the compositor does for xdg-session-management: it knows the windows, so which toplevel
/// is in which session, and where it is, are its to keep.
pub trait SessionHandler {
    /// The protocol's state.
    fn session_state(&mut self) -> &mut SessionState;
    /// Links a toplevel into a session, with its stored place when it asks to be restored; or
    /// says which rule the request broke. A toplevel that is gone is ignored.
    fn link_toplevel(&mut self, link: NewLink<'_>) -> Result<(), Broken>;
    /// The toplevels of session `id` of `container` leave it (its object went inert), their
    /// places recorded first unless `record` is false (the session was removed).
    fn unlink_session(&mut self, container: &str, id: &str, record: bool);
    /// The toplevel named `name` leaves session `id` of `container`.
    fn unlink_toplevel(&mut self, container: &str, id: &str, name: &str);
    /// A toplevel's handle was destroyed: its place is recorded, and it leaves its session.
    fn handle_destroyed(&mut self, handle: &XdgToplevelSessionV1);
    /// A toplevel's handle renames it in session `id` of `container`; or the rule that broke.
    fn rename_toplevel(
        &mut self,
        handle: &XdgToplevelSessionV1,
        container: &str,
        id: &str,
        name: &str,
    ) -> Result<(), Broken>;
    /// Sessions changed: they should be written soon.
    fn sessions_changed(&mut self);
}

/// A toplevel a client adds to (or restores into) a session.
pub struct NewLink<'a> {
    /// The session's container.
    pub container: &'a str,
    /// The session.
    pub session: String,
    /// The toplevel.
    pub toplevel: &'a XdgToplevel,
    /// Its name in the session.
    pub name: &'a str,
    /// The object that stands for it in the session.
    pub handle: XdgToplevelSessionV1,
    /// `restore_toplevel`: it opens where it was.
    pub restore: bool,
}

/// A window's place in a session.
#[derive(Debug, Clone)]
pub struct Link {
    pub session: String,
    pub name: String,
    pub handle: XdgToplevelSessionV1,
    /// Its stored place, for a toplevel restored before its first configure.
    pub restore: Option<Place>,
}

/// The sessions, stored and in use.
#[derive(Debug, Default)]
pub struct SessionState {
    /// What every container's sessions remember.
    pub store: Store,
    /// Session objects in use, by container and session id: one that another client takes over
    /// is told so.
    live: BTreeMap<(String, String), Vec<XdgSessionV1>>,
    /// A write of the changed sessions is scheduled: writes wait a moment and come together,
    /// so that a client flooding session requests costs no more than one write a moment.
    pub write_due: bool,
}

impl SessionState {
    /// Creates the global, seen by the clients `filter` accepts.
    pub fn new<D>(
        dh: &DisplayHandle,
        filter: impl Fn(&Client) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        D: GlobalDispatch<XdgSessionManagerV1, Filter> + 'static,
    {
        dh.create_global::<D, XdgSessionManagerV1, _>(1, Filter::new(filter));
        Self::default()
    }
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

impl<D> GlobalDispatch<XdgSessionManagerV1, Filter, D> for SessionState
where
    D: GlobalDispatch<XdgSessionManagerV1, Filter>
        + Dispatch<XdgSessionManagerV1, ()>
        + Dispatch<XdgSessionV1, SessionData>
        + Dispatch<XdgToplevelSessionV1, ToplevelSessionData>
        + SessionHandler
        + 'static,
{
    fn bind(
        _state: &mut D,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<XdgSessionManagerV1>,
        _global_data: &Filter,
        data_init: &mut DataInit<'_, D>,
    ) {
        data_init.init(resource, ());
    }

    fn can_view(client: Client, global_data: &Filter) -> bool {
        global_data.allows(&client)
    }
}

impl<D> Dispatch<XdgSessionManagerV1, (), D> for SessionState
where
    D: Dispatch<XdgSessionManagerV1, ()>
        + Dispatch<XdgSessionV1, SessionData>
        + SessionHandler
        + 'static,
{
    fn request(
        state: &mut D,
        client: &Client,
        manager: &XdgSessionManagerV1,
        request: xdg_session_manager_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, D>,
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
        let sessions = state.session_state();
        let users: Vec<XdgSessionV1> = session_id
            .as_ref()
            .and_then(|wanted| sessions.live.get(&(container.clone(), wanted.clone())))
            .into_iter()
            .flatten()
            .filter(|s| s.is_alive() && s.data::<SessionData>().is_some_and(|d| d.id().is_some()))
            .cloned()
            .collect();
        let rules = GetSession {
            reason_known: matches!(reason, WEnum::Value(_)),
            held_by_client: users.iter().any(|s| s.client().as_ref() == Some(client)),
        };
        if let Err(broken) = check_get_session(&rules) {
            manager.post_error(broken.code(), broken.to_string());
            return;
        }
        if let Some(wanted) = &session_id {
            // Another client using it loses it.
            for old in users {
                if let Some(data) = old.data::<SessionData>() {
                    data.make_inert();
                }
                old.replaced();
            }
            sessions.live.remove(&(container.clone(), wanted.clone()));
        }
        let (session_id, known) = sessions.store.take(&container, session_id.as_deref());
        sessions.store.changed(&container);
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
        sessions
            .live
            .entry((container.clone(), session_id.clone()))
            .or_default()
            .push(session);
        state.sessions_changed();
        if known {
            // Windows still linked to the session under its previous owner follow the new one.
            state.unlink_session(&container, &session_id, true);
        }
    }
}

impl<D> Dispatch<XdgSessionV1, SessionData, D> for SessionState
where
    D: Dispatch<XdgSessionV1, SessionData>
        + Dispatch<XdgToplevelSessionV1, ToplevelSessionData>
        + SessionHandler
        + 'static,
{
    fn request(
        state: &mut D,
        _client: &Client,
        session: &XdgSessionV1,
        request: xdg_session_v1::Request,
        data: &SessionData,
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, D>,
    ) {
        let container = data.container.clone();
        match request {
            xdg_session_v1::Request::Destroy => {
                if let Some(id) = data.id() {
                    state.unlink_session(&container, &id, true);
                }
                data.make_inert();
            }
            xdg_session_v1::Request::Remove => {
                if let Some(id) = data.id() {
                    state.unlink_session(&container, &id, false);
                    state.session_state().store.remove(&container, &id);
                    state.sessions_changed();
                }
                data.make_inert();
            }
            xdg_session_v1::Request::AddToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ToplevelSessionData::new(data));
                add_toplevel(state, session, data, &toplevel, &name, handle, false);
            }
            xdg_session_v1::Request::RestoreToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ToplevelSessionData::new(data));
                add_toplevel(state, session, data, &toplevel, &name, handle, true);
            }
            xdg_session_v1::Request::RemoveToplevel { name } => {
                let Some(id) = data.id() else {
                    return;
                };
                state.unlink_toplevel(&container, &id, &name);
                state
                    .session_state()
                    .store
                    .remove_toplevel(&container, &id, &name);
                state.sessions_changed();
            }
            _ => {}
        }
    }

    fn destroyed(state: &mut D, _client: ClientId, session: &XdgSessionV1, data: &SessionData) {
        let key = (data.container.clone(), data.id.clone());
        let live = &mut state.session_state().live;
        if let Some(users) = live.get_mut(&key) {
            users.retain(|s| s != session);
            if users.is_empty() {
                live.remove(&key);
            }
        }
    }
}

/// `add_toplevel` or `restore_toplevel`: a session that is no longer the object's ignores it.
fn add_toplevel<D: SessionHandler>(
    state: &mut D,
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
    let linked = check_name(name).and_then(|()| {
        state.link_toplevel(NewLink {
            container: &data.container,
            session: id,
            toplevel,
            name,
            handle,
            restore,
        })
    });
    if let Err(broken) = linked {
        session.post_error(broken.code(), broken.to_string());
    }
}

impl<D> Dispatch<XdgToplevelSessionV1, ToplevelSessionData, D> for SessionState
where
    D: Dispatch<XdgToplevelSessionV1, ToplevelSessionData> + SessionHandler + 'static,
{
    fn request(
        state: &mut D,
        _client: &Client,
        handle: &XdgToplevelSessionV1,
        request: xdg_toplevel_session_v1::Request,
        data: &ToplevelSessionData,
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, D>,
    ) {
        match request {
            xdg_toplevel_session_v1::Request::Destroy => state.handle_destroyed(handle),
            xdg_toplevel_session_v1::Request::Rename { name } => {
                let Some(session) = &data.session else {
                    return;
                };
                if let Err(broken) = state.rename_toplevel(handle, &data.container, session, &name)
                {
                    handle.post_error(broken.code(), broken.to_string());
                }
            }
            _ => {}
        }
    }
}

/// Implements the dispatch of xdg-session-management for `$ty` through [`SessionState`].
#[macro_export]
macro_rules! delegate_session {
    ($ty:ty) => {
        smithay::reexports::wayland_server::delegate_global_dispatch!($ty: [
            porthole_protocols::session::server::xdg_session_manager_v1::XdgSessionManagerV1:
                $crate::protocols::Filter
        ] => $crate::protocols::session::SessionState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::session::server::xdg_session_manager_v1::XdgSessionManagerV1: ()
        ] => $crate::protocols::session::SessionState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::session::server::xdg_session_v1::XdgSessionV1:
                $crate::protocols::session::SessionData
        ] => $crate::protocols::session::SessionState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::session::server::xdg_toplevel_session_v1::XdgToplevelSessionV1:
                $crate::protocols::session::ToplevelSessionData
        ] => $crate::protocols::session::SessionState);
    };
}
