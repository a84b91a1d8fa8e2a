//! Porthole's own protocols and the staging ones smithay does not implement, server side:
//! porthole_x11_v1 and porthole_bridge_v1 for the bridge, xdg-session-management for apps,
//! wlr-screencopy for trusted screenshot tools.

pub mod bridge;
pub mod screencopy;
pub mod session;
pub mod x11;
