//! Pictures as bytes: screenshots (RGBA rows, encoded as PNG) and the built-in arrow cursor.

use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::utils::{Physical, Size, Transform};

/// A picture of an output, 8-bit RGBA rows.
#[derive(Debug, Clone)]
pub struct Screenshot {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA bytes, row after row.
    pub rgba: Vec<u8>,
}

impl Screenshot {
    /// Converts pixman's little-endian ARGB (bytes B, G, R, A) into RGBA.
    pub(crate) fn from_bgra(size: Size<i32, Physical>, bytes: &[u8]) -> Self {
        let (w, h) = (size.w.max(0) as usize, size.h.max(0) as usize);
        let mut rgba = Vec::with_capacity(w * h * 4);
        for px in bytes.chunks_exact(4).take(w * h) {
            rgba.extend_from_slice(&[px[2], px[1], px[0], 255]);
        }
        Self {
            width: w as u32,
            height: h as u32,
            rgba,
        }
    }

    /// Encodes the picture as PNG.
    pub fn to_png(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
            encoder.set_color(png::ColorType::Rgba);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::Fast);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&self.rgba)?;
        }
        Ok(out)
    }
}

/// The built-in arrow cursor, for named cursor shapes (Porthole ships no cursor theme).
pub fn default_cursor() -> MemoryRenderBuffer {
    const W: usize = 12;
    const H: usize = 18;
    let mut data = vec![0u8; W * H * 4];
    for y in 0..H {
        for x in 0..W {
            // A left-aligned arrow: a triangle whose right edge runs at slope 2/3 to row 12,
            // then a short tail.
            let edge = (y * 2 / 3) as isize;
            let inside = y < 13 && (x as isize) <= edge
                || (y >= 13 && x >= 3 && x <= 5 + (y - 13) / 2 && x as isize <= 6);
            let border = inside
                && (x == 0
                    || x as isize == edge
                    || y == 12
                    || (y >= 13 && (x == 3 || x as isize == 6)));
            let px = &mut data[(y * W + x) * 4..][..4];
            if border {
                px.copy_from_slice(&[0, 0, 0, 255]);
            } else if inside {
                px.copy_from_slice(&[255, 255, 255, 255]);
            }
        }
    }
    MemoryRenderBuffer::from_slice(
        &data,
        Fourcc::Argb8888,
        (W as i32, H as i32),
        1,
        Transform::Normal,
        None,
    )
}
