//! Native Wayland clients of a checkpointable container, served by its bridge: foot typed into
//! and the clipboard shared with X11 clients, weston-terminal's menu, shadow and pointer image,
//! a GTK app's typed text and weston-subsurfaces' subsurface, each before and after a restore.

use std::time::Duration;

use porthole_ipc::Geometry;

use super::*;
use crate::common::*;

#[test]
fn native_clients_of_a_checkpointable_container_type_copy_and_paste_across_a_restore() {
    let c = Compositor::start(1280, 800);
    c.run_ok(&["container", "add", "ckn"]);
    let script = r#"
        # dash, Debian's sh, keeps its terminal open as /dev/tty (Porthole reopens it for CRIU).
        foot --title typed-into sh &
        until [ -e /tmp/go ]; do sleep 0.1; done
        # Each paste is tried until it shows the copy (at most 10 s): a loaded machine may take
        # a while to pass it on, but it must arrive.
        paste() { want=$1; shift; for i in $(seq 50); do got=$(timeout 10 "$@"); [ "$got" = "$want" ] && break; sleep 0.2; done; echo "$got"; }
        {
            echo from-x11 | xclip -i -selection clipboard
            echo "wl-paste=$(paste from-x11 wl-paste -n)"
            echo from-wayland | timeout 10 wl-copy
            echo "xclip=$(paste from-wayland xclip -o -selection clipboard)"
            echo primary-from-x11 | xclip -i
            echo "wl-paste-p=$(paste primary-from-x11 wl-paste -p -n)"
        } > /tmp/clip.tmp 2>&1
        mv /tmp/clip.tmp /tmp/clip
        sleep 3600
    "#;
    let pid = run_checkpointable(&c, "ckn", script);
    let _sandbox = Sandbox::new(pid);
    let foot = titled(&c, "ckn", "typed-into");
    assert!(foot.focused, "{foot:?}");

    // The clipboard and the primary selection between the container's X11 and native clients.
    std::fs::write(format!("/proc/{pid}/root/tmp/go"), "").unwrap();
    let report = poll(START_TIMEOUT, "the clipboard report", || {
        read_inside(pid, "/tmp/clip")
    });
    for line in [
        "wl-paste=from-x11",
        "xclip=from-wayland",
        "wl-paste-p=primary-from-x11",
    ] {
        assert!(
            report.lines().any(|l| l == line),
            "expected `{line}`:\n{report}"
        );
    }

    // Keys reach foot's shell, before and after a checkpoint. wl-copy and wl-paste each took
    // the keyboard for a moment (a surface of their own, as no data-control is offered): the
    // person types once foot has it back.
    poll(START_TIMEOUT, "foot focused again", || {
        let w = titled(&c, "ckn", "typed-into");
        w.focused.then_some(()).ok_or_else(|| format!("{w:?}"))
    });
    c.run_ok(&["input", "type", "echo $((6*7)) > /tmp/typed"]);
    c.run_ok(&["input", "key", "Return"]);
    let typed = poll(START_TIMEOUT, "what was typed", || {
        read_inside(pid, "/tmp/typed")
    });
    assert_eq!(typed.trim(), "42");
    let out = checkpoint(&c, "ckn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    let said = restore(&c, "ckn");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckn");
    let _restored = Sandbox::new(pid);
    let back = poll(START_TIMEOUT, "foot back, with the focus", || {
        let w = c
            .windows()
            .into_iter()
            .find(|w| w.container == "ckn" && w.title == "typed-into")
            .ok_or("no foot")?;
        if w.focused && !w.checkpointed {
            Ok(w)
        } else {
            Err(format!("{w:?}"))
        }
    });
    assert_eq!(back.geometry, foot.geometry);
    c.run_ok(&["input", "type", "echo $((6*7+1)) > /tmp/typed"]);
    c.run_ok(&["input", "key", "Return"]);
    poll(START_TIMEOUT, "what was typed after the restore", || {
        let typed = read_inside(pid, "/tmp/typed")?;
        if typed.trim() == "43" {
            Ok(())
        } else {
            Err(typed)
        }
    });
}

#[test]
fn a_native_clients_menu_opens_and_a_checkpoint_dismisses_it() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(&c, "ckm", "weston-terminal --shell=/bin/sh; sleep 3600");
    let _sandbox = Sandbox::new(pid);
    let terminal = titled(&c, "ckm", "Wayland Terminal");
    // weston-terminal draws its own title bar and shadow; the window geometry it sets leaves the
    // shadow out, as for a client of the compositor itself.
    assert!(terminal.geometry.width < 760, "{terminal:?}");

    // A right click opens weston-terminal's menu (light grey, right and below the pointer).
    let g = terminal.geometry;
    let (x, y) = (g.x + g.width / 3, g.y + g.height / 3);
    let menu = Geometry {
        x: x + 40,
        y: y + 40,
        width: 100,
        height: 40,
    };
    let grey = |c: &mut Compositor| {
        let shot = c.screenshot();
        let pixels = shot.region(menu);
        pixels
            .iter()
            .filter(|p| p[0] == p[1] && p[1] == p[2] && (0xc0..=0xd8).contains(&p[0]))
            .count() as f64
            / pixels.len() as f64
    };
    assert!(grey(&mut c) < 0.1, "no menu before the click");
    // The shell's prompt is drawn once dash has started, holding its terminal open as /dev/tty
    // (which Porthole reopens as the terminal itself for CRIU). The region starts after the
    // first cell, where weston-terminal draws its cursor before any prompt.
    let prompt = Geometry {
        x: g.x + 28,
        y: g.y + 30,
        width: 100,
        height: 16,
    };
    poll(START_TIMEOUT, "weston-terminal's prompt", || {
        let lit = c
            .screenshot()
            .region(prompt)
            .iter()
            .filter(|p| p[0] > 0x80)
            .count();
        if lit > 20 {
            Ok(())
        } else {
            Err(format!("{lit} lit pixels"))
        }
    });
    let open_menu = |c: &mut Compositor| {
        c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
        c.run_ok(&["input", "click", "right"]);
        poll(START_TIMEOUT, "the menu", || {
            let share = grey(c);
            if share > 0.5 {
                Ok(())
            } else {
                Err(share.to_string())
            }
        });
    };
    open_menu(&mut c);

    // A checkpoint dismisses it, as any reconnect does; after the restore it opens again.
    let out = checkpoint(&c, "ckm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = restore(&c, "ckm");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckm");
    let _restored = Sandbox::new(pid);
    poll(START_TIMEOUT, "the menu gone", || {
        let share = grey(&mut c);
        if share < 0.1 {
            Ok(())
        } else {
            Err(share.to_string())
        }
    });
    open_menu(&mut c);
}

#[test]
fn clicks_on_a_native_clients_shadow_reach_the_window_below() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(
        &c,
        "cks",
        "weston-terminal --shell=/bin/sh & xterm -T below -geometry 40x10 & wait",
    );
    let _sandbox = Sandbox::new(pid);
    let terminal = titled(&c, "cks", "Wayland Terminal");
    let xterm = titled(&c, "cks", "below");
    // weston-terminal draws a 32-pixel shadow around its window and takes input only inside
    // the window. xterm goes under the shadow on the right, the terminal above it.
    let g = terminal.geometry;
    let (shadow_x, y) = (g.x + g.width + 16, g.y + 60);
    drag(&c, &xterm, (shadow_x - 10, g.y + 40));
    let click_through = |c: &mut Compositor| {
        let (terminal, xterm) = (
            titled(c, "cks", "Wayland Terminal"),
            titled(c, "cks", "below"),
        );
        c.run_ok(&["window", "focus", "--id", &terminal.id.to_string()]);
        c.wait_for_window(terminal.id, "the terminal focused", START_TIMEOUT, |w| {
            w.focused
        });
        c.run_ok(&["input", "move", &shadow_x.to_string(), &y.to_string()]);
        c.run_ok(&["input", "click", "left"]);
        c.wait_for_window(xterm.id, "xterm focused by the click", START_TIMEOUT, |w| {
            w.focused
        });
    };
    click_through(&mut c);

    // The region is the host's again after a restore.
    let out = checkpoint(&c, "cks");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    restore(&c, "cks");
    let _restored = Sandbox::new(bridge_pid(&c, "cks"));
    click_through(&mut c);
}

#[test]
fn a_native_clients_pointer_image_shows_and_comes_back_after_a_restore() {
    let mut c = Compositor::start(1280, 800);
    let pid = run_checkpointable(&c, "ckp", "weston-terminal --shell=/bin/sh; sleep 3600");
    let _sandbox = Sandbox::new(pid);
    let g = titled(&c, "ckp", "Wayland Terminal").geometry;
    let (x, y) = (g.x + g.width / 2, g.y + g.height / 2);
    c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    // weston-terminal sets an I-beam (centred on its hotspot, unlike the compositor's arrow).
    let i_beam = |c: &mut Compositor| {
        poll(START_TIMEOUT, "weston-terminal's I-beam", || {
            let image = c.pointer_image(x, y);
            if image.reaches_left() {
                Ok(())
            } else {
                Err(format!("{image:?}"))
            }
        })
    };
    i_beam(&mut c);

    let out = checkpoint(&c, "ckp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Over the placeholder, the compositor's own arrow.
    let image = c.pointer_image(x, y);
    assert!(!image.hidden() && !image.reaches_left(), "{image:?}");
    restore(&c, "ckp");
    let _restored = Sandbox::new(bridge_pid(&c, "ckp"));
    titled(&c, "ckp", "Wayland Terminal");
    i_beam(&mut c);
}

#[test]
fn a_gtk_apps_typed_text_survives_a_checkpoint_and_it_takes_input_after() {
    let mut c = Compositor::start(1280, 800);
    // GTK 3 as a native Wayland client of the bridge; no accessibility bus in the sandbox.
    let pid = run_checkpointable(
        &c,
        "ckg",
        "GDK_BACKEND=wayland NO_AT_BRIDGE=1 gtk3-widget-factory; sleep 3600",
    );
    let _sandbox = Sandbox::new(pid);
    let g = titled(&c, "ckg", "gtk3-widget-factory").geometry;
    // The left column's top, where the focused combo box entry starts with its text selected.
    let entry = Geometry {
        x: g.x,
        y: g.y + 50,
        width: 380,
        height: 50,
    };
    // Beyond a blinking text cursor's few pixels.
    let differ =
        |a: &[[u8; 4]], b: &[[u8; 4]]| a.iter().zip(b).filter(|(a, b)| a != b).count() > 100;
    // Waits until the entry differs from `before` and stays so between two looks (typing is
    // over).
    let changed_from = |c: &mut Compositor, before: &[[u8; 4]], what: &str| {
        let mut last = before.to_vec();
        poll(START_TIMEOUT, what, || {
            let now = c.screenshot().region(entry);
            let settled = differ(&now, before) && !differ(&now, &last);
            last = now.clone();
            if settled {
                Ok(now)
            } else {
                Err("changing, or the same as before".to_string())
            }
        })
    };
    // GTK's selection highlight, in the colour of the focused entry's outline.
    let blue = |pixels: &[[u8; 4]]| {
        pixels
            .iter()
            .filter(|p| p[..3] == [0x35, 0x84, 0xe4])
            .count()
    };
    // "comboboxentry", 13 characters, selected.
    let first = poll(START_TIMEOUT, "gtk3-widget-factory drawn", || {
        let shot = c.screenshot().region(entry);
        if blue(&shot) > 2000 {
            Ok(shot)
        } else {
            Err("no selection drawn yet".to_string())
        }
    });
    c.run_ok(&["input", "type", "porthole"]);
    let typed = changed_from(&mut c, &first, "the typed text");

    let out = checkpoint(&c, "ckg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    restore(&c, "ckg");
    let _restored = Sandbox::new(bridge_pid(&c, "ckg"));
    let back = titled(&c, "ckg", "gtk3-widget-factory");
    assert!(back.focused && back.geometry == g, "{back:?}");
    poll(START_TIMEOUT, "the typed text back", || {
        let now = c.screenshot().region(entry);
        if differ(&now, &typed) {
            Err("not the text typed before".to_string())
        } else {
            Ok(())
        }
    });
    c.run_ok(&["input", "type", " after restore"]);
    let after = changed_from(&mut c, &typed, "text typed after the restore");
    // All of it selected is "porthole after restore": the text typed before the checkpoint is
    // still there. Its highlight is 1.44 times as large as "comboboxentry"'s here, where " after
    // restore" alone makes 0.91.
    c.run_ok(&["input", "key", "ctrl+a"]);
    let all = changed_from(&mut c, &after, "all the text selected");
    let outline = blue(&typed);
    let (before, now) = (
        blue(&first).saturating_sub(outline),
        blue(&all).saturating_sub(outline),
    );
    assert!(
        now * 5 > before * 6,
        "the whole text's highlight is {now} pixels, against {before} for \"comboboxentry\""
    );
}

#[test]
fn a_native_clients_subsurfaces_show_and_come_back_after_a_restore() {
    let mut c = Compositor::start(1280, 800);
    // weston-subsurfaces: a green window with a red, free-running subsurface at its top right
    // whose pink arc turns on every frame.
    let pid = run_checkpointable(&c, "cks", "weston-subsurfaces --no-triangle; sleep 3600");
    let _sandbox = Sandbox::new(pid);
    let g = titled(&c, "cks", "Wayland Sub-surface Demo").geometry;
    let red_part = Geometry {
        x: g.x + 240,
        y: g.y + 40,
        width: 80,
        height: 80,
    };
    let green_part = Geometry {
        x: g.x + 20,
        y: g.y + 150,
        width: 80,
        height: 60,
    };
    let share = |shot: &Screenshot, rect: Geometry, test: fn([u8; 4]) -> bool| {
        let pixels = shot.region(rect);
        pixels.iter().filter(|p| test(**p)).count() as f64 / pixels.len() as f64
    };
    let red = |p: [u8; 4]| p[0] > 0x80 && p[1] < 0x50 && p[2] < 0x50;
    let green = |p: [u8; 4]| p[1] > 0x80 && p[0] < 0x40 && p[2] < 0x40;
    let shows_both = |c: &mut Compositor| {
        poll(START_TIMEOUT, "the window and its red subsurface", || {
            let shot = c.screenshot();
            let (r, g) = (share(&shot, red_part, red), share(&shot, green_part, green));
            if r > 0.6 && g > 0.9 {
                Ok(())
            } else {
                Err(format!("red {r:.2}, green {g:.2}"))
            }
        });
    };
    // The subsurface gets its frame callbacks through the bridge: its arc keeps turning.
    let turns = |c: &mut Compositor| {
        let first = c.screenshot().region(red_part);
        poll(START_TIMEOUT, "the red subsurface's next frames", || {
            if c.screenshot().region(red_part) != first {
                Ok(())
            } else {
                Err("the same picture".to_string())
            }
        });
    };
    shows_both(&mut c);
    turns(&mut c);

    let out = checkpoint(&c, "cks");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The placeholder is the whole window's last frame, subsurface included (dimmed).
    let shot = c.screenshot();
    let dim_red = |p: [u8; 4]| p[0] > 0x30 && p[0] > 2 * p[1] && p[0] > 2 * p[2];
    let r = share(&shot, red_part, dim_red);
    assert!(r > 0.6, "the placeholder shows the subsurface: red {r:.2}");

    let said = restore(&c, "cks");
    assert!(said.contains("1 of 1 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "cks");
    let _restored = Sandbox::new(pid);
    shows_both(&mut c);
    turns(&mut c);
}

/// A checkpointable container `name` running nothing but the test's own client, connected to
/// its bridge's socket, with a 64x48 window of grey (0x40) pixels: the sandbox (kept until the
/// test ends), the client, its surface and its buffer.
fn native_window(
    c: &Compositor,
    name: &str,
) -> (
    Sandbox,
    crate::raw::Raw,
    wayland_client::protocol::wl_surface::WlSurface,
    wayland_client::protocol::wl_buffer::WlBuffer,
) {
    let pid = run_checkpointable(c, name, "sleep 600");
    let sandbox = Sandbox::new(pid);
    let socket = format!("/proc/{pid}/root/run/porthole/wayland-0");
    let mut client = crate::raw::Raw::connect(Path::new(&socket)).unwrap();
    let pixels = vec![0x40; 64 * 48 * 4];
    let (surface, _fd, buffer) = crate::raw::shm_window_showing(
        &mut client,
        64,
        48,
        wayland_client::protocol::wl_shm::Format::Xrgb8888,
        &pixels,
    );
    (sandbox, client, surface, buffer)
}

#[test]
fn a_native_clients_viewport_sizes_its_window_through_the_bridge() {
    use wayland_protocols::wp::viewporter::client::wp_viewporter::WpViewporter;

    let mut c = Compositor::start(1280, 720);
    // A 64x48 buffer shown at 160x120, its left half cropped away first: what video players and
    // browsers do.
    let (_sandbox, mut client, surface, _buffer) = native_window(&c, "ckv");
    let viewporter: WpViewporter = client.bind("wp_viewporter", 1);
    let viewport = viewporter.get_viewport(&surface, &client.qh, ());
    viewport.set_source(32.0, 0.0, 32.0, 48.0);
    viewport.set_destination(160, 120);
    surface.commit();
    client.roundtrip().unwrap();
    let window = poll(START_TIMEOUT, "the window at its viewport's size", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == "ckv" && (w.geometry.width, w.geometry.height) == (160, 120))
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    // Its content fills the destination, on the compositor's screen too.
    let shot = c.screenshot();
    let share = shot.share_of(window.geometry, [0x40, 0x40, 0x40, 0xff]);
    assert!(share > 0.95, "the window's pixels fill 160x120: {share}");

    // Unset, the window is its buffer's size again.
    viewport.set_source(-1.0, -1.0, -1.0, -1.0);
    viewport.set_destination(-1, -1);
    surface.commit();
    client.roundtrip().unwrap();
    poll(START_TIMEOUT, "the window at its buffer's size", || {
        let w = c.window(window.id).ok_or("gone")?;
        if (w.geometry.width, w.geometry.height) == (64, 48) {
            Ok(())
        } else {
            Err(format!("{w:?}"))
        }
    });
}

#[test]
fn a_native_clients_single_pixel_buffer_shows_through_the_bridge() {
    use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1;
    use wayland_protocols::wp::viewporter::client::wp_viewporter::WpViewporter;

    let mut c = Compositor::start(1280, 720);
    let (_sandbox, mut client, surface, _buffer) = native_window(&c, "ckp");
    // A solid colour as toolkits draw backgrounds: one pixel, stretched by a viewport.
    let manager: WpSinglePixelBufferManagerV1 = client.bind("wp_single_pixel_buffer_manager_v1", 1);
    let viewporter: WpViewporter = client.bind("wp_viewporter", 1);
    let red = manager.create_u32_rgba_buffer(u32::MAX, 0, 0, u32::MAX, &client.qh, ());
    let viewport = viewporter.get_viewport(&surface, &client.qh, ());
    viewport.set_destination(120, 90);
    surface.attach(Some(&red), 0, 0);
    surface.damage_buffer(0, 0, 1, 1);
    surface.commit();
    client.roundtrip().unwrap();
    let window = poll(START_TIMEOUT, "the window at its viewport's size", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == "ckp" && (w.geometry.width, w.geometry.height) == (120, 90))
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    let share = poll(START_TIMEOUT, "the window red", || {
        let share = c
            .screenshot()
            .share_of(window.geometry, [0xff, 0x00, 0x00, 0xff]);
        if share > 0.95 {
            Ok(share)
        } else {
            Err(format!("{share}"))
        }
    });
    assert!(share > 0.95);
}

#[test]
fn a_native_client_gets_the_compositors_preferred_fractional_scale_through_the_bridge() {
    use wayland_protocols::wp::fractional_scale::v1::client::wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1;

    let c = Compositor::start(1280, 720);
    c.run_ok(&["output", "set", "HEADLESS-1", "--scale", "1.5"]);
    let (_sandbox, mut client, surface, buffer) = native_window(&c, "ckf");
    // What GTK 4.14, Qt 6 and browsers ask, to draw sharp at 150 %.
    let manager: WpFractionalScaleManagerV1 = client.bind("wp_fractional_scale_manager_v1", 1);
    let _fractional = manager.get_fractional_scale(&surface, &client.qh, ());
    surface.attach(Some(&buffer), 0, 0);
    surface.damage_buffer(0, 0, 64, 48);
    surface.commit();
    let preferred = |client: &mut crate::raw::Raw, want: u32| {
        poll(START_TIMEOUT, "the preferred scale", || {
            client.roundtrip().map_err(|e| e.to_string())?;
            match client.data.fractional_scales.last() {
                Some(&scale) if scale == want => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
    };
    preferred(&mut client, 180);
    // The output's scale changes: the client is told.
    c.run_ok(&["output", "set", "HEADLESS-1", "--scale", "2"]);
    preferred(&mut client, 240);
}
