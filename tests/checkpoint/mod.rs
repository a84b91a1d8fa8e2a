//! Checkpoint and restore of a running GUI container with CRIU (`porthole run --checkpointable`,
//! `porthole checkpoint`, `porthole restore`), with real parts: bubblewrap, the container's own
//! Xwayland, xterm, weston-simple-shm, an MIT-SHM client (`porthole-x11-probe shm`) and CRIU 4
//! (`PORTHOLE_CRIU`, else `.criu/criu` as `tests/criu/install-criu.sh .criu` installs it).
//!
//! CRIU needs root; so do these tests (CI runs as root).

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

#[test]
fn a_checkpointed_container_comes_back_with_its_windows_and_state() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ck", "");
    let _sandbox = Sandbox(pid);
    let before = arrange(&c, "ck");
    wait_for_at_least("two MIT-SHM rounds", || shm_rounds(pid), 2);

    let counted = count(pid).expect("the counter");
    let rounds = shm_rounds(pid).expect("the MIT-SHM log");
    checkpoint_ok(&c, "ck", pid, &before);
    // A placeholder is not a window to act on; the error says what to do instead.
    let kept = windows_of(&c, "ck", true);
    let out = c.run(&["window", "close", "--id", &kept[0].id.to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("`porthole restore ck`"),
        "{stderr}"
    );

    // What a person sees meanwhile: each window's last frame, dimmed, labelled.
    let shot = c.screenshot();
    let xterm = before
        .iter()
        .find(|w| w.title == "counter")
        .unwrap()
        .geometry;
    let dimmed_white = [0x72, 0x72, 0x72, 0xff];
    let share = shot.share_of(xterm, dimmed_white);
    assert!(share > 0.4, "xterm's white is drawn dimmed: {share}");
    let label = Geometry {
        x: xterm.x + xterm.width / 2 - 40,
        y: xterm.y + xterm.height / 2 - 10,
        width: 80,
        height: 20,
    };
    let label_bg = [0x30, 0x30, 0x36, 0xff];
    let share = shot.share_of(label, label_bg);
    assert!(share > 0.3, "the placeholder is labelled: {share}");

    std::thread::sleep(Duration::from_secs(1));
    let said = restore(&c, "ck");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ck");
    let _restored = Sandbox(pid);
    let after = windows_of(&c, "ck", false);
    assert_eq!(
        geometries(&after),
        geometries(&before),
        "windows come back in place"
    );
    assert_eq!(
        stacking(&c, "ck"),
        ["simple-shm", "counter"],
        "and in their stacking"
    );
    assert!(after[0].focused, "xterm has the focus back: {after:?}");

    // The shell went on counting from where it was, and the MIT-SHM client's segments still
    // carry its pictures.
    let resumed = poll(Duration::from_secs(5), "the counter", || count(pid));
    assert!(
        resumed >= counted && resumed < counted + 10,
        "the counter goes on from {counted}, not from the start: {resumed}"
    );
    wait_for_at_least("the counter to go on", || count(pid), counted + 4);
    wait_for_at_least(
        "MIT-SHM rounds after the restore",
        || shm_rounds(pid),
        rounds + 4,
    );
    let shot = c.screenshot();
    let white = shot.share_of(xterm, [0xff, 0xff, 0xff, 0xff]);
    assert!(white > 0.4, "xterm is drawn live again: {white}");

    // New X11 and Wayland clients of the restored container are served.
    let enter = [
        "-t",
        &pid.to_string(),
        "-a",
        "env",
        "-i",
        "PATH=/usr/bin:/bin",
        "HOME=/tmp",
        "XDG_RUNTIME_DIR=/run/porthole",
        "WAYLAND_DISPLAY=wayland-0",
        "DISPLAY=:0",
        "XAUTHORITY=/tmp/.porthole-Xauthority-0",
        "sh",
        "-c",
        "weston-simple-shm & exec /tmp/probe window --name after-restore",
    ]
    .map(String::from);
    let args: Vec<&str> = enter.iter().map(String::as_str).collect();
    c.spawn_client("nsenter", &args);
    poll(START_TIMEOUT, "a new X11 and a new Wayland window", || {
        let windows = c.windows();
        let mine: Vec<&WindowInfo> = windows.iter().filter(|w| w.container == "ck").collect();
        let x11 = mine.iter().any(|w| w.title == "after-restore");
        let wayland = mine.iter().filter(|w| w.title == "simple-shm").count() == 2;
        if x11 && wayland {
            Ok(())
        } else {
            Err(format!("{mine:?}"))
        }
    });
}

#[test]
fn windows_come_back_in_place_after_the_compositor_restarts_in_between() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckr", "");
    let _sandbox = Sandbox(pid);
    let before = arrange(&c, "ckr");
    checkpoint_ok(&c, "ckr", pid, &before);

    c.restart();
    // The new compositor shows the placeholders it found, though the container is gone.
    let kept = windows_of(&c, "ckr", true);
    assert_eq!(geometries(&kept), geometries(&before));
    assert!(
        container(&c, "ckr").is_none(),
        "the container was added at run time"
    );

    let said = restore(&c, "ckr");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckr");
    let _restored = Sandbox(pid);
    let after = windows_of(&c, "ckr", false);
    assert_eq!(geometries(&after), geometries(&before));
    assert_eq!(stacking(&c, "ckr"), ["simple-shm", "counter"]);

    // Placeholders a new compositor shows for a container it never had can be dropped.
    checkpoint_ok(&c, "ckr", pid, &before);
    c.restart();
    windows_of(&c, "ckr", true);
    c.run_ok(&["container", "remove", "ckr"]);
    assert!(
        c.windows().iter().all(|w| w.container != "ckr"),
        "{:?}",
        c.windows()
    );
    let shot = c.screenshot();
    assert!(shot.share_of(before[0].geometry, BACKGROUND) > 0.9);
    c.restart();
    assert!(
        c.windows().is_empty(),
        "they stay dropped: {:?}",
        c.windows()
    );
}

#[test]
fn a_failed_checkpoint_leaves_the_container_running_and_its_windows_live() {
    let mut c = Compositor::start(1280, 800);
    // A connection leading out of the container, which CRIU cannot dump.
    c.run_ok(&["container", "add", "ckf"]);
    let dir = Path::new(&container(&c, "ckf").unwrap().socket)
        .parent()
        .unwrap()
        .to_path_buf();
    let listener =
        std::os::unix::net::UnixListener::bind(dir.join("outside.sock")).expect("a listener");
    let holder = r#"python3 -c 'import socket, time
s = socket.socket(socket.AF_UNIX)
s.connect("/run/porthole-host/outside.sock")
time.sleep(3600)' &"#;
    let pid = start_existing(&mut c, "ckf", holder);
    let _sandbox = Sandbox(pid);
    let _held = listener.accept().expect("the container connects out");
    let before = arrange(&c, "ckf");
    let counted = count(pid).expect("the counter");

    let out = checkpoint(&c, "ckf");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the checkpoint must fail");
    assert!(
        stderr.contains("python3") && stderr.contains("outside.sock"),
        "the error names the process and what it holds: {stderr}"
    );
    assert!(stderr.contains("keeps running"), "{stderr}");

    // Nothing is lost: the container runs on and its windows are live again, in place.
    assert!(gone(pid).is_err(), "the container still runs");
    let after = windows_of(&c, "ckf", false);
    assert_eq!(geometries(&after), geometries(&before));
    wait_for_at_least("the counter to go on", || count(pid), counted + 4);

    // A container whose clients reach the compositor directly cannot be checkpointed at all.
    c.run_ok(&["container", "add", "plain"]);
    c.spawn_client(PORTHOLE, &["run", "plain", "--", "weston-simple-shm"]);
    poll(START_TIMEOUT, "the plain container's window", || {
        let n = container(&c, "plain").map_or(0, |i| i.windows);
        if n == 1 {
            Ok(())
        } else {
            Err(n.to_string())
        }
    });
    let out = checkpoint(&c, "plain");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("was not started checkpointable")
            && stderr.contains("porthole run --checkpointable plain"),
        "{stderr}"
    );
}

/// Starts container `name` checkpointable with weston-simple-shm and an interactive dash
/// (Debian's `sh`) on a new terminal, as in a terminal emulator: Python's `pty` holds the other
/// end, copies what the shell writes to `/tmp/out` and types what the test leaves in `/tmp/cmd`.
/// Returns the bridge's pid.
fn start_with_shell(c: &Compositor, name: &str) -> u32 {
    let pid = run_checkpointable(
        c,
        name,
        r#"weston-simple-shm &
python3 -c 'import os, pty, select
child, master = pty.fork()
if child == 0:
    os.execvp("dash", ["sh", "-i"])
out = open("/tmp/out", "ab", buffering=0)
while True:
    if select.select([master], [], [], 0.05)[0]:
        out.write(os.read(master, 4096))
    try:
        typed = open("/tmp/cmd", "rb").read()
        os.unlink("/tmp/cmd")
        os.write(master, typed)
    except FileNotFoundError:
        pass' &
wait"#,
    );
    titled(c, name, "simple-shm");
    pid
}

/// Types `line` into the shell of [`start_with_shell`] and waits for `expected` in what it wrote.
fn type_into_shell(pid: u32, line: &str, expected: &str) {
    let cmd = format!("/proc/{pid}/root/tmp/cmd");
    poll(START_TIMEOUT, "the shell's last line to be typed", || {
        (!Path::new(&cmd).exists())
            .then_some(())
            .ok_or("not yet".to_string())
    });
    std::fs::write(&cmd, format!("{line}\n")).expect("typing into the shell");
    poll(START_TIMEOUT, &format!("`{expected}` in the shell"), || {
        let out = read_inside(pid, "/tmp/out")?;
        out.contains(expected).then_some(()).ok_or(out)
    });
}

/// The pids of the container's processes, with their names.
fn processes(pid: u32) -> Vec<(i32, String)> {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).expect("the container's pid ns");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("ns/pid")).is_ok_and(|n| n == ns))
        .filter_map(|p| {
            let pid = p.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(p.path().join("comm")).ok()?;
            Some((pid, comm.trim().to_string()))
        })
        .collect()
}

/// The names of the container's processes holding `/dev/tty` open.
fn dev_tty_holders(pid: u32) -> Vec<String> {
    let mut holders: Vec<String> = processes(pid)
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|t| t == Path::new("/dev/tty"))
                })
            })
        })
        .map(|(_, comm)| comm)
        .collect();
    holders.sort();
    holders
}

#[test]
fn a_shell_holding_its_terminal_as_dev_tty_is_checkpointed_and_runs_commands_after() {
    let c = Compositor::start(1280, 800);
    // An interactive dash keeps its terminal open as /dev/tty for job control, and so does the
    // program it runs here: CRIU refuses to dump either until Porthole has reopened it as the
    // terminal itself.
    let pid = start_with_shell(&c, "ckt");
    let _sandbox = Sandbox(pid);
    type_into_shell(pid, "echo ready-$((6*7))", "ready-42");
    type_into_shell(pid, "echo running; sleep 3600 3</dev/tty", "running\r\n");
    poll(START_TIMEOUT, "sleep to hold /dev/tty", || {
        let holders = dev_tty_holders(pid);
        (holders == ["dash", "sleep"])
            .then_some(())
            .ok_or(format!("{holders:?}"))
    });
    let out = checkpoint(&c, "ckt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("reopened /dev/tty").count(),
        2,
        "Porthole reopens the terminal of dash and sleep: {stderr}"
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    restore(&c, "ckt");
    let pid = bridge_pid(&c, "ckt");
    let _restored = Sandbox(pid);
    titled(&c, "ckt", "simple-shm");

    // The shell waited for sleep across the restore; once it ends, the shell takes the terminal
    // back (job control on the reopened terminal) and runs the next command.
    let (sleep, _) = processes(pid)
        .into_iter()
        .find(|(_, comm)| comm == "sleep")
        .expect("sleep runs on after the restore");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(sleep).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    type_into_shell(pid, "sleep 0.1; echo after-$((6*7))", "after-42");
    let out = read_inside(pid, "/tmp/out").unwrap();
    assert!(
        !out.contains("process group") && !out.contains("can't access tty"),
        "job control broke: {out}"
    );

    // A process holding /dev/tty while it runs, not waiting in a system call, cannot be moved:
    // the checkpoint names it, and the container runs on.
    let pid = start_with_shell(&c, "ckh");
    let _sandbox = Sandbox(pid);
    type_into_shell(
        pid,
        "echo spinning; exec python3 -c 'while True: pass' 3</dev/tty",
        "spinning\r\n",
    );
    poll(START_TIMEOUT, "python3 to hold /dev/tty", || {
        let holders = dev_tty_holders(pid);
        (holders == ["python3"])
            .then_some(())
            .ok_or(format!("{holders:?}"))
    });
    let out = checkpoint(&c, "ckh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the checkpoint must fail");
    assert!(
        stderr.contains(
            "(python3) holds its terminal open as /dev/tty, which CRIU cannot dump, and Porthole \
             could not reopen it as the terminal itself (it is running, not waiting in a system \
             call); try again, or close that program"
        ),
        "{stderr}"
    );
    assert!(gone(pid).is_err(), "the container still runs");
    assert_eq!(dev_tty_holders(pid), ["python3"]);
    titled(&c, "ckh", "simple-shm");
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

#[test]
fn gpu_clients_block_the_checkpoint_unless_stopped_and_start_again_after_the_restore() {
    // This machine has no GPU. A process holding /dev/dri/renderD128 open stands in for an EGL
    // client: what Porthole looks for is a /dev/dri file open or mapped in the container, which
    // is what CRIU cannot dump. Here the file is a plain one made inside the sandbox, so CRIU
    // could dump it: only Porthole's check refuses.
    let gpu = r#"mkdir -p /dev/dri && : > /dev/dri/renderD128
sh -c 'exec 3</dev/dri/renderD128; exec weston-simple-damage' &"#;
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckg", gpu);
    let _sandbox = Sandbox(pid);
    let damage = |c: &Compositor| {
        c.windows()
            .into_iter()
            .find(|w| w.container == "ckg" && w.title == "simple-damage" && !w.checkpointed)
    };
    poll(START_TIMEOUT, "the GPU client's window", || {
        damage(&c).ok_or_else(|| format!("{:?}", c.windows()))
    });
    let before = windows_of(&c, "ckg", false);

    let out = checkpoint(&c, "ckg");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a GPU client blocks the checkpoint");
    assert!(
        stderr.contains("hold GPU state")
            && stderr.contains("weston-simple-damage")
            && stderr.contains("with windows \"simple-damage\"")
            && stderr.contains("--stop-gpu-clients"),
        "the refusal names the process, its window and the way out: {stderr}"
    );
    assert!(gone(pid).is_err(), "the container still runs");
    assert!(
        damage(&c).is_some(),
        "and the GPU client's window is still there"
    );

    let out = c.run_with_env(
        &["checkpoint", "ckg", "--stop-gpu-clients"],
        &[("PORTHOLE_CRIU", &criu())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "checkpoint --stop-gpu-clients failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("stopped 1 GPU clients") && stdout.contains("weston-simple-damage"),
        "{stdout}"
    );
    assert!(damage(&c).is_none(), "the GPU client was stopped");
    let kept = windows_of(&c, "ckg", true);
    assert_eq!(geometries(&kept), geometries(&before));

    let said = restore(&c, "ckg");
    assert!(said.contains("weston-simple-damage"), "{said}");
    let pid = bridge_pid(&c, "ckg");
    let _restored = Sandbox(pid);
    windows_of(&c, "ckg", false);
    poll(START_TIMEOUT, "the GPU client started again", || {
        damage(&c).ok_or_else(|| format!("{:?}", c.windows()))
    });
}

#[test]
fn native_clients_of_a_checkpointable_container_type_copy_and_paste_across_a_restore() {
    let c = Compositor::start(1280, 800);
    c.run_ok(&["container", "add", "ckn"]);
    let script = r#"
        # dash, Debian's sh, keeps its terminal open as /dev/tty (Porthole reopens it for CRIU).
        foot --title typed-into sh &
        until [ -e /tmp/go ]; do sleep 0.1; done
        # Each paste is tried until it shows the copy (at most 10 s): a loaded machine may take
        # a while to pass it on, but it must arrive.
        paste() { want=$1; shift; for i in $(seq 50); do got=$(timeout 10 "$@"); [ "$got" = "$want" ] && break; sleep 0.2; done; echo "$got"; }
        {
            echo from-x11 | xclip -i -selection clipboard
            echo "wl-paste=$(paste from-x11 wl-paste -n)"
            echo from-wayland | timeout 10 wl-copy
            echo "xclip=$(paste from-wayland xclip -o -selection clipboard)"
            echo primary-from-x11 | xclip -i
            echo "wl-paste-p=$(paste primary-from-x11 wl-paste -p -n)"
        } > /tmp/clip.tmp 2>&1
        mv /tmp/clip.tmp /tmp/clip
        sleep 3600
    "#;
    let pid = run_checkpointable(&c, "ckn", script);
    let _sandbox = Sandbox(pid);
    let foot = titled(&c, "ckn", "typed-into");
    assert!(foot.focused, "{foot:?}");

    // The clipboard and the primary selection between the container's X11 and native clients.
    std::fs::write(format!("/proc/{pid}/root/tmp/go"), "").unwrap();
    let report = poll(START_TIMEOUT, "the clipboard report", || {
        read_inside(pid, "/tmp/clip")
    });
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

    // Keys reach foot's shell, before and after a checkpoint.
    c.run_ok(&["input", "type", "echo $((6*7)) > /tmp/typed"]);
    c.run_ok(&["input", "key", "Return"]);
    let typed = poll(START_TIMEOUT, "what was typed", || {
        read_inside(pid, "/tmp/typed")
    });
    assert_eq!(typed.trim(), "42");
    let out = checkpoint(&c, "ckn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    let said = restore(&c, "ckn");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckn");
    let _restored = Sandbox(pid);
    let back = poll(START_TIMEOUT, "foot back, with the focus", || {
        let w = c
            .windows()
            .into_iter()
            .find(|w| w.container == "ckn" && w.title == "typed-into")
            .ok_or("no foot")?;
        if w.focused && !w.checkpointed {
            Ok(w)
        } else {
            Err(format!("{w:?}"))
        }
    });
    assert_eq!(back.geometry, foot.geometry);
    c.run_ok(&["input", "type", "echo $((6*7+1)) > /tmp/typed"]);
    c.run_ok(&["input", "key", "Return"]);
    poll(START_TIMEOUT, "what was typed after the restore", || {
        let typed = read_inside(pid, "/tmp/typed")?;
        if typed.trim() == "43" {
            Ok(())
        } else {
            Err(typed)
        }
    });
}

#[test]
fn a_native_clients_menu_opens_and_a_checkpoint_dismisses_it() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(&c, "ckm", "weston-terminal --shell=/bin/sh; sleep 3600");
    let _sandbox = Sandbox(pid);
    let terminal = titled(&c, "ckm", "Wayland Terminal");
    // weston-terminal draws its own title bar and shadow; the window geometry it sets leaves the
    // shadow out, as for a client of the compositor itself.
    assert!(terminal.geometry.width < 760, "{terminal:?}");

    // A right click opens weston-terminal's menu (light grey, right and below the pointer).
    let g = terminal.geometry;
    let (x, y) = (g.x + g.width / 3, g.y + g.height / 3);
    let menu = Geometry {
        x: x + 40,
        y: y + 40,
        width: 100,
        height: 40,
    };
    let grey = |c: &mut Compositor| {
        let shot = c.screenshot();
        let pixels = shot.region(menu);
        pixels
            .iter()
            .filter(|p| p[0] == p[1] && p[1] == p[2] && (0xc0..=0xd8).contains(&p[0]))
            .count() as f64
            / pixels.len() as f64
    };
    assert!(grey(&mut c) < 0.1, "no menu before the click");
    // The shell's prompt is drawn once dash has started, holding its terminal open as /dev/tty
    // (which Porthole reopens as the terminal itself for CRIU). The region starts after the
    // first cell, where weston-terminal draws its cursor before any prompt.
    let prompt = Geometry {
        x: g.x + 28,
        y: g.y + 30,
        width: 100,
        height: 16,
    };
    poll(START_TIMEOUT, "weston-terminal's prompt", || {
        let lit = c
            .screenshot()
            .region(prompt)
            .iter()
            .filter(|p| p[0] > 0x80)
            .count();
        if lit > 20 {
            Ok(())
        } else {
            Err(format!("{lit} lit pixels"))
        }
    });
    let open_menu = |c: &mut Compositor| {
        c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
        c.run_ok(&["input", "click", "right"]);
        poll(START_TIMEOUT, "the menu", || {
            let share = grey(c);
            if share > 0.5 {
                Ok(())
            } else {
                Err(share.to_string())
            }
        });
    };
    open_menu(&mut c);

    // A checkpoint dismisses it, as any reconnect does; after the restore it opens again.
    let out = checkpoint(&c, "ckm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = restore(&c, "ckm");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckm");
    let _restored = Sandbox(pid);
    poll(START_TIMEOUT, "the menu gone", || {
        let share = grey(&mut c);
        if share < 0.1 {
            Ok(())
        } else {
            Err(share.to_string())
        }
    });
    open_menu(&mut c);
}

#[test]
fn an_ordinary_user_is_told_that_checkpointing_needs_root() {
    // Nothing is started: the commands refuse before reaching a compositor or CRIU.
    for args in [
        &["run", "--checkpointable", "work", "--", "xterm"][..],
        &["checkpoint", "work"][..],
        &["restore", "work"][..],
    ] {
        let mut cmd = std::process::Command::new("runuser");
        cmd.args(["-u", "porthole-a", "--", PORTHOLE]).args(args);
        let out = run_bounded(cmd, CLI_TIMEOUT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "porthole {args:?} as porthole-a");
        assert!(
            stderr.contains("needs root") && stderr.contains("sudo"),
            "porthole {args:?}: {stderr}"
        );
    }
}

#[test]
fn a_minimized_window_comes_back_minimized() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckz", "");
    let _sandbox = Sandbox(pid);
    let before = arrange(&c, "ckz");
    let shm = before
        .iter()
        .find(|w| w.title == "simple-shm")
        .unwrap()
        .clone();
    c.run_ok(&["window", "minimize", "--id", &shm.id.to_string()]);
    c.wait_for_window(shm.id, "minimized", START_TIMEOUT, |w| w.minimized);

    let out = checkpoint(&c, "ckz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = windows_of(&c, "ckz", true);
    assert!(kept[1].minimized && !kept[0].minimized, "{kept:?}");
    // Only xterm's placeholder is drawn: where simple-shm would be, xterm does not reach, the
    // background shows.
    let shot = c.screenshot();
    let corner = Geometry {
        x: shm.geometry.x,
        y: shm.geometry.y,
        width: 60,
        height: 60,
    };
    assert!(
        shot.share_of(corner, BACKGROUND) > 0.9,
        "a minimized placeholder is not drawn"
    );

    restore(&c, "ckz");
    let pid = bridge_pid(&c, "ckz");
    let _restored = Sandbox(pid);
    let after = windows_of(&c, "ckz", false);
    assert!(
        after[1].minimized,
        "simple-shm comes back minimized: {after:?}"
    );
    assert!(after[0].focused, "and xterm keeps the focus: {after:?}");
    assert_eq!(geometries(&after), geometries(&before));
}

#[test]
fn maximized_and_fullscreen_windows_come_back_so_and_remember_their_place() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckx", "");
    let _sandbox = Sandbox(pid);
    let before = arrange(&c, "ckx");
    let (xterm, shm) = (&before[0], &before[1]);
    c.run_ok(&["window", "fullscreen", "--id", &shm.id.to_string()]);
    c.wait_for_window(shm.id, "fullscreen", START_TIMEOUT, |w| w.fullscreen);
    c.run_ok(&["window", "maximize", "--id", &xterm.id.to_string()]);
    c.run_ok(&["window", "focus", "--id", &xterm.id.to_string()]);
    let maximized = c.wait_for_window(xterm.id, "xterm maximized", START_TIMEOUT, |w| {
        w.maximized && w.focused && w.geometry.width > 1200
    });

    let out = checkpoint(&c, "ckx");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = windows_of(&c, "ckx", true);
    assert!(kept[0].maximized && kept[1].fullscreen, "{kept:?}");
    assert_eq!(kept[0].geometry, maximized.geometry);

    restore(&c, "ckx");
    let pid = bridge_pid(&c, "ckx");
    let _restored = Sandbox(pid);
    let after = windows_of(&c, "ckx", false);
    assert!(
        after[0].maximized && after[0].focused && after[1].fullscreen,
        "{after:?}"
    );
    assert_eq!(after[0].geometry, maximized.geometry);

    // Each goes back to its place before, as if there had been no checkpoint.
    c.run_ok(&["window", "maximize", "--id", &after[0].id.to_string()]);
    c.run_ok(&["window", "fullscreen", "--id", &after[1].id.to_string()]);
    for (was, now) in before.iter().zip(&after) {
        c.wait_for_window(now.id, "the place before", START_TIMEOUT, |w| {
            !w.maximized && !w.fullscreen && w.geometry == was.geometry
        });
    }
}

#[test]
fn clicks_on_a_native_clients_shadow_reach_the_window_below() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(
        &c,
        "cks",
        "weston-terminal --shell=/bin/sh & xterm -T below -geometry 40x10 & wait",
    );
    let _sandbox = Sandbox(pid);
    let terminal = titled(&c, "cks", "Wayland Terminal");
    let xterm = titled(&c, "cks", "below");
    // weston-terminal draws a 32-pixel shadow around its window and takes input only inside
    // the window. xterm goes under the shadow on the right, the terminal above it.
    let g = terminal.geometry;
    let (shadow_x, y) = (g.x + g.width + 16, g.y + 60);
    drag(&c, &xterm, (shadow_x - 10, g.y + 40));
    let click_through = |c: &mut Compositor| {
        let (terminal, xterm) = (
            titled(c, "cks", "Wayland Terminal"),
            titled(c, "cks", "below"),
        );
        c.run_ok(&["window", "focus", "--id", &terminal.id.to_string()]);
        c.wait_for_window(terminal.id, "the terminal focused", START_TIMEOUT, |w| {
            w.focused
        });
        c.run_ok(&["input", "move", &shadow_x.to_string(), &y.to_string()]);
        c.run_ok(&["input", "click", "left"]);
        c.wait_for_window(xterm.id, "xterm focused by the click", START_TIMEOUT, |w| {
            w.focused
        });
    };
    click_through(&mut c);

    // The region is the host's again after a restore.
    let out = checkpoint(&c, "cks");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    restore(&c, "cks");
    let _restored = Sandbox(bridge_pid(&c, "cks"));
    click_through(&mut c);
}

#[test]
fn a_native_clients_pointer_image_shows_and_comes_back_after_a_restore() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(&c, "ckp", "weston-terminal --shell=/bin/sh; sleep 3600");
    let _sandbox = Sandbox(pid);
    let g = titled(&c, "ckp", "Wayland Terminal").geometry;
    let (x, y) = (g.x + g.width / 2, g.y + g.height / 2);
    c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    // weston-terminal sets an I-beam (centred on its hotspot, unlike the compositor's arrow).
    let i_beam = |c: &mut Compositor| {
        poll(START_TIMEOUT, "weston-terminal's I-beam", || {
            let image = c.pointer_image(x, y);
            if image.reaches_left() {
                Ok(())
            } else {
                Err(format!("{image:?}"))
            }
        })
    };
    i_beam(&mut c);

    let out = checkpoint(&c, "ckp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Over the placeholder, the compositor's own arrow.
    let image = c.pointer_image(x, y);
    assert!(!image.hidden() && !image.reaches_left(), "{image:?}");
    restore(&c, "ckp");
    let _restored = Sandbox(bridge_pid(&c, "ckp"));
    titled(&c, "ckp", "Wayland Terminal");
    i_beam(&mut c);
}

#[test]
fn a_gtk_apps_typed_text_survives_a_checkpoint_and_it_takes_input_after() {
    let mut c = Compositor::start(1280, 800);
    // GTK 3 as a native Wayland client of the bridge; no accessibility bus in the sandbox.
    let pid = run_checkpointable(
        &c,
        "ckg",
        "GDK_BACKEND=wayland NO_AT_BRIDGE=1 gtk3-widget-factory; sleep 3600",
    );
    let _sandbox = Sandbox(pid);
    let g = titled(&c, "ckg", "gtk3-widget-factory").geometry;
    // The left column's top, where the focused combo box entry starts with its text selected.
    let entry = Geometry {
        x: g.x,
        y: g.y + 50,
        width: 380,
        height: 50,
    };
    // Beyond a blinking text cursor's few pixels.
    let differ =
        |a: &[[u8; 4]], b: &[[u8; 4]]| a.iter().zip(b).filter(|(a, b)| a != b).count() > 100;
    // Waits until the entry differs from `before` and stays so between two looks (typing is
    // over).
    let changed_from = |c: &mut Compositor, before: &[[u8; 4]], what: &str| {
        let mut last = before.to_vec();
        poll(START_TIMEOUT, what, || {
            let now = c.screenshot().region(entry);
            let settled = differ(&now, before) && !differ(&now, &last);
            last = now.clone();
            if settled {
                Ok(now)
            } else {
                Err("changing, or the same as before".to_string())
            }
        })
    };
    // GTK's selection highlight, in the colour of the focused entry's outline.
    let blue = |pixels: &[[u8; 4]]| {
        pixels
            .iter()
            .filter(|p| p[..3] == [0x35, 0x84, 0xe4])
            .count()
    };
    // "comboboxentry", 13 characters, selected.
    let first = poll(START_TIMEOUT, "gtk3-widget-factory drawn", || {
        let shot = c.screenshot().region(entry);
        if blue(&shot) > 2000 {
            Ok(shot)
        } else {
            Err("no selection drawn yet".to_string())
        }
    });
    c.run_ok(&["input", "type", "porthole"]);
    let typed = changed_from(&mut c, &first, "the typed text");

    let out = checkpoint(&c, "ckg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    restore(&c, "ckg");
    let _restored = Sandbox(bridge_pid(&c, "ckg"));
    let back = titled(&c, "ckg", "gtk3-widget-factory");
    assert!(back.focused && back.geometry == g, "{back:?}");
    poll(START_TIMEOUT, "the typed text back", || {
        let now = c.screenshot().region(entry);
        if differ(&now, &typed) {
            Err("not the text typed before".to_string())
        } else {
            Ok(())
        }
    });
    c.run_ok(&["input", "type", " after restore"]);
    let after = changed_from(&mut c, &typed, "text typed after the restore");
    // All of it selected is "porthole after restore": the text typed before the checkpoint is
    // still there. Its highlight is 1.44 times as large as "comboboxentry"'s here, where " after
    // restore" alone makes 0.91.
    c.run_ok(&["input", "key", "ctrl+a"]);
    let all = changed_from(&mut c, &after, "all the text selected");
    let outline = blue(&typed);
    let (before, now) = (
        blue(&first).saturating_sub(outline),
        blue(&all).saturating_sub(outline),
    );
    assert!(
        now * 5 > before * 6,
        "the whole text's highlight is {now} pixels, against {before} for \"comboboxentry\""
    );
}

#[test]
fn a_native_clients_subsurfaces_show_and_come_back_after_a_restore() {
    let mut c = Compositor::start(1280, 800);
    // weston-subsurfaces: a green window with a red, free-running subsurface at its top right
    // whose pink arc turns on every frame.
    let pid = run_checkpointable(&c, "cks", "weston-subsurfaces --no-triangle; sleep 3600");
    let _sandbox = Sandbox(pid);
    let g = titled(&c, "cks", "Wayland Sub-surface Demo").geometry;
    let red_part = Geometry {
        x: g.x + 240,
        y: g.y + 40,
        width: 80,
        height: 80,
    };
    let green_part = Geometry {
        x: g.x + 20,
        y: g.y + 150,
        width: 80,
        height: 60,
    };
    let share = |shot: &Screenshot, rect: Geometry, test: fn([u8; 4]) -> bool| {
        let pixels = shot.region(rect);
        pixels.iter().filter(|p| test(**p)).count() as f64 / pixels.len() as f64
    };
    let red = |p: [u8; 4]| p[0] > 0x80 && p[1] < 0x50 && p[2] < 0x50;
    let green = |p: [u8; 4]| p[1] > 0x80 && p[0] < 0x40 && p[2] < 0x40;
    let shows_both = |c: &mut Compositor| {
        poll(START_TIMEOUT, "the window and its red subsurface", || {
            let shot = c.screenshot();
            let (r, g) = (share(&shot, red_part, red), share(&shot, green_part, green));
            if r > 0.6 && g > 0.9 {
                Ok(())
            } else {
                Err(format!("red {r:.2}, green {g:.2}"))
            }
        });
    };
    // The subsurface gets its frame callbacks through the bridge: its arc keeps turning.
    let turns = |c: &mut Compositor| {
        let first = c.screenshot().region(red_part);
        poll(START_TIMEOUT, "the red subsurface's next frames", || {
            if c.screenshot().region(red_part) != first {
                Ok(())
            } else {
                Err("the same picture".to_string())
            }
        });
    };
    shows_both(&mut c);
    turns(&mut c);

    let out = checkpoint(&c, "cks");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The placeholder is the whole window's last frame, subsurface included (dimmed).
    let shot = c.screenshot();
    let dim_red = |p: [u8; 4]| p[0] > 0x30 && p[0] > 2 * p[1] && p[0] > 2 * p[2];
    let r = share(&shot, red_part, dim_red);
    assert!(r > 0.6, "the placeholder shows the subsurface: red {r:.2}");

    let said = restore(&c, "cks");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "cks");
    let _restored = Sandbox(pid);
    shows_both(&mut c);
    turns(&mut c);
}
