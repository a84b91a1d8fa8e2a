//! Frame scheduling: each output repaints only when something changed, at most one frame in
//! flight, paced to its refresh (see [`super::pacing`]); a frame that reached the screen sends
//! presentation feedback and the frame callbacks of what the output shows.

use std::time::{Duration, Instant};

use smithay::backend::renderer::element::RenderElementStates;
use smithay::desktop::utils::{
    surface_presentation_feedback_flags_from_states, surface_primary_scanout_output,
    update_surface_primary_scanout_output, OutputPresentationFeedback,
};
use smithay::desktop::Window;
use smithay::input::pointer::CursorImageStatus;
use smithay::output::Output;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::wayland_protocols::wp::presentation_time::server::wp_presentation_feedback;
use smithay::utils::{Monotonic, Time};
use smithay::wayland::presentation::Refresh;
use tracing::error;

use super::Frame;
use crate::state::{Porthole, State};

impl Porthole {
    /// Asks for `output` to be repainted at its next frame.
    pub fn queue_redraw(&mut self, output: &Output) {
        if let Some(state) = self.outputs.frames.get_mut(output) {
            state.redraw_queued = true;
        }
    }

    /// Asks for every output to be repainted.
    pub fn queue_redraw_all(&mut self) {
        for state in self.outputs.frames.values_mut() {
            state.redraw_queued = true;
        }
    }

    /// Repaints the outputs a window is on.
    pub fn queue_redraw_for(&mut self, window: &Window) {
        let outputs = self.shell.outputs_of(window);
        for output in outputs {
            self.queue_redraw(&output);
        }
    }

    /// After a frame was rendered: tell surfaces which output shows them and collect
    /// presentation feedback for the frame's presentation.
    pub fn post_render(
        &mut self,
        output: &Output,
        states: &RenderElementStates,
    ) -> OutputPresentationFeedback {
        let mut feedback = OutputPresentationFeedback::new(output);
        for window in self.shell.windows() {
            window.with_surfaces(|surface, data| {
                update_surface_primary_scanout_output(
                    surface,
                    output,
                    data,
                    states,
                    smithay::backend::renderer::element::default_primary_scanout_output_compare,
                );
            });
            if self.shell.outputs_of(window).contains(output) {
                window.take_presentation_feedback(
                    &mut feedback,
                    surface_primary_scanout_output,
                    |surface, _| surface_presentation_feedback_flags_from_states(surface, states),
                );
            }
        }
        feedback
    }

    /// The frame in flight on `output` reached the screen at `tick`: its presentation feedback
    /// goes out, and the frame callbacks of what the output shows, so that clients draw their
    /// next frame while the output waits for its next repaint.
    pub fn frame_presented(&mut self, output: &Output, tick: Instant, refresh: Duration) {
        // Reported at the tick itself, not when its timer got to run.
        let now = Time::<Monotonic>::elapsed(&Time::from(Duration::ZERO), self.clock.now());
        let at = Time::<Monotonic>::from(now.saturating_sub(tick.elapsed()));
        let Some(state) = self.outputs.frames.get_mut(output) else {
            return;
        };
        state.frame_pending = false;
        state.pacing.presented(tick);
        state.sequence += 1;
        state.last_presented = Some(tick);
        if let Some(mut feedback) = state.feedback.take() {
            feedback.presented(
                at,
                Refresh::fixed(refresh),
                state.sequence,
                wp_presentation_feedback::Kind::Vsync,
            );
        }
        self.send_frame_callbacks(output);
        self.clients.ended_outside_dispatch = true;
    }

    /// Tells the clients on `output` that now is the time to draw their next frame. Surfaces
    /// shown mainly elsewhere hear at most once a second from this output.
    fn send_frame_callbacks(&self, output: &Output) {
        let time = self.elapsed();
        let throttle = Some(Duration::from_secs(1));
        for window in self.shell.windows() {
            if self.shell.outputs_of(window).contains(output) {
                window.send_frame(output, time, throttle, surface_primary_scanout_output);
            }
        }
        if let CursorImageStatus::Surface(surface) = &self.input.cursor {
            smithay::desktop::utils::send_frames_surface_tree(
                surface,
                output,
                time,
                throttle,
                |_, _| Some(output.clone()),
            );
        }
    }
}

impl State {
    /// Renders every output that has a redraw queued, no frame in flight, and whose repaint is
    /// due (see `backend::pacing`); wakes the loop when the others are due.
    pub fn redraw_queued_outputs(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        let mut wakeups = Vec::new();
        for (output, s) in &mut self.comp.outputs.frames {
            if !s.redraw_queued || s.frame_pending {
                continue;
            }
            let at = *s.repaint_at.get_or_insert_with(|| {
                let at = s.pacing.repaint_at(now, refresh_interval(output));
                if at > now {
                    wakeups.push(at);
                }
                at
            });
            if at <= now {
                due.push((output.clone(), at));
            }
        }
        for at in wakeups {
            // The wakeup itself does nothing: the loop's pass after it renders what is due.
            let timer = Timer::from_deadline(at);
            if let Err(err) = self
                .comp
                .loop_handle
                .insert_source(timer, |_, _, _| TimeoutAction::Drop)
            {
                error!(?err, "cannot schedule a repaint");
            }
        }
        for (output, at) in due {
            let started = Instant::now();
            let frame = self.backend.render(&mut self.comp, &output);
            let done = Instant::now();
            let refresh = refresh_interval(&output);
            let Some(s) = self.comp.outputs.frames.get_mut(&output) else {
                continue;
            };
            // A failed render is drawn again at the next tick.
            s.redraw_queued = matches!(frame, Frame::Failed);
            s.repaint_at = None;
            // A failed render is paced like a frame too, so that it is retried at the next tick
            // rather than in a busy loop.
            s.frame_pending = true;
            let tick = s.pacing.rendered(done - started, done, refresh);
            tracing::trace!(
                output = output.name(),
                cost_us = (done - started).as_micros() as u64,
                late_us = started.saturating_duration_since(at).as_micros() as u64,
                wait_us = tick.saturating_duration_since(done).as_micros() as u64,
                "rendered"
            );
            match frame {
                Frame::Simulated | Frame::Failed => {
                    schedule_vblank(&mut self.comp, &output, tick, refresh)
                }
                // The display reports it (`frame_presented` from its vblank), or, paused, the
                // session's return clears it.
                Frame::Queued | Frame::Paused => {}
            }
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
