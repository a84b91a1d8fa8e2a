//! The limits on a client's subsurface trees. The compositor enforces them on its clients, and
//! `porthole-bridge` on the native clients it serves in a checkpointable container: it forwards
//! their trees, and one past the limits would cost the whole container its connection.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::compositor::{get_parent, with_surface_tree_downward, TraversalAction};

/// How deep subsurfaces may nest, and how many one surface tree may hold. smithay merges a
/// synchronized tree's pending state in time that grows faster than the tree: 5,000 nested
/// subsurfaces froze every container's frames for seconds. Real clients nest one or two levels
/// and hold a handful (video, overlays); one past these limits is disconnected.
pub const MAX_SUBSURFACE_DEPTH: usize = 32;
pub const MAX_SUBSURFACES: usize = 256;

/// Why a new subsurface goes past the limits above, if it does.
pub fn broken(surface: &WlSurface) -> Option<String> {
    let mut root = surface.clone();
    let mut depth = 0;
    while let Some(parent) = get_parent(&root) {
        depth += 1;
        if depth > MAX_SUBSURFACE_DEPTH {
            return Some(format!(
                "subsurfaces nested more than {MAX_SUBSURFACE_DEPTH} deep"
            ));
        }
        root = parent;
    }
    let mut count = 0usize;
    with_surface_tree_downward(
        &root,
        (),
        |_, _, _| TraversalAction::DoChildren(()),
        |_, _, _| count += 1,
        |_, _, _| true,
    );
    // The count includes the root, which is not a subsurface.
    (count > MAX_SUBSURFACES + 1)
        .then(|| format!("more than {MAX_SUBSURFACES} subsurfaces in one window"))
}
