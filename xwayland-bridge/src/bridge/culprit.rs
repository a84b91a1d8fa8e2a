//! A protocol error from the compositor, when the bridge serves the container's Wayland socket.
//! Every client's windows reach the compositor over the bridge's one connection, so an error
//! one client caused (a window past the container's limits, say) ends that connection for all.
//! Reconnecting as after a crash would forward the same windows and meet the same error, over and
//! over. Instead the client the error names pays for it, as it would talking to the compositor
//! directly: it gets the error itself, or for an X11 window, the container's Xwayland goes, as
//! it does without the bridge in front. The others come back after the reconnection.

use std::time::{Duration, Instant};

use smithay::reexports::wayland_server::{Client, Resource as _};
use smithay::wayland::shell::xdg::{PopupSurface, ToplevelSurface};
use smithay_client_toolkit::shell::xdg::popup::Popup;
use smithay_client_toolkit::shell::xdg::window::Window;
use smithay_client_toolkit::shell::xdg::XdgSurface as _;
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::warn;
use wayland_client::backend::protocol::ProtocolError;
use wayland_client::backend::ObjectId;
use wayland_client::Proxy as _;

use super::Bridge;
use crate::x11::mirror::Role;

/// A second protocol error this soon after the first is not pinned on anyone: whatever the
/// bridge forwards again keeps failing, and every client goes.
const REPEATED: Duration = Duration::from_secs(2);

/// Who a protocol error is about.
enum Culprit {
    /// A native client's toplevel, popup or subsurface.
    Toplevel(ToplevelSurface),
    Popup(PopupSurface),
    Subsurface(Client),
    /// An X11 window.
    X11,
    /// Nothing the bridge can tell.
    Unknown,
}

impl Bridge {
    /// Makes the client the compositor's protocol error `err` names pay for it (see the module's
    /// documentation), before the bridge lets go of the connection and takes the others back.
    pub(super) fn blame(&mut self, err: &ProtocolError) {
        let repeated = self
            .last_protocol_error
            .replace(Instant::now())
            .is_some_and(|at| at.elapsed() < REPEATED);
        let culprit = if repeated {
            Culprit::Unknown
        } else {
            self.culprit(err)
        };
        // libwayland does not pass the text on: the compositor's log and `porthole events`
        // (quota_hit) have it.
        let message = match err.message.as_str() {
            "" => format!(
                "the compositor refused {}@{} (error {}): a limit of the container, most likely \
                 (see `porthole events`)",
                err.object_interface, err.object_id, err.code
            ),
            text => format!(
                "the compositor refused {}@{}: {text}",
                err.object_interface, err.object_id
            ),
        };
        // The error goes on the client's object of the interface the compositor named, where
        // its code means the same.
        match culprit {
            Culprit::Toplevel(toplevel) => {
                warn!(%message, "cutting off the client whose window the compositor refused");
                match err.object_interface.as_str() {
                    "xdg_toplevel" => toplevel.xdg_toplevel().post_error(err.code, message),
                    _ => toplevel.wl_surface().post_error(err.code, message),
                }
            }
            Culprit::Popup(popup) => {
                warn!(%message, "cutting off the client whose menu the compositor refused");
                match err.object_interface.as_str() {
                    "xdg_popup" => popup.xdg_popup().post_error(err.code, message),
                    _ => popup.wl_surface().post_error(err.code, message),
                }
            }
            Culprit::Subsurface(client) => {
                warn!(%message, "cutting off the client whose subsurface the compositor refused");
                self.cut_off(&client, err.code, &message);
            }
            Culprit::X11 => {
                warn!(%message, "stopping Xwayland, whose window the compositor refused");
                self.xwayland_gone();
            }
            Culprit::Unknown => {
                warn!(
                    %message,
                    repeated, "cutting off every client: the error names none of their windows"
                );
                let clients: Vec<Client> = self
                    .natives
                    .iter()
                    .map(|n| n.toplevel.wl_surface())
                    .chain(self.native_popups.iter().map(|p| p.popup.wl_surface()))
                    .filter_map(|s| s.client())
                    .collect();
                for client in clients {
                    self.cut_off(&client, err.code, &message);
                }
                self.xwayland_gone();
            }
        }
    }

    fn culprit(&self, err: &ProtocolError) -> Culprit {
        let named = |ids: &[ObjectId]| {
            ids.iter().any(|id| {
                id.protocol_id() == err.object_id && id.interface().name == err.object_interface
            })
        };
        for native in &self.natives {
            if native.role.as_ref().is_some_and(|w| named(&window_ids(w))) {
                return Culprit::Toplevel(native.toplevel.clone());
            }
        }
        for popup in &self.native_popups {
            if popup.role.as_ref().is_some_and(|p| named(&popup_ids(p))) {
                return Culprit::Popup(popup.popup.clone());
            }
        }
        if let Some(client) = self
            .subsurfaces
            .named_by(|host| named(host))
            .and_then(|s| s.client())
        {
            return Culprit::Subsurface(client);
        }
        let mirrored = self.mirrors.iter().any(|m| match &m.role {
            Some(Role::Toplevel(w)) => named(&window_ids(w)),
            Some(Role::Popup { popup, .. }) => named(&popup_ids(popup)),
            None => false,
        });
        if mirrored {
            Culprit::X11
        } else {
            Culprit::Unknown
        }
    }

    /// Disconnects `client` with the compositor's error, on its display object.
    fn cut_off(&self, client: &Client, code: u32, message: &str) {
        use smithay::reexports::wayland_server::backend::protocol::ProtocolError as Error;
        client.kill(
            &self.server.dh,
            Error {
                code,
                object_id: 1,
                object_interface: "wl_display".into(),
                message: message.into(),
            },
        );
    }
}

/// The host objects of a forwarded toplevel.
fn window_ids(window: &Window) -> [ObjectId; 3] {
    [
        window.xdg_toplevel().id(),
        window.xdg_surface().id(),
        window.wl_surface().id(),
    ]
}

/// The host objects of a forwarded popup.
fn popup_ids(popup: &Popup) -> [ObjectId; 3] {
    [
        popup.xdg_popup().id(),
        popup.xdg_surface().id(),
        popup.wl_surface().id(),
    ]
}
