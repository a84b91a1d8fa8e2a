//! Checkpoint and restore of a running GUI container with CRIU (`porthole run --checkpointable`,
//! `porthole checkpoint`, `porthole restore`), with real parts: bubblewrap, the container's own
//! Xwayland, xterm, weston-simple-shm, an MIT-SHM client (`porthole-x11-probe shm`) and CRIU 4
//! (`PORTHOLE_CRIU`, else `.criu/criu` as `tests/criu/install-criu.sh .criu` installs it).
//!
//! CRIU needs root; so do these tests (CI runs as root).
//!
//! The helpers here start a checkpointable container and read its state; the tests are grouped by
//! what they check.

mod memory;
mod native;
mod privileges;
mod refusals;
mod restore;
mod survive;
mod terminals;

use std::path::Path;
use std::time::Duration;

use porthole_ipc::{ContainerInfo, Geometry, WindowInfo};

use crate::common::*;

/// How long a sandbox gets to start Xwayland and map its windows.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the container runs: an xterm whose shell counts (also into /tmp/count), a native
/// Wayland client, and an MIT-SHM client that keeps two SysV segments attached to the X server
/// and round-trips a new picture through them every 300 ms (into /tmp/shm.log).
const SCRIPT: &str = r#"
cp /run/porthole-host/porthole-x11-probe /tmp/probe
xterm -T counter -geometry 50x8 -e sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; echo "count $i"; sleep 0.3; done' &
weston-simple-shm &
/tmp/probe shm --rounds 0 --every-ms 300 > /tmp/shm.log 2>&1 &
"#;

/// The CRIU the tests use.
fn criu() -> String {
    if let Some(criu) = std::env::var_os("PORTHOLE_CRIU") {
        return criu.to_string_lossy().into_owned();
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.criu/criu");
    assert!(
        local.is_file(),
        "CRIU 4 is missing: run `tests/criu/install-criu.sh .criu` (./.ci/test does), or set \
         PORTHOLE_CRIU"
    );
    local.to_string_lossy().into_owned()
}

fn container(c: &Compositor, name: &str) -> Option<ContainerInfo> {
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json");
    all.into_iter().find(|i| i.name == name)
}

/// Creates container `name`, starts [`SCRIPT`] (plus `extra`) in it checkpointable, and waits
/// for its two windows. Returns the bridge's pid.
fn start(c: &mut Compositor, name: &str, extra: &str) -> u32 {
    c.run_ok(&["container", "add", name]);
    start_existing(c, name, extra)
}

/// The two windows of container `name` (xterm's and weston-simple-shm's), once both are listed
/// as live (or, with `checkpointed`, as placeholders), sorted by title.
fn windows_of(c: &Compositor, name: &str, checkpointed: bool) -> Vec<WindowInfo> {
    poll(START_TIMEOUT, "the container's two windows", || {
        let mut mine: Vec<WindowInfo> = c
            .windows()
            .into_iter()
            .filter(|w| w.container == name && ["counter", "simple-shm"].contains(&&*w.title))
            .collect();
        mine.sort_by(|a, b| a.title.cmp(&b.title));
        let ready = mine.len() == 2
            && mine.iter().all(|w| w.checkpointed == checkpointed)
            && mine[0].title == "counter"
            && mine[1].title == "simple-shm";
        if ready {
            Ok(mine)
        } else {
            Err(format!("{mine:?}"))
        }
    })
}

/// Moves xterm where no placement would put it, over weston-simple-shm, and focuses it; returns
/// the two windows (sorted by title).
fn arrange(c: &Compositor, name: &str) -> Vec<WindowInfo> {
    let windows = windows_of(c, name, false);
    // weston-simple-shm has no title bar to drag (it draws no decorations and binds no
    // xdg-decoration): xterm goes over it.
    drag(c, &windows[0], (140, 120));
    // xterm goes above weston-simple-shm, with the focus.
    c.run_ok(&["window", "focus", "--id", &windows[0].id.to_string()]);
    poll(START_TIMEOUT, "xterm focused", || {
        let w = c.window(windows[0].id).ok_or("gone")?;
        if w.focused {
            Ok(())
        } else {
            Err(format!("{w:?}"))
        }
    });
    let arranged = windows_of(c, name, false);
    assert_eq!(stacking(c, name), ["simple-shm", "counter"]);
    arranged
}

/// The titles of a container's live windows, bottom first.
fn stacking(c: &Compositor, name: &str) -> Vec<String> {
    c.windows()
        .into_iter()
        .filter(|w| w.container == name && !w.checkpointed)
        .filter(|w| ["counter", "simple-shm"].contains(&&*w.title))
        .map(|w| w.title)
        .collect()
}

/// Waits until `value` (a counter of the container) reaches `least`.
fn wait_for_at_least(what: &str, value: impl Fn() -> Result<u64, String>, least: u64) {
    poll(START_TIMEOUT, what, || {
        let n = value()?;
        if n >= least {
            Ok(())
        } else {
            Err(n.to_string())
        }
    });
}

/// A file of the container, read through its first process's root.
fn read_inside(pid: u32, path: &str) -> Result<String, String> {
    let file = format!("/proc/{pid}/root{path}");
    std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))
}

fn count(pid: u32) -> Result<u64, String> {
    read_inside(pid, "/tmp/count")?
        .trim()
        .parse()
        .map_err(|e| format!("count: {e}"))
}

/// The last MIT-SHM round that matched, after checking that every line says a round matched.
fn shm_rounds(pid: u32) -> Result<u64, String> {
    let log = read_inside(pid, "/tmp/shm.log")?;
    let mut last = 0;
    for line in log.lines() {
        let round = line
            .strip_prefix("shm ok round ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the MIT-SHM client reports a failure: {line}\n{log}"));
        last = round;
    }
    Ok(last)
}

fn geometries(windows: &[WindowInfo]) -> Vec<(String, Geometry)> {
    windows
        .iter()
        .map(|w| (w.title.clone(), w.geometry))
        .collect()
}

fn checkpoint(c: &Compositor, name: &str) -> std::process::Output {
    c.run_with_env(&["checkpoint", name], &[("PORTHOLE_CRIU", &criu())])
}

fn restore(c: &Compositor, name: &str) -> String {
    let out = c.run_with_env(&["restore", name], &[("PORTHOLE_CRIU", &criu())]);
    assert!(
        out.status.success(),
        "porthole restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn gone(pid: u32) -> Result<(), String> {
    match Path::new(&format!("/proc/{pid}")).exists() {
        true => Err(format!("process {pid} still runs")),
        false => Ok(()),
    }
}

/// The checkpoint itself, common to the tests that restore: checks that it says so, that the
/// container is gone and that its windows stay as placeholders at the same places.
fn checkpoint_ok(c: &Compositor, name: &str, pid: u32, before: &[WindowInfo]) {
    let out = checkpoint(c, name);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "porthole checkpoint failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("checkpointed `{name}`: 2 windows")),
        "{stdout}"
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    let kept = windows_of(c, name, true);
    assert_eq!(
        geometries(&kept),
        geometries(before),
        "placeholders stay in place"
    );
}

/// Checks in `shot` that the placeholder (or window) `top` is drawn over `below`, which it
/// overlaps: the top row of its title bar, above the text, crosses what lies below in its
/// frame's colour, as it shows where nothing is below.
fn title_bar_on_top(shot: &Screenshot, top: Geometry, below: Geometry) {
    let y = top.y - TITLEBAR + 2;
    let over = (top.x + 20)..(below.x + below.width).min(top.x + 200);
    assert!(
        over.len() > 50 && y > below.y && y < below.y + below.height,
        "the windows do not overlap as arranged: {top:?} over {below:?}"
    );
    let bar = shot.pixel(top.x + top.width - 4, y);
    for x in over {
        assert_eq!(
            shot.pixel(x, y),
            bar,
            "at ({x}, {y}) the window above is covered by the one below"
        );
    }
}

/// Like [`start`], for a container that exists already.
fn start_existing(c: &mut Compositor, name: &str, extra: &str) -> u32 {
    let info = container(c, name).expect("the container");
    let dir = Path::new(&info.socket).parent().unwrap().to_path_buf();
    std::fs::copy(
        sibling("porthole-x11-probe"),
        dir.join("porthole-x11-probe"),
    )
    .expect("copying the probe into the container directory");
    let pid = run_checkpointable(c, name, &format!("{SCRIPT}{extra}\nwait"));
    windows_of(c, name, false);
    pid
}

/// `porthole run --checkpointable NAME -- sh -c SCRIPT` (which creates container NAME if
/// needed); returns the bridge's pid.
fn run_checkpointable(c: &Compositor, name: &str, script: &str) -> u32 {
    let out = c.run(&["run", "--checkpointable", name, "--", "sh", "-c", script]);
    assert!(
        out.status.success(),
        "porthole run --checkpointable failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bridge_pid(c, name)
}

/// The pid of a checkpointable container's bridge, its first process.
fn bridge_pid(c: &Compositor, name: &str) -> u32 {
    container(c, name)
        .and_then(|i| i.bridge_pid)
        .expect("a checkpointable container's bridge is connected and reports its pid")
}

/// Waits for a live window of container `name` titled `title`.
fn titled(c: &Compositor, name: &str, title: &str) -> WindowInfo {
    poll(START_TIMEOUT, &format!("the window `{title}`"), || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == name && w.title == title && !w.checkpointed)
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    })
}
