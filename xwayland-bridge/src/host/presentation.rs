//! Presentation feedback, passed through: the feedback a client asked for with a commit is asked
//! of the compositor for the host commit that forwards it, and what the compositor says (when the
//! frame was presented, on which refresh, or that it was discarded) goes back to the client as it
//! came. The times are the compositor's, on its clock (CLOCK_MONOTONIC, which the bridge
//! announces), so a client sees the latency it would see connected directly.

use std::sync::Mutex;
use std::time::Duration;

use smithay::reexports::wayland_protocols::wp::presentation_time::server::wp_presentation_feedback::Kind as ServerKind;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::wayland::compositor::with_states;
use smithay::wayland::presentation::{PresentationFeedbackCachedState, PresentationFeedbackCallback, Refresh};
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;
use wayland_client::{Connection, Dispatch, QueueHandle, WEnum};
use wayland_protocols::wp::presentation_time::client::wp_presentation::{self, WpPresentation};
use wayland_protocols::wp::presentation_time::client::wp_presentation_feedback::{
    self, WpPresentationFeedback,
};

use crate::bridge::Bridge;

/// The clock the bridge announces to its clients, CLOCK_MONOTONIC: Porthole presents on it.
pub const CLOCK: u32 = 1;

/// The client feedbacks one host feedback answers.
pub type Waiting = Mutex<Vec<PresentationFeedbackCallback>>;

/// Asks the compositor for feedback on the commit of `host_surface` that is about to forward
/// `surface`'s, for the feedbacks its client asked with that commit. Without the compositor's
/// wp_presentation they are discarded.
pub fn forward(
    presentation: Option<&WpPresentation>,
    qh: &QueueHandle<Bridge>,
    surface: &WlSurface,
    host_surface: &HostSurface,
) {
    let callbacks = with_states(surface, |states| {
        std::mem::take(
            &mut states
                .cached_state
                .get::<PresentationFeedbackCachedState>()
                .current()
                .callbacks,
        )
    });
    if callbacks.is_empty() {
        return;
    }
    match presentation {
        Some(presentation) => {
            presentation.feedback(host_surface, qh, Mutex::new(callbacks));
        }
        None => callbacks
            .into_iter()
            .for_each(PresentationFeedbackCallback::discarded),
    }
}

impl Dispatch<WpPresentation, ()> for Bridge {
    fn event(
        _: &mut Self,
        _: &WpPresentation,
        event: wp_presentation::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let wp_presentation::Event::ClockId { clk_id } = event {
            if clk_id != CLOCK {
                tracing::warn!(clk_id, "the compositor presents on another clock than CLOCK_MONOTONIC; clients get its times as they are");
            }
        }
    }
}

impl Dispatch<WpPresentationFeedback, Waiting> for Bridge {
    fn event(
        bridge: &mut Self,
        _: &WpPresentationFeedback,
        event: wp_presentation_feedback::Event,
        waiting: &Waiting,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let callbacks = || std::mem::take(&mut *waiting.lock().unwrap_or_else(|e| e.into_inner()));
        match event {
            wp_presentation_feedback::Event::Presented {
                tv_sec_hi,
                tv_sec_lo,
                tv_nsec,
                refresh,
                seq_hi,
                seq_lo,
                flags,
            } => {
                let secs = (u64::from(tv_sec_hi) << 32) | u64::from(tv_sec_lo);
                let time = Duration::new(secs, tv_nsec.min(999_999_999));
                let refresh = match refresh {
                    0 => Refresh::Unknown,
                    ns => Refresh::fixed(Duration::from_nanos(u64::from(ns))),
                };
                let seq = (u64::from(seq_hi) << 32) | u64::from(seq_lo);
                let flags = match flags {
                    WEnum::Value(kind) => ServerKind::from_bits_truncate(kind.bits()),
                    WEnum::Unknown(bits) => ServerKind::from_bits_truncate(bits),
                };
                for callback in callbacks() {
                    callback.presented(&bridge.server.output, time, refresh, seq, flags);
                }
            }
            wp_presentation_feedback::Event::Discarded => {
                callbacks()
                    .into_iter()
                    .for_each(PresentationFeedbackCallback::discarded);
            }
            _ => {}
        }
    }
}
