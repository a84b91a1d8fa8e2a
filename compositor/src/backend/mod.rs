//! Backends: where frames go and input comes from. `Headless` is a real backend, not a test
//! hack: every feature that is not about hardware works in it.

pub mod drm;
pub mod frames;
pub mod headless;
pub mod pacing;
pub mod winit;

use smithay::backend::allocator::dmabuf::Dmabuf;
use smithay::output::Output;

use crate::config::OutputConfig;
use crate::render::Screenshot;
use crate::state::Porthole;

/// The backend in use.
pub enum Backend {
    /// Offscreen pixman images paced by timers at the outputs' refresh rates.
    Headless(headless::PixmanHeadless),
    /// Offscreen GLES textures, paced like `Headless`.
    HeadlessGles(Box<headless::GlesHeadless>),
    /// A window on another desktop.
    Winit(Box<winit::Winit>),
    /// The session's own displays and input devices.
    Drm(Box<drm::Drm>),
}

/// What became of a frame a backend was asked to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Drawn (or nothing to draw); its vblank is simulated by a timer.
    Simulated,
    /// Queued on the display, whose vblank will report it.
    Queued,
    /// The session is paused: nothing is drawn until it comes back.
    Paused,
    /// The renderer failed (a client's buffer went bad under it): paced like a drawn frame, and
    /// drawn again at the next tick, whose frame callbacks go out then. Until a frame succeeds
    /// the clients it would first show get none, and may wait for one.
    Failed,
}

impl Backend {
    /// Renders the damaged part of `output`, sends what was drawn to the display and collects
    /// its presentation feedback; the caller schedules its presentation unless the display
    /// reports it.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) -> Frame {
        match self {
            Backend::Headless(b) => return b.render(comp, output),
            Backend::HeadlessGles(b) => return b.render(comp, output),
            Backend::Winit(b) => b.render(comp, output),
            Backend::Drm(b) => return b.render(comp, output),
        }
        Frame::Simulated
    }

    /// A picture of what `output` shows now, with the pointer's image if `cursor`.
    /// With `only`, just that container's windows are drawn.
    pub fn screenshot(
        &mut self,
        comp: &Porthole,
        output: &Output,
        only: Option<&str>,
        cursor: bool,
    ) -> anyhow::Result<Screenshot> {
        match self {
            Backend::Headless(b) => comp.screenshot(b.renderer(), output, only, cursor),
            Backend::HeadlessGles(b) => comp
                .screenshot::<_, smithay::backend::renderer::gles::GlesTexture>(
                    b.renderer(),
                    output,
                    only,
                    cursor,
                ),
            Backend::Winit(b) => comp.screenshot(b.pixman(), output, only, cursor),
            Backend::Drm(b) => comp.screenshot(b.pixman(), output, only, cursor),
        }
    }

    /// A container window's last frame, for its placeholder while its container is
    /// checkpointed.
    pub fn window_snapshot(
        &mut self,
        comp: &Porthole,
        window: &smithay::desktop::Window,
    ) -> anyhow::Result<Screenshot> {
        match self {
            Backend::Headless(b) => comp.window_snapshot(b.renderer(), window),
            Backend::HeadlessGles(b) => comp
                .window_snapshot::<_, smithay::backend::renderer::gles::GlesTexture>(
                    b.renderer(),
                    window,
                ),
            Backend::Winit(b) => comp.window_snapshot(b.pixman(), window),
            Backend::Drm(b) => comp.window_snapshot(b.pixman(), window),
        }
    }

    /// Whether a client's dmabuf can be drawn (only backends that offer linux-dmabuf get one).
    pub fn import_dmabuf(&mut self, dmabuf: &Dmabuf) -> bool {
        match self {
            Backend::Drm(b) => b.import_dmabuf(dmabuf),
            Backend::HeadlessGles(b) => b.import_dmabuf(dmabuf),
            Backend::Headless(_) | Backend::Winit(_) => false,
        }
    }

    /// Switches virtual terminals, where Porthole owns the session.
    pub fn change_vt(&mut self, vt: i32) {
        match self {
            Backend::Drm(b) => b.change_vt(vt),
            _ => tracing::debug!(vt, "no virtual terminals to switch to in this backend"),
        }
    }

    /// Changes an output's mode to the one `config` asks for.
    pub fn set_mode(&mut self, output: &Output, config: &OutputConfig) -> anyhow::Result<()> {
        let Some(mode) = config.mode else {
            return Ok(());
        };
        match self {
            Backend::Drm(b) => b.set_mode(output, config),
            Backend::Headless(_) | Backend::HeadlessGles(_) => {
                let mode = smithay::output::Mode {
                    size: (mode.width, mode.height).into(),
                    refresh: (mode.refresh_hz * 1000) as i32,
                };
                output.change_current_state(Some(mode), None, None, None);
                Ok(())
            }
            Backend::Winit(_) => {
                anyhow::bail!("a nested window's size follows the window: resize it instead")
            }
        }
    }
}
