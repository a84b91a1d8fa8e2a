//! A window's frame on the compositor: its container, the rectangle it covers, and which part
//! of which frame is under the pointer.

use smithay::desktop::Window;
use smithay::utils::{Logical, Point, Rectangle};

use super::frame::WindowFrames;
use super::{FramePart, FrameSizes, Hit};
use crate::containers::Container;
use crate::state::Porthole;

impl Porthole {
    /// The frames windows get now.
    pub fn frames(&self) -> WindowFrames<'_> {
        WindowFrames::new(&self.config.appearance, &self.containers)
    }

    /// Sizes of the frame the compositor draws around this window.
    pub fn window_frame(&self, window: &Window) -> FrameSizes {
        self.frames().frame(window)
    }

    /// Height of the strip above a fullscreen window of this window's container.
    pub fn fullscreen_strip(&self, window: &Window) -> i32 {
        self.frames().strip(window)
    }

    /// The container a window belongs to; `None` for the host's windows.
    pub fn window_container(&self, window: &Window) -> Option<&Container> {
        self.frames().container(window)
    }

    /// The rectangle a window covers with its decorations, given its content geometry.
    pub fn frame_rect(
        &self,
        window: &Window,
        content: Rectangle<i32, Logical>,
    ) -> Rectangle<i32, Logical> {
        self.window_frame(window).around(content)
    }

    /// The window and the part of its frame under a point, if the point is on a decoration of
    /// the topmost window there.
    pub fn frame_part_under(&self, pos: Point<f64, Logical>) -> Option<(Window, FramePart)> {
        for window in self.shell.windows().rev() {
            let Some(geo) = self.shell.geometry(window) else {
                continue;
            };
            match self.window_frame(window).hit(geo, pos) {
                Hit::Outside => continue,
                Hit::Content => return None,
                Hit::Frame(part) => return Some((window.clone(), part)),
            }
        }
        None
    }
}
