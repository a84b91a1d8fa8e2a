//! What a value of the configuration (or of a control request that carries one) can be wrong
//! about: each says what was written and what to write instead.

/// The names an output's `transform` takes.
pub const TRANSFORM_NAMES: &str =
    "normal, 90, 180, 270, flipped, flipped-90, flipped-180, flipped-270";

/// A value that cannot be what it claims to be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error(
        "`{0}` is not a container name: use 1 to 32 of a-z, 0-9, '-' and '_', starting with a \
         letter or digit"
    )]
    ContainerName(String),
    #[error("`host` is the name of the trusted host socket; choose another")]
    HostName,
    #[error("`{0}` is not a size: write e.g. 512MiB, 2GiB or a number of bytes")]
    Size(String),
    #[error("`{0}` is not a size: write e.g. \"512MiB\" or a number of bytes")]
    SizeValue(String),
    #[error("`{name}` is not a Wayland global Porthole knows; known: {known}")]
    Global { name: String, known: String },
    #[error("scale {0} is out of range: use 0.5 to 4")]
    Scale(f64),
    #[error("position [{0}, {1}] is out of range")]
    Position(i32, i32),
    #[error("`{0}` is not a position: write X,Y, e.g. 1920,0")]
    NotAPosition(String),
    #[error("`{0}` is not a transform: use one of {TRANSFORM_NAMES}")]
    Transform(String),
    #[error("`{0}` is not a mode: write WIDTHxHEIGHT or WIDTHxHEIGHT@HZ, e.g. 1920x1080@60")]
    Mode(String),
    #[error("`{0}`: width and height must be between 16 and 16384")]
    ModeSize(String),
    #[error("`{0}`: refresh must be between 1 and 1000 Hz")]
    Refresh(String),
    #[error("`{0}` is not a colour: write #rrggbb or #rrggbbaa")]
    Colour(String),
    #[error("`{0}` names no key: write modifiers and a key, e.g. Super+Shift+Q")]
    NoKey(String),
    #[error("`{modifier}` in `{combo}` is not a modifier: use Ctrl, Alt, Shift or Super")]
    Modifier { modifier: String, combo: String },
    #[error("`{key}` in `{combo}` is not a key name (xkb keysym names, e.g. Q, Return, F1, Tab)")]
    Key { key: String, combo: String },
    #[error("`spawn` needs a command, e.g. \"spawn foot\"")]
    SpawnWithoutCommand,
    #[error(
        "`{0}` is not an action: use close, toggle-maximize, toggle-fullscreen, minimize, \
         focus-next, focus-previous, quit, clipboard-copy, clipboard-paste or spawn COMMAND"
    )]
    Action(String),
}
