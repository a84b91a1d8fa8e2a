//! The frame each window gets: a title bar and border where its client agreed to server-side
//! decorations; for a container's window that draws its own, a border and a strip with
//! `[container] title` in the container's colour, without buttons, which no client can leave out
//! (a tab wider than the window where the window is too narrow for the name); for a fullscreen
//! window only a container's labelled strip; nothing for host windows that draw their own.

use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;

use super::FrameSizes;
use crate::config::AppearanceConfig;
use crate::containers::{Container, Containers};
use crate::shell::{container_name, is_fullscreen, Frames, ShellWindow};

/// True when the window's client agreed to server-side decorations.
pub fn wants_server_decorations<W: ShellWindow>(window: &W) -> bool {
    window.current_state().decoration_mode == Some(DecorationMode::ServerSide)
}

/// How wide a strip `height` tall must be to show `[name]` whole: the title font is 0.6 of the
/// strip's height, and no glyph of a container name (a-z, 0-9, '-', '_') is wider than the
/// font's size; 4 pixels of padding each side.
pub fn label_width(name: &str, height: i32) -> i32 {
    let glyphs = name.chars().count() as f32 + 3.0; // the brackets, and room for the ellipsis
    (glyphs * height as f32 * 0.6).ceil() as i32 + 8
}

/// The frames windows get, from the configuration and each window's container.
#[derive(Clone, Copy)]
pub struct WindowFrames<'a> {
    appearance: &'a AppearanceConfig,
    containers: &'a Containers,
}

impl<'a> WindowFrames<'a> {
    /// Frames as `appearance` sizes them, for the windows of `containers`.
    pub fn new(appearance: &'a AppearanceConfig, containers: &'a Containers) -> Self {
        Self {
            appearance,
            containers,
        }
    }

    /// The container a window belongs to; `None` for the host's windows.
    pub fn container<W: ShellWindow>(&self, window: &W) -> Option<&'a Container> {
        self.containers.get(container_name(window))
    }

    /// Sizes of the frame the compositor draws around `window` as it is now.
    pub fn frame<W: ShellWindow>(&self, window: &W) -> FrameSizes {
        if is_fullscreen(window) {
            return FrameSizes::new(0, self.strip(window));
        }
        self.windowed(window)
    }

    /// Sizes of the frame `window` has when it is not fullscreen.
    pub fn windowed<W: ShellWindow>(&self, window: &W) -> FrameSizes {
        let border = i32::from(self.appearance.border_width.min(32));
        let titlebar = i32::from(self.appearance.titlebar_height.min(64));
        if wants_server_decorations(window) {
            return FrameSizes::new(border, titlebar);
        }
        if let Some(container) = self.container(window) {
            // A window that draws its own decorations still gets the container's name above
            // it, on a strip of its own that it cannot cover or leave out.
            let titlebar = self.label_height();
            return FrameSizes {
                border: border.max(2),
                titlebar,
                label_width: label_width(container.name.as_str(), titlebar),
                buttons: false,
            };
        }
        FrameSizes::new(0, 0)
    }

    /// Height of the strip a fullscreen window of this container keeps above it, showing the
    /// container's colour and name: a container cannot take the whole screen unless its
    /// configuration says so (`plain_fullscreen`, or a kiosk).
    pub fn strip<W: ShellWindow>(&self, window: &W) -> i32 {
        match self.container(window) {
            Some(c) if !c.plain_fullscreen => self.label_height(),
            _ => 0,
        }
    }

    /// Height of a strip that carries a container's name: tall enough to read.
    fn label_height(&self) -> i32 {
        i32::from(self.appearance.titlebar_height.clamp(16, 64))
    }
}

impl<W: ShellWindow> Frames<W> for WindowFrames<'_> {
    fn frame(&self, window: &W) -> FrameSizes {
        WindowFrames::frame(self, window)
    }

    fn windowed(&self, window: &W) -> FrameSizes {
        WindowFrames::windowed(self, window)
    }
}
