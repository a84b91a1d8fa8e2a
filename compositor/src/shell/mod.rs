//! The floating window manager: where a window opens, stacking and what focus raises,
//! maximize, fullscreen, minimize, and the places windows go back to.
//!
//! [`Shell`] holds the rules. It knows a window only through [`ShellWindow`] and is told what it
//! cannot know itself (the frame each window gets, the output a new window opens on), so its rules
//! are tested without a compositor, against stand-in windows (`tests.rs`). [`windows`] wires it to
//! the compositor: the seat's focus, the event stream, redraws, slots and sessions.

pub mod grabs;
mod kiosk;
pub mod placement;
pub mod window;
pub mod windows;

#[cfg(test)]
mod tests;

pub use self::kiosk::Splash;

use std::cell::RefCell;

use smithay::desktop::space::SpaceElement;
use smithay::desktop::{Space, Window};
use smithay::output::Output;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::protocol::wl_output::WlOutput;
use smithay::utils::user_data::UserDataMap;
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Size};
use smithay::wayland::shell::xdg::ToplevelState;

pub use self::window::title_and_app_id;
use crate::decorations::FrameSizes;

/// What the shell needs of a window: smithay's [`Window`] in the compositor, a stand-in in tests.
pub trait ShellWindow: SpaceElement + Clone + PartialEq + IsAlive + 'static {
    /// Where each subsystem keeps its own data about the window.
    fn user_data(&self) -> &UserDataMap;
    /// Whether it is a dialog of `parent` (xdg_toplevel.set_parent).
    fn is_transient_for(&self, parent: &Self) -> bool;
    /// The state its client last acknowledged.
    fn current_state(&self) -> ToplevelState;
    /// Changes the state the compositor asks for next.
    fn with_pending_state<T>(&self, f: impl FnOnce(&mut ToplevelState) -> T) -> T;
    /// Whether its client got its first configure.
    fn initial_configure_sent(&self) -> bool;
    /// Forgets that it was configured: a toplevel that unmapped is configured anew.
    fn reset_initial_configure(&self);
    /// Sends the pending state, if it changed.
    fn send_pending_configure(&self);
    /// Marks it focused or not, for its next configure.
    fn set_activated(&self, activated: bool);
    /// Its client's object for `output`, named in a fullscreen configure.
    fn client_output(&self, output: &Output) -> Option<WlOutput>;
}

/// Who a window is: set once, when its toplevel is created.
#[derive(Debug)]
struct Identity {
    id: u64,
    container: String,
}

/// Where a window goes back to.
#[derive(Debug, Default)]
struct Places {
    /// Where it was before it was maximized or made fullscreen.
    restore: Option<Rectangle<i32, Logical>>,
    /// Where a minimized window was, and comes back.
    minimized_at: Option<Rectangle<i32, Logical>>,
    /// Where its content was when its client last unmapped it: it maps there again.
    unmapped_at: Option<Point<i32, Logical>>,
}

/// An interactive resize in progress (or just ended, waiting for the last commit), so that
/// commits keep the edges opposite the dragged ones still.
#[derive(Debug, Clone, Copy)]
pub struct Resize {
    /// Edges being dragged.
    pub edges: xdg_toplevel::ResizeEdge,
    /// Window geometry when the grab started.
    pub initial: Rectangle<i32, Logical>,
    /// The grab has ended; the next commit is the last.
    pub done: bool,
}

/// The window's id, shown by `porthole windows` (0 for a window the shell never saw).
pub fn window_id<W: ShellWindow>(window: &W) -> u64 {
    window.user_data().get::<Identity>().map_or(0, |i| i.id)
}

/// The name of the container of the client that owns the window.
pub fn container_name<W: ShellWindow>(window: &W) -> &str {
    window
        .user_data()
        .get::<Identity>()
        .map_or("", |i| i.container.as_str())
}

/// Reads or changes a window's data of type `T` (one per subsystem), created on first use.
pub fn with_data<W: ShellWindow, T: Default + 'static, R>(
    window: &W,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let cell = window.user_data().get_or_insert(RefCell::<T>::default);
    let mut data = cell.borrow_mut();
    f(&mut data)
}

fn places<W: ShellWindow, R>(window: &W, f: impl FnOnce(&mut Places) -> R) -> R {
    with_data(window, f)
}

/// Whether the window is fullscreen, as its client last acknowledged.
pub fn is_fullscreen<W: ShellWindow>(window: &W) -> bool {
    has_state(window, xdg_toplevel::State::Fullscreen)
}

/// Whether the window is maximized, as its client last acknowledged.
pub fn is_maximized<W: ShellWindow>(window: &W) -> bool {
    has_state(window, xdg_toplevel::State::Maximized)
}

fn has_state<W: ShellWindow>(window: &W, state: xdg_toplevel::State) -> bool {
    window.current_state().states.contains(state)
}

/// Whether the window is in `state` or was asked to be and has not answered yet.
pub fn is_or_will_be<W: ShellWindow>(window: &W, state: xdg_toplevel::State) -> bool {
    has_state(window, state) || window.with_pending_state(|s| s.states.contains(state))
}

/// The size of the frame the compositor draws around each window, which the shell keeps on the
/// output and out of other windows' way.
pub trait Frames<W> {
    /// The frame of `window` as it is drawn now.
    fn frame(&self, window: &W) -> FrameSizes;
    /// The frame `window` has when it is not fullscreen: the one a maximized window fills its
    /// output with.
    fn windowed(&self, window: &W) -> FrameSizes;
}

/// Windows, their stacking and places, and the outputs they are on.
pub struct Shell<W: ShellWindow = Window> {
    /// Mapped windows, bottom first, and the outputs.
    space: Space<W>,
    /// Toplevels that exist but have not committed a buffer yet.
    unmapped: Vec<W>,
    /// Minimized windows, kept out of the space until focused again.
    minimized: Vec<W>,
    next_id: u64,
    /// Some window's place changed since [`Shell::take_moved`].
    moved: bool,
}

impl<W: ShellWindow> Default for Shell<W> {
    fn default() -> Self {
        Self {
            space: Space::default(),
            unmapped: Vec::new(),
            minimized: Vec::new(),
            next_id: 0,
            moved: false,
        }
    }
}

impl<W: ShellWindow> Shell<W> {
    /// Gives a new toplevel its id and container and keeps it until its first buffer.
    pub fn add(&mut self, window: W, container: &str) -> u64 {
        let id = self.next_window_id();
        window.user_data().insert_if_missing(|| Identity {
            id,
            container: container.to_string(),
        });
        self.unmapped.push(window);
        id
    }

    /// A new window id (windows and placeholders share them).
    pub fn next_window_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Mapped windows, bottom first.
    pub fn windows(&self) -> impl DoubleEndedIterator<Item = &W> + ExactSizeIterator {
        self.space.elements()
    }

    /// Minimized windows, in the order they were minimized.
    pub fn minimized(&self) -> impl Iterator<Item = &W> {
        self.minimized.iter()
    }

    /// Every window: mapped, then not yet mapped, then minimized.
    pub fn all_windows(&self) -> impl Iterator<Item = &W> {
        self.space
            .elements()
            .chain(self.unmapped.iter())
            .chain(self.minimized.iter())
    }

    /// Whether the window is shown (mapped and not minimized).
    pub fn is_mapped(&self, window: &W) -> bool {
        self.space.element_location(window).is_some()
    }

    /// Whether the window waits for its first buffer.
    pub fn is_unmapped(&self, window: &W) -> bool {
        self.unmapped.contains(window)
    }

    /// Whether the window is minimized.
    pub fn is_minimized(&self, window: &W) -> bool {
        self.minimized.contains(window)
    }

    /// The first window, of all, that `f` accepts.
    pub fn find(&self, mut f: impl FnMut(&W) -> bool) -> Option<W> {
        self.all_windows().find(|w| f(w)).cloned()
    }

    /// The window with this id.
    pub fn window_by_id(&self, id: u64) -> Option<W> {
        self.find(|w| window_id(w) == id)
    }

    /// The topmost mapped window.
    pub fn top(&self) -> Option<W> {
        self.space.elements().next_back().cloned()
    }

    /// The window a dialog is transient for, if it has one the shell knows.
    pub fn parent_of(&self, window: &W) -> Option<W> {
        self.find(|p| window.is_transient_for(p))
    }

    /// A mapped window's content area.
    pub fn geometry(&self, window: &W) -> Option<Rectangle<i32, Logical>> {
        self.space.element_geometry(window)
    }

    /// A mapped window's location: where its content area's corner is.
    pub fn location(&self, window: &W) -> Option<Point<i32, Logical>> {
        self.space.element_location(window)
    }

    /// Everything a mapped window draws, shadows and subsurfaces included.
    pub fn bbox(&self, window: &W) -> Option<Rectangle<i32, Logical>> {
        self.space.element_bbox(window)
    }

    /// Where a window's content goes back when it is restored from maximized or fullscreen.
    pub fn restore_place(&self, window: &W) -> Option<Rectangle<i32, Logical>> {
        places(window, |p| p.restore)
    }

    /// Sets where a window goes back from maximized or fullscreen (a window taking its slot
    /// back after a checkpoint).
    pub fn set_restore_place(&mut self, window: &W, place: Option<Rectangle<i32, Logical>>) {
        places(window, |p| p.restore = place);
    }

    /// A window's place, shown or minimized (where it comes back).
    pub fn place_of(&self, window: &W) -> Option<Rectangle<i32, Logical>> {
        self.geometry(window)
            .or_else(|| places(window, |p| p.minimized_at))
    }

    // Outputs.

    /// The outputs, in the order they were added.
    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.space.outputs()
    }

    /// Where an output is in the desktop.
    pub fn output_geometry(&self, output: &Output) -> Option<Rectangle<i32, Logical>> {
        self.space.output_geometry(output)
    }

    /// The output under `pos`.
    pub fn output_under(&self, pos: Point<f64, Logical>) -> Option<&Output> {
        self.space.output_under(pos).next()
    }

    /// The output under `pos`, else the first: where a new window opens.
    pub fn output_at(&self, pos: Point<f64, Logical>) -> Option<Output> {
        self.output_under(pos)
            .or_else(|| self.space.outputs().next())
            .cloned()
    }

    /// The outputs a mapped window is on.
    pub fn outputs_of(&self, window: &W) -> Vec<Output> {
        self.space.outputs_for_element(window)
    }

    /// The output holding most of a mapped window.
    pub fn output_of(&self, window: &W) -> Option<Output> {
        let geo = self.geometry(window)?;
        self.space
            .outputs()
            .filter_map(|o| {
                let inter = self.space.output_geometry(o)?.intersection(geo)?;
                Some((o.clone(), inter.size.w as i64 * inter.size.h as i64))
            })
            .max_by_key(|(_, area)| *area)
            .map(|(o, _)| o)
    }

    /// Puts an output at `loc` in the desktop (or moves it there).
    pub fn map_output(&mut self, output: &Output, loc: Point<i32, Logical>) {
        self.space.map_output(output, loc);
    }

    /// Takes an output out of the desktop.
    pub fn unmap_output(&mut self, output: &Output) {
        self.space.unmap_output(output);
    }

    /// The right edge of the rightmost output: where another output goes by default.
    pub fn outputs_right_edge(&self) -> i32 {
        self.space
            .outputs()
            .filter_map(|o| self.space.output_geometry(o))
            .map(|g| g.loc.x + g.size.w)
            .max()
            .unwrap_or(0)
    }

    /// Forgets dead windows and tells each window which outputs it is on.
    pub fn refresh(&mut self) {
        self.space.refresh();
    }

    // Places.

    /// Where a window's content should appear when it maps on `output`: where it was, when its
    /// client unmapped it and maps it again; a dialog centred over its parent; else where its
    /// frame overlaps no other window, or cascading from the output's corner (see
    /// [`placement`]). A window already fullscreen or maximized takes its output's corner.
    pub fn place(
        &mut self,
        window: &W,
        output: Option<&Output>,
        frames: &impl Frames<W>,
    ) -> Point<i32, Logical> {
        let Some(area) = output.and_then(|o| self.space.output_geometry(o)) else {
            return (0, 0).into();
        };
        let state = window.current_state();
        if state.states.contains(xdg_toplevel::State::Fullscreen) {
            return Point::from((area.loc.x, area.loc.y + frames.frame(window).titlebar));
        }
        if state.states.contains(xdg_toplevel::State::Maximized) {
            let frame = frames
                .frame(window)
                .around(Rectangle::new(area.loc, (0, 0).into()));
            return area.loc + (area.loc - frame.loc);
        }
        let unmapped_at = places(window, |p| p.unmapped_at.take());
        if let Some(loc) = unmapped_at.filter(|loc| self.output_under(loc.to_f64()).is_some()) {
            return loc;
        }
        let size = window.geometry().size;
        let frame = frames
            .frame(window)
            .around(Rectangle::new((0, 0).into(), size));
        if let Some(parent) = self
            .parent_of(window)
            .and_then(|p| self.space.element_geometry(&p))
        {
            return placement::centred_over(parent, size, frame, area);
        }
        let taken: Vec<Rectangle<i32, Logical>> = self
            .space
            .elements()
            .filter_map(|w| Some(frames.frame(w).around(self.space.element_geometry(w)?)))
            .collect();
        placement::free_place(area, frame, &taken)
    }

    /// Shows a window that committed its first buffer (or a new one after unmapping) at `loc`,
    /// on top.
    pub fn map(&mut self, window: &W, loc: Point<i32, Logical>) {
        self.unmapped.retain(|w| w != window);
        self.space.map_element(window.clone(), loc, false);
        self.moved = true;
    }

    /// Moves a mapped window, leaving the stacking and which window is active as they were: a
    /// client asking to be maximized or fullscreen must not come up over the window the person
    /// is using (a drag raises its window itself).
    pub fn move_to(&mut self, window: &W, loc: Point<i32, Logical>) {
        if !self.is_mapped(window) {
            return;
        }
        // `map_element` puts it on top; the windows that were above it go back above it.
        let above: Vec<W> = self
            .space
            .elements()
            .skip_while(|w| *w != window)
            .skip(1)
            .cloned()
            .collect();
        self.space.map_element(window.clone(), loc, false);
        for w in &above {
            self.space.raise_element(w, false);
        }
        self.moved = true;
    }

    /// Raises a mapped window above the others.
    pub fn raise(&mut self, window: &W) {
        self.space.raise_element(window, false);
    }

    /// Raises the windows `above` accepts, bottom first, over the others: a window that took its
    /// slot back goes under the windows that were above it.
    pub fn raise_all(&mut self, above: impl Fn(&W) -> bool) {
        let raised: Vec<W> = self
            .space
            .elements()
            .filter(|w| above(w))
            .cloned()
            .collect();
        for w in raised {
            self.space.raise_element(&w, false);
        }
    }

    /// Makes `window` the active one: a minimized window comes back (where it was, else where
    /// [`Shell::place`] puts it on `output`), it is raised with its dialogs above it, and every
    /// mapped window is told whether it is the active one. `None` deactivates them all.
    pub fn activate(
        &mut self,
        window: Option<&W>,
        output: Option<&Output>,
        frames: &impl Frames<W>,
    ) {
        if let Some(window) = window {
            if let Some(pos) = self.minimized.iter().position(|w| w == window) {
                let window = self.minimized.remove(pos);
                let loc = match places(&window, |p| p.minimized_at.take()) {
                    Some(r) => r.loc,
                    None => self.place(&window, output, frames),
                };
                self.space.map_element(window, loc, false);
                self.moved = true;
            }
            self.space.raise_element(window, false);
            let dialogs: Vec<W> = self
                .space
                .elements()
                .filter(|w| w.is_transient_for(window))
                .cloned()
                .collect();
            for dialog in dialogs {
                self.space.raise_element(&dialog, false);
            }
        }
        for w in self.space.elements() {
            w.set_activated(Some(w) == window);
            w.send_pending_configure();
        }
    }

    /// The window Alt+Tab focuses next. Forward, the bottom-most comes up, so that repeated
    /// presses visit every window; backward, the top one goes to the bottom. `None` with fewer
    /// than two windows.
    pub fn cycle(&mut self, forward: bool) -> Option<W> {
        let windows: Vec<W> = self.space.elements().cloned().collect();
        if windows.len() < 2 {
            return None;
        }
        if forward {
            return windows.first().cloned();
        }
        for w in &windows[..windows.len() - 1] {
            self.space.raise_element(w, false);
        }
        self.top()
    }

    /// Maximizes a window to its output (else to `fallback`), frame included.
    pub fn maximize(&mut self, window: &W, fallback: Option<&Output>, frames: &impl Frames<W>) {
        let Some(area) = self
            .output_of(window)
            .or_else(|| fallback.cloned())
            .and_then(|o| self.space.output_geometry(&o))
        else {
            return;
        };
        self.remember_place(window);
        let content = placement::maximized(area, frames.windowed(window));
        window.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Maximized);
            s.states.unset(xdg_toplevel::State::Fullscreen);
            s.size = Some(content.size);
        });
        self.configure_and_place(window, content.loc);
    }

    /// Restores a maximized window to where it was.
    pub fn unmaximize(&mut self, window: &W) {
        let restore = places(window, |p| p.restore.take());
        window.with_pending_state(|s| {
            s.states.unset(xdg_toplevel::State::Maximized);
            s.size = restore.map(|r| r.size);
        });
        window.send_pending_configure();
        if let Some(r) = restore {
            self.move_to(window, r.loc);
        }
    }

    /// Makes a window cover `output` (else `fallback`) but for a `strip` at its top, leaving the
    /// focus alone.
    pub fn cover(&mut self, window: &W, output: Option<&Output>, strip: i32) {
        let Some(output) = output else {
            return;
        };
        let Some(area) = self.space.output_geometry(output) else {
            return;
        };
        self.remember_place(window);
        let content = placement::fullscreen(area, strip);
        let client_output = window.client_output(output);
        window.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Fullscreen);
            s.size = Some(content.size);
            s.fullscreen_output = client_output;
        });
        self.configure_and_place(window, content.loc);
    }

    /// Leaves fullscreen, back to where the window was.
    pub fn unfullscreen(&mut self, window: &W) {
        let restore = places(window, |p| p.restore.take());
        window.with_pending_state(|s| {
            s.states.unset(xdg_toplevel::State::Fullscreen);
            s.fullscreen_output = None;
            s.size = restore.map(|r| r.size);
        });
        window.send_pending_configure();
        if let Some(r) = restore {
            self.move_to(window, r.loc);
        }
    }

    /// Takes a shown window off the screen into the minimized ones, remembering where it was.
    /// Returns false if it was not shown.
    pub fn minimize(&mut self, window: &W) -> bool {
        let Some(geo) = self.geometry(window) else {
            return false;
        };
        places(window, |p| p.minimized_at = Some(geo));
        // Only a shown window is the active one.
        window.set_activated(false);
        self.space.unmap_elem(window);
        self.minimized.push(window.clone());
        true
    }

    /// Takes a window whose client attached a null buffer off the screen: it waits, unmapped,
    /// for a new first configure, and maps where it was.
    pub fn unmap(&mut self, window: &W) {
        let location = self.location(window);
        places(window, |p| p.unmapped_at = location);
        window.set_activated(false);
        self.space.unmap_elem(window);
        self.unmapped.push(window.clone());
        window.reset_initial_configure();
    }

    /// Forgets a window whose toplevel was destroyed.
    pub fn remove(&mut self, window: &W) {
        self.space.unmap_elem(window);
        self.unmapped.retain(|w| w != window);
        self.minimized.retain(|w| w != window);
    }

    /// After outputs changed, moves the windows left on no output onto the first one, 32 pixels
    /// in from its corner; returns the windows that are (or are about to be) fullscreen or
    /// maximized, which must take their output's new size.
    pub fn refit(&mut self, frames: &impl Frames<W>) -> Vec<W> {
        let Some(first) = self.space.outputs().next().cloned() else {
            return Vec::new();
        };
        let Some(first_geo) = self.space.output_geometry(&first) else {
            return Vec::new();
        };
        let windows: Vec<W> = self.space.elements().cloned().collect();
        let mut sized = Vec::new();
        for window in windows {
            let Some(geo) = self.space.element_geometry(&window) else {
                continue;
            };
            let on_some_output = self.space.outputs().any(|o| {
                self.space
                    .output_geometry(o)
                    .is_some_and(|g| g.overlaps(geo))
            });
            if !on_some_output {
                let frame = frames.frame(&window);
                let loc = first_geo.loc + Point::from((32 + frame.border, 32 + frame.titlebar));
                self.space.map_element(window.clone(), loc, false);
                self.moved = true;
            }
            // What the compositor last decided, acknowledged or not: a window maximized a moment
            // ago whose client has not answered yet is maximized too.
            let states = window.with_pending_state(|s| s.states.clone());
            if states.contains(xdg_toplevel::State::Fullscreen)
                || states.contains(xdg_toplevel::State::Maximized)
            {
                sized.push(window);
            }
        }
        sized
    }

    /// Starts an interactive resize of a window from `edges`, telling its client.
    pub fn begin_resize(&mut self, window: &W, edges: xdg_toplevel::ResizeEdge) -> Option<Resize> {
        if edges == xdg_toplevel::ResizeEdge::None {
            return None;
        }
        let initial = self.geometry(window)?;
        window.with_pending_state(|s| {
            s.states.set(xdg_toplevel::State::Resizing);
        });
        window.send_pending_configure();
        let resize = Resize {
            edges,
            initial,
            done: false,
        };
        with_data(window, |r: &mut Option<Resize>| *r = Some(resize));
        Some(resize)
    }

    /// Asks for a new size during an interactive resize.
    pub fn resize_to(&mut self, window: &W, size: Size<i32, Logical>) {
        window.with_pending_state(|s| s.size = Some(size));
        window.send_pending_configure();
    }

    /// Ends an interactive resize: its client is told, and its next commit is the last one that
    /// keeps the opposite edges still.
    pub fn end_resize(&mut self, window: &W) {
        window.with_pending_state(|s| {
            s.states.unset(xdg_toplevel::State::Resizing);
        });
        window.send_pending_configure();
        with_data(window, |r: &mut Option<Resize>| {
            if let Some(r) = r.as_mut() {
                r.done = true;
            }
        });
    }

    /// After a commit during an interactive resize: keeps the edges opposite the dragged ones
    /// where they were.
    pub fn keep_resize_anchor(&mut self, window: &W) {
        let Some(resize) = with_data(window, |r: &mut Option<Resize>| *r) else {
            return;
        };
        if resize.done {
            with_data(window, |r: &mut Option<Resize>| *r = None);
        }
        let Some(loc) = self.location(window) else {
            return;
        };
        let loc =
            placement::resize_anchor(resize.edges, resize.initial, loc, window.geometry().size);
        self.space.map_element(window.clone(), loc, false);
        self.moved = true;
    }

    /// Notes that a window's place may have changed without the shell moving it (its client
    /// changed its window geometry).
    pub fn note_moved(&mut self) {
        self.moved = true;
    }

    /// Whether some window's place changed since the last call.
    pub fn take_moved(&mut self) -> bool {
        std::mem::take(&mut self.moved)
    }

    /// Sends a window its pending state and moves it, if it is mapped; an unmapped window gets
    /// the state with its initial configure and is placed when it maps.
    fn configure_and_place(&mut self, window: &W, loc: Point<i32, Logical>) {
        if window.initial_configure_sent() {
            window.send_pending_configure();
        }
        self.move_to(window, loc);
    }

    fn remember_place(&mut self, window: &W) {
        let geo = self.geometry(window);
        places(window, |p| {
            if p.restore.is_none() {
                p.restore = geo;
            }
        });
    }
}
