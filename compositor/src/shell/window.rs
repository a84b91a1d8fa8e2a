//! smithay's [`Window`] as the shell sees it: an xdg toplevel, configured through its pending
//! state.

use smithay::desktop::Window;
use smithay::output::Output;
use smithay::reexports::wayland_server::protocol::wl_output::WlOutput;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::user_data::UserDataMap;
use smithay::wayland::compositor::with_states;
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::{
    ToplevelState, ToplevelSurface, XdgPopupSurfaceData, XdgToplevelSurfaceData,
};

use super::ShellWindow;

impl ShellWindow for Window {
    fn user_data(&self) -> &UserDataMap {
        Window::user_data(self)
    }

    fn is_transient_for(&self, parent: &Self) -> bool {
        let Some(of) = self.toplevel().and_then(|t| t.parent()) else {
            return false;
        };
        parent.wl_surface().is_some_and(|p| *p == of)
    }

    fn current_state(&self) -> ToplevelState {
        self.toplevel()
            .map(|t| t.current_state())
            .unwrap_or_default()
    }

    fn with_pending_state<T>(&self, f: impl FnOnce(&mut ToplevelState) -> T) -> T {
        match self.toplevel() {
            Some(t) => t.with_pending_state(f),
            None => f(&mut ToplevelState::default()),
        }
    }

    fn initial_configure_sent(&self) -> bool {
        self.toplevel()
            .is_some_and(|t| t.is_initial_configure_sent())
    }

    fn reset_initial_configure(&self) {
        if let Some(t) = self.toplevel() {
            t.reset_initial_configure_sent();
        }
    }

    fn send_pending_configure(&self) {
        if let Some(t) = self.toplevel() {
            send_configure_bounded(t);
        }
    }

    fn set_activated(&self, activated: bool) {
        Window::set_activated(self, activated);
    }

    fn client_output(&self, output: &Output) -> Option<WlOutput> {
        let client = self.toplevel()?.wl_surface().client()?;
        output.client_outputs(&client).next()
    }
}

/// Configures a toplevel or popup may have sent and not yet acknowledged. smithay keeps each
/// one until the client acknowledges it or a later one, so a client that asks for state changes
/// and never acknowledges would make that list grow without end.
pub const MAX_PENDING_CONFIGURES: usize = 16;

/// Sends a toplevel its pending state, unless it has [`MAX_PENDING_CONFIGURES`] unacknowledged:
/// then the change waits for its next acknowledgement and goes out with any later ones as one
/// configure ([`configure_after_ack`]). A client that is only slow loses nothing.
pub fn send_configure_bounded(toplevel: &ToplevelSurface) {
    if pending_configures(toplevel.wl_surface()) < MAX_PENDING_CONFIGURES {
        toplevel.send_pending_configure();
    }
}

/// After a toplevel acknowledged a configure: sends what [`send_configure_bounded`] held back.
pub fn configure_after_ack(toplevel: &ToplevelSurface) {
    if toplevel.is_initial_configure_sent() && toplevel.has_pending_changes() {
        send_configure_bounded(toplevel);
    }
}

/// How many configures `surface`, a toplevel or popup, has not yet acknowledged.
pub fn pending_configures(surface: &WlSurface) -> usize {
    with_states(surface, |states| {
        if let Some(data) = states.data_map.get::<XdgToplevelSurfaceData>() {
            return data.lock().map_or(0, |d| d.pending_configures().len());
        }
        if let Some(data) = states.data_map.get::<XdgPopupSurfaceData>() {
            return data.lock().map_or(0, |d| d.pending_configures().len());
        }
        0
    })
}

/// Title and app_id of a toplevel.
pub fn title_and_app_id(window: &Window) -> (String, String) {
    let Some(toplevel) = window.toplevel() else {
        return Default::default();
    };
    with_states(toplevel.wl_surface(), |states| {
        states
            .data_map
            .get::<XdgToplevelSurfaceData>()
            .and_then(|d| d.lock().ok())
            .map(|d| {
                (
                    d.title.clone().unwrap_or_default(),
                    d.app_id.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    })
}

impl super::Shell<Window> {
    /// The window whose toplevel surface is `surface`.
    pub fn window_for_surface(
        &self,
        surface: &smithay::reexports::wayland_server::protocol::wl_surface::WlSurface,
    ) -> Option<Window> {
        self.find(|w| w.wl_surface().as_deref() == Some(surface))
    }
}
