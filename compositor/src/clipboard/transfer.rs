//! Moving the clipboard from one container to another, only when the person asks.
//!
//! Each container keeps its own clipboard (see [`super::isolation`]). The copy chord
//! (Ctrl+Shift+C) in a window reads its container's clipboard into the compositor's transfer
//! buffer; the paste chord (Ctrl+Shift+V) in a window of another container offers that buffer
//! there, as a selection the compositor owns. `porthole clipboard copy --from a --to b` does both.
//! Both sides' rules (`[container.NAME.clipboard]`) apply, and every transfer, made or refused, is
//! an event on the control socket.

use std::os::fd::{AsFd as _, OwnedFd};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use porthole_ipc::{Event, Reply, Response};
use smithay::reexports::calloop::generic::Generic;
use smithay::reexports::calloop::timer::{TimeoutAction, Timer};
use smithay::reexports::calloop::{Interest, Mode, PostAction};
use smithay::reexports::wayland_server::protocol::wl_data_source::WlDataSource;
use smithay::wayland::selection::data_device::{
    request_data_device_client_selection, set_data_device_selection, with_source_metadata,
};
use tracing::{debug, info, warn};

use super::{Refusal, Then, Transfer};
use crate::config::{ClipboardRules, Export, Import, Oversize, TEXT_MIME_TYPES};
use crate::state::{Porthole, State};

/// The most the compositor reads from a source before knowing the target (the target's
/// `max_bytes` then decides).
const HOLD_LIMIT: usize = 16 << 20;
/// How long a source gets to hand over its data.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

impl Porthole {
    /// A container's clipboard rules; the host's are the defaults.
    pub fn clipboard_rules(&self, container: &str) -> ClipboardRules {
        self.configured_rules(container)
            .cloned()
            .unwrap_or_default()
    }

    /// A container's own rules, without a copy (for the pointer path of drags); `None` means the
    /// defaults.
    pub fn configured_rules(&self, container: &str) -> Option<&ClipboardRules> {
        self.containers.get(container).map(|c| &c.clipboard)
    }

    /// Reports a transfer on the event stream and in the log.
    pub(super) fn transfer_event(
        &mut self,
        from: &str,
        to: Option<&str>,
        transfer: Option<&Transfer>,
        refusal: Option<&Refusal>,
    ) {
        match refusal {
            Some(reason) => info!(from, ?to, %reason, "clipboard transfer refused"),
            None => info!(from, ?to, "clipboard transfer"),
        }
        self.emit(Event::ClipboardTransfer {
            from: from.into(),
            to: to.map(Into::into),
            mime: transfer.map(|t| t.mime.clone()),
            bytes: transfer.map_or(0, |t| t.data.len() as u64),
            allowed: refusal.is_none(),
            reason: refusal.map(ToString::to_string),
        });
    }
}

fn is_text(mime: &str) -> bool {
    TEXT_MIME_TYPES.contains(&mime)
}

pub(super) fn answer(reply: Option<SyncSender<Reply>>, result: Result<Response, Refusal>) {
    if let Some(reply) = reply {
        let _ = reply.send(match result {
            Ok(response) => Reply::ok(response),
            Err(refusal) => Reply::error(refusal.to_string()),
        });
    }
}

impl State {
    /// The container of the focused window, for the chords.
    fn focused_container(&self) -> Option<String> {
        let window = self.comp.focused_window()?;
        self.comp
            .window_container(&window)
            .map(|c| c.name.to_string())
            .or_else(|| {
                // A host window: the host socket's clients are the container `host`.
                Some(crate::policy::HOST_CONTAINER.to_string())
            })
    }

    /// The copy chord.
    pub fn clipboard_copy_chord(&mut self) {
        if let Some(from) = self.focused_container() {
            self.clipboard_copy(&from, Then::Hold);
        }
    }

    /// The paste chord.
    pub fn clipboard_paste_chord(&mut self) {
        if let Some(to) = self.focused_container() {
            self.clipboard_paste(&to, None);
        }
    }

    /// Reads `from`'s clipboard, then does `then` with it.
    pub fn clipboard_copy(&mut self, from: &str, then: Then) {
        self.copy_from(from, None, then);
    }

    /// A drag from `from` was dropped on a window of `to`: what was dragged is read from its
    /// source and offered to `to` as its clipboard, under both containers' rules, as a transfer.
    /// The drag itself never entered `to`'s windows, so nothing of it was readable on the way.
    pub fn drag_copy(&mut self, from: &str, to: &str, source: WlDataSource) {
        let then = Then::Paste {
            to: to.to_string(),
            reply: None,
        };
        self.copy_from(from, Some(source), then);
    }

    /// Reads `from`'s clipboard, or the source of its drag, then does `then` with it.
    fn copy_from(&mut self, from: &str, drag: Option<WlDataSource>, then: Then) {
        let refuse = |state: &mut State, then: Then, reason: Refusal| {
            let to = match &then {
                Then::Paste { to, .. } => Some(to.clone()),
                Then::Hold => None,
            };
            state
                .comp
                .transfer_event(from, to.as_deref(), None, Some(&reason));
            if let Then::Paste { reply, .. } = then {
                answer(reply, Err(reason));
            }
        };
        if self.comp.clipboard_rules(from).export == Export::Deny {
            return refuse(self, then, Refusal::NoExport(from.to_string()));
        }
        if drag.is_none() && self.comp.clipboard.owner.as_deref() != Some(from) {
            return refuse(self, then, Refusal::NothingCopied(from.to_string()));
        }
        if self.comp.clipboard.reading.is_some() {
            return refuse(self, then, Refusal::Busy);
        }
        // What the compositor offers already (a paste into `from`) needs no client.
        if let (None, Some(offered)) = (&drag, self.comp.clipboard.offered.clone()) {
            let transfer = Transfer {
                from: from.into(),
                ..offered
            };
            return self.clipboard_read_done(transfer, then);
        }
        let mimes = match &drag {
            Some(source) => {
                with_source_metadata(source, |m| m.mime_types.clone()).unwrap_or_default()
            }
            None => self.comp.clipboard.source_mimes.clone(),
        };
        let Some(mime) = TEXT_MIME_TYPES
            .iter()
            .find(|t| mimes.iter().any(|m| m == *t))
            .map(|t| t.to_string())
            .or_else(|| mimes.first().cloned())
        else {
            return refuse(self, then, Refusal::NoData(from.to_string()));
        };
        let (read, write) = match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
            Ok(pair) => pair,
            Err(err) => return refuse(self, then, Refusal::Pipe(err)),
        };
        if let Err(err) = rustix::io::ioctl_fionbio(&read, true) {
            return refuse(self, then, Refusal::PipeSetup(err));
        }
        match drag {
            Some(source) => source.send(mime.clone(), write.as_fd()),
            None => {
                let seat = self.comp.seat.clone();
                if let Err(err) = request_data_device_client_selection(&seat, mime.clone(), write) {
                    return refuse(self, then, Refusal::Read(format!("{err:?}")));
                }
            }
        }
        let limit = match &then {
            Then::Paste { to, .. } => {
                (self.comp.clipboard_rules(to).max_bytes.0 as usize).saturating_add(1)
            }
            Then::Hold => HOLD_LIMIT,
        };
        self.start_read(from.to_string(), mime, read, limit, then);
    }

    /// Reads the pipe without blocking the compositor, at most `limit` bytes, for at most
    /// [`READ_TIMEOUT`].
    fn start_read(&mut self, from: String, mime: String, read: OwnedFd, limit: usize, then: Then) {
        let mut then = Some(then);
        let mut data = Vec::new();
        let reader_from = from.clone();
        let reader_mime = mime.clone();
        let pipe = self.comp.loop_handle.insert_source(
            Generic::new(read, Interest::READ, Mode::Level),
            move |_, fd, state| {
                let mut buf = [0u8; 16 * 1024];
                let done = loop {
                    // SAFETY: the fd is not closed while the source exists.
                    match rustix::io::read(unsafe { fd.get_mut() }.as_fd(), &mut buf) {
                        Ok(0) => break true,
                        Ok(n) => {
                            data.extend_from_slice(&buf[..n]);
                            if data.len() >= limit {
                                break true;
                            }
                        }
                        Err(rustix::io::Errno::AGAIN) => break false,
                        Err(rustix::io::Errno::INTR) => continue,
                        Err(_) => break true,
                    }
                };
                if !done {
                    return Ok(PostAction::Continue);
                }
                if let Some((_, timer)) = state.comp.clipboard.reading.take() {
                    state.comp.loop_handle.remove(timer);
                }
                if let Some(then) = then.take() {
                    let transfer = Transfer {
                        from: reader_from.clone(),
                        mime: reader_mime.clone(),
                        data: std::mem::take(&mut data),
                    };
                    state.clipboard_read_done(transfer, then);
                }
                Ok(PostAction::Remove)
            },
        );
        let pipe = match pipe {
            Ok(token) => token,
            Err(err) => {
                warn!(%err, "cannot watch a clipboard pipe");
                return;
            }
        };
        let timer = self.comp.loop_handle.insert_source(
            Timer::from_duration(READ_TIMEOUT),
            move |_, _, state| {
                if let Some((pipe, _)) = state.comp.clipboard.reading.take() {
                    state.comp.loop_handle.remove(pipe);
                    let reason = Refusal::NotHandedOver(from.clone());
                    state.comp.transfer_event(&from, None, None, Some(&reason));
                }
                TimeoutAction::Drop
            },
        );
        match timer {
            Ok(timer) => self.comp.clipboard.reading = Some((pipe, timer)),
            Err(err) => warn!(%err, "cannot time a clipboard read"),
        }
        debug!(%mime, "reading a clipboard for a transfer");
    }

    fn clipboard_read_done(&mut self, transfer: Transfer, then: Then) {
        debug!(from = %transfer.from, bytes = transfer.data.len(), "clipboard read");
        self.comp.clipboard.held = Some(transfer);
        if let Then::Paste { to, reply } = then {
            self.clipboard_paste(&to, reply);
        }
    }

    /// Offers the held transfer to `to`, under its rules.
    pub fn clipboard_paste(&mut self, to: &str, reply: Option<SyncSender<Reply>>) {
        let Some(mut transfer) = self.comp.clipboard.held.clone() else {
            return answer(reply, Err(Refusal::NothingHeld));
        };
        let from = transfer.from.clone();
        let rules = self.comp.clipboard_rules(to);
        let mut refusal = None;
        if rules.import == Import::Deny {
            refusal = Some(Refusal::NoImport(to.to_string()));
        } else if !rules.mime.contains(&transfer.mime) {
            refusal = Some(Refusal::Mime {
                to: to.to_string(),
                mime: transfer.mime.clone(),
            });
        } else if transfer.data.len() as u64 > rules.max_bytes.0 {
            let max = rules.max_bytes.0 as usize;
            if rules.oversize == Oversize::Cut && is_text(&transfer.mime) {
                let mut end = max;
                while end > 0 && std::str::from_utf8(&transfer.data[..end]).is_err() {
                    end -= 1;
                }
                transfer.data.truncate(end);
            } else {
                refusal = Some(Refusal::TooLarge {
                    bytes: transfer.data.len(),
                    to: to.to_string(),
                    max,
                });
            }
        }
        if let Some(reason) = refusal {
            self.comp
                .transfer_event(&from, Some(to), Some(&transfer), Some(&reason));
            return answer(reply, Err(reason));
        }
        if rules.import == Import::Ask {
            return self.ask(transfer, to.to_string(), reply);
        }
        self.offer(transfer, to, reply);
    }

    /// Offers a transfer to `to`'s clients as the compositor's own selection.
    pub(super) fn offer(&mut self, transfer: Transfer, to: &str, reply: Option<SyncSender<Reply>>) {
        let from = transfer.from.clone();
        let rules = self.comp.clipboard_rules(to);

        let mimes: Vec<String> = if is_text(&transfer.mime) {
            TEXT_MIME_TYPES
                .iter()
                .filter(|m| rules.mime.iter().any(|r| r == *m))
                .map(|m| m.to_string())
                .collect()
        } else {
            vec![transfer.mime.clone()]
        };
        let dh = self.comp.display_handle.clone();
        let seat = self.comp.seat.clone();
        set_data_device_selection(&dh, &seat, mimes, ());
        self.comp.clipboard.owner = Some(to.to_string());
        self.comp.clipboard.offered = Some(transfer.clone());
        self.comp.clipboard.source_mimes.clear();
        let focus = seat.get_keyboard().and_then(|k| k.current_focus());
        self.comp.offer_selections(&seat, focus.as_ref());
        self.comp
            .transfer_event(&from, Some(to), Some(&transfer), None);
        answer(
            reply,
            Ok(Response::ClipboardCopied {
                mime: transfer.mime,
                bytes: transfer.data.len() as u64,
            }),
        );
    }

    /// A client of the container the compositor offered a transfer to pastes it.
    pub fn send_offered_clipboard(&mut self, fd: OwnedFd) {
        let Some(data) = self.comp.clipboard.offered.as_ref().map(|t| t.data.clone()) else {
            return;
        };
        // A reader that never reads must not stall the compositor.
        std::thread::spawn(move || {
            let mut file = std::fs::File::from(fd);
            let _ = std::io::Write::write_all(&mut file, &data);
        });
    }
}
