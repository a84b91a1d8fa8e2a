//! Porthole's own protocols and the staging ones smithay does not implement, server side:
//! porthole_x11_v1 and porthole_bridge_v1 for the bridge, xdg-session-management for apps,
//! wlr-screencopy for trusted screenshot tools.

pub mod bridge;
pub mod screencopy;
pub mod session;
pub mod x11;

use smithay::reexports::wayland_server::Client;

/// Who sees a global: the global data of each protocol here, asked by its `can_view`.
pub struct Filter(Box<dyn Fn(&Client) -> bool + Send + Sync>);

impl Filter {
    /// A filter from a policy predicate.
    pub fn new(f: impl Fn(&Client) -> bool + Send + Sync + 'static) -> Self {
        Self(Box::new(f))
    }

    /// Whether `client` sees the global.
    pub fn allows(&self, client: &Client) -> bool {
        (self.0)(client)
    }
}
