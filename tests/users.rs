//! Porthole as an ordinary user: the control socket and runtime directory belong to the user who
//! runs the compositor, and another user cannot drive it.
//!
//! Needs root to switch users (CI runs as root; `.ci/test` creates the users `porthole-a` and
//! `porthole-b`). Elsewhere the test says why it did not run.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{machine, session_env, PORTHOLE as BIN};

fn uid_of(user: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", user]).output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// `ARGS` run as `user` in the session whose runtime directory is `runtime`, with the home there
/// (runuser sets HOME to the user's own, which these system users do not have).
fn as_user(user: &str, runtime: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("runuser");
    session_env(&mut cmd, runtime);
    cmd.args(["-u", user, "--", "env"])
        .arg(format!("XDG_RUNTIME_DIR={}", runtime.display()))
        .arg(format!("HOME={}", runtime.join("home").display()))
        .args(args);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("command runs")
}

#[test]
fn an_ordinary_user_runs_porthole_and_another_user_cannot_drive_it() {
    let is_root = unsafe_free_getuid() == 0;
    let (Some(uid_a), Some(_)) = (uid_of("porthole-a"), uid_of("porthole-b")) else {
        assert!(
            !is_root,
            "running as root without the test users: run .ci/test, which creates them"
        );
        eprintln!(
            "skipped: needs root and the users porthole-a and porthole-b (.ci/test creates them)"
        );
        return;
    };
    let _machine = machine::share();
    assert!(is_root, "switching users needs root");

    let runtime = tempfile::Builder::new()
        .prefix("porthole-user")
        .tempdir()
        .unwrap();
    let dir = runtime.path();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir(dir.join("home")).unwrap();
    let status = Command::new("chown")
        .arg(format!("{uid_a}"))
        .arg(dir)
        .arg(dir.join("home"))
        .status()
        .unwrap();
    assert!(status.success());

    let mut server = KillOnDrop(
        as_user("porthole-a", dir, &[BIN, "serve", "--outputs", "640x480"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let server = &mut server.0;
    let control = dir.join("porthole/control.sock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !control.exists() {
        assert!(
            Instant::now() < deadline,
            "the compositor never created {}",
            control.display()
        );
        assert!(
            server.try_wait().unwrap().is_none(),
            "the compositor exited"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let meta = std::fs::metadata(&control).unwrap();
    assert_eq!(meta.uid(), uid_a, "the control socket belongs to the user");
    assert_eq!(meta.mode() & 0o777, 0o600);
    let parent = std::fs::metadata(dir.join("porthole")).unwrap();
    assert_eq!(parent.uid(), uid_a);
    assert_eq!(parent.mode() & 0o777, 0o700);
    let wayland = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name().to_string_lossy().starts_with("wayland-")
                && !e.file_name().to_string_lossy().ends_with(".lock")
        })
        .expect("a wayland socket in the user's runtime dir");
    assert_eq!(wayland.metadata().unwrap().uid(), uid_a);

    // The user's own CLI and a real client work.
    let out = run(as_user("porthole-a", dir, &[BIN, "outputs"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("HEADLESS-1: 640x480"),
        "{out:?}"
    );
    let display = wayland.file_name().to_string_lossy().into_owned();
    let out = run(as_user(
        "porthole-a",
        dir,
        &[&format!("WAYLAND_DISPLAY={display}"), "wayland-info"],
    ));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("xdg_wm_base"),
        "{out:?}"
    );

    // X11 works for an ordinary user too: `porthole run` starts bwrap in a user namespace, and
    // the bridge's Xwayland inside it, serving the X socket and cookie the user's sandbox owns.
    let out = run(as_user(
        "porthole-a",
        dir,
        &[
            BIN,
            "run",
            "x",
            "--",
            "sh",
            "-c",
            "xdpyinfo | grep -c MIT-SHM; stat -c '%U %a' /tmp/.X11-unix/X0 \"$XAUTHORITY\"",
        ],
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "X11 in an ordinary user's sandbox failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"1"),
        "xdpyinfo lists MIT-SHM: {stdout}"
    );
    assert_eq!(
        lines.get(2),
        Some(&"porthole-a 600"),
        "the cookie is the user's own, mode 0600: {stdout}"
    );

    // Another user is refused by the socket's permissions, with a message that says where.
    let sock = format!("PORTHOLE_SOCKET={}", control.display());
    let out = run(as_user("porthole-b", dir, &[&sock, BIN, "windows"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the compositor"), "{err}");
    assert!(err.to_lowercase().contains("permission denied"), "{err}");

    let _ = run(as_user("porthole-a", dir, &[BIN, "quit"]));
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("the compositor did not quit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!control.exists(), "the control socket is removed on exit");
}

/// Kills the compositor if the test fails half-way.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            // runuser's child: kill the whole process group it leads.
            let _ = Command::new("pkill")
                .arg("-P")
                .arg(self.0.id().to_string())
                .status();
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The effective uid, read from /proc so the test needs no libc binding.
fn unsafe_free_getuid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// Runs `wayland-info` as `uid` on a container directory bind-mounted the way a root-run
/// container engine does it: root mounts it, then the process drops to the container's user.
fn wayland_info_as(uid: u32, dir: &Path) -> Output {
    let mut cmd = Command::new("bwrap");
    cmd.args(["--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib"])
        .args([
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--symlink",
            "usr/bin",
            "/bin",
        ])
        .args([
            "--ro-bind",
            "/etc",
            "/etc",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/run",
        ])
        .arg("--bind")
        .arg(dir)
        .arg("/run/porthole")
        .args([
            "setpriv",
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .args([
            "env",
            "XDG_RUNTIME_DIR=/tmp",
            "WAYLAND_DISPLAY=/run/porthole/wayland-0",
        ])
        .arg("wayland-info");
    run(cmd)
}

#[test]
fn a_container_socket_given_to_a_uid_serves_that_user_only() {
    let is_root = unsafe_free_getuid() == 0;
    let (Some(uid_a), Some(uid_b)) = (uid_of("porthole-a"), uid_of("porthole-b")) else {
        assert!(
            !is_root,
            "running as root without the test users: run .ci/test, which creates them"
        );
        eprintln!(
            "skipped: needs root and the users porthole-a and porthole-b (.ci/test creates them)"
        );
        return;
    };
    let _machine = machine::share();
    let runtime = tempfile::Builder::new()
        .prefix("porthole-uid")
        .tempdir()
        .unwrap();
    let dir = runtime.path();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = dir.join("porthole.toml");
    std::fs::write(&config, format!("[container.w]\nuid = {uid_a}\n")).unwrap();
    let mut serve = Command::new(BIN);
    session_env(&mut serve, dir);
    let mut server = KillOnDrop(
        serve
            .args(["serve", "--outputs", "640x480", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let container = dir.join("porthole/w");
    let socket = container.join("wayland-0");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "no socket at {}",
            socket.display()
        );
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "the compositor exited"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for path in [&container, &socket] {
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!(
            meta.uid(),
            uid_a,
            "{} belongs to the container's uid",
            path.display()
        );
    }
    assert_eq!(std::fs::metadata(&container).unwrap().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&socket).unwrap().mode() & 0o777, 0o600);

    let out = wayland_info_as(uid_a, &container);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("xdg_wm_base"),
        "the container's user is served: {out:?}"
    );
    let out = wayland_info_as(uid_b, &container);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("xdg_wm_base"),
        "another user must not be served: {out:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("permission denied")
            || String::from_utf8_lossy(&out.stderr).contains("failed to create display"),
        "{out:?}"
    );
}

/// `ARGS` run as `user` (its uid and group), exec'd in place by setpriv so that the child is the
/// program itself: signals sent to it reach it.
fn exec_as_user(user: &str, runtime: &Path, args: &[&str]) -> Command {
    let uid = uid_of(user).expect("the user");
    let out = Command::new("id").args(["-g", user]).output().unwrap();
    let gid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut cmd = Command::new("setpriv");
    session_env(&mut cmd, runtime);
    cmd.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--",
    ])
    .args(args);
    cmd
}

/// The user's windows, as `porthole windows --json` lists them.
fn windows_of_user(dir: &Path) -> Vec<porthole_ipc::WindowInfo> {
    let out = run(as_user("porthole-a", dir, &[BIN, "windows", "--json"]));
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// The pids of `porthole-a`'s processes whose command line is `command`.
fn pids_of(command: &str) -> Vec<String> {
    let out = run({
        let mut cmd = Command::new("pgrep");
        cmd.args(["-u", "porthole-a", "-f", &format!("^{command}$")]);
        cmd
    });
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn an_ordinary_users_bridged_apps_outlive_the_compositor_and_end_with_ctrl_c() {
    use crate::common::poll;
    let is_root = unsafe_free_getuid() == 0;
    let Some(uid_a) = uid_of("porthole-a") else {
        assert!(
            !is_root,
            "running as root without the test users: run .ci/test, which creates them"
        );
        eprintln!("skipped: needs root and the user porthole-a (.ci/test creates it)");
        return;
    };
    let _machine = machine::share();
    let runtime = tempfile::Builder::new()
        .prefix("porthole-bridged")
        .tempdir()
        .unwrap();
    let dir = runtime.path();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for sub in ["home", "config"] {
        std::fs::create_dir(dir.join(sub)).unwrap();
    }
    let status = Command::new("chown")
        .args(["-R", &uid_a.to_string()])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let serve = || {
        let server = exec_as_user(
            "porthole-a",
            dir,
            &[
                BIN,
                "serve",
                "--backend",
                "headless",
                "--outputs",
                "1280x720",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        KillOnDrop(server)
    };
    let mut server = serve();
    let control = dir.join("porthole/control.sock");
    poll(Duration::from_secs(10), "the control socket", || {
        control.exists().then_some(()).ok_or_else(String::new)
    });

    // As from a terminal on the host socket: `porthole run --bridged` stays in the foreground.
    let mut launched = KillOnDrop(
        exec_as_user(
            "porthole-a",
            dir,
            &[BIN, "run", "--bridged", "b", "--", "weston-simple-shm"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let shown = |reconnected: bool| {
        poll(
            Duration::from_secs(20),
            "weston-simple-shm's window",
            || {
                windows_of_user(dir)
                    .into_iter()
                    .find(|w| w.title == "simple-shm" && !w.reconnecting)
                    .ok_or_else(|| {
                        format!("{:?} (after a crash: {reconnected})", windows_of_user(dir))
                    })
            },
        )
    };
    let before = shown(false);
    let app = pids_of("weston-simple-shm");
    assert_eq!(app.len(), 1, "{app:?}");

    // The compositor crashes and comes back: the same app's window is back in its place.
    let _ = server.0.kill();
    let _ = server.0.wait();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        pids_of("weston-simple-shm"),
        app,
        "the app outlived the compositor"
    );
    server = serve();
    let after = shown(true);
    assert_eq!(after.geometry, before.geometry);
    assert_eq!(pids_of("weston-simple-shm"), app, "the same app came back");
    assert!(
        launched.0.try_wait().unwrap().is_none(),
        "porthole run still waits for its command"
    );

    // Ctrl+C on `porthole run` ends the sandbox and its apps.
    let _ = Command::new("kill")
        .args(["-INT", &launched.0.id().to_string()])
        .status();
    let status = poll(Duration::from_secs(10), "porthole run to exit", || {
        launched.0.try_wait().unwrap().ok_or_else(String::new)
    });
    assert!(!status.success(), "{status:?}");
    poll(Duration::from_secs(5), "the app to end", || {
        let left = pids_of("weston-simple-shm");
        left.is_empty()
            .then_some(())
            .ok_or_else(|| format!("{left:?}"))
    });
    poll(Duration::from_secs(5), "its window to go", || {
        let windows = windows_of_user(dir);
        windows
            .is_empty()
            .then_some(())
            .ok_or_else(|| format!("{windows:?}"))
    });
    drop(server);
}
