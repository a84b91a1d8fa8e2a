//! The floating window manager: placement, stacking, focus, maximize, fullscreen, minimize.

use std::cell::RefCell;

use porthole_ipc::{Event, Geometry, WindowInfo};
use smithay::desktop::{Space, Window, WindowSurfaceType};
use smithay::output::Output;
use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Serial, Size};
use smithay::wayland::compositor::with_states;
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::XdgToplevelSurfaceData;
use tracing::debug;

use crate::state::Porthole;

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
    pub resize: Option<crate::grabs::ResizeState>,
    /// The solid pieces of its server-side frame.
    pub frame: crate::render::FrameBuffers,
    /// The name its container's bridge gave it, for checkpoint and restore.
    pub slot: Option<String>,
    /// Its name in an xdg-session-management session.
    pub session: Option<crate::session::Link>,
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

/// A part of a server-side decoration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramePart {
    /// The title bar: drag to move.
    Titlebar,
    /// The close button.
    Close,
    /// The maximize button.
    Maximize,
    /// The minimize button.
    Minimize,
    /// The border: drag to resize from these edges.
    Border(xdg_toplevel::ResizeEdge),
}

/// Sizes of what the compositor draws around a window.
#[derive(Debug, Clone, Copy)]
pub struct FrameSizes {
    /// Border width.
    pub border: i32,
    /// Title bar height.
    pub titlebar: i32,
}

impl FrameSizes {
    /// Size of one title bar button (square).
    pub fn button(&self) -> i32 {
        (self.titlebar - 6).max(0)
    }

    /// Where title bar button `i` (0 close, 1 maximize, 2 minimize, from the right) sits for a
    /// window whose content is `geo`; `None` when there is no title bar or no room for it. The
    /// renderer and the pointer hit test both ask here, so what is drawn is what is clicked.
    pub fn button_rect(
        &self,
        geo: Rectangle<i32, Logical>,
        i: i32,
    ) -> Option<Rectangle<i32, Logical>> {
        let b = self.button();
        if self.titlebar <= 0 || b <= 0 {
            return None;
        }
        let right = geo.loc.x.saturating_add(geo.size.w) - 3;
        let x = right - (i + 1) * (b + 3);
        (x > geo.loc.x)
            .then(|| Rectangle::new((x, geo.loc.y - self.titlebar + 3).into(), (b, b).into()))
    }

    /// Width the three buttons take at the right end of the title bar.
    pub fn buttons_width(&self) -> i32 {
        3 * (self.button() + 3) + 3
    }
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

/// True when the window's client agreed to server-side decorations.
pub fn wants_server_decorations(window: &Window) -> bool {
    window
        .toplevel()
        .is_some_and(|t| t.current_state().decoration_mode == Some(DecorationMode::ServerSide))
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

impl Porthole {
    /// Sizes of the frame the compositor draws around this window: a title bar and border when
    /// the client agreed to server-side decorations; for a container's window that draws its own,
    /// the border alone, in the container's colour, which no client can leave out; for a
    /// fullscreen window only a container's labelled strip; nothing for host windows that draw
    /// their own.
    pub fn window_frame(&self, window: &Window) -> FrameSizes {
        let border = i32::from(self.config.appearance.border_width.min(32));
        let titlebar = i32::from(self.config.appearance.titlebar_height.min(64));
        if is_fullscreen(window) {
            return FrameSizes {
                border: 0,
                titlebar: self.fullscreen_strip(window),
            };
        }
        if wants_server_decorations(window) {
            return FrameSizes { border, titlebar };
        }
        if self.window_container(window).is_some() {
            return FrameSizes {
                border: border.max(2),
                titlebar: 0,
            };
        }
        FrameSizes {
            border: 0,
            titlebar: 0,
        }
    }

    /// Height of the strip a fullscreen window of this container keeps above it, showing the
    /// container's colour and name: a container cannot take the whole screen unless its
    /// configuration says so (`plain_fullscreen`, or a kiosk).
    pub fn fullscreen_strip(&self, window: &Window) -> i32 {
        match self.window_container(window) {
            Some(c) if !c.plain_fullscreen => {
                i32::from(self.config.appearance.titlebar_height.clamp(16, 64))
            }
            _ => 0,
        }
    }

    /// The container a window belongs to; `None` for the host's windows.
    pub fn window_container(&self, window: &Window) -> Option<&crate::container::Container> {
        let name = with_meta(window, |m| m.container.clone());
        self.containers.get(name.as_str())
    }

    /// The rectangle a window covers with its decorations, given its content geometry.
    pub fn frame_rect(
        &self,
        window: &Window,
        content: Rectangle<i32, Logical>,
    ) -> Rectangle<i32, Logical> {
        // Saturating: the content geometry comes from the client and may be absurd.
        let f = self.window_frame(window);
        let (b, t) = (f.border, f.titlebar);
        Rectangle::new(
            (
                content.loc.x.saturating_sub(b),
                content.loc.y.saturating_sub(t + b),
            )
                .into(),
            (
                content.size.w.saturating_add(2 * b),
                content.size.h.saturating_add(t + 2 * b),
            )
                .into(),
        )
    }

    /// The output a new window should open on: the one under the pointer, else the first.
    pub fn active_output(&self) -> Option<Output> {
        let pos = self.pointer_location();
        self.shell
            .space
            .output_under(pos)
            .next()
            .or_else(|| self.shell.space.outputs().next())
            .cloned()
    }

    /// Maps a window that committed its first buffer, at a free place, and focuses it.
    pub fn map_new_window(&mut self, window: Window) {
        self.shell.unmapped.retain(|w| w != &window);
        // The new window takes the focus: menus another window holds open close, as they do
        // when the person clicks elsewhere.
        if let Some(mut grab) = self.popup_grab.take() {
            if !grab.has_ended() {
                grab.ungrab(smithay::desktop::PopupUngrabStrategy::All);
            }
        }
        // A window of a restored container goes back to its placeholder's place and stacking,
        // and takes the focus only if it had it.
        let slot = self.take_slot(&window);
        // A toplevel its app restored from a session goes back to its stored place.
        let stored = match slot {
            Some(_) => None,
            None => self.take_session_place(&window),
        };
        let loc = match (&slot, stored) {
            (Some(slot), _) => slot.geometry.loc,
            (None, Some(place)) => place.geometry().loc,
            (None, None) => self.place(&window),
        };
        self.shell.space.map_element(window.clone(), loc, false);
        debug!(id = window_id(&window), ?loc, "window mapped");
        let focus = slot.as_ref().is_none_or(|s| s.focused);
        if focus {
            // Announce the window before focus moves to it, so subscribers know what the id
            // means.
            self.pending_focus = Some(window.wl_surface().map(|s| s.into_owned()));
        }
        self.emit(Event::WindowOpened {
            window: self.window_info(&window),
        });
        if focus {
            self.focus_window(Some(&window));
        }
        if let Some(slot) = &slot {
            self.restack(&window, slot);
            // Where it goes back from maximized or fullscreen.
            with_meta(&window, |m| m.restore = slot.restore);
            if slot.fullscreen {
                let output = self.window_output(&window);
                self.cover_output(&window, output);
            } else if slot.maximized {
                self.maximize(&window);
            }
            if slot.minimized {
                self.hide_minimized(&window);
            }
        }
        if stored.is_some_and(|p| p.maximized) {
            self.maximize(&window);
        }
        self.queue_redraw_for(&window);
    }

    /// Finds a place for a window's content: where it was, when the client unmapped it and maps
    /// it again; else so that its frame overlaps no other window where possible; otherwise
    /// cascading from the top-left corner of the output.
    fn place(&self, window: &Window) -> Point<i32, Logical> {
        let Some(output) = self.active_output() else {
            return (0, 0).into();
        };
        let Some(area) = self.shell.space.output_geometry(&output) else {
            return (0, 0).into();
        };
        if let Some(toplevel) = window.toplevel() {
            let states = toplevel.current_state().states;
            if states.contains(xdg_toplevel::State::Fullscreen) {
                return Point::from((area.loc.x, area.loc.y + self.fullscreen_strip(window)));
            }
            if states.contains(xdg_toplevel::State::Maximized) {
                let frame = self.frame_rect(window, Rectangle::new(area.loc, (0, 0).into()));
                return area.loc + (area.loc - frame.loc);
            }
        }
        let unmapped_at = with_meta(window, |m| m.unmapped_at.take());
        if let Some(loc) =
            unmapped_at.filter(|loc| self.shell.space.output_under(loc.to_f64()).next().is_some())
        {
            return loc;
        }
        let size = window.geometry().size;
        let frame = self.frame_rect(window, Rectangle::new((0, 0).into(), size));
        // Offset from the frame's corner to the content's corner.
        let inset = Point::from((-frame.loc.x, -frame.loc.y));
        if let Some(parent) = self.parent_window(window) {
            if let Some(parent_geo) = self.shell.space.element_geometry(&parent) {
                // A dialog opens centred over its parent, kept on the output.
                let centred = parent_geo.loc
                    + Point::from((
                        (parent_geo.size.w - size.w) / 2,
                        (parent_geo.size.h - size.h) / 2,
                    ));
                let min = area.loc + inset;
                let max = area.loc + Point::from((area.size.w, area.size.h))
                    - Point::from((frame.size.w, frame.size.h))
                    + inset;
                return Point::from((
                    centred.x.min(max.x).max(min.x),
                    centred.y.min(max.y).max(min.y),
                ));
            }
        }
        let taken: Vec<Rectangle<i32, Logical>> = self
            .shell
            .space
            .elements()
            .filter_map(|w| {
                let geo = self.shell.space.element_geometry(w)?;
                Some(self.frame_rect(w, geo))
            })
            .collect();

        const STEP: i32 = 16;
        let max_x = area.size.w - frame.size.w;
        let max_y = area.size.h - frame.size.h;
        if max_x >= 0 && max_y >= 0 {
            let mut y = 0;
            while y <= max_y {
                let mut x = 0;
                while x <= max_x {
                    let candidate =
                        Rectangle::new((area.loc.x + x, area.loc.y + y).into(), frame.size);
                    if taken.iter().all(|t| !t.overlaps(candidate)) {
                        return candidate.loc + inset;
                    }
                    x += STEP;
                }
                y += STEP;
            }
        }
        // No free place: cascade, wrapping before the window would leave the output.
        let n = taken.len() as i32;
        let step = 32;
        let span_x = (max_x / step).max(1);
        let span_y = (max_y / step).max(1);
        let corner = Point::from((
            area.loc.x + (n % span_x) * step,
            area.loc.y + (n % span_y) * step,
        ));
        corner + inset
    }

    /// The mapped window a toplevel is transient for (xdg_toplevel.set_parent).
    pub fn parent_window(&self, window: &Window) -> Option<Window> {
        let parent = window.toplevel()?.parent()?;
        self.shell.window_for_surface(&parent)
    }

    /// Gives keyboard focus to a window (raising it, and its dialogs above it), or to nothing.
    pub fn focus_window(&mut self, window: Option<&Window>) {
        if let Some(window) = window {
            if let Some(pos) = self.shell.minimized.iter().position(|w| w == window) {
                let window = self.shell.minimized.remove(pos);
                let loc = with_meta(&window, |m| m.minimized_at.take())
                    .map(|r| r.loc)
                    .unwrap_or_else(|| self.place(&window));
                self.shell.space.map_element(window, loc, false);
            }
            self.shell.space.raise_element(window, false);
            let dialogs: Vec<Window> = self
                .shell
                .space
                .elements()
                .filter(|w| self.parent_window(w).as_ref() == Some(window))
                .cloned()
                .collect();
            for dialog in dialogs {
                self.shell.space.raise_element(&dialog, false);
            }
        }
        for w in self.shell.space.elements() {
            w.set_activated(Some(w) == window);
            if let Some(t) = w.toplevel() {
                t.send_pending_configure();
            }
        }
        self.pending_focus = Some(window.and_then(|w| w.wl_surface().map(|s| s.into_owned())));
        self.emit(Event::FocusChanged {
            id: window.map(window_id),
        });
        self.queue_redraw_all();
    }

    /// The window that holds keyboard focus.
    pub fn focused_window(&self) -> Option<Window> {
        let focus = match &self.pending_focus {
            Some(pending) => pending.clone()?,
            None => self.seat.get_keyboard()?.current_focus()?,
        };
        self.shell.window_for_surface(&focus)
    }

    /// Focuses the topmost window, after the focused one went away.
    pub fn focus_top(&mut self) {
        let top = self.shell.top_window();
        self.focus_window(top.as_ref());
    }

    /// Cycles focus through mapped windows; `forward` picks the one below the top.
    pub fn focus_next(&mut self, forward: bool) {
        let windows: Vec<Window> = self.shell.space.elements().cloned().collect();
        if windows.len() < 2 {
            return;
        }
        let target = if forward {
            // The bottom-most window comes to the top: repeated presses visit every window.
            windows.first().cloned()
        } else {
            // Send the top window to the bottom by raising all the others in order.
            for w in &windows[..windows.len() - 1] {
                self.shell.space.raise_element(w, false);
            }
            self.shell.space.elements().next_back().cloned()
        };
        self.focus_window(target.as_ref());
    }

    /// Asks a window's client to close it.
    pub fn close_window(&mut self, window: &Window) {
        if let Some(t) = window.toplevel() {
            t.send_close();
        }
    }

    /// Maximizes or restores a window.
    pub fn toggle_maximize(&mut self, window: &Window) {
        let Some(toplevel) = window.toplevel() else {
            return;
        };
        let maximized = toplevel
            .current_state()
            .states
            .contains(xdg_toplevel::State::Maximized)
            || toplevel.with_pending_state(|s| s.states.contains(xdg_toplevel::State::Maximized));
        if maximized {
            self.unmaximize(window);
        } else {
            self.maximize(window);
        }
    }

    /// Maximizes a window to its output, frame included.
    pub fn maximize(&mut self, window: &Window) {
        let Some(toplevel) = window.toplevel().cloned() else {
            return;
        };
        let Some(output) = self.window_output(window).or_else(|| self.active_output()) else {
            return;
        };
        let Some(area) = self.shell.space.output_geometry(&output) else {
            return;
        };
        self.remember_place(window);
        let f = self.window_frame(window);
        let (loc, size) = (
            Point::from((area.loc.x + f.border, area.loc.y + f.titlebar + f.border)),
            Size::from((
                area.size.w - 2 * f.border,
                area.size.h - f.titlebar - 2 * f.border,
            )),
        );
        toplevel.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Maximized);
            s.states.unset(xdg_toplevel::State::Fullscreen);
            s.size = Some(size);
        });
        self.configure_and_place(window, loc);
    }

    /// Restores a maximized window to where it was.
    pub fn unmaximize(&mut self, window: &Window) {
        let Some(toplevel) = window.toplevel().cloned() else {
            return;
        };
        let restore = with_meta(window, |m| m.restore.take());
        toplevel.with_pending_state(|s| {
            s.states.unset(xdg_toplevel::State::Maximized);
            s.size = restore.map(|r| r.size);
        });
        toplevel.send_pending_configure();
        if let Some(r) = restore {
            self.shell.space.map_element(window.clone(), r.loc, true);
        }
        self.queue_redraw_all();
    }

    /// Makes a window fullscreen on its output, or restores it.
    pub fn toggle_fullscreen(&mut self, window: &Window) {
        let Some(toplevel) = window.toplevel() else {
            return;
        };
        let fullscreen = toplevel
            .current_state()
            .states
            .contains(xdg_toplevel::State::Fullscreen)
            || toplevel.with_pending_state(|s| s.states.contains(xdg_toplevel::State::Fullscreen));
        if fullscreen {
            self.unfullscreen(window);
        } else {
            let output = self.window_output(window).or_else(|| self.active_output());
            self.fullscreen(window, output);
        }
    }

    /// Makes a window cover `output` without decorations, and focuses it.
    pub fn fullscreen(&mut self, window: &Window, output: Option<Output>) {
        self.cover_output(window, output);
        if self.shell.space.element_location(window).is_some() {
            self.focus_window(Some(window));
        }
    }

    /// Makes a window cover `output` without decorations, leaving the focus alone.
    fn cover_output(&mut self, window: &Window, output: Option<Output>) {
        let Some(toplevel) = window.toplevel().cloned() else {
            return;
        };
        let Some(output) = output.or_else(|| self.active_output()) else {
            return;
        };
        let Some(area) = self.shell.space.output_geometry(&output) else {
            return;
        };
        self.remember_place(window);
        let strip = self.fullscreen_strip(window);
        let loc = Point::from((area.loc.x, area.loc.y + strip));
        toplevel.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Fullscreen);
            s.size = Some(Size::from((area.size.w, area.size.h - strip)));
            s.fullscreen_output = toplevel
                .wl_surface()
                .client()
                .and_then(|client| output.client_outputs(&client).next());
        });
        self.configure_and_place(window, loc);
    }

    /// Leaves fullscreen.
    pub fn unfullscreen(&mut self, window: &Window) {
        // A kiosk's windows stay fullscreen, whoever asks.
        if self
            .kiosk_output(&with_meta(window, |m| m.container.clone()))
            .is_some()
        {
            return;
        }
        let Some(toplevel) = window.toplevel().cloned() else {
            return;
        };
        let restore = with_meta(window, |m| m.restore.take());
        toplevel.with_pending_state(|s| {
            s.states.unset(xdg_toplevel::State::Fullscreen);
            s.fullscreen_output = None;
            s.size = restore.map(|r| r.size);
        });
        toplevel.send_pending_configure();
        if let Some(r) = restore {
            self.shell.space.map_element(window.clone(), r.loc, true);
        }
        self.queue_redraw_all();
    }

    /// Hides a window until it is focused again.
    pub fn minimize(&mut self, window: &Window) {
        if self.hide_minimized(window) {
            self.focus_top();
        }
    }

    /// Takes a window off the screen into the minimized ones, leaving the focus alone. Returns
    /// false if it was not shown.
    fn hide_minimized(&mut self, window: &Window) -> bool {
        if self.shell.space.element_location(window).is_none() {
            return false;
        }
        self.queue_redraw_for(window);
        let geo = self.shell.space.element_geometry(window);
        with_meta(window, |m| m.minimized_at = geo);
        self.shell.space.unmap_elem(window);
        self.shell.minimized.push(window.clone());
        true
    }

    /// Sends a window its pending state and moves it, if it is mapped; an unmapped window gets
    /// the state with its initial configure and is placed when it maps.
    fn configure_and_place(&mut self, window: &Window, loc: Point<i32, Logical>) {
        let Some(toplevel) = window.toplevel() else {
            return;
        };
        if toplevel.is_initial_configure_sent() {
            toplevel.send_pending_configure();
        }
        if self.shell.space.element_location(window).is_some() {
            self.shell.space.map_element(window.clone(), loc, true);
        }
        self.queue_redraw_all();
    }

    fn remember_place(&mut self, window: &Window) {
        let geo = self.shell.space.element_geometry(window);
        with_meta(window, |m| {
            if m.restore.is_none() {
                m.restore = geo;
            }
        });
    }

    /// The output holding most of a window.
    pub fn window_output(&self, window: &Window) -> Option<Output> {
        let geo = self.shell.space.element_geometry(window)?;
        self.shell
            .space
            .outputs()
            .filter_map(|o| {
                let inter = self.shell.space.output_geometry(o)?.intersection(geo)?;
                Some((o.clone(), inter.size.w as i64 * inter.size.h as i64))
            })
            .max_by_key(|(_, area)| *area)
            .map(|(o, _)| o)
    }

    /// The window and the part of its frame under a point, if the point is on a decoration.
    pub fn frame_part_under(&self, pos: Point<f64, Logical>) -> Option<(Window, FramePart)> {
        for window in self.shell.space.elements().rev() {
            let Some(geo) = self.shell.space.element_geometry(window) else {
                continue;
            };
            let f = self.window_frame(window);
            let frame = self.frame_rect(window, geo);
            if !frame.to_f64().contains(pos) {
                continue;
            }
            if frame == geo {
                // No decorations: the window's own surface is what is under the point.
                return None;
            }
            if geo.to_f64().contains(pos) {
                return None;
            }
            let p = pos.to_i32_floor::<i32>();
            let title_top = geo.loc.y - f.titlebar;
            if f.titlebar > 0
                && p.y >= title_top
                && p.y < geo.loc.y
                && p.x >= geo.loc.x
                && p.x < geo.loc.x + geo.size.w
            {
                let within = |i: i32| f.button_rect(geo, i).is_some_and(|r| r.contains(p));
                let part = if within(0) {
                    FramePart::Close
                } else if within(1) {
                    FramePart::Maximize
                } else if within(2) {
                    FramePart::Minimize
                } else {
                    FramePart::Titlebar
                };
                return Some((window.clone(), part));
            }
            let mut edges = xdg_toplevel::ResizeEdge::None as u32;
            let (l, t, r, btm) = (
                xdg_toplevel::ResizeEdge::Left as u32,
                xdg_toplevel::ResizeEdge::Top as u32,
                xdg_toplevel::ResizeEdge::Right as u32,
                xdg_toplevel::ResizeEdge::Bottom as u32,
            );
            if p.x < geo.loc.x {
                edges |= l;
            }
            if p.x >= geo.loc.x + geo.size.w {
                edges |= r;
            }
            if p.y < title_top {
                edges |= t;
            }
            if p.y >= geo.loc.y + geo.size.h {
                edges |= btm;
            }
            let edge =
                xdg_toplevel::ResizeEdge::try_from(edges).unwrap_or(xdg_toplevel::ResizeEdge::None);
            return Some((window.clone(), FramePart::Border(edge)));
        }
        None
    }

    /// The surface under a point and its origin in global coordinates, for pointer focus.
    pub fn surface_under(
        &self,
        pos: Point<f64, Logical>,
    ) -> Option<(WlSurface, Point<f64, Logical>)> {
        if self.frame_part_under(pos).is_some() {
            return None;
        }
        let (window, loc) = self.shell.space.element_under(pos)?;
        window
            .surface_under(pos - loc.to_f64(), WindowSurfaceType::ALL)
            .map(|(s, p)| (s, (p + loc).to_f64()))
    }

    /// What `porthole windows` shows of a window.
    pub fn window_info(&self, window: &Window) -> WindowInfo {
        let (title, app_id) = title_and_app_id(window);
        let (id, container) = with_meta(window, |m| (m.id, m.container.clone()));
        // A minimized window is reported where it will come back.
        let geo = self
            .shell
            .space
            .element_geometry(window)
            .or_else(|| with_meta(window, |m| m.minimized_at))
            .unwrap_or_else(|| Rectangle::new((0, 0).into(), window.geometry().size));
        let states = window.toplevel().map(|t| t.current_state().states);
        let has = |s| states.as_ref().is_some_and(|st| st.contains(s));
        WindowInfo {
            id,
            app_id,
            title,
            container,
            output: self.window_output(window).map(|o| o.name()),
            geometry: Geometry {
                x: geo.loc.x,
                y: geo.loc.y,
                width: geo.size.w,
                height: geo.size.h,
            },
            focused: self.focused_window().as_ref() == Some(window),
            maximized: has(xdg_toplevel::State::Maximized),
            fullscreen: has(xdg_toplevel::State::Fullscreen),
            minimized: self.shell.minimized.contains(window),
            checkpointed: false,
            slot: with_meta(window, |m| m.slot.clone()),
        }
    }

    /// Every window for `porthole windows`, bottom first, minimized last.
    pub fn window_infos(&self) -> Vec<WindowInfo> {
        self.shell
            .space
            .elements()
            .chain(self.shell.minimized.iter())
            .filter(|w| w.alive())
            .map(|w| self.window_info(w))
            .collect()
    }

    /// Checks that a move/resize request refers to a press the client really got.
    pub fn pointer_grab_start(
        &self,
        surface: &WlSurface,
        serial: Serial,
    ) -> Option<smithay::input::pointer::GrabStartData<crate::state::State>> {
        let pointer = self.seat.get_pointer()?;
        if !pointer.has_grab(serial) {
            return None;
        }
        let start = pointer.grab_start_data()?;
        let (focus, _) = start.focus.as_ref()?;
        if !focus.id().same_client_as(&surface.id()) {
            return None;
        }
        Some(start)
    }
}
