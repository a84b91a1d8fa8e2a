//! The bridge as the X11 window manager of the container's Xwayland: it maps the windows X11
//! clients ask for and mirrors them on the host (see [`super::mirror`]), passes their requests
//! to move, resize, maximize and go fullscreen on to their host toplevels, and takes part in
//! the X11 selections.

use std::os::fd::OwnedFd;

use smithay::utils::{Logical, Rectangle};
use smithay::wayland::selection::SelectionTarget;
use smithay::wayland::xwayland_shell::{XWaylandShellHandler, XWaylandShellState};
use smithay::xwayland::xwm::{Reorder, ResizeEdge, WmWindowProperty, XwmId};
use smithay::xwayland::{X11Surface, X11Wm, XwmHandler};
use tracing::{debug, warn};

use crate::bridge::Bridge;

impl Bridge {
    /// Whether a window manager callback comes from the running Xwayland.
    pub fn is_current(&self, xwm: smithay::xwayland::xwm::XwmId) -> bool {
        self.xwm.as_ref().is_some_and(|w| w.id() == xwm)
    }

    /// Raises an X11 window in X's own stacking order (what X11 clients see in
    /// _NET_CLIENT_LIST_STACKING and in pointer routing between their windows).
    pub fn raise(&mut self, window: &X11Surface) {
        if let Some(xwm) = self.xwm.as_mut() {
            let _ = xwm.raise_window(window);
        }
    }
}

impl XWaylandShellHandler for Bridge {
    fn xwayland_shell_state(&mut self) -> &mut XWaylandShellState {
        &mut self.server.xwayland_shell
    }
}

impl XwmHandler for Bridge {
    fn xwm_state(&mut self, xwm: XwmId) -> &mut X11Wm {
        // The running window manager, or one of an Xwayland that is gone whose event sources
        // may still fire (see `Bridge::xwayland_gone`).
        if self.is_current(xwm) || !self.retired_xwms.iter().any(|w| w.id() == xwm) {
            return self
                .xwm
                .as_mut()
                .or(self.retired_xwms.last_mut())
                .expect("a window manager is kept until its Xwayland is long gone");
        }
        self.retired_xwms
            .iter_mut()
            .find(|w| w.id() == xwm)
            .expect("checked above")
    }

    fn new_window(&mut self, _xwm: XwmId, _window: X11Surface) {}

    fn new_override_redirect_window(&mut self, _xwm: XwmId, _window: X11Surface) {}

    fn map_window_request(&mut self, xwm: XwmId, window: X11Surface) {
        if !self.is_current(xwm) {
            return;
        }
        if let Err(err) = window.set_mapped(true) {
            warn!(?err, "mapping an X11 window failed");
            return;
        }
        let _ = window.configure(window.geometry());
        self.track(window);
    }

    fn mapped_override_redirect_window(&mut self, xwm: XwmId, window: X11Surface) {
        if !self.is_current(xwm) {
            return;
        }
        self.track(window);
    }

    fn unmapped_window(&mut self, xwm: XwmId, window: X11Surface) {
        if !self.is_current(xwm) {
            return;
        }
        self.untrack(&window);
        if !window.is_override_redirect() {
            let _ = window.set_mapped(false);
        }
    }

    fn destroyed_window(&mut self, xwm: XwmId, window: X11Surface) {
        if !self.is_current(xwm) {
            return;
        }
        self.untrack(&window);
    }

    fn configure_request(
        &mut self,
        _xwm: XwmId,
        window: X11Surface,
        x: Option<i32>,
        y: Option<i32>,
        w: Option<u32>,
        h: Option<u32>,
        _reorder: Option<Reorder>,
    ) {
        let mut geometry = window.geometry();
        geometry.loc.x = x.unwrap_or(geometry.loc.x);
        geometry.loc.y = y.unwrap_or(geometry.loc.y);
        // The host decides where toplevels are; X11 learns it (porthole_x11_v1).
        if let Some(placed) = self.placed_at(&window) {
            geometry.loc = placed;
        }
        let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX).clamp(1, 16384);
        geometry.size.w = w.map(clamp).unwrap_or(geometry.size.w);
        geometry.size.h = h.map(clamp).unwrap_or(geometry.size.h);
        let _ = window.configure(geometry);
    }

    fn configure_notify(
        &mut self,
        _xwm: XwmId,
        window: X11Surface,
        geometry: Rectangle<i32, Logical>,
        _above: Option<u32>,
    ) {
        self.window_moved(&window, geometry);
    }

    fn property_notify(&mut self, _xwm: XwmId, window: X11Surface, property: WmWindowProperty) {
        self.property_changed(&window, property);
    }

    fn maximize_request(&mut self, _xwm: XwmId, window: X11Surface) {
        self.with_host_window(&window, |w| w.set_maximized());
    }

    fn unmaximize_request(&mut self, _xwm: XwmId, window: X11Surface) {
        self.with_host_window(&window, |w| w.unset_maximized());
    }

    fn fullscreen_request(&mut self, _xwm: XwmId, window: X11Surface) {
        self.with_host_window(&window, |w| w.set_fullscreen(None));
    }

    fn unfullscreen_request(&mut self, _xwm: XwmId, window: X11Surface) {
        self.with_host_window(&window, |w| w.unset_fullscreen());
    }

    fn minimize_request(&mut self, _xwm: XwmId, window: X11Surface) {
        self.with_host_window(&window, |w| w.set_minimized());
    }

    fn resize_request(&mut self, _xwm: XwmId, window: X11Surface, _button: u32, edge: ResizeEdge) {
        self.interactive_resize(&window, edge);
    }

    fn move_request(&mut self, _xwm: XwmId, window: X11Surface, _button: u32) {
        self.interactive_move(&window);
    }

    fn allow_selection_access(&mut self, _xwm: XwmId, _selection: SelectionTarget) -> bool {
        // The X server is the container's own: its clients share the container's clipboard.
        true
    }

    fn new_selection(&mut self, xwm: XwmId, selection: SelectionTarget, mime_types: Vec<String>) {
        if !self.is_current(xwm) {
            return;
        }
        debug!(?selection, ?mime_types, "an X11 client took a selection");
        self.offer_selection(selection, mime_types, crate::selection::Owner::X11);
    }

    fn cleared_selection(&mut self, _xwm: XwmId, selection: SelectionTarget) {
        debug!(?selection, "an X11 client cleared a selection");
        self.clear_selection(selection, crate::selection::Owner::X11);
    }

    fn send_selection(
        &mut self,
        _xwm: XwmId,
        selection: SelectionTarget,
        mime_type: String,
        fd: OwnedFd,
    ) {
        self.read_host_selection(selection, mime_type, fd);
    }

    fn disconnected(&mut self, xwm: XwmId) {
        if self.is_current(xwm) {
            self.xwayland_gone();
        }
    }
}

smithay::delegate_xwayland_shell!(Bridge);
