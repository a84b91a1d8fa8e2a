//! The compositor's state: `State { backend, comp }`, borrowed apart so that rendering can hold
//! the backend's renderer and read the shell at once.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use smithay::desktop::PopupManager;
use smithay::input::{Seat, SeatState};
use smithay::reexports::calloop::ping::{make_ping, Ping};
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::calloop::{
    channel, generic::Generic, Interest, LoopHandle, LoopSignal, Mode, PostAction,
};
use smithay::reexports::wayland_server::backend::ObjectId;
use smithay::reexports::wayland_server::{Client, Display, DisplayHandle};
use smithay::utils::{Clock, Logical, Monotonic, Point};
use smithay::wayland::cursor_shape::CursorShapeManagerState;
use smithay::wayland::fractional_scale::FractionalScaleManagerState;
use smithay::wayland::output::OutputManagerState;
use smithay::wayland::presentation::PresentationState;
use smithay::wayland::selection::data_device::DataDeviceState;
use smithay::wayland::selection::primary_selection::PrimarySelectionState;
use smithay::wayland::shell::xdg::decoration::XdgDecorationState;
use smithay::wayland::shell::xdg::XdgShellState;
use smithay::wayland::shm::ShmState;
use smithay::wayland::single_pixel_buffer::SinglePixelBufferState;
use smithay::wayland::socket::ListeningSocketSource;
use smithay::wayland::viewporter::ViewporterState;
use smithay::wayland::xdg_activation::XdgActivationState;
use tracing::warn;

use crate::backend::Backend;
use crate::clients::Clients;
use crate::config::Config;
use crate::ipc::server::ControlServer;
use crate::policy::{ClientGone, ClientState, Profile, HOST_CONTAINER};
use crate::shell::Shell;

/// Everything the event loop hands to callbacks.
pub struct State {
    /// Where pixels go and input comes from.
    pub backend: Backend,
    /// The compositor proper.
    pub comp: Porthole,
}

/// The compositor, made of one sub-state per feature; the features' own files say what each
/// does with it.
pub struct Porthole {
    /// Handle to the Wayland display.
    pub display_handle: DisplayHandle,
    /// Handle to the event loop.
    pub loop_handle: LoopHandle<'static, State>,
    /// Stops the event loop.
    pub loop_signal: LoopSignal,
    /// The loaded configuration.
    pub config: Config,
    /// When the compositor started; frame callback times count from here.
    pub start_time: Instant,
    /// The clock presentation feedback is reported in.
    pub clock: Clock<Monotonic>,
    /// Name of the trusted host socket in `$XDG_RUNTIME_DIR`.
    pub socket_name: String,
    /// smithay's state of every global Porthole offers.
    pub globals: Globals,
    /// Connected clients being disconnected, and how their going is reported.
    pub clients: Clients,
    /// The one seat.
    pub seat: Seat<State>,
    /// The pointer's image, focus and keys the compositor keeps (`input/`).
    pub input: crate::input::InputState,
    /// Windows, their stacking and places (`shell/`).
    pub shell: Shell,
    /// Popups of every window.
    pub popups: PopupManager,
    /// The popup grab in force, if any: a window that opens ends it.
    pub popup_grab: Option<smithay::desktop::PopupGrab<State>>,
    /// Every output's frame state and run-time settings (`outputs/`).
    pub outputs: crate::outputs::Outputs,
    /// Containers, and what is counted against them (`containers/`).
    pub containers: crate::containers::Containers,
    /// Rectangles per region and MIME types per data source, for their limits (`bounds.rs`).
    pub counts: crate::bounds::Counts,
    /// Who owns each container's selections, and transfers between them (`clipboard/`).
    pub clipboard: crate::clipboard::Clipboard,
    /// Bridges of checkpointable containers, and placeholders of checkpointed ones
    /// (`checkpoint/`).
    pub checkpoints: crate::checkpoint::placeholder::Checkpoints,
    /// xdg-session-management's sessions, per container (`protocols/session`).
    pub sessions: crate::protocols::session::SessionState,
    /// Toplevels whose places X11 bridges follow (`protocols/x11`).
    pub x11: crate::protocols::x11::X11State,
    /// Renders the text the compositor draws (`decorations/`).
    pub text: crate::decorations::TextRenderer,
    /// The containers' supervised apps (`containers/supervise.rs`).
    pub apps: crate::containers::supervise::Apps,
    /// What kiosk tenants' outputs show behind their windows (`shell/kiosk.rs`).
    pub splashes: std::cell::RefCell<Vec<crate::shell::Splash>>,
    /// The control socket and its event subscribers (`ipc/`).
    pub control: Option<ControlServer>,
    /// Set from the control socket's threads to stop the loop.
    pub quit_requested: Arc<std::sync::atomic::AtomicBool>,
    /// `porthole restart`: once stopped, the binary is started again in the compositor's place.
    pub restart_requested: Arc<std::sync::atomic::AtomicBool>,
    /// Programs the session started (autostart, spawn bindings), until they exit (`spawn`).
    pub children: Vec<std::process::Child>,
}

/// smithay's state of the globals Porthole offers; which client sees which is `policy`'s.
pub struct Globals {
    /// wl_compositor and wl_subcompositor, and smithay's list of surfaces in pieces.
    pub compositor: crate::surface_lists::SurfaceLists,
    /// xdg_wm_base.
    pub xdg_shell: XdgShellState,
    /// zxdg_decoration_manager_v1.
    pub xdg_decoration: XdgDecorationState,
    /// wl_shm.
    pub shm: ShmState,
    /// wl_output and zxdg_output_manager_v1.
    pub output_manager: OutputManagerState,
    /// wl_seat.
    pub seat: SeatState<State>,
    /// wl_data_device_manager.
    pub data_device: DataDeviceState,
    /// zwp_primary_selection_device_manager_v1.
    pub primary_selection: PrimarySelectionState,
    /// wp_viewporter.
    pub viewporter: ViewporterState,
    /// wp_single_pixel_buffer_manager_v1.
    pub single_pixel_buffer: SinglePixelBufferState,
    /// wp_presentation.
    pub presentation: PresentationState,
    /// wp_fractional_scale_manager_v1.
    pub fractional_scale: FractionalScaleManagerState,
    /// wp_cursor_shape_manager_v1.
    pub cursor_shape: CursorShapeManagerState,
    /// xdg_activation_v1.
    pub activation: XdgActivationState,
    /// linux-dmabuf; its global exists only where the backend can import dmabufs.
    pub dmabuf: smithay::wayland::dmabuf::DmabufState,
    /// The linux-dmabuf global, once a backend offered it.
    pub dmabuf_global: Option<smithay::wayland::dmabuf::DmabufGlobal>,
    /// Globals only trusted clients see.
    pub privileged: PrivilegedState,
    /// zwlr_screencopy_manager_v1.
    pub screencopy: crate::protocols::screencopy::ScreencopyState,
}

impl Globals {
    /// Creates every global but linux-dmabuf's (the backend offers it where it can import), and
    /// Porthole's own protocols', through the policy filter.
    fn new(dh: &DisplayHandle, clock: &Clock<Monotonic>) -> Self {
        use crate::policy::filter_for;
        let primary_selection = PrimarySelectionState::new_with_filter::<State, _>(
            dh,
            filter_for("zwp_primary_selection_device_manager_v1"),
        );
        Self {
            compositor: crate::surface_lists::SurfaceLists::new::<State>(dh),
            xdg_shell: XdgShellState::new::<State>(dh),
            xdg_decoration: XdgDecorationState::new_with_filter::<State, _>(
                dh,
                filter_for("zxdg_decoration_manager_v1"),
            ),
            shm: ShmState::new::<State>(dh, vec![]),
            output_manager: OutputManagerState::new_with_xdg_output::<State>(dh),
            seat: SeatState::new(),
            data_device: DataDeviceState::new::<State>(dh),
            privileged: PrivilegedState::new(dh, &primary_selection),
            primary_selection,
            viewporter: ViewporterState::new::<State>(dh),
            single_pixel_buffer: SinglePixelBufferState::new::<State>(dh),
            presentation: PresentationState::new::<State>(dh, clock.id() as u32),
            fractional_scale: FractionalScaleManagerState::new::<State>(dh),
            cursor_shape: CursorShapeManagerState::new::<State>(dh),
            activation: XdgActivationState::new::<State>(dh),
            dmabuf: smithay::wayland::dmabuf::DmabufState::new(),
            dmabuf_global: None,
            screencopy: crate::protocols::screencopy::ScreencopyState::new::<State>(
                dh,
                filter_for(crate::protocols::screencopy::NAME),
            ),
        }
    }
}

/// The state of protocols only trusted clients may bind.
pub struct PrivilegedState {
    /// zwlr_data_control_manager_v1.
    pub wlr_data_control: smithay::wayland::selection::wlr_data_control::DataControlState,
    /// ext_data_control_manager_v1.
    pub ext_data_control: smithay::wayland::selection::ext_data_control::DataControlState,
    /// ext_foreign_toplevel_list_v1.
    pub foreign_toplevel_list: smithay::wayland::foreign_toplevel_list::ForeignToplevelListState,
    /// zwp_keyboard_shortcuts_inhibit_manager_v1.
    pub shortcuts_inhibit:
        smithay::wayland::keyboard_shortcuts_inhibit::KeyboardShortcutsInhibitState,
    /// wp_security_context_manager_v1.
    pub security_context: smithay::wayland::security_context::SecurityContextState,
    /// zwp_virtual_keyboard_manager_v1.
    pub virtual_keyboard: smithay::wayland::virtual_keyboard::VirtualKeyboardManagerState,
}

impl PrivilegedState {
    fn new(dh: &DisplayHandle, primary: &PrimarySelectionState) -> Self {
        use crate::policy::filter_for;
        use smithay::wayland::selection::{ext_data_control, wlr_data_control};
        Self {
            wlr_data_control: wlr_data_control::DataControlState::new::<State, _>(
                dh,
                Some(primary),
                filter_for("zwlr_data_control_manager_v1"),
            ),
            ext_data_control: ext_data_control::DataControlState::new::<State, _>(
                dh,
                Some(primary),
                filter_for("ext_data_control_manager_v1"),
            ),
            foreign_toplevel_list:
                smithay::wayland::foreign_toplevel_list::ForeignToplevelListState::new_with_filter::<
                    State,
                >(dh, filter_for("ext_foreign_toplevel_list_v1")),
            shortcuts_inhibit:
                smithay::wayland::keyboard_shortcuts_inhibit::KeyboardShortcutsInhibitState::new::<
                    State,
                >(dh),
            // A sandboxed client must not create nested contexts: only trusted ones see it.
            security_context: smithay::wayland::security_context::SecurityContextState::new::<
                State,
                _,
            >(dh, filter_for("wp_security_context_manager_v1")),
            virtual_keyboard: smithay::wayland::virtual_keyboard::VirtualKeyboardManagerState::new::<
                State,
                _,
            >(dh, filter_for("zwp_virtual_keyboard_manager_v1")),
        }
    }
}

impl Porthole {
    /// Creates the protocol state and the seat; outputs are added by the backend.
    pub fn new(
        config: Config,
        display: &Display<State>,
        loop_handle: LoopHandle<'static, State>,
        loop_signal: LoopSignal,
    ) -> anyhow::Result<Self> {
        let dh = display.handle();
        let clock = Clock::<Monotonic>::new();
        let mut globals = Globals::new(&dh, &clock);
        let x11 = crate::protocols::x11::X11State::new::<State>(&dh, crate::policy::may_follow_x11);

        let (gone, gone_channel) = channel::channel::<ClientGone>();
        loop_handle
            .insert_source(gone_channel, |event, _, state| {
                if let channel::Event::Msg(gone) = event {
                    state.comp.container_client_gone(&gone.container, &gone.id);
                    state.comp.trim_memory_soon();
                    state.comp.emit(porthole_ipc::Event::ClientDisconnected {
                        container: gone.container,
                        reason: gone.reason,
                    });
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch client disconnections: {err}"))?;

        let mut seat = globals.seat.new_wl_seat(&dh, "seat0");
        let kb = &config.keyboard;
        let xkb = smithay::input::keyboard::XkbConfig {
            layout: &kb.layout,
            variant: &kb.variant,
            options: if kb.options.is_empty() {
                None
            } else {
                Some(kb.options.clone())
            },
            ..Default::default()
        };
        seat.add_keyboard(xkb, kb.repeat_delay.into(), kb.repeat_rate.into())
            .map_err(|err| {
                anyhow::anyhow!(
                    "keyboard layout `{}` (variant `{}`) is not known to xkb: {err}; \
                     check [keyboard] in the configuration",
                    kb.layout,
                    kb.variant
                )
            })?;
        seat.add_pointer();
        seat.add_touch();

        Ok(Self {
            display_handle: dh,
            loop_handle,
            loop_signal,
            start_time: Instant::now(),
            clock,
            socket_name: String::new(),
            globals,
            clients: Clients::new(gone),
            seat,
            input: crate::input::InputState::new(&config.keyboard),
            shell: Shell::default(),
            popups: PopupManager::default(),
            popup_grab: None,
            outputs: Default::default(),
            containers: Default::default(),
            counts: Default::default(),
            clipboard: Default::default(),
            checkpoints: crate::checkpoint::placeholder::Checkpoints {
                bridges: crate::protocols::bridge::BridgeState::new::<State>(
                    &display.handle(),
                    crate::policy::may_be_bridge,
                ),
                placeholders: Vec::new(),
                live: Default::default(),
            },
            sessions: crate::protocols::session::SessionState::new::<State>(
                &display.handle(),
                crate::policy::filter_for(crate::protocols::session::GLOBAL),
            ),
            x11,
            text: crate::decorations::TextRenderer::new(),
            apps: Default::default(),
            splashes: Default::default(),
            control: None,
            quit_requested: Default::default(),
            restart_requested: Default::default(),
            children: Vec::new(),
            config,
        })
    }

    /// Serves the trusted host socket in `$XDG_RUNTIME_DIR` (auto-named, or `name`).
    pub fn listen_host_socket(&mut self, name: Option<&str>) -> anyhow::Result<()> {
        let source = match name {
            Some(name) => ListeningSocketSource::with_name(name),
            None => ListeningSocketSource::new_auto(),
        }
        .map_err(|err| {
            anyhow::anyhow!(
                "cannot create the Wayland socket: {err}; is XDG_RUNTIME_DIR set to a \
                 directory you own, and is the socket name free?"
            )
        })?;
        self.socket_name = source.socket_name().to_string_lossy().into_owned();
        self.loop_handle
            .insert_source(source, |stream, _, state| {
                state
                    .comp
                    .insert_client(stream, HOST_CONTAINER, Profile::Trusted, false, false);
            })
            .map_err(|err| anyhow::anyhow!("cannot listen on the Wayland socket: {err}"))?;
        Ok(())
    }

    /// Serves a client that connected through `container`'s door, tagged with it.
    pub fn insert_client(
        &mut self,
        stream: std::os::unix::net::UnixStream,
        container: &str,
        profile: Profile,
        x11: bool,
        bridgeable: bool,
    ) -> Option<Client> {
        let pid = rustix::net::sockopt::socket_peercred(&stream)
            .ok()
            .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
        let limits = self.limits_of_container(container);
        let data = ClientState {
            container: container.into(),
            profile,
            x11,
            bridgeable,
            pid,
            ..Default::default()
        };
        match self
            .clients
            .insert(&mut self.display_handle, stream, data, &limits)
        {
            Ok(client) => {
                self.emit(porthole_ipc::Event::ClientConnected {
                    container: container.into(),
                });
                Some(client)
            }
            Err(err) => {
                warn!(container, ?err, "cannot accept a client");
                None
            }
        }
    }

    /// Disconnects a client; with `error`, a protocol error on one of its objects tells it why.
    /// Safe from inside a request handler (see [`Clients::disconnect`]).
    pub fn disconnect(&mut self, client: &Client, error: Option<(ObjectId, u32, String)>) {
        self.clients.disconnect(&self.display_handle, client, error);
    }

    /// Gives the memory that clients who left freed back to the system, half a second after
    /// the last one left: glibc keeps freed memory for reuse, so a client that made the
    /// compositor grow by hundreds of MB would otherwise leave it that big.
    pub fn trim_memory_soon(&mut self) {
        if self.clients.trim_pending {
            return;
        }
        self.clients.trim_pending = true;
        let timer = Timer::from_duration(Duration::from_millis(500));
        let inserted = self.loop_handle.insert_source(timer, |_, _, state| {
            state.comp.clients.trim_pending = false;
            // Safety: malloc_trim has no preconditions.
            unsafe { libc::malloc_trim(0) };
            TimeoutAction::Drop
        });
        if inserted.is_err() {
            self.clients.trim_pending = false;
        }
    }

    /// Milliseconds since start, for input event timestamps.
    pub fn now_ms(&self) -> u32 {
        self.start_time.elapsed().as_millis() as u32
    }

    /// Time since start, for frame callbacks.
    pub fn elapsed(&self) -> Duration {
        self.start_time.elapsed()
    }

    /// Where the pointer is, in global coordinates.
    pub fn pointer_location(&self) -> Point<f64, Logical> {
        self.seat
            .get_pointer()
            .map(|p| p.current_location())
            .unwrap_or_default()
    }
}

impl State {
    /// Puts the Wayland display into the event loop. The returned ping makes the loop dispatch
    /// it even when no client wrote anything, which is how killed clients get cleaned up.
    pub fn insert_display(
        loop_handle: &LoopHandle<'static, State>,
        mut display: Display<State>,
    ) -> anyhow::Result<Ping> {
        let fd = display
            .backend()
            .poll_fd()
            .try_clone_to_owned()
            .context("cannot watch the Wayland display")?;
        let display = Rc::new(RefCell::new(display));
        let display_for_dispatch = display.clone();
        let dispatch = move |state: &mut State| {
            let display = &display_for_dispatch;
            if let Err(err) = display.borrow_mut().dispatch_clients(state) {
                warn!(?err, "error dispatching clients");
            }
        };
        let dispatch = Rc::new(dispatch);
        let on_fd = dispatch.clone();
        loop_handle
            .insert_source(
                Generic::new(fd, Interest::READ, Mode::Level),
                move |_, _, state| {
                    on_fd(state);
                    Ok(PostAction::Continue)
                },
            )
            .map_err(|err| anyhow::anyhow!("cannot watch the Wayland display: {err}"))?;
        let (ping, ping_source) = make_ping().context("cannot create a wakeup for the display")?;
        loop_handle
            .insert_source(ping_source, move |_, _, state| {
                state.comp.clients.apply_kills(&state.comp.display_handle);
                // wayland-backend runs the destructors of a killed client's objects at the end
                // of a dispatch.
                dispatch(state);
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the display wakeup: {err}"))?;
        Ok(ping)
    }

    /// Runs after every event loop dispatch: housekeeping, repaint, flush.
    pub fn refresh_and_flush(&mut self) {
        if self
            .comp
            .quit_requested
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            self.comp.loop_signal.stop();
        }
        self.comp.clients.apply_kills(&self.comp.display_handle);
        if !self.comp.children.is_empty() {
            self.comp.reap_children();
        }
        self.apply_pending_focus();
        let closed = std::mem::take(&mut *self.comp.containers.closed_listeners.borrow_mut());
        for name in closed {
            self.comp.container_stopped_listening(&name);
        }
        self.comp.shell.refresh();
        self.comp.popups.cleanup();
        // The shell moved windows: bridges learn where their X11 windows went.
        if self.comp.shell.take_moved() {
            self.comp.send_x11_positions();
        }
        self.refresh_pointer_focus();
        self.comp.live_records_due();
        self.redraw_queued_outputs();
        if self.comp.clients.flush_after_dispatch() {
            return;
        }
        if let Err(err) = self.comp.display_handle.flush_clients() {
            warn!(?err, "cannot flush clients");
        }
        self.comp.clients.reap(&mut self.comp.display_handle);
    }

    /// Gives the seat's keyboard the focus the shell decided on.
    pub fn apply_pending_focus(&mut self) {
        let Some(focus) = self.comp.input.pending_focus.take() else {
            return;
        };
        let Some(keyboard) = self.comp.seat.get_keyboard() else {
            return;
        };
        if keyboard.current_focus() != focus {
            let serial = smithay::utils::SERIAL_COUNTER.next_serial();
            keyboard.set_focus(self, focus, serial);
        }
    }
}
