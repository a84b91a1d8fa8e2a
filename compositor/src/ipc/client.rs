//! The client side of the control socket, used by every `porthole` subcommand but `serve`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::Context;
use porthole_ipc::{Command, Reply, ReplyBody, Request, Response, Stamped};

use crate::paths;

/// A connection to a running compositor.
pub struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Connection {
    /// Connects to the control socket (`PORTHOLE_SOCKET` or the default path).
    pub fn open() -> anyhow::Result<Self> {
        let path = paths::control_socket()?;
        Self::open_at(&path)
    }

    /// Connects to the control socket at `path`.
    pub fn open_at(path: &Path) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(path).with_context(|| {
            format!(
                "cannot reach the compositor at {}: is `porthole serve` running as this user \
                 with the same XDG_RUNTIME_DIR (or PORTHOLE_SOCKET)?",
                path.display()
            )
        })?;
        let writer = stream
            .try_clone()
            .context("cannot clone the control stream")?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends one command and waits for its reply; an error reply becomes an `Err`.
    pub fn request(&mut self, command: Command) -> anyhow::Result<Response> {
        let mut line = serde_json::to_vec(&Request::new(command))?;
        line.push(b'\n');
        self.writer
            .write_all(&line)
            .context("cannot send the request")?;
        let reply: Reply = self.read_line()?;
        match reply.body {
            ReplyBody::Ok(response) => Ok(response),
            ReplyBody::Error { message } => Err(anyhow::anyhow!("{message}")),
        }
    }

    /// Subscribes and calls `f` for each event until the compositor goes away or `f` says stop.
    pub fn events(mut self, mut f: impl FnMut(Stamped) -> bool) -> anyhow::Result<()> {
        self.request(Command::Subscribe)?;
        loop {
            let event: Stamped = self.read_line()?;
            if !f(event) {
                return Ok(());
            }
        }
    }

    fn read_line<T: serde::de::DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .context("cannot read the reply")?;
        anyhow::ensure!(n > 0, "the compositor closed the connection");
        serde_json::from_str(&line).with_context(|| format!("unreadable reply: {}", line.trim()))
    }
}

/// Sends one command on a fresh connection.
pub fn request(command: Command) -> anyhow::Result<Response> {
    Connection::open()?.request(command)
}
