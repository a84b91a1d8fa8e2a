//! The floating window manager: placement, stacking, focus, maximize, fullscreen, minimize.

pub mod grabs;
pub mod windows;

use std::cell::RefCell;

use smithay::desktop::{Space, Window};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point, Rectangle};
use smithay::wayland::compositor::with_states;
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::XdgToplevelSurfaceData;

/// Windows and their places.
#[derive(Default)]
pub struct Shell {
    /// Mapped windows; the last element is on top.
    pub space: Space<Window>,
    /// Toplevels that exist but have not committed a buffer yet.
    pub unmapped: Vec<Window>,
    /// Minimized windows, kept out of the space until focused again.
    pub minimized: Vec<Window>,
    next_id: u64,
}

/// What Porthole keeps about each window, in the window's user data.
#[derive(Debug, Default)]
pub struct WindowMeta {
    /// Stable id shown by `porthole windows`.
    pub id: u64,
    /// The container of the client that owns the window.
    pub container: String,
    /// Where the window was before it was maximized or made fullscreen.
    pub restore: Option<Rectangle<i32, Logical>>,
    /// Where a minimized window was, and comes back.
    pub minimized_at: Option<Rectangle<i32, Logical>>,
    /// Where its content was when the client last unmapped it: it maps there again.
    pub unmapped_at: Option<Point<i32, Logical>>,
    /// An interactive resize in progress.
    pub resize: Option<crate::shell::grabs::ResizeState>,
    /// The solid pieces of its server-side frame.
    pub frame: crate::decorations::draw::FrameBuffers,
    /// The name its container's bridge gave it, for checkpoint and restore.
    pub slot: Option<String>,
    /// Its name in an xdg-session-management session.
    pub session: Option<crate::protocols::session::Link>,
    /// Its title bar text as last drawn: (label, width, height, background) and the image.
    pub title: Option<(
        (String, i32, i32, crate::config::Color),
        smithay::backend::renderer::element::memory::MemoryRenderBuffer,
    )>,
}

/// Reads or changes a window's [`WindowMeta`].
pub fn with_meta<T>(window: &Window, f: impl FnOnce(&mut WindowMeta) -> T) -> T {
    let cell = window
        .user_data()
        .get_or_insert(RefCell::<WindowMeta>::default);
    let mut meta = cell.borrow_mut();
    f(&mut meta)
}

/// The window's id.
pub fn window_id(window: &Window) -> u64 {
    with_meta(window, |m| m.id)
}

impl Shell {
    /// Gives a new toplevel its id and container and keeps it until its first buffer.
    pub fn add_unmapped(&mut self, window: Window, container: String) {
        self.next_id += 1;
        let id = self.next_id;
        with_meta(&window, |m| {
            m.id = id;
            m.container = container;
        });
        self.unmapped.push(window);
    }

    /// A new window id (windows and placeholders share them).
    pub fn next_window_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Every window, mapped or not.
    pub fn all_windows(&self) -> impl Iterator<Item = &Window> {
        self.space
            .elements()
            .chain(self.unmapped.iter())
            .chain(self.minimized.iter())
    }

    /// The window whose toplevel surface is `surface`.
    pub fn window_for_surface(&self, surface: &WlSurface) -> Option<Window> {
        self.all_windows()
            .find(|w| w.wl_surface().as_deref() == Some(surface))
            .cloned()
    }

    /// The window with this id.
    pub fn window_by_id(&self, id: u64) -> Option<Window> {
        self.all_windows().find(|w| window_id(w) == id).cloned()
    }

    /// The topmost mapped window.
    pub fn top_window(&self) -> Option<Window> {
        self.space.elements().next_back().cloned()
    }

    /// Forgets a window whose toplevel was destroyed.
    pub fn remove(&mut self, window: &Window) {
        self.space.unmap_elem(window);
        self.unmapped.retain(|w| w != window);
        self.minimized.retain(|w| w != window);
    }
}

/// True when the window is fullscreen.
pub fn is_fullscreen(window: &Window) -> bool {
    window.toplevel().is_some_and(|t| {
        t.current_state()
            .states
            .contains(xdg_toplevel::State::Fullscreen)
    })
}

/// Title and app_id of a toplevel.
pub fn title_and_app_id(window: &Window) -> (String, String) {
    let Some(toplevel) = window.toplevel() else {
        return Default::default();
    };
    with_states(toplevel.wl_surface(), |states| {
        states
            .data_map
            .get::<XdgToplevelSurfaceData>()
            .and_then(|d| d.lock().ok())
            .map(|d| {
                (
                    d.title.clone().unwrap_or_default(),
                    d.app_id.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    })
}
