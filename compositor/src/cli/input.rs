//! `porthole input`: synthetic keys, text and pointer events, through the control socket.

use clap::Subcommand;
use porthole_ipc::{Command, InputAction};

use crate::ipc::client;

/// `porthole input` subcommands.
#[derive(Subcommand)]
pub enum InputCmd {
    /// Press and release a key combination, e.g. Return, ctrl+c, super+shift+q.
    Key { combo: String },
    /// Type text.
    Type { text: String },
    /// Move the pointer to global coordinates.
    Move { x: f64, y: f64 },
    /// Click a button (left, right, middle).
    Click {
        #[arg(default_value = "left")]
        button: String,
    },
    /// Press or release a button and keep it so (for drags).
    Button {
        button: String,
        #[arg(value_parser = ["press", "release"])]
        state: String,
    },
    /// Press or release a key by keysym name and keep it so (e.g. Super_L press).
    KeyState {
        key: String,
        #[arg(value_parser = ["press", "release"])]
        state: String,
    },
    /// Scroll by wheel steps (positive is down).
    Scroll {
        #[arg(allow_hyphen_values = true)]
        steps: f64,
    },
}

/// `porthole input`.
pub fn input(input: InputCmd) -> anyhow::Result<()> {
    let input = match input {
        InputCmd::Key { combo } => InputAction::Key { combo },
        InputCmd::Type { text } => InputAction::Type { text },
        InputCmd::Move { x, y } => InputAction::PointerMove { x, y },
        InputCmd::Click { button } => InputAction::Click { button },
        InputCmd::Button { button, state } => InputAction::Button {
            button,
            pressed: state == "press",
        },
        InputCmd::KeyState { key, state } => InputAction::KeyState {
            key,
            pressed: state == "press",
        },
        InputCmd::Scroll { steps } => InputAction::Scroll { steps },
    };
    client::request(Command::Input { input })?;
    Ok(())
}
