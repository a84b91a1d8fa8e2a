//! Pictures of an output or of one window: the same elements as a frame, rendered in full into
//! a new image and read back (for `porthole screenshot`, wlr-screencopy and placeholders).

use anyhow::Context;
use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::damage::OutputDamageTracker;
use smithay::backend::renderer::{
    Bind, ExportMem, ImportAll, ImportMem, Offscreen, Renderer, Texture,
};
use smithay::desktop::Window;
use smithay::output::Output;
use smithay::utils::{Physical, Rectangle, Scale, Size, Transform};

use super::image::Screenshot;
use crate::render::elements::{CursorMode, OutputElement};
use crate::state::Porthole;

impl Porthole {
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
            .geometry(window)
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
