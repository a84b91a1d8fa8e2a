//! The forwarding core: every mapped X11 window has a mirror on the host, an xdg toplevel (or an
//! xdg popup for override-redirect windows) on the container's socket, whose buffers are copies of
//! what Xwayland committed and whose input goes back to Xwayland's surface.
//!
//! A mirror pairs a surface of the bridge's own server with a surface of its host connection.
//! That pairing, not anything X11-specific, is what a later proxy of the container's native
//! Wayland clients needs too: drop the host half before a checkpoint, recreate it after a restore.

use smithay::reexports::wayland_server::protocol::wl_shm::Format as ServerFormat;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource as _;
use smithay::utils::{Logical, Point, Rectangle};
use smithay::wayland::compositor::{
    is_sync_subsurface, with_states, RectangleKind, SurfaceAttributes,
};
use smithay::wayland::shm::with_buffer_contents;
use smithay::xwayland::xwm::{ResizeEdge, WmWindowProperty};
use smithay::xwayland::X11Surface;
use smithay_client_toolkit::compositor::Region;
use smithay_client_toolkit::shell::xdg::popup::Popup;
use smithay_client_toolkit::shell::xdg::window::{Window, WindowDecorations};
use smithay_client_toolkit::shell::xdg::XdgPositioner;
use smithay_client_toolkit::shell::xdg::XdgSurface as _;
use smithay_client_toolkit::shell::WaylandSurface as _;
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use tracing::{debug, warn};
use wayland_client::protocol::wl_shm::Format as HostFormat;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::Proxy as _;
use wayland_protocols::xdg::shell::client::xdg_positioner::{
    Anchor, ConstraintAdjustment, Gravity,
};
use wayland_protocols::xdg::shell::client::xdg_toplevel;

use porthole_protocols::x11::client::porthole_x11_toplevel_v1::PortholeX11ToplevelV1;

use crate::bridge::Bridge;
use crate::server::{send_frame_callbacks, take_held_buffer, Changed};

/// How an X11 window appears on the host.
#[derive(Debug)]
pub enum Role {
    Toplevel(Window),
    /// An override-redirect window (menu, tooltip), placed relative to `parent`.
    Popup {
        popup: Popup,
        parent: u32,
    },
}

impl Role {
    fn surface(&self) -> &HostSurface {
        match self {
            Role::Toplevel(window) => window.wl_surface(),
            Role::Popup { popup, .. } => popup.wl_surface(),
        }
    }
}

/// One mapped X11 window and its host counterpart.
#[derive(Debug)]
pub struct Mirror {
    pub window: X11Surface,
    /// The surface Xwayland draws the window in, once paired.
    pub surface: Option<WlSurface>,
    pub role: Option<Role>,
    pub view: HostView,
    /// Where the host placed the toplevel (porthole_x11_v1), and the object that says so.
    pub placed: Option<Point<i32, Logical>>,
    pub follow: Option<Follow>,
    /// The X11 title or class changed since the host was told.
    pub names_changed: bool,
}

/// A porthole_x11_toplevel_v1, destroyed with the mirror.
#[derive(Debug)]
pub struct Follow(PortholeX11ToplevelV1);

impl Drop for Follow {
    fn drop(&mut self) {
        self.0.destroy();
    }
}

impl Mirror {
    pub fn host_surface(&self) -> Option<&HostSurface> {
        self.role.as_ref().map(Role::surface)
    }
}

/// What a forwarded surface has on the host, for X11 windows and native toplevels alike.
#[derive(Debug, Default)]
pub struct HostView {
    /// The host acknowledged the role: buffers may be attached.
    pub configured: bool,
    /// The last buffer shown on the host, kept alive while the host may read it.
    shown: Option<Shown>,
    /// What the host showed when the bridge let go of it, shown again on reconnecting.
    last: Option<Pixels>,
    /// Names the window to the compositor across a checkpoint (porthole_bridge_v1.set_slot).
    pub token: String,
    /// A frame went to the host and its frame callback has not come back: the client's frame
    /// callbacks wait for it (see [`Bridge::host_frame_done`]).
    pub awaiting_frame: bool,
    /// The input region last set on the host surface: `None` before any, `Some(None)` for the
    /// whole surface.
    input_region: Option<Option<Vec<RegionRect>>>,
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
struct Shown {
    buffer: Buffer,
    width: i32,
    format: HostFormat,
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

    /// Keeps a copy of what the host shows, before the host connection (and its pool) goes.
    pub fn keep_last(&mut self, pool: &mut SlotPool) {
        let Some(shown) = &self.shown else {
            return;
        };
        let (stride, height) = (shown.buffer.stride(), shown.buffer.height());
        let len = stride as usize * height as usize;
        let data = pool.raw_data_mut(&shown.buffer.slot());
        if let Some(bytes) = data.get(..len) {
            self.last = Some(Pixels {
                bytes: bytes.to_vec(),
                width: shown.width,
                height,
                stride,
                format: shown.format,
            });
        }
    }

    /// The host connection is gone, and with it the role and buffers.
    pub fn forget_host(&mut self) {
        self.configured = false;
        self.shown = None;
        self.awaiting_frame = false;
        self.input_region = None;
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

    /// Copies the buffer the client committed on `surface` (or, right after reconnecting, the
    /// frame kept from before) to `host_surface`, and commits it there with a frame callback.
    /// Returns whether the host got a new frame.
    pub fn show(
        &mut self,
        host: &mut crate::host::Host,
        surface: &WlSurface,
        host_surface: &HostSurface,
    ) -> bool {
        let region_changed = self.forward_input_region(host, surface, host_surface);
        let (shown, height, changed) = match take_held_buffer(surface) {
            Some((buffer, changed)) => {
                let copied = copy_buffer(&mut host.pool, &buffer);
                buffer.release();
                match copied {
                    Ok((buffer, width, height, format)) => {
                        self.last = None;
                        let shown = Shown {
                            buffer,
                            width,
                            format,
                        };
                        (shown, height, changed)
                    }
                    Err(err) => {
                        warn!(%err, "cannot forward a buffer");
                        return false;
                    }
                }
            }
            None => {
                let Some(last) = self.last.take() else {
                    if region_changed {
                        host_surface.commit();
                    }
                    return false;
                };
                let created =
                    host.pool
                        .create_buffer(last.width, last.height, last.stride, last.format);
                let Ok((host_buffer, canvas)) = created else {
                    warn!("cannot allocate a host buffer");
                    return false;
                };
                canvas[..last.bytes.len()].copy_from_slice(&last.bytes);
                let shown = Shown {
                    buffer: host_buffer,
                    width: last.width,
                    format: last.format,
                };
                (shown, last.height, Changed::Whole)
            }
        };
        if let Err(err) = shown.buffer.attach_to(host_surface) {
            warn!(?err, "attaching a host buffer failed");
            return false;
        }
        let width = shown.width;
        self.shown = Some(shown);
        match changed {
            Changed::Rects(rects) => {
                for r in rects {
                    host_surface.damage_buffer(r.loc.x, r.loc.y, r.size.w, r.size.h);
                }
            }
            Changed::Whole => host_surface.damage_buffer(0, 0, width, height),
        }
        host_surface.frame(&host.qh, host_surface.clone());
        host_surface.commit();
        self.awaiting_frame = true;
        true
    }
}

/// Copies a client's shm buffer into a new buffer of the host pool.
fn copy_buffer(
    pool: &mut SlotPool,
    buffer: &smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer,
) -> Result<(Buffer, i32, i32, HostFormat), String> {
    let copied = with_buffer_contents(buffer, |ptr, len, data| {
        let format = match data.format {
            ServerFormat::Argb8888 => HostFormat::Argb8888,
            ServerFormat::Xrgb8888 => HostFormat::Xrgb8888,
            other => return Err(format!("unsupported shm format {other:?}")),
        };
        let start = usize::try_from(data.offset).map_err(|e| e.to_string())?;
        let bytes = usize::try_from(data.stride)
            .ok()
            .zip(usize::try_from(data.height).ok())
            .map(|(s, h)| s * h)
            .ok_or("negative buffer size")?;
        if start.checked_add(bytes).is_none_or(|end| end > len) {
            return Err("buffer outside its pool".to_string());
        }
        let (host_buffer, canvas) = pool
            .create_buffer(data.width, data.height, data.stride, format)
            .map_err(|e| e.to_string())?;
        // SAFETY: smithay maps the pool for the duration of this closure and checked `len`;
        // the range was checked against it above.
        let source = unsafe { std::slice::from_raw_parts(ptr.add(start), bytes) };
        canvas[..bytes].copy_from_slice(source);
        Ok((host_buffer, data.width, data.height, format))
    });
    match copied {
        Ok(result) => result,
        Err(err) => Err(format!("cannot read the buffer: {err:?}")),
    }
}

impl Bridge {
    /// Starts mirroring a window X11 just mapped.
    pub fn track(&mut self, window: X11Surface) {
        if self.mirrors.iter().any(|m| m.window == window) {
            return;
        }
        let token = format!("x11-{}", window.window_id());
        self.mirrors.push(Mirror {
            window,
            surface: None,
            role: None,
            view: HostView::new(token),
            placed: None,
            follow: None,
            names_changed: false,
        });
        self.pair_surfaces();
    }

    /// Stops mirroring a window (unmapped or destroyed); its host surface goes away.
    pub fn untrack(&mut self, window: &X11Surface) {
        let Some(index) = self.mirrors.iter().position(|m| &m.window == window) else {
            return;
        };
        let mirror = self.mirrors.remove(index);
        let id = mirror.window.window_id();
        // Popups placed relative to this window cannot outlive it on the host.
        let orphans: Vec<X11Surface> = self
            .mirrors
            .iter()
            .filter(|m| matches!(m.role, Some(Role::Popup { parent, .. }) if parent == id))
            .map(|m| m.window.clone())
            .collect();
        drop(mirror);
        for orphan in orphans {
            if let Some(m) = self.mirrors.iter_mut().find(|m| m.window == orphan) {
                m.role = None;
                m.view.forget_host();
            }
        }
        if self.focus.as_ref() == Some(window) {
            self.focus = None;
        }
    }

    /// Pairs X11 windows with the Wayland surfaces Xwayland draws them in, and gives newly
    /// paired windows their host role. Xwayland 23.1+ pairs through xwayland-shell (Smithay
    /// does it); older ones send the surface's protocol id (WL_SURFACE_ID), looked up here.
    pub fn pair_surfaces(&mut self) {
        let client = self.xwayland.as_ref().map(|x| x.client.clone());
        let mut newly_paired = Vec::new();
        for (index, mirror) in self.mirrors.iter_mut().enumerate() {
            if mirror.surface.as_ref().is_some_and(|s| s.is_alive()) {
                continue;
            }
            #[allow(deprecated)] // The only way with Xwayland before 23.1 (Debian 12 has 22.1).
            let by_id = || {
                let id = mirror.window.wl_surface_id()?;
                client
                    .as_ref()?
                    .object_from_protocol_id::<WlSurface>(&self.server.dh, id)
                    .ok()
            };
            if let Some(surface) = mirror.window.wl_surface().or_else(by_id) {
                mirror.surface = Some(surface);
                newly_paired.push(index);
            }
        }
        for index in newly_paired {
            self.create_role(index);
        }
    }

    /// Gives a paired mirror its host role: a toplevel, or a popup of the X11 window it belongs
    /// to for override-redirect windows. An override-redirect window with no X11 window to
    /// belong to (a splash screen, a notification) becomes a toplevel: framed and placed by the
    /// host, which is better than not showing it.
    pub fn create_role(&mut self, index: usize) {
        if self.mirrors[index].role.is_some() {
            return;
        }
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let qh = host.qh.clone();
        let window = self.mirrors[index].window.clone();
        let parent = if window.is_override_redirect() {
            let parent = self.popup_parent(&window);
            if parent.is_none() {
                debug!(
                    window = window.window_id(),
                    "an X11 menu with no window to belong to"
                );
            }
            parent
        } else {
            None
        };
        let role = if let Some(parent) = parent {
            let parent_geometry = self.mirrors[parent].window.geometry();
            let parent_id = self.mirrors[parent].window.window_id();
            let Some(parent_xdg) = self.mirrors[parent].xdg_surface() else {
                return;
            };
            let Some(positioner) = menu_positioner(host, window.geometry(), parent_geometry) else {
                return;
            };
            let surface = host.compositor.create_surface(&qh);
            match Popup::from_surface(Some(&parent_xdg), &positioner, &qh, surface, &host.xdg) {
                Ok(popup) => {
                    popup.wl_surface().commit();
                    Role::Popup {
                        popup,
                        parent: parent_id,
                    }
                }
                Err(err) => {
                    warn!(?err, "creating a host popup failed");
                    return;
                }
            }
        } else {
            let surface = host.compositor.create_surface(&qh);
            let host_window =
                host.xdg
                    .create_window(surface, WindowDecorations::RequestServer, &qh);
            host_window.set_title(bounded(window.title()));
            host_window.set_app_id(bounded(window.class()));
            if let Some(parent) = window
                .is_transient_for()
                .and_then(|id| self.host_window_of(id))
            {
                host_window.set_parent(Some(&parent));
            }
            if let Some(min) = window.min_size() {
                host_window.set_min_size(Some((min.w.max(1) as u32, min.h.max(1) as u32)));
            }
            if let Some(bridge) = &host.bridge {
                bridge.set_slot(
                    host_window.wl_surface(),
                    self.mirrors[index].view.token.clone(),
                );
            }
            host_window.commit();
            let follow = host.x11.as_ref().map(|manager| {
                Follow(manager.get_x11_toplevel(host_window.wl_surface(), &qh, window.window_id()))
            });
            self.mirrors[index].follow = follow;
            Role::Toplevel(host_window)
        };
        self.mirrors[index].role = Some(role);
    }

    /// The mirror a menu belongs to: its transient-for window, else the focused X11 window,
    /// else the most recently mapped toplevel.
    fn popup_parent(&self, window: &X11Surface) -> Option<usize> {
        let shown = |m: &Mirror| m.view.configured && m.role.is_some();
        let by_id = |id: u32| {
            self.mirrors
                .iter()
                .position(|m| m.window.window_id() == id && shown(m))
        };
        window
            .is_transient_for()
            .and_then(by_id)
            .or_else(|| self.focus.as_ref().and_then(|f| by_id(f.window_id())))
            .or_else(|| {
                self.mirrors
                    .iter()
                    .rposition(|m| matches!(m.role, Some(Role::Toplevel(_))) && shown(m))
            })
    }

    fn host_window_of(&self, id: u32) -> Option<Window> {
        self.mirrors.iter().find_map(|m| match &m.role {
            Some(Role::Toplevel(w)) if m.window.window_id() == id => Some(w.clone()),
            _ => None,
        })
    }

    /// Copies the buffer Xwayland committed on `surface` to its host surface. Returns whether a
    /// host surface shows `surface` (and so will answer its frame callbacks).
    pub fn forward(&mut self, surface: &WlSurface) -> bool {
        let Some(index) = self
            .mirrors
            .iter()
            .position(|m| m.surface.as_ref() == Some(surface))
        else {
            return false;
        };
        let mirror = &mut self.mirrors[index];
        if !mirror.view.configured {
            return false;
        }
        let (Some(host), Some(host_surface)) = (self.host.as_mut(), mirror.host_surface().cloned())
        else {
            return false;
        };
        mirror.view.show(host, surface, &host_surface);
        true
    }

    /// The host placed an X11 toplevel at `loc` on the desktop: the X11 window moves there too,
    /// so that X11's root coordinates are the desktop's.
    pub fn placed(&mut self, window_id: u32, loc: (i32, i32)) {
        let Some(mirror) = self
            .mirrors
            .iter_mut()
            .find(|m| m.window.window_id() == window_id)
        else {
            return;
        };
        let loc = Point::from(loc);
        mirror.placed = Some(loc);
        let mut geometry = mirror.window.geometry();
        if geometry.loc != loc {
            geometry.loc = loc;
            let _ = mirror.window.configure(geometry);
        }
    }

    /// Where the host placed an X11 toplevel, if it says.
    pub fn placed_at(&self, window: &X11Surface) -> Option<Point<i32, Logical>> {
        self.mirrors
            .iter()
            .find(|m| &m.window == window)
            .and_then(|m| m.placed)
    }

    /// The host asked for the next frame of `host_surface`: the client's frame callbacks for it
    /// are answered, all of them, those of commits that had no new frame for the host included.
    pub fn host_frame_done(&mut self, host_surface: &HostSurface, time: u32) {
        let surface = if let Some(mirror) = self
            .mirrors
            .iter_mut()
            .find(|m| m.host_surface() == Some(host_surface))
        {
            mirror.view.awaiting_frame = false;
            mirror.surface.clone()
        } else {
            self.native_frame_done(host_surface)
                .or_else(|| self.cursor.frame_done(host_surface))
        };
        if let Some(surface) = surface {
            send_frame_callbacks(&surface, time);
        }
    }

    /// Whether the frame callbacks of `surface` wait for the host (which answers them with the
    /// frame it was sent) or for its parent's commit (a synchronized subsurface's).
    pub fn frame_callbacks_wait(&self, surface: &WlSurface) -> bool {
        if is_sync_subsurface(surface) {
            return true;
        }
        self.mirrors
            .iter()
            .any(|m| m.surface.as_ref() == Some(surface) && m.view.awaiting_frame)
            || self.native_awaits_frame(surface)
            || self.cursor.awaits_frame(surface)
    }

    /// The host configured a toplevel: size and state go to the X11 window.
    pub fn toplevel_configured(
        &mut self,
        host_window: &Window,
        size: Option<(u32, u32)>,
        activated: bool,
        maximized: bool,
        fullscreen: bool,
    ) {
        let Some(index) = self
            .mirrors
            .iter()
            .position(|m| matches!(&m.role, Some(Role::Toplevel(w)) if w == host_window))
        else {
            return;
        };
        let window = self.mirrors[index].window.clone();
        if let Some((w, h)) = size {
            let mut geometry = window.geometry();
            geometry.size = (w as i32, h as i32).into();
            let _ = window.configure(geometry);
        }
        let _ = window.set_activated(activated);
        let _ = window.set_maximized(maximized);
        let _ = window.set_fullscreen(fullscreen);
        self.configured(index);
    }

    /// The host configured a popup.
    pub fn popup_configured(&mut self, popup: &Popup) {
        if let Some(index) = self
            .mirrors
            .iter()
            .position(|m| matches!(&m.role, Some(Role::Popup { popup: p, .. }) if p == popup))
        {
            self.configured(index);
        }
    }

    fn configured(&mut self, index: usize) {
        let mirror = &mut self.mirrors[index];
        if let (Some(host), Some(host_surface)) =
            (self.host.as_mut(), mirror.host_surface().cloned())
        {
            mirror
                .view
                .configured(host, mirror.surface.as_ref(), &host_surface);
        }
    }

    /// The host dismissed a popup (for example the person clicked elsewhere).
    pub fn popup_dismissed(&mut self, popup: &Popup) {
        if let Some(mirror) = self
            .mirrors
            .iter_mut()
            .find(|m| matches!(&m.role, Some(Role::Popup { popup: p, .. }) if p == popup))
        {
            mirror.role = None;
            mirror.view.forget_host();
        }
    }

    /// The person closed a window on the host.
    pub fn close_requested(&mut self, host_window: &Window) {
        if let Some(mirror) = self
            .mirrors
            .iter()
            .find(|m| matches!(&m.role, Some(Role::Toplevel(w)) if w == host_window))
        {
            let _ = mirror.window.close();
        }
    }

    /// An X11 window moved or resized itself. Override-redirect windows follow on the host.
    pub fn window_moved(&mut self, window: &X11Surface, geometry: Rectangle<i32, Logical>) {
        let Some(mirror) = self.mirrors.iter().find(|m| &m.window == window) else {
            return;
        };
        let Some(Role::Popup { popup, parent }) = &mirror.role else {
            return;
        };
        let Some(parent_geometry) = self
            .mirrors
            .iter()
            .find(|m| m.window.window_id() == *parent)
            .map(|m| m.window.geometry())
        else {
            return;
        };
        if popup.xdg_popup().version() < 3 {
            return;
        }
        let Some(host) = self.host.as_ref() else {
            return;
        };
        if let Some(positioner) = menu_positioner(host, geometry, parent_geometry) {
            popup.reposition(&positioner, 0);
        }
    }

    /// Titles and classes follow the X11 window's properties, at most once per pass of the
    /// event loop ([`Bridge::send_names`]): an X11 client may change them thousands of times a
    /// second, and forwarding each would fill the bridge's connection to the host.
    pub fn property_changed(&mut self, window: &X11Surface, property: WmWindowProperty) {
        if matches!(property, WmWindowProperty::Title | WmWindowProperty::Class) {
            if let Some(m) = self.mirrors.iter_mut().find(|m| &m.window == window) {
                m.names_changed = true;
            }
        }
    }

    /// Tells the host the titles and classes that changed since the last pass.
    pub fn send_names(&mut self) {
        for m in self.mirrors.iter_mut().filter(|m| m.names_changed) {
            if let Some(Role::Toplevel(host)) = &m.role {
                host.set_title(bounded(m.window.title()));
                host.set_app_id(bounded(m.window.class()));
            }
            m.names_changed = false;
        }
    }

    /// Runs `f` on the host toplevel of an X11 window, if it has one.
    pub fn with_host_window(&self, window: &X11Surface, f: impl FnOnce(&Window)) {
        if let Some(Role::Toplevel(host)) = self
            .mirrors
            .iter()
            .find(|m| &m.window == window)
            .and_then(|m| m.role.as_ref())
        {
            f(host);
        }
    }

    /// The host seat and the serial of the last input event on it.
    fn host_seat(&self) -> Option<(wayland_client::protocol::wl_seat::WlSeat, u32)> {
        let host = self.host.as_ref()?;
        Some((host.seat.clone()?, host.last_serial))
    }

    /// An X11 client started a move of its own window (a client-drawn title bar).
    pub fn interactive_move(&mut self, window: &X11Surface) {
        let Some((seat, serial)) = self.host_seat() else {
            return;
        };
        {
            self.with_host_window(window, |host| host.move_(&seat, serial));
        }
    }

    /// An X11 client started a resize of its own window.
    pub fn interactive_resize(&mut self, window: &X11Surface, edge: ResizeEdge) {
        let edge = match edge {
            ResizeEdge::Top => xdg_toplevel::ResizeEdge::Top,
            ResizeEdge::Bottom => xdg_toplevel::ResizeEdge::Bottom,
            ResizeEdge::Left => xdg_toplevel::ResizeEdge::Left,
            ResizeEdge::Right => xdg_toplevel::ResizeEdge::Right,
            ResizeEdge::TopLeft => xdg_toplevel::ResizeEdge::TopLeft,
            ResizeEdge::TopRight => xdg_toplevel::ResizeEdge::TopRight,
            ResizeEdge::BottomLeft => xdg_toplevel::ResizeEdge::BottomLeft,
            ResizeEdge::BottomRight => xdg_toplevel::ResizeEdge::BottomRight,
        };
        let Some((seat, serial)) = self.host_seat() else {
            return;
        };
        {
            self.with_host_window(window, |host| host.resize(&seat, serial, edge));
        }
    }
}

/// The most of an X11 title or class the bridge passes on, in bytes. X11 allows megabytes; a
/// Wayland message is at most 4096 bytes, and a longer one would cost the bridge its connection
/// (and the container its X server). The compositor shortens titles further for its frames.
const MAX_LABEL_BYTES: usize = 1024;

/// `text` cut to [`MAX_LABEL_BYTES`] at a character boundary.
pub fn bounded(mut text: String) -> String {
    if text.len() > MAX_LABEL_BYTES {
        let mut end = MAX_LABEL_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Places a menu exactly where X11 put it, relative to the window it belongs to.
fn menu_positioner(
    host: &crate::host::Host,
    geometry: Rectangle<i32, Logical>,
    parent: Rectangle<i32, Logical>,
) -> Option<XdgPositioner> {
    let positioner = match XdgPositioner::new(&host.xdg) {
        Ok(p) => p,
        Err(err) => {
            warn!(?err, "the host has no xdg_wm_base");
            return None;
        }
    };
    positioner.set_size(geometry.size.w.max(1), geometry.size.h.max(1));
    positioner.set_anchor_rect(
        geometry.loc.x - parent.loc.x,
        geometry.loc.y - parent.loc.y,
        1,
        1,
    );
    positioner.set_anchor(Anchor::TopLeft);
    positioner.set_gravity(Gravity::BottomRight);
    // X11 clients placed the window themselves; moving it would desynchronise what they think is
    // where (submenus, pointer grabs).
    positioner.set_constraint_adjustment(ConstraintAdjustment::empty());
    Some(positioner)
}

impl Mirror {
    fn xdg_surface(
        &self,
    ) -> Option<wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface> {
        match self.role.as_ref()? {
            Role::Toplevel(w) => Some(w.xdg_surface().clone()),
            Role::Popup { popup, .. } => Some(popup.xdg_surface().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn long_labels_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("xterm".into()), "xterm");
        let long = "é".repeat(4000);
        let cut = bounded(long);
        assert!(cut.len() <= MAX_LABEL_BYTES && cut.len() >= MAX_LABEL_BYTES - 1);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
