//! What faces the container's X server: its display socket and the Xwayland behind it, and the
//! X11 windows the bridge mirrors on the host.

pub mod display;
pub mod mirror;
pub mod wm;
pub mod xwayland;
