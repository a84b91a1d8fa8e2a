//! porthole_bridge_v1: a checkpointable container's bridge names its toplevels' slots.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Client;

use crate::delegate_bridge;
use crate::protocols::bridge::{BridgeHandler, BridgeState};
use crate::state::State;

impl BridgeHandler for State {
    fn bridge_state(&mut self) -> &mut BridgeState {
        &mut self.comp.checkpoints.bridges
    }

    fn set_slot(
        &mut self,
        client: &Client,
        surface: &WlSurface,
        token: String,
    ) -> Result<(), &'static str> {
        self.comp.name_slot(client, surface, token)
    }
}

delegate_bridge!(State);
