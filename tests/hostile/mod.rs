//! Hostile clients against the real `porthole serve`: each attack runs in one container while an
//! honest client in another draws. In every case the compositor keeps running, the honest client
//! keeps getting frames, the attacker gets a protocol error or loses its connection (or is
//! served, where what it does is allowed), and the compositor's memory and file descriptors
//! come back down once the attacker is gone.

use std::io::Write as _;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use porthole_ipc::WindowInfo;
use wayland_client::protocol::{
    wl_buffer, wl_compositor, wl_seat, wl_shm, wl_shm_pool, wl_subcompositor, wl_surface,
};

use crate::common::*;
use crate::raw::*;

mod bounds;
mod floods;
mod malformed;

const CONFIG: &str = r##"
[container.attacker]
color = "#cc0000"
x11 = false

[container.honest]
color = "#3465a4"
x11 = false
"##;

fn start() -> Compositor {
    Compositor::start_with_config(1280, 720, CONFIG)
}

/// The fds the compositor holds for its clients: all but the spares its control thread keeps
/// open on /dev/null (`fds::Spares`), which it opens once the thread runs, maybe after the ready
/// line and after a test took its first count.
fn client_fds(comp: &Compositor) -> usize {
    comp.fd_targets()
        .iter()
        .filter(|t| t.as_str() != "/dev/null")
        .count()
}

/// Runs `attack` while an honest client in another container draws for `seconds`, and checks
/// that the honest client got at least half the frames a 60 Hz output gives and that the
/// compositor still runs.
fn honest_client_survives(comp: &mut Compositor, seconds: f64, attack: impl FnMut()) {
    let frames = frames_during(
        &socket(comp, "honest"),
        Duration::from_secs_f64(seconds),
        attack,
    );
    let floor = (seconds * 30.0) as u32;
    assert!(
        frames >= floor,
        "the honest client got {frames} frames in {seconds} s (wanted at least {floor})"
    );
    assert!(comp.is_running(), "the compositor died");
}

/// Waits until the compositor serves no client of the attacker's container.
fn attacker_gone(comp: &Compositor) {
    comp.wait_for_clients("attacker", 0);
}

/// The compositor's RSS is within 32 MiB of what it was before the attack.
fn memory_came_back(comp: &Compositor, rss_before: u64) {
    let rss = comp.rss_kib();
    assert!(
        rss < rss_before + 32 * 1024,
        "RSS grew from {rss_before} KiB to {rss} KiB"
    );
}

/// Waits until the compositor holds no more fds than `fds_before`; `note` goes into the failure.
fn fds_came_back(comp: &Compositor, fds_before: usize, note: &str) {
    poll(Duration::from_secs(5), "the fds to be closed", || {
        let now = client_fds(comp);
        if now <= fds_before {
            Ok(())
        } else {
            let held = comp.fd_targets().join(" ");
            Err(format!("{now} open, {fds_before} before{note}: {held}"))
        }
    });
}

#[test]
fn a_pool_shrunk_under_an_attached_buffer_costs_only_its_client() {
    // Reading past the end of a shrunk file raises SIGBUS in whoever maps it: the compositor.
    let mut comp = start();
    let mut c = Raw::connect(&socket(&comp, "attacker")).unwrap();
    let (surface, fd, buffer) = shm_window(&mut c, 256, 256);
    comp.wait_for_windows(1, Duration::from_secs(5));
    honest_client_survives(&mut comp, 1.5, || {
        rustix::fs::ftruncate(&fd, 0).unwrap();
        // Attached again, the buffer is read again (a commit of damage alone may show what the
        // compositor read before the file shrank, and read nothing).
        surface.attach(Some(&buffer), 0, 0);
        surface.damage_buffer(0, 0, 256, 256);
        surface.commit();
        let _ = c.conn.flush();
    });
    // What it shows can no longer be read: its client is cut off.
    assert!(
        c.roundtrip().is_err(),
        "a client whose buffer cannot be read must be disconnected"
    );
    attacker_gone(&comp);
    assert!(comp.run_ok(&["windows"]).lines().count() <= 1);
}

#[test]
fn bad_buffer_sizes_strides_and_offsets_are_protocol_errors() {
    let mut comp = start();
    // (offset, width, height, stride) in a pool of 64 KiB.
    let cases: &[(i32, i32, i32, i32)] = &[
        (-4, 16, 16, 64),
        (0, 0, 16, 64),
        (0, 16, -16, 64),
        (0, -16, 16, 64),
        (0, 16, 16, 60),
        (0, 16, 16, -64),
        (65536 - 64, 16, 16, 64),
        (0, i32::MAX, 1, i32::MAX),
        (0, 1 << 14, 1 << 14, 1 << 16),
        (i32::MAX, 1, 1, 4),
    ];
    let path = socket(&comp, "attacker");
    honest_client_survives(&mut comp, 1.0, || {
        for &(offset, w, h, stride) in cases {
            let mut c = Raw::connect(&path).unwrap();
            let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
            let qh = c.qh.clone();
            let pool: wl_shm_pool::WlShmPool =
                shm.create_pool(memfd(65536).as_fd(), 65536, &qh, ());
            let _buffer =
                pool.create_buffer(offset, w, h, stride, wl_shm::Format::Xrgb8888, &qh, ());
            assert!(
                c.roundtrip().is_err(),
                "buffer at {offset} of {w}x{h}, stride {stride}, was accepted"
            );
            assert!(
                c.error_on().starts_with("wl_shm"),
                "expected a wl_shm error: {}",
                c.error_on()
            );
        }
    });
    attacker_gone(&comp);
}

#[test]
fn fds_of_the_wrong_kind_where_a_pool_is_expected_are_refused() {
    let mut comp = start();
    let dir = std::fs::File::open("/").unwrap();
    let (pipe_r, _pipe_w) = rustix::pipe::pipe().unwrap();
    let (sock_a, _sock_b) = UnixStream::pair().unwrap();
    let fds: [(&str, BorrowedFd<'_>); 3] = [
        ("a directory", dir.as_fd()),
        ("a pipe", pipe_r.as_fd()),
        ("a socket", sock_a.as_fd()),
    ];
    let fds_before = client_fds(&comp);
    let path = socket(&comp, "attacker");
    honest_client_survives(&mut comp, 1.0, || {
        for (what, fd) in fds {
            let mut c = Raw::connect(&path).unwrap();
            let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
            let _pool: wl_shm_pool::WlShmPool = shm.create_pool(fd, 4096, &c.qh.clone(), ());
            assert!(c.roundtrip().is_err(), "{what} was taken as a pool");
            assert!(
                c.error_on().starts_with("wl_shm"),
                "{what}: {}",
                c.error_on()
            );
        }
    });
    attacker_gone(&comp);
    fds_came_back(&comp, fds_before, "");
}

#[test]
fn many_fds_in_one_message_are_freed_with_their_client() {
    // 200 fds ride along with each of a few syncs (as many as one sendmsg may carry): the
    // compositor keeps serving, and closes them all once the client is gone.
    let mut comp = start();
    let fds_before = client_fds(&comp);
    let file = memfd(4096);
    let many: Vec<BorrowedFd<'_>> = (0..200).map(|_| file.as_fd()).collect();
    let mut wire = Wire::connect(&socket(&comp, "attacker"));
    honest_client_survives(&mut comp, 1.0, || {
        for _ in 0..5 {
            assert!(wire.sync(&many), "the compositor hung up on 200 fds");
        }
    });
    drop(wire);
    attacker_gone(&comp);
    fds_came_back(&comp, fds_before, "");
}

#[test]
fn fds_sent_with_messages_that_take_none_do_not_pile_up() {
    // Each message may carry fds; the compositor must not keep ones no request takes.
    let mut comp = start();
    let fds_before = client_fds(&comp);
    let file = memfd(4096);
    let many: Vec<BorrowedFd<'_>> = (0..200).map(|_| file.as_fd()).collect();
    let mut wire = Wire::connect(&socket(&comp, "attacker"));
    let mut hung_up = false;
    honest_client_survives(&mut comp, 1.5, || {
        for _ in 0..2000 {
            if !wire.sync(&many) {
                hung_up = true;
                break;
            }
        }
    });
    assert!(
        client_fds(&comp) < fds_before + 256,
        "fds pile up in the compositor"
    );
    drop(wire);
    attacker_gone(&comp);
    fds_came_back(&comp, fds_before, &format!("; hung up: {hung_up}"));
}

#[test]
fn a_client_that_never_reads_is_cut_off_and_memory_stays_bounded() {
    // Every sync makes the compositor send two events; the client reads none of them.
    let mut comp = start();
    let rss_before = comp.rss_kib();
    let mut wire = Wire::connect(&socket(&comp, "attacker"));
    wire.stream.set_nonblocking(true).unwrap();
    let mut sent = 0u32;
    let mut hung_up = false;
    honest_client_survives(&mut comp, 2.0, || {
        let began = Instant::now();
        while sent < 2_000_000 && began.elapsed() < Duration::from_secs(20) {
            if wire.sync(&[]) {
                sent += 1;
            } else if matches!(
                wire.stream.peer_addr().err().map(|e| e.kind()),
                Some(std::io::ErrorKind::NotConnected)
            ) {
                hung_up = true;
                break;
            } else {
                // The compositor is not reading either: its buffer toward us is full, or ours
                // toward it. Give it a moment.
                std::thread::sleep(Duration::from_millis(1));
                if began.elapsed() > Duration::from_secs(3) {
                    break;
                }
            }
        }
    });
    attacker_gone(&comp);
    let rss = comp.rss_kib();
    assert!(
        rss < rss_before + 16 * 1024,
        "RSS grew from {rss_before} KiB to {rss} KiB after {sent} unread syncs (hung up: {hung_up})"
    );
}

/// Flushes what `c` queued, waiting while the compositor's side of the socket is full. Returns
/// false once the connection is gone.
fn flush(c: &Raw) -> bool {
    let began = Instant::now();
    loop {
        match c.conn.flush() {
            Ok(()) => return true,
            Err(wayland_client::backend::WaylandError::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    && began.elapsed() < Duration::from_secs(10) =>
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => return false,
        }
    }
}

/// Sends `n` rounds of `round` as fast as the compositor reads them, in batches small enough
/// for the client library's buffer. Returns how many rounds went out before the connection was
/// cut.
fn flood(c: &Raw, n: usize, mut round: impl FnMut()) -> usize {
    for i in 0..n {
        round();
        if i % 32 == 31 && !flush(c) {
            return i + 1;
        }
    }
    flush(c);
    n
}

/// Builds a subsurface tree under a mapped window with `attach` (child, parent of the chain so
/// far) and checks that the client is cut off for `reason` while other containers keep drawing.
fn subsurface_attack(nested: bool, reason: &str) {
    let mut comp = start();
    let rss_before = comp.rss_kib();
    let mut c = Raw::connect(&socket(&comp, "attacker")).unwrap();
    let (root, _fd, _buffer) = shm_window(&mut c, 64, 64);
    let compositor: wl_compositor::WlCompositor = c.bind("wl_compositor", 4);
    let sub: wl_subcompositor::WlSubcompositor = c.bind("wl_subcompositor", 1);
    let qh = c.qh.clone();
    let mut sent = 0;
    honest_client_survives(&mut comp, 2.0, || {
        let mut parent = root.clone();
        sent = flood(&c, 5000, || {
            let child = compositor.create_surface(&qh, ());
            let _ = sub.get_subsurface(&child, &parent, &qh, ());
            child.commit();
            if nested {
                parent = child;
            }
        });
        root.commit();
        flush(&c);
    });
    assert!(c.roundtrip().is_err(), "served after {sent} subsurfaces");
    assert_disconnected_because(&comp, &c, reason);
    drop(c);
    attacker_gone(&comp);
    memory_came_back(&comp, rss_before);
}

#[test]
fn subsurfaces_nested_thousands_deep_cost_only_their_client() {
    subsurface_attack(true, "subsurfaces nested more than 32 deep");
}

#[test]
fn thousands_of_subsurfaces_in_one_window_cost_only_their_client() {
    subsurface_attack(false, "more than 256 subsurfaces in one window");
}

/// In a checkpointable container the bridge serves the container's native clients and forwards
/// their subsurface trees: it holds them to the compositor's limits itself, so that the attacker
/// is cut off, not the bridge with the whole container.
/// The pid of checkpointable container `name`'s bridge.
fn bridge(comp: &Compositor, name: &str) -> Option<u64> {
    let json = comp.run_ok(&["containers", "--json"]);
    let containers: serde_json::Value = serde_json::from_str(&json).ok()?;
    containers.as_array()?.iter().find(|c| c["name"] == name)?["bridge_pid"].as_u64()
}

/// Starts checkpointable container `name` running weston-simple-shm; returns its bridge's pid
/// and weston-simple-shm's window.
fn checkpointable_with_shm(comp: &mut Compositor, name: &str) -> (u64, WindowInfo) {
    comp.run_ok(&["container", "add", name]);
    let out = comp.run(&[
        "run",
        "--checkpointable",
        name,
        "--",
        "sh",
        "-c",
        "weston-simple-shm; sleep 3600",
    ]);
    assert!(
        out.status.success(),
        "porthole run --checkpointable failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = bridge(comp, name).expect("the bridge reports its pid");
    let shm = poll(
        Duration::from_secs(30),
        "weston-simple-shm's window",
        || {
            comp.windows()
                .into_iter()
                .find(|w| w.container == name && w.title == "simple-shm")
                .ok_or_else(|| "not yet".to_string())
        },
    );
    (pid, shm)
}

/// A client of the bridge of the checkpointable container whose bridge is `pid`.
fn bridge_client(pid: u64) -> Raw {
    let socket = format!("/proc/{pid}/root/run/porthole/wayland-0");
    Raw::connect(std::path::Path::new(&socket)).unwrap()
}

#[test]
fn a_checkpointable_containers_bridge_cuts_off_a_subsurface_attacker() {
    let mut comp = start();
    let (pid, shm) = checkpointable_with_shm(&mut comp, "cka");
    let _sandbox = Sandbox::new(pid as u32);

    // The attacker connects to the bridge's socket inside the sandbox.
    let mut c = bridge_client(pid);
    let (root, _fd, _buffer) = shm_window(&mut c, 64, 64);
    let compositor: wl_compositor::WlCompositor = c.bind("wl_compositor", 4);
    let sub: wl_subcompositor::WlSubcompositor = c.bind("wl_subcompositor", 1);
    let qh = c.qh.clone();
    let sent = flood(&c, 1000, || {
        let child = compositor.create_surface(&qh, ());
        let _ = sub.get_subsurface(&child, &root, &qh, ());
        child.commit();
    });
    root.commit();
    flush(&c);
    assert!(c.roundtrip().is_err(), "served after {sent} subsurfaces");

    // The bridge, its connection and weston-simple-shm's frames go on.
    assert_eq!(bridge(&comp, "cka"), Some(pid), "the bridge still runs");
    draws_on(&mut comp, &shm);
}

/// weston-simple-shm's window shows a new frame within 10 s.
fn draws_on(comp: &mut Compositor, shm: &WindowInfo) {
    let first = comp.screenshot().region(shm.geometry);
    poll(
        Duration::from_secs(10),
        "weston-simple-shm's next frame",
        || {
            if comp.screenshot().region(shm.geometry) != first {
                Ok(())
            } else {
                Err("the same picture".to_string())
            }
        },
    );
}

#[test]
fn a_bridged_client_cannot_shrink_the_memory_it_shares_and_one_that_can_costs_only_itself() {
    // The bridge passes a client's pool file on to the compositor, which would be hit by
    // SIGBUS reading past the end of a shrunk one and cut the bridge off, with every window of
    // the container.
    let mut comp = start();
    let (pid, shm) = checkpointable_with_shm(&mut comp, "ckm");
    let _sandbox = Sandbox::new(pid as u32);

    // A file that allows sealing is sealed against shrinking before it is passed on.
    let mut c = bridge_client(pid);
    let (surface, _fd, _buffer) = shm_window(&mut c, 64, 64);
    let shm_global: wl_shm::WlShm = c.bind("wl_shm", 1);
    let size = 64 * 64 * 4;
    let sealable = rustix::fs::memfd_create(
        "porthole-test-sealable",
        rustix::fs::MemfdFlags::CLOEXEC | rustix::fs::MemfdFlags::ALLOW_SEALING,
    )
    .unwrap();
    rustix::fs::ftruncate(&sealable, size).unwrap();
    let qh = c.qh.clone();
    let pool = shm_global.create_pool(sealable.as_fd(), size as i32, &qh, ());
    let buffer = pool.create_buffer(0, 64, 64, 256, wl_shm::Format::Xrgb8888, &qh, ());
    surface.attach(Some(&buffer), 0, 0);
    surface.damage_buffer(0, 0, 64, 64);
    surface.commit();
    c.roundtrip().unwrap();
    assert_eq!(
        rustix::fs::ftruncate(&sealable, 0),
        Err(rustix::io::Errno::PERM),
        "the bridge sealed the file against shrinking"
    );
    surface.attach(Some(&buffer), 0, 0);
    surface.damage_buffer(0, 0, 64, 64);
    surface.commit();
    c.roundtrip().expect("the client is served on");

    // A file that cannot be sealed is copied, not passed on: shrunk, it costs its client only.
    let mut c = bridge_client(pid);
    let (surface, fd, buffer) = shm_window(&mut c, 64, 64);
    rustix::fs::ftruncate(&fd, 0).unwrap();
    surface.attach(Some(&buffer), 0, 0);
    surface.damage_buffer(0, 0, 64, 64);
    surface.commit();
    flush(&c);
    poll(Duration::from_secs(5), "the client cut off", || {
        match c.roundtrip() {
            Err(_) => Ok(()),
            Ok(_) => Err("still served".to_string()),
        }
    });
    assert_eq!(bridge(&comp, "ckm"), Some(pid), "the bridge still runs");
    let window = comp.window(shm.id);
    assert!(
        window.as_ref().is_some_and(|w| !w.reconnecting),
        "weston-simple-shm's window stays, its bridge connected: {window:?}"
    );
    draws_on(&mut comp, &shm);
}

#[test]
fn a_bridged_client_over_a_limit_costs_only_itself_not_the_other_windows_of_its_container() {
    // The bridge passes every client's windows on over one connection, which the compositor's
    // error for a window past the container's limit ends for all. Reconnecting then forwarded
    // the same windows and met the same error, over and over (hundreds of times in a few
    // seconds, with no window shown); the client the error names pays for it instead.
    let config = "[container.tiny]\nx11 = false\n[container.tiny.limits]\ntoplevels = 2\n";
    let mut comp = Compositor::start_with_config(1280, 720, config);
    let script = "for n in 1 2; do weston-simple-shm & sleep 1; done
        weston-simple-shm; touch /run/porthole-host/third; sleep 600";
    comp.spawn_client(
        PORTHOLE,
        &["run", "--bridged", "tiny", "--", "sh", "-c", script],
    );
    let dir = comp.dir().join("porthole/tiny");
    // It would draw on for ever; cut off, it ends (with status 0: it says so only on stderr).
    poll(
        Duration::from_secs(30),
        "the third client to be cut off",
        || std::fs::read_to_string(dir.join("third")).map_err(|e| e.to_string()),
    );
    let live = |comp: &Compositor| -> Vec<WindowInfo> {
        comp.windows()
            .into_iter()
            .filter(|w| w.container == "tiny" && !w.reconnecting)
            .collect()
    };
    let two = poll(
        Duration::from_secs(30),
        "the first two windows, live",
        || {
            let windows = live(&comp);
            (windows.len() == 2)
                .then(|| windows.clone())
                .ok_or(format!("{windows:?}"))
        },
    );
    // No storm: the limit was hit once, and the two windows stay.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(comp.log().matches("quota hit").count(), 1, "{}", comp.log());
    let ids = |w: &[WindowInfo]| w.iter().map(|w| w.id).collect::<Vec<_>>();
    assert_eq!(ids(&live(&comp)), ids(&two));
    draws_on(&mut comp, &two[0]);
    draws_on(&mut comp, &two[1]);
}

#[test]
fn a_client_cycling_through_cursor_surfaces_sees_each_shown() {
    let mut comp = start();
    let (pid, _shm) = checkpointable_with_shm(&mut comp, "ckc");
    let _sandbox = Sandbox::new(pid as u32);
    let mut c = bridge_client(pid);
    let (_root, _fd, _buffer) = shm_window(&mut c, 200, 200);
    let mine = poll(Duration::from_secs(30), "the client's window", || {
        comp.windows()
            .into_iter()
            .find(|w| w.container == "ckc" && w.title != "simple-shm")
            .ok_or_else(|| "not yet".to_string())
    });
    let seat: wl_seat::WlSeat = c.bind("wl_seat", 5);
    let qh = c.qh.clone();
    let pointer = seat.get_pointer(&qh, ());
    c.roundtrip().unwrap();
    let (x, y) = (mine.geometry.x + 100, mine.geometry.y + 100);
    comp.run_ok(&["input", "move", &x.to_string(), &y.to_string()]);
    let serial = poll(Duration::from_secs(10), "the pointer's enter", || {
        c.roundtrip()?;
        c.data
            .pointer_enter_serial
            .ok_or_else(|| "no enter yet".to_string())
    });

    // 70 cursor surfaces of 16x16, each its own colour, each set in turn: the bridge keeps host
    // surfaces for a few, copies of the frames of others, and nothing of the oldest beyond 64.
    let n = 70;
    let colour = |i: u8| [i * 3, 255 - i * 3, 0x40, 0xff];
    let size = 16 * 16 * 4;
    let fd = memfd((size * n) as u64);
    let mut file = std::fs::File::from(fd.try_clone().unwrap());
    for i in 0..n {
        let [r, g, b, a] = colour(i as u8);
        file.write_all(&[b, g, r, a].repeat(16 * 16)).unwrap();
    }
    let compositor: wl_compositor::WlCompositor = c.bind("wl_compositor", 4);
    let shm: wl_shm::WlShm = c.bind("wl_shm", 1);
    let pool: wl_shm_pool::WlShmPool = shm.create_pool(fd.as_fd(), size * n, &qh, ());
    let draw = |surface: &wl_surface::WlSurface, buffer: &wl_buffer::WlBuffer| {
        surface.attach(Some(buffer), 0, 0);
        surface.damage_buffer(0, 0, 16, 16);
        surface.commit();
    };
    let (surfaces, buffers): (Vec<wl_surface::WlSurface>, Vec<wl_buffer::WlBuffer>) = (0..n)
        .map(|i| {
            let surface = compositor.create_surface(&qh, ());
            let buffer =
                pool.create_buffer(i * size, 16, 16, 64, wl_shm::Format::Argb8888, &qh, ());
            draw(&surface, &buffer);
            (surface, buffer)
        })
        .unzip();
    let shows = |comp: &mut Compositor, c: &mut Raw, i: usize| {
        pointer.set_cursor(serial, Some(&surfaces[i]), 0, 0);
        c.roundtrip().unwrap();
        poll(Duration::from_secs(10), &format!("cursor {i}"), || {
            let seen = comp.screenshot_with(&["--cursor"]).pixel(x + 4, y + 4);
            if seen == colour(i as u8) {
                Ok(())
            } else {
                Err(format!("{seen:?}"))
            }
        });
    };
    for surface in &surfaces {
        pointer.set_cursor(serial, Some(surface), 0, 0);
    }
    c.roundtrip().unwrap();
    shows(&mut comp, &mut c, n as usize - 1);
    // This one gave its host surface up long ago: its frame comes from the bridge's copy.
    shows(&mut comp, &mut c, 20);
    // The first is forgotten; drawn again, it shows.
    draw(&surfaces[0], &buffers[0]);
    shows(&mut comp, &mut c, 0);
    assert_eq!(bridge(&comp, "ckc"), Some(pid), "the bridge still runs");
}

#[test]
fn a_flood_of_sessions_is_served_and_stored_within_bounds() {
    use porthole_protocols::session::client::xdg_session_manager_v1::{
        Reason, XdgSessionManagerV1,
    };
    // 20,000 sessions asked for, half of them kept in use: each is served, the compositor's
    // memory comes back, other containers keep drawing, and the container's sessions file
    // keeps at most 64 (stored a moment later, not once per request).
    let mut comp = start();
    let rss_before = comp.rss_kib();
    let mut c = Raw::connect(&socket(&comp, "attacker")).unwrap();
    let manager: XdgSessionManagerV1 = c.bind("xdg_session_manager_v1", 1);
    let qh = c.qh.clone();
    let mut kept = Vec::new();
    honest_client_survives(&mut comp, 2.0, || {
        // In batches, reading the replies (a client that never reads is cut off).
        for _ in 0..200 {
            for i in 0..100 {
                let session = manager.get_session(Reason::Launch, None, &qh, ());
                if i % 2 == 0 {
                    session.destroy();
                } else {
                    kept.push(session);
                }
            }
            c.roundtrip().expect("served");
        }
    });
    let file = comp
        .dir()
        .join("home/.local/state/porthole/sessions/attacker.json");
    let stored = poll(Duration::from_secs(5), "the sessions file", || {
        let text = std::fs::read(&file).map_err(|e| e.to_string())?;
        let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        json["sessions"]
            .as_object()
            .map(|s| s.len())
            .ok_or_else(|| "no sessions".to_string())
    });
    assert!(stored <= 64, "{stored} sessions stored");
    drop(kept);
    drop(c);
    attacker_gone(&comp);
    memory_came_back(&comp, rss_before);
}

#[test]
fn a_commit_flood_does_not_starve_other_containers() {
    let mut comp = start();
    let mut c = Raw::connect(&socket(&comp, "attacker")).unwrap();
    let (surface, _fd, _buffer) = shm_window(&mut c, 64, 64);
    let mut sent = 0;
    honest_client_survives(&mut comp, 2.0, || {
        sent = flood(&c, 100_000, || {
            surface.damage_buffer(0, 0, 64, 64);
            surface.commit();
        });
    });
    // Committing is allowed: the attacker is still served, and its window still listed.
    assert_eq!(sent, 100_000);
    c.roundtrip().unwrap();
    assert_eq!(comp.windows().len(), 1);
}
