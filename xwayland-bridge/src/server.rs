//! The Wayland server the container's Xwayland talks to (and its native clients, in a
//! checkpointable container).
//!
//! Xwayland connects here through the socket pair Smithay's `XWayland::spawn` creates; in a
//! checkpointable container the native clients do too, through the container's Wayland socket
//! (see [`crate::native`]). The bridge offers a compositor, shm, one seat and one output the size
//! of the host's desktop. Buffers clients commit are held until the host surface showing them
//! can take a copy; see [`crate::x11::mirror`] and [`crate::native::subsurface`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use smithay::input::keyboard::{
    KeyboardHandle, KeyboardTarget, KeysymHandle, ModifiersState, XkbConfig,
};
use smithay::input::pointer::{CursorImageStatus, PointerHandle};
use smithay::input::{Seat, SeatHandler, SeatState};
use smithay::output::{Mode as OutputMode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_surface::{self, WlSurface};
use smithay::reexports::wayland_server::{Client, DisplayHandle, Resource as _};
use smithay::utils::{Buffer as BufferCoords, IsAlive, Rectangle, Serial, Transform};
use smithay::wayland::buffer::BufferHandler;
use smithay::wayland::compositor::{
    is_sync_subsurface, with_states, with_surface_tree_upward, BufferAssignment,
    CompositorClientState, CompositorHandler, CompositorState, Damage, SurfaceAttributes,
    SurfaceData, TraversalAction,
};
use smithay::wayland::output::{OutputHandler, OutputManagerState};
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shm::{ShmHandler, ShmState};
use smithay::wayland::xwayland_shell::XWaylandShellState;
use smithay::xwayland::{X11Surface, XWaylandClientData};
use tracing::warn;

use crate::bridge::Bridge;
use crate::native::NativeServer;

/// The server side: what Xwayland, and a checkpointable container's native clients, connect to.
pub struct Server {
    pub dh: DisplayHandle,
    pub compositor: CompositorState,
    pub shm: ShmState,
    /// The pool files its clients share, passed on to the host (see [`crate::shm`]).
    pub memory: crate::shm::Shared,
    pub seat_state: SeatState<Bridge>,
    pub seat: Seat<Bridge>,
    pub keyboard: KeyboardHandle<Bridge>,
    pub pointer: PointerHandle<Bridge>,
    pub output: Output,
    pub xwayland_shell: XWaylandShellState,
    _outputs: OutputManagerState,
    _presentation: smithay::wayland::presentation::PresentationState,
    /// xdg-shell and xdg-decoration for the container's native clients (with --serve-wayland).
    pub native: Option<NativeServer>,
    /// wp_viewporter and single-pixel buffers for native clients, each offered once the
    /// compositor is found to offer it.
    pub viewporter: Option<smithay::wayland::viewporter::ViewporterState>,
    pub single_pixel: Option<smithay::wayland::single_pixel_buffer::SinglePixelBufferState>,
    pub activation: Option<smithay::wayland::xdg_activation::XdgActivationState>,
    pub fractional: Option<smithay::wayland::fractional_scale::FractionalScaleManagerState>,
}

impl Server {
    /// Creates the globals the container's clients see: Xwayland's, and with `native` those its
    /// native clients need too.
    pub fn new(dh: &DisplayHandle, native: bool) -> anyhow::Result<Self> {
        let mut seat_state = SeatState::new();
        let mut seat = seat_state.new_wl_seat(dh, "seat0");
        let keyboard = seat
            .add_keyboard(XkbConfig::default(), 600, 25)
            .map_err(|err| anyhow::anyhow!("creating the keyboard: {err}"))?;
        let pointer = seat.add_pointer();
        let output = Output::new(
            "X11-0".into(),
            PhysicalProperties {
                size: (0, 0).into(),
                subpixel: Subpixel::Unknown,
                make: "Porthole".into(),
                model: "bridge".into(),
            },
        );
        let _global = output.create_global::<Bridge>(dh);
        Ok(Server {
            compositor: CompositorState::new::<Bridge>(dh),
            shm: ShmState::new::<Bridge>(dh, Vec::new()),
            memory: Default::default(),
            xwayland_shell: XWaylandShellState::new::<Bridge>(dh),
            _outputs: OutputManagerState::new_with_xdg_output::<Bridge>(dh),
            _presentation: smithay::wayland::presentation::PresentationState::new::<Bridge>(
                dh,
                crate::host::presentation::CLOCK,
            ),
            seat_state,
            seat,
            keyboard,
            pointer,
            output,
            native: native.then(|| NativeServer::new(dh)),
            viewporter: None,
            single_pixel: None,
            activation: None,
            fractional: None,
            dh: dh.clone(),
        })
    }
}

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
            // The same buffer committed again before it was passed on is still in use.
            if let Some(old) = held.buffer.replace(buffer.clone()) {
                if old != buffer {
                    old.release();
                }
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

impl Bridge {
    /// The X screen covers the host's desktop.
    pub fn resize_desktop(&mut self) {
        let Some(host) = &self.host else {
            return;
        };
        let (w, h) = host.desktop_size();
        let mode = OutputMode {
            size: (w, h).into(),
            refresh: 60_000,
        };
        let output = &self.server.output;
        if output.current_mode() != Some(mode) {
            output.change_current_state(
                Some(mode),
                Some(Transform::Normal),
                None,
                Some((0, 0).into()),
            );
            output.set_preferred(mode);
        }
    }
}

smithay::delegate_compositor!(Bridge);
smithay::delegate_viewporter!(Bridge);
smithay::delegate_single_pixel_buffer!(Bridge);
smithay::delegate_presentation!(Bridge);
smithay::delegate_seat!(Bridge);
smithay::delegate_output!(Bridge);
