//! End-to-end tests of containers as a person uses them: `porthole container add/remove`,
//! `porthole run`, `porthole env` wired into real engines (bubblewrap, podman, systemd-nspawn),
//! and containers declared in the configuration, against the real `porthole serve --backend
//! headless` and unmodified Wayland clients from Debian.
//!
//! Podman and systemd-nspawn need root (CI runs as root; elsewhere they are run through
//! `sudo -n`). Both, and the podman configuration that lets podman run here, are installed by
//! `.ci/install-deps`; when they are missing the tests fail and say so instead of passing.
//!
//! Every wait is a bounded poll, and every process and engine container a test starts is stopped
//! when the test ends, also when it fails.
//!
//! The helpers here list containers, watch the event stream and stop what a test started; the
//! tests are grouped by what they check.

mod engines;
mod isolation;
mod lifecycle;
mod links;
mod privileges;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use porthole_ipc::ContainerInfo;

use crate::common::*;

/// The app_id weston-simple-shm sets (a label; only used to recognise the window).
const SIMPLE_SHM_APP_ID: &str = "org.freedesktop.weston.simple-shm";

/// `porthole containers --json`, parsed.
fn containers(c: &Compositor) -> Vec<ContainerInfo> {
    let text = c.run_ok(&["containers", "--json"]);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("`porthole containers --json` printed unreadable JSON ({e}): {text}")
    })
}

/// The container `name` as `porthole containers --json` lists it.
fn container(c: &Compositor, name: &str) -> ContainerInfo {
    let all = containers(c);
    all.iter()
        .find(|i| i.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("`porthole containers` does not list `{name}`: {all:?}"))
}

/// Waits until `porthole containers` shows `name` with this many clients and windows.
fn wait_for_counts(c: &Compositor, name: &str, clients: u32, windows: u32) -> ContainerInfo {
    poll(
        CLIENT_TIMEOUT,
        &format!("container `{name}` with {clients} client(s) and {windows} window(s)"),
        || {
            let info = container(c, name);
            if info.clients == clients && info.windows == windows {
                Ok(info)
            } else {
                Err(format!("{info:?}"))
            }
        },
    )
}

/// Waits until the window `id` is no longer listed.
fn wait_for_window_gone(c: &Compositor, id: u64, why: &str) {
    poll(
        CLIENT_TIMEOUT,
        &format!("window {id} to go away {why}"),
        || {
            let windows = c.windows();
            if windows.iter().any(|w| w.id == id) {
                Err(format!("{windows:?}"))
            } else {
                Ok(())
            }
        },
    );
}

/// Whether this test process runs as root.
fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Asks a child to stop with SIGTERM, then kills it if it is still there after `grace`.
fn terminate(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + grace;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Prints a command's output for a failure message.
fn shown(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fails (never skips) when an engine is missing: CI installs it.
fn require(program: &str, package: &str) {
    assert!(
        on_path(program),
        "`{program}` is not installed: .ci/install-deps installs it (Debian package {package}); \
         CI runs that script before the tests, so run it here too"
    );
    if !is_root() {
        let ok = Command::new("sudo")
            .args(["-n", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "`{program}` needs root here: run the tests as root (as CI does) or allow \
             password-less sudo"
        );
    }
}
