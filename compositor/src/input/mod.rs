//! Input: device events ([`devices`]) go to the keyboard ([`keyboard`]), where the compositor
//! keeps its bindings, or to the pointer ([`pointer`]) or touch; the control socket's synthetic
//! events ([`synthetic`]) take the same paths.

pub mod devices;
pub mod focus_guard;
pub mod keyboard;
pub mod keymap;
pub mod pointer;
pub mod synthetic;

use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::input::pointer::CursorImageStatus;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point};

pub use self::keymap::{KeyLookup, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
use crate::config::KeyboardConfig;

/// What the compositor keeps of the seat's input beyond smithay's own state.
pub struct InputState {
    /// What the pointer looks like now.
    pub cursor: CursorImageStatus,
    /// The arrow drawn for named cursor shapes.
    pub default_cursor: MemoryRenderBuffer,
    /// The pointer focus clients were last told of, and that surface's origin.
    pub pointer_focus_sent: Option<(WlSurface, Point<f64, Logical>)>,
    /// Keys pressed while a binding fired, whose releases must not reach clients either.
    pub suppressed_keys: Vec<u32>,
    /// Keyboard focus decided by the shell, applied to the seat by
    /// [`crate::state::State::apply_pending_focus`] (the seat needs the whole `State`, the shell
    /// only has `Porthole`).
    pub pending_focus: Option<Option<WlSurface>>,
    /// Keysym to keycode table for synthetic typing.
    pub key_lookup: Option<KeyLookup>,
    /// Input serials sent, launches and typing: who may take the focus unasked.
    pub guard: focus_guard::FocusGuard,
}

impl InputState {
    /// Nothing focused or pressed yet, the arrow shown, typing on `keyboard`'s layout.
    pub fn new(keyboard: &KeyboardConfig) -> Self {
        Self {
            cursor: CursorImageStatus::default_named(),
            default_cursor: crate::render::image::default_cursor(),
            pointer_focus_sent: None,
            suppressed_keys: Vec::new(),
            pending_focus: None,
            key_lookup: KeyLookup::new(keyboard),
            guard: Default::default(),
        }
    }
}
