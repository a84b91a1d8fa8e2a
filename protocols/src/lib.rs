//! Porthole's own Wayland protocols, generated from the XML files beside this crate, with the
//! client side (feature `client`) for the bridge and tests and the server side (feature `server`)
//! for the compositor and the bridge, which serves a checkpointable container's native clients.
//!
//! It also holds the rules both servers enforce the same way ([`limits`], [`session`]'s rules),
//! so that a client the bridge forwards never breaks a rule the compositor would cut the whole
//! container off for.

#[cfg(any(feature = "client", feature = "server"))]
pub mod bridge;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
mod new_id;
#[cfg(feature = "server")]
pub use new_id::new_object_protocol_id;
pub mod session;
#[cfg(any(feature = "client", feature = "server"))]
pub mod x11;
