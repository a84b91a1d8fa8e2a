//! Starting the compositor: the backend chosen, the state built with its sockets and
//! configured containers, and the event loop run until it is asked to quit.

use std::path::PathBuf;

use anyhow::Context;
use smithay::reexports::calloop::EventLoop;
use smithay::reexports::wayland_server::Display;
use tracing::info;

pub use crate::backend::drm::RendererKind;
use crate::backend::{self, Backend};
use crate::config::{Config, OutputMode};
use crate::ipc::server::ControlServer;
use crate::state::{Porthole, State};

/// Which backend `porthole serve` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// drm on a text console (VT) with a GPU, winit inside another desktop, headless otherwise.
    Auto,
    /// Offscreen outputs, no display needed.
    Headless,
    /// A window on a running desktop.
    Winit,
    /// The machine's displays and input devices, as the desktop session.
    Drm,
}

impl BackendKind {
    /// What `auto` means here: winit when started inside another desktop (`WAYLAND_DISPLAY` or
    /// `DISPLAY` set), drm when started as a session (on a virtual terminal, or by a display
    /// manager, which sets `XDG_SESSION_TYPE`) on a machine with a GPU, headless otherwise.
    pub fn resolve(self) -> BackendKind {
        if self != BackendKind::Auto {
            return self;
        }
        let nested = ["WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        if nested {
            return BackendKind::Winit;
        }
        let on_vt = std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "tty" || t == "wayland")
            || std::fs::read_link("/proc/self/fd/0").is_ok_and(|p| {
                p.to_str()
                    .and_then(|p| p.strip_prefix("/dev/tty"))
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            });
        let has_gpu = std::fs::read_dir("/dev/dri").is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("card")))
        });
        if on_vt && has_gpu {
            BackendKind::Drm
        } else {
            BackendKind::Headless
        }
    }
}

/// Options of `porthole serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The backend.
    pub backend: BackendKind,
    /// The renderer, for the headless and drm backends.
    pub renderer: RendererKind,
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
            renderer: RendererKind::Pixman,
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
    comp.clients.display_ping = Some(State::insert_display(&event_loop.handle(), display)?);
    let kind = options.backend.resolve();
    info!(backend = ?kind, renderer = ?options.renderer, "starting");
    let backend = match kind {
        BackendKind::Headless | BackendKind::Auto => {
            let modes = options
                .outputs
                .unwrap_or_else(|| options.config.headless.outputs.clone());
            anyhow::ensure!(
                !modes.is_empty(),
                "the headless backend needs at least one output"
            );
            match options.renderer {
                RendererKind::Gles => {
                    let renderer = backend::headless::surfaceless_gles()?;
                    let headless = backend::headless::Headless::new(&mut comp, &modes, renderer)?;
                    Backend::HeadlessGles(Box::new(headless))
                }
                RendererKind::Pixman | RendererKind::Auto => {
                    let renderer = smithay::backend::renderer::pixman::PixmanRenderer::new()
                        .context("cannot create the pixman renderer")?;
                    Backend::Headless(backend::headless::Headless::new(
                        &mut comp, &modes, renderer,
                    )?)
                }
            }
        }
        BackendKind::Winit => Backend::Winit(Box::new(backend::winit::Winit::new(&mut comp)?)),
        BackendKind::Drm => Backend::Drm(Box::new(backend::drm::Drm::new(
            &mut comp,
            options.renderer,
        )?)),
    };
    match &options.socket {
        HostSocket::Auto => comp.listen_host_socket(None)?,
        HostSocket::Named(name) => comp.listen_host_socket(Some(name))?,
        HostSocket::None => {}
    }
    if let Some(path) = &options.control_socket {
        comp.control = Some(ControlServer::start(
            path,
            &comp.loop_handle,
            comp.quit_requested.clone(),
            comp.restart_requested.clone(),
            comp.loop_signal.clone(),
            |msg, state: &mut State| state.handle_control_message(msg),
        )?);
    }
    comp.add_configured_containers()?;
    comp.adopt_live_containers();
    comp.load_placeholders();
    if options.socket != HostSocket::None {
        for command in comp.config.session.autostart.clone() {
            comp.spawn(&command);
        }
    }
    comp.supervise_configured_apps();
    if comp.apps.any() {
        use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
        comp.loop_handle
            .insert_source(Timer::immediate(), |_, _, state: &mut State| {
                match state.comp.tend_apps() {
                    Some(next) => TimeoutAction::ToDuration(next),
                    None => TimeoutAction::Drop,
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the supervised apps: {err}"))?;
    }
    Ok(State { backend, comp })
}

/// Runs the compositor until it is asked to quit.
pub fn serve(options: ServeOptions) -> anyhow::Result<()> {
    // What `porthole restart` starts again: the binary at this path (an upgrade replaces what
    // is there), with the arguments and environment this one started with.
    let again = Again::now();
    crate::fds::raise_limit();
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
    state.comp.record_session_places();
    let restart = state
        .comp
        .restart_requested
        .load(std::sync::atomic::Ordering::SeqCst);
    // Sockets, outputs and the seat are let go of before the next binary takes them.
    drop(state);
    drop(event_loop);
    if restart {
        info!(binary = %again.binary.display(), "porthole restarts");
        return Err(again.exec());
    }
    info!("porthole stopped");
    Ok(())
}

/// How this compositor was started, to start it again in its place.
struct Again {
    binary: std::path::PathBuf,
    args: Vec<std::ffi::OsString>,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
}

impl Again {
    fn now() -> Self {
        Self {
            binary: std::env::current_exe().unwrap_or_else(|_| "porthole".into()),
            args: std::env::args_os().skip(1).collect(),
            env: std::env::vars_os().collect(),
        }
    }

    /// Replaces this process with the binary; returns only if it cannot.
    fn exec(self) -> anyhow::Error {
        use std::os::unix::process::CommandExt as _;
        // It raises the file limit itself, from where this one found it.
        let _ = crate::fds::restore_limit_in_child();
        let err = std::process::Command::new(&self.binary)
            .args(&self.args)
            .env_clear()
            .envs(self.env)
            .exec();
        anyhow::anyhow!(
            "cannot start {} again: {err}; start porthole by hand",
            self.binary.display()
        )
    }
}
