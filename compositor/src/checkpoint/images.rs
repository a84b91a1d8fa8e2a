//! Where CRIU's images go, and who may read them: they hold a container's memory, so every
//! directory Porthole makes for them is 0700, and every file in them 0600 and the owner's of
//! `porthole checkpoint` (root), whoever wrote it.
//!
//! And who the dump runs as. CRIU reads each task's resource limits (prlimit), which takes
//! CAP_SYS_RESOURCE or the same user and group as the task. Root lacks that capability in some
//! containers and VMs; there, a dump of a sandbox (whose tasks are an unprivileged user's) runs
//! as that user, with every capability root has kept as an ambient one, and CRIU is told so
//! (`--unprivileged`). Only that user's own processes outside the sandbox can then signal it.

use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;

/// CAP_SYS_RESOURCE's number (linux/capability.h).
const CAP_SYS_RESOURCE: u32 = 24;

/// Creates `dir` and the directories above it that are missing, each 0700.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot restrict {} to its owner", path.display()))
}

/// Sets `dir`'s mode to 0700.
pub fn restrict_dir(dir: &Path) -> anyhow::Result<()> {
    set_mode(dir, 0o700)
}

/// Sets `file`'s mode to 0600.
pub fn restrict_file(file: &Path) -> anyhow::Result<()> {
    set_mode(file, 0o600)
}

/// Writes `bytes` to `path`, readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    restrict_file(path)
}

/// Leaves `dir` and what is in it (CRIU's images and logs) this process's and readable by it
/// only: 0700 directories, 0600 files. Links are left alone.
pub fn restrict(dir: &Path) -> anyhow::Result<()> {
    let (uid, gid) = (rustix::process::geteuid(), rustix::process::getegid());
    let own = |path: &Path| {
        rustix::fs::chownat(
            rustix::fs::CWD,
            path,
            Some(uid),
            Some(gid),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .with_context(|| format!("cannot take {} back", path.display()))
    };
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let kind = std::fs::symlink_metadata(&path)?.file_type();
        if kind.is_dir() {
            restrict(&path)?;
        } else if kind.is_file() {
            own(&path)?;
            restrict_file(&path)?;
        }
    }
    own(dir)?;
    restrict_dir(dir)
}

/// Whether this process holds CAP_SYS_RESOURCE.
fn has_sys_resource() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

/// Whether a dump of tasks running as `uid` must run as that user (see the module's header).
pub fn dump_as_tasks_user(uid: u32) -> bool {
    uid != 0 && !has_sys_resource()
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// For a `pre_exec` hook: becomes `uid`:`gid` without supplementary groups, keeping every
/// capability this process has, raised as ambient capabilities so that they survive the exec of
/// CRIU (and of a wrapper script before it). Only system calls.
pub fn become_keeping_capabilities(uid: u32, gid: u32) -> std::io::Result<()> {
    let fail = || Err(std::io::Error::last_os_error());
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget, prctl, setgroups, setres[ug]id and capset with valid pointers to data
    // that outlives each call.
    unsafe {
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return fail();
        }
        if libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0
            || libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) != 0
            || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
            || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
        {
            return fail();
        }
        for set in &mut data {
            set.effective = set.permitted;
            set.inheritable = set.permitted;
        }
        if libc::syscall(libc::SYS_capset, &header, data.as_ptr()) != 0 {
            return fail();
        }
        for cap in 0..64u32 {
            let word = data[(cap / 32) as usize].permitted;
            if word & (1 << (cap % 32)) != 0
                && libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE,
                    cap as libc::c_ulong,
                    0,
                    0,
                ) != 0
            {
                return fail();
            }
        }
    }
    Ok(())
}
