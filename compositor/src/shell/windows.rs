//! The shell on the compositor: each window-management step with what it means for the seat's
//! focus, the event stream, redraws, the slots of checkpointed containers and sessions.

use porthole_ipc::{Event, Geometry, WindowAction, WindowInfo};
use smithay::desktop::{
    find_popup_root_surface, get_popup_toplevel_coords, PopupKind, Window, WindowSurfaceType,
};
use smithay::output::Output;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Serial};
use smithay::wayland::seat::WaylandFocus;
use smithay::wayland::shell::xdg::PopupSurface;
use std::time::Instant;

use smithay::backend::renderer::utils::with_renderer_surface_state;
use smithay::reexports::wayland_server::protocol::wl_shm;
use smithay::utils::Transform;
use smithay::wayland::shm::with_buffer_contents;
use smithay::wayland::single_pixel_buffer::get_single_pixel_buffer;
use tracing::{debug, info};

use super::{container_name, is_or_will_be, title_and_app_id, window_id, with_data, ShellWindow};
use crate::input::focus_guard::Verdict;
use crate::state::Porthole;

impl Porthole {
    /// The output a new window should open on: the one under the pointer, else the first.
    pub fn active_output(&self) -> Option<Output> {
        self.shell.output_at(self.pointer_location())
    }

    /// Maps a window that committed its first buffer, at a free place, and focuses it.
    pub fn map_new_window(&mut self, window: Window) {
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
            (None, None) => {
                let output = self.output_for_new_window(&window);
                let frames = crate::decorations::frame::WindowFrames::new(
                    &self.config.appearance,
                    &self.containers,
                );
                self.shell.place(&window, output.as_ref(), &frames)
            }
        };
        self.shell.map(&window, loc);
        debug!(id = window_id(&window), ?loc, "window mapped");
        // A tenant's window fills its output whatever the pointer did; a window with no output
        // it may open on is put away (as is a tenant's while its output is gone).
        let pinned = self.kiosk_output(container_name(&window));
        if pinned.is_some() {
            self.cover_output(&window, pinned);
        }
        if slot.is_none() && self.output_for_new_window(&window).is_none() {
            self.emit(Event::WindowOpened {
                window: self.window_info(&window),
            });
            self.hide_minimized(&window);
            return;
        }
        let focus = match &slot {
            Some(slot) => slot.focused,
            // Unless the person just asked for it, a window of another container stays below
            // the focused one and asks for attention instead: a new window must not take the
            // keyboard from where the person is typing.
            None => self.new_window_takes_focus(&window),
        };
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
            self.shell.set_restore_place(&window, slot.restore);
            if slot.fullscreen {
                let output = self.shell.output_of(&window);
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

    /// Gives keyboard focus to a window (raising it, and its dialogs above it), or to nothing.
    pub fn focus_window(&mut self, window: Option<&Window>) {
        if let Some(window) = window {
            with_data(window, |a: &mut Attention| a.0 = false);
        }
        let output = self.active_output();
        let frames =
            crate::decorations::frame::WindowFrames::new(&self.config.appearance, &self.containers);
        self.shell.activate(window, output.as_ref(), &frames);
        self.input.pending_focus =
            Some(window.and_then(|w| w.wl_surface().map(|s| s.into_owned())));
        self.emit(Event::FocusChanged {
            id: window.map(window_id),
        });
        self.queue_redraw_all();
    }

    /// Whether a window that just appeared takes the focus (see `input/focus_guard.rs`); if not,
    /// it goes below the focused window and is marked as wanting attention.
    fn new_window_takes_focus(&mut self, window: &Window) -> bool {
        let focused = self.focused_window();
        let focused_container = focused.as_ref().map(|w| container_name(w).to_string());
        let verdict = self.input.guard.new_window(
            container_name(window),
            focused_container.as_deref(),
            Instant::now(),
        );
        if verdict == Verdict::Focus {
            return true;
        }
        if let Some(focused) = focused {
            self.shell
                .raise_all(|w| *w == focused || w.is_transient_for(&focused));
        }
        self.want_attention(window);
        false
    }

    /// A window brought a valid activation token: it takes the focus unless the person is typing
    /// into another container.
    pub fn activate_asked(&mut self, window: &Window) {
        let focused = self.focused_window();
        let focused_container = focused.as_ref().map(|w| container_name(w).to_string());
        let verdict = self.input.guard.activation(
            container_name(window),
            focused_container.as_deref(),
            Instant::now(),
        );
        match verdict {
            Verdict::Focus => self.focus_window(Some(window)),
            Verdict::Attention => self.want_attention(window),
        }
    }

    /// The person is starting something in `container`: its first window may take the focus
    /// (see `input/focus_guard.rs`). Returns an xdg-activation token for what is started, for
    /// clients that ask to be activated with it, where the container's profile offers
    /// xdg-activation.
    pub fn launch(&mut self, container: &str) -> Option<String> {
        self.input.guard.launched(container, Instant::now());
        let offered = self
            .containers
            .get(container)
            .is_some_and(|c| c.profile.allows("xdg_activation_v1"));
        offered.then(|| {
            let (token, _) = self.globals.activation.create_external_token(None);
            token.to_string()
        })
    }

    /// Marks a window as wanting attention, which its label shows, until it is focused.
    pub fn want_attention(&mut self, window: &Window) {
        if !with_data(window, |a: &mut Attention| {
            std::mem::replace(&mut a.0, true)
        }) {
            info!(
                id = window_id(window),
                container = container_name(window),
                "window wants attention"
            );
            self.queue_redraw_for(window);
        }
    }

    /// The window that holds keyboard focus.
    pub fn focused_window(&self) -> Option<Window> {
        let focus = match &self.input.pending_focus {
            Some(pending) => pending.clone()?,
            None => self.seat.get_keyboard()?.current_focus()?,
        };
        self.shell.window_for_surface(&focus)
    }

    /// Focuses the topmost window the person has seen before, after the focused one went away.
    /// A window that appeared (or asked for the focus) without getting it is passed over: the
    /// keys typed next, and the paste chord, were meant for something the person chose, not for
    /// what a container mapped meanwhile. Nothing is focused when only such windows are left.
    pub fn focus_top(&mut self) {
        let top = self
            .shell
            .windows()
            .rev()
            .find(|w| !wants_attention(w))
            .cloned();
        self.focus_window(top.as_ref());
    }

    /// Cycles focus through mapped windows; `forward` picks the one below the top.
    pub fn focus_next(&mut self, forward: bool) {
        if let Some(target) = self.shell.cycle(forward) {
            self.focus_window(Some(&target));
        }
    }

    /// Carries out a window-management action, from a key binding or the control socket.
    pub fn window_action(&mut self, window: &Window, action: WindowAction) {
        match action {
            WindowAction::Focus => self.focus_window(Some(window)),
            WindowAction::Close => self.close_window(window),
            WindowAction::ToggleMaximize => self.toggle_maximize(window),
            WindowAction::ToggleFullscreen => self.toggle_fullscreen(window),
            WindowAction::Minimize => self.minimize(window),
        }
    }

    /// Asks a window's client to close it.
    pub fn close_window(&mut self, window: &Window) {
        if let Some(t) = window.toplevel() {
            t.send_close();
        }
    }

    /// Maximizes or restores a window.
    pub fn toggle_maximize(&mut self, window: &Window) {
        if is_or_will_be(window, xdg_toplevel::State::Maximized) {
            self.unmaximize(window);
        } else {
            self.maximize(window);
        }
    }

    /// Maximizes a window to its output, frame included.
    pub fn maximize(&mut self, window: &Window) {
        if self.is_kiosk(container_name(window)) {
            return;
        }
        let fallback = self.active_output();
        let frames =
            crate::decorations::frame::WindowFrames::new(&self.config.appearance, &self.containers);
        self.shell.maximize(window, fallback.as_ref(), &frames);
        self.queue_redraw_all();
    }

    /// Restores a maximized window to where it was.
    pub fn unmaximize(&mut self, window: &Window) {
        self.shell.unmaximize(window);
        self.queue_redraw_all();
    }

    /// Makes a window fullscreen on its output, or restores it.
    pub fn toggle_fullscreen(&mut self, window: &Window) {
        if is_or_will_be(window, xdg_toplevel::State::Fullscreen) {
            self.unfullscreen(window);
        } else {
            let output = self
                .shell
                .output_of(window)
                .or_else(|| self.active_output());
            self.fullscreen(window, output);
        }
    }

    /// Makes a window cover `output` without decorations, and focuses it.
    pub fn fullscreen(&mut self, window: &Window, output: Option<Output>) {
        self.cover_output(window, output);
        if self.shell.is_mapped(window) {
            self.focus_window(Some(window));
        }
    }

    /// Makes a window cover `output` (else the active one) without decorations, leaving the
    /// focus alone.
    pub fn cover_output(&mut self, window: &Window, output: Option<Output>) {
        // A kiosk's windows cover its output, whichever one they ask for.
        let container = container_name(window);
        let output = if self.is_kiosk(container) {
            self.kiosk_output(container)
        } else {
            output.or_else(|| self.active_output())
        };
        let strip = self.fullscreen_strip(window);
        self.shell.cover(window, output.as_ref(), strip);
        self.queue_redraw_all();
    }

    /// Leaves fullscreen.
    pub fn unfullscreen(&mut self, window: &Window) {
        // A kiosk's windows stay fullscreen, whoever asks.
        if self.is_kiosk(container_name(window)) {
            return;
        }
        self.shell.unfullscreen(window);
        self.queue_redraw_all();
    }

    /// Hides a window until it is focused again.
    pub fn minimize(&mut self, window: &Window) {
        // A kiosk's windows stay on its output.
        if self.is_kiosk(container_name(window)) {
            return;
        }
        if self.hide_minimized(window) {
            self.focus_top();
        }
    }

    /// Takes a window off the screen into the minimized ones, leaving the focus alone. Returns
    /// false if it was not shown.
    pub(super) fn hide_minimized(&mut self, window: &Window) -> bool {
        if !self.shell.is_mapped(window) {
            return false;
        }
        self.queue_redraw_for(window);
        self.shell.minimize(window)
    }

    /// After outputs changed: windows left on no output move to the first one, and maximized or
    /// fullscreen windows take their output's new size.
    pub fn refit_windows(&mut self) {
        // Refitting a fullscreen window focuses it, as making it fullscreen does; the focus
        // stays where the person left it.
        let focused = self.focused_window();
        let frames =
            crate::decorations::frame::WindowFrames::new(&self.config.appearance, &self.containers);
        let sized = self.shell.refit(&frames);
        for window in sized {
            if window.with_pending_state(|s| s.states.contains(xdg_toplevel::State::Fullscreen)) {
                let output = self.shell.output_of(&window);
                self.fullscreen(&window, output);
            } else {
                self.maximize(&window);
            }
        }
        self.pin_kiosk_windows();
        // A window put away meanwhile does not come back for the focus.
        if self.focused_window() != focused
            && focused.as_ref().is_none_or(|w| self.shell.is_mapped(w))
        {
            self.focus_window(focused.as_ref());
        }
    }

    /// The output holding most of a window.
    pub fn window_output(&self, window: &Window) -> Option<Output> {
        self.shell.output_of(window)
    }

    /// The surface under a point and its origin in global coordinates, for pointer focus.
    pub fn surface_under(
        &self,
        pos: Point<f64, Logical>,
    ) -> Option<(WlSurface, Point<f64, Logical>)> {
        if self.frame_part_under(pos).is_some() {
            return None;
        }
        let (window, loc) = self.window_taking_input(pos)?;
        window
            .surface_under(pos - loc.to_f64(), WindowSurfaceType::ALL)
            .map(|(s, p)| (s, (p + loc).to_f64()))
    }

    /// The topmost window that takes input at `pos`, and where its buffer's origin is. A
    /// container's window lets the point through where what it shows there is fully
    /// transparent: an invisible window laid over another container's cannot take the clicks
    /// meant for it (where a window is visible, its label says whose it is).
    pub fn window_taking_input(
        &self,
        pos: Point<f64, Logical>,
    ) -> Option<(Window, Point<i32, Logical>)> {
        self.shell.windows().rev().find_map(|window| {
            if !self.shown_at(window, pos) {
                return None;
            }
            let loc = self.shell.location(window)? - window.geometry().loc;
            let local = pos - loc.to_f64();
            let (surface, origin) = window.surface_under(local, WindowSurfaceType::ALL)?;
            if self.window_container(window).is_some()
                && transparent_at(&surface, local - origin.to_f64())
            {
                return None;
            }
            Some((window.clone(), loc))
        })
    }

    /// What `porthole windows` shows of a window.
    pub fn window_info(&self, window: &Window) -> WindowInfo {
        let (title, app_id) = title_and_app_id(window);
        // A minimized window is reported where it will come back.
        let geo = self
            .shell
            .place_of(window)
            .unwrap_or_else(|| Rectangle::new((0, 0).into(), window.geometry().size));
        let states = window.current_state().states;
        WindowInfo {
            id: window_id(window),
            app_id,
            title,
            container: container_name(window).to_string(),
            output: self.window_output(window).map(|o| o.name()),
            geometry: Geometry {
                x: geo.loc.x,
                y: geo.loc.y,
                width: geo.size.w,
                height: geo.size.h,
            },
            focused: self.focused_window().as_ref() == Some(window),
            maximized: states.contains(xdg_toplevel::State::Maximized),
            fullscreen: states.contains(xdg_toplevel::State::Fullscreen),
            minimized: self.shell.is_minimized(window),
            checkpointed: false,
            reconnecting: false,
            slot: crate::checkpoint::slot_of(window),
            attention: wants_attention(window),
        }
    }

    /// Every window for `porthole windows`, bottom first, minimized last.
    pub fn window_infos(&self) -> Vec<WindowInfo> {
        self.shell
            .windows()
            .chain(self.shell.minimized())
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

    /// Keeps a popup inside the output its parent is on.
    pub fn unconstrain_popup(&self, popup: &PopupSurface) {
        let kind = PopupKind::Xdg(popup.clone());
        let Ok(root) = find_popup_root_surface(&kind) else {
            return;
        };
        let Some(window) = self.shell.window_for_surface(&root) else {
            return;
        };
        let Some(window_geo) = self.shell.geometry(&window) else {
            return;
        };
        let output = self.window_output(&window).or_else(|| self.active_output());
        let Some(output_geo) = output.and_then(|o| self.shell.output_geometry(&o)) else {
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
        self.shell.unmap(window);
        self.emit(Event::WindowClosed {
            id: window_id(window),
        });
        if was_focused {
            self.focus_top();
        }
    }

    /// Forgets a window whose toplevel was destroyed, and gives the focus on if it had it.
    pub fn window_destroyed(&mut self, window: &Window) {
        let was_focused =
            self.focused_window().as_ref() == Some(window) || self.focused_window().is_none();
        let was_shown = self.shell.is_mapped(window) || self.shell.is_minimized(window);
        self.record_session_place(window);
        self.queue_redraw_for(window);
        self.shell.remove(window);
        if was_shown {
            self.emit(Event::WindowClosed {
                id: window_id(window),
            });
        }
        if was_focused {
            self.focus_top();
        }
    }

    /// Tells X11 bridges where their toplevels are now, where that changed (mapped, moved,
    /// maximized...).
    pub fn send_x11_positions(&mut self) {
        if self.x11.is_empty() {
            return;
        }
        let shown = self.shell.windows().filter_map(|window| {
            let surface = window.wl_surface()?.into_owned();
            Some((surface, self.desktop_position(window)?))
        });
        self.x11.send_positions(shown);
    }

    /// Where the toplevel of `surface` shows its window geometry, in desktop coordinates.
    pub fn x11_place(&self, surface: &WlSurface) -> Option<(i32, i32)> {
        self.desktop_position(&self.shell.window_for_surface(surface)?)
    }

    /// Where `window` shows its window geometry; none while it is not on the desktop
    /// (minimized, or not mapped yet).
    fn desktop_position(&self, window: &Window) -> Option<(i32, i32)> {
        let loc = self.shell.location(window)?;
        let offset = window.geometry().loc;
        Some((loc.x + offset.x, loc.y + offset.y))
    }
}

/// Whether a window appeared or asked for the focus without getting it, and has not been focused
/// since.
#[derive(Debug, Default)]
struct Attention(bool);

/// Whether a window wants attention (its label says so).
pub fn wants_attention(window: &Window) -> bool {
    with_data(window, |a: &mut Attention| a.0)
}

/// Whether `surface` shows nothing at `point` (surface-local): its buffer's pixel there has
/// alpha 0. Only what can be read cheaply counts (shm buffers with an alpha channel at scale 1
/// and no viewport, single-pixel buffers); anything else is taken as opaque.
fn transparent_at(surface: &WlSurface, point: Point<f64, Logical>) -> bool {
    let buffer = with_renderer_surface_state(surface, |state| {
        let plain = state.buffer_scale() == 1
            && state.buffer_transform() == Transform::Normal
            && state.surface_size() == state.buffer_size();
        state.buffer().filter(|_| plain).map(|b| (**b).clone())
    })
    .flatten();
    let Some(buffer) = buffer else {
        return false;
    };
    if let Ok(pixel) = get_single_pixel_buffer(&buffer) {
        return pixel.a == 0;
    }
    let (x, y) = (point.x.floor() as i64, point.y.floor() as i64);
    with_buffer_contents(&buffer, |ptr, len, data| {
        let alpha_at = match data.format {
            wl_shm::Format::Argb8888 | wl_shm::Format::Abgr8888 => 3,
            _ => return false,
        };
        if x < 0 || y < 0 || x >= i64::from(data.width) || y >= i64::from(data.height) {
            return false;
        }
        let at = i64::from(data.offset) + y * i64::from(data.stride) + x * 4 + alpha_at;
        if at < 0 || at as usize >= len {
            return false;
        }
        // Safety: `at` is inside the pool's mapping of `len` bytes, which smithay keeps mapped
        // for the call (and guards against the client shrinking it).
        unsafe { *ptr.add(at as usize) == 0 }
    })
    .unwrap_or(false)
}
