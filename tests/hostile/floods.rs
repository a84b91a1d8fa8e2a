//! Floods from one container while an honest client of another draws: regions, subsurface-free
//! surfaces by the ten thousand, Porthole's own protocols. Each request costs O(1) or O(the
//! client's own objects), so the honest client keeps drawing throughout.

use std::path::PathBuf;

use wayland_client::protocol::wl_region;

use super::bounds::{beside_honest, rss_came_back, start_measured};
use super::*;
use Arg::Word;

/// The attacker's container has X11, so it is offered porthole_x11_v1 and porthole_bridge_v1.
const X11_CONFIG: &str = r##"
[container.attacker]
color = "#cc0000"
x11 = true

[container.honest]
color = "#3465a4"
x11 = false
"##;

#[test]
fn a_window_flooding_opaque_and_input_regions_costs_only_its_client() {
    let mut comp = Compositor::alone_with_config(1280, 720, super::CONFIG);
    let path = socket(&comp, "attacker");
    let commits = beside_honest(&mut comp, 3.0, move || {
        let mut c = Raw::connect(&path).unwrap();
        let (surface, _file, buffer) = shm_window(&mut c, 256, 256);
        let compositor: wl_compositor::WlCompositor = c.bind("wl_compositor", 4);
        let region: wl_region::WlRegion = compositor.create_region(&c.qh, ());
        // As many rectangles as a region may have.
        for i in 0..1024 {
            region.add(i % 256, i / 4, 1, 1);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut commits = 0;
        while Instant::now() < deadline {
            for _ in 0..100 {
                surface.set_opaque_region(Some(&region));
                surface.set_input_region(Some(&region));
                surface.attach(Some(&buffer), 0, 0);
                surface.damage_buffer(0, 0, 256, 256);
                surface.commit();
                commits += 1;
            }
            c.roundtrip().expect("regions within the limit are served");
        }
        commits
    });
    assert!(commits > 1000, "only {commits} commits");
}

#[test]
fn thousands_of_surfaces_made_and_dropped_cost_only_their_client() {
    // As many surfaces as the container may have, made and dropped again and again.
    let (mut comp, rss_before) = start_measured(CONFIG);
    let path = socket(&comp, "attacker");
    let rounds = beside_honest(&mut comp, 3.0, move || {
        rounds_of(path, 3, |w| {
            let compositor = w.bind("wl_compositor", 4);
            for _ in 0..2048 {
                let id = w.new_id();
                w.queue(compositor, 0, &[Word(id)]);
            }
        })
    });
    assert!(rounds >= 2, "{rounds} rounds");
    attacker_gone(&comp);
    rss_came_back(&comp, rss_before);
}

/// Sends what `make` writes on fresh connections, one after the other, until `seconds` pass;
/// returns how many rounds went through.
fn rounds_of(path: PathBuf, seconds: u64, make: fn(&mut Wire)) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rounds = 0;
    while Instant::now() < deadline {
        let mut w = Wire::connect(&path);
        make(&mut w);
        assert!(w.roundtrip(), "{:?}", w.seen.error);
        rounds += 1;
    }
    rounds
}

#[test]
fn twelve_thousand_x11_toplevels_followed_cost_only_their_client() {
    let mut comp = Compositor::alone_with_config(1280, 720, X11_CONFIG);
    let path = socket(&comp, "attacker");
    let rounds = beside_honest(&mut comp, 3.0, move || {
        rounds_of(path, 3, |w| {
            // 12,000 requests: 2,000 surfaces followed, let go and followed again, six times.
            let compositor = w.bind("wl_compositor", 4);
            let manager = w.bind("porthole_x11_manager_v1", 1);
            let surfaces: Vec<u32> = (0..2000)
                .map(|_| {
                    let surface = w.new_id();
                    w.queue(compositor, 0, &[Word(surface)]);
                    surface
                })
                .collect();
            for round in 0..6 {
                for &surface in &surfaces {
                    let toplevel = w.new_id();
                    w.queue(manager, 1, &[Word(toplevel), Word(surface)]);
                    if round < 5 {
                        w.queue(toplevel, 0, &[]);
                    }
                }
            }
        })
    });
    assert!(rounds >= 1);
    // Following a surface twice is an error.
    let mut w = Wire::connect(&socket(&comp, "attacker"));
    let compositor = w.bind("wl_compositor", 4);
    let manager = w.bind("porthole_x11_manager_v1", 1);
    let surface = w.new_id();
    w.queue(compositor, 0, &[Word(surface)]);
    for _ in 0..2 {
        let toplevel = w.new_id();
        w.queue(manager, 1, &[Word(toplevel), Word(surface)]);
    }
    w.wait_for_hang_up();
    let error = w.seen.error.expect("already_followed");
    assert_eq!((error.object, error.code), (manager, 0), "{error:?}");
}

#[test]
fn twelve_thousand_bridge_binds_cost_only_their_client() {
    let mut comp = Compositor::alone_with_config(1280, 720, X11_CONFIG);
    let path = socket(&comp, "attacker");
    let rounds = beside_honest(&mut comp, 3.0, move || {
        rounds_of(path, 3, |w| {
            for _ in 0..12_000 {
                w.bind("porthole_bridge_v1", 1);
            }
        })
    });
    assert!(rounds >= 1);
}
