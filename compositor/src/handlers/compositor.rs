//! wl_compositor, wl_subcompositor, wl_shm and buffer bookkeeping.

use smithay::backend::renderer::utils::{on_commit_buffer_handler, with_renderer_surface_state};
use smithay::desktop::{find_popup_root_surface, PopupKind};
use smithay::reexports::wayland_server::backend::ClientId;
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::protocol::{
    wl_callback, wl_compositor, wl_region, wl_shm, wl_shm_pool, wl_subcompositor, wl_subsurface,
    wl_surface,
};
use smithay::reexports::wayland_server::{Client, DataInit, Dispatch, DisplayHandle, Resource};
use smithay::wayland::buffer::BufferHandler;
use smithay::wayland::compositor::{
    get_parent, is_sync_subsurface, with_states, CachedState, CompositorClientState,
    CompositorHandler, CompositorState, SurfaceAttributes,
};
use smithay::wayland::compositor::{RegionUserData, SubsurfaceUserData, SurfaceUserData};
use smithay::wayland::shm::{ShmBufferUserData, ShmPoolUserData};
use smithay::wayland::shm::{ShmHandler, ShmState};

use porthole_protocols::new_object_protocol_id;

use crate::bounds;
use crate::policy::ClientState;
use crate::state::State;

/// Client state of clients that were not inserted by Porthole (there are none today, but smithay
/// requires an answer rather than a panic).
static FALLBACK_CLIENT_STATE: std::sync::LazyLock<CompositorClientState> =
    std::sync::LazyLock::new(CompositorClientState::default);

impl CompositorHandler for State {
    fn compositor_state(&mut self) -> &mut CompositorState {
        self.comp.globals.compositor.current()
    }

    fn client_compositor_state<'a>(&self, client: &'a Client) -> &'a CompositorClientState {
        match client.get_data::<ClientState>() {
            Some(data) => &data.compositor_state,
            None => &FALLBACK_CLIENT_STATE,
        }
    }

    fn new_subsurface(&mut self, surface: &WlSurface, _parent: &WlSurface) {
        let Some(broken) = porthole_protocols::limits::broken(surface) else {
            return;
        };
        if let Some(client) = surface.client() {
            let container = crate::policy::container_of(&client);
            tracing::warn!(container, "{broken}: disconnecting the client");
            self.comp
                .disconnect(&client, Some((surface.id(), 2, broken)));
        }
    }

    fn commit(&mut self, surface: &WlSurface) {
        self.apply_commit(surface);
        // Before the client's next wl_display.sync is answered: a surface that moved or resized
        // under the pointer learns where the pointer is on it now.
        self.refresh_pointer_focus();
    }
}

impl State {
    /// What a commit changes: mapping, unmapping, resizes, repaints.
    fn apply_commit(&mut self, surface: &WlSurface) {
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
            if self.comp.shell.is_unmapped(&window) {
                let toplevel = window.toplevel().cloned();
                if let Some(toplevel) = toplevel {
                    if !toplevel.is_initial_configure_sent() {
                        self.comp.apply_session_restore(&window);
                        toplevel.send_configure();
                    }
                    // Also when the buffer came before the client acknowledged a configure, or
                    // with the initial commit: xdg-shell calls that an error, but a window shown
                    // at the client's own size serves the person better than one that never
                    // appears (Mir and smithay's anvil show it too). The configure catches up.
                    if has_buffer {
                        self.comp.map_new_window(window);
                    }
                }
                return;
            }
            if !has_buffer && self.comp.shell.is_mapped(&window) {
                // A null buffer unmaps the toplevel; it must be configured again before it
                // maps anew.
                self.comp.unmap_window(&window);
                return;
            }
            if &root == surface {
                self.comp.shell.keep_resize_anchor(&window);
                // Its window geometry may have changed: bridges check where their X11
                // windows are.
                if !self.comp.x11.is_empty() {
                    self.comp.shell.note_moved();
                }
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

impl BufferHandler for State {
    fn buffer_destroyed(&mut self, _buffer: &WlBuffer) {}
}

impl ShmHandler for State {
    fn shm_state(&self) -> &ShmState {
        &self.comp.globals.shm
    }
}

// Globals go through the policy; objects are smithay's.
crate::policy_global!(wl_compositor::WlCompositor, () => CompositorState);
crate::policy_global!(wl_subcompositor::WlSubcompositor, () => CompositorState);
delegate_dispatch!(State: [wl_callback::WlCallback: ()] => CompositorState);
delegate_dispatch!(State: [wl_subcompositor::WlSubcompositor: ()] => CompositorState);
delegate_dispatch!(State: [wl_subsurface::WlSubsurface: SubsurfaceUserData] => CompositorState);

// wl_compositor, wl_surface and wl_region pass through here first, for the limits of
// `bounds.rs` and the container's `surfaces`.
impl Dispatch<wl_compositor::WlCompositor, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        compositor: &wl_compositor::WlCompositor,
        request: wl_compositor::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let mut created = None;
        if let wl_compositor::Request::CreateSurface { id } = &request {
            if !state.comp.admit_surface(client, compositor.id()) {
                return;
            }
            created = new_object_protocol_id(id);
            state.comp.globals.compositor.pick(created.unwrap_or(0));
        }
        <CompositorState as Dispatch<wl_compositor::WlCompositor, (), State>>::request(
            state, client, compositor, request, data, dh, data_init,
        );
        if let Some(pid) = created {
            if let Ok(surface) = client.object_from_protocol_id::<wl_surface::WlSurface>(dh, pid) {
                state.comp.surface_created(client, surface.id());
            }
        }
    }
}

impl Dispatch<wl_surface::WlSurface, SurfaceUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        surface: &wl_surface::WlSurface,
        request: wl_surface::Request,
        data: &SurfaceUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let limits = state.comp.limits_of(client);
        let attrs = |f: &mut dyn FnMut(&mut CachedState<SurfaceAttributes>)| {
            with_states(surface, |s| {
                f(&mut s.cached_state.get::<SurfaceAttributes>())
            })
        };
        let request = match request {
            wl_surface::Request::Damage { .. } | wl_surface::Request::DamageBuffer { .. } => {
                let mut admitted = true;
                attrs(&mut |a| admitted = bounds::admit_damage(a, &limits));
                if !admitted {
                    return;
                }
                request
            }
            wl_surface::Request::Frame { callback } => {
                let mut admitted = Ok(());
                attrs(&mut |a| admitted = bounds::admit_frame_callback(a, &limits));
                if let Err(over) = admitted {
                    // The object exists for the client: it gets one, never answered.
                    data_init.init(callback, ());
                    state.comp.over_limit(client, surface.id(), over);
                    return;
                }
                wl_surface::Request::Frame { callback }
            }
            wl_surface::Request::SetOpaqueRegion {
                region: Some(region),
            } if state.comp.counts.get(&region.id()) > bounds::MAX_OPAQUE_RECTS => {
                wl_surface::Request::SetOpaqueRegion { region: None }
            }
            other => other,
        };
        <CompositorState as Dispatch<wl_surface::WlSurface, SurfaceUserData, State>>::request(
            state, client, surface, request, data, dh, data_init,
        );
    }

    fn destroyed(
        state: &mut Self,
        client: ClientId,
        surface: &wl_surface::WlSurface,
        data: &SurfaceUserData,
    ) {
        state.comp.surface_destroyed(&surface.id());
        state
            .comp
            .globals
            .compositor
            .pick(surface.id().protocol_id());
        <CompositorState as Dispatch<wl_surface::WlSurface, SurfaceUserData, State>>::destroyed(
            state, client, surface, data,
        );
    }
}

impl Dispatch<wl_region::WlRegion, RegionUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        region: &wl_region::WlRegion,
        request: wl_region::Request,
        data: &RegionUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        if matches!(
            request,
            wl_region::Request::Add { .. } | wl_region::Request::Subtract { .. }
        ) {
            let value = state.comp.limits_of(client).region_rects;
            let counted = state
                .comp
                .counts
                .add(&region.id(), "region_rects", value, || {
                    format!("more than {value} rectangles in one wl_region")
                });
            if let Err(over) = counted {
                state.comp.over_limit(client, region.id(), over);
                return;
            }
        }
        <CompositorState as Dispatch<wl_region::WlRegion, RegionUserData, State>>::request(
            state, client, region, request, data, dh, data_init,
        );
    }

    fn destroyed(
        state: &mut Self,
        client: ClientId,
        region: &wl_region::WlRegion,
        data: &RegionUserData,
    ) {
        state.comp.counts.forget(&region.id());
        <CompositorState as Dispatch<wl_region::WlRegion, RegionUserData, State>>::destroyed(
            state, client, region, data,
        );
    }
}

crate::policy_global!(wl_shm::WlShm, () => ShmState);

// wl_shm and wl_shm_pool pass through here first: pools are counted against their container's
// `shm_bytes` limit, and a resize to zero (which smithay 0.7 would unwrap into a panic) is
// refused with a protocol error.
impl Dispatch<wl_shm::WlShm, ()> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        shm: &wl_shm::WlShm,
        request: wl_shm::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let mut pool = None;
        if let wl_shm::Request::CreatePool { id, size, .. } = &request {
            if *size > 0 {
                if !state.comp.charge_pool(client, shm.id()) {
                    return;
                }
                if !state.comp.charge_shm(client, shm.id(), *size as u64, 0) {
                    state.comp.uncharge_pool(client);
                    return;
                }
                pool = new_object_protocol_id(id).map(|pid| (pid, *size as u64));
            }
        }
        <ShmState as Dispatch<wl_shm::WlShm, (), State>>::request(
            state, client, shm, request, data, dh, data_init,
        );
        if let Some((pid, size)) = pool {
            let container = crate::policy::container_of(client);
            match client.object_from_protocol_id::<wl_shm_pool::WlShmPool>(dh, pid) {
                Ok(pool) => state
                    .comp
                    .containers
                    .shm
                    .pool_created(pool.id(), container, size),
                // smithay refused it (an fd it cannot map): what was counted goes back.
                Err(_) => state.comp.release_shm(Some((container, size))),
            }
        }
    }
}

impl Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        pool: &wl_shm_pool::WlShmPool,
        request: wl_shm_pool::Request,
        data: &ShmPoolUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let mut new_buffer = None;
        match &request {
            wl_shm_pool::Request::Resize { size } => {
                let size = *size;
                if size <= 0 {
                    pool.post_error(wl_shm::Error::InvalidFd, "invalid wl_shm_pool size");
                    return;
                }
                if let Some(old) = state.comp.containers.shm.pool_size(&pool.id()) {
                    if (size as u64) > old {
                        if !state.comp.charge_shm(client, pool.id(), size as u64, old) {
                            return;
                        }
                        state
                            .comp
                            .containers
                            .shm
                            .pool_resized(&pool.id(), size as u64);
                    }
                }
            }
            wl_shm_pool::Request::CreateBuffer { id, .. } => {
                new_buffer = new_object_protocol_id(id)
            }
            _ => {}
        }
        <ShmState as Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData, State>>::request(
            state, client, pool, request, data, dh, data_init,
        );
        if let Some(pid) = new_buffer {
            if let Ok(buffer) = client.object_from_protocol_id::<WlBuffer>(dh, pid) {
                state
                    .comp
                    .containers
                    .shm
                    .buffer_created(buffer.id(), pool.id());
            }
        }
    }

    fn destroyed(
        state: &mut Self,
        client: ClientId,
        pool: &wl_shm_pool::WlShmPool,
        data: &ShmPoolUserData,
    ) {
        let released = state.comp.containers.shm.pool_destroyed(&pool.id());
        state.comp.release_shm(released);
        <ShmState as Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData, State>>::destroyed(
            state, client, pool, data,
        );
    }
}

impl Dispatch<WlBuffer, ShmBufferUserData> for State {
    fn request(
        state: &mut Self,
        client: &Client,
        buffer: &WlBuffer,
        request: <WlBuffer as Resource>::Request,
        data: &ShmBufferUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        <ShmState as Dispatch<WlBuffer, ShmBufferUserData, State>>::request(
            state, client, buffer, request, data, dh, data_init,
        );
    }

    fn destroyed(state: &mut Self, client: ClientId, buffer: &WlBuffer, data: &ShmBufferUserData) {
        let released = state.comp.containers.shm.buffer_destroyed(&buffer.id());
        state.comp.release_shm(released);
        <ShmState as Dispatch<WlBuffer, ShmBufferUserData, State>>::destroyed(
            state, client, buffer, data,
        );
    }
}
