//! Raw `wayland-client` connections to a running `porthole serve`, for tests that break the
//! rules, and an honest client to watch while they do.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wayland_client::protocol::{
    wl_buffer, wl_compositor, wl_registry, wl_shm, wl_shm_pool, wl_surface,
};
use wayland_client::{Connection, EventQueue, Proxy, QueueHandle};
use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1;
use wayland_protocols::wp::viewporter::client::wp_viewporter::WpViewporter;
use wayland_protocols::xdg::shell::client::xdg_wm_base;

use crate::common::*;
use crate::fixture::{ClientData, FrameMarker};

pub use porthole_bench::wire::*;

/// A container's Wayland socket.
pub fn socket(comp: &Compositor, container: &str) -> PathBuf {
    comp.dir()
        .join("porthole")
        .join(container)
        .join("wayland-0")
}

/// A raw client on a socket of the compositor under test.
pub struct Raw {
    pub conn: Connection,
    pub queue: EventQueue<ClientData>,
    pub qh: QueueHandle<ClientData>,
    pub data: ClientData,
    pub registry: wl_registry::WlRegistry,
}

impl Raw {
    pub fn connect(path: &Path) -> std::io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let conn = Connection::from_socket(stream).map_err(std::io::Error::other)?;
        let queue = conn.new_event_queue();
        let qh = queue.handle();
        let registry = conn.display().get_registry(&qh, ());
        let mut raw = Self {
            conn,
            queue,
            qh,
            data: ClientData::default(),
            registry,
        };
        raw.roundtrip().map_err(std::io::Error::other)?;
        Ok(raw)
    }

    pub fn roundtrip(&mut self) -> Result<(), String> {
        self.queue
            .roundtrip(&mut self.data)
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }

    pub fn global(&self, interface: &str) -> Option<(u32, u32)> {
        self.data
            .globals
            .iter()
            .find(|(_, i, _)| i == interface)
            .map(|(n, _, v)| (*n, *v))
    }

    pub fn bind<I: Proxy + 'static>(&self, interface: &str, version: u32) -> I
    where
        ClientData: wayland_client::Dispatch<I, ()>,
    {
        let (name, _) = self
            .global(interface)
            .unwrap_or_else(|| panic!("{interface} not offered"));
        self.registry.bind(name, version, &self.qh, ())
    }

    /// The text of the protocol error the client got, if it got one and its libwayland kept
    /// the text (libwayland-client prints it instead).
    pub fn error(&self) -> String {
        self.conn
            .protocol_error()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    /// The interface of the object the client's protocol error was about.
    pub fn error_on(&self) -> String {
        self.conn
            .protocol_error()
            .map(|e| e.object_interface)
            .unwrap_or_default()
    }
}

/// Counts frame callbacks of an honest client drawing continuously for `duration`.
pub fn frames_during(path: &Path, duration: Duration, mut attack: impl FnMut()) -> u32 {
    let mut honest = Raw::connect(path).unwrap();
    let compositor: wl_compositor::WlCompositor = honest.bind("wl_compositor", 4);
    let wm: xdg_wm_base::XdgWmBase = honest.bind("xdg_wm_base", 1);
    let spb: WpSinglePixelBufferManagerV1 = honest.bind("wp_single_pixel_buffer_manager_v1", 1);
    let viewporter: WpViewporter = honest.bind("wp_viewporter", 1);
    let qh = honest.qh.clone();
    let surface = compositor.create_surface(&qh, ());
    let xdg = wm.get_xdg_surface(&surface, &qh, ());
    let _top = xdg.get_toplevel(&qh, ());
    let viewport = viewporter.get_viewport(&surface, &qh, ());
    surface.commit();
    honest.roundtrip().unwrap();
    let serial = honest
        .data
        .pending_serial
        .remove(&xdg.id())
        .expect("configure");
    xdg.ack_configure(serial);
    let buffer = spb.create_u32_rgba_buffer(0, u32::MAX, 0, u32::MAX, &qh, ());
    surface.attach(Some(&buffer), 0, 0);
    viewport.set_destination(100, 100);
    surface.damage_buffer(0, 0, 1, 1);
    surface.frame(&qh, FrameMarker);
    surface.commit();
    honest.conn.flush().unwrap();

    attack();
    let start = Instant::now();
    let mut seen = honest.data.frames_done;
    while start.elapsed() < duration {
        honest.queue.blocking_dispatch(&mut honest.data).unwrap();
        if honest.data.frames_done > seen {
            seen = honest.data.frames_done;
            surface.damage_buffer(0, 0, 1, 1);
            surface.frame(&qh, FrameMarker);
            surface.commit();
            honest.conn.flush().unwrap();
        }
    }
    honest.data.frames_done
}

/// Binding a global that the client's profile hides was refused: libwayland's registry answers
/// with an `invalid_object` error on it ("invalid global"), and ends the client, which leaves
/// its container.
pub fn assert_bind_refused(comp: &Compositor, client: &Raw, container: &str) {
    let error = client
        .conn
        .protocol_error()
        .expect("binding a hidden global gives a protocol error");
    assert_eq!(
        (error.object_interface.as_str(), error.code),
        ("wl_registry", 0),
        "{error:?}"
    );
    assert!(
        error.message.is_empty() || error.message.contains("invalid global"),
        "{error:?}"
    );
    comp.wait_for_clients(container, 0);
}

/// The client was cut off for `reason`: in its protocol error if it got it, and in the
/// compositor's log in any case.
pub fn assert_disconnected_because(comp: &Compositor, client: &Raw, reason: &str) {
    let seen = client.error();
    assert!(
        seen.is_empty() || seen.contains(reason),
        "protocol error {seen} lacks {reason:?}"
    );
    poll(
        Duration::from_secs(5),
        &format!("the log to say {reason:?}"),
        || {
            let log = comp.log();
            if log.contains("client disconnected") && log.contains(reason) {
                Ok(())
            } else {
                Err(log.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
            }
        },
    );
}

/// A memfd of `size` bytes, for shm pools.
pub fn memfd(size: u64) -> std::os::fd::OwnedFd {
    let fd =
        rustix::fs::memfd_create("porthole-test-pool", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::fs::ftruncate(&fd, size).unwrap();
    fd
}

/// A mapped toplevel of `w`x`h` showing an shm buffer; returns its surface, the pool's file
/// and the buffer.
pub fn shm_window(
    c: &mut Raw,
    w: i32,
    h: i32,
) -> (
    wl_surface::WlSurface,
    std::os::fd::OwnedFd,
    wl_buffer::WlBuffer,
) {
    let pixels = vec![0x80; (w * h * 4) as usize];
    shm_window_showing(c, w, h, wl_shm::Format::Xrgb8888, &pixels)
}

/// A mapped toplevel of `w`x`h` showing `pixels` (4 bytes each, rows of `w`) in `format`.
pub fn shm_window_showing(
    c: &mut Raw,
    w: i32,
    h: i32,
    format: wl_shm::Format,
    pixels: &[u8],
) -> (
    wl_surface::WlSurface,
    std::os::fd::OwnedFd,
    wl_buffer::WlBuffer,
) {
    let compositor: wl_compositor::WlCompositor = c.bind("wl_compositor", 4);
    let wm: xdg_wm_base::XdgWmBase = c.bind("xdg_wm_base", 1);
    let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
    let qh = c.qh.clone();
    let surface = compositor.create_surface(&qh, ());
    let xdg = wm.get_xdg_surface(&surface, &qh, ());
    let _top = xdg.get_toplevel(&qh, ());
    surface.commit();
    // A bridge configures once the compositor configured its own toplevel: a few round trips.
    let serial = poll(Duration::from_secs(5), "the first configure", || {
        c.roundtrip().map_err(|e| e.to_string())?;
        c.data
            .pending_serial
            .remove(&xdg.id())
            .ok_or_else(|| "no configure yet".to_string())
    });
    xdg.ack_configure(serial);
    let size = (w * h * 4) as u64;
    let fd = memfd(size);
    let mut file = std::fs::File::from(fd.try_clone().unwrap());
    assert_eq!(pixels.len() as u64, size, "{w}x{h} pixels of 4 bytes");
    file.write_all(pixels).unwrap();
    let pool: wl_shm_pool::WlShmPool = shm.create_pool(fd.as_fd(), size as i32, &qh, ());
    let buffer = pool.create_buffer(0, w, h, w * 4, format, &qh, ());
    surface.attach(Some(&buffer), 0, 0);
    surface.damage_buffer(0, 0, w, h);
    surface.commit();
    c.roundtrip().unwrap();
    (surface, fd, buffer)
}
