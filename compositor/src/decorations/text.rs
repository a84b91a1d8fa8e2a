//! The text in title bars, placeholders and the prompt: `[container] title` labels, cleaned of
//! what could make a client's title lie, rendered with the first font found.

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::utils::Transform;
use tracing::warn;

use crate::config::Color;

/// Longest title drawn, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// Fonts tried in order; Debian's fonts-dejavu-core provides the first.
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Removes what could make a title lie about what it is: control characters (newlines, escape
/// sequences), bidirectional overrides and isolates that reorder text, zero-width characters,
/// and anything past [`MAX_TITLE_CHARS`].
pub fn sanitize_title(title: &str) -> String {
    let mut out: String = title
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\u{200B}'..='\u{200F}' // zero width, LRM, RLM
                        | '\u{202A}'..='\u{202E}' // embeddings and overrides
                        | '\u{2066}'..='\u{2069}' // isolates
                        | '\u{061C}' // arabic letter mark
                        | '\u{FEFF}'
                )
        })
        .collect();
    let trimmed = out.trim();
    if trimmed.len() != out.len() {
        out = trimmed.to_string();
    }
    if out.chars().count() > MAX_TITLE_CHARS {
        out = out.chars().take(MAX_TITLE_CHARS - 1).collect();
        out.push('…');
    }
    out
}

/// The label drawn in a title bar: `[container] title` for containers, the title for the host.
pub fn label(container: Option<&str>, title: &str) -> String {
    let title = sanitize_title(title);
    match container {
        Some(name) if title.is_empty() => format!("[{name}]"),
        Some(name) => format!("[{name}] {title}"),
        None => title,
    }
}

/// Renders title text into images.
pub struct TextRenderer {
    font: Option<FontVec>,
}

impl TextRenderer {
    /// Loads the first font that exists; without one, titles are not drawn (colours still are).
    pub fn new() -> Self {
        let font = FONT_PATHS.iter().find_map(|p| {
            let data = std::fs::read(Path::new(p)).ok()?;
            FontVec::try_from_vec(data).ok()
        });
        if font.is_none() {
            warn!(
                "no font found ({}); title bars will show no text",
                FONT_PATHS.join(", ")
            );
        }
        Self { font }
    }

    /// How wide [`TextRenderer::render`] draws `text` whole in an image `height` tall, its
    /// margins included; `None` without a font.
    pub fn width_of(&self, text: &str, height: i32) -> Option<i32> {
        let font = self.font.as_ref()?;
        let scaled = font.as_scaled(PxScale::from(height as f32 * 0.6));
        let glyphs: f32 = text
            .chars()
            .map(|c| scaled.h_advance(font.glyph_id(c)))
            .sum();
        Some(glyphs.ceil() as i32 + 8)
    }

    /// Draws `text` in `fg` on `bg`, in a `width`x`height` image, cut with an ellipsis when it
    /// does not fit. `None` when no font could be loaded or the size is empty.
    pub fn render(
        &self,
        text: &str,
        width: i32,
        height: i32,
        fg: Color,
        bg: Color,
    ) -> Option<MemoryRenderBuffer> {
        let font = self.font.as_ref()?;
        if width <= 0 || height <= 0 {
            return None;
        }
        let (w, h) = (width as usize, height as usize);
        let mut pixels = vec![0u8; w * h * 4];
        for px in pixels.chunks_exact_mut(4) {
            px.copy_from_slice(&[bg.b, bg.g, bg.r, 255]);
        }
        let scale = PxScale::from(height as f32 * 0.6);
        let scaled = font.as_scaled(scale);
        let baseline = (height as f32 + scaled.ascent() + scaled.descent()) / 2.0;
        let ellipsis_width = scaled.h_advance(font.glyph_id('…'));
        let max_x = width as f32 - 4.0;

        let mut x = 4.0f32;
        let mut glyphs = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let id = font.glyph_id(*c);
            let advance = scaled.h_advance(id);
            let last = i + 1 == chars.len();
            if x + advance > max_x
                || (!last && x + advance + ellipsis_width > max_x && {
                    // Only cut here if the rest does not fit either.
                    let rest: f32 = chars[i..]
                        .iter()
                        .map(|c| scaled.h_advance(font.glyph_id(*c)))
                        .sum();
                    x + rest > max_x
                })
            {
                glyphs.push((font.glyph_id('…'), x));
                break;
            }
            glyphs.push((id, x));
            x += advance;
        }

        for (id, gx) in glyphs {
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(gx, baseline));
            let Some(outlined) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outlined.px_bounds();
            outlined.draw(|px, py, coverage| {
                let x = bounds.min.x as i32 + px as i32;
                let y = bounds.min.y as i32 + py as i32;
                if x < 0 || y < 0 || x >= width || y >= height {
                    return;
                }
                let i = (y as usize * w + x as usize) * 4;
                let blend =
                    |f: u8, b: u8| (f as f32 * coverage + b as f32 * (1.0 - coverage)) as u8;
                pixels[i] = blend(fg.b, pixels[i]);
                pixels[i + 1] = blend(fg.g, pixels[i + 1]);
                pixels[i + 2] = blend(fg.r, pixels[i + 2]);
            });
        }
        Some(MemoryRenderBuffer::from_slice(
            &pixels,
            Fourcc::Argb8888,
            (width, height),
            1,
            Transform::Normal,
            None,
        ))
    }
}

impl Default for TextRenderer {
    fn default() -> Self {
        Self::new()
    }
}

/// Black or white, whichever reads better on `bg`.
pub fn text_color_on(bg: Color) -> Color {
    let luma = 0.299 * bg.r as f32 + 0.587 * bg.g as f32 + 0.114 * bg.b as f32;
    if luma > 150.0 {
        Color::rgb(0, 0, 0)
    } else {
        Color::rgb(255, 255, 255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_control_and_bidi_characters() {
        assert_eq!(sanitize_title("a\nb\tc\x1b[31m"), "a b c[31m");
        // RIGHT-TO-LEFT OVERRIDE would show "exe.txt" as "txt.exe".
        assert_eq!(sanitize_title("invoice\u{202E}txt.exe"), "invoicetxt.exe");
        assert_eq!(sanitize_title("\u{2066}x\u{2069}\u{200B}"), "x");
        assert_eq!(sanitize_title("  spaced  "), "spaced");
    }

    #[test]
    fn long_titles_are_cut() {
        let t = sanitize_title(&"x".repeat(1000));
        assert_eq!(t.chars().count(), MAX_TITLE_CHARS);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn container_labels_cannot_be_faked_by_the_title() {
        assert_eq!(label(Some("work"), "[bank] Login"), "[work] [bank] Login");
        assert_eq!(label(Some("work"), ""), "[work]");
        assert_eq!(label(None, "foot"), "foot");
    }

    #[test]
    fn text_is_drawn_when_the_font_exists() {
        let r = TextRenderer::new();
        if r.font.is_none() {
            // CI installs fonts-dejavu-core; without it there is nothing to draw.
            assert!(!Path::new(FONT_PATHS[0]).exists());
            return;
        }
        assert!(r
            .render(
                "[work] hello",
                200,
                24,
                Color::rgb(255, 255, 255),
                Color::rgb(0, 0, 0)
            )
            .is_some());
        assert!(r
            .render("x", 0, 24, Color::rgb(255, 255, 255), Color::rgb(0, 0, 0))
            .is_none());
    }
}
