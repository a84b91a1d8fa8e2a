//! porthole_bridge_v1 (protocols/porthole-bridge-v1.xml): a checkpointable container's bridge
//! names each of its toplevels with a token (its slot), and is told to let go of its connection
//! before a checkpoint. Seen by clients of containers with `x11 = true` whose profile allows it.

use porthole_protocols::bridge::server::porthole_bridge_v1::{self, PortholeBridgeV1};
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource,
};

use crate::checkpoint::placeholder::valid_token;
use crate::policy::ClientState;
use crate::state::State;

impl GlobalDispatch<PortholeBridgeV1, ()> for State {
    fn bind(
        state: &mut Self,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<PortholeBridgeV1>,
        _global_data: &(),
        data_init: &mut DataInit<'_, Self>,
    ) {
        let bridge = data_init.init(resource, ());
        state.comp.checkpoints.bridges.retain(|b| b.is_alive());
        state.comp.checkpoints.bridges.push(bridge);
    }

    fn can_view(client: Client, _global_data: &()) -> bool {
        client
            .get_data::<ClientState>()
            .is_some_and(|c| c.x11 && c.profile.allows(crate::policy::BRIDGE_GLOBAL))
    }
}

impl Dispatch<PortholeBridgeV1, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        resource: &PortholeBridgeV1,
        request: porthole_bridge_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, Self>,
    ) {
        match request {
            porthole_bridge_v1::Request::SetSlot { surface, token } => {
                if !valid_token(&token) {
                    resource.post_error(
                        0u32,
                        "a slot token is 1 to 64 characters of A-Z, a-z, 0-9, - and _",
                    );
                    return;
                }
                let Some(window) = state.comp.shell.window_for_surface(&surface) else {
                    resource.post_error(0u32, "set_slot names a surface that is no toplevel");
                    return;
                };
                let container = crate::policy::container_of(client);
                crate::checkpoint::set_slot(&window, token.clone());
                // The toplevel's first configure already has its old size.
                if let (Some(p), Some(toplevel)) = (
                    state
                        .comp
                        .checkpoints
                        .placeholders
                        .iter()
                        .find(|p| p.container == container && p.token == token),
                    window.toplevel(),
                ) {
                    toplevel.with_pending_state(|s| s.size = Some(p.geometry.size));
                }
            }
            porthole_bridge_v1::Request::Destroy => {
                state.comp.checkpoints.bridges.retain(|b| b != resource);
            }
            _ => {}
        }
    }
}
