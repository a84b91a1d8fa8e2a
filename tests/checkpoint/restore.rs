//! What a restore brings back: the windows in place, stacked and focused as they were (also
//! after the compositor restarted in between), minimized, maximized or fullscreen as they were;
//! the shell's count and the MIT-SHM client's segments going on; new clients served; a bridge
//! rebuilt between checkpoint and restore does not stop the restore.

use std::time::Duration;

use porthole_ipc::{Geometry, WindowInfo};

use super::*;
use crate::common::*;

#[test]
fn a_checkpointed_container_comes_back_with_its_windows_and_state() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ck", "");
    let _sandbox = Sandbox::new(pid);
    let before = arrange(&c, "ck");
    wait_for_at_least("two MIT-SHM rounds", || shm_rounds(pid), 2);

    let counted = count(pid).expect("the counter");
    let rounds = shm_rounds(pid).expect("the MIT-SHM log");
    checkpoint_ok(&c, "ck", pid, &before);
    // A placeholder is not a window to act on; the error says what to do instead.
    let kept = windows_of(&c, "ck", true);
    let out = c.run(&["window", "close", "--id", &kept[0].id.to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("`porthole restore ck`"),
        "{stderr}"
    );

    // What a person sees meanwhile: each window's last frame, dimmed, labelled.
    let shot = c.screenshot();
    let xterm = before
        .iter()
        .find(|w| w.title == "counter")
        .unwrap()
        .geometry;
    let dimmed_white = [0x72, 0x72, 0x72, 0xff];
    let share = shot.share_of(xterm, dimmed_white);
    assert!(share > 0.4, "xterm's white is drawn dimmed: {share}");
    let label = Geometry {
        x: xterm.x + xterm.width / 2 - 40,
        y: xterm.y + xterm.height / 2 - 10,
        width: 80,
        height: 20,
    };
    let label_bg = [0x30, 0x30, 0x36, 0xff];
    let share = shot.share_of(label, label_bg);
    assert!(share > 0.3, "the placeholder is labelled: {share}");

    std::thread::sleep(Duration::from_secs(1));
    let said = restore(&c, "ck");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ck");
    let _restored = Sandbox::new(pid);
    let after = windows_of(&c, "ck", false);
    assert_eq!(
        geometries(&after),
        geometries(&before),
        "windows come back in place"
    );
    assert_eq!(
        stacking(&c, "ck"),
        ["simple-shm", "counter"],
        "and in their stacking"
    );
    assert!(after[0].focused, "xterm has the focus back: {after:?}");

    // The shell went on counting from where it was, and the MIT-SHM client's segments still
    // carry its pictures.
    let resumed = poll(Duration::from_secs(5), "the counter", || count(pid));
    assert!(
        resumed >= counted && resumed < counted + 10,
        "the counter goes on from {counted}, not from the start: {resumed}"
    );
    wait_for_at_least("the counter to go on", || count(pid), counted + 4);
    wait_for_at_least(
        "MIT-SHM rounds after the restore",
        || shm_rounds(pid),
        rounds + 4,
    );
    let shot = c.screenshot();
    let white = shot.share_of(xterm, [0xff, 0xff, 0xff, 0xff]);
    assert!(white > 0.4, "xterm is drawn live again: {white}");

    // New X11 and Wayland clients of the restored container are served.
    let enter = [
        "-t",
        &pid.to_string(),
        "-a",
        "env",
        "-i",
        "PATH=/usr/bin:/bin",
        "HOME=/tmp",
        "XDG_RUNTIME_DIR=/run/porthole",
        "WAYLAND_DISPLAY=wayland-0",
        "DISPLAY=:0",
        "XAUTHORITY=/tmp/.porthole-Xauthority-0",
        "sh",
        "-c",
        "weston-simple-shm & exec /tmp/probe window --name after-restore",
    ]
    .map(String::from);
    let args: Vec<&str> = enter.iter().map(String::as_str).collect();
    c.spawn_client("nsenter", &args);
    poll(START_TIMEOUT, "a new X11 and a new Wayland window", || {
        let windows = c.windows();
        let mine: Vec<&WindowInfo> = windows.iter().filter(|w| w.container == "ck").collect();
        let x11 = mine.iter().any(|w| w.title == "after-restore");
        let wayland = mine.iter().filter(|w| w.title == "simple-shm").count() == 2;
        if x11 && wayland {
            Ok(())
        } else {
            Err(format!("{mine:?}"))
        }
    });
}

#[test]
fn windows_come_back_in_place_after_the_compositor_restarts_in_between() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckr", "");
    let _sandbox = Sandbox::new(pid);
    let before = arrange(&c, "ckr");
    checkpoint_ok(&c, "ckr", pid, &before);

    // xterm's placeholder is drawn over weston-simple-shm's, as the windows were stacked.
    let [counter, shm] = [&before[0], &before[1]].map(|w| w.geometry);
    title_bar_on_top(&c.screenshot(), counter, shm);

    c.restart();
    // The new compositor shows the placeholders it found, though the container is gone.
    let kept = windows_of(&c, "ckr", true);
    assert_eq!(geometries(&kept), geometries(&before));
    title_bar_on_top(&c.screenshot(), counter, shm);
    assert!(
        container(&c, "ckr").is_none(),
        "the container was added at run time"
    );

    let said = restore(&c, "ckr");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "ckr");
    let _restored = Sandbox::new(pid);
    let after = windows_of(&c, "ckr", false);
    assert_eq!(geometries(&after), geometries(&before));
    assert_eq!(stacking(&c, "ckr"), ["simple-shm", "counter"]);

    // Placeholders a new compositor shows for a container it never had can be dropped.
    checkpoint_ok(&c, "ckr", pid, &before);
    c.restart();
    windows_of(&c, "ckr", true);
    c.run_ok(&["container", "remove", "ckr"]);
    assert!(
        c.windows().iter().all(|w| w.container != "ckr"),
        "{:?}",
        c.windows()
    );
    let shot = c.screenshot();
    assert!(shot.share_of(before[0].geometry, BACKGROUND) > 0.9);
    c.restart();
    assert!(
        c.windows().is_empty(),
        "they stay dropped: {:?}",
        c.windows()
    );
}

#[test]
fn a_minimized_window_comes_back_minimized() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckz", "");
    let _sandbox = Sandbox::new(pid);
    let before = arrange(&c, "ckz");
    let shm = before
        .iter()
        .find(|w| w.title == "simple-shm")
        .unwrap()
        .clone();
    c.run_ok(&["window", "minimize", "--id", &shm.id.to_string()]);
    c.wait_for_window(shm.id, "minimized", START_TIMEOUT, |w| w.minimized);

    let out = checkpoint(&c, "ckz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = windows_of(&c, "ckz", true);
    assert!(kept[1].minimized && !kept[0].minimized, "{kept:?}");
    // Only xterm's placeholder is drawn: where simple-shm would be, xterm does not reach, the
    // background shows.
    let shot = c.screenshot();
    let corner = Geometry {
        x: shm.geometry.x,
        y: shm.geometry.y,
        width: 60,
        height: 60,
    };
    assert!(
        shot.share_of(corner, BACKGROUND) > 0.9,
        "a minimized placeholder is not drawn"
    );

    restore(&c, "ckz");
    let pid = bridge_pid(&c, "ckz");
    let _restored = Sandbox::new(pid);
    let after = windows_of(&c, "ckz", false);
    assert!(
        after[1].minimized,
        "simple-shm comes back minimized: {after:?}"
    );
    assert!(after[0].focused, "and xterm keeps the focus: {after:?}");
    assert_eq!(geometries(&after), geometries(&before));
}

#[test]
fn maximized_and_fullscreen_windows_come_back_so_and_remember_their_place() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "ckx", "");
    let _sandbox = Sandbox::new(pid);
    let before = arrange(&c, "ckx");
    let (xterm, shm) = (&before[0], &before[1]);
    c.run_ok(&["window", "fullscreen", "--id", &shm.id.to_string()]);
    c.wait_for_window(shm.id, "fullscreen", START_TIMEOUT, |w| w.fullscreen);
    c.run_ok(&["window", "maximize", "--id", &xterm.id.to_string()]);
    c.run_ok(&["window", "focus", "--id", &xterm.id.to_string()]);
    let maximized = c.wait_for_window(xterm.id, "xterm maximized", START_TIMEOUT, |w| {
        w.maximized && w.focused && w.geometry.width > 1200
    });

    let out = checkpoint(&c, "ckx");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = windows_of(&c, "ckx", true);
    assert!(kept[0].maximized && kept[1].fullscreen, "{kept:?}");
    assert_eq!(kept[0].geometry, maximized.geometry);

    restore(&c, "ckx");
    let pid = bridge_pid(&c, "ckx");
    let _restored = Sandbox::new(pid);
    let after = windows_of(&c, "ckx", false);
    assert!(
        after[0].maximized && after[0].focused && after[1].fullscreen,
        "{after:?}"
    );
    assert_eq!(after[0].geometry, maximized.geometry);

    // Each goes back to its place before, as if there had been no checkpoint.
    c.run_ok(&["window", "maximize", "--id", &after[0].id.to_string()]);
    c.run_ok(&["window", "fullscreen", "--id", &after[1].id.to_string()]);
    for (was, now) in before.iter().zip(&after) {
        c.wait_for_window(now.id, "the place before", START_TIMEOUT, |w| {
            !w.maximized && !w.fullscreen && w.geometry == was.geometry
        });
    }
}

#[test]
fn a_bridge_rebuilt_between_checkpoint_and_restore_does_not_stop_the_restore() {
    // porthole and its bridge installed in a directory of their own, which the test "rebuilds".
    let c = Compositor::start(1280, 800);
    let bin = c.dir().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for name in ["porthole", "porthole-bridge"] {
        std::fs::copy(sibling(name), bin.join(name)).unwrap();
    }
    c.run_ok(&["container", "add", "ckb"]);
    let dir = Path::new(&container(&c, "ckb").unwrap().socket)
        .parent()
        .unwrap()
        .to_path_buf();
    std::fs::copy(
        sibling("porthole-x11-probe"),
        dir.join("porthole-x11-probe"),
    )
    .unwrap();
    let out = c.run_binary(
        &bin.join("porthole"),
        &[
            "run",
            "--checkpointable",
            "ckb",
            "--",
            "sh",
            "-c",
            &format!("{SCRIPT}\nwait"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = bridge_pid(&c, "ckb");
    let _sandbox = Sandbox::new(pid);
    let before = windows_of(&c, "ckb", false);
    checkpoint_ok(&c, "ckb", pid, &before);

    // A new build of the bridge, written over the installed one.
    let mut rebuilt = std::fs::read(bin.join("porthole-bridge")).unwrap();
    rebuilt.extend_from_slice(b"a later build");
    std::fs::write(bin.join("porthole-bridge"), rebuilt).unwrap();

    let said = restore(&c, "ckb");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let _restored = Sandbox::new(bridge_pid(&c, "ckb"));
    let after = windows_of(&c, "ckb", false);
    assert_eq!(geometries(&after), geometries(&before));
    let counted = count(bridge_pid(&c, "ckb")).expect("the counter");
    wait_for_at_least(
        "the counter to go on",
        || count(bridge_pid(&c, "ckb")),
        counted + 2,
    );
}
