//! A connection that writes Wayland messages by hand, as an attacker would: any argument may be
//! null, any fd count wrong, a flood written in large batches. It reads back what a test or the
//! hostile workload needs: globals, callbacks, configures, the protocol error, and whether the
//! compositor hung up. Porthole's tests (`tests/hostile/`) and `porthole-bench-flood` use it.

use std::io::Read as _;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// One argument of a hand-written request.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// uint, int, fixed, object or new_id: one word.
    Word(u32),
    /// A string; `None` is the null string (length 0), which only nullable arguments allow.
    Str(Option<&'a str>),
    /// A string argument's bytes exactly as given, without the NUL the protocol requires.
    Unterminated(&'a [u8]),
}

/// A protocol error the compositor sent (`wl_display.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub object: u32,
    pub code: u32,
    pub message: String,
}

/// What the connection has read so far.
#[derive(Debug, Default)]
pub struct Seen {
    /// (name, interface, version) of every global announced.
    pub globals: Vec<(u32, String, u32)>,
    /// Callbacks that fired (`wl_callback.done`) and were not waited for yet.
    pub done: std::collections::HashSet<u32>,
    /// The last serial each object sent in an opcode-0 event with one argument (an
    /// `xdg_surface.configure`, an `xdg_wm_base.ping`).
    pub serials: std::collections::HashMap<u32, u32>,
    /// How many events came, by (object, opcode).
    pub events: std::collections::HashMap<(u32, u32), u32>,
    /// The protocol error, if one came.
    pub error: Option<WireError>,
    /// The compositor closed the connection.
    pub hung_up: bool,
}

/// A raw connection that writes Wayland messages by hand, with fds where asked.
pub struct Wire {
    pub stream: UnixStream,
    out: Vec<u8>,
    next_id: u32,
    registry: Option<u32>,
    input: Vec<u8>,
    pub seen: Seen,
}

impl Wire {
    pub fn connect(path: &Path) -> Self {
        let stream = UnixStream::connect(path).unwrap();
        Self {
            stream,
            out: Vec::new(),
            next_id: 2,
            registry: None,
            input: Vec::new(),
            seen: Seen::default(),
        }
    }

    /// A fresh object id.
    pub fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Queues `object.opcode(args)`, to go with the next [`Wire::flush`]: a flood goes out in
    /// large writes.
    pub fn queue(&mut self, object: u32, opcode: u16, args: &[Arg<'_>]) {
        let msg = encode(object, opcode, args);
        self.out.extend_from_slice(&msg);
        if self.out.len() > 1 << 16 {
            self.flush();
        }
    }

    /// Sends what [`Wire::queue`] queued. Returns false once the compositor hung up.
    pub fn flush(&mut self) -> bool {
        use std::io::Write as _;
        let out = std::mem::take(&mut self.out);
        let ok = self.stream.write_all(&out).is_ok();
        if !ok {
            self.seen.hung_up = true;
        }
        ok
    }

    /// Sends `object.opcode(args)` with `fds` riding along. Returns false once the compositor
    /// hung up.
    pub fn send(
        &mut self,
        object: u32,
        opcode: u16,
        args: &[Arg<'_>],
        fds: &[BorrowedFd<'_>],
    ) -> bool {
        if !self.out.is_empty() && !self.flush() {
            return false;
        }
        let msg = encode(object, opcode, args);
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(253))];
        let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() {
            assert!(control.push(rustix::net::SendAncillaryMessage::ScmRights(fds)));
        }
        rustix::net::sendmsg(
            &self.stream,
            &[std::io::IoSlice::new(&msg)],
            &mut control,
            rustix::net::SendFlags::NOSIGNAL,
        )
        .is_ok()
    }

    /// Sends `bytes` as they are: a header that lies about the size, say.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> bool {
        use std::io::Write as _;
        self.stream.write_all(bytes).is_ok()
    }

    /// wl_display.sync, with `fds` riding along. Returns false once the compositor hung up.
    pub fn sync(&mut self, fds: &[BorrowedFd<'_>]) -> bool {
        let id = self.new_id();
        self.send(1, 0, &[Arg::Word(id)], fds)
    }

    /// Sends wl_display.sync and reads until it is done; false if an error or a hang-up came
    /// first.
    pub fn roundtrip(&mut self) -> bool {
        if !self.out.is_empty() && !self.flush() {
            return false;
        }
        let callback = self.new_id();
        if !self.send(1, 0, &[Arg::Word(callback)], &[]) {
            self.seen.hung_up = true;
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.seen.done.remove(&callback) {
            if self.seen.error.is_some() || self.seen.hung_up || Instant::now() > deadline {
                return false;
            }
            self.read();
        }
        true
    }

    /// Reads until the compositor hangs up (or 10 s pass); true if it did. A write that found
    /// the connection closed does not end the wait: what the compositor sent before it hung up
    /// (the error that says why) is still there to read.
    pub fn wait_for_hang_up(&mut self) -> bool {
        if !self.out.is_empty() {
            self.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.read() {
                return true;
            }
        }
        false
    }

    /// Gets the registry and its globals.
    pub fn registry(&mut self) -> u32 {
        if let Some(registry) = self.registry {
            return registry;
        }
        let registry = self.new_id();
        self.send(1, 1, &[Arg::Word(registry)], &[]);
        self.registry = Some(registry);
        assert!(self.roundtrip(), "no globals: {:?}", self.seen.error);
        registry
    }

    /// Binds `interface` at `version`; panics if it is not offered.
    pub fn bind(&mut self, interface: &str, version: u32) -> u32 {
        let registry = self.registry();
        let name = self
            .seen
            .globals
            .iter()
            .find(|(_, i, _)| i == interface)
            .unwrap_or_else(|| panic!("{interface} not offered"))
            .0;
        let id = self.new_id();
        let args = [
            Arg::Word(name),
            Arg::Str(Some(interface)),
            Arg::Word(version),
            Arg::Word(id),
        ];
        self.send(registry, 0, &args, &[]);
        id
    }

    /// Reads what is there (waiting up to 100 ms) and parses the events it needs; true once the
    /// connection has ended.
    pub fn read(&mut self) -> bool {
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = [0u8; 65536];
        let ended = match self.stream.read(&mut buf) {
            Ok(0) => true,
            Ok(n) => {
                self.input.extend_from_slice(&buf[..n]);
                false
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => false,
            Err(_) => true,
        };
        if ended {
            self.seen.hung_up = true;
        }
        self.parse();
        ended
    }

    fn parse(&mut self) {
        let word = |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        let string = |b: &[u8], i: usize| {
            let len = word(b, i) as usize;
            let text = &b[i + 4..i + 4 + len.saturating_sub(1)];
            (
                String::from_utf8_lossy(text).into_owned(),
                i + 4 + len.div_ceil(4) * 4,
            )
        };
        while self.input.len() >= 8 {
            let object = word(&self.input, 0);
            let header = word(&self.input, 4);
            let (size, opcode) = ((header >> 16) as usize, header & 0xffff);
            if size < 8 || self.input.len() < size {
                break;
            }
            let msg: Vec<u8> = self.input.drain(..size).collect();
            *self.seen.events.entry((object, opcode)).or_default() += 1;
            if object == 1 && opcode == 0 {
                let (message, _) = string(&msg, 16);
                self.seen.error = Some(WireError {
                    object: word(&msg, 8),
                    code: word(&msg, 12),
                    message,
                });
            } else if Some(object) == self.registry && opcode == 0 {
                let (interface, next) = string(&msg, 12);
                self.seen
                    .globals
                    .push((word(&msg, 8), interface, word(&msg, next)));
            } else if object != 1 && opcode == 0 && size == 12 {
                // A wl_callback.done, or an event that looks like one: only the ids of sync
                // callbacks are ever looked up here.
                self.seen.done.insert(object);
                self.seen.serials.insert(object, word(&msg, 8));
            }
        }
    }
}

/// One message: header and arguments.
fn encode(object: u32, opcode: u16, args: &[Arg<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for arg in args {
        match arg {
            Arg::Word(w) => body.extend_from_slice(&w.to_ne_bytes()),
            Arg::Str(None) => body.extend_from_slice(&0u32.to_ne_bytes()),
            Arg::Str(Some(s)) => {
                body.extend_from_slice(&(s.len() as u32 + 1).to_ne_bytes());
                body.extend_from_slice(s.as_bytes());
                body.push(0);
            }
            Arg::Unterminated(bytes) => {
                body.extend_from_slice(&(bytes.len() as u32).to_ne_bytes());
                body.extend_from_slice(bytes);
            }
        }
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let size = 8 + body.len() as u32;
    let mut msg = Vec::with_capacity(size as usize);
    msg.extend_from_slice(&object.to_ne_bytes());
    msg.extend_from_slice(&((size << 16) | u32::from(opcode)).to_ne_bytes());
    msg.extend_from_slice(&body);
    msg
}
