//! Outputs: each one's frame state, and the settings given at run time (`porthole output set`)
//! over the configuration's; [`layout`] places them in the desktop and answers `porthole
//! outputs`.

mod layout;

use std::collections::HashMap;

use smithay::output::Output;

use crate::config::{Config, OutputConfig};

/// Every output's frame state, and the settings changed at run time.
#[derive(Debug, Default)]
pub struct Outputs {
    /// Frame pacing per output.
    pub frames: HashMap<Output, OutputState>,
    /// Output settings given at run time (`porthole output set`), over the configuration's.
    pub overrides: HashMap<String, OutputConfig>,
}

impl Outputs {
    /// An output's settings: the configuration's `[output.NAME]`, with what was set at run time
    /// over it.
    pub fn config(&self, config: &Config, name: &str) -> OutputConfig {
        let base = config.outputs.get(name).cloned().unwrap_or_default();
        match self.overrides.get(name) {
            Some(over) => base.merged(over),
            None => base,
        }
    }
}

/// Per-output frame pacing, as a real display would do it: at most one frame in flight.
#[derive(Debug, Default)]
pub struct OutputState {
    /// Something changed and the output should be repainted.
    pub redraw_queued: bool,
    /// A frame was submitted and its (real or simulated) vblank has not come yet.
    pub frame_pending: bool,
    /// Presentation feedback of the frame in flight.
    pub feedback: Option<smithay::desktop::utils::OutputPresentationFeedback>,
    /// Frames presented so far on this output.
    pub sequence: u64,
    /// When the last one was (`porthole health`).
    pub last_presented: Option<std::time::Instant>,
    /// When the queued redraw is due; a timer wakes the loop then.
    pub repaint_at: Option<std::time::Instant>,
    /// When frames are rendered and shown.
    pub pacing: crate::backend::pacing::Pacing,
}

/// Why `porthole output set` could not change an output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("no output named `{0}`; `porthole outputs` lists them")]
    NoSuchOutput(String),
    #[error("only outputs of the drm backend can be turned off and on")]
    NotDrm,
    #[error("cannot set the mode of {name}: {reason}")]
    Mode { name: String, reason: String },
}
