//! The clipboard between containers, end to end: each container keeps its own; a selection moves
//! from one to another only through the copy and paste chords (driven through the control
//! socket's input path, as a keyboard would) or `porthole clipboard copy`, under the containers'
//! rules, and every transfer is an event. Real wl-clipboard, foot, xterm and xclip in bubblewrap
//! sandboxes started by `porthole run`.
//!
//! Scripts inside a sandbox report through files in the container's directory (seen at
//! /run/porthole). Every wait is a bounded poll.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use porthole_ipc::{ContainerInfo, WindowInfo};
use serde_json::Value;

use crate::common::*;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Containers `a`, `b`, `other` (defaults), `deny` (imports nothing), `small` (4 bytes, refused) and
/// `cut` (4 bytes, cut).
const CONFIG: &str = r#"
[container.a]
[container.b]
[container.other]
[container.deny.clipboard]
import = "deny"
[container.small.clipboard]
max_bytes = 4
[container.cut.clipboard]
max_bytes = 4
oversize = "cut"
[container.noexport.clipboard]
export = "deny"
[container.asker.clipboard]
import = "ask"
"#;

fn start() -> Compositor {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("porthole.toml");
    std::fs::write(&path, CONFIG).unwrap();
    Compositor::start_with(1280, 720, &["--config", path.to_str().unwrap()])
}

fn dir_of(c: &Compositor, name: &str) -> PathBuf {
    let all: Vec<ContainerInfo> =
        serde_json::from_str(&c.run_ok(&["containers", "--json"])).expect("containers --json");
    let info = all
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no container {name}: {all:?}"));
    Path::new(&info.socket).parent().unwrap().to_path_buf()
}

/// Waits for a clipboard_transfer event from `from` to `to` and returns it.
fn transfer(events: &Events, from: &str, to: &str) -> Value {
    let what = format!("a clipboard transfer {from} -> {to}");
    let i = events.wait_for(0, &what, |e| {
        e["event"] == "clipboard_transfer" && e["from"] == from && e["to"] == to
    });
    events.all()[i].clone()
}

/// A terminal in container `name` that stays open (something to focus), plus a loop that runs
/// `wl-paste` whenever the test drops `ask-N` in the container's directory, into `paste-N`.
fn spawn_pasting_terminal(c: &mut Compositor, name: &str) -> WindowInfo {
    let title = format!("term-{name}");
    let script = format!(
        r#"
        foot -T {title} -e sh -c 'cat > /run/porthole-host/typed' &
        n=0
        while :; do
            until [ -e /run/porthole-host/ask-$n ]; do sleep 0.1; done
            timeout 10 wl-paste -n $(cat /run/porthole-host/ask-$n) > /run/porthole-host/paste.tmp 2>&1
            mv /run/porthole-host/paste.tmp /run/porthole-host/paste-$n
            n=$((n+1))
        done
        "#
    );
    c.spawn_client(PORTHOLE, &["run", name, "--", "sh", "-c", &script]);
    wait_titled(c, name, &title)
}

fn wait_titled(c: &Compositor, name: &str, title: &str) -> WindowInfo {
    poll(TIMEOUT, &format!("window `{title}` of {name}"), || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == name && w.title == title)
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    })
}

/// Asks container `dir`'s paste loop for what `wl-paste` sees now.
fn paste_in(dir: &Path, n: u32) -> String {
    paste_with(dir, n, "")
}

/// Asks container `dir`'s paste loop for what `wl-paste ARGS` sees now.
fn paste_with(dir: &Path, n: u32, args: &str) -> String {
    std::fs::write(dir.join(format!("ask-{n}")), args).unwrap();
    poll(TIMEOUT, "wl-paste's result", || {
        std::fs::read_to_string(dir.join(format!("paste-{n}"))).map_err(|e| e.to_string())
    })
    .trim()
    .to_owned()
}

/// Copies `text` with wl-copy in container `name`, from a terminal window of its own.
fn copy_in(c: &mut Compositor, name: &str, text: &str) -> WindowInfo {
    let title = format!("source-{name}");
    let dir = dir_of(c, name);
    let _ = std::fs::remove_file(dir.join("copied"));
    let script = format!(
        "foot -T {title} -e sleep 600 & sleep 1; printf %s '{text}' | wl-copy; \
         touch /run/porthole-host/copied; sleep 600"
    );
    c.spawn_client(PORTHOLE, &["run", name, "--", "sh", "-c", &script]);
    let w = wait_titled(c, name, &title);
    poll(TIMEOUT, "wl-copy to take the clipboard", || {
        // wl-copy maps a 1x1 window of its own to take the focus, then leaves.
        let windows = c.windows();
        if dir.join("copied").exists() && !windows.iter().any(|w| w.title == "wl-clipboard") {
            Ok(())
        } else {
            Err(format!("{windows:?}"))
        }
    });
    w
}

fn focus(c: &Compositor, w: &WindowInfo) {
    c.run_ok(&["window", "focus", "--id", &w.id.to_string()]);
}

#[test]
fn the_chords_move_text_between_containers_and_nothing_moves_without_them() {
    let mut c = start();
    let events = Events::subscribe(&c);
    let b_dir = dir_of(&c, "b");
    let term_b = spawn_pasting_terminal(&mut c, "b");
    let source = copy_in(&mut c, "a", "secret-of-a");

    assert_eq!(
        paste_in(&b_dir, 0),
        "No selection",
        "b sees a's clipboard without any transfer"
    );

    focus(&c, &source);
    c.run_ok(&["input", "key", "ctrl+shift+c"]);
    focus(&c, &term_b);
    c.run_ok(&["input", "key", "ctrl+shift+v"]);
    let event = transfer(&events, "a", "b");
    assert_eq!(event["allowed"], true, "{event}");
    assert_eq!(event["bytes"], 11, "{event}");
    assert_eq!(paste_in(&b_dir, 1), "secret-of-a");
}

#[test]
fn the_paste_chord_never_lands_in_a_window_that_appeared_after_the_persons_click() {
    // The person copies in `a`, then closes that window to paste in `b`'s, below it. Meanwhile
    // `other` maps a window of its own, which goes just below the focused one: on top once the
    // focused window is gone. The focus, and the paste, go to `b`'s window all the same.
    let mut c = start();
    let events = Events::subscribe(&c);
    let b_dir = dir_of(&c, "b");
    let term_b = spawn_pasting_terminal(&mut c, "b");
    let source = copy_in(&mut c, "a", "secret-of-a");
    focus(&c, &source);
    c.run_ok(&["input", "key", "ctrl+shift+c"]);

    let mut raw = crate::raw::Raw::connect(&crate::raw::socket(&c, "other")).unwrap();
    let _seat: wayland_client::protocol::wl_seat::WlSeat = raw.bind("wl_seat", 5);
    let _window = crate::raw::shm_window(&mut raw, 200, 200);
    let appeared = poll(TIMEOUT, "the window of `other`", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == "other")
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    assert!(appeared.attention && !appeared.focused, "{appeared:?}");

    c.run_ok(&["window", "close", "--id", &source.id.to_string()]);
    let focused = poll(
        TIMEOUT,
        "the focus to go on once `a`'s window closed",
        || {
            let windows = c.windows();
            match windows.iter().find(|w| w.focused) {
                Some(w) if !windows.iter().any(|w| w.id == source.id) => Ok(w.clone()),
                _ => Err(format!("{windows:?}")),
            }
        },
    );
    assert_eq!(focused.id, term_b.id, "the focus went to {focused:?}");
    c.run_ok(&["input", "key", "ctrl+shift+v"]);
    let event = transfer(&events, "a", "b");
    assert_eq!(event["allowed"], true, "{event}");
    assert_eq!(paste_in(&b_dir, 0), "secret-of-a");
    raw.roundtrip().unwrap();
    assert!(
        raw.data.keyboard_focus.iter().all(Option::is_none),
        "`other` had the keyboard"
    );
    let to_other = events.all().iter().any(|e| e["to"] == "other");
    assert!(!to_other, "something was pasted into `other`");
}

#[test]
fn an_x11_copy_reaches_a_wayland_client_of_another_container_only_through_the_chords() {
    let mut c = start();
    let events = Events::subscribe(&c);
    let b_dir = dir_of(&c, "b");
    let term_b = spawn_pasting_terminal(&mut c, "b");
    let script = r#"
        xterm -T x11-source &
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        printf %s from-xclip-in-a | xclip -i -selection clipboard
        touch /run/porthole-host/copied
        sleep 600
    "#;
    c.spawn_client(PORTHOLE, &["run", "a", "--", "sh", "-c", script]);
    let xterm = wait_titled(&c, "a", "x11-source");
    // xclip takes the selection through a's bridge, which needs a's window focused.
    focus(&c, &xterm);
    let a_dir = dir_of(&c, "a");
    std::fs::write(a_dir.join("go"), "").unwrap();
    poll(TIMEOUT, "xclip to copy", || {
        if a_dir.join("copied").exists() {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    });
    assert_eq!(paste_in(&b_dir, 0), "No selection", "b sees a's X11 copy");

    focus(&c, &xterm);
    c.run_ok(&["input", "key", "ctrl+shift+c"]);
    focus(&c, &term_b);
    c.run_ok(&["input", "key", "ctrl+shift+v"]);
    let event = transfer(&events, "a", "b");
    assert_eq!(event["allowed"], true, "{event}");
    assert_eq!(paste_in(&b_dir, 1), "from-xclip-in-a");

    // The control socket does the same in one step, and says what moved.
    let out = c.run_ok(&["clipboard", "copy", "--from", "b", "--to", "a"]);
    assert!(out.contains("15 bytes"), "{out}");
}

/// Copies `text` on the host socket with wl-copy (which uses data-control there), focused
/// or not, and waits for it to own the selection.
fn host_copy(c: &Compositor, text: &str, args: &[&str]) {
    // wl-copy forks a child that serves the selection and keeps whatever pipes it was given:
    // no output to collect.
    let status = std::process::Command::new("wl-copy")
        .args(args)
        .arg(text)
        .env("XDG_RUNTIME_DIR", c.dir())
        .env("WAYLAND_DISPLAY", c.wayland_display())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("wl-copy");
    assert!(status.success(), "wl-copy: {status}");
    poll(TIMEOUT, "the host's selection", || {
        let mut cmd = std::process::Command::new("wl-paste");
        cmd.args(["-n"])
            .args(args.iter().filter(|a| **a == "--primary"));
        cmd.env("XDG_RUNTIME_DIR", c.dir())
            .env("WAYLAND_DISPLAY", c.wayland_display());
        let out = run_bounded(cmd, TIMEOUT);
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        if got == text {
            Ok(())
        } else {
            Err(got)
        }
    });
}

#[test]
fn the_hosts_clipboard_reaches_no_container_until_the_chords_move_it() {
    let mut c = start();
    let events = Events::subscribe(&c);
    let b_dir = dir_of(&c, "b");
    let term_b = spawn_pasting_terminal(&mut c, "b");

    // A container window focused: neither the clipboard nor the primary selection leaks.
    focus(&c, &term_b);
    host_copy(&c, "SECRET", &[]);
    host_copy(&c, "PRIMARY-SECRET", &["--primary"]);
    assert_eq!(
        paste_in(&b_dir, 0),
        "No selection",
        "the host's clipboard leaked"
    );
    assert_eq!(
        paste_with(&b_dir, 1, "--primary"),
        "No selection",
        "the host's primary selection leaked"
    );

    // No window focused (wl-paste's own window then gets the keyboard): nothing either.
    c.run_ok(&["window", "minimize", "--id", &term_b.id.to_string()]);
    poll(TIMEOUT, "no window focused", || {
        let windows = c.windows();
        if windows.iter().any(|w| w.focused) {
            Err(format!("{windows:?}"))
        } else {
            Ok(())
        }
    });
    assert_eq!(
        paste_in(&b_dir, 2),
        "No selection",
        "the host's clipboard leaked"
    );

    // An X11 client of another container, through its bridge: nothing.
    let script = r#"
        xterm -T x11-reader &
        until [ -e /run/porthole-host/go ]; do sleep 0.1; done
        timeout 5 xclip -o -selection clipboard > /run/porthole-host/xclip.out 2>&1
        touch /run/porthole-host/read
        sleep 600
    "#;
    c.spawn_client(PORTHOLE, &["run", "a", "--", "sh", "-c", script]);
    let xterm = wait_titled(&c, "a", "x11-reader");
    focus(&c, &xterm);
    let a_dir = dir_of(&c, "a");
    std::fs::write(a_dir.join("go"), "").unwrap();
    poll(TIMEOUT, "xclip to read", || {
        std::fs::read_to_string(a_dir.join("read")).map_err(|e| e.to_string())
    });
    let read = std::fs::read_to_string(a_dir.join("xclip.out")).unwrap();
    assert!(!read.contains("SECRET"), "the X11 client read {read:?}");

    // The chords move it, from a host window: the same rules as between containers.
    c.spawn_client("foot", &["-T", "host-term", "-e", "sleep", "600"]);
    let host_term = wait_titled(&c, "host", "host-term");
    host_copy(&c, "SECRET", &[]);
    focus(&c, &host_term);
    c.run_ok(&["input", "key", "ctrl+shift+c"]);
    c.run_ok(&["window", "focus", "--id", &term_b.id.to_string()]);
    c.run_ok(&["input", "key", "ctrl+shift+v"]);
    let event = transfer(&events, "host", "b");
    assert_eq!(event["allowed"], true, "{event}");
    assert_eq!(paste_in(&b_dir, 3), "SECRET");
}

#[test]
fn rules_refuse_or_cut_transfers_and_say_why() {
    let mut c = start();
    let events = Events::subscribe(&c);
    copy_in(&mut c, "a", "0123456789");

    // import = "deny": refused, and the container sees nothing.
    let deny_dir = dir_of(&c, "deny");
    spawn_pasting_terminal(&mut c, "deny");
    let out = c.run(&["clipboard", "copy", "--from", "a", "--to", "deny"]);
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("import = \"deny\""), "{err}");
    let event = transfer(&events, "a", "deny");
    assert_eq!(event["allowed"], false, "{event}");
    assert_eq!(paste_in(&deny_dir, 0), "No selection");

    // max_bytes = 4, refused.
    let out = c.run(&["clipboard", "copy", "--from", "a", "--to", "small"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("max_bytes"),
        "{out:?}"
    );
    assert_eq!(transfer(&events, "a", "small")["allowed"], false);

    // max_bytes = 4 with oversize = "cut": the first four bytes arrive.
    let cut_dir = dir_of(&c, "cut");
    spawn_pasting_terminal(&mut c, "cut");
    let out = c.run_ok(&["clipboard", "copy", "--from", "a", "--to", "cut"]);
    assert!(out.contains("4 bytes"), "{out}");
    assert_eq!(paste_in(&cut_dir, 0), "0123");

    // export = "deny": nothing leaves.
    copy_in(&mut c, "noexport", "kept-inside");
    let out = c.run(&["clipboard", "copy", "--from", "noexport", "--to", "b"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("export = \"deny\""),
        "{out:?}"
    );
}

#[test]
fn import_ask_shows_a_prompt_that_holds_the_keyboard_until_answered() {
    let mut c = start();
    let events = Events::subscribe(&c);
    let dir = dir_of(&c, "asker");
    let term = spawn_pasting_terminal(&mut c, "asker");
    copy_in(&mut c, "a", "asked-for");
    focus(&c, &term);

    // Enter pastes.
    let pid = c.spawn_client(
        PORTHOLE,
        &["clipboard", "copy", "--from", "a", "--to", "asker"],
    );
    let prompt = [0x30, 0x30, 0x36, 0xff];
    let centre = |shot: &Screenshot| shot.pixel(shot.width as i32 / 2, shot.height as i32 / 2 + 30);
    poll(TIMEOUT, "the prompt on screen", || {
        let shot = c.screenshot();
        if centre(&shot) == prompt {
            Ok(())
        } else {
            Err(hex(centre(&shot)))
        }
    });
    c.run_ok(&["input", "type", "not-for-the-terminal"]);
    c.run_ok(&["input", "key", "Return"]);
    let status = c.wait_for_client_exit(pid, TIMEOUT);
    assert!(
        status.success(),
        "`porthole clipboard copy` failed after Enter"
    );
    assert_eq!(transfer(&events, "a", "asker")["allowed"], true);
    assert_ne!(
        centre(&c.screenshot()),
        prompt,
        "the prompt stays after Enter"
    );
    assert_eq!(paste_in(&dir, 0), "asked-for");
    let typed = std::fs::read_to_string(dir.join("typed")).unwrap_or_default();
    assert!(
        !typed.contains("not-for-the-terminal"),
        "keys typed at the prompt reached the focused client: {typed:?}"
    );

    // Escape refuses.
    copy_in(&mut c, "a", "refused-one");
    let out = std::thread::scope(|s| {
        let copy = s.spawn(|| c.run(&["clipboard", "copy", "--from", "a", "--to", "asker"]));
        poll(TIMEOUT, "the second prompt", || {
            let shot = shot(&c);
            if centre(&shot) == prompt {
                Ok(())
            } else {
                Err(hex(centre(&shot)))
            }
        });
        c.run_ok(&["input", "key", "Escape"]);
        copy.join().unwrap()
    });
    assert!(!out.status.success(), "Escape still pasted: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{out:?}"
    );
    assert_ne!(paste_in(&dir, 1), "refused-one", "the refused text arrived");
}

#[test]
fn a_drag_between_two_windows_of_one_sandbox_moves_the_item_through_its_bridge() {
    // `porthole run` puts the bridge in front of the sandbox: the drag starts on the bridge's
    // seat, runs on the host, and enters the other window through the bridge again. Each way
    // once: the second drag needs the bridge's pointer back after the first.
    let mut c = start();
    let windows = |c: &Compositor, n: usize| {
        poll(TIMEOUT, &format!("{n} weston-dnd windows in a"), || {
            let windows: Vec<WindowInfo> = c
                .windows()
                .into_iter()
                .filter(|w| w.container == "a")
                .collect();
            if windows.len() == n {
                Ok(windows)
            } else {
                Err(format!("{windows:?}"))
            }
        })
    };
    // One sandbox, so one bridge, with two clients.
    c.spawn_client(
        PORTHOLE,
        &["run", "a", "--", "sh", "-c", "weston-dnd & exec weston-dnd"],
    );
    let mut both = windows(&c, 2);
    let (first, second) = (both.remove(0), both.remove(0));
    c.wait_for_clients("a", 1);
    // Side by side, so that both show their items.
    let to = (
        first.geometry.x + first.geometry.width + 40,
        first.geometry.y,
    );
    drag(&c, &second, to);
    let second = c.window(second.id).expect("the second window");
    for (from, to) in [(&first, &second), (&second, &first)] {
        let spot = empty_cell(&mut c, to);
        drag_item(&mut c, from, spot);
        poll(TIMEOUT, "the item landed in the other window", || {
            if bright(shot(&c).pixel(spot.0, spot.1)) {
                Ok(())
            } else {
                Err(format!("nothing at {spot:?}"))
            }
        });
    }
}

/// Where weston-dnd lays its items out: an 80-pixel grid, 54 and 73 pixels in from the corner.
fn dnd_cells(w: &WindowInfo) -> Vec<(i32, i32)> {
    let (x0, y0) = (w.geometry.x + 54, w.geometry.y + 73);
    (0..4)
        .flat_map(|row| (0..4).map(move |col| (x0 + col * 80, y0 + row * 80)))
        .collect()
}

fn bright(p: [u8; 4]) -> bool {
    p[0] as u32 + p[1] as u32 + p[2] as u32 > 300
}

/// An empty cell of weston-dnd's window `to`, to drop on.
fn empty_cell(c: &mut Compositor, to: &WindowInfo) -> (i32, i32) {
    let shot = c.screenshot();
    dnd_cells(to)
        .into_iter()
        .find(|&(x, y)| {
            (-20..=20)
                .step_by(5)
                .all(|d| !bright(shot.pixel(x + d, y + d)))
        })
        .expect("no empty cell in the target window")
}

/// Drags the first weston-dnd item found in `from`'s window to `to`, with the pointer held down
/// as a person would.
fn drag_item(c: &mut Compositor, from: &WindowInfo, to: (i32, i32)) {
    let shot = c.screenshot();
    let item = dnd_cells(from)
        .into_iter()
        .find(|&(x, y)| bright(shot.pixel(x, y)))
        .expect("no weston-dnd item in the source window");
    c.run_ok(&["input", "move", &item.0.to_string(), &item.1.to_string()]);
    c.run_ok(&["input", "button", "left", "press"]);
    for step in 1..=8 {
        let x = item.0 + (to.0 - item.0) * step / 8;
        let y = item.1 + (to.1 - item.1) * step / 8;
        c.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(200));
    c.run_ok(&["input", "button", "left", "release"]);
}

#[test]
fn a_drag_enters_no_other_container_and_a_drop_there_moves_it_under_the_rules() {
    let mut c = start();
    let events = Events::subscribe(&c);
    let dnd = |c: &mut Compositor, name: &str| {
        c.spawn_client(PORTHOLE, &["run", name, "--", "weston-dnd"]);
        poll(TIMEOUT, &format!("weston-dnd in {name}"), || {
            let windows = c.windows();
            windows
                .iter()
                .find(|w| w.container == name)
                .cloned()
                .ok_or_else(|| format!("{windows:?}"))
        })
    };
    let a = dnd(&mut c, "a");
    // Within a's own window a drag works as ever: the item moves.
    let spot = empty_cell(&mut c, &a);
    drag_item(&mut c, &a, spot);
    poll(TIMEOUT, "the item moved within a", || {
        if bright(shot(&c).pixel(spot.0, spot.1)) {
            Ok(())
        } else {
            Err(format!("nothing at {spot:?}"))
        }
    });

    // Into `deny` (import = "deny"): the drag never enters, nothing lands, and the refusal is
    // an event.
    let deny = dnd(&mut c, "deny");
    let spot = empty_cell(&mut c, &deny);
    drag_item(&mut c, &a, spot);
    assert_eq!(transfer(&events, "a", "deny")["allowed"], false);
    assert!(
        !bright(c.screenshot().pixel(spot.0, spot.1)),
        "an item landed in `deny`"
    );

    // Over a window of `b` whose client watches its data device: no enter, so no offer to read
    // while the drag passes; the drop moves weston-dnd's text into b's clipboard, as an event.
    let b_dir = dir_of(&c, "b");
    let term_b = spawn_pasting_terminal(&mut c, "b");
    let mut raw = crate::raw::Raw::connect(&crate::raw::socket(&c, "b")).unwrap();
    let seat: wayland_client::protocol::wl_seat::WlSeat = raw.bind("wl_seat", 5);
    let manager: wayland_client::protocol::wl_data_device_manager::WlDataDeviceManager =
        raw.bind("wl_data_device_manager", 3);
    let _device = manager.get_data_device(&seat, &raw.qh.clone(), ());
    let _window = crate::raw::shm_window(&mut raw, 300, 300);
    let target = poll(TIMEOUT, "b's raw window", || {
        let windows = c.windows();
        windows
            .iter()
            .find(|w| w.container == "b" && w.geometry.width == 300)
            .cloned()
            .ok_or_else(|| format!("{windows:?}"))
    });
    focus(&c, &target);
    let centre = (target.geometry.x + 150, target.geometry.y + 150);
    drag_item(&mut c, &a, centre);
    let event = transfer(&events, "a", "b");
    assert_eq!(event["allowed"], true, "{event}");
    raw.roundtrip().unwrap();
    assert!(
        raw.data.drag_enters.is_empty(),
        "the drag entered b's window before the drop"
    );
    focus(&c, &term_b);
    let pasted = paste_in(&b_dir, 0);
    assert!(
        !pasted.is_empty() && pasted != "No selection",
        "b's clipboard after the drop: {pasted:?}"
    );
}
