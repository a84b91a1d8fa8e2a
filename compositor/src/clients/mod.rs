//! Every client's connection, from accept to the report that it is gone.
//!
//! The server runs on libwayland, whose parser refuses malformed messages (a null where the
//! protocol wants a string or an object, a wrong fd count) with a protocol error before any Rust
//! code sees them. libwayland ends a client that got a protocol error when the dispatch of its
//! requests is over, but two cases escape that:
//!
//! - an error posted outside that client's dispatch (a limit found at frame time, a container
//!   removed from the control socket) leaves the client connected until it writes again;
//! - once wayland-backend has posted an error on a client, it never calls
//!   `ClientData::disconnected` for it, so its container would count it forever.
//!
//! So each connection keeps a second handle on its socket. After every loop iteration,
//! [`Clients::reap`] finds the clients that got an error, sends what is queued for them (their
//! error first of all), and shuts their socket down: libwayland sees the hang-up and frees them,
//! and their container hears that they are gone.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use smithay::reexports::calloop::channel;
use smithay::reexports::calloop::ping::Ping;
use smithay::reexports::wayland_server::backend::{ClientId, DisconnectReason, ObjectId};
use smithay::reexports::wayland_server::{Client, DisplayHandle};
use tracing::{info, warn};

use crate::config::Limits;
use crate::policy::{ClientGone, ClientState};

mod objects;

/// The clients' connections.
pub struct Clients {
    /// Cloned into every client's state to report its disconnection.
    gone: channel::Sender<ClientGone>,
    /// Wakes the loop to dispatch the display, which frees what killed clients held.
    pub display_ping: Option<Ping>,
    /// Clients to disconnect once the current dispatch is over.
    pending_kills: Vec<ClientId>,
    /// A second handle on each live client's socket, and its state.
    connections: HashMap<ClientId, Connection>,
    /// The protocol objects each container's clients hold.
    objects: HashMap<String, Arc<AtomicU32>>,
    /// The compositor's fds, and who may connect while they run short.
    pub fds: crate::fds::Budget,
    /// Spare fds, to accept (and refuse) a connection when the table is full.
    pub spares: crate::fds::Spares,
    /// Freed memory is to be given back to the system soon.
    pub trim_pending: bool,
    /// Events that end their object (a frame callback's done, presentation feedback) went out
    /// outside a dispatch since the last flush: see [`Clients::flush_after_dispatch`].
    pub ended_outside_dispatch: bool,
}

struct Connection {
    socket: OwnedFd,
    state: Arc<ClientState>,
}

impl Clients {
    /// Whether the flush is to wait for a dispatch first. An event that ends its object, sent
    /// outside a dispatch, leaves the object's destructor to wayland-backend's next dispatch, and
    /// a flush with destructors pending arms a 1 ms timer for that dispatch: a wakeup per frame
    /// for nothing. The ping makes the loop dispatch at once instead, and the flush after that
    /// dispatch finds none pending.
    pub fn flush_after_dispatch(&mut self) -> bool {
        if !std::mem::take(&mut self.ended_outside_dispatch) {
            return false;
        }
        match &self.display_ping {
            Some(ping) => {
                ping.ping();
                true
            }
            None => false,
        }
    }

    /// No clients yet; their departures go to `gone`.
    pub fn new(gone: channel::Sender<ClientGone>) -> Self {
        Self {
            gone,
            display_ping: None,
            pending_kills: Vec::new(),
            connections: HashMap::new(),
            objects: HashMap::new(),
            fds: crate::fds::Budget::new(),
            spares: crate::fds::Spares::new(2),
            ended_outside_dispatch: false,
            trim_pending: false,
        }
    }

    /// Serves a client on `stream`, carrying `state`.
    pub fn insert(
        &mut self,
        dh: &mut DisplayHandle,
        stream: UnixStream,
        mut state: ClientState,
        limits: &Limits,
    ) -> std::io::Result<Client> {
        let socket = OwnedFd::from(stream.try_clone()?);
        let fd = stream.as_raw_fd();
        state.gone = Some(self.gone.clone());
        let state = Arc::new(state);
        let client = dh.insert_client(stream, state.clone())?;
        let container = self.objects.entry(state.container.clone()).or_default();
        objects::watch_newest_client(dh, fd, container.clone(), state.clone(), limits);
        self.connections
            .insert(client.id(), Connection { socket, state });
        Ok(client)
    }

    /// How many protocol objects the clients of `container` hold.
    pub fn objects_of(&self, container: &str) -> u32 {
        self.objects
            .get(container)
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }

    /// How many clients are connected.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Disconnects a client; with `error`, a protocol error on one of its objects tells it why.
    ///
    /// Safe from inside a request handler: libwayland must not destroy a client while it
    /// dispatches that client's requests. The error goes out at once (libwayland ends the client
    /// when the dispatch is over, or [`Clients::reap`] does); a kill without an error waits for
    /// [`Clients::apply_kills`], after the dispatch.
    pub fn disconnect(
        &mut self,
        dh: &DisplayHandle,
        client: &Client,
        error: Option<(ObjectId, u32, String)>,
    ) {
        let container = crate::policy::container_of(client);
        match error {
            Some((object, code, message)) => {
                info!(container, "disconnecting a client: {message}");
                if let Some(state) = client.get_data::<ClientState>() {
                    state.set_error(&message);
                }
                let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
                dh.backend_handle().post_error(object, code, text);
            }
            None => {
                info!(container, "disconnecting a client");
                self.pending_kills.push(client.id());
            }
        }
        if let Some(ping) = &self.display_ping {
            ping.ping();
        }
    }

    /// Ends the clients [`Clients::disconnect`] was asked to, outside of any dispatch.
    pub fn apply_kills(&mut self, dh: &DisplayHandle) {
        if self.pending_kills.is_empty() {
            return;
        }
        for id in std::mem::take(&mut self.pending_kills) {
            dh.backend_handle()
                .kill_client(id, DisconnectReason::ConnectionClosed);
        }
    }

    /// Lets go of the clients that are gone, and cuts off those that got a protocol error but
    /// are still connected; each is reported gone once.
    pub fn reap(&mut self, dh: &mut DisplayHandle) {
        let handle = dh.backend_handle();
        let ended: Vec<ClientId> = self
            .connections
            .iter()
            .filter(|(id, connection)| {
                connection.state.has_error() || handle.get_client_data((*id).clone()).is_err()
            })
            .map(|(id, _)| id)
            .cloned()
            .collect();
        if ended.is_empty() {
            return;
        }
        // Their protocol errors are queued: send them before the hang-up.
        if let Err(err) = dh.flush_clients() {
            warn!(?err, "cannot flush clients");
        }
        for id in ended {
            let Some(connection) = self.connections.remove(&id) else {
                continue;
            };
            if let Err(err) = rustix::net::shutdown(&connection.socket, rustix::net::Shutdown::Both)
            {
                // Already closed by its peer: libwayland frees it on its own.
                tracing::debug!(%err, "cannot shut a client's socket down");
            }
            connection.state.report_gone(id, "protocol error");
        }
        if let Some(ping) = &self.display_ping {
            ping.ping();
        }
    }
}
