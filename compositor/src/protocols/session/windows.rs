//! Which window is in which session, and where it is: the compositor's side of
//! xdg-session-management, recording places as windows close and sessions end, and giving a
//! restored toplevel its stored size and place.

use std::time::Duration;

use porthole_protocols::session::server::xdg_toplevel_session_v1::XdgToplevelSessionV1;
use porthole_protocols::session::{check_add_toplevel, check_rename, AddToplevel, Broken};
use smithay::desktop::Window;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::{self, XdgToplevel};
use smithay::reexports::wayland_server::Resource;
use tracing::{debug, warn};

use super::{Link, NewLink, Place};
use crate::shell::{container_name, with_data, ShellWindow};
use crate::state::Porthole;

/// How long changed sessions wait before they are written.
const WRITE_DELAY: Duration = Duration::from_millis(500);

/// A window's place in a session, in the window's data.
fn with_link<R>(window: &Window, f: impl FnOnce(&mut Option<Link>) -> R) -> R {
    with_data(window, f)
}

impl Porthole {
    /// Writes the sessions that changed in a moment: writes wait and come together, so that a
    /// client flooding session requests costs no more than one write a moment.
    pub fn write_sessions_soon(&mut self) {
        if !self.sessions.store.is_dirty() || self.sessions.write_due {
            return;
        }
        self.sessions.write_due = true;
        let timer =
            self.loop_handle
                .insert_source(Timer::from_duration(WRITE_DELAY), |_, _, state| {
                    state.comp.sessions.write_due = false;
                    state.comp.sessions.store.write_changed();
                    TimeoutAction::Drop
                });
        if let Err(err) = timer {
            warn!(%err, "cannot schedule writing the sessions; writing them now");
            self.sessions.write_due = false;
            self.sessions.store.write_changed();
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
            .store
            .set_place(&container, &link.session, &link.name, place);
        self.write_sessions_soon();
    }

    /// Records every session window's place and writes the sessions (the compositor stops).
    pub fn record_session_places(&mut self) {
        let windows: Vec<Window> = self.shell.all_windows().cloned().collect();
        for window in windows {
            self.record_session_place(&window);
        }
        self.sessions.store.write_changed();
    }

    /// Unlinks the windows of a session (its object went inert), recording their places first
    /// unless the session was removed.
    pub(crate) fn unlink_session(&mut self, container: &str, id: &str, record: bool) {
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

    /// Links a toplevel into a session, restoring its place when asked to; or the rule broken.
    pub(crate) fn link_toplevel(&mut self, link: NewLink<'_>) -> Result<(), Broken> {
        let Some(window) = self.window_of_toplevel(link.toplevel) else {
            return Ok(());
        };
        check_add_toplevel(&AddToplevel {
            name: link.name,
            restore: link.restore,
            in_a_session: with_link(&window, |m| m.is_some()),
            name_taken: self.session_name_taken(link.container, &link.session, link.name),
            committed: window.initial_configure_sent(),
        })?;
        let restore = if link.restore {
            self.sessions
                .store
                .place(link.container, &link.session, link.name)
        } else {
            None
        };
        debug!(container = %link.container, session = %link.session, name = %link.name, restored = restore.is_some(), "toplevel in a session");
        with_link(&window, |m| {
            *m = Some(Link {
                session: link.session,
                name: link.name.to_string(),
                handle: link.handle,
                restore,
            })
        });
        Ok(())
    }

    /// The toplevel named `name` leaves session `id` of `container`.
    pub(crate) fn unlink_toplevel(&mut self, container: &str, id: &str, name: &str) {
        for window in self.session_windows(container, id) {
            with_link(&window, |m| {
                if m.as_ref().is_some_and(|l| l.name == name) {
                    *m = None;
                }
            });
        }
    }

    /// The window a toplevel session handle stands for.
    fn window_of_handle(&self, handle: &XdgToplevelSessionV1) -> Option<Window> {
        self.shell
            .find(|w| with_link(w, |m| m.as_ref().is_some_and(|l| &l.handle == handle)))
    }

    /// A toplevel's handle was destroyed: its place is recorded, and it leaves its session.
    pub(crate) fn session_handle_destroyed(&mut self, handle: &XdgToplevelSessionV1) {
        if let Some(window) = self.window_of_handle(handle) {
            self.record_session_place(&window);
            with_link(&window, |m| *m = None);
        }
    }

    /// A toplevel's handle renames it in its session; or the rule that broke.
    pub(crate) fn rename_session_toplevel(
        &mut self,
        handle: &XdgToplevelSessionV1,
        container: &str,
        id: &str,
        name: &str,
    ) -> Result<(), Broken> {
        let Some(window) = self.window_of_handle(handle) else {
            return Ok(());
        };
        check_rename(name, self.session_name_taken(container, id, name))?;
        let old = with_link(&window, |m| {
            let link = m.as_mut()?;
            Some(std::mem::replace(&mut link.name, name.to_string()))
        });
        if let Some(old) = old {
            self.sessions
                .store
                .rename_toplevel(container, id, &old, name);
        }
        self.sessions.store.changed(container);
        self.write_sessions_soon();
        Ok(())
    }
}
