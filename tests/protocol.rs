//! Protocol behaviour, driven in-process: configure sequences, focus, stacking, popups, and
//! clients that break the rules.

use std::time::Duration;

use porthole_ipc::{Command, InputAction, Response};
use smithay::utils::{Clock, Monotonic, Time};
use wayland_client::Proxy;
use wayland_protocols::xdg::decoration::zv1::client::zxdg_toplevel_decoration_v1::Mode as DecoMode;
use wayland_protocols::xdg::shell::client::{xdg_positioner, xdg_toplevel};

use crate::fixture::{Fixture, FrameMarker, ToplevelConfigure};

const BACKGROUND: [u8; 4] = [0x20, 0x24, 0x28, 0xff];

#[test]
fn initial_configure_lets_the_client_choose_its_size_then_activates_it() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 300, 200);
    let configures = f.configures(c, &w);
    assert_eq!(
        configures.first(),
        Some(&ToplevelConfigure {
            size: (0, 0),
            states: vec![]
        }),
        "the first configure leaves the size to the client"
    );
    let last = configures.last().unwrap();
    assert!(
        last.states.contains(&xdg_toplevel::State::Activated),
        "{configures:?}"
    );
    let windows = f.windows();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0].geometry.width, windows[0].geometry.height),
        (300, 200)
    );
    assert!(windows[0].focused);
    assert_eq!(windows[0].container, "host");
}

#[test]
fn a_window_without_a_buffer_is_not_listed() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_unmapped_window(c);
    f.roundtrip(c);
    assert!(f.windows().is_empty());
}

#[test]
fn new_window_takes_focus_and_goes_on_top() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let a = f.create_window(c, 200, 150);
    let b = f.create_window(c, 200, 150);
    f.roundtrip(c);
    let windows = f.windows();
    assert_eq!(windows.len(), 2);
    assert!(!windows[0].focused && windows[1].focused, "{windows:?}");
    let focus = &f.clients[c].data.keyboard_focus;
    assert_eq!(focus.last(), Some(&Some(b.surface.id())), "{focus:?}");
    assert!(focus.contains(&Some(a.surface.id())));
    // a lost Activated in a later configure.
    let a_last = f.configures(c, &a).last().cloned().unwrap();
    assert!(!a_last.states.contains(&xdg_toplevel::State::Activated));
}

#[test]
fn windows_are_placed_side_by_side_when_there_is_room() {
    let mut f = Fixture::new();
    let c = f.add_client();
    for _ in 0..3 {
        f.create_window(c, 300, 200);
    }
    let frames: Vec<_> = f
        .windows()
        .iter()
        .map(|w| {
            let g = w.geometry;
            (g.x - 2, g.y - 26, g.width + 4, g.height + 28)
        })
        .collect();
    for (i, a) in frames.iter().enumerate() {
        assert!(
            a.0 >= 0 && a.1 >= 0 && a.0 + a.2 <= 1280 && a.1 + a.3 <= 720,
            "{a:?} leaves the output"
        );
        for b in &frames[i + 1..] {
            let overlap = a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3;
            assert!(!overlap, "frames {a:?} and {b:?} overlap");
        }
    }
}

#[test]
fn click_focuses_and_raises_the_window_under_the_pointer() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _a = f.create_window(c, 300, 200);
    let _b = f.create_window(c, 300, 200);
    let first = f.windows()[0].clone();
    assert!(!first.focused);
    let g = first.geometry;
    f.state
        .inject_input(InputAction::PointerMove {
            x: (g.x + 10) as f64,
            y: (g.y + 10) as f64,
        })
        .unwrap();
    f.state
        .inject_input(InputAction::Click {
            button: "left".into(),
        })
        .unwrap();
    f.roundtrip(c);
    let windows = f.windows();
    let top = windows.last().unwrap();
    assert_eq!(top.id, first.id, "the clicked window is raised");
    assert!(top.focused, "the clicked window has focus");
}

#[test]
fn maximize_request_sizes_the_window_to_the_output_inside_its_frame() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 300, 200);
    w.toplevel.set_maximized();
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert!(
        last.states.contains(&xdg_toplevel::State::Maximized),
        "{last:?}"
    );
    assert_eq!(last.size, (1280 - 4, 720 - 24 - 4));
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 1276, 692, [0, 0, 255, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let g = f.windows()[0].geometry;
    assert_eq!((g.x, g.y, g.width, g.height), (2, 26, 1276, 692));
    assert!(f.windows()[0].maximized);

    w.toplevel.unset_maximized();
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert!(!last.states.contains(&xdg_toplevel::State::Maximized));
    assert_eq!(last.size, (300, 200), "unmaximize restores the old size");
}

#[test]
fn a_maximized_window_minimized_and_shown_again_stays_maximized() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 300, 200);
    let before = f.windows()[0].geometry;
    w.toplevel.set_maximized();
    f.roundtrip(c);
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 1276, 692, [0, 0, 255, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let id = f.windows()[0].id;
    for action in [
        porthole_ipc::WindowAction::Minimize,
        porthole_ipc::WindowAction::Focus,
    ] {
        f.state
            .handle_command(Command::Window {
                action,
                id: Some(id),
            })
            .unwrap();
        f.roundtrip(c);
    }
    let shown = f.windows()[0].clone();
    assert!(!shown.minimized && shown.maximized, "{shown:?}");
    let g = shown.geometry;
    assert_eq!((g.x, g.y, g.width, g.height), (2, 26, 1276, 692));

    // Unmaximized, it goes back to where it was before.
    w.toplevel.unset_maximized();
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert_eq!(last.size, (300, 200), "unmaximize restores the old size");
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 300, 200, [0, 0, 255, 255]);
    w.surface.commit();
    f.roundtrip(c);
    assert_eq!(f.windows()[0].geometry, before);
}

#[test]
fn fullscreen_covers_the_output_without_decorations() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 300, 200);
    w.toplevel.set_fullscreen(None);
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert!(
        last.states.contains(&xdg_toplevel::State::Fullscreen),
        "{last:?}"
    );
    assert_eq!(last.size, (1280, 720));
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 1280, 720, [0, 0, 255, 255]);
    w.surface.commit();
    f.roundtrip(c);
    // Corners are the client's blue: no title bar or border drawn over it.
    assert_eq!(f.pixel(0, 0), [0, 0, 255, 255]);
    assert_eq!(f.pixel(1279, 719), [0, 0, 255, 255]);
}

#[test]
fn minimized_window_disappears_until_focused_again() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_window(c, 300, 200);
    let id = f.windows()[0].id;
    let g = f.windows()[0].geometry;
    f.state
        .handle_command(Command::Window {
            action: porthole_ipc::WindowAction::Minimize,
            id: None,
        })
        .unwrap();
    f.roundtrip(c);
    assert!(f.windows()[0].minimized);
    assert_eq!(f.pixel((g.x + 5) as u32, (g.y + 5) as u32), BACKGROUND);
    f.state
        .handle_command(Command::Window {
            action: porthole_ipc::WindowAction::Focus,
            id: Some(id),
        })
        .unwrap();
    f.roundtrip(c);
    let w = &f.windows()[0];
    assert!(!w.minimized && w.focused);
    assert_eq!(
        f.pixel((g.x + 5) as u32, (g.y + 5) as u32),
        [255, 0, 0, 255]
    );
}

#[test]
fn client_pixels_and_server_side_frame_appear_in_the_screenshot() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_window(c, 100, 80);
    let g = f.windows()[0].geometry;
    let (x, y) = (g.x as u32, g.y as u32);
    assert_eq!(
        f.pixel(x + 50, y + 40),
        [255, 0, 0, 255],
        "the client's red"
    );
    // The title bar sits above the content in the focused colour.
    assert_eq!(f.pixel(x + 10, y - 12), [0x5a, 0x8f, 0xd0, 0xff]);
    assert_eq!(f.pixel(x + 300, y + 300), BACKGROUND);
}

#[test]
fn client_side_decorations_get_no_title_bar() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_unmapped_window(c);
    w.decoration
        .as_ref()
        .unwrap()
        .set_mode(DecoMode::ClientSide);
    w.surface.commit();
    f.roundtrip(c);
    assert_eq!(
        f.clients[c].data.decoration_modes.last(),
        Some(&DecoMode::ClientSide)
    );
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 100, 80, [0, 255, 0, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let g = f.windows()[0].geometry;
    // Without a title bar to leave room for, the window goes to the very corner, and nothing
    // is drawn beside it.
    assert_eq!((g.x, g.y), (0, 0));
    assert_eq!(f.pixel(5, 5), [0, 255, 0, 255]);
    assert_eq!(f.pixel(101, 10), BACKGROUND);
}

#[test]
fn clients_that_never_negotiate_decorations_draw_their_own() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_unmapped_window_with(c, false);
    f.roundtrip(c);
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 100, 80, [0, 255, 0, 255]);
    w.surface.commit();
    f.roundtrip(c);
    assert!(f.clients[c].data.decoration_modes.is_empty());
    let g = f.windows()[0].geometry;
    assert_eq!((g.x, g.y), (0, 0), "no title bar to leave room for");
    assert_eq!(f.pixel(101, 10), BACKGROUND, "no border drawn around it");
}

#[test]
fn xdg_decoration_defaults_to_server_side() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_window(c, 100, 80);
    assert_eq!(
        f.clients[c].data.decoration_modes.last(),
        Some(&DecoMode::ServerSide)
    );
}

#[test]
fn popup_is_placed_by_its_positioner_and_kept_on_the_output() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let parent = f.create_window(c, 200, 100);
    let popup = {
        let cl = &f.clients[c];
        let g = cl.globals.as_ref().unwrap();
        let positioner = g.wm_base.create_positioner(&cl.qh, ());
        positioner.set_size(150, 400);
        positioner.set_anchor_rect(190, 90, 10, 10);
        positioner.set_anchor(xdg_positioner::Anchor::BottomRight);
        positioner.set_gravity(xdg_positioner::Gravity::BottomRight);
        positioner.set_constraint_adjustment(
            xdg_positioner::ConstraintAdjustment::SlideY
                | xdg_positioner::ConstraintAdjustment::SlideX,
        );
        let surface = g.compositor.create_surface(&cl.qh, ());
        let xdg = g.wm_base.get_xdg_surface(&surface, &cl.qh, ());
        let popup = xdg.get_popup(Some(&parent.xdg_surface), &positioner, &cl.qh, ());
        surface.commit();
        popup
    };
    f.roundtrip(c);
    let (x, y, w, h) = *f.clients[c].data.popup_configures[&popup.id()]
        .last()
        .unwrap();
    assert_eq!((w, h), (150, 400));
    assert_eq!(x, 200, "anchored at the parent's right edge");
    let parent_geo = f.windows()[0].geometry;
    let bottom = parent_geo.y + y + h;
    assert!(
        bottom <= 720,
        "slid up to stay on the output: popup bottom at {bottom}"
    );
}

#[test]
fn a_window_that_opens_closes_the_menu_another_window_holds_open() {
    let mut f = Fixture::new();
    let a = f.add_client();
    let b = f.add_client();
    let parent = f.create_window(a, 300, 200);
    let g = f.windows()[0].geometry;
    pointer_to(&mut f, g.x + 10, g.y + 10);
    button(&mut f, "left", true);
    f.roundtrip(a);
    let serial = f.clients[a]
        .data
        .last_button_serial
        .expect("a button serial");
    let popup = {
        let cl = &f.clients[a];
        let gl = cl.globals.as_ref().unwrap();
        let positioner = gl.wm_base.create_positioner(&cl.qh, ());
        positioner.set_size(100, 100);
        positioner.set_anchor_rect(10, 10, 1, 1);
        let surface = gl.compositor.create_surface(&cl.qh, ());
        let xdg = gl.wm_base.get_xdg_surface(&surface, &cl.qh, ());
        let popup = xdg.get_popup(Some(&parent.xdg_surface), &positioner, &cl.qh, ());
        popup.grab(&gl.seat, serial);
        surface.commit();
        popup
    };
    f.roundtrip(a);
    button(&mut f, "left", false);
    f.roundtrip(a);
    assert!(f.clients[a].data.popups_done.is_empty(), "the menu is open");
    let _other = f.create_window(b, 200, 100);
    f.roundtrip(a);
    assert_eq!(f.clients[a].data.popups_done, vec![popup.id()]);
}

#[test]
fn frame_callbacks_arrive_once_per_refresh_and_idle_costs_no_frames() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 100, 100);
    f.run_for(Duration::from_millis(50));
    // A client asking for a frame callback gets one after the next repaint.
    {
        let cl = &f.clients[c];
        w.surface.frame(&cl.qh, FrameMarker);
        w.surface.damage_buffer(0, 0, 1, 1);
        w.surface.commit();
    }
    f.run_for(Duration::from_millis(100));
    assert_eq!(f.clients[c].data.frames_done, 1);
    // Nothing changes: no repaint is queued, so no frame is in flight.
    f.run_for(Duration::from_millis(100));
    let state = f.state.comp.outputs.frames.values().next().unwrap();
    assert!(!state.redraw_queued && !state.frame_pending, "{state:?}");
}

#[test]
fn an_animating_client_is_on_screen_one_refresh_after_its_commit() {
    // Frame callbacks go out at the (simulated) vblank and the output repaints just before the
    // next one, so a client that draws when told is shown at that next vblank. Rendering as soon
    // as the commit arrives would show it a vblank later: two refreshes after the commit.
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 100, 100);
    f.run_for(Duration::from_millis(50));
    let clock = Clock::<Monotonic>::new();
    let now = || Time::<Monotonic>::elapsed(&Time::from(Duration::ZERO), clock.now());
    let refresh = Duration::from_nanos(1_000_000_000 / 60);
    let mut latencies = Vec::new();
    for _ in 0..30 {
        let frames = f.clients[c].data.frames_done;
        let presented = f.clients[c].data.presented_at.len();
        {
            let cl = &f.clients[c];
            let presentation = &cl.globals.as_ref().unwrap().presentation;
            presentation.feedback(&w.surface, &cl.qh, ());
            w.surface.frame(&cl.qh, FrameMarker);
            w.surface.damage_buffer(0, 0, 10, 10);
        }
        let committed = now();
        w.surface.commit();
        // Until the frame is shown and the client is told to draw the next one.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while f.clients[c].data.frames_done == frames
            || f.clients[c].data.presented_at.len() == presented
        {
            assert!(std::time::Instant::now() < deadline, "no frame came back");
            f.run_for(Duration::from_micros(200));
        }
        latencies.push(f.clients[c].data.presented_at[presented] - committed);
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    assert!(
        median <= refresh,
        "commit to screen takes {median:?}, more than one refresh ({refresh:?}): {latencies:?}"
    );
}

#[test]
fn presentation_feedback_reports_the_refresh_of_the_output() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 100, 100);
    f.run_for(Duration::from_millis(40));
    {
        let cl = &f.clients[c];
        let presentation = &cl.globals.as_ref().unwrap().presentation;
        presentation.feedback(&w.surface, &cl.qh, ());
        w.surface.damage_buffer(0, 0, 1, 1);
        w.surface.commit();
    }
    f.run_for(Duration::from_millis(100));
    let presented = &f.clients[c].data.presented;
    assert_eq!(presented.len(), 1, "{presented:?}");
    let (refresh, flags) = presented[0].expect("presented, not discarded");
    assert_eq!(refresh, 1_000_000_000 / 60, "a 60 Hz output");
    assert!(flags & 1 != 0, "vsync flag: {flags:#x}");
}

#[test]
fn bindings_never_reach_the_client_and_close_the_focused_window() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 100, 100);
    f.clients[c].data.keys.clear();
    f.state
        .inject_input(InputAction::Key {
            combo: "super+q".into(),
        })
        .unwrap();
    f.roundtrip(c);
    assert_eq!(f.clients[c].data.close_requests, vec![w.toplevel.id()]);
    // The client saw the Super key itself but not Q (evdev 16).
    let keys: Vec<u32> = f.clients[c].data.keys.iter().map(|k| k.0).collect();
    assert!(!keys.contains(&16), "Q leaked to the client: {keys:?}");
    f.state
        .inject_input(InputAction::Type { text: "q".into() })
        .unwrap();
    f.roundtrip(c);
    assert!(
        f.clients[c].data.keys.contains(&(16, true)),
        "plain q reaches the client"
    );
}

#[test]
fn control_api_reports_windows_and_errors_for_unknown_ids() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 120, 90);
    w.toplevel.set_title("hello".into());
    w.toplevel.set_app_id("org.example.Test".into());
    w.surface.commit();
    f.roundtrip(c);
    let Response::Windows { windows } = f.state.handle_command(Command::Windows).unwrap() else {
        panic!("wrong reply")
    };
    assert_eq!(windows[0].title, "hello");
    assert_eq!(windows[0].app_id, "org.example.Test");
    assert_eq!(windows[0].output.as_deref(), Some("HEADLESS-1"));
    let err = f
        .state
        .handle_command(Command::Window {
            action: porthole_ipc::WindowAction::Close,
            id: Some(999),
        })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("999") && err.contains("porthole windows"),
        "{err}"
    );
    let err = f
        .state
        .handle_command(Command::Screenshot {
            output: Some("DP-9".into()),
            container: None,
            cursor: false,
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("DP-9"), "{err}");
}

// --- Clients that break the rules ------------------------------------------------------------

#[test]
fn garbage_bytes_disconnect_only_that_client() {
    let mut f = Fixture::new();
    let good = f.add_client();
    let _w = f.create_window(good, 100, 100);
    let mut bad = f.raw_connection();
    // Object id 1 (wl_display), opcode 77, a length that lies.
    Fixture::send_garbage(
        &mut bad,
        &[1, 0, 0, 0, 77, 0, 0xff, 0x7f, 0xde, 0xad, 0xbe, 0xef],
    );
    Fixture::send_garbage(&mut bad, &[0xff; 4096]);
    f.roundtrip(good);
    f.roundtrip(good);
    // The compositor hung up on the bad client...
    bad.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let mut closed = false;
    for _ in 0..20 {
        match std::io::Read::read(&mut bad, &mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                closed = true;
                break;
            }
            Err(_) => f.dispatch_server(),
        }
    }
    assert!(closed, "the garbage-sending client is still connected");
    // ...and the good one still gets served and drawn.
    let w2 = f.create_window(good, 50, 50);
    assert_eq!(f.windows().len(), 2);
    let _ = w2;
}

#[test]
fn a_buffer_committed_before_the_configure_is_acked_maps_the_window_at_the_clients_size() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_unmapped_window(c);
    f.roundtrip(c);
    // The client got its configure but attaches without acknowledging it, as older clients
    // and WLCS do: the window shows, at the size the client drew.
    f.attach_solid(c, &w, 40, 30, [1, 2, 3, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let windows = f.windows();
    assert_eq!(windows.len(), 1, "{windows:?}");
    assert_eq!(
        (windows[0].geometry.width, windows[0].geometry.height),
        (40, 30)
    );
}

#[test]
fn destroying_xdg_surface_before_its_toplevel_is_a_protocol_error() {
    let mut f = Fixture::new();
    let bad = f.add_client();
    let good = f.add_client();
    let _gw = f.create_window(good, 100, 100);
    let w = f.create_window(bad, 100, 100);
    assert_eq!(f.windows().len(), 2);
    w.xdg_surface.destroy();
    f.roundtrip(bad);
    let err = f.clients[bad]
        .conn
        .protocol_error()
        .expect("a protocol error");
    assert_eq!(err.object_interface, "xdg_wm_base", "{err:?}");
    f.roundtrip(good);
    f.run_for(Duration::from_millis(20));
    let windows = f.windows();
    assert_eq!(
        windows.len(),
        1,
        "the bad client's window is gone: {windows:?}"
    );
    assert!(windows[0].focused, "focus moved to the remaining window");
}

#[test]
fn client_that_dies_mid_commit_is_cleaned_up() {
    let mut f = Fixture::new();
    let good = f.add_client();
    let _gw = f.create_window(good, 100, 100);
    let dying = f.add_client();
    let w = f.create_window(dying, 100, 100);
    assert_eq!(f.windows().len(), 2);
    // Half a commit request reaches the compositor, then the process is gone.
    f.attach_solid(dying, &w, 30, 30, [9, 9, 9, 255]);
    f.clients[dying].conn.flush().unwrap();
    drop(w);
    f.kill_client(dying);
    f.run_for(Duration::from_millis(50));
    f.roundtrip(good);
    let windows = f.windows();
    assert_eq!(windows.len(), 1, "{windows:?}");
    let new = f.create_window(good, 40, 40);
    let _ = new;
    assert_eq!(f.windows().len(), 2);
}

// --- Pointer and keyboard window management ---------------------------------------------------

fn input(f: &mut Fixture, action: InputAction) {
    f.state.inject_input(action).unwrap();
}

fn pointer_to(f: &mut Fixture, x: i32, y: i32) {
    input(
        f,
        InputAction::PointerMove {
            x: x as f64,
            y: y as f64,
        },
    );
}

#[test]
fn a_window_opening_under_a_still_pointer_gets_it_at_once() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let a = f.create_window(c, 300, 200);
    let g = f.windows()[0].geometry;
    let (x, y) = (g.x + 20, g.y + 20);
    pointer_to(&mut f, x, y);
    f.roundtrip(c);
    assert_eq!(f.clients[c].data.pointer_enters, vec![a.surface.id()]);
    // The window goes; the next one opens in its place, under the pointer, which never moved.
    a.toplevel.destroy();
    a.xdg_surface.destroy();
    f.roundtrip(c);
    let b = f.create_window(c, 300, 200);
    let g = f.windows()[0].geometry;
    assert!(
        (g.x..g.x + g.width).contains(&x) && (g.y..g.y + g.height).contains(&y),
        "precondition: the second window opens where the first was: {g:?}"
    );
    f.roundtrip(c);
    assert_eq!(
        f.clients[c].data.pointer_enters.last(),
        Some(&b.surface.id()),
        "the window under the pointer was not entered"
    );
}

#[test]
fn a_window_its_client_hides_and_shows_again_comes_back_where_it_was() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _other = f.create_window(c, 200, 100);
    let w = f.create_window(c, 300, 200);
    // The person put it somewhere else.
    let window = f.state.comp.shell.top().expect("a window");
    f.state.comp.shell.move_to(&window, (500, 300).into());
    let before = f.windows().last().unwrap().geometry;
    // The client hides it (a null buffer), then shows it again as xdg-shell asks.
    w.surface.attach(None, 0, 0);
    w.surface.commit();
    f.roundtrip(c);
    assert_eq!(f.windows().len(), 1, "the window is unmapped");
    w.surface.commit();
    f.roundtrip(c);
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 300, 200, [9, 9, 9, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let after = f.windows().last().unwrap().geometry;
    assert_eq!(after, before);
}

#[test]
fn a_touch_focuses_the_window_under_it_and_reaches_it_at_the_place_touched() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let below = f.create_window(c, 300, 200);
    let _above = f.create_window(c, 300, 200);
    let first = f.windows()[0].clone();
    assert!(!first.focused);
    let g = first.geometry;
    let slot = smithay::backend::input::TouchSlot::from(Some(0));
    f.state
        .on_touch_down(slot, ((g.x + 7) as f64, (g.y + 9) as f64).into(), 1);
    f.state.on_touch_up(slot, 2);
    if let Some(touch) = f.state.comp.seat.get_touch() {
        touch.frame(&mut f.state);
    }
    f.roundtrip(c);
    assert_eq!(
        f.clients[c].data.touch_downs,
        vec![(below.surface.id(), 7.0, 9.0)]
    );
    let windows = f.windows();
    let top = windows.last().unwrap();
    assert_eq!(top.id, first.id, "the touched window is raised");
    assert!(top.focused, "the touched window has focus");
}

fn button(f: &mut Fixture, name: &str, pressed: bool) {
    input(
        f,
        InputAction::Button {
            button: name.into(),
            pressed,
        },
    );
}

fn super_key(f: &mut Fixture, pressed: bool) {
    input(
        f,
        InputAction::KeyState {
            key: "Super_L".into(),
            pressed,
        },
    );
}

#[test]
fn super_drag_moves_the_window_without_clicking_into_it() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_window(c, 200, 150);
    let before = f.windows()[0].geometry;
    super_key(&mut f, true);
    pointer_to(&mut f, before.x + 50, before.y + 50);
    button(&mut f, "left", true);
    pointer_to(&mut f, before.x + 350, before.y + 150);
    button(&mut f, "left", false);
    super_key(&mut f, false);
    f.roundtrip(c);
    let after = f.windows()[0].geometry;
    assert_eq!((after.x, after.y), (before.x + 300, before.y + 100));
    assert_eq!((after.width, after.height), (before.width, before.height));
}

#[test]
fn dragging_the_title_bar_moves_the_window() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let _w = f.create_window(c, 200, 150);
    let before = f.windows()[0].geometry;
    pointer_to(&mut f, before.x + 20, before.y - 10);
    button(&mut f, "left", true);
    pointer_to(&mut f, before.x + 120, before.y + 90);
    button(&mut f, "left", false);
    f.roundtrip(c);
    let after = f.windows()[0].geometry;
    assert_eq!((after.x, after.y), (before.x + 100, before.y + 100));
}

#[test]
fn super_right_drag_resizes_toward_the_nearest_corner() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 200, 150);
    let g = f.windows()[0].geometry;
    super_key(&mut f, true);
    pointer_to(&mut f, g.x + 190, g.y + 140);
    button(&mut f, "right", true);
    pointer_to(&mut f, g.x + 290, g.y + 190);
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert_eq!(last.size, (300, 200), "{last:?}");
    assert!(last.states.contains(&xdg_toplevel::State::Resizing));
    button(&mut f, "right", false);
    super_key(&mut f, false);
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert!(
        !last.states.contains(&xdg_toplevel::State::Resizing),
        "{last:?}"
    );
}

#[test]
fn resizing_from_the_left_edge_keeps_the_right_edge_in_place() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 200, 150);
    // Move it away from the output's left edge first.
    let g = f.windows()[0].geometry;
    super_key(&mut f, true);
    pointer_to(&mut f, g.x + 10, g.y + 10);
    button(&mut f, "left", true);
    pointer_to(&mut f, g.x + 410, g.y + 110);
    button(&mut f, "left", false);
    super_key(&mut f, false);
    let g = f.windows()[0].geometry;
    // Left border, halfway down.
    pointer_to(&mut f, g.x - 1, g.y + 75);
    button(&mut f, "left", true);
    pointer_to(&mut f, g.x - 51, g.y + 75);
    f.roundtrip(c);
    let last = f.configures(c, &w).last().cloned().unwrap();
    assert_eq!(last.size, (250, 150));
    f.ack_last_configure(c, &w);
    f.attach_solid(c, &w, 250, 150, [0, 0, 255, 255]);
    w.surface.commit();
    button(&mut f, "left", false);
    f.roundtrip(c);
    let after = f.windows()[0].geometry;
    assert_eq!(
        after.x + after.width,
        g.x + g.width,
        "right edge stays: {after:?}"
    );
    assert_eq!(after.width, 250);
}

#[test]
fn the_close_button_asks_the_client_to_close() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_window(c, 200, 150);
    let g = f.windows()[0].geometry;
    // The close button is the rightmost square in the title bar: 18 px, 3 px from the edge.
    pointer_to(&mut f, g.x + g.width - 3 - 9, g.y - 24 + 3 + 9);
    input(
        &mut f,
        InputAction::Click {
            button: "left".into(),
        },
    );
    f.roundtrip(c);
    assert_eq!(f.clients[c].data.close_requests, vec![w.toplevel.id()]);
}

#[test]
fn alt_tab_cycles_focus_through_every_window() {
    let mut f = Fixture::new();
    let c = f.add_client();
    for _ in 0..3 {
        f.create_window(c, 100, 100);
    }
    let ids: Vec<u64> = f.windows().iter().map(|w| w.id).collect();
    let mut seen = Vec::new();
    for _ in 0..3 {
        input(
            &mut f,
            InputAction::Key {
                combo: "alt+Tab".into(),
            },
        );
        f.roundtrip(c);
        let focused = f.windows().into_iter().find(|w| w.focused).unwrap();
        assert_eq!(
            f.windows().last().unwrap().id,
            focused.id,
            "the focused window is on top"
        );
        seen.push(focused.id);
    }
    seen.sort();
    assert_eq!(seen, ids, "three presses visit all three windows");
}

#[test]
fn absurd_window_geometry_does_not_break_placement() {
    let mut f = Fixture::new();
    let c = f.add_client();
    let w = f.create_unmapped_window(c);
    f.roundtrip(c);
    f.ack_last_configure(c, &w);
    w.xdg_surface
        .set_window_geometry(i32::MAX - 1, i32::MAX - 1, i32::MAX, i32::MAX);
    f.attach_solid(c, &w, 100, 100, [1, 1, 1, 255]);
    w.surface.commit();
    f.roundtrip(c);
    let other = f.add_client();
    let _ok = f.create_window(other, 50, 50);
    f.run_for(Duration::from_millis(40));
    // The honest client's window is placed and drawn, and the compositor still renders.
    let honest = f
        .windows()
        .into_iter()
        .find(|w| w.geometry.width == 50)
        .expect("mapped");
    let g = honest.geometry;
    assert!(
        g.x >= 0 && g.y >= 0 && g.x + 50 <= 1280 && g.y + 50 <= 720,
        "{g:?}"
    );
    assert_eq!(
        f.pixel((g.x + 25) as u32, (g.y + 25) as u32),
        [255, 0, 0, 255]
    );
}

// --- Containers ---------------------------------------------------------------------------------

/// A drag is offered only within its own container, even under the default clipboard rules
/// (export and import `allow`): a client offered a drag can read it before any drop, so a drop
/// on another container's window is a transfer instead (tests/clipboard.rs).
#[test]
fn a_drag_is_offered_only_within_its_container() {
    let mut f = Fixture::new();
    let a = f.add_client_in("a");
    let b = f.add_client_in("b");
    let wa = f.create_window(a, 200, 150);
    let wa2 = f.create_window(a, 200, 150);
    let wb = f.create_window(b, 200, 150);
    let geo = |f: &Fixture, i: usize| f.windows()[i].geometry;
    let (ga, ga2, gb) = (geo(&f, 0), geo(&f, 1), geo(&f, 2));

    // Client a starts a drag from its first window, with the serial of a real press.
    let (manager, device) = f.data_device(a);
    let (_b_manager, _b_device) = f.data_device(b);
    pointer_to(&mut f, ga.x + 20, ga.y + 20);
    button(&mut f, "left", true);
    f.roundtrip(a);
    let serial = f.clients[a].data.last_button_serial.expect("a press");
    let source = manager.create_data_source(&f.clients[a].qh.clone(), ());
    source.offer("text/plain".into());
    device.start_drag(Some(&source), &wa.surface, None, serial);
    f.roundtrip(a);
    // Over b's window: b is offered nothing.
    pointer_to(&mut f, gb.x + 20, gb.y + 20);
    f.roundtrip_all();
    assert!(
        !f.clients[b].data.drag_enters.contains(&wb.surface.id()),
        "b was offered a's drag: {:?}",
        f.clients[b].data.drag_enters
    );
    // Over a's other window, the drag is offered as usual.
    pointer_to(&mut f, ga2.x + 20, ga2.y + 20);
    f.roundtrip_all();
    assert!(
        f.clients[a].data.drag_enters.contains(&wa2.surface.id()),
        "{:?}",
        f.clients[a].data.drag_enters
    );
    button(&mut f, "left", false);
    f.roundtrip_all();
}
