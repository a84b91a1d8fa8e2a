//! The pointer's image. The container's clients (Xwayland, and a checkpointable container's
//! native clients) set it on the bridge's pointer; the host shows it on its own: a copy of a
//! cursor surface's buffers on a host surface, no image, or the host's default one.

use smithay::input::pointer::{CursorImageAttributes, CursorImageStatus};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::IsAlive as _;
use smithay::wayland::compositor::with_states;
use smithay_client_toolkit::reexports::protocols::wp::cursor_shape::v1::client::wp_cursor_shape_device_v1::Shape;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

use crate::bridge::Bridge;
use crate::host::view::HostView;

/// The most host surfaces the bridge keeps for cursor surfaces: a client cycling through more
/// costs a copy of a frame for each beyond, not a host surface.
const MAX_HOST_SURFACES: usize = 8;

/// The most cursor surfaces the bridge keeps anything of: one shown again after more than this
/// many others shows nothing until its client commits it again.
const MAX_SURFACES: usize = 64;

/// The image the container's clients set, and the host surfaces that show their cursor
/// surfaces.
#[derive(Debug)]
pub struct Cursor {
    image: CursorImageStatus,
    surfaces: Vec<CursorSurface>,
}

impl Default for Cursor {
    fn default() -> Self {
        Self {
            image: CursorImageStatus::default_named(),
            surfaces: Vec::new(),
        }
    }
}

/// A client's cursor surface and the host surface showing it. Each has its own, so that a
/// client switching between cursor surfaces shows each one's last buffer.
#[derive(Debug)]
struct CursorSurface {
    surface: WlSurface,
    host: Option<HostSurface>,
    view: HostView,
}

impl Cursor {
    /// Keeps a copy of what the host shows, before the host connection goes.
    pub fn keep_last(&mut self, pool: &mut smithay_client_toolkit::shm::slot::SlotPool) {
        for s in &mut self.surfaces {
            s.view.keep_last(pool);
        }
    }

    /// The host connection is gone, and with it every host surface.
    pub fn forget_host(&mut self) {
        for s in &mut self.surfaces {
            s.host = None;
            s.view.forget_host();
        }
    }

    /// The host showed a frame of `host_surface`: the cursor surface whose frame callbacks it
    /// answers, if it is one.
    pub fn frame_done(&mut self, host_surface: &HostSurface) -> Option<WlSurface> {
        let s = self
            .surfaces
            .iter_mut()
            .find(|s| s.host.as_ref() == Some(host_surface))?;
        s.view.awaiting_frame = false;
        Some(s.surface.clone())
    }

    /// Whether a frame of the cursor surface `surface` went to the host, which has not
    /// answered it yet.
    pub fn awaits_frame(&self, surface: &WlSurface) -> bool {
        self.surfaces
            .iter()
            .any(|s| &s.surface == surface && s.view.awaiting_frame)
    }
}

/// A cursor surface's hotspot.
fn hotspot(surface: &WlSurface) -> (i32, i32) {
    with_states(surface, |states| {
        states
            .data_map
            .get::<std::sync::Mutex<CursorImageAttributes>>()
            .and_then(|a| a.lock().ok().map(|a| (a.hotspot.x, a.hotspot.y)))
            .unwrap_or_default()
    })
}

impl Bridge {
    /// A client set the pointer's image.
    pub fn set_cursor_image(&mut self, image: CursorImageStatus) {
        self.cursor.image = image;
        self.show_cursor(None);
    }

    /// A client committed `surface`: if the pointer shows it, the host gets its new buffer.
    /// Returns whether the host will answer its frame callbacks.
    pub fn cursor_commit(&mut self, surface: &WlSurface) -> bool {
        match &self.cursor.image {
            CursorImageStatus::Surface(s) if s == surface => self.show_cursor(Some(surface)),
            _ => false,
        }
    }

    /// Shows the pointer's image on the host, where the host pointer is over one of the bridge's
    /// surfaces. With `committed`, that cursor surface has a new buffer. Returns whether the host
    /// got a new frame.
    pub fn show_cursor(&mut self, committed: Option<&WlSurface>) -> bool {
        self.cursor.surfaces.retain(|s| s.surface.alive());
        let Some(host) = self.host.as_mut() else {
            return false;
        };
        let (Some(pointer), Some(serial)) = (host.pointer.clone(), host.pointer_enter) else {
            return false;
        };
        match &self.cursor.image {
            CursorImageStatus::Hidden => {
                pointer.set_cursor(serial, None, 0, 0);
                false
            }
            // The bridge offers its clients no cursor shapes: a named image is the default one,
            // which smithay sets as the pointer leaves a surface.
            CursorImageStatus::Named(_) => {
                if let Some(device) = &host.cursor_shape {
                    device.set_shape(serial, Shape::Default);
                }
                false
            }
            CursorImageStatus::Surface(surface) => {
                if !surface.alive() {
                    return false;
                }
                let index = match self
                    .cursor
                    .surfaces
                    .iter()
                    .position(|s| &s.surface == surface)
                {
                    Some(index) => index,
                    None => {
                        if self.cursor.surfaces.len() >= MAX_SURFACES {
                            let oldest = self.cursor.surfaces.remove(0);
                            if let Some(h) = oldest.host {
                                h.destroy();
                            }
                        }
                        self.cursor.surfaces.push(CursorSurface {
                            surface: surface.clone(),
                            host: None,
                            view: HostView::default(),
                        });
                        self.cursor.surfaces.len() - 1
                    }
                };
                // The least recently shown gives its host surface up, keeping a copy of its
                // frame to show on a new one.
                let hosted = self.cursor.surfaces.iter().filter(|s| s.host.is_some());
                if self.cursor.surfaces[index].host.is_none() && hosted.count() >= MAX_HOST_SURFACES
                {
                    if let Some(old) = self.cursor.surfaces.iter_mut().find(|s| s.host.is_some()) {
                        old.view.keep_last(&mut host.pool);
                        old.view.forget_host();
                        if let Some(h) = old.host.take() {
                            h.destroy();
                        }
                    }
                }
                // Most recently shown last.
                let s = self.cursor.surfaces.remove(index);
                self.cursor.surfaces.push(s);
                let s = self.cursor.surfaces.last_mut().expect("just pushed");
                let fresh = s.host.is_none();
                let host_surface = s
                    .host
                    .get_or_insert_with(|| host.compositor.create_surface(&host.qh))
                    .clone();
                // A new host surface needs the buffer the client committed before it set the
                // image; it is still held, as the pointer did not show it then.
                let shown = if fresh || committed.is_some() {
                    s.view.show(host, surface, &host_surface)
                } else {
                    false
                };
                if committed.is_none() || fresh {
                    let (x, y) = hotspot(surface);
                    pointer.set_cursor(serial, Some(&host_surface), x, y);
                }
                shown
            }
        }
    }
}
