//! porthole_x11_v1: where an X11 bridge's toplevels are.

use crate::delegate_x11;
use crate::protocols::x11::{X11Handler, X11State};
use crate::state::State;

impl X11Handler for State {
    fn x11_state(&mut self) -> &mut X11State {
        &mut self.comp.x11
    }

    fn x11_toplevel_followed(&mut self) {
        self.comp.send_x11_positions();
    }
}

delegate_x11!(State);
