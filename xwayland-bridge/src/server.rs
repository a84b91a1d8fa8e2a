//! The Wayland server the container's Xwayland talks to, and the X11 window manager.
//!
//! Xwayland connects here through the socket pair Smithay's `XWayland::spawn` creates; in a
//! checkpointable container the native clients do too, through the container's Wayland socket
//! (see [`crate::native`]). The bridge offers a compositor, shm, one seat and one output the size
//! of the host's desktop. Buffers clients commit are held until the host surface showing them
//! can take a copy; see [`crate::x11::mirror`] and [`crate::native::subsurface`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

use smithay::input::keyboard::{KeyboardTarget, KeysymHandle, ModifiersState};
use smithay::input::pointer::CursorImageStatus;
use smithay::input::{Seat, SeatHandler, SeatState};
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_surface::{self, WlSurface};
use smithay::reexports::wayland_server::{Client, Resource as _};
use smithay::utils::{Buffer as BufferCoords, IsAlive, Logical, Rectangle, Serial};
use smithay::wayland::buffer::BufferHandler;
use smithay::wayland::compositor::{
    is_sync_subsurface, with_states, with_surface_tree_upward, BufferAssignment,
    CompositorClientState, CompositorHandler, CompositorState, Damage, SurfaceAttributes,
    SurfaceData, TraversalAction,
};
use smithay::wayland::output::OutputHandler;
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::selection::SelectionTarget;
use smithay::wayland::shm::{ShmHandler, ShmState};
use smithay::wayland::xwayland_shell::{XWaylandShellHandler, XWaylandShellState};
use smithay::xwayland::xwm::{Reorder, ResizeEdge, WmWindowProperty, XwmId};
use smithay::xwayland::{X11Surface, X11Wm, XWaylandClientData, XwmHandler};
use tracing::{debug, warn};

use crate::Bridge;

/// The buffer Xwayland last committed on a surface, waiting to be copied to the host, and what
/// changed since the last copy.
#[derive(Debug, Default)]
pub struct HeldBuffer {
    buffer: Option<WlBuffer>,
    damage: Vec<Rectangle<i32, BufferCoords>>,
    /// Too many rectangles, or an unknown extent: the whole buffer.
    whole: bool,
    /// The client took its buffer away (attached none) since the last copy.
    removed: bool,
}

/// Past this many rectangles, the host is told the whole buffer changed.
const MAX_DAMAGE_RECTS: usize = 32;

/// What changed in a forwarded buffer: some rectangles, or all of it.
#[derive(Debug)]
pub enum Changed {
    Rects(Vec<Rectangle<i32, BufferCoords>>),
    Whole,
}

/// Takes the buffers a commit of `surface` applied, on it and on the synchronized subsurfaces
/// whose state it applied with its own (releasing ones still held from before), and their damage.
/// A synchronized subsurface's own commit applies nothing yet.
/// Clients draw at scale 1, so surface and buffer coordinates are the same.
fn hold_committed_buffers(surface: &WlSurface) {
    if is_sync_subsurface(surface) {
        return;
    }
    with_surface_tree_upward(
        surface,
        (),
        |_, _, _| TraversalAction::DoChildren(()),
        |_, states, _| hold_committed_buffer(states),
        |_, _, _| true,
    );
}

fn hold_committed_buffer(states: &SurfaceData) {
    let mut attributes = states.cached_state.get::<SurfaceAttributes>();
    let current = attributes.current();
    let assignment = current.buffer.take();
    let damage: Vec<Damage> = std::mem::take(&mut current.damage);
    let held = states
        .data_map
        .get_or_insert(|| RefCell::new(HeldBuffer::default()));
    let mut held = held.borrow_mut();
    for d in damage {
        let rect = match d {
            Damage::Buffer(r) => r,
            Damage::Surface(r) => {
                Rectangle::new((r.loc.x, r.loc.y).into(), (r.size.w, r.size.h).into())
            }
        };
        held.damage.push(rect);
    }
    if held.damage.len() > MAX_DAMAGE_RECTS {
        held.whole = true;
        held.damage.clear();
    }
    match assignment {
        Some(BufferAssignment::NewBuffer(buffer)) => {
            held.removed = false;
            if let Some(old) = held.buffer.replace(buffer) {
                old.release();
            }
        }
        Some(BufferAssignment::Removed) => {
            held.removed = true;
            if let Some(old) = held.buffer.take() {
                old.release();
            }
        }
        None => {}
    }
}

/// Whether the client took the buffer of `surface` away since the last look.
pub fn take_removed_buffer(surface: &WlSurface) -> bool {
    with_states(surface, |states| {
        states
            .data_map
            .get::<RefCell<HeldBuffer>>()
            .is_some_and(|held| std::mem::take(&mut held.borrow_mut().removed))
    })
}

/// The buffer held for `surface`, if Xwayland committed one since the last copy, and what
/// changed since then.
pub fn take_held_buffer(surface: &WlSurface) -> Option<(WlBuffer, Changed)> {
    with_states(surface, |states| {
        let held = states.data_map.get::<RefCell<HeldBuffer>>()?;
        let mut held = held.borrow_mut();
        let buffer = held.buffer.take()?;
        let damage = std::mem::take(&mut held.damage);
        let changed = if std::mem::take(&mut held.whole) || damage.is_empty() {
            Changed::Whole
        } else {
            Changed::Rects(damage)
        };
        Some((buffer, changed))
    })
}

/// Answers the frame callbacks Xwayland asked for on `surface`.
pub fn send_frame_callbacks(surface: &WlSurface, time: u32) {
    with_states(surface, |states| {
        let mut attributes = states.cached_state.get::<SurfaceAttributes>();
        for callback in attributes.current().frame_callbacks.drain(..) {
            callback.done(time);
        }
    });
}

impl CompositorHandler for Bridge {
    fn compositor_state(&mut self) -> &mut CompositorState {
        &mut self.server.compositor
    }

    fn client_compositor_state<'a>(&self, client: &'a Client) -> &'a CompositorClientState {
        static FALLBACK: OnceLock<CompositorClientState> = OnceLock::new();
        if let Some(data) = client.get_data::<XWaylandClientData>() {
            return &data.compositor_state;
        }
        match client.get_data::<crate::native::NativeClient>() {
            Some(data) => &data.compositor,
            None => FALLBACK.get_or_init(CompositorClientState::default),
        }
    }

    /// The bridge forwards subsurface trees to the compositor, which disconnects a client (the
    /// bridge, and with it the container) whose trees break its limits: the client that breaks
    /// them here is disconnected instead.
    fn new_subsurface(&mut self, surface: &WlSurface, _parent: &WlSurface) {
        if let Some(broken) = porthole_protocols::limits::broken(surface) {
            warn!("{broken}: disconnecting the client");
            surface.post_error(wl_surface::Error::InvalidSize, broken);
        }
    }

    fn commit(&mut self, surface: &WlSurface) {
        hold_committed_buffers(surface);
        self.pair_surfaces();
        let shown =
            self.forward(surface) || self.native_commit(surface) || self.cursor_commit(surface);
        if !shown && !self.detached && !self.frame_callbacks_wait(surface) {
            // Nothing on the host shows this surface yet: keep the client drawing. While the
            // bridge is detached, clients wait instead of drawing frames nobody sees.
            send_frame_callbacks(surface, self.now_ms());
        }
    }
}

impl BufferHandler for Bridge {
    fn buffer_destroyed(&mut self, _buffer: &WlBuffer) {}
}

impl ShmHandler for Bridge {
    fn shm_state(&self) -> &ShmState {
        &self.server.shm
    }
}

impl OutputHandler for Bridge {}

/// The keyboard focus: a native toplevel's surface, or an X11 window and the surface Xwayland
/// draws it in. Entering an X11 window sets the X input focus (or sends WM_TAKE_FOCUS) as well as
/// the Wayland one.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFocus {
    pub window: Option<X11Surface>,
    pub surface: WlSurface,
}

impl IsAlive for KeyFocus {
    fn alive(&self) -> bool {
        self.surface.alive() && self.window.as_ref().is_none_or(|w| w.alive())
    }
}

impl WaylandFocus for KeyFocus {
    fn wl_surface(&self) -> Option<Cow<'_, WlSurface>> {
        Some(Cow::Borrowed(&self.surface))
    }
}

impl KeyboardTarget<Bridge> for KeyFocus {
    fn enter(
        &self,
        seat: &Seat<Bridge>,
        data: &mut Bridge,
        keys: Vec<KeysymHandle<'_>>,
        serial: Serial,
    ) {
        if let Some(window) = &self.window {
            KeyboardTarget::enter(window, seat, data, Vec::new(), serial);
        }
        KeyboardTarget::enter(&self.surface, seat, data, keys, serial);
    }

    fn leave(&self, seat: &Seat<Bridge>, data: &mut Bridge, serial: Serial) {
        if let Some(window) = &self.window {
            KeyboardTarget::leave(window, seat, data, serial);
        }
        KeyboardTarget::leave(&self.surface, seat, data, serial);
    }

    fn key(
        &self,
        seat: &Seat<Bridge>,
        data: &mut Bridge,
        key: KeysymHandle<'_>,
        state: smithay::backend::input::KeyState,
        serial: Serial,
        time: u32,
    ) {
        KeyboardTarget::key(&self.surface, seat, data, key, state, serial, time);
    }

    fn modifiers(
        &self,
        seat: &Seat<Bridge>,
        data: &mut Bridge,
        modifiers: ModifiersState,
        serial: Serial,
    ) {
        KeyboardTarget::modifiers(&self.surface, seat, data, modifiers, serial);
    }
}

impl SeatHandler for Bridge {
    type KeyboardFocus = KeyFocus;
    type PointerFocus = WlSurface;
    type TouchFocus = WlSurface;

    fn seat_state(&mut self) -> &mut SeatState<Bridge> {
        &mut self.server.seat_state
    }

    fn cursor_image(&mut self, _seat: &Seat<Bridge>, image: CursorImageStatus) {
        self.set_cursor_image(image);
    }

    fn focus_changed(&mut self, seat: &Seat<Bridge>, focused: Option<&KeyFocus>) {
        let client =
            focused.and_then(|f| smithay::reexports::wayland_server::Resource::client(&f.surface));
        self.selection_focus(seat, client);
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

smithay::delegate_compositor!(Bridge);
smithay::delegate_shm!(Bridge);
smithay::delegate_seat!(Bridge);
smithay::delegate_output!(Bridge);
smithay::delegate_xwayland_shell!(Bridge);
