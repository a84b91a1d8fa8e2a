//! porthole_bridge_v1 (protocols/porthole-bridge-v1.xml): a checkpointable container's bridge
//! names each of its toplevels with a token (its slot), and is told to let go of its connection
//! before a checkpoint. Whom the global is offered to is the filter's to say (policy: containers
//! with `x11 = true` whose profile allows it); what a slot means, the [`BridgeHandler`]'s.

use std::collections::HashMap;

use porthole_protocols::bridge::server::porthole_bridge_v1::{self, PortholeBridgeV1};
use smithay::reexports::wayland_server::backend::ClientId;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource,
};

use super::Filter;

/// What the compositor does for porthole_bridge_v1.
pub trait BridgeHandler {
    /// The protocol's state.
    fn bridge_state(&mut self) -> &mut BridgeState;
    /// `client`'s bridge named the toplevel of `surface` `token`; the error says why it could
    /// not be.
    fn set_slot(
        &mut self,
        client: &Client,
        surface: &WlSurface,
        token: String,
    ) -> Result<(), &'static str>;
}

/// Whether a token can name a slot: 1 to 64 of A-Z, a-z, 0-9, - and _ (it names files too).
pub fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The bridges connected: the latest bound by each client, so that binding costs the same
/// however often a client did it before.
#[derive(Debug, Default)]
pub struct BridgeState {
    bridges: HashMap<ClientId, PortholeBridgeV1>,
}

impl BridgeState {
    /// Creates the global, seen by the clients `filter` accepts.
    pub fn new<D>(
        dh: &DisplayHandle,
        filter: impl Fn(&Client) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        D: GlobalDispatch<PortholeBridgeV1, Filter> + 'static,
    {
        dh.create_global::<D, PortholeBridgeV1, _>(1, Filter::new(filter));
        Self::default()
    }

    /// Whether no bridge is connected.
    pub fn is_empty(&self) -> bool {
        self.bridges.is_empty()
    }

    /// The bridge of the first client `of` accepts, if one is connected.
    pub fn find(&self, of: impl Fn(&Client) -> bool) -> Option<PortholeBridgeV1> {
        self.bridges
            .values()
            .find(|b| b.is_alive() && b.client().is_some_and(|c| of(&c)))
            .cloned()
    }
}

impl<D> GlobalDispatch<PortholeBridgeV1, Filter, D> for BridgeState
where
    D: GlobalDispatch<PortholeBridgeV1, Filter>
        + Dispatch<PortholeBridgeV1, ()>
        + BridgeHandler
        + 'static,
{
    fn bind(
        state: &mut D,
        _dh: &DisplayHandle,
        client: &Client,
        resource: New<PortholeBridgeV1>,
        _global_data: &Filter,
        data_init: &mut DataInit<'_, D>,
    ) {
        let bridge = data_init.init(resource, ());
        state.bridge_state().bridges.insert(client.id(), bridge);
    }

    fn can_view(client: Client, global_data: &Filter) -> bool {
        global_data.allows(&client)
    }
}

impl<D> Dispatch<PortholeBridgeV1, (), D> for BridgeState
where
    D: Dispatch<PortholeBridgeV1, ()> + BridgeHandler + 'static,
{
    fn request(
        state: &mut D,
        client: &Client,
        resource: &PortholeBridgeV1,
        request: porthole_bridge_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, D>,
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
                if let Err(message) = state.set_slot(client, &surface, token) {
                    resource.post_error(0u32, message);
                }
            }
            porthole_bridge_v1::Request::Destroy => forget(state, client.id(), resource),
            _ => {}
        }
    }

    fn destroyed(state: &mut D, client: ClientId, resource: &PortholeBridgeV1, _data: &()) {
        forget(state, client, resource);
    }
}

/// Forgets `client`'s bridge if `resource` is the one kept.
fn forget(state: &mut impl BridgeHandler, client: ClientId, resource: &PortholeBridgeV1) {
    let bridges = &mut state.bridge_state().bridges;
    if bridges.get(&client) == Some(resource) {
        bridges.remove(&client);
    }
}

/// Implements the dispatch of porthole_bridge_v1 for `$ty` through [`BridgeState`].
#[macro_export]
macro_rules! delegate_bridge {
    ($ty:ty) => {
        smithay::reexports::wayland_server::delegate_global_dispatch!($ty: [
            porthole_protocols::bridge::server::porthole_bridge_v1::PortholeBridgeV1:
                $crate::protocols::Filter
        ] => $crate::protocols::bridge::BridgeState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            porthole_protocols::bridge::server::porthole_bridge_v1::PortholeBridgeV1: ()
        ] => $crate::protocols::bridge::BridgeState);
    };
}
