//! The shell's rules against stand-in windows, without a compositor or a client: placement,
//! stacking and focus, maximize, fullscreen, minimize, and the places windows go back to. The
//! property tests drive random sequences of window-management steps, as niri's layout tests do,
//! and check what must always hold.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use proptest::prelude::*;
use smithay::desktop::space::SpaceElement;
use smithay::output::{Mode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel::{ResizeEdge, State};
use smithay::reexports::wayland_server::protocol::wl_output::WlOutput;
use smithay::utils::user_data::UserDataMap;
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Size};
use smithay::wayland::shell::xdg::ToplevelState;

use super::*;
use crate::decorations::FrameSizes;

/// A toplevel as the shell sees it, with a client that acknowledges configures when the test
/// says so.
#[derive(Clone)]
struct TestWindow(Rc<Inner>);

struct Inner {
    size: Cell<Size<i32, Logical>>,
    current: RefCell<ToplevelState>,
    pending: RefCell<ToplevelState>,
    configured: Cell<bool>,
    configures: Cell<usize>,
    parent: Option<TestWindow>,
    alive: Cell<bool>,
    data: UserDataMap,
}

impl TestWindow {
    fn new(w: i32, h: i32) -> Self {
        Self::with_parent(w, h, None)
    }

    fn dialog_of(parent: &TestWindow, w: i32, h: i32) -> Self {
        Self::with_parent(w, h, Some(parent.clone()))
    }

    fn with_parent(w: i32, h: i32, parent: Option<TestWindow>) -> Self {
        Self(Rc::new(Inner {
            size: Cell::new((w, h).into()),
            current: RefCell::default(),
            pending: RefCell::default(),
            configured: Cell::new(false),
            configures: Cell::new(0),
            parent,
            alive: Cell::new(true),
            data: UserDataMap::new(),
        }))
    }

    /// The client acknowledges the last configure and draws at the size it asked for.
    fn ack(&self) {
        let pending = self.0.pending.borrow().clone();
        if let Some(size) = pending.size.filter(|s| s.w > 0 && s.h > 0) {
            self.0.size.set(size);
        }
        *self.0.current.borrow_mut() = pending;
    }

    fn activated(&self) -> bool {
        self.0.pending.borrow().states.contains(State::Activated)
    }
}

impl PartialEq for TestWindow {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for TestWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "window {}", window_id(self))
    }
}

impl IsAlive for TestWindow {
    fn alive(&self) -> bool {
        self.0.alive.get()
    }
}

impl SpaceElement for TestWindow {
    fn bbox(&self) -> Rectangle<i32, Logical> {
        Rectangle::from_size(self.0.size.get())
    }

    fn is_in_input_region(&self, point: &Point<f64, Logical>) -> bool {
        self.bbox().to_f64().contains(*point)
    }

    fn set_activate(&self, activated: bool) {
        ShellWindow::set_activated(self, activated);
    }

    fn output_enter(&self, _output: &Output, _overlap: Rectangle<i32, Logical>) {}

    fn output_leave(&self, _output: &Output) {}
}

impl ShellWindow for TestWindow {
    fn user_data(&self) -> &UserDataMap {
        &self.0.data
    }

    fn is_transient_for(&self, parent: &Self) -> bool {
        self.0.parent.as_ref() == Some(parent)
    }

    fn current_state(&self) -> ToplevelState {
        self.0.current.borrow().clone()
    }

    fn with_pending_state<T>(&self, f: impl FnOnce(&mut ToplevelState) -> T) -> T {
        f(&mut self.0.pending.borrow_mut())
    }

    fn initial_configure_sent(&self) -> bool {
        self.0.configured.get()
    }

    fn reset_initial_configure(&self) {
        self.0.configured.set(false);
    }

    fn send_pending_configure(&self) {
        self.0.configured.set(true);
        self.0.configures.set(self.0.configures.get() + 1);
    }

    fn set_activated(&self, activated: bool) {
        self.with_pending_state(|s| {
            if activated {
                s.states.set(State::Activated);
            } else {
                s.states.unset(State::Activated);
            }
        });
    }

    fn client_output(&self, _output: &Output) -> Option<WlOutput> {
        None
    }
}

const FRAME: FrameSizes = FrameSizes::new(2, 24);

/// Every window gets a border and title bar, and a fullscreen window a bare strip as tall as the
/// title bar, as a container's window does.
struct TestFrames;

impl Frames<TestWindow> for TestFrames {
    fn frame(&self, window: &TestWindow) -> FrameSizes {
        if is_fullscreen(window) {
            FrameSizes::new(0, FRAME.titlebar)
        } else {
            FRAME
        }
    }

    fn windowed(&self, _window: &TestWindow) -> FrameSizes {
        FRAME
    }
}

/// No frames at all, as for a host window that draws its own.
struct Bare;

impl Frames<TestWindow> for Bare {
    fn frame(&self, _window: &TestWindow) -> FrameSizes {
        FrameSizes::new(0, 0)
    }

    fn windowed(&self, window: &TestWindow) -> FrameSizes {
        self.frame(window)
    }
}

const FRAMES: TestFrames = TestFrames;

fn output(name: &str, x: i32, w: i32, h: i32) -> Output {
    let output = Output::new(
        name.to_string(),
        PhysicalProperties {
            size: (0, 0).into(),
            subpixel: Subpixel::Unknown,
            make: "test".into(),
            model: "test".into(),
        },
    );
    let mode = Mode {
        size: (w, h).into(),
        refresh: 60_000,
    };
    output.change_current_state(Some(mode), None, None, Some((x, 0).into()));
    output.set_preferred(mode);
    output
}

/// A shell with two outputs side by side: 1280x720 and, right of it, 1920x1080.
fn desktop() -> (Shell<TestWindow>, Output, Output) {
    let mut shell = Shell::default();
    let left = output("LEFT", 0, 1280, 720);
    let right = output("RIGHT", 1280, 1920, 1080);
    shell.map_output(&left, (0, 0).into());
    shell.map_output(&right, (1280, 0).into());
    (shell, left, right)
}

/// Adds a window and maps it where the shell places it on `on`.
fn open(shell: &mut Shell<TestWindow>, window: &TestWindow, on: &Output) {
    shell.add(window.clone(), "work");
    window.send_pending_configure();
    window.ack();
    let loc = shell.place(window, Some(on), &FRAMES);
    shell.map(window, loc);
}

fn frame_of(shell: &Shell<TestWindow>, window: &TestWindow) -> Rectangle<i32, Logical> {
    FRAMES
        .frame(window)
        .around(shell.geometry(window).expect("mapped"))
}

fn stack(shell: &Shell<TestWindow>) -> Vec<u64> {
    shell.windows().map(window_id).collect()
}

#[test]
fn a_new_window_opens_on_the_output_it_is_asked_for_without_covering_others() {
    let (mut shell, _, right) = desktop();
    let area = shell.output_geometry(&right).unwrap();
    let windows: Vec<TestWindow> = (0..4).map(|_| TestWindow::new(600, 400)).collect();
    for w in &windows {
        open(&mut shell, w, &right);
    }
    for (i, a) in windows.iter().enumerate() {
        let fa = frame_of(&shell, a);
        assert!(area.contains_rect(fa), "{a:?} at {fa:?} leaves {area:?}");
        for b in &windows[i + 1..] {
            assert!(!fa.overlaps(frame_of(&shell, b)), "{a:?} and {b:?} overlap");
        }
    }
    assert_eq!(shell.output_of(&windows[0]), Some(right));
}

#[test]
fn a_dialog_opens_centred_over_its_parent() {
    let (mut shell, left, _) = desktop();
    let parent = TestWindow::new(800, 600);
    open(&mut shell, &parent, &left);
    let dialog = TestWindow::dialog_of(&parent, 300, 200);
    open(&mut shell, &dialog, &left);
    let p = shell.geometry(&parent).unwrap();
    let d = shell.geometry(&dialog).unwrap();
    assert_eq!(d.loc, p.loc + Point::from((250, 200)));
    assert_eq!(shell.parent_of(&dialog), Some(parent));
}

#[test]
fn activating_a_window_raises_it_with_its_dialogs_above_and_only_it_is_active() {
    let (mut shell, left, _) = desktop();
    let a = TestWindow::new(400, 300);
    let dialog = TestWindow::dialog_of(&a, 200, 100);
    let b = TestWindow::new(400, 300);
    for w in [&a, &dialog, &b] {
        open(&mut shell, w, &left);
    }
    assert_eq!(shell.top(), Some(b.clone()));
    shell.activate(Some(&a), Some(&left), &FRAMES);
    assert_eq!(
        stack(&shell),
        [window_id(&b), window_id(&a), window_id(&dialog)]
    );
    assert!(a.activated() && !b.activated() && !dialog.activated());
    shell.activate(None, Some(&left), &FRAMES);
    assert!(!a.activated() && !b.activated());
}

#[test]
fn a_minimized_window_comes_back_where_it_was_when_activated() {
    let (mut shell, left, right) = desktop();
    let w = TestWindow::new(500, 300);
    open(&mut shell, &w, &right);
    shell.move_to(&w, (1500, 200).into());
    let before = shell.geometry(&w).unwrap();
    assert!(shell.minimize(&w));
    assert!(!shell.is_mapped(&w) && shell.is_minimized(&w));
    assert_eq!(
        shell.place_of(&w),
        Some(before),
        "reported where it comes back"
    );
    assert!(
        !shell.minimize(&w),
        "a hidden window is not minimized twice"
    );
    shell.activate(Some(&w), Some(&left), &FRAMES);
    assert_eq!(shell.geometry(&w), Some(before));
    assert!(!shell.is_minimized(&w));
}

#[test]
fn maximize_fills_the_output_and_unmaximize_returns_to_the_earlier_place() {
    let (mut shell, left, right) = desktop();
    let w = TestWindow::new(500, 300);
    open(&mut shell, &w, &right);
    shell.move_to(&w, (1400, 100).into());
    let before = shell.geometry(&w).unwrap();
    shell.maximize(&w, Some(&left), &FRAMES);
    w.ack();
    assert!(is_maximized(&w));
    assert_eq!(frame_of(&shell, &w), shell.output_geometry(&right).unwrap());
    shell.unmaximize(&w);
    w.ack();
    assert!(!is_maximized(&w));
    assert_eq!(shell.geometry(&w), Some(before));
}

#[test]
fn a_window_below_that_maximizes_or_goes_fullscreen_stays_below_and_inactive() {
    // What a client asks for itself moves and sizes its window, but never brings it over the
    // window the person is using.
    let (mut shell, left, _) = desktop();
    let below = TestWindow::new(400, 300);
    let used = TestWindow::new(400, 300);
    for w in [&below, &used] {
        open(&mut shell, w, &left);
    }
    shell.activate(Some(&used), Some(&left), &FRAMES);
    let order = [window_id(&below), window_id(&used)];
    shell.maximize(&below, Some(&left), &FRAMES);
    below.ack();
    assert_eq!(stack(&shell), order);
    shell.cover(&below, Some(&left), 24);
    below.ack();
    assert_eq!(stack(&shell), order);
    shell.unfullscreen(&below);
    below.ack();
    assert_eq!(stack(&shell), order);
    assert!(used.activated() && !below.activated());
}

#[test]
fn fullscreen_covers_the_output_below_the_strip_and_unfullscreen_returns() {
    let (mut shell, left, _) = desktop();
    let w = TestWindow::new(500, 300);
    open(&mut shell, &w, &left);
    let before = shell.geometry(&w).unwrap();
    shell.cover(&w, Some(&left), 24);
    w.ack();
    assert!(is_fullscreen(&w));
    assert_eq!(
        shell.geometry(&w),
        Some(Rectangle::new((0, 24).into(), (1280, 696).into()))
    );
    shell.unfullscreen(&w);
    w.ack();
    assert_eq!(shell.geometry(&w), Some(before));
}

#[test]
fn maximized_then_fullscreen_goes_back_to_the_place_before_both() {
    let (mut shell, left, _) = desktop();
    let w = TestWindow::new(500, 300);
    open(&mut shell, &w, &left);
    let before = shell.geometry(&w).unwrap();
    shell.maximize(&w, None, &FRAMES);
    w.ack();
    shell.cover(&w, Some(&left), 0);
    w.ack();
    assert_eq!(shell.restore_place(&w), Some(before));
    shell.unfullscreen(&w);
    w.ack();
    assert_eq!(shell.geometry(&w), Some(before));
}

#[test]
fn a_window_made_fullscreen_before_it_maps_is_configured_with_it_and_opens_in_place() {
    let (mut shell, left, _) = desktop();
    let w = TestWindow::new(500, 300);
    shell.add(w.clone(), "kiosk");
    shell.cover(&w, Some(&left), 0);
    assert_eq!(
        w.0.configures.get(),
        0,
        "the state waits for the initial configure"
    );
    w.send_pending_configure();
    w.ack();
    let loc = shell.place(&w, Some(&left), &Bare);
    shell.map(&w, loc);
    assert_eq!(
        shell.geometry(&w),
        Some(Rectangle::new((0, 0).into(), (1280, 720).into()))
    );
}

#[test]
fn alt_tab_forward_visits_every_window_and_backward_sends_the_top_to_the_bottom() {
    let (mut shell, left, _) = desktop();
    let windows: Vec<TestWindow> = (0..3).map(|_| TestWindow::new(300, 200)).collect();
    for w in &windows {
        open(&mut shell, w, &left);
    }
    let mut visited = Vec::new();
    for _ in 0..3 {
        let next = shell.cycle(true).expect("windows to cycle");
        shell.activate(Some(&next), Some(&left), &FRAMES);
        visited.push(window_id(&next));
    }
    visited.sort();
    assert_eq!(visited, windows.iter().map(window_id).collect::<Vec<_>>());

    let top = shell.top().unwrap();
    let next = shell.cycle(false).unwrap();
    assert_ne!(next, top);
    assert_eq!(
        shell.windows().next(),
        Some(&top),
        "the top window went to the bottom"
    );

    let (mut lone, left, _) = desktop();
    open(&mut lone, &TestWindow::new(300, 200), &left);
    assert_eq!(lone.cycle(true), None);
}

#[test]
fn a_window_its_client_unmaps_maps_again_where_it_was() {
    let (mut shell, _, right) = desktop();
    let w = TestWindow::new(400, 300);
    open(&mut shell, &w, &right);
    shell.move_to(&w, (2000, 500).into());
    shell.unmap(&w);
    assert!(shell.is_unmapped(&w) && !w.initial_configure_sent());
    let other = TestWindow::new(400, 300);
    open(&mut shell, &other, &right);
    let loc = shell.place(&w, Some(&right), &FRAMES);
    assert_eq!(loc, Point::from((2000, 500)));
}

#[test]
fn windows_left_on_no_output_move_onto_the_first_and_sized_ones_are_named() {
    let (mut shell, left, right) = desktop();
    let plain = TestWindow::new(400, 300);
    let big = TestWindow::new(400, 300);
    open(&mut shell, &plain, &right);
    open(&mut shell, &big, &right);
    shell.maximize(&big, None, &FRAMES);
    shell.unmap_output(&right);
    let sized = shell.refit(&FRAMES);
    assert_eq!(sized, vec![big.clone()]);
    let g = shell.geometry(&plain).unwrap();
    assert_eq!(g.loc, Point::from((32 + 2, 32 + 24)));
    assert!(shell.output_geometry(&left).unwrap().contains(g.loc));
}

#[test]
fn raise_all_puts_the_chosen_windows_above_the_others_in_their_order() {
    let (mut shell, left, _) = desktop();
    let windows: Vec<TestWindow> = (0..4).map(|_| TestWindow::new(300, 200)).collect();
    for w in &windows {
        open(&mut shell, w, &left);
    }
    let ids: Vec<u64> = windows.iter().map(window_id).collect();
    shell.raise_all(|w| window_id(w) == ids[0] || window_id(w) == ids[2]);
    assert_eq!(stack(&shell), [ids[1], ids[3], ids[0], ids[2]]);
}

#[test]
fn a_resize_from_the_top_left_keeps_the_bottom_right_corner_still() {
    let (mut shell, left, _) = desktop();
    let w = TestWindow::new(400, 300);
    open(&mut shell, &w, &left);
    let before = shell.geometry(&w).unwrap();
    let resize = shell
        .begin_resize(&w, ResizeEdge::TopLeft)
        .expect("a resize");
    assert!(w.with_pending_state(|s| s.states.contains(State::Resizing)));
    shell.resize_to(&w, (300, 250).into());
    w.ack();
    shell.keep_resize_anchor(&w);
    let after = shell.geometry(&w).unwrap();
    assert_eq!(after.size, Size::from((300, 250)));
    assert_eq!(
        after.loc + Point::from((300, 250)),
        before.loc + Point::from((400, 300))
    );
    shell.end_resize(&w);
    assert!(!w.with_pending_state(|s| s.states.contains(State::Resizing)));
    assert_eq!(resize.initial, before);
    assert!(shell.begin_resize(&w, ResizeEdge::None).is_none());
}

#[test]
fn a_window_whose_client_died_is_forgotten_by_refresh_and_remove() {
    let (mut shell, left, _) = desktop();
    let w = TestWindow::new(300, 200);
    open(&mut shell, &w, &left);
    w.0.alive.set(false);
    shell.refresh();
    assert!(!shell.is_mapped(&w));
    shell.remove(&w);
    assert_eq!(shell.all_windows().count(), 0);
}

/// One window-management step of the property tests, on the window with that index.
#[derive(Debug, Clone)]
enum Step {
    Open { w: i32, h: i32, right: bool },
    Activate(usize),
    Minimize(usize),
    Maximize(usize),
    Unmaximize(usize),
    Fullscreen(usize),
    Unfullscreen(usize),
    Unmap(usize),
    Remap(usize),
    Close(usize),
    Move { i: usize, x: i32, y: i32 },
    Cycle(bool),
    Ack(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0usize..8;
    prop_oneof![
        (50..1500i32, 50..900i32, any::<bool>()).prop_map(|(w, h, right)| Step::Open {
            w,
            h,
            right
        }),
        i.clone().prop_map(Step::Activate),
        i.clone().prop_map(Step::Minimize),
        i.clone().prop_map(Step::Maximize),
        i.clone().prop_map(Step::Unmaximize),
        i.clone().prop_map(Step::Fullscreen),
        i.clone().prop_map(Step::Unfullscreen),
        i.clone().prop_map(Step::Unmap),
        i.clone().prop_map(Step::Remap),
        i.clone().prop_map(Step::Close),
        (i.clone(), -500..3500i32, -200..1300i32).prop_map(|(i, x, y)| Step::Move { i, x, y }),
        any::<bool>().prop_map(Step::Cycle),
        i.prop_map(Step::Ack),
    ]
}

/// A window of the property tests, and the output its frame should fill (and whether as
/// fullscreen) since it was maximized or made fullscreen while shown, until something moves it.
struct Opened {
    window: TestWindow,
    fills: Option<(Output, bool)>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever a person and clients do, every window is in exactly one place (shown,
    /// waiting for its first buffer, or minimized), ids stay unique, at most one window is
    /// active, and a window maximized or made fullscreen while shown fills its output (below
    /// the strip) once its client acknowledged it, until something moves it.
    #[test]
    fn window_management_keeps_every_window_in_one_place(steps in prop::collection::vec(step(), 1..60)) {
        let (mut shell, left, right) = desktop();
        let mut opened: Vec<Opened> = Vec::new();
        for step in steps {
            let n = opened.len().max(1);
            match step {
                Step::Open { w, h, right: r } => {
                    let window = TestWindow::new(w, h);
                    open(&mut shell, &window, if r { &right } else { &left });
                    opened.push(Opened { window, fills: None });
                }
                Step::Close(i) => {
                    if !opened.is_empty() {
                        let o = opened.remove(i % opened.len());
                        shell.remove(&o.window);
                    }
                }
                Step::Cycle(forward) => {
                    if let Some(w) = shell.cycle(forward) {
                        shell.activate(Some(&w), Some(&left), &FRAMES);
                    }
                }
                step => {
                    let i = match step {
                        Step::Activate(i) | Step::Minimize(i) | Step::Maximize(i)
                        | Step::Unmaximize(i) | Step::Fullscreen(i) | Step::Unfullscreen(i)
                        | Step::Unmap(i) | Step::Remap(i) | Step::Ack(i)
                        | Step::Move { i, .. } => i % n,
                        _ => unreachable!(),
                    };
                    let Some(o) = opened.get_mut(i) else { continue };
                    let w = o.window.clone();
                    let mapped = shell.is_mapped(&w);
                    match step {
                        Step::Activate(_) if !shell.is_unmapped(&w) => {
                            shell.activate(Some(&w), Some(&left), &FRAMES);
                        }
                        Step::Minimize(_) => {
                            shell.minimize(&w);
                            o.fills = None;
                        }
                        Step::Maximize(_) if mapped => {
                            shell.maximize(&w, Some(&left), &FRAMES);
                            o.fills = shell.output_of(&w).map(|out| (out, false));
                        }
                        Step::Fullscreen(_) if mapped => {
                            let output = shell.output_of(&w).unwrap_or_else(|| right.clone());
                            shell.cover(&w, Some(&output), FRAME.titlebar);
                            o.fills = Some((output, true));
                        }
                        Step::Unmaximize(_) => {
                            shell.unmaximize(&w);
                            o.fills = None;
                        }
                        Step::Unfullscreen(_) => {
                            shell.unfullscreen(&w);
                            o.fills = None;
                        }
                        Step::Unmap(_) if mapped => {
                            shell.unmap(&w);
                            o.fills = None;
                        }
                        Step::Remap(_) if shell.is_unmapped(&w) => {
                            w.send_pending_configure();
                            w.ack();
                            let loc = shell.place(&w, Some(&left), &FRAMES);
                            shell.map(&w, loc);
                        }
                        Step::Move { x, y, .. } => {
                            shell.move_to(&w, (x, y).into());
                            o.fills = None;
                        }
                        Step::Ack(_) => {
                            w.ack();
                            shell.keep_resize_anchor(&w);
                        }
                        _ => {}
                    }
                }
            }

            for o in &opened {
                let w = &o.window;
                let places = [shell.is_mapped(w), shell.is_unmapped(w), shell.is_minimized(w)];
                prop_assert_eq!(places.iter().filter(|p| **p).count(), 1, "{:?} in {:?}", w, places);
            }
            prop_assert_eq!(shell.all_windows().count(), opened.len());
            let mut ids: Vec<u64> = opened.iter().map(|o| window_id(&o.window)).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), opened.len());
            let active = shell.windows().filter(|w| w.activated()).count();
            prop_assert!(active <= 1, "{} active windows", active);
            for o in &opened {
                let w = &o.window;
                let Some((output, fullscreen)) = &o.fills else { continue };
                let acked = w.current_state().size == w.with_pending_state(|s| s.size);
                let Some(geo) = shell.geometry(w).filter(|_| acked) else { continue };
                let area = shell.output_geometry(output).unwrap();
                if *fullscreen {
                    prop_assert_eq!(geo, placement::fullscreen(area, FRAME.titlebar), "{:?}", w);
                } else {
                    prop_assert_eq!(FRAME.around(geo), area, "{:?}", w);
                }
            }
        }
    }
}
