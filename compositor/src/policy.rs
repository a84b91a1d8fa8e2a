//! What a client may bind, decided only from the container it connected through.
//!
//! Every global Porthole offers passes through [`client_may_bind`]: smithay modules with a filter
//! closure get it as their filter; the others get a hand-written `GlobalDispatch` (the
//! `policy_global!` macro of `handlers/`) whose `can_view` asks it, so a hidden global is neither
//! announced nor bindable (binding it anyway is a protocol error raised by wayland-server).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use smithay::reexports::calloop::channel;
use smithay::reexports::wayland_server::backend::{ClientData, ClientId, DisconnectReason};
use smithay::reexports::wayland_server::Client;
use smithay::wayland::compositor::CompositorClientState;
use tracing::info;

/// Globals every container profile but a custom one gets: what ordinary desktop apps need.
pub const DESKTOP_GLOBALS: &[&str] = &[
    "wl_compositor",
    "wl_subcompositor",
    "wl_shm",
    "xdg_wm_base",
    "zxdg_decoration_manager_v1",
    "wl_seat",
    "wl_output",
    "zxdg_output_manager_v1",
    "wl_data_device_manager",
    "zwp_primary_selection_device_manager_v1",
    "wp_viewporter",
    "wp_single_pixel_buffer_manager_v1",
    "wp_presentation",
    "wp_fractional_scale_manager_v1",
    "wp_cursor_shape_manager_v1",
    "xdg_activation_v1",
    "xdg_session_manager_v1",
    // GPU buffers, offered where the backend can import them (drm).
    "zwp_linux_dmabuf_v1",
];

/// Globals that reach beyond a client's own windows: only trusted clients see them. Some are not
/// offered by Porthole yet; they are listed so that a custom profile naming them is understood.
pub const PRIVILEGED_GLOBALS: &[&str] = &[
    "zwlr_screencopy_manager_v1",
    "ext_image_copy_capture_manager_v1",
    "ext_output_image_capture_source_manager_v1",
    "zwlr_data_control_manager_v1",
    "ext_data_control_manager_v1",
    "zwp_virtual_keyboard_manager_v1",
    "zwlr_virtual_pointer_manager_v1",
    "zwp_input_method_manager_v2",
    "zwlr_layer_shell_v1",
    "ext_session_lock_manager_v1",
    "ext_foreign_toplevel_list_v1",
    "zwlr_foreign_toplevel_manager_v1",
    "zwlr_output_manager_v1",
    "wp_security_context_manager_v1",
    "zwp_keyboard_shortcuts_inhibit_manager_v1",
];

/// Privileged globals that only the host's clients see, whatever a container's profile says:
/// data-control is offered every selection of every container (smithay sends it each one), so in
/// a container it would read what other containers copied.
pub const HOST_ONLY_GLOBALS: &[&str] = &[
    "zwlr_data_control_manager_v1",
    "ext_data_control_manager_v1",
];

/// Porthole's own protocol for X11 bridges, seen by clients of containers with `x11 = true` whose
/// profile allows it (every built-in profile does; a custom one must list it).
pub const X11_GLOBAL: &str = "porthole_x11_manager_v1";

/// Porthole's own protocol for the bridge in front of a container (`porthole run --bridged` or
/// `--checkpointable`, `porthole bridge`), seen by clients of the containers Porthole made, with
/// X11 or without, whose profile allows it (every built-in profile does).
pub const BRIDGE_GLOBAL: &str = "porthole_bridge_v1";

/// Whether an interface name is one Porthole knows (for validating custom profiles).
pub fn is_known_global(name: &str) -> bool {
    DESKTOP_GLOBALS.contains(&name)
        || PRIVILEGED_GLOBALS.contains(&name)
        || name == X11_GLOBAL
        || name == BRIDGE_GLOBAL
}

/// A container's profile: which globals its clients may bind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Profile {
    /// Everything the compositor offers.
    Trusted,
    /// The ordinary desktop protocols only.
    #[default]
    Untrusted,
    /// Untrusted, and its toplevels are fullscreen on the container's output.
    Kiosk,
    /// Exactly these interfaces.
    Custom {
        /// The profile's name in the configuration.
        name: String,
        /// Allowed interface names.
        allow: Arc<BTreeSet<String>>,
    },
}

impl Profile {
    /// Whether clients with this profile may bind `interface`.
    pub fn allows(&self, interface: &str) -> bool {
        match self {
            Profile::Trusted => true,
            Profile::Untrusted | Profile::Kiosk => !PRIVILEGED_GLOBALS.contains(&interface),
            Profile::Custom { allow, .. } => allow.contains(interface),
        }
    }

    /// The profile's name as the configuration and `porthole containers` write it.
    pub fn name(&self) -> &str {
        match self {
            Profile::Trusted => "trusted",
            Profile::Untrusted => "untrusted",
            Profile::Kiosk => "kiosk",
            Profile::Custom { name, .. } => name,
        }
    }

    /// Whether this profile may see privileged globals at all (used for the host socket).
    pub fn is_trusted(&self) -> bool {
        matches!(self, Profile::Trusted)
    }
}

/// What every Wayland client carries: where it came from. Policy is decided from this alone.
#[derive(Debug, Default)]
pub struct ClientState {
    /// smithay's per-client compositor bookkeeping.
    pub compositor_state: CompositorClientState,
    /// The container this client connected through; `host` for the trusted host socket.
    pub container: String,
    /// What the container's clients may bind.
    pub profile: Profile,
    /// Its container has X11: it may follow its toplevels' places (porthole_x11_v1).
    pub x11: bool,
    /// Its container is one Porthole made (configured, added or run), which a bridge may stand in
    /// front of (porthole_bridge_v1); not the host's, nor a security context's.
    pub bridgeable: bool,
    /// Tells the event loop when the client goes away (`disconnected` cannot reach the state).
    pub gone: Option<channel::Sender<ClientGone>>,
    /// Its process id, read when it connected; none for a process outside the compositor's pid
    /// namespace (wayland-backend's `get_credentials` panics on those, so it is not used).
    pub pid: Option<u32>,
    /// Set once its going away was reported: libwayland and [`crate::clients`] may both see it.
    pub(crate) reported: AtomicBool,
    /// Why Porthole cut it off, if it did.
    pub(crate) error: Mutex<Option<String>>,
}

impl ClientState {
    /// Remembers why the client is being cut off, for the report that it is gone.
    pub fn set_error(&self, message: &str) {
        if let Ok(mut error) = self.error.lock() {
            error.get_or_insert_with(|| message.to_string());
        }
    }

    /// Whether Porthole cut the client off.
    pub fn has_error(&self) -> bool {
        self.error.lock().map(|e| e.is_some()).unwrap_or(true)
    }

    /// Tells the event loop that the client is gone, once; `reason` unless Porthole cut it off
    /// for one of its own.
    pub fn report_gone(&self, id: ClientId, reason: &str) {
        if self.reported.swap(true, Ordering::AcqRel) {
            return;
        }
        let reason = match self.error.lock().ok().and_then(|e| e.clone()) {
            Some(error) => format!("protocol error: {error}"),
            None => reason.to_string(),
        };
        info!(container = %self.container, ?id, reason, "client disconnected");
        if let Some(gone) = &self.gone {
            let _ = gone.send(ClientGone {
                id,
                container: self.container.clone(),
                reason,
            });
        }
    }
}

/// A client went away.
#[derive(Debug)]
pub struct ClientGone {
    /// The client.
    pub id: ClientId,
    /// Its container.
    pub container: String,
    /// Why, for people.
    pub reason: String,
}

impl ClientData for ClientState {
    fn initialized(&self, _client_id: ClientId) {}
    fn disconnected(&self, client_id: ClientId, reason: DisconnectReason) {
        let reason = match reason {
            DisconnectReason::ConnectionClosed => "connection closed".to_string(),
            DisconnectReason::ProtocolError(err) => format!("protocol error: {err}"),
        };
        self.report_gone(client_id, &reason);
    }
}

/// The name of the container of the trusted host socket.
pub const HOST_CONTAINER: &str = "host";

/// The container a client came from; `host` for clients Porthole did not tag (there are none).
pub fn container_of(client: &Client) -> String {
    client
        .get_data::<ClientState>()
        .map(|d| d.container.clone())
        .unwrap_or_else(|| HOST_CONTAINER.into())
}

/// Whether `client` may see and bind `interface`, from the container tag alone. Clients Porthole
/// did not tag (there should be none) see only the desktop globals.
pub fn client_may_bind(client: &Client, interface: &str) -> bool {
    match client.get_data::<ClientState>() {
        Some(data) if HOST_ONLY_GLOBALS.contains(&interface) => {
            data.container == HOST_CONTAINER && data.profile.allows(interface)
        }
        Some(data) => data.profile.allows(interface),
        None => DESKTOP_GLOBALS.contains(&interface),
    }
}

/// Whether `client` may follow its X11 toplevels' places (porthole_x11_v1): its container has
/// X11 and its profile allows the global.
pub fn may_follow_x11(client: &Client) -> bool {
    client
        .get_data::<ClientState>()
        .is_some_and(|c| c.x11 && c.profile.allows(X11_GLOBAL))
}

/// Whether `client` may be its container's bridge (porthole_bridge_v1): see [`BRIDGE_GLOBAL`].
pub fn may_be_bridge(client: &Client) -> bool {
    client
        .get_data::<ClientState>()
        .is_some_and(|c| c.bridgeable && c.profile.allows(BRIDGE_GLOBAL))
}

/// A filter closure for smithay modules that take one.
pub fn filter_for(interface: &'static str) -> impl Fn(&Client) -> bool + Send + Sync + 'static {
    move |client| client_may_bind(client, interface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_sees_the_desktop_and_nothing_privileged() {
        for g in DESKTOP_GLOBALS {
            assert!(Profile::Untrusted.allows(g), "{g}");
        }
        for g in PRIVILEGED_GLOBALS {
            assert!(!Profile::Untrusted.allows(g), "{g}");
            assert!(!Profile::Kiosk.allows(g), "{g}");
            assert!(Profile::Trusted.allows(g), "{g}");
        }
    }

    #[test]
    fn custom_profile_allows_exactly_its_list() {
        let p = Profile::Custom {
            name: "viewer".into(),
            allow: Arc::new(["wl_compositor".to_string(), "xdg_wm_base".to_string()].into()),
        };
        assert!(p.allows("wl_compositor"));
        assert!(!p.allows("wl_data_device_manager"));
        assert!(!p.allows("zwlr_data_control_manager_v1"));
    }
}
