//! Zero-copy shm. A container's client shares its pixels with the bridge in a wl_shm pool; the
//! bridge passes that pool's file on to the compositor, which maps it as it would the client's
//! own, and attaches a host buffer over the same bytes. No frame is copied, and the client gets
//! its buffer back when the compositor releases the host's, as it would talking to it directly.
//!
//! A file is passed on only when the compositor can read it safely, since reading past the end of
//! a shrunk file would cost the bridge its connection (and the whole container its windows): it
//! must be a memfd that cannot shrink (F_SEAL_SHRINK, which the bridge adds where the client
//! allows sealing) and hold the pool's size. Other buffers, and those past the bridge's share of
//! the container's limits, are copied as before (see [`crate::host::view`]).
//!
//! Across a detach (a checkpoint, or a compositor that went away) the host's pools and buffers
//! are gone; each window's last buffer stays held ([`Kept`]) and is passed on again after
//! reconnecting, from the file the bridge kept.

use std::cell::Cell;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use rustix::fs::SealFlags;
use smithay::reexports::wayland_server::backend::ObjectId;
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::{wl_shm, wl_shm_pool};
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, Resource as _,
};
use smithay::wayland::shm::{ShmBufferUserData, ShmPoolUserData, ShmState};
use tracing::debug;
use wayland_client::backend::ObjectId as HostId;
use wayland_client::protocol::wl_buffer::{self as host_wl_buffer, WlBuffer as HostBuffer};
use wayland_client::protocol::wl_shm::Format as HostFormat;
use wayland_client::protocol::wl_shm_pool::WlShmPool as HostPool;
use wayland_client::{Connection, Proxy as _, QueueHandle};

use crate::bridge::Bridge;

/// How many pools, and how many bytes of them, the bridge passes on at most. The compositor
/// counts them against the container's `shm_pools` (default 256) and `shm_bytes` (8 GiB)
/// limits, and cuts off a client past them: here, the bridge and every window of the container.
/// Past these, buffers are copied into the bridge's own pool instead.
const MAX_POOLS: u32 = 128;
const MAX_BYTES: u64 = 2 << 30;

/// A client's pool file, as the bridge keeps it to pass on.
#[derive(Debug)]
struct PoolFile {
    fd: OwnedFd,
    /// The pool's size as the client last set it.
    size: Cell<usize>,
    /// The file was found shorter than the pool: nothing more of it is passed on.
    short: Cell<bool>,
    /// The client's pool still exists, so the host's is kept for its next buffers.
    open: Cell<bool>,
    /// The host's pool of this file and the size it was given, on this connection.
    host: std::cell::RefCell<Option<(HostPool, usize)>>,
    /// Host buffers over this file on this connection.
    mirrors: Cell<u32>,
    /// The bytes counted against [`MAX_BYTES`] while the host holds any of this file.
    charged: Cell<usize>,
}

/// A client's buffer the host shows or may show again: it goes back to its client (is
/// released) once nothing holds it.
#[derive(Debug)]
pub struct Held {
    buffer: WlBuffer,
    count: Cell<u32>,
}

impl Held {
    fn take(&self) {
        self.count.set(self.count.get() + 1);
    }

    fn give(&self) {
        let count = self.count.get().saturating_sub(1);
        self.count.set(count);
        if count == 0 && self.buffer.is_alive() {
            self.buffer.release();
        }
    }

    /// The client's buffer, if it still exists.
    pub fn buffer(&self) -> Option<&WlBuffer> {
        self.buffer.is_alive().then_some(&self.buffer)
    }
}

/// A hold on a client's buffer, given back when dropped: what a window showed when the bridge
/// let go of the host, to show again after reconnecting.
#[derive(Debug)]
pub struct Kept(Rc<Held>);

impl Kept {
    pub fn new(held: &Rc<Held>) -> Self {
        held.take();
        Self(held.clone())
    }

    pub fn held(&self) -> &Rc<Held> {
        &self.0
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.0.give();
    }
}

/// Where a buffer lies in its pool's file, and how its pixels are laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    offset: i32,
    width: i32,
    height: i32,
    stride: i32,
    format: HostFormat,
}

/// A client's buffer in a file the bridge may pass on.
#[derive(Debug)]
struct ClientBuffer {
    file: Rc<PoolFile>,
    layout: Layout,
    held: Rc<Held>,
}

/// The host's buffer over a client's, on this connection.
#[derive(Debug)]
struct Mirror {
    host: HostBuffer,
    file: Rc<PoolFile>,
    layout: Layout,
    /// The client's buffer it shows, while the client has it.
    client: Option<ObjectId>,
    /// That buffer's hold (or, once it is gone, the last one's): given back on each release.
    held: Rc<Held>,
    /// Attached and not yet released by the host.
    in_flight: u32,
}

/// The user data of the host's buffers over clients' files.
#[derive(Debug)]
pub struct Mirrored;

/// How many host buffers whose client buffer is gone the bridge keeps, to reuse for the next
/// client buffer laid out alike in the same file: clients that make a buffer for every frame
/// from the same slots (smithay-client-toolkit's pools) cost no host round trip then.
const MAX_SPARE: usize = 8;

/// A client buffer passed on: the host's buffer to attach, its size, and the client's.
pub struct Forwarded {
    pub host: HostBuffer,
    pub width: i32,
    pub height: i32,
    pub held: Rc<Held>,
}

/// [`SharedMemory`] as both sides hold it: the server records what clients share, the host
/// connection passes it on.
pub type Shared = Rc<std::cell::RefCell<SharedMemory>>;

/// Every pool file the container's clients share with the bridge, and what the host has of them.
#[derive(Debug, Default)]
pub struct SharedMemory {
    pools: HashMap<ObjectId, Rc<PoolFile>>,
    buffers: HashMap<ObjectId, ClientBuffer>,
    /// The host's buffers over clients' files, and which mirrors which client buffer.
    mirrors: HashMap<HostId, Mirror>,
    by_client: HashMap<ObjectId, HostId>,
    /// Mirrors whose client buffer is gone and the host released, oldest first.
    spare: Vec<HostId>,
    /// Files the host holds on this connection, and their bytes.
    host_files: u32,
    host_bytes: u64,
}

impl SharedMemory {
    /// A client created a pool of `size` bytes from `fd` (a duplicate of the client's).
    fn pool_created(&mut self, pool: ObjectId, fd: OwnedFd, size: usize) {
        if let Err(why) = passable(&fd, size) {
            debug!(%why, "a pool is copied, not passed on");
            return;
        }
        let file = PoolFile {
            fd,
            size: Cell::new(size),
            short: Cell::new(false),
            open: Cell::new(true),
            host: Default::default(),
            mirrors: Cell::new(0),
            charged: Cell::new(0),
        };
        self.pools.insert(pool, Rc::new(file));
    }

    /// A client grew its pool to `size`.
    fn pool_resized(&mut self, pool: &ObjectId, size: usize) {
        let Some(file) = self.pools.get(pool) else {
            return;
        };
        if size <= file.size.get() {
            return;
        }
        match rustix::fs::fstat(&file.fd) {
            Ok(stat) if stat.st_size as u64 >= size as u64 => file.size.set(size),
            _ => {
                debug!("a pool grew past its file: its new buffers are copied");
                file.short.set(true);
            }
        }
    }

    fn pool_destroyed(&mut self, pool: &ObjectId) {
        if let Some(file) = self.pools.remove(pool) {
            file.open.set(false);
            // No new buffer can come from it: its spare mirrors go.
            let (gone, kept) = std::mem::take(&mut self.spare).into_iter().partition(|h| {
                self.mirrors
                    .get(h)
                    .is_some_and(|m| Rc::ptr_eq(&m.file, &file))
            });
            self.spare = kept;
            for host in gone {
                self.destroy_mirror(&host);
            }
            self.drop_host_pool(&file);
        }
    }

    fn buffer_created(&mut self, pool: &ObjectId, buffer: &WlBuffer, data: ClientBufferData) {
        let Some(file) = self.pools.get(pool) else {
            return;
        };
        if file.short.get() {
            return;
        }
        let Ok(format) = HostFormat::try_from(data.format) else {
            return;
        };
        let held = Rc::new(Held {
            buffer: buffer.clone(),
            count: Cell::new(0),
        });
        let layout = Layout {
            offset: data.offset,
            width: data.width,
            height: data.height,
            stride: data.stride,
            format,
        };
        let client = ClientBuffer {
            file: file.clone(),
            layout,
            held,
        };
        self.buffers.insert(buffer.id(), client);
    }

    /// The client destroyed `buffer`: the host's is kept spare, or destroyed, once released.
    fn buffer_destroyed(&mut self, buffer: &ObjectId) {
        self.buffers.remove(buffer);
        let Some(host) = self.by_client.remove(buffer) else {
            return;
        };
        if let Some(mirror) = self.mirrors.get_mut(&host) {
            mirror.client = None;
            if mirror.in_flight == 0 {
                self.retire(host);
            }
        }
    }

    /// The host buffer to attach for the client's `buffer`, made on first use; `None` when it
    /// must be copied. The client's buffer is held until the host releases what it attached.
    pub fn forward(
        &mut self,
        buffer: &WlBuffer,
        wl_shm: &wayland_client::protocol::wl_shm::WlShm,
        qh: &QueueHandle<Bridge>,
    ) -> Option<Forwarded> {
        let id = buffer.id();
        let host = match self.by_client.get(&id) {
            Some(host) => host.clone(),
            None => {
                let host = match self.adopt_spare(&id) {
                    Some(host) => host,
                    None => self.mirror(&id, wl_shm, qh)?,
                };
                self.by_client.insert(id, host.clone());
                host
            }
        };
        let mirror = self.mirrors.get_mut(&host)?;
        mirror.in_flight += 1;
        mirror.held.take();
        Some(Forwarded {
            host: mirror.host.clone(),
            width: mirror.layout.width,
            height: mirror.layout.height,
            held: mirror.held.clone(),
        })
    }

    /// A spare host buffer over the same bytes as the client's `id`, now mirroring it.
    fn adopt_spare(&mut self, id: &ObjectId) -> Option<HostId> {
        let client = self.buffers.get(id)?;
        let index = self.spare.iter().position(|host| {
            self.mirrors
                .get(host)
                .is_some_and(|m| Rc::ptr_eq(&m.file, &client.file) && m.layout == client.layout)
        })?;
        let host = self.spare.remove(index);
        let mirror = self.mirrors.get_mut(&host)?;
        mirror.client = Some(id.clone());
        mirror.held = client.held.clone();
        Some(host)
    }

    /// A new host buffer over the client's `id`, and the host's pool of its file if need be.
    fn mirror(
        &mut self,
        id: &ObjectId,
        wl_shm: &wayland_client::protocol::wl_shm::WlShm,
        qh: &QueueHandle<Bridge>,
    ) -> Option<HostId> {
        let client = self.buffers.get(id)?;
        let (held, layout) = (client.held.clone(), client.layout);
        let file = client.file.clone();
        let size = file.size.get();
        let mut host = file.host.borrow_mut();
        let new_file = host.is_none() && file.mirrors.get() == 0;
        if new_file && (self.host_files >= MAX_POOLS || self.host_bytes + size as u64 > MAX_BYTES) {
            return None;
        }
        match host.as_mut() {
            Some((pool, given)) if *given < size => {
                self.host_bytes += (size - *given) as u64;
                file.charged.set(file.charged.get() + size - *given);
                pool.resize(size as i32);
                *given = size;
            }
            Some(_) => {}
            None => {
                let Ok(size_i32) = i32::try_from(size) else {
                    return None;
                };
                let pool = wl_shm.create_pool(file.fd.as_fd(), size_i32, qh, ());
                if new_file {
                    self.host_files += 1;
                }
                let more = size.saturating_sub(file.charged.get());
                self.host_bytes += more as u64;
                file.charged.set(file.charged.get() + more);
                *host = Some((pool, size));
            }
        }
        let (pool, _) = host.as_ref()?;
        let buffer = pool.create_buffer(
            layout.offset,
            layout.width,
            layout.height,
            layout.stride,
            layout.format,
            qh,
            Mirrored,
        );
        drop(host);
        file.mirrors.set(file.mirrors.get() + 1);
        if !file.open.get() {
            // Xwayland gives each pixmap a pool of its own and destroys it at once: the host's
            // goes too, its buffer stays.
            self.drop_host_pool(&file);
        }
        let host_id = buffer.id();
        let mirror = Mirror {
            host: buffer,
            file,
            layout,
            client: Some(id.clone()),
            held,
            in_flight: 0,
        };
        self.mirrors.insert(host_id.clone(), mirror);
        Some(host_id)
    }

    /// The host released one attach of its buffer `host`.
    fn released(&mut self, host: &HostId) {
        let Some(mirror) = self.mirrors.get_mut(host) else {
            return;
        };
        mirror.in_flight = mirror.in_flight.saturating_sub(1);
        mirror.held.give();
        if mirror.in_flight == 0 && mirror.client.is_none() {
            self.retire(host.clone());
        }
    }

    /// The host's buffer `host` mirrors nothing any more: kept spare while its client's pool
    /// may make another buffer alike, else destroyed.
    fn retire(&mut self, host: HostId) {
        let open = self.mirrors.get(&host).is_some_and(|m| m.file.open.get());
        if !open {
            self.destroy_mirror(&host);
            return;
        }
        if self.spare.len() >= MAX_SPARE {
            let oldest = self.spare.remove(0);
            self.destroy_mirror(&oldest);
        }
        self.spare.push(host);
    }

    fn destroy_mirror(&mut self, host: &HostId) {
        let Some(mirror) = self.mirrors.remove(host) else {
            return;
        };
        mirror.host.destroy();
        let file = mirror.file;
        file.mirrors.set(file.mirrors.get().saturating_sub(1));
        self.uncharge_if_unused(&file);
    }

    fn drop_host_pool(&mut self, file: &PoolFile) {
        if let Some((pool, _)) = file.host.borrow_mut().take() {
            pool.destroy();
        }
        self.uncharge_if_unused(file);
    }

    /// The host holds nothing of `file` any more: it no longer counts against the limits.
    fn uncharge_if_unused(&mut self, file: &PoolFile) {
        if file.mirrors.get() == 0 && file.host.borrow().is_none() && file.charged.get() > 0 {
            self.host_files = self.host_files.saturating_sub(1);
            self.host_bytes = self.host_bytes.saturating_sub(file.charged.get() as u64);
            file.charged.set(0);
        }
    }

    /// The host connection is gone, and every pool and buffer the bridge made there with it:
    /// what the host still held goes back to the clients, except what windows keep ([`Kept`]).
    pub fn forget_host(&mut self) {
        for (_, mirror) in self.mirrors.drain() {
            for _ in 0..mirror.in_flight {
                mirror.held.give();
            }
            mirror.file.mirrors.set(0);
            mirror.file.charged.set(0);
        }
        self.by_client.clear();
        self.spare.clear();
        for file in self.pools.values() {
            file.host.borrow_mut().take();
            file.charged.set(0);
        }
        self.host_files = 0;
        self.host_bytes = 0;
    }
}

/// What a client's wl_shm_pool.create_buffer asked for.
struct ClientBufferData {
    offset: i32,
    width: i32,
    height: i32,
    stride: i32,
    format: u32,
}

/// Why a pool's file is not passed on to the compositor.
#[derive(Debug, thiserror::Error)]
enum NotPassable {
    #[error("its file cannot be sealed against shrinking ({0})")]
    Unsealable(rustix::io::Errno),
    #[error("its file is smaller than the pool")]
    Short,
    #[error("cannot read its file's size ({0})")]
    Stat(rustix::io::Errno),
}

/// Whether the compositor can map `fd` as a pool of `size` bytes and read all of it for as long
/// as it holds it: a memfd that cannot shrink, at least that large.
fn passable(fd: &OwnedFd, size: usize) -> Result<(), NotPassable> {
    let seals = rustix::fs::fcntl_get_seals(fd).map_err(NotPassable::Unsealable)?;
    if !seals.contains(SealFlags::SHRINK) {
        rustix::fs::fcntl_add_seals(fd, SealFlags::SHRINK).map_err(NotPassable::Unsealable)?;
    }
    let stat = rustix::fs::fstat(fd).map_err(NotPassable::Stat)?;
    if (stat.st_size as u64) < size as u64 {
        return Err(NotPassable::Short);
    }
    Ok(())
}

// wl_shm, wl_shm_pool and wl_buffer pass through here before smithay: the bridge keeps a
// duplicate of each pool's file, and what each buffer covers of it.
impl Dispatch<wl_shm::WlShm, ()> for Bridge {
    fn request(
        state: &mut Self,
        client: &Client,
        shm: &wl_shm::WlShm,
        request: wl_shm::Request,
        data: &(),
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let mut pool = None;
        if let wl_shm::Request::CreatePool { id, fd, size } = &request {
            if let (Ok(size), Ok(fd)) = (usize::try_from(*size), fd.try_clone()) {
                pool = porthole_protocols::new_object_protocol_id(id).map(|pid| (pid, fd, size));
            }
        }
        <ShmState as Dispatch<wl_shm::WlShm, (), Self>>::request(
            state, client, shm, request, data, dh, data_init,
        );
        if let Some((pid, fd, size)) = pool {
            if let Ok(pool) = client.object_from_protocol_id::<wl_shm_pool::WlShmPool>(dh, pid) {
                state
                    .server
                    .memory
                    .borrow_mut()
                    .pool_created(pool.id(), fd, size);
            }
        }
    }
}

impl Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData> for Bridge {
    fn request(
        state: &mut Self,
        client: &Client,
        pool: &wl_shm_pool::WlShmPool,
        request: wl_shm_pool::Request,
        data: &ShmPoolUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        let mut new_buffer = None;
        match &request {
            wl_shm_pool::Request::Resize { size } => {
                // smithay 0.7 posts an error for a size of 0 or less, then panics unwrapping it.
                let Some(size) = usize::try_from(*size).ok().filter(|&s| s > 0) else {
                    pool.post_error(wl_shm::Error::InvalidFd, "invalid wl_shm_pool size");
                    return;
                };
                state
                    .server
                    .memory
                    .borrow_mut()
                    .pool_resized(&pool.id(), size);
            }
            wl_shm_pool::Request::CreateBuffer {
                id,
                offset,
                width,
                height,
                stride,
                format,
            } => {
                let data = ClientBufferData {
                    offset: *offset,
                    width: *width,
                    height: *height,
                    stride: *stride,
                    format: u32::from(*format),
                };
                new_buffer = porthole_protocols::new_object_protocol_id(id).map(|pid| (pid, data));
            }
            _ => {}
        }
        <ShmState as Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData, Self>>::request(
            state, client, pool, request, data, dh, data_init,
        );
        if let Some((pid, data)) = new_buffer {
            if let Ok(buffer) = client.object_from_protocol_id::<WlBuffer>(dh, pid) {
                let mut memory = state.server.memory.borrow_mut();
                memory.buffer_created(&pool.id(), &buffer, data);
            }
        }
    }

    fn destroyed(
        state: &mut Self,
        client: smithay::reexports::wayland_server::backend::ClientId,
        pool: &wl_shm_pool::WlShmPool,
        data: &ShmPoolUserData,
    ) {
        state.server.memory.borrow_mut().pool_destroyed(&pool.id());
        <ShmState as Dispatch<wl_shm_pool::WlShmPool, ShmPoolUserData, Self>>::destroyed(
            state, client, pool, data,
        );
    }
}

impl Dispatch<WlBuffer, ShmBufferUserData> for Bridge {
    fn request(
        state: &mut Self,
        client: &Client,
        buffer: &WlBuffer,
        request: <WlBuffer as smithay::reexports::wayland_server::Resource>::Request,
        data: &ShmBufferUserData,
        dh: &DisplayHandle,
        data_init: &mut DataInit<'_, Self>,
    ) {
        <ShmState as Dispatch<WlBuffer, ShmBufferUserData, Self>>::request(
            state, client, buffer, request, data, dh, data_init,
        );
    }

    fn destroyed(
        state: &mut Self,
        client: smithay::reexports::wayland_server::backend::ClientId,
        buffer: &WlBuffer,
        data: &ShmBufferUserData,
    ) {
        state
            .server
            .memory
            .borrow_mut()
            .buffer_destroyed(&buffer.id());
        <ShmState as Dispatch<WlBuffer, ShmBufferUserData, Self>>::destroyed(
            state, client, buffer, data,
        );
    }
}

smithay::reexports::wayland_server::delegate_global_dispatch!(Bridge: [wl_shm::WlShm: ()] => ShmState);

// The host side: pools the bridge made over its clients' files (no events), and their buffers'
// releases.
impl wayland_client::Dispatch<HostPool, ()> for Bridge {
    fn event(
        _: &mut Self,
        _: &HostPool,
        _: wayland_client::protocol::wl_shm_pool::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl wayland_client::Dispatch<HostBuffer, Mirrored> for Bridge {
    fn event(
        state: &mut Self,
        buffer: &HostBuffer,
        event: host_wl_buffer::Event,
        _: &Mirrored,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let host_wl_buffer::Event::Release = event {
            state.server.memory.borrow_mut().released(&buffer.id());
        }
    }
}

#[cfg(test)]
mod tests {
    use rustix::fs::{MemfdFlags, SealFlags};

    use super::{passable, NotPassable};

    fn memfd(flags: MemfdFlags, size: u64) -> std::os::fd::OwnedFd {
        let fd = rustix::fs::memfd_create("porthole-bridge-test", flags).unwrap();
        rustix::fs::ftruncate(&fd, size).unwrap();
        fd
    }

    #[test]
    fn a_sealable_memfd_is_sealed_against_shrinking_and_passed_on() {
        let fd = memfd(MemfdFlags::ALLOW_SEALING, 4096);
        passable(&fd, 4096).unwrap();
        let seals = rustix::fs::fcntl_get_seals(&fd).unwrap();
        assert!(seals.contains(SealFlags::SHRINK), "{seals:?}");
        assert_eq!(rustix::fs::ftruncate(&fd, 0), Err(rustix::io::Errno::PERM));
    }

    #[test]
    fn a_file_that_can_shrink_or_is_short_is_not_passed_on() {
        let unsealable = memfd(MemfdFlags::empty(), 4096);
        assert!(matches!(
            passable(&unsealable, 4096),
            Err(NotPassable::Unsealable(_))
        ));
        let short = memfd(MemfdFlags::ALLOW_SEALING, 1024);
        assert!(matches!(passable(&short, 4096), Err(NotPassable::Short)));
        let file: std::os::fd::OwnedFd = tempfile_in_tmp().into();
        assert!(matches!(
            passable(&file, 0),
            Err(NotPassable::Unsealable(_))
        ));
    }

    fn tempfile_in_tmp() -> std::fs::File {
        let path =
            std::env::temp_dir().join(format!("porthole-bridge-test-{}", std::process::id()));
        let file = std::fs::File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let _ = std::fs::remove_file(&path);
        file
    }
}
