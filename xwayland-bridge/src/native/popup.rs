//! A native popup (a menu, a tooltip) and its host popup: made once its parent shows on the
//! host, placed by the host with the client's positioner, and dismissed by either side.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Rectangle};
use smithay::wayland::shell::xdg::{PopupSurface, PositionerState};
use smithay_client_toolkit::shell::xdg::popup::{Popup, PopupConfigure};
use smithay_client_toolkit::shell::xdg::{XdgPositioner, XdgSurface as _};
use tracing::debug;
use wayland_client::Proxy as _;
use wayland_protocols::xdg::shell::client::xdg_positioner::{
    Anchor as HostAnchor, ConstraintAdjustment as HostAdjustment, Gravity as HostGravity,
};

use super::show_commit;
use crate::bridge::Bridge;
use crate::host::view::HostView;

/// One native popup (a menu, a tooltip) and its host counterpart: a host popup of the host
/// surface that shows its parent, placed by the same positioner.
#[derive(Debug)]
pub struct NativePopup {
    pub popup: PopupSurface,
    pub role: Option<Popup>,
    pub view: HostView,
    /// The client asked for a grab (a menu): the host popup asks for one too.
    pub(super) grab: bool,
    /// The window geometry last set on the host.
    pub(super) geometry: Option<Rectangle<i32, Logical>>,
}

/// The host's version of a native client's positioner.
pub(super) fn host_positioner(
    host: &crate::host::Host,
    state: &PositionerState,
) -> Option<XdgPositioner> {
    let positioner = XdgPositioner::new(&host.xdg).ok()?;
    let size = state.rect_size;
    positioner.set_size(size.w.max(1), size.h.max(1));
    let anchor = state.anchor_rect;
    positioner.set_anchor_rect(
        anchor.loc.x,
        anchor.loc.y,
        anchor.size.w.max(1),
        anchor.size.h.max(1),
    );
    if let Ok(edges) = HostAnchor::try_from(u32::from(state.anchor_edges)) {
        positioner.set_anchor(edges);
    }
    if let Ok(gravity) = HostGravity::try_from(u32::from(state.gravity)) {
        positioner.set_gravity(gravity);
    }
    positioner.set_constraint_adjustment(HostAdjustment::from_bits_truncate(
        state.constraint_adjustment.bits(),
    ));
    positioner.set_offset(state.offset.x, state.offset.y);
    if state.reactive && positioner.version() >= 3 {
        positioner.set_reactive();
    }
    Some(positioner)
}

impl Bridge {
    /// Gives a native popup its host popup, once the client made its initial commit and its
    /// parent is shown on the host.
    fn create_native_popup_role(&mut self, index: usize) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let native = &self.native_popups[index];
        if native.role.is_some() || !native.popup.alive() {
            return;
        }
        let Some(parent) = native.popup.get_parent_surface() else {
            return;
        };
        let Some(parent_xdg) = self.host_xdg_surface_of_native(&parent) else {
            // A popup of a surface the host does not show cannot be placed: it closes.
            native.popup.send_popup_done();
            return;
        };
        let Some(positioner) =
            host_positioner(host, &native.popup.with_pending_state(|s| s.positioner))
        else {
            return;
        };
        let qh = host.qh.clone();
        let surface = host.compositor.create_surface(&qh);
        match Popup::from_surface(Some(&parent_xdg), &positioner, &qh, surface, &host.xdg) {
            Ok(popup) => {
                if native.grab {
                    if let (Some(seat), serial) = (host.seat.as_ref(), host.last_serial) {
                        popup.xdg_popup().grab(seat, serial);
                    }
                }
                popup.wl_surface().commit();
                self.native_popups[index].role = Some(popup);
            }
            Err(err) => {
                debug!(?err, "creating a host popup failed");
                native.popup.send_popup_done();
            }
        }
    }

    /// The host xdg_surface that shows a native toplevel or popup.
    fn host_xdg_surface_of_native(
        &self,
        surface: &WlSurface,
    ) -> Option<wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface> {
        if let Some(window) = self.host_window_of_native(surface) {
            return Some(window.xdg_surface().clone());
        }
        self.native_popups
            .iter()
            .find(|p| p.popup.wl_surface() == surface)
            .and_then(|p| p.role.as_ref())
            .map(|r| r.xdg_surface().clone())
    }

    /// The host configured a popup; returns false when it is not a native one.
    pub fn native_popup_configured(
        &mut self,
        host_popup: &Popup,
        configure: &PopupConfigure,
    ) -> bool {
        let Some(index) = self
            .native_popups
            .iter()
            .position(|p| p.role.as_ref() == Some(host_popup))
        else {
            return false;
        };
        let native = &mut self.native_popups[index];
        native.popup.with_pending_state(|state| {
            state.geometry = Rectangle::new(
                configure.position.into(),
                (configure.width, configure.height).into(),
            );
        });
        if let Err(err) = native.popup.send_configure() {
            debug!(?err, "configuring a native popup failed");
        }
        let surface = native.popup.wl_surface().clone();
        if let Some(host) = self.host.as_mut() {
            let now_ms = self.started.elapsed().as_millis() as u32;
            self.subsurfaces
                .forward(host, &surface, host_popup.wl_surface(), now_ms);
            native
                .view
                .configured(host, Some(&surface), host_popup.wl_surface());
        }
        true
    }

    /// The host dismissed a popup; returns false when it is not a native one.
    pub fn native_popup_dismissed(&mut self, host_popup: &Popup) -> bool {
        let Some(native) = self
            .native_popups
            .iter_mut()
            .find(|p| p.role.as_ref() == Some(host_popup))
        else {
            return false;
        };
        native.popup.send_popup_done();
        native.role = None;
        native.view.forget_host();
        true
    }

    pub(super) fn native_popup_commit(&mut self, index: usize, surface: &WlSurface) -> bool {
        if self.native_popups[index].role.is_none() {
            if self.host.is_some() {
                self.create_native_popup_role(index);
            } else {
                self.native_popups[index].popup.send_popup_done();
            }
            return false;
        }
        let now_ms = self.now_ms();
        let native = &mut self.native_popups[index];
        let role = native
            .role
            .as_ref()
            .map(|r| (r.xdg_surface(), r.wl_surface()));
        show_commit(
            self.host.as_mut(),
            role,
            &mut native.view,
            &mut native.geometry,
            &mut self.subsurfaces,
            surface,
            now_ms,
        )
    }
}
