//! Frame pacing for displays Porthole cannot wait on a vblank of (headless and winit).
//!
//! The display is modelled as showing frames at fixed ticks one refresh interval apart. A frame
//! is rendered shortly before the tick it is meant for, in the repaint window (what recent frames
//! cost to render, plus slack), and frame callbacks go out at the tick. A client that draws as
//! soon as it is told then has most of an interval to commit before the next render, and what it
//! commits is on screen within one interval. Rendering as soon as that commit arrives instead
//! would show every frame an interval later than it could be, as Weston's repaint window also
//! avoids.

use std::time::{Duration, Instant};

/// Time kept between a render's expected end and its tick.
const SLACK: Duration = Duration::from_millis(2);

/// When one output's frames are rendered and shown.
#[derive(Debug, Default)]
pub struct Pacing {
    /// The tick the last frame was shown at; the next ones follow it every interval.
    last_tick: Option<Instant>,
    /// What the last frames cost to render, oldest overwritten first.
    recent: [Duration; RECENT],
    /// Frames rendered so far.
    rendered: usize,
}

/// How many recent renders the repaint window is sized from.
const RECENT: usize = 8;

impl Pacing {
    /// How long before a tick its frame is rendered: the second longest of the recent renders,
    /// plus slack, and never more than half an interval. Render times vary with the machine's
    /// load, so the window covers nearly the slowest; but a window mapped over hundreds of others
    /// makes one frame repaint them all, and a window widened for that one would make clients
    /// that commit in time miss ticks. A frame that needs more than half an interval is late
    /// whatever the window; the cap leaves clients the other half to draw in.
    pub fn window(&self, interval: Duration) -> Duration {
        let mut recent = self.recent;
        recent.sort_unstable();
        (recent[RECENT - 2] + SLACK).min(interval / 2)
    }

    /// When to render a frame asked for at `now`: at once while no frame was shown yet, otherwise
    /// at the start of the repaint window of the first tick it can still make.
    pub fn repaint_at(&self, now: Instant, interval: Duration) -> Instant {
        if self.last_tick.is_none() {
            return now;
        }
        let window = self.window(interval);
        self.next_tick(now + window, interval) - window
    }

    /// A frame took `cost` to render and was done at `done`: the tick it is shown at.
    pub fn rendered(&mut self, cost: Duration, done: Instant, interval: Duration) -> Instant {
        self.recent[self.rendered % RECENT] = cost;
        self.rendered += 1;
        self.next_tick(done, interval)
    }

    /// The frame was shown at `tick`.
    pub fn presented(&mut self, tick: Instant) {
        self.last_tick = Some(tick);
    }

    /// The first tick after the last frame's that is not before `t`; `t` itself before the first.
    fn next_tick(&self, t: Instant, interval: Duration) -> Instant {
        let Some(last) = self.last_tick else {
            return t;
        };
        let interval_ns = interval.as_nanos().max(1);
        let since = t.saturating_duration_since(last).as_nanos();
        let n = since.div_ceil(interval_ns).max(1);
        last + Duration::from_nanos((n * interval_ns).min(u64::MAX as u128) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ60: Duration = Duration::from_nanos(16_666_667);

    #[test]
    fn first_frame_renders_and_shows_at_once() {
        let mut pacing = Pacing::default();
        let now = Instant::now();
        assert_eq!(pacing.repaint_at(now, HZ60), now);
        let done = now + Duration::from_millis(1);
        assert_eq!(pacing.rendered(Duration::from_millis(1), done, HZ60), done);
    }

    #[test]
    fn later_frames_render_in_the_window_before_the_next_tick() {
        let mut pacing = Pacing::default();
        let t0 = Instant::now();
        pacing.rendered(Duration::from_millis(3), t0, HZ60);
        pacing.rendered(Duration::from_millis(3), t0, HZ60);
        pacing.presented(t0);
        // A commit 1 ms after the tick is rendered 5 ms (3 ms cost + slack) before the next one.
        let at = pacing.repaint_at(t0 + Duration::from_millis(1), HZ60);
        assert_eq!(at, t0 + HZ60 - Duration::from_millis(5));
        // A commit inside that window waits for the tick after.
        let late = pacing.repaint_at(t0 + HZ60 - Duration::from_millis(4), HZ60);
        assert_eq!(late, t0 + 2 * HZ60 - Duration::from_millis(5));
    }

    #[test]
    fn a_slow_render_is_shown_at_the_first_tick_after_it_ends() {
        let mut pacing = Pacing::default();
        let t0 = Instant::now();
        pacing.presented(t0);
        let done = t0 + HZ60 + Duration::from_millis(3);
        assert_eq!(
            pacing.rendered(Duration::from_millis(20), done, HZ60),
            t0 + 2 * HZ60
        );
        // One slow frame does not widen the window; two do, never past half an interval, until
        // faster frames replace them.
        assert_eq!(pacing.window(HZ60), SLACK);
        pacing.rendered(Duration::from_millis(30), done, HZ60);
        assert_eq!(pacing.window(HZ60), HZ60 / 2);
        for _ in 0..RECENT - 1 {
            pacing.rendered(Duration::from_millis(1), done, HZ60);
        }
        assert_eq!(pacing.window(HZ60), Duration::from_millis(1) + SLACK);
    }
}
