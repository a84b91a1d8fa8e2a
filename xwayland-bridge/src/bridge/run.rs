//! Starting the bridge: the server its container's clients talk to, the X socket, the command,
//! the signals it answers, and the event loop that runs until the command exits.

use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context as _;
use calloop::generic::Generic;
use calloop::signals::{Signal, Signals};
use calloop::{EventLoop, Interest, LoopHandle, Mode, PostAction, RegistrationToken};
use smithay::reexports::wayland_server::Display;
use tracing::{error, info, warn};

use super::Bridge;
use crate::native;
use crate::server::Server;
use crate::x11::display::XDisplay;
use crate::Cli;

/// Starts Xwayland when the first X11 client connects to the container's X socket.
fn listen_x11(
    loop_handle: &LoopHandle<'static, Bridge>,
    x_display: &XDisplay,
) -> anyhow::Result<RegistrationToken> {
    loop_handle
        .insert_source(
            Generic::new(x_display.listener.try_clone()?, Interest::READ, Mode::Level),
            |_, _, bridge| {
                if bridge.xwayland.is_none() {
                    if let Err(err) = bridge.start_xwayland() {
                        error!("{err:#}");
                        bridge.finish(ExitCode::FAILURE);
                    }
                }
                Ok(PostAction::Continue)
            },
        )
        .map_err(|err| anyhow::anyhow!("watching the X socket: {err}"))
}

/// Runs the bridge until its command exits or a signal stops it; returns the exit status.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Fail early, with a clear message, when the container's socket is not there; the bridge
    // connects for real when the first X11 client arrives (at once when it serves the
    // container's Wayland socket, below).
    if cli.serve_wayland.is_none() {
        drop(crate::host::connect()?);
    }

    let mut event_loop: EventLoop<'static, Bridge> =
        EventLoop::try_new().context("creating the event loop")?;
    let loop_handle = event_loop.handle();
    let mut display: Display<Bridge> =
        Display::new().context("creating the Xwayland-facing display")?;
    let dh = display.handle();

    let server = Server::new(&dh, cli.serve_wayland.is_some())?;

    super::process::join_namespaces(cli.pid, cli.ipc_namespace.as_deref())?;
    let x_display = if cli.no_x11 {
        None
    } else {
        Some(XDisplay::bind(cli.display, cli.x11_dir.as_deref())?)
    };
    let wayland_socket = match &cli.serve_wayland {
        Some(name) => Some(native::listen_wayland(&loop_handle, name)?),
        None => None,
    };

    // Children are reaped as they exit (the bridge may be the container's first process, and
    // then every orphan is its child); SIGUSR2 reconnects a detached bridge.
    // As the first process of a namespace, the bridge ignores any signal it does not handle:
    // SIGTERM and SIGINT stop it (and with it the container).
    let signals = Signals::new(&[
        Signal::SIGCHLD,
        Signal::SIGUSR2,
        Signal::SIGTERM,
        Signal::SIGINT,
    ])
    .context("watching signals")?;
    loop_handle
        .insert_source(signals, |event, _, bridge| match event.signal() {
            Signal::SIGUSR2 => {
                if let Err(err) = bridge.attach() {
                    warn!("cannot reconnect to the compositor: {err:#}; SIGUSR2 tries again");
                }
            }
            Signal::SIGCHLD => bridge.reap(),
            signal => {
                info!(?signal, "stopping");
                bridge.finish(ExitCode::from(128 + signal as i32 as u8));
            }
        })
        .map_err(|err| anyhow::anyhow!("watching signals: {err}"))?;

    // The command starts before Xwayland may inherit the listening socket.
    let command_pid = match cli.command.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            super::process::unblocked(&mut command)
                .args(args)
                .envs(x_display.iter().flat_map(|d| d.client_env()));
            if let Some(name) = &wayland_socket {
                command.env("WAYLAND_DISPLAY", name);
            }
            let child = command
                .spawn()
                .with_context(|| format!("starting {}", program.to_string_lossy()))?;
            rustix::process::Pid::from_raw(child.id() as i32)
        }
        None => None,
    };

    let listener = match &x_display {
        Some(x_display) => Some(listen_x11(&loop_handle, x_display)?),
        None => None,
    };

    let mut bridge = Bridge {
        server,
        host: None,
        host_source: None,
        host_writable: None,
        host_dispatched: false,
        display: x_display,
        xwm: None,
        retired_xwms: Vec::new(),
        xwayland: None,
        mirrors: Vec::new(),
        natives: Vec::new(),
        native_popups: Vec::new(),
        subsurfaces: Default::default(),
        sessions: Default::default(),
        cursor: Default::default(),
        proxy: cli.serve_wayland.is_some(),
        detached: false,
        awaiting: None,
        last_protocol_error: None,
        grace: std::time::Duration::from_secs(cli.reconnect_grace),
        last_token: 0,
        command_pid,
        focus: None,
        loop_handle: loop_handle.clone(),
        listener,
        shm_only: cli.shm_only,
        started: Instant::now(),
        signal: event_loop.get_signal(),
        exit: None,
    };
    let display_fd = display
        .backend()
        .poll_fd()
        .try_clone_to_owned()
        .context("watching the Xwayland-facing display")?;
    let display = std::rc::Rc::new(std::cell::RefCell::new(display));
    let dispatch = move |display: &std::cell::RefCell<Display<Bridge>>, bridge: &mut Bridge| {
        if let Err(err) = display.borrow_mut().dispatch_clients(bridge) {
            warn!(%err, "dispatching the container's requests failed");
        }
    };
    let on_fd = display.clone();
    loop_handle
        .insert_source(
            Generic::new(display_fd, Interest::READ, Mode::Level),
            move |_, _, bridge| {
                dispatch(&on_fd, bridge);
                Ok(PostAction::Continue)
            },
        )
        .map_err(|err| anyhow::anyhow!("watching the Xwayland-facing display: {err}"))?;

    // A command that exited before the signal source was polled is reaped on the first pass.
    // calloop's `run` forgets a stop asked for before it starts, so the bridge returns here
    // then; else it would serve on with nothing left to run (`porthole run` hung for a command
    // that exits at once, like wayland-info, when the machine was busy).
    bridge.reap();
    if let Some(code) = bridge.exit {
        return Ok(code);
    }
    if bridge.proxy {
        // The compositor learns at once that this container is checkpointable.
        bridge.connect_host()?;
        if bridge
            .host
            .as_ref()
            .is_some_and(|h| h.session_manager.is_some())
        {
            dh.create_global::<Bridge, porthole_protocols::session::server::xdg_session_manager_v1::XdgSessionManagerV1, _>(1, ());
        }
        if bridge.host.as_ref().is_some_and(|h| h.viewporter.is_some()) {
            let viewporter = smithay::wayland::viewporter::ViewporterState::new::<Bridge>(&dh);
            bridge.server.viewporter = Some(viewporter);
        }
        if bridge
            .host
            .as_ref()
            .is_some_and(|h| h.single_pixel.is_some())
        {
            use smithay::wayland::single_pixel_buffer::SinglePixelBufferState;
            bridge.server.single_pixel = Some(SinglePixelBufferState::new::<Bridge>(&dh));
        }
        if bridge.host.as_ref().is_some_and(|h| h.activation.is_some()) {
            use smithay::wayland::xdg_activation::XdgActivationState;
            bridge.server.activation = Some(XdgActivationState::new::<Bridge>(&dh));
        }
        if bridge.host.as_ref().is_some_and(|h| h.fractional.is_some()) {
            use smithay::wayland::fractional_scale::FractionalScaleManagerState;
            bridge.server.fractional = Some(FractionalScaleManagerState::new::<Bridge>(&dh));
        }
    }

    match &bridge.display {
        Some(x) => info!(display = x.number, "serving X11 for the container"),
        None => info!("serving the container's Wayland socket, without X11"),
    }
    event_loop.run(None, &mut bridge, |bridge| {
        // Events passed on from the compositor that end their object (a frame callback's done,
        // presentation feedback) leave its destructor pending until the next dispatch, and
        // wayland-backend arms a 1 ms timer for that dispatch when it flushes: a wakeup per
        // frame for nothing. Dispatching before the flush runs them now.
        if std::mem::take(&mut bridge.host_dispatched) {
            dispatch(&display, bridge);
        }
        if bridge.mirrors.iter().any(|m| m.surface.is_none()) {
            bridge.pair_surfaces();
        }
        if bridge.host_writable.is_none() {
            bridge.send_names();
            bridge.send_native_names();
        }
        bridge.server.dh.flush_clients().ok();
        bridge.flush_host();
    })?;
    Ok(bridge.exit.unwrap_or(ExitCode::SUCCESS))
}
