//! What a sandbox holds when root starts it, checkpointable or not: no capability, an
//! unprivileged user, the seccomp filters.
//!
//! These tests check root's sandboxes: they run as root (as CI does), and fail otherwise.

use super::*;
use crate::common::*;

/// Reports what a process of the sandbox holds and may do, one `key=value` line each. Every
/// attempt is harmless whatever its outcome: the kernel's core pattern is opened for appending
/// and closed again, never written.
const PROBE: &str = r#"
status() { grep "^$1:" /proc/self/status | cut -f2; }
for key in CapInh CapPrm CapEff CapBnd CapAmb Seccomp NoNewPrivs; do echo "$key=$(status $key)"; done
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "groups=$(id -G)"
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=allowed"; else echo "$name=refused"; fi; }
try shadow cat /etc/shadow
mkdir -p /tmp/mnt
try mount mount -t proc proc /tmp/mnt
try mknod mknod /tmp/null c 1 3
try core_pattern sh -c ': >> /proc/sys/kernel/core_pattern'
try user_namespace unshare --user true
echo done=1
"#;

/// The host's core pattern, to check that no sandbox changed it.
fn core_pattern() -> String {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern").expect("reading the core pattern")
}

/// Asserts that the probe's report `seen` shows a process without privilege, and returns its
/// uid.
fn assert_unprivileged(seen: &str, report: &str) -> u32 {
    let get = |key: &str| -> String {
        seen.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no `{key}=` line; {report}"))
            .trim()
            .to_owned()
    };
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(get(set), "0000000000000000", "{set} is not empty; {report}");
    }
    assert_eq!(get("Seccomp"), "2", "no seccomp filter; {report}");
    assert_eq!(get("NoNewPrivs"), "1", "{report}");
    let uid: u32 = get("uid").parse().expect("a numeric uid");
    assert_ne!(uid, 0, "the sandbox runs as root; {report}");
    assert_ne!(
        get("gid"),
        "0",
        "the sandbox runs in root's group; {report}"
    );
    assert!(
        !get("groups").split_whitespace().any(|g| g == "0"),
        "the sandbox keeps root's group; {report}"
    );
    for (what, key) in [
        ("/etc/shadow was read", "shadow"),
        ("a file system was mounted", "mount"),
        ("a device node was made", "mknod"),
        (
            "/proc/sys/kernel/core_pattern opened for writing",
            "core_pattern",
        ),
        ("a user namespace was made", "user_namespace"),
    ] {
        assert_eq!(get(key), "refused", "{what} inside the sandbox; {report}");
    }
    uid
}

/// The uid `porthole run` says the sandbox runs as.
fn announced_uid(stderr: &str) -> u32 {
    stderr
        .split("runs as uid ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|uid| uid.parse().ok())
        .unwrap_or_else(|| panic!("`porthole run` does not say who the sandbox runs as: {stderr}"))
}

fn require_root() {
    assert!(
        is_root(),
        "these tests check the sandboxes root starts: run them as root, as CI does"
    );
}

#[test]
fn a_sandbox_root_starts_holds_no_privilege() {
    require_root();
    let pattern = core_pattern();
    let c = Compositor::start(320, 240);
    c.run_ok(&["container", "add", "a"]);
    let out = c.run(&["run", "a", "--", "sh", "-c", PROBE]);
    let seen = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = format!(
        "inside `porthole run a` ({}):\n{seen}\nstderr:\n{stderr}",
        out.status
    );
    assert!(out.status.success(), "{report}");
    let uid = assert_unprivileged(&seen, &report);
    assert_eq!(uid, announced_uid(&stderr), "{report}");
    assert_eq!(core_pattern(), pattern, "the host's core pattern changed");
}

#[test]
fn a_checkpointable_sandbox_root_starts_holds_no_privilege() {
    require_root();
    let pattern = core_pattern();
    let c = Compositor::start(320, 240);
    c.run_ok(&["container", "add", "ck"]);
    let script = format!("{{ {PROBE} }} > /tmp/probe.txt 2>&1; exec sleep 3600");
    let out = c.run(&["run", "--checkpointable", "ck", "--", "sh", "-c", &script]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "porthole run --checkpointable failed: {stderr}"
    );
    let pid = container(&c, "ck")
        .bridge_pid
        .expect("a checkpointable container's bridge reports its pid");
    let _sandbox = Sandbox::new(pid);
    let file = format!("/proc/{pid}/root/tmp/probe.txt");
    let seen = poll(CLIENT_TIMEOUT, "the probe's report", || {
        let seen = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
        if seen.contains("done=1") {
            Ok(seen)
        } else {
            Err(seen)
        }
    });
    let report = format!("inside `porthole run --checkpointable ck`:\n{seen}\nstderr:\n{stderr}");
    let uid = assert_unprivileged(&seen, &report);
    assert_eq!(uid, announced_uid(&stderr), "{report}");

    // Its first process, the bridge CRIU dumps the tree from, holds nothing either.
    let bridge = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the bridge");
    let field = |key: &str| {
        bridge
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(field("CapEff:"), "0000000000000000", "{bridge}");
    assert_eq!(field("CapBnd:"), "0000000000000000", "{bridge}");
    assert_eq!(
        field("Uid:"),
        format!("{uid} {uid} {uid} {uid}"),
        "{bridge}"
    );
    assert_eq!(core_pattern(), pattern, "the host's core pattern changed");
}
