//! The bridge's hold on the compositor: connecting to the container's socket, noticing it is
//! gone, letting go of it before a checkpoint and taking every window back to it after the
//! restore, and sending to it without overfilling it.

use anyhow::Context as _;
use calloop::generic::Generic;
use calloop::{Interest, Mode, PostAction};
use tracing::{info, warn};
use wayland_client::backend::WaylandError;
use wayland_client::globals::registry_queue_init;

use super::Bridge;
use crate::host::Host;

impl Bridge {
    /// Connects to the container's socket and learns its outputs and seat, before Xwayland
    /// sizes its screen. On failure the bridge holds no connection, so that it tries again.
    pub(crate) fn connect_host(&mut self) -> anyhow::Result<()> {
        let connected = self.try_connect_host();
        if connected.is_err() {
            if let Some(token) = self.host_source.take() {
                self.loop_handle.remove(token);
            }
            self.host = None;
        }
        connected
    }

    fn try_connect_host(&mut self) -> anyhow::Result<()> {
        let conn = crate::host::connect()?;
        let (globals, mut queue) = registry_queue_init::<Bridge>(&conn)
            .context("reading the container's Wayland globals")?;
        let mut host = Host::new(
            conn.clone(),
            &globals,
            queue.handle(),
            self.proxy,
            self.server.memory.clone(),
        )?;
        if let Some(seat) = host.seats.seats().next() {
            host.adopt_seat(seat);
        }
        self.host = Some(host);
        queue
            .roundtrip(self)
            .context("talking to the container's Wayland socket")?;
        queue.roundtrip(self)?;
        self.resize_desktop();

        let fd = conn.backend().poll_fd().try_clone_to_owned()?;
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(fd, Interest::READ, Mode::Level),
                move |_, _, bridge| {
                    if let Some(guard) = queue.prepare_read() {
                        if let Err(err) = guard.read() {
                            let would_block = matches!(&err,
                                wayland_client::backend::WaylandError::Io(e)
                                    if e.kind() == std::io::ErrorKind::WouldBlock);
                            if !would_block {
                                bridge.host_lost(&err);
                                return Ok(PostAction::Remove);
                            }
                        }
                    }
                    if let Err(err) = queue.dispatch_pending(bridge) {
                        let err = match err {
                            wayland_client::DispatchError::Backend(err) => err,
                            other => WaylandError::Io(std::io::Error::other(other.to_string())),
                        };
                        bridge.host_lost(&err);
                        return Ok(PostAction::Remove);
                    }
                    bridge.host_dispatched = true;
                    Ok(PostAction::Continue)
                },
            )
            .map_err(|err| anyhow::anyhow!("watching the host connection: {err}"))?;
        self.host_source = Some(token);
        Ok(())
    }

    /// The container's socket dropped the bridge (the compositor went away, or the container's
    /// clients went over one of its limits, such as its number of windows). Serving the
    /// container's socket, the bridge keeps its clients, but the one a protocol error names (see
    /// [`culprit`](super::culprit)), and takes them back to the compositor when it can. Else
    /// this X server and its clients go, the command keeps running, and the next X11 client
    /// starts afresh.
    pub fn host_lost(&mut self, err: &WaylandError) {
        self.host_source = None;
        if self.proxy {
            if let WaylandError::Protocol(error) = err {
                self.blame(error);
            }
            warn!(%err, "the compositor dropped the bridge; its clients wait for it to come back");
            self.loop_handle.insert_idle(|bridge| {
                bridge.detach();
                bridge.await_compositor();
            });
            return;
        }
        warn!(%err, "the container's Wayland socket dropped the bridge; stopping this Xwayland");
        self.xwayland_gone();
    }

    /// Lets go of the host, keeping every client as it is: the compositor asked (a checkpoint
    /// follows, and no connection may lead out of the container then), or it went away. What each
    /// window showed is kept, to show it again at once after [`Bridge::attach`].
    pub fn detach(&mut self) {
        self.end_drag_grab(false);
        if let Some(host) = self.host.as_mut() {
            for mirror in &mut self.mirrors {
                mirror.view.keep_last(&mut host.pool);
            }
            for native in &mut self.natives {
                native.view.keep_last(&mut host.pool);
            }
            self.subsurfaces.keep_last(&mut host.pool);
            self.cursor.keep_last(&mut host.pool);
        }
        // After keep_last: what windows keep stays held, the rest goes back to the clients.
        self.server.memory.borrow_mut().forget_host();
        for mirror in &mut self.mirrors {
            mirror.role = None;
            mirror.view.forget_host();
            mirror.follow = None;
        }
        for native in &mut self.natives {
            native.forget_host();
        }
        self.subsurfaces.forget_host();
        self.cursor.forget_host();
        self.sessions.forget_host();
        // Popups open now are dismissed, as after any reconnect.
        for popup in self.native_popups.drain(..) {
            popup.popup.send_popup_done();
        }
        for token in [self.host_source.take(), self.host_writable.take()]
            .into_iter()
            .flatten()
        {
            self.loop_handle.remove(token);
        }
        if self.host.take().is_some() {
            info!("detached from the compositor");
        }
        self.detached = true;
    }

    /// Connects to the compositor again (after a restore, a failed checkpoint, or a compositor
    /// that came back) and forwards every window anew, each naming its slot so that it takes its
    /// place back.
    pub fn attach(&mut self) -> anyhow::Result<()> {
        if self.host.is_some() {
            return Ok(());
        }
        self.connect_host()?;
        self.stop_awaiting();
        self.detached = false;
        info!(
            x11_windows = self.mirrors.len(),
            wayland_windows = self.natives.len(),
            "reconnected to the compositor"
        );
        for index in 0..self.mirrors.len() {
            if self.mirrors[index].surface.is_some() {
                self.create_role(index);
            }
        }
        self.reattach_sessions();
        for index in 0..self.natives.len() {
            self.create_native_role(index);
        }
        self.respawn();
        Ok(())
    }

    /// Sends what the bridge queued for the container's socket.
    ///
    /// A full socket is not a lost one, but libwayland-client (which the bridge's connection
    /// uses) drops the connection when a request finds both the socket and its own 4 KiB buffer
    /// full. So once a flush leaves something behind, the bridge watches the socket until it
    /// drains and meanwhile queues nothing it can hold back: an X11 client retitling its window
    /// in a loop must not cost the container its X server.
    pub(crate) fn flush_host(&mut self) {
        let Some(host) = &self.host else {
            return;
        };
        let err = match host.conn.flush() {
            Ok(()) => return,
            Err(WaylandError::Io(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {
                if self.host_writable.is_none() {
                    if let Err(err) = self.watch_host_drain() {
                        warn!(%err, "cannot watch the container's socket drain");
                    }
                }
                return;
            }
            Err(err) => err,
        };
        if let Some(token) = self.host_source.take() {
            self.loop_handle.remove(token);
        }
        self.host_lost(&err);
    }

    /// Wakes the loop once the container's socket takes data again; the pass that follows
    /// flushes, and sends the titles held back.
    fn watch_host_drain(&mut self) -> anyhow::Result<()> {
        let Some(host) = &self.host else {
            return Ok(());
        };
        let fd = host.conn.backend().poll_fd().try_clone_to_owned()?;
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(fd, Interest::WRITE, Mode::Level),
                |_, _, bridge| {
                    bridge.host_writable = None;
                    Ok(PostAction::Remove)
                },
            )
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        self.host_writable = Some(token);
        Ok(())
    }
}
