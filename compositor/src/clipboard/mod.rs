//! The clipboard and primary selection, one per container: who owns each ([`isolation`]), what
//! moves between containers when the person asks ([`transfer`]), and the prompt that asks them
//! ([`prompt`]).

pub mod isolation;
pub mod prompt;
pub mod transfer;

use std::cell::RefCell;
use std::sync::mpsc::SyncSender;

use porthole_ipc::Reply;
use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::backend::renderer::element::solid::SolidColorBuffer;
use smithay::reexports::calloop::RegistrationToken;
use smithay::reexports::wayland_protocols::wp::primary_selection::zv1::server::zwp_primary_selection_device_v1::ZwpPrimarySelectionDeviceV1;
use smithay::reexports::wayland_server::protocol::wl_data_device::WlDataDevice;
use smithay::reexports::wayland_server::Resource;

/// Why a transfer between containers did not happen: said on the event stream, in the log and
/// to the control request that asked for it.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("container `{0}` does not export its clipboard (export = \"deny\")")]
    NoExport(String),
    #[error("container `{0}` has nothing copied")]
    NothingCopied(String),
    #[error("another transfer is being read")]
    Busy,
    #[error("container `{0}`'s clipboard offers no data")]
    NoData(String),
    #[error("cannot create a pipe: {0}")]
    Pipe(rustix::io::Errno),
    #[error("cannot set up the pipe: {0}")]
    PipeSetup(rustix::io::Errno),
    #[error("cannot read the clipboard: {0}")]
    Read(String),
    #[error("container `{0}` did not hand over its clipboard")]
    NotHandedOver(String),
    #[error("nothing was copied: press Ctrl+Shift+C in a window first")]
    NothingHeld,
    #[error("container `{0}` takes no clipboard from others (import = \"deny\")")]
    NoImport(String),
    #[error("container `{to}` does not take {mime}")]
    Mime { to: String, mime: String },
    #[error("{bytes} bytes is over container `{to}`'s max_bytes ({max})")]
    TooLarge {
        bytes: usize,
        to: String,
        max: usize,
    },
    #[error("another transfer was asked for")]
    Superseded,
    #[error("nobody answered the prompt")]
    Unanswered,
    #[error("the person refused the paste")]
    Declined,
}

/// Who owns the selections, and the compositor's side of transfers between containers.
#[derive(Debug, Default)]
pub struct Clipboard {
    /// The container whose client owns the clipboard, if any.
    pub owner: Option<String>,
    /// The container whose client owns the primary selection, if any.
    pub primary_owner: Option<String>,
    /// The container of the client whose selection request is being handled.
    pub setter: Option<String>,
    /// The container a drag in progress started in.
    pub drag_from: Option<String>,
    /// The data source of a client's drag in progress.
    pub drag_source:
        Option<smithay::reexports::wayland_server::protocol::wl_data_source::WlDataSource>,
    /// Every client's selection devices, to tell those denied a selection that there is none.
    pub devices: Vec<SelectionDevice>,
    /// A transfer the person is being asked about.
    pub asking: Option<Ask>,
    /// What the copy chord took, waiting for a paste chord.
    pub held: Option<Transfer>,
    /// What the compositor's own selection serves, when it owns the clipboard.
    pub offered: Option<Transfer>,
    /// The MIME types of the clipboard a client set.
    pub source_mimes: Vec<String>,
    /// A read in progress: its pipe and its timeout.
    pub(super) reading: Option<(RegistrationToken, RegistrationToken)>,
}

/// One container's selection, read out.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub from: String,
    pub mime: String,
    pub data: Vec<u8>,
}

/// What to do once a read finishes.
#[derive(Debug)]
pub enum Then {
    /// Keep it for a later paste chord.
    Hold,
    /// Offer it to a container now, and answer the control request if there is one.
    Paste {
        to: String,
        reply: Option<SyncSender<Reply>>,
    },
}

/// A transfer waiting for the person's answer (`import = "ask"`), and the pieces of the prompt
/// the compositor draws for it.
#[derive(Debug)]
pub struct Ask {
    pub transfer: Transfer,
    pub to: String,
    pub(super) reply: Option<SyncSender<Reply>>,
    pub(super) timeout: Option<RegistrationToken>,
    /// The prompt's two lines, drawn once.
    pub lines: RefCell<Option<(MemoryRenderBuffer, MemoryRenderBuffer)>>,
    /// Its solid pieces, kept between frames.
    pub solids: RefCell<Vec<SolidColorBuffer>>,
}

impl Ask {
    /// What the prompt says.
    pub fn question(&self) -> (String, String) {
        (
            format!(
                "Paste {} bytes ({}) from [{}] into [{}]?",
                self.transfer.data.len(),
                self.transfer.mime,
                self.transfer.from,
                self.to
            ),
            "Enter: paste      Escape: refuse".to_string(),
        )
    }
}

/// A client's clipboard or primary selection device.
#[derive(Debug, Clone)]
pub enum SelectionDevice {
    /// wl_data_device.
    Clipboard(WlDataDevice),
    /// zwp_primary_selection_device_v1.
    Primary(ZwpPrimarySelectionDeviceV1),
}

impl SelectionDevice {
    pub(super) fn alive(&self) -> bool {
        match self {
            SelectionDevice::Clipboard(d) => d.is_alive(),
            SelectionDevice::Primary(d) => d.is_alive(),
        }
    }
}
