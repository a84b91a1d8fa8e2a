//! smithay 0.7's `CompositorState` keeps every surface of every client in one list, and scans
//! the whole list each time a surface is destroyed: a client leaving with n surfaces costs n²,
//! and 20,000 surfaces stalled every container for 2.5 s. The list is all smithay keeps there
//! besides the globals, and it only ever appends to it and removes from it; so Porthole keeps
//! 256 `CompositorState`s and hands smithay the one a surface's id picks, both when the surface
//! is made and when it is destroyed. Each list then holds a 256th of the surfaces.

use smithay::reexports::wayland_server::protocol::wl_compositor::WlCompositor;
use smithay::reexports::wayland_server::protocol::wl_subcompositor::WlSubcompositor;
use smithay::reexports::wayland_server::{DisplayHandle, GlobalDispatch};
use smithay::wayland::compositor::CompositorState;

/// How many lists the surfaces are spread over.
const LISTS: usize = 256;

/// smithay's compositor state, its surface list cut in [`LISTS`] pieces.
#[derive(Debug)]
pub struct SurfaceLists {
    /// The first is the one whose globals clients see; the others' globals were removed before
    /// any client could see them.
    lists: Vec<CompositorState>,
    current: usize,
}

impl SurfaceLists {
    /// Creates wl_compositor and wl_subcompositor, and the spare lists. Call before any client
    /// connects.
    pub fn new<D>(dh: &DisplayHandle) -> Self
    where
        D: GlobalDispatch<WlCompositor, ()> + GlobalDispatch<WlSubcompositor, ()> + 'static,
    {
        let lists = (0..LISTS)
            .map(|i| {
                let state = CompositorState::new::<D>(dh);
                if i > 0 {
                    dh.remove_global::<D>(state.compositor_global());
                    dh.remove_global::<D>(state.subcompositor_global());
                }
                state
            })
            .collect();
        Self { lists, current: 0 }
    }

    /// Picks the list of the surface whose protocol id is `id`, for what smithay does next.
    pub fn pick(&mut self, id: u32) {
        self.current = id as usize % LISTS;
    }

    /// The list picked last; what smithay's `compositor_state` gets.
    pub fn current(&mut self) -> &mut CompositorState {
        &mut self.lists[self.current]
    }
}
