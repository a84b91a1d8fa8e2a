//! Policy and quotas, end to end: the real `porthole serve` with containers from a configuration,
//! real clients (wayland-info, weston-simple-shm) and raw `wayland-client` connections that break
//! the rules. Every check is made from the container tag alone: the clients say nothing about
//! themselves.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use wayland_client::protocol::{wl_compositor, wl_shm, wl_shm_pool};
use wayland_protocols::wp::security_context::v1::client::wp_security_context_manager_v1::WpSecurityContextManagerV1;
use wayland_protocols::xdg::shell::client::xdg_wm_base;
use wayland_protocols_wlr::screencopy::v1::client::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1;

use crate::common::*;
use crate::raw::*;

pub(crate) const DESKTOP: &[&str] = &[
    "wl_compositor",
    "wl_subcompositor",
    "wl_shm",
    "xdg_wm_base",
    "zxdg_decoration_manager_v1",
    "wl_seat",
    "wl_output",
    "zxdg_output_manager_v1",
    "wl_data_device_manager",
    "zwp_primary_selection_device_manager_v1",
    "wp_viewporter",
    "wp_single_pixel_buffer_manager_v1",
    "wp_presentation",
    "wp_fractional_scale_manager_v1",
    "wp_cursor_shape_manager_v1",
    "xdg_activation_v1",
    "xdg_session_manager_v1",
];

/// Data-control sees every container's selections: the host's alone, even beside a trusted
/// container's other privileged globals.
const HOST_ONLY: &[&str] = &[
    "zwlr_data_control_manager_v1",
    "ext_data_control_manager_v1",
];

const PRIVILEGED_OFFERED: &[&str] = &[
    "zwlr_screencopy_manager_v1",
    "ext_foreign_toplevel_list_v1",
    "zwp_keyboard_shortcuts_inhibit_manager_v1",
    "wp_security_context_manager_v1",
    "zwp_virtual_keyboard_manager_v1",
];

const CONFIG: &str = r##"
[profile.viewer]
allow = ["wl_compositor", "wl_shm", "xdg_wm_base", "wl_output"]

[container.u]
color = "#3465a4"

[container.t]
profile = "trusted"

[container.v]
profile = "viewer"

[container.small]
[container.small.limits]
clients = 2
toplevels = 3
shm_bytes = "1MiB"

[container.honest]
"##;

fn start() -> Compositor {
    Compositor::start_with_config(1280, 720, CONFIG)
}

pub(crate) fn globals_seen_by_wayland_info(display: &str, comp: &Compositor) -> BTreeSet<String> {
    let mut cmd = std::process::Command::new("wayland-info");
    cmd.env("XDG_RUNTIME_DIR", comp.dir())
        .env("WAYLAND_DISPLAY", display);
    let out = run_bounded(cmd, Duration::from_secs(15));
    assert!(
        out.status.success(),
        "wayland-info failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("interface: '"))
        .filter_map(|l| l.split('\'').next())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn set(names: &[&[&str]]) -> BTreeSet<String> {
    names
        .iter()
        .flat_map(|n| n.iter())
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn each_profile_sees_exactly_its_globals() {
    let comp = start();
    let all = set(&[DESKTOP, PRIVILEGED_OFFERED, HOST_ONLY]);
    let host = globals_seen_by_wayland_info(comp.wayland_display(), &comp);
    assert_eq!(host, all, "the trusted host socket sees everything");
    let path = |c: &str| socket(&comp, c).display().to_string();
    // Containers have X11 by default, and with it Porthole's protocol for their bridge; a custom
    // profile ("viewer") gets it only by listing it.
    let x11 = ["porthole_x11_manager_v1", "porthole_bridge_v1"];
    assert_eq!(
        globals_seen_by_wayland_info(&path("t"), &comp),
        set(&[DESKTOP, PRIVILEGED_OFFERED, &x11])
    );
    assert_eq!(
        globals_seen_by_wayland_info(&path("u"), &comp),
        set(&[DESKTOP, &x11])
    );
    assert_eq!(
        globals_seen_by_wayland_info(&path("v"), &comp),
        set(&[&["wl_compositor", "wl_shm", "xdg_wm_base", "wl_output"]])
    );
}

#[test]
fn binding_a_hidden_global_by_name_is_a_protocol_error() {
    let comp = start();
    let mut trusted = Raw::connect(&socket(&comp, "t")).unwrap();
    let (name, _) = trusted.global("wp_security_context_manager_v1").unwrap();
    let _: WpSecurityContextManagerV1 = trusted.registry.bind(name, 1, &trusted.qh, ());
    trusted.roundtrip().expect("a trusted client may bind it");
    let mut untrusted = Raw::connect(&socket(&comp, "u")).unwrap();
    assert!(
        untrusted.global("wp_security_context_manager_v1").is_none(),
        "not announced"
    );
    // Use the name the trusted client saw, and bind it anyway.
    let _: WpSecurityContextManagerV1 = untrusted.registry.bind(name, 1, &untrusted.qh, ());
    assert!(
        untrusted.roundtrip().is_err(),
        "binding a hidden global must fail"
    );
    assert_bind_refused(&comp, &untrusted, "u");
    // The compositor and other clients go on.
    let mut again = Raw::connect(&socket(&comp, "u")).unwrap();
    again.roundtrip().unwrap();
    assert!(comp.run_ok(&["outputs"]).contains("HEADLESS-1"));
}

#[test]
fn only_trusted_clients_capture_the_screen_and_see_what_porthole_screenshot_sees() {
    let mut comp = start();
    let trusted = Raw::connect(&socket(&comp, "t")).unwrap();
    let (name, _) = trusted
        .global("zwlr_screencopy_manager_v1")
        .expect("screencopy is offered to trusted clients");
    let mut untrusted = Raw::connect(&socket(&comp, "u")).unwrap();
    assert!(
        untrusted.global("zwlr_screencopy_manager_v1").is_none(),
        "screencopy is announced to an untrusted client"
    );
    let _: ZwlrScreencopyManagerV1 = untrusted.registry.bind(name, 1, &untrusted.qh, ());
    assert!(
        untrusted.roundtrip().is_err(),
        "an untrusted client bound screencopy"
    );
    assert_bind_refused(&comp, &untrusted, "u");

    // grim on the trusted host socket captures exactly what `porthole screenshot` renders, with
    // a container's window (a still X11 window, so both see the same frame) on screen.
    require_program("grim");
    let probe = Path::new(PORTHOLE).with_file_name("porthole-x11-probe");
    let dir = socket(&comp, "u").parent().unwrap().to_path_buf();
    std::fs::copy(&probe, dir.join("porthole-x11-probe"))
        .unwrap_or_else(|e| panic!("copying {} (build the workspace): {e}", probe.display()));
    let run = [
        "run",
        "u",
        "--",
        "/run/porthole-host/porthole-x11-probe",
        "window",
        "--name",
        "still",
        "--color",
        "0x3366cc",
    ];
    comp.spawn_client(PORTHOLE, &run);
    let window = comp.wait_for_new_window(&[], Duration::from_secs(30));
    let ours = poll(Duration::from_secs(30), "the window drawn", || {
        let shot = comp.screenshot();
        let share = shot.share_of(window.geometry, [0x33, 0x66, 0xcc, 0xff]);
        if share > 0.99 {
            Ok(shot)
        } else {
            Err(format!("{share}"))
        }
    });
    let out = comp.run_client("grim", &["-"]);
    assert!(out.status.success(), "grim failed: {out:?}");
    let grims = Screenshot::decode(&out.stdout);
    assert_eq!((grims.width, grims.height), (ours.width, ours.height));
    let differ = grims
        .rgba
        .chunks_exact(4)
        .zip(ours.rgba.chunks_exact(4))
        .filter(|(a, b)| a[..3] != b[..3])
        .count();
    assert_eq!(
        differ, 0,
        "grim's capture differs from porthole screenshot in {differ} pixels"
    );

    // With the pointer (grim -c), as `porthole screenshot --cursor` draws it.
    comp.run_ok(&["input", "move", "1000", "500"]);
    let ours = comp.screenshot_with(&["--cursor"]);
    let out = comp.run_client("grim", &["-c", "-"]);
    assert!(out.status.success(), "grim -c failed: {out:?}");
    let grims = Screenshot::decode(&out.stdout);
    let differ = |a: &Screenshot, b: &Screenshot| {
        a.rgba
            .chunks_exact(4)
            .zip(b.rgba.chunks_exact(4))
            .filter(|(a, b)| a[..3] != b[..3])
            .count()
    };
    assert_eq!(differ(&grims, &ours), 0, "grim -c differs from --cursor");
    assert!(
        differ(&grims, &comp.screenshot()) > 20,
        "grim -c shows the pointer"
    );
}

#[test]
fn a_container_draws_nothing_outside_its_frame_while_the_host_may() {
    // weston-dnd draws its own frame with a shadow outside its window geometry.
    let mut comp = start();
    comp.spawn_client(PORTHOLE, &["run", "u", "--", "weston-dnd"]);
    let contained = comp.wait_for_new_window(&[], Duration::from_secs(30));
    comp.spawn_client("weston-dnd", &[]);
    let host = comp.wait_for_new_window(&[contained.id], Duration::from_secs(30));
    assert_eq!(
        (contained.container.as_str(), host.container.as_str()),
        ("u", "host")
    );
    // Below each window (they open side by side, so their right edges may touch).
    let beside = |g: porthole_ipc::Geometry, gap: i32| {
        [
            (g.x + g.width / 4, g.y + g.height + gap),
            (g.x + g.width / 2, g.y + g.height + gap),
        ]
    };
    poll(
        Duration::from_secs(10),
        "the host window's shadow and the container's cut",
        || {
            let shot = comp.screenshot();
            let host_shadow = beside(host.geometry, 3)
                .iter()
                .any(|&(x, y)| shot.pixel(x, y) != BACKGROUND);
            let leaks: Vec<String> = beside(contained.geometry, BORDER + 3)
                .iter()
                .filter(|&&(x, y)| shot.pixel(x, y) != BACKGROUND)
                .map(|&(x, y)| format!("({x},{y}) is {}", hex(shot.pixel(x, y))))
                .collect();
            if !host_shadow {
                Err("the host window shows no shadow: the check would prove nothing".into())
            } else if !leaks.is_empty() {
                Err(format!("the container draws outside its frame: {leaks:?}"))
            } else {
                Ok(())
            }
        },
    );
}

fn require_program(program: &str) {
    assert!(
        on_path(program),
        "`{program}` is not installed: .ci/install-deps installs it; run that script first"
    );
}

#[test]
fn a_container_over_its_client_limit_is_refused() {
    let comp = start();
    let a = Raw::connect(&socket(&comp, "small")).unwrap();
    let b = Raw::connect(&socket(&comp, "small")).unwrap();
    // The third connection is closed at once, and another container's client keeps its frames.
    let mut third = None;
    let frames = frames_during(&socket(&comp, "honest"), Duration::from_secs(1), || {
        third = Some(Raw::connect(&socket(&comp, "small")));
    });
    assert!(
        frames >= 30,
        "the honest client got only {frames} frames in 1 s"
    );
    assert!(
        third.unwrap().is_err(),
        "a third client of `small` was served"
    );
    poll(Duration::from_secs(5), "the refusal in the log", || {
        let log = comp.log();
        if log.contains("quota hit") && log.contains("more than 2 clients") {
            Ok(())
        } else {
            Err("no quota hit logged".to_string())
        }
    });
    // The two within the limit still work, and another container is untouched.
    let (mut a, mut b) = (a, b);
    a.roundtrip().unwrap();
    b.roundtrip().unwrap();
    let _honest = Raw::connect(&socket(&comp, "honest")).unwrap();
    let containers = comp.run_ok(&["containers", "--json"]);
    assert!(containers.contains("\"clients\": 2"), "{containers}");
}

#[test]
fn too_many_toplevels_disconnect_the_client_while_another_container_keeps_its_frames() {
    let comp = start();
    let mut attacker = Raw::connect(&socket(&comp, "small")).unwrap();
    let compositor: wl_compositor::WlCompositor = attacker.bind("wl_compositor", 4);
    let wm: xdg_wm_base::XdgWmBase = attacker.bind("xdg_wm_base", 1);
    let qh = attacker.qh.clone();
    let frames = frames_during(
        &socket(&comp, "honest"),
        Duration::from_millis(1500),
        || {
            for _ in 0..4 {
                let surface = compositor.create_surface(&qh, ());
                let xdg = wm.get_xdg_surface(&surface, &qh, ());
                let _ = xdg.get_toplevel(&qh, ());
                surface.commit();
            }
            let _ = attacker.conn.flush();
        },
    );
    assert!(
        attacker.roundtrip().is_err(),
        "the fourth toplevel must cost the client its connection"
    );
    assert_disconnected_because(&comp, &attacker, "toplevels limit of container small");
    // 1.5 s at 60 Hz is 90 frames; ask for well over half.
    assert!(
        frames >= 50,
        "the honest client got only {frames} frames in 1.5 s"
    );
    let log = comp.log();
    assert!(
        log.contains("quota hit") && log.contains("toplevels"),
        "{log}"
    );
}

#[test]
fn shm_pools_count_until_freed_and_going_over_disconnects() {
    let comp = start();
    let mut c = Raw::connect(&socket(&comp, "small")).unwrap();
    let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
    let qh = c.qh.clone();
    let kib = 1024;
    let pool: wl_shm_pool::WlShmPool =
        shm.create_pool(memfd(600 * kib).as_fd(), 600 * kib as i32, &qh, ());
    c.roundtrip().unwrap();
    assert!(comp
        .run_ok(&["containers", "--json"])
        .contains(&format!("\"shm_bytes\": {}", 600 * kib)));
    // Freed pools no longer count: another 600 KiB fits in 1 MiB.
    pool.destroy();
    let _pool2: wl_shm_pool::WlShmPool =
        shm.create_pool(memfd(600 * kib).as_fd(), 600 * kib as i32, &qh, ());
    c.roundtrip().unwrap();
    // A third would make 1200 KiB; another container's client keeps its frames meanwhile.
    let frames = frames_during(&socket(&comp, "honest"), Duration::from_secs(1), || {
        let _pool3: wl_shm_pool::WlShmPool =
            shm.create_pool(memfd(600 * kib).as_fd(), 600 * kib as i32, &qh, ());
        let _ = c.conn.flush();
    });
    assert!(
        frames >= 30,
        "the honest client got only {frames} frames in 1 s"
    );
    assert!(
        c.roundtrip().is_err(),
        "over shm_bytes the client must be disconnected"
    );
    assert_disconnected_because(&comp, &c, "shm_bytes limit of container small");
    // Its pools are released with it.
    poll(Duration::from_secs(5), "shm_bytes back to 0", || {
        let json = comp.run_ok(&["containers", "--json"]);
        if json.contains("\"shm_bytes\": 0") {
            Ok(())
        } else {
            Err(json)
        }
    });
}

#[test]
fn resizing_a_pool_to_zero_is_a_protocol_error_not_a_crash() {
    let comp = start();
    let mut c = Raw::connect(&socket(&comp, "u")).unwrap();
    let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
    let pool: wl_shm_pool::WlShmPool =
        shm.create_pool(memfd(4096).as_fd(), 4096, &c.qh.clone(), ());
    pool.resize(0);
    assert!(c.roundtrip().is_err());
    assert_eq!(c.error_on(), "wl_shm_pool");
    // Still serving.
    assert!(comp.run_ok(&["outputs"]).contains("HEADLESS-1"));
    Raw::connect(&socket(&comp, "u"))
        .unwrap()
        .roundtrip()
        .unwrap();
}

#[test]
fn a_security_context_listener_becomes_an_untrusted_container() {
    use std::os::unix::net::UnixListener;
    let comp = start();
    let mut host = Raw::connect(&comp.dir().join(comp.wayland_display())).unwrap();
    let manager: WpSecurityContextManagerV1 = host.bind("wp_security_context_manager_v1", 1);
    let sandbox = tempfile::tempdir().unwrap();
    let path = sandbox.path().join("app.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let (close_r, close_w) = std::io::pipe().unwrap();
    let context = manager.create_listener(listener.as_fd(), close_r.as_fd(), &host.qh.clone(), ());
    // What a sandbox engine says is a label: it names the container, it grants nothing.
    context.set_sandbox_engine("org.flatpak".into());
    context.set_app_id("org.example.App".into());
    context.set_instance_id("7".into());
    context.commit();
    host.roundtrip().unwrap();

    let seen = globals_seen_by_wayland_info(path.to_str().unwrap(), &comp);
    assert_eq!(
        seen,
        set(&[DESKTOP]),
        "a sandboxed client is untrusted and cannot nest contexts"
    );
    let containers = comp.run_ok(&["containers", "--json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&containers).unwrap();
    let entry = list
        .iter()
        .find(|c| c["name"] == "org-example-app-7")
        .unwrap_or_else(|| panic!("no container for the context: {containers}"));
    assert_eq!(entry["profile"], "untrusted");
    // The sandbox closes its end: the listener stops, and with no client left the container goes.
    drop(close_w);
    poll(
        Duration::from_secs(5),
        "the context's container to go",
        || {
            let json = comp.run_ok(&["containers", "--json"]);
            if json.contains("org-example-app-7") {
                Err(json)
            } else {
                Ok(())
            }
        },
    );
}

#[test]
fn a_terminal_runs_in_a_container_with_default_limits_and_wears_its_colour() {
    // foot maps two sparse 512 MiB pools: the default shm limit must leave room for it.
    let mut comp = start();
    let path = socket(&comp, "u");
    comp.spawn_client_on(path.to_str().unwrap(), "foot", &["-o", "shell=/bin/sh"]);
    let w = comp.wait_for_new_window(&[], CLIENT_TIMEOUT);
    assert_eq!(w.container, "u");
    let shot = comp.screenshot();
    // The title bar above the content is the container's colour (#3465a4) where no text is.
    let g = w.geometry;
    let bar: Vec<[u8; 4]> = (g.x + 2..g.x + g.width - 80)
        .map(|x| shot.pixel(x, g.y - 2))
        .collect();
    let coloured = bar
        .iter()
        .filter(|p| **p == [0x34, 0x65, 0xa4, 0xff])
        .count();
    assert!(
        coloured * 2 > bar.len(),
        "{coloured} of {} title bar pixels in #3465a4",
        bar.len()
    );
    // The left border too.
    assert_eq!(
        shot.pixel(g.x - 1, g.y + g.height / 2),
        [0x34, 0x65, 0xa4, 0xff]
    );
    assert!(!comp.log().contains("quota hit"), "{}", comp.log());
}

/// Runs a wl-clipboard command as a client of `display`, bounded. Its output is captured
/// through files: wl-copy leaves a child behind that serves the selection and would hold pipes
/// open.
fn clip(comp: &Compositor, display: &Path, args: &[&str]) -> (bool, String) {
    let out = comp
        .dir()
        .join(format!("clip-{}.out", args.join("_").replace('/', "")));
    let mut cmd = std::process::Command::new(args[0]);
    cmd.args(&args[1..])
        .env("XDG_RUNTIME_DIR", comp.dir())
        .env("WAYLAND_DISPLAY", display)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not finish in 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.success(),
        std::fs::read_to_string(&out).unwrap_or_default(),
    )
}

#[test]
fn what_one_container_copies_another_cannot_paste() {
    let comp = start();
    let (u, other) = (socket(&comp, "u"), socket(&comp, "honest"));
    for primary in [false, true] {
        let flag: &[&str] = if primary { &["--primary"] } else { &[] };
        let text = if primary {
            "primary-of-u"
        } else {
            "clipboard-of-u"
        };
        let copy: Vec<&str> = [&["wl-copy"][..], flag, &[text]].concat();
        assert!(clip(&comp, &u, &copy).0, "wl-copy failed");
        let paste: Vec<&str> = [&["wl-paste", "--no-newline"][..], flag].concat();
        let (_, stolen) = clip(&comp, &other, &paste);
        assert!(
            !stolen.contains(text),
            "another container pasted {text:?}: {stolen:?}"
        );
        let (ok, own) = clip(&comp, &u, &paste);
        assert!(ok && own == text, "its own container pastes it: {own:?}");
    }
}

#[test]
fn a_container_cannot_take_the_whole_screen_but_the_host_can() {
    let mut comp = start();
    let path = socket(&comp, "u");
    comp.spawn_client_on(
        path.to_str().unwrap(),
        "foot",
        &["--fullscreen", "-o", "shell=/bin/sh"],
    );
    let w = comp.wait_for_new_window(&[], CLIENT_TIMEOUT);
    let w = comp.wait_for_window(w.id, "fullscreen", CLIENT_TIMEOUT, |w| {
        w.fullscreen && w.geometry.height == 720 - 24
    });
    assert_eq!(
        (w.geometry.x, w.geometry.y, w.geometry.width),
        (0, 24, 1280),
        "{w:?}"
    );
    // The strip above it is the container's colour, with its name drawn on it.
    let shot = comp.screenshot();
    let strip: Vec<[u8; 4]> = (0..1100).map(|x| shot.pixel(x, 12)).collect();
    let coloured = strip
        .iter()
        .filter(|p| **p == [0x34, 0x65, 0xa4, 0xff])
        .count();
    assert!(coloured > 900, "{coloured} of 1100 strip pixels in #3465a4");
    assert!(coloured < 1100, "the strip carries the container's name");

    // A trusted host client covers the whole output.
    let host = comp.wayland_display().to_string();
    let known: Vec<u64> = comp.windows().iter().map(|w| w.id).collect();
    comp.spawn_client_on(&host, "foot", &["--fullscreen", "-o", "shell=/bin/sh"]);
    let h = comp.wait_for_new_window(&known, CLIENT_TIMEOUT);
    let h = comp.wait_for_window(h.id, "fullscreen", CLIENT_TIMEOUT, |w| {
        w.fullscreen && w.geometry.height == 720
    });
    assert_eq!(
        (h.geometry.x, h.geometry.y, h.geometry.width),
        (0, 0, 1280),
        "{h:?}"
    );
}

#[test]
fn a_screenshot_of_one_container_shows_only_its_windows() {
    let mut comp = start();
    for c in ["u", "honest"] {
        let path = socket(&comp, c);
        let known: Vec<u64> = comp.windows().iter().map(|w| w.id).collect();
        comp.spawn_client_on(path.to_str().unwrap(), "weston-simple-shm", &[]);
        comp.wait_for_new_window(&known, CLIENT_TIMEOUT);
    }
    let windows = comp.windows();
    let find = |c: &str| windows.iter().find(|w| w.container == c).unwrap().geometry;
    let (mine, theirs) = (find("u"), find("honest"));
    let centre = |g: porthole_ipc::Geometry| (g.x + g.width / 2, g.y + g.height / 2);
    let background = [0x20, 0x24, 0x28, 0xff];
    let shot = comp.screenshot_with(&["--container", "u"]);
    assert_ne!(shot.pixel(centre(mine).0, centre(mine).1), background);
    assert_eq!(shot.pixel(centre(theirs).0, centre(theirs).1), background);
    let all = comp.screenshot();
    assert_ne!(all.pixel(centre(theirs).0, centre(theirs).1), background);
}

#[test]
fn a_container_popup_wears_a_thin_border_in_its_colour() {
    let mut comp = start();
    let path = socket(&comp, "u");
    comp.spawn_client_on(path.to_str().unwrap(), "weston-stacking", &[]);
    let w = comp.wait_for_new_window(&[], CLIENT_TIMEOUT);
    let g = w.geometry;
    let colour = [0x34, 0x65, 0xa4, 0xff];
    let inside = |shot: &Screenshot| {
        shot.region(porthole_ipc::Geometry {
            x: g.x + 4,
            y: g.y + 30,
            width: g.width - 8,
            height: g.height - 34,
        })
        .into_iter()
        .filter(|p| *p == colour)
        .count()
    };
    assert_eq!(
        inside(&comp.screenshot()),
        0,
        "no container colour inside the window yet"
    );
    // weston-stacking opens an xdg_popup menu at the pointer on `p`.
    comp.run_ok(&[
        "input",
        "move",
        &(g.x + 60).to_string(),
        &(g.y + 60).to_string(),
    ]);
    comp.run_ok(&["input", "type", "p"]);
    poll(Duration::from_secs(5), "the popup's border", || {
        let n = inside(&comp.screenshot());
        if n > 100 {
            Ok(())
        } else {
            Err(format!(
                "{n} pixels of the container colour inside the window"
            ))
        }
    });
}
