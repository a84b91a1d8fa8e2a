//! The compositor's state: `State { backend, comp }`, borrowed apart so that rendering can hold
//! the backend's renderer and read the shell at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use smithay::desktop::{PopupManager, Window};
use smithay::input::pointer::CursorImageStatus;
use smithay::input::{Seat, SeatState};
use smithay::output::Output;
use smithay::reexports::calloop::ping::{make_ping, Ping};
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::calloop::{
    channel, generic::Generic, Interest, LoopHandle, LoopSignal, Mode, PostAction,
};
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::reexports::wayland_server::backend::protocol::ProtocolError;
use smithay::reexports::wayland_server::backend::{
    ClientData, ClientId, DisconnectReason, ObjectId,
};
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::{Client, Display, DisplayHandle};
use smithay::utils::{Clock, Logical, Monotonic, Point};
use smithay::wayland::compositor::{CompositorClientState, CompositorState};
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
use tracing::{error, info, warn};

use crate::backend::{refresh_interval, schedule_vblank, Backend, Frame};
use crate::config::Config;
use crate::control::ControlServer;
use crate::policy::Profile;
use crate::shell::Shell;

/// Everything the event loop hands to callbacks.
pub struct State {
    /// Where pixels go and input comes from.
    pub backend: Backend,
    /// The compositor proper.
    pub comp: Porthole,
}

/// Per-output frame pacing, as a real display would do it: at most one frame in flight.
#[derive(Debug, Default)]
pub struct OutputState {
    /// Something changed and the output should be repainted.
    pub redraw_queued: bool,
    /// A frame was submitted and its (real or simulated) vblank has not come yet.
    pub frame_pending: bool,
    /// Presentation feedback of the frame in flight.
    pub feedback: Option<smithay::desktop::utils::OutputPresentationFeedback>,
    /// Frames presented so far on this output.
    pub sequence: u64,
    /// When the queued redraw is due; a timer wakes the loop then.
    pub repaint_at: Option<std::time::Instant>,
    /// When frames are rendered and shown.
    pub pacing: crate::backend::pacing::Pacing,
}

/// The compositor: protocol state, windows, outputs and the seat.
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

    /// wl_compositor and wl_subcompositor.
    pub compositor_state: CompositorState,
    /// xdg_wm_base.
    pub xdg_shell_state: XdgShellState,
    /// zxdg_decoration_manager_v1.
    pub xdg_decoration_state: XdgDecorationState,
    /// wl_shm.
    pub shm_state: ShmState,
    /// wl_output and zxdg_output_manager_v1.
    pub output_manager_state: OutputManagerState,
    /// wl_seat.
    pub seat_state: SeatState<State>,
    /// wl_data_device_manager.
    pub data_device_state: DataDeviceState,
    /// zwp_primary_selection_device_manager_v1.
    pub primary_selection_state: PrimarySelectionState,
    /// wp_viewporter.
    pub viewporter_state: ViewporterState,
    /// wp_single_pixel_buffer_manager_v1.
    pub single_pixel_buffer_state: SinglePixelBufferState,
    /// wp_presentation.
    pub presentation_state: PresentationState,
    /// wp_fractional_scale_manager_v1.
    pub fractional_scale_state: FractionalScaleManagerState,
    /// wp_cursor_shape_manager_v1.
    pub cursor_shape_state: CursorShapeManagerState,
    /// xdg_activation_v1.
    pub activation_state: XdgActivationState,

    /// Popups of every window.
    pub popups: PopupManager,
    /// The popup grab in force, if any: a window that opens ends it.
    pub popup_grab: Option<smithay::desktop::PopupGrab<State>>,
    /// The one seat.
    pub seat: Seat<State>,
    /// What the pointer looks like now.
    pub cursor_status: CursorImageStatus,
    /// The pointer focus clients were last told of, and that surface's origin.
    pub pointer_focus_sent: Option<(WlSurface, Point<f64, Logical>)>,
    /// Windows, their stacking, placement and focus.
    pub shell: Shell,
    /// Frame pacing per output.
    pub output_state: HashMap<Output, OutputState>,
    /// Programs the session started (autostart, spawn bindings), until they exit.
    pub children: Vec<std::process::Child>,
    /// Output settings given at run time (`porthole output set`), over the configuration's.
    pub output_overrides: HashMap<String, crate::config::OutputConfig>,
    /// linux-dmabuf; its global exists only where the backend can import dmabufs.
    pub dmabuf_state: smithay::wayland::dmabuf::DmabufState,
    /// The linux-dmabuf global, once a backend offered it.
    pub dmabuf_global: Option<smithay::wayland::dmabuf::DmabufGlobal>,
    /// The control socket and its event subscribers.
    pub control: Option<ControlServer>,
    /// Keys pressed while a binding fired, whose releases must not reach clients either.
    pub suppressed_keys: Vec<u32>,
    /// Keyboard focus decided by the shell, applied to the seat by [`State::apply_pending_focus`]
    /// (the seat needs the whole `State`, the shell only has `Porthole`).
    pub pending_focus: Option<Option<WlSurface>>,
    /// Keysym to keycode table for synthetic typing.
    pub key_lookup: Option<crate::input::KeyLookup>,
    /// Globals only trusted clients see.
    pub privileged: PrivilegedState,
    /// Every client's selection devices, to tell those denied a selection that there is none.
    pub selection_devices: Vec<crate::handlers::SelectionDevice>,
    /// The container a drag in progress started in.
    pub drag_container: Option<String>,
    /// The container whose client owns the clipboard, if any.
    pub clipboard_owner: Option<String>,
    /// The container whose client owns the primary selection, if any.
    pub primary_owner: Option<String>,
    /// Containers whose security-context listener was closed by its sandbox, to be handled
    /// after the dispatch that noticed it.
    pub closed_listeners: Rc<RefCell<Vec<String>>>,
    /// Live wl_shm pools and buffers, for the `shm_bytes` limit.
    pub shm: crate::container::ShmAccounting,
    /// Containers, by name.
    pub containers:
        std::collections::BTreeMap<crate::config::ContainerName, crate::container::Container>,
    /// Set from the control socket's threads to stop the loop (see `control::Quit`).
    pub quit_requested: Arc<std::sync::atomic::AtomicBool>,
    /// Wakes the loop to dispatch the display (after killing clients).
    pub display_ping: Option<Ping>,
    /// Clients killed since the last dispatch, whose objects still need freeing.
    pub killed_clients: Vec<ClientId>,
    /// Clients to disconnect once the current dispatch is over, and why.
    pub pending_disconnects: Vec<(ClientId, DisconnectReason)>,
    /// Cloned into every client's state to report its disconnection.
    pub client_gone: channel::Sender<ClientGone>,
    /// Draws title bar text.
    pub text: crate::decorations::TextRenderer,
    /// Transfers of the clipboard between containers.
    pub clipboard: crate::clipboard::ClipboardState,
    /// The bridges of checkpointable containers (porthole_bridge_v1).
    pub bridges: Vec<porthole_protocols::bridge::server::porthole_bridge_v1::PortholeBridgeV1>,
    /// Windows of checkpointed containers, kept in place until they come back.
    pub placeholders: Vec<crate::checkpoint::Placeholder>,
    /// xdg-session-management-v1's sessions, per container.
    pub sessions: crate::session::Sessions,
    /// Toplevels whose places X11 bridges follow (porthole_x11_v1).
    pub x11_toplevels:
        Vec<porthole_protocols::x11::server::porthole_x11_toplevel_v1::PortholeX11ToplevelV1>,
    /// The arrow drawn for named cursor shapes.
    pub default_cursor: smithay::backend::renderer::element::memory::MemoryRenderBuffer,
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

/// What every Wayland client carries: where it came from. Policy is decided from this alone.
#[derive(Debug, Default)]
pub struct ClientState {
    /// smithay's per-client compositor bookkeeping.
    pub compositor_state: CompositorClientState,
    /// The container this client connected through; `host` for the trusted host socket.
    pub container: String,
    /// What the container's clients may bind.
    pub profile: Profile,
    /// Its container has X11: it may follow its toplevels' places (porthole_x11_v1).
    pub x11: bool,
    /// Tells the event loop when the client goes away (`disconnected` cannot reach the state).
    pub gone: Option<channel::Sender<ClientGone>>,
    /// Its process id, read when it connected; none for a process outside the compositor's pid
    /// namespace (wayland-backend's `get_credentials` panics on those, so it is not used).
    pub pid: Option<u32>,
}

/// A client went away.
#[derive(Debug)]
pub struct ClientGone {
    /// The client.
    pub id: ClientId,
    /// Its container.
    pub container: String,
    /// Why, for people.
    pub reason: String,
}

impl ClientData for ClientState {
    fn initialized(&self, _client_id: ClientId) {}
    fn disconnected(&self, client_id: ClientId, reason: DisconnectReason) {
        info!(container = %self.container, ?client_id, ?reason, "client disconnected");
        if let Some(gone) = &self.gone {
            let reason = match reason {
                DisconnectReason::ConnectionClosed => "connection closed".to_string(),
                DisconnectReason::ProtocolError(err) => format!("protocol error: {err}"),
            };
            let _ = gone.send(ClientGone {
                id: client_id,
                container: self.container.clone(),
                reason,
            });
        }
    }
}

/// The name of the container of the trusted host socket.
pub const HOST_CONTAINER: &str = "host";

impl Porthole {
    /// Creates the protocol state and the seat; outputs are added by the backend.
    pub fn new(
        config: Config,
        display: &Display<State>,
        loop_handle: LoopHandle<'static, State>,
        loop_signal: LoopSignal,
    ) -> anyhow::Result<Self> {
        let dh = display.handle();
        let compositor_state = CompositorState::new::<State>(&dh);
        dh.create_global::<State, porthole_protocols::x11::server::porthole_x11_manager_v1::PortholeX11ManagerV1, _>(1, ());
        dh.create_global::<State, porthole_protocols::bridge::server::porthole_bridge_v1::PortholeBridgeV1, _>(1, ());
        dh.create_global::<State, porthole_protocols::session::server::xdg_session_manager_v1::XdgSessionManagerV1, _>(1, ());
        dh.create_global::<State, smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1, _>(3, ());
        let xdg_shell_state = XdgShellState::new::<State>(&dh);
        let xdg_decoration_state = XdgDecorationState::new_with_filter::<State, _>(
            &dh,
            crate::policy::filter_for("zxdg_decoration_manager_v1"),
        );
        let shm_state = ShmState::new::<State>(&dh, vec![]);
        let output_manager_state = OutputManagerState::new_with_xdg_output::<State>(&dh);
        let mut seat_state = SeatState::new();
        let data_device_state = DataDeviceState::new::<State>(&dh);
        let primary_selection_state = PrimarySelectionState::new_with_filter::<State, _>(
            &dh,
            crate::policy::filter_for("zwp_primary_selection_device_manager_v1"),
        );
        let viewporter_state = ViewporterState::new::<State>(&dh);
        let single_pixel_buffer_state = SinglePixelBufferState::new::<State>(&dh);
        let clock = Clock::<Monotonic>::new();
        let presentation_state = PresentationState::new::<State>(&dh, clock.id() as u32);
        let fractional_scale_state = FractionalScaleManagerState::new::<State>(&dh);
        let cursor_shape_state = CursorShapeManagerState::new::<State>(&dh);
        let activation_state = XdgActivationState::new::<State>(&dh);

        let (client_gone, gone_channel) = channel::channel::<ClientGone>();
        loop_handle
            .insert_source(gone_channel, |event, _, state| {
                if let channel::Event::Msg(gone) = event {
                    state.comp.container_client_gone(&gone.container, &gone.id);
                    state
                        .comp
                        .emit(porthole_ipc::Event::ClientDisconnected {
                            container: gone.container,
                            reason: gone.reason,
                        });
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch client disconnections: {err}"))?;

        let privileged = PrivilegedState::new(&dh, &primary_selection_state);

        let mut seat = seat_state.new_wl_seat(&dh, "seat0");
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
            compositor_state,
            xdg_shell_state,
            xdg_decoration_state,
            shm_state,
            output_manager_state,
            seat_state,
            data_device_state,
            primary_selection_state,
            viewporter_state,
            single_pixel_buffer_state,
            presentation_state,
            fractional_scale_state,
            cursor_shape_state,
            activation_state,
            popups: PopupManager::default(),
            seat,
            cursor_status: CursorImageStatus::default_named(),
            popup_grab: None,
            pointer_focus_sent: None,
            shell: Shell::default(),
            output_state: HashMap::new(),
            output_overrides: HashMap::new(),
            children: Vec::new(),
            dmabuf_state: smithay::wayland::dmabuf::DmabufState::new(),
            dmabuf_global: None,
            control: None,
            suppressed_keys: Vec::new(),
            pending_focus: None,
            key_lookup: crate::input::KeyLookup::new(&config.keyboard),
            default_cursor: crate::render::default_cursor(),
            text: crate::decorations::TextRenderer::new(),
            x11_toplevels: Vec::new(),
            bridges: Vec::new(),
            placeholders: Vec::new(),
            sessions: Default::default(),
            clipboard: Default::default(),
            client_gone,
            display_ping: None,
            quit_requested: Default::default(),
            killed_clients: Vec::new(),
            pending_disconnects: Vec::new(),
            containers: Default::default(),
            shm: Default::default(),
            closed_listeners: Default::default(),
            clipboard_owner: None,
            drag_container: None,
            selection_devices: Vec::new(),
            primary_owner: None,
            privileged,
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
                    .insert_client(stream, HOST_CONTAINER, Profile::Trusted, false);
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
    ) -> Option<Client> {
        let pid = rustix::net::sockopt::socket_peercred(&stream)
            .ok()
            .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
        let data = Arc::new(ClientState {
            container: container.into(),
            profile,
            x11,
            gone: Some(self.client_gone.clone()),
            pid,
            ..Default::default()
        });
        match self.display_handle.insert_client(stream, data) {
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
    ///
    /// Safe from inside a request handler: libwayland must not destroy a client while it
    /// dispatches that client's requests. The error goes out at once (libwayland then ends the
    /// client when its dispatch is over); the kill itself waits for
    /// [`Porthole::apply_disconnects`], after the dispatch.
    pub fn disconnect(&mut self, client: &Client, error: Option<(ObjectId, u32, String)>) {
        let container = Self::client_container(client);
        let reason = match error {
            Some((object, code, message)) => {
                info!(container, "disconnecting a client: {message}");
                let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
                self.display_handle
                    .backend_handle()
                    .post_error(object.clone(), code, text);
                DisconnectReason::ProtocolError(ProtocolError {
                    code,
                    object_id: object.protocol_id(),
                    object_interface: object.interface().name.into(),
                    message,
                })
            }
            None => DisconnectReason::ConnectionClosed,
        };
        self.pending_disconnects.push((client.id(), reason));
        if let Some(ping) = &self.display_ping {
            ping.ping();
        }
    }

    /// Ends the clients [`Porthole::disconnect`] was asked to, outside of any dispatch.
    pub fn apply_disconnects(&mut self) {
        if self.pending_disconnects.is_empty() {
            return;
        }
        // What was queued for them (their protocol error first of all) goes out first.
        let _ = self.display_handle.flush_clients();
        for (id, reason) in std::mem::take(&mut self.pending_disconnects) {
            self.display_handle
                .backend_handle()
                .kill_client(id.clone(), reason);
            self.killed_clients.push(id);
        }
    }

    /// Adds an output to the space (where its configuration puts it, or right of the existing
    /// ones) with its configured scale and transform, and its frame pacing state.
    pub fn add_output(&mut self, output: &Output) {
        let x = self
            .shell
            .space
            .outputs()
            .filter_map(|o| self.shell.space.output_geometry(o))
            .map(|g| g.loc.x + g.size.w)
            .max()
            .unwrap_or(0);
        self.output_state
            .insert(output.clone(), OutputState::default());
        self.place_output(output, (x, 0).into());
    }

    /// An output's settings: the configuration's `[output.NAME]`, with what was set at run time
    /// over it.
    pub fn output_config(&self, name: &str) -> crate::config::OutputConfig {
        let base = self.config.outputs.get(name).cloned().unwrap_or_default();
        match self.output_overrides.get(name) {
            Some(over) => base.merged(over),
            None => base,
        }
    }

    /// Applies an output's configured position (else `default`), scale and transform, and fits
    /// the windows to the new layout.
    pub fn place_output(&mut self, output: &Output, default: Point<i32, Logical>) {
        let config = self.output_config(&output.name());
        let loc = config
            .position
            .map(|[x, y]| Point::from((x, y)))
            .unwrap_or(default);
        output.change_current_state(
            None,
            config.transform.map(|t| t.to_smithay()),
            config.scale.map(smithay::output::Scale::Fractional),
            Some(loc),
        );
        self.shell.space.map_output(output, loc);
        self.refit_windows();
        self.queue_redraw_all();
    }

    /// Removes an output; its windows move to the outputs left.
    pub fn remove_output(&mut self, output: &Output) {
        self.shell.space.unmap_output(output);
        self.output_state.remove(output);
        self.refit_windows();
        self.queue_redraw_all();
    }

    /// After outputs changed: windows left on no output move to the first one, and maximized or
    /// fullscreen windows take their output's new size.
    pub fn refit_windows(&mut self) {
        let Some(first) = self.shell.space.outputs().next().cloned() else {
            return;
        };
        let Some(first_geo) = self.shell.space.output_geometry(&first) else {
            return;
        };
        // Refitting a fullscreen window focuses it, as making it fullscreen does; the focus
        // stays where the person left it.
        let focused = self.focused_window();
        let windows: Vec<Window> = self.shell.space.elements().cloned().collect();
        for window in windows {
            let Some(geo) = self.shell.space.element_geometry(&window) else {
                continue;
            };
            let on_some_output = self.shell.space.outputs().any(|o| {
                self.shell
                    .space
                    .output_geometry(o)
                    .is_some_and(|g| g.overlaps(geo))
            });
            if !on_some_output {
                let frame = self.window_frame(&window);
                let loc = first_geo.loc + Point::from((32 + frame.border, 32 + frame.titlebar));
                self.shell.space.map_element(window.clone(), loc, false);
            }
            let Some(toplevel) = window.toplevel() else {
                continue;
            };
            // What the compositor last decided, acknowledged or not: a window maximized a moment
            // ago whose client has not answered yet is maximized too (CI caught the refit
            // missing such a window).
            let states = toplevel.with_pending_state(|s| s.states.clone());
            if states.contains(xdg_toplevel::State::Fullscreen) {
                let output = self.window_output(&window);
                self.fullscreen(&window, output);
            } else if states.contains(xdg_toplevel::State::Maximized) {
                self.maximize(&window);
            }
        }
        if self.focused_window() != focused {
            self.focus_window(focused.as_ref());
        }
    }

    /// Asks for `output` to be repainted at its next frame.
    pub fn queue_redraw(&mut self, output: &Output) {
        if let Some(state) = self.output_state.get_mut(output) {
            state.redraw_queued = true;
        }
    }

    /// Asks for every output to be repainted.
    pub fn queue_redraw_all(&mut self) {
        for state in self.output_state.values_mut() {
            state.redraw_queued = true;
        }
    }

    /// Repaints the outputs a window is on.
    pub fn queue_redraw_for(&mut self, window: &Window) {
        let outputs = self.shell.space.outputs_for_element(window);
        for output in outputs {
            self.queue_redraw(&output);
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

    /// The container a client came from.
    pub fn client_container(client: &Client) -> String {
        client
            .get_data::<ClientState>()
            .map(|d| d.container.clone())
            .unwrap_or_else(|| HOST_CONTAINER.into())
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
        let display_for_kills = display.clone();
        loop_handle
            .insert_source(ping_source, move |_, _, state| {
                state.comp.apply_disconnects();
                // wayland-backend frees a killed client's objects only while dispatching; with
                // nothing else to read, dispatching the killed client itself does it.
                for id in std::mem::take(&mut state.comp.killed_clients) {
                    let _ = display_for_kills
                        .borrow_mut()
                        .backend()
                        .dispatch_single_client(state, id);
                }
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
        self.comp.apply_disconnects();
        if !self.comp.children.is_empty() {
            self.comp.reap_children();
        }
        self.apply_pending_focus();
        let closed = std::mem::take(&mut *self.comp.closed_listeners.borrow_mut());
        for name in closed {
            self.comp.container_stopped_listening(&name);
        }
        self.comp.shell.space.refresh();
        self.comp.popups.cleanup();
        self.refresh_pointer_focus();
        self.redraw_queued_outputs();
        if let Err(err) = self.comp.display_handle.flush_clients() {
            warn!(?err, "cannot flush clients");
        }
    }

    /// Gives the seat's keyboard the focus the shell decided on.
    pub fn apply_pending_focus(&mut self) {
        let Some(focus) = self.comp.pending_focus.take() else {
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

    /// Renders every output that has a redraw queued, no frame in flight, and whose repaint is
    /// due (see `backend::pacing`); wakes the loop when the others are due.
    pub fn redraw_queued_outputs(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        let mut wakeups = Vec::new();
        for (output, s) in &mut self.comp.output_state {
            if !s.redraw_queued || s.frame_pending {
                continue;
            }
            let at = *s.repaint_at.get_or_insert_with(|| {
                let at = s.pacing.repaint_at(now, refresh_interval(output));
                if at > now {
                    wakeups.push(at);
                }
                at
            });
            if at <= now {
                due.push((output.clone(), at));
            }
        }
        for at in wakeups {
            // The wakeup itself does nothing: the loop's pass after it renders what is due.
            let timer = Timer::from_deadline(at);
            if let Err(err) = self
                .comp
                .loop_handle
                .insert_source(timer, |_, _, _| TimeoutAction::Drop)
            {
                error!(?err, "cannot schedule a repaint");
            }
        }
        for (output, at) in due {
            let started = Instant::now();
            let frame = self.backend.render(&mut self.comp, &output);
            let done = Instant::now();
            let refresh = refresh_interval(&output);
            let Some(s) = self.comp.output_state.get_mut(&output) else {
                continue;
            };
            // A failed render is drawn again at the next tick.
            s.redraw_queued = matches!(frame, Frame::Failed);
            s.repaint_at = None;
            // A failed render is paced like a frame too, so that it is retried at the next tick
            // rather than in a busy loop.
            s.frame_pending = true;
            let tick = s.pacing.rendered(done - started, done, refresh);
            tracing::trace!(
                output = output.name(),
                cost_us = (done - started).as_micros() as u64,
                late_us = started.saturating_duration_since(at).as_micros() as u64,
                wait_us = tick.saturating_duration_since(done).as_micros() as u64,
                "rendered"
            );
            match frame {
                Frame::Simulated | Frame::Failed => {
                    schedule_vblank(&mut self.comp, &output, tick, refresh)
                }
                // The display reports it (`frame_presented` from its vblank), or, paused, the
                // session's return clears it.
                Frame::Queued | Frame::Paused => {}
            }
        }
    }
}
