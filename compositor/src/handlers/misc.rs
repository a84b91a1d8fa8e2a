//! Small protocols with little or no policy: viewporter, single-pixel-buffer, presentation-time,
//! fractional-scale and xdg-activation.

use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::compositor::with_states;
use smithay::wayland::fractional_scale::{with_fractional_scale, FractionalScaleHandler};
use smithay::wayland::xdg_activation::{
    XdgActivationHandler, XdgActivationState, XdgActivationToken, XdgActivationTokenData,
};
use smithay::{
    delegate_fractional_scale, delegate_presentation, delegate_single_pixel_buffer,
    delegate_viewporter, delegate_xdg_activation,
};

use crate::state::State;

impl FractionalScaleHandler for State {
    fn new_fractional_scale(&mut self, surface: WlSurface) {
        let scale = self
            .comp
            .shell
            .space
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
        &mut self.comp.activation_state
    }

    fn request_activation(
        &mut self,
        token: XdgActivationToken,
        token_data: XdgActivationTokenData,
        surface: WlSurface,
    ) {
        // Only a token minted recently while its creator had a say (a serial of an input event
        // it received) may move focus; anything else only marks the window as wanting attention.
        let fresh = token_data.timestamp.elapsed().as_secs() < 10;
        if fresh && token_data.serial.is_some() {
            if let Some(window) = self.comp.shell.window_for_surface(&surface) {
                self.comp.focus_window(Some(&window));
            }
        }
        self.comp.activation_state.remove_token(&token);
    }
}

delegate_viewporter!(State);
delegate_single_pixel_buffer!(State);
delegate_presentation!(State);
delegate_fractional_scale!(State);
delegate_xdg_activation!(State);
