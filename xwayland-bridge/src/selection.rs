//! The clipboard and primary selection between the container's X11 clients and its Wayland
//! clients. Both sides meet at the host's selection of this container: an X11 copy becomes a
//! data source the bridge sets on the host, and a host selection becomes an X11 selection the
//! bridge's window manager owns. Which container sees which selection is the host's business.

use std::os::fd::OwnedFd;

use smithay::wayland::selection::SelectionTarget;
use smithay_client_toolkit::data_device_manager::data_offer::receive_to_fd;
use tracing::warn;

use crate::Bridge;

impl Bridge {
    /// An X11 client took a selection: offer it on the host as this container's.
    pub fn offer_x11_selection(&mut self, target: SelectionTarget, mime_types: Vec<String>) {
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
                let source = host.data_devices.create_copy_paste_source(&qh, mime_types);
                source.set_selection(device, serial);
                host.clipboard_source = Some(source);
            }
            SelectionTarget::Primary => {
                let (Some(manager), Some(device)) = (&host.primary, &host.primary_device) else {
                    return;
                };
                let source = manager.create_selection_source(&qh, mime_types);
                source.set_selection(device, serial);
                host.primary_source = Some(source);
            }
        }
    }

    /// The X11 owner of a selection went away.
    pub fn clear_x11_selection(&mut self, target: SelectionTarget) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        let serial = host.last_serial;
        match target {
            SelectionTarget::Clipboard => {
                if host.clipboard_source.take().is_some() {
                    if let Some(device) = &host.data_device {
                        device.inner().set_selection(None, serial);
                    }
                }
            }
            SelectionTarget::Primary => {
                if host.primary_source.take().is_some() {
                    if let Some(device) = &host.primary_device {
                        device.unset_selection(serial);
                    }
                }
            }
        }
    }

    /// The host's selection changed. Unless it is the bridge's own source, X11 clients see it as
    /// a selection the window manager owns.
    pub fn host_selection_changed(
        &mut self,
        target: SelectionTarget,
        mime_types: Option<Vec<String>>,
    ) {
        let Some(host) = self.host.as_mut() else {
            return;
        };
        let own = match target {
            SelectionTarget::Clipboard => host.clipboard_source.is_some(),
            SelectionTarget::Primary => host.primary_source.is_some(),
        };
        if own {
            return;
        }
        if let Some(xwm) = self.xwm.as_mut() {
            if let Err(err) = xwm.new_selection(target, mime_types) {
                warn!(?err, ?target, "handing the selection to X11 failed");
            }
        }
    }

    /// An X11 client pastes a host selection: the host writes it into `fd`.
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

    /// A host client pastes an X11 selection: the window manager converts it into `fd`.
    pub fn write_x11_selection(&mut self, target: SelectionTarget, mime_type: String, fd: OwnedFd) {
        let handle = self.loop_handle.clone();
        if let Some(xwm) = self.xwm.as_mut() {
            if let Err(err) = xwm.send_selection(target, mime_type, fd, handle) {
                warn!(?err, ?target, "reading the X11 selection failed");
            }
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
}
