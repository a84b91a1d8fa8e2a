//! A bridged container's windows reach the compositor over their clients' own memory: the bridge
//! passes each wl_shm pool's file on (a memfd that cannot shrink) instead of copying every frame,
//! the clients get their buffers back as the compositor releases them, and the compositor lets
//! go of that memory when the container is checkpointed.

use super::*;

/// The memfds of the container's clients that the compositor maps, by name: weston-simple-shm's
/// (`weston-shared`) and Xwayland's (`xwayland-shared`).
fn mapped_client_files(c: &Compositor) -> Vec<&'static str> {
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", c.pid())).expect("the maps");
    ["memfd:weston-shared", "memfd:xwayland-shared"]
        .into_iter()
        .filter(|name| maps.contains(name))
        .collect()
}

/// Waits until the compositor maps both clients' files.
fn both_mapped(c: &Compositor) {
    poll(Duration::from_secs(5), "the clients' files mapped", || {
        let mapped = mapped_client_files(c);
        (mapped.len() == 2)
            .then_some(())
            .ok_or_else(|| format!("mapped: {mapped:?}"))
    });
}

/// weston-simple-shm draws new frames in `window`: it has two buffers and draws only into one
/// that came back, so frames go on only if what the compositor releases reaches it.
fn keeps_drawing(c: &mut Compositor, window: Geometry) {
    let mut last = c.screenshot().region(window);
    for _ in 0..3 {
        poll(
            Duration::from_secs(5),
            "weston-simple-shm's next frame",
            || {
                let now = c.screenshot().region(window);
                if now == last {
                    return Err("the same picture".to_string());
                }
                last = now;
                Ok(())
            },
        );
    }
}

#[test]
fn bridged_windows_are_shown_from_their_clients_own_memory() {
    let mut c = Compositor::start(1280, 800);
    let pid = start(&mut c, "zc", "");
    let _sandbox = Sandbox::new(pid);
    let before = windows_of(&c, "zc", false);
    let shm = before.iter().find(|w| w.title == "simple-shm").unwrap();

    // No copy in between: the compositor maps the clients' own files.
    both_mapped(&c);
    keeps_drawing(&mut c, shm.geometry);
    let counted = count(pid).expect("the counter");
    wait_for_at_least("xterm's counter", || count(pid), counted + 2);

    // Checkpointed, the container's memory is its own again.
    checkpoint_ok(&c, "zc", pid, &before);
    poll(
        Duration::from_secs(5),
        "the clients' files unmapped",
        || match mapped_client_files(&c).as_slice() {
            [] => Ok(()),
            still => Err(format!("still mapped: {still:?}")),
        },
    );

    // Restored, it is shared again, and the windows draw.
    let said = restore(&c, "zc");
    assert!(said.contains("2 of 2 windows back in place"), "{said}");
    let pid = bridge_pid(&c, "zc");
    let _restored = Sandbox::new(pid);
    let after = windows_of(&c, "zc", false);
    assert_eq!(geometries(&after), geometries(&before));
    both_mapped(&c);
    keeps_drawing(&mut c, shm.geometry);
}
