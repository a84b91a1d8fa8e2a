//! What the compositor draws around windows, which no client can leave out or fake: the frame
//! in the container's colour, and a title bar with `[container] title` where the client agreed to
//! server-side decorations. Sizes and the hit test are here ([`FrameSizes`], [`FramePart`]);
//! [`frame`] decides them per window, [`draw`] draws them, [`text`] renders the labels.

pub mod draw;
pub mod frame;
pub mod text;

use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::utils::{Logical, Rectangle};

use crate::config::Color;

pub use self::text::TextRenderer;

/// The background of the boxes the compositor draws: the clipboard prompt, and a placeholder
/// without a picture.
pub const BOX_BACKGROUND: Color = Color::rgb(0x30, 0x30, 0x36);

/// A part of a server-side decoration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramePart {
    /// The title bar: drag to move.
    Titlebar,
    /// The close button.
    Close,
    /// The maximize button.
    Maximize,
    /// The minimize button.
    Minimize,
    /// The border: drag to resize from these edges.
    Border(xdg_toplevel::ResizeEdge),
}

/// Sizes of what the compositor draws around a window.
#[derive(Debug, Clone, Copy)]
pub struct FrameSizes {
    /// Border width.
    pub border: i32,
    /// Title bar height.
    pub titlebar: i32,
}

impl FrameSizes {
    /// Size of one title bar button (square).
    pub fn button(&self) -> i32 {
        (self.titlebar - 6).max(0)
    }

    /// Where title bar button `i` (0 close, 1 maximize, 2 minimize, from the right) sits for a
    /// window whose content is `geo`; `None` when there is no title bar or no room for it. The
    /// renderer and the pointer hit test both ask here, so what is drawn is what is clicked.
    pub fn button_rect(
        &self,
        geo: Rectangle<i32, Logical>,
        i: i32,
    ) -> Option<Rectangle<i32, Logical>> {
        let b = self.button();
        if self.titlebar <= 0 || b <= 0 {
            return None;
        }
        let right = geo.loc.x.saturating_add(geo.size.w) - 3;
        let x = right - (i + 1) * (b + 3);
        (x > geo.loc.x)
            .then(|| Rectangle::new((x, geo.loc.y - self.titlebar + 3).into(), (b, b).into()))
    }

    /// Width the three buttons take at the right end of the title bar.
    pub fn buttons_width(&self) -> i32 {
        3 * (self.button() + 3) + 3
    }
}
