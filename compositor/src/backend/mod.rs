//! Backends: where frames go and input comes from. `Headless` is a real backend, not a test
//! hack: every feature that is not about hardware works in it.

pub mod headless;
pub mod pacing;
pub mod winit;

use std::time::{Duration, Instant};

use smithay::output::Output;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};

use crate::render::Screenshot;
use crate::state::Porthole;

/// The backend in use.
pub enum Backend {
    /// Offscreen pixman images paced by timers at the outputs' refresh rates.
    Headless(headless::Headless),
    /// A window on another desktop.
    Winit(Box<winit::Winit>),
}

impl Backend {
    /// Renders the damaged part of `output`, sends what was drawn to the display and collects
    /// its presentation feedback; the caller schedules its presentation.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) {
        match self {
            Backend::Headless(b) => b.render(comp, output),
            Backend::Winit(b) => b.render(comp, output),
        }
    }

    /// A picture of what `output` shows now.
    /// With `only`, just that container's windows are drawn.
    pub fn screenshot(
        &mut self,
        comp: &Porthole,
        output: &Output,
        only: Option<&str>,
    ) -> anyhow::Result<Screenshot> {
        match self {
            Backend::Headless(b) => comp.screenshot(b.renderer(), output, only),
            Backend::Winit(b) => comp.screenshot(b.pixman(), output, only),
        }
    }
}

/// Marks the frame just rendered as on screen at `tick`, as a display's vblank would, and lets
/// the next frame of that output be rendered.
pub fn schedule_vblank(comp: &mut Porthole, output: &Output, tick: Instant, refresh: Duration) {
    let output = output.clone();
    let timer = Timer::from_deadline(tick);
    let inserted = comp.loop_handle.insert_source(timer, move |_, _, state| {
        state.comp.frame_presented(&output, tick, refresh);
        TimeoutAction::Drop
    });
    if let Err(err) = inserted {
        tracing::error!(?err, "cannot schedule the next frame");
    }
}

/// One refresh interval of an output.
pub fn refresh_interval(output: &Output) -> Duration {
    let mhz = output
        .current_mode()
        .map(|m| m.refresh)
        .unwrap_or(60_000)
        .max(1_000);
    Duration::from_nanos(1_000_000_000_000 / mhz as u64)
}
