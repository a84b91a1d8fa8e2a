//! smithay's [`Window`] as the shell sees it: an xdg toplevel, configured through its pending
//! state.

use smithay::desktop::Window;
use smithay::output::Output;
use smithay::reexports::wayland_server::protocol::wl_output::WlOutput;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::user_data::UserDataMap;
use smithay::wayland::compositor::with_states;
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::{ToplevelState, XdgToplevelSurfaceData};

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
            t.send_pending_configure();
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
