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
    /// The solid pieces of its border.
    pieces: Vec<SolidColorBuffer>,
    /// The solid pieces of its title bar (or label strip) and buttons.
    title_pieces: Vec<SolidColorBuffer>,
    /// The borders around its popups.
    popup_pieces: Vec<SolidColorBuffer>,
    /// Its title bar text as last drawn: (label, width, height, background) and the image.
    title: Option<((String, i32, i32, Color), MemoryRenderBuffer)>,
    /// The `[container]` tab of its popups that reach outside it, as last drawn.
    popup_label: Option<((String, i32, i32, Color), MemoryRenderBuffer)>,
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
    /// A window's frame: its title bar or label strip into `title`, its border into `border`
    /// (the caller decides where in the stack the title goes: see `render/`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn frame_elements<R>(
        &self,
        renderer: &mut R,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        output_loc: Point<i32, Logical>,
        scale: Scale<f64>,
        color: Color,
        title: &mut Vec<OutputElement<R>>,
        border: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let f = self.window_frame(window);
        if f.titlebar > 0 {
            self.title_element(renderer, window, geo, output_loc, scale, color, title);
        }
        let mut title_pieces: Vec<(Rectangle<i32, Logical>, Color)> = Vec::with_capacity(4);
        // Buttons first: they are on top of the title bar.
        for (i, c) in TITLEBAR_BUTTONS.iter().enumerate() {
            if let Some(rect) = f.button_rect(geo, i as i32) {
                title_pieces.push((rect, *c));
            }
        }
        title_pieces.push((f.title_rect(geo), color));
        with_drawn(window, |drawn| {
            push_solids(
                &mut drawn.title_pieces,
                title_pieces,
                output_loc,
                scale,
                title,
            )
        });
        // The four borders around title bar and content.
        let frame = f.border_rect(geo);
        let b = f.border;
        let pieces = vec![
            (Rectangle::new(frame.loc, (frame.size.w, b).into()), color),
            (
                Rectangle::new(
                    (frame.loc.x, frame.loc.y + frame.size.h - b).into(),
                    (frame.size.w, b).into(),
                ),
                color,
            ),
            (Rectangle::new(frame.loc, (b, frame.size.h).into()), color),
            (
                Rectangle::new(
                    (frame.loc.x + frame.size.w - b, frame.loc.y).into(),
                    (b, frame.size.h).into(),
                ),
                color,
            ),
        ];
        with_drawn(window, |drawn| {
            push_solids(&mut drawn.pieces, pieces, output_loc, scale, border)
        });
    }

    /// A thin border in the container's colour around each of a container window's popups, so
    /// that a menu says whose it is too; a popup that reaches outside its window's content
    /// (over its label, other windows, or where there is none) also gets a tab with
    /// `[container]` on it, as a window does.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn popup_borders<R>(
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
        let Some(surface) = window.wl_surface() else {
            return;
        };
        let name = self.window_container(window).map(|c| c.name.to_string());
        let mut rects = Vec::new();
        for (popup, offset) in PopupManager::popups_for_surface(&surface) {
            let p = Rectangle::new(geo.loc + offset, popup_geometry(&popup).size);
            if let Some(name) = name.as_deref().filter(|_| !geo.contains_rect(p)) {
                let tab = self.popup_tab(window, name, color);
                if let Some((buffer, size)) = tab {
                    // Above the popup, or over its top where that is off the output.
                    let x = p.loc.x.saturating_sub(1).max(output_loc.x);
                    let y = p.loc.y.saturating_sub(1 + size.h).max(output_loc.y);
                    push_text(
                        renderer,
                        &buffer,
                        Point::from((x, y)) - output_loc,
                        scale,
                        out,
                    );
                }
            }
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

    /// The `[container]` tab above a popup that reaches outside its window, and its size.
    fn popup_tab(
        &self,
        window: &Window,
        name: &str,
        bg: Color,
    ) -> Option<(MemoryRenderBuffer, smithay::utils::Size<i32, Logical>)> {
        let height = i32::from(self.config.appearance.titlebar_height.clamp(16, 64));
        let width = crate::decorations::frame::label_width(name, height);
        let key = (
            crate::decorations::text::label(Some(name), ""),
            width,
            height,
            bg,
        );
        let buffer = with_drawn(window, |drawn| {
            if drawn.popup_label.as_ref().map(|(k, _)| k) != Some(&key) {
                let fg = crate::decorations::text::text_color_on(bg);
                drawn.popup_label = self
                    .text
                    .render(&key.0, width, height, fg, bg)
                    .map(|buffer| (key.clone(), buffer));
            }
            drawn.popup_label.as_ref().map(|(_, b)| b.clone())
        })?;
        Some((buffer, (width, height).into()))
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
        let width = f.title_rect(geo).size.w - f.buttons_width();
        if width <= 8 {
            return;
        }
        let (title, _) = crate::shell::title_and_app_id(window);
        let container = self.window_container(window).map(|c| c.name.as_str());
        let attention = container.is_some() && crate::shell::windows::wants_attention(window);
        let title = if attention {
            format!("(wants attention) {title}")
        } else {
            title
        };
        let label = crate::decorations::text::label(container, &title);
        // A window that wants attention shows its label in reverse.
        let fg = crate::decorations::text::text_color_on(bg);
        let (fg, bg) = if attention { (bg, fg) } else { (fg, bg) };
        let key = (label, width, f.titlebar, bg);
        let buffer = with_drawn(window, |drawn| {
            if drawn.title.as_ref().map(|(k, _)| k) != Some(&key) {
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
