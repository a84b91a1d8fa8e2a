//! What an output shows: every window's surfaces, cut to their frames where they are a
//! container's, the decorations, placeholders, the prompt and the pointer, front to back.

pub mod cursor;
pub mod elements;
pub mod image;
pub mod screenshot;

use smithay::backend::renderer::element::surface::{
    render_elements_from_surface_tree, WaylandSurfaceRenderElement,
};
use smithay::backend::renderer::element::utils::CropRenderElement;
use smithay::backend::renderer::element::{AsRenderElements, Kind};
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::desktop::{PopupManager, Window};
use smithay::output::Output;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{Logical, Point, Rectangle, Scale};
use smithay::wayland::seat::WaylandFocus;

use crate::shell::container_name;
use crate::state::Porthole;

use self::elements::{popup_geometry, OCCLUDING_WINDOWS};
pub use self::elements::{CursorMode, OutputElement};
pub use self::image::Screenshot;

impl Porthole {
    /// The elements of one output, front to back.
    pub fn output_elements<R>(
        &self,
        renderer: &mut R,
        output: &Output,
        cursor: CursorMode,
        only: Option<&str>,
    ) -> Vec<OutputElement<R>>
    where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let Some(output_geo) = self.shell.output_geometry(output) else {
            return Vec::new();
        };
        let scale = Scale::from(output.current_scale().fractional_scale());
        let mut elements = Vec::new();

        if cursor == CursorMode::Draw {
            self.cursor_elements(renderer, output_geo, scale, &mut elements);
        }
        if only.is_none() {
            self.prompt_elements(renderer, output_geo, scale, &mut elements);
        }

        let front = elements.len();
        let focused = self.focused_window();
        let mut shown = 0;
        // What the windows above the one being drawn cover: their frames, then their popups.
        let mut frames_above: Vec<Rectangle<i32, Logical>> = Vec::new();
        let mut popups_above: Vec<Rectangle<i32, Logical>> = Vec::new();
        // Container labels lifted above everything of other containers.
        let mut labels = Vec::new();
        for window in self.shell.windows().rev() {
            if only.is_some_and(|name| container_name(window) != name)
                || !self.shown_on(window, output)
            {
                continue;
            }
            let Some(geo) = self.shell.geometry(window) else {
                continue;
            };
            let frame = self.frame_rect(window, geo);
            let bbox = self
                .shell
                .bbox(window)
                .map(|b| b.merge(frame))
                .unwrap_or(frame);
            if !bbox.overlaps(output_geo) {
                continue;
            }
            // The window's render location is where its buffer's origin goes, which is the
            // geometry's location minus the geometry's offset inside the buffer.
            let loc = geo.loc - window.geometry().loc - output_geo.loc;
            let first = elements.len();
            if let Some(c) = self.window_container(window) {
                let color = c.color;
                self.popup_borders(
                    renderer,
                    window,
                    geo,
                    output_geo.loc,
                    scale,
                    color,
                    &mut elements,
                );
                self.cropped_window(renderer, window, geo, output_geo.loc, scale, &mut elements);
            } else {
                // Host windows are trusted: CSD shadows and all.
                elements.extend(
                    window
                        .render_elements::<WaylandSurfaceRenderElement<R>>(
                            renderer,
                            loc.to_physical_precise_round(scale),
                            scale,
                            1.0,
                        )
                        .into_iter()
                        .map(OutputElement::Surface),
                );
            }
            if shown >= OCCLUDING_WINDOWS {
                let deep: Vec<_> = elements
                    .drain(first..)
                    .map(OutputElement::unoccluding)
                    .collect();
                elements.extend(deep);
            }
            shown += 1;
            let container = self.window_container(window).map(|c| c.name.to_string());
            let covers = self.covered_rects(window, geo, frame);
            let f = self.window_frame(window);
            if f.border > 0 || f.titlebar > 0 {
                let is_focused = focused.as_ref() == Some(window);
                let color = match self.window_container(window) {
                    // A container's colour stays recognisable when unfocused: only darker.
                    Some(c) if is_focused => c.color,
                    Some(c) => c.color.darkened(0.6),
                    None if is_focused => self.config.appearance.focused,
                    None => self.config.appearance.unfocused,
                };
                let mut title = Vec::new();
                let mut border = Vec::new();
                self.frame_elements(
                    renderer,
                    window,
                    geo,
                    output_geo.loc,
                    scale,
                    color,
                    &mut title,
                    &mut border,
                );
                let label = Rectangle::new(frame.loc, (frame.size.w, f.titlebar + f.border).into());
                let popups = popups_above.iter().chain(&covers[1..]);
                if container.is_some() && label_lifted(label, &frames_above, popups) {
                    labels.extend(title);
                } else {
                    elements.extend(title);
                }
                elements.extend(border);
            }
            frames_above.push(covers[0]);
            popups_above.extend_from_slice(&covers[1..]);
        }
        // Lifted labels go in front of every window, behind the pointer and the prompt.
        elements.splice(front..front, labels);
        self.placeholder_elements(renderer, output_geo, scale, only, &mut elements);
        if only.is_none() {
            self.splash_elements(renderer, output, output_geo, scale, &mut elements);
        }
        elements
    }

    /// The rectangles a window covers: its frame and its popups.
    fn covered_rects(
        &self,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        frame: Rectangle<i32, Logical>,
    ) -> Vec<Rectangle<i32, Logical>> {
        let mut rects = vec![frame];
        if let Some(surface) = window.wl_surface() {
            for (popup, offset) in PopupManager::popups_for_surface(&surface) {
                rects.push(Rectangle::new(
                    geo.loc + offset,
                    popup_geometry(&popup).size,
                ));
            }
        }
        rects
    }

    /// A container's window, its popups first: each surface tree cut to its window geometry, so
    /// that nothing a container draws (subsurfaces, shadows) lands outside the frame and borders
    /// the compositor draws around it.
    fn cropped_window<R>(
        &self,
        renderer: &mut R,
        window: &Window,
        geo: Rectangle<i32, Logical>,
        output_loc: Point<i32, Logical>,
        scale: Scale<f64>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let Some(surface) = window.wl_surface() else {
            return;
        };
        let mut tree = |surface: &WlSurface,
                        buffer_origin: Point<i32, Logical>,
                        visible: Rectangle<i32, Logical>,
                        out: &mut Vec<OutputElement<R>>| {
            let crop = Rectangle::new(visible.loc - output_loc, visible.size)
                .to_physical_precise_round(scale);
            let elements: Vec<WaylandSurfaceRenderElement<R>> = render_elements_from_surface_tree(
                renderer,
                surface,
                (buffer_origin - output_loc).to_physical_precise_round(scale),
                scale,
                1.0,
                Kind::Unspecified,
            );
            out.extend(
                elements
                    .into_iter()
                    .filter_map(|e| CropRenderElement::from_element(e, scale, crop))
                    .map(OutputElement::Cropped),
            );
        };
        for (popup, offset) in PopupManager::popups_for_surface(&surface) {
            let popup_geo = popup_geometry(&popup);
            let visible = Rectangle::new(geo.loc + offset, popup_geo.size);
            tree(
                popup.wl_surface(),
                visible.loc - popup_geo.loc,
                visible,
                out,
            );
        }
        tree(&surface, geo.loc - window.geometry().loc, geo, out);
    }
}

/// Whether a container window's label (its title strip, `label`) is drawn in front of every
/// window rather than in its place in the stack: when a popup (a menu, an X11 override-redirect
/// window), its own or another window's, lies over it and no window above does. Popups go where
/// their client puts them, so a container could otherwise hide another's name under a menu
/// showing a fake one; a window stacked above covers the label as it covers the rest, and shows
/// its own.
fn label_lifted<'a>(
    label: Rectangle<i32, Logical>,
    frames_above: &[Rectangle<i32, Logical>],
    mut popups: impl Iterator<Item = &'a Rectangle<i32, Logical>>,
) -> bool {
    !frames_above.iter().any(|r| r.overlaps(label)) && popups.any(|r| r.overlaps(label))
}
