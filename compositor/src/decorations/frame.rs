//! The frame each window gets: a title bar and border where its client agreed to server-side
//! decorations; for a container's window that draws its own, the border alone, in the
//! container's colour; for a fullscreen window only a container's labelled strip.

use smithay::desktop::Window;
use smithay::reexports::wayland_protocols::xdg::decoration::zv1::server::zxdg_toplevel_decoration_v1::Mode as DecorationMode;
use smithay::reexports::wayland_protocols::xdg::shell::server::xdg_toplevel;
use smithay::utils::{Logical, Point, Rectangle};

use super::{FramePart, FrameSizes};
use crate::shell::{is_fullscreen, with_meta};
use crate::state::Porthole;

/// True when the window's client agreed to server-side decorations.
pub fn wants_server_decorations(window: &Window) -> bool {
    window
        .toplevel()
        .is_some_and(|t| t.current_state().decoration_mode == Some(DecorationMode::ServerSide))
}

impl Porthole {
    /// Sizes of the frame the compositor draws around this window: a title bar and border when
    /// the client agreed to server-side decorations; for a container's window that draws its own,
    /// the border alone, in the container's colour, which no client can leave out; for a
    /// fullscreen window only a container's labelled strip; nothing for host windows that draw
    /// their own.
    pub fn window_frame(&self, window: &Window) -> FrameSizes {
        let border = i32::from(self.config.appearance.border_width.min(32));
        let titlebar = i32::from(self.config.appearance.titlebar_height.min(64));
        if is_fullscreen(window) {
            return FrameSizes {
                border: 0,
                titlebar: self.fullscreen_strip(window),
            };
        }
        if wants_server_decorations(window) {
            return FrameSizes { border, titlebar };
        }
        if self.window_container(window).is_some() {
            return FrameSizes {
                border: border.max(2),
                titlebar: 0,
            };
        }
        FrameSizes {
            border: 0,
            titlebar: 0,
        }
    }

    /// Height of the strip a fullscreen window of this container keeps above it, showing the
    /// container's colour and name: a container cannot take the whole screen unless its
    /// configuration says so (`plain_fullscreen`, or a kiosk).
    pub fn fullscreen_strip(&self, window: &Window) -> i32 {
        match self.window_container(window) {
            Some(c) if !c.plain_fullscreen => {
                i32::from(self.config.appearance.titlebar_height.clamp(16, 64))
            }
            _ => 0,
        }
    }

    /// The container a window belongs to; `None` for the host's windows.
    pub fn window_container(&self, window: &Window) -> Option<&crate::containers::Container> {
        let name = with_meta(window, |m| m.container.clone());
        self.containers.get(name.as_str())
    }

    /// The rectangle a window covers with its decorations, given its content geometry.
    pub fn frame_rect(
        &self,
        window: &Window,
        content: Rectangle<i32, Logical>,
    ) -> Rectangle<i32, Logical> {
        // Saturating: the content geometry comes from the client and may be absurd.
        let f = self.window_frame(window);
        let (b, t) = (f.border, f.titlebar);
        Rectangle::new(
            (
                content.loc.x.saturating_sub(b),
                content.loc.y.saturating_sub(t + b),
            )
                .into(),
            (
                content.size.w.saturating_add(2 * b),
                content.size.h.saturating_add(t + 2 * b),
            )
                .into(),
        )
    }

    /// The window and the part of its frame under a point, if the point is on a decoration.
    pub fn frame_part_under(&self, pos: Point<f64, Logical>) -> Option<(Window, FramePart)> {
        for window in self.shell.space.elements().rev() {
            let Some(geo) = self.shell.space.element_geometry(window) else {
                continue;
            };
            let f = self.window_frame(window);
            let frame = self.frame_rect(window, geo);
            if !frame.to_f64().contains(pos) {
                continue;
            }
            if frame == geo {
                // No decorations: the window's own surface is what is under the point.
                return None;
            }
            if geo.to_f64().contains(pos) {
                return None;
            }
            let p = pos.to_i32_floor::<i32>();
            let title_top = geo.loc.y - f.titlebar;
            if f.titlebar > 0
                && p.y >= title_top
                && p.y < geo.loc.y
                && p.x >= geo.loc.x
                && p.x < geo.loc.x + geo.size.w
            {
                let within = |i: i32| f.button_rect(geo, i).is_some_and(|r| r.contains(p));
                let part = if within(0) {
                    FramePart::Close
                } else if within(1) {
                    FramePart::Maximize
                } else if within(2) {
                    FramePart::Minimize
                } else {
                    FramePart::Titlebar
                };
                return Some((window.clone(), part));
            }
            let mut edges = xdg_toplevel::ResizeEdge::None as u32;
            let (l, t, r, btm) = (
                xdg_toplevel::ResizeEdge::Left as u32,
                xdg_toplevel::ResizeEdge::Top as u32,
                xdg_toplevel::ResizeEdge::Right as u32,
                xdg_toplevel::ResizeEdge::Bottom as u32,
            );
            if p.x < geo.loc.x {
                edges |= l;
            }
            if p.x >= geo.loc.x + geo.size.w {
                edges |= r;
            }
            if p.y < title_top {
                edges |= t;
            }
            if p.y >= geo.loc.y + geo.size.h {
                edges |= btm;
            }
            let edge =
                xdg_toplevel::ResizeEdge::try_from(edges).unwrap_or(xdg_toplevel::ResizeEdge::None);
            return Some((window.clone(), FramePart::Border(edge)));
        }
        None
    }
}
