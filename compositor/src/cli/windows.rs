//! `porthole windows`, `window`, `screenshot`, `outputs` and `output set`: what the desktop shows,
//! and acting on it.

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use clap::Subcommand;
use porthole_ipc::{Command, OutputInfo, Response, WindowAction};

use super::unexpected;
use crate::config::ValueError;
use crate::ipc::client;

/// The options of `porthole screenshot`.
#[derive(clap::Args)]
pub struct ScreenshotArgs {
    /// The PNG file to write.
    file: PathBuf,
    /// Output name (default: the first).
    #[arg(long)]
    output: Option<String>,
    /// Draw only this container's windows (`host` for the host's).
    #[arg(long)]
    container: Option<String>,
    /// Draw the pointer too.
    #[arg(long)]
    cursor: bool,
}

/// `porthole output` subcommands.
#[derive(Subcommand)]
pub enum OutputCmd {
    /// Set an output's mode, position, scale, transform or whether it is lit.
    Set {
        /// The output, as `porthole outputs` names it (e.g. HDMI-A-1).
        name: String,
        /// WIDTHxHEIGHT[@HZ]: the output's mode closest to it.
        #[arg(long)]
        mode: Option<String>,
        /// X,Y: its top-left corner in the global space.
        #[arg(long, value_parser = parse_position, allow_hyphen_values = true)]
        position: Option<[i32; 2]>,
        /// Scale factor, 0.5 to 4.
        #[arg(long)]
        scale: Option<f64>,
        /// normal, 90, 180, 270, flipped, flipped-90, flipped-180 or flipped-270.
        #[arg(long)]
        transform: Option<String>,
        /// Turn the output on.
        #[arg(long, conflicts_with = "off")]
        on: bool,
        /// Turn the output off.
        #[arg(long)]
        off: bool,
    },
}

/// What `porthole window` does.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum WindowActionArg {
    Focus,
    Close,
    Maximize,
    Fullscreen,
    Minimize,
}

/// `porthole screenshot`.
pub fn screenshot(args: ScreenshotArgs) -> anyhow::Result<()> {
    let Response::Screenshot {
        png_base64,
        output,
        width,
        height,
    } = client::request(Command::Screenshot {
        output: args.output,
        container: args.container,
        cursor: args.cursor,
    })?
    else {
        return Err(unexpected("screenshot"));
    };
    let png = base64::engine::general_purpose::STANDARD
        .decode(png_base64)
        .context("the compositor sent an unreadable image")?;
    std::fs::write(&args.file, png)
        .with_context(|| format!("cannot write {}", args.file.display()))?;
    println!("{}: {output} {width}x{height}", args.file.display());
    Ok(())
}

/// `porthole windows`.
pub fn list_windows(json: bool) -> anyhow::Result<()> {
    let Response::Windows { windows } = client::request(Command::Windows)? else {
        return Err(unexpected("windows"));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&windows)?);
        return Ok(());
    }
    println!(
        "{:>4}  {:<12} {:<20} {:<24} {:<12} {:<22} FLAGS",
        "ID", "CONTAINER", "APP_ID", "TITLE", "OUTPUT", "GEOMETRY"
    );
    for w in windows {
        let g = w.geometry;
        let flags: Vec<&str> = [
            (w.focused, "focused"),
            (w.maximized, "maximized"),
            (w.fullscreen, "fullscreen"),
            (w.minimized, "minimized"),
            (w.checkpointed && !w.reconnecting, "checkpointed"),
            (w.reconnecting, "reconnecting"),
            (w.attention, "attention"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        println!(
            "{:>4}  {:<12} {:<20} {:<24} {:<12} {:<22} {}",
            w.id,
            w.container,
            truncate(&w.app_id, 20),
            truncate(&w.title, 24),
            w.output.unwrap_or_else(|| "-".into()),
            format!("{}x{}+{}+{}", g.width, g.height, g.x, g.y),
            flags.join(",")
        );
    }
    Ok(())
}

/// `porthole window ACTION`.
pub fn window(action: WindowActionArg, id: Option<u64>) -> anyhow::Result<()> {
    let action = match action {
        WindowActionArg::Focus => WindowAction::Focus,
        WindowActionArg::Close => WindowAction::Close,
        WindowActionArg::Maximize => WindowAction::ToggleMaximize,
        WindowActionArg::Fullscreen => WindowAction::ToggleFullscreen,
        WindowActionArg::Minimize => WindowAction::Minimize,
    };
    client::request(Command::Window { action, id })?;
    Ok(())
}

/// `porthole outputs`.
pub fn list_outputs(json: bool) -> anyhow::Result<()> {
    let Response::Outputs { outputs } = client::request(Command::Outputs)? else {
        return Err(unexpected("outputs"));
    };
    print_outputs(&outputs, json)
}

/// `porthole output set`.
pub fn output(command: OutputCmd) -> anyhow::Result<()> {
    let OutputCmd::Set {
        name,
        mode,
        position,
        scale,
        transform,
        on,
        off,
    } = command;
    let enabled = match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let Response::Outputs { outputs } = client::request(Command::OutputSet {
        name,
        mode,
        position,
        scale,
        transform,
        enabled,
    })?
    else {
        return Err(unexpected("output set"));
    };
    print_outputs(&outputs, false)
}

/// Prints outputs a line each, or as JSON.
fn print_outputs(outputs: &[OutputInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(outputs)?);
        return Ok(());
    }
    for o in outputs {
        let g = &o.geometry;
        println!(
            "{}: {}x{}@{:.3}Hz at {},{} scale {} transform {}",
            o.name,
            o.mode_width,
            o.mode_height,
            o.refresh_mhz as f64 / 1000.0,
            g.x,
            g.y,
            o.scale,
            o.transform
        );
        if o.modes.len() > 1 {
            println!("  modes: {}", o.modes.join(" "));
        }
    }
    Ok(())
}

fn parse_position(text: &str) -> Result<[i32; 2], ValueError> {
    let bad = || ValueError::NotAPosition(text.to_string());
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    Ok([
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    ])
}

/// `s` cut to `n` characters, the last an ellipsis when cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
