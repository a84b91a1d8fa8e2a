//! The DRM backend: Porthole as the desktop session. It takes a seat through libseat (logind,
//! seatd or libseat's builtin backend), opens the primary GPU, lights every connected output at
//! its preferred (or configured) mode with KMS, renders with GLES on GBM (pixman on dumb buffers
//! where EGL is not usable), and reads input through libinput.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use smithay::backend::allocator::dmabuf::Dmabuf;
use smithay::backend::allocator::dumb::DumbAllocator;
use smithay::backend::allocator::gbm::{GbmAllocator, GbmBufferFlags, GbmDevice};
use smithay::backend::allocator::{Allocator, Fourcc};
use smithay::backend::drm::compositor::{DrmCompositor, FrameFlags, PrimaryPlaneElement};
use smithay::backend::drm::exporter::gbm::GbmFramebufferExporter;
use smithay::backend::drm::exporter::ExportFramebuffer;
use smithay::backend::drm::{DrmDevice, DrmDeviceFd, DrmEvent, DrmNode};
use smithay::backend::egl::{EGLContext, EGLDevice, EGLDisplay};
use smithay::backend::input::InputEvent;
use smithay::backend::libinput::{LibinputInputBackend, LibinputSessionInterface};
use smithay::backend::renderer::element::RenderElementStates;
use smithay::backend::renderer::gles::GlesRenderer;
use smithay::backend::renderer::pixman::PixmanRenderer;
use smithay::backend::renderer::{
    Bind, ImportAll, ImportDma, ImportMem, ImportMemWl, Renderer, Texture,
};
use smithay::backend::session::libseat::LibSeatSession;
use smithay::backend::session::{Event as SessionEvent, Session};
use smithay::backend::udev::{primary_gpu, UdevBackend, UdevEvent};
use smithay::input::keyboard::LedState;
use smithay::output::{Mode, Output, PhysicalProperties};
use smithay::reexports::calloop::RegistrationToken;
use smithay::reexports::drm::control::{connector, crtc, Device as _, ModeTypeFlags};
use smithay::reexports::input::{self as libinput, DeviceCapability, Libinput};
use smithay::reexports::rustix::fs::OFlags;
use smithay::reexports::wayland_server::backend::GlobalId;
use smithay::utils::DeviceFd;
use smithay::wayland::dmabuf::DmabufFeedbackBuilder;
use tracing::{debug, error, info, warn};

use crate::backend::frames::refresh_interval;
use crate::backend::Frame;
use crate::config::{AccelProfile, OutputConfig, PointerConfig};
use crate::render::elements::CursorMode;
use crate::state::{Porthole, State};

/// Formats tried in order for the primary plane.
const COLOR_FORMATS: [Fourcc; 2] = [Fourcc::Xrgb8888, Fourcc::Argb8888];

type GbmCompositor =
    DrmCompositor<GbmAllocator<DrmDeviceFd>, GbmFramebufferExporter<DrmDeviceFd>, (), DrmDeviceFd>;
type DumbCompositor = DrmCompositor<DumbAllocator, DrmDeviceFd, (), DrmDeviceFd>;

/// Which renderer draws the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RendererKind {
    /// GLES where EGL works, pixman otherwise.
    Auto,
    /// GLES on GBM (or, headless, on an EGL device).
    Gles,
    /// pixman, on the CPU.
    Pixman,
}

/// The renderer of a GPU and what its outputs are built from.
enum Gpu {
    Gles {
        renderer: Box<GlesRenderer>,
        gbm: GbmDevice<DrmDeviceFd>,
        /// The render node EGL renders on; none for Mesa's software renderer, which allocates
        /// dumb buffers on the card itself.
        render_node: Option<DrmNode>,
    },
    Pixman {
        renderer: PixmanRenderer,
    },
}

enum SurfaceCompositor {
    Gbm(Box<GbmCompositor>),
    Dumb(Box<DumbCompositor>),
}

/// Evaluates `$body` with `$c` bound to an output's `DrmCompositor`, whichever buffers it uses.
macro_rules! with_compositor {
    ($compositor:expr, $c:ident => $body:expr) => {
        match $compositor {
            SurfaceCompositor::Gbm($c) => $body,
            SurfaceCompositor::Dumb($c) => $body,
        }
    };
}

/// One lit connector.
struct Surface {
    output: Output,
    connector: connector::Handle,
    compositor: SurfaceCompositor,
    /// Whether the last frame showed a client's buffer directly on the primary plane.
    direct_scanout: bool,
    /// The connector's preferred mode when last read: a display that changes it (a virtual
    /// machine's window resized) is followed unless the configuration names a mode.
    preferred: Option<smithay::reexports::drm::control::Mode>,
    _global: GlobalId,
}

/// The GPU whose outputs Porthole drives.
struct Device {
    node: DrmNode,
    path: PathBuf,
    drm: DrmDevice,
    fd: DrmDeviceFd,
    gpu: Gpu,
    surfaces: HashMap<crtc::Handle, Surface>,
    token: RegistrationToken,
}

/// Porthole on a seat of its own.
pub struct Drm {
    session: LibSeatSession,
    libinput: Libinput,
    device: Option<Device>,
    pixman: PixmanRenderer,
    keyboards: Vec<libinput::Device>,
}

impl Drm {
    /// Takes the seat, opens its primary GPU, lights the connected outputs and starts reading
    /// input.
    pub fn new(comp: &mut Porthole, renderer: RendererKind) -> anyhow::Result<Self> {
        let (session, notifier) = LibSeatSession::new().map_err(|err| {
            anyhow::anyhow!(
                "cannot take a seat ({err}): run porthole from a text console (VT) of a logind \
                 session, or start seatd and add yourself to its group; inside another desktop use \
                 --backend winit"
            )
        })?;
        let seat = session.seat();
        info!(%seat, "session started");

        let udev = UdevBackend::new(&seat).context("cannot watch devices through udev")?;
        let path = match std::env::var_os("PORTHOLE_DRM_DEVICE") {
            Some(path) => PathBuf::from(path),
            None => primary_gpu(&seat)
                .ok()
                .flatten()
                .or_else(|| udev.device_list().next().map(|(_, p)| p.to_path_buf()))
                .with_context(|| format!("no GPU on seat {seat}: /dev/dri has no card"))?,
        };

        let mut libinput = Libinput::new_with_udev::<LibinputSessionInterface<LibSeatSession>>(
            session.clone().into(),
        );
        libinput
            .udev_assign_seat(&seat)
            .map_err(|()| anyhow::anyhow!("libinput cannot take the input devices of {seat}"))?;

        let mut drm = Self {
            session,
            libinput: libinput.clone(),
            device: None,
            pixman: PixmanRenderer::new().context("cannot create the pixman renderer")?,
            keyboards: Vec::new(),
        };
        drm.open_device(comp, &path, renderer)?;

        comp.loop_handle
            .insert_source(
                LibinputInputBackend::new(libinput),
                |mut event, _, state| {
                    if let InputEvent::DeviceAdded { device } = &mut event {
                        let leds = state.comp.seat.get_keyboard().map(|k| k.led_state());
                        if let crate::backend::Backend::Drm(drm) = &mut state.backend {
                            drm.device_added(device, &state.comp.config.pointer, leds);
                        }
                    } else if let InputEvent::DeviceRemoved { device } = &event {
                        if let crate::backend::Backend::Drm(drm) = &mut state.backend {
                            drm.keyboards.retain(|k| k != device);
                        }
                    }
                    state.process_input_event(event);
                },
            )
            .map_err(|err| anyhow::anyhow!("cannot watch input devices: {err}"))?;

        comp.loop_handle
            .insert_source(notifier, |event, _, state| state.session_event(event))
            .map_err(|err| anyhow::anyhow!("cannot watch the session: {err}"))?;

        comp.loop_handle
            .insert_source(udev, move |event, _, state| {
                let crate::backend::Backend::Drm(drm) = &mut state.backend else {
                    return;
                };
                match event {
                    UdevEvent::Changed { device_id } => {
                        if drm.device.as_ref().is_some_and(|d| d.node.dev_id() == device_id) {
                            drm.scan_connectors(&mut state.comp);
                        }
                    }
                    UdevEvent::Added { path, .. } => {
                        if drm.device.is_none() {
                            if let Err(err) = drm.open_device(&mut state.comp, &path, renderer) {
                                error!("cannot use {}: {err:#}", path.display());
                            }
                        } else {
                            info!(path = %path.display(), "another GPU appeared; Porthole drives only its primary GPU");
                        }
                    }
                    UdevEvent::Removed { device_id } => {
                        if drm.device.as_ref().is_some_and(|d| d.node.dev_id() == device_id) {
                            drm.close_device(&mut state.comp);
                        }
                    }
                }
            })
            .map_err(|err| anyhow::anyhow!("cannot watch devices: {err}"))?;

        Ok(drm)
    }

    /// Opens a GPU through the session, sets up its renderer and lights its outputs.
    fn open_device(
        &mut self,
        comp: &mut Porthole,
        path: &Path,
        kind: RendererKind,
    ) -> anyhow::Result<()> {
        let fd = self
            .session
            .open(
                path,
                OFlags::RDWR | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
            )
            .with_context(|| format!("cannot open {} through the session", path.display()))?;
        let fd = DrmDeviceFd::new(DeviceFd::from(fd));
        let node = DrmNode::from_file(fd.clone())
            .with_context(|| format!("{} is not a DRM device", path.display()))?;
        let (drm, notifier) = DrmDevice::new(fd.clone(), true)
            .with_context(|| format!("cannot use {} for KMS", path.display()))?;
        info!(path = %path.display(), atomic = drm.is_atomic(), "opened the GPU");

        let gpu = match kind {
            RendererKind::Pixman => Gpu::pixman()?,
            RendererKind::Gles => Gpu::gles(&fd)?,
            RendererKind::Auto => Gpu::gles(&fd).or_else(|err| {
                warn!("GLES is not usable ({err:#}); rendering with pixman on dumb buffers");
                Gpu::pixman()
            })?,
        };

        // linux-dmabuf, with feedback naming the device clients should allocate on: the render
        // node EGL renders on; the card itself where rendering is done in software (Mesa's
        // llvmpipe or pixman allocate dumb buffers, which a render node cannot).
        let (formats, main_device) = match &gpu {
            Gpu::Gles {
                renderer,
                render_node,
                ..
            } => (renderer.dmabuf_formats(), render_node.unwrap_or(node)),
            Gpu::Pixman { renderer } => (renderer.dmabuf_formats(), node),
        };
        match DmabufFeedbackBuilder::new(main_device.dev_id(), formats).build() {
            Ok(feedback) if comp.globals.dmabuf_global.is_none() => {
                let global = comp
                    .globals
                    .dmabuf
                    .create_global_with_filter_and_default_feedback::<State, _>(
                        &comp.display_handle,
                        &feedback,
                        crate::policy::filter_for("zwp_linux_dmabuf_v1"),
                    );
                comp.globals.dmabuf_global = Some(global);
                info!(device = %main_device, "linux-dmabuf offered");
            }
            Ok(_) => {}
            Err(err) => warn!(?err, "no linux-dmabuf: the renderer has no usable formats"),
        }
        let shm_formats = match &gpu {
            Gpu::Gles { renderer, .. } => renderer.shm_formats().collect::<Vec<_>>(),
            Gpu::Pixman { renderer } => renderer.shm_formats().collect(),
        };
        comp.globals.shm.update_formats(shm_formats);

        let token = comp
            .loop_handle
            .insert_source(notifier, move |event, metadata, state| match event {
                DrmEvent::VBlank(crtc) => state.vblank(crtc, metadata.is_some()),
                DrmEvent::Error(err) => error!(?err, "the GPU reported an error"),
            })
            .map_err(|err| anyhow::anyhow!("cannot watch the GPU's events: {err}"))?;

        self.device = Some(Device {
            node,
            path: path.to_path_buf(),
            drm,
            fd,
            gpu,
            surfaces: HashMap::new(),
            token,
        });
        self.scan_connectors(comp);
        Ok(())
    }

    /// The GPU went away: its outputs go with it; windows stay, on the outputs left.
    fn close_device(&mut self, comp: &mut Porthole) {
        let Some(device) = self.device.take() else {
            return;
        };
        warn!(path = %device.path.display(), "the GPU was removed");
        for (_, surface) in device.surfaces {
            comp.remove_output(&surface.output);
        }
        comp.loop_handle.remove(device.token);
        // Its formats and device are gone with it; a GPU that comes back offers its own.
        if let Some(global) = comp.globals.dmabuf_global.take() {
            comp.globals
                .dmabuf
                .destroy_global::<State>(&comp.display_handle, global);
        }
    }

    /// Lights connectors that are connected and enabled, and turns off the others.
    pub fn scan_connectors(&mut self, comp: &mut Porthole) {
        let Some(device) = self.device.as_mut() else {
            return;
        };
        let resources = match device.drm.resource_handles() {
            Ok(r) => r,
            Err(err) => {
                error!(?err, "cannot list the GPU's connectors");
                return;
            }
        };
        for &handle in resources.connectors() {
            let info = match device.drm.get_connector(handle, true) {
                Ok(info) => info,
                Err(err) => {
                    warn!(?err, "cannot read a connector");
                    continue;
                }
            };
            let name = connector_name(&info);
            let config = comp.output_config(&name);
            let wanted = info.state() == connector::State::Connected
                && config.enabled.unwrap_or(true)
                && !info.modes().is_empty();
            let lit = device
                .surfaces
                .iter()
                .find(|(_, s)| s.connector == handle)
                .map(|(crtc, _)| *crtc);
            match (wanted, lit) {
                (true, None) => {
                    let used: Vec<crtc::Handle> = device.surfaces.keys().copied().collect();
                    let crtc = info
                        .encoders()
                        .iter()
                        .filter_map(|e| device.drm.get_encoder(*e).ok())
                        .flat_map(|e| resources.filter_crtcs(e.possible_crtcs()))
                        .find(|c| !used.contains(c));
                    let Some(crtc) = crtc else {
                        warn!(output = %name, "no free CRTC to drive this output");
                        continue;
                    };
                    if let Err(err) = device.light(comp, &info, crtc, &config) {
                        error!(output = %name, "cannot light the output: {err:#}");
                    }
                }
                (true, Some(crtc)) => {
                    let Some(surface) = device.surfaces.get_mut(&crtc) else {
                        continue;
                    };
                    let preferred = preferred_mode(&info);
                    if preferred == surface.preferred {
                        continue;
                    }
                    surface.preferred = preferred;
                    // The modes the display offers now, and no others.
                    let offered: Vec<Mode> = info.modes().iter().map(|m| Mode::from(*m)).collect();
                    for m in surface.output.modes() {
                        if !offered.contains(&m) && Some(m) != surface.output.current_mode() {
                            surface.output.delete_mode(m);
                        }
                    }
                    for m in offered {
                        surface.output.add_mode(m);
                    }
                    if let Some(p) = preferred {
                        surface.output.set_preferred(Mode::from(p));
                    }
                    if config.mode.is_none() {
                        if let Some(mode) = preferred {
                            info!(output = %name, width = mode.size().0, height = mode.size().1, "the display's preferred mode changed; following it");
                            match surface.use_mode(mode) {
                                Ok(()) => {
                                    let output = surface.output.clone();
                                    let loc = comp
                                        .shell
                                        .output_geometry(&output)
                                        .map(|g| g.loc)
                                        .unwrap_or_default();
                                    comp.place_output(&output, loc);
                                }
                                Err(err) => warn!(output = %name, "{err:#}"),
                            }
                        }
                    }
                }
                (false, Some(crtc)) => {
                    if let Some(surface) = device.surfaces.remove(&crtc) {
                        info!(output = %name, "output off");
                        comp.remove_output(&surface.output);
                    }
                }
                _ => {}
            }
        }
    }

    /// Applies the pointer settings to a new input device, and to a keyboard the lock keys'
    /// lights as they are.
    fn device_added(
        &mut self,
        device: &mut libinput::Device,
        config: &PointerConfig,
        leds: Option<LedState>,
    ) {
        info!(name = device.name(), "input device");
        if device.has_capability(DeviceCapability::Keyboard) {
            if let Some(leds) = leds {
                device.led_update(leds.into());
            }
            self.keyboards.push(device.clone());
        }
        if device.has_capability(DeviceCapability::Pointer) {
            apply_pointer_config(device, config);
        }
    }

    /// Lights Caps Lock, Num Lock and Scroll Lock on every keyboard as the seat's state says.
    pub fn set_leds(&mut self, leds: LedState) {
        for keyboard in &mut self.keyboards {
            keyboard.led_update(leds.into());
        }
    }

    /// Renders an output and queues the frame for the next vblank.
    pub fn render(&mut self, comp: &mut Porthole, output: &Output) -> Frame {
        if !self.session.is_active() {
            return Frame::Paused;
        }
        let Some(device) = self.device.as_mut() else {
            return Frame::Paused;
        };
        let Some(surface) = device.surfaces.values_mut().find(|s| &s.output == output) else {
            return Frame::Simulated;
        };
        let scanout = &mut surface.direct_scanout;
        match (&mut device.gpu, &mut surface.compositor) {
            (Gpu::Gles { renderer, .. }, SurfaceCompositor::Gbm(c)) => {
                render_surface(comp, renderer.as_mut(), c, output, scanout)
            }
            (Gpu::Pixman { renderer }, SurfaceCompositor::Dumb(c)) => {
                render_surface(comp, renderer, c, output, scanout)
            }
            _ => {
                error!("an output's buffers do not match its GPU's renderer");
                Frame::Simulated
            }
        }
    }

    /// The frame queued on `crtc` is on screen: the output it belongs to, if any.
    fn frame_submitted(&mut self, crtc: crtc::Handle) -> Option<Output> {
        let surface = self.device.as_mut()?.surfaces.get_mut(&crtc)?;
        let result = with_compositor!(&mut surface.compositor, c => {
            c.frame_submitted().map(|_| ()).map_err(|e| format!("{e:?}"))
        });
        if let Err(err) = result {
            warn!(output = surface.output.name(), %err, "a frame was not shown");
        }
        Some(surface.output.clone())
    }

    /// Whether a client's dmabuf can be drawn.
    pub fn import_dmabuf(&mut self, dmabuf: &Dmabuf) -> bool {
        let Some(device) = self.device.as_mut() else {
            return false;
        };
        let ok = match &mut device.gpu {
            Gpu::Gles { renderer, .. } => renderer.import_dmabuf(dmabuf, None).is_ok(),
            Gpu::Pixman { renderer } => renderer.import_dmabuf(dmabuf, None).is_ok(),
        };
        if ok {
            dmabuf.set_node(device.node);
        }
        ok
    }

    /// A pixman renderer for screenshots, independent of the GPU's.
    pub fn pixman(&mut self) -> &mut PixmanRenderer {
        &mut self.pixman
    }

    /// Switches to another virtual terminal.
    pub fn change_vt(&mut self, vt: i32) {
        info!(vt, "switching virtual terminal");
        if let Err(err) = self.session.change_vt(vt) {
            warn!(vt, ?err, "cannot switch virtual terminal");
        }
    }

    /// Sets an output's mode to the connector's mode closest to `mode`.
    pub fn set_mode(&mut self, output: &Output, config: &OutputConfig) -> anyhow::Result<()> {
        let device = self.device.as_mut().context("no GPU")?;
        let surface = device
            .surfaces
            .values_mut()
            .find(|s| &s.output == output)
            .context("the output is not lit")?;
        let info = device
            .drm
            .get_connector(surface.connector, false)
            .context("cannot read the connector")?;
        let mode = choose_mode(&info, config).context("the connector has no modes")?;
        surface.use_mode(mode)
    }

    fn pause(&mut self) {
        info!("session paused: rendering and input stop until it comes back");
        self.libinput.suspend();
        if let Some(device) = self.device.as_mut() {
            device.drm.pause();
        }
    }

    fn activate(&mut self, comp: &mut Porthole) {
        info!("session back");
        if let Err(err) = self.libinput.resume() {
            error!(?err, "cannot resume input");
        }
        let Some(device) = self.device.as_mut() else {
            return;
        };
        if let Err(err) = device.drm.activate(false) {
            error!(?err, "cannot take the GPU back");
        }
        for surface in device.surfaces.values_mut() {
            let result = with_compositor!(&mut surface.compositor, c => c.reset_state());
            if let Err(err) = result {
                warn!(?err, "cannot reset an output's state");
            }
        }
        // Another display server may have changed what is plugged in meanwhile.
        self.scan_connectors(comp);
    }
}

impl Gpu {
    fn pixman() -> anyhow::Result<Self> {
        info!("rendering with pixman on dumb buffers");
        Ok(Gpu::Pixman {
            renderer: PixmanRenderer::new().context("cannot create the pixman renderer")?,
        })
    }

    fn gles(fd: &DrmDeviceFd) -> anyhow::Result<Self> {
        let gbm = GbmDevice::new(fd.clone()).context("cannot create a GBM device")?;
        let display =
            unsafe { EGLDisplay::new(gbm.clone()) }.context("cannot open EGL on the GPU")?;
        let egl_device = EGLDevice::device_for_display(&display).ok();
        let software = egl_device.as_ref().is_some_and(|d| d.is_software());
        let render_node = egl_device
            .filter(|d| !d.is_software())
            .and_then(|d| d.try_get_render_node().ok().flatten());
        let context = EGLContext::new(&display).context("cannot create an EGL context")?;
        let renderer =
            unsafe { GlesRenderer::new(context) }.context("cannot create the GLES renderer")?;
        info!(software, render_node = ?render_node.map(|n| n.to_string()), "rendering with GLES");
        Ok(Gpu::Gles {
            renderer: Box::new(renderer),
            gbm,
            render_node,
        })
    }
}

impl Surface {
    /// Drives the output at `mode` from the next frame on.
    fn use_mode(&mut self, mode: smithay::reexports::drm::control::Mode) -> anyhow::Result<()> {
        let result = with_compositor!(&mut self.compositor, c => {
            c.use_mode(mode).map_err(|e| format!("{e:?}"))
        });
        result.map_err(|err| anyhow::anyhow!("the GPU refused the mode: {err}"))?;
        self.output
            .change_current_state(Some(Mode::from(mode)), None, None, None);
        Ok(())
    }
}

impl Device {
    /// Creates the output for a connector and starts driving it from `crtc`.
    fn light(
        &mut self,
        comp: &mut Porthole,
        info: &connector::Info,
        crtc: crtc::Handle,
        config: &OutputConfig,
    ) -> anyhow::Result<()> {
        let name = connector_name(info);
        let mode = choose_mode(info, config).context("the connector has no modes")?;
        let flagged = preferred_mode(info);
        let preferred = flagged.unwrap_or(mode);
        let (w_mm, h_mm) = info.size().unwrap_or((0, 0));
        let output = Output::new(
            name.clone(),
            PhysicalProperties {
                size: (w_mm as i32, h_mm as i32).into(),
                subpixel: info.subpixel().into(),
                make: "Unknown".into(),
                model: name.clone(),
            },
        );
        for m in info.modes() {
            output.add_mode(Mode::from(*m));
        }
        output.set_preferred(Mode::from(preferred));
        output.change_current_state(Some(Mode::from(mode)), None, None, None);

        let surface = self
            .drm
            .create_surface(crtc, mode, &[info.handle()])
            .context("cannot create a KMS surface")?;
        let cursor_size = self.drm.cursor_size();
        let compositor = match &mut self.gpu {
            Gpu::Gles { renderer, gbm, .. } => {
                let allocator = GbmAllocator::new(
                    gbm.clone(),
                    GbmBufferFlags::RENDERING | GbmBufferFlags::SCANOUT,
                );
                let exporter = GbmFramebufferExporter::new(gbm.clone(), Some(self.node));
                let formats = renderer.egl_context().dmabuf_render_formats().clone();
                let c = DrmCompositor::new(
                    &output,
                    surface,
                    None,
                    allocator,
                    exporter,
                    COLOR_FORMATS,
                    formats,
                    cursor_size,
                    Some(gbm.clone()),
                )
                .map_err(|err| anyhow::anyhow!("cannot set up the output's buffers: {err:?}"))?;
                SurfaceCompositor::Gbm(Box::new(c))
            }
            Gpu::Pixman { renderer } => {
                let allocator = DumbAllocator::new(self.fd.clone());
                let formats = Bind::<Dmabuf>::supported_formats(renderer).unwrap_or_default();
                let c = DrmCompositor::new(
                    &output,
                    surface,
                    None,
                    allocator,
                    self.fd.clone(),
                    COLOR_FORMATS,
                    formats,
                    cursor_size,
                    None::<GbmDevice<DrmDeviceFd>>,
                )
                .map_err(|err| anyhow::anyhow!("cannot set up the output's buffers: {err:?}"))?;
                SurfaceCompositor::Dumb(Box::new(c))
            }
        };
        let global = output.create_global::<State>(&comp.display_handle);
        comp.add_output(&output);
        info!(
            output = %name,
            width = mode.size().0,
            height = mode.size().1,
            hz = mode.vrefresh(),
            "output lit"
        );
        self.surfaces.insert(
            crtc,
            Surface {
                output,
                connector: info.handle(),
                compositor,
                direct_scanout: false,
                preferred: flagged,
                _global: global,
            },
        );
        Ok(())
    }
}

/// Renders the elements of `output` with `renderer` and queues them on the output's planes.
fn render_surface<R, A, F>(
    comp: &mut Porthole,
    renderer: &mut R,
    compositor: &mut DrmCompositor<A, F, (), DrmDeviceFd>,
    output: &Output,
    direct_scanout: &mut bool,
) -> Frame
where
    R: Renderer + ImportAll + ImportMem + Bind<Dmabuf>,
    R::TextureId: Clone + Texture + Send + 'static,
    A: Allocator,
    A::Error: std::error::Error + Send + Sync + 'static,
    A::Buffer: smithay::backend::allocator::dmabuf::AsDmabuf,
    <A::Buffer as smithay::backend::allocator::dmabuf::AsDmabuf>::Error:
        std::error::Error + Send + Sync + std::fmt::Debug + 'static,
    F: ExportFramebuffer<A::Buffer>,
    F::Framebuffer: std::fmt::Debug + 'static,
    F::Error: std::error::Error + Send + Sync + 'static,
{
    let elements = comp.output_elements(renderer, output, CursorMode::Draw, None);
    let background = comp.config.appearance.background.to_f32_premultiplied();
    let (empty, states): (bool, RenderElementStates) =
        match compositor.render_frame(renderer, &elements, background, FrameFlags::DEFAULT) {
            Ok(result) => {
                // Without a fence KMS can wait on (llvmpipe, some drivers), the frame must be
                // finished before it is queued, or the display shows it half drawn.
                if result.needs_sync() {
                    if let PrimaryPlaneElement::Swapchain(element) = &result.primary_element {
                        if let Err(err) = element.sync.wait() {
                            warn!(?err, "cannot wait for the frame to finish rendering");
                        }
                    }
                }
                // A fullscreen client whose buffer the primary plane takes is shown without
                // compositing (said once each way).
                let direct = matches!(result.primary_element, PrimaryPlaneElement::Element(_));
                if !result.is_empty && direct != *direct_scanout {
                    *direct_scanout = direct;
                    info!(output = output.name(), direct, "direct scanout");
                }
                (result.is_empty, result.states)
            }
            Err(err) => {
                warn!(output = output.name(), ?err, "rendering failed");
                return Frame::Simulated;
            }
        };
    let feedback = comp.post_render(output, &states);
    if let Some(state) = comp.outputs.frames.get_mut(output) {
        state.feedback = Some(feedback);
    }
    if empty {
        return Frame::Simulated;
    }
    match compositor.queue_frame(()) {
        Ok(()) => Frame::Queued,
        Err(err) => {
            // A failed commit (the driver refused the configuration, a GPU reset) is retried
            // from a clean state at the next frame; windows are untouched.
            warn!(
                output = output.name(),
                ?err,
                "the frame could not be shown; resetting the output"
            );
            if let Err(err) = compositor.reset_state() {
                warn!(?err, "cannot reset the output");
            }
            Frame::Simulated
        }
    }
}

/// The connector's name as people know it: `HDMI-A-1`, `DP-2`, `Virtual-1`.
fn connector_name(info: &connector::Info) -> String {
    format!("{}-{}", info.interface().as_str(), info.interface_id())
}

/// The mode the display says it prefers.
fn preferred_mode(info: &connector::Info) -> Option<smithay::reexports::drm::control::Mode> {
    info.modes()
        .iter()
        .find(|m| m.mode_type().contains(ModeTypeFlags::PREFERRED))
        .copied()
}

/// The configured mode when the connector has one like it (same size, nearest refresh), the
/// preferred mode otherwise.
fn choose_mode(
    info: &connector::Info,
    config: &OutputConfig,
) -> Option<smithay::reexports::drm::control::Mode> {
    let modes = info.modes();
    if let Some(want) = config.mode {
        let best = modes
            .iter()
            .filter(|m| m.size() == (want.width as u16, want.height as u16))
            .min_by_key(|m| (m.vrefresh() as i64 - want.refresh_hz as i64).abs());
        match best {
            Some(m) => return Some(*m),
            None => warn!(
                output = %connector_name(info),
                "the connector has no {}x{} mode; using its preferred mode",
                want.width,
                want.height
            ),
        }
    }
    preferred_mode(info).or_else(|| modes.first().copied())
}

fn apply_pointer_config(device: &mut libinput::Device, config: &PointerConfig) {
    if device.config_accel_is_available() {
        let _ = device.config_accel_set_speed(config.accel_speed.clamp(-1.0, 1.0));
        let profile = match config.accel_profile {
            AccelProfile::Adaptive => libinput::AccelProfile::Adaptive,
            AccelProfile::Flat => libinput::AccelProfile::Flat,
        };
        let _ = device.config_accel_set_profile(profile);
    }
    if device.config_tap_finger_count() > 0 {
        let _ = device.config_tap_set_enabled(config.tap_to_click);
    }
    if device.config_scroll_has_natural_scroll() {
        let _ = device.config_scroll_set_natural_scroll_enabled(config.natural_scroll);
    }
    debug!(name = device.name(), "pointer settings applied");
}

impl State {
    /// A vblank: the frame queued on `crtc` is on screen.
    fn vblank(&mut self, crtc: crtc::Handle, _timed: bool) {
        let crate::backend::Backend::Drm(drm) = &mut self.backend else {
            return;
        };
        if let Some(output) = drm.frame_submitted(crtc) {
            let refresh = refresh_interval(&output);
            self.comp.frame_presented(&output, Instant::now(), refresh);
        }
    }

    /// The session was paused (another VT) or came back.
    fn session_event(&mut self, event: SessionEvent) {
        let crate::backend::Backend::Drm(drm) = &mut self.backend else {
            return;
        };
        match event {
            SessionEvent::PauseSession => drm.pause(),
            SessionEvent::ActivateSession => {
                drm.activate(&mut self.comp);
                // Frames in flight when the session paused never got their vblank.
                for state in self.comp.outputs.frames.values_mut() {
                    state.frame_pending = false;
                    state.repaint_at = None;
                }
                self.comp.queue_redraw_all();
            }
        }
    }
}
