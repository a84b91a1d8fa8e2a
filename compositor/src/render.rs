//! What an output shows: the render element list, frame callbacks and presentation feedback
//! after a frame, and screenshots.

use std::time::{Duration, Instant};

use anyhow::Context;
use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::damage::OutputDamageTracker;
use smithay::backend::renderer::element::memory::{
    MemoryRenderBuffer, MemoryRenderBufferRenderElement,
};
use smithay::backend::renderer::element::solid::{SolidColorBuffer, SolidColorRenderElement};
use smithay::backend::renderer::element::surface::{
    render_elements_from_surface_tree, WaylandSurfaceRenderElement,
};
use smithay::backend::renderer::element::utils::CropRenderElement;
use smithay::backend::renderer::element::{
    AsRenderElements, Element, Id, Kind, RenderElement, RenderElementStates,
};
use smithay::backend::renderer::utils::{CommitCounter, DamageSet};
use smithay::backend::renderer::{
    Bind, ExportMem, ImportAll, ImportMem, Offscreen, Renderer, Texture,
};
use smithay::desktop::utils::{
    bbox_from_surface_tree, surface_presentation_feedback_flags_from_states,
    surface_primary_scanout_output, update_surface_primary_scanout_output,
    OutputPresentationFeedback,
};
use smithay::desktop::{PopupManager, Window};
use smithay::input::pointer::{CursorImageAttributes, CursorImageStatus};
use smithay::output::Output;
use smithay::reexports::wayland_protocols::wp::presentation_time::server::wp_presentation_feedback;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::utils::{
    Buffer as BufferCoords, IsAlive, Logical, Monotonic, Physical, Point, Rectangle, Scale, Size,
    Time, Transform,
};
use smithay::wayland::compositor::with_states;
use smithay::wayland::presentation::Refresh;
use smithay::wayland::seat::WaylandFocus;

use crate::config::Color;
use crate::shell::with_meta;
use crate::state::Porthole;

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

/// Solid pieces of a window's server-side frame, kept between frames so that damage tracking
/// sees them as unchanged when nothing changed.
#[derive(Debug, Default)]
pub struct FrameBuffers {
    pieces: Vec<SolidColorBuffer>,
    popup_pieces: Vec<SolidColorBuffer>,
}

/// Draws solid rectangles through buffers kept between frames (one per rectangle, reused in
/// order), so that damage tracking sees unchanged pieces as unchanged.
fn push_solids<R>(
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
fn push_text<R>(
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
pub struct Unoccluding<E>(E);

/// How many windows of an output, from the top, hide what lies under them from the damage
/// tracker.
const OCCLUDING_WINDOWS: usize = 16;

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
    fn unoccluding(self) -> Self {
        match self {
            OutputElement::Surface(e) => OutputElement::DeepSurface(Unoccluding(e)),
            OutputElement::Cropped(e) => OutputElement::DeepCropped(Unoccluding(e)),
            other => other,
        }
    }
}

/// A popup's window geometry; for a popup that set none (as the X11 bridge's menus), the extent
/// of its surfaces, as smithay does for toplevels.
fn popup_geometry(popup: &smithay::desktop::PopupKind) -> Rectangle<i32, Logical> {
    let geometry = popup.geometry();
    if geometry.size.w > 0 && geometry.size.h > 0 {
        geometry
    } else {
        bbox_from_surface_tree(popup.wl_surface(), (0, 0))
    }
}

/// Whether screenshots and frames include the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorMode {
    /// Draw the cursor (what a person sees on a display).
    Draw,
    /// Leave it out (screenshots).
    Hide,
}

/// The clipboard prompt's background.
pub const PROMPT_BACKGROUND: Color = Color::rgb(0x30, 0x30, 0x36);

const TITLEBAR_BUTTONS: [Color; 3] = [
    Color::rgb(0xd0, 0x50, 0x50), // close
    Color::rgb(0x60, 0xb0, 0x60), // maximize
    Color::rgb(0xd0, 0xb0, 0x40), // minimize
];

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
        let Some(output_geo) = self.shell.space.output_geometry(output) else {
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

        let focused = self.focused_window();
        let mut shown = 0;
        for window in self.shell.space.elements().rev() {
            if only.is_some_and(|name| with_meta(window, |m| m.container != name)) {
                continue;
            }
            let Some(geo) = self.shell.space.element_geometry(window) else {
                continue;
            };
            let frame = self.frame_rect(window, geo);
            let bbox = self
                .shell
                .space
                .element_bbox(window)
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
                self.popup_borders(window, geo, output_geo.loc, scale, c.color, &mut elements);
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
                self.frame_elements(
                    renderer,
                    window,
                    geo,
                    output_geo.loc,
                    scale,
                    color,
                    &mut elements,
                );
            }
        }
        self.placeholder_elements(renderer, output_geo, scale, only, &mut elements);
        elements
    }

    /// The windows of checkpointed containers, below every live window: each its last frame,
    /// dimmed, labelled "checkpointed", in a frame of its container's colour, darkened.
    fn placeholder_elements<R>(
        &self,
        renderer: &mut R,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        only: Option<&str>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let (border, titlebar) = self.placeholder_frame();
        for p in &self.placeholders {
            if p.minimized || only.is_some_and(|name| name != p.container) {
                continue;
            }
            let geo = p.geometry;
            let frame = Rectangle::new(
                (geo.loc.x - border, geo.loc.y - titlebar - border).into(),
                (geo.size.w + 2 * border, geo.size.h + titlebar + 2 * border).into(),
            );
            if !frame.overlaps(output_geo) {
                continue;
            }
            if let Some((label, size)) = &p.label_text {
                let at =
                    geo.loc + Point::from(((geo.size.w - size.w) / 2, (geo.size.h - size.h) / 2));
                push_text(renderer, label, at - output_geo.loc, scale, out);
            }
            if let Some(title) = &p.title_text {
                let at = Point::from((geo.loc.x, geo.loc.y - titlebar)) - output_geo.loc;
                push_text(renderer, title, at, scale, out);
            }
            let mut pieces = Vec::with_capacity(6);
            match &p.picture {
                Some(picture) => push_text(renderer, picture, geo.loc - output_geo.loc, scale, out),
                None => pieces.push((geo, PROMPT_BACKGROUND)),
            }
            let color = self.placeholder_color(&p.container);
            pieces.extend([
                (
                    Rectangle::new(
                        (geo.loc.x, geo.loc.y - titlebar).into(),
                        (geo.size.w, titlebar).into(),
                    ),
                    color,
                ),
                (
                    Rectangle::new(frame.loc, (frame.size.w, border).into()),
                    color,
                ),
                (
                    Rectangle::new(
                        (frame.loc.x, frame.loc.y + frame.size.h - border).into(),
                        (frame.size.w, border).into(),
                    ),
                    color,
                ),
                (
                    Rectangle::new(frame.loc, (border, frame.size.h).into()),
                    color,
                ),
                (
                    Rectangle::new(
                        (frame.loc.x + frame.size.w - border, frame.loc.y).into(),
                        (border, frame.size.h).into(),
                    ),
                    color,
                ),
            ]);
            push_solids(
                &mut p.frame.borrow_mut(),
                pieces,
                output_geo.loc,
                scale,
                out,
            );
        }
    }

    /// The border and title bar of a placeholder's frame.
    pub fn placeholder_frame(&self) -> (i32, i32) {
        let border = i32::from(self.config.appearance.border_width.min(32)).max(2);
        let titlebar = i32::from(self.config.appearance.titlebar_height.min(64));
        (border, titlebar)
    }

    /// A placeholder's frame colour: its container's, darkened.
    pub fn placeholder_color(&self, container: &str) -> Color {
        self.containers
            .get(container)
            .map(|c| c.color)
            .unwrap_or_else(|| crate::container::color_for(container))
            .darkened(0.6)
    }

    #[allow(clippy::too_many_arguments)]
    fn frame_elements<R>(
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
        let f = self.window_frame(window);
        let frame = self.frame_rect(window, geo);
        if f.titlebar > 0 {
            self.title_element(renderer, window, geo, output_loc, scale, color, out);
        }
        let mut pieces: Vec<(Rectangle<i32, Logical>, Color)> = Vec::with_capacity(8);
        // Buttons first: they are on top of the title bar.
        for (i, c) in TITLEBAR_BUTTONS.iter().enumerate() {
            if let Some(rect) = f.button_rect(geo, i as i32) {
                pieces.push((rect, *c));
            }
        }
        // Title bar, then the four borders around title bar and content.
        pieces.push((
            Rectangle::new(
                (geo.loc.x, geo.loc.y - f.titlebar).into(),
                (geo.size.w, f.titlebar).into(),
            ),
            color,
        ));
        pieces.push((
            Rectangle::new(frame.loc, (frame.size.w, f.border).into()),
            color,
        ));
        pieces.push((
            Rectangle::new(
                (frame.loc.x, frame.loc.y + frame.size.h - f.border).into(),
                (frame.size.w, f.border).into(),
            ),
            color,
        ));
        pieces.push((
            Rectangle::new(frame.loc, (f.border, frame.size.h).into()),
            color,
        ));
        pieces.push((
            Rectangle::new(
                (frame.loc.x + frame.size.w - f.border, frame.loc.y).into(),
                (f.border, frame.size.h).into(),
            ),
            color,
        ));
        with_meta(window, |meta| {
            push_solids(&mut meta.frame.pieces, pieces, output_loc, scale, out)
        });
    }

    /// A thin border in the container's colour around each of a container window's popups, so
    /// that a menu says whose it is too.
    fn popup_borders<R>(
        &self,
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
        let mut rects = Vec::new();
        for (popup, offset) in PopupManager::popups_for_surface(&surface) {
            let p = Rectangle::new(geo.loc + offset, popup_geometry(&popup).size);
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
        with_meta(window, |meta| {
            push_solids(&mut meta.frame.popup_pieces, pieces, output_loc, scale, out)
        });
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
        let width = geo.size.w - f.buttons_width();
        if width <= 8 {
            return;
        }
        let (title, _) = crate::shell::title_and_app_id(window);
        let label = crate::decorations::label(
            self.window_container(window).map(|c| c.name.as_str()),
            &title,
        );
        let key = (label, width, f.titlebar, bg);
        let buffer = with_meta(window, |meta| {
            if meta.title.as_ref().map(|(k, _)| k) != Some(&key) {
                let fg = crate::decorations::text_color_on(bg);
                meta.title = self
                    .text
                    .render(&key.0, width, f.titlebar, fg, bg)
                    .map(|buffer| (key.clone(), buffer));
            }
            meta.title.as_ref().map(|(_, b)| b.clone())
        });
        let Some(buffer) = buffer else { return };
        let at = Point::from((geo.loc.x, geo.loc.y - f.titlebar)) - output_loc;
        push_text(renderer, &buffer, at, scale, out);
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

    /// The clipboard prompt (`import = "ask"`), centred on every output, above every window:
    /// a box with the target container's colour around the question.
    fn prompt_elements<R>(
        &self,
        renderer: &mut R,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        const WIDTH: i32 = 560;
        const LINE: i32 = 28;
        const PAD: i32 = 12;
        const BORDER: i32 = 4;
        let Some(ask) = &self.clipboard.asking else {
            return;
        };
        let height = PAD + LINE + PAD / 2 + LINE + PAD;
        let width = WIDTH.min(output_geo.size.w);
        let loc = output_geo.loc
            + Point::from((
                (output_geo.size.w - width) / 2,
                (output_geo.size.h - height) / 2,
            ));
        let colour = self
            .containers
            .get(ask.to.as_str())
            .map(|c| c.color)
            .unwrap_or(self.config.appearance.focused);
        let bg = PROMPT_BACKGROUND;

        let mut lines = ask.lines.borrow_mut();
        if lines.is_none() {
            let (question, keys) = ask.question();
            let fg = crate::decorations::text_color_on(bg);
            let text_width = width - 2 * PAD;
            *lines = self
                .text
                .render(&question, text_width, LINE, fg, bg)
                .zip(self.text.render(&keys, text_width, LINE, fg, bg));
        }
        if let Some((question, keys)) = lines.as_ref() {
            for (buffer, y) in [(question, PAD), (keys, PAD + LINE + PAD / 2)] {
                let at = loc + Point::from((PAD, y)) - output_geo.loc;
                push_text(renderer, buffer, at, scale, out);
            }
        }
        let rect = |x: i32, y: i32, w: i32, h: i32| {
            Rectangle::new(loc + Point::from((x, y)), Size::from((w, h)))
        };
        let pieces = vec![
            (rect(-BORDER, -BORDER, width + 2 * BORDER, BORDER), colour),
            (rect(-BORDER, height, width + 2 * BORDER, BORDER), colour),
            (rect(-BORDER, 0, BORDER, height), colour),
            (rect(width, 0, BORDER, height), colour),
            (rect(0, 0, width, height), bg),
        ];
        push_solids(
            &mut ask.solids.borrow_mut(),
            pieces,
            output_geo.loc,
            scale,
            out,
        );
    }

    fn cursor_elements<R>(
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
        match &self.cursor_status {
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
                    &self.default_cursor,
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

    /// After a frame was rendered: tell surfaces which output shows them and collect
    /// presentation feedback for the frame's presentation.
    pub fn post_render(
        &mut self,
        output: &Output,
        states: &RenderElementStates,
    ) -> OutputPresentationFeedback {
        let mut feedback = OutputPresentationFeedback::new(output);
        for window in self.shell.space.elements() {
            window.with_surfaces(|surface, data| {
                update_surface_primary_scanout_output(
                    surface,
                    output,
                    data,
                    states,
                    smithay::backend::renderer::element::default_primary_scanout_output_compare,
                );
            });
            if self
                .shell
                .space
                .outputs_for_element(window)
                .contains(output)
            {
                window.take_presentation_feedback(
                    &mut feedback,
                    surface_primary_scanout_output,
                    |surface, _| surface_presentation_feedback_flags_from_states(surface, states),
                );
            }
        }
        // A window that moved was redrawn: bridges learn where their X11 windows went.
        self.send_x11_positions();
        feedback
    }

    /// The frame in flight on `output` reached the screen at `tick`: its presentation feedback
    /// goes out, and the frame callbacks of what the output shows, so that clients draw their
    /// next frame while the output waits for its next repaint.
    pub fn frame_presented(&mut self, output: &Output, tick: Instant, refresh: Duration) {
        // Reported at the tick itself, not when its timer got to run.
        let now = Time::<Monotonic>::elapsed(&Time::from(Duration::ZERO), self.clock.now());
        let at = Time::<Monotonic>::from(now.saturating_sub(tick.elapsed()));
        let Some(state) = self.output_state.get_mut(output) else {
            return;
        };
        state.frame_pending = false;
        state.pacing.presented(tick);
        state.sequence += 1;
        if let Some(mut feedback) = state.feedback.take() {
            feedback.presented(
                at,
                Refresh::fixed(refresh),
                state.sequence,
                wp_presentation_feedback::Kind::Vsync,
            );
        }
        self.send_frame_callbacks(output);
    }

    /// Tells the clients on `output` that now is the time to draw their next frame. Surfaces
    /// shown mainly elsewhere hear at most once a second from this output.
    fn send_frame_callbacks(&self, output: &Output) {
        let time = self.elapsed();
        let throttle = Some(Duration::from_secs(1));
        for window in self.shell.space.elements() {
            if self
                .shell
                .space
                .outputs_for_element(window)
                .contains(output)
            {
                window.send_frame(output, time, throttle, surface_primary_scanout_output);
            }
        }
        if let CursorImageStatus::Surface(surface) = &self.cursor_status {
            smithay::desktop::utils::send_frames_surface_tree(
                surface,
                output,
                time,
                throttle,
                |_, _| Some(output.clone()),
            );
        }
    }

    /// Renders an output into a new image with a pixman renderer, full repaint, no cursor; with
    /// `only`, just that container's windows. Returns the image as RGBA rows.
    pub fn screenshot<R, T>(
        &self,
        renderer: &mut R,
        output: &Output,
        only: Option<&str>,
        cursor: bool,
    ) -> anyhow::Result<Screenshot>
    where
        R: Renderer + ImportAll + ImportMem + Offscreen<T> + Bind<T> + ExportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let mode = output.current_mode().context("output has no mode")?;
        let cursor = if cursor {
            CursorMode::Draw
        } else {
            CursorMode::Hide
        };
        let elements = self.output_elements(renderer, output, cursor, only);
        let scale = output.current_scale().fractional_scale();
        self.render_image(renderer, mode.size, scale, &elements)
    }

    /// A container window's last frame, as its placeholder shows it: its surfaces cut to its
    /// window geometry, at scale 1.
    pub fn window_snapshot<R, T>(
        &self,
        renderer: &mut R,
        window: &Window,
    ) -> anyhow::Result<Screenshot>
    where
        R: Renderer + ImportAll + ImportMem + Offscreen<T> + Bind<T> + ExportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let geo = self
            .shell
            .space
            .element_geometry(window)
            .context("the window is not shown")?;
        // The size is the client's window geometry, which it may claim as large as it likes.
        anyhow::ensure!(
            geo.size.w > 0 && geo.size.h > 0 && geo.size.w <= 8192 && geo.size.h <= 8192,
            "the window's size {}x{} is too large to keep a picture of",
            geo.size.w,
            geo.size.h
        );
        let mut elements = Vec::new();
        self.cropped_window(
            renderer,
            window,
            geo,
            geo.loc,
            Scale::from(1.0),
            &mut elements,
        );
        self.render_image(renderer, (geo.size.w, geo.size.h).into(), 1.0, &elements)
    }

    /// Renders `elements` into a new image of `size`, full repaint, and reads it back.
    fn render_image<R, T>(
        &self,
        renderer: &mut R,
        size: Size<i32, Physical>,
        scale: f64,
        elements: &[OutputElement<R>],
    ) -> anyhow::Result<Screenshot>
    where
        R: Renderer + ImportAll + ImportMem + Offscreen<T> + Bind<T> + ExportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let mut image: T = renderer
            .create_buffer(
                Fourcc::Argb8888,
                size.to_logical(1).to_buffer(1, Transform::Normal),
            )
            .map_err(|err| anyhow::anyhow!("cannot allocate the screenshot image: {err:?}"))?;
        // Screenshots are upright whatever the output's transform (winit's is flipped for GL).
        let mut tracker = OutputDamageTracker::new(size, scale, Transform::Normal);
        {
            let mut target = renderer
                .bind(&mut image)
                .map_err(|err| anyhow::anyhow!("cannot bind the screenshot image: {err:?}"))?;
            tracker
                .render_output(
                    renderer,
                    &mut target,
                    0,
                    elements,
                    self.config.appearance.background.to_f32_premultiplied(),
                )
                .map_err(|err| anyhow::anyhow!("rendering the screenshot failed: {err:?}"))?;
        }
        let target = renderer
            .bind(&mut image)
            .map_err(|err| anyhow::anyhow!("cannot bind the screenshot image: {err:?}"))?;
        let region = Rectangle::from_size(size.to_logical(1).to_buffer(1, Transform::Normal));
        let mapping = renderer
            .copy_framebuffer(&target, region, Fourcc::Argb8888)
            .map_err(|err| anyhow::anyhow!("cannot read the screenshot back: {err:?}"))?;
        let bytes = renderer
            .map_texture(&mapping)
            .map_err(|err| anyhow::anyhow!("cannot map the screenshot: {err:?}"))?;
        Ok(Screenshot::from_bgra(size, bytes))
    }
}

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
    fn from_bgra(size: Size<i32, Physical>, bytes: &[u8]) -> Self {
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
