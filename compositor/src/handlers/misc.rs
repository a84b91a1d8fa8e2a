//! Small protocols with little or no policy: viewporter, single-pixel-buffer, presentation-time,
//! fractional-scale and xdg-activation.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::compositor::with_states;
use smithay::wayland::fractional_scale::{with_fractional_scale, FractionalScaleHandler};
use smithay::wayland::xdg_activation::{
    XdgActivationHandler, XdgActivationState, XdgActivationToken, XdgActivationTokenData,
};
use smithay::reexports::wayland_protocols::wp::fractional_scale::v1::server::wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1;
use smithay::reexports::wayland_protocols::wp::fractional_scale::v1::server::wp_fractional_scale_v1::WpFractionalScaleV1;
use smithay::reexports::wayland_protocols::wp::presentation_time::server::wp_presentation::WpPresentation;
use smithay::reexports::wayland_protocols::wp::presentation_time::server::wp_presentation_feedback::WpPresentationFeedback;
use smithay::reexports::wayland_protocols::wp::single_pixel_buffer::v1::server::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1;
use smithay::reexports::wayland_protocols::wp::viewporter::server::wp_viewport::WpViewport;
use smithay::reexports::wayland_protocols::wp::viewporter::server::wp_viewporter::WpViewporter;
use smithay::reexports::wayland_protocols::xdg::activation::v1::server::xdg_activation_token_v1::XdgActivationTokenV1;
use smithay::reexports::wayland_protocols::xdg::activation::v1::server::xdg_activation_v1::XdgActivationV1;
use smithay::reexports::wayland_server::protocol::wl_buffer;
use smithay::reexports::wayland_server::{delegate_dispatch, Weak};
use smithay::wayland::fractional_scale::FractionalScaleManagerState;
use smithay::wayland::presentation::{PresentationFeedbackState, PresentationState};
use smithay::wayland::single_pixel_buffer::{SinglePixelBufferState, SinglePixelBufferUserData};
use smithay::wayland::viewporter::{ViewportState, ViewporterState};
use smithay::wayland::xdg_activation::ActivationTokenData;

use std::time::{Duration, Instant};

use tracing::info;

use crate::state::State;

/// How long an activation token may move the focus after it was made.
const ACTIVATION_LIFETIME: Duration = Duration::from_secs(20);

impl FractionalScaleHandler for State {
    fn new_fractional_scale(&mut self, surface: WlSurface) {
        let scale = self
            .comp
            .shell
            .outputs()
            .next()
            .map(|o| o.current_scale().fractional_scale())
            .unwrap_or(1.0);
        with_states(&surface, |states| {
            with_fractional_scale(states, |fs| fs.set_preferred_scale(scale));
        });
    }
}

impl XdgActivationHandler for State {
    fn activation_state(&mut self) -> &mut XdgActivationState {
        &mut self.comp.globals.activation
    }

    /// A client asks for a token: it is kept (and may later move the focus) only when its serial
    /// is one the compositor sent with an input event to a client of the asker's container. A
    /// forged or borrowed serial gets a token that activates nothing.
    fn token_created(&mut self, _token: XdgActivationToken, data: XdgActivationTokenData) -> bool {
        let Some((serial, _)) = data.serial else {
            return false;
        };
        let Some(client) = data.client_id.and_then(|id| {
            self.comp
                .display_handle
                .backend_handle()
                .get_client_data(id)
                .ok()
        }) else {
            return false;
        };
        let Some(container) = client
            .downcast_ref::<crate::policy::ClientState>()
            .map(|c| c.container.clone())
        else {
            return false;
        };
        let valid = self
            .comp
            .input
            .guard
            .serial_sent_to(serial, &container, Instant::now());
        if !valid {
            info!(
                container,
                serial = u32::from(serial),
                "activation token refused: a serial not sent to it"
            );
        }
        valid
    }

    /// A window brings a token: one the person's input minted, or one `porthole run` passed to
    /// what it started, moves the focus unless the person is typing into another container;
    /// anything else only marks the window as wanting attention.
    fn request_activation(
        &mut self,
        token: XdgActivationToken,
        token_data: XdgActivationTokenData,
        surface: WlSurface,
    ) {
        self.comp.globals.activation.remove_token(&token);
        let Some(window) = self.comp.shell.window_for_surface(&surface) else {
            return;
        };
        if token_data.timestamp.elapsed() < ACTIVATION_LIFETIME {
            self.comp.activate_asked(&window);
        } else {
            self.comp.want_attention(&window);
        }
    }
}

crate::policy_global!(WpViewporter, () => ViewporterState);
delegate_dispatch!(State: [WpViewporter: ()] => ViewporterState);
delegate_dispatch!(State: [WpViewport: ViewportState] => ViewportState);

crate::policy_global!(WpSinglePixelBufferManagerV1, () => SinglePixelBufferState);
delegate_dispatch!(State: [WpSinglePixelBufferManagerV1: ()] => SinglePixelBufferState);
delegate_dispatch!(State: [wl_buffer::WlBuffer: SinglePixelBufferUserData] => SinglePixelBufferState);

crate::policy_global!(WpPresentation, u32 => PresentationState);
delegate_dispatch!(State: [WpPresentation: u32] => PresentationState);
delegate_dispatch!(State: [WpPresentationFeedback: ()] => PresentationFeedbackState);

crate::policy_global!(WpFractionalScaleManagerV1, () => FractionalScaleManagerState);
delegate_dispatch!(State: [WpFractionalScaleManagerV1: ()] => FractionalScaleManagerState);
delegate_dispatch!(State: [WpFractionalScaleV1: Weak<WlSurface>] => FractionalScaleManagerState);

crate::policy_global!(XdgActivationV1, () => XdgActivationState);
delegate_dispatch!(State: [XdgActivationV1: ()] => XdgActivationState);
delegate_dispatch!(State: [XdgActivationTokenV1: ActivationTokenData] => XdgActivationState);
