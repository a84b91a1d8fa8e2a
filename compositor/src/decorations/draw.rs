//! Drawing what the compositor puts around windows: the frame in the container's colour, the
//! title bar with its buttons and `[container] title`, and a thin border around each popup.

use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::backend::renderer::element::solid::SolidColorBuffer;
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::desktop::{PopupManager, Window};
use smithay::utils::{Logical, Point, Rectangle, Scale};
use smithay::wayland::seat::WaylandFocus;

use crate::config::Color;
use crate::render::elements::OutputElement;
use crate::render::elements::{popup_geometry, push_solids, push_text};
use crate::shell::with_data;
use crate::state::Porthole;

/// What was drawn of a window's frame, kept in the window's data between frames so that damage
/// tracking sees unchanged pieces as unchanged and the title is rendered once.
#[derive(Debug, Default)]
struct Drawn {
    /// The solid pieces of its frame.
    pieces: Vec<SolidColorBuffer>,
    /// The borders around its popups.
    popup_pieces: Vec<SolidColorBuffer>,
    /// Its title bar text as last drawn: (label, width, height, background) and the image.
    title: Option<((String, i32, i32, Color), MemoryRenderBuffer)>,
}

fn with_drawn<R>(window: &Window, f: impl FnOnce(&mut Drawn) -> R) -> R {
    with_data(window, f)
}

const TITLEBAR_BUTTONS: [Color; 3] = [
    Color::rgb(0xd0, 0x50, 0x50), // close
    Color::rgb(0x60, 0xb0, 0x60), // maximize
    Color::rgb(0xd0, 0xb0, 0x40), // minimize
];

impl Porthole {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn frame_elements<R>(
        &self,
        renderer: &mut R,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        output_loc: Point<i32, Logical>,
        scale: Scale<f64>,
        color: Color,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let f = self.window_frame(window);
        let frame = self.frame_rect(window, geo);
        if f.titlebar > 0 {
            self.title_element(renderer, window, geo, output_loc, scale, color, out);
        }
        let mut pieces: Vec<(Rectangle<i32, Logical>, Color)> = Vec::with_capacity(8);
        // Buttons first: they are on top of the title bar.
        for (i, c) in TITLEBAR_BUTTONS.iter().enumerate() {
            if let Some(rect) = f.button_rect(geo, i as i32) {
                pieces.push((rect, *c));
            }
        }
        // Title bar, then the four borders around title bar and content.
        pieces.push((
            Rectangle::new(
                (geo.loc.x, geo.loc.y - f.titlebar).into(),
                (geo.size.w, f.titlebar).into(),
            ),
            color,
        ));
        pieces.push((
            Rectangle::new(frame.loc, (frame.size.w, f.border).into()),
            color,
        ));
        pieces.push((
            Rectangle::new(
                (frame.loc.x, frame.loc.y + frame.size.h - f.border).into(),
                (frame.size.w, f.border).into(),
            ),
            color,
        ));
        pieces.push((
            Rectangle::new(frame.loc, (f.border, frame.size.h).into()),
            color,
        ));
        pieces.push((
            Rectangle::new(
                (frame.loc.x + frame.size.w - f.border, frame.loc.y).into(),
                (f.border, frame.size.h).into(),
            ),
            color,
        ));
        with_drawn(window, |drawn| {
            push_solids(&mut drawn.pieces, pieces, output_loc, scale, out)
        });
    }

    /// A thin border in the container's colour around each of a container window's popups, so
    /// that a menu says whose it is too.
    pub(crate) fn popup_borders<R>(
        &self,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        output_loc: Point<i32, Logical>,
        scale: Scale<f64>,
        color: Color,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let Some(surface) = window.wl_surface() else {
            return;
        };
        let mut rects = Vec::new();
        for (popup, offset) in PopupManager::popups_for_surface(&surface) {
            let p = Rectangle::new(geo.loc + offset, popup_geometry(&popup).size);
            // Saturating: popup sizes come from the client.
            let (x, y, w, h) = (p.loc.x, p.loc.y, p.size.w, p.size.h);
            let (left, top) = (x.saturating_sub(1), y.saturating_sub(1));
            let (right, bottom, wide) = (
                x.saturating_add(w),
                y.saturating_add(h),
                w.saturating_add(2),
            );
            rects.extend([
                Rectangle::new((left, top).into(), (wide, 1).into()),
                Rectangle::new((left, bottom).into(), (wide, 1).into()),
                Rectangle::new((left, y).into(), (1, h).into()),
                Rectangle::new((right, y).into(), (1, h).into()),
            ]);
        }
        let pieces = rects.into_iter().map(|r| (r, color)).collect();
        with_drawn(window, |drawn| {
            push_solids(&mut drawn.popup_pieces, pieces, output_loc, scale, out)
        });
    }

    /// The title bar's text: `[container] title`, drawn by the compositor so it cannot be faked.
    #[allow(clippy::too_many_arguments)]
    fn title_element<R>(
        &self,
        renderer: &mut R,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        output_loc: Point<i32, Logical>,
        scale: Scale<f64>,
        bg: Color,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let f = self.window_frame(window);
        let width = geo.size.w - f.buttons_width();
        if width <= 8 {
            return;
        }
        let (title, _) = crate::shell::title_and_app_id(window);
        let label = crate::decorations::text::label(
            self.window_container(window).map(|c| c.name.as_str()),
            &title,
        );
        let key = (label, width, f.titlebar, bg);
        let buffer = with_drawn(window, |drawn| {
            if drawn.title.as_ref().map(|(k, _)| k) != Some(&key) {
                let fg = crate::decorations::text::text_color_on(bg);
                drawn.title = self
                    .text
                    .render(&key.0, width, f.titlebar, fg, bg)
                    .map(|buffer| (key.clone(), buffer));
            }
            drawn.title.as_ref().map(|(_, b)| b.clone())
        });
        let Some(buffer) = buffer else { return };
        let at = Point::from((geo.loc.x, geo.loc.y - f.titlebar)) - output_loc;
        push_text(renderer, &buffer, at, scale, out);
    }
}
