//! What the host says about the surfaces and windows the bridge shows there: frames done,
//! outputs that change the desktop's size, configures and close requests of toplevels and
//! popups, where it placed an X11 toplevel (porthole_x11_v1), and its ask to let go before a
//! checkpoint (porthole_bridge_v1).

use porthole_protocols::bridge::client::porthole_bridge_v1::{self, PortholeBridgeV1};
use porthole_protocols::x11::client::porthole_x11_manager_v1::PortholeX11ManagerV1;
use porthole_protocols::x11::client::porthole_x11_toplevel_v1::{self, PortholeX11ToplevelV1};
use smithay_client_toolkit::compositor::CompositorHandler;
use smithay_client_toolkit::output::{OutputHandler, OutputState};
use smithay_client_toolkit::shell::xdg::popup::{Popup, PopupConfigure, PopupHandler};
use smithay_client_toolkit::shell::xdg::window::{Window, WindowConfigure, WindowHandler};
use tracing::info;
use wayland_client::protocol::wl_output::{Transform, WlOutput};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::{Connection, Dispatch, QueueHandle};

use crate::bridge::Bridge;

impl CompositorHandler for Bridge {
    fn scale_factor_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: i32,
    ) {
    }

    fn transform_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: Transform,
    ) {
    }

    fn frame(&mut self, _: &Connection, _: &QueueHandle<Self>, surface: &HostSurface, time: u32) {
        self.host_frame_done(surface, time);
    }

    fn surface_enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: &WlOutput,
    ) {
    }

    fn surface_leave(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &HostSurface,
        _: &WlOutput,
    ) {
    }
}

impl OutputHandler for Bridge {
    fn output_state(&mut self) -> &mut OutputState {
        &mut self.connected().outputs
    }

    fn new_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }

    fn update_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }

    fn output_destroyed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: WlOutput) {
        self.resize_desktop();
    }
}

impl WindowHandler for Bridge {
    fn request_close(&mut self, _: &Connection, _: &QueueHandle<Self>, window: &Window) {
        if !self.native_close_requested(window) {
            self.close_requested(window);
        }
    }

    fn configure(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        window: &Window,
        configure: WindowConfigure,
        _serial: u32,
    ) {
        if self.native_configured(window, &configure) {
            return;
        }
        let size = match configure.new_size {
            (Some(w), Some(h)) => Some((w.get(), h.get())),
            _ => None,
        };
        self.toplevel_configured(
            window,
            size,
            configure.is_activated(),
            configure.is_maximized(),
            configure.is_fullscreen(),
        );
    }
}

impl PopupHandler for Bridge {
    fn configure(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        popup: &Popup,
        configure: PopupConfigure,
    ) {
        if !self.native_popup_configured(popup, &configure) {
            self.popup_configured(popup);
        }
    }

    fn done(&mut self, _: &Connection, _: &QueueHandle<Self>, popup: &Popup) {
        if !self.native_popup_dismissed(popup) {
            self.popup_dismissed(popup);
        }
    }
}

impl Dispatch<PortholeX11ManagerV1, ()> for Bridge {
    fn event(
        _: &mut Self,
        _: &PortholeX11ManagerV1,
        _: <PortholeX11ManagerV1 as wayland_client::Proxy>::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

/// The X11 window a followed toplevel shows.
impl Dispatch<PortholeX11ToplevelV1, u32> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &PortholeX11ToplevelV1,
        event: porthole_x11_toplevel_v1::Event,
        window: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let porthole_x11_toplevel_v1::Event::Position { x, y } = event {
            bridge.placed(*window, (x, y));
        }
    }
}

/// The compositor asks the bridge to let go before a checkpoint; the bridge does once this
/// dispatch is over.
impl Dispatch<PortholeBridgeV1, ()> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &PortholeBridgeV1,
        event: porthole_bridge_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let porthole_bridge_v1::Event::Detach = event {
            info!("the compositor asks the bridge to detach for a checkpoint");
            bridge.loop_handle.insert_idle(|bridge| bridge.detach());
        }
    }
}

smithay_client_toolkit::delegate_compositor!(Bridge);
smithay_client_toolkit::delegate_subcompositor!(Bridge);
smithay_client_toolkit::delegate_output!(Bridge);
smithay_client_toolkit::delegate_xdg_shell!(Bridge);
smithay_client_toolkit::delegate_xdg_window!(Bridge);
smithay_client_toolkit::delegate_xdg_popup!(Bridge);
