//! Each bound of `[container.NAME.limits]` that stops a client from making the compositor hold
//! without end: the bound is hit, the client gets the protocol error that names it, an honest
//! client of another container keeps drawing meanwhile, and once the attacker is gone
//! the compositor's memory is back within 1 MiB of where it was.

use std::os::fd::AsFd;

use super::*;
use Arg::{Str, Word};

/// Frames a second the honest client must keep while another container attacks, on a 60 Hz
/// output. Each attack of issue 18 took it to 0. The tests that hold it to this start their
/// compositor alone on the machine ([`Compositor::alone_with_config`]): beside the rest of the
/// suite on CI's two cores, one got 54.
const FPS: f64 = 55.0;

/// Runs `attack` on a thread of its own while the honest client draws for `seconds`, checks
/// that the honest client kept [`FPS`], and returns what the attack returned.
pub(super) fn beside_honest<T: Send + 'static>(
    comp: &mut Compositor,
    seconds: f64,
    attack: impl FnOnce() -> T + Send + 'static,
) -> T {
    let attacker = std::thread::spawn(attack);
    let frames = frames_during(
        &socket(comp, "honest"),
        Duration::from_secs_f64(seconds),
        || {},
    );
    let result = attacker.join().expect("the attack panicked");
    let floor = (seconds * FPS) as u32;
    assert!(
        frames >= floor,
        "the honest client got {frames} frames in {seconds} s (wanted at least {floor})"
    );
    assert!(comp.is_running(), "the compositor died");
    result
}

/// Waits for the compositor's RSS to come back within 1 MiB of `before` (it gives memory back
/// half a second after a client leaves).
pub(super) fn rss_came_back(comp: &Compositor, before: u64) {
    poll(Duration::from_secs(5), "RSS back within 1 MiB", || {
        let rss = comp.rss_kib();
        if rss <= before + 1024 {
            Ok(())
        } else {
            Err(format!("{rss} KiB, {before} KiB before"))
        }
    });
}

/// The attacker's error names `limit`, and is on `object` with code 2 (no_memory).
fn assert_over(error: Option<WireError>, object: u32, limit: &str) {
    let error = error.unwrap_or_else(|| panic!("no protocol error for `{limit}`"));
    assert_eq!((error.object, error.code), (object, 2), "{error:?}");
    assert!(error.message.contains(&format!("`{limit}`")), "{error:?}");
}

/// Starts the compositor, with the honest client's first frames already drawn once so that the
/// baseline includes what serving it costs.
pub(super) fn start_measured(config: &str) -> (Compositor, u64) {
    let mut comp = Compositor::alone_with_config(1280, 720, config);
    frames_during(&socket(&comp, "honest"), Duration::from_millis(300), || {});
    comp.wait_for_clients("honest", 0);
    std::thread::sleep(Duration::from_millis(700));
    let rss = comp.rss_kib();
    assert!(comp.is_running());
    (comp, rss)
}

#[test]
fn a_client_past_its_objects_is_cut_off_and_leaves_nothing_behind() {
    // The default limit, 50,000 objects: regions are the cheapest to make.
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let error = beside_honest(&mut comp, 2.0, move || {
        let mut w = Wire::connect(&path);
        let compositor = w.bind("wl_compositor", 4);
        for _ in 0..50_010 {
            let id = w.new_id();
            w.queue(compositor, 1, &[Word(id)]);
        }
        w.wait_for_hang_up();
        w.seen.error
    });
    assert_over(error, 1, "objects_per_client");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn a_container_past_its_surfaces_is_cut_off() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let (compositor, error) = beside_honest(&mut comp, 1.0, move || {
        let mut w = Wire::connect(&path);
        let compositor = w.bind("wl_compositor", 4);
        for _ in 0..2049 {
            let id = w.new_id();
            w.queue(compositor, 0, &[Word(id)]);
        }
        w.wait_for_hang_up();
        (compositor, w.seen.error)
    });
    assert_over(error, compositor, "surfaces");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn a_containers_clients_together_are_bounded_too() {
    let config = format!("{CONFIG}\n[container.attacker.limits]\nobjects = 3000\n");
    let (mut comp, rss_before) = start_measured(&config);
    let path = socket(&comp, "attacker");
    let (error, first) = beside_honest(&mut comp, 1.0, move || {
        let mut first = Wire::connect(&path);
        let compositor = first.bind("wl_compositor", 4);
        for _ in 0..1500 {
            let id = first.new_id();
            first.queue(compositor, 1, &[Word(id)]);
        }
        assert!(first.roundtrip(), "1,500 objects are allowed");
        let mut second = Wire::connect(&path);
        let compositor = second.bind("wl_compositor", 4);
        for _ in 0..1600 {
            let id = second.new_id();
            second.queue(compositor, 1, &[Word(id)]);
        }
        second.wait_for_hang_up();
        assert!(first.roundtrip(), "the first client is still served");
        (second.seen.error, first)
    });
    assert_over(error, 1, "objects");
    comp.wait_for_clients("attacker", 1);
    drop(first);
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn a_region_of_too_many_rectangles_is_a_protocol_error() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let (region, error) = beside_honest(&mut comp, 1.0, move || {
        let mut w = Wire::connect(&path);
        let compositor = w.bind("wl_compositor", 4);
        let region = w.new_id();
        w.queue(compositor, 1, &[Word(region)]);
        for i in 0..1025 {
            w.queue(region, 1, &[Word(i), Word(0), Word(1), Word(1)]);
        }
        w.wait_for_hang_up();
        (region, w.seen.error)
    });
    assert_over(error, region, "region_rects");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn more_frame_callbacks_in_one_commit_than_allowed_is_a_protocol_error() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let (surface, error) = beside_honest(&mut comp, 1.0, move || {
        let mut w = Wire::connect(&path);
        let compositor = w.bind("wl_compositor", 4);
        let surface = w.new_id();
        w.queue(compositor, 0, &[Word(surface)]);
        // 16 are allowed in one commit, and again after it.
        for _ in 0..16 {
            let id = w.new_id();
            w.queue(surface, 3, &[Word(id)]);
        }
        w.queue(surface, 6, &[]);
        assert!(w.roundtrip(), "{:?}", w.seen.error);
        for _ in 0..17 {
            let id = w.new_id();
            w.queue(surface, 3, &[Word(id)]);
        }
        w.wait_for_hang_up();
        (surface, w.seen.error)
    });
    assert_over(error, surface, "frame_callbacks");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn mime_types_are_bounded_in_number_and_length() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let errors = beside_honest(&mut comp, 1.0, move || {
        let mut errors = Vec::new();
        for (count, length) in [(129, 10), (1, 1025)] {
            let mut w = Wire::connect(&path);
            let manager = w.bind("wl_data_device_manager", 3);
            let source = w.new_id();
            w.queue(manager, 0, &[Word(source)]);
            for i in 0..count {
                let mime = format!("{i:0length$}");
                w.queue(source, 0, &[Str(Some(&mime))]);
            }
            w.wait_for_hang_up();
            errors.push((source, w.seen.error));
        }
        errors
    });
    let mut errors = errors.into_iter();
    let (source, error) = errors.next().unwrap();
    assert_over(error, source, "mime_types");
    let (source, error) = errors.next().unwrap();
    assert_over(error, source, "mime_type_bytes");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

#[test]
fn shm_pools_are_bounded_and_their_fds_closed() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let fds_before = super::client_fds(&comp);
    let path = socket(&comp, "attacker");
    let (shm, error) = beside_honest(&mut comp, 1.0, move || {
        let file = memfd(4096);
        let mut w = Wire::connect(&path);
        let shm = w.bind("wl_shm", 1);
        for _ in 0..257 {
            let id = w.new_id();
            if !w.send(shm, 0, &[Word(id), Word(4096)], &[file.as_fd()]) {
                break;
            }
        }
        w.wait_for_hang_up();
        (shm, w.seen.error)
    });
    assert_over(error, shm, "shm_pools");
    attacker_gone(&comp);
    fds_came_back(&comp, fds_before, "");
    rss_came_back(&comp, rss_before);
}

#[test]
fn a_flood_of_damage_is_merged_and_holds_no_memory() {
    // 100,000 damage rectangles per commit: served (merged into one), memory flat.
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let served = beside_honest(&mut comp, 3.0, move || {
        let mut w = Wire::connect(&path);
        let compositor = w.bind("wl_compositor", 4);
        let surface = w.new_id();
        w.queue(compositor, 0, &[Word(surface)]);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            for i in 0..100_000 {
                w.queue(surface, 9, &[Word(i % 64), Word(i % 64), Word(1), Word(1)]);
            }
            w.queue(surface, 6, &[]);
            if !w.roundtrip() {
                return false;
            }
        }
        true
    });
    assert!(served, "damage is allowed");
    let rss = comp.rss_kib();
    assert!(
        rss <= rss_before + 4 * 1024,
        "RSS grew from {rss_before} to {rss} KiB under a damage flood"
    );
}

#[test]
fn the_fd_table_filled_from_one_container_leaves_room_for_others_and_the_control_socket() {
    // 25 fds ride along with each wl_display.sync; the attacker opens as many clients as it
    // may and sends until each is cut off (libwayland holds at most 1,024 per client). The
    // compositor's limit is lowered to 4,096 so that the table can be filled.
    let (comp, _) = start_measured(CONFIG);
    let limit = std::process::Command::new("prlimit")
        .args(["--pid", &comp.pid().to_string(), "--nofile=4096:4096"])
        .status()
        .expect("prlimit (util-linux)");
    assert!(limit.success());
    std::thread::sleep(Duration::from_millis(200));
    let fds_before = super::client_fds(&comp);
    let file = memfd(4096);
    let many: Vec<BorrowedFd<'_>> = (0..25).map(|_| file.as_fd()).collect();
    let mut attackers = Vec::new();
    for _ in 0..32 {
        let mut w = Wire::connect(&socket(&comp, "attacker"));
        for _ in 0..40 {
            if !w.sync(&many) {
                break;
            }
        }
        // Read by the compositor, not left in the socket.
        w.roundtrip();
        attackers.push(w);
    }
    let held = super::client_fds(&comp);
    assert!(
        held > 2048,
        "the attack held only {held} fds ({fds_before} before): the test did not fill the table"
    );
    assert!(held < 4096, "the table is full: {held}");
    // A new client of another container connects and gets its globals.
    let mut honest = Wire::connect(&socket(&comp, "honest"));
    honest.registry();
    assert!(
        honest
            .seen
            .globals
            .iter()
            .any(|(_, i, _)| i == "wl_compositor"),
        "{:?}",
        honest.seen
    );
    // The person can still see and act.
    comp.run_ok(&["windows"]);
    assert!(comp.log().contains("quota hit"), "the refusals are logged");
    drop(attackers);
    drop(honest);
    attacker_gone(&comp);
    fds_came_back(&comp, fds_before, "");
}

/// A toplevel made with a fresh xdg_wm_base of version 3, given its initial configure and
/// acknowledging it; returns (wm_base, xdg_surface, toplevel).
fn configured_toplevel(w: &mut Wire) -> (u32, u32, u32) {
    let compositor = w.bind("wl_compositor", 4);
    let wm = w.bind("xdg_wm_base", 3);
    let surface = w.new_id();
    w.queue(compositor, 0, &[Word(surface)]);
    let xdg = w.new_id();
    w.queue(wm, 2, &[Word(xdg), Word(surface)]);
    let top = w.new_id();
    w.queue(xdg, 1, &[Word(top)]);
    w.queue(surface, 6, &[]);
    assert!(w.roundtrip());
    let serial = w.seen.serials[&xdg];
    w.queue(xdg, 4, &[Word(serial)]);
    (wm, xdg, top)
}

#[test]
fn a_toplevel_that_never_acknowledges_gets_its_changes_merged_into_one_configure() {
    let (mut comp, _) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let (during, after, connected) = beside_honest(&mut comp, 1.0, move || {
        let mut w = Wire::connect(&path);
        let (_, xdg, top) = configured_toplevel(&mut w);
        let configures = |w: &Wire| w.seen.events.get(&(xdg, 0)).copied().unwrap_or(0);
        let before = configures(&w);
        // set_maximized and unset_maximized, 10,000 times each, ending maximized: each one is
        // a change of state for the compositor to configure.
        for _ in 0..10_000 {
            w.queue(top, 9, &[]);
            w.queue(top, 10, &[]);
        }
        w.queue(top, 9, &[]);
        assert!(w.roundtrip());
        let during = configures(&w) - before;
        // Acknowledging the last one brings the state held back since, as one configure.
        let serial = w.seen.serials[&xdg];
        w.queue(xdg, 4, &[Word(serial)]);
        assert!(w.roundtrip());
        (during, configures(&w) - before - during, !w.seen.hung_up)
    });
    assert_eq!(during, 16, "configures sent without an acknowledgement");
    assert_eq!(after, 1, "configures after the acknowledgement");
    assert!(connected, "a slow client is not cut off");
    assert!(comp.is_running());
}

#[test]
fn a_popup_repositioned_again_and_again_without_acknowledging_is_cut_off() {
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let (popup, error) = beside_honest(&mut comp, 1.0, move || {
        let mut w = Wire::connect(&path);
        let (wm, xdg, _) = configured_toplevel(&mut w);
        let positioner = w.new_id();
        w.queue(wm, 1, &[Word(positioner)]);
        w.queue(positioner, 1, &[Word(50), Word(50)]);
        w.queue(positioner, 2, &[Word(0), Word(0), Word(10), Word(10)]);
        let compositor = w.bind("wl_compositor", 4);
        let surface = w.new_id();
        w.queue(compositor, 0, &[Word(surface)]);
        let popup_xdg = w.new_id();
        w.queue(wm, 2, &[Word(popup_xdg), Word(surface)]);
        let popup = w.new_id();
        w.queue(popup_xdg, 2, &[Word(popup), Word(xdg), Word(positioner)]);
        w.queue(surface, 6, &[]);
        for token in 0..10_000 {
            w.queue(popup, 2, &[Word(positioner), Word(token)]);
        }
        w.wait_for_hang_up();
        (popup, w.seen.error)
    });
    assert_over(error, popup, "pending_configures");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}
