//! xdg-session-management-v1 against the real `porthole serve`: an app that names its window in a
//! session gets it back where it was, at its size and maximized if it was, when it starts again,
//! also after a compositor restart; sessions belong to their container. No client in Debian
//! speaks the staging protocol yet, so the app is this test's own wayland-client.

mod common;
mod fixture;
mod raw;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use fixture::ClientData;
use porthole_protocol::session::client::xdg_session_manager_v1::{Reason, XdgSessionManagerV1};
use porthole_protocol::session::client::xdg_session_v1::{self, XdgSessionV1};
use porthole_protocol::session::client::xdg_toplevel_session_v1::{self, XdgToplevelSessionV1};
use porthole_protocol::WindowInfo;
use raw::*;
use wayland_client::backend::ObjectId;
use wayland_client::protocol::{wl_buffer, wl_compositor, wl_surface};
use wayland_client::{Connection, Dispatch, Proxy, QueueHandle};
use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1;
use wayland_protocols::wp::viewporter::client::{wp_viewport, wp_viewporter};
use wayland_protocols::xdg::decoration::zv1::client::zxdg_decoration_manager_v1::ZxdgDecorationManagerV1;
use wayland_protocols::xdg::decoration::zv1::client::zxdg_toplevel_decoration_v1::Mode;
use wayland_protocols::xdg::shell::client::{xdg_surface, xdg_toplevel, xdg_wm_base};

const TIMEOUT: Duration = Duration::from_secs(10);

/// What the session objects told the app, in order.
type Log = Arc<Mutex<Vec<String>>>;

wayland_client::delegate_noop!(ClientData: ignore XdgSessionManagerV1);

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

/// The app: one window named `main` in a session, drawn in one colour at the size it is
/// configured to (300x200 when the compositor leaves the size to it).
struct App {
    raw: Raw,
    log: Log,
    xdg: xdg_surface::XdgSurface,
    toplevel: xdg_toplevel::XdgToplevel,
    surface: wl_surface::WlSurface,
    viewport: wp_viewport::WpViewport,
    _buffer: wl_buffer::WlBuffer,
}

impl App {
    fn launch(c: &Compositor, container: &str, session: Option<&str>, naming: Naming) -> Self {
        let raw = Raw::connect(&socket(c, container)).unwrap();
        let log = Log::default();
        let compositor: wl_compositor::WlCompositor = raw.bind("wl_compositor", 4);
        let wm: xdg_wm_base::XdgWmBase = raw.bind("xdg_wm_base", 1);
        let decorations: ZxdgDecorationManagerV1 = raw.bind("zxdg_decoration_manager_v1", 1);
        let pixels: WpSinglePixelBufferManagerV1 = raw.bind("wp_single_pixel_buffer_manager_v1", 1);
        let viewporter: wp_viewporter::WpViewporter = raw.bind("wp_viewporter", 1);
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
        let viewport = viewporter.get_viewport(&surface, &qh, ());
        let buffer = pixels.create_u32_rgba_buffer(0, u32::MAX / 2, u32::MAX, u32::MAX, &qh, ());
        surface.commit();
        let mut app = Self {
            raw,
            log,
            xdg,
            toplevel,
            surface,
            viewport,
            _buffer: buffer,
        };
        poll(TIMEOUT, "the first configure", || {
            app.raw.roundtrip()?;
            app.configured().ok_or_else(|| "none yet".to_string())
        });
        app.surface.attach(Some(&app._buffer), 0, 0);
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
            Some((w, h)) if w > 0 && h > 0 => (w, h),
            _ => (300, 200),
        };
        self.viewport.set_destination(w, h);
        self.surface.damage_buffer(0, 0, 1, 1);
        self.surface.commit();
        self.raw.roundtrip().unwrap();
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
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

/// Drags a window by its title bar so that its content's corner lands at `to`.
fn drag(c: &Compositor, w: &WindowInfo, to: (i32, i32)) {
    let grab = (w.geometry.x + 60, w.geometry.y - TITLEBAR / 2);
    let drop = (grab.0 + to.0 - w.geometry.x, grab.1 + to.1 - w.geometry.y);
    c.run_ok(&["input", "move", &grab.0.to_string(), &grab.1.to_string()]);
    c.run_ok(&["input", "button", "left", "press"]);
    c.run_ok(&["input", "move", &drop.0.to_string(), &drop.1.to_string()]);
    c.run_ok(&["input", "button", "left", "release"]);
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
        let app = App::launch(c, "apps", Some(&id), Naming::Restore);
        let w = window(c, "apps", "the restored window", |_| true);
        assert_eq!(
            app.log(),
            ["restored", "toplevel restored after 0 configures"],
            "what the session said"
        );
        assert_eq!(app.first_configure(), (300, 200));
        assert_eq!(
            w.geometry, moved.geometry,
            "the restored window is where it was"
        );
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
    poll(TIMEOUT, "the maximize configure", || {
        app.raw.roundtrip()?;
        match app.configured() {
            Some((w, _)) if w > 300 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    app.draw();
    window(&c, "apps", "the maximized window", |w| w.maximized);
    drop(app);
    closed(&c, "apps");
    let mut app = App::launch(&c, "apps", Some(&id), Naming::Restore);
    poll(TIMEOUT, "the maximize configure", || {
        app.raw.roundtrip()?;
        match app.configured() {
            Some((w, _)) if w > 300 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    app.draw();
    let w = window(&c, "apps", "the window maximized again", |w| w.maximized);
    c.run_ok(&["window", "maximize", "--id", &w.id.to_string()]);
    poll(TIMEOUT, "the unmaximize configure", || {
        app.raw.roundtrip()?;
        match app.configured() {
            Some((300, 200)) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    app.draw();
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
