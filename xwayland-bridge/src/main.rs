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
//! again after the restore (see [`native`] and [`Bridge::detach`]).

mod host;
mod native;
mod selection;
mod server;
mod x11;

use std::ffi::OsString;
use std::os::fd::AsFd as _;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use calloop::generic::Generic;
use calloop::signals::{Signal, Signals};
use calloop::{EventLoop, Interest, LoopHandle, LoopSignal, Mode, PostAction, RegistrationToken};
use clap::Parser;
use smithay::input::keyboard::KeyboardHandle;
use smithay::input::keyboard::XkbConfig;
use smithay::input::pointer::PointerHandle;
use smithay::input::{Seat, SeatState};
use smithay::output::{Mode as OutputMode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{Client, Display, DisplayHandle};
use smithay::utils::Transform;
use smithay::wayland::compositor::CompositorState;
use smithay::wayland::output::OutputManagerState;
use smithay::wayland::shm::ShmState;
use smithay::wayland::xwayland_shell::XWaylandShellState;
use smithay::xwayland::{X11Surface, X11Wm, XWayland, XWaylandEvent};
use tracing::{error, info, warn};
use wayland_client::backend::WaylandError;
use wayland_client::globals::registry_queue_init;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::Connection;

use crate::host::Host;
use crate::server::KeyFocus;
use crate::x11::display::XDisplay;
use crate::x11::mirror::Mirror;

/// Runs a container's rootless Xwayland and forwards its windows to the container's Wayland
/// socket ($WAYLAND_DISPLAY).
#[derive(Debug, Parser)]
#[command(name = "porthole-bridge", version)]
struct Cli {
    /// The X display number to serve (its socket is /tmp/.X11-unix/X<N>).
    #[arg(long, default_value_t = 0)]
    display: u32,
    /// Keep Xwayland free of GPU state: render with shared memory only (Xwayland -shm).
    #[arg(long)]
    shm_only: bool,
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
    /// Send the bridge's and the command's output to FILE, with stdin from /dev/null (a
    /// checkpointable container must hold no file from outside it).
    #[arg(long, value_name = "FILE")]
    log: Option<std::path::PathBuf>,
    /// The command to run with DISPLAY set; the bridge exits with its status.
    #[arg(last = true)]
    command: Vec<OsString>,
}

/// The server side: what Xwayland connects to.
pub struct Server {
    pub dh: DisplayHandle,
    pub compositor: CompositorState,
    pub shm: ShmState,
    pub seat_state: SeatState<Bridge>,
    pub seat: Seat<Bridge>,
    pub keyboard: KeyboardHandle<Bridge>,
    pub pointer: PointerHandle<Bridge>,
    pub output: Output,
    pub xwayland_shell: XWaylandShellState,
    _outputs: OutputManagerState,
    /// xdg-shell and xdg-decoration for the container's native clients (with --serve-wayland).
    pub native: Option<native::NativeServer>,
}

/// A running Xwayland.
pub struct Running {
    pub client: Client,
    token: RegistrationToken,
}

pub struct Bridge {
    pub server: Server,
    /// The connection to the container's socket, open while Xwayland runs: an idle container
    /// has neither an X server nor an extra client.
    pub host: Option<Host>,
    host_source: Option<RegistrationToken>,
    /// Set while the container's socket is full: a watch for it to drain. Until then the bridge
    /// holds back what can wait (title changes), see [`Bridge::flush_host`].
    host_writable: Option<RegistrationToken>,
    pub display: XDisplay,
    pub xwm: Option<X11Wm>,
    /// Window managers of Xwaylands that are gone, kept a while: smithay's X11 event and
    /// selection sources may still call back for them, and must find them.
    pub retired_xwms: Vec<X11Wm>,
    pub xwayland: Option<Running>,
    pub mirrors: Vec<Mirror>,
    /// The container's native toplevels and popups (with --serve-wayland).
    pub natives: Vec<native::Native>,
    pub native_popups: Vec<native::NativePopup>,
    /// Their subsurfaces.
    pub subsurfaces: native::subsurface::Subsurfaces,
    /// Their sessions (xdg-session-management-v1).
    pub sessions: native::session::Sessions,
    /// The pointer's image the clients set.
    pub cursor: host::cursor::Cursor,
    /// Serving the container's Wayland socket: the host connection outlives Xwayland, and
    /// losing it keeps every client (see [`Bridge::detach`]).
    pub proxy: bool,
    /// Let go of the host (asked to before a checkpoint, or the host went away): the clients wait,
    /// their frame callbacks unanswered, until [`Bridge::attach`].
    pub detached: bool,
    /// The last window token handed out (porthole_bridge_v1.set_slot).
    pub last_token: u64,
    /// The command's process, reaped by [`Bridge::reap`].
    command_pid: Option<rustix::process::Pid>,
    /// The X11 window with the keyboard focus.
    pub focus: Option<X11Surface>,
    pub loop_handle: LoopHandle<'static, Bridge>,
    listener: RegistrationToken,
    shm_only: bool,
    started: Instant,
    signal: LoopSignal,
    exit: Option<ExitCode>,
}

impl Bridge {
    /// Milliseconds since the bridge started, for event and frame timestamps.
    pub fn now_ms(&self) -> u32 {
        self.started.elapsed().as_millis() as u32
    }

    /// An X11 client connected while no Xwayland runs: start one. The client waits in the
    /// socket's backlog and Xwayland accepts it once the window manager is in place.
    fn start_xwayland(&mut self) -> anyhow::Result<()> {
        if self.host.is_none() && !self.detached {
            self.connect_host()?;
        }
        self.display.share_listener()?;
        // Xwayland's chatter (glamor, xkbcomp warnings) goes to a log in the container's /tmp,
        // not into the terminal of the command the person ran.
        let log = self.display.open_log()?;
        let (xwayland, client) = XWayland::spawn(
            &self.server.dh,
            None,
            self.display.spawn_env(self.shm_only),
            false,
            Stdio::null(),
            log,
            |_| {},
        )
        .context("starting Xwayland")?;
        let wm_client = client.clone();
        let token = self
            .loop_handle
            .insert_source(xwayland, move |event, _, bridge| match event {
                XWaylandEvent::Ready { x11_socket, .. } => {
                    match X11Wm::start_wm(bridge.loop_handle.clone(), x11_socket, wm_client.clone())
                    {
                        Ok(wm) => {
                            info!("Xwayland is ready");
                            bridge.xwm = Some(wm);
                            if let Err(err) = bridge.display.catch_up_selections() {
                                warn!("looking for selections taken early: {err:#}");
                            }
                        }
                        Err(err) => {
                            error!(%err, "becoming Xwayland's window manager failed");
                            bridge.xwayland_gone();
                        }
                    }
                }
                XWaylandEvent::Error => {
                    error!("Xwayland exited before it was ready");
                    bridge.xwayland_gone();
                }
            })
            .map_err(|err| anyhow::anyhow!("watching Xwayland: {err}"))?;
        self.loop_handle.disable(&self.listener)?;
        self.xwayland = Some(Running { client, token });
        info!(
            display = self.display.number,
            "started Xwayland for an X11 client"
        );
        Ok(())
    }

    /// Connects to the container's socket and learns its outputs and seat, before Xwayland
    /// sizes its screen.
    fn connect_host(&mut self) -> anyhow::Result<()> {
        let conn = Connection::connect_to_env().context(
            "cannot reach the container's Wayland socket (is WAYLAND_DISPLAY set, and is porthole \
             serving this container?)",
        )?;
        let (globals, mut queue) = registry_queue_init::<Bridge>(&conn)
            .context("reading the container's Wayland globals")?;
        let mut host = Host::new(conn.clone(), &globals, queue.handle(), self.proxy)?;
        if let Some(seat) = host.seats.seats().next() {
            host.adopt_seat(seat);
        }
        self.host = Some(host);
        queue
            .roundtrip(self)
            .context("talking to the container's Wayland socket")?;
        queue.roundtrip(self)?;
        self.resize_desktop();

        let fd = conn.backend().poll_fd().try_clone_to_owned()?;
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(fd, Interest::READ, Mode::Level),
                move |_, _, bridge| {
                    if let Some(guard) = queue.prepare_read() {
                        if let Err(err) = guard.read() {
                            let would_block = matches!(&err,
                                wayland_client::backend::WaylandError::Io(e)
                                    if e.kind() == std::io::ErrorKind::WouldBlock);
                            if !would_block {
                                bridge.host_lost(&err);
                                return Ok(PostAction::Remove);
                            }
                        }
                    }
                    if let Err(err) = queue.dispatch_pending(bridge) {
                        bridge.host_lost(&err);
                        return Ok(PostAction::Remove);
                    }
                    Ok(PostAction::Continue)
                },
            )
            .map_err(|err| anyhow::anyhow!("watching the host connection: {err}"))?;
        self.host_source = Some(token);
        Ok(())
    }

    /// The container's socket dropped the bridge (the compositor went away, or the container's
    /// X11 clients went over one of its limits, such as its number of windows): this X server and
    /// its clients go, the command keeps running, and the next X11 client starts afresh.
    pub fn host_lost(&mut self, err: &dyn std::fmt::Display) {
        self.host_source = None;
        if self.proxy {
            warn!(%err, "the compositor dropped the bridge; its clients wait for SIGUSR2 to reconnect");
            self.loop_handle.insert_idle(|bridge| bridge.detach());
            return;
        }
        warn!(%err, "the container's Wayland socket dropped the bridge; stopping this Xwayland");
        self.xwayland_gone();
    }

    /// Lets go of the host, keeping every client as it is: the compositor asked (a checkpoint
    /// follows, and no connection may lead out of the container then), or it went away. What each
    /// window showed is kept, to show it again at once after [`Bridge::attach`].
    pub fn detach(&mut self) {
        if let Some(host) = self.host.as_mut() {
            for mirror in &mut self.mirrors {
                mirror.view.keep_last(&mut host.pool);
            }
            for native in &mut self.natives {
                native.view.keep_last(&mut host.pool);
            }
            self.subsurfaces.keep_last(&mut host.pool);
            self.cursor.keep_last(&mut host.pool);
        }
        for mirror in &mut self.mirrors {
            mirror.role = None;
            mirror.view.forget_host();
            mirror.follow = None;
        }
        for native in &mut self.natives {
            native.forget_host();
        }
        self.subsurfaces.forget_host();
        self.cursor.forget_host();
        self.sessions.forget_host();
        // Popups open now are dismissed, as after any reconnect.
        for popup in self.native_popups.drain(..) {
            popup.popup.send_popup_done();
        }
        for token in [self.host_source.take(), self.host_writable.take()]
            .into_iter()
            .flatten()
        {
            self.loop_handle.remove(token);
        }
        if self.host.take().is_some() {
            info!("detached from the compositor; SIGUSR2 reconnects");
        }
        self.detached = true;
    }

    /// Connects to the compositor again (after a restore, or a failed checkpoint) and forwards
    /// every window anew, each naming its slot so that it takes its place back.
    pub fn attach(&mut self) {
        if self.host.is_some() {
            return;
        }
        if let Err(err) = self.connect_host() {
            warn!("cannot reconnect to the compositor: {err:#}; SIGUSR2 tries again");
            return;
        }
        self.detached = false;
        info!(
            x11_windows = self.mirrors.len(),
            wayland_windows = self.natives.len(),
            "reconnected to the compositor"
        );
        for index in 0..self.mirrors.len() {
            if self.mirrors[index].surface.is_some() {
                self.create_role(index);
            }
        }
        self.reattach_sessions();
        for index in 0..self.natives.len() {
            self.create_native_role(index);
        }
        self.respawn();
    }

    /// Starts again what `porthole checkpoint --stop-gpu-clients` stopped before the checkpoint
    /// (listed in [`porthole_ipc::RESPAWN_FILE`]), as children of the bridge.
    fn respawn(&mut self) {
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
            let started = Command::new(program)
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

    /// Reaps exited children: the bridge may be the container's first process, which inherits
    /// every orphan. The command's exit ends the bridge with its status.
    fn reap(&mut self) {
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

    /// Sends what the bridge queued for the container's socket.
    ///
    /// A full socket is not a lost one, but libwayland-client (which the bridge's connection
    /// uses) drops the connection when a request finds both the socket and its own 4 KiB buffer
    /// full. So once a flush leaves something behind, the bridge watches the socket until it
    /// drains and meanwhile queues nothing it can hold back: an X11 client retitling its window
    /// in a loop must not cost the container its X server.
    fn flush_host(&mut self) {
        let Some(host) = &self.host else {
            return;
        };
        let err = match host.conn.flush() {
            Ok(()) => return,
            Err(WaylandError::Io(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {
                if self.host_writable.is_none() {
                    if let Err(err) = self.watch_host_drain() {
                        warn!(%err, "cannot watch the container's socket drain");
                    }
                }
                return;
            }
            Err(err) => err,
        };
        if let Some(token) = self.host_source.take() {
            self.loop_handle.remove(token);
        }
        self.host_lost(&err);
    }

    /// Wakes the loop once the container's socket takes data again; the pass that follows
    /// flushes, and sends the titles held back.
    fn watch_host_drain(&mut self) -> anyhow::Result<()> {
        let Some(host) = &self.host else {
            return Ok(());
        };
        let fd = host.conn.backend().poll_fd().try_clone_to_owned()?;
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(fd, Interest::WRITE, Mode::Level),
                |_, _, bridge| {
                    bridge.host_writable = None;
                    Ok(PostAction::Remove)
                },
            )
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        self.host_writable = Some(token);
        Ok(())
    }

    /// Xwayland exited (its last client left, or it was killed): forget its windows and wait for
    /// the next X11 client. Runs from an idle callback, outside the window manager's own
    /// callbacks.
    pub fn xwayland_gone(&mut self) {
        self.loop_handle.insert_idle(|bridge| {
            if bridge.xwayland.is_none()
                && bridge.xwm.is_none()
                && (bridge.proxy || bridge.host.is_none())
            {
                return;
            }
            info!("Xwayland is gone; the next X11 client starts a new one");
            if let Some(old) = bridge.xwm.take() {
                bridge.retired_xwms.push(old);
                if bridge.retired_xwms.len() > 4 {
                    bridge.retired_xwms.remove(0);
                }
            }
            bridge.mirrors.clear();
            bridge.focus = None;
            if let Some(running) = bridge.xwayland.take() {
                // Dropping smithay's XWayland (the source) disconnects its client, once: a second
                // kill_client would make smithay reap the process twice, and panic.
                bridge.loop_handle.remove(running.token);
                drop(running.client);
            }
            // Nothing left to show: leave the container's socket until the next X11 client. A
            // bridge serving the container's Wayland socket stays for its native clients.
            if !bridge.proxy {
                for token in [bridge.host_source.take(), bridge.host_writable.take()]
                    .into_iter()
                    .flatten()
                {
                    bridge.loop_handle.remove(token);
                }
                bridge.host = None;
            }
            if let Err(err) = bridge.loop_handle.enable(&bridge.listener) {
                error!(%err, "cannot listen for X11 clients any more");
                bridge.finish(ExitCode::FAILURE);
            }
        });
    }

    /// Whether a window manager callback comes from the running Xwayland.
    pub fn is_current(&self, xwm: smithay::xwayland::xwm::XwmId) -> bool {
        self.xwm.as_ref().is_some_and(|w| w.id() == xwm)
    }

    /// The bridge's surface (Xwayland's or a native client's) shown by a host surface.
    pub fn server_surface_of(&self, host_surface: &HostSurface) -> Option<WlSurface> {
        self.mirrors
            .iter()
            .find(|m| m.host_surface() == Some(host_surface))
            .and_then(|m| m.surface.clone())
            .or_else(|| self.native_surface_of(host_surface))
    }

    /// The keyboard focus for a host surface that got the host's keyboard focus.
    pub fn key_focus_of(&self, host_surface: &HostSurface) -> Option<KeyFocus> {
        let Some(mirror) = self
            .mirrors
            .iter()
            .find(|m| m.host_surface() == Some(host_surface))
        else {
            return Some(KeyFocus {
                window: None,
                surface: self.native_surface_of(host_surface)?,
            });
        };
        Some(KeyFocus {
            window: Some(mirror.window.clone()),
            surface: mirror.surface.clone()?,
        })
    }

    /// Raises an X11 window in X's own stacking order (what X11 clients see in
    /// _NET_CLIENT_LIST_STACKING and in pointer routing between their windows).
    pub fn raise(&mut self, window: &X11Surface) {
        if let Some(xwm) = self.xwm.as_mut() {
            let _ = xwm.raise_window(window);
        }
    }

    /// The X screen covers the host's desktop.
    pub fn resize_desktop(&mut self) {
        let Some(host) = &self.host else {
            return;
        };
        let (w, h) = host.desktop_size();
        let mode = OutputMode {
            size: (w, h).into(),
            refresh: 60_000,
        };
        let output = &self.server.output;
        if output.current_mode() != Some(mode) {
            output.change_current_state(
                Some(mode),
                Some(Transform::Normal),
                None,
                Some((0, 0).into()),
            );
            output.set_preferred(mode);
        }
    }

    fn finish(&mut self, code: ExitCode) {
        self.exit.get_or_insert(code);
        self.signal.stop();
    }
}

fn main() -> ExitCode {
    if x11::display::invoked_as_wrapper() {
        let err = x11::display::exec_real_xwayland();
        eprintln!("porthole-bridge: {err:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    if let Some(log) = &cli.log {
        if let Err(err) = redirect_output(log) {
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
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("porthole-bridge: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Points stdout and stderr at `log` and stdin at /dev/null, for the bridge and what it starts.
fn redirect_output(log: &std::path::Path) -> std::io::Result<()> {
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
fn join_namespaces(pid: Option<u32>, ipc: Option<&std::path::Path>) -> anyhow::Result<()> {
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

/// Serves the container's Wayland socket, $XDG_RUNTIME_DIR/NAME, to its native clients.
fn listen_wayland(loop_handle: &LoopHandle<'static, Bridge>, name: &str) -> anyhow::Result<String> {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .context("XDG_RUNTIME_DIR is not set: the bridge serves the Wayland socket there")?;
    std::fs::create_dir_all(&runtime_dir)
        .with_context(|| format!("creating {}", runtime_dir.display()))?;
    std::fs::set_permissions(
        &runtime_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let source = smithay::wayland::socket::ListeningSocketSource::with_name(name)
        .with_context(|| format!("listening on {}", runtime_dir.join(name).display()))?;
    let socket = source.socket_name().to_string_lossy().into_owned();
    loop_handle
        .insert_source(source, |stream, _, bridge| {
            // As the container sees it; none for a peer outside the bridge's pid namespace,
            // whose pid reads as 0 (rustix says so; wayland-backend's credentials panic).
            let pid = rustix::net::sockopt::socket_peercred(&stream)
                .ok()
                .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
            let data = std::sync::Arc::new(native::NativeClient {
                pid,
                ..Default::default()
            });
            if let Err(err) = bridge.server.dh.insert_client(stream, data) {
                warn!(%err, "cannot accept a Wayland client");
            }
        })
        .map_err(|err| anyhow::anyhow!("watching the Wayland socket: {err}"))?;
    info!(socket, "serving the container's Wayland socket");
    Ok(socket)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Fail early, with a clear message, when the container's socket is not there; the bridge
    // connects for real when the first X11 client arrives (at once when it serves the
    // container's Wayland socket, below).
    if cli.serve_wayland.is_none() {
        drop(Connection::connect_to_env().context(
            "cannot reach the container's Wayland socket (is WAYLAND_DISPLAY set, and is \
             porthole serving this container?)",
        )?);
    }

    let mut event_loop: EventLoop<'static, Bridge> =
        EventLoop::try_new().context("creating the event loop")?;
    let loop_handle = event_loop.handle();
    let display: Display<Bridge> =
        Display::new().context("creating the Xwayland-facing display")?;
    let dh = display.handle();

    let mut seat_state = SeatState::new();
    let mut seat = seat_state.new_wl_seat(&dh, "seat0");
    let keyboard = seat
        .add_keyboard(XkbConfig::default(), 600, 25)
        .map_err(|err| anyhow::anyhow!("creating the keyboard: {err}"))?;
    let pointer = seat.add_pointer();
    let output = Output::new(
        "X11-0".into(),
        PhysicalProperties {
            size: (0, 0).into(),
            subpixel: Subpixel::Unknown,
            make: "Porthole".into(),
            model: "bridge".into(),
        },
    );
    let _global = output.create_global::<Bridge>(&dh);
    let server = Server {
        compositor: CompositorState::new::<Bridge>(&dh),
        shm: ShmState::new::<Bridge>(&dh, Vec::new()),
        xwayland_shell: XWaylandShellState::new::<Bridge>(&dh),
        _outputs: OutputManagerState::new_with_xdg_output::<Bridge>(&dh),
        seat_state,
        seat,
        keyboard,
        pointer,
        output,
        native: cli
            .serve_wayland
            .is_some()
            .then(|| native::NativeServer::new(&dh)),
        dh: dh.clone(),
    };

    join_namespaces(cli.pid, cli.ipc_namespace.as_deref())?;
    let x_display = XDisplay::bind(cli.display, cli.x11_dir.as_deref())?;
    let wayland_socket = match &cli.serve_wayland {
        Some(name) => Some(listen_wayland(&loop_handle, name)?),
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
            Signal::SIGUSR2 => bridge.attach(),
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
            command.args(args).envs(x_display.client_env());
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

    let listener = loop_handle
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
        .map_err(|err| anyhow::anyhow!("watching the X socket: {err}"))?;

    let mut bridge = Bridge {
        server,
        host: None,
        host_source: None,
        host_writable: None,
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
    loop_handle
        .insert_source(
            Generic::new(display, Interest::READ, Mode::Level),
            |_, display, bridge| {
                // SAFETY: the display is not dropped while the loop runs.
                if let Err(err) = unsafe { display.get_mut() }.dispatch_clients(bridge) {
                    warn!(%err, "dispatching Xwayland's requests failed");
                }
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
    }

    info!(
        display = bridge.display.number,
        "serving X11 for the container"
    );
    event_loop.run(None, &mut bridge, |bridge| {
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
