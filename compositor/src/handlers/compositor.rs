//! wl_compositor, wl_subcompositor, wl_shm and buffer bookkeeping.

use smithay::backend::renderer::utils::{on_commit_buffer_handler, with_renderer_surface_state};
use smithay::desktop::{find_popup_root_surface, PopupKind};
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::protocol::{
    wl_callback, wl_compositor, wl_region, wl_shm, wl_shm_pool, wl_subcompositor, wl_subsurface,
    wl_surface,
};
use smithay::reexports::wayland_server::Client;
use smithay::wayland::buffer::BufferHandler;
use smithay::wayland::compositor::{
    get_parent, is_sync_subsurface, with_states, CompositorClientState, CompositorHandler,
    CompositorState,
};
use smithay::wayland::compositor::{RegionUserData, SubsurfaceUserData, SurfaceUserData};
use smithay::wayland::shell::xdg::XdgToplevelSurfaceData;
use smithay::wayland::shm::{ShmBufferUserData, ShmPoolUserData};
use smithay::wayland::shm::{ShmHandler, ShmState};

use crate::state::{ClientState, State};

/// Client state of clients that were not inserted by Porthole (there are none today, but smithay
/// requires an answer rather than a panic).
static FALLBACK_CLIENT_STATE: std::sync::LazyLock<CompositorClientState> =
    std::sync::LazyLock::new(CompositorClientState::default);

impl CompositorHandler for State {
    fn compositor_state(&mut self) -> &mut CompositorState {
        &mut self.comp.compositor_state
    }

    fn client_compositor_state<'a>(&self, client: &'a Client) -> &'a CompositorClientState {
        match client.get_data::<ClientState>() {
            Some(data) => &data.compositor_state,
            None => &FALLBACK_CLIENT_STATE,
        }
    }

    fn commit(&mut self, surface: &WlSurface) {
        on_commit_buffer_handler::<Self>(surface);
        self.comp.popups.commit(surface);

        if is_sync_subsurface(surface) {
            return;
        }
        let mut root = surface.clone();
        while let Some(parent) = get_parent(&root) {
            root = parent;
        }

        if let Some(window) = self.comp.shell.window_for_surface(&root) {
            window.on_commit();
            let has_buffer =
                with_renderer_surface_state(&root, |s| s.buffer().is_some()).unwrap_or(false);
            if self.comp.shell.unmapped.contains(&window) {
                let toplevel = window.toplevel().cloned();
                if let Some(toplevel) = toplevel {
                    if !toplevel.is_initial_configure_sent() {
                        toplevel.send_configure();
                    } else if has_buffer && acked_a_configure(&root) {
                        self.comp.map_new_window(window);
                    }
                }
                return;
            }
            if !has_buffer && self.comp.shell.space.element_location(&window).is_some() {
                // A null buffer unmaps the toplevel; it must be configured again before it
                // maps anew.
                self.comp.unmap_window(&window);
                return;
            }
            if &root == surface {
                self.comp.finish_resize(&window);
            }
            self.comp.queue_redraw_for(&window);
            return;
        }

        // Popups: the initial configure, then repaint wherever their parent is.
        if let Some(popup) = self.comp.popups.find_popup(surface) {
            if let PopupKind::Xdg(ref xdg) = popup {
                if !xdg.is_initial_configure_sent() {
                    if let Err(err) = xdg.send_configure() {
                        tracing::warn!(?err, "cannot configure a popup");
                    }
                }
            }
            if let Ok(root) = find_popup_root_surface(&popup) {
                if let Some(window) = self.comp.shell.window_for_surface(&root) {
                    self.comp.queue_redraw_for(&window);
                    return;
                }
            }
        }
        // The cursor, a drag icon, or something not yet known: repaint everything.
        self.comp.queue_redraw_all();
    }
}

/// Whether the client acknowledged at least one configure of this toplevel; a buffer committed
/// before that is ignored rather than shown at a size nobody agreed on.
fn acked_a_configure(surface: &WlSurface) -> bool {
    with_states(surface, |states| {
        states
            .data_map
            .get::<XdgToplevelSurfaceData>()
            .and_then(|d| d.lock().ok().map(|d| d.configured))
            .unwrap_or(false)
    })
}

impl BufferHandler for State {
    fn buffer_destroyed(&mut self, _buffer: &WlBuffer) {}
}

impl ShmHandler for State {
    fn shm_state(&self) -> &ShmState {
        &self.comp.shm_state
    }
}

// Globals go through the policy; objects are smithay's.
crate::policy_global!(wl_compositor::WlCompositor, () => CompositorState);
crate::policy_global!(wl_subcompositor::WlSubcompositor, () => CompositorState);
delegate_dispatch!(State: [wl_compositor::WlCompositor: ()] => CompositorState);
delegate_dispatch!(State: [wl_surface::WlSurface: SurfaceUserData] => CompositorState);
delegate_dispatch!(State: [wl_region::WlRegion: RegionUserData] => CompositorState);
delegate_dispatch!(State: [wl_callback::WlCallback: ()] => CompositorState);
delegate_dispatch!(State: [wl_subcompositor::WlSubcompositor: ()] => CompositorState);
delegate_dispatch!(State: [wl_subsurface::WlSubsurface: SubsurfaceUserData] => CompositorState);

crate::policy_global!(wl_shm::WlShm, () => ShmState);
delegate_dispatch!(State: [wl_shm::WlShm: ()] => ShmState);
delegate_dispatch!(State: [wl_shm_pool::WlShmPool: ShmPoolUserData] => ShmState);
delegate_dispatch!(State: [WlBuffer: ShmBufferUserData] => ShmState);
