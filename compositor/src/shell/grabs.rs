//! Pointer grabs that move and resize windows.

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
use smithay::utils::{Logical, Point, Rectangle, Serial, Size};
use smithay::wayland::compositor::with_states;
use smithay::wayland::shell::xdg::SurfaceCachedState;

use crate::shell::with_meta;
use crate::state::{Porthole, State};

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
        data.comp
            .shell
            .space
            .map_element(self.window.clone(), loc, true);
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

    fn unset(&mut self, _data: &mut State) {}
}

/// An interactive resize in progress (or just ended, waiting for the last commit), kept in the
/// window's metadata so that commits can keep the opposite edges still.
#[derive(Debug, Clone, Copy)]
pub struct ResizeState {
    /// Edges being dragged.
    pub edges: xdg_toplevel::ResizeEdge,
    /// Window geometry when the grab started.
    pub initial: Rectangle<i32, Logical>,
    /// The grab has ended; the next commit is the last.
    pub done: bool,
}

fn has_edge(edges: xdg_toplevel::ResizeEdge, edge: xdg_toplevel::ResizeEdge) -> bool {
    (edges as u32) & (edge as u32) != 0
}

/// Resizes a window with the pointer.
pub struct ResizeGrab {
    start_data: GrabStartData<State>,
    window: Window,
    edges: xdg_toplevel::ResizeEdge,
    initial: Rectangle<i32, Logical>,
}

impl ResizeGrab {
    /// Starts a resize from `edges`; `None` when there is nothing to resize.
    pub fn start(
        start_data: GrabStartData<State>,
        window: Window,
        edges: xdg_toplevel::ResizeEdge,
        initial: Rectangle<i32, Logical>,
    ) -> Option<Self> {
        if edges == xdg_toplevel::ResizeEdge::None {
            return None;
        }
        let toplevel = window.toplevel()?;
        toplevel.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Resizing);
        });
        toplevel.send_pending_configure();
        with_meta(&window, |m| {
            m.resize = Some(ResizeState {
                edges,
                initial,
                done: false,
            })
        });
        Some(Self {
            start_data,
            window,
            edges,
            initial,
        })
    }
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
        let mut w = self.initial.size.w;
        let mut h = self.initial.size.h;
        if has_edge(self.edges, xdg_toplevel::ResizeEdge::Left) {
            w -= delta.x;
        }
        if has_edge(self.edges, xdg_toplevel::ResizeEdge::Right) {
            w += delta.x;
        }
        if has_edge(self.edges, xdg_toplevel::ResizeEdge::Top) {
            h -= delta.y;
        }
        if has_edge(self.edges, xdg_toplevel::ResizeEdge::Bottom) {
            h += delta.y;
        }
        let Some(toplevel) = self.window.toplevel() else {
            return;
        };
        let (min, max) = with_states(toplevel.wl_surface(), |states| {
            let mut cached = states.cached_state.get::<SurfaceCachedState>();
            let current = cached.current();
            (current.min_size, current.max_size)
        });
        let clamp = |v: i32, lo: i32, hi: i32| {
            let v = v.max(lo.max(1));
            if hi > 0 {
                v.min(hi)
            } else {
                v
            }
        };
        let size = Size::from((clamp(w, min.w, max.w), clamp(h, min.h, max.h)));
        toplevel.with_pending_state(|s| s.size = Some(size));
        toplevel.send_pending_configure();
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

    fn unset(&mut self, _data: &mut State) {
        if let Some(toplevel) = self.window.toplevel() {
            toplevel.with_pending_state(|s| {
                s.states.unset(xdg_toplevel::State::Resizing);
            });
            toplevel.send_pending_configure();
        }
        with_meta(&self.window, |m| {
            if let Some(r) = m.resize.as_mut() {
                r.done = true;
            }
        });
    }
}

impl Porthole {
    /// After a commit during an interactive resize: keeps the edges opposite the dragged ones
    /// where they were.
    pub fn finish_resize(&mut self, window: &Window) {
        let Some(resize) = with_meta(window, |m| m.resize) else {
            return;
        };
        if resize.done {
            with_meta(window, |m| m.resize = None);
        }
        let Some(mut loc) = self.shell.space.element_location(window) else {
            return;
        };
        let size = window.geometry().size;
        if has_edge(resize.edges, xdg_toplevel::ResizeEdge::Left) {
            loc.x = resize.initial.loc.x + resize.initial.size.w - size.w;
        }
        if has_edge(resize.edges, xdg_toplevel::ResizeEdge::Top) {
            loc.y = resize.initial.loc.y + resize.initial.size.h - size.h;
        }
        self.shell.space.map_element(window.clone(), loc, false);
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
        let Some(initial) = self.comp.shell.space.element_location(&window) else {
            return;
        };
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
        let Some(geo) = self.comp.shell.space.element_geometry(&window) else {
            return;
        };
        let Some(grab) = ResizeGrab::start(start_data, window, edges, geo) else {
            return;
        };
        pointer.set_grab(self, grab, serial, Focus::Clear);
    }
}
