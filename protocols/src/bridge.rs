//! `porthole_bridge_v1` (protocols/porthole-bridge-v1.xml): how the compositor and a checkpointable
//! container's bridge hand its windows over across a checkpoint. Server side for the compositor
//! (feature `server`), client side for the bridge (feature `client`).

#![allow(missing_docs, clippy::all)]

#[cfg(feature = "client")]
pub mod client {
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_client;
    use wayland_client::protocol::*;

    pub mod __interfaces {
        use wayland_client::backend as wayland_backend;
        use wayland_client::protocol::__interfaces::*;
        wayland_scanner::generate_interfaces!("porthole-bridge-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_client_code!("porthole-bridge-v1.xml");
}

#[cfg(feature = "server")]
pub mod server {
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_server;
    use wayland_server::protocol::*;

    pub mod __interfaces {
        use wayland_server::backend as wayland_backend;
        use wayland_server::protocol::__interfaces::*;
        wayland_scanner::generate_interfaces!("porthole-bridge-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_server_code!("porthole-bridge-v1.xml");
}
