//! The headless backend: each output is a pixman image in memory, repainted only where damaged,
//! with frames paced at the output's refresh rate.

use anyhow::Context;
use smithay::backend::allocator::Fourcc;
use smithay::backend::renderer::damage::OutputDamageTracker;
use smithay::backend::renderer::pixman::PixmanRenderer;
use smithay::backend::renderer::{Bind, Offscreen};
use smithay::output::{Mode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::pixman::Image;
use smithay::reexports::wayland_server::backend::GlobalId;
use smithay::utils::Transform;
use tracing::{error, info};

use crate::config::OutputMode;
use crate::render::CursorMode;
use crate::state::{Porthole, State};

struct HeadlessOutput {
    output: Output,
    image: Image<'static, 'static>,
    damage_tracker: OutputDamageTracker,
    /// Whether the image holds a previous frame (buffer age 1) or nothing yet (age 0).
    painted: bool,
    _global: GlobalId,
}

/// Offscreen outputs rendered with pixman.
pub struct Headless {
    renderer: PixmanRenderer,
    outputs: Vec<HeadlessOutput>,
}

impl Headless {
    /// Creates one output per mode, named `HEADLESS-1`, `HEADLESS-2`, …, left to right.
    pub fn new(comp: &mut Porthole, modes: &[OutputMode]) -> anyhow::Result<Self> {
        let mut renderer = PixmanRenderer::new().context("cannot create the pixman renderer")?;
        let mut outputs = Vec::new();
        for (i, m) in modes.iter().enumerate() {
            let name = format!("HEADLESS-{}", i + 1);
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
                .with_context(|| {
                    format!(
                        "cannot allocate a {}x{} image for {name}",
                        m.width, m.height
                    )
                })?;
            comp.add_output(&output);
            info!(output = %name, width = m.width, height = m.height, hz = m.refresh_hz, "headless output");
            outputs.push(HeadlessOutput {
                damage_tracker: OutputDamageTracker::from_output(&output),
                output,
                image,
                painted: false,
                _global: global,
            });
        }
        Ok(Self { renderer, outputs })
    }

    /// The renderer, for screenshots.
    pub fn renderer(&mut self) -> &mut PixmanRenderer {
        &mut self.renderer
    }

    /// Repaints the damaged part of an output.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) {
        let Some(o) = self.outputs.iter_mut().find(|o| &o.output == output) else {
            return;
        };
        let elements = comp.output_elements(&mut self.renderer, output, CursorMode::Draw, None);
        let background = comp.config.appearance.background.to_f32_premultiplied();
        let age = usize::from(o.painted);
        let states = {
            let mut target = match self.renderer.bind(&mut o.image) {
                Ok(target) => target,
                Err(err) => {
                    error!(?err, "cannot bind the output image");
                    return;
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
                    return;
                }
            }
        };
        o.painted = true;
        let feedback = comp.post_render(output, &states);
        if let Some(state) = comp.output_state.get_mut(output) {
            state.feedback = Some(feedback);
        }
    }
}
