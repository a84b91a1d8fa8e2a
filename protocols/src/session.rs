//! `xdg_session_management_v1` (protocols/xdg-session-management-v1.xml, the interfaces of the
//! wayland-protocols staging protocol): apps name their toplevels in a session and get their
//! places back when they start again. Server side for the compositor (feature `server`), client
//! side for tests (feature `client`).

/// The longest toplevel name Porthole keeps in a session, in bytes: a longer one is an
/// `invalid_name` error. (Names are stored, and a client could otherwise make the compositor
/// write 4 KiB names by the thousand.) The bridge checks it before the compositor would.
pub const MAX_NAME_BYTES: usize = 256;

/// What an `invalid_name` error says.
pub const NAME_RULE: &str = "a toplevel's name in a session is 1 to 256 bytes";

/// Whether `name` may name a toplevel in a session.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_BYTES
}

#[cfg(feature = "client")]
pub mod client {
    #![allow(missing_docs, clippy::all)]
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_client;
    use wayland_client::protocol::*;
    use wayland_protocols::xdg::shell::client::*;

    pub mod __interfaces {
        use wayland_client::backend as wayland_backend;
        use wayland_client::protocol::__interfaces::*;
        use wayland_protocols::xdg::shell::client::__interfaces::*;
        wayland_scanner::generate_interfaces!("xdg-session-management-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_client_code!("xdg-session-management-v1.xml");
}

#[cfg(feature = "server")]
pub mod server {
    #![allow(missing_docs, clippy::all)]
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_protocols::xdg::shell::server::*;
    use wayland_server;
    use wayland_server::protocol::*;

    pub mod __interfaces {
        use wayland_protocols::xdg::shell::server::__interfaces::*;
        use wayland_server::backend as wayland_backend;
        use wayland_server::protocol::__interfaces::*;
        wayland_scanner::generate_interfaces!("xdg-session-management-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_server_code!("xdg-session-management-v1.xml");
}
