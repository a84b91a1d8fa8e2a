//! Apps outlive the compositor. Three bridged containers (a GTK 3 app with text typed into it,
//! xterm running a counter, weston-simple-shm), overlapping, one focused; then the compositor is
//! killed with SIGKILL and started again, later replaced by a copy of its binary (`porthole
//! quit`, then the copy), then by a newer one installed over it (`porthole restart`). Each time
//! every window comes back at its old geometry, with its stacking and focus, from the same
//! processes, with what was typed still there, and the next keys reach the focused window. While
//! the bridges are held stopped, the new compositor shows the windows as "reconnecting"
//! placeholders in their places and stacking. A compositor that does not come back within the
//! grace period gets the apps asked to close. What a bridge starts has no signal blocked. The
//! session script (`porthole-session`, without a user manager) starts a crashed compositor again.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::*;

/// The GTK 3 app: it keeps what its text view holds in /tmp/notes.txt and its pid in
/// /tmp/notes.pid.
const NOTES: &str =
    "cp /run/porthole-host/gtk3-notes.py /tmp/notes.py; python3 /tmp/notes.py & wait";
const COUNTER: &str = "xterm -T counter -geometry 50x8 -e sh -c 'i=0; while :; do i=$((i+1)); \
     echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; echo \"count $i\"; sleep 0.3; done' & wait";
const SHM: &str = "weston-simple-shm & wait";

const TITLES: [&str; 3] = ["simple-shm", "counter", "notes"];

/// Starts container `name` checkpointable with `script`, copying the GTK app into its
/// directory first; returns its bridge's pid.
fn start_bridged(c: &Compositor, name: &str, script: &str, extra: &[&str]) -> u32 {
    c.run_ok(&["container", "add", name]);
    let info = container(c, name).expect("the container");
    let dir = Path::new(&info.socket).parent().unwrap().to_path_buf();
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/apps/gtk3-notes.py");
    std::fs::copy(&app, dir.join("gtk3-notes.py")).expect("copying the GTK app");
    let mut args = vec!["run", "--checkpointable"];
    args.extend(extra);
    args.extend([name, "--", "sh", "-c", script]);
    let out = c.run(&args);
    assert!(
        out.status.success(),
        "porthole run --checkpointable failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bridge_pid(c, name)
}

/// The three windows, live (or with `placeholders`, as placeholders), bottom first.
fn the_three(c: &Compositor, placeholders: bool) -> Vec<WindowInfo> {
    let all = c.windows();
    all.into_iter()
        .filter(|w| TITLES.contains(&w.title.as_str()) && w.checkpointed == placeholders)
        .collect()
}

fn wait_for_three(c: &Compositor, placeholders: bool, within: Duration) -> Vec<WindowInfo> {
    poll(within, "the three windows", || {
        let three = the_three(c, placeholders);
        if three.len() == 3 {
            Ok(three)
        } else {
            Err(format!("{:?}", c.windows()))
        }
    })
}

fn titles(windows: &[WindowInfo]) -> Vec<String> {
    windows.iter().map(|w| w.title.clone()).collect()
}

/// What the person sees of the three windows: where each is, in which order, which has the
/// keyboard.
fn desktop(windows: &[WindowInfo]) -> Vec<(String, Geometry, bool)> {
    windows
        .iter()
        .map(|w| (w.title.clone(), w.geometry, w.focused))
        .collect()
}

fn notes_text(pid: u32) -> Result<String, String> {
    read_inside(pid, "/tmp/notes.txt")
}

fn wait_for_notes(pid: u32, text: &str) {
    poll(
        START_TIMEOUT,
        &format!("the GTK app to hold {text:?}"),
        || {
            let held = notes_text(pid)?;
            if held == text {
                Ok(())
            } else {
                Err(held)
            }
        },
    );
}

/// The container processes the test watches, by their pids inside their sandboxes.
fn app_pids(bridges: &[u32; 3]) -> Vec<String> {
    let [notes, _, _] = bridges;
    vec![read_inside(*notes, "/tmp/notes.pid").unwrap_or_default()]
}

/// Stops (or continues) every process of the sandboxes of `bridges`.
fn signal_sandboxes(bridges: &[u32], signal: rustix::process::Signal) {
    for &bridge in bridges {
        let mut pids = vec![bridge];
        let mut i = 0;
        while i < pids.len() {
            let children =
                std::fs::read_to_string(format!("/proc/{p}/task/{p}/children", p = pids[i]))
                    .unwrap_or_default();
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
            i += 1;
        }
        for pid in pids {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    }
}

/// Checks that the windows came back as they were, from the same processes, and that the next
/// keys reach the focused window.
fn came_back(
    c: &Compositor,
    step: &str,
    bridges: &[u32; 3],
    before: &[WindowInfo],
    pids: &[String],
    typed: &mut String,
) {
    let after = poll(
        START_TIMEOUT,
        &format!("the windows back after {step}"),
        || {
            let three = the_three(c, false);
            if three.len() == 3 {
                return Ok(three);
            }
            let logs: Vec<String> = bridges
                .iter()
                .map(|&b| read_inside(b, "/tmp/porthole-run.log").unwrap_or_else(|e| e))
                .collect();
            Err(format!(
                "{:?}\nbridges' logs:\n{}",
                c.windows(),
                logs.join("\n")
            ))
        },
    );
    assert_eq!(desktop(&after), desktop(before), "the desktop changed");
    for (name, bridge) in ["notes", "count", "shm"].iter().zip(bridges) {
        assert_eq!(
            container(c, name).and_then(|i| i.bridge_pid),
            Some(*bridge),
            "container {name} has another bridge"
        );
    }
    assert_eq!(app_pids(bridges), pids, "the GTK app is another process");
    wait_for_notes(bridges[0], typed);
    typed.push_str(" and on");
    c.run_ok(&["input", "type", " and on"]);
    wait_for_notes(bridges[0], typed);
}

#[test]
fn apps_of_bridged_containers_come_back_after_a_crash_and_an_upgrade() {
    let _alone = machine::alone();
    let mut c = Compositor::start(1280, 800);
    let bridges = [
        start_bridged(&c, "notes", NOTES, &[]),
        start_bridged(&c, "count", COUNTER, &[]),
        start_bridged(&c, "shm", SHM, &[]),
    ];
    let _sandboxes: Vec<Sandbox> = bridges.iter().map(|&p| Sandbox::new(p)).collect();
    let windows = wait_for_three(&c, false, START_TIMEOUT);
    let by_title = |t: &str| windows.iter().find(|w| w.title == t).unwrap().clone();

    // xterm over weston-simple-shm, the GTK app over both; bottom to top as TITLES lists them,
    // the GTK app focused.
    let (shm, counter, notes) = (
        by_title("simple-shm"),
        by_title("counter"),
        by_title("notes"),
    );
    drag(&c, &counter, (shm.geometry.x + 100, shm.geometry.y + 80));
    drag(&c, &notes, (shm.geometry.x + 200, shm.geometry.y + 160));
    for w in [&shm, &counter, &notes] {
        c.run_ok(&["window", "focus", "--id", &w.id.to_string()]);
    }
    let mut typed = String::from("typed before the crash");
    c.run_ok(&["input", "type", &typed]);
    wait_for_notes(bridges[0], &typed);
    let before = wait_for_three(&c, false, START_TIMEOUT);
    assert_eq!(titles(&before), TITLES);
    assert!(before[2].focused, "{before:?}");
    let pids = app_pids(&bridges);
    let count_before = count(bridges[1]).unwrap();
    // The compositor keeps its record of the windows within a quarter second of a change.
    std::thread::sleep(Duration::from_millis(500));

    // A crash, with the bridges held stopped meanwhile: the new compositor shows where each
    // window was, in its stacking, until they come back.
    signal_sandboxes(&bridges, rustix::process::Signal::STOP);
    c.crash_and_restart();
    let waiting = wait_for_three(&c, true, START_TIMEOUT);
    let places = |w: &[WindowInfo]| -> Vec<(String, Geometry)> {
        w.iter().map(|w| (w.title.clone(), w.geometry)).collect()
    };
    assert_eq!(places(&waiting), places(&before), "the placeholders");
    assert!(waiting.iter().all(|w| w.reconnecting), "{waiting:?}");
    // Where the GTK app's placeholder lies over xterm's, the GTK app's is seen.
    let shot = c.screenshot();
    title_bar_on_top(&shot, before[2].geometry, before[1].geometry);

    let continued = Instant::now();
    signal_sandboxes(&bridges, rustix::process::Signal::CONT);
    wait_for_three(&c, false, Duration::from_secs(10));
    let took = continued.elapsed();
    eprintln!(
        "windows back {} ms after the bridges went on",
        took.as_millis()
    );
    assert!(
        took < Duration::from_secs(1),
        "the windows took {took:?} to come back"
    );
    came_back(
        &c,
        "a crash with the bridges stopped",
        &bridges,
        &before,
        &pids,
        &mut typed,
    );
    wait_for_at_least(
        "the counter to go on",
        || count(bridges[1]),
        count_before + 3,
    );

    // A crash with the bridges running.
    c.crash_and_restart();
    came_back(&c, "a crash", &bridges, &before, &pids, &mut typed);

    // An upgrade: `porthole quit`, then another binary.
    let copy = c.dir().join("porthole-upgraded");
    std::fs::copy(PORTHOLE, &copy).unwrap();
    c.upgrade_to(&copy);
    came_back(
        &c,
        "porthole quit and a copied binary",
        &bridges,
        &before,
        &pids,
        &mut typed,
    );

    // `porthole restart` after a newer binary was installed over the running one, as a package
    // manager does it (a new file renamed into place): the process starts it in its place.
    let installed = c.dir().join("porthole-upgraded.new");
    std::fs::copy(PORTHOLE, &installed).unwrap();
    std::fs::rename(&installed, &copy).unwrap();
    let pid = c.pid();
    c.run_ok(&["restart"]);
    poll(START_TIMEOUT, "the compositor to answer again", || match c
        .run(&["outputs"])
        .status
        .success()
    {
        true => Ok(()),
        false => Err("not yet".to_string()),
    });
    assert!(c.is_running(), "porthole restart ended the compositor");
    assert_eq!(c.pid(), pid, "the same process");
    came_back(&c, "porthole restart", &bridges, &before, &pids, &mut typed);
}

#[test]
fn apps_whose_compositor_does_not_come_back_are_asked_to_close() {
    let mut c = Compositor::start(1280, 800);
    let bridge = start_bridged(&c, "gone", NOTES, &["--reconnect-grace", "2"]);
    let _sandbox = Sandbox::new(bridge);
    poll(START_TIMEOUT, "the GTK app's window", || {
        c.windows()
            .into_iter()
            .find(|w| w.title == "notes")
            .ok_or_else(|| format!("{:?}", c.windows()))
    });
    // The sandbox's /tmp, held open: it is still there to read once the sandbox has ended.
    let tmp: OwnedFd = rustix::fs::open(
        format!("/proc/{bridge}/root/tmp"),
        rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .expect("the sandbox's /tmp");
    c.crash();
    let asked = |what: &str| {
        rustix::fs::openat(
            &tmp,
            what,
            rustix::fs::OFlags::RDONLY,
            rustix::fs::Mode::empty(),
        )
        .is_ok()
    };
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !asked("close-requested"),
        "asked to close within the grace period"
    );
    poll(
        Duration::from_secs(10),
        "the GTK app to be asked to close",
        || {
            if asked("close-requested") {
                Ok(())
            } else {
                Err("not yet".to_string())
            }
        },
    );
    poll(Duration::from_secs(20), "the sandbox to end", || {
        gone(bridge)
    });
}

#[test]
fn what_a_bridge_starts_has_no_signal_blocked() {
    // The bridge takes its signals through a signalfd, with them blocked; its apps must not
    // inherit that, or SIGTERM, Ctrl+C and SIGCHLD would never reach them. Here the bridge runs
    // as `porthole x11` and the benchmark run it, outside a sandbox, as the test's child.
    let c = Compositor::start(640, 480);
    c.run_ok(&["container", "add", "signals"]);
    let info = container(&c, "signals").expect("the container");
    let x11 = c.dir().join("signals-x11");
    std::fs::create_dir(&x11).unwrap();
    let mut bridge = std::process::Command::new(sibling("porthole-bridge"))
        .args(["--serve-wayland", "signals-0", "--x11-dir"])
        .arg(&x11)
        .args(["--", "sleep", "600"])
        .env("XDG_RUNTIME_DIR", c.dir())
        .env("WAYLAND_DISPLAY", &info.socket)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("porthole-bridge");
    let pid = bridge.id();
    let command = poll(START_TIMEOUT, "the bridge's command", || {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .map_err(|e| e.to_string())?;
        children
            .split_whitespace()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| "no child yet".to_string())
    });
    let status = std::fs::read_to_string(format!("/proc/{command}/status")).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", &command])
        .status();
    let _ = bridge.kill();
    let _ = bridge.wait();
    let blocked = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .map(str::trim);
    assert_eq!(blocked, Some("0000000000000000"), "{status}");
}

/// The children of process `parent` whose command line starts with `prefix`.
fn children_running(parent: u32, prefix: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|end| stat[end + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            ppid == Some(parent) && cmdline.starts_with(prefix)
        })
        .collect()
}

#[test]
fn the_session_script_starts_a_crashed_compositor_again_and_bridged_apps_come_back() {
    let _machine = machine::share();
    let runtime = tempfile::Builder::new()
        .prefix("porthole-session-")
        .tempdir()
        .unwrap();
    let dir = runtime.path();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    for sub in ["home", "config"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
    }
    let bin = Path::new(PORTHOLE).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../session/porthole-session");
    let command = |program: &Path| {
        let mut cmd = std::process::Command::new(program);
        session_env(&mut cmd, dir);
        cmd.env("PATH", &path);
        cmd
    };
    // Without a user manager (arguments mean running directly), headless.
    let mut session = command(&script);
    session
        .args(["--outputs", "1280x720"])
        .env("PORTHOLE_BACKEND", "headless")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut session = KillOnDrop(session.spawn().unwrap());
    let porthole = |args: &[&str]| command(Path::new(PORTHOLE)).args(args).output().unwrap();
    let compositor = |not: Option<u32>| {
        poll(Duration::from_secs(10), "the session's compositor", || {
            let running = children_running(session.0.id(), "porthole serve");
            let ready = porthole(&["outputs"]).status.success();
            match running.as_slice() {
                [pid] if Some(*pid) != not && ready => Ok(*pid),
                other => Err(format!("{other:?}, answering: {ready}")),
            }
        })
    };
    let first = compositor(None);

    let mut launched = command(Path::new(PORTHOLE));
    launched
        .args(["run", "--bridged", "s", "--", "weston-simple-shm"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let launched = KillOnDrop(launched.spawn().unwrap());
    let window = |what: &str| {
        poll(Duration::from_secs(20), what, || {
            let out = porthole(&["windows", "--json"]);
            let windows: Vec<WindowInfo> = serde_json::from_slice(&out.stdout).unwrap_or_default();
            windows
                .into_iter()
                .find(|w| w.title == "simple-shm" && !w.reconnecting)
                .ok_or_else(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
    };
    let before = window("weston-simple-shm's window");

    // A crash: the script starts the compositor again, and the app's window comes back.
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(first as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    compositor(Some(first));
    let after = window("weston-simple-shm's window after the crash");
    assert_eq!(after.geometry, before.geometry);
    assert!(
        session.0.try_wait().unwrap().is_none(),
        "the session goes on"
    );

    // `porthole quit` ends the session.
    assert!(porthole(&["quit"]).status.success());
    let status = poll(Duration::from_secs(10), "the session to end", || {
        session.0.try_wait().unwrap().ok_or_else(String::new)
    });
    assert!(status.success(), "{status:?}");
    assert!(children_running(session.0.id(), "porthole serve").is_empty());
    drop(launched);
}

/// Kills a process the test started if the test fails half-way.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(self.0.id() as i32).unwrap(),
                rustix::process::Signal::INT,
            );
            std::thread::sleep(Duration::from_millis(300));
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn a_bridged_container_without_x11_serves_its_wayland_socket_only_and_outlives_a_crash() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.nx]\nx11 = false\n");
    let mut run = std::process::Command::new(PORTHOLE);
    session_env(&mut run, c.dir());
    run.args(["run", "--bridged", "nx", "--", "weston-simple-shm"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let launched = KillOnDrop(run.spawn().unwrap());
    let window = |c: &Compositor| {
        poll(
            Duration::from_secs(20),
            "weston-simple-shm's window",
            || {
                c.windows()
                    .into_iter()
                    .find(|w| w.container == "nx" && w.title == "simple-shm" && !w.reconnecting)
                    .ok_or_else(|| format!("{:?}", c.windows()))
            },
        )
    };
    let before = window(&c);
    let bridge = bridge_pid(&c, "nx");
    let _sandbox = Sandbox::new(bridge);
    // No X display: no socket, no DISPLAY for the command.
    assert!(!Path::new(&format!("/proc/{bridge}/root/tmp/.X11-unix/X0")).exists());
    let children = std::fs::read_to_string(format!("/proc/{bridge}/task/{bridge}/children"))
        .expect("the bridge's children");
    let app: u32 = children
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .expect("the bridge's command");
    let environ = std::fs::read(format!("/proc/{app}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        !environ.split('\0').any(|v| v.starts_with("DISPLAY=")),
        "{environ}"
    );

    c.crash_and_restart();
    let after = window(&c);
    assert_eq!(after.geometry, before.geometry);
    assert_eq!(bridge_pid(&c, "nx"), bridge, "the same bridge");
    drop(launched);
}
