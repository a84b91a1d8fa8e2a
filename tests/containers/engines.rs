//! Real container engines wired with `porthole env`: podman (a window, and an X11 display from
//! `porthole x11` with MIT-SHM in the container's IPC namespace), systemd-nspawn and a hand-written
//! bwrap; docker's flags, which must be podman's; and the printed flags split as a shell splits
//! them.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use porthole_ipc::{Geometry, WindowInfo};

use super::*;
use crate::common::*;

/// How long a container engine gets to start its container and the client in it to map a window.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(60);

/// The podman image the podman test runs: only directories and the /bin, /lib… symlinks; the
/// host's /usr is bind-mounted read-only into it. Bump the tag when its contents change.
const PODMAN_IMAGE: &str = "localhost/porthole-test-base:1";

/// Splits a line into words the way a POSIX shell does for plain words, '…', "…" and \x (what
/// `porthole env` prints). Expansions are not supported: an unquoted `$` or backquote panics.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let unterminated = |what: &str| unterminated(what, line);
    while let Some(ch) = chars.next() {
        match ch {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => unterminated("'"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => unterminated("\""),
                        },
                        Some(c @ ('$' | '`')) => {
                            panic!("cannot split {line:?}: it expands {c} inside \"…\"")
                        }
                        Some(c) => word.push(c),
                        None => unterminated("\""),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => unterminated("\\"),
                }
            }
            '$' | '`' => panic!("cannot split {line:?}: it expands {ch}"),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn unterminated(what: &str, line: &str) -> ! {
    panic!("unterminated {what} in {line:?}")
}

/// `porthole env NAME --for ENGINE`, split into arguments as a shell would.
fn env_words(c: &Compositor, name: &str, engine: &str) -> Vec<String> {
    let text = c.run_ok(&["env", name, "--for", engine]);
    shell_words(text.trim_end())
}

/// `program`, run as root: directly when we are root, else through `sudo -n`.
fn root_cmd(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut cmd = Command::new("sudo");
        cmd.args(["-n", program]);
        cmd
    }
}

/// Runs a command with a time limit without ever panicking (for clean-up in `Drop`).
fn run_quietly(mut cmd: Command, timeout: Duration) -> Option<ExitStatus> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().ok()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A sandbox or engine process started by a test (bwrap, podman run, systemd-nspawn), with its
/// output in a log. Dropping it runs its clean-up command (e.g. `podman rm -f`), then stops the
/// process; when the test is failing, the log is printed.
struct Sandbox {
    what: String,
    child: Child,
    log: PathBuf,
    cleanup: Option<Command>,
}

impl Sandbox {
    fn spawn(what: &str, mut cmd: Command, log: PathBuf, cleanup: Option<Command>) -> Self {
        let file = File::create(&log).expect("cannot create a sandbox log");
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let shown = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({shown}): {e}"));
        Self {
            what: format!("{what}: {shown}"),
            child,
            log,
            cleanup,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the sandbox's output if it has already exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited with {status}; its output:\n{}",
                self.what,
                self.output()
            );
        }
    }

    /// Waits until a window of `container` is listed, failing early if the sandbox exits.
    fn wait_for_window(&mut self, c: &Compositor, container: &str) -> WindowInfo {
        poll(
            ENGINE_TIMEOUT,
            &format!("a window of container `{container}` from {}", self.what),
            || {
                self.assert_running();
                let windows = c.windows();
                windows
                    .iter()
                    .find(|w| w.container == container)
                    .cloned()
                    .ok_or_else(|| format!("{windows:?}"))
            },
        )
    }

    /// Stops it now: the clean-up command, then SIGTERM, then SIGKILL.
    fn stop(&mut self) {
        if let Some(cmd) = self.cleanup.take() {
            run_quietly(cmd, Duration::from_secs(30));
        }
        terminate(&mut self.child, Duration::from_secs(10));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("----- {} -----\n{}", self.what, self.output());
        }
    }
}

/// A minimal root file system for an engine: empty directories and the merged-/usr symlinks; the
/// host's /usr is bind-mounted over its /usr read-only.
fn minimal_rootfs(root: &Path) {
    for dir in ["etc", "tmp", "run", "proc", "dev", "sys", "usr", "var/tmp"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    for (link, target) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
    }
}

/// Makes sure [`PODMAN_IMAGE`] exists, importing it from a tiny tar when it does not.
fn podman_base_image() -> &'static str {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut exists = root_cmd("podman");
    exists.args(["image", "exists", PODMAN_IMAGE]);
    if run_bounded(exists, ENGINE_TIMEOUT).status.success() {
        return PODMAN_IMAGE;
    }
    let work = tempfile::Builder::new()
        .prefix("porthole-e2e-image-")
        .tempdir()
        .unwrap();
    let root = work.path().join("rootfs");
    minimal_rootfs(&root);
    let tar_path = work.path().join("rootfs.tar");
    let mut tar = Command::new("tar");
    tar.args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&tar_path)
        .arg(".");
    let out = run_bounded(tar, CLI_TIMEOUT);
    assert!(out.status.success(), "tar failed: {}", shown(&out));
    let mut import = root_cmd("podman");
    import.arg("import").arg(&tar_path).arg(PODMAN_IMAGE);
    let out = run_bounded(import, ENGINE_TIMEOUT);
    assert!(
        out.status.success(),
        "`podman import` of the test image failed (is /etc/containers/containers.conf.d/\
         50-porthole-tests.conf from .ci/install-deps there?): {}",
        shown(&out)
    );
    PODMAN_IMAGE
}

#[test]
fn podman_container_wired_with_porthole_env_maps_a_window() {
    require("podman", "podman (with runc and conmon)");
    let c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "pod"]);
    let image = podman_base_image();

    let engine_name = format!("porthole-e2e-{}-pod", std::process::id());
    let mut run = root_cmd("podman");
    run.args(["run", "--rm", "--name", &engine_name, "--network=none"])
        .args(env_words(&c, "pod", "podman"))
        .args(["-v", "/usr:/usr:ro", image, "/usr/bin/weston-simple-shm"]);
    let mut rm = root_cmd("podman");
    rm.args(["rm", "--force", "--time", "0", &engine_name]);
    let mut sandbox = Sandbox::spawn("podman run", run, c.dir().join("podman.log"), Some(rm));

    let w = sandbox.wait_for_window(&c, "pod");
    assert_eq!(w.app_id, SIMPLE_SHM_APP_ID, "{w:?}");
    let others: Vec<_> = c
        .windows()
        .into_iter()
        .filter(|w| w.container != "pod")
        .collect();
    assert!(others.is_empty(), "windows outside `pod`: {others:?}");
    wait_for_counts(&c, "pod", 1, 1);

    // Stopping the engine's container takes its window away.
    sandbox.stop();
    wait_for_window_gone(&c, w.id, "after `podman rm -f`");
    wait_for_counts(&c, "pod", 0, 0);
}

#[test]
fn podman_container_gets_its_x11_display_from_porthole_x11_with_working_mit_shm() {
    require("podman", "podman (with runc and conmon)");
    let mut c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "xpod"]);
    let dir = PathBuf::from(container(&c, "xpod").socket)
        .parent()
        .unwrap()
        .to_path_buf();
    let probe = Path::new(PORTHOLE).with_file_name("porthole-x11-probe");
    std::fs::copy(&probe, dir.join("porthole-x11-probe")).unwrap_or_else(|e| {
        panic!(
            "copying {} (build the workspace first): {e}",
            probe.display()
        )
    });
    let image = podman_base_image();

    let engine_name = format!("porthole-e2e-{}-xpod", std::process::id());
    let mut run = root_cmd("podman");
    run.args(["run", "--rm", "--name", &engine_name, "--network=none"])
        .args(env_words(&c, "xpod", "podman"))
        .args(["-v", "/usr:/usr:ro", image, "/usr/bin/sleep", "600"]);
    let mut rm = root_cmd("podman");
    rm.args(["rm", "--force", "--time", "0", &engine_name]);
    let mut sandbox = Sandbox::spawn("podman run", run, c.dir().join("podman.log"), Some(rm));
    let pid = podman_pid(&mut sandbox, &engine_name);
    c.spawn_client(PORTHOLE, &["x11", "xpod", "--pid", &pid.to_string()]);

    // MIT-SHM: the probe attaches a segment of the container's IPC namespace, which only an X
    // server in that namespace can read.
    let exec = |options: &[&str], command: &[&str]| podman_exec(&engine_name, options, command);
    let out = poll(ENGINE_TIMEOUT, "the probe's MIT-SHM round trip", || {
        let out = exec(&[], &["/run/porthole/porthole-x11-probe", "shm"]);
        if out.status.success() {
            Ok(out)
        } else {
            Err(shown(&out))
        }
    });
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(report.starts_with("shm ok 64x48"), "{}", shown(&out));
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    assert!(
        !report.contains(&*host_ipc.to_string_lossy()),
        "the podman container shares the host's IPC namespace: {report}"
    );

    // An X11 window of the podman container appears attributed to it.
    let out = exec(&["-d"], &["/usr/bin/xterm", "-T", "xterm-in-podman"]);
    assert!(out.status.success(), "{}", shown(&out));
    let w = poll(ENGINE_TIMEOUT, "xterm of the podman container", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.title == "xterm-in-podman")
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    assert_eq!(w.container, "xpod", "{w:?}");
    sandbox.stop();
}

/// The host pid of a podman container's first process, once it runs.
fn podman_pid(sandbox: &mut Sandbox, engine_name: &str) -> u32 {
    poll(ENGINE_TIMEOUT, "the podman container's pid", || {
        sandbox.assert_running();
        let mut inspect = root_cmd("podman");
        inspect.args(["inspect", "-f", "{{.State.Pid}}", engine_name]);
        let out = run_bounded(inspect, CLI_TIMEOUT);
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        match pid.parse::<u32>() {
            Ok(pid) if pid > 0 => Ok(pid),
            _ => Err(shown(&out)),
        }
    })
}

/// `podman exec OPTIONS ENGINE_NAME COMMAND`.
fn podman_exec(engine_name: &str, options: &[&str], command: &[&str]) -> Output {
    let mut cmd = root_cmd("podman");
    cmd.arg("exec").args(options).arg(engine_name).args(command);
    run_bounded(cmd, ENGINE_TIMEOUT)
}

/// The host pids of the processes in the pid namespace of `pid` whose command is `comm`.
fn pids_in_namespace_of(pid: u32, comm: &str) -> Vec<u32> {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let theirs = ns(&pid.to_string());
    let mut found: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            name.trim() == comm && ns(&p.to_string()) == theirs
        })
        .collect();
    found.sort_unstable();
    found
}

#[test]
fn a_podman_containers_apps_behind_porthole_bridge_outlive_the_compositor() {
    require("podman", "podman (with runc and conmon)");
    let mut c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "bpod"]);
    let image = podman_base_image();
    let engine_name = format!("porthole-e2e-{}-bpod", std::process::id());
    let flags = c.run_ok(&["env", "bpod", "--for", "podman", "--bridged"]);
    let mut run = root_cmd("podman");
    run.args(["run", "--rm", "--name", &engine_name, "--network=none"])
        .args(shell_words(flags.trim_end()))
        .args(["-v", "/usr:/usr:ro", image, "/usr/bin/sleep", "600"]);
    let mut rm = root_cmd("podman");
    rm.args(["rm", "--force", "--time", "0", &engine_name]);
    let mut sandbox = Sandbox::spawn("podman run", run, c.dir().join("podman.log"), Some(rm));
    let pid = podman_pid(&mut sandbox, &engine_name);
    c.spawn_client(PORTHOLE, &["bridge", "bpod", "--pid", &pid.to_string()]);
    poll(
        ENGINE_TIMEOUT,
        "the bridge's socket in the container",
        || {
            let out = podman_exec(
                &engine_name,
                &[],
                &["/usr/bin/test", "-S", "/run/porthole/bridge-0"],
            );
            out.status
                .success()
                .then_some(())
                .ok_or_else(|| shown(&out))
        },
    );
    for command in [
        &["/usr/bin/weston-simple-shm"][..],
        &["/usr/bin/xterm", "-T", "xterm-behind-bridge"],
    ] {
        let out = podman_exec(&engine_name, &["-d"], command);
        assert!(out.status.success(), "{}", shown(&out));
    }
    let both = |c: &Compositor| {
        poll(ENGINE_TIMEOUT, "both windows of `bpod`", || {
            let mut mine: Vec<WindowInfo> = c
                .windows()
                .into_iter()
                .filter(|w| w.container == "bpod" && !w.reconnecting)
                .collect();
            mine.sort_by(|a, b| a.title.cmp(&b.title));
            let titles: Vec<&str> = mine.iter().map(|w| w.title.as_str()).collect();
            (titles == ["simple-shm", "xterm-behind-bridge"])
                .then_some(mine.clone())
                .ok_or_else(|| format!("{:?}", c.windows()))
        })
    };
    let before = both(&c);
    let apps = |pid| {
        let mut all = pids_in_namespace_of(pid, "weston-simple-s");
        all.extend(pids_in_namespace_of(pid, "xterm"));
        all
    };
    let running = apps(pid);
    assert_eq!(running.len(), 2, "{running:?}");

    // The compositor keeps a record of where they are (within a quarter second of a change).
    let record = c.dir().join("porthole/live/bpod.json");
    let places = |ws: &[WindowInfo]| ws.iter().map(|w| w.geometry).collect::<Vec<_>>();
    let mut wanted = places(&before);
    wanted.sort_by_key(|g| (g.x, g.y, g.width, g.height));
    poll(Duration::from_secs(5), "the live record of `bpod`", || {
        let text = std::fs::read(&record).map_err(|e| e.to_string())?;
        let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        let mut recorded: Vec<Geometry> = value["windows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| serde_json::from_value(w["geometry"].clone()).ok())
            .collect();
        recorded.sort_by_key(|g| (g.x, g.y, g.width, g.height));
        (recorded == wanted)
            .then_some(())
            .ok_or_else(|| format!("{recorded:?}"))
    });

    // The compositor crashes and comes back: the same apps' windows are back in their places.
    c.crash_and_restart();
    let after = both(&c);
    assert_eq!(places(&after), places(&before));
    assert_eq!(apps(pid), running, "the same apps, not new ones");

    // Such a container's bridge is on the host, not a sandbox CRIU could dump.
    let out = c.run(&["checkpoint", "bpod"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("porthole run --checkpointable"),
        "{stderr}"
    );
    sandbox.stop();
}

#[test]
fn bwrap_flags_from_porthole_env_work_for_a_hand_written_bwrap() {
    let c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "bw"]);

    let mut cmd = Command::new("bwrap");
    cmd.args([
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ])
    .args(env_words(&c, "bw", "bwrap"))
    .args(["--", "/usr/bin/weston-simple-shm"]);
    // Started with a host client's environment: the printed flags must override it.
    cmd.env("XDG_RUNTIME_DIR", c.dir())
        .env("WAYLAND_DISPLAY", c.wayland_display())
        .current_dir(c.dir());
    let mut sandbox = Sandbox::spawn("bwrap", cmd, c.dir().join("bwrap.log"), None);

    let w = sandbox.wait_for_window(&c, "bw");
    assert_eq!(w.app_id, SIMPLE_SHM_APP_ID, "{w:?}");
    let all = c.windows();
    assert_eq!(all.len(), 1, "one window, in `bw`: {all:?}");
    wait_for_counts(&c, "bw", 1, 1);

    sandbox.stop();
    wait_for_window_gone(&c, w.id, "after bwrap was stopped");
    wait_for_counts(&c, "bw", 0, 0);
}

#[test]
fn docker_flags_match_podman_flags() {
    // Docker's engine (dockerd) cannot run in this environment, so no docker container is
    // started. Docker's `run` takes `--volume SRC:DST` and `--env K=V` with the same meaning as
    // podman's, which the podman test above exercises for real: the docker flags must be exactly
    // the podman flags.
    let c = Compositor::start(320, 240);
    c.run_ok(&["container", "add", "dk"]);
    let podman = c.run_ok(&["env", "dk", "--for", "podman"]);
    let docker = c.run_ok(&["env", "dk", "--for", "docker"]);
    assert_eq!(docker, podman);
    let dir = c.dir().join("porthole/dk");
    assert_eq!(
        shell_words(docker.trim_end()),
        [
            "--volume".to_owned(),
            format!("{}:/run/porthole", dir.display()),
            "--env".to_owned(),
            "XDG_RUNTIME_DIR=/run/porthole".to_owned(),
            "--env".to_owned(),
            "WAYLAND_DISPLAY=wayland-0".to_owned(),
            "--volume".to_owned(),
            format!("{}/X11-unix:/tmp/.X11-unix", dir.display()),
            "--env".to_owned(),
            "DISPLAY=:0".to_owned(),
            "--env".to_owned(),
            "XAUTHORITY=/run/porthole/Xauthority".to_owned(),
        ]
    );
}

#[test]
fn systemd_nspawn_container_wired_with_porthole_env_maps_a_window() {
    require("systemd-nspawn", "systemd-container");
    let c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "ns"]);
    let work = tempfile::Builder::new()
        .prefix("porthole-e2e-nspawn-")
        .tempdir()
        .unwrap();
    let root = work.path().join("root");
    minimal_rootfs(&root);

    // --register=no --keep-unit: no machined and no transient scope, so no system bus is
    // needed (this environment has none; without them nspawn fails "Failed to open system
    // bus"). --as-pid2: a stub init is PID 1, so the client gets ordinary signal handling.
    let mut cmd = root_cmd("systemd-nspawn");
    cmd.args([
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--machine=porthole-e2e",
        "--bind-ro=/usr",
        "-D",
    ])
    .arg(&root)
    .args(env_words(&c, "ns", "nspawn"))
    .args(["--as-pid2", "/usr/bin/weston-simple-shm"]);
    let mut sandbox = Sandbox::spawn("systemd-nspawn", cmd, c.dir().join("nspawn.log"), None);

    let w = sandbox.wait_for_window(&c, "ns");
    assert_eq!(w.app_id, SIMPLE_SHM_APP_ID, "{w:?}");
    let all = c.windows();
    assert_eq!(all.len(), 1, "one window, in `ns`: {all:?}");
    wait_for_counts(&c, "ns", 1, 1);

    sandbox.stop();
    wait_for_window_gone(&c, w.id, "after systemd-nspawn was stopped");
    wait_for_counts(&c, "ns", 0, 0);
}

#[test]
fn env_output_is_split_into_words_as_a_shell_splits_it() {
    for line in [
        "--volume /tmp/x/porthole/a:/run/porthole --env XDG_RUNTIME_DIR=/run/porthole",
        r"--bind '/tmp/a b/porthole/x' /run/porthole --setenv K 'it'\''s'",
        r#"--additional-flags '--env A=1 --env B=2' "q\"d" back\ slash"#,
        "  leading   and trailing  ",
    ] {
        let out = Command::new("sh")
            .args(["-c", &format!("printf '%s\\0' {line}")])
            .output()
            .unwrap();
        let expected: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_owned)
            .collect();
        assert_eq!(shell_words(line), expected, "{line}");
    }
}
