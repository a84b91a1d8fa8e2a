//! Window management on the compositor: mapping, placing, focusing, maximizing, fullscreen and
//! minimize, with what each means for the seat, the event stream and the outputs.

use porthole_ipc::{Event, Geometry, WindowInfo};
use smithay::desktop::{
    find_popup_root_surface, get_popup_toplevel_coords, PopupKind, Window, WindowSurfaceType,
};
use smithay::output::Output;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Serial, Size};
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::PopupSurface;
use tracing::debug;

use super::{title_and_app_id, window_id, with_meta};
use crate::state::Porthole;

impl Porthole {
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
            self.input.pending_focus = Some(window.wl_surface().map(|s| s.into_owned()));
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
        self.input.pending_focus =
            Some(window.and_then(|w| w.wl_surface().map(|s| s.into_owned())));
        self.emit(Event::FocusChanged {
            id: window.map(window_id),
        });
        self.queue_redraw_all();
    }

    /// The window that holds keyboard focus.
    pub fn focused_window(&self) -> Option<Window> {
        let focus = match &self.input.pending_focus {
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

impl Porthole {
    /// Keeps a popup inside the output its parent is on.
    pub fn unconstrain_popup(&self, popup: &PopupSurface) {
        let kind = PopupKind::Xdg(popup.clone());
        let Ok(root) = find_popup_root_surface(&kind) else {
            return;
        };
        let Some(window) = self.shell.window_for_surface(&root) else {
            return;
        };
        let Some(window_geo) = self.shell.space.element_geometry(&window) else {
            return;
        };
        let output = self.window_output(&window).or_else(|| self.active_output());
        let Some(output_geo) = output.and_then(|o| self.shell.space.output_geometry(&o)) else {
            return;
        };
        // The target is relative to the popup's parent.
        let mut target = output_geo;
        target.loc -= get_popup_toplevel_coords(&kind);
        target.loc -= window_geo.loc;
        popup.with_pending_state(|state| {
            state.geometry = state.positioner.get_unconstrained_geometry(target);
        });
    }

    /// Takes a window whose client attached a null buffer off the screen; it maps again after
    /// a new initial configure.
    pub fn unmap_window(&mut self, window: &Window) {
        self.record_session_place(window);
        let was_focused = self.focused_window().as_ref() == Some(window);
        self.queue_redraw_for(window);
        let location = self.shell.space.element_location(window);
        with_meta(window, |m| m.unmapped_at = location);
        self.shell.space.unmap_elem(window);
        self.shell.unmapped.push(window.clone());
        if let Some(toplevel) = window.toplevel() {
            toplevel.reset_initial_configure_sent();
        }
        self.emit(porthole_ipc::Event::WindowClosed {
            id: window_id(window),
        });
        if was_focused {
            self.focus_top();
        }
    }
}
