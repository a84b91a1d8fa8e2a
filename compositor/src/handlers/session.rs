//! xdg-session-management: apps' toplevels get their places back.

use porthole_protocols::session::server::xdg_toplevel_session_v1::XdgToplevelSessionV1;
use porthole_protocols::session::Broken;

use crate::delegate_session;
use crate::protocols::session::{NewLink, SessionHandler, SessionState};
use crate::state::State;

impl SessionHandler for State {
    fn session_state(&mut self) -> &mut SessionState {
        &mut self.comp.sessions
    }

    fn link_toplevel(&mut self, link: NewLink<'_>) -> Result<(), Broken> {
        self.comp.link_toplevel(link)
    }

    fn unlink_session(&mut self, container: &str, id: &str, record: bool) {
        self.comp.unlink_session(container, id, record);
    }

    fn unlink_toplevel(&mut self, container: &str, id: &str, name: &str) {
        self.comp.unlink_toplevel(container, id, name);
    }

    fn handle_destroyed(&mut self, handle: &XdgToplevelSessionV1) {
        self.comp.session_handle_destroyed(handle);
    }

    fn rename_toplevel(
        &mut self,
        handle: &XdgToplevelSessionV1,
        container: &str,
        id: &str,
        name: &str,
    ) -> Result<(), Broken> {
        self.comp
            .rename_session_toplevel(handle, container, id, name)
    }

    fn sessions_changed(&mut self) {
        self.comp.write_sessions_soon();
    }
}

delegate_session!(State);
