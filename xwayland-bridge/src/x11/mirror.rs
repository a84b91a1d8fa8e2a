//! X11 windows on the host: every mapped X11 window has a mirror there, an xdg toplevel (or an
//! xdg popup for override-redirect windows) on the container's socket, whose buffers are copies of
//! what Xwayland committed and whose input goes back to Xwayland's surface.
//!
//! A mirror pairs a surface of the bridge's own server with a surface of its host connection
//! (a [`HostView`]): the host half goes before a checkpoint and comes back after a restore.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource as _;
use smithay::utils::{Logical, Point, Rectangle};
use smithay::wayland::compositor::is_sync_subsurface;
use smithay::xwayland::xwm::{ResizeEdge, WmWindowProperty};
use smithay::xwayland::X11Surface;
use smithay_client_toolkit::shell::xdg::popup::Popup;
use smithay_client_toolkit::shell::xdg::window::{Window, WindowDecorations};
use smithay_client_toolkit::shell::xdg::XdgPositioner;
use smithay_client_toolkit::shell::xdg::XdgSurface as _;
use smithay_client_toolkit::shell::WaylandSurface as _;
use tracing::{debug, warn};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::Proxy as _;
use wayland_protocols::xdg::shell::client::xdg_positioner::{
    Anchor, ConstraintAdjustment, Gravity,
};
use wayland_protocols::xdg::shell::client::xdg_toplevel;

use porthole_protocols::x11::client::porthole_x11_toplevel_v1::PortholeX11ToplevelV1;

use crate::bridge::Bridge;
use crate::host::bounded;
use crate::host::view::HostView;
use crate::server::send_frame_callbacks;

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
