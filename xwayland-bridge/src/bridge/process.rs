//! What the bridge does as a process, often the container's first: where its output goes,
//! the namespaces it joins before it starts anything, and the children it reaps and starts
//! again after a restore.

use std::os::fd::AsFd as _;
use std::process::{Command, ExitCode};

use anyhow::Context as _;
use tracing::{info, warn};

use super::Bridge;

/// Unblocks every signal in this process. The bridge's event loop takes SIGCHLD, SIGUSR2,
/// SIGTERM and SIGINT through a signalfd, so they are blocked in it, and a blocked signal stays
/// blocked across fork and exec: what it starts could then not be stopped with SIGTERM or
/// Ctrl+C, nor learn that its children exited.
pub fn unblock_all_signals() {
    // SAFETY: sigemptyset and pthread_sigmask on a local set; both async-signal-safe.
    unsafe {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
        libc::sigemptyset(set.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut());
    }
}

/// Has `command` start with no signal blocked (see [`unblock_all_signals`]).
pub fn unblocked(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            unblock_all_signals();
            Ok(())
        })
    }
}

impl Bridge {
    /// Starts again what `porthole checkpoint --stop-gpu-clients` stopped before the checkpoint
    /// (listed in [`porthole_ipc::RESPAWN_FILE`]), as children of the bridge.
    pub(crate) fn respawn(&mut self) {
        let path = porthole_ipc::RESPAWN_FILE;
        let Ok(text) = std::fs::read(path) else {
            return;
        };
        let _ = std::fs::remove_file(path);
        let list: Vec<porthole_ipc::Respawn> = match serde_json::from_slice(&text) {
            Ok(list) => list,
            Err(err) => {
                warn!(%err, "{path} is not a list of processes to start again");
                return;
            }
        };
        for process in list {
            let Some((program, args)) = process.argv.split_first() else {
                continue;
            };
            let env = process.env.iter().filter_map(|pair| pair.split_once('='));
            let started = unblocked(&mut Command::new(program))
                .args(args)
                .env_clear()
                .envs(env)
                .current_dir(&process.cwd)
                .spawn();
            match started {
                Ok(child) => {
                    info!(pid = child.id(), ?process.argv, "started again after the restore")
                }
                Err(err) => warn!(%err, ?process.argv, "cannot start again after the restore"),
            }
        }
    }

    /// Sends SIGTERM to every process started under the bridge (its children, theirs, and so
    /// on), read from /proc: never to a process outside the container, whatever namespaces it
    /// was given.
    pub(crate) fn terminate_descendants(&self) {
        use rustix::process::{kill_process, Pid, Signal};
        let mine = std::process::id() as i32;
        let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // The command name may hold spaces and parentheses: the fields after the last ')'.
                let rest = &stat[stat.rfind(')')? + 1..];
                let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, ppid))
            })
            .collect();
        let mut ours = vec![mine];
        let mut i = 0;
        while i < ours.len() {
            let parent = ours[i];
            ours.extend(
                parents
                    .iter()
                    .filter(|(_, p)| *p == parent)
                    .map(|(c, _)| *c),
            );
            i += 1;
        }
        for pid in ours.into_iter().skip(1).filter_map(Pid::from_raw) {
            let _ = kill_process(pid, Signal::TERM);
        }
    }

    /// Reaps exited children: the bridge may be the container's first process, which inherits
    /// every orphan. The command's exit ends the bridge with its status.
    pub(crate) fn reap(&mut self) {
        use rustix::process::{waitpid, WaitOptions};
        while let Ok(Some((pid, status))) = waitpid(None, WaitOptions::NOHANG) {
            if Some(pid) == self.command_pid {
                let code = status
                    .exit_status()
                    .or_else(|| status.terminating_signal().map(|s| 128 + s))
                    .unwrap_or(1);
                self.finish(ExitCode::from(code.clamp(0, 255) as u8));
            }
        }
    }
}

/// Points stdout and stderr at `log` and stdin at /dev/null, for the bridge and what it starts.
pub fn redirect_output(log: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let null = std::fs::File::open("/dev/null")?;
    for (from, to) in [
        (null.as_raw_fd(), 0),
        (out.as_raw_fd(), 1),
        (out.as_raw_fd(), 2),
    ] {
        // SAFETY: dup2 on descriptors this function owns, onto the standard ones.
        if unsafe { libc::dup2(from, to) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Moves the bridge into a container's IPC namespace (for a container served from the host),
/// before anything is spawned: the Xwayland it starts then attaches the container's MIT-SHM
/// segments. A rootless engine's namespaces belong to its user namespace, which the bridge joins
/// first (its owner, the same user, may); that must happen while the process has one thread.
pub(crate) fn join_namespaces(
    pid: Option<u32>,
    ipc: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
    let open = |path: &std::path::Path| {
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))
    };
    let ipc_path = match (pid, ipc) {
        (Some(pid), _) => {
            let theirs = std::path::PathBuf::from(format!("/proc/{pid}/ns/user"));
            let ours = std::fs::read_link("/proc/self/ns/user")?;
            if std::fs::read_link(&theirs).with_context(|| {
                format!("no process {pid} to join (reading {})", theirs.display())
            })? != ours
            {
                move_into_link_name_space(open(&theirs)?.as_fd(), Some(LinkNameSpaceType::User))
                    .with_context(|| format!("joining the user namespace of process {pid}"))?;
            }
            std::path::PathBuf::from(format!("/proc/{pid}/ns/ipc"))
        }
        (None, Some(path)) => path.to_path_buf(),
        (None, None) => return Ok(()),
    };
    move_into_link_name_space(
        open(&ipc_path)?.as_fd(),
        Some(LinkNameSpaceType::InterProcessCommunication),
    )
    .with_context(|| format!("joining the IPC namespace {}", ipc_path.display()))?;
    Ok(())
}
