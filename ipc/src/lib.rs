//! Porthole's control API: the types exchanged over `$XDG_RUNTIME_DIR/porthole/control.sock`.
//!
//! The wire format is newline-delimited JSON. Every request is one line holding a [`Request`];
//! every reply is one line holding a [`Reply`]. Both carry [`PROTOCOL_VERSION`] so that a CLI and a
//! compositor of different versions notice it instead of misreading each other.

use serde::{Deserialize, Serialize};

/// Version of the control API spoken by this crate. Bumped on every incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest request line the compositor accepts, in bytes. Longer lines get an error reply and the
/// connection is closed, since the rest of the line cannot be resynchronised cheaply.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// A process `porthole checkpoint --stop-gpu-clients` stopped (it held GPU state, which CRIU
/// cannot dump), as the container's bridge starts it again after the restore. A list of them is
/// kept in the container, in [`RESPAWN_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Respawn {
    /// Its command line.
    pub argv: Vec<String>,
    /// Its working directory, inside the container.
    pub cwd: String,
    /// Its environment, `NAME=value`.
    pub env: Vec<String>,
}

/// Where, inside a checkpointable container, the processes to start again after a restore are
/// listed (JSON, a list of [`Respawn`]).
pub const RESPAWN_FILE: &str = "/tmp/porthole-respawn.json";

/// One request line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The control API version the sender speaks.
    pub version: u32,
    /// What is asked.
    #[serde(flatten)]
    pub command: Command,
}

impl Request {
    /// Wraps a command with this crate's protocol version.
    pub fn new(command: Command) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            command,
        }
    }
}

/// Everything the control API can be asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// The compositor's version and its Wayland socket.
    Version,
    /// Whether the compositor answers, and how long ago each output showed a new frame.
    Health,
    /// Every mapped window.
    Windows,
    /// Every output.
    Outputs,
    /// Changes an output's settings until the compositor stops (the configuration's
    /// `[output.NAME]` keeps them across restarts). Replies with [`Response::Outputs`].
    OutputSet {
        /// The output (connector) name.
        name: String,
        /// `WIDTHxHEIGHT[@HZ]`.
        #[serde(default)]
        mode: Option<String>,
        /// Top-left corner in the global space.
        #[serde(default)]
        position: Option<[i32; 2]>,
        /// Scale factor.
        #[serde(default)]
        scale: Option<f64>,
        /// `normal`, `90`, `180`, `270`, `flipped`, `flipped-90`, …
        #[serde(default)]
        transform: Option<String>,
        /// Lit or off.
        #[serde(default)]
        enabled: Option<bool>,
    },
    /// A PNG of what an output shows now.
    Screenshot {
        /// Output name; the first output when absent.
        #[serde(default)]
        output: Option<String>,
        /// Only this container's windows (`host` for the host's).
        #[serde(default)]
        container: Option<String>,
        /// Draw the pointer's image too.
        #[serde(default)]
        cursor: bool,
    },
    /// Synthetic input, as if from a device attached to the seat. Only the control socket (owned
    /// by the compositor's user) can send it; Wayland clients have no such path.
    Input {
        /// The input to deliver.
        input: InputAction,
    },
    /// A window-management action on a window (or the focused one).
    Window {
        /// What to do.
        action: WindowAction,
        /// Window id as reported by `windows`; the focused window when absent.
        #[serde(default)]
        id: Option<u64>,
    },
    /// Every container.
    Containers,
    /// Create a container: its directory and Wayland socket.
    ContainerAdd {
        /// Its name (a-z, 0-9, '-', '_'; at most 32).
        name: String,
        /// `trusted`, `untrusted` (default), `kiosk` or a configured custom profile.
        #[serde(default)]
        profile: Option<String>,
        /// Its colour, `#rrggbb`; picked from the name when absent.
        #[serde(default)]
        color: Option<String>,
        /// For a kiosk container, the output its windows fill.
        #[serde(default)]
        output: Option<String>,
    },
    /// Disconnect a container's clients and remove its directory.
    ContainerRemove {
        /// The container.
        name: String,
    },
    /// Prepare a checkpointable container for a CRIU dump: keep its windows as placeholders and
    /// tell its bridge to let go of its connection. Refused, saying why, when the container
    /// cannot be checkpointed.
    Checkpoint {
        /// The container.
        name: String,
    },
    /// Move the clipboard of container `from` into container `to`, as the copy and paste chords
    /// do, under both containers' clipboard rules. Replies once the data has moved (or not).
    ClipboardCopy {
        /// The container whose clipboard is taken (`host` for the host's).
        from: String,
        /// The container it is offered to.
        to: String,
    },
    /// The person is starting something in `container` (`porthole run`): its first window may
    /// take the focus, and the reply is an xdg-activation token to pass it in
    /// `XDG_ACTIVATION_TOKEN`.
    Launch {
        /// The container.
        container: String,
    },
    /// Switch this connection to an event stream: after the `ok` reply, one [`Event`] per line.
    Subscribe,
    /// Stop the compositor.
    Quit,
    /// Stop the compositor and start its binary again in its place, with the same arguments
    /// (an upgrade: a newly installed binary takes over; bridged containers' windows come
    /// back).
    Restart,
}

/// Synthetic input events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputAction {
    /// Press and release a key combination, e.g. `Return`, `ctrl+c`, `super+shift+q`.
    Key {
        /// Modifier names and one xkb keysym name joined by `+`.
        combo: String,
    },
    /// Type text: every character is pressed and released, with shift where the layout needs it.
    Type {
        /// The text to type.
        text: String,
    },
    /// Move the pointer to absolute global coordinates.
    PointerMove {
        /// Global x in logical pixels.
        x: f64,
        /// Global y in logical pixels.
        y: f64,
    },
    /// Press and release a pointer button at the current position.
    Click {
        /// `left`, `right` or `middle`.
        #[serde(default = "default_button")]
        button: String,
    },
    /// Press or release a pointer button, leaving it in that state (for drags).
    Button {
        /// `left`, `right` or `middle`.
        #[serde(default = "default_button")]
        button: String,
        /// True to press, false to release.
        pressed: bool,
    },
    /// Press or release one key by xkb keysym name, leaving it in that state.
    KeyState {
        /// An xkb keysym name such as `Super_L`.
        key: String,
        /// True to press, false to release.
        pressed: bool,
    },
    /// Scroll vertically by a number of wheel steps (positive is down).
    Scroll {
        /// Wheel steps.
        steps: f64,
    },
}

fn default_button() -> String {
    "left".into()
}

/// Window-management actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowAction {
    /// Focus and raise.
    Focus,
    /// Ask the client to close.
    Close,
    /// Toggle maximized.
    ToggleMaximize,
    /// Toggle fullscreen.
    ToggleFullscreen,
    /// Minimize (unmap until focused again).
    Minimize,
}

/// One reply line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The control API version of the compositor.
    pub version: u32,
    /// The outcome.
    #[serde(flatten)]
    pub body: ReplyBody,
}

impl Reply {
    /// A successful reply.
    pub fn ok(response: Response) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            body: ReplyBody::Ok(response),
        }
    }

    /// An error reply carrying a message for a person.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            body: ReplyBody::Error {
                message: message.into(),
            },
        }
    }
}

/// Success or failure of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReplyBody {
    /// The request was carried out.
    Ok(Response),
    /// The request was refused or failed.
    Error {
        /// What went wrong and what to do.
        message: String,
    },
}

/// What a successful request returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// Nothing to report.
    Done,
    /// Reply to [`Command::Version`].
    Version {
        /// The compositor's crate version.
        compositor: String,
        /// The host Wayland socket name (in `$XDG_RUNTIME_DIR`).
        wayland_socket: String,
    },
    /// Reply to [`Command::Health`]: each output, and how many milliseconds ago it showed its
    /// last new frame (`None`: none yet).
    Health {
        /// Output names and the age of their last frame.
        outputs: Vec<(String, Option<u64>)>,
    },
    /// Reply to [`Command::Windows`].
    Windows {
        /// Mapped windows, bottom of the stack first.
        windows: Vec<WindowInfo>,
    },
    /// Reply to [`Command::Outputs`].
    Outputs {
        /// All outputs.
        outputs: Vec<OutputInfo>,
    },
    /// Reply to [`Command::Containers`].
    Containers {
        /// All containers, by name.
        containers: Vec<ContainerInfo>,
    },
    /// Reply to [`Command::Checkpoint`].
    Checkpoint {
        /// The process id of the container's bridge, its first process (the one CRIU dumps).
        pid: u32,
        /// Windows kept as placeholders.
        windows: u32,
    },
    /// Reply to [`Command::Screenshot`].
    Screenshot {
        /// Output the picture is of.
        output: String,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The PNG file, base64-encoded.
        png_base64: String,
    },
    /// Reply to [`Command::Launch`].
    Launched {
        /// An xdg-activation token, where the container's profile offers xdg-activation.
        token: Option<String>,
    },
    /// Reply to [`Command::ClipboardCopy`] that moved data.
    ClipboardCopied {
        /// The MIME type read from the source (it is offered under its text aliases too).
        mime: String,
        /// Bytes offered to the target.
        bytes: u64,
    },
}

/// A rectangle in global logical coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub width: i32,
    /// Height.
    pub height: i32,
}

/// A mapped window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Stable id for the window's lifetime.
    pub id: u64,
    /// The client's app_id (a label only; never used for decisions).
    pub app_id: String,
    /// The client's title (a label only).
    pub title: String,
    /// The container the client came from; `host` for the trusted host socket.
    pub container: String,
    /// Output the window is mostly on, if any.
    pub output: Option<String>,
    /// The window's content area (without decorations), global coordinates.
    pub geometry: Geometry,
    /// Whether it holds keyboard focus.
    pub focused: bool,
    /// Whether it is maximized.
    pub maximized: bool,
    /// Whether it is fullscreen.
    pub fullscreen: bool,
    /// Whether it is minimized.
    pub minimized: bool,
    /// Whether it is a placeholder: its container is checkpointed, and the window comes back
    /// here when the container is restored.
    #[serde(default)]
    pub checkpointed: bool,
    /// With `checkpointed`: the placeholder waits for its container's bridge to reconnect to a
    /// compositor started after the last one went, not for a restore.
    #[serde(default)]
    pub reconnecting: bool,
    /// The name a checkpointable container's bridge gave it, which it keeps across a checkpoint:
    /// `x11-<window id>`, or `wl-<n>-p<pid>` for a native client's window (the pid as the
    /// container sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Whether it appeared or asked for the focus without getting it, and has not been focused
    /// since: its label says it wants attention.
    #[serde(default)]
    pub attention: bool,
}

/// A container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// Its name.
    pub name: String,
    /// Its profile's name.
    pub profile: String,
    /// Its colour, `#rrggbb`.
    pub color: String,
    /// The Wayland socket its clients connect to.
    pub socket: String,
    /// Connected clients.
    pub clients: u32,
    /// Toplevel windows.
    pub windows: u32,
    /// Bytes of live wl_shm pools.
    pub shm_bytes: u64,
    /// Protocol objects its clients hold in the compositor (surfaces, regions, buffers, ...).
    #[serde(default)]
    pub objects: u32,
    /// Whether `porthole run` gives it its own Xwayland.
    #[serde(default)]
    pub x11: bool,
    /// The process id of its bridge, for a checkpointable container (`porthole run
    /// --checkpointable`): its first process.
    #[serde(default)]
    pub bridge_pid: Option<u32>,
}

/// An output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputInfo {
    /// Connector-like name, e.g. `HEADLESS-1`.
    pub name: String,
    /// Position and logical size in the global space.
    pub geometry: Geometry,
    /// Mode width in pixels.
    pub mode_width: i32,
    /// Mode height in pixels.
    pub mode_height: i32,
    /// Refresh rate in mHz.
    pub refresh_mhz: i32,
    /// Scale factor.
    pub scale: f64,
    /// Transform, as `porthole output set --transform` takes it.
    #[serde(default)]
    pub transform: String,
    /// The modes the display offers, `WIDTHxHEIGHT@HZ` as `porthole output set --mode` takes
    /// them, the preferred one first.
    #[serde(default)]
    pub modes: Vec<String>,
}

/// An event as a subscribed connection carries it: when it happened, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// When the compositor emitted it, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl Stamped {
    /// `event`, stamped now.
    pub fn now(event: Event) -> Self {
        let time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self { time_ms, event }
    }
}

/// Something that happened, sent on a subscribed connection (as a [`Stamped`] line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A window was mapped.
    WindowOpened {
        /// The window.
        window: WindowInfo,
    },
    /// A window was unmapped or destroyed.
    WindowClosed {
        /// Its id.
        id: u64,
    },
    /// Keyboard focus moved.
    FocusChanged {
        /// The focused window, if any.
        id: Option<u64>,
    },
    /// A container was created.
    ContainerAdded {
        /// Its name.
        name: String,
    },
    /// A container was removed.
    ContainerRemoved {
        /// Its name.
        name: String,
    },
    /// A container's supervised app (`app =`) was started.
    AppStarted {
        /// The container.
        container: String,
        /// The process of `porthole run` that runs it.
        pid: u32,
    },
    /// A container's supervised app ended; it starts again after a pause.
    AppExited {
        /// The container.
        container: String,
        /// `exit N`, or `signal N` for the sandbox ended by a signal.
        status: String,
        /// How long until it starts again, in milliseconds.
        restart_in_ms: u64,
    },
    /// A container's client was refused or disconnected for going over a limit.
    QuotaHit {
        /// The container.
        container: String,
        /// `clients`, `toplevels` or `shm_bytes`.
        limit: String,
        /// What happened, for people.
        detail: String,
    },
    /// A client connected.
    ClientConnected {
        /// Its container.
        container: String,
    },
    /// A client went away.
    ClientDisconnected {
        /// Its container.
        container: String,
        /// Why, as smithay reports it.
        reason: String,
    },
    /// A selection was (or was not) moved from one container to another on the person's request.
    ClipboardTransfer {
        /// The container it came from.
        from: String,
        /// The container it was for; absent when refused at the copy.
        to: Option<String>,
        /// Its MIME type, once read.
        mime: Option<String>,
        /// Its size in bytes, once read.
        bytes: u64,
        /// Whether the target was offered it.
        allowed: bool,
        /// Why not, for people.
        reason: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_through_one_json_line() {
        let req = Request::new(Command::Input {
            input: InputAction::Type {
                text: "héllo\n".into(),
            },
        });
        let line = serde_json::to_string(&req).unwrap();
        assert!(!line.contains('\n'), "a request must fit one line: {line}");
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), req);
    }

    #[test]
    fn request_wire_form_is_flat_and_versioned() {
        let req: Request =
            serde_json::from_str(r#"{"version":1,"command":"screenshot","output":"HEADLESS-1"}"#)
                .unwrap();
        assert_eq!(
            req.command,
            Command::Screenshot {
                output: Some("HEADLESS-1".into()),
                container: None,
                cursor: false,
            }
        );
    }

    #[test]
    fn unknown_command_is_an_error_not_a_default() {
        assert!(serde_json::from_str::<Request>(r#"{"version":1,"command":"rm_rf"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"command":"windows"}"#).is_err());
    }

    #[test]
    fn error_reply_carries_message() {
        let line = serde_json::to_string(&Reply::error("no such output")).unwrap();
        assert_eq!(
            line,
            r#"{"version":1,"status":"error","message":"no such output"}"#
        );
    }
}
