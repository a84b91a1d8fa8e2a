//! X11 in containers, end to end: `porthole run NAME -- X11-APP` against the real
//! `porthole serve --backend headless`, each sandbox (bubblewrap) running `porthole-bridge` and
//! its own real Xwayland, with unmodified X11 clients from Debian (xterm, xwininfo, xdotool,
//! xprop, xdpyinfo, xclip) and Wayland ones (wl-clipboard), plus `porthole-x11-probe` for what
//! no packaged client checks (MIT-SHM round trips, menus at a known place).
//!
//! Scripts inside a sandbox report through files in the container's directory, which the sandbox
//! sees at /run/porthole. Every wait is a bounded poll.

use std::path::{Path, PathBuf};
use std::time::Duration;

use porthole_ipc::{ContainerInfo, Geometry, WindowInfo};

use crate::common::*;
use crate::raw;

/// How long a sandbox gets to start Xwayland and map an X11 window.
const X11_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates a container (unless the configuration did) and returns its directory on the host (/run/porthole inside), with the
/// probe copied in.
fn add_container(c: &Compositor, name: &str) -> PathBuf {
    let listed = |c: &Compositor| -> Vec<ContainerInfo> {
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json")
    };
    if !listed(c).iter().any(|i| i.name == name) {
        c.run_ok(&["container", "add", name]);
    }
    let text = c.run_ok(&["containers", "--json"]);
    let all: Vec<ContainerInfo> = serde_json::from_str(&text).expect("containers --json");
    let info = all
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no container {name}: {all:?}"));
    assert!(info.x11, "containers get X11 by default: {info:?}");
    let dir = Path::new(&info.socket).parent().unwrap().to_path_buf();
    std::fs::copy(
        sibling("porthole-x11-probe"),
        dir.join("porthole-x11-probe"),
    )
    .expect("copying the probe into the container directory");
    dir
}

/// A container's colour as `porthole containers` reports it.
fn container_colour(c: &Compositor, name: &str) -> [u8; 4] {
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json");
    let info = all.iter().find(|i| i.name == name).expect("the container");
    let v = u32::from_str_radix(info.color.trim_start_matches('#'), 16).expect("#rrggbb");
    rgb(v)
}

/// Starts `porthole run NAME -- xterm` titled `xterm-of-NAME`, with a plain background colour.
fn spawn_xterm(c: &mut Compositor, name: &str, background: &str) {
    let title = format!("xterm-of-{name}");
    let args = ["run", name, "--", "xterm", "-T", &title, "-bg", background];
    c.spawn_client(PORTHOLE, &args);
}

/// Starts `porthole run NAME -- sh -c SCRIPT`; returns the client's pid.
fn run_script(c: &mut Compositor, name: &str, script: &str) -> u32 {
    c.spawn_client(PORTHOLE, &["run", name, "--", "sh", "-c", script])
}

/// Waits until a window titled `title` of container `name` is listed.
fn wait_for_titled(c: &Compositor, name: &str, title: &str) -> WindowInfo {
    poll(
        X11_TIMEOUT,
        &format!("a window `{title}` of container {name}"),
        || {
            let windows = c.windows();
            windows
                .iter()
                .find(|w| w.title == title && w.container == name)
                .cloned()
                .ok_or_else(|| format!("{windows:?}\n{}", log_tail(c)))
        },
    )
}

/// Waits until `file` exists and returns its contents.
fn wait_for_file(file: &Path, what: &str) -> String {
    poll(X11_TIMEOUT, what, || {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
    })
}

fn centre(g: Geometry) -> (i32, i32) {
    (g.x + g.width / 2, g.y + g.height / 2)
}

fn rgb(hex: u32) -> [u8; 4] {
    [(hex >> 16) as u8, (hex >> 8) as u8, hex as u8, 0xff]
}

/// The last part of the compositor's log, for failure messages.
fn log_tail(c: &Compositor) -> String {
    let log = c.log();
    let mut start = log.len().saturating_sub(2000);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    format!("compositor log tail:\n{}", &log[start..])
}

#[test]
fn xterms_of_two_containers_appear_where_listed() {
    let mut c = Compositor::start(1280, 720);
    add_container(&c, "a");
    add_container(&c, "b");
    spawn_xterm(&mut c, "a", "#c03030");
    spawn_xterm(&mut c, "b", "#3030c0");
    let a = wait_for_titled(&c, "a", "xterm-of-a");
    let b = wait_for_titled(&c, "b", "xterm-of-b");
    assert_eq!(a.app_id, "XTerm", "{a:?}");
    assert!(
        !intersects(frame_of(a.geometry), frame_of(b.geometry)),
        "the two windows overlap: {a:?} {b:?}"
    );

    let (a_red, b_blue) = (rgb(0xc03030), rgb(0x3030c0));
    poll(X11_TIMEOUT, "both xterms drawn at their places", || {
        let shot = c.screenshot();
        let a_share = shot.share_of(a.geometry, a_red);
        let b_share = shot.share_of(b.geometry, b_blue);
        if a_share > 0.8 && b_share > 0.8 {
            Ok(shot)
        } else {
            Err(format!(
                "a's background covers {a_share:.2} of {:?}, b's {b_share:.2} of {:?}",
                a.geometry, b.geometry
            ))
        }
    });
    // Each wears its container's colour on its left border (darker when unfocused).
    let shot = c.screenshot();
    for w in [&a, &b] {
        let colour = container_colour(&c, &w.container);
        let dim = colour.map(|v| (v as f32 * 0.6) as u8);
        let border = shot.pixel(w.geometry.x - 1, w.geometry.y + w.geometry.height / 2);
        assert!(
            border == colour || border == [dim[0], dim[1], dim[2], 0xff],
            "the border of {w:?} is {}, not its container's {}",
            hex(border),
            hex(colour)
        );
    }
    assert_eq!(
        shot.share_of(a.geometry, b_blue),
        0.0,
        "b's colour shows inside a's window"
    );
}

#[test]
fn the_pointer_shows_the_image_an_x11_client_sets_and_hides_when_it_hides_it() {
    let mut c = Compositor::start(1280, 720);
    add_container(&c, "cur");
    spawn_xterm(&mut c, "cur", "#303030");
    let w = wait_for_titled(&c, "cur", "xterm-of-cur");
    let image_at = |c: &mut Compositor, (x, y): (i32, i32)| {
        c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
        c.pointer_image(x, y)
    };
    // Over the background, the compositor's arrow, whose tip is the hotspot.
    let arrow = image_at(&mut c, (1100, 600));
    assert!(!arrow.hidden() && !arrow.reaches_left(), "{arrow:?}");

    // Over xterm, its I-beam, centred on the hotspot.
    let inside = centre(w.geometry);
    poll(X11_TIMEOUT, "xterm's I-beam", || {
        let image = image_at(&mut c, inside);
        if image.reaches_left() {
            Ok(())
        } else {
            Err(format!("{image:?}"))
        }
    });
    // xterm hides the pointer while the person types (its pointerMode), until it moves.
    c.run_ok(&["input", "type", "a"]);
    poll(X11_TIMEOUT, "the pointer hidden by typing", || {
        let image = c.pointer_image(inside.0, inside.1);
        if image.hidden() {
            Ok(())
        } else {
            Err(format!("{image:?}"))
        }
    });
    let moved = (inside.0 + 10, inside.1);
    poll(X11_TIMEOUT, "the I-beam back after a move", || {
        let image = image_at(&mut c, moved);
        if image.reaches_left() {
            Ok(())
        } else {
            Err(format!("{image:?}"))
        }
    });
}

#[test]
fn an_x11_client_sees_and_reaches_nothing_of_another_container() {
    let mut c = Compositor::start(1280, 720);
    let dir_a = add_container(&c, "a");
    let dir_b = add_container(&c, "b");
    run_script(
        &mut c,
        "b",
        "exec xterm -T secret-window-of-b -e sh -c 'cat > /run/porthole-host/typed-in-b'",
    );
    wait_for_titled(&c, "b", "secret-window-of-b");

    let script = r#"
        xterm -T window-of-a -e sh -c 'cat > /run/porthole-host/typed-in-a' &
        i=0; until xdotool search --name window-of-a >/dev/null 2>&1 || [ $i -ge 100 ]; do
            sleep 0.1; i=$((i+1)); done
        {
            echo "== xwininfo"; xwininfo -root -tree
            echo "== xdotool"; xdotool search --name . getwindowname %@
            echo "== secret"; xdotool search --name secret; echo "rc=$?"
            echo "== xprop"; xprop -root
            XAUTHORITY=/nonexistent xdpyinfo >/dev/null 2>&1; echo "== without cookie rc=$?"
        } > /run/porthole-host/report.tmp 2>&1
        mv /run/porthole-host/report.tmp /run/porthole-host/report
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        xdotool type --delay 20 typed-by-xdotool; xdotool key Return
        sleep 60
    "#;
    run_script(&mut c, "a", script);
    let a = wait_for_titled(&c, "a", "window-of-a");
    let report = wait_for_file(&dir_a.join("report"), "a's report");
    assert!(
        report.contains("window-of-a"),
        "a's X11 tools do not even see a's own window, so the check below proves nothing:\n{report}"
    );
    assert!(
        !report.contains("secret-window-of-b"),
        "a's X11 clients see b's window:\n{report}"
    );
    assert!(
        report.contains("== secret\nrc=1"),
        "xdotool in a finds b's window by name:\n{report}"
    );
    assert!(
        !report.contains("== without cookie rc=0"),
        "a client without the sandbox's cookie was let in:\n{report}"
    );

    // Typing with XTEST in a reaches a's focused xterm, and never b's.
    c.run_ok(&["window", "focus", "--id", &a.id.to_string()]);
    std::fs::write(dir_a.join("go"), "").unwrap();
    poll(X11_TIMEOUT, "xdotool's text in a's xterm", || {
        let typed = std::fs::read_to_string(dir_a.join("typed-in-a")).unwrap_or_default();
        if typed.contains("typed-by-xdotool") {
            Ok(())
        } else {
            Err(format!("a's xterm got {typed:?}"))
        }
    });
    let in_b = std::fs::read_to_string(dir_b.join("typed-in-b")).unwrap_or_default();
    assert_eq!(in_b, "", "b's xterm received a's keystrokes");
}

#[test]
fn an_idle_sandbox_runs_no_x_server_until_an_x11_client_connects() {
    let mut c = Compositor::start(800, 600);
    let dir = add_container(&c, "a");
    let script = r#"
        count() { n=0; for p in /proc/[0-9]*; do
            [ "$(cat $p/comm 2>/dev/null)" = Xwayland ] && n=$((n+1)); done; echo $n; }
        sleep 0.5
        echo "idle=$(count)" > /run/porthole-host/idle.tmp; mv /run/porthole-host/idle.tmp /run/porthole-host/idle
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        xdpyinfo > /dev/null 2>&1 && echo "xdpyinfo=ok" > /run/porthole-host/used.tmp
        mv /run/porthole-host/used.tmp /run/porthole-host/used
        sleep 60
    "#;
    run_script(&mut c, "a", script);
    let idle = wait_for_file(&dir.join("idle"), "the idle report");
    assert_eq!(idle.trim(), "idle=0", "Xwayland runs before any X11 client");
    let text = c.run_ok(&["containers", "--json"]);
    let all: Vec<ContainerInfo> = serde_json::from_str(&text).unwrap();
    let a = all.iter().find(|i| i.name == "a").unwrap();
    // The bridge in front of the container is connected (it serves the container's Wayland
    // socket), and nothing else.
    assert_eq!(a.clients, 1, "only the bridge is connected: {a:?}");

    std::fs::write(dir.join("go"), "").unwrap();
    let used = wait_for_file(&dir.join("used"), "the first X11 client");
    assert_eq!(
        used.trim(),
        "xdpyinfo=ok",
        "the first X11 client was not served"
    );
}

#[test]
fn mit_shm_works_in_the_containers_own_ipc_namespace() {
    let mut c = Compositor::start(800, 600);
    let dir = add_container(&c, "a");
    let script = r#"
        /run/porthole-host/porthole-x11-probe window --name keepalive > /run/porthole-host/keepalive 2>&1 &
        i=0; until grep -q mapped /run/porthole-host/keepalive || [ $i -ge 100 ]; do
            sleep 0.1; i=$((i+1)); done
        {
            /run/porthole-host/porthole-x11-probe shm
            echo "extensions=$(xdpyinfo -queryExtensions | grep -c MIT-SHM)"
            for p in /proc/[0-9]*; do
                [ "$(cat $p/comm 2>/dev/null)" = Xwayland ] && echo "xwayland=$(readlink $p/ns/ipc)"
            done
        } > /run/porthole-host/shm.tmp 2>&1
        mv /run/porthole-host/shm.tmp /run/porthole-host/shm
        sleep 60
    "#;
    run_script(&mut c, "a", script);
    let report = wait_for_file(&dir.join("shm"), "the MIT-SHM report");
    let field = |key: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no `{key}` in the report:\n{report}"))
            .trim()
            .to_owned()
    };
    let shm = report
        .lines()
        .find(|l| l.starts_with("shm "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{report}"));
    assert!(shm.starts_with("shm ok 64x48"), "{report}");
    assert_eq!(
        field("extensions="),
        "1",
        "xdpyinfo lists MIT-SHM:\n{report}"
    );
    let client_ipc = shm.rsplit("ipc=").next().unwrap().trim().to_owned();
    assert_eq!(
        field("xwayland="),
        client_ipc,
        "Xwayland and its client are in different IPC namespaces:\n{report}"
    );
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    assert_ne!(
        client_ipc,
        host_ipc.to_string_lossy(),
        "the sandbox shares the host's IPC namespace"
    );
}

#[test]
fn killing_a_containers_xwayland_spares_the_others_and_the_next_client_works() {
    let mut c = Compositor::start(1280, 720);
    let dir = add_container(&c, "a");
    add_container(&c, "b");
    spawn_xterm(&mut c, "b", "#3030c0");
    let b = wait_for_titled(&c, "b", "xterm-of-b");

    let script = r#"
        xterm -T first-of-a &
        until [ -e /run/porthole-host/kill ]; do sleep 0.1; done
        for p in /proc/[0-9]*; do
            [ "$(cat $p/comm 2>/dev/null)" = Xwayland ] && kill -9 "${p#/proc/}" && echo killed
        done > /run/porthole-host/killed.tmp
        mv /run/porthole-host/killed.tmp /run/porthole-host/killed
        sleep 1
        xterm -T second-of-a &
        sleep 60
    "#;
    run_script(&mut c, "a", script);
    let first = wait_for_titled(&c, "a", "first-of-a");
    std::fs::write(dir.join("kill"), "").unwrap();
    assert_eq!(
        wait_for_file(&dir.join("killed"), "the kill").trim(),
        "killed",
        "the script found no Xwayland to kill"
    );
    poll(
        X11_TIMEOUT,
        "a's first xterm to go with its X server",
        || {
            let windows = c.windows();
            if windows.iter().any(|w| w.id == first.id) {
                Err(format!("{windows:?}"))
            } else {
                Ok(())
            }
        },
    );
    wait_for_titled(&c, "a", "second-of-a");

    assert!(c.is_running(), "the compositor died with a's Xwayland");
    let still = c.windows();
    assert!(
        still.iter().any(|w| w.id == b.id),
        "b's xterm went away with a's Xwayland: {still:?}"
    );
    let shot = c.screenshot();
    let (x, y) = centre(b.geometry);
    assert_eq!(
        hex(shot.pixel(x, y)),
        hex(rgb(0x3030c0)),
        "b's xterm is no longer drawn"
    );
}

#[test]
fn x11_menus_open_at_their_place_and_dialogs_stack_above_their_parent() {
    let mut c = Compositor::start(1280, 720);
    add_container(&c, "a");
    run_script(
        &mut c,
        "a",
        "exec /run/porthole-host/porthole-x11-probe menu",
    );
    let parent = wait_for_titled(&c, "a", "probe-parent");
    let dialog = wait_for_titled(&c, "a", "probe-dialog");
    let p = parent.geometry;
    let d = dialog.geometry;
    assert!(
        d.x >= p.x
            && d.y >= p.y
            && d.x + d.width <= p.x + p.width
            && d.y + d.height <= p.y + p.height,
        "the dialog {d:?} does not open over its parent {p:?}"
    );

    let what = "the menu at (40,50) in its parent and the dialog above the parent";
    assert_menu_and_dialog(&mut c, p, d, what);
    // Raising the parent keeps its dialog above it.
    c.run_ok(&["window", "focus", "--id", &parent.id.to_string()]);
    assert_menu_and_dialog(
        &mut c,
        p,
        d,
        "the dialog above its parent once the parent is raised",
    );
}

/// The probe's menu (#e0c020) covers parent-relative (40,50)-(160,130) and its dialog (#20c040)
/// is above the parent (#2060c0). The dialog, centred, starts at x=50, so the menu's left strip
/// shows whatever the stacking between the two.
fn assert_menu_and_dialog(c: &mut Compositor, p: Geometry, d: Geometry, what: &str) {
    let (menu, parent_colour, dialog_colour) = (rgb(0xe0c020), rgb(0x2060c0), rgb(0x20c040));
    poll(X11_TIMEOUT, what, || {
        let shot = c.screenshot();
        let seen = [
            ("menu top-left", shot.pixel(p.x + 44, p.y + 54), menu),
            ("menu bottom-left", shot.pixel(p.x + 44, p.y + 126), menu),
            (
                "parent left of the menu",
                shot.pixel(p.x + 34, p.y + 90),
                parent_colour,
            ),
            (
                "parent below the menu",
                shot.pixel(p.x + 44, p.y + 136),
                parent_colour,
            ),
            (
                "dialog centre",
                shot.pixel(centre(d).0, centre(d).1),
                dialog_colour,
            ),
        ];
        let wrong: Vec<String> = seen
            .iter()
            .filter(|(_, got, want)| got != want)
            .map(|(name, got, want)| format!("{name}: {} not {}", hex(*got), hex(*want)))
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
    });
}

#[test]
fn an_override_redirect_window_with_no_parent_is_still_shown() {
    let mut c = Compositor::start(800, 600);
    add_container(&c, "a");
    run_script(
        &mut c,
        "a",
        "exec /run/porthole-host/porthole-x11-probe splash --size 200x120",
    );
    let splash = poll(X11_TIMEOUT, "the splash window listed", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == "a" && w.geometry.width == 200 && w.geometry.height == 120)
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    let pink = rgb(0xc02080);
    poll(X11_TIMEOUT, "the splash window drawn", || {
        let share = c.screenshot().share_of(splash.geometry, pink);
        if share > 0.95 {
            Ok(())
        } else {
            Err(format!("{share:.2} of {:?} is its colour", splash.geometry))
        }
    });
}

#[test]
fn x11_root_coordinates_follow_where_the_desktop_shows_the_windows() {
    let mut c = Compositor::start(1280, 720);
    let dir = add_container(&c, "a");
    // Reports X11's idea of where the window named in ask-N is, each time the test asks.
    let script = r#"
        xterm -T first & xterm -T second &
        n=0
        while :; do
            until [ -e /run/porthole-host/ask-$n ]; do sleep 0.1; done
            name=$(cat /run/porthole-host/ask-$n)
            xdotool search --name "^$name\$" getwindowgeometry > /run/porthole-host/geo.tmp 2>&1
            mv /run/porthole-host/geo.tmp /run/porthole-host/geo-$n
            n=$((n+1))
        done
    "#;
    run_script(&mut c, "a", script);
    let first = wait_for_titled(&c, "a", "first");
    let second = wait_for_titled(&c, "a", "second");
    // The one that maximizing moves: not already at the output's top-left corner.
    let second = if (second.geometry.x, second.geometry.y) == (BORDER, BORDER + TITLEBAR) {
        first
    } else {
        second
    };
    let mut asked = 0u32;
    let mut x11_position = || {
        let n = asked;
        asked += 1;
        std::fs::write(dir.join(format!("ask-{n}")), &second.title).unwrap();
        let report = wait_for_file(&dir.join(format!("geo-{n}")), "xdotool's geometry");
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix("Position: "))
            .and_then(|p| p.split_whitespace().next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no position in xdotool's report:\n{report}"))
    };
    let g = second.geometry;
    assert_eq!(
        x11_position(),
        format!("{},{}", g.x, g.y),
        "X11 places the window elsewhere than the desktop shows it: {second:?}"
    );

    // Maximizing moves it on the desktop, and in X11 too.
    c.run_ok(&["window", "maximize", "--id", &second.id.to_string()]);
    let moved = c.wait_for_window(second.id, "maximized", CLIENT_TIMEOUT, |w| w.maximized);
    let g = moved.geometry;
    assert_ne!(
        (g.x, g.y),
        (second.geometry.x, second.geometry.y),
        "{moved:?}"
    );
    poll(X11_TIMEOUT, "X11 to follow the move", || {
        let seen = x11_position();
        if seen == format!("{},{}", g.x, g.y) {
            Ok(())
        } else {
            Err(format!("X11 says {seen}, the desktop {:?}", g))
        }
    });
}

#[test]
fn x11_clients_going_over_a_limit_lose_their_x_server_not_their_sandbox() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[container.tiny.limits]\ntoplevels = 2\n").unwrap();
    let mut c = Compositor::start_with(800, 600, &["--config", config.path().to_str().unwrap()]);
    let dir = add_container(&c, "tiny");
    // Three windows where two are allowed: the compositor drops the bridge's connection, which
    // takes this Xwayland and its clients; the command goes on, and the next client works.
    let script = r#"
        for n in 1 2 3; do
            /run/porthole-host/porthole-x11-probe window --name w$n > /dev/null 2>&1 &
            sleep 0.5
        done
        wait
        echo survived > /run/porthole-host/survived
        exec /run/porthole-host/porthole-x11-probe window --name after
    "#;
    run_script(&mut c, "tiny", script);
    assert_eq!(
        wait_for_file(&dir.join("survived"), "the over-limit X11 clients to go").trim(),
        "survived"
    );
    wait_for_titled(&c, "tiny", "after");
    assert!(c.is_running(), "the compositor died");
    assert!(
        c.log().contains("toplevels"),
        "the compositor did not log the limit:\n{}",
        log_tail(&c)
    );
}

#[test]
fn bridged_x11_clients_going_over_a_limit_cost_their_x_server_not_the_containers_wayland_clients() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[container.tiny.limits]\ntoplevels = 3\n").unwrap();
    let mut c = Compositor::start_with(800, 600, &["--config", config.path().to_str().unwrap()]);
    let dir = add_container(&c, "tiny");
    // Behind the bridge, a Wayland client and three X11 windows where three windows in all
    // are allowed: the X11 window past the limit costs the X server its clients, as without
    // the bridge; the Wayland client keeps its window, and the next X11 client works.
    let script = r#"
        weston-simple-shm &
        sleep 1
        pids=
        for n in 1 2 3; do
            /run/porthole-host/porthole-x11-probe window --name w$n > /dev/null 2>&1 &
            pids="$pids $!"
            sleep 0.5
        done
        wait $pids
        echo survived > /run/porthole-host/survived
        exec /run/porthole-host/porthole-x11-probe window --name after
    "#;
    c.spawn_client(
        PORTHOLE,
        &["run", "--bridged", "tiny", "--", "sh", "-c", script],
    );
    let shm = wait_for_titled(&c, "tiny", "simple-shm");
    assert_eq!(
        wait_for_file(&dir.join("survived"), "the over-limit X11 clients to go").trim(),
        "survived"
    );
    wait_for_titled(&c, "tiny", "after");
    // Taken back to the compositor after the reconnection: the same window in its slot, where
    // it was.
    let windows = c.windows();
    assert!(
        windows.iter().any(|w| w.slot == shm.slot
            && w.geometry == shm.geometry
            && w.title == "simple-shm"
            && !w.reconnecting),
        "weston-simple-shm's window went: {windows:?}"
    );
    assert_eq!(
        c.log().matches("quota hit").count(),
        1,
        "the limit was hit more than once:\n{}",
        log_tail(&c)
    );
}

#[test]
fn huge_x11_titles_and_a_flood_of_them_keep_the_x_server_and_the_window() {
    let mut c = Compositor::start(800, 600);
    let dir = add_container(&c, "a");
    // X11 allows titles of megabytes; a Wayland message holds 4096 bytes.
    let script = r#"
        T=$(head -c 100000 /dev/zero | tr '\0' a)
        xterm -T "$T" &
        i=0; until xdotool search --class XTerm >/dev/null 2>&1 || [ $i -ge 100 ]; do
            sleep 0.1; i=$((i+1)); done
        i=0
        while [ $i -lt 100 ]; do
            xdotool search --class XTerm set_window --name "$i$T" 2>/dev/null
            i=$((i+1))
        done
        xdotool search --class XTerm set_window --name "after the flood"
        echo done > /run/porthole-host/flooded
        sleep 600
    "#;
    run_script(&mut c, "a", script);
    wait_for_file(&dir.join("flooded"), "the title flood");
    let w = wait_for_titled(&c, "a", "after the flood");
    assert_eq!(w.app_id, "XTerm");
    assert!(c.is_running(), "the compositor died");
}

#[test]
fn x11_and_wayland_clients_of_a_container_share_its_clipboard() {
    let mut c = Compositor::start(1280, 720);
    let dir = add_container(&c, "a");
    let script = r#"
        xterm -T focus-holder &
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        {
            echo from-x11 | xclip -i -selection clipboard; sleep 0.5
            echo "wl-paste=$(timeout 10 wl-paste -n)"
            echo from-wayland | timeout 10 wl-copy; sleep 0.5
            echo "xclip=$(timeout 10 xclip -o -selection clipboard)"
            echo primary-from-x11 | xclip -i; sleep 0.5
            echo "wl-paste-p=$(timeout 10 wl-paste -p -n)"
        } > /run/porthole-host/clip.tmp 2>&1
        mv /run/porthole-host/clip.tmp /run/porthole-host/clip
        sleep 60
    "#;
    run_script(&mut c, "a", script);
    wait_for_titled(&c, "a", "focus-holder");
    std::fs::write(dir.join("go"), "").unwrap();
    let report = wait_for_file(&dir.join("clip"), "the clipboard report");
    for line in [
        "wl-paste=from-x11",
        "xclip=from-wayland",
        "wl-paste-p=primary-from-x11",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "expected `{line}`:\n{report}"
        );
    }
}

#[test]
fn an_x11_client_flooding_property_changes_costs_only_its_container() {
    // 10,000 rounds of 64 KiB titles and other property changes go through the sandbox's
    // Xwayland and bridge, while a Wayland client of another container draws.
    let mut c = Compositor::start(1280, 720);
    add_container(&c, "a");
    c.run_ok(&["container", "add", "honest"]);
    let rss_before = c.rss_kib();
    let honest = raw::socket(&c, "honest");
    let mut flooding = None;
    let frames = raw::frames_during(&honest, Duration::from_secs(4), || {
        flooding = Some(run_script(
            &mut c,
            "a",
            "exec /run/porthole-host/porthole-x11-probe flood --changes 10000",
        ));
    });
    assert!(
        frames >= 120,
        "the honest client got {frames} frames in 4 s while an X11 client flooded"
    );
    let w = wait_for_titled(&c, "a", "after the flood");
    assert_eq!(w.container, "a");
    assert!(c.is_running(), "the compositor died");
    let rss = c.rss_kib();
    assert!(
        rss < rss_before + 32 * 1024,
        "the compositor grew from {rss_before} KiB to {rss} KiB"
    );
}
