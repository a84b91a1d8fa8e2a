//! Programs the session starts: `[session] autostart` and `spawn` bindings. They are clients of
//! the trusted host socket, started with `sh -c` so that a command line works as in a shell, and
//! reaped when they exit.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

use tracing::{info, warn};

use crate::state::Porthole;

impl Porthole {
    /// Starts a command line as a client of the host socket.
    pub fn spawn(&mut self, command: &str) {
        if self.socket_name.is_empty() {
            warn!(command, "no host socket to start a client on");
            return;
        }
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(command)
            .env("WAYLAND_DISPLAY", &self.socket_name)
            // Clients of the session are Wayland clients of Porthole, never of the desktop or
            // X server Porthole may itself run in.
            .env_remove("WAYLAND_SOCKET")
            .env_remove("DISPLAY")
            .stdin(Stdio::null());
        // Safety: the hook only makes system calls.
        unsafe { cmd.pre_exec(crate::fds::restore_limit_in_child) };
        match cmd.spawn() {
            Ok(child) => {
                info!(pid = child.id(), command, "started");
                self.children.push(child);
            }
            Err(err) => warn!(command, %err, "cannot start"),
        }
    }

    /// Reaps the programs started that have exited.
    pub fn reap_children(&mut self) {
        self.children.retain_mut(|child| match child.try_wait() {
            Ok(Some(status)) => {
                info!(pid = child.id(), %status, "exited");
                false
            }
            Ok(None) => true,
            Err(_) => false,
        });
    }
}
