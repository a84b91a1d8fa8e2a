//! What a forwarded surface has on the host: the role's acknowledgement, the buffers the client
//! committed (passed on over the client's own memory where [`crate::shm`] can, else copied), the
//! last frame kept across a detach, the input region, and the frame the host has yet to answer.
//! X11 windows, native toplevels, popups, subsurfaces and cursor surfaces all forward through one.

use std::rc::Rc;

use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_shm::Format as ServerFormat;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::compositor::{with_states, RectangleKind, SurfaceAttributes};
use smithay::wayland::shm::with_buffer_contents;
use smithay::wayland::single_pixel_buffer::get_single_pixel_buffer;
use smithay::wayland::viewporter::ViewportCachedState;
use smithay_client_toolkit::compositor::Region;
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use tracing::{debug, warn};
use wayland_client::protocol::wl_buffer::WlBuffer as HostBuffer;
use wayland_client::protocol::wl_shm::Format as HostFormat;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_protocols::wp::fractional_scale::v1::client::wp_fractional_scale_v1::{
    self, WpFractionalScaleV1,
};
use wayland_protocols::wp::viewporter::client::wp_viewport::WpViewport;

use crate::server::{take_held_buffer, Changed};
use crate::shm::{Held, Kept};

/// What a forwarded surface has on the host, for X11 windows and native toplevels alike.
#[derive(Debug, Default)]
pub struct HostView {
    /// The host acknowledged the role: buffers may be attached.
    pub configured: bool,
    /// The last buffer shown on the host, kept alive while the host may read it.
    shown: Option<Shown>,
    /// What the host showed when the bridge let go of it, shown again on reconnecting.
    last: Option<Last>,
    /// Names the window to the compositor across a checkpoint (porthole_bridge_v1.set_slot).
    pub token: String,
    /// A frame went to the host and its frame callback has not come back: the client's frame
    /// callbacks wait for it (see [`crate::bridge::Bridge::host_frame_done`]).
    pub awaiting_frame: bool,
    /// The input region last set on the host surface: `None` before any, `Some(None)` for the
    /// whole surface.
    input_region: Option<Option<Vec<RegionRect>>>,
    /// The host surface's viewport, once the client set one, and what it was last given.
    viewport: Option<(WpViewport, Viewport)>,
    /// The host's fractional scale object for the host surface, once the client asked for one
    /// for its surface (see [`FollowsScale`]).
    fractional: Option<WpFractionalScaleV1>,
}

/// Marks a client's surface that asked for the scale the compositor prefers for it
/// (wp_fractional_scale_v1): its host surface asks the compositor in turn, and what it answers
/// is passed back.
#[derive(Debug, Default)]
pub struct FollowsScale;

impl smithay::wayland::fractional_scale::FractionalScaleHandler for crate::bridge::Bridge {
    fn new_fractional_scale(&mut self, surface: WlSurface) {
        with_states(&surface, |states| {
            states.data_map.insert_if_missing(|| FollowsScale);
        });
    }
}

smithay::delegate_fractional_scale!(crate::bridge::Bridge);

/// The compositor's preferred scale for a host surface, passed to the client's surface.
impl
    wayland_client::Dispatch<
        WpFractionalScaleV1,
        smithay::reexports::wayland_server::Weak<WlSurface>,
    > for crate::bridge::Bridge
{
    fn event(
        _: &mut Self,
        _: &WpFractionalScaleV1,
        event: wp_fractional_scale_v1::Event,
        surface: &smithay::reexports::wayland_server::Weak<WlSurface>,
        _: &wayland_client::Connection,
        _: &wayland_client::QueueHandle<Self>,
    ) {
        let wp_fractional_scale_v1::Event::PreferredScale { scale } = event else {
            return;
        };
        let Ok(surface) = surface.upgrade() else {
            return;
        };
        with_states(&surface, |states| {
            smithay::wayland::fractional_scale::with_fractional_scale(states, |fractional| {
                fractional.set_preferred_scale(f64::from(scale) / 120.0);
            });
        });
    }
}

/// A client's viewport: its source rectangle and destination size, as set.
type Viewport = (Option<[f64; 4]>, Option<(i32, i32)>);

/// The viewport the client set on `surface`, if any.
fn viewport(surface: &WlSurface) -> Viewport {
    with_states(surface, |states| {
        let mut cached = states.cached_state.get::<ViewportCachedState>();
        let current = cached.current();
        let src = current.src.map(|r| [r.loc.x, r.loc.y, r.size.w, r.size.h]);
        (src, current.dst.map(|d| (d.w, d.h)))
    })
}

/// A rectangle added to a region (true) or subtracted from it: x, y, width, height.
type RegionRect = (bool, [i32; 4]);

/// The most rectangles of an input region the bridge passes on; a client's region with more
/// becomes their bounding box, which the host accepts whatever the client sent.
const MAX_REGION_RECTS: usize = 256;

/// The input region a client set on `surface`, as the host should get it.
fn input_region(surface: &WlSurface) -> Option<Vec<RegionRect>> {
    let region = with_states(surface, |states| {
        states
            .cached_state
            .get::<SurfaceAttributes>()
            .current()
            .input_region
            .clone()
    })?;
    let rects: Vec<RegionRect> = region
        .rects
        .iter()
        .map(|(kind, r)| {
            let added = matches!(kind, RectangleKind::Add);
            (added, [r.loc.x, r.loc.y, r.size.w, r.size.h])
        })
        .collect();
    if rects.len() <= MAX_REGION_RECTS {
        return Some(rects);
    }
    // Nothing added is an empty region, not the whole surface.
    Some(bounds(&rects).map(|b| vec![(true, b)]).unwrap_or_default())
}

/// The bounding box of the added rectangles, kept within i32 (a client's rectangles may reach
/// past it).
fn bounds(rects: &[RegionRect]) -> Option<[i32; 4]> {
    let (x0, y0, x1, y1) = rects
        .iter()
        .filter(|(added, _)| *added)
        .map(|(_, [x, y, w, h])| {
            let (x, y) = (i64::from(*x), i64::from(*y));
            (x, y, x + i64::from(*w), y + i64::from(*h))
        })
        .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)))?;
    let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    Some([clamp(x0), clamp(y0), clamp(x1 - x0), clamp(y1 - y0)])
}

#[derive(Debug)]
enum Shown {
    /// A copy in the bridge's own pool.
    Copied {
        buffer: Buffer,
        width: i32,
        format: HostFormat,
    },
    /// The client's own buffer, passed on as the host's `buffer`.
    Passed { held: Rc<Held>, buffer: HostBuffer },
    /// A single-pixel buffer: the host's own of the same colour, destroyed once released.
    Pixel(HostBuffer),
}

/// What a window showed when the bridge let go of the host.
#[derive(Debug)]
enum Last {
    Pixels(Pixels),
    /// The client's buffer, held until it is shown again.
    Kept(Kept),
}

/// A copy of a window's last frame.
#[derive(Debug)]
struct Pixels {
    bytes: Vec<u8>,
    width: i32,
    height: i32,
    stride: i32,
    format: HostFormat,
}

impl HostView {
    pub fn new(token: String) -> Self {
        Self {
            token,
            ..Self::default()
        }
    }

    /// Keeps what the host shows, before the host connection (and its pool) goes: a copy of a
    /// copied buffer, the client's own buffer held.
    pub fn keep_last(&mut self, pool: &mut SlotPool) {
        let Some(shown) = &self.shown else {
            return;
        };
        let (buffer, width, format) = match shown {
            Shown::Passed { held, .. } => {
                self.last = Some(Last::Kept(Kept::new(held)));
                return;
            }
            Shown::Pixel(_) => return,
            Shown::Copied {
                buffer,
                width,
                format,
            } => (buffer, *width, *format),
        };
        let (stride, height) = (buffer.stride(), buffer.height());
        let len = stride as usize * height as usize;
        let data = pool.raw_data_mut(&buffer.slot());
        if let Some(bytes) = data.get(..len) {
            self.last = Some(Last::Pixels(Pixels {
                bytes: bytes.to_vec(),
                width,
                height,
                stride,
                format,
            }));
        }
    }

    /// The host connection is gone, and with it the role and buffers.
    pub fn forget_host(&mut self) {
        self.configured = false;
        self.shown = None;
        self.awaiting_frame = false;
        self.input_region = None;
        self.viewport = None;
        self.fractional = None;
    }

    /// Asks the compositor for the scale it prefers for `host_surface`, once, if the client asked
    /// for `surface`'s.
    fn follow_scale(
        &mut self,
        host: &crate::host::Host,
        surface: &WlSurface,
        host_surface: &HostSurface,
    ) {
        if self.fractional.is_some() {
            return;
        }
        let Some(manager) = &host.fractional else {
            return;
        };
        if with_states(surface, |states| {
            states.data_map.get::<FollowsScale>().is_none()
        }) {
            return;
        }
        let weak = smithay::reexports::wayland_server::Resource::downgrade(surface);
        self.fractional = Some(manager.get_fractional_scale(host_surface, &host.qh, weak));
    }

    /// Sets the viewport the client set on `surface` on `host_surface`, when it changed.
    /// Returns whether it did (the host surface must commit for it to apply), and whether a
    /// viewport is in use (surface and buffer coordinates then differ).
    fn forward_viewport(
        &mut self,
        host: &crate::host::Host,
        surface: &WlSurface,
        host_surface: &HostSurface,
    ) -> (bool, bool) {
        let wanted = viewport(surface);
        let in_use = wanted != (None, None);
        if self.viewport.as_ref().map(|(_, sent)| sent) == Some(&wanted) {
            return (false, in_use);
        }
        if self.viewport.is_none() && !in_use {
            return (false, false);
        }
        let Some(viewporter) = &host.viewporter else {
            return (false, in_use);
        };
        let (host_viewport, _) = self
            .viewport
            .get_or_insert_with(|| (viewporter.get_viewport(host_surface, &host.qh, ()), wanted));
        match wanted.0 {
            Some([x, y, w, h]) => host_viewport.set_source(x, y, w, h),
            None => host_viewport.set_source(-1.0, -1.0, -1.0, -1.0),
        }
        match wanted.1 {
            Some((w, h)) => host_viewport.set_destination(w, h),
            None => host_viewport.set_destination(-1, -1),
        }
        if let Some((_, sent)) = &mut self.viewport {
            *sent = wanted;
        }
        (true, in_use)
    }

    /// Sets the input region the client set on `surface` on `host_surface`, when it changed.
    /// Returns whether it did (the host surface must commit for it to apply).
    fn forward_input_region(
        &mut self,
        host: &crate::host::Host,
        surface: &WlSurface,
        host_surface: &HostSurface,
    ) -> bool {
        let wanted = input_region(surface);
        if self.input_region.as_ref() == Some(&wanted) {
            return false;
        }
        match &wanted {
            None => host_surface.set_input_region(None),
            Some(rects) => {
                let Ok(region) = Region::new(&host.compositor) else {
                    return false;
                };
                for &(added, [x, y, w, h]) in rects {
                    if added {
                        region.add(x, y, w, h);
                    } else {
                        region.subtract(x, y, w, h);
                    }
                }
                host_surface.set_input_region(Some(region.wl_region()));
            }
        }
        debug!(region = ?wanted, "input region");
        self.input_region = Some(wanted);
        true
    }

    /// The host acknowledged the role: shows what there is to show, else commits to apply the
    /// acknowledged configure.
    pub fn configured(
        &mut self,
        host: &mut crate::host::Host,
        surface: Option<&WlSurface>,
        host_surface: &HostSurface,
    ) {
        self.configured = true;
        let already_shown = self.shown.is_some();
        let showed = surface.is_some_and(|s| self.show(host, s, host_surface));
        if !showed && already_shown {
            host_surface.commit();
        }
    }

    /// Passes the buffer the client committed on `surface` (or, right after reconnecting, the
    /// frame kept from before) to `host_surface`, and commits it there with a frame callback.
    /// Returns whether the host got a new frame.
    pub fn show(
        &mut self,
        host: &mut crate::host::Host,
        surface: &WlSurface,
        host_surface: &HostSurface,
    ) -> bool {
        let region_changed = self.forward_input_region(host, surface, host_surface);
        self.follow_scale(host, surface, host_surface);
        let (viewport_changed, scaled) = self.forward_viewport(host, surface, host_surface);
        let region_changed = region_changed || viewport_changed;
        let next = match take_held_buffer(surface) {
            Some((buffer, changed)) => self.pass_or_copy(host, &buffer, changed, true),
            None => match self.last.take() {
                // Released when `kept` goes, once the host has what it needs of it.
                Some(Last::Kept(kept)) => {
                    let buffer = kept.held().buffer().cloned();
                    buffer.and_then(|b| self.pass_or_copy(host, &b, Changed::Whole, false))
                }
                Some(Last::Pixels(last)) => restore(host, last),
                None => None,
            },
        };
        let Some((shown, width, height, changed)) = next else {
            if region_changed {
                host_surface.commit();
            }
            return false;
        };
        self.last = None;
        match &shown {
            Shown::Passed { buffer, .. } | Shown::Pixel(buffer) => {
                host_surface.attach(Some(buffer), 0, 0)
            }
            Shown::Copied { buffer, .. } => {
                if let Err(err) = buffer.attach_to(host_surface) {
                    warn!(?err, "attaching a host buffer failed");
                    return false;
                }
            }
        }
        self.shown = Some(shown);
        match changed {
            // The client's surface damage was taken as buffer damage, which a viewport makes
            // wrong: the whole buffer then.
            Changed::Rects(rects) if !scaled => {
                for r in rects {
                    host_surface.damage_buffer(r.loc.x, r.loc.y, r.size.w, r.size.h);
                }
            }
            _ => host_surface.damage_buffer(0, 0, width, height),
        }
        super::presentation::forward(host.presentation.as_ref(), &host.qh, surface, host_surface);
        host_surface.frame(&host.qh, host_surface.clone());
        host_surface.commit();
        self.awaiting_frame = true;
        true
    }

    /// Passes the client's `buffer` on where its memory can be, else copies it (and, with
    /// `release`, gives it back to the client at once).
    fn pass_or_copy(
        &mut self,
        host: &mut crate::host::Host,
        buffer: &WlBuffer,
        changed: Changed,
        release: bool,
    ) -> Option<Next> {
        if let Ok(pixel) = get_single_pixel_buffer(buffer) {
            let manager = host.single_pixel.as_ref()?;
            let host_buffer =
                manager.create_u32_rgba_buffer(pixel.r, pixel.g, pixel.b, pixel.a, &host.qh, ());
            // Its colour is all there is to it: the client has it back at once.
            if release {
                buffer.release();
            }
            return Some((Shown::Pixel(host_buffer), 1, 1, Changed::Whole));
        }
        let passed = host
            .memory
            .borrow_mut()
            .forward(buffer, host.shm.wl_shm(), &host.qh);
        if let Some(passed) = passed {
            let shown = Shown::Passed {
                held: passed.held,
                buffer: passed.host,
            };
            return Some((shown, passed.width, passed.height, changed));
        }
        let copied = copy_buffer(&mut host.pool, buffer);
        if release {
            buffer.release();
        }
        match copied {
            Ok((buffer, width, height, format)) => {
                let shown = Shown::Copied {
                    buffer,
                    width,
                    format,
                };
                Some((shown, width, height, changed))
            }
            Err(err) => {
                warn!(%err, "cannot forward a buffer");
                None
            }
        }
    }
}

/// What to show next: what the view keeps of it, its size, what changed.
type Next = (Shown, i32, i32, Changed);

/// A copy of a frame kept across a reconnect, in a new buffer of the host's pool.
fn restore(host: &mut crate::host::Host, last: Pixels) -> Option<Next> {
    let created = host
        .pool
        .create_buffer(last.width, last.height, last.stride, last.format);
    let Ok((buffer, canvas)) = created else {
        warn!("cannot allocate a host buffer");
        return None;
    };
    canvas[..last.bytes.len()].copy_from_slice(&last.bytes);
    let shown = Shown::Copied {
        buffer,
        width: last.width,
        format: last.format,
    };
    Some((shown, last.width, last.height, Changed::Whole))
}

/// The host's single-pixel buffers: each attached once, destroyed when the host lets go of it.
impl wayland_client::Dispatch<HostBuffer, ()> for crate::bridge::Bridge {
    fn event(
        _: &mut Self,
        buffer: &HostBuffer,
        event: wayland_client::protocol::wl_buffer::Event,
        _: &(),
        _: &wayland_client::Connection,
        _: &wayland_client::QueueHandle<Self>,
    ) {
        if let wayland_client::protocol::wl_buffer::Event::Release = event {
            buffer.destroy();
        }
    }
}

/// Why a client's buffer could not be copied to the host.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error("unsupported shm format {0:?}")]
    Format(ServerFormat),
    #[error("negative buffer size")]
    Negative,
    #[error("buffer outside its pool")]
    OutsidePool,
    #[error("{0}")]
    Host(String),
    #[error("cannot read the buffer: {0}")]
    Unreadable(String),
}

/// Copies a client's shm buffer into a new buffer of the host pool.
fn copy_buffer(
    pool: &mut SlotPool,
    buffer: &WlBuffer,
) -> Result<(Buffer, i32, i32, HostFormat), CopyError> {
    let copied = with_buffer_contents(buffer, |ptr, len, data| {
        let format = match data.format {
            ServerFormat::Argb8888 => HostFormat::Argb8888,
            ServerFormat::Xrgb8888 => HostFormat::Xrgb8888,
            other => return Err(CopyError::Format(other)),
        };
        let start = usize::try_from(data.offset).map_err(|_| CopyError::Negative)?;
        let bytes = usize::try_from(data.stride)
            .ok()
            .zip(usize::try_from(data.height).ok())
            .map(|(s, h)| s * h)
            .ok_or(CopyError::Negative)?;
        if start.checked_add(bytes).is_none_or(|end| end > len) {
            return Err(CopyError::OutsidePool);
        }
        let (host_buffer, canvas) = pool
            .create_buffer(data.width, data.height, data.stride, format)
            .map_err(|e| CopyError::Host(e.to_string()))?;
        // SAFETY: smithay maps the pool for the duration of this closure and checked `len`;
        // the range was checked against it above.
        let source = unsafe { std::slice::from_raw_parts(ptr.add(start), bytes) };
        canvas[..bytes].copy_from_slice(source);
        Ok((host_buffer, data.width, data.height, format))
    });
    match copied {
        Ok(result) => result,
        Err(err) => Err(CopyError::Unreadable(format!("{err:?}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_regions_bounds_stay_within_i32() {
        let max = i32::MAX;
        let rects = [
            (true, [10, 20, 30, 40]),
            (false, [0, 0, max, max]),
            (true, [max, max, max, max]),
        ];
        assert_eq!(super::bounds(&rects), Some([10, 20, max, max]));
        assert_eq!(super::bounds(&[(false, [0, 0, 5, 5])]), None);
        assert_eq!(
            super::bounds(&[(true, [-5, 0, 10, 1]), (true, [20, 3, 5, 1])]),
            Some([-5, 0, 30, 4])
        );
    }
}
