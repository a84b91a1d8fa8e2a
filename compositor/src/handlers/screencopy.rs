//! wlr-screencopy: pictures of outputs for trusted screenshot tools.

use std::time::Duration;

use smithay::output::Output;

use crate::delegate_screencopy;
use crate::protocols::screencopy::ScreencopyHandler;
use crate::render::image::Screenshot;
use crate::state::State;

impl ScreencopyHandler for State {
    fn capture(&mut self, output: &Output, cursor: bool) -> anyhow::Result<Screenshot> {
        self.backend.screenshot(&self.comp, output, None, cursor)
    }

    fn capture_time(&self) -> Duration {
        Duration::from(self.comp.clock.now())
    }
}

delegate_screencopy!(State);
