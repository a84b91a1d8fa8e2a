//! xdg-session-management-v1 for the native clients of a checkpointable container: the bridge
//! offers it where the compositor does and passes each session on to the compositor, which
//! keeps it for this container. Each client session and toplevel handle has a host counterpart;
//! a toplevel's goes with its host toplevel, made at the client's first commit, so a restore the
//! client asked for before that reaches the compositor before the host toplevel's first commit.
//!
//! The bridge is one client of the compositor for all of the container's apps, so it checks the
//! rules a client could break itself (a name in use, a toplevel added twice or restored after
//! its first commit, a session in use), and raises them on that client: broken on the host,
//! they would cut off the bridge. The rules are the compositor's own, from
//! [`porthole_protocols::session`], so that none gets past the bridge to the host. A session two apps ask for is taken from the first here, before
//! the host sees the second. After a checkpoint the bridge takes its sessions back (as
//! `recover`) and adds their toplevels again, without telling the apps.

use porthole_protocols::session::client::xdg_session_manager_v1::Reason as HostReason;
use porthole_protocols::session::client::xdg_session_v1 as host_session;
use porthole_protocols::session::client::xdg_toplevel_session_v1 as host_handle;
use porthole_protocols::session::server::xdg_session_manager_v1::{self, XdgSessionManagerV1};
use porthole_protocols::session::server::xdg_session_v1::{self, XdgSessionV1};
use porthole_protocols::session::server::xdg_toplevel_session_v1::{self, XdgToplevelSessionV1};
use porthole_protocols::session::{
    check_add_toplevel, check_get_session, check_name, check_rename, AddToplevel, GetSession,
};
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource, WEnum,
};
use smithay::wayland::shell::xdg::ToplevelSurface;
use smithay_client_toolkit::shell::xdg::window::Window;
use tracing::debug;
use wayland_client::{Connection, QueueHandle};

use crate::bridge::Bridge;

/// A client's session and its host counterpart.
#[derive(Debug)]
pub struct Session {
    client: XdgSessionV1,
    host: Option<host_session::XdgSessionV1>,
    /// The id asked for, then the one the compositor gave.
    id: Option<String>,
    /// The app heard about its session: what the host says on reconnecting is not passed on.
    told: bool,
}

/// A client's toplevel in a session, and its host counterpart.
#[derive(Debug)]
pub struct ToplevelSession {
    handle: XdgToplevelSessionV1,
    session: XdgSessionV1,
    toplevel: ToplevelSurface,
    name: String,
    /// Restore it (not yet forwarded, asked for before its first commit).
    restore: bool,
    host: Option<host_handle::XdgToplevelSessionV1>,
}

/// The bridge's sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Vec<Session>,
    toplevels: Vec<ToplevelSession>,
}

impl Sessions {
    /// The host connection is gone, and with it every host counterpart.
    pub fn forget_host(&mut self) {
        for session in &mut self.sessions {
            session.host = None;
        }
        for toplevel in &mut self.toplevels {
            toplevel.host = None;
            toplevel.restore = false;
        }
    }

    /// Drops what the apps destroyed, or lost with their connection.
    fn prune(&mut self) {
        self.sessions.retain(|s| {
            let alive = s.client.is_alive();
            if !alive {
                if let Some(host) = &s.host {
                    host.destroy();
                }
            }
            alive
        });
        self.toplevels.retain(|t| {
            let alive = t.handle.is_alive() && t.toplevel.alive();
            if !alive {
                if let Some(host) = &t.host {
                    host.destroy();
                }
            }
            alive
        });
    }

    fn session(&mut self, client: &XdgSessionV1) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| &s.client == client)
    }

    /// Forgets a session and its toplevels, destroying (or, `remove`, removing) the host's.
    fn drop_session(&mut self, client: &XdgSessionV1, remove: bool) {
        if let Some(index) = self.sessions.iter().position(|s| &s.client == client) {
            let session = self.sessions.remove(index);
            if let Some(host) = session.host {
                if remove {
                    host.remove();
                } else {
                    host.destroy();
                }
            }
        }
        self.toplevels.retain(|t| {
            let mine = &t.session == client;
            if mine {
                if let Some(host) = &t.host {
                    host.destroy();
                }
            }
            !mine
        });
    }
}

/// The session manager's reason, for the host.
fn host_reason(reason: WEnum<xdg_session_manager_v1::Reason>) -> HostReason {
    match reason {
        WEnum::Value(xdg_session_manager_v1::Reason::Launch) => HostReason::Launch,
        WEnum::Value(xdg_session_manager_v1::Reason::Recover) => HostReason::Recover,
        _ => HostReason::SessionRestore,
    }
}

impl Bridge {
    /// Takes every session back from the host after reconnecting, quietly.
    pub fn reattach_sessions(&mut self) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let Some(manager) = &host.session_manager else {
            return;
        };
        self.sessions.prune();
        for session in &mut self.sessions.sessions {
            if let Some(id) = &session.id {
                session.host = Some(manager.get_session(
                    HostReason::Recover,
                    Some(id.clone()),
                    &host.qh,
                    session.client.clone(),
                ));
            }
        }
    }

    /// Adds a native toplevel's sessions to its new host toplevel, before its first commit.
    pub fn forward_toplevel_sessions(&mut self, toplevel: &ToplevelSurface, window: &Window) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        self.sessions.prune();
        let Sessions {
            sessions,
            toplevels,
        } = &mut self.sessions;
        for entry in toplevels
            .iter_mut()
            .filter(|t| &t.toplevel == toplevel && t.host.is_none())
        {
            let Some(host_session) = sessions
                .iter()
                .find(|s| s.client == entry.session)
                .and_then(|s| s.host.as_ref())
            else {
                continue;
            };
            let xdg_toplevel = window.xdg_toplevel();
            let name = entry.name.clone();
            let data = entry.handle.clone();
            entry.host = Some(if std::mem::take(&mut entry.restore) {
                host_session.restore_toplevel(xdg_toplevel, name, &host.qh, data)
            } else {
                host_session.add_toplevel(xdg_toplevel, name, &host.qh, data)
            });
        }
    }

    /// Whether a native toplevel made its first commit (the bridge made its host toplevel, or
    /// configured it while detached).
    fn committed(&self, toplevel: &ToplevelSurface) -> bool {
        toplevel.is_initial_configure_sent()
            || self.host_window_of_native(toplevel.wl_surface()).is_some()
    }

    fn add_toplevel(
        &mut self,
        session: &XdgSessionV1,
        xdg_toplevel: &smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::XdgToplevel,
        name: String,
        handle: XdgToplevelSessionV1,
        restore: bool,
    ) {
        self.sessions.prune();
        if let Err(broken) = check_name(&name) {
            session.post_error(broken.code(), broken.to_string());
            return;
        }
        let Some(toplevel) = self
            .server
            .native
            .as_ref()
            .and_then(|n| n.xdg_shell.get_toplevel(xdg_toplevel))
        else {
            return;
        };
        let toplevels = &self.sessions.toplevels;
        let request = AddToplevel {
            name: &name,
            restore,
            in_a_session: toplevels.iter().any(|t| t.toplevel == toplevel),
            name_taken: toplevels
                .iter()
                .any(|t| &t.session == session && t.name == name),
            committed: self.committed(&toplevel),
        };
        if let Err(broken) = check_add_toplevel(&request) {
            session.post_error(broken.code(), broken.to_string());
            return;
        }
        debug!(%name, restore, "a native toplevel in a session");
        self.sessions.toplevels.push(ToplevelSession {
            handle,
            session: session.clone(),
            toplevel: toplevel.clone(),
            name,
            restore,
            host: None,
        });
        if let Some(window) = self.host_window_of_native(toplevel.wl_surface()) {
            self.forward_toplevel_sessions(&toplevel, &window);
        }
    }
}

impl GlobalDispatch<XdgSessionManagerV1, ()> for Bridge {
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
}

impl Dispatch<XdgSessionManagerV1, ()> for Bridge {
    fn request(
        bridge: &mut Self,
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
        bridge.sessions.prune();
        let users: Vec<XdgSessionV1> = match &session_id {
            Some(wanted) => bridge
                .sessions
                .sessions
                .iter()
                .filter(|s| s.id.as_ref() == Some(wanted))
                .map(|s| s.client.clone())
                .collect(),
            None => Vec::new(),
        };
        let request = GetSession {
            reason_known: matches!(reason, WEnum::Value(_)),
            held_by_client: users.iter().any(|s| s.client().as_ref() == Some(client)),
        };
        if let Err(broken) = check_get_session(&request) {
            manager.post_error(broken.code(), broken.to_string());
            return;
        }
        // Another app using it loses it, before the compositor sees this request.
        for old in users {
            old.replaced();
            bridge.sessions.drop_session(&old, false);
        }
        let session = data_init.init(id, ());
        let host = bridge.host.as_ref().and_then(|host| {
            let manager = host.session_manager.as_ref()?;
            Some(manager.get_session(
                host_reason(reason),
                session_id.clone(),
                &host.qh,
                session.clone(),
            ))
        });
        bridge.sessions.sessions.push(Session {
            client: session,
            host,
            id: session_id,
            told: false,
        });
    }
}

impl Dispatch<XdgSessionV1, ()> for Bridge {
    fn request(
        bridge: &mut Self,
        _client: &Client,
        session: &XdgSessionV1,
        request: xdg_session_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        match request {
            xdg_session_v1::Request::Destroy => bridge.sessions.drop_session(session, false),
            xdg_session_v1::Request::Remove => bridge.sessions.drop_session(session, true),
            xdg_session_v1::Request::AddToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ());
                bridge.add_toplevel(session, &toplevel, name, handle, false);
            }
            xdg_session_v1::Request::RestoreToplevel { id, toplevel, name } => {
                let handle = data_init.init(id, ());
                bridge.add_toplevel(session, &toplevel, name, handle, true);
            }
            xdg_session_v1::Request::RemoveToplevel { name } => {
                if let Some(host) = bridge
                    .sessions
                    .session(session)
                    .and_then(|s| s.host.clone())
                {
                    host.remove_toplevel(name.clone());
                }
                bridge.sessions.toplevels.retain(|t| {
                    let gone = &t.session == session && t.name == name;
                    if gone {
                        if let Some(host) = &t.host {
                            host.destroy();
                        }
                    }
                    !gone
                });
            }
            _ => {}
        }
    }
}

impl Dispatch<XdgToplevelSessionV1, ()> for Bridge {
    fn request(
        bridge: &mut Self,
        _client: &Client,
        handle: &XdgToplevelSessionV1,
        request: xdg_toplevel_session_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, Self>,
    ) {
        let toplevels = &mut bridge.sessions.toplevels;
        let Some(index) = toplevels.iter().position(|t| &t.handle == handle) else {
            return;
        };
        match request {
            xdg_toplevel_session_v1::Request::Destroy => {
                let entry = toplevels.remove(index);
                if let Some(host) = entry.host {
                    host.destroy();
                }
            }
            xdg_toplevel_session_v1::Request::Rename { name } => {
                let session = toplevels[index].session.clone();
                let name_taken = toplevels
                    .iter()
                    .any(|t| t.session == session && t.name == name);
                if let Err(broken) = check_rename(&name, name_taken) {
                    session.post_error(broken.code(), broken.to_string());
                    return;
                }
                if let Some(host) = &toplevels[index].host {
                    host.rename(name.clone());
                }
                toplevels[index].name = name;
            }
            _ => {}
        }
    }
}

impl wayland_client::Dispatch<host_session::XdgSessionV1, XdgSessionV1> for Bridge {
    fn event(
        bridge: &mut Self,
        host: &host_session::XdgSessionV1,
        event: host_session::Event,
        client: &XdgSessionV1,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let Some(session) = bridge.sessions.session(client) else {
            return;
        };
        if session.host.as_ref() != Some(host) {
            return;
        }
        let tell = !std::mem::replace(&mut session.told, true);
        match event {
            host_session::Event::Created { session_id } => {
                session.id = Some(session_id.clone());
                if tell {
                    client.created(session_id);
                }
            }
            host_session::Event::Restored if tell => client.restored(),
            host_session::Event::Replaced => {
                session.host = None;
                client.replaced();
            }
            _ => {}
        }
    }
}

impl wayland_client::Dispatch<host_handle::XdgToplevelSessionV1, XdgToplevelSessionV1> for Bridge {
    fn event(
        _: &mut Self,
        _: &host_handle::XdgToplevelSessionV1,
        event: host_handle::Event,
        handle: &XdgToplevelSessionV1,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let host_handle::Event::Restored = event {
            if handle.is_alive() {
                handle.restored();
            }
        }
    }
}

wayland_client::delegate_noop!(Bridge: ignore porthole_protocols::session::client::xdg_session_manager_v1::XdgSessionManagerV1);
