//! The pointer: a client's cursor surface, or Porthole's built-in arrow for named shapes.

use smithay::backend::renderer::element::memory::MemoryRenderBufferRenderElement;
use smithay::backend::renderer::element::surface::render_elements_from_surface_tree;
use smithay::backend::renderer::element::Kind;
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::input::pointer::{CursorImageAttributes, CursorImageStatus};
use smithay::utils::{IsAlive, Logical, Rectangle, Scale};
use smithay::wayland::compositor::with_states;

use crate::render::elements::OutputElement;
use crate::state::Porthole;

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
                out.extend(
                    render_elements_from_surface_tree(
                        renderer,
                        surface,
                        loc,
                        scale,
                        1.0,
                        Kind::Cursor,
                    )
                    .into_iter()
                    .map(OutputElement::Surface),
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
