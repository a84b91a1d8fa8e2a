//! What the compositor draws around windows, which no client can leave out or fake: the frame
//! in the container's colour, and a title bar with `[container] title` where the client agreed to
//! server-side decorations. Sizes and the hit test are here ([`FrameSizes`], [`FramePart`]);
//! [`frame`] decides them per window, [`draw`] draws them, [`text`] renders the labels.

pub mod draw;
pub mod frame;
pub mod text;
mod window;

use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::utils::{Logical, Point, Rectangle};

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
    /// The title bar is at least this wide, as a tab reaching past a narrower window, so that
    /// the container's name can be read on any window; 0: as wide as the window.
    pub label_width: i32,
    /// Whether the title bar has the close, maximize and minimize buttons (server-side
    /// decorations); the label strip of a window that draws its own has none.
    pub buttons: bool,
}

impl FrameSizes {
    /// A border and a title bar with buttons.
    pub const fn new(border: i32, titlebar: i32) -> Self {
        Self {
            border,
            titlebar,
            label_width: 0,
            buttons: true,
        }
    }

    /// The title bar's rectangle for content `geo`: as wide as the content, or the label.
    pub fn title_rect(&self, geo: Rectangle<i32, Logical>) -> Rectangle<i32, Logical> {
        Rectangle::new(
            (geo.loc.x, geo.loc.y.saturating_sub(self.titlebar)).into(),
            (geo.size.w.max(self.label_width), self.titlebar).into(),
        )
    }

    /// The rectangle of the border around the content and title bar, without the part of a
    /// label reaching past the window.
    pub fn border_rect(&self, content: Rectangle<i32, Logical>) -> Rectangle<i32, Logical> {
        Self {
            label_width: 0,
            ..*self
        }
        .around(content)
    }

    /// The rectangle the frame covers around `content`, decorations included. Saturating: the
    /// content geometry comes from the client and may be absurd.
    pub fn around(&self, content: Rectangle<i32, Logical>) -> Rectangle<i32, Logical> {
        let (b, t) = (self.border, self.titlebar);
        let width = content.size.w.max(self.label_width);
        Rectangle::new(
            (
                content.loc.x.saturating_sub(b),
                content.loc.y.saturating_sub(t + b),
            )
                .into(),
            (
                width.saturating_add(2 * b),
                content.size.h.saturating_add(t + 2 * b),
            )
                .into(),
        )
    }

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
        if !self.buttons || self.titlebar <= 0 || b <= 0 {
            return None;
        }
        let right = geo.loc.x.saturating_add(geo.size.w) - 3;
        let x = right - (i + 1) * (b + 3);
        (x > geo.loc.x)
            .then(|| Rectangle::new((x, geo.loc.y - self.titlebar + 3).into(), (b, b).into()))
    }

    /// Width the three buttons take at the right end of the title bar.
    pub fn buttons_width(&self) -> i32 {
        if self.buttons {
            3 * (self.button() + 3) + 3
        } else {
            0
        }
    }
}

/// What is at a point, for one window's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// Neither the frame nor the content.
    Outside,
    /// The window's own surface (a window without decorations is all content).
    Content,
    /// A part of the frame.
    Frame(FramePart),
}

impl FrameSizes {
    /// What of a window whose content is `geo` is at `pos`: which part of its frame, its
    /// content, or neither. The renderer draws the buttons where [`FrameSizes::button_rect`]
    /// says, so what is drawn is what is clicked.
    pub fn hit(&self, geo: Rectangle<i32, Logical>, pos: Point<f64, Logical>) -> Hit {
        let frame = self.around(geo);
        if !frame.to_f64().contains(pos) {
            return Hit::Outside;
        }
        if frame == geo || geo.to_f64().contains(pos) {
            return Hit::Content;
        }
        let p = pos.to_i32_floor::<i32>();
        let title_top = geo.loc.y - self.titlebar;
        if self.titlebar > 0 && self.title_rect(geo).contains(p) {
            let within = |i: i32| self.button_rect(geo, i).is_some_and(|r| r.contains(p));
            let part = if within(0) {
                FramePart::Close
            } else if within(1) {
                FramePart::Maximize
            } else if within(2) {
                FramePart::Minimize
            } else {
                FramePart::Titlebar
            };
            return Hit::Frame(part);
        }
        if !self.border_rect(geo).contains(p) {
            // Beside a label that reaches past a narrow window.
            return Hit::Outside;
        }
        let mut edges = xdg_toplevel::ResizeEdge::None as u32;
        if p.x < geo.loc.x {
            edges |= xdg_toplevel::ResizeEdge::Left as u32;
        }
        if p.x >= geo.loc.x + geo.size.w {
            edges |= xdg_toplevel::ResizeEdge::Right as u32;
        }
        if p.y < title_top {
            edges |= xdg_toplevel::ResizeEdge::Top as u32;
        }
        if p.y >= geo.loc.y + geo.size.h {
            edges |= xdg_toplevel::ResizeEdge::Bottom as u32;
        }
        let edge =
            xdg_toplevel::ResizeEdge::try_from(edges).unwrap_or(xdg_toplevel::ResizeEdge::None);
        Hit::Frame(FramePart::Border(edge))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: FrameSizes = FrameSizes::new(4, 24);

    fn geo() -> Rectangle<i32, Logical> {
        Rectangle::new((100, 100).into(), (400, 300).into())
    }

    #[test]
    fn the_title_bar_and_its_buttons_are_where_they_are_drawn() {
        let hit = |x: f64, y: f64| FRAME.hit(geo(), (x, y).into());
        assert_eq!(hit(150.0, 90.0), Hit::Frame(FramePart::Titlebar));
        for (i, part) in [FramePart::Close, FramePart::Maximize, FramePart::Minimize]
            .into_iter()
            .enumerate()
        {
            let r = FRAME
                .button_rect(geo(), i as i32)
                .expect("room for buttons");
            let centre =
                r.loc.to_f64() + Point::from((r.size.w as f64 / 2.0, r.size.h as f64 / 2.0));
            assert_eq!(FRAME.hit(geo(), centre), Hit::Frame(part));
        }
        assert_eq!(hit(300.0, 200.0), Hit::Content);
        assert_eq!(hit(50.0, 50.0), Hit::Outside);
    }

    #[test]
    fn borders_resize_from_their_edges_and_corners() {
        let hit = |x: f64, y: f64| FRAME.hit(geo(), (x, y).into());
        use xdg_toplevel::ResizeEdge as E;
        assert_eq!(hit(98.0, 200.0), Hit::Frame(FramePart::Border(E::Left)));
        assert_eq!(hit(502.0, 200.0), Hit::Frame(FramePart::Border(E::Right)));
        assert_eq!(hit(300.0, 402.0), Hit::Frame(FramePart::Border(E::Bottom)));
        assert_eq!(hit(300.0, 73.0), Hit::Frame(FramePart::Border(E::Top)));
        assert_eq!(hit(98.0, 73.0), Hit::Frame(FramePart::Border(E::TopLeft)));
        assert_eq!(
            hit(502.0, 402.0),
            Hit::Frame(FramePart::Border(E::BottomRight))
        );
    }

    #[test]
    fn a_label_reaches_past_a_narrow_window_and_has_no_buttons() {
        let label = FrameSizes {
            label_width: 120,
            buttons: false,
            ..FRAME
        };
        let narrow = Rectangle::new((100, 100).into(), (10, 10).into());
        assert_eq!(label.around(narrow).size.w, 120 + 8);
        assert!(label.button_rect(narrow, 0).is_none());
        assert_eq!(
            label.hit(narrow, (200.0, 90.0).into()),
            Hit::Frame(FramePart::Titlebar),
            "the tab past the window"
        );
        assert_eq!(
            label.hit(narrow, (200.0, 105.0).into()),
            Hit::Outside,
            "beside the window, under the tab"
        );
        assert_eq!(label.hit(narrow, (105.0, 105.0).into()), Hit::Content);
    }

    #[test]
    fn a_window_without_decorations_is_all_content() {
        let none = FrameSizes::new(0, 0);
        assert_eq!(none.hit(geo(), (100.0, 100.0).into()), Hit::Content);
        assert_eq!(none.hit(geo(), (99.0, 100.0).into()), Hit::Outside);
    }
}
