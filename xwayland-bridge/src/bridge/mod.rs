//! The bridge's state, [`Bridge`], which every handler of both its sides gets: the server the
//! container's clients talk to, the connection to the compositor, and the windows forwarded
//! between them. How it lives is in the submodules: [`run`](mod@run) builds it and turns the
//! event loop, [`attach`] holds on to the compositor and lets go of it around a checkpoint, and
//! [`process`] is what it does as the container's first process.

mod attach;
mod culprit;
pub mod process;
mod reconnect;
mod run;

use std::process::ExitCode;
use std::time::Instant;

use calloop::{LoopHandle, LoopSignal, RegistrationToken};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::xwayland::{X11Surface, X11Wm};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

pub use self::run::run;
use crate::host::cursor::Cursor;
use crate::host::Host;
use crate::native::session::Sessions;
use crate::native::subsurface::Subsurfaces;
use crate::native::{Native, NativePopup};
use crate::server::{KeyFocus, Server};
use crate::x11::display::XDisplay;
use crate::x11::mirror::Mirror;
use crate::x11::xwayland::Running;

/// Everything the bridge holds: one per process, the state of its event loop.
pub struct Bridge {
    pub server: Server,
    /// The connection to the container's socket, open while Xwayland runs: an idle container
    /// has neither an X server nor an extra client.
    pub host: Option<Host>,
    pub(crate) host_source: Option<RegistrationToken>,
    /// The compositor's events were passed on since the last pass of the event loop.
    pub(crate) host_dispatched: bool,
    /// Set while the container's socket is full: a watch for it to drain. Until then the bridge
    /// holds back what can wait (title changes), see [`Bridge::flush_host`].
    pub(crate) host_writable: Option<RegistrationToken>,
    /// The container's X display; `None` for a container without X11 (`--no-x11`).
    pub display: Option<XDisplay>,
    pub xwm: Option<X11Wm>,
    /// Window managers of Xwaylands that are gone, kept a while: smithay's X11 event and
    /// selection sources may still call back for them, and must find them.
    pub retired_xwms: Vec<X11Wm>,
    pub xwayland: Option<Running>,
    pub mirrors: Vec<Mirror>,
    /// The container's native toplevels and popups (with --serve-wayland).
    pub natives: Vec<Native>,
    pub native_popups: Vec<NativePopup>,
    /// Their subsurfaces.
    pub subsurfaces: Subsurfaces,
    /// Their sessions (xdg-session-management-v1).
    pub sessions: Sessions,
    /// The pointer's image the clients set.
    pub cursor: Cursor,
    /// Serving the container's Wayland socket: the host connection outlives Xwayland, and
    /// losing it keeps every client (see [`Bridge::detach`]).
    pub proxy: bool,
    /// Let go of the host (asked to before a checkpoint, or the host went away): the clients wait,
    /// their frame callbacks unanswered, until [`Bridge::attach`].
    pub detached: bool,
    /// Watching for a compositor that went away unasked to come back (see [`reconnect`]).
    pub(crate) awaiting: Option<reconnect::Awaiting>,
    /// When the compositor last ended the connection with a protocol error.
    pub(crate) last_protocol_error: Option<Instant>,
    /// How long the apps wait for it before they are asked to close.
    pub(crate) grace: std::time::Duration,
    /// The last window token handed out (porthole_bridge_v1.set_slot).
    pub last_token: u64,
    /// The command's process, reaped by [`Bridge::reap`].
    command_pid: Option<rustix::process::Pid>,
    /// The X11 window with the keyboard focus.
    pub focus: Option<X11Surface>,
    pub loop_handle: LoopHandle<'static, Bridge>,
    pub(crate) listener: Option<RegistrationToken>,
    pub(crate) shm_only: bool,
    pub(crate) started: Instant,
    signal: LoopSignal,
    exit: Option<ExitCode>,
}

impl Bridge {
    /// Milliseconds since the bridge started, for event and frame timestamps.
    pub fn now_ms(&self) -> u32 {
        self.started.elapsed().as_millis() as u32
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

    pub(crate) fn finish(&mut self, code: ExitCode) {
        self.exit.get_or_insert(code);
        self.signal.stop();
    }
}
