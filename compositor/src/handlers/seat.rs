//! wl_seat and the cursor it shows (cursor images and cursor-shape).

use smithay::input::keyboard::LedState;
use smithay::input::pointer::CursorImageStatus;
use smithay::input::{Seat, SeatHandler, SeatState};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::tablet_manager::TabletSeatHandler;
use smithay::reexports::wayland_protocols::wp::cursor_shape::v1::server::wp_cursor_shape_device_v1::WpCursorShapeDeviceV1;
use smithay::reexports::wayland_protocols::wp::cursor_shape::v1::server::wp_cursor_shape_manager_v1::WpCursorShapeManagerV1;
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::reexports::wayland_server::protocol::{wl_keyboard, wl_pointer, wl_seat, wl_touch};
use smithay::wayland::cursor_shape::{CursorShapeDeviceUserData, CursorShapeManagerState};
use smithay::wayland::seat::{KeyboardUserData, PointerUserData, SeatGlobalData, SeatUserData, TouchUserData};

use crate::state::State;

impl SeatHandler for State {
    type KeyboardFocus = WlSurface;
    type PointerFocus = WlSurface;
    type TouchFocus = WlSurface;

    fn seat_state(&mut self) -> &mut SeatState<State> {
        &mut self.comp.globals.seat
    }

    fn focus_changed(&mut self, seat: &Seat<Self>, focused: Option<&WlSurface>) {
        self.comp.offer_selections(seat, focused);
    }

    fn cursor_image(&mut self, _seat: &Seat<Self>, image: CursorImageStatus) {
        self.comp.input.cursor = image;
        self.comp.queue_redraw_all();
    }

    fn led_state_changed(&mut self, _seat: &Seat<Self>, led_state: LedState) {
        if let crate::backend::Backend::Drm(drm) = &mut self.backend {
            drm.set_leds(led_state);
        }
    }
}

impl TabletSeatHandler for State {}

crate::policy_global!(wl_seat::WlSeat, SeatGlobalData<State> => SeatState<State>);
delegate_dispatch!(State: [wl_seat::WlSeat: SeatUserData<State>] => SeatState<State>);
delegate_dispatch!(State: [wl_pointer::WlPointer: PointerUserData<State>] => SeatState<State>);
delegate_dispatch!(State: [wl_keyboard::WlKeyboard: KeyboardUserData<State>] => SeatState<State>);
delegate_dispatch!(State: [wl_touch::WlTouch: TouchUserData<State>] => SeatState<State>);

crate::policy_global!(WpCursorShapeManagerV1, () => CursorShapeManagerState);
delegate_dispatch!(State: [WpCursorShapeManagerV1: ()] => CursorShapeManagerState);
delegate_dispatch!(State: [WpCursorShapeDeviceV1: CursorShapeDeviceUserData<State>] => CursorShapeManagerState);
