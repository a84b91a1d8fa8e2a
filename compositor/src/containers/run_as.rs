//! Who the processes of a `porthole run` sandbox are.
//!
//! An ordinary user's sandbox is theirs: bwrap gives it a user namespace of its own, in which it
//! holds no capability. Root's would be root, with every capability, so a sandbox started by
//! root runs as an unprivileged user instead, the first of:
//!
//! 1. the owner of the container's directory, when that is not root: the container's `uid` from
//!    the configuration, or the user the compositor runs as (whose socket the sandbox must reach);
//! 2. the user who ran `sudo` (`SUDO_UID`, `SUDO_GID`);
//! 3. nobody (65534:65534), which owns nothing on the host.
//!
//! The directory is then given to that user when root owns it, as `uid` in the configuration
//! would have, so that the sandbox can reach its socket.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use anyhow::Context as _;

use crate::nofollow;
use crate::paths::{CONTAINER_SOCKET, X11_SOCKET_DIR};

/// nobody's uid, and nogroup's gid.
pub const NOBODY: u32 = 65534;

/// Where util-linux's `setpriv` is, on the host and so in the sandbox (which sees the host's
/// `/usr`): it drops root's uid, groups and capabilities before the container's first program.
pub const SETPRIV: &str = "/usr/bin/setpriv";

/// The user and group a root-started sandbox's processes run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// Why that user was chosen, as `porthole run` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// The container's directory belongs to it.
    Owner,
    /// It ran `sudo`.
    Sudo,
    /// No one else was known.
    Nobody,
}

impl std::fmt::Display for Chosen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Chosen::Owner => "the owner of the container's directory",
            Chosen::Sudo => "the user who ran sudo",
            Chosen::Nobody => {
                "nobody: root started it, the container has no `uid` and SUDO_UID is unset"
            }
        })
    }
}

/// The primary group of `uid`, from the user database.
fn primary_gid(uid: u32) -> Option<u32> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|user| user.gid.as_raw())
}

/// Chooses who a root-started sandbox runs as, from the owner of the container's directory and
/// `SUDO_UID`/`SUDO_GID`. Root is never chosen.
fn choose(
    owner: u32,
    sudo_uid: Option<&str>,
    sudo_gid: Option<&str>,
    primary_gid: impl Fn(u32) -> Option<u32>,
) -> (RunAs, Chosen) {
    let parse = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u32>().ok());
    let sudo_uid = parse(sudo_uid).filter(|uid| *uid != 0);
    let sudo_gid = parse(sudo_gid).filter(|gid| *gid != 0);
    let gid_of = |uid: u32| {
        sudo_gid
            .filter(|_| sudo_uid == Some(uid))
            .or_else(|| primary_gid(uid).filter(|gid| *gid != 0))
            .unwrap_or(NOBODY)
    };
    if owner != 0 {
        let run_as = RunAs {
            uid: owner,
            gid: gid_of(owner),
        };
        return (run_as, Chosen::Owner);
    }
    match sudo_uid {
        Some(uid) => (
            RunAs {
                uid,
                gid: gid_of(uid),
            },
            Chosen::Sudo,
        ),
        None => (
            RunAs {
                uid: NOBODY,
                gid: NOBODY,
            },
            Chosen::Nobody,
        ),
    }
}

/// For `porthole run`: nothing when an ordinary user runs it. For root, who the sandbox of the
/// container whose directory is `dir` runs as; the directory, its socket and its X socket
/// directory are given to that user when root owns them.
pub fn prepare(dir: &Path) -> anyhow::Result<Option<(RunAs, Chosen)>> {
    if !rustix::process::geteuid().is_root() {
        return Ok(None);
    }
    anyhow::ensure!(
        Path::new(SETPRIV).is_file(),
        "{SETPRIV} is missing: `porthole run` started by root drops to an unprivileged user \
         with util-linux's setpriv; install util-linux"
    );
    let owner = std::fs::symlink_metadata(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .uid();
    let sudo_uid = std::env::var("SUDO_UID").ok();
    let sudo_gid = std::env::var("SUDO_GID").ok();
    let (run_as, chosen) = choose(owner, sudo_uid.as_deref(), sudo_gid.as_deref(), primary_gid);
    hand_over(dir, run_as.uid)?;
    Ok(Some((run_as, chosen)))
}

/// Gives the container's directory `dir`, its socket and its X socket directory to `uid` when
/// root owns it: the sandbox of that user must reach its socket (also a sandbox restored into a
/// compositor that made the directory anew).
pub fn hand_over(dir: &Path, uid: u32) -> anyhow::Result<()> {
    let owner = std::fs::symlink_metadata(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .uid();
    if owner == 0 && uid != 0 {
        nofollow::give_dir(dir, &[CONTAINER_SOCKET, X11_SOCKET_DIR], uid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_users(_: u32) -> Option<u32> {
        None
    }

    #[test]
    fn the_directory_owner_comes_first() {
        let (run_as, chosen) = choose(1001, Some("1000"), Some("1000"), |_| Some(1001));
        assert_eq!(
            (run_as, chosen),
            (
                RunAs {
                    uid: 1001,
                    gid: 1001
                },
                Chosen::Owner
            )
        );
    }

    #[test]
    fn sudo_names_the_user_of_a_directory_root_owns() {
        let (run_as, chosen) = choose(0, Some("1000"), Some("1002"), no_users);
        assert_eq!(
            (run_as, chosen),
            (
                RunAs {
                    uid: 1000,
                    gid: 1002
                },
                Chosen::Sudo
            )
        );
    }

    #[test]
    fn without_anyone_known_it_is_nobody_never_root() {
        for (uid, gid) in [(None, None), (Some("0"), Some("0")), (Some("x"), None)] {
            let (run_as, chosen) = choose(0, uid, gid, |_| Some(0));
            assert_eq!(
                (run_as, chosen),
                (
                    RunAs {
                        uid: NOBODY,
                        gid: NOBODY
                    },
                    Chosen::Nobody
                ),
                "{uid:?} {gid:?}"
            );
        }
        // An owner whose primary group is root's gets nogroup instead.
        let (run_as, _) = choose(1001, None, None, |_| Some(0));
        assert_eq!(run_as.gid, NOBODY);
    }
}
