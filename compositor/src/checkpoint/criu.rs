//! `porthole checkpoint` and `porthole restore`: CRIU driven from the command line.
//!
//! The compositor keeps the container's windows as placeholders and its bridge lets go of its
//! connection ([`crate::checkpoint`]); then CRIU dumps the container's process tree, whose first
//! process is the bridge. A restore brings the tree back and tells the bridge (SIGUSR2) to
//! connect again; its windows take their placeholders' slots back.
//!
//! CRIU 4 is needed (Debian 12's 3.17 fails on current kernels): `tests/criu/install-criu.sh DIR`
//! installs it, and `PORTHOLE_CRIU=DIR/criu` points Porthole at it. CRIU needs root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use porthole_ipc::{Command, Response};
use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};

use super::{dev_tty, images};
use crate::ipc::client as ctl;
use crate::{nofollow, paths};

/// What `porthole checkpoint` records next to CRIU's images.
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    /// The container.
    pub name: String,
    /// Its profile and colour, to create it again in a compositor that lost it.
    pub profile: String,
    pub color: String,
    /// Windows kept as placeholders.
    pub windows: u32,
}

/// The CRIU binary: `$PORTHOLE_CRIU`, else `criu` on PATH; it must be CRIU 4 or later.
pub fn find_criu() -> anyhow::Result<PathBuf> {
    let criu = std::env::var_os("PORTHOLE_CRIU")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("criu"));
    let how = "install it with `tests/criu/install-criu.sh DIR` (from the Porthole sources) and \
               set PORTHOLE_CRIU=DIR/criu";
    let output = Process::new(&criu)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run CRIU ({}): {how}", criu.display()))?;
    let version = String::from_utf8_lossy(&output.stdout);
    let major = version
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .and_then(|v| v.split('.').next()?.trim().parse::<u32>().ok());
    anyhow::ensure!(
        major.is_some_and(|m| m >= 4),
        "{} is not CRIU 4 or later (it says {:?}); Debian 12's CRIU 3.17 cannot dump on current \
         kernels: {how}",
        criu.display(),
        version.trim()
    );
    Ok(criu)
}

/// CRIU needs root; says so, and how, for `what`.
pub fn ensure_root(what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        rustix::process::geteuid().is_root(),
        "{what} needs root: CRIU reads and rebuilds other processes' namespaces and memory \
         (run it with sudo, keeping XDG_RUNTIME_DIR so that it finds the compositor)"
    );
    Ok(())
}

/// The container's entry in `porthole containers`.
fn container_info(name: &str) -> anyhow::Result<Option<porthole_ipc::ContainerInfo>> {
    let Response::Containers { containers } = ctl::request(Command::Containers)? else {
        anyhow::bail!("unexpected reply to containers");
    };
    Ok(containers.into_iter().find(|c| c.name == name))
}

/// Waits until `done` holds, polling the compositor.
fn wait_for(
    timeout: Duration,
    mut done: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done()? {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(false)
}

/// Starts a checkpointable sandbox in the background and waits for its bridge to connect. bwrap
/// inherits the descriptors `keep` (its seccomp filters), which it closes once read.
pub fn start_checkpointable(
    args: &[std::ffi::OsString],
    name: &str,
    keep: &[i32],
) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt as _;
    let mut bwrap = Process::new("bwrap");
    bwrap
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        bwrap.pre_exec(move || {
            // Its own session, and no descriptor from outside but the null stdio and the
            // filters: CRIU cannot dump a file opened outside the container.
            libc::setsid();
            crate::containers::sandbox::inherit(&keep)?;
            let mut from = 3u32;
            for &fd in &keep {
                let fd = fd as u32;
                if fd > from {
                    libc::syscall(libc::SYS_close_range, from, fd - 1, 0u32);
                }
                from = from.max(fd + 1);
            }
            libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32);
            Ok(())
        });
    }
    let mut child = bwrap
        .spawn()
        .context("cannot start bwrap; install bubblewrap (apt-get install bubblewrap)")?;
    let connected = wait_for(Duration::from_secs(10), || {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "the sandbox exited at once ({status}); its output is in {} inside it",
                crate::containers::sandbox::CHECKPOINTABLE_LOG
            );
        }
        // Connected, and bound porthole_bridge_v1: ready to be checkpointed.
        Ok(container_info(name)?.is_some_and(|c| c.bridge_pid.is_some()))
    })?;
    anyhow::ensure!(
        connected,
        "the bridge of `{name}` did not connect within 10 s; its output is in {} inside the \
         container",
        crate::containers::sandbox::CHECKPOINTABLE_LOG
    );
    // The outer bwrap process is left to run: it exits when the sandbox does.
    std::mem::forget(child);
    Ok(())
}

/// Files in `dir`, in bytes.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Why a CRIU run failed, from its log: its error lines, for a connection leading out of the
/// container which process holds it, and for `/dev/tty` held open why Porthole could not reopen
/// it (`not_reopened`, by pid, from [`dev_tty::reopen`]).
fn explain_failure(log: &Path, not_reopened: &BTreeMap<u32, dev_tty::ReopenError>) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut reasons: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("Error (") && !l.contains("RLIMIT_NOFILE"))
        .map(|l| {
            l.split_once("): ")
                .map_or(*l, |(_, m)| m)
                .trim()
                .to_string()
        })
        .collect();
    reasons.dedup();
    // With -v4, `Runaway socket: ino A peer_ino B ... name PATH` names the end outside the
    // container, and the task that dumped `Dumping: ino B` holds the end inside.
    let word_after = |line: &str, key: &str| {
        line.split(key)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
    };
    for runaway in lines.iter().filter(|l| l.contains("Runaway socket:")) {
        let Some(peer) = word_after(runaway, "peer_ino") else {
            continue;
        };
        let outside = runaway.split(" name ").nth(1).map_or("a socket", str::trim);
        let mut task = None;
        for line in &lines {
            if let Some(rest) = line.split("Dumping task (pid: ").nth(1) {
                task = Some(rest.trim_end_matches(')').replace(" comm: ", " ("));
            }
            if word_after(line, "Dumping: ino").as_deref() == Some(peer.as_str()) {
                break;
            }
        }
        let task = task.map_or("a process".to_string(), |t| format!("process {t})"));
        reasons.insert(
            0,
            format!("{task} holds a connection to {outside}, outside the container"),
        );
    }
    // CRIU dumps /dev/tty open in a process only when that process also holds the terminal's
    // other end; Porthole reopens it as the terminal itself first, where it can.
    if let Some(holder) = lines
        .iter()
        .filter(|l| l.contains("ctty inheritance detected"))
        .find_map(|l| word_after(l, "(ctty pid_real"))
    {
        let comm = std::fs::read_to_string(format!("/proc/{holder}/comm"))
            .map_or(String::new(), |c| format!(" ({})", c.trim()));
        let why = holder
            .parse()
            .ok()
            .and_then(|pid: u32| not_reopened.get(&pid))
            .map_or_else(
                || "it opened it after Porthole looked".to_string(),
                |why| why.to_string(),
            );
        reasons.insert(
            0,
            format!(
                "process {holder}{comm} holds its terminal open as /dev/tty, which CRIU cannot \
                 dump, and Porthole could not reopen it as the terminal itself ({why}); try \
                 again, or close that program"
            ),
        );
    }
    if reasons.is_empty() {
        return format!("CRIU failed; its log is {}", log.display());
    }
    format!("{} (CRIU's log: {})", reasons.join("; "), log.display())
}

/// What CRIU is run for.
#[derive(Debug, Clone, Copy)]
enum Run {
    /// A dump of a process tree whose tasks run as `uid`, `gid`. What it writes is its owner's
    /// only (umask 077): the images hold the container's memory. Where root cannot read their
    /// limits, it runs as their user (see [`images`]).
    Dump { uid: u32, gid: u32 },
    /// A restore, under CRIU's own umask, with which it recreates the container's files; its
    /// log is restricted afterwards by [`images::restrict`].
    Restore,
}

/// Runs CRIU with `args`, its log in `log` and no terminal. Returns whether it succeeded.
fn run_criu(criu: &Path, args: &[&std::ffi::OsStr], log: &Path, run: Run) -> anyhow::Result<bool> {
    use std::os::unix::process::CommandExt as _;
    let mut command = Process::new(criu);
    command
        .args(args)
        .arg("-o")
        .arg(log)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Run::Dump { uid, gid } = run {
        let as_tasks_user = images::dump_as_tasks_user(uid);
        if as_tasks_user {
            command.arg("--unprivileged");
        }
        // SAFETY: only system calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                libc::umask(0o077);
                if as_tasks_user {
                    images::become_keeping_capabilities(uid, gid)?;
                }
                Ok(())
            });
        }
    }
    let status = command.status().context("cannot run CRIU")?;
    Ok(status.success())
}

/// Tells a detached bridge to connect again (after a restore, or a failed dump).
fn reattach(pid: u32) -> anyhow::Result<()> {
    let pid = rustix::process::Pid::from_raw(pid as i32).context("bad pid")?;
    rustix::process::kill_process(pid, rustix::process::Signal::USR2)
        .context("cannot signal the container's bridge")?;
    Ok(())
}

/// A process of a container that holds GPU state: a file of `/dev/dri` open or mapped (EGL,
/// Vulkan, a dmabuf allocator). CRIU cannot dump it.
#[derive(Debug)]
struct GpuClient {
    /// Its pid on the host.
    pid: u32,
    respawn: porthole_ipc::Respawn,
    /// The titles of its windows.
    titles: Vec<String>,
}

impl std::fmt::Display for GpuClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.pid, self.respawn.argv.join(" "))?;
        if !self.titles.is_empty() {
            let titles: Vec<String> = self.titles.iter().map(|t| format!("\"{t}\"")).collect();
            write!(f, " with windows {}", titles.join(", "))?;
        }
        Ok(())
    }
}

/// A process's pid in its own pid namespace (the last of `NSpid` in its status).
fn namespace_pid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// The titles of the windows of container `name` that process `pid` opened, as the bridge's
/// slot names tell (native clients' only).
fn window_titles(windows: &[porthole_ipc::WindowInfo], name: &str, pid: u32) -> Vec<String> {
    let Some(inner) = namespace_pid(pid) else {
        return Vec::new();
    };
    let suffix = format!("-p{inner}");
    windows
        .iter()
        .filter(|w| w.container == name && w.slot.as_deref().is_some_and(|s| s.ends_with(&suffix)))
        .map(|w| w.title.clone())
        .collect()
}

/// The processes of the container whose first process is `init`: those in its pid namespace.
fn container_processes(init: u32) -> Vec<u32> {
    let Ok(ns) = std::fs::read_link(format!("/proc/{init}/ns/pid")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|n| n == ns))
        .collect()
}

/// The container's processes that hold GPU state, with what it takes to start each again.
fn gpu_clients(init: u32) -> Vec<GpuClient> {
    let split = |bytes: Vec<u8>| -> Vec<String> {
        bytes
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    };
    let mut found = Vec::new();
    for pid in container_processes(init) {
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with("/dev/dri/"))
                })
            })
            .unwrap_or(false);
        let mapped = std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .is_ok_and(|maps| maps.contains(" /dev/dri/"));
        if !open && !mapped {
            continue;
        }
        let respawn = porthole_ipc::Respawn {
            argv: split(std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()),
            cwd: std::fs::read_link(format!("/proc/{pid}/cwd"))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/".into()),
            env: split(std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default()),
        };
        found.push(GpuClient {
            pid,
            respawn,
            titles: Vec::new(),
        });
    }
    found
}

/// The processes listed in the container (whose first process is `init`) to start again after
/// the restore; none when there is no readable list.
fn respawn_list(init: u32) -> Vec<porthole_ipc::Respawn> {
    use std::io::Read as _;
    let mut text = Vec::new();
    nofollow::open_in_container(
        init,
        porthole_ipc::RESPAWN_FILE,
        OFlags::RDONLY,
        Mode::empty(),
    )
    .ok()
    .and_then(|mut file| file.read_to_end(&mut text).ok())
    .and_then(|_| serde_json::from_slice(&text).ok())
    .unwrap_or_default()
}

/// Stops the GPU clients, after listing them in the container for its bridge to start again
/// after the restore.
fn stop_gpu(init: u32, clients: &[GpuClient]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut respawn = respawn_list(init);
    respawn.extend(clients.iter().map(|c| c.respawn.clone()));
    let list = porthole_ipc::RESPAWN_FILE;
    let mut file = nofollow::open_in_container(
        init,
        list,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC,
        Mode::from_raw_mode(0o600),
    )?;
    // The bridge, the container's user, reads it after the restore and removes it.
    let (uid, gid) = nofollow::process_owner(init)?;
    nofollow::give_file(&file, uid, gid)
        .with_context(|| format!("cannot give {list} in the container to uid {uid}"))?;
    file.write_all(&serde_json::to_vec(&respawn)?)
        .with_context(|| format!("cannot write {list} in the container"))?;
    let signal = |pid: u32, signal| {
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    };
    for client in clients {
        signal(client.pid, rustix::process::Signal::TERM);
    }
    let exited = wait_for(Duration::from_secs(3), || {
        Ok(clients
            .iter()
            .all(|c| !Path::new(&format!("/proc/{}", c.pid)).exists()))
    })?;
    if !exited {
        for client in clients {
            signal(client.pid, rustix::process::Signal::KILL);
        }
    }
    Ok(())
}

/// Whether process `pid` is in this process's pid namespace: a bridge that is not a sandbox's
/// first process.
fn shares_our_pid_namespace(pid: u32) -> bool {
    let ns = |path: String| std::fs::read_link(path).ok();
    let theirs = ns(format!("/proc/{pid}/ns/pid"));
    theirs.is_some() && theirs == ns("/proc/self/ns/pid".into())
}

/// Whether the bridge `pid` is the first process of a sandbox `porthole run --checkpointable`
/// made, which has only what CRIU can dump (no GPU, its output in a file inside it): it was told
/// to take shared memory only.
fn started_checkpointable(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        cmdline
            .split(|&b| b == 0)
            .take_while(|arg| *arg != b"--")
            .any(|arg| arg == b"--shm-only")
    })
}

/// `porthole checkpoint NAME`.
pub fn checkpoint(name: &str, dir: Option<PathBuf>, stop_gpu_clients: bool) -> anyhow::Result<()> {
    ensure_root("porthole checkpoint")?;
    let criu = find_criu()?;
    let default_dir = dir.is_none();
    let dir = match dir {
        Some(dir) => dir,
        None => paths::checkpoint_dir(name)?,
    };
    let info = container_info(name)?.with_context(|| format!("no container `{name}`"))?;
    if let Some(init) = info.bridge_pid {
        anyhow::ensure!(
            !shares_our_pid_namespace(init),
            "cannot checkpoint `{name}`: its bridge runs on the host (`porthole bridge`), not as \
             the first process of a sandbox CRIU could dump; start it with `porthole run \
             --checkpointable` to checkpoint it"
        );
        anyhow::ensure!(
            started_checkpointable(init),
            "cannot checkpoint `{name}`: it was started with `porthole run` bridged, not \
             `--checkpointable`, so it may use the GPU and keeps files CRIU cannot dump; its apps \
             outlive the compositor, but to checkpoint them start it with `porthole run \
             --checkpointable {name}`"
        );
        let mut gpu = gpu_clients(init);
        if !gpu.is_empty() {
            if let Ok(Response::Windows { windows }) = ctl::request(Command::Windows) {
                for client in &mut gpu {
                    client.titles = window_titles(&windows, name, client.pid);
                }
            }
        }
        let listed = gpu
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if !gpu.is_empty() && !stop_gpu_clients {
            anyhow::bail!(
                "cannot checkpoint `{name}`: these processes hold GPU state, which CRIU cannot \
                 dump: {listed}. Close them, or give --stop-gpu-clients to stop them now and \
                 start them again after the restore"
            );
        }
        if !gpu.is_empty() {
            stop_gpu(init, &gpu)?;
            println!(
                "stopped {} GPU clients, to start again after the restore: {listed}",
                gpu.len()
            );
        }
    }
    if default_dir && dir.is_dir() {
        // Porthole's own, maybe from a version that left it open to all.
        images::restrict_dir(&dir)?;
    }
    let images = dir.join("images");
    if images.exists() {
        std::fs::remove_dir_all(&images)
            .with_context(|| format!("cannot remove the old {}", images.display()))?;
    }
    images::create_private_dir(&images)?;

    let started = Instant::now();
    let Response::Checkpoint { pid, windows } =
        ctl::request(Command::Checkpoint { name: name.into() })?
    else {
        anyhow::bail!("unexpected reply to checkpoint");
    };
    // The bridge lets go of its connection once it has read the request.
    let detached = wait_for(Duration::from_secs(5), || {
        Ok(container_info(name)?.is_some_and(|c| c.clients == 0))
    })?;
    if !detached {
        let _ = reattach(pid);
        anyhow::bail!(
            "the bridge of `{name}` did not let go of its connection within 5 s; the container \
             keeps running"
        );
    }
    let not_reopened = dev_tty::reopen(&container_processes(pid));
    let prepared = started.elapsed();

    // Unreadable, it is gone, and CRIU says so.
    let (uid, gid) = nofollow::process_owner(pid).unwrap_or((0, 0));
    let log = images.join("dump.log");
    let dump_started = Instant::now();
    let dumped_ok = run_criu(
        &criu,
        &[
            "dump".as_ref(),
            "-t".as_ref(),
            pid.to_string().as_ref(),
            "-D".as_ref(),
            images.as_os_str(),
            "--external".as_ref(),
            "mnt[]".as_ref(),
            "--file-locks".as_ref(),
            "-v4".as_ref(),
        ],
        &log,
        Run::Dump { uid, gid },
    )?;
    let dumped = dump_started.elapsed();
    if !dumped_ok {
        let why = explain_failure(&log, &not_reopened);
        let _ = reattach(pid);
        anyhow::bail!(
            "cannot checkpoint `{name}`: {why}. The container keeps running, and its windows \
             come back"
        );
    }
    images::restrict(&images)?;
    let meta = Meta {
        name: name.into(),
        profile: info.profile,
        color: info.color,
        windows,
    };
    images::write_private(&dir.join("meta.json"), &serde_json::to_vec_pretty(&meta)?)?;
    println!(
        "checkpointed `{name}`: {windows} window{} kept in place; bridge detached in {} ms, \
         CRIU dump {} ms, {:.1} MB in {}",
        if windows == 1 { "" } else { "s" },
        prepared.as_millis(),
        dumped.as_millis(),
        dir_bytes(&images) as f64 / 1e6,
        dir.display()
    );
    Ok(())
}

/// A root for the restored container: the mount points of [`crate::containers::sandbox::bwrap_args`]'s
/// layout (CRIU mounts the container's file systems on them). It stays while the container runs.
fn restore_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let root = dir.join("root");
    for sub in ["usr", "etc", "proc", "dev", "tmp", "run"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    for (link, target) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        let path = root.join(link);
        if std::fs::symlink_metadata(&path).is_err() {
            std::os::unix::fs::symlink(target, &path)?;
        }
    }
    Ok(root)
}

/// `porthole restore NAME`.
pub fn restore(name: &str, dir: Option<PathBuf>) -> anyhow::Result<()> {
    ensure_root("porthole restore")?;
    let criu = find_criu()?;
    let dir = match dir {
        Some(dir) => dir,
        None => paths::checkpoint_dir(name)?,
    };
    let meta: Meta = serde_json::from_slice(
        &std::fs::read(dir.join("meta.json"))
            .with_context(|| format!("no checkpoint of `{name}` in {}", dir.display()))?,
    )
    .context("reading the checkpoint's meta.json")?;
    anyhow::ensure!(
        meta.name == name,
        "{} holds a checkpoint of `{}`, not of `{name}`",
        dir.display(),
        meta.name
    );
    if container_info(name)?.is_none() {
        // A compositor started since the checkpoint: the container's socket must exist again
        // where the restored bridge looks for it.
        ctl::request(Command::ContainerAdd {
            name: name.into(),
            profile: Some(meta.profile.clone()),
            color: Some(meta.color.clone()),
            output: None,
        })?;
    }
    let images = dir.join("images");
    let root = restore_root(&dir)?;
    let pidfile = dir.join("restored.pid");
    let _ = std::fs::remove_file(&pidfile);
    let log = images.join("restore.log");
    let started = Instant::now();
    let restored_ok = run_criu(
        &criu,
        &[
            "restore".as_ref(),
            "-D".as_ref(),
            images.as_os_str(),
            "--external".as_ref(),
            "mnt[]".as_ref(),
            "--root".as_ref(),
            root.as_os_str(),
            "--file-locks".as_ref(),
            "--manage-cgroups=ignore".as_ref(),
            "-d".as_ref(),
            "--pidfile".as_ref(),
            pidfile.as_os_str(),
        ],
        &log,
        Run::Restore,
    )?;
    let restored = started.elapsed();
    if !restored_ok {
        anyhow::bail!(
            "cannot restore `{name}`: {}",
            explain_failure(&log, &BTreeMap::new())
        );
    }
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .context("CRIU wrote no pidfile")?
        .trim()
        .parse()
        .context("CRIU's pidfile holds no pid")?;
    images::restrict(&images)?;
    images::restrict_file(&pidfile)?;
    let respawn = respawn_list(pid);
    if let Some(info) = container_info(name)? {
        // A compositor started since the checkpoint made the directory anew, root's: the
        // restored bridge, the sandbox's user, must reach its socket again.
        let dir = Path::new(&info.socket).parent().map(Path::to_path_buf);
        let (uid, _) = nofollow::process_owner(pid)?;
        if let Some(dir) = dir.filter(|_| rustix::process::geteuid().is_root()) {
            crate::containers::run_as::hand_over(&dir, uid)?;
        }
    }
    reattach(pid)?;
    if !respawn.is_empty() {
        let commands: Vec<String> = respawn.iter().map(|r| r.argv.join(" ")).collect();
        println!(
            "starting again the GPU clients stopped before the checkpoint: {}",
            commands.join(", ")
        );
    }
    let back = Instant::now();
    let placeholders = |name: &str| -> anyhow::Result<usize> {
        let Response::Windows { windows } = ctl::request(Command::Windows)? else {
            anyhow::bail!("unexpected reply to windows");
        };
        Ok(windows
            .iter()
            .filter(|w| w.checkpointed && w.container == name)
            .count())
    };
    let all_back = wait_for(Duration::from_secs(10), || Ok(placeholders(name)? == 0))?;
    let left = placeholders(name)?;
    println!(
        "restored `{name}` (pid {pid}): CRIU restore {} ms, {} of {} windows back in place in {} ms{}",
        restored.as_millis(),
        meta.windows as usize - left.min(meta.windows as usize),
        meta.windows,
        back.elapsed().as_millis(),
        if all_back {
            String::new()
        } else {
            format!("; {left} still wait for their window")
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{dev_tty, explain_failure};

    fn explained(log: &str, not_reopened: &BTreeMap<u32, dev_tty::ReopenError>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.log");
        std::fs::write(&path, log).unwrap();
        explain_failure(&path, not_reopened)
    }

    #[test]
    fn a_runaway_socket_names_the_process_holding_it() {
        let said = explained(
            "(00.1) Dumping task (pid: 7 comm: python3)\n\
             (00.2) Dumping: ino 4242 peer_ino 4243 family 1\n\
             (00.3) Error (criu/sk-unix.c:1): sk unix: Runaway socket: ino 4243 peer_ino 4242 \
             family 1 type 1 state 1 name /tmp/outside.sock\n",
            &BTreeMap::new(),
        );
        assert!(
            said.starts_with(
                "process 7 (python3) holds a connection to /tmp/outside.sock, outside the container"
            ),
            "{said}"
        );
    }

    #[test]
    fn a_terminal_held_as_dev_tty_says_why_porthole_could_not_reopen_it() {
        // Pids beyond the kernel's highest, so that no process of this machine is named.
        let log = "(00.5) Error (criu/tty.c:2286): tty: ctty inheritance detected sid/pgrp 4 \
                   (ctty pid_real 4194305 pty pid_real 12132)\n";
        let not_reopened = BTreeMap::from([(4194305, dev_tty::ReopenError::Running)]);
        let said = explained(log, &not_reopened);
        assert!(
            said.starts_with(
                "process 4194305 holds its terminal open as /dev/tty, which CRIU cannot dump, \
                 and Porthole could not reopen it as the terminal itself (it is running, not \
                 waiting in a system call); try again"
            ),
            "{said}"
        );
        assert!(said.contains("ctty inheritance detected"), "{said}");
        let said = explained(log, &BTreeMap::new());
        assert!(
            said.contains("(it opened it after Porthole looked)"),
            "{said}"
        );
    }
}
