//! The keyboard goes where the person put it. With a host foot focused, a container's new 1x1
//! window, a window unmapped and mapped again, a forged activation token and an X11
//! override-redirect window each leave the focus on foot, and what the person types meanwhile
//! reaches foot and never the container; the new window is marked as wanting attention. A token
//! minted from a real click in the container does move the focus, and `porthole run` gives the
//! window it starts the focus. A click where a container's window shows nothing goes to the
//! window below it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use porthole_ipc::{Geometry, WindowInfo};
use wayland_client::protocol::{wl_seat, wl_shm, wl_surface};
use wayland_client::Proxy;
use wayland_protocols::xdg::activation::v1::client::xdg_activation_v1::XdgActivationV1;
use wayland_protocols::xdg::shell::client::xdg_wm_base;

use crate::common::*;
use crate::raw::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A foot on the host socket that writes what is typed into it to a file, focused.
fn host_foot(c: &mut Compositor) -> (WindowInfo, PathBuf) {
    let typed = c.dir().join("host-typed");
    let cat = format!("cat > {}", typed.display());
    c.spawn_client("foot", &["-T", "hostfoot", "sh", "-c", &cat]);
    let foot = poll(TIMEOUT, "the host foot", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.title == "hostfoot")
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    focus(c, &foot);
    (foot, typed)
}

fn focus(c: &Compositor, w: &WindowInfo) {
    c.run_ok(&["window", "focus", "--id", &w.id.to_string()]);
}

fn focused(c: &Compositor) -> Option<WindowInfo> {
    c.windows().into_iter().find(|w| w.focused)
}

/// A container client whose keyboard events are recorded.
fn attacker(c: &Compositor, container: &str) -> (Raw, wl_seat::WlSeat) {
    let mut raw = Raw::connect(&socket(c, container)).expect("the container's socket");
    let seat: wl_seat::WlSeat = raw.bind("wl_seat", 5);
    raw.roundtrip().unwrap();
    (raw, seat)
}

/// Waits for a window of `container` to be listed, other than `known`.
fn new_window_of(c: &Compositor, container: &str, known: &[u64]) -> WindowInfo {
    poll(TIMEOUT, &format!("a new window of {container}"), || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == container && !known.contains(&w.id))
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    })
}

/// Types `word` and Return, and checks that the host foot got it, that the focus stayed on it,
/// and that the attacker saw no key and never had the keyboard.
fn typing_reaches_foot(
    c: &Compositor,
    foot: &WindowInfo,
    typed: &Path,
    word: &str,
    attacker: &mut Raw,
) {
    assert_eq!(focused(c).map(|w| w.id), Some(foot.id), "the focus moved");
    c.run_ok(&["input", "type", word]);
    c.run_ok(&["input", "key", "Return"]);
    poll(TIMEOUT, "foot to get what was typed", || {
        let text = std::fs::read_to_string(typed).unwrap_or_default();
        if text.contains(word) {
            Ok(())
        } else {
            Err(format!("foot has {text:?}"))
        }
    });
    attacker.roundtrip().unwrap();
    assert!(
        attacker.data.keys.is_empty(),
        "the container saw keys: {:?}",
        attacker.data.keys
    );
    assert!(
        attacker.data.keyboard_focus.iter().all(Option::is_none),
        "the container had the keyboard"
    );
    assert_eq!(focused(c).map(|w| w.id), Some(foot.id), "the focus moved");
}

#[test]
fn a_new_tiny_window_does_not_take_the_keyboard() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    let (foot, typed) = host_foot(&mut c);
    let (mut raw, _seat) = attacker(&c, "a");
    let _window = shm_window(&mut raw, 1, 1);
    let tiny = new_window_of(&c, "a", &[]);
    assert!(tiny.attention, "the new window is not marked: {tiny:?}");
    assert!(!tiny.focused);
    typing_reaches_foot(&c, &foot, &typed, "hunter2", &mut raw);
}

/// A toplevel the test can unmap and map again.
struct Toplevel {
    surface: wl_surface::WlSurface,
    xdg: wayland_protocols::xdg::shell::client::xdg_surface::XdgSurface,
    buffer: wayland_client::protocol::wl_buffer::WlBuffer,
}

impl Toplevel {
    fn map(raw: &mut Raw) -> Self {
        let compositor: wayland_client::protocol::wl_compositor::WlCompositor =
            raw.bind("wl_compositor", 4);
        let wm: xdg_wm_base::XdgWmBase = raw.bind("xdg_wm_base", 1);
        let qh = raw.qh.clone();
        let surface = compositor.create_surface(&qh, ());
        let xdg = wm.get_xdg_surface(&surface, &qh, ());
        let _top = xdg.get_toplevel(&qh, ());
        let single: wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1 =
            raw.bind("wp_single_pixel_buffer_manager_v1", 1);
        let buffer = single.create_u32_rgba_buffer(0, 0, u32::MAX, u32::MAX, &qh, ());
        let toplevel = Self {
            surface,
            xdg,
            buffer,
        };
        toplevel.show(raw);
        toplevel
    }

    /// The initial commit, the configure acknowledged, then a buffer.
    fn show(&self, raw: &mut Raw) {
        self.surface.commit();
        let serial = poll(TIMEOUT, "a configure", || {
            raw.roundtrip()?;
            raw.data
                .pending_serial
                .remove(&self.xdg.id())
                .ok_or_else(|| "no configure yet".to_string())
        });
        self.xdg.ack_configure(serial);
        self.surface.attach(Some(&self.buffer), 0, 0);
        self.surface.damage_buffer(0, 0, 1, 1);
        self.surface.commit();
        raw.roundtrip().unwrap();
    }

    fn unmap(&self, raw: &mut Raw) {
        self.surface.attach(None, 0, 0);
        self.surface.commit();
        raw.roundtrip().unwrap();
    }
}

#[test]
fn a_window_mapped_again_does_not_take_the_keyboard() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    let (mut raw, _seat) = attacker(&c, "a");
    let window = Toplevel::map(&mut raw);
    let first = new_window_of(&c, "a", &[]);
    // The person focuses it once, then goes to a host terminal.
    focus(&c, &first);
    let (foot, typed) = host_foot(&mut c);
    raw.roundtrip().unwrap();
    raw.data.keyboard_focus.clear();
    window.unmap(&mut raw);
    poll(TIMEOUT, "the window unmapped", || {
        if c.windows().iter().any(|w| w.container == "a") {
            Err("still listed".to_string())
        } else {
            Ok(())
        }
    });
    window.show(&mut raw);
    let again = new_window_of(&c, "a", &[]);
    assert!(again.attention, "{again:?}");
    typing_reaches_foot(&c, &foot, &typed, "hunter2", &mut raw);
}

/// Asks for an activation token with `serial` and activates the toplevel with it.
fn activate(raw: &mut Raw, seat: &wl_seat::WlSeat, surface: &wl_surface::WlSurface, serial: u32) {
    let activation: XdgActivationV1 = raw.bind("xdg_activation_v1", 1);
    let qh = raw.qh.clone();
    let token = activation.get_activation_token(&qh, ());
    token.set_serial(serial, seat);
    token.set_surface(surface);
    token.commit();
    let text = poll(TIMEOUT, "an activation token", || {
        raw.roundtrip()?;
        raw.data
            .activation_tokens
            .pop()
            .ok_or_else(|| "no token yet".to_string())
    });
    activation.activate(text, surface);
    raw.roundtrip().unwrap();
}

#[test]
fn a_forged_activation_serial_does_not_take_the_keyboard_and_a_real_click_does() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    let (foot, typed) = host_foot(&mut c);
    let (mut raw, seat) = attacker(&c, "a");
    let window = Toplevel::map(&mut raw);
    let w = new_window_of(&c, "a", &[]);
    activate(&mut raw, &seat, &window.surface, 0x7fff_1234);
    std::thread::sleep(Duration::from_millis(300));
    typing_reaches_foot(&c, &foot, &typed, "hunter2", &mut raw);

    // A click in the container's window mints a real serial: the person clicks there, goes back
    // to foot, and the container's activation with that serial brings the focus back to it.
    let (x, y) = (w.geometry.x, w.geometry.y);
    c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    c.run_ok(&["input", "click", "left"]);
    raw.roundtrip().unwrap();
    let serial = raw
        .data
        .last_button_serial
        .expect("the click reached the window");
    focus(&c, &foot);
    // Not while the person is typing into foot: the focus would move under their fingers.
    std::thread::sleep(Duration::from_secs(2));
    activate(&mut raw, &seat, &window.surface, serial);
    poll(
        TIMEOUT,
        "the activation to focus the window",
        || match focused(&c) {
            Some(f) if f.id == w.id => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

#[test]
fn through_a_bridge_a_forged_activation_serial_does_not_take_the_keyboard_and_a_real_click_does() {
    // The same as above, for a native client of a checkpointable container: the bridge passes
    // its activation on with the host serial of the click the client names.
    let mut c = Compositor::start(1280, 720);
    let out = c.run(&["run", "--checkpointable", "b", "--", "sleep", "600"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let containers: Vec<porthole_ipc::ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).unwrap();
    let pid = containers
        .iter()
        .find(|i| i.name == "b")
        .and_then(|i| i.bridge_pid)
        .expect("the bridge's pid");
    let _sandbox = Sandbox::new(pid);
    let socket = format!("/proc/{pid}/root/run/porthole/wayland-0");
    let mut raw = Raw::connect(Path::new(&socket)).expect("the bridge's socket");
    let seat: wl_seat::WlSeat = raw.bind("wl_seat", 5);
    raw.roundtrip().unwrap();
    // The container's first window takes the focus `porthole run` gave it; then the person
    // opens a terminal on the host.
    let window = Toplevel::map(&mut raw);
    let w = new_window_of(&c, "b", &[]);
    let (foot, typed) = host_foot(&mut c);
    raw.roundtrip().unwrap();
    raw.data.keyboard_focus.clear();
    activate(&mut raw, &seat, &window.surface, 0x7fff_1234);
    std::thread::sleep(Duration::from_millis(300));
    typing_reaches_foot(&c, &foot, &typed, "hunter2", &mut raw);

    let (x, y) = (w.geometry.x, w.geometry.y);
    c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    c.run_ok(&["input", "click", "left"]);
    let serial = poll(TIMEOUT, "the click to reach the window", || {
        raw.roundtrip()?;
        raw.data
            .last_button_serial
            .ok_or_else(|| "no button yet".to_string())
    });
    focus(&c, &foot);
    std::thread::sleep(Duration::from_secs(2));
    activate(&mut raw, &seat, &window.surface, serial);
    poll(
        TIMEOUT,
        "the activation to focus the window",
        || match focused(&c) {
            Some(f) if f.id == w.id => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

#[test]
fn an_x11_override_redirect_window_does_not_take_the_keyboard() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    // `porthole run` gives its first window the focus (xterm's); the override-redirect window
    // comes later, when the person is in foot.
    let script = r#"
        xterm -T a-xterm &
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        exec python3 -c '
from Xlib import X, display
d = display.Display()
s = d.screen()
w = s.root.create_window(0, 0, 400, 300, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
    background_pixel=0x00ff00, override_redirect=True,
    event_mask=X.KeyPressMask | X.ExposureMask)
w.map()
w.set_input_focus(X.RevertToParent, X.CurrentTime)
d.sync()
import time
time.sleep(600)
'
    "#;
    c.spawn_client(PORTHOLE, &["run", "a", "--", "sh", "-c", script]);
    let xterm = poll(TIMEOUT, "a's xterm", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.title == "a-xterm")
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    let (foot, typed) = host_foot(&mut c);
    let dir = socket(&c, "a").parent().unwrap().to_path_buf();
    std::fs::write(dir.join("go"), "").unwrap();
    // The override-redirect window is 400x300 of pure green, wherever the bridge shows it.
    poll(TIMEOUT, "the override-redirect window drawn", || {
        let screen = Geometry {
            x: 0,
            y: 0,
            width: 1280,
            height: 720,
        };
        let green = shot(&c)
            .region(screen)
            .iter()
            .filter(|p| p[..3] == [0, 255, 0])
            .count();
        if green >= 400 * 300 * 9 / 10 {
            Ok(())
        } else {
            Err(format!("{green} green pixels"))
        }
    });
    assert_eq!(focused(&c).map(|w| w.id), Some(foot.id), "the focus moved");
    c.run_ok(&["input", "type", "hunter2"]);
    c.run_ok(&["input", "key", "Return"]);
    poll(TIMEOUT, "foot to get what was typed", || {
        let text = std::fs::read_to_string(&typed).unwrap_or_default();
        if text.contains("hunter2") {
            Ok(())
        } else {
            Err(format!("foot has {text:?}"))
        }
    });
    assert_ne!(focused(&c).map(|w| w.id), Some(xterm.id));
}

#[test]
fn porthole_run_gives_its_window_the_focus() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    let (_foot, _typed) = host_foot(&mut c);
    c.spawn_client(PORTHOLE, &["run", "a", "--", "weston-simple-shm"]);
    let w = new_window_of(&c, "a", &[]);
    poll(TIMEOUT, "the launched window focused", || {
        match focused(&c) {
            Some(f) if f.id == w.id => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

#[test]
fn a_click_on_what_a_container_left_invisible_reaches_the_window_below() {
    let c = Compositor::start_with_config(1280, 720, "[container.a]\n[container.b]\n");
    let (mut below, _seat_b) = attacker(&c, "b");
    let _shown_b = shm_window(&mut below, 300, 300);
    let b = new_window_of(&c, "b", &[]);
    // `a`'s window: its left half fully transparent, its right half opaque.
    let (mut over, _seat_a) = attacker(&c, "a");
    let pixels: Vec<u8> = (0..300 * 300)
        .flat_map(|i| {
            if i % 300 < 150 {
                [0, 0, 0, 0]
            } else {
                [0x40, 0x40, 0x40, 0xff]
            }
        })
        .collect();
    let _shown_a = shm_window_showing(&mut over, 300, 300, wl_shm::Format::Argb8888, &pixels);
    let a = new_window_of(&c, "a", &[b.id]);

    // Both maximized, so `a`'s lies over `b`'s from the same corner, and `a` on top.
    for w in [&b, &a] {
        c.run_ok(&["window", "maximize", "--id", &w.id.to_string()]);
    }
    focus(&c, &a);
    let corner = poll(TIMEOUT, "both windows in the same corner", || {
        let windows = c.windows();
        let at = |id| windows.iter().find(|w| w.id == id).map(|w| w.geometry);
        match (at(a.id), at(b.id)) {
            (Some(ga), Some(gb)) if (ga.x, ga.y) == (gb.x, gb.y) => Ok((ga.x, ga.y)),
            other => Err(format!("{other:?}")),
        }
    });
    let click = |x: i32, y: i32| {
        c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
        c.run_ok(&["input", "click", "left"]);
    };

    // Where `a` shows nothing, the click is `b`'s.
    click(corner.0 + 50, corner.1 + 150);
    poll(TIMEOUT, "b to be focused by the click", || {
        match focused(&c) {
            Some(f) if f.id == b.id => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    below.roundtrip().unwrap();
    over.roundtrip().unwrap();
    assert!(below.data.last_button_serial.is_some(), "b got no button");
    assert!(
        over.data.last_button_serial.is_none(),
        "a got the click on its invisible half"
    );

    // Where `a` shows something (and its label says whose it is), the click is `a`'s.
    focus(&c, &a);
    click(corner.0 + 250, corner.1 + 150);
    over.roundtrip().unwrap();
    assert!(over.data.last_button_serial.is_some(), "a got no button");
    assert_eq!(focused(&c).map(|w| w.id), Some(a.id));
}
