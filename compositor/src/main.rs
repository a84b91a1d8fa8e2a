//! The `porthole` command: runs the compositor (`serve`) and talks to a running one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use clap::{Parser, Subcommand};
use porthole::config::{Config, OutputMode};
use porthole::control::socket_path;
use porthole::ctl;
use porthole::{BackendKind, RendererKind};
use porthole_ipc::{Command, InputAction, Response, WindowAction};

#[derive(Parser)]
#[command(
    name = "porthole",
    version,
    about = "A Wayland compositor that gives every container its own window onto one desktop"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum OutputCmd {
    /// Set an output's mode, position, scale, transform or whether it is lit.
    Set {
        /// The output, as `porthole outputs` names it (e.g. HDMI-A-1).
        name: String,
        /// WIDTHxHEIGHT[@HZ]: the output's mode closest to it.
        #[arg(long)]
        mode: Option<String>,
        /// X,Y: its top-left corner in the global space.
        #[arg(long, value_parser = parse_position, allow_hyphen_values = true)]
        position: Option<[i32; 2]>,
        /// Scale factor, 0.5 to 4.
        #[arg(long)]
        scale: Option<f64>,
        /// normal, 90, 180, 270, flipped, flipped-90, flipped-180 or flipped-270.
        #[arg(long)]
        transform: Option<String>,
        /// Turn the output on.
        #[arg(long, conflicts_with = "off")]
        on: bool,
        /// Turn the output off.
        #[arg(long)]
        off: bool,
    },
}

/// Prints outputs a line each, or as JSON.
fn print_outputs(outputs: &[porthole_ipc::OutputInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(outputs)?);
        return Ok(());
    }
    for o in outputs {
        let g = &o.geometry;
        println!(
            "{}: {}x{}@{:.3}Hz at {},{} scale {} transform {}",
            o.name,
            o.mode_width,
            o.mode_height,
            o.refresh_mhz as f64 / 1000.0,
            g.x,
            g.y,
            o.scale,
            o.transform
        );
        if o.modes.len() > 1 {
            println!("  modes: {}", o.modes.join(" "));
        }
    }
    Ok(())
}

fn parse_position(text: &str) -> Result<[i32; 2], String> {
    let bad = || format!("`{text}` is not a position: write X,Y, e.g. 1920,0");
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    Ok([
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    ])
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the compositor.
    Serve {
        /// Where to draw: drm (the machine's displays, as the desktop session), winit (a window
        /// on a running desktop), headless (offscreen), or auto: drm on a text console, winit
        /// inside a desktop, headless otherwise.
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendKind,
        /// How to draw: gles (GPU, or Mesa's llvmpipe), pixman (CPU), or auto (drm: gles where
        /// EGL works, pixman otherwise; headless: pixman).
        #[arg(long, value_enum, default_value = "auto")]
        renderer: RendererKind,
        /// Configuration file (default: $XDG_CONFIG_HOME/porthole/config.toml if it exists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Headless outputs, e.g. 1280x720,1920x1080@60.
        #[arg(long)]
        outputs: Option<String>,
        /// Name of the host Wayland socket in $XDG_RUNTIME_DIR (default: first free wayland-N).
        #[arg(long)]
        socket: Option<String>,
    },
    /// Write what an output shows as PNG.
    Screenshot {
        /// The PNG file to write.
        file: PathBuf,
        /// Output name (default: the first).
        #[arg(long)]
        output: Option<String>,
        /// Draw only this container's windows (`host` for the host's).
        #[arg(long)]
        container: Option<String>,
        /// Draw the pointer too.
        #[arg(long)]
        cursor: bool,
    },
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
        command: OutputCmd,
    },
    /// Print the version of this binary and of the running compositor.
    Version,
    /// Check a configuration file.
    Validate {
        /// The file to check.
        file: PathBuf,
    },
    /// Send synthetic input (for tests and scripting; only through the control socket).
    Input {
        #[command(subcommand)]
        input: InputCmd,
    },
    /// Act on a window (the focused one unless --id is given).
    Window {
        /// What to do.
        #[arg(value_enum)]
        action: WindowActionArg,
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
        action: ContainerCmd,
    },
    /// Run a command in a bubblewrap sandbox wired to a container (created if missing).
    Run {
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
        #[arg(long, conflicts_with_all = ["no_x11", "network"])]
        checkpointable: bool,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
        command: Vec<std::ffi::OsString>,
    },
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
        engine: porthole::sandbox::Engine,
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
    /// Move a selection between containers (the person's explicit request).
    Clipboard {
        #[command(subcommand)]
        action: ClipboardCmd,
    },
    /// Print compositor events as JSON lines until interrupted.
    Events,
    /// Stop the compositor.
    Quit,
}

#[derive(Subcommand)]
enum ClipboardCmd {
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

#[derive(Subcommand)]
enum InputCmd {
    /// Press and release a key combination, e.g. Return, ctrl+c, super+shift+q.
    Key { combo: String },
    /// Type text.
    Type { text: String },
    /// Move the pointer to global coordinates.
    Move { x: f64, y: f64 },
    /// Click a button (left, right, middle).
    Click {
        #[arg(default_value = "left")]
        button: String,
    },
    /// Press or release a button and keep it so (for drags).
    Button {
        button: String,
        #[arg(value_parser = ["press", "release"])]
        state: String,
    },
    /// Press or release a key by keysym name and keep it so (e.g. Super_L press).
    KeyState {
        key: String,
        #[arg(value_parser = ["press", "release"])]
        state: String,
    },
    /// Scroll by wheel steps (positive is down).
    Scroll {
        #[arg(allow_hyphen_values = true)]
        steps: f64,
    },
}

#[derive(Subcommand)]
enum ContainerCmd {
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
    },
    /// Disconnect its clients and remove its directory.
    Remove {
        /// The container.
        name: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum WindowActionArg {
    Focus,
    Close,
    Maximize,
    Fullscreen,
    Minimize,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTHOLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("porthole: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn default_config() -> anyhow::Result<Config> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    match base.map(|b| b.join("porthole/config.toml")) {
        Some(path) if path.exists() => Config::load(&path),
        _ => Ok(Config::default()),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Serve {
            backend,
            renderer,
            config,
            outputs,
            socket,
        } => {
            let config = match config {
                Some(path) => Config::load(&path)?,
                None => default_config()?,
            };
            let outputs = outputs
                .map(|o| OutputMode::parse_list(&o))
                .transpose()
                .map_err(|err| anyhow::anyhow!("--outputs: {err}"))?;
            porthole::serve(porthole::ServeOptions {
                backend,
                renderer,
                config,
                outputs,
                socket: socket.map_or(porthole::HostSocket::Auto, porthole::HostSocket::Named),
                control_socket: Some(socket_path()?),
            })
        }
        Cmd::Screenshot {
            file,
            output,
            container,
            cursor,
        } => {
            let Response::Screenshot {
                png_base64,
                output,
                width,
                height,
            } = ctl::request(Command::Screenshot {
                output,
                container,
                cursor,
            })?
            else {
                anyhow::bail!("unexpected reply to screenshot");
            };
            let png = base64::engine::general_purpose::STANDARD
                .decode(png_base64)
                .context("the compositor sent an unreadable image")?;
            std::fs::write(&file, png)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!("{}: {output} {width}x{height}", file.display());
            Ok(())
        }
        Cmd::Windows { json } => {
            let Response::Windows { windows } = ctl::request(Command::Windows)? else {
                anyhow::bail!("unexpected reply to windows");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&windows)?);
            } else {
                println!(
                    "{:>4}  {:<12} {:<20} {:<24} {:<12} {:<22} FLAGS",
                    "ID", "CONTAINER", "APP_ID", "TITLE", "OUTPUT", "GEOMETRY"
                );
                for w in windows {
                    let g = w.geometry;
                    let mut flags = Vec::new();
                    for (on, name) in [
                        (w.focused, "focused"),
                        (w.maximized, "maximized"),
                        (w.fullscreen, "fullscreen"),
                        (w.minimized, "minimized"),
                        (w.checkpointed, "checkpointed"),
                    ] {
                        if on {
                            flags.push(name);
                        }
                    }
                    println!(
                        "{:>4}  {:<12} {:<20} {:<24} {:<12} {:<22} {}",
                        w.id,
                        w.container,
                        truncate(&w.app_id, 20),
                        truncate(&w.title, 24),
                        w.output.unwrap_or_else(|| "-".into()),
                        format!("{}x{}+{}+{}", g.width, g.height, g.x, g.y),
                        flags.join(",")
                    );
                }
            }
            Ok(())
        }
        Cmd::Output {
            command:
                OutputCmd::Set {
                    name,
                    mode,
                    position,
                    scale,
                    transform,
                    on,
                    off,
                },
        } => {
            let enabled = match (on, off) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let Response::Outputs { outputs } = ctl::request(Command::OutputSet {
                name,
                mode,
                position,
                scale,
                transform,
                enabled,
            })?
            else {
                anyhow::bail!("unexpected reply to output set");
            };
            print_outputs(&outputs, false)
        }
        Cmd::Outputs { json } => {
            let Response::Outputs { outputs } = ctl::request(Command::Outputs)? else {
                anyhow::bail!("unexpected reply to outputs");
            };
            print_outputs(&outputs, json)
        }
        Cmd::Version => {
            println!("porthole {}", env!("CARGO_PKG_VERSION"));
            match ctl::request(Command::Version) {
                Ok(Response::Version {
                    compositor,
                    wayland_socket,
                }) => println!("running compositor {compositor}, WAYLAND_DISPLAY={wayland_socket}"),
                Ok(_) => {}
                Err(err) => println!("no running compositor: {err:#}"),
            }
            Ok(())
        }
        Cmd::Validate { file } => {
            Config::load(&file)?;
            println!("{}: valid", file.display());
            Ok(())
        }
        Cmd::Input { input } => {
            let input = match input {
                InputCmd::Key { combo } => InputAction::Key { combo },
                InputCmd::Type { text } => InputAction::Type { text },
                InputCmd::Move { x, y } => InputAction::PointerMove { x, y },
                InputCmd::Click { button } => InputAction::Click { button },
                InputCmd::Button { button, state } => InputAction::Button {
                    button,
                    pressed: state == "press",
                },
                InputCmd::KeyState { key, state } => InputAction::KeyState {
                    key,
                    pressed: state == "press",
                },
                InputCmd::Scroll { steps } => InputAction::Scroll { steps },
            };
            ctl::request(Command::Input { input })?;
            Ok(())
        }
        Cmd::Window { action, id } => {
            let action = match action {
                WindowActionArg::Focus => WindowAction::Focus,
                WindowActionArg::Close => WindowAction::Close,
                WindowActionArg::Maximize => WindowAction::ToggleMaximize,
                WindowActionArg::Fullscreen => WindowAction::ToggleFullscreen,
                WindowActionArg::Minimize => WindowAction::Minimize,
            };
            ctl::request(Command::Window { action, id })?;
            Ok(())
        }
        Cmd::Containers { json } => {
            let Response::Containers { containers } = ctl::request(Command::Containers)? else {
                anyhow::bail!("unexpected reply to containers");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&containers)?);
            } else {
                println!(
                    "{:<16} {:<10} {:<8} {:>7} {:>7} {:>10}  SOCKET",
                    "NAME", "PROFILE", "COLOR", "CLIENTS", "WINDOWS", "SHM"
                );
                for c in containers {
                    println!(
                        "{:<16} {:<10} {:<8} {:>7} {:>7} {:>10}  {}",
                        c.name,
                        c.profile,
                        c.color,
                        c.clients,
                        c.windows,
                        human_bytes(c.shm_bytes),
                        c.socket
                    );
                }
            }
            Ok(())
        }
        Cmd::Container { action } => {
            match action {
                ContainerCmd::Add {
                    name,
                    profile,
                    color,
                } => {
                    ctl::request(Command::ContainerAdd {
                        name: name.clone(),
                        profile,
                        color,
                    })?;
                    let (dir, _) = container_dir(&name)?;
                    println!("{}", dir.display());
                }
                ContainerCmd::Remove { name } => {
                    ctl::request(Command::ContainerRemove { name })?;
                }
            }
            Ok(())
        }
        Cmd::Env { name, engine } => {
            let (dir, x11) = container_dir(&name)?;
            println!("{}", porthole::sandbox::env_flags(&dir, engine, x11));
            Ok(())
        }
        Cmd::X11 { name, pid } => {
            let (dir, x11) = container_dir(&name)?;
            anyhow::ensure!(
                x11,
                "container `{name}` has x11 = false in the configuration"
            );
            let bridge = find_bridge()?;
            use std::os::unix::process::CommandExt;
            let err = std::process::Command::new(&bridge)
                .arg("--x11-dir")
                .arg(&dir)
                .arg("--pid")
                .arg(pid.to_string())
                .env(
                    "WAYLAND_DISPLAY",
                    dir.join(porthole::container::SOCKET_NAME),
                )
                .exec();
            Err(anyhow::anyhow!("cannot start {}: {err}", bridge.display()))
        }
        Cmd::Checkpoint {
            name,
            dir,
            stop_gpu_clients,
        } => porthole::criu::checkpoint(&name, dir, stop_gpu_clients),
        Cmd::Restore { name, dir } => porthole::criu::restore(&name, dir),
        Cmd::Run {
            name,
            network,
            no_x11,
            checkpointable,
            command,
        } => {
            if checkpointable {
                // CRIU cannot restore a user namespace together with a network namespace, the
                // one bwrap makes for an ordinary user: root starts checkpointable containers.
                porthole::criu::ensure_root("porthole run --checkpointable")?;
            }
            let (dir, x11) = match container_dir(&name) {
                Ok(found) => found,
                Err(_) => {
                    ctl::request(Command::ContainerAdd {
                        name: name.clone(),
                        profile: None,
                        color: None,
                    })?;
                    eprintln!("porthole: created container `{name}` (untrusted)");
                    container_dir(&name)?
                }
            };
            let bridge = if (x11 && !no_x11) || checkpointable {
                Some(find_bridge()?)
            } else {
                None
            };
            let sandbox = if checkpointable {
                porthole::sandbox::Sandbox::Checkpointable
            } else {
                porthole::sandbox::Sandbox::Plain
            };
            let args = porthole::sandbox::bwrap_args(
                &dir,
                &name,
                network,
                bridge.as_deref(),
                sandbox,
                &command,
            );
            if checkpointable {
                anyhow::ensure!(
                    x11,
                    "container `{name}` has x11 = false: a checkpointable container needs its \
                     bridge (porthole-bridge), which serves its X display and Wayland socket"
                );
                porthole::criu::start_checkpointable(&args, &name)?;
                eprintln!(
                    "porthole: `{name}` runs in the background, checkpointable; its output goes \
                     to {} inside it",
                    porthole::sandbox::CHECKPOINTABLE_LOG
                );
                return Ok(());
            }
            use std::os::unix::process::CommandExt;
            let err = std::process::Command::new("bwrap").args(&args).exec();
            Err(anyhow::anyhow!(
                "cannot start bwrap: {err}; install bubblewrap (apt-get install bubblewrap)"
            ))
        }
        Cmd::Clipboard {
            action: ClipboardCmd::Copy { from, to },
        } => {
            let response = ctl::request(Command::ClipboardCopy {
                from: from.clone(),
                to: to.clone(),
            })?;
            if let Response::ClipboardCopied { mime, bytes } = response {
                println!("{bytes} bytes ({mime}) from {from} offered to {to}");
            }
            Ok(())
        }
        Cmd::Events => ctl::Connection::open()?.events(|event| {
            match serde_json::to_string(&event) {
                Ok(line) => println!("{line}"),
                Err(err) => eprintln!("porthole: unprintable event: {err}"),
            }
            true
        }),
        Cmd::Quit => {
            ctl::request(Command::Quit)?;
            Ok(())
        }
    }
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

/// A container's directory on the host, and whether it wants X11.
fn container_dir(name: &str) -> anyhow::Result<(PathBuf, bool)> {
    let Response::Containers { containers } = ctl::request(Command::Containers)? else {
        anyhow::bail!("unexpected reply to containers");
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
    Ok((dir, container.x11))
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}KiB", n as f64 / 1024.0),
        n => format!("{n}B"),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
