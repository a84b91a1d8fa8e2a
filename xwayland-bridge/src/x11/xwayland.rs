//! The container's Xwayland: started when the first X11 client connects to the container's X
//! socket, and forgotten, with its windows, when it exits.

use std::process::{ExitCode, Stdio};

use anyhow::Context as _;
use calloop::RegistrationToken;
use smithay::reexports::wayland_server::Client;
use smithay::xwayland::{X11Wm, XWayland, XWaylandEvent};
use tracing::{error, info, warn};

use crate::bridge::Bridge;

/// A running Xwayland.
pub struct Running {
    pub client: Client,
    token: RegistrationToken,
}

impl Bridge {
    /// An X11 client connected while no Xwayland runs: start one. The client waits in the
    /// socket's backlog and Xwayland accepts it once the window manager is in place.
    pub(crate) fn start_xwayland(&mut self) -> anyhow::Result<()> {
        if self.host.is_none() && !self.detached {
            self.connect_host()?;
        }
        let display = self
            .display
            .as_ref()
            .context("the bridge serves no X display")?;
        display.share_listener()?;
        // Xwayland's chatter (glamor, xkbcomp warnings) goes to a log in the container's /tmp,
        // not into the terminal of the command the person ran.
        let log = display.open_log()?;
        let number = display.number;
        let (xwayland, client) = XWayland::spawn(
            &self.server.dh,
            None,
            display.spawn_env(self.shm_only),
            false,
            Stdio::null(),
            log,
            |_| {},
        )
        .context("starting Xwayland")?;
        let wm_client = client.clone();
        let token = self
            .loop_handle
            .insert_source(xwayland, move |event, _, bridge| match event {
                XWaylandEvent::Ready { x11_socket, .. } => {
                    match X11Wm::start_wm(bridge.loop_handle.clone(), x11_socket, wm_client.clone())
                    {
                        Ok(wm) => {
                            info!("Xwayland is ready");
                            bridge.xwm = Some(wm);
                            let caught_up =
                                bridge.display.as_ref().map(|d| d.catch_up_selections());
                            if let Some(Err(err)) = caught_up {
                                warn!("looking for selections taken early: {err:#}");
                            }
                        }
                        Err(err) => {
                            error!(%err, "becoming Xwayland's window manager failed");
                            bridge.xwayland_gone();
                        }
                    }
                }
                XWaylandEvent::Error => {
                    error!("Xwayland exited before it was ready");
                    bridge.xwayland_gone();
                }
            })
            .map_err(|err| anyhow::anyhow!("watching Xwayland: {err}"))?;
        if let Some(listener) = &self.listener {
            self.loop_handle.disable(listener)?;
        }
        self.xwayland = Some(Running { client, token });
        info!(display = number, "started Xwayland for an X11 client");
        Ok(())
    }

    /// Xwayland exited (its last client left, or it was killed): forget its windows and wait for
    /// the next X11 client. Runs from an idle callback, outside the window manager's own
    /// callbacks.
    pub fn xwayland_gone(&mut self) {
        self.loop_handle.insert_idle(|bridge| {
            if bridge.xwayland.is_none()
                && bridge.xwm.is_none()
                && (bridge.proxy || bridge.host.is_none())
            {
                return;
            }
            info!("Xwayland is gone; the next X11 client starts a new one");
            if let Some(old) = bridge.xwm.take() {
                bridge.retired_xwms.push(old);
                if bridge.retired_xwms.len() > 4 {
                    bridge.retired_xwms.remove(0);
                }
            }
            bridge.mirrors.clear();
            bridge.focus = None;
            if let Some(running) = bridge.xwayland.take() {
                // Dropping smithay's XWayland (the source) disconnects its client, once: a second
                // kill_client would make smithay reap the process twice, and panic.
                bridge.loop_handle.remove(running.token);
                drop(running.client);
            }
            // Nothing left to show: leave the container's socket until the next X11 client. A
            // bridge serving the container's Wayland socket stays for its native clients.
            if !bridge.proxy {
                for token in [bridge.host_source.take(), bridge.host_writable.take()]
                    .into_iter()
                    .flatten()
                {
                    bridge.loop_handle.remove(token);
                }
                bridge.host = None;
                bridge.server.memory.borrow_mut().forget_host();
            }
            let listening = bridge
                .listener
                .as_ref()
                .map(|l| bridge.loop_handle.enable(l));
            if let Some(Err(err)) = listening {
                error!(%err, "cannot listen for X11 clients any more");
                bridge.finish(ExitCode::FAILURE);
            }
        });
    }
}
