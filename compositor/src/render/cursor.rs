//! The pointer: a client's cursor surface, or Porthole's built-in arrow for named shapes.

use smithay::backend::renderer::element::memory::MemoryRenderBufferRenderElement;
use smithay::backend::renderer::element::surface::render_elements_from_surface_tree;
use smithay::backend::renderer::element::utils::CropRenderElement;
use smithay::backend::renderer::element::Kind;
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::input::pointer::{CursorImageAttributes, CursorImageStatus};
use smithay::utils::{IsAlive, Logical, Point, Rectangle, Scale};
use smithay::wayland::compositor::with_states;

use crate::policy::HOST_CONTAINER;
use crate::render::elements::OutputElement;
use crate::state::Porthole;

/// The largest cursor image a container's client can show, in logical pixels each way: the
/// largest themes at scale 3 are 72 x 3 = 216.
pub const MAX_CURSOR: i32 = 256;

impl Porthole {
    pub(crate) fn cursor_elements<R>(
        &self,
        renderer: &mut R,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let pos = self.pointer_location();
        if !output_geo.to_f64().contains(pos) {
            return;
        }
        let pos = pos - output_geo.loc.to_f64();
        match &self.input.cursor {
            CursorImageStatus::Hidden => {}
            CursorImageStatus::Surface(surface) if surface.alive() => {
                let hotspot = with_states(surface, |states| {
                    states
                        .data_map
                        .get::<std::sync::Mutex<CursorImageAttributes>>()
                        .and_then(|a| a.lock().ok().map(|a| a.hotspot))
                        .unwrap_or_default()
                });
                let loc = (pos - hotspot.to_f64()).to_physical(scale).to_i32_round();
                let elements = render_elements_from_surface_tree(
                    renderer,
                    surface,
                    loc,
                    scale,
                    1.0,
                    Kind::Cursor,
                );
                if self.surface_container(surface).as_deref() == Some(HOST_CONTAINER) {
                    out.extend(elements.into_iter().map(OutputElement::Surface));
                    return;
                }
                // A container's cursor is cut to a square around the pointer: an image the size
                // of the screen would draw a fake dialog over every window.
                let half = MAX_CURSOR / 2;
                let clip = Rectangle::<f64, Logical>::new(
                    pos - Point::from((half as f64, half as f64)),
                    (MAX_CURSOR as f64, MAX_CURSOR as f64).into(),
                )
                .to_physical(scale)
                .to_i32_round();
                out.extend(
                    elements
                        .into_iter()
                        .filter_map(|e| CropRenderElement::from_element(e, scale, clip))
                        .map(OutputElement::Cropped),
                );
            }
            _ => {
                let loc = pos.to_physical(scale);
                match MemoryRenderBufferRenderElement::from_buffer(
                    renderer,
                    loc,
                    &self.input.default_cursor,
                    None,
                    None,
                    None,
                    Kind::Cursor,
                ) {
                    Ok(element) => out.push(OutputElement::Cursor(element)),
                    Err(err) => tracing::warn!(?err, "cannot draw the cursor"),
                }
            }
        }
    }
}
