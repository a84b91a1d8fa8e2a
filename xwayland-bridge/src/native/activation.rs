//! xdg-activation for native clients. A client asking to activate one of its windows is passed on
//! to the compositor, which decides by its focus rules as for any client of the container:
//!
//! - a token the client made here names the bridge's serial of an input event; the bridge asks
//!   the compositor for a token naming the host serial of that event (one the bridge never sent
//!   names none, so a forged serial gains nothing), then activates the window's host surface;
//! - a token from outside, such as the one `porthole run` gives its command in
//!   `XDG_ACTIVATION_TOKEN`, is the compositor's own: it is passed on as it is.

use std::collections::VecDeque;

use smithay::reexports::wayland_protocols::xdg::activation::v1::server::xdg_activation_v1;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{Client, DataInit, Dispatch, DisplayHandle};
use smithay::utils::Serial;
use smithay::wayland::xdg_activation::{
    XdgActivationHandler, XdgActivationState, XdgActivationToken, XdgActivationTokenData,
};
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::debug;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::{Connection, QueueHandle};
use wayland_protocols::xdg::activation::v1::client::xdg_activation_token_v1::{
    self as host_token, XdgActivationTokenV1 as HostToken,
};
use wayland_protocols::xdg::activation::v1::client::xdg_activation_v1::XdgActivationV1 as HostActivation;

use crate::bridge::Bridge;

/// How many of the last input events the bridge remembers the host serials of.
const SERIALS: usize = 32;

/// The bridge's serials of the input events it passed on, with the host's serial of each.
#[derive(Debug, Default)]
pub struct InputSerials(VecDeque<(Serial, u32)>);

impl InputSerials {
    /// The bridge passed on the host's input event `host` with its own serial `ours`.
    pub fn passed(&mut self, ours: Serial, host: u32) {
        if self.0.len() == SERIALS {
            self.0.pop_front();
        }
        self.0.push_back((ours, host));
    }

    /// The host's serial of the input event the bridge sent as `ours`, if it did.
    pub fn host_serial(&self, ours: Serial) -> Option<u32> {
        self.0.iter().find(|(s, _)| *s == ours).map(|(_, h)| *h)
    }
}

impl Bridge {
    /// The host surface of a native toplevel's surface.
    fn host_surface_of_native(&self, surface: &WlSurface) -> Option<HostSurface> {
        self.natives
            .iter()
            .find(|n| n.toplevel.wl_surface() == surface)
            .and_then(|n| n.role.as_ref())
            .map(|role| role.wl_surface().clone())
    }

    /// Asks the compositor to activate `surface`'s window, with a token it mints for the host
    /// input event `serial`.
    fn activate_with_new_token(&mut self, surface: &WlSurface, serial: Option<u32>) {
        let Some(host_surface) = self.host_surface_of_native(surface) else {
            return;
        };
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let Some(activation) = &host.activation else {
            return;
        };
        let token = activation.get_activation_token(&host.qh, host_surface.clone());
        if let (Some(serial), Some(seat)) = (serial, &host.seat) {
            token.set_serial(serial, seat);
        }
        token.set_surface(&host_surface);
        token.commit();
    }

    /// Asks the compositor to activate `surface`'s window with its own `token`.
    fn activate_with(&mut self, surface: &WlSurface, token: String) {
        let Some(host_surface) = self.host_surface_of_native(surface) else {
            return;
        };
        if let Some(activation) = self.host.as_ref().and_then(|h| h.activation.as_ref()) {
            activation.activate(token, &host_surface);
        }
    }
}

impl XdgActivationHandler for Bridge {
    fn activation_state(&mut self) -> &mut XdgActivationState {
        self.server
            .activation
            .as_mut()
            .expect("xdg_activation_v1 is offered only with its state")
    }

    fn token_created(&mut self, _token: XdgActivationToken, _data: XdgActivationTokenData) -> bool {
        // The compositor decides when the token is used.
        true
    }

    fn request_activation(
        &mut self,
        token: XdgActivationToken,
        data: XdgActivationTokenData,
        surface: WlSurface,
    ) {
        self.activation_state().remove_token(&token);
        let serial = data.serial.and_then(|(serial, _)| {
            let host = self.host.as_ref()?;
            host.input_serials.host_serial(serial)
        });
        debug!(?serial, "a native client asks to activate its window");
        self.activate_with_new_token(&surface, serial);
    }
}

// xdg_activation_v1 passes through here first: a token the bridge did not make is the
// compositor's, and goes to it as it is.
impl Dispatch<xdg_activation_v1::XdgActivationV1, ()> for Bridge {
    fn request(
        state: &mut Self,
        client: &Client,
        resource: &xdg_activation_v1::XdgActivationV1,
        request: xdg_activation_v1::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if let xdg_activation_v1::Request::Activate { token, surface } = &request {
            let ours = XdgActivationToken::from(token.clone());
            if state.activation_state().data_for_token(&ours).is_none() {
                state.activate_with(surface, token.clone());
                return;
            }
        }
        <XdgActivationState as Dispatch<xdg_activation_v1::XdgActivationV1, (), Self>>::request(
            state, client, resource, request, data, dh, data_init,
        );
    }
}

smithay::reexports::wayland_server::delegate_dispatch!(Bridge: [
    smithay::reexports::wayland_protocols::xdg::activation::v1::server::xdg_activation_token_v1::XdgActivationTokenV1:
        smithay::wayland::xdg_activation::ActivationTokenData
] => XdgActivationState);
smithay::reexports::wayland_server::delegate_global_dispatch!(Bridge: [
    xdg_activation_v1::XdgActivationV1: ()
] => XdgActivationState);

// The host side: the tokens the bridge asks the compositor for, each for one host surface.
impl wayland_client::Dispatch<HostToken, HostSurface> for Bridge {
    fn event(
        state: &mut Self,
        token: &HostToken,
        event: host_token::Event,
        surface: &HostSurface,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let host_token::Event::Done { token: text } = event {
            if let Some(activation) = state.host.as_ref().and_then(|h| h.activation.as_ref()) {
                activation.activate(text, surface);
            }
            token.destroy();
        }
    }
}

wayland_client::delegate_noop!(Bridge: ignore HostActivation);
