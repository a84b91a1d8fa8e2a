//! What Porthole running as root does in a directory the container's user owns: it never
//! writes through a link planted there.
//!
//! These tests check what root does: they run as root (as CI does), and fail otherwise.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::*;
use crate::common::*;

fn require_root() {
    assert!(
        is_root(),
        "these tests check what Porthole does as root: run them as root, as CI does"
    );
}

/// `command` run as `uid` (no groups), from the directory `dir`, which that user may not be
/// able to reach by its path.
fn as_uid_in(uid: u32, dir: &Path, command: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("setpriv");
    cmd.current_dir(dir)
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
        ])
        .args(command);
    run_bounded(cmd, CLI_TIMEOUT)
}

/// A root-owned file with known contents, which a planted link points to.
struct Secret {
    path: PathBuf,
    contents: &'static str,
}

impl Secret {
    fn new(path: PathBuf, contents: &'static str) -> Self {
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self { path, contents }
    }

    fn assert_untouched(&self, what: &str) {
        let meta = std::fs::metadata(&self.path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&self.path).unwrap(),
            self.contents,
            "{what}: the file a planted link points to was written"
        );
        assert_eq!(
            (meta.uid(), meta.mode() & 0o7777),
            (0, 0o600),
            "{what}: the file a planted link points to changed hands"
        );
    }
}

#[test]
fn links_planted_in_a_container_directory_are_replaced_not_written_through_by_porthole_x11() {
    require_root();
    const UID: u32 = 4242;
    let mut c = Compositor::start_with_config(320, 240, &format!("[container.w]\nuid = {UID}\n"));
    let dir = PathBuf::from(container(&c, "w").socket)
        .parent()
        .unwrap()
        .to_path_buf();
    assert_eq!(std::fs::metadata(&dir).unwrap().uid(), UID);

    // The container's user plants links to root's files where `porthole x11` writes.
    let cookie_target = Secret::new(c.dir().join("root-secret"), "root's own\n");
    let log_target = Secret::new(c.dir().join("root-log"), "root's log\n");
    for (name, target) in [
        ("Xauthority", &cookie_target),
        ("Xwayland.log", &log_target),
    ] {
        let target = target.path.to_str().unwrap();
        let out = as_uid_in(UID, &dir, &["ln", "-s", target, name]);
        assert!(out.status.success(), "planting {name}: {}", shown(&out));
    }

    // Served from the host by root, as for a container engine.
    c.spawn_client(
        PORTHOLE,
        &["x11", "w", "--pid", &std::process::id().to_string()],
    );
    let socket = dir.join("X11-unix/X0");
    poll(CLIENT_TIMEOUT, "the X socket", || {
        std::fs::symlink_metadata(&socket)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });

    // A client of the container's user, seeing the directory as an engine mounts it, is served
    // with the cookie written in place of the link (its first connection starts Xwayland, whose
    // log goes where the other link was).
    let out = poll(CLIENT_TIMEOUT, "xdpyinfo as the container's user", || {
        let mut cmd = Command::new("bwrap");
        cmd.args(["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"])
            .args([
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/lib",
                "/lib",
            ])
            .args(["--symlink", "usr/lib64", "/lib64", "--proc", "/proc"])
            .args(["--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"])
            .arg("--bind")
            .arg(&dir)
            .arg("/run/porthole")
            .arg("--bind")
            .arg(dir.join("X11-unix"))
            .arg("/tmp/.X11-unix")
            .args([
                "setpriv",
                &format!("--reuid={UID}"),
                &format!("--regid={UID}"),
            ])
            .args(["--clear-groups", "env", "DISPLAY=:0"])
            .args(["XAUTHORITY=/run/porthole/Xauthority", "xdpyinfo"])
            .stdin(Stdio::null());
        let out = run_bounded(cmd, CLI_TIMEOUT);
        if out.status.success() {
            Ok(out)
        } else {
            Err(shown(&out))
        }
    });
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("name of display"),
        "{}",
        shown(&out)
    );

    cookie_target.assert_untouched("Xauthority");
    log_target.assert_untouched("Xwayland.log");
    for (name, mode) in [("Xauthority", 0o600), ("Xwayland.log", 0o600)] {
        let meta = std::fs::symlink_metadata(dir.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is still a link: {meta:?}");
        assert_eq!(
            (meta.uid(), meta.mode() & 0o7777),
            (UID, mode),
            "{name} is the container user's own, for it alone"
        );
    }
}
