//! `porthole-bench-client`: one window on $WAYLAND_DISPLAY that redraws on every frame callback
//! (`--mode anim`), draws once and waits (`--mode idle`), or animates while doing random things
//! (`--mode chaos`: resizing, unmapping and mapping again, bursts of commits; seeded by
//! `--seed`), for `--seconds`, then prints one JSON line: frames committed, presented and
//! discarded (wp_presentation feedback), presented frames per second, commit-to-present latency
//! p50/p99 in microseconds, the longest wait for a frame callback while mapped, and the chaos
//! actions taken.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use smithay_client_toolkit::compositor::{CompositorHandler, CompositorState};
use smithay_client_toolkit::output::{OutputHandler, OutputState};
use smithay_client_toolkit::registry::{ProvidesRegistryState, RegistryState};
use smithay_client_toolkit::shell::xdg::window::{
    Window, WindowConfigure, WindowDecorations, WindowHandler,
};
use smithay_client_toolkit::shell::xdg::XdgShell;
use smithay_client_toolkit::shell::WaylandSurface as _;
use smithay_client_toolkit::shm::slot::SlotPool;
use smithay_client_toolkit::shm::{Shm, ShmHandler};
use wayland_client::globals::registry_queue_init;
use wayland_client::protocol::{wl_output, wl_shm, wl_surface};
use wayland_client::{Connection, Dispatch, QueueHandle};
use wayland_protocols::wp::presentation_time::client::wp_presentation::{self, WpPresentation};
use wayland_protocols::wp::presentation_time::client::wp_presentation_feedback::{
    self, WpPresentationFeedback,
};

#[derive(Debug, Parser)]
struct Cli {
    /// `anim`: redraw every frame; `idle`: draw once.
    #[arg(long, default_value = "anim")]
    mode: String,
    /// How long to run.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Window size, `WxH`.
    #[arg(long, default_value = "256x256")]
    size: String,
    /// Seed of `--mode chaos`'s choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// What `--mode chaos` does next, and what it did.
struct Chaos {
    rng: fastrand::Rng,
    next_action: Instant,
    /// While unmapped: when to map a new window.
    remap_at: Option<Instant>,
    resizes: u64,
    unmaps: u64,
    bursts: u64,
}

struct App {
    registry: RegistryState,
    outputs: OutputState,
    shm: Shm,
    pool: SlotPool,
    compositor: CompositorState,
    xdg: XdgShell,
    /// None while unmapped (chaos mode).
    window: Option<Window>,
    chaos: Option<Chaos>,
    /// When the last frame callback came, while mapped.
    last_frame: Option<Instant>,
    longest_frame_wait: Duration,
    presentation: Option<WpPresentation>,
    /// The clock presentation times are on (CLOCK_MONOTONIC until the compositor says).
    clock_id: u32,
    size: (u32, u32),
    animate: bool,
    configured: bool,
    committed: u64,
    presented: u64,
    discarded: u64,
    latencies_us: Vec<u64>,
}

/// Now on the clock the compositor presents with (wp_presentation.clock_id).
fn now_ns(clock_id: u32) -> u64 {
    use rustix::time::ClockId;
    let clock = match clock_id {
        0 => ClockId::Realtime,
        4 => ClockId::MonotonicRaw,
        7 => ClockId::Boottime,
        _ => ClockId::Monotonic,
    };
    let t = rustix::time::clock_gettime(clock);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl App {
    /// Draws the next frame (a colour that changes every frame) and commits it, asking for the
    /// next frame callback when animating and for presentation feedback always.
    fn draw(&mut self, qh: &QueueHandle<Self>) {
        let (w, h) = self.size;
        let stride = w as i32 * 4;
        let Ok((buffer, canvas)) =
            self.pool
                .create_buffer(w as i32, h as i32, stride, wl_shm::Format::Xrgb8888)
        else {
            return;
        };
        let shade = (self.committed % 256) as u32;
        let pixel = (0xff << 24 | shade << 16 | (255 - shade) << 8 | 0x40).to_le_bytes();
        for px in canvas.chunks_exact_mut(4) {
            px.copy_from_slice(&pixel);
        }
        let Some(window) = &self.window else {
            return;
        };
        let surface = window.wl_surface();
        if buffer.attach_to(surface).is_err() {
            return;
        }
        surface.damage_buffer(0, 0, w as i32, h as i32);
        if self.animate {
            surface.frame(qh, surface.clone());
        }
        if let Some(presentation) = &self.presentation {
            presentation.feedback(surface, qh, now_ns(self.clock_id));
        }
        window.commit();
        self.committed += 1;
    }

    /// A new toplevel, mapped once its first configure comes.
    fn map(&mut self, qh: &QueueHandle<Self>) {
        let surface = self.compositor.create_surface(qh);
        let window = self
            .xdg
            .create_window(surface, WindowDecorations::ServerDefault, qh);
        window.set_title("porthole-bench-client");
        window.commit();
        self.window = Some(window);
        self.configured = false;
        self.last_frame = None;
    }

    /// Chaos mode: maps again when due, and otherwise does a random thing now and then.
    fn chaos_step(&mut self, qh: &QueueHandle<Self>) {
        let Some(chaos) = &mut self.chaos else {
            return;
        };
        let now = Instant::now();
        if let Some(at) = chaos.remap_at {
            if now >= at {
                chaos.remap_at = None;
                self.map(qh);
            }
            return;
        }
        if now < chaos.next_action {
            return;
        }
        chaos.next_action = now + Duration::from_millis(chaos.rng.u64(100..600));
        match chaos.rng.u8(0..10) {
            0..=4 => {
                chaos.resizes += 1;
                self.size = (chaos.rng.u32(32..=256), chaos.rng.u32(32..=256));
            }
            5..=7 => {
                chaos.unmaps += 1;
                chaos.remap_at = Some(now + Duration::from_millis(chaos.rng.u64(50..300)));
                self.window = None;
                self.configured = false;
                self.last_frame = None;
            }
            _ => {
                chaos.bursts += 1;
                if self.configured {
                    // Commits without frame callbacks: the animation keeps its one.
                    self.animate = false;
                    for _ in 0..20 {
                        self.draw(qh);
                    }
                    self.animate = true;
                }
            }
        }
    }

    fn report(&self, seconds: f64) -> serde_json::Value {
        let mut l = self.latencies_us.clone();
        l.sort_unstable();
        let pct = |p: f64| -> Option<u64> {
            (!l.is_empty()).then(|| l[((l.len() - 1) as f64 * p).round() as usize])
        };
        serde_json::json!({
            "committed": self.committed,
            "presented": self.presented,
            "discarded": self.discarded,
            "fps": self.presented as f64 / seconds,
            "latency_p50_us": pct(0.5),
            "latency_p99_us": pct(0.99),
            "longest_frame_wait_ms": self.longest_frame_wait.as_secs_f64() * 1000.0,
            "resizes": self.chaos.as_ref().map(|c| c.resizes),
            "unmaps": self.chaos.as_ref().map(|c| c.unmaps),
            "bursts": self.chaos.as_ref().map(|c| c.bursts),
        })
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (w, h) = cli
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .context("--size is WxH")?;
    let conn = Connection::connect_to_env().context("connecting to $WAYLAND_DISPLAY")?;
    let (globals, mut queue) = registry_queue_init::<App>(&conn)?;
    let qh = queue.handle();
    let compositor = CompositorState::bind(&globals, &qh).context("wl_compositor")?;
    let xdg = XdgShell::bind(&globals, &qh).context("xdg_wm_base")?;
    let shm = Shm::bind(&globals, &qh).context("wl_shm")?;
    let pool = SlotPool::new((w * h * 4 * 3) as usize, &shm)?;
    let mut app = App {
        registry: RegistryState::new(&globals),
        outputs: OutputState::new(&globals, &qh),
        presentation: globals.bind(&qh, 1..=1, ()).ok(),
        clock_id: 1,
        shm,
        pool,
        compositor,
        xdg,
        window: None,
        chaos: (cli.mode == "chaos").then(|| Chaos {
            rng: fastrand::Rng::with_seed(cli.seed),
            next_action: Instant::now(),
            remap_at: None,
            resizes: 0,
            unmaps: 0,
            bursts: 0,
        }),
        last_frame: None,
        longest_frame_wait: Duration::ZERO,
        size: (w, h),
        animate: cli.mode != "idle",
        configured: false,
        committed: 0,
        presented: 0,
        discarded: 0,
        latencies_us: Vec::new(),
    };

    app.map(&qh);
    let deadline = Instant::now() + Duration::from_secs_f64(cli.seconds);
    let fd = conn.backend().poll_fd().try_clone_to_owned()?;
    while Instant::now() < deadline {
        queue.dispatch_pending(&mut app)?;
        app.chaos_step(&qh);
        conn.flush()?;
        let Some(guard) = queue.prepare_read() else {
            continue;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let tick = if app.chaos.is_some() { 10 } else { 100 };
        let timeout = rustix::event::Timespec::try_from(left.min(Duration::from_millis(tick)))?;
        let mut fds = [rustix::event::PollFd::new(
            &fd,
            rustix::event::PollFlags::IN,
        )];
        if rustix::event::poll(&mut fds, Some(&timeout))? > 0 {
            let _ = guard.read();
        }
    }
    // Let the last feedback arrive.
    let _ = queue.roundtrip(&mut app);
    println!("{}", app.report(cli.seconds));
    Ok(())
}

impl CompositorHandler for App {
    fn scale_factor_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: i32,
    ) {
    }

    fn transform_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: wl_output::Transform,
    ) {
    }

    fn frame(
        &mut self,
        _: &Connection,
        qh: &QueueHandle<Self>,
        surface: &wl_surface::WlSurface,
        _: u32,
    ) {
        // A callback of a window unmapped since is not this window's.
        if self.window.as_ref().map(|w| w.wl_surface()) != Some(surface) {
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.last_frame {
            self.longest_frame_wait = self.longest_frame_wait.max(now - last);
        }
        self.last_frame = Some(now);
        self.draw(qh);
    }

    fn surface_enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: &wl_output::WlOutput,
    ) {
    }

    fn surface_leave(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: &wl_output::WlOutput,
    ) {
    }
}

impl OutputHandler for App {
    fn output_state(&mut self) -> &mut OutputState {
        &mut self.outputs
    }
    fn new_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
    fn update_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
    fn output_destroyed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
}

impl WindowHandler for App {
    fn request_close(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &Window) {}

    fn configure(
        &mut self,
        _: &Connection,
        qh: &QueueHandle<Self>,
        _: &Window,
        _: WindowConfigure,
        _: u32,
    ) {
        if !self.configured {
            self.configured = true;
            self.draw(qh);
        }
    }
}

impl ShmHandler for App {
    fn shm_state(&mut self) -> &mut Shm {
        &mut self.shm
    }
}

impl ProvidesRegistryState for App {
    fn registry(&mut self) -> &mut RegistryState {
        &mut self.registry
    }
    smithay_client_toolkit::registry_handlers![OutputState];
}

impl Dispatch<WpPresentation, ()> for App {
    fn event(
        app: &mut Self,
        _: &WpPresentation,
        event: wp_presentation::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let wp_presentation::Event::ClockId { clk_id } = event {
            app.clock_id = clk_id;
        }
    }
}

/// The commit time, on the compositor's presentation clock.
impl Dispatch<WpPresentationFeedback, u64> for App {
    fn event(
        app: &mut Self,
        _: &WpPresentationFeedback,
        event: wp_presentation_feedback::Event,
        committed_ns: &u64,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            wp_presentation_feedback::Event::Presented {
                tv_sec_hi,
                tv_sec_lo,
                tv_nsec,
                ..
            } => {
                let secs = (u64::from(tv_sec_hi) << 32) | u64::from(tv_sec_lo);
                let presented_ns = secs * 1_000_000_000 + u64::from(tv_nsec);
                app.presented += 1;
                app.latencies_us
                    .push(presented_ns.saturating_sub(*committed_ns) / 1000);
            }
            wp_presentation_feedback::Event::Discarded => app.discarded += 1,
            _ => {}
        }
    }
}

smithay_client_toolkit::delegate_compositor!(App);
smithay_client_toolkit::delegate_output!(App);
smithay_client_toolkit::delegate_shm!(App);
smithay_client_toolkit::delegate_xdg_shell!(App);
smithay_client_toolkit::delegate_xdg_window!(App);
smithay_client_toolkit::delegate_registry!(App);
