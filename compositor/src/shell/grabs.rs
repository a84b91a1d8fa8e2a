//! Pointer grabs that move and resize windows: the pointer's side of what the shell does.

use smithay::desktop::Window;
use smithay::input::pointer::Focus;
use smithay::input::pointer::{
    AxisFrame, ButtonEvent, GestureHoldBeginEvent, GestureHoldEndEvent, GesturePinchBeginEvent,
    GesturePinchEndEvent, GesturePinchUpdateEvent, GestureSwipeBeginEvent, GestureSwipeEndEvent,
    GestureSwipeUpdateEvent, GrabStartData, MotionEvent, PointerGrab, PointerInnerHandle,
    RelativeMotionEvent,
};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point, Serial};
use smithay::wayland::compositor::with_states;
use smithay::wayland::shell::xdg::SurfaceCachedState;

use super::{placement, Resize};
use crate::state::State;

/// Forwards the pointer events a grab does not care about.
macro_rules! forward_other_pointer_events {
    () => {
        fn relative_motion(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            focus: Option<(WlSurface, Point<f64, Logical>)>,
            event: &RelativeMotionEvent,
        ) {
            handle.relative_motion(data, focus, event);
        }
        fn axis(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            details: AxisFrame,
        ) {
            handle.axis(data, details)
        }
        fn frame(&mut self, data: &mut State, handle: &mut PointerInnerHandle<'_, State>) {
            handle.frame(data);
        }
        fn gesture_swipe_begin(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GestureSwipeBeginEvent,
        ) {
            handle.gesture_swipe_begin(data, event)
        }
        fn gesture_swipe_update(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GestureSwipeUpdateEvent,
        ) {
            handle.gesture_swipe_update(data, event)
        }
        fn gesture_swipe_end(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GestureSwipeEndEvent,
        ) {
            handle.gesture_swipe_end(data, event)
        }
        fn gesture_pinch_begin(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GesturePinchBeginEvent,
        ) {
            handle.gesture_pinch_begin(data, event)
        }
        fn gesture_pinch_update(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GesturePinchUpdateEvent,
        ) {
            handle.gesture_pinch_update(data, event)
        }
        fn gesture_pinch_end(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GesturePinchEndEvent,
        ) {
            handle.gesture_pinch_end(data, event)
        }
        fn gesture_hold_begin(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GestureHoldBeginEvent,
        ) {
            handle.gesture_hold_begin(data, event)
        }
        fn gesture_hold_end(
            &mut self,
            data: &mut State,
            handle: &mut PointerInnerHandle<'_, State>,
            event: &GestureHoldEndEvent,
        ) {
            handle.gesture_hold_end(data, event)
        }
        fn start_data(&self) -> &GrabStartData<State> {
            &self.start_data
        }
    };
}

/// Ends a grab once no button is held any more.
fn release_when_no_button(
    grab: &mut dyn PointerGrab<State>,
    data: &mut State,
    handle: &mut PointerInnerHandle<'_, State>,
    event: &ButtonEvent,
) {
    handle.button(data, event);
    if handle.current_pressed().is_empty() {
        handle.unset_grab(grab, data, event.serial, event.time, true);
    }
}

/// Moves a window with the pointer.
pub struct MoveGrab {
    /// Where the grab started.
    pub start_data: GrabStartData<State>,
    /// The window being moved.
    pub window: Window,
    /// Its location when the grab started.
    pub initial: Point<i32, Logical>,
}

impl PointerGrab<State> for MoveGrab {
    fn motion(
        &mut self,
        data: &mut State,
        handle: &mut PointerInnerHandle<'_, State>,
        _focus: Option<(WlSurface, Point<f64, Logical>)>,
        event: &MotionEvent,
    ) {
        handle.motion(data, None, event);
        let delta = event.location - self.start_data.location;
        let loc = (self.initial.to_f64() + delta).to_i32_round();
        data.comp.queue_redraw_for(&self.window);
        data.comp.shell.move_to(&self.window, loc);
        data.comp.queue_redraw_for(&self.window);
    }

    fn button(
        &mut self,
        data: &mut State,
        handle: &mut PointerInnerHandle<'_, State>,
        event: &ButtonEvent,
    ) {
        release_when_no_button(self, data, handle, event);
    }

    forward_other_pointer_events!();

    fn unset(&mut self, data: &mut State) {
        // Dropped mostly on a kiosk tenant's output, where it would not be shown: back to where
        // the drag started.
        let on_tenant_output = data
            .comp
            .shell
            .output_of(&self.window)
            .is_some_and(|o| !data.comp.shown_on(&self.window, &o));
        if on_tenant_output {
            data.comp.shell.move_to(&self.window, self.initial);
            data.comp.queue_redraw_all();
        }
    }
}

/// Resizes a window with the pointer.
pub struct ResizeGrab {
    start_data: GrabStartData<State>,
    window: Window,
    resize: Resize,
}

impl PointerGrab<State> for ResizeGrab {
    fn motion(
        &mut self,
        data: &mut State,
        handle: &mut PointerInnerHandle<'_, State>,
        _focus: Option<(WlSurface, Point<f64, Logical>)>,
        event: &MotionEvent,
    ) {
        handle.motion(data, None, event);
        let delta = (event.location - self.start_data.location).to_i32_round::<i32>();
        let Some(toplevel) = self.window.toplevel() else {
            return;
        };
        let (min, max) = with_states(toplevel.wl_surface(), |states| {
            let mut cached = states.cached_state.get::<SurfaceCachedState>();
            let current = cached.current();
            (current.min_size, current.max_size)
        });
        let size = placement::resized(self.resize.edges, self.resize.initial.size, delta, min, max);
        data.comp.shell.resize_to(&self.window, size);
    }

    fn button(
        &mut self,
        data: &mut State,
        handle: &mut PointerInnerHandle<'_, State>,
        event: &ButtonEvent,
    ) {
        release_when_no_button(self, data, handle, event);
    }

    forward_other_pointer_events!();

    fn unset(&mut self, data: &mut State) {
        data.comp.shell.end_resize(&self.window);
    }
}

impl State {
    /// Moves a window with the pointer until the button is released.
    pub fn start_move(
        &mut self,
        window: Window,
        start_data: smithay::input::pointer::GrabStartData<State>,
        serial: Serial,
    ) {
        let Some(pointer) = self.comp.seat.get_pointer() else {
            return;
        };
        let Some(initial) = self.comp.shell.location(&window) else {
            return;
        };
        // A kiosk's windows stay where they are.
        if self.comp.is_kiosk(crate::shell::container_name(&window)) {
            return;
        }
        // The window the person drags comes up, as it always has.
        self.comp.shell.raise(&window);
        let grab = MoveGrab {
            start_data,
            window,
            initial,
        };
        pointer.set_grab(self, grab, serial, Focus::Clear);
    }

    /// Resizes a window with the pointer from `edges` until the button is released.
    pub fn start_resize(
        &mut self,
        window: Window,
        start_data: smithay::input::pointer::GrabStartData<State>,
        edges: xdg_toplevel::ResizeEdge,
        serial: Serial,
    ) {
        let Some(pointer) = self.comp.seat.get_pointer() else {
            return;
        };
        if self.comp.is_kiosk(crate::shell::container_name(&window)) {
            return;
        }
        let Some(resize) = self.comp.shell.begin_resize(&window, edges) else {
            return;
        };
        let grab = ResizeGrab {
            start_data,
            window,
            resize,
        };
        pointer.set_grab(self, grab, serial, Focus::Clear);
    }
}
