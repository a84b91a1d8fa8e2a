//! What a checkpoint keeps to itself: CRIU's images hold the container's memory, so they are
//! their owner's alone; and a restored container holds no more than it did (CRIU, root, gives
//! it back its user, its empty capability sets and its seccomp filters).

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::common::*;

/// Asserts that every directory under `dir` (and `dir`) is 0700 and every file 0600, leaving
/// out the entries named in `skip`; returns how many files there are.
fn assert_private(dir: &Path, skip: &[&str]) -> usize {
    let mode = std::fs::symlink_metadata(dir).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if skip.contains(&&*entry.file_name().to_string_lossy()) {
            continue;
        }
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            files += assert_private(&entry.path(), skip);
        } else {
            assert!(
                meta.is_file(),
                "{} is neither file nor directory",
                entry.path().display()
            );
            let mode = meta.mode() & 0o7777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", entry.path().display());
            files += 1;
        }
    }
    files
}

/// The fields of a process's status that say what it holds.
fn held(pid: u32) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    status
        .lines()
        .filter(|l| {
            [
                "Uid:",
                "CapEff:",
                "CapPrm:",
                "CapBnd:",
                "CapAmb:",
                "NoNewPrivs:",
                "Seccomp:",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn checkpoint_images_are_their_owners_alone_and_the_restored_container_holds_no_privilege() {
    let c = Compositor::start(320, 240);
    c.run_ok(&["container", "add", "priv"]);
    let pid = run_checkpointable(&c, "priv", "exec sleep 3600");
    let _sandbox = Sandbox::new(pid);
    let before = held(pid);
    assert!(
        before.contains(&"CapEff: 0000000000000000".to_string())
            && before.contains(&"Seccomp: 2".to_string())
            && !before.contains(&"Uid: 0 0 0 0".to_string()),
        "{before:?}"
    );

    let out = checkpoint(&c, "priv");
    assert!(
        out.status.success(),
        "porthole checkpoint failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    let state = c.dir().join("home/.local/state/porthole");
    let dir = state.join("checkpoints/priv");
    let files = assert_private(&dir, &[]);
    assert!(files > 3, "{files} files in {}", dir.display());
    for made in [&state, &state.join("checkpoints")] {
        let mode = std::fs::metadata(made).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", made.display());
    }

    let said = restore(&c, "priv");
    assert!(said.contains("restored `priv`"), "{said}");
    let pid = bridge_pid(&c, "priv");
    let _restored = Sandbox::new(pid);
    assert_eq!(
        held(pid),
        before,
        "the restored container holds what it held"
    );
    // The restored container's root (mount points) stays traversable by its user.
    assert_private(&dir, &["root"]);
}
