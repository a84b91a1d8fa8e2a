//! `porthole-bridge`: one container's X11 display.
//!
//! It runs inside the container (as the first process of `porthole run`, so it shares the
//! container's namespaces), listens on the container's own `/tmp/.X11-unix/X0`, starts a rootless
//! Xwayland there on the first X11 connection, is that Xwayland's window manager and Wayland
//! compositor, and forwards its windows to the container's Wayland socket as an ordinary client
//! of the container. Xwayland's MIT-SHM segments are therefore the container's own, and X11
//! windows get exactly the container's policy, decorations and clipboard.
//!
//! With `--serve-wayland` (a checkpointable container, `porthole run --checkpointable`) it also
//! serves the container's Wayland socket to the container's native clients, and is the
//! container's only client of the compositor: every client's state stays in the container, so
//! that the bridge can let go of the compositor before a CRIU checkpoint and forward every window
//! again after the restore (see [`native`] and [`bridge::Bridge::detach`]).
//!
//! The modules follow the data path: [`x11`] and [`native`] face the container's clients,
//! [`server`] is the Wayland server both kinds talk to, [`host`] is the bridge's connection to
//! the compositor, [`selection`] is where their clipboards meet, [`dnd`] where their drags do, and [`bridge`] holds it all
//! together and runs it.

mod bridge;
mod dnd;
mod host;
mod native;
mod selection;
mod server;
mod shm;
mod x11;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Runs a container's rootless Xwayland and forwards its windows to the container's Wayland
/// socket ($WAYLAND_DISPLAY).
#[derive(Debug, Parser)]
#[command(name = "porthole-bridge", version)]
pub struct Cli {
    /// The X display number to serve (its socket is /tmp/.X11-unix/X<N>).
    #[arg(long, default_value_t = 0)]
    display: u32,
    /// Keep Xwayland free of GPU state: render with shared memory only (Xwayland -shm).
    #[arg(long)]
    shm_only: bool,
    /// Serve no X display, only the container's Wayland socket (with --serve-wayland): for a
    /// container with x11 = false.
    #[arg(long, requires = "serve_wayland", conflicts_with_all = ["x11_dir", "shm_only"])]
    no_x11: bool,
    /// Serve a container from the host: put the X socket in DIR/X11-unix (which the container
    /// mounts at /tmp/.X11-unix) and the cookie in DIR/Xauthority, instead of under /tmp.
    #[arg(long, value_name = "DIR")]
    x11_dir: Option<std::path::PathBuf>,
    /// Join the IPC namespace (and, when it is not ours, the user namespace) of the container's
    /// process PID first, so that Xwayland shares MIT-SHM segments with the container.
    #[arg(long, conflicts_with = "ipc_namespace")]
    pid: Option<u32>,
    /// Join this IPC namespace first (a path like /proc/PID/ns/ipc).
    #[arg(long, value_name = "PATH")]
    ipc_namespace: Option<std::path::PathBuf>,
    /// Serve the container's Wayland socket too, as $XDG_RUNTIME_DIR/NAME, and forward its
    /// native clients' windows: the bridge becomes the container's only client of the compositor
    /// (whose socket $WAYLAND_DISPLAY names), so that the container can be checkpointed. The
    /// command gets WAYLAND_DISPLAY=NAME.
    #[arg(long, value_name = "NAME")]
    serve_wayland: Option<String>,
    /// With --serve-wayland: how long, in seconds, the container's apps wait for a compositor
    /// that went away to come back, before they are asked to close (then sent SIGTERM).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    reconnect_grace: u64,
    /// Send the bridge's and the command's output to FILE, with stdin from /dev/null (a
    /// checkpointable container must hold no file from outside it).
    #[arg(long, value_name = "FILE")]
    log: Option<std::path::PathBuf>,
    /// The command to run with DISPLAY set; the bridge exits with its status.
    #[arg(last = true)]
    command: Vec<OsString>,
}

fn main() -> ExitCode {
    if x11::display::invoked_as_wrapper() {
        let err = x11::display::exec_real_xwayland();
        eprintln!("porthole-bridge: {err:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    if let Some(log) = &cli.log {
        if let Err(err) = bridge::process::redirect_output(log) {
            eprintln!("porthole-bridge: cannot write to {}: {err}", log.display());
            return ExitCode::FAILURE;
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTHOLE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match bridge::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("porthole-bridge: {err:#}");
            ExitCode::FAILURE
        }
    }
}
