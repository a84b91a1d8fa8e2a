//! `porthole containers`, `container add|remove`, `run`, `env`, `x11` and `clipboard copy`:
//! containers, the sandboxes wired to them and what moves between them.

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use porthole_ipc::{Command, Response};

use super::unexpected;
use crate::checkpoint::criu;
use crate::containers::run_as;
use crate::containers::sandbox::{self, Confinement, Engine, Sandbox};
use crate::containers::seccomp;
use crate::ipc::client;
use crate::paths;

/// `porthole container` subcommands.
#[derive(Subcommand)]
pub enum ContainerCmd {
    /// Create a container: its directory and Wayland socket.
    Add {
        /// Its name: 1 to 32 of a-z, 0-9, '-' and '_'.
        name: String,
        /// trusted, untrusted (default), kiosk, or a [profile.NAME] of the configuration.
        #[arg(long)]
        profile: Option<String>,
        /// Its colour, #rrggbb.
        #[arg(long)]
        color: Option<String>,
        /// For a kiosk container: the output its windows fill (`porthole outputs` lists them).
        #[arg(long)]
        output: Option<String>,
    },
    /// Disconnect its clients and remove its directory.
    Remove {
        /// The container.
        name: String,
    },
}

/// `porthole clipboard` subcommands.
#[derive(Subcommand)]
pub enum ClipboardCmd {
    /// Offer container FROM's clipboard to container TO, under both containers' rules.
    Copy {
        /// The container whose clipboard is taken (`host` for the host's).
        #[arg(long)]
        from: String,
        /// The container it is offered to.
        #[arg(long)]
        to: String,
    },
}

/// The options of `porthole run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The container.
    name: String,
    /// Keep the host's network (and with it the host's abstract sockets, such as an X
    /// server's); by default the sandbox has none.
    #[arg(long)]
    network: bool,
    /// Start no X11 server for the command, even if the container has `x11 = true`.
    #[arg(long)]
    no_x11: bool,
    /// Start the sandbox so that `porthole checkpoint` can dump it with CRIU: its bridge
    /// serves its Wayland socket and X display inside it, it runs in the background (its
    /// output goes to /tmp/porthole-run.log inside it), and it has no GPU. Needs root.
    #[arg(long, conflicts_with_all = ["no_x11", "network", "bridged", "direct"])]
    checkpointable: bool,
    /// Put the container's bridge in front of its apps, so that they outlive the compositor (a
    /// crash, an upgrade): it serves the container's Wayland socket and X display inside the
    /// sandbox, and the windows come back when the compositor does. The sandbox outlives this
    /// command's terminal too; Ctrl+C ends it. The default, but for a trusted container.
    #[arg(long, conflicts_with = "direct")]
    bridged: bool,
    /// Let the apps talk to the container's socket on the host directly, as a trusted
    /// container's do by default: every global its profile allows reaches them, no bridge costs
    /// CPU per frame, and the apps end with the compositor.
    #[arg(long)]
    direct: bool,
    /// How long, in seconds, the apps of a bridged or checkpointable container wait for a
    /// compositor that went away (a crash, an upgrade) to come back, before they are asked to
    /// close.
    #[arg(long, value_name = "SECONDS", default_value_t = sandbox::RECONNECT_GRACE)]
    reconnect_grace: u64,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

/// `porthole containers`.
pub fn list(json: bool) -> anyhow::Result<()> {
    let Response::Containers { containers } = client::request(Command::Containers)? else {
        return Err(unexpected("containers"));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&containers)?);
        return Ok(());
    }
    println!(
        "{:<16} {:<10} {:<8} {:>7} {:>7} {:>8} {:>10}  SOCKET",
        "NAME", "PROFILE", "COLOR", "CLIENTS", "WINDOWS", "OBJECTS", "SHM"
    );
    for c in containers {
        println!(
            "{:<16} {:<10} {:<8} {:>7} {:>7} {:>8} {:>10}  {}",
            c.name,
            c.profile,
            c.color,
            c.clients,
            c.windows,
            c.objects,
            human_bytes(c.shm_bytes),
            c.socket
        );
    }
    Ok(())
}

/// `porthole container add|remove`.
pub fn container(action: ContainerCmd) -> anyhow::Result<()> {
    match action {
        ContainerCmd::Add {
            name,
            profile,
            color,
            output,
        } => {
            client::request(Command::ContainerAdd {
                name: name.clone(),
                profile,
                color,
                output,
            })?;
            println!("{}", container_dir(&name)?.dir.display());
        }
        ContainerCmd::Remove { name } => {
            client::request(Command::ContainerRemove { name })?;
        }
    }
    Ok(())
}

/// `porthole run`: the command in a bubblewrap sandbox wired to the container, which is created
/// (untrusted) when it does not exist.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let RunArgs {
        name,
        network,
        no_x11,
        checkpointable,
        bridged,
        direct,
        reconnect_grace,
        command,
    } = args;
    if checkpointable {
        // CRIU cannot restore a user namespace together with a network namespace, the one bwrap
        // makes for an ordinary user: root starts checkpointable containers.
        criu::ensure_root("porthole run --checkpointable")?;
    }
    let Found { dir, x11, trusted } = match container_dir(&name) {
        Ok(found) => found,
        Err(_) => {
            client::request(Command::ContainerAdd {
                name: name.clone(),
                profile: None,
                color: None,
                output: None,
            })?;
            eprintln!("porthole: created container `{name}` (untrusted)");
            container_dir(&name)?
        }
    };
    // The bridge passes on the desktop protocols, not what a trusted profile adds (screen
    // capture, the toplevel list, the virtual keyboard): a trusted container's apps talk to the
    // compositor directly unless asked.
    let bridged = !checkpointable && !direct && (bridged || !trusted);
    if trusted && !bridged && !direct && !checkpointable {
        eprintln!(
            "porthole: `{name}` is trusted: its apps talk to the compositor directly, so that \
             they get every protocol it offers, and end with it (--bridged keeps them running)"
        );
    }
    // The person started it: its first window may take the focus, and apps that use
    // xdg-activation bring the token where the socket they reach offers it (the bridge of a
    // checkpointable container does not, and foot 1.13 stops when given a token it cannot use).
    if let Ok(Response::Launched { token: Some(token) }) = client::request(Command::Launch {
        container: name.clone(),
    }) {
        if !checkpointable && !bridged {
            // The CLI is one thread here; everything started from here inherits it.
            std::env::set_var("XDG_ACTIVATION_TOKEN", token);
        }
    }
    let bridge = if checkpointable {
        Some(lasting_bridge(&find_bridge()?)?)
    } else if bridged || (x11 && !no_x11) {
        Some(find_bridge()?)
    } else {
        None
    };
    let sandbox = if checkpointable {
        Sandbox::Checkpointable { reconnect_grace }
    } else if bridged {
        let x11 = x11 && !no_x11;
        Sandbox::Bridged {
            reconnect_grace,
            x11,
        }
    } else {
        Sandbox::Plain
    };
    if checkpointable {
        anyhow::ensure!(
            x11,
            "container `{name}` has x11 = false: a checkpointable container needs its bridge \
             (porthole-bridge), which serves its X display and Wayland socket"
        );
    }
    let run_as = run_as::prepare(&dir)?;
    if let Some((user, why)) = run_as {
        eprintln!(
            "porthole: `{name}` runs as uid {}, gid {} ({why}), with no capabilities",
            user.uid, user.gid
        );
    }
    let filters = seccomp::memfds()?;
    let confinement = Confinement {
        run_as: run_as.map(|(user, _)| user),
        seccomp_fds: filters.iter().map(AsRawFd::as_raw_fd).collect(),
    };
    let args = sandbox::bwrap_args(
        &dir,
        &name,
        network,
        bridge.as_deref(),
        sandbox,
        &confinement,
        &command,
    );
    if checkpointable {
        criu::start_checkpointable(&args, &name, &confinement.seccomp_fds)?;
        eprintln!(
            "porthole: `{name}` runs in the background, checkpointable; its output goes to {} \
             inside it",
            sandbox::CHECKPOINTABLE_LOG
        );
        return Ok(());
    }
    if bridged {
        return run_in_foreground(&name, &args, &confinement.seccomp_fds);
    }
    let mut bwrap = std::process::Command::new("bwrap");
    bwrap.args(&args);
    let fds = confinement.seccomp_fds.clone();
    // SAFETY: only fcntl between fork and exec.
    unsafe {
        bwrap.pre_exec(move || sandbox::inherit(&fds));
    }
    let err = bwrap.exec();
    Err(anyhow::anyhow!(
        "cannot start bwrap: {err}; install bubblewrap (apt-get install bubblewrap)"
    ))
}

/// Runs a bridged sandbox and waits for it: `porthole run` exits with the command's status.
/// Ctrl+C or SIGTERM ends the sandbox (its bridge, the first process, takes every app with it);
/// a hang-up, as when the terminal goes (with the compositor it ran on, maybe), leaves the apps
/// running for the compositor to come back to.
fn run_in_foreground(name: &str, args: &[OsString], keep: &[i32]) -> anyhow::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    use std::io::Read as _;

    let (info, info_out) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let mut full: Vec<OsString> = vec!["--info-fd".into(), info_out.as_raw_fd().to_string().into()];
    full.extend(args.iter().cloned());
    let mut keep = keep.to_vec();
    keep.push(info_out.as_raw_fd());
    let mut signals = SigSet::empty();
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGCHLD,
    ] {
        signals.add(signal);
    }
    signals.thread_block()?;
    let mut bwrap = std::process::Command::new("bwrap");
    bwrap.args(&full);
    // SAFETY: only fcntl and sigprocmask between fork and exec.
    unsafe {
        bwrap.pre_exec(move || {
            sandbox::inherit(&keep)?;
            SigSet::empty().thread_set_mask()?;
            Ok(())
        });
    }
    let mut child = bwrap
        .spawn()
        .context("cannot start bwrap; install bubblewrap (apt-get install bubblewrap)")?;
    drop(info_out);
    // bwrap writes `{ "child-pid": N }` (the sandbox's first process, the bridge) and closes it.
    let mut text = String::new();
    let _ = std::fs::File::from(info).read_to_string(&mut text);
    let bridge = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["child-pid"].as_i64())
        .map(|pid| nix::unistd::Pid::from_raw(pid as i32));
    loop {
        if let Some(status) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt as _;
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(1);
            std::process::exit(code);
        }
        match signals.wait()? {
            Signal::SIGINT | Signal::SIGTERM => {
                if let Some(pid) = bridge {
                    let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
                }
            }
            Signal::SIGHUP => {
                eprintln!(
                    "porthole: hung up; `{name}` keeps running (its windows come back with the \
                     compositor; `porthole container remove {name}` ends it)"
                );
                return Ok(());
            }
            _ => {}
        }
    }
}

/// `porthole env`.
pub fn env(name: &str, engine: Engine, bridged: bool) -> anyhow::Result<()> {
    let Found { dir, x11, .. } = container_dir(name)?;
    let socket = if bridged {
        paths::BRIDGED_SOCKET
    } else {
        paths::CONTAINER_SOCKET
    };
    println!("{}", sandbox::env_flags(&dir, engine, x11, socket));
    Ok(())
}

/// `porthole bridge`: becomes the bridge in front of an engine's container, serving its Wayland
/// socket and X display from the host, so that its apps outlive the compositor.
pub fn bridge(name: &str, pid: Option<u32>, reconnect_grace: u64) -> anyhow::Result<()> {
    let Found { dir, x11, .. } = container_dir(name)?;
    anyhow::ensure!(
        !x11 || pid.is_some(),
        "container `{name}` has x11 = true: give --pid, a process of the engine's container \
         (e.g. `podman inspect -f '{{{{.State.Pid}}}}' NAME`), so that its X display shares the \
         container's IPC namespace"
    );
    let bridge = find_bridge()?;
    let mut command = std::process::Command::new(&bridge);
    command
        .args([
            "--serve-wayland",
            paths::BRIDGED_SOCKET,
            "--reconnect-grace",
        ])
        .arg(reconnect_grace.to_string())
        .env("XDG_RUNTIME_DIR", &dir)
        .env("WAYLAND_DISPLAY", dir.join(paths::CONTAINER_SOCKET));
    if x11 {
        command.arg("--x11-dir").arg(&dir);
    } else {
        command.arg("--no-x11");
    }
    if let Some(pid) = pid {
        command.arg("--pid").arg(pid.to_string());
    }
    let err = command.exec();
    Err(anyhow::anyhow!("cannot start {}: {err}", bridge.display()))
}

/// `porthole x11`: becomes the container's bridge, serving its X display from the host.
pub fn x11(name: &str, pid: u32) -> anyhow::Result<()> {
    let Found { dir, x11, .. } = container_dir(name)?;
    anyhow::ensure!(
        x11,
        "container `{name}` has x11 = false in the configuration"
    );
    let bridge = find_bridge()?;
    let err = std::process::Command::new(&bridge)
        .arg("--x11-dir")
        .arg(&dir)
        .arg("--pid")
        .arg(pid.to_string())
        .env("WAYLAND_DISPLAY", dir.join(paths::CONTAINER_SOCKET))
        .exec();
    Err(anyhow::anyhow!("cannot start {}: {err}", bridge.display()))
}

/// `porthole clipboard copy`.
pub fn clipboard(action: ClipboardCmd) -> anyhow::Result<()> {
    let ClipboardCmd::Copy { from, to } = action;
    let response = client::request(Command::ClipboardCopy {
        from: from.clone(),
        to: to.clone(),
    })?;
    if let Response::ClipboardCopied { mime, bytes } = response {
        println!("{bytes} bytes ({mime}) from {from} offered to {to}");
    }
    Ok(())
}

/// `porthole-bridge`: next to this executable (as cargo and packages install it), else on PATH.
fn find_bridge() -> anyhow::Result<PathBuf> {
    const NAME: &str = "porthole-bridge";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(NAME)));
    let on_path = || {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(NAME))
            .find(|p| p.is_file())
    };
    beside
        .filter(|p| p.is_file())
        .or_else(on_path)
        .with_context(|| {
            format!(
                "{NAME} is not installed next to porthole or on PATH; build it with \
             `cargo build --release -p porthole-bridge`, or run without X11 (--no-x11)"
            )
        })
}

/// A copy of the bridge that stays as it is, whatever becomes of the installed one, for a
/// checkpointable sandbox to map: CRIU restores a sandbox only with the files it mapped unchanged,
/// so rebuilding or upgrading the installed bridge between a checkpoint and its restore would
/// make the restore fail. Copies are named by their content
/// (`$XDG_STATE_HOME/porthole/bridges/porthole-bridge-SHA256`), so each build is copied once, and
/// are never changed.
fn lasting_bridge(installed: &std::path::Path) -> anyhow::Result<PathBuf> {
    use sha2::Digest as _;
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let bytes =
        std::fs::read(installed).with_context(|| format!("cannot read {}", installed.display()))?;
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    // Private directories: bwrap, running as the same user, mounts the file, whose own mode
    // lets the sandbox's user run it.
    let dir = paths::state_dir()?.join("porthole/bridges");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("porthole-bridge-{hex}"));
    if std::fs::read(&path).is_ok_and(|kept| kept == bytes) {
        return Ok(path);
    }
    // Written whole under another name, then renamed into place: a sandbox never maps half a
    // bridge, and one mapping an earlier copy keeps it.
    let tmp = dir.join(format!(".porthole-bridge-{hex}.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o755)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)
        .with_context(|| format!("cannot put the bridge at {}", path.display()))?;
    Ok(path)
}

/// A container's directory on the host, and whether it wants X11.
/// What the CLI needs to know of a container: where its socket is, and what it may have.
struct Found {
    /// The directory of its socket.
    dir: PathBuf,
    /// It has X11.
    x11: bool,
    /// Its profile is the trusted one.
    trusted: bool,
}

fn container_dir(name: &str) -> anyhow::Result<Found> {
    let Response::Containers { containers } = client::request(Command::Containers)? else {
        return Err(unexpected("containers"));
    };
    let container = containers
        .into_iter()
        .find(|c| c.name == name)
        .with_context(|| {
            format!("no container named `{name}`; create it with `porthole container add {name}`")
        })?;
    anyhow::ensure!(
        container.socket.starts_with('/'),
        "container `{name}` came from a security context: its socket belongs to its sandbox"
    );
    let socket = PathBuf::from(container.socket);
    let dir = socket.parent().map(PathBuf::from).unwrap_or(socket);
    Ok(Found {
        dir,
        x11: container.x11,
        trusted: container.profile == "trusted",
    })
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}KiB", n as f64 / 1024.0),
        n => format!("{n}B"),
    }
}
