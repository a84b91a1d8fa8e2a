//! The control socket: newline-delimited JSON requests from the `porthole` CLI (or any program of
//! the compositor's user), answered from the event loop, plus an event stream.
//!
//! Each connection is served by its own thread doing blocking I/O, so a slow or stuck peer only
//! stalls itself; requests reach the event loop through a calloop channel and wait for the reply.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use porthole_ipc::{
    Command, Event, Geometry, OutputInfo, Reply, Request, Response, MAX_REQUEST_BYTES,
    PROTOCOL_VERSION,
};
use smithay::reexports::calloop::channel::{self, Channel, Sender};
use smithay::reexports::calloop::LoopSignal;
use tracing::{debug, info, warn};

use crate::config::{
    Color, ContainerConfig, ContainerName, OutputConfig, OutputMode, OutputTransform,
};
use crate::state::{Porthole, State};

/// Most connections served at once; more are refused with an error line.
const MAX_CONNECTIONS: usize = 64;
/// Events queued for a subscriber before it is considered stuck and dropped.
const EVENT_QUEUE: usize = 1024;

/// A request waiting for the event loop.
pub enum ControlMessage {
    /// Carry out a command and send the reply back.
    Request(Command, SyncSender<Reply>),
    /// Register an event subscriber, then acknowledge.
    Subscribe(SyncSender<Event>, SyncSender<()>),
}

/// The listening control socket and the event subscribers.
pub struct ControlServer {
    path: PathBuf,
    subscribers: Vec<SyncSender<Event>>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Where the control socket is: `PORTHOLE_SOCKET`, else `$XDG_RUNTIME_DIR/porthole/control.sock`.
pub fn socket_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PORTHOLE_SOCKET") {
        return Ok(PathBuf::from(path));
    }
    Ok(runtime_dir()?.join("porthole").join("control.sock"))
}

/// `$XDG_RUNTIME_DIR`, checked.
pub fn runtime_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .context(
            "XDG_RUNTIME_DIR is not set: log in through a session manager, or set it to a \
         directory you own with mode 0700",
        )?;
    Ok(PathBuf::from(dir))
}

impl ControlServer {
    /// Binds the control socket (mode 0600 in a 0700 directory) and starts accepting.
    pub fn start(comp: &mut Porthole, path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            if dir.file_name().is_some_and(|n| n == "porthole") {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| format!("cannot restrict {} to its owner", dir.display()))?;
            }
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                anyhow::bail!(
                    "another compositor already answers on {}; stop it, or set PORTHOLE_SOCKET to \
                     another path to run a second one",
                    path.display()
                );
            }
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
        }
        let listener =
            UnixListener::bind(path).with_context(|| format!("cannot bind {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {} to its owner", path.display()))?;

        let (sender, channel): (Sender<ControlMessage>, Channel<ControlMessage>) =
            channel::channel();
        comp.loop_handle
            .insert_source(channel, |event, _, state| {
                if let channel::Event::Msg(msg) = event {
                    state.handle_control_message(msg);
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the control channel: {err}"))?;

        let active = Arc::new(AtomicUsize::new(0));
        let quit = Quit {
            requested: comp.quit_requested.clone(),
            signal: comp.loop_signal.clone(),
        };
        std::thread::Builder::new()
            .name("control-accept".into())
            .spawn(move || accept_loop(listener, sender, quit, active))
            .context("cannot start the control socket thread")?;
        info!(path = %path.display(), "control socket ready");
        Ok(Self {
            path: path.to_owned(),
            subscribers: Vec::new(),
        })
    }
}

/// Asks the event loop to stop from another thread. A flag the loop checks after every dispatch,
/// not `LoopSignal::stop` alone: a stop that lands before `EventLoop::run` starts is reset by it.
#[derive(Clone)]
struct Quit {
    requested: Arc<AtomicBool>,
    signal: LoopSignal,
}

impl Quit {
    fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.signal.wakeup();
    }
}

fn accept_loop(
    listener: UnixListener,
    sender: Sender<ControlMessage>,
    quit: Quit,
    active: Arc<AtomicUsize>,
) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = write_line(
                &mut stream,
                &Reply::error("too many control connections; try again later"),
            );
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let sender = sender.clone();
        let quit = quit.clone();
        let active2 = active.clone();
        let spawned = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || {
                serve_connection(stream, &sender, &quit);
                active2.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn write_line<T: serde::Serialize>(stream: &mut UnixStream, value: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// Reads one line of at most `MAX_REQUEST_BYTES`; `Ok(None)` at end of stream, `Err` when the
/// line is too long.
fn read_line(reader: &mut BufReader<UnixStream>) -> std::io::Result<Option<Result<String, ()>>> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && buf.len() > MAX_REQUEST_BYTES {
        return Ok(Some(Err(())));
    }
    Ok(Some(Ok(String::from_utf8_lossy(&buf).trim().to_owned())))
}

fn serve_connection(stream: UnixStream, sender: &Sender<ControlMessage>, quit: &Quit) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    // A peer that stops reading cannot hold the thread forever.
    let _ = writer.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    loop {
        let line = match read_line(&mut reader) {
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(()))) => {
                let _ = write_line(
                    &mut writer,
                    &Reply::error(format!(
                        "request longer than {MAX_REQUEST_BYTES} bytes; closing"
                    )),
                );
                return;
            }
            Ok(None) | Err(_) => return,
        };
        if line.is_empty() {
            continue;
        }
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(err) => {
                if write_line(
                    &mut writer,
                    &Reply::error(format!("malformed request: {err}")),
                )
                .is_err()
                {
                    return;
                }
                continue;
            }
        };
        if request.version != PROTOCOL_VERSION {
            let reply = Reply::error(format!(
                "control API version {} is not spoken here (this compositor speaks {PROTOCOL_VERSION}); \
                 use the porthole binary that matches the running compositor",
                request.version
            ));
            if write_line(&mut writer, &reply).is_err() {
                return;
            }
            continue;
        }
        if request.command == Command::Subscribe {
            stream_events(writer, sender);
            return;
        }
        if request.command == Command::Quit {
            // Answer before stopping: once the loop stops the process exits, and a reply still
            // waiting to be written would be lost.
            let _ = write_line(&mut writer, &Reply::ok(Response::Done));
            quit.request();
            return;
        }
        let (tx, rx) = mpsc::sync_channel(1);
        if sender
            .send(ControlMessage::Request(request.command, tx))
            .is_err()
        {
            let _ = write_line(
                &mut writer,
                &Reply::error("the compositor is shutting down"),
            );
            return;
        }
        let reply = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| Reply::error("the compositor did not answer in 30 s"));
        if write_line(&mut writer, &reply).is_err() {
            return;
        }
    }
}

fn stream_events(mut writer: UnixStream, sender: &Sender<ControlMessage>) {
    let (tx, rx): (SyncSender<Event>, Receiver<Event>) = mpsc::sync_channel(EVENT_QUEUE);
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    if sender.send(ControlMessage::Subscribe(tx, ack_tx)).is_err() {
        return;
    }
    // Reply only once the subscriber is registered, so that nothing after the reply is missed.
    if ack_rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = write_line(
            &mut writer,
            &Reply::error("the compositor did not answer in 30 s"),
        );
        return;
    }
    if write_line(&mut writer, &Reply::ok(Response::Done)).is_err() {
        return;
    }
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(event) => {
                if write_line(&mut writer, &event).is_err() {
                    return;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // An idle desktop sends nothing: notice a subscriber that hung up by reading.
                if peer_hung_up(&writer) {
                    return;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Whether the other end of a subscribed connection closed it (anything it sends is ignored).
fn peer_hung_up(stream: &UnixStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 256];
    let gone = loop {
        match (&*stream).read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break true,
        }
    };
    gone || stream.set_nonblocking(false).is_err()
}

impl Porthole {
    /// Sends an event to every subscriber; a subscriber too slow to keep up is dropped.
    pub fn emit(&mut self, event: Event) {
        let Some(control) = self.control.as_mut() else {
            return;
        };
        control
            .subscribers
            .retain(|s| match s.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    warn!("dropping a control event subscriber that does not keep up");
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            });
    }

    /// What `porthole outputs` shows.
    pub fn output_infos(&self) -> Vec<OutputInfo> {
        let mut outputs: Vec<OutputInfo> = self
            .shell
            .space
            .outputs()
            .map(|o| {
                let geo = self.shell.space.output_geometry(o).unwrap_or_default();
                let mode = o.current_mode();
                OutputInfo {
                    name: o.name(),
                    geometry: Geometry {
                        x: geo.loc.x,
                        y: geo.loc.y,
                        width: geo.size.w,
                        height: geo.size.h,
                    },
                    mode_width: mode.map(|m| m.size.w).unwrap_or(0),
                    mode_height: mode.map(|m| m.size.h).unwrap_or(0),
                    refresh_mhz: mode.map(|m| m.refresh).unwrap_or(0),
                    scale: o.current_scale().fractional_scale(),
                    transform: transform_name(o.current_transform()).into(),
                    modes: {
                        let mut modes = o.modes();
                        // Preferred first, then largest and fastest.
                        let preferred = o.preferred_mode();
                        modes.sort_by_key(|m| {
                            (
                                Some(*m) != preferred,
                                std::cmp::Reverse((m.size.w * m.size.h, m.refresh)),
                            )
                        });
                        modes.dedup();
                        modes
                            .iter()
                            .map(|m| {
                                let hz = (m.refresh as f64 / 1000.0).round();
                                format!("{}x{}@{hz}", m.size.w, m.size.h)
                            })
                            .collect()
                    },
                }
            })
            .collect();
        outputs.sort_by(|a, b| a.name.cmp(&b.name));
        outputs
    }
}

/// How `porthole output set --transform` writes a transform.
fn transform_name(t: smithay::utils::Transform) -> &'static str {
    use smithay::utils::Transform as T;
    match t {
        T::Normal => "normal",
        T::_90 => "90",
        T::_180 => "180",
        T::_270 => "270",
        T::Flipped => "flipped",
        T::Flipped90 => "flipped-90",
        T::Flipped180 => "flipped-180",
        T::Flipped270 => "flipped-270",
    }
}

impl State {
    /// Applies `porthole output set`: remembered over the configuration, then applied.
    fn set_output(&mut self, name: &str, change: &OutputConfig) -> Result<(), String> {
        let output = self
            .comp
            .shell
            .space
            .outputs()
            .find(|o| o.name() == name)
            .cloned();
        let drm = matches!(self.backend, crate::backend::Backend::Drm(_));
        if output.is_none()
            && !(drm && self.comp.config.outputs.contains_key(name))
            && !(drm && self.comp.output_overrides.contains_key(name))
        {
            return Err(format!(
                "no output named `{name}`; `porthole outputs` lists them"
            ));
        }
        if change.enabled.is_some() && !drm {
            return Err("only outputs of the drm backend can be turned off and on".into());
        }
        let previous = self
            .comp
            .output_overrides
            .get(name)
            .cloned()
            .unwrap_or_default();
        self.comp
            .output_overrides
            .insert(name.to_string(), previous.merged(change));
        if let Some(output) = &output {
            if change.mode.is_some() {
                let config = self.comp.output_config(name);
                self.backend
                    .set_mode(output, &config)
                    .map_err(|err| format!("cannot set the mode of {name}: {err:#}"))?;
            }
            let loc = self
                .comp
                .shell
                .space
                .output_geometry(output)
                .map(|g| g.loc)
                .unwrap_or_default();
            self.comp.place_output(output, loc);
        }
        // Turning a connector on or off is lighting or darkening it, as on hotplug.
        if change.enabled.is_some() {
            if let crate::backend::Backend::Drm(drm) = &mut self.backend {
                drm.scan_connectors(&mut self.comp);
            }
        }
        Ok(())
    }

    fn handle_control_message(&mut self, msg: ControlMessage) {
        match msg {
            ControlMessage::Subscribe(tx, ack) => {
                if let Some(control) = self.comp.control.as_mut() {
                    control.subscribers.push(tx);
                }
                let _ = ack.send(());
            }
            ControlMessage::Request(Command::ClipboardCopy { from, to }, reply_to) => {
                // Replies once the source has handed over its data.
                let then = crate::clipboard::Then::Paste {
                    to,
                    reply: Some(reply_to),
                };
                self.clipboard_copy(&from, then);
            }
            ControlMessage::Request(command, reply_to) => {
                debug!(?command, "control request");
                let reply = match self.handle_command(command) {
                    Ok(response) => Reply::ok(response),
                    Err(message) => Reply::error(message),
                };
                let _ = reply_to.send(reply);
            }
        }
    }

    /// Carries out one control command.
    pub fn handle_command(&mut self, command: Command) -> Result<Response, String> {
        match command {
            Command::Version => Ok(Response::Version {
                compositor: env!("CARGO_PKG_VERSION").into(),
                wayland_socket: self.comp.socket_name.clone(),
            }),
            Command::Windows => Ok(Response::Windows {
                windows: self
                    .comp
                    .window_infos()
                    .into_iter()
                    .chain(self.comp.placeholder_infos())
                    .collect(),
            }),
            Command::Checkpoint { name } => {
                let (pid, windows) = self.checkpoint_prepare(&name)?;
                Ok(Response::Checkpoint { pid, windows })
            }
            Command::Outputs => Ok(Response::Outputs {
                outputs: self.comp.output_infos(),
            }),
            Command::OutputSet {
                name,
                mode,
                position,
                scale,
                transform,
                enabled,
            } => {
                let change = OutputConfig {
                    mode: mode.as_deref().map(OutputMode::parse).transpose()?,
                    position,
                    scale,
                    transform: transform
                        .as_deref()
                        .map(OutputTransform::parse)
                        .transpose()?,
                    enabled,
                };
                change.check()?;
                self.set_output(&name, &change)?;
                Ok(Response::Outputs {
                    outputs: self.comp.output_infos(),
                })
            }
            Command::Screenshot {
                output,
                container,
                cursor,
            } => {
                let target = match &output {
                    Some(name) => self.comp.shell.space.outputs().find(|o| &o.name() == name),
                    None => self.comp.shell.space.outputs().min_by_key(|o| o.name()),
                }
                .cloned()
                .ok_or_else(|| match &output {
                    Some(name) => {
                        format!("no output named `{name}`; `porthole outputs` lists them")
                    }
                    None => "there is no output".into(),
                })?;
                let shot = self
                    .backend
                    .screenshot(&self.comp, &target, container.as_deref(), cursor)
                    .map_err(|err| format!("screenshot failed: {err:#}"))?;
                let png = shot
                    .to_png()
                    .map_err(|err| format!("cannot encode PNG: {err:#}"))?;
                Ok(Response::Screenshot {
                    output: target.name(),
                    width: shot.width,
                    height: shot.height,
                    png_base64: base64::engine::general_purpose::STANDARD.encode(png),
                })
            }
            Command::Input { input } => {
                self.inject_input(input)?;
                Ok(Response::Done)
            }
            Command::Window { action, id } => {
                use porthole_ipc::WindowAction as A;
                let window = match id {
                    Some(id) => self.comp.shell.window_by_id(id).ok_or_else(|| {
                        match self.comp.placeholder_infos().find(|w| w.id == id) {
                            Some(w) => format!(
                                "window {id} is a placeholder of checkpointed container `{c}`: \
                                 `porthole restore {c}` brings the window back, `porthole \
                                 container remove {c}` drops its placeholders",
                                c = w.container
                            ),
                            None => {
                                format!("no window with id {id}; `porthole windows` lists them")
                            }
                        }
                    })?,
                    None => self.comp.focused_window().ok_or("no window has focus")?,
                };
                match action {
                    A::Focus => self.comp.focus_window(Some(&window)),
                    A::Close => self.comp.close_window(&window),
                    A::ToggleMaximize => self.comp.toggle_maximize(&window),
                    A::ToggleFullscreen => self.comp.toggle_fullscreen(&window),
                    A::Minimize => self.comp.minimize(&window),
                }
                self.apply_pending_focus();
                Ok(Response::Done)
            }
            Command::Containers => Ok(Response::Containers {
                containers: self.comp.container_infos(),
            }),
            Command::ContainerAdd {
                name,
                profile,
                color,
            } => {
                let name = ContainerName::parse(&name)?;
                let mut config =
                    ContainerConfig::with_profile(profile.as_deref().unwrap_or("untrusted"));
                config.color = color.as_deref().map(Color::parse).transpose()?;
                self.comp
                    .add_container(&name, &config)
                    .map_err(|err| format!("{err:#}"))?;
                Ok(Response::Done)
            }
            Command::ContainerRemove { name } => {
                // A compositor started after a checkpoint shows the container's placeholders
                // without having the container: removing it drops them.
                let placeholders = self.comp.placeholder_infos().any(|w| w.container == name);
                match self.comp.remove_container(&name) {
                    Err(_) if placeholders => {}
                    removed => removed.map_err(|err| format!("{err:#}"))?,
                }
                self.comp.forget_placeholders(&name);
                Ok(Response::Done)
            }
            Command::Subscribe => {
                Err("subscribe must be the first request on its connection".into())
            }
            Command::ClipboardCopy { from, to } => {
                // Without a connection to answer on, the outcome is on the event stream.
                self.clipboard_copy(&from, crate::clipboard::Then::Paste { to, reply: None });
                Ok(Response::Done)
            }
            Command::Quit => {
                self.comp.loop_signal.stop();
                Ok(Response::Done)
            }
        }
    }
}
