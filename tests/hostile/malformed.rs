//! Malformed requests: a null where the protocol wants a string or an object, an fd missing, a
//! string without its NUL, an object or opcode that does not exist, a size that lies. The
//! server's parser (libwayland's) refuses each with a protocol error before Porthole's code sees
//! it. The attacker is cut off and leaves its container, the compositor goes on, and an honest
//! client of another container keeps its frame rate throughout.

use super::*;
use Arg::{Str, Unterminated, Word};

/// compositor.create_surface, then an xdg_toplevel for it; returns (surface, toplevel).
fn toplevel(w: &mut Wire) -> (u32, u32) {
    let compositor = w.bind("wl_compositor", 4);
    let wm = w.bind("xdg_wm_base", 1);
    let surface = w.new_id();
    w.send(compositor, 0, &[Word(surface)], &[]);
    let xdg = w.new_id();
    w.send(wm, 2, &[Word(xdg), Word(surface)], &[]);
    let top = w.new_id();
    w.send(xdg, 1, &[Word(top)], &[]);
    (surface, top)
}

/// Makes the objects a case needs on a fresh connection, then sends one malformed request.
type Send = fn(&mut Wire);

/// Each case, and what it sends.
const CASES: &[(&str, Send)] = &[
    ("wl_registry.bind with a null interface", |w| {
        let registry = w.registry();
        let id = w.new_id();
        w.send(registry, 0, &[Word(1), Str(None), Word(1), Word(id)], &[]);
    }),
    ("xdg_toplevel.set_title(null)", |w| {
        let (_, top) = toplevel(w);
        w.send(top, 2, &[Str(None)], &[]);
    }),
    ("xdg_toplevel.set_app_id(null)", |w| {
        let (_, top) = toplevel(w);
        w.send(top, 3, &[Str(None)], &[]);
    }),
    ("xdg_toplevel.set_title without its NUL", |w| {
        let (_, top) = toplevel(w);
        w.send(top, 2, &[Unterminated(b"abcd")], &[]);
    }),
    ("xdg_wm_base.get_xdg_surface of a null surface", |w| {
        let wm = w.bind("xdg_wm_base", 1);
        let id = w.new_id();
        w.send(wm, 2, &[Word(id), Word(0)], &[]);
    }),
    ("wl_subcompositor.get_subsurface of null surfaces", |w| {
        let sub = w.bind("wl_subcompositor", 1);
        let id = w.new_id();
        w.send(sub, 1, &[Word(id), Word(0), Word(0)], &[]);
    }),
    ("wl_data_source.offer(null)", |w| {
        let manager = w.bind("wl_data_device_manager", 3);
        let source = w.new_id();
        w.send(manager, 0, &[Word(source)], &[]);
        w.send(source, 0, &[Str(None)], &[]);
    }),
    ("wl_shm.create_pool without its fd", |w| {
        let shm = w.bind("wl_shm", 1);
        let id = w.new_id();
        w.send(shm, 0, &[Word(id), Word(4096)], &[]);
    }),
    ("wl_surface.attach of a buffer that does not exist", |w| {
        let (surface, _) = toplevel(w);
        w.send(surface, 1, &[Word(999), Word(0), Word(0)], &[]);
    }),
    (
        "xdg_toplevel.set_parent to a surface, not a toplevel",
        |w| {
            let (surface, top) = toplevel(w);
            w.send(top, 1, &[Word(surface)], &[]);
        },
    ),
    ("a request to an object that does not exist", |w| {
        w.send(500, 0, &[], &[]);
    }),
    ("an opcode wl_compositor does not have", |w| {
        let compositor = w.bind("wl_compositor", 4);
        w.send(compositor, 9, &[], &[]);
    }),
    ("a header that says set_title has no arguments", |w| {
        let (_, top) = toplevel(w);
        let header = (8u32 << 16) | 2;
        let bytes: Vec<u8> = [top, header].iter().flat_map(|w| w.to_ne_bytes()).collect();
        w.send_bytes(&bytes);
    }),
];

#[test]
fn every_malformed_request_is_a_protocol_error_and_costs_only_its_client() {
    let mut comp = start();
    let attacker = socket(&comp, "attacker");
    let mut refused = Vec::new();
    honest_client_survives(&mut comp, 3.0, || {
        for (what, send) in CASES {
            let mut w = Wire::connect(&attacker);
            send(&mut w);
            let hung_up = w.wait_for_hang_up();
            refused.push((*what, w.seen.error.clone(), hung_up));
        }
    });
    for (what, error, hung_up) in &refused {
        let error = error
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no protocol error (hung up: {hung_up})"));
        assert!(!error.message.is_empty(), "{what}: {error:?}");
        assert!(hung_up, "{what}: still connected after {error:?}");
    }
    attacker_gone(&comp);
    // The attacker's container is still served.
    let mut w = Wire::connect(&socket(&comp, "attacker"));
    toplevel(&mut w);
    assert!(w.roundtrip(), "{:?}", w.seen.error);
}

#[test]
fn a_null_where_the_protocol_allows_one_is_served() {
    let comp = start();
    let mut w = Wire::connect(&socket(&comp, "attacker"));
    let (surface, top) = toplevel(&mut w);
    // xdg_toplevel.set_parent(null), wl_surface.attach(null buffer), wl_surface.commit.
    w.send(top, 1, &[Word(0)], &[]);
    w.send(surface, 1, &[Word(0), Word(0), Word(0)], &[]);
    w.send(surface, 6, &[], &[]);
    assert!(w.roundtrip(), "{:?}", w.seen.error);
    assert!(!w.seen.hung_up);
}
