//! End-to-end tests: the real `porthole` binary, headless, with real Wayland clients
//! (weston-simple-shm, weston-simple-damage, foot or weston-terminal, wayland-info), checked
//! through what a user would see: the window list, screenshots, files a shell wrote.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use porthole_ipc::{Geometry, WindowInfo};

use crate::common::*;

const W: i32 = 1280;
const H: i32 = 720;

fn desktop() -> Compositor {
    Compositor::start(W, H)
}

/// Starts weston-simple-shm and waits for its window.
fn open_simple_shm(comp: &mut Compositor) -> (u32, WindowInfo) {
    let known: Vec<u64> = comp.windows().iter().map(|w| w.id).collect();
    let pid = comp.spawn_client("weston-simple-shm", &[]);
    let window = comp.wait_for_new_window(&known, CLIENT_TIMEOUT);
    (pid, window)
}

/// Waits until the pixels of `rect` change between two screenshots (the client animates).
fn wait_for_animation(comp: &mut Compositor, rect: Geometry, what: &str) {
    let first = comp.screenshot().region(rect);
    assert!(!first.is_empty(), "{what}: {rect:?} is not on the output");
    poll(
        Duration::from_secs(5),
        &format!("{what} to animate"),
        || {
            let now = comp.screenshot().region(rect);
            if now != first {
                Ok(())
            } else {
                Err("two screenshots were identical in the window".into())
            }
        },
    );
}

/// Every sampled pixel outside all window frames shows the background.
fn assert_background_outside(shot: &Screenshot, windows: &[WindowInfo]) {
    let frames: Vec<Geometry> = windows.iter().map(|w| shot.footprint(w.geometry)).collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for y in (0..shot.height as i32).step_by(7) {
        for x in (0..shot.width as i32).step_by(7) {
            // One pixel of slack around each frame.
            if frames.iter().any(|f| {
                contains(
                    Geometry {
                        x: f.x - 1,
                        y: f.y - 1,
                        width: f.width + 2,
                        height: f.height + 2,
                    },
                    x,
                    y,
                )
            }) {
                continue;
            }
            checked += 1;
            let p = shot.pixel(x, y);
            if p != BACKGROUND {
                wrong.push(format!("({x},{y})={}", hex(p)));
            }
        }
    }
    assert!(
        checked > 1000,
        "too little of the desktop is uncovered to check ({checked} samples)"
    );
    assert!(
        wrong.is_empty(),
        "{} of {checked} pixels outside every window are not the background {}: {}",
        wrong.len(),
        hex(BACKGROUND),
        wrong.iter().take(10).cloned().collect::<Vec<_>>().join(" ")
    );
}

#[test]
fn wayland_info_lists_the_desktop_globals() {
    let comp = desktop();
    let out = comp.run_client("wayland-info", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wayland-info failed with {}: {}{}",
        out.status,
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let missing: Vec<&str> = [
        "wl_compositor",
        "wl_subcompositor",
        "wl_shm",
        "xdg_wm_base",
        "zxdg_decoration_manager_v1",
        "wl_seat",
        "wl_output",
        "zxdg_output_manager_v1",
        "wl_data_device_manager",
        "wp_viewporter",
        "wp_single_pixel_buffer_manager_v1",
        "wp_presentation",
        "wp_fractional_scale_manager_v1",
        "wp_cursor_shape_manager_v1",
        "xdg_activation_v1",
        "zwp_primary_selection_device_manager_v1",
    ]
    .into_iter()
    .filter(|global| !text.contains(&format!("interface: '{global}'")))
    .collect();
    assert!(
        missing.is_empty(),
        "wayland-info does not list {missing:?}:\n{text}"
    );
}

#[test]
fn simple_shm_pixels_appear_at_the_window_place() {
    let mut comp = desktop();
    let (_, window) = open_simple_shm(&mut comp);
    let g = window.geometry;
    assert_eq!(
        (g.width, g.height),
        (250, 250),
        "weston-simple-shm is 250x250: {window:?}"
    );
    assert!(window.focused, "a new window gets focus: {window:?}");

    let shot = comp.screenshot();
    assert_eq!((shot.width, shot.height), (W as u32, H as u32));
    // The whole window is on the output, frame (if it has one) included.
    let covers = shot.footprint(g);
    assert!(
        covers.x >= 0
            && covers.y >= 0
            && covers.x + covers.width <= W
            && covers.y + covers.height <= H,
        "the window {covers:?} leaves the {W}x{H} output"
    );
    let bg = shot.share_of(g, BACKGROUND);
    assert!(
        bg < 0.01,
        "{:.1}% of the window shows the background",
        bg * 100.0
    );
    let colours = shot.distinct_colours(g);
    assert!(
        colours > 100,
        "simple-shm's pattern should have many colours, saw {colours}"
    );
    assert_background_outside(&shot, &[window]);

    wait_for_animation(&mut comp, g, "simple-shm");
}

#[test]
fn simple_damage_window_maps_and_animates() {
    let mut comp = desktop();
    comp.spawn_client("weston-simple-damage", &[]);
    let window = comp.wait_for_windows(1, CLIENT_TIMEOUT).remove(0);
    let g = window.geometry;
    assert!(g.width > 0 && g.height > 0, "{window:?}");
    let shot = comp.screenshot();
    let bg = shot.share_of(g, BACKGROUND);
    assert!(
        bg < 0.01,
        "{:.1}% of the window shows the background",
        bg * 100.0
    );
    let colours = shot.distinct_colours(g);
    assert!(
        colours >= 3,
        "simple-damage draws a border, a field and a ball; saw {colours} colours"
    );
    assert_background_outside(&shot, &[window]);
    wait_for_animation(&mut comp, g, "simple-damage");
}

#[test]
fn typed_text_reaches_the_terminal() {
    let mut comp = desktop();
    comp.spawn_terminal();
    let window = comp.wait_for_windows(1, CLIENT_TIMEOUT).remove(0);
    comp.wait_for_window(window.id, "focused", CLIENT_TIMEOUT, |w| w.focused);

    let out = comp.dir().join("out.txt");
    // Letters of both cases, digits and punctuation that needs shift on a US layout.
    let payload = "Hello, Porthole! 0-9 a_b=c+d @#%&*()[]{}<>?|~^\"";
    let line = format!("printf '%s\\n' '{payload}' > {}", out.display());
    comp.run_ok(&["input", "type", &line]);
    comp.run_ok(&["input", "key", "Return"]);
    let text = poll(
        CLIENT_TIMEOUT,
        "the shell to write out.txt",
        || match std::fs::read_to_string(&out) {
            Ok(t) if t.ends_with('\n') => Ok(t),
            Ok(t) => Err(format!("partial content {t:?}")),
            Err(e) => Err(e.to_string()),
        },
    );
    assert_eq!(text, format!("{payload}\n"));
}

#[test]
fn super_q_closes_the_focused_window() {
    let mut comp = desktop();
    let (pid, window) = open_simple_shm(&mut comp);
    comp.wait_for_window(window.id, "focused", CLIENT_TIMEOUT, |w| w.focused);
    comp.run_ok(&["input", "key", "super+q"]);
    comp.wait_for_windows(0, CLIENT_TIMEOUT);
    // weston-simple-shm leaves when its toplevel is closed.
    comp.wait_for_client_exit(pid, CLIENT_TIMEOUT);
    let shot = comp.screenshot();
    assert_background_outside(&shot, &[]);
}

#[test]
fn maximize_fills_the_output_below_the_title_bar() {
    let mut comp = desktop();
    // A terminal, since it resizes to what it is told (simple-shm has a fixed size).
    comp.spawn_terminal();
    let before = comp.wait_for_windows(1, CLIENT_TIMEOUT).remove(0);
    let id = before.id;
    assert!(!before.maximized, "{before:?}");
    // The terminal asks for server-side decorations: a title bar in the focused colour.
    let g = before.geometry;
    let shot = comp.screenshot();
    assert_eq!(
        hex(shot.pixel(g.x + 4, g.y - TITLEBAR / 2)),
        hex(FOCUSED_FRAME),
        "title bar of the focused terminal"
    );
    assert_eq!(shot.footprint(g), frame_of(g), "frame around the terminal");
    let id_arg = id.to_string();
    comp.run_ok(&["window", "maximize", "--id", &id_arg]);
    let want = Geometry {
        x: BORDER,
        y: TITLEBAR + BORDER,
        width: W - 2 * BORDER,
        height: H - TITLEBAR - 2 * BORDER,
    };
    let max = comp.wait_for_window(id, "maximized to the output", CLIENT_TIMEOUT, |w| {
        w.maximized && w.geometry == want
    });
    assert_eq!(
        max.geometry,
        Geometry {
            x: 2,
            y: 26,
            width: 1276,
            height: 692
        }
    );

    // What is on screen: frame at the top-left and the bottom-right corner, no background.
    let shot = comp.screenshot();
    assert_eq!(
        hex(shot.pixel(0, 0)),
        hex(FOCUSED_FRAME),
        "top-left corner is frame"
    );
    assert_eq!(
        hex(shot.pixel(W - 1, H - 1)),
        hex(FOCUSED_FRAME),
        "bottom-right corner is frame"
    );
    let bg = shot.share_of(
        Geometry {
            x: 0,
            y: 0,
            width: W,
            height: H,
        },
        BACKGROUND,
    );
    assert!(
        bg == 0.0,
        "{:.2}% of a maximized desktop shows the background",
        bg * 100.0
    );

    // Toggling again restores the place and size it had.
    comp.run_ok(&["window", "maximize", "--id", &id_arg]);
    comp.wait_for_window(id, "restored", CLIENT_TIMEOUT, |w| {
        !w.maximized && w.geometry == before.geometry
    });
}

#[test]
fn click_focuses_the_window_under_the_pointer() {
    // Terminals, since they ask for server-side frames whose colour shows focus; a larger output
    // so that two fit side by side.
    let mut comp = Compositor::start(1920, 1080);
    comp.spawn_terminal();
    let first = comp.wait_for_new_window(&[], CLIENT_TIMEOUT);
    comp.spawn_terminal();
    let second = comp.wait_for_new_window(&[first.id], CLIENT_TIMEOUT);
    let first = comp
        .window(first.id)
        .expect("the first window is still there");
    assert!(
        !intersects(frame_of(first.geometry), frame_of(second.geometry)),
        "windows overlap: {first:?} {second:?}"
    );
    comp.wait_for_window(second.id, "focused", CLIENT_TIMEOUT, |w| w.focused);
    assert!(!comp.window(first.id).unwrap().focused);

    let g = first.geometry;
    let (cx, cy) = (g.x + g.width / 2, g.y + g.height / 2);
    comp.run_ok(&["input", "move", &cx.to_string(), &cy.to_string()]);
    comp.run_ok(&["input", "click", "left"]);
    comp.wait_for_window(first.id, "focused after the click", CLIENT_TIMEOUT, |w| {
        w.focused
    });
    let second_now = comp
        .window(second.id)
        .expect("the second window is still there");
    assert!(!second_now.focused, "two windows focused: {second_now:?}");

    // The frames show it: the clicked window's title bar is in the focused colour.
    let shot = comp.screenshot();
    let s = second.geometry;
    assert_eq!(
        hex(shot.pixel(g.x + 4, g.y - TITLEBAR / 2)),
        hex(FOCUSED_FRAME)
    );
    assert_eq!(
        hex(shot.pixel(s.x + 4, s.y - TITLEBAR / 2)),
        hex(UNFOCUSED_FRAME)
    );
}

#[test]
fn new_windows_do_not_overlap_when_there_is_room() {
    let mut comp = desktop();
    let windows: Vec<WindowInfo> = (0..3).map(|_| open_simple_shm(&mut comp).1).collect();
    // Read them again: placement is final once all three are mapped.
    let windows: Vec<WindowInfo> = windows
        .iter()
        .map(|w| comp.window(w.id).expect("window still listed"))
        .collect();
    // What each covers on screen: content plus frame where it has one.
    let shot = comp.screenshot();
    for (i, a) in windows.iter().enumerate() {
        let fa = shot.footprint(a.geometry);
        assert!(
            fa.x >= 0 && fa.y >= 0 && fa.x + fa.width <= W && fa.y + fa.height <= H,
            "window {} {fa:?} leaves the output",
            a.id
        );
        for b in &windows[i + 1..] {
            let fb = shot.footprint(b.geometry);
            assert!(
                !intersects(fa, fb),
                "frames overlap: {} {fa:?} and {} {fb:?}",
                a.id,
                b.id
            );
        }
    }
}

#[test]
fn screenshot_of_unknown_output_is_a_clear_error() {
    let comp = desktop();
    let file = comp.dir().join("nope.png");
    let out = comp.run(&["screenshot", file.to_str().unwrap(), "--output", "NOPE-7"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "screenshot of an unknown output succeeded"
    );
    assert!(
        stderr.contains("NOPE-7"),
        "stderr does not name the output: {stderr}"
    );
    assert!(
        stderr.contains("porthole outputs"),
        "stderr does not point to `porthole outputs`: {stderr}"
    );
    assert!(!file.exists(), "a file was written anyway");

    // The names `porthole outputs` lists do work.
    let outputs: serde_json::Value =
        serde_json::from_str(&comp.run_ok(&["outputs", "--json"])).expect("outputs JSON");
    let name = outputs[0]["name"]
        .as_str()
        .expect("an output name")
        .to_owned();
    comp.run_ok(&["screenshot", file.to_str().unwrap(), "--output", &name]);
    assert!(file.exists());
}

#[test]
fn validate_reports_the_line_of_a_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[keyboard]\nlayout = \"us\"\nrepeat_dealy = 300\n").unwrap();
    let mut cmd = std::process::Command::new(PORTHOLE);
    cmd.arg("validate")
        .arg(&bad)
        .env("XDG_RUNTIME_DIR", dir.path());
    let out = run_bounded(cmd, CLI_TIMEOUT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad key validated: {stderr}");
    assert!(stderr.contains("line 3"), "no line number: {stderr}");
    assert!(
        stderr.contains("repeat_dealy"),
        "the bad key is not named: {stderr}"
    );
    assert!(
        stderr.contains("bad.toml"),
        "the file is not named: {stderr}"
    );

    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[keyboard]\nlayout = \"us\"\nrepeat_delay = 300\n").unwrap();
    let mut cmd = std::process::Command::new(PORTHOLE);
    cmd.arg("validate")
        .arg(&good)
        .env("XDG_RUNTIME_DIR", dir.path());
    let out = run_bounded(cmd, CLI_TIMEOUT);
    assert!(
        out.status.success(),
        "a good file did not validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn control_socket_is_private_to_its_owner() {
    let comp = desktop();
    let sock = comp.control_socket().to_owned();
    assert_eq!(sock, comp.dir().join("porthole").join("control.sock"));
    let mode = std::fs::metadata(&sock)
        .expect("control socket exists")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} has mode {:o}",
        sock.display(),
        mode & 0o777
    );
    let dir = sock.parent().unwrap();
    let mode = std::fs::metadata(dir).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "{} has mode {:o}",
        dir.display(),
        mode & 0o777
    );
}

#[test]
fn compositor_survives_a_client_killed_mid_frame() {
    let mut comp = desktop();
    let (victim_pid, victim) = open_simple_shm(&mut comp);
    let (_, survivor) = open_simple_shm(&mut comp);
    // Both are drawing continuously, so the kill lands in the middle of their frame loop.
    wait_for_animation(&mut comp, victim.geometry, "the first simple-shm");
    let victim_covers = comp.screenshot().footprint(victim.geometry);
    comp.kill_client(victim_pid);

    let left = comp.wait_for_windows(1, CLIENT_TIMEOUT);
    assert_eq!(
        left[0].id, survivor.id,
        "the wrong window went away: {left:?}"
    );
    assert!(comp.is_running(), "the compositor died with its client");
    wait_for_animation(&mut comp, survivor.geometry, "the surviving simple-shm");
    // Where the killed window was, the desktop shows through.
    let shot = comp.screenshot();
    assert_background_outside(&shot, &left);
    let gone = shot.share_of(victim_covers, BACKGROUND);
    assert!(
        gone == 1.0,
        "only {:.1}% of the killed window's place is background",
        gone * 100.0
    );
}

#[test]
fn quit_stops_the_compositor_and_reports_success() {
    // One quit can win the race by luck; thirty in a row show whether the reply always arrives.
    for round in 1..=30 {
        let mut comp = Compositor::start(640, 480);
        let out = comp.run(&["quit"]);
        assert!(
            out.status.success(),
            "round {round}: `porthole quit` failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        poll(CLIENT_TIMEOUT, "the compositor to exit", || {
            if comp.is_running() {
                Err("still running".into())
            } else {
                Ok(())
            }
        });
    }
}

#[test]
fn the_session_starts_its_autostart_programs_and_a_binding_spawns_a_client() {
    let comp = Compositor::start_with_config(
        W,
        H,
        "[session]\nautostart = [\"weston-simple-shm\"]\n\
         [bindings]\n\"Super+T\" = \"spawn foot --app-id spawned-by-binding\"\n",
    );
    // Nothing was started by the test: the compositor started weston-simple-shm itself.
    let first = comp.wait_for_windows(1, CLIENT_TIMEOUT);
    assert_eq!(first[0].app_id, "org.freedesktop.weston.simple-shm");
    assert_eq!(first[0].container, "host");

    comp.run_ok(&["input", "key", "Super+T"]);
    let spawned = comp.wait_for_new_window(&[first[0].id], CLIENT_TIMEOUT);
    assert_eq!(spawned.app_id, "spawned-by-binding");
    assert_eq!(spawned.container, "host");
}

#[test]
fn a_binding_that_is_no_action_is_refused_with_the_choices() {
    let out = std::process::Command::new(PORTHOLE)
        .arg("validate")
        .arg(write_config("[bindings]\n\"Super+T\" = \"launch foot\"\n"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`launch foot` is not an action") && err.contains("spawn COMMAND"),
        "{err}"
    );
}

/// Writes a configuration file that lives as long as the test process.
fn write_config(text: &str) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("porthole.toml");
    std::fs::write(&path, text).unwrap();
    path
}
