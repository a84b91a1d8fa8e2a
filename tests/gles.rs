//! The GLES renderer against pixman: `porthole serve --renderer gles` on Mesa's surfaceless
//! llvmpipe (no GPU here) draws the same desktop as the pixman renderer, pixel for pixel within
//! a small tolerance. This is the GLES code path the drm backend uses on a GPU (the QEMU test in
//! `kms` runs it on KMS), checked without a display.

use std::time::Duration;

use crate::common::*;

/// Channel difference above which two pixels count as different (GL and pixman may round
/// blending differently by a step or two).
const TOLERANCE: u8 = 3;

/// Starts a compositor with `renderer`, opens the same two terminals with fixed text in it, and
/// returns a screenshot once the picture is stable.
fn desktop_with(renderer: &str) -> (Screenshot, String) {
    let mut comp = Compositor::start_with(640, 480, &["--renderer", renderer]);
    for (colours, text) in [
        (
            "background=203040",
            "porthole draws this with pixman and with GLES",
        ),
        // Translucent: GL blends it over the desktop as pixman does.
        ("alpha=0.75", "second window: translucent, with dark text"),
    ] {
        let known: Vec<u64> = comp.windows().iter().map(|w| w.id).collect();
        comp.spawn_client(
            "foot",
            &[
                "-o",
                &format!("colors.{colours}"),
                "-o",
                "colors.foreground=102030",
                "--window-size-pixels=300x160",
                "sh",
                "-c",
                &format!("printf '%s' '{text}'; exec sleep 60"),
            ],
        );
        comp.wait_for_new_window(&known, CLIENT_TIMEOUT);
    }
    // Stable: two screenshots a moment apart agree (the terminals have drawn their text).
    let mut last = comp.screenshot();
    let shot = poll(CLIENT_TIMEOUT, "a stable picture", || {
        std::thread::sleep(Duration::from_millis(300));
        let shot = comp.screenshot();
        let same = shot.rgba == last.rgba;
        last = shot.clone();
        if same {
            Ok(shot)
        } else {
            Err("still changing".into())
        }
    });
    (shot, comp.log())
}

#[test]
fn gles_on_llvmpipe_draws_what_pixman_draws() {
    if !on_path("foot") {
        panic!("foot is needed: run .ci/install-deps");
    }
    let (pixman, _) = desktop_with("pixman");
    let (gles, gles_log) = desktop_with("gles");
    assert!(
        gles_log.contains("headless GLES renderer"),
        "the GLES run did not render with GLES; log:\n{gles_log}"
    );
    assert_eq!((pixman.width, pixman.height), (gles.width, gles.height));

    // The scene is not trivial: both windows' frames, their backgrounds and their text.
    let full = porthole_ipc::Geometry {
        x: 0,
        y: 0,
        width: 640,
        height: 480,
    };
    assert!(
        pixman.distinct_colours(full) > 20,
        "the pixman picture is nearly blank"
    );
    for colour in [FOCUSED_FRAME, UNFOCUSED_FRAME, [0x20, 0x30, 0x40, 0xff]] {
        assert!(
            pixman.share_of(full, colour) > 0.001,
            "pixman's picture lacks {}",
            hex(colour)
        );
    }

    let mut differing = 0usize;
    let mut worst = 0u8;
    for (a, b) in pixman.rgba.chunks_exact(4).zip(gles.rgba.chunks_exact(4)) {
        let d = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
        worst = worst.max(d);
        if d > TOLERANCE {
            differing += 1;
        }
    }
    let share = differing as f64 / (640.0 * 480.0);
    eprintln!("GLES against pixman: {differing} pixels differ by more than {TOLERANCE} (largest difference {worst})");
    assert!(
        share < 0.002,
        "{differing} pixels ({:.2}%) differ by more than {TOLERANCE}; largest difference {worst}",
        share * 100.0
    );
}
