//! `porthole serve`: loads the configuration and runs the compositor until it is asked to quit.

use std::path::PathBuf;

use crate::config::{Config, OutputMode};
use crate::serve::{BackendKind, HostSocket, RendererKind, ServeOptions};

/// The options of `porthole serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to draw: drm (the machine's displays, as the desktop session), winit (a window
    /// on a running desktop), headless (offscreen), or auto: drm on a text console, winit
    /// inside a desktop, headless otherwise.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendKind,
    /// How to draw: gles (GPU, or Mesa's llvmpipe), pixman (CPU), or auto (drm: gles where
    /// EGL works, pixman otherwise; headless: pixman).
    #[arg(long, value_enum, default_value = "auto")]
    renderer: RendererKind,
    /// Configuration file (default: $XDG_CONFIG_HOME/porthole/config.toml if it exists).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Headless outputs, e.g. 1280x720,1920x1080@60.
    #[arg(long)]
    outputs: Option<String>,
    /// Name of the host Wayland socket in $XDG_RUNTIME_DIR (default: first free wayland-N).
    #[arg(long)]
    socket: Option<String>,
}

/// Runs the compositor.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = match args.config.or_else(crate::paths::default_config) {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    let outputs = args
        .outputs
        .map(|o| OutputMode::parse_list(&o))
        .transpose()
        .map_err(|err| anyhow::anyhow!("--outputs: {err}"))?;
    crate::serve::serve(ServeOptions {
        backend: args.backend,
        renderer: args.renderer,
        config,
        outputs,
        socket: args.socket.map_or(HostSocket::Auto, HostSocket::Named),
        control_socket: Some(crate::paths::control_socket()?),
    })
}
