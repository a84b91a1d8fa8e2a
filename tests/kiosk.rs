//! Kiosk tenants on a machine with three outputs: each tenant's app fills its own output,
//! wherever the pointer is when it opens, and stays there whatever anyone asks; no other
//! container's window opens, stays or is drawn there; keys go where the pointer is. Real
//! weston-simple-shm and foot in `porthole run` sandboxes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use porthole_ipc::{ContainerInfo, Geometry, WindowInfo};

use crate::common::*;

const TIMEOUT: Duration = Duration::from_secs(30);

const CONFIG: &str = r#"
[container.k1]
profile = "kiosk"
output = "HEADLESS-1"
[container.k2]
profile = "kiosk"
output = "HEADLESS-2"
[container.u]
"#;

/// Three 640x480 outputs side by side, HEADLESS-1 to HEADLESS-3, and the configuration above.
fn start() -> (Compositor, tempfile::TempDir) {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("porthole.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let c = Compositor::start_outputs(
        "640x480,640x480,640x480",
        &["--config", path.to_str().unwrap()],
    );
    (c, config)
}

fn pointer_on(c: &Compositor, output: i32) {
    let x = (output - 1) * 640 + 320;
    c.run_ok(&["input", "move", &x.to_string(), "240"]);
}

fn dir_of(c: &Compositor, name: &str) -> PathBuf {
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json");
    let info = all.iter().find(|i| i.name == name).expect("the container");
    Path::new(&info.socket).parent().unwrap().to_path_buf()
}

/// A container's colour, as its windows' frames and its splash wear it.
fn colour_of(c: &Compositor, name: &str) -> [u8; 4] {
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json");
    let hex = &all
        .iter()
        .find(|i| i.name == name)
        .expect("the container")
        .color;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("#rrggbb");
    [byte(1), byte(3), byte(5), 255]
}

/// Waits until window `id` is fullscreen at the corner of output `output`.
fn filling(c: &Compositor, id: u64, output: i32) -> WindowInfo {
    let name = format!("HEADLESS-{output}");
    poll(TIMEOUT, &format!("window {id} filling {name}"), || {
        let w = c.window(id).ok_or("gone")?;
        let corner = ((output - 1) * 640, 0);
        if w.fullscreen
            && !w.minimized
            && w.output.as_deref() == Some(name.as_str())
            && (w.geometry.x, w.geometry.y) == corner
        {
            Ok(w)
        } else {
            Err(format!("{w:?}"))
        }
    })
}

#[test]
fn tenants_fill_their_own_outputs_wherever_the_pointer_is_and_stay_there() {
    let (mut c, _config) = start();
    // Before its app comes, a tenant's output shows the tenant's colour and name.
    let k2_colour = colour_of(&c, "k2");
    let whole = Geometry {
        x: 0,
        y: 0,
        width: 640,
        height: 480,
    };
    let shot = c.screenshot_of(Some("HEADLESS-2"));
    assert!(
        shot.share_of(whole, k2_colour) > 0.9,
        "HEADLESS-2 is not k2's colour {}: {}",
        hex(k2_colour),
        hex(shot.pixel(10, 10))
    );
    assert!(
        shot.distinct_colours(whole) > 2,
        "no name on k2's empty output"
    );
    let free = c.screenshot_of(Some("HEADLESS-3"));
    assert_eq!(free.share_of(whole, k2_colour), 0.0);
    // Each tenant's app opens with the pointer on another output.
    pointer_on(&c, 3);
    c.spawn_client(PORTHOLE, &["run", "k1", "--", "weston-simple-shm"]);
    let k1 = filling(&c, window_of(&c, "k1").id, 1);
    pointer_on(&c, 1);
    c.spawn_client(PORTHOLE, &["run", "k2", "--", "weston-simple-shm"]);
    let k2 = filling(&c, window_of(&c, "k2").id, 2);
    // Another container's window opens on the output no tenant owns, not under the pointer.
    c.spawn_client(PORTHOLE, &["run", "u", "--", "weston-simple-shm"]);
    let u = window_of(&c, "u");
    assert_eq!(u.output.as_deref(), Some("HEADLESS-3"), "{u:?}");

    // Nobody takes a tenant's window off its output.
    for action in ["minimize", "maximize", "fullscreen"] {
        c.run_ok(&["window", action, "--id", &k1.id.to_string()]);
    }
    filling(&c, k1.id, 1);
    filling(&c, k2.id, 2);

    // An output moved in the layout takes its tenant's window with it.
    c.run_ok(&["output", "set", "HEADLESS-1", "--position", "0,480"]);
    poll(TIMEOUT, "k1's window at its output's new place", || {
        let w = c.window(k1.id).ok_or("gone")?;
        if w.fullscreen && (w.geometry.x, w.geometry.y) == (0, 480) {
            Ok(())
        } else {
            Err(format!("{w:?}"))
        }
    });
    c.run_ok(&["output", "set", "HEADLESS-1", "--position", "0,0"]);
    filling(&c, k1.id, 1);

    // A window dragged onto a tenant's output is not drawn there, and goes back where it was.
    let grab = (u.geometry.x + 60, u.geometry.y - TITLEBAR / 2);
    c.run_ok(&["input", "move", &grab.0.to_string(), &grab.1.to_string()]);
    c.run_ok(&["input", "button", "left", "press"]);
    for x in [grab.0 - 600, 410] {
        c.run_ok(&["input", "move", &x.to_string(), &grab.1.to_string()]);
    }
    let over = poll(TIMEOUT, "u's window over k1's output", || {
        let w = c.window(u.id).ok_or("gone")?;
        if w.output.as_deref() == Some("HEADLESS-1") {
            Ok(w)
        } else {
            Err(format!("{w:?}"))
        }
    });
    let inside = Geometry {
        x: over.geometry.x + 20,
        y: over.geometry.y + 20,
        width: 200,
        height: 200,
    };
    let shot = c.screenshot_of(Some("HEADLESS-1"));
    assert_eq!(
        shot.distinct_colours(inside),
        1,
        "u's window is drawn on k1's output"
    );
    c.run_ok(&["input", "button", "left", "release"]);
    let after = c.window(u.id).unwrap();
    assert_eq!(
        (after.output.as_deref(), after.geometry.x),
        (Some("HEADLESS-3"), u.geometry.x),
        "{after:?}"
    );

    // A tenant added at run time takes its output: the window there is put away, and the
    // tenant's app opens there.
    c.run_ok(&[
        "container",
        "add",
        "k3",
        "--profile",
        "kiosk",
        "--output",
        "HEADLESS-3",
    ]);
    poll(TIMEOUT, "u's window put away", || {
        let w = c.window(u.id).ok_or("gone")?;
        if w.minimized {
            Ok(())
        } else {
            Err(format!("{w:?}"))
        }
    });
    pointer_on(&c, 1);
    c.spawn_client(PORTHOLE, &["run", "k3", "--", "weston-simple-shm"]);
    filling(&c, window_of(&c, "k3").id, 3);
}

#[test]
fn keys_go_to_the_output_the_pointer_is_on_never_to_a_tenant_elsewhere() {
    let (mut c, _config) = start();
    let typing = |c: &mut Compositor, name: &str| {
        c.spawn_client(
            PORTHOLE,
            &[
                "run",
                name,
                "--",
                "foot",
                "-e",
                "sh",
                "-c",
                "cat > /run/porthole-host/typed",
            ],
        );
        window_of(c, name)
    };
    pointer_on(&c, 1);
    let k1 = typing(&mut c, "k1");
    filling(&c, k1.id, 1);
    pointer_on(&c, 3);
    let u = typing(&mut c, "u");
    assert_eq!(u.output.as_deref(), Some("HEADLESS-3"), "{u:?}");

    // The person clicks into k1's app and types there.
    pointer_on(&c, 1);
    c.run_ok(&["input", "button", "left", "press"]);
    c.run_ok(&["input", "button", "left", "release"]);
    c.run_ok(&["input", "type", "for-k1"]);
    c.run_ok(&["input", "key", "Return"]);
    // Then moves the pointer to output 3 and types on without a click: not into k1.
    pointer_on(&c, 3);
    c.run_ok(&["input", "type", "for-u"]);
    c.run_ok(&["input", "key", "Return"]);
    // And on output 2, a tenant's with no window yet: nowhere.
    pointer_on(&c, 2);
    c.run_ok(&["input", "type", "for-nobody"]);
    c.run_ok(&["input", "key", "Return"]);

    let typed = |name: &str| {
        let file = dir_of(&c, name).join("typed");
        poll(TIMEOUT, &format!("what {name} got"), || {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if text.lines().count() >= 1 {
                Ok(text)
            } else {
                Err(text)
            }
        })
    };
    let k1_typed = typed("k1");
    let u_typed = typed("u");
    // Give stray keys time to arrive before looking for them.
    std::thread::sleep(Duration::from_millis(300));
    let k1_typed = std::fs::read_to_string(dir_of(&c, "k1").join("typed")).unwrap_or(k1_typed);
    let u_typed = std::fs::read_to_string(dir_of(&c, "u").join("typed")).unwrap_or(u_typed);
    assert_eq!(k1_typed, "for-k1\n");
    assert_eq!(u_typed, "for-u\n");
}

#[test]
fn a_kiosk_machine_keeps_no_chord_but_the_admin_one() {
    let (mut c, _config) = start();
    pointer_on(&c, 1);
    c.spawn_client(PORTHOLE, &["run", "k1", "--", "weston-simple-shm"]);
    let k1 = filling(&c, window_of(&c, "k1").id, 1);
    for chord in [
        "super+Return",
        "super+q",
        "super+n",
        "alt+Tab",
        "super+shift+e",
        "ctrl+alt+F2",
    ] {
        c.run_ok(&["input", "key", chord]);
    }
    // Time for anything those chords would have started (foot, a close, the quit) to show.
    std::thread::sleep(Duration::from_secs(1));
    assert!(c.is_running(), "a chord quit the kiosk compositor");
    let windows = c.windows();
    assert_eq!(
        windows.len(),
        1,
        "a chord opened or closed a window: {windows:?}"
    );
    let w = filling(&c, k1.id, 1);
    assert!(w.focused, "{w:?}");

    // The one chord the configuration binds works.
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("porthole.toml");
    let admin = format!("{CONFIG}[bindings]\n\"Ctrl+Alt+Shift+Q\" = \"quit\"\n");
    std::fs::write(&path, admin).unwrap();
    let mut c = Compositor::start_outputs("640x480", &["--config", path.to_str().unwrap()]);
    // Its reply may not come: the compositor quits as it handles the key.
    let _ = c.run(&["input", "key", "ctrl+alt+shift+q"]);
    poll(TIMEOUT, "the compositor to quit on the admin chord", || {
        if c.is_running() {
            Err("running".to_string())
        } else {
            Ok(())
        }
    });
}

#[test]
fn a_tenant_without_an_output_named_fills_the_first_one_and_stays_fullscreen() {
    // Its client reaches the compositor directly, on the container's socket.
    let mut comp = Compositor::start_with_config(1280, 720, "[container.k]\nprofile = \"kiosk\"\n");
    let path = crate::raw::socket(&comp, "k");
    // A tenant sees what an untrusted container sees.
    use crate::policy::{globals_seen_by_wayland_info, set, DESKTOP};
    assert_eq!(
        globals_seen_by_wayland_info(path.to_str().unwrap(), &comp),
        set(&[DESKTOP, &["porthole_x11_manager_v1", "porthole_bridge_v1"]])
    );
    comp.spawn_client_on(path.to_str().unwrap(), "weston-simple-shm", &[]);
    let w = comp.wait_for_new_window(&[], CLIENT_TIMEOUT);
    assert_eq!(w.container, "k");
    let w = comp.wait_for_window(w.id, "fullscreen", CLIENT_TIMEOUT, |w| w.fullscreen);
    assert!(w.fullscreen, "{w:?}");
    assert_eq!((w.geometry.x, w.geometry.y), (0, 0));
    comp.run_ok(&["window", "fullscreen", "--id", &w.id.to_string()]);
    let again = comp.window(w.id).unwrap();
    assert!(
        again.fullscreen,
        "a kiosk window cannot leave fullscreen: {again:?}"
    );
}

/// The processes under `pid` (its children, theirs, and so on) whose command name is `comm`.
fn descendants_named(pid: u32, comm: &str) -> Vec<u32> {
    let mut parent_of = std::collections::BTreeMap::new();
    let mut names = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|f| f.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent_of.insert(p, ppid);
            names.insert(p, stat[open + 1..close].to_string());
        }
    }
    let under = |mut p: u32| {
        while let Some(&parent) = parent_of.get(&p) {
            if parent == pid {
                return true;
            }
            p = parent;
        }
        false
    };
    names
        .iter()
        .filter(|(p, name)| name.as_str() == comm && under(**p))
        .map(|(p, _)| *p)
        .collect()
}

/// Ends the sandboxes a compositor's supervised apps run in when the test ends, however it
/// ends: SIGTERM to the compositor's `porthole run` children, which end their sandboxes (they
/// would outlive the compositor, waiting for it, for the grace period). Declared after the
/// compositor, so that it is dropped first.
struct EndApps(u32);

impl Drop for EndApps {
    fn drop(&mut self) {
        for pid in descendants_named(self.0, "porthole") {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !descendants_named(self.0, "porthole-bridge").is_empty()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_tenants_app_comes_back_when_killed_and_one_that_keeps_failing_backs_off() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("porthole.toml");
    std::fs::write(
        &path,
        r#"
[container.k1]
profile = "kiosk"
output = "HEADLESS-1"
app = ["weston-simple-shm"]
[container.k2]
profile = "kiosk"
output = "HEADLESS-2"
app = ["sh", "-c", "exit 3"]
"#,
    )
    .unwrap();
    // Nobody runs `porthole run`: the configuration's apps start with the compositor.
    let c = Compositor::start_outputs("640x480,640x480", &["--config", path.to_str().unwrap()]);
    let _end = EndApps(c.pid());
    let events = Events::subscribe(&c);
    let first = filling(&c, window_of(&c, "k1").id, 1);

    // k2's app ends at once, again and again, waiting longer each time.
    let k2_exits = || -> Vec<serde_json::Value> {
        events
            .all()
            .into_iter()
            .filter(|e| e["event"] == "app_exited" && e["container"] == "k2")
            .collect()
    };
    let exits = poll(TIMEOUT, "three ends of k2's app", || {
        let exits = k2_exits();
        if exits.len() >= 3 {
            Ok(exits)
        } else {
            Err(format!("{exits:?}"))
        }
    });
    assert!(exits.iter().all(|e| e["status"] == "exit 3"), "{exits:?}");
    let pauses: Vec<u64> = exits
        .iter()
        .map(|e| e["restart_in_ms"].as_u64().unwrap())
        .collect();
    assert!(
        pauses.windows(2).all(|w| w[1] > w[0]),
        "the pauses do not grow: {pauses:?}"
    );

    // k1's app killed: it comes back, on its output, and the events say so.
    let apps = descendants_named(c.pid(), "weston-simple-s");
    assert_eq!(apps.len(), 1, "k1's app under the compositor: {apps:?}");
    let killed = std::time::Instant::now();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(apps[0] as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let again = poll(TIMEOUT, "k1's app back", || {
        c.windows()
            .into_iter()
            .find(|w| w.container == "k1" && w.id != first.id)
            .ok_or_else(|| format!("{:?}", c.windows()))
    });
    filling(&c, again.id, 1);
    eprintln!("k1's app was back {:?} after SIGKILL", killed.elapsed());
    let exited = events.wait_for(0, "k1's app_exited", |e| {
        e["event"] == "app_exited" && e["container"] == "k1"
    });
    let exited = &events.all()[exited];
    assert_eq!(exited["status"], "exit 137", "{exited}");
    let mark = events.len();
    assert!(
        events
            .all()
            .iter()
            .any(|e| e["event"] == "app_started" && e["container"] == "k1"),
        "no app_started for k1 after it ended: {:?}",
        &events.all()[mark.saturating_sub(10)..]
    );
}

#[test]
fn health_fails_while_a_tenants_app_draws_nothing_and_passes_again_when_it_does() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("porthole.toml");
    std::fs::write(
        &path,
        "[container.k1]\nprofile = \"kiosk\"\napp = [\"weston-simple-shm\"]\n",
    )
    .unwrap();
    let c = Compositor::start_outputs("640x480", &["--config", path.to_str().unwrap()]);
    let _end = EndApps(c.pid());
    filling(&c, window_of(&c, "k1").id, 1);
    let health = || c.run(&["health", "--max-frame-age", "1"]);
    let healthy = |want: bool| {
        poll(TIMEOUT, &format!("porthole health to say {want}"), || {
            let out = health();
            if out.status.success() == want {
                Ok(out)
            } else {
                Err(format!("{out:?}"))
            }
        })
    };
    let out = healthy(true);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HEADLESS-1: last frame"),
        "{out:?}"
    );
    // The app stops drawing (a hang, as far as anyone can tell): no new frame on its output.
    let app = descendants_named(c.pid(), "weston-simple-s");
    assert_eq!(app.len(), 1, "{app:?}");
    let pid = rustix::process::Pid::from_raw(app[0] as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let out = healthy(false);
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no new frame within 1 s on HEADLESS-1"),
        "{out:?}"
    );
    healthy(true);
}
