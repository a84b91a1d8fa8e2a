//! xdg-shell and xdg-decoration as the bridge serves them to native clients: each toplevel and
//! popup a client makes is tracked for forwarding (see [`super::toplevel`], [`super::popup`]),
//! and the decorations are always the compositor's.

use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_server::protocol::wl_seat::WlSeat;
use smithay::utils::Serial;
use smithay::wayland::shell::xdg::decoration::XdgDecorationHandler;
use smithay::wayland::shell::xdg::{
    PopupSurface, PositionerState, ToplevelSurface, XdgShellHandler,
    XdgShellState,
};
use tracing::debug;
use wayland_client::Proxy as _;

use super::popup::host_positioner;
use super::{Native, NativeClient, NativePopup};
use crate::bridge::Bridge;
use crate::host::view::HostView;

impl XdgShellHandler for Bridge {
    fn xdg_shell_state(&mut self) -> &mut XdgShellState {
        &mut self
            .server
            .native
            .as_mut()
            .expect("xdg-shell is offered only with --serve-wayland")
            .xdg_shell
    }

    fn new_toplevel(&mut self, toplevel: ToplevelSurface) {
        self.last_token += 1;
        // The client's pid lets `porthole checkpoint` name the windows of a process it refuses.
        let pid = smithay::reexports::wayland_server::Resource::client(toplevel.wl_surface())
            .and_then(|c| c.get_data::<NativeClient>()?.pid)
            .unwrap_or(0);
        let token = format!("wl-{}-p{pid}", self.last_token);
        debug!(%token, "a native toplevel");
        self.natives.push(Native {
            toplevel,
            role: None,
            view: HostView::new(token),
            names_changed: false,
            decorated: false,
            geometry: None,
        });
    }

    fn toplevel_destroyed(&mut self, toplevel: ToplevelSurface) {
        self.natives.retain(|n| n.toplevel != toplevel);
    }

    fn new_popup(&mut self, popup: PopupSurface, _: PositionerState) {
        self.native_popups.push(NativePopup {
            popup,
            role: None,
            view: HostView::new(String::new()),
            grab: false,
            geometry: None,
        });
    }

    fn popup_destroyed(&mut self, popup: PopupSurface) {
        self.native_popups.retain(|p| p.popup != popup);
    }

    fn grab(&mut self, popup: PopupSurface, _: WlSeat, _: Serial) {
        // The grab goes with the host popup, made on the popup's first commit (which follows
        // the grab request).
        if let Some(native) = self.native_popups.iter_mut().find(|p| p.popup == popup) {
            native.grab = true;
        }
    }

    fn reposition_request(&mut self, popup: PopupSurface, positioner: PositionerState, token: u32) {
        let Some(host) = self.host.as_ref() else {
            return;
        };
        let Some(native) = self.native_popups.iter().find(|p| p.popup == popup) else {
            return;
        };
        popup.with_pending_state(|s| s.positioner = positioner);
        if let (Some(role), Some(host_positioner)) =
            (&native.role, host_positioner(host, &positioner))
        {
            if role.xdg_popup().version() >= 3 {
                role.reposition(&host_positioner, token);
                popup.send_repositioned(token);
            }
        }
    }

    fn title_changed(&mut self, toplevel: ToplevelSurface) {
        self.names_changed(&toplevel);
    }

    fn app_id_changed(&mut self, toplevel: ToplevelSurface) {
        self.names_changed(&toplevel);
    }
}

/// The compositor draws every container window's frame, so native clients are told not to.
impl XdgDecorationHandler for Bridge {
    fn new_decoration(&mut self, toplevel: ToplevelSurface) {
        toplevel
            .with_pending_state(|state| state.decoration_mode = Some(DecorationMode::ServerSide));
        if let Some(native) = self.natives.iter_mut().find(|n| n.toplevel == toplevel) {
            native.decorated = true;
        }
    }

    fn request_mode(&mut self, toplevel: ToplevelSurface, _: DecorationMode) {
        self.new_decoration(toplevel.clone());
        if toplevel.is_initial_configure_sent() {
            toplevel.send_pending_configure();
        }
    }

    fn unset_mode(&mut self, toplevel: ToplevelSurface) {
        self.request_mode(toplevel, DecorationMode::ServerSide);
    }
}

smithay::delegate_xdg_shell!(Bridge);
smithay::delegate_xdg_decoration!(Bridge);
