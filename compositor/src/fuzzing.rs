//! Entry points for fuzzing: `fuzz/` runs them under libFuzzer (cargo-fuzz, nightly), and
//! `tests/fuzz_corpus.rs` replays the kept corpus through them in the ordinary test run. Each
//! takes arbitrary bytes and must return, whatever they hold: an error is an answer, a panic or a
//! hang is a bug.

use std::cell::RefCell;
use std::io::IoSlice;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use smithay::reexports::calloop::EventLoop;

use crate::config::{Config, OutputMode};
use crate::policy::Profile;
use crate::policy::HOST_CONTAINER;
use crate::state::State;
use crate::ServeOptions;

/// A configuration file.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(text);
    }
}

/// Lines sent to the control socket: each is parsed as the control server parses it, and the
/// requests that parse are served by an in-process compositor (kept across inputs, as a
/// long-running one serves many requests).
pub fn control(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let Ok(request) = serde_json::from_str::<porthole_ipc::Request>(line) else {
            continue;
        };
        match request.command {
            // These act on the control connection or the process, not on the compositor.
            porthole_ipc::Command::Subscribe
            | porthole_ipc::Command::Quit
            | porthole_ipc::Command::Restart => {}
            command => with_harness(|h| {
                let _ = h.state.handle_command(command);
                h.dispatch();
            }),
        }
    }
}

/// A Wayland client's byte stream. The first byte says how many 64 KiB shared-memory files ride
/// along with the stream (its low three bits) and whether the client comes through a container's
/// socket (bit 3) or the host's; the rest is sent as is, except that a message holding the word
/// [`SERIAL`] is sent only after the compositor has answered what came before, with that word
/// replaced by the last serial it sent (so that a stream can ack a configure it cannot know in
/// advance). The compositor dispatches, renders, then sees the client hang up; it is kept across
/// inputs.
pub fn wayland(data: &[u8]) {
    let Some((&head, stream)) = data.split_first() else {
        return;
    };
    let fds: Vec<OwnedFd> = (0..head & 0x7).filter_map(|_| shm_file()).collect();
    // A container's client gets the untrusted profile and Porthole's X11 protocol, as a bridge.
    let (container, profile, x11) = if head & 0x8 != 0 {
        ("fuzz", Profile::Untrusted, true)
    } else {
        (HOST_CONTAINER, Profile::Trusted, false)
    };
    with_harness(|h| {
        let Ok((server, client)) = UnixStream::pair() else {
            return;
        };
        if h.state
            .comp
            .insert_client(server, container, profile, x11, x11)
            .is_none()
        {
            return;
        }
        let _ = client.set_nonblocking(true);
        let mut borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
        let mut rest = stream;
        let mut serial = 0;
        while let Some((start, end)) = message_with_serial(rest) {
            send(&client, &rest[..start], &std::mem::take(&mut borrowed));
            h.dispatch();
            serial = last_serial(&client).unwrap_or(serial);
            let message: Vec<u8> = rest[start..end]
                .chunks(4)
                .flat_map(|w| match <[u8; 4]>::try_from(w).map(u32::from_ne_bytes) {
                    Ok(SERIAL) => serial.to_ne_bytes().to_vec(),
                    _ => w.to_vec(),
                })
                .collect();
            send(&client, &message, &[]);
            rest = &rest[end..];
        }
        send(&client, rest, &borrowed);
        for _ in 0..3 {
            h.dispatch();
            h.render();
        }
        if std::env::var_os("PORTHOLE_FUZZ_DEBUG").is_some() {
            let windows = h.state.comp.shell.windows().count();
            eprintln!("{windows} windows mapped; {}", protocol_error(&client));
        }
        drop(client);
        h.dispatch();
        h.render();
    });
}

/// A compositor for fuzzing: headless, no sockets, its runtime directory of its own.
struct Harness {
    event_loop: EventLoop<'static, State>,
    state: State,
    /// One harness at a time per process: they share the runtime directory (through
    /// `XDG_RUNTIME_DIR`, which is process-wide) and its `fuzz` container, which each one removes
    /// and creates again. The corpus tests run in parallel threads, and collided there. Dropped
    /// last.
    _exclusive: std::sync::MutexGuard<'static, ()>,
}

static ONE_HARNESS: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Harness {
    fn new() -> Self {
        // A test that panicked while holding it leaves nothing the next one cannot start from.
        let exclusive = ONE_HARNESS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let runtime = std::env::temp_dir().join(format!("porthole-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&runtime);
        let _ = std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        // Containers added through the control target live here, not in the user's session.
        std::env::set_var("XDG_RUNTIME_DIR", &runtime);
        let event_loop = EventLoop::try_new().expect("an event loop");
        let modes = vec![OutputMode {
            width: 640,
            height: 480,
            refresh_hz: 60,
        }];
        let config = Config::parse("[container.fuzz]\n").expect("the fuzz container's config");
        let state = crate::build(&event_loop, ServeOptions::in_process(config, modes))
            .expect("an in-process compositor");
        Self {
            event_loop,
            state,
            _exclusive: exclusive,
        }
    }

    fn dispatch(&mut self) {
        let _ = self.event_loop.dispatch(Duration::ZERO, &mut self.state);
        self.state.refresh_and_flush();
    }

    /// Renders every output now, whatever the frame pacing says, so that what a client attached
    /// is read.
    fn render(&mut self) {
        let outputs: Vec<_> = self.state.comp.outputs.frames.keys().cloned().collect();
        for output in outputs {
            self.state.backend.render(&mut self.state.comp, &output);
        }
    }
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

fn with_harness(f: impl FnOnce(&mut Harness)) {
    HARNESS.with(|h| f(h.borrow_mut().get_or_insert_with(Harness::new)));
}

/// The word a fuzzed stream writes where the compositor's last serial goes.
pub const SERIAL: u32 = 0xFEED_C0DE;

/// A 32-bit word of `b` at byte `i`, in the wire's (native) order.
fn word(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Where the first message holding [`SERIAL`] in its arguments starts and ends, while the
/// stream's framing holds up to it.
fn message_with_serial(stream: &[u8]) -> Option<(usize, usize)> {
    let mut start = 0;
    while stream.len() - start >= 8 {
        let size = (word(stream, start + 4) >> 16) as usize;
        let end = start + size;
        if size < 8 || size & 3 != 0 || end > stream.len() {
            return None;
        }
        if (start + 8..end)
            .step_by(4)
            .any(|i| word(stream, i) == SERIAL)
        {
            return Some((start, end));
        }
        start = end;
    }
    None
}

/// Reads what the compositor sent `client` and returns the argument of the last event that looks
/// like a configure's serial: opcode 0 and one argument, on an object other than the display.
fn last_serial(client: &UnixStream) -> Option<u32> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let _ = (&*client).read_to_end(&mut bytes);
    let mut serial = None;
    let mut rest = &bytes[..];
    while rest.len() >= 8 {
        let size = (word(rest, 4) >> 16) as usize;
        if size < 8 || size > rest.len() {
            break;
        }
        if word(rest, 0) != 1 && word(rest, 4) & 0xffff == 0 && size == 12 {
            serial = Some(word(rest, 8));
        }
        rest = &rest[size..];
    }
    serial
}

/// The protocol error the compositor sent `client`, if any, for debugging seeds.
fn protocol_error(client: &UnixStream) -> String {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let _ = (&*client).read_to_end(&mut bytes);
    let mut rest = &bytes[..];
    while rest.len() >= 8 {
        let (object, size, opcode) = (
            word(rest, 0),
            (word(rest, 4) >> 16) as usize,
            word(rest, 4) & 0xffff,
        );
        if size < 8 || size > rest.len() {
            break;
        }
        if object == 1 && opcode == 0 && size >= 20 {
            let len = word(rest, 16) as usize;
            let text = rest.get(20..20 + len.saturating_sub(1)).unwrap_or_default();
            return format!("error: {}", String::from_utf8_lossy(text));
        }
        rest = &rest[size..];
    }
    "no protocol error".into()
}

/// A 64 KiB memfd with a pattern in it, as a client's shm pool file.
fn shm_file() -> Option<OwnedFd> {
    let fd = rustix::fs::memfd_create("porthole-fuzz", rustix::fs::MemfdFlags::CLOEXEC).ok()?;
    rustix::fs::ftruncate(&fd, 65536).ok()?;
    let pattern: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    rustix::io::write(&fd, &pattern).ok()?;
    Some(fd)
}

/// Writes `bytes` with `fds` attached to the first chunk, as much as the socket takes.
fn send(stream: &UnixStream, bytes: &[u8], fds: &[std::os::fd::BorrowedFd<'_>]) {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(8))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() {
        control.push(SendAncillaryMessage::ScmRights(fds));
    }
    let mut sent = match rustix::net::sendmsg(
        stream,
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
    ) {
        Ok(n) => n,
        Err(_) => return,
    };
    while sent < bytes.len() {
        match rustix::net::send(
            stream,
            &bytes[sent..],
            SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
        ) {
            Ok(0) | Err(_) => return,
            Ok(n) => sent += n,
        }
    }
}
