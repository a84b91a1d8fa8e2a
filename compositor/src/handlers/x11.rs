//! porthole_x11_v1: where an X11 bridge's toplevels are.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;

use crate::delegate_x11;
use crate::protocols::x11::{X11Handler, X11State};
use crate::state::State;

impl X11Handler for State {
    fn x11_state(&mut self) -> &mut X11State {
        &mut self.comp.x11
    }

    fn x11_place(&self, surface: &WlSurface) -> Option<(i32, i32)> {
        self.comp.x11_place(surface)
    }
}

delegate_x11!(State);
