//! The `porthole` commands: one file per group, each turning its arguments into control requests
//! (or, for `serve`, running the compositor) and printing what comes back.

mod containers;
mod input;
mod serve;
mod windows;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use porthole_ipc::{Command, Response};

use crate::config::Config;
use crate::ipc::client;

/// The command line of `porthole`.
#[derive(Parser)]
#[command(
    name = "porthole",
    version,
    about = "A Wayland compositor that gives every container its own window onto one desktop"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the compositor.
    Serve(serve::ServeArgs),
    /// Write what an output shows as PNG.
    Screenshot(windows::ScreenshotArgs),
    /// List mapped windows.
    Windows {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List outputs.
    Outputs {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change an output until the compositor stops; `[output.NAME]` in the configuration keeps
    /// settings across restarts.
    Output {
        #[command(subcommand)]
        command: windows::OutputCmd,
    },
    /// Print the version of this binary and of the running compositor.
    Version,
    /// Check that the compositor answers (within 5 s) and, with --max-frame-age, that every
    /// output showed a new frame that recently; exits 1 otherwise, saying why.
    Health {
        /// The most seconds an output may go without a new frame (for outputs whose apps
        /// animate: an idle desktop draws no frames).
        #[arg(long)]
        max_frame_age: Option<f64>,
    },
    /// Check a configuration file.
    Validate {
        /// The file to check.
        file: PathBuf,
    },
    /// Send synthetic input (for tests and scripting; only through the control socket).
    Input {
        #[command(subcommand)]
        input: input::InputCmd,
    },
    /// Act on a window (the focused one unless --id is given).
    Window {
        /// What to do.
        #[arg(value_enum)]
        action: windows::WindowActionArg,
        /// Window id from `porthole windows`.
        #[arg(long)]
        id: Option<u64>,
    },
    /// List containers.
    Containers {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add or remove a container at run time.
    Container {
        #[command(subcommand)]
        action: containers::ContainerCmd,
    },
    /// Run a command in a bubblewrap sandbox wired to a container (created if missing).
    Run(containers::RunArgs),
    /// Checkpoint a container started with `porthole run --checkpointable` with CRIU: its
    /// windows stay in place as placeholders, and the container is dumped and stopped. Needs
    /// root and CRIU 4 (PORTHOLE_CRIU).
    Checkpoint {
        /// The container.
        name: String,
        /// Where CRIU's images go (default: $XDG_STATE_HOME/porthole/checkpoints/NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Stop the container's processes that hold GPU state (which CRIU cannot dump) and
        /// start them again after the restore; without it, they make the checkpoint fail.
        #[arg(long)]
        stop_gpu_clients: bool,
    },
    /// Restore a checkpointed container: its windows take their places back.
    Restore {
        /// The container.
        name: String,
        /// Where `porthole checkpoint` put CRIU's images.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the flags that wire a container engine to a container.
    Env {
        /// The container.
        name: String,
        /// The engine.
        #[arg(long = "for", value_enum, default_value = "shell")]
        engine: crate::containers::sandbox::Engine,
        /// Wire its clients to the socket `porthole bridge` serves instead of the compositor's,
        /// so that they outlive the compositor.
        #[arg(long)]
        bridged: bool,
    },
    /// Serve a container's X display from the host, for a container an engine started with the
    /// flags of `porthole env` (Xwayland joins the IPC namespace of the container's process PID,
    /// so MIT-SHM works). Runs until interrupted.
    X11 {
        /// The container.
        name: String,
        /// A process of the engine's container, e.g. `podman inspect -f '{{.State.Pid}}' NAME`.
        #[arg(long)]
        pid: u32,
    },
    /// Put the container's bridge in front of a container an engine started with the flags of
    /// `porthole env --bridged`: it serves the container's Wayland socket (bridge-0 in its
    /// directory) and, with --pid, its X display, keeping every client while the compositor is
    /// gone (a crash, an upgrade) and forwarding their windows again when it is back. Runs until
    /// interrupted.
    Bridge {
        /// The container.
        name: String,
        /// A process of the engine's container, for its X display (Xwayland joins that
        /// process's IPC namespace, so MIT-SHM works), e.g. `podman inspect -f
        /// '{{.State.Pid}}' NAME`. Needed where the container has x11 = true.
        #[arg(long)]
        pid: Option<u32>,
        /// How long, in seconds, the apps wait for a compositor that went away to come back,
        /// before they are asked to close.
        #[arg(long, value_name = "SECONDS", default_value_t = crate::containers::sandbox::RECONNECT_GRACE)]
        reconnect_grace: u64,
    },
    /// Move a selection between containers (the person's explicit request).
    Clipboard {
        #[command(subcommand)]
        action: containers::ClipboardCmd,
    },
    /// Print compositor events as JSON lines until interrupted.
    Events,
    /// Stop the compositor.
    Quit,
    /// Stop the compositor and start its binary (a newly installed one, after an upgrade) in its
    /// place with the same arguments. Apps of bridged containers keep running and their windows
    /// come back; apps on the host socket are lost.
    Restart,
}

/// Carries out one `porthole` command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Serve(args) => serve::serve(args),
        Cmd::Screenshot(args) => windows::screenshot(args),
        Cmd::Windows { json } => windows::list_windows(json),
        Cmd::Outputs { json } => windows::list_outputs(json),
        Cmd::Output { command } => windows::output(command),
        Cmd::Window { action, id } => windows::window(action, id),
        Cmd::Input { input } => input::input(input),
        Cmd::Containers { json } => containers::list(json),
        Cmd::Container { action } => containers::container(action),
        Cmd::Run(args) => containers::run(args),
        Cmd::Env {
            name,
            engine,
            bridged,
        } => containers::env(&name, engine, bridged),
        Cmd::X11 { name, pid } => containers::x11(&name, pid),
        Cmd::Bridge {
            name,
            pid,
            reconnect_grace,
        } => containers::bridge(&name, pid, reconnect_grace),
        Cmd::Clipboard { action } => containers::clipboard(action),
        Cmd::Checkpoint {
            name,
            dir,
            stop_gpu_clients,
        } => crate::checkpoint::criu::checkpoint(&name, dir, stop_gpu_clients),
        Cmd::Restore { name, dir } => crate::checkpoint::criu::restore(&name, dir),
        Cmd::Version => {
            println!("porthole {}", env!("CARGO_PKG_VERSION"));
            match client::request(Command::Version) {
                Ok(Response::Version {
                    compositor,
                    wayland_socket,
                }) => println!("running compositor {compositor}, WAYLAND_DISPLAY={wayland_socket}"),
                Ok(_) => {}
                Err(err) => println!("no running compositor: {err:#}"),
            }
            Ok(())
        }
        Cmd::Health { max_frame_age } => health(max_frame_age),
        Cmd::Validate { file } => {
            let config = Config::load(&file)?;
            let warnings = crate::containers::color_warnings(&config)
                .into_iter()
                .chain(config.kiosk_warnings());
            for warning in warnings {
                println!("warning: {warning}");
            }
            println!("{}: valid", file.display());
            Ok(())
        }
        Cmd::Events => client::Connection::open()?.events(|event| {
            match serde_json::to_string(&event) {
                Ok(line) => println!("{line}"),
                Err(err) => eprintln!("porthole: unprintable event: {err}"),
            }
            true
        }),
        Cmd::Quit => {
            client::request(Command::Quit)?;
            Ok(())
        }
        Cmd::Restart => {
            client::request(Command::Restart)?;
            Ok(())
        }
    }
}

/// An unexpected reply: the compositor and this binary do not agree on the control API.
fn unexpected(what: &str) -> anyhow::Error {
    anyhow::anyhow!("unexpected reply to {what}: is the running compositor another version?")
}

/// `porthole health`: an answer within 5 s, and with `max_frame_age` no output without a frame
/// for longer. Prints each output's last frame; fails saying which check failed.
fn health(max_frame_age: Option<f64>) -> anyhow::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client::request(Command::Health));
    });
    let reply = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .map_err(|_| anyhow::anyhow!("the compositor did not answer within 5 s"))?;
    let Response::Health { outputs } = reply? else {
        anyhow::bail!("the compositor gave an unexpected answer to `health`");
    };
    let mut stale = Vec::new();
    for (name, age) in &outputs {
        match age {
            Some(ms) => println!("{name}: last frame {:.1} s ago", *ms as f64 / 1000.0),
            None => println!("{name}: no frame yet"),
        }
        let too_old =
            max_frame_age.is_some_and(|max| age.is_none_or(|ms| ms as f64 / 1000.0 > max));
        if too_old {
            stale.push(name.clone());
        }
    }
    anyhow::ensure!(
        stale.is_empty(),
        "no new frame within {} s on {}",
        max_frame_age.unwrap_or_default(),
        stale.join(", ")
    );
    Ok(())
}
