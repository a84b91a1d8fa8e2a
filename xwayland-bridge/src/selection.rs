//! The clipboard and primary selection of the container's clients: its X11 clients, its native
//! Wayland clients (in a checkpointable container, where the bridge serves them) and the host.
//! All meet at the host's selection of this container: a copy in X11 or by a native client
//! becomes a data source the bridge sets on the host; the host's selection (the bridge's own
//! included) becomes an X11 selection the bridge's window manager owns and a selection the
//! bridge's server offers its native clients. Which container sees which selection is the host's
//! business.

use std::os::fd::OwnedFd;

use smithay::input::Seat;
use smithay::wayland::selection::data_device::{
    clear_data_device_selection, request_data_device_client_selection, set_data_device_focus,
    set_data_device_selection, DataDeviceHandler, DataDeviceState,
};
use smithay::wayland::selection::primary_selection::{
    clear_primary_selection, request_primary_client_selection, set_primary_focus,
    set_primary_selection, PrimarySelectionHandler, PrimarySelectionState,
};
use smithay::wayland::selection::{SelectionHandler, SelectionSource, SelectionTarget};
use smithay::xwayland::X11Surface;
use smithay_client_toolkit::data_device_manager::data_offer::receive_to_fd;
use tracing::{debug, warn};

use crate::bridge::Bridge;

/// Whose selection a source the bridge set on the host carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    X11,
    Native,
}

impl Bridge {
    /// A client of the container took a selection: offer it on the host as this container's.
    pub fn offer_selection(
        &mut self,
        target: SelectionTarget,
        mime_types: Vec<String>,
        owner: Owner,
    ) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        let serial = host.last_serial;
        let qh = host.qh.clone();
        match target {
            SelectionTarget::Clipboard => {
                let Some(device) = &host.data_device else {
                    return;
                };
                let source = host
                    .data_devices
                    .create_copy_paste_source(&qh, mime_types.clone());
                source.set_selection(device, serial);
                host.clipboard_source = Some((source, owner));
            }
            SelectionTarget::Primary => {
                let (Some(manager), Some(device)) = (&host.primary, &host.primary_device) else {
                    return;
                };
                let source = manager.create_selection_source(&qh, mime_types.clone());
                source.set_selection(device, serial);
                host.primary_source = Some((source, owner));
            }
        }
        // The container's other clients see it at once, not after the host's round trip: a
        // paste right after a copy must find it.
        self.share_selection(target, Some(mime_types), Some(owner));
    }

    /// The owner of a selection the bridge offers on the host gave it up.
    pub fn clear_selection(&mut self, target: SelectionTarget, owner: Owner) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        let serial = host.last_serial;
        match target {
            SelectionTarget::Clipboard => {
                if host
                    .clipboard_source
                    .as_ref()
                    .is_some_and(|(_, o)| *o == owner)
                {
                    host.clipboard_source = None;
                    if let Some(device) = &host.data_device {
                        device.inner().set_selection(None, serial);
                    }
                }
            }
            SelectionTarget::Primary => {
                if host
                    .primary_source
                    .as_ref()
                    .is_some_and(|(_, o)| *o == owner)
                {
                    host.primary_source = None;
                    if let Some(device) = &host.primary_device {
                        device.unset_selection(serial);
                    }
                }
            }
        }
    }

    /// Whose selection the bridge's own host source carries, if the host's selection is one.
    fn own_selection(&self, target: SelectionTarget) -> Option<Owner> {
        let host = self.host.as_ref()?;
        match target {
            SelectionTarget::Clipboard => host.clipboard_source.as_ref().map(|(_, o)| *o),
            SelectionTarget::Primary => host.primary_source.as_ref().map(|(_, o)| *o),
        }
    }

    /// The host's selection changed: X11 clients see it as a selection the window manager
    /// owns, native clients as one the bridge's server provides, unless it is their own.
    pub fn host_selection_changed(
        &mut self,
        target: SelectionTarget,
        mime_types: Option<Vec<String>>,
    ) {
        if self.host.is_none() {
            return;
        }
        let owner = self.own_selection(target);
        debug!(?target, ?owner, ?mime_types, "the host's selection changed");
        self.share_selection(target, mime_types, owner);
    }

    /// Offers a selection to the container's X11 clients (as the window manager's) and native
    /// clients (as the bridge server's), except to `owner`'s side, which has it already.
    fn share_selection(
        &mut self,
        target: SelectionTarget,
        mime_types: Option<Vec<String>>,
        owner: Option<Owner>,
    ) {
        if owner != Some(Owner::X11) {
            if let Some(xwm) = self.xwm.as_mut() {
                if let Err(err) = xwm.new_selection(target, mime_types.clone()) {
                    warn!(?err, ?target, "handing the selection to X11 failed");
                }
                // smithay 0.7 queues SetSelectionOwner without flushing the window manager's
                // connection, and nothing else may flush it for a while: X11 clients kept
                // pasting the old selection. An empty restack flushes it.
                if let Err(err) =
                    xwm.update_stacking_order_upwards(std::iter::empty::<&X11Surface>())
                {
                    warn!(?err, "flushing the X11 window manager's connection failed");
                }
            }
        }
        if owner != Some(Owner::Native) && self.proxy {
            let (dh, seat) = (&self.server.dh, &self.server.seat);
            match (target, mime_types) {
                (SelectionTarget::Clipboard, Some(mimes)) => {
                    set_data_device_selection(dh, seat, mimes, ())
                }
                (SelectionTarget::Clipboard, None) => clear_data_device_selection(dh, seat),
                (SelectionTarget::Primary, Some(mimes)) => {
                    set_primary_selection(dh, seat, mimes, ())
                }
                (SelectionTarget::Primary, None) => clear_primary_selection(dh, seat),
            }
        }
    }

    /// A client of the container pastes the host's selection: the host writes it into `fd`.
    pub fn read_host_selection(&mut self, target: SelectionTarget, mime_type: String, fd: OwnedFd) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        match target {
            SelectionTarget::Clipboard => {
                if let Some(offer) = host
                    .data_device
                    .as_ref()
                    .and_then(|d| d.data().selection_offer())
                {
                    receive_to_fd(offer.inner(), mime_type, fd);
                }
            }
            SelectionTarget::Primary => {
                if let Some(offer) = host
                    .primary_device
                    .as_ref()
                    .and_then(|d| d.data().selection_offer())
                {
                    offer.receive_to_fd(mime_type, fd);
                }
            }
        }
    }

    /// The host reads a selection the bridge offers: its owner writes it into `fd`.
    pub fn write_own_selection(&mut self, target: SelectionTarget, mime_type: String, fd: OwnedFd) {
        match self.own_selection(target) {
            Some(Owner::X11) => {
                let handle = self.loop_handle.clone();
                if let Some(xwm) = self.xwm.as_mut() {
                    if let Err(err) = xwm.send_selection(target, mime_type, fd, handle) {
                        warn!(?err, ?target, "reading the X11 selection failed");
                    }
                }
            }
            Some(Owner::Native) => {
                let seat = &self.server.seat;
                let sent = match target {
                    SelectionTarget::Clipboard => {
                        request_data_device_client_selection(seat, mime_type, fd)
                            .map_err(|e| e.to_string())
                    }
                    SelectionTarget::Primary => {
                        request_primary_client_selection(seat, mime_type, fd)
                            .map_err(|e| e.to_string())
                    }
                };
                if let Err(err) = sent {
                    warn!(%err, ?target, "reading a native client's selection failed");
                }
            }
            None => {}
        }
    }

    /// A source the bridge set was replaced on the host: look at what the host offers now.
    pub fn own_source_cancelled(&mut self, target: SelectionTarget) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        let mime_types = match target {
            SelectionTarget::Clipboard => {
                host.clipboard_source = None;
                host.data_device
                    .as_ref()
                    .and_then(|d| d.data().selection_offer())
                    .map(|o| o.with_mime_types(|m| m.to_vec()))
            }
            SelectionTarget::Primary => {
                host.primary_source = None;
                host.primary_device
                    .as_ref()
                    .and_then(|d| d.data().selection_offer())
                    .map(|o| o.with_mime_types(|m| m.to_vec()))
            }
        };
        self.host_selection_changed(target, mime_types);
    }

    /// The native client with the keyboard focus is the one offered the selections.
    pub fn selection_focus(
        &mut self,
        seat: &Seat<Bridge>,
        client: Option<smithay::reexports::wayland_server::Client>,
    ) {
        if self.proxy {
            set_data_device_focus(&self.server.dh, seat, client.clone());
            set_primary_focus(&self.server.dh, seat, client);
        }
    }
}

/// Native clients' selections (smithay's data device and primary selection, served with
/// `--serve-wayland`).
impl SelectionHandler for Bridge {
    type SelectionUserData = ();

    fn new_selection(
        &mut self,
        target: SelectionTarget,
        source: Option<SelectionSource>,
        _seat: Seat<Self>,
    ) {
        match source {
            Some(source) => self.offer_selection(target, source.mime_types(), Owner::Native),
            None => self.clear_selection(target, Owner::Native),
        }
    }

    fn send_selection(
        &mut self,
        target: SelectionTarget,
        mime_type: String,
        fd: OwnedFd,
        _seat: Seat<Self>,
        _user_data: &(),
    ) {
        self.read_host_selection(target, mime_type, fd);
    }
}

impl DataDeviceHandler for Bridge {
    fn data_device_state(&self) -> &DataDeviceState {
        &self
            .server
            .native
            .as_ref()
            .expect("the data device is offered only with --serve-wayland")
            .data_device
    }
}

impl PrimarySelectionHandler for Bridge {
    fn primary_selection_state(&self) -> &PrimarySelectionState {
        &self
            .server
            .native
            .as_ref()
            .expect("primary selection is offered only with --serve-wayland")
            .primary_selection
    }
}

// The data device's dispatch is `dnd.rs`'s, which passes drags on to the host.
smithay::delegate_primary_selection!(Bridge);
