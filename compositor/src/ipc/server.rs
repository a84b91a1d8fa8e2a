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
use porthole_ipc::{
    Command, Event, Reply, Request, Response, Stamped, MAX_REQUEST_BYTES, PROTOCOL_VERSION,
};
use smithay::reexports::calloop::channel::{self, Channel, Sender};
use smithay::reexports::calloop::{LoopHandle, LoopSignal};
use tracing::{info, warn};

/// Most connections served at once; more are refused with an error line.
const MAX_CONNECTIONS: usize = 64;
/// Events queued for a subscriber before it is considered stuck and dropped.
const EVENT_QUEUE: usize = 1024;

/// A request waiting for the event loop.
pub enum ControlMessage {
    /// Carry out a command and send the reply back.
    Request(Command, SyncSender<Reply>),
    /// Register an event subscriber, then acknowledge.
    Subscribe(SyncSender<Stamped>, SyncSender<()>),
}

/// The listening control socket and the event subscribers.
pub struct ControlServer {
    path: PathBuf,
    subscribers: Vec<SyncSender<Stamped>>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
impl ControlServer {
    /// Binds the control socket (mode 0600 in a 0700 directory) and starts accepting; each
    /// request reaches `handle` on the event loop. A quit request sets `quit_requested` and wakes
    /// the loop through `signal`.
    pub fn start<D: 'static>(
        path: &Path,
        loop_handle: &LoopHandle<'static, D>,
        quit_requested: Arc<AtomicBool>,
        restart_requested: Arc<AtomicBool>,
        signal: LoopSignal,
        mut handle: impl FnMut(ControlMessage, &mut D) + 'static,
    ) -> anyhow::Result<Self> {
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
        loop_handle
            .insert_source(channel, move |event, _, data| {
                if let channel::Event::Msg(msg) = event {
                    handle(msg, data);
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the control channel: {err}"))?;

        let active = Arc::new(AtomicUsize::new(0));
        let quit = Quit {
            requested: quit_requested,
            restart: restart_requested,
            signal,
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

    /// Sends an event to every subscriber; a subscriber too slow to keep up is dropped.
    pub fn emit(&mut self, event: Event) {
        let event = Stamped::now(event);
        self.subscribers
            .retain(|s| match s.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    warn!("dropping a control event subscriber that does not keep up");
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            });
    }

    /// Adds an event subscriber.
    pub fn subscribe(&mut self, subscriber: SyncSender<Stamped>) {
        self.subscribers.push(subscriber);
    }
}

/// Asks the event loop to stop from another thread. A flag the loop checks after every dispatch,
/// not `LoopSignal::stop` alone: a stop that lands before `EventLoop::run` starts is reset by it.
#[derive(Clone)]
struct Quit {
    requested: Arc<AtomicBool>,
    /// Set with `requested` by `porthole restart`: the binary starts again once stopped.
    restart: Arc<AtomicBool>,
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
    let mut spares = crate::fds::Spares::new(8);
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // Out of fds: a spare lets this one through, so that the person can still remove
            // the container filling the table.
            Err(err) if crate::fds::out_of_fds(&err) => {
                match spares.with_one_freed(|| listener.accept()) {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    }
                }
            }
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
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
        if matches!(request.command, Command::Quit | Command::Restart) {
            // Answer before stopping: once the loop stops the process exits, and a reply still
            // waiting to be written would be lost.
            let _ = write_line(&mut writer, &Reply::ok(Response::Done));
            if request.command == Command::Restart {
                quit.restart.store(true, Ordering::SeqCst);
            }
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
    let (tx, rx): (SyncSender<Stamped>, Receiver<Stamped>) = mpsc::sync_channel(EVENT_QUEUE);
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
