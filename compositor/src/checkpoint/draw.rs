//! Drawing the placeholders of a checkpointed container: each window's last frame, dimmed and
//! labelled, in its place and frame, below every live window.

use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::utils::{Logical, Point, Rectangle, Scale};

use crate::config::Color;
use crate::render::elements::OutputElement;
use crate::render::elements::{push_solids, push_text};
use crate::state::Porthole;

impl Porthole {
    /// The windows of checkpointed containers, below every live window: each its last frame,
    /// dimmed, labelled "checkpointed", in a frame of its container's colour, darkened.
    pub(crate) fn placeholder_elements<R>(
        &self,
        renderer: &mut R,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        only: Option<&str>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let (border, titlebar) = self.placeholder_frame();
        // Kept bottom first; elements go front first.
        for p in self.checkpoints.placeholders.iter().rev() {
            if p.minimized || only.is_some_and(|name| name != p.container) {
                continue;
            }
            let geo = p.geometry;
            let frame = Rectangle::new(
                (geo.loc.x - border, geo.loc.y - titlebar - border).into(),
                (geo.size.w + 2 * border, geo.size.h + titlebar + 2 * border).into(),
            );
            if !frame.overlaps(output_geo) {
                continue;
            }
            if let Some((label, size)) = &p.label_text {
                let at =
                    geo.loc + Point::from(((geo.size.w - size.w) / 2, (geo.size.h - size.h) / 2));
                push_text(renderer, label, at - output_geo.loc, scale, out);
            }
            if let Some(title) = &p.title_text {
                let at = Point::from((geo.loc.x, geo.loc.y - titlebar)) - output_geo.loc;
                push_text(renderer, title, at, scale, out);
            }
            let mut pieces = Vec::with_capacity(6);
            match &p.picture {
                Some(picture) => push_text(renderer, picture, geo.loc - output_geo.loc, scale, out),
                None => pieces.push((geo, crate::decorations::BOX_BACKGROUND)),
            }
            let color = self.placeholder_color(&p.container);
            pieces.extend([
                (
                    Rectangle::new(
                        (geo.loc.x, geo.loc.y - titlebar).into(),
                        (geo.size.w, titlebar).into(),
                    ),
                    color,
                ),
                (
                    Rectangle::new(frame.loc, (frame.size.w, border).into()),
                    color,
                ),
                (
                    Rectangle::new(
                        (frame.loc.x, frame.loc.y + frame.size.h - border).into(),
                        (frame.size.w, border).into(),
                    ),
                    color,
                ),
                (
                    Rectangle::new(frame.loc, (border, frame.size.h).into()),
                    color,
                ),
                (
                    Rectangle::new(
                        (frame.loc.x + frame.size.w - border, frame.loc.y).into(),
                        (border, frame.size.h).into(),
                    ),
                    color,
                ),
            ]);
            push_solids(
                &mut p.frame.borrow_mut(),
                pieces,
                output_geo.loc,
                scale,
                out,
            );
        }
    }

    /// The border and title bar of a placeholder's frame.
    pub fn placeholder_frame(&self) -> (i32, i32) {
        let border = i32::from(self.config.appearance.border_width.min(32)).max(2);
        let titlebar = i32::from(self.config.appearance.titlebar_height.min(64));
        (border, titlebar)
    }

    /// A placeholder's frame colour: its container's, darkened.
    pub fn placeholder_color(&self, container: &str) -> Color {
        self.containers
            .get(container)
            .map(|c| c.color)
            .unwrap_or_else(|| crate::containers::color_for(container))
            .darkened(0.6)
    }
}
