//! Files where someone else may write: a container's directory, which belongs to the container's
//! user, and a container's own file system seen through `/proc/PID/root`. Porthole may run as
//! root, and a link planted there would make it write, truncate or give away a file of the
//! link's choosing; so these are reached through directory descriptors, never following a link.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use anyhow::Context as _;
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};

/// Opens the directory `path`, refusing a link in its place.
pub fn open_dir(path: &Path) -> anyhow::Result<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| {
        format!(
            "cannot open the directory {} (a link there is not followed)",
            path.display()
        )
    })
}

/// Gives the directory `dir` and its `entries` that exist to `uid`: each entry itself (a link is
/// given, not what it points to), and the directory last, so that its new owner cannot swap an
/// entry while Porthole works in it.
pub fn give_dir(dir: &Path, entries: &[&str], uid: u32) -> anyhow::Result<()> {
    let fd = open_dir(dir)?;
    let owner = Some(Uid::from_raw(uid));
    for name in entries {
        match rustix::fs::chownat(&fd, *name, owner, None, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("cannot give {} to uid {uid}", dir.join(name).display())
                })
            }
        }
    }
    rustix::fs::fchown(&fd, owner, None)
        .with_context(|| format!("cannot give {} to uid {uid}", dir.display()))
}

/// The uid and gid of a running process, as its status says.
pub fn process_owner(pid: u32) -> anyhow::Result<(u32, u32)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("no process {pid}"))?;
    let field = |key: &str| -> Option<u32> {
        let line = status.lines().find_map(|l| l.strip_prefix(key))?;
        // Real, effective, saved, file system: the effective one.
        line.split_whitespace().nth(1)?.parse().ok()
    };
    field("Uid:")
        .zip(field("Gid:"))
        .with_context(|| format!("process {pid}'s status names no uid or gid"))
}

/// A file of the container whose first process is `pid`, at `path` in its own file system,
/// reached from its root without following any link (a link would be resolved in Porthole's
/// file system, not the container's). Only a regular file is returned.
pub fn open_in_container(
    pid: u32,
    path: &str,
    flags: OFlags,
    mode: Mode,
) -> anyhow::Result<std::fs::File> {
    let root_path = format!("/proc/{pid}/root");
    let root = rustix::fs::open(
        &root_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("cannot open {root_path}"))?;
    let fd = rustix::fs::openat2(
        &root,
        path,
        flags | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        mode,
        ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .with_context(|| format!("cannot open {path} in the container (links are not followed)"))?;
    let stat = rustix::fs::fstat(&fd)?;
    anyhow::ensure!(
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile,
        "{path} in the container is not a regular file"
    );
    Ok(std::fs::File::from(fd))
}

/// Gives an open file to `uid` and `gid`.
pub fn give_file(file: &impl AsFd, uid: u32, gid: u32) -> rustix::io::Result<()> {
    rustix::fs::fchown(file, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_in_place_of_a_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(open_dir(&real).is_ok());
        let err = open_dir(&link).unwrap_err();
        assert!(format!("{err:#}").contains("not followed"), "{err:#}");
    }

    #[test]
    fn giving_a_directory_gives_a_planted_link_not_its_target() {
        use std::os::unix::fs::MetadataExt as _;
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: giving files away needs root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        let target = tmp.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("wayland-0")).unwrap();
        give_dir(&dir, &["wayland-0", "missing"], 65534).unwrap();
        assert_eq!(
            std::fs::metadata(&target).unwrap().uid(),
            0,
            "the target stays root's"
        );
        let link = std::fs::symlink_metadata(dir.join("wayland-0")).unwrap();
        assert_eq!(link.uid(), 65534, "the link itself is given");
        assert_eq!(std::fs::metadata(&dir).unwrap().uid(), 65534);
    }
}
