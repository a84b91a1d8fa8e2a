//! The winit backend: Porthole nested in a window on another desktop (Wayland or X11).

use anyhow::Context;
use smithay::backend::renderer::damage::OutputDamageTracker;
use smithay::backend::renderer::gles::GlesRenderer;
use smithay::backend::renderer::pixman::PixmanRenderer;
use smithay::backend::winit::{self, WinitEvent, WinitGraphicsBackend};
use smithay::output::{Mode, Output, PhysicalProperties, Subpixel};
use smithay::reexports::wayland_server::backend::GlobalId;
use smithay::utils::Transform;
use tracing::{error, warn};

use crate::render::elements::CursorMode;
use crate::state::{Porthole, State};

/// A nested window rendered with GLES.
pub struct Winit {
    backend: WinitGraphicsBackend<GlesRenderer>,
    output: Output,
    damage_tracker: OutputDamageTracker,
    pixman: PixmanRenderer,
    _global: GlobalId,
}

impl Winit {
    /// Opens the window and creates its output, `WINIT-1`.
    pub fn new(comp: &mut Porthole) -> anyhow::Result<Self> {
        let (backend, winit_loop) = winit::init::<GlesRenderer>().map_err(|err| {
            anyhow::anyhow!(
                "cannot open a window ({err}); the winit backend needs WAYLAND_DISPLAY or DISPLAY \
                 of a running desktop and working EGL; use --backend headless otherwise"
            )
        })?;
        let mode = Mode {
            size: backend.window_size(),
            refresh: 60_000,
        };
        let output = Output::new(
            "WINIT-1".into(),
            PhysicalProperties {
                size: (0, 0).into(),
                subpixel: Subpixel::Unknown,
                make: "Porthole".into(),
                model: "Winit".into(),
            },
        );
        // GL's origin is bottom-left: the winit backend renders flipped.
        output.change_current_state(Some(mode), Some(Transform::Flipped180), None, None);
        output.set_preferred(mode);
        let global = output.create_global::<State>(&comp.display_handle);
        comp.add_output(&output);

        comp.loop_handle
            .insert_source(winit_loop, |event, _, state| match event {
                WinitEvent::Resized { size, .. } => {
                    if let crate::backend::Backend::Winit(w) = &state.backend {
                        let output = w.output.clone();
                        output.change_current_state(
                            Some(Mode {
                                size,
                                refresh: 60_000,
                            }),
                            None,
                            None,
                            None,
                        );
                        // Maximized and fullscreen windows follow the window's new size.
                        state.comp.refit_windows();
                        state.comp.queue_redraw(&output);
                    }
                }
                WinitEvent::Input(event) => state.process_input_event(event),
                WinitEvent::Redraw => state.comp.queue_redraw_all(),
                WinitEvent::CloseRequested => state.comp.loop_signal.stop(),
                WinitEvent::Focus(_) => {}
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the window's events: {err}"))?;

        Ok(Self {
            backend,
            damage_tracker: OutputDamageTracker::from_output(&output),
            output,
            pixman: PixmanRenderer::new()
                .context("cannot create the pixman renderer for screenshots")?,
            _global: global,
        })
    }

    /// A pixman renderer for screenshots, independent of the GL context.
    pub fn pixman(&mut self) -> &mut PixmanRenderer {
        &mut self.pixman
    }

    /// Renders the window's output.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) {
        if output != &self.output {
            return;
        }
        let background = comp.config.appearance.background.to_f32_premultiplied();
        let age = self.backend.buffer_age().unwrap_or(0);
        let result = {
            let (renderer, mut framebuffer) = match self.backend.bind() {
                Ok(bound) => bound,
                Err(err) => {
                    error!(?err, "cannot bind the window's buffer");
                    return;
                }
            };
            let elements = comp.output_elements(renderer, output, CursorMode::Draw, None);
            self.damage_tracker
                .render_output(renderer, &mut framebuffer, age, &elements, background)
                .map(|r| (r.damage.cloned(), r.states))
        };
        let (damage, states) = match result {
            Ok(r) => r,
            Err(err) => {
                error!(?err, "rendering failed");
                return;
            }
        };
        if let Some(damage) = damage {
            if let Err(err) = self.backend.submit(Some(&damage)) {
                warn!(?err, "cannot present the frame");
            }
        }
        let feedback = comp.post_render(output, &states);
        if let Some(state) = comp.outputs.frames.get_mut(output) {
            state.feedback = Some(feedback);
        }
    }
}
