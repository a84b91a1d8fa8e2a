//! Every file and directory Porthole keeps, in one place: the runtime directory (sockets, slots
//! of checkpointed windows), the state directory (sessions, checkpoints) and the configuration.
//!
//! ```text
//! $XDG_RUNTIME_DIR/porthole/            0700
//!   control.sock                        the control socket (PORTHOLE_SOCKET overrides)
//!   NAME/wayland-0                      a container's socket; NAME/X11-unix its X display
//!   slots/NAME/slots.json, TOKEN.png    placeholders of a checkpointed container
//!   live/NAME.json                      a bridged container's bridge and windows, for the next
//!                                       compositor after a crash or an upgrade
//! $XDG_STATE_HOME/porthole/             (~/.local/state/porthole) outlives a reboot
//!   sessions/NAME.json                  xdg-session-management places
//!   checkpoints/NAME/                   CRIU's images
//! $XDG_CONFIG_HOME/porthole/config.toml (~/.config/porthole/config.toml)
//! ```

use std::path::PathBuf;

use anyhow::Context;

/// Name of the Wayland socket inside a container's directory.
pub const CONTAINER_SOCKET: &str = "wayland-0";

/// The socket `porthole bridge` serves in a container's directory, for an engine's container
/// whose clients should outlive the compositor (`porthole env --bridged`).
pub const BRIDGED_SOCKET: &str = "bridge-0";

/// The X socket directory inside a container's directory, for a display served from the host.
pub const X11_SOCKET_DIR: &str = "X11-unix";

/// `$XDG_RUNTIME_DIR`, checked.
pub fn runtime_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .context(
            "XDG_RUNTIME_DIR is not set: log in through a session manager, or set it to a \
         directory you own with mode 0700",
        )?;
    Ok(PathBuf::from(dir))
}

/// `$XDG_RUNTIME_DIR/porthole`, where the control socket and container directories live.
pub fn porthole_runtime_dir() -> anyhow::Result<PathBuf> {
    Ok(runtime_dir()?.join("porthole"))
}

/// Where the control socket is: `PORTHOLE_SOCKET`, else `$XDG_RUNTIME_DIR/porthole/control.sock`.
pub fn control_socket() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PORTHOLE_SOCKET") {
        return Ok(PathBuf::from(path));
    }
    Ok(porthole_runtime_dir()?.join("control.sock"))
}

/// A container's directory: `$XDG_RUNTIME_DIR/porthole/NAME`.
pub fn container_dir(name: &str) -> anyhow::Result<PathBuf> {
    Ok(porthole_runtime_dir()?.join(name))
}

/// Where the slots of every checkpointed container are kept.
pub fn slots_root() -> anyhow::Result<PathBuf> {
    Ok(porthole_runtime_dir()?.join("slots"))
}

/// Where a checkpointed container's slots are kept.
pub fn slots_dir(container: &str) -> anyhow::Result<PathBuf> {
    Ok(slots_root()?.join(container))
}

/// Where the records of bridged containers are kept (see `checkpoint/live.rs`).
pub fn live_dir() -> anyhow::Result<PathBuf> {
    Ok(porthole_runtime_dir()?.join("live"))
}

/// `$XDG_STATE_HOME` (else `~/.local/state`): what outlives a reboot, unlike the runtime
/// directory.
pub fn state_dir() -> anyhow::Result<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .context("neither XDG_STATE_HOME nor HOME is set")
}

/// Where a container's xdg-session-management sessions are stored.
pub fn sessions_file(container: &str) -> anyhow::Result<PathBuf> {
    Ok(state_dir()?
        .join("porthole/sessions")
        .join(format!("{container}.json")))
}

/// Where a container's checkpoint goes by default: `$XDG_STATE_HOME/porthole/checkpoints/NAME`.
pub fn checkpoint_dir(name: &str) -> anyhow::Result<PathBuf> {
    let state = state_dir().context("give --dir")?;
    Ok(state.join("porthole/checkpoints").join(name))
}

/// The configuration read when none is given: `$XDG_CONFIG_HOME/porthole/config.toml` (else
/// `~/.config/...`), if it exists.
pub fn default_config() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("porthole/config.toml")).filter(|p| p.exists())
}
