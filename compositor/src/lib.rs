//! Porthole: a Wayland compositor that gives every container its own window onto one desktop.

pub mod backend;
pub mod clipboard;
pub mod config;
pub mod container;
pub mod control;
pub mod ctl;
pub mod decorations;
pub mod fuzzing;
pub mod grabs;
mod handlers;
pub mod input;
pub mod policy;
pub mod render;
pub mod sandbox;
pub mod shell;
pub mod state;

use std::path::PathBuf;

use anyhow::Context;
use smithay::reexports::calloop::EventLoop;
use smithay::reexports::wayland_server::Display;
use tracing::info;

use crate::backend::Backend;
use crate::config::{Config, OutputMode};
use crate::control::ControlServer;
use crate::state::{Porthole, State};

/// Which backend `porthole serve` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Offscreen outputs, no display needed.
    Headless,
    /// A window on a running desktop.
    Winit,
}

/// Options of `porthole serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The backend.
    pub backend: BackendKind,
    /// The configuration, already loaded.
    pub config: Config,
    /// Headless outputs; the configuration's when absent.
    pub outputs: Option<Vec<OutputMode>>,
    /// The host socket: auto-named, named, or none (in-process tests insert clients directly).
    pub socket: HostSocket,
    /// Control socket path; none for in-process tests.
    pub control_socket: Option<PathBuf>,
}

/// How the trusted host socket is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSocket {
    /// The first free `wayland-N` in `$XDG_RUNTIME_DIR`.
    Auto,
    /// This name in `$XDG_RUNTIME_DIR`.
    Named(String),
    /// No listening socket.
    None,
}

impl ServeOptions {
    /// Headless, no sockets: for tests that drive the compositor in-process.
    pub fn in_process(config: Config, outputs: Vec<OutputMode>) -> Self {
        Self {
            backend: BackendKind::Headless,
            config,
            outputs: Some(outputs),
            socket: HostSocket::None,
            control_socket: None,
        }
    }
}

/// Builds the compositor state with a backend, ready to run.
pub fn build(
    event_loop: &EventLoop<'static, State>,
    options: ServeOptions,
) -> anyhow::Result<State> {
    let display: Display<State> = Display::new().context("cannot create the Wayland display")?;
    let mut comp = Porthole::new(
        options.config.clone(),
        &display,
        event_loop.handle(),
        event_loop.get_signal(),
    )?;
    comp.display_ping = Some(State::insert_display(&event_loop.handle(), display)?);
    let backend = match options.backend {
        BackendKind::Headless => {
            let modes = options
                .outputs
                .unwrap_or_else(|| options.config.headless.outputs.clone());
            anyhow::ensure!(
                !modes.is_empty(),
                "the headless backend needs at least one output"
            );
            Backend::Headless(backend::headless::Headless::new(&mut comp, &modes)?)
        }
        BackendKind::Winit => Backend::Winit(Box::new(backend::winit::Winit::new(&mut comp)?)),
    };
    match &options.socket {
        HostSocket::Auto => comp.listen_host_socket(None)?,
        HostSocket::Named(name) => comp.listen_host_socket(Some(name))?,
        HostSocket::None => {}
    }
    if let Some(path) = &options.control_socket {
        comp.control = Some(ControlServer::start(&mut comp, path)?);
    }
    comp.add_configured_containers()?;
    Ok(State { backend, comp })
}

/// Runs the compositor until it is asked to quit.
pub fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let mut event_loop: EventLoop<'static, State> =
        EventLoop::try_new().context("cannot create the event loop")?;
    let control = options.control_socket.clone().unwrap_or_default();
    let mut state = build(&event_loop, options)?;
    info!(socket = %state.comp.socket_name, "porthole is running");
    println!(
        "porthole: WAYLAND_DISPLAY={} control={}",
        state.comp.socket_name,
        control.display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    event_loop
        .run(None, &mut state, |state| state.refresh_and_flush())
        .context("the event loop failed")?;
    info!("porthole stopped");
    Ok(())
}
