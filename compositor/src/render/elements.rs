//! The building blocks of what Porthole draws itself: solid pieces kept between frames, lines
//! of text, and elements that hide nothing below them from the damage tracker.

use smithay::backend::renderer::element::memory::{
    MemoryRenderBuffer, MemoryRenderBufferRenderElement,
};
use smithay::backend::renderer::element::solid::{SolidColorBuffer, SolidColorRenderElement};
use smithay::backend::renderer::element::surface::WaylandSurfaceRenderElement;
use smithay::backend::renderer::element::utils::CropRenderElement;
use smithay::backend::renderer::element::{Element, Id, Kind, RenderElement};
use smithay::backend::renderer::utils::{CommitCounter, DamageSet};
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::desktop::utils::bbox_from_surface_tree;
use smithay::utils::{
    Buffer as BufferCoords, Logical, Physical, Point, Rectangle, Scale, Size, Transform,
};

use crate::config::Color;

smithay::backend::renderer::element::render_elements! {
    /// Everything Porthole draws on an output.
    pub OutputElement<R> where R: ImportAll + ImportMem;
    /// A client's surface.
    Surface = WaylandSurfaceRenderElement<R>,
    /// A container client's surface, cut to its window's (or popup's) frame.
    Cropped = CropRenderElement<WaylandSurfaceRenderElement<R>>,
    /// A surface of a window deep in the stack (see [`Unoccluding`]).
    DeepSurface = Unoccluding<WaylandSurfaceRenderElement<R>>,
    /// A container surface of a window deep in the stack.
    DeepCropped = Unoccluding<CropRenderElement<WaylandSurfaceRenderElement<R>>>,
    /// A piece of a decoration.
    Solid = Unoccluding<SolidColorRenderElement>,
    /// The built-in cursor.
    Cursor = MemoryRenderBufferRenderElement<R>,
}

/// Whether screenshots and frames include the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorMode {
    /// Draw the cursor (what a person sees on a display).
    Draw,
    /// Leave it out (screenshots).
    Hide,
}

/// Draws solid rectangles through buffers kept between frames (one per rectangle, reused in
/// order), so that damage tracking sees unchanged pieces as unchanged.
pub(crate) fn push_solids<R>(
    buffers: &mut Vec<SolidColorBuffer>,
    pieces: Vec<(Rectangle<i32, Logical>, Color)>,
    output_loc: Point<i32, Logical>,
    scale: Scale<f64>,
    out: &mut Vec<OutputElement<R>>,
) where
    R: Renderer + ImportAll + ImportMem,
    R::TextureId: Clone + Texture + Send + 'static,
{
    buffers.resize_with(pieces.len(), || {
        SolidColorBuffer::new(Size::default(), [0.0; 4])
    });
    for (buffer, (rect, color)) in buffers.iter_mut().zip(pieces) {
        if rect.size.w <= 0 || rect.size.h <= 0 {
            continue;
        }
        buffer.update(rect.size, color.to_f32_premultiplied());
        let loc = (rect.loc - output_loc).to_physical_precise_round(scale);
        out.push(OutputElement::Solid(Unoccluding(
            SolidColorRenderElement::from_buffer(buffer, loc, scale, 1.0, Kind::Unspecified),
        )));
    }
}

/// Draws a line of text the compositor rendered, with its top-left corner at `at` (logical,
/// relative to the output).
pub(crate) fn push_text<R>(
    renderer: &mut R,
    buffer: &MemoryRenderBuffer,
    at: Point<i32, Logical>,
    scale: Scale<f64>,
    out: &mut Vec<OutputElement<R>>,
) where
    R: Renderer + ImportAll + ImportMem,
    R::TextureId: Clone + Texture + Send + 'static,
{
    let at = at.to_physical_precise_round::<f64, i32>(scale).to_f64();
    match MemoryRenderBufferRenderElement::from_buffer(
        renderer,
        at,
        buffer,
        None,
        None,
        None,
        Kind::Unspecified,
    ) {
        Ok(element) => out.push(OutputElement::Cursor(element)),
        Err(err) => tracing::warn!(?err, "cannot draw text"),
    }
}

/// An element that claims no opaque region: solid pieces of what the compositor draws (frames,
/// title bars, popup borders, the prompt), and the surfaces of windows deep in the stack.
///
/// smithay's damage tracker cuts every element by the opaque regions of all elements above it,
/// every frame, and cascaded windows cut each other into ever more pieces: with 200 framed
/// windows that cost grew much faster than their number (profiled: three quarters of the
/// compositor's time with eight opaque frame pieces per window, then still 27% of it, 60% of
/// rendering, with one opaque surface per window). Frame pieces are thin, so hiding what lies
/// under them saves nothing. A
/// window below the top [`OCCLUDING_WINDOWS`] is drawn where it is damaged even if windows above
/// cover it, which costs little, since damage is small and each pixel is drawn once per layer.
pub struct Unoccluding<E>(pub E);

/// How many windows of an output, from the top, hide what lies under them from the damage
/// tracker.
pub(super) const OCCLUDING_WINDOWS: usize = 16;

impl<E: Element> Element for Unoccluding<E> {
    fn id(&self) -> &Id {
        self.0.id()
    }

    fn current_commit(&self) -> CommitCounter {
        self.0.current_commit()
    }

    fn location(&self, scale: Scale<f64>) -> Point<i32, Physical> {
        self.0.location(scale)
    }

    fn src(&self) -> Rectangle<f64, BufferCoords> {
        self.0.src()
    }

    fn transform(&self) -> Transform {
        self.0.transform()
    }

    fn geometry(&self, scale: Scale<f64>) -> Rectangle<i32, Physical> {
        self.0.geometry(scale)
    }

    fn damage_since(
        &self,
        scale: Scale<f64>,
        commit: Option<CommitCounter>,
    ) -> DamageSet<i32, Physical> {
        self.0.damage_since(scale, commit)
    }

    fn alpha(&self) -> f32 {
        self.0.alpha()
    }

    fn kind(&self) -> Kind {
        self.0.kind()
    }
}

impl<R: Renderer, E: RenderElement<R>> RenderElement<R> for Unoccluding<E> {
    fn draw(
        &self,
        frame: &mut R::Frame<'_, '_>,
        src: Rectangle<f64, BufferCoords>,
        dst: Rectangle<i32, Physical>,
        damage: &[Rectangle<i32, Physical>],
        opaque_regions: &[Rectangle<i32, Physical>],
    ) -> Result<(), R::Error> {
        self.0.draw(frame, src, dst, damage, opaque_regions)
    }
}

impl<R> OutputElement<R>
where
    R: Renderer + ImportAll + ImportMem,
    R::TextureId: Clone + Texture + Send + 'static,
{
    /// The same element, claiming no opaque region.
    pub(super) fn unoccluding(self) -> Self {
        match self {
            OutputElement::Surface(e) => OutputElement::DeepSurface(Unoccluding(e)),
            OutputElement::Cropped(e) => OutputElement::DeepCropped(Unoccluding(e)),
            other => other,
        }
    }
}

/// A popup's window geometry; for a popup that set none (as the X11 bridge's menus), the extent
/// of its surfaces, as smithay does for toplevels.
pub(crate) fn popup_geometry(popup: &smithay::desktop::PopupKind) -> Rectangle<i32, Logical> {
    let geometry = popup.geometry();
    if geometry.size.w > 0 && geometry.size.h > 0 {
        geometry
    } else {
        bbox_from_surface_tree(popup.wl_surface(), (0, 0))
    }
}
