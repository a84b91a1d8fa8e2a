//! xdg-session-management-v1 against the real `porthole serve`: an app that names its window in a
//! session gets it back where it was, at its size and maximized if it was, when it starts again,
//! also after a compositor restart; sessions belong to their container. No client in Debian
//! speaks the staging protocol yet, so the app is this test's own wayland-client.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use porthole_ipc::WindowInfo;
use porthole_protocols::session::client::xdg_session_manager_v1::{Reason, XdgSessionManagerV1};
use porthole_protocols::session::client::xdg_session_v1::{self, XdgSessionV1};
use porthole_protocols::session::client::xdg_toplevel_session_v1::{self, XdgToplevelSessionV1};
use wayland_client::backend::ObjectId;
use wayland_client::protocol::{wl_buffer, wl_compositor, wl_shm, wl_shm_pool, wl_surface};
use wayland_client::{Connection, Dispatch, Proxy, QueueHandle};
use wayland_protocols::xdg::decoration::zv1::client::zxdg_decoration_manager_v1::ZxdgDecorationManagerV1;
use wayland_protocols::xdg::decoration::zv1::client::zxdg_toplevel_decoration_v1::Mode;
use wayland_protocols::xdg::shell::client::{xdg_surface, xdg_toplevel, xdg_wm_base};

use crate::common::*;
use crate::fixture::ClientData;
use crate::raw::*;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What the session objects told the app, in order.
type Log = Arc<Mutex<Vec<String>>>;

impl Dispatch<XdgSessionV1, Log> for ClientData {
    fn event(
        _: &mut Self,
        _: &XdgSessionV1,
        event: xdg_session_v1::Event,
        log: &Log,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let line = match event {
            xdg_session_v1::Event::Created { session_id } => format!("created {session_id}"),
            xdg_session_v1::Event::Restored => "restored".to_string(),
            xdg_session_v1::Event::Replaced => "replaced".to_string(),
            _ => return,
        };
        log.lock().unwrap().push(line);
    }
}

/// The toplevel a handle is for, and the log.
type HandleData = (ObjectId, Log);

impl Dispatch<XdgToplevelSessionV1, HandleData> for ClientData {
    fn event(
        data: &mut Self,
        _: &XdgToplevelSessionV1,
        event: xdg_toplevel_session_v1::Event,
        (toplevel, log): &HandleData,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let xdg_toplevel_session_v1::Event::Restored = event {
            let configures = data.toplevel_configures.get(toplevel).map_or(0, Vec::len);
            log.lock()
                .unwrap()
                .push(format!("toplevel restored after {configures} configures"));
        }
    }
}

/// How the app names its window in the session.
#[derive(Clone, Copy)]
enum Naming {
    Add,
    Restore,
}

/// The app: one window named `main` in a session, drawn in one colour (wl_shm, which a
/// checkpointable container's bridge offers too) at the size it is configured to (300x200 when
/// the compositor leaves the size to it).
struct App {
    raw: Raw,
    log: Log,
    xdg: xdg_surface::XdgSurface,
    toplevel: xdg_toplevel::XdgToplevel,
    surface: wl_surface::WlSurface,
    pool: wl_shm_pool::WlShmPool,
    buffer: Option<wl_buffer::WlBuffer>,
    _memory: std::os::fd::OwnedFd,
}

/// Big enough for a window filling the 1280x800 output.
const POOL_BYTES: i32 = 1280 * 800 * 4;

impl App {
    fn launch(c: &Compositor, container: &str, session: Option<&str>, naming: Naming) -> Self {
        Self::launch_on(&socket(c, container), session, naming)
    }

    /// The app on the Wayland socket at `path`.
    fn launch_on(path: &Path, session: Option<&str>, naming: Naming) -> Self {
        let raw = Raw::connect(path).unwrap();
        let log = Log::default();
        let compositor: wl_compositor::WlCompositor = raw.bind("wl_compositor", 4);
        let wm: xdg_wm_base::XdgWmBase = raw.bind("xdg_wm_base", 1);
        let decorations: ZxdgDecorationManagerV1 = raw.bind("zxdg_decoration_manager_v1", 1);
        let shm: wl_shm::WlShm = raw.bind("wl_shm", 1);
        let manager: XdgSessionManagerV1 = raw.bind("xdg_session_manager_v1", 1);
        let qh = raw.qh.clone();
        let xdg_session =
            manager.get_session(Reason::Launch, session.map(String::from), &qh, log.clone());
        let surface = compositor.create_surface(&qh, ());
        let xdg = wm.get_xdg_surface(&surface, &qh, ());
        let toplevel = xdg.get_toplevel(&qh, ());
        toplevel.set_title("session app".to_string());
        // Server-side decorations: a title bar the test drags the window by.
        decorations
            .get_toplevel_decoration(&toplevel, &qh, ())
            .set_mode(Mode::ServerSide);
        let data = (toplevel.id(), log.clone());
        match naming {
            Naming::Add => xdg_session.add_toplevel(&toplevel, "main".into(), &qh, data),
            Naming::Restore => xdg_session.restore_toplevel(&toplevel, "main".into(), &qh, data),
        };
        let memory = memfd(POOL_BYTES as u64);
        std::fs::File::from(memory.try_clone().unwrap())
            .write_all(&vec![0x60; POOL_BYTES as usize])
            .unwrap();
        let pool = shm.create_pool(memory.as_fd(), POOL_BYTES, &qh, ());
        surface.commit();
        let mut app = Self {
            raw,
            log,
            xdg,
            toplevel,
            surface,
            pool,
            buffer: None,
            _memory: memory,
        };
        poll(TIMEOUT, "the first configure", || {
            app.raw.roundtrip()?;
            app.configured().ok_or_else(|| "none yet".to_string())
        });
        app.draw();
        app
    }

    /// The size of the last configure (0x0: the app chooses).
    fn configured(&self) -> Option<(i32, i32)> {
        self.raw
            .data
            .toplevel_configures
            .get(&self.toplevel.id())?
            .last()
            .map(|c| c.size)
    }

    fn first_configure(&self) -> (i32, i32) {
        self.raw.data.toplevel_configures[&self.toplevel.id()][0].size
    }

    /// Acknowledges the last configure and draws at its size.
    fn draw(&mut self) {
        if let Some(serial) = self.raw.data.pending_serial.remove(&self.xdg.id()) {
            self.xdg.ack_configure(serial);
        }
        let (w, h) = match self.configured() {
            Some((w, h)) if w > 0 && h > 0 => (w.min(1280), h.min(800)),
            _ => (300, 200),
        };
        let qh = self.raw.qh.clone();
        let buffer = self
            .pool
            .create_buffer(0, w, h, w * 4, wl_shm::Format::Xrgb8888, &qh, ());
        self.surface.attach(Some(&buffer), 0, 0);
        if let Some(old) = self.buffer.replace(buffer) {
            old.destroy();
        }
        self.surface.damage_buffer(0, 0, w, h);
        self.surface.commit();
        self.raw.roundtrip().unwrap();
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits for a configure whose size passes `wanted`, and draws at it.
    fn follow(&mut self, what: &str, wanted: impl Fn((i32, i32)) -> bool) {
        poll(TIMEOUT, what, || {
            self.raw.roundtrip()?;
            match self.configured() {
                Some(size) if wanted(size) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
        self.draw();
    }

    /// Checks that the window it restored came back as `moved` was: told so before its first
    /// configure, which carries its size, and in its place.
    fn restored_as(&mut self, c: &Compositor, container: &str, moved: &WindowInfo) {
        let w = window(c, container, "the restored window", |_| true);
        self.raw.roundtrip().unwrap();
        assert_eq!(
            self.log(),
            ["restored", "toplevel restored after 0 configures"],
            "what the session said"
        );
        assert_eq!(self.first_configure(), (300, 200));
        assert_eq!(
            w.geometry, moved.geometry,
            "the restored window is where it was"
        );
    }

    /// The session id the compositor gave on `created`.
    fn created(&self) -> Option<String> {
        self.log()
            .iter()
            .find_map(|l| l.strip_prefix("created ").map(String::from))
    }
}

/// The app's window, once listed with `done` true.
fn window(
    c: &Compositor,
    container: &str,
    what: &str,
    done: impl Fn(&WindowInfo) -> bool,
) -> WindowInfo {
    poll(TIMEOUT, what, || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == container && w.title == "session app" && done(w))
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    })
}

/// Waits until the app's window is gone from the list (its client disconnected).
fn closed(c: &Compositor, container: &str) {
    poll(TIMEOUT, "the window to close", || {
        match c
            .windows()
            .iter()
            .any(|w| w.container == container && w.title == "session app")
        {
            true => Err("still open".to_string()),
            false => Ok(()),
        }
    });
}

#[test]
fn an_app_gets_its_window_back_where_it_was_also_after_a_compositor_restart() {
    let mut c = Compositor::start(1280, 800);
    c.run_ok(&["container", "add", "apps"]);

    // First run: a new session; the person moves the window away from where it opened.
    let app = App::launch(&c, "apps", None, Naming::Add);
    let id = app.created().expect("a new session gets an id");
    let opened = window(&c, "apps", "the window", |_| true);
    assert_eq!((opened.geometry.width, opened.geometry.height), (300, 200));
    let place = (517, 333);
    assert_ne!((opened.geometry.x, opened.geometry.y), place);
    drag(&c, &opened, place);
    let moved = window(&c, "apps", "the moved window", |w| {
        (w.geometry.x, w.geometry.y) == place
    });
    drop(app);
    closed(&c, "apps");

    // Second run: the session is known, and the window restored by name opens where it was,
    // told so before its first configure, which carries its size.
    let back = |c: &Compositor| {
        let mut app = App::launch(c, "apps", Some(&id), Naming::Restore);
        app.restored_as(c, "apps", &moved);
        app
    };
    let app = back(&c);
    drop(app);
    closed(&c, "apps");

    // The same after the compositor restarts: sessions are stored.
    c.restart();
    c.run_ok(&["container", "add", "apps"]);
    let app = back(&c);

    // Maximized when it closes: maximized when it comes back, and back at its place after.
    let w = window(&c, "apps", "the window", |_| true);
    c.run_ok(&["window", "maximize", "--id", &w.id.to_string()]);
    let mut app = app;
    app.follow("the maximize configure", |(w, _)| w > 300);
    window(&c, "apps", "the maximized window", |w| w.maximized);
    drop(app);
    closed(&c, "apps");
    let mut app = App::launch(&c, "apps", Some(&id), Naming::Restore);
    app.follow("the maximize configure", |(w, _)| w > 300);
    let w = window(&c, "apps", "the window maximized again", |w| w.maximized);
    c.run_ok(&["window", "maximize", "--id", &w.id.to_string()]);
    app.follow("the unmaximize configure", |size| size == (300, 200));
    let w = window(&c, "apps", "the window unmaximized", |w| !w.maximized);
    assert_eq!(
        w.geometry, moved.geometry,
        "unmaximized, it is back at its place"
    );
}

#[test]
fn a_session_belongs_to_its_container() {
    let c = Compositor::start(1280, 800);
    c.run_ok(&["container", "add", "one"]);
    c.run_ok(&["container", "add", "two"]);
    let app = App::launch(&c, "one", None, Naming::Add);
    let id = app.created().expect("a session id");
    let opened = window(&c, "one", "the window", |_| true);
    drag(&c, &opened, (600, 400));
    window(&c, "one", "the moved window", |w| {
        (w.geometry.x, w.geometry.y) == (600, 400)
    });
    drop(app);
    closed(&c, "one");

    // Container two cannot take container one's session: it gets a new one, and its window
    // opens where the compositor places new windows.
    let other = App::launch(&c, "two", Some(&id), Naming::Restore);
    let new_id = other.created().expect("a new session, not container one's");
    assert_ne!(new_id, id);
    assert!(
        !other.log().iter().any(|l| l.contains("restored")),
        "{:?}",
        other.log()
    );
    let w = window(&c, "two", "container two's window", |_| true);
    assert_ne!((w.geometry.x, w.geometry.y), (600, 400));

    // A second client of container one taking the session over: the first is told.
    let first = App::launch(&c, "one", Some(&id), Naming::Restore);
    assert_eq!(first.log()[0], "restored");
    let mut first = first;
    let _second = App::launch(&c, "one", Some(&id), Naming::Add);
    poll(TIMEOUT, "the first client to be told", || {
        first.raw.roundtrip()?;
        match first.log().iter().any(|l| l == "replaced") {
            true => Ok(()),
            false => Err(format!("{:?}", first.log())),
        }
    });
}

#[test]
fn an_app_in_a_checkpointable_container_gets_its_window_back_through_the_bridge() {
    // There the bridge serves the apps (it is the container's only client of the compositor)
    // and passes their sessions on. Needs root, as checkpointable containers do.
    let c = Compositor::start(1280, 800);
    c.run_ok(&["container", "add", "ckapps"]);
    let out = c.run(&["run", "--checkpointable", "ckapps", "--", "sleep", "3600"]);
    assert!(
        out.status.success(),
        "porthole run --checkpointable failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let containers: serde_json::Value =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).unwrap();
    let pid = containers
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "ckapps"))
        .and_then(|c| c["bridge_pid"].as_u64())
        .expect("the bridge's pid") as u32;
    let _sandbox = Sandbox::new(pid);
    let socket = PathBuf::from(format!("/proc/{pid}/root/run/porthole/wayland-0"));

    let app = App::launch_on(&socket, None, Naming::Add);
    let mut app = app;
    let id = poll(TIMEOUT, "the session id", || {
        app.raw.roundtrip()?;
        app.created().ok_or_else(|| format!("{:?}", app.log()))
    });
    let opened = window(&c, "ckapps", "the window", |_| true);
    let place = (433, 251);
    drag(&c, &opened, place);
    let moved = window(&c, "ckapps", "the moved window", |w| {
        (w.geometry.x, w.geometry.y) == place
    });

    // A checkpoint makes the bridge let go of the compositor and take its sessions back after.
    // This one fails (the app, this test, holds a connection into the container from outside),
    // and the bridge reconnects as after a restore.
    let criu = std::env::var_os("PORTHOLE_CRIU")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.criu/criu"));
    let out = c.run_with_env(
        &["checkpoint", "ckapps"],
        &[("PORTHOLE_CRIU", criu.to_str().unwrap())],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("The container keeps running"),
        "CRIU ran and failed on the connection from outside: {said}"
    );
    let back = window(&c, "ckapps", "the window live again", |w| !w.checkpointed);
    assert_eq!(back.geometry, moved.geometry);
    app.raw.roundtrip().expect("the app is still served");
    drop(app);
    closed(&c, "ckapps");

    let mut app = App::launch_on(&socket, Some(&id), Naming::Restore);
    app.restored_as(&c, "ckapps", &moved);
}

#[test]
fn a_name_too_long_for_a_session_is_a_protocol_error() {
    // Names are stored: one over 256 bytes is refused, the app cut off, the compositor fine.
    let c = Compositor::start(640, 480);
    c.run_ok(&["container", "add", "apps"]);
    let mut raw = Raw::connect(&socket(&c, "apps")).unwrap();
    let compositor: wl_compositor::WlCompositor = raw.bind("wl_compositor", 4);
    let wm: xdg_wm_base::XdgWmBase = raw.bind("xdg_wm_base", 1);
    let manager: XdgSessionManagerV1 = raw.bind("xdg_session_manager_v1", 1);
    let qh = raw.qh.clone();
    let log = Log::default();
    let session = manager.get_session(Reason::Launch, None, &qh, log.clone());
    let surface = compositor.create_surface(&qh, ());
    let toplevel = wm.get_xdg_surface(&surface, &qh, ()).get_toplevel(&qh, ());
    session.add_toplevel(&toplevel, "x".repeat(300), &qh, (toplevel.id(), log));
    assert!(raw.roundtrip().is_err(), "a 300-byte name is refused");
    let error = raw.conn.protocol_error().expect("a protocol error");
    assert_eq!(
        (error.object_interface.as_str(), error.code),
        ("xdg_session_v1", 3),
        "invalid_name on the session: {error:?}"
    );
    assert!(
        c.run(&["windows"]).status.success(),
        "the compositor goes on"
    );
}
