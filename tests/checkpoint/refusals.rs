//! Checkpoints that are refused, and what the refusal says: a dump CRIU cannot make leaves the
//! container running with its windows live; a container not started checkpointable (direct or
//! bridged), an ordinary user, and GPU clients (unless `--stop-gpu-clients`) are told what to do instead.

use std::path::Path;

use super::*;
use crate::common::*;

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
    // The container's user, not root, connects to it.
    std::fs::set_permissions(
        dir.join("outside.sock"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let holder = r#"python3 -c 'import socket, time
s = socket.socket(socket.AF_UNIX)
s.connect("/run/porthole-host/outside.sock")
time.sleep(3600)' &"#;
    let pid = start_existing(&mut c, "ckf", holder);
    let _sandbox = Sandbox::new(pid);
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
    c.spawn_client(
        PORTHOLE,
        &["run", "--direct", "plain", "--", "weston-simple-shm"],
    );
    one_window(&c, "plain");
    let out = checkpoint(&c, "plain");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("was not started checkpointable")
            && stderr.contains("porthole run --checkpointable plain"),
        "{stderr}"
    );

    // Nor can one whose bridge was started to outlive the compositor, not to be dumped: it is
    // refused before CRIU tries, and nothing is lost.
    c.spawn_client(
        PORTHOLE,
        &["run", "--bridged", "lasting", "--", "weston-simple-shm"],
    );
    one_window(&c, "lasting");
    let out = checkpoint(&c, "lasting");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("started with `porthole run` bridged")
            && stderr.contains("porthole run --checkpointable lasting"),
        "{stderr}"
    );
    assert_eq!(container(&c, "lasting").map(|i| i.windows), Some(1));
}

/// Waits until container `name` has its one window.
fn one_window(c: &Compositor, name: &str) {
    poll(START_TIMEOUT, &format!("{name}'s window"), || {
        let n = container(c, name).map_or(0, |i| i.windows);
        if n == 1 {
            Ok(())
        } else {
            Err(n.to_string())
        }
    });
}

#[test]
fn gpu_clients_block_the_checkpoint_unless_stopped_and_start_again_after_the_restore() {
    // This machine has no GPU. A process holding /dev/dri/renderD128 open stands in for an EGL
    // client: what Porthole looks for is a /dev/dri file open or mapped in the container, which
    // is what CRIU cannot dump. Here the file is a plain one made inside the sandbox, so CRIU
    // could dump it: only Porthole's check refuses.
    // The sandbox's user cannot write to its /dev: the test puts the file there from outside.
    let gpu = r#"until [ -e /dev/dri/renderD128 ]; do sleep 0.1; done
sh -c 'exec 3</dev/dri/renderD128; exec weston-simple-damage' &"#;
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckg", gpu);
    let _sandbox = Sandbox::new(pid);
    let dri = format!("/proc/{pid}/root/dev/dri");
    std::fs::create_dir_all(&dri).expect("a /dev/dri in the sandbox");
    std::fs::write(format!("{dri}/renderD128"), b"").expect("a stand-in render node");
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
    let _restored = Sandbox::new(pid);
    windows_of(&c, "ckg", false);
    poll(START_TIMEOUT, "the GPU client started again", || {
        damage(&c).ok_or_else(|| format!("{:?}", c.windows()))
    });
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
