//! Finding the compositor again after it went away without asking the bridge to let go (a crash,
//! `kill -9`, an upgrade): the clients keep running and wait, the bridge watches the directory of
//! the container's socket for it to come back (inotify, and a bounded backoff in case a change
//! is missed), and forwards every window again once it connects. A compositor that stays away
//! longer than the grace period does not leave the container's apps waiting for ever: they are
//! asked to close (xdg_toplevel.close, WM_DELETE_WINDOW), then sent SIGTERM, then the bridge
//! exits, and with it the sandbox.

use std::path::Path;
use std::time::Duration;

use calloop::generic::Generic;
use calloop::timer::{TimeoutAction, Timer};
use calloop::{Interest, Mode, PostAction, RegistrationToken};
use rustix::fs::inotify;
use tracing::{debug, info, warn};

use super::Bridge;

/// The first retry after the compositor went away, doubled after each miss up to
/// [`MAX_BACKOFF`]. inotify usually answers first.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long the apps have to close once asked, before SIGTERM; and after SIGTERM, before the
/// bridge exits.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The sources watching for the compositor while it is away.
#[derive(Debug, Default)]
pub struct Awaiting {
    sources: Vec<RegistrationToken>,
    /// Why the last try failed.
    last_error: Option<String>,
}

impl Bridge {
    /// The compositor went away unasked: waits for it to come back (see the module's doc).
    pub(crate) fn await_compositor(&mut self) {
        if self.awaiting.is_some() {
            return;
        }
        let mut awaiting = Awaiting::default();
        match crate::host::socket_path() {
            Some(path) => match self.watch_socket_dir(&path) {
                Ok(token) => awaiting.sources.push(token),
                Err(err) => warn!("cannot watch for {} to come back: {err:#}", path.display()),
            },
            None => warn!("the container's socket is no path; only retries find it again"),
        }
        let mut backoff = FIRST_BACKOFF;
        let retry =
            self.loop_handle
                .insert_source(Timer::from_duration(backoff), move |_, _, bridge| {
                    if bridge.try_reconnect() {
                        return TimeoutAction::Drop;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    TimeoutAction::ToDuration(backoff)
                });
        let grace = self.grace;
        let give_up =
            self.loop_handle
                .insert_source(Timer::from_duration(grace), |_, _, bridge| {
                    bridge.close_apps();
                    TimeoutAction::Drop
                });
        for token in [retry, give_up] {
            match token {
                Ok(token) => awaiting.sources.push(token),
                Err(err) => warn!("cannot time the wait for the compositor: {err}"),
            }
        }
        info!(
            grace_s = grace.as_secs(),
            "waiting for the compositor to come back; the apps keep running"
        );
        self.awaiting = Some(awaiting);
    }

    /// Watches the socket's directory: a compositor starting again binds the socket anew.
    fn watch_socket_dir(&mut self, socket: &Path) -> anyhow::Result<RegistrationToken> {
        let dir = socket.parent().unwrap_or(Path::new("/"));
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
        inotify::add_watch(
            &fd,
            dir,
            inotify::WatchFlags::CREATE
                | inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::ATTRIB,
        )?;
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(fd, Interest::READ, Mode::Level),
                |_, fd, bridge| {
                    // What changed matters less than that something did: drain, then try.
                    let mut buf = [0u8; 4096];
                    while rustix::io::read(&*fd, &mut buf).is_ok_and(|n| n > 0) {}
                    if bridge.try_reconnect() {
                        return Ok(PostAction::Remove);
                    }
                    Ok(PostAction::Continue)
                },
            )
            .map_err(|err| anyhow::anyhow!("{err}"))?;
        Ok(token)
    }

    /// Tries to connect to the compositor again; true once connected (the watch ends).
    fn try_reconnect(&mut self) -> bool {
        if self.host.is_some() {
            return true;
        }
        match self.attach() {
            Ok(()) => {
                info!("the compositor is back");
                true
            }
            Err(err) => {
                // Each new reason once: a socket not there yet is the usual one.
                let reason = format!("{err:#}");
                if let Some(awaiting) = self.awaiting.as_mut() {
                    if awaiting.last_error.as_deref() != Some(reason.as_str()) {
                        warn!("the compositor is not back yet: {reason}");
                        awaiting.last_error = Some(reason);
                    }
                }
                false
            }
        }
    }

    /// Stops watching for the compositor, once it is back: on the next pass of the loop, since
    /// the source that found it may be the one running now.
    pub(crate) fn stop_awaiting(&mut self) {
        if let Some(awaiting) = self.awaiting.take() {
            self.loop_handle.insert_idle(move |bridge| {
                for token in awaiting.sources {
                    bridge.loop_handle.remove(token);
                }
            });
        }
    }

    /// The grace period passed without a compositor: asks every app to close, then ends them.
    fn close_apps(&mut self) {
        warn!(
            grace_s = self.grace.as_secs(),
            "the compositor did not come back; asking the apps to close"
        );
        for native in &self.natives {
            native.toplevel.send_close();
        }
        for mirror in &self.mirrors {
            if let Err(err) = mirror.window.close() {
                debug!(%err, "cannot ask an X11 window to close");
            }
        }
        self.server.dh.flush_clients().ok();
        let mut terminated = false;
        let ended = self.loop_handle.insert_source(
            Timer::from_duration(CLOSE_WAIT),
            move |_, _, bridge| {
                if !terminated {
                    info!("sending SIGTERM to the apps that are left");
                    bridge.terminate_descendants();
                    terminated = true;
                    TimeoutAction::ToDuration(CLOSE_WAIT)
                } else {
                    info!("the compositor did not come back; the container ends");
                    bridge.finish(std::process::ExitCode::FAILURE);
                    TimeoutAction::Drop
                }
            },
        );
        if let (Ok(token), Some(awaiting)) = (ended, self.awaiting.as_mut()) {
            awaiting.sources.push(token);
        }
    }
}
