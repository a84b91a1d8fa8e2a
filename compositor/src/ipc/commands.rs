//! The control commands, carried out on the event loop: what each request of the `porthole` CLI
//! does to the compositor.

use base64::Engine;
use porthole_ipc::{Command, Event, Reply, Response};
use tracing::debug;

use super::server::ControlMessage;
use crate::checkpoint::CheckpointError;
use crate::config::{
    Color, ContainerConfig, ContainerName, OutputConfig, OutputMode, OutputTransform, ValueError,
};
use crate::input::synthetic::InputError;
use crate::outputs::OutputError;
use crate::state::{Porthole, State};

/// Why a control command could not be carried out: the reply's error message.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("no output named `{0}`; `porthole outputs` lists them")]
    NoSuchOutput(String),
    #[error("there is no output")]
    NoOutput,
    #[error("screenshot failed: {0:#}")]
    Screenshot(anyhow::Error),
    #[error("cannot encode PNG: {0:#}")]
    Png(anyhow::Error),
    #[error(
        "window {id} is a placeholder of checkpointed container `{container}`: `porthole \
         restore {container}` brings the window back, `porthole container remove {container}` \
         drops its placeholders"
    )]
    Placeholder { id: u64, container: String },
    #[error("no window with id {0}; `porthole windows` lists them")]
    NoSuchWindow(u64),
    #[error("no window has focus")]
    NoFocus,
    #[error("{0:#}")]
    Container(anyhow::Error),
    #[error("no container named `{0}`; `porthole containers` lists them")]
    NoContainer(String),
    #[error("subscribe must be the first request on its connection")]
    SubscribeNotFirst,
}

impl Porthole {
    /// Sends an event to every subscriber of the control socket.
    pub fn emit(&mut self, event: Event) {
        if let Some(control) = self.control.as_mut() {
            control.emit(event);
        }
    }
}

impl State {
    pub fn handle_control_message(&mut self, msg: ControlMessage) {
        match msg {
            ControlMessage::Subscribe(tx, ack) => {
                if let Some(control) = self.comp.control.as_mut() {
                    control.subscribe(tx);
                }
                let _ = ack.send(());
            }
            ControlMessage::Request(Command::ClipboardCopy { from, to }, reply_to) => {
                // Replies once the source has handed over its data.
                let then = crate::clipboard::Then::Paste {
                    to,
                    reply: Some(reply_to),
                };
                self.clipboard_copy(&from, then);
            }
            ControlMessage::Request(command, reply_to) => {
                debug!(?command, "control request");
                let reply = match self.handle_command(command) {
                    Ok(response) => Reply::ok(response),
                    Err(err) => Reply::error(err.to_string()),
                };
                let _ = reply_to.send(reply);
            }
        }
    }

    /// Carries out one control command.
    pub fn handle_command(&mut self, command: Command) -> Result<Response, CommandError> {
        match command {
            Command::Version => Ok(Response::Version {
                compositor: env!("CARGO_PKG_VERSION").into(),
                wayland_socket: self.comp.socket_name.clone(),
            }),
            Command::Health => {
                let mut outputs: Vec<(String, Option<u64>)> = self
                    .comp
                    .outputs
                    .frames
                    .iter()
                    .map(|(output, state)| {
                        let age = state.last_presented.map(|t| t.elapsed().as_millis() as u64);
                        (output.name(), age)
                    })
                    .collect();
                outputs.sort();
                Ok(Response::Health { outputs })
            }
            Command::Windows => Ok(Response::Windows {
                windows: self
                    .comp
                    .window_infos()
                    .into_iter()
                    .chain(self.comp.placeholder_infos())
                    .collect(),
            }),
            Command::Checkpoint { name } => {
                let (pid, windows) = self.checkpoint_prepare(&name)?;
                Ok(Response::Checkpoint { pid, windows })
            }
            Command::Outputs => Ok(Response::Outputs {
                outputs: self.comp.output_infos(),
            }),
            Command::OutputSet {
                name,
                mode,
                position,
                scale,
                transform,
                enabled,
            } => {
                let change = OutputConfig {
                    mode: mode.as_deref().map(OutputMode::parse).transpose()?,
                    position,
                    scale,
                    transform: transform
                        .as_deref()
                        .map(OutputTransform::parse)
                        .transpose()?,
                    enabled,
                };
                change.check()?;
                self.set_output(&name, &change)?;
                Ok(Response::Outputs {
                    outputs: self.comp.output_infos(),
                })
            }
            Command::Screenshot {
                output,
                container,
                cursor,
            } => {
                let target = match &output {
                    Some(name) => self.comp.shell.outputs().find(|o| &o.name() == name),
                    None => self.comp.shell.outputs().min_by_key(|o| o.name()),
                }
                .cloned()
                .ok_or_else(|| match &output {
                    Some(name) => CommandError::NoSuchOutput(name.clone()),
                    None => CommandError::NoOutput,
                })?;
                let shot = self
                    .backend
                    .screenshot(&self.comp, &target, container.as_deref(), cursor)
                    .map_err(CommandError::Screenshot)?;
                let png = shot.to_png().map_err(CommandError::Png)?;
                Ok(Response::Screenshot {
                    output: target.name(),
                    width: shot.width,
                    height: shot.height,
                    png_base64: base64::engine::general_purpose::STANDARD.encode(png),
                })
            }
            Command::Input { input } => {
                self.inject_input(input)?;
                Ok(Response::Done)
            }
            Command::Window { action, id } => {
                let window = match id {
                    Some(id) => self.comp.shell.window_by_id(id).ok_or_else(|| {
                        match self.comp.placeholder_infos().find(|w| w.id == id) {
                            Some(w) => CommandError::Placeholder {
                                id,
                                container: w.container,
                            },
                            None => CommandError::NoSuchWindow(id),
                        }
                    })?,
                    None => self.comp.focused_window().ok_or(CommandError::NoFocus)?,
                };
                self.comp.window_action(&window, action);
                self.apply_pending_focus();
                Ok(Response::Done)
            }
            Command::Containers => Ok(Response::Containers {
                containers: self.comp.container_infos(),
            }),
            Command::ContainerAdd {
                name,
                profile,
                color,
                output,
            } => {
                let name = ContainerName::parse(&name)?;
                let mut config =
                    ContainerConfig::with_profile(profile.as_deref().unwrap_or("untrusted"));
                config.color = color.as_deref().map(Color::parse).transpose()?;
                config.output = output;
                self.comp
                    .add_container(&name, &config)
                    .map_err(CommandError::Container)?;
                // A new tenant takes its output from whatever was there.
                self.comp.pin_kiosk_windows();
                self.apply_pending_focus();
                Ok(Response::Done)
            }
            Command::ContainerRemove { name } => {
                // A compositor started after a checkpoint shows the container's placeholders
                // without having the container: removing it drops them.
                let placeholders = self.comp.placeholder_infos().any(|w| w.container == name);
                match self.comp.remove_container(&name) {
                    Err(_) if placeholders => {}
                    removed => removed.map_err(CommandError::Container)?,
                }
                self.comp.forget_placeholders(&name);
                Ok(Response::Done)
            }
            Command::Subscribe => Err(CommandError::SubscribeNotFirst),
            Command::Launch { container } => {
                if !self.comp.containers.contains(container.as_str()) {
                    return Err(CommandError::NoContainer(container));
                }
                Ok(Response::Launched {
                    token: self.comp.launch(&container),
                })
            }
            Command::ClipboardCopy { from, to } => {
                // Without a connection to answer on, the outcome is on the event stream.
                self.clipboard_copy(&from, crate::clipboard::Then::Paste { to, reply: None });
                Ok(Response::Done)
            }
            Command::Quit => {
                self.comp.loop_signal.stop();
                Ok(Response::Done)
            }
            Command::Restart => {
                self.comp
                    .restart_requested
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                self.comp.loop_signal.stop();
                Ok(Response::Done)
            }
        }
    }
}
