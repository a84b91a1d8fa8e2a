//! A window of a checkpointed container kept in its place, and what is stored of it in
//! `$XDG_RUNTIME_DIR/porthole/slots/NAME/` (`slots.json` and each window's last frame as PNG).

use std::cell::RefCell;

use porthole_ipc::{Geometry, WindowInfo};
use serde::{Deserialize, Serialize};
use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::backend::renderer::element::solid::SolidColorBuffer;
use smithay::utils::{Logical, Rectangle, Size, Transform};

pub use crate::protocols::bridge::valid_token;
use crate::protocols::bridge::BridgeState;
use crate::render::image::Screenshot;
use crate::shell::{with_data, ShellWindow};

/// The name a checkpointable container's bridge gave a window (porthole_bridge_v1.set_slot):
/// after a restore, the window with the same name takes its placeholder's place.
#[derive(Debug, Default)]
struct Slot(Option<String>);

/// The slot a window was named with, if its container's bridge named it.
pub fn slot_of<W: ShellWindow>(window: &W) -> Option<String> {
    with_data(window, |s: &mut Slot| s.0.clone())
}

/// Names a window's slot.
pub fn set_slot<W: ShellWindow>(window: &W, token: String) {
    with_data(window, |s: &mut Slot| s.0 = Some(token));
}

/// Checkpointable containers' bridges, and the placeholders of checkpointed containers.
#[derive(Debug)]
pub struct Checkpoints {
    /// The bridges of checkpointable containers (porthole_bridge_v1).
    pub bridges: BridgeState,
    /// Windows of checkpointed containers, kept in place until they come back.
    pub placeholders: Vec<Placeholder>,
    /// Records of bridged containers, for the next compositor (see `live.rs`).
    pub live: super::live::LiveState,
}

/// How dark a placeholder's picture is drawn: a quarter of its brightness is taken away twice.
const DIM: u32 = 45;

/// A window of a checkpointed container, kept in its place until the window comes back.
#[derive(Debug)]
pub struct Placeholder {
    /// Listed by `porthole windows`, as checkpointed.
    pub id: u64,
    pub container: String,
    /// The name the container's bridge gave the window (porthole_bridge_v1.set_slot).
    pub token: String,
    pub title: String,
    pub app_id: String,
    /// The window's content area, in desktop coordinates.
    pub geometry: Rectangle<i32, Logical>,
    pub output: Option<String>,
    /// It had the keyboard focus: it gets it back.
    pub focused: bool,
    /// It was minimized: it is not drawn, and comes back minimized.
    pub minimized: bool,
    /// It was maximized or fullscreen, and comes back so; `restore` is where it was before.
    pub maximized: bool,
    pub fullscreen: bool,
    pub restore: Option<Rectangle<i32, Logical>>,
    /// Windows that were above it (ids of other windows, tokens of the container's own, and
    /// the slots of other bridged containers' windows), which it goes back under.
    pub above_ids: Vec<u64>,
    pub above_tokens: Vec<String>,
    pub above_slots: Vec<(String, String)>,
    /// It waits for a bridge that lost the compositor, rather than for a restore.
    pub reconnecting: bool,
    /// Its place in the whole desktop's stacking when it was kept, bottom first.
    pub stack: usize,
    /// Its last frame, dimmed.
    pub picture: Option<MemoryRenderBuffer>,
    /// Drawing state kept between frames.
    pub frame: RefCell<Vec<SolidColorBuffer>>,
    /// Its title bar's text, and the "checkpointed" label with its size.
    pub title_text: Option<MemoryRenderBuffer>,
    pub label_text: Option<(MemoryRenderBuffer, Size<i32, Logical>)>,
}

/// What is stored of a placeholder (`slots.json`).
#[derive(Debug, Serialize, Deserialize)]
pub struct SlotRecord {
    pub token: String,
    pub title: String,
    pub app_id: String,
    pub geometry: Geometry,
    pub output: Option<String>,
    pub focused: bool,
    pub above_tokens: Vec<String>,
    /// (container, token) of other containers' windows above it.
    #[serde(default)]
    pub above_slots: Vec<(String, String)>,
    /// Its place in the whole desktop's stacking, bottom first.
    #[serde(default)]
    pub stack: usize,
    #[serde(default)]
    pub minimized: bool,
    #[serde(default)]
    pub maximized: bool,
    #[serde(default)]
    pub fullscreen: bool,
    #[serde(default)]
    pub restore: Option<Geometry>,
}

impl SlotRecord {
    /// Whether a stored slot can be shown: its token names a file, and its places fit a frame
    /// (the stored slots are the user's to edit).
    pub fn is_sane(&self) -> bool {
        valid_token(&self.token)
            && sane_geometry(to_rectangle(self.geometry))
            && self.restore.is_none_or(|g| sane_geometry(to_rectangle(g)))
    }
}

pub fn to_geometry(r: Rectangle<i32, Logical>) -> Geometry {
    Geometry {
        x: r.loc.x,
        y: r.loc.y,
        width: r.size.w,
        height: r.size.h,
    }
}

pub fn to_rectangle(g: Geometry) -> Rectangle<i32, Logical> {
    Rectangle::new((g.x, g.y).into(), (g.width, g.height).into())
}

/// Whether a placeholder can be drawn at `g` without overflowing its frame's arithmetic. A
/// client sets its window geometry as it likes, and the stored slots are the user's to edit.
pub fn sane_geometry(g: Rectangle<i32, Logical>) -> bool {
    (1..=16384).contains(&g.size.w)
        && (1..=16384).contains(&g.size.h)
        && g.loc.x.unsigned_abs() <= 1 << 20
        && g.loc.y.unsigned_abs() <= 1 << 20
}

/// A picture for a placeholder: the window's last frame, darker.
pub fn dimmed(shot: &Screenshot) -> Option<MemoryRenderBuffer> {
    if shot.width == 0 || shot.height == 0 {
        return None;
    }
    let mut bgra = Vec::with_capacity(shot.rgba.len());
    for px in shot.rgba.chunks_exact(4) {
        let dim = |c: u8| (u32::from(c) * DIM / 100) as u8;
        bgra.extend_from_slice(&[dim(px[2]), dim(px[1]), dim(px[0]), 255]);
    }
    Some(MemoryRenderBuffer::from_slice(
        &bgra,
        Fourcc::Argb8888,
        (shot.width as i32, shot.height as i32),
        1,
        Transform::Normal,
        None,
    ))
}

impl Placeholder {
    pub fn info(&self) -> WindowInfo {
        WindowInfo {
            id: self.id,
            app_id: self.app_id.clone(),
            title: self.title.clone(),
            container: self.container.clone(),
            output: self.output.clone(),
            geometry: to_geometry(self.geometry),
            focused: false,
            maximized: self.maximized,
            fullscreen: self.fullscreen,
            minimized: self.minimized,
            checkpointed: true,
            reconnecting: self.reconnecting,
            slot: Some(self.token.clone()),
            attention: false,
        }
    }

    /// A placeholder `id` for a stored slot of `container`, in its place (its picture is the
    /// caller's to add).
    pub fn from_record(id: u64, container: &str, record: &SlotRecord, reconnecting: bool) -> Self {
        Self {
            id,
            container: container.to_string(),
            token: record.token.clone(),
            title: record.title.clone(),
            app_id: record.app_id.clone(),
            geometry: to_rectangle(record.geometry),
            output: record.output.clone(),
            focused: record.focused,
            minimized: record.minimized,
            maximized: record.maximized,
            fullscreen: record.fullscreen,
            restore: record.restore.map(to_rectangle),
            // Ids were the last compositor's.
            above_ids: Vec::new(),
            above_tokens: record.above_tokens.clone(),
            above_slots: record.above_slots.clone(),
            reconnecting,
            stack: record.stack,
            picture: None,
            frame: RefCell::default(),
            title_text: None,
            label_text: None,
        }
    }

    pub fn record(&self) -> SlotRecord {
        let info = self.info();
        SlotRecord {
            token: self.token.clone(),
            title: self.title.clone(),
            app_id: self.app_id.clone(),
            geometry: info.geometry,
            output: self.output.clone(),
            focused: self.focused,
            above_tokens: self.above_tokens.clone(),
            above_slots: self.above_slots.clone(),
            stack: self.stack,
            minimized: self.minimized,
            maximized: self.maximized,
            fullscreen: self.fullscreen,
            restore: self.restore.map(to_geometry),
        }
    }
}

/// Reads a stored picture back.
pub fn read_png(path: &std::path::Path) -> Option<Screenshot> {
    let file = std::fs::File::open(path).ok()?;
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).ok()?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return None;
    }
    buf.truncate(info.buffer_size());
    Some(Screenshot {
        width: info.width,
        height: info.height,
        rgba: buf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_refuse_geometry_their_frame_cannot_hold() {
        let rect = |x, y, w, h| Rectangle::new((x, y).into(), (w, h).into());
        assert!(sane_geometry(rect(-1280, 20, 640, 480)));
        assert!(!sane_geometry(rect(0, 0, i32::MAX, 10)));
        assert!(!sane_geometry(rect(i32::MIN, 0, 10, 10)));
        assert!(!sane_geometry(rect(0, 0, 0, 10)));
    }

    #[test]
    fn tokens_are_safe_file_names() {
        assert!(valid_token("x11-4194305"));
        assert!(valid_token("wl-12"));
        assert!(!valid_token(""));
        assert!(!valid_token("../etc"));
        assert!(!valid_token("a/b"));
        assert!(!valid_token(&"a".repeat(65)));
    }
}
