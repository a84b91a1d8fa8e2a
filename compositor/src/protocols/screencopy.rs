//! wlr-screencopy (zwlr_screencopy_manager_v1, version 3), for trusted clients only: a host
//! screenshot tool (grim) works; containers neither see nor can bind it (the filter: it is a
//! privileged global), so they capture nothing, not even their own windows. A copy is the
//! picture the [`ScreencopyHandler`] takes (the same render as `porthole screenshot`), written
//! into the client's wl_shm buffer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use smithay::output::Output;
use smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_frame_v1::{
    self, ZwlrScreencopyFrameV1,
};
use smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_manager_v1::{
    self, ZwlrScreencopyManagerV1,
};
use smithay::reexports::wayland_server::protocol::wl_buffer::WlBuffer;
use smithay::reexports::wayland_server::protocol::wl_shm;
use smithay::reexports::wayland_server::{
    Client, DataInit, Dispatch, DisplayHandle, GlobalDispatch, New, Resource,
};
use smithay::utils::{Physical, Rectangle};
use smithay::wayland::shm::with_buffer_contents_mut;
use tracing::warn;

use crate::render::image::Screenshot;

use super::Filter;

/// The interface name, as profiles list it.
pub const NAME: &str = "zwlr_screencopy_manager_v1";

/// What the compositor does for wlr-screencopy.
pub trait ScreencopyHandler {
    /// A picture of what `output` shows now, with the pointer if `cursor`.
    fn capture(&mut self, output: &Output, cursor: bool) -> anyhow::Result<Screenshot>;
    /// Now, in the clock presentation feedback is reported in.
    fn capture_time(&self) -> Duration;
}

/// wlr-screencopy keeps nothing between frames: each frame's data is in the frame.
#[derive(Debug)]
pub struct ScreencopyState;

impl ScreencopyState {
    /// Creates the global (version 3), seen by the clients `filter` accepts.
    pub fn new<D>(
        dh: &DisplayHandle,
        filter: impl Fn(&Client) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        D: GlobalDispatch<ZwlrScreencopyManagerV1, Filter> + 'static,
    {
        dh.create_global::<D, ZwlrScreencopyManagerV1, _>(3, Filter::new(filter));
        Self
    }
}

/// What a frame captures.
#[derive(Debug)]
pub struct FrameData {
    output: Option<Output>,
    /// In the output's pixels.
    region: Rectangle<i32, Physical>,
    /// The client asked for the pointer to be drawn.
    cursor: bool,
    used: AtomicBool,
}

impl<D> GlobalDispatch<ZwlrScreencopyManagerV1, Filter, D> for ScreencopyState
where
    D: GlobalDispatch<ZwlrScreencopyManagerV1, Filter>
        + Dispatch<ZwlrScreencopyManagerV1, ()>
        + Dispatch<ZwlrScreencopyFrameV1, FrameData>
        + ScreencopyHandler
        + 'static,
{
    fn bind(
        _state: &mut D,
        _dh: &DisplayHandle,
        _client: &Client,
        resource: New<ZwlrScreencopyManagerV1>,
        _global_data: &Filter,
        data_init: &mut DataInit<'_, D>,
    ) {
        data_init.init(resource, ());
    }

    fn can_view(client: Client, global_data: &Filter) -> bool {
        global_data.allows(&client)
    }
}

/// Starts a frame of `output` (or part of it, in output-local logical coordinates), announcing
/// the wl_shm buffer it needs.
fn start_frame<D>(
    data_init: &mut DataInit<'_, D>,
    frame: New<ZwlrScreencopyFrameV1>,
    output: Option<Output>,
    logical_region: Option<Rectangle<i32, smithay::utils::Logical>>,
    cursor: bool,
) where
    D: Dispatch<ZwlrScreencopyFrameV1, FrameData> + 'static,
{
    let mode = output.as_ref().and_then(|o| o.current_mode());
    let scale = output
        .as_ref()
        .map(|o| o.current_scale().fractional_scale())
        .unwrap_or(1.0);
    let full = mode
        .map(|m| Rectangle::from_size(m.size))
        .unwrap_or_default();
    let region = match logical_region {
        Some(r) => r
            .to_f64()
            .to_physical(scale)
            .to_i32_round()
            .intersection(full)
            .unwrap_or_default(),
        None => full,
    };
    let frame: ZwlrScreencopyFrameV1 = data_init.init(
        frame,
        FrameData {
            output: output.filter(|_| mode.is_some()),
            region,
            cursor,
            used: AtomicBool::new(false),
        },
    );
    if region.is_empty() || frame.data::<FrameData>().is_none_or(|d| d.output.is_none()) {
        frame.failed();
        return;
    }
    let (w, h) = (region.size.w as u32, region.size.h as u32);
    frame.buffer(wl_shm::Format::Xrgb8888, w, h, w * 4);
    if frame.version() >= 3 {
        frame.buffer_done();
    }
}

impl<D> Dispatch<ZwlrScreencopyManagerV1, (), D> for ScreencopyState
where
    D: Dispatch<ZwlrScreencopyManagerV1, ()>
        + Dispatch<ZwlrScreencopyFrameV1, FrameData>
        + ScreencopyHandler
        + 'static,
{
    fn request(
        _state: &mut D,
        _client: &Client,
        _resource: &ZwlrScreencopyManagerV1,
        request: zwlr_screencopy_manager_v1::Request,
        _data: &(),
        _dh: &DisplayHandle,
        data_init: &mut DataInit<'_, D>,
    ) {
        match request {
            zwlr_screencopy_manager_v1::Request::CaptureOutput {
                frame,
                overlay_cursor,
                output,
            } => {
                let output = Output::from_resource(&output);
                start_frame(data_init, frame, output, None, overlay_cursor != 0);
            }
            zwlr_screencopy_manager_v1::Request::CaptureOutputRegion {
                frame,
                overlay_cursor,
                output,
                x,
                y,
                width,
                height,
            } => {
                let region = Rectangle::new((x, y).into(), (width, height).into());
                let output = Output::from_resource(&output);
                start_frame(data_init, frame, output, Some(region), overlay_cursor != 0);
            }
            _ => {}
        }
    }
}

impl<D> Dispatch<ZwlrScreencopyFrameV1, FrameData, D> for ScreencopyState
where
    D: Dispatch<ZwlrScreencopyFrameV1, FrameData> + ScreencopyHandler + 'static,
{
    fn request(
        state: &mut D,
        _client: &Client,
        frame: &ZwlrScreencopyFrameV1,
        request: zwlr_screencopy_frame_v1::Request,
        data: &FrameData,
        _dh: &DisplayHandle,
        _data_init: &mut DataInit<'_, D>,
    ) {
        let (buffer, with_damage) = match request {
            zwlr_screencopy_frame_v1::Request::Copy { buffer } => (buffer, false),
            zwlr_screencopy_frame_v1::Request::CopyWithDamage { buffer } => (buffer, true),
            _ => return,
        };
        if data.used.swap(true, Ordering::SeqCst) {
            frame.post_error(
                zwlr_screencopy_frame_v1::Error::AlreadyUsed,
                "this frame was already copied",
            );
            return;
        }
        let Some(output) = data.output.clone() else {
            frame.failed();
            return;
        };
        let copied = state
            .capture(&output, data.cursor)
            .map_err(|err| CopyError::Failed(format!("{err:#}")))
            .and_then(|shot| copy_into(&shot, data.region, &buffer));
        match copied {
            Ok(()) => {
                if with_damage {
                    frame.damage(0, 0, data.region.size.w as u32, data.region.size.h as u32);
                }
                frame.flags(zwlr_screencopy_frame_v1::Flags::empty());
                let now = state.capture_time();
                let secs = now.as_secs();
                frame.ready((secs >> 32) as u32, secs as u32, now.subsec_nanos());
            }
            Err(CopyError::Invalid(reason)) => {
                frame.post_error(zwlr_screencopy_frame_v1::Error::InvalidBuffer, reason);
            }
            Err(CopyError::Failed(reason)) => {
                warn!(%reason, "a screencopy failed");
                frame.failed();
            }
        }
    }
}

enum CopyError {
    /// The client's buffer does not fit: a protocol error.
    Invalid(String),
    /// Rendering failed: the frame fails.
    Failed(String),
}

/// Writes `region` of a picture into a client's `buffer`.
fn copy_into(
    shot: &Screenshot,
    region: Rectangle<i32, Physical>,
    buffer: &WlBuffer,
) -> Result<(), CopyError> {
    // The output may have changed size since the frame was announced (a winit window
    // resized): the region must still lie in the picture.
    let fits = region.loc.x >= 0
        && region.loc.y >= 0
        && region.loc.x + region.size.w <= shot.width as i32
        && region.loc.y + region.size.h <= shot.height as i32;
    if !fits {
        return Err(CopyError::Failed("the output changed size".into()));
    }
    let result = with_buffer_contents_mut(buffer, |ptr, len, info| {
        let (w, h) = (region.size.w, region.size.h);
        if w <= 0 || h <= 0 {
            return Err("the frame is empty".to_string());
        }
        if info.width != w || info.height != h {
            return Err(format!(
                "the buffer is {}x{}, the frame {w}x{h}",
                info.width, info.height
            ));
        }
        if !matches!(
            info.format,
            wl_shm::Format::Xrgb8888 | wl_shm::Format::Argb8888
        ) {
            return Err(format!("unsupported format {:?}", info.format));
        }
        let (offset, stride) = (info.offset as usize, info.stride as usize);
        if stride < w as usize * 4
            || offset
                .checked_add(stride * (h as usize - 1) + w as usize * 4)
                .is_none_or(|end| end > len)
        {
            return Err("the buffer lies outside its pool".to_string());
        }
        // SAFETY: smithay maps the pool for the closure's duration; the range was checked.
        let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        for row in 0..h as usize {
            let src_y = region.loc.y as usize + row;
            for col in 0..w as usize {
                let src_x = region.loc.x as usize + col;
                let s = (src_y * shot.width as usize + src_x) * 4;
                let d = offset + row * stride + col * 4;
                let [r, g, b, _] = [
                    shot.rgba[s],
                    shot.rgba[s + 1],
                    shot.rgba[s + 2],
                    shot.rgba[s + 3],
                ];
                bytes[d..d + 4].copy_from_slice(&[b, g, r, 0xff]);
            }
        }
        Ok(())
    });
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(reason)) => Err(CopyError::Invalid(reason)),
        Err(err) => Err(CopyError::Invalid(format!("not a wl_shm buffer: {err:?}"))),
    }
}

/// Implements the dispatch of wlr-screencopy for `$ty` through [`ScreencopyState`].
#[macro_export]
macro_rules! delegate_screencopy {
    ($ty:ty) => {
        smithay::reexports::wayland_server::delegate_global_dispatch!($ty: [
            smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1:
                $crate::protocols::Filter
        ] => $crate::protocols::screencopy::ScreencopyState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1: ()
        ] => $crate::protocols::screencopy::ScreencopyState);
        smithay::reexports::wayland_server::delegate_dispatch!($ty: [
            smithay::reexports::wayland_protocols_wlr::screencopy::v1::server::zwlr_screencopy_frame_v1::ZwlrScreencopyFrameV1:
                $crate::protocols::screencopy::FrameData
        ] => $crate::protocols::screencopy::ScreencopyState);
    };
}
