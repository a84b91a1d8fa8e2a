//! `porthole-bench-relay SOCKET TARGET`: the least any process between a client and the
//! compositor can do. It serves `$XDG_RUNTIME_DIR/SOCKET`, connects each client to `TARGET` (a
//! socket path) and passes bytes and file descriptors both ways as they come, on one
//! level-triggered epoll: no parsing, no state. Its CPU per frame is the floor under the bridge's
//! (`porthole-bench`'s `relay` column), whatever the bridge does about the protocol.

use std::collections::HashMap;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use anyhow::Context as _;
use rustix::event::epoll;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// The most file descriptors one Wayland message batch carries (libwayland's limit).
const MAX_FDS: usize = 28;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(target)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: porthole-bench-relay SOCKET TARGET");
    };
    let runtime = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").context("XDG_RUNTIME_DIR")?);
    let path = runtime.join(name);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).with_context(|| format!("binding {path:?}"))?;
    listener.set_nonblocking(true)?;
    let poll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    let data = |fd: RawFd| epoll::EventData::new_u64(fd as u64);
    epoll::add(
        &poll,
        &listener,
        data(listener.as_raw_fd()),
        epoll::EventFlags::IN,
    )?;
    // Each end, by its fd, and the other end's.
    let mut ends: HashMap<RawFd, (UnixStream, RawFd)> = HashMap::new();
    let mut events: Vec<epoll::Event> = Vec::with_capacity(32);
    loop {
        events.clear();
        epoll::wait(&poll, rustix::buffer::spare_capacity(&mut events), None)?;
        for event in &events {
            let fd = event.data.u64() as RawFd;
            if fd == listener.as_raw_fd() {
                let Ok((client, _)) = listener.accept() else {
                    continue;
                };
                let Ok(server) = UnixStream::connect(&target) else {
                    continue;
                };
                let (c, s) = (client.as_raw_fd(), server.as_raw_fd());
                // Blocking: a full peer holds the relay up, as it would hold up the client.
                for end in [&client, &server] {
                    epoll::add(&poll, end, data(end.as_raw_fd()), epoll::EventFlags::IN)?;
                }
                ends.insert(c, (client, s));
                ends.insert(s, (server, c));
                continue;
            }
            let passed = match ends.get(&fd) {
                Some((from, peer)) => match ends.get(peer) {
                    Some((to, _)) => pass(from, to),
                    None => false,
                },
                None => continue,
            };
            if !passed {
                if let Some((_, peer)) = ends.remove(&fd) {
                    ends.remove(&peer);
                }
            }
        }
    }
}

/// Passes what `from` has on to `to`; false once either end is gone.
fn pass(from: &UnixStream, to: &UnixStream) -> bool {
    let mut bytes = [0u8; 8192];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let received = rustix::net::recvmsg(
        from.as_fd(),
        &mut [IoSliceMut::new(&mut bytes)],
        &mut ancillary,
        RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
    );
    let n = match received {
        Ok(r) if r.bytes == 0 => return false,
        Ok(r) => r.bytes,
        Err(rustix::io::Errno::AGAIN) => return true,
        Err(_) => return false,
    };
    let fds: Vec<OwnedFd> = ancillary
        .drain()
        .flat_map(|message| match message {
            RecvAncillaryMessage::ScmRights(fds) => fds.collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    let borrowed: Vec<_> = fds.iter().map(AsFd::as_fd).collect();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut out = SendAncillaryBuffer::new(&mut space);
    if !borrowed.is_empty() {
        out.push(SendAncillaryMessage::ScmRights(&borrowed));
    }
    rustix::net::sendmsg(
        to.as_fd(),
        &[IoSlice::new(&bytes[..n])],
        &mut out,
        SendFlags::NOSIGNAL,
    )
    .is_ok()
}
