//! The bridge's connection to the container's Wayland socket on the host: an ordinary client
//! of that container, bound by its policy like any other.

pub mod cursor;
mod input;
pub mod presentation;
mod selection;
mod shell;
pub mod view;

use porthole_protocols::bridge::client::porthole_bridge_v1::PortholeBridgeV1;
use porthole_protocols::x11::client::porthole_x11_manager_v1::PortholeX11ManagerV1;
use smithay_client_toolkit::compositor::CompositorState as HostCompositor;
use smithay_client_toolkit::data_device_manager::data_device::DataDevice;
use smithay_client_toolkit::data_device_manager::data_source::CopyPasteSource;
use smithay_client_toolkit::data_device_manager::DataDeviceManagerState;
use smithay_client_toolkit::output::OutputState;
use smithay_client_toolkit::primary_selection::device::PrimarySelectionDevice;
use smithay_client_toolkit::primary_selection::selection::PrimarySelectionSource;
use smithay_client_toolkit::primary_selection::PrimarySelectionManagerState;
use smithay_client_toolkit::registry::{ProvidesRegistryState, RegistryState};
use smithay_client_toolkit::seat::pointer::cursor_shape::CursorShapeManager;
use smithay_client_toolkit::seat::SeatState;
use smithay_client_toolkit::shell::xdg::XdgShell;
use smithay_client_toolkit::shm::slot::SlotPool;
use smithay_client_toolkit::shm::{Shm, ShmHandler};
use smithay_client_toolkit::subcompositor::SubcompositorState;
use wayland_client::globals::GlobalList;
use wayland_client::protocol::wl_keyboard::WlKeyboard;
use wayland_client::protocol::wl_pointer::WlPointer;
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::{Connection, QueueHandle};
use wayland_protocols::wp::cursor_shape::v1::client::wp_cursor_shape_device_v1::WpCursorShapeDeviceV1;
use wayland_protocols::wp::fractional_scale::v1::client::wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1;
use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1;
use wayland_protocols::wp::viewporter::client::wp_viewport::WpViewport;
use wayland_protocols::wp::viewporter::client::wp_viewporter::WpViewporter;
use wayland_protocols::xdg::activation::v1::client::xdg_activation_v1::XdgActivationV1;

use crate::bridge::Bridge;

/// Where the container's socket is: `$WAYLAND_DISPLAY` when it is a path, else that name in
/// `$XDG_RUNTIME_DIR`; `None` for a socket handed over as a descriptor.
pub fn socket_path() -> Option<std::path::PathBuf> {
    if std::env::var_os("WAYLAND_SOCKET").is_some() {
        return None;
    }
    let display =
        std::path::PathBuf::from(std::env::var_os("WAYLAND_DISPLAY").unwrap_or("wayland-0".into()));
    if display.is_absolute() {
        return Some(display);
    }
    Some(std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?).join(display))
}

/// Connects to the container's socket, `$WAYLAND_DISPLAY`. A path there is reached without
/// following a link in the socket's place: the bridge serving a container from the host may be
/// root, and the container's user, who owns the socket's directory, could put a link to another
/// compositor's socket there, whose policy is not the container's.
pub fn connect() -> anyhow::Result<wayland_client::Connection> {
    use std::os::fd::AsRawFd as _;

    use anyhow::Context as _;
    use rustix::fs::{Mode, OFlags};
    let how = "is WAYLAND_DISPLAY set, and is porthole serving this container?";
    let display = std::env::var_os("WAYLAND_DISPLAY").map(std::path::PathBuf::from);
    let path = match display {
        Some(path) if path.is_absolute() && std::env::var_os("WAYLAND_SOCKET").is_none() => path,
        _ => {
            return wayland_client::Connection::connect_to_env()
                .with_context(|| format!("cannot reach the container's Wayland socket ({how})"))
        }
    };
    let socket = rustix::fs::open(
        &path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| {
        format!(
            "cannot reach the container's Wayland socket {} ({how})",
            path.display()
        )
    })?;
    let kind = rustix::fs::FileType::from_raw_mode(rustix::fs::fstat(&socket)?.st_mode);
    anyhow::ensure!(
        kind == rustix::fs::FileType::Socket,
        "{} is not a socket (a link there is not followed)",
        path.display()
    );
    let stream =
        std::os::unix::net::UnixStream::connect(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .with_context(|| format!("cannot connect to {}", path.display()))?;
    wayland_client::Connection::from_socket(stream)
        .with_context(|| format!("cannot talk to {}", path.display()))
}

/// What the bridge holds of its host connection.
pub struct Host {
    pub conn: Connection,
    pub qh: QueueHandle<Bridge>,
    pub registry: RegistryState,
    pub compositor: HostCompositor,
    /// wl_subcompositor, for native clients' subsurfaces.
    pub subcompositor: Option<SubcompositorState>,
    pub xdg: XdgShell,
    pub shm: Shm,
    pub pool: SlotPool,
    /// The pool files the container's clients share, passed on (see [`crate::shm`]).
    pub memory: crate::shm::Shared,
    pub outputs: OutputState,
    pub seats: SeatState,
    pub seat: Option<WlSeat>,
    pub pointer: Option<WlPointer>,
    /// The serial of the host pointer's last enter on one of the bridge's surfaces, for
    /// wl_pointer.set_cursor (see [`cursor`]).
    pub pointer_enter: Option<u32>,
    /// The host surface the host pointer is over, where a drag the clients start starts.
    pub pointer_surface: Option<wayland_client::protocol::wl_surface::WlSurface>,
    /// wp_cursor_shape_manager_v1 where the host offers it, and its device for the pointer.
    cursor_shapes: Option<CursorShapeManager>,
    pub cursor_shape: Option<WpCursorShapeDeviceV1>,
    pub keyboard: Option<WlKeyboard>,
    pub data_devices: DataDeviceManagerState,
    pub data_device: Option<DataDevice>,
    pub primary: Option<PrimarySelectionManagerState>,
    pub primary_device: Option<PrimarySelectionDevice>,
    /// Sources this bridge set on the host for its clients' selections, by selection, and
    /// whose selection each is.
    pub clipboard_source: Option<(CopyPasteSource, crate::selection::Owner)>,
    pub primary_source: Option<(PrimarySelectionSource, crate::selection::Owner)>,
    /// The drags the host runs for or over the container's clients (see [`crate::dnd`]).
    pub drags: crate::dnd::Drags,
    /// The serial of the last input event, for requests the host checks against input.
    pub last_serial: u32,
    /// porthole_x11_v1, where the host offers it: where the host placed each toplevel.
    pub x11: Option<PortholeX11ManagerV1>,
    /// wp_presentation, where the host offers it: clients' presentation feedback goes through.
    pub presentation:
        Option<wayland_protocols::wp::presentation_time::client::wp_presentation::WpPresentation>,
    /// porthole_bridge_v1, bound by a checkpointable container's bridge.
    pub bridge: Option<PortholeBridgeV1>,
    /// xdg_session_manager_v1, where the compositor offers it, for a checkpointable container's
    /// native clients (see [`crate::native::session`]).
    pub session_manager:
        Option<porthole_protocols::session::client::xdg_session_manager_v1::XdgSessionManagerV1>,
    /// wp_viewporter, where the compositor offers it, for native clients' viewports.
    pub viewporter: Option<WpViewporter>,
    /// wp_single_pixel_buffer_manager_v1, where the compositor offers it, for native clients'
    /// single-pixel buffers.
    pub single_pixel: Option<WpSinglePixelBufferManagerV1>,
    /// xdg_activation_v1, where the compositor offers it, for native clients' activations.
    pub activation: Option<XdgActivationV1>,
    /// wp_fractional_scale_manager_v1, where the compositor offers it: the scale it prefers for
    /// each native client's surface that asks.
    pub fractional: Option<WpFractionalScaleManagerV1>,
    /// The host serials of the input events the bridge passed on, by the bridge's own.
    pub input_serials: crate::native::activation::InputSerials,
}

/// A global the bridge binds only when it serves the container's Wayland socket (`proxy`), and
/// only where the compositor offers it: what it forwards for the container's native clients.
fn proxy_only<I>(proxy: bool, globals: &GlobalList, qh: &QueueHandle<Bridge>) -> Option<I>
where
    I: wayland_client::Proxy + 'static,
    Bridge: wayland_client::Dispatch<I, ()>,
{
    if proxy {
        globals.bind(qh, 1..=1, ()).ok()
    } else {
        None
    }
}

impl Host {
    /// Binds what the bridge needs; the container's policy decides what exists.
    pub fn new(
        conn: Connection,
        globals: &GlobalList,
        qh: QueueHandle<Bridge>,
        proxy: bool,
        memory: crate::shm::Shared,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let compositor = HostCompositor::bind(globals, &qh)
            .context("the container's socket offers no wl_compositor")?;
        let xdg =
            XdgShell::bind(globals, &qh).context("the container's socket offers no xdg_wm_base")?;
        let shm = Shm::bind(globals, &qh).context("the container's socket offers no wl_shm")?;
        let pool = SlotPool::new(4 * 1024 * 1024, &shm).context("creating a shm pool")?;
        let subcompositor = if proxy {
            SubcompositorState::bind(compositor.wl_compositor().clone(), globals, &qh).ok()
        } else {
            None
        };
        Ok(Self {
            subcompositor,
            registry: RegistryState::new(globals),
            outputs: OutputState::new(globals, &qh),
            seats: SeatState::new(globals, &qh),
            data_devices: DataDeviceManagerState::bind(globals, &qh)
                .context("the container's socket offers no wl_data_device_manager")?,
            primary: PrimarySelectionManagerState::bind(globals, &qh).ok(),
            compositor,
            xdg,
            shm,
            pool,
            memory,
            seat: None,
            pointer: None,
            pointer_enter: None,
            pointer_surface: None,
            cursor_shapes: CursorShapeManager::bind(globals, &qh).ok(),
            cursor_shape: None,
            keyboard: None,
            data_device: None,
            primary_device: None,
            clipboard_source: None,
            primary_source: None,
            drags: Default::default(),
            last_serial: 0,
            x11: globals.bind(&qh, 1..=1, ()).ok(),
            presentation: globals.bind(&qh, 1..=1, ()).ok(),
            session_manager: proxy_only(proxy, globals, &qh),
            viewporter: proxy_only(proxy, globals, &qh),
            single_pixel: proxy_only(proxy, globals, &qh),
            activation: proxy_only(proxy, globals, &qh),
            fractional: proxy_only(proxy, globals, &qh),
            input_serials: Default::default(),
            bridge: if proxy {
                Some(globals.bind(&qh, 1..=1, ()).context(
                    "the compositor offers no porthole_bridge_v1 (is it older than this bridge?)",
                )?)
            } else {
                None
            },
            conn,
            qh,
        })
    }

    /// Uses `seat` for selections, unless the bridge has one already. Seats present at start
    /// come from [`SeatState::seats`], later ones from `new_seat`.
    pub fn adopt_seat(&mut self, seat: WlSeat) {
        if self.seat.is_some() {
            return;
        }
        self.data_device = Some(self.data_devices.get_data_device(&self.qh, &seat));
        self.primary_device = self
            .primary
            .as_ref()
            .map(|p| p.get_selection_device(&self.qh, &seat));
        self.seat = Some(seat);
    }

    /// The size of the host's desktop: the bounding box of its outputs, in logical pixels.
    pub fn desktop_size(&self) -> (i32, i32) {
        let (mut w, mut h) = (0, 0);
        for output in self.outputs.outputs() {
            if let Some(info) = self.outputs.info(&output) {
                let (x, y) = info.logical_position.unwrap_or((0, 0));
                let size = info
                    .logical_size
                    .or_else(|| info.modes.iter().find(|m| m.current).map(|m| m.dimensions))
                    .unwrap_or((0, 0));
                w = w.max(x + size.0);
                h = h.max(y + size.1);
            }
        }
        if w == 0 || h == 0 {
            (1920, 1080)
        } else {
            (w, h)
        }
    }
}

impl Bridge {
    /// The host connection. Its events, and so every handler in this folder, arrive only while
    /// it exists: the bridge connects when it starts Xwayland and disconnects when Xwayland is
    /// gone.
    fn connected(&mut self) -> &mut Host {
        self.host
            .as_mut()
            .expect("host events arrive only while the bridge is connected")
    }
}

/// The most of an X11 title or class the bridge passes on, in bytes. X11 allows megabytes; a
/// Wayland message is at most 4096 bytes, and a longer one would cost the bridge its connection
/// (and the container its X server). The compositor shortens titles further for its frames.
const MAX_LABEL_BYTES: usize = 1024;

/// `text` cut to [`MAX_LABEL_BYTES`] at a character boundary.
pub fn bounded(mut text: String) -> String {
    if text.len() > MAX_LABEL_BYTES {
        let mut end = MAX_LABEL_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

impl ShmHandler for Bridge {
    fn shm_state(&mut self) -> &mut Shm {
        &mut self.connected().shm
    }
}

impl ProvidesRegistryState for Bridge {
    fn registry(&mut self) -> &mut RegistryState {
        &mut self.connected().registry
    }
    smithay_client_toolkit::registry_handlers![OutputState, SeatState];
}

smithay_client_toolkit::delegate_shm!(Bridge);
wayland_client::delegate_noop!(Bridge: ignore WpViewporter);
wayland_client::delegate_noop!(Bridge: ignore WpViewport);
wayland_client::delegate_noop!(Bridge: ignore WpSinglePixelBufferManagerV1);
wayland_client::delegate_noop!(Bridge: ignore WpFractionalScaleManagerV1);
smithay_client_toolkit::delegate_registry!(Bridge);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("xterm".into()), "xterm");
        let long = "é".repeat(4000);
        let cut = bounded(long);
        assert!(cut.len() <= MAX_LABEL_BYTES && cut.len() >= MAX_LABEL_BYTES - 1);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
