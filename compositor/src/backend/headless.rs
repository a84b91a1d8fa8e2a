//! The headless backend: each output is an offscreen image, repainted only where damaged, with
//! frames paced at the output's refresh rate. It renders with pixman, or with GLES on an EGL
//! device (Mesa's surfaceless llvmpipe where there is no GPU), so the GLES path is exercised
//! without a display.

use anyhow::Context;
use smithay::backend::allocator::Fourcc;
use smithay::backend::egl::{EGLContext, EGLDevice, EGLDisplay};
use smithay::backend::renderer::damage::OutputDamageTracker;
use smithay::backend::renderer::gles::{GlesRenderer, GlesTexture};
use smithay::backend::renderer::pixman::PixmanRenderer;
use smithay::backend::renderer::{
    Bind, ExportMem, ImportAll, ImportMem, Offscreen, Renderer, Texture,
};
use smithay::output::{Mode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::pixman::Image;
use smithay::reexports::wayland_server::backend::GlobalId;
use smithay::utils::{Physical, Size, Transform};
use tracing::{error, info};

use super::Frame;
use crate::config::OutputMode;
use crate::render::elements::CursorMode;
use crate::state::{Porthole, State};

/// The headless backend with pixman, the default.
pub type PixmanHeadless = Headless<PixmanRenderer, Image<'static, 'static>>;
/// The headless backend with GLES.
pub type GlesHeadless = Headless<GlesRenderer, GlesTexture>;

struct HeadlessOutput<T> {
    output: Output,
    image: T,
    /// The image's size, reallocated when the output's mode changes.
    size: Size<i32, Physical>,
    damage_tracker: OutputDamageTracker,
    /// Whether the image holds a previous frame (buffer age 1) or nothing yet (age 0).
    painted: bool,
    _global: GlobalId,
}

/// Offscreen outputs rendered with `R` into images of type `T`.
pub struct Headless<R, T> {
    renderer: R,
    outputs: Vec<HeadlessOutput<T>>,
}

/// A GLES renderer without a display: on the first EGL device with a render node, or on Mesa's
/// software device (llvmpipe) when there is none.
pub fn surfaceless_gles() -> anyhow::Result<GlesRenderer> {
    let devices: Vec<EGLDevice> = EGLDevice::enumerate()
        .context("cannot list EGL devices (is Mesa's libEGL installed?)")?
        .collect();
    let device = devices
        .iter()
        .find(|d| d.try_get_render_node().ok().flatten().is_some())
        .or_else(|| devices.iter().find(|d| d.is_software()))
        .context("no EGL device: neither a GPU's render node nor Mesa's software device")?;
    let display = unsafe { EGLDisplay::new(device.clone()) }
        .context("cannot open an EGL display on the device")?;
    let context = EGLContext::new(&display).context("cannot create an EGL context")?;
    let renderer =
        unsafe { GlesRenderer::new(context) }.context("cannot create the GLES renderer")?;
    info!(
        software = device.is_software(),
        extensions = renderer.egl_context().display().extensions().len(),
        "headless GLES renderer"
    );
    Ok(renderer)
}

impl<R, T> Headless<R, T>
where
    R: Renderer + ImportAll + ImportMem + Offscreen<T> + Bind<T> + ExportMem,
    R::TextureId: Clone + Texture + Send + 'static,
    R::Error: Send + Sync + 'static,
{
    /// Creates one output per mode, named `HEADLESS-1`, `HEADLESS-2`, …, left to right.
    pub fn new(comp: &mut Porthole, modes: &[OutputMode], mut renderer: R) -> anyhow::Result<Self> {
        let mut outputs = Vec::new();
        for (i, m) in modes.iter().enumerate() {
            let name = format!("HEADLESS-{}", i + 1);
            // `[output.HEADLESS-N] mode` wins over the list's.
            let m = comp.output_config(&name).mode.unwrap_or(*m);
            let output = Output::new(
                name.clone(),
                PhysicalProperties {
                    size: (0, 0).into(),
                    subpixel: Subpixel::Unknown,
                    make: "Porthole".into(),
                    model: "Headless".into(),
                },
            );
            let mode = Mode {
                size: (m.width, m.height).into(),
                refresh: (m.refresh_hz * 1000) as i32,
            };
            output.change_current_state(Some(mode), Some(Transform::Normal), None, None);
            output.set_preferred(mode);
            let global = output.create_global::<State>(&comp.display_handle);
            let image = renderer
                .create_buffer(Fourcc::Argb8888, (m.width, m.height).into())
                .map_err(|err| {
                    anyhow::anyhow!(
                        "cannot allocate a {}x{} image for {name}: {err:?}",
                        m.width,
                        m.height
                    )
                })?;
            comp.add_output(&output);
            info!(output = %name, width = m.width, height = m.height, hz = m.refresh_hz, "headless output");
            outputs.push(HeadlessOutput {
                damage_tracker: OutputDamageTracker::from_output(&output),
                output,
                image,
                size: mode.size,
                painted: false,
                _global: global,
            });
        }
        Ok(Self { renderer, outputs })
    }

    /// The renderer, for screenshots drawn the way the outputs are.
    pub fn renderer(&mut self) -> &mut R {
        &mut self.renderer
    }

    /// Whether a client's dmabuf can be drawn.
    pub fn import_dmabuf(&mut self, dmabuf: &smithay::backend::allocator::dmabuf::Dmabuf) -> bool
    where
        R: smithay::backend::renderer::ImportDma,
    {
        self.renderer.import_dmabuf(dmabuf, None).is_ok()
    }

    /// Repaints the damaged part of an output.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) -> Frame {
        let Some(o) = self.outputs.iter_mut().find(|o| &o.output == output) else {
            return Frame::Simulated;
        };
        // The image is reallocated when the output's mode changed.
        if let Some(size) = output.current_mode().map(|m| m.size) {
            if size != o.size {
                let buffer_size = size.to_logical(1).to_buffer(1, Transform::Normal);
                match self.renderer.create_buffer(Fourcc::Argb8888, buffer_size) {
                    Ok(image) => {
                        o.image = image;
                        o.size = size;
                        o.painted = false;
                    }
                    Err(err) => {
                        error!(?err, "cannot reallocate the output image");
                        return Frame::Failed;
                    }
                }
            }
        }
        let elements = comp.output_elements(&mut self.renderer, output, CursorMode::Draw, None);
        let background = comp.config.appearance.background.to_f32_premultiplied();
        let age = usize::from(o.painted);
        let states = {
            let mut target = match self.renderer.bind(&mut o.image) {
                Ok(target) => target,
                Err(err) => {
                    error!(?err, "cannot bind the output image");
                    return Frame::Failed;
                }
            };
            match o.damage_tracker.render_output(
                &mut self.renderer,
                &mut target,
                age,
                &elements,
                background,
            ) {
                Ok(result) => result.states,
                Err(err) => {
                    error!(?err, "rendering failed");
                    return Frame::Failed;
                }
            }
        };
        o.painted = true;
        let feedback = comp.post_render(output, &states);
        if let Some(state) = comp.outputs.frames.get_mut(output) {
            state.feedback = Some(feedback);
        }
        Frame::Simulated
    }
}
