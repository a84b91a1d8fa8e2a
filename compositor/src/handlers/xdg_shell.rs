//! xdg_wm_base (toplevels and popups) and xdg-decoration.

use smithay::desktop::{
    find_popup_root_surface, PopupKeyboardGrab, PopupKind,
    PopupPointerGrab, PopupUngrabStrategy, Window,
};
use smithay::input::pointer::Focus;
use smithay::input::Seat;
use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::protocol::{wl_output, wl_seat};
use smithay::reexports::wayland_server::Resource;
use smithay::utils::Serial;
use smithay::wayland::shell::xdg::decoration::XdgDecorationHandler;
use smithay::wayland::shell::xdg::{
    Configure, PopupSurface, PositionerState, ToplevelSurface, XdgShellHandler, XdgShellState,
};
use smithay::output::Output;
use smithay::delegate_xdg_decoration;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_popup::XdgPopup;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_positioner::XdgPositioner;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_surface::XdgSurface;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::XdgToplevel;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_wm_base::XdgWmBase;
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::wayland::shell::xdg::{
    XdgPositionerUserData, XdgShellSurfaceUserData, XdgSurfaceUserData, XdgWmBaseUserData,
};
use tracing::warn;

use crate::bounds::OverLimit;
use crate::shell::window::{
    configure_after_ack, pending_configures, send_configure_bounded, MAX_PENDING_CONFIGURES,
};
use crate::state::State;

impl XdgShellHandler for State {
    fn xdg_shell_state(&mut self) -> &mut XdgShellState {
        &mut self.comp.globals.xdg_shell
    }

    fn new_toplevel(&mut self, surface: ToplevelSurface) {
        let Some(client) = surface.wl_surface().client() else {
            return;
        };
        let container = crate::policy::container_of(&client);
        if let Some(c) = self.comp.containers.get(container.as_str()) {
            let limit = c.limits.toplevels as usize;
            if self.comp.container_toplevels(&container) >= limit {
                let detail = format!("more than {limit} toplevel windows");
                self.comp.quota_hit(&container, "toplevels", detail.clone());
                let message = format!("toplevels limit of container {container}: {detail}");
                let object = surface.xdg_toplevel().id();
                self.comp.disconnect(&client, Some((object, 2, message)));
                return;
            }
        }
        // A client that never binds xdg-decoration draws its own (the protocol's default), so
        // only `new_decoration` turns server-side decorations on.
        let window = Window::new_wayland_window(surface);
        self.comp.shell.add(window.clone(), &container);
        if let Some(output) = self.comp.kiosk_output(&container) {
            // A kiosk's windows fill its output from their first configure on.
            self.comp.fullscreen(&window, Some(output));
        }
    }

    fn new_popup(&mut self, surface: PopupSurface, _positioner: PositionerState) {
        self.comp.unconstrain_popup(&surface);
        if let Err(err) = self.comp.popups.track_popup(PopupKind::Xdg(surface)) {
            warn!(?err, "cannot track a popup");
        }
    }

    fn reposition_request(
        &mut self,
        surface: PopupSurface,
        positioner: PositionerState,
        token: u32,
    ) {
        surface.with_pending_state(|state| {
            state.geometry = positioner.get_geometry();
            state.positioner = positioner;
        });
        if pending_configures(surface.wl_surface()) >= MAX_PENDING_CONFIGURES {
            // Each reposition is a configure the client must acknowledge; one that asks again and
            // again without acknowledging would make smithay's list of them grow without end.
            if let Some(client) = surface.wl_surface().client() {
                let over = OverLimit {
                    what: format!(
                        "more than {MAX_PENDING_CONFIGURES} popup repositions not acknowledged"
                    ),
                    limit: "pending_configures",
                    value: MAX_PENDING_CONFIGURES as u32,
                };
                self.comp
                    .over_limit(&client, surface.xdg_popup().id(), over);
            }
            return;
        }
        self.comp.unconstrain_popup(&surface);
        surface.send_repositioned(token);
    }

    fn ack_configure(&mut self, surface: WlSurface, _configure: Configure) {
        if let Some(window) = self.comp.shell.window_for_surface(&surface) {
            if let Some(toplevel) = window.toplevel() {
                configure_after_ack(toplevel);
            }
        }
    }

    fn move_request(&mut self, surface: ToplevelSurface, _seat: wl_seat::WlSeat, serial: Serial) {
        let Some(start_data) = self.comp.pointer_grab_start(surface.wl_surface(), serial) else {
            return;
        };
        let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) else {
            return;
        };
        self.start_move(window, start_data, serial);
    }

    fn resize_request(
        &mut self,
        surface: ToplevelSurface,
        _seat: wl_seat::WlSeat,
        serial: Serial,
        edges: xdg_toplevel::ResizeEdge,
    ) {
        let Some(start_data) = self.comp.pointer_grab_start(surface.wl_surface(), serial) else {
            return;
        };
        let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) else {
            return;
        };
        self.start_resize(window, start_data, edges, serial);
    }

    fn grab(&mut self, surface: PopupSurface, seat: wl_seat::WlSeat, serial: Serial) {
        let Some(seat) = Seat::<State>::from_resource(&seat) else {
            return;
        };
        let kind = PopupKind::Xdg(surface);
        let Ok(root) = find_popup_root_surface(&kind) else {
            return;
        };
        let Ok(mut grab) = self.comp.popups.grab_popup(root, kind, &seat, serial) else {
            return;
        };
        if let Some(keyboard) = seat.get_keyboard() {
            if keyboard.is_grabbed()
                && !(keyboard.has_grab(serial)
                    || keyboard.has_grab(grab.previous_serial().unwrap_or(serial)))
            {
                grab.ungrab(PopupUngrabStrategy::All);
                return;
            }
            keyboard.set_focus(self, grab.current_grab(), serial);
            keyboard.set_grab(self, PopupKeyboardGrab::new(&grab), serial);
        }
        if let Some(pointer) = seat.get_pointer() {
            if pointer.is_grabbed()
                && !(pointer.has_grab(serial)
                    || pointer.has_grab(grab.previous_serial().unwrap_or_else(|| grab.serial())))
            {
                grab.ungrab(PopupUngrabStrategy::All);
                return;
            }
            pointer.set_grab(self, PopupPointerGrab::new(&grab), serial, Focus::Keep);
        }
        self.comp.popup_grab = Some(grab);
    }

    fn maximize_request(&mut self, surface: ToplevelSurface) {
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            self.comp.maximize(&window);
        }
    }

    fn unmaximize_request(&mut self, surface: ToplevelSurface) {
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            self.comp.unmaximize(&window);
        }
    }

    fn fullscreen_request(
        &mut self,
        surface: ToplevelSurface,
        output: Option<wl_output::WlOutput>,
    ) {
        let output = output.as_ref().and_then(Output::from_resource);
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            // Where it is in the stack: asking is no way to take the focus or come up over the
            // window the person is using.
            self.comp.cover_output(&window, output);
        }
    }

    fn unfullscreen_request(&mut self, surface: ToplevelSurface) {
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            self.comp.unfullscreen(&window);
        }
    }

    fn minimize_request(&mut self, surface: ToplevelSurface) {
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            self.comp.minimize(&window);
        }
    }

    fn toplevel_destroyed(&mut self, surface: ToplevelSurface) {
        let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) else {
            return;
        };
        self.comp.window_destroyed(&window);
        self.refresh_pointer_focus();
    }

    fn popup_destroyed(&mut self, _surface: PopupSurface) {
        self.comp.queue_redraw_all();
        // The pointer leaves the popup while its wl_surface still exists to be named in the
        // leave event; the window under it gets the pointer back.
        self.comp.popups.cleanup();
        self.refresh_pointer_focus();
    }

    fn title_changed(&mut self, surface: ToplevelSurface) {
        if let Some(window) = self.comp.shell.window_for_surface(surface.wl_surface()) {
            self.comp.queue_redraw_for(&window);
        }
    }
}

impl XdgDecorationHandler for State {
    fn new_decoration(&mut self, toplevel: ToplevelSurface) {
        toplevel.with_pending_state(|s| s.decoration_mode = Some(DecorationMode::ServerSide));
        if toplevel.is_initial_configure_sent() {
            send_configure_bounded(&toplevel);
        }
    }

    fn request_mode(&mut self, toplevel: ToplevelSurface, mode: DecorationMode) {
        toplevel.with_pending_state(|s| s.decoration_mode = Some(mode));
        if toplevel.is_initial_configure_sent() {
            send_configure_bounded(&toplevel);
        }
        self.comp.queue_redraw_all();
    }

    fn unset_mode(&mut self, toplevel: ToplevelSurface) {
        toplevel.with_pending_state(|s| s.decoration_mode = Some(DecorationMode::ServerSide));
        if toplevel.is_initial_configure_sent() {
            send_configure_bounded(&toplevel);
        }
        self.comp.queue_redraw_all();
    }
}

crate::policy_global!(XdgWmBase, () => XdgShellState);
delegate_dispatch!(State: [XdgWmBase: XdgWmBaseUserData] => XdgShellState);
delegate_dispatch!(State: [XdgPositioner: XdgPositionerUserData] => XdgShellState);
delegate_dispatch!(State: [XdgPopup: XdgShellSurfaceUserData] => XdgShellState);
delegate_dispatch!(State: [XdgSurface: XdgSurfaceUserData] => XdgShellState);
delegate_dispatch!(State: [XdgToplevel: XdgShellSurfaceUserData] => XdgShellState);
delegate_xdg_decoration!(State);
