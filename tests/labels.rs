//! Every container window names its container on screen, and nothing a container draws passes
//! for another or for the compositor: unmodified weston-simple-shm and gtk4-demo (both draw their
//! own decorations) show `[name]` in the container's colour, on screen, from their first frame;
//! another container's override-redirect menu laid over that label leaves it visible, and a
//! window stacked above shows its own;
//! a screen-sized cursor image is cut to 256 pixels; two containers never get colours that look
//! alike, and `porthole validate` warns about configured ones that do.

use std::time::Duration;

use porthole_ipc::{ContainerInfo, Geometry, WindowInfo};
use wayland_client::protocol::{wl_pointer, wl_seat, wl_shm};

use crate::common::*;
use crate::raw::*;

const TIMEOUT: Duration = Duration::from_secs(30);

/// The label strip's height with the default appearance.
const STRIP: i32 = 24;

const CONFIG: &str = r##"
[container.shm]
color = "#cc0000"
[container.gtk]
color = "#3465a4"
"##;

fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    [byte(1), byte(3), byte(5)]
}

/// The strip above a window's content, as wide as `[name]` needs.
fn strip_of(w: &WindowInfo) -> Geometry {
    Geometry {
        x: w.geometry.x,
        y: w.geometry.y - STRIP,
        width: w.geometry.width.min(120),
        height: STRIP,
    }
}

/// Whether `strip` shows a label in `colour` (focused, or darkened when not): mostly that
/// colour, with text on it.
fn shows_label(shot: &Screenshot, strip: Geometry, colour: [u8; 3]) -> Result<(), String> {
    let dark = colour.map(|c| (c as f32 * 0.6) as u8);
    let pixels = shot.region(strip);
    let background = pixels
        .iter()
        .filter(|p| p[..3] == colour || p[..3] == dark)
        .count();
    let text = pixels.len() - background;
    if strip.y < 0 {
        return Err(format!("the strip is off the screen: {strip:?}"));
    }
    if background * 2 < pixels.len() || text * 50 < pixels.len() {
        return Err(format!(
            "{background} of {} pixels in the colour, {text} others",
            pixels.len()
        ));
    }
    Ok(())
}

#[test]
fn apps_that_draw_their_own_decorations_show_their_containers_name() {
    let mut c = Compositor::start_with_config(1280, 720, CONFIG);
    c.spawn_client(PORTHOLE, &["run", "shm", "--", "weston-simple-shm"]);
    let shm = window_of(&c, "shm");
    // Taken as soon as the window is listed: the label comes with its first frame.
    let first = c.screenshot();
    if let Err(err) = shows_label(&first, strip_of(&shm), rgb("#cc0000")) {
        panic!("weston-simple-shm's label: {err}");
    }

    c.spawn_client(
        PORTHOLE,
        &["run", "gtk", "--", "env", "GSK_RENDERER=cairo", "gtk4-demo"],
    );
    let gtk = window_of(&c, "gtk");
    poll(TIMEOUT, "gtk4-demo's label", || {
        shows_label(&shot(&c), strip_of(&gtk), rgb("#3465a4"))
    });
    // Both still labelled, whichever is on top.
    shows_label(&shot(&c), strip_of(&window_of(&c, "shm")), rgb("#cc0000"))
        .expect("weston-simple-shm's label with gtk4-demo open");
}

#[test]
fn another_containers_window_or_menu_over_a_label_leaves_it_visible() {
    let config = "[container.a]\ncolor = \"#cc0000\"\n[container.b]\ncolor = \"#3465a4\"\n";
    let mut c = Compositor::start_with_config(1280, 720, config);
    c.spawn_client(PORTHOLE, &["run", "a", "--", "weston-simple-shm"]);
    let a = window_of(&c, "a");
    let label = strip_of(&a);

    // An override-redirect X11 window of b, pure green, at the screen's corner over a's label.
    let script = r#"
        xterm -T b-xterm &
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        exec python3 -c '
from Xlib import X, display
d = display.Display()
s = d.screen()
w = s.root.create_window(0, 0, 600, 400, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
    background_pixel=0x00ff00, override_redirect=True)
w.map()
d.sync()
import time
time.sleep(600)
'
    "#;
    c.spawn_client(PORTHOLE, &["run", "b", "--", "sh", "-c", script]);
    let b = window_of(&c, "b");
    let dir = socket(&c, "b").parent().unwrap().to_path_buf();
    std::fs::write(dir.join("go"), "").unwrap();
    poll(TIMEOUT, "b's green menu over a's window", || {
        let shot = shot(&c);
        let p = shot.pixel(a.geometry.x + 100, a.geometry.y + 100);
        if p[..3] == [0, 255, 0] {
            Ok(())
        } else {
            Err(hex(p))
        }
    });
    shows_label(&shot(&c), label, rgb("#cc0000")).expect("a's label under b's menu");

    // b's terminal maximized over everything: a window stacked above covers a's label as it
    // covers the rest of a, and shows its own, which nothing of a's covers.
    c.run_ok(&["window", "maximize", "--id", &b.id.to_string()]);
    poll(TIMEOUT, "b's own label over its maximized window", || {
        let b = window_of(&c, "b");
        if !b.maximized {
            return Err("not maximized yet".to_string());
        }
        shows_label(&shot(&c), strip_of(&b), rgb("#3465a4"))
    });
}

#[test]
fn a_screen_sized_cursor_image_is_cut_to_256_pixels() {
    let mut c = Compositor::start_with_config(1280, 720, "[container.a]\n");
    let mut raw = Raw::connect(&socket(&c, "a")).unwrap();
    let seat: wl_seat::WlSeat = raw.bind("wl_seat", 5);
    raw.roundtrip().unwrap();
    let _window = shm_window(&mut raw, 400, 300);
    let w = window_of(&c, "a");
    let (x, y) = (w.geometry.x + 200, w.geometry.y + 150);
    c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    let serial = poll(TIMEOUT, "the pointer to enter", || {
        raw.roundtrip()?;
        raw.data
            .pointer_enter_serial
            .ok_or_else(|| "no enter yet".to_string())
    });
    let pointer: wl_pointer::WlPointer = seat.get_pointer(&raw.qh.clone(), ());
    raw.roundtrip().unwrap();
    // A 1280x720 image of pure magenta, its hotspot in the middle.
    let compositor: wayland_client::protocol::wl_compositor::WlCompositor =
        raw.bind("wl_compositor", 4);
    let shm: wl_shm::WlShm = raw.bind("wl_shm", 1);
    let (cw, ch) = (1280, 720);
    let size = cw * ch * 4;
    let fd = memfd(size as u64);
    let pixels: Vec<u8> = [0xffu8, 0x00, 0xff, 0xff].repeat(cw * ch);
    std::io::Write::write_all(&mut std::fs::File::from(fd.try_clone().unwrap()), &pixels).unwrap();
    let qh = raw.qh.clone();
    let pool = shm.create_pool(std::os::fd::AsFd::as_fd(&fd), size as i32, &qh, ());
    let buffer = pool.create_buffer(
        0,
        cw as i32,
        ch as i32,
        cw as i32 * 4,
        wl_shm::Format::Argb8888,
        &qh,
        (),
    );
    let cursor = compositor.create_surface(&qh, ());
    cursor.attach(Some(&buffer), 0, 0);
    cursor.damage_buffer(0, 0, cw as i32, ch as i32);
    cursor.commit();
    pointer.set_cursor(serial, Some(&cursor), 640, 360);
    raw.roundtrip().unwrap();
    let screen = Geometry {
        x: 0,
        y: 0,
        width: 1280,
        height: 720,
    };
    let magenta = poll(TIMEOUT, "the cursor drawn", || {
        let count = c
            .screenshot_with(&["--cursor"])
            .region(screen)
            .iter()
            .filter(|p| p[..3] == [0xff, 0x00, 0xff])
            .count();
        if count > 0 {
            Ok(count)
        } else {
            Err("no magenta".to_string())
        }
    });
    assert!(
        magenta <= 256 * 256,
        "{magenta} pixels of the cursor image shown (at most 256x256)"
    );
}

#[test]
fn containers_never_get_colours_that_look_alike() {
    let c = Compositor::start(1280, 720);
    // `bank` and `evil` shared a colour when the palette had 8.
    for name in ["bank", "evil", "work", "play", "mail", "web"] {
        c.run_ok(&["container", "add", name]);
    }
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).unwrap();
    let colours: Vec<(String, [u8; 3])> = all
        .iter()
        .map(|i| (i.name.clone(), rgb(&i.color)))
        .collect();
    for (i, (a, ca)) in colours.iter().enumerate() {
        for (b, cb) in &colours[i + 1..] {
            assert!(
                distance(*ca, *cb) >= 110.0,
                "`{a}` and `{b}` look alike: {ca:?} {cb:?}"
            );
        }
    }

    // Configured colours that look alike: `porthole validate` says so.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("porthole.toml");
    std::fs::write(
        &file,
        "[container.bank]\ncolor = \"#3465a4\"\n[container.evil]\ncolor = \"#3466a6\"\n",
    )
    .unwrap();
    let out = c.run_ok(&["validate", file.to_str().unwrap()]);
    assert!(
        out.contains("warning") && out.contains("`evil`") && out.contains("`bank`"),
        "{out}"
    );
}

/// The "redmean" colour distance Porthole uses.
fn distance(a: [u8; 3], b: [u8; 3]) -> f64 {
    let [r1, g1, b1] = a.map(f64::from);
    let [r2, g2, b2] = b.map(f64::from);
    let mean = (r1 + r2) / 2.0;
    ((2.0 + mean / 256.0) * (r1 - r2).powi(2)
        + 4.0 * (g1 - g2).powi(2)
        + (2.0 + (255.0 - mean) / 256.0) * (b1 - b2).powi(2))
    .sqrt()
}
