//! WLCS integration: the Wayland conformance test suite (Debian's `wlcs` package) loads this
//! library and drives Porthole's real compositor through it, in-process.
//!
//! WLCS calls in from its test thread. The compositor runs its event loop on a thread of its own:
//! headless, one 1920x1080 output, no listening socket. WLCS's clients come in through socket
//! pairs, as the host's own (trusted) clients. Every call that touches the compositor runs as a
//! job on the compositor's thread and waits for it, so that input WLCS injects has been handled
//! before WLCS looks at what its clients received.
//!
//! The C side is `wlcs/display_server.h`, `wlcs/pointer.h` and `wlcs/touch.h`; the structs below
//! mirror them field for field.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::os::fd::{FromRawFd as _, IntoRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread::JoinHandle;

use calloop::channel::{channel, Event, Sender};
use porthole::config::{Config, OutputMode};
use porthole::policy::Profile;
use porthole::policy::HOST_CONTAINER;
use porthole::state::State;
use porthole::ServeOptions;
use smithay::backend::input::{ButtonState, TouchSlot};
use smithay::reexports::calloop::EventLoop;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Client;
use smithay::utils::{Logical, Point};
use tracing::warn;

/// `WlcsExtensionDescriptor`.
#[repr(C)]
pub struct ExtensionDescriptor {
    name: *const c_char,
    version: u32,
}

/// `WlcsIntegrationDescriptor`.
#[repr(C)]
pub struct IntegrationDescriptor {
    version: u32,
    num_extensions: usize,
    supported_extensions: *const ExtensionDescriptor,
}

/// `WlcsDisplayServer`, version 3.
#[repr(C)]
pub struct DisplayServer {
    version: u32,
    start: Option<unsafe extern "C" fn(*mut DisplayServer)>,
    stop: Option<unsafe extern "C" fn(*mut DisplayServer)>,
    create_client_socket: Option<unsafe extern "C" fn(*mut DisplayServer) -> c_int>,
    position_window_absolute:
        Option<unsafe extern "C" fn(*mut DisplayServer, *mut c_void, *mut c_void, c_int, c_int)>,
    create_pointer: Option<unsafe extern "C" fn(*mut DisplayServer) -> *mut Pointer>,
    create_touch: Option<unsafe extern "C" fn(*mut DisplayServer) -> *mut Touch>,
    get_descriptor:
        Option<unsafe extern "C" fn(*const DisplayServer) -> *const IntegrationDescriptor>,
    start_on_this_thread: Option<unsafe extern "C" fn(*mut DisplayServer, *mut c_void)>,
}

/// `WlcsServerIntegration`: the one symbol WLCS looks up.
#[repr(C)]
pub struct ServerIntegration {
    version: u32,
    create_server: unsafe extern "C" fn(c_int, *const *const c_char) -> *mut DisplayServer,
    destroy_server: unsafe extern "C" fn(*mut DisplayServer),
}

/// `WlcsPointer`, followed by what this side needs.
#[repr(C)]
pub struct Pointer {
    version: u32,
    move_absolute: unsafe extern "C" fn(*mut Pointer, i32, i32),
    move_relative: unsafe extern "C" fn(*mut Pointer, i32, i32),
    button_up: unsafe extern "C" fn(*mut Pointer, c_int),
    button_down: unsafe extern "C" fn(*mut Pointer, c_int),
    destroy: unsafe extern "C" fn(*mut Pointer),
    link: Link,
}

/// `WlcsTouch`, followed by what this side needs.
#[repr(C)]
pub struct Touch {
    version: u32,
    touch_down: unsafe extern "C" fn(*mut Touch, i32, i32),
    touch_move: unsafe extern "C" fn(*mut Touch, i32, i32),
    touch_up: unsafe extern "C" fn(*mut Touch),
    destroy: unsafe extern "C" fn(*mut Touch),
    link: Link,
}

#[no_mangle]
pub static wlcs_server_integration: ServerIntegration = ServerIntegration {
    version: 1,
    create_server,
    destroy_server,
};

#[link(name = "wayland-client")]
extern "C" {
    fn wl_display_get_fd(display: *mut c_void) -> c_int;
    fn wl_proxy_get_id(proxy: *mut c_void) -> u32;
}

/// What Porthole offers the host's own clients, as WLCS names them: WLCS skips the tests of
/// anything not listed. Kept in step with what `wayland-info` shows a trusted client.
const EXTENSIONS: &[(&std::ffi::CStr, u32)] = &[
    (c"wl_compositor", 5),
    (c"wl_subcompositor", 1),
    (c"wl_shm", 2),
    (c"wl_seat", 9),
    (c"wl_output", 4),
    (c"wl_data_device_manager", 3),
    (c"xdg_wm_base", 6),
    (c"zxdg_decoration_manager_v1", 1),
    (c"zxdg_output_manager_v1", 3),
    (c"zwp_primary_selection_device_manager_v1", 1),
    (c"wp_viewporter", 1),
    (c"wp_single_pixel_buffer_manager_v1", 1),
    (c"wp_presentation", 2),
    (c"wp_fractional_scale_manager_v1", 1),
    (c"wp_cursor_shape_manager_v1", 2),
    (c"xdg_activation_v1", 1),
    (c"zwlr_screencopy_manager_v1", 3),
    (c"zwlr_data_control_manager_v1", 2),
    (c"ext_data_control_manager_v1", 1),
    (c"ext_foreign_toplevel_list_v1", 1),
    (c"zwp_keyboard_shortcuts_inhibit_manager_v1", 1),
    (c"wp_security_context_manager_v1", 1),
    (c"zwp_virtual_keyboard_manager_v1", 1),
];

/// The size of the one output.
const OUTPUT: OutputMode = OutputMode {
    width: 1920,
    height: 1080,
    refresh_hz: 60,
};

/// The clients WLCS connected, by the number of the fd WLCS holds for each (what
/// `wl_display_get_fd` gives back for its `wl_display`).
type Clients = HashMap<RawFd, Client>;

type Job = Box<dyn FnOnce(&mut State, &mut Clients) + Send>;

/// A way to run jobs on the compositor's thread.
#[derive(Clone)]
struct Link(Sender<Job>);

impl Link {
    /// Runs `job` on the compositor's thread and returns its result; `None` when the compositor
    /// is gone.
    fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut State, &mut Clients) -> R + Send + 'static,
    ) -> Option<R> {
        let (done, result) = mpsc::sync_channel(1);
        self.0
            .send(Box::new(move |state, clients| {
                let _ = done.send(job(state, clients));
            }))
            .ok()?;
        result.recv().ok()
    }
}

/// One WLCS display server: a compositor, started and stopped as WLCS says.
#[repr(C)]
struct Server {
    base: DisplayServer,
    descriptor: IntegrationDescriptor,
    extensions: Vec<ExtensionDescriptor>,
    running: Option<(Link, JoinHandle<()>)>,
}

impl Server {
    /// # Safety
    /// `server` is a pointer [`create_server`] returned and [`destroy_server`] has not freed.
    unsafe fn from<'a>(server: *mut DisplayServer) -> &'a mut Server {
        &mut *server.cast::<Server>()
    }

    fn link(&self) -> Link {
        match &self.running {
            Some((link, _)) => link.clone(),
            None => fail("WLCS used the display server before starting it"),
        }
    }
}

/// Ends the test process: WLCS's C interface has no way to report failure.
fn fail(message: &str) -> ! {
    eprintln!("porthole-wlcs: {message}");
    std::process::abort()
}

unsafe extern "C" fn create_server(
    _argc: c_int,
    _argv: *const *const c_char,
) -> *mut DisplayServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let extensions: Vec<ExtensionDescriptor> = EXTENSIONS
        .iter()
        .map(|(name, version)| ExtensionDescriptor {
            name: name.as_ptr(),
            version: *version,
        })
        .collect();
    let server = Box::new(Server {
        base: DisplayServer {
            version: 3,
            start: Some(start),
            stop: Some(stop),
            create_client_socket: Some(create_client_socket),
            position_window_absolute: Some(position_window_absolute),
            create_pointer: Some(create_pointer),
            create_touch: Some(create_touch),
            get_descriptor: Some(get_descriptor),
            start_on_this_thread: None,
        },
        descriptor: IntegrationDescriptor {
            version: 1,
            num_extensions: extensions.len(),
            supported_extensions: extensions.as_ptr(),
        },
        extensions,
        running: None,
    });
    Box::into_raw(server).cast()
}

unsafe extern "C" fn destroy_server(server: *mut DisplayServer) {
    let mut server = Box::from_raw(server.cast::<Server>());
    stop_compositor(&mut server);
}

unsafe extern "C" fn get_descriptor(server: *const DisplayServer) -> *const IntegrationDescriptor {
    &(*server.cast::<Server>()).descriptor
}

unsafe extern "C" fn start(server: *mut DisplayServer) {
    let server = Server::from(server);
    let (ready, started) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("porthole".into())
        .spawn(move || run_compositor(ready))
        .unwrap_or_else(|err| fail(&format!("cannot start the compositor's thread: {err}")));
    match started.recv() {
        Ok(Ok(link)) => server.running = Some((link, thread)),
        Ok(Err(err)) => fail(&format!("the compositor did not start: {err:#}")),
        Err(_) => fail("the compositor's thread died while starting"),
    }
}

unsafe extern "C" fn stop(server: *mut DisplayServer) {
    stop_compositor(Server::from(server));
}

fn stop_compositor(server: &mut Server) {
    if let Some((link, thread)) = server.running.take() {
        link.run(|state, _| state.comp.loop_signal.stop());
        if thread.join().is_err() {
            fail("the compositor panicked");
        }
    }
}

/// The compositor's thread: builds it, hands back a [`Link`] (or why it could not start), and
/// runs its loop until [`stop`].
fn run_compositor(ready: mpsc::SyncSender<anyhow::Result<Link>>) {
    let built = (|| {
        let event_loop: EventLoop<'static, State> = EventLoop::try_new()?;
        let state = porthole::build(
            &event_loop,
            ServeOptions::in_process(Config::default(), vec![OUTPUT]),
        )?;
        let (jobs, queue) = channel::<Job>();
        let mut clients = Clients::new();
        event_loop
            .handle()
            .insert_source(queue, move |event, _, state| {
                if let Event::Msg(job) = event {
                    job(state, &mut clients);
                    state.refresh_and_flush();
                }
            })
            .map_err(|err| anyhow::anyhow!("watching WLCS's requests: {err}"))?;
        anyhow::Ok((event_loop, state, Link(jobs)))
    })();
    let (mut event_loop, mut state) = match built {
        Ok((event_loop, state, link)) => {
            let _ = ready.send(Ok(link));
            (event_loop, state)
        }
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    if let Err(err) = event_loop.run(None, &mut state, |state| state.refresh_and_flush()) {
        fail(&format!("the compositor's event loop failed: {err}"));
    }
}

unsafe extern "C" fn create_client_socket(server: *mut DisplayServer) -> c_int {
    let link = Server::from(server).link();
    let (ours, theirs) = match UnixStream::pair() {
        Ok(pair) => pair,
        Err(err) => {
            warn!(%err, "cannot create a socket pair for a WLCS client");
            return -1;
        }
    };
    let fd = theirs.into_raw_fd();
    let inserted = link.run(move |state, clients| {
        let client =
            state
                .comp
                .insert_client(ours, HOST_CONTAINER, Profile::Trusted, false, false)?;
        clients.insert(fd, client);
        Some(())
    });
    match inserted.flatten() {
        Some(()) => fd,
        None => {
            drop(std::os::fd::OwnedFd::from_raw_fd(fd));
            -1
        }
    }
}

unsafe extern "C" fn position_window_absolute(
    server: *mut DisplayServer,
    display: *mut c_void,
    surface: *mut c_void,
    x: c_int,
    y: c_int,
) {
    let link = Server::from(server).link();
    let fd = wl_display_get_fd(display);
    let id = wl_proxy_get_id(surface);
    let placed = link.run(move |state, clients| {
        let client = clients.get(&fd).ok_or("no client for this wl_display")?;
        let surface = client
            .object_from_protocol_id::<WlSurface>(&state.comp.display_handle, id)
            .map_err(|_| "no such wl_surface")?;
        let window = state
            .comp
            .shell
            .window_for_surface(&surface)
            .ok_or("the surface is no window")?;
        state.comp.shell.map(&window, (x, y).into());
        state.comp.queue_redraw_all();
        Ok::<_, &str>(())
    });
    if let Some(Err(err)) = placed {
        warn!(err, "WLCS asked to place a window Porthole does not know");
    }
}

/// `wl_fixed_t` to a float.
fn fixed(value: i32) -> f64 {
    f64::from(value) / 256.0
}

unsafe extern "C" fn create_pointer(server: *mut DisplayServer) -> *mut Pointer {
    Box::into_raw(Box::new(Pointer {
        version: 1,
        move_absolute: pointer_move_absolute,
        move_relative: pointer_move_relative,
        button_up: pointer_button_up,
        button_down: pointer_button_down,
        destroy: pointer_destroy,
        link: Server::from(server).link(),
    }))
}

unsafe extern "C" fn pointer_move_absolute(pointer: *mut Pointer, x: i32, y: i32) {
    (*pointer).link.run(move |state, _| {
        let time = state.comp.now_ms();
        state.on_pointer_move((fixed(x), fixed(y)).into(), time);
    });
}

unsafe extern "C" fn pointer_move_relative(pointer: *mut Pointer, dx: i32, dy: i32) {
    (*pointer).link.run(move |state, _| {
        let time = state.comp.now_ms();
        let pos =
            state.comp.pointer_location() + Point::<f64, Logical>::from((fixed(dx), fixed(dy)));
        state.on_pointer_move(pos, time);
    });
}

unsafe fn pointer_button(pointer: *mut Pointer, button: c_int, pressed: ButtonState) {
    let Ok(button) = u32::try_from(button) else {
        return;
    };
    (*pointer).link.run(move |state, _| {
        let time = state.comp.now_ms();
        state.on_button(button, pressed, time);
    });
}

unsafe extern "C" fn pointer_button_down(pointer: *mut Pointer, button: c_int) {
    pointer_button(pointer, button, ButtonState::Pressed);
}

unsafe extern "C" fn pointer_button_up(pointer: *mut Pointer, button: c_int) {
    pointer_button(pointer, button, ButtonState::Released);
}

unsafe extern "C" fn pointer_destroy(pointer: *mut Pointer) {
    drop(Box::from_raw(pointer));
}

unsafe extern "C" fn create_touch(server: *mut DisplayServer) -> *mut Touch {
    Box::into_raw(Box::new(Touch {
        version: 1,
        touch_down,
        touch_move,
        touch_up,
        destroy: touch_destroy,
        link: Server::from(server).link(),
    }))
}

/// The one finger WLCS touches with.
///
/// Unlike the pointer's, WLCS's touch coordinates are whole pixels, not the `wl_fixed_t` that
/// `wlcs/touch.h` declares: its `Touch::down_at(int, int)` passes its ints straight through.
fn finger() -> TouchSlot {
    TouchSlot::from(Some(0))
}

unsafe extern "C" fn touch_down(touch: *mut Touch, x: i32, y: i32) {
    (*touch).link.run(move |state, _| {
        let time = state.comp.now_ms();
        state.on_touch_down(finger(), (f64::from(x), f64::from(y)).into(), time);
        touch_frame(state);
    });
}

unsafe extern "C" fn touch_move(touch: *mut Touch, x: i32, y: i32) {
    (*touch).link.run(move |state, _| {
        let time = state.comp.now_ms();
        state.on_touch_motion(finger(), (f64::from(x), f64::from(y)).into(), time);
        touch_frame(state);
    });
}

unsafe extern "C" fn touch_up(touch: *mut Touch) {
    (*touch).link.run(move |state, _| {
        let time = state.comp.now_ms();
        state.on_touch_up(finger(), time);
        touch_frame(state);
    });
}

/// Ends a touch event, as a device's frame does.
fn touch_frame(state: &mut State) {
    if let Some(touch) = state.comp.seat.get_touch() {
        touch.frame(state);
    }
}

unsafe extern "C" fn touch_destroy(touch: *mut Touch) {
    drop(Box::from_raw(touch));
}
