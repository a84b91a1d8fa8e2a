//! `porthole-bench-flood`: one client of $WAYLAND_DISPLAY flooding the compositor for
//! `--seconds`, as a hostile tenant would, then printing one JSON line with how many rounds of
//! its flood went through. The hostile workload runs it beside a measuring client.
//!
//! Modes (each round written in one batch, then a round trip):
//! - `regions`: a mapped 256x256 window whose opaque and input regions are 1,024 rectangles,
//!   committed 100 times a round;
//! - `damage`: 100,000 damage rectangles and a commit;
//! - `surfaces`: 2,000 surfaces made, on a fresh connection that then leaves;
//! - `commits`: 10,000 commits of a mapped window;
//! - `x11`: 2,000 surfaces followed through porthole_x11_v1, let go and followed again six times
//!   (Porthole only);
//! - `bridge`: porthole_bridge_v1 bound 12,000 times (Porthole only).

use std::os::fd::AsFd as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use porthole_bench::wire::{Arg::Word, Wire};

#[derive(Debug, Parser)]
struct Cli {
    /// What to flood with.
    #[arg(long)]
    mode: String,
    /// How long to flood.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

/// The socket of $WAYLAND_DISPLAY.
fn socket() -> anyhow::Result<PathBuf> {
    let display = std::env::var("WAYLAND_DISPLAY").context("WAYLAND_DISPLAY is not set")?;
    if display.starts_with('/') {
        return Ok(display.into());
    }
    let runtime = std::env::var("XDG_RUNTIME_DIR").context("XDG_RUNTIME_DIR is not set")?;
    Ok(PathBuf::from(runtime).join(display))
}

/// A mapped 256x256 toplevel with an shm buffer: (surface, buffer, the pool's file).
fn window(w: &mut Wire) -> anyhow::Result<(u32, u32, std::fs::File)> {
    let compositor = w.bind("wl_compositor", 4);
    let wm = w.bind("xdg_wm_base", 1);
    let shm = w.bind("wl_shm", 1);
    let surface = w.new_id();
    w.queue(compositor, 0, &[Word(surface)]);
    let xdg = w.new_id();
    w.queue(wm, 2, &[Word(xdg), Word(surface)]);
    let toplevel = w.new_id();
    w.queue(xdg, 1, &[Word(toplevel)]);
    w.queue(surface, 6, &[]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !w.seen.serials.contains_key(&xdg) {
        if Instant::now() > deadline || !w.roundtrip() {
            bail!("no configure: {:?}", w.seen.error);
        }
    }
    w.queue(xdg, 4, &[Word(w.seen.serials[&xdg])]);
    let size = 256 * 256 * 4;
    let fd = rustix::fs::memfd_create("porthole-bench-flood", rustix::fs::MemfdFlags::CLOEXEC)?;
    rustix::fs::ftruncate(&fd, size)?;
    let pool = w.new_id();
    w.send(shm, 0, &[Word(pool), Word(size as u32)], &[fd.as_fd()]);
    let buffer = w.new_id();
    // wl_shm_pool.create_buffer(id, offset, width, height, stride, xrgb8888)
    let args = [
        Word(buffer),
        Word(0),
        Word(256),
        Word(256),
        Word(1024),
        Word(1),
    ];
    w.queue(pool, 0, &args);
    w.queue(surface, 1, &[Word(buffer), Word(0), Word(0)]);
    w.queue(surface, 6, &[]);
    if !w.roundtrip() {
        bail!("the window was refused: {:?}", w.seen.error);
    }
    Ok((surface, buffer, fd.into()))
}

/// Commits a full repaint of the window.
fn repaint(w: &mut Wire, surface: u32, buffer: u32) {
    w.queue(surface, 1, &[Word(buffer), Word(0), Word(0)]);
    w.queue(surface, 9, &[Word(0), Word(0), Word(256), Word(256)]);
    w.queue(surface, 6, &[]);
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let path = socket()?;
    let deadline = Instant::now() + Duration::from_secs_f64(cli.seconds);
    let mut rounds = 0u64;
    let mut w = Wire::connect(&path);
    match cli.mode.as_str() {
        "regions" => {
            let (surface, buffer, _file) = window(&mut w)?;
            let compositor = w.bind("wl_compositor", 4);
            let region = w.new_id();
            w.queue(compositor, 1, &[Word(region)]);
            for i in 0..1024 {
                w.queue(region, 1, &[Word(i % 256), Word(i / 4), Word(1), Word(1)]);
            }
            while Instant::now() < deadline {
                for _ in 0..100 {
                    w.queue(surface, 4, &[Word(region)]);
                    w.queue(surface, 5, &[Word(region)]);
                    repaint(&mut w, surface, buffer);
                }
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        "damage" => {
            let (surface, buffer, _file) = window(&mut w)?;
            while Instant::now() < deadline {
                w.queue(surface, 1, &[Word(buffer), Word(0), Word(0)]);
                for i in 0..100_000 {
                    w.queue(
                        surface,
                        9,
                        &[Word(i % 256), Word(i / 400), Word(1), Word(1)],
                    );
                }
                w.queue(surface, 6, &[]);
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        "commits" => {
            let (surface, buffer, _file) = window(&mut w)?;
            while Instant::now() < deadline {
                for _ in 0..10_000 {
                    repaint(&mut w, surface, buffer);
                }
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        "surfaces" => {
            while Instant::now() < deadline {
                let mut w = Wire::connect(&path);
                let compositor = w.bind("wl_compositor", 4);
                for _ in 0..2000 {
                    let id = w.new_id();
                    w.queue(compositor, 0, &[Word(id)]);
                }
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        "x11" => {
            while Instant::now() < deadline {
                let mut w = Wire::connect(&path);
                let compositor = w.bind("wl_compositor", 4);
                let manager = w.bind("porthole_x11_manager_v1", 1);
                let surfaces: Vec<u32> = (0..2000)
                    .map(|_| {
                        let id = w.new_id();
                        w.queue(compositor, 0, &[Word(id)]);
                        id
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
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        "bridge" => {
            while Instant::now() < deadline {
                let mut w = Wire::connect(&path);
                for _ in 0..12_000 {
                    w.bind("porthole_bridge_v1", 1);
                }
                if !w.roundtrip() {
                    break;
                }
                rounds += 1;
            }
        }
        other => bail!("no flood mode `{other}`"),
    }
    let error = w.seen.error.as_ref().map(|e| e.message.clone());
    println!(
        "{}",
        serde_json::json!({"mode": cli.mode, "rounds": rounds, "error": error})
    );
    Ok(())
}
