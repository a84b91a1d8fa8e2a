//! The compositor's half of checkpointing a container: placeholders and slots.
//!
//! A checkpointable container (`porthole run --checkpointable`) reaches the compositor only
//! through its bridge, which binds porthole_bridge_v1 (protocols/porthole-bridge-v1.xml) and names
//! each toplevel with a token. `porthole checkpoint` asks the compositor to keep each of the
//! container's windows as a placeholder (its last frame, dimmed and labelled, in the same place
//! and stacking), then tells the bridge to let go of its connection, so that CRIU can dump the
//! container. After the restore the bridge connects again and names its toplevels with the same
//! tokens; each takes its placeholder's slot back.
//!
//! Slots are kept in `$XDG_RUNTIME_DIR/porthole/slots/<container>/` too (a JSON list and each
//! window's last frame as PNG), so that a compositor started again shows them and gives them back.

pub mod criu;
mod dev_tty;
pub mod draw;
mod images;
pub mod live;
pub mod placeholder;

use std::cell::RefCell;

use porthole_ipc::WindowInfo;
use porthole_protocols::bridge::server::porthole_bridge_v1::PortholeBridgeV1;
use smithay::desktop::Window;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Client;
use smithay::reexports::wayland_server::Resource;
use smithay::utils::Size;
use tracing::{debug, info, warn};

use self::placeholder::{dimmed, read_png, sane_geometry, SlotRecord};
pub use self::placeholder::{set_slot, slot_of, Placeholder};
use crate::paths;
use crate::policy::ClientState;
use crate::render::image::Screenshot;
use crate::shell::{container_name, window_id, ShellWindow};
use crate::state::{Porthole, State};

/// Why a container cannot be checkpointed now.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("no container `{0}`")]
    NoContainer(String),
    #[error(
        "container `{0}` was not started checkpointable: its clients talk to the compositor \
         directly, and a connection leading out of a container cannot be checkpointed. Start it \
         with `porthole run --checkpointable {0} -- COMMAND`"
    )]
    NotCheckpointable(String),
    #[error("the bridge is gone")]
    BridgeGone,
    #[error(
        "container `{name}` has clients connected to the compositor besides its bridge \
         ({clients}); they would hold connections leading out of the container. Close them, or \
         start them inside the checkpointable container"
    )]
    OtherClients { name: String, clients: String },
    #[error("cannot learn the bridge's process: it is outside the compositor's pid namespace")]
    BridgeOutOfReach,
}

impl Porthole {
    /// The bridge of a container, if one is connected.
    fn bridge_of(&self, container: &str) -> Option<PortholeBridgeV1> {
        self.checkpoints
            .bridges
            .find(|c| crate::policy::container_of(c) == container)
    }

    /// A bridge named the toplevel of `surface` with `token`: a window coming back after a
    /// restore is configured at its placeholder's size from its first configure on.
    pub fn name_slot(
        &mut self,
        client: &Client,
        surface: &WlSurface,
        token: String,
    ) -> Result<(), &'static str> {
        let window = self
            .shell
            .window_for_surface(surface)
            .ok_or("set_slot names a surface that is no toplevel")?;
        let container = crate::policy::container_of(client);
        set_slot(&window, token.clone());
        if let Some(p) = self
            .checkpoints
            .placeholders
            .iter()
            .find(|p| p.container == container && p.token == token)
        {
            window.with_pending_state(|s| s.size = Some(p.geometry.size));
        }
        Ok(())
    }

    /// The process id of a container's bridge, if one is connected.
    pub fn bridge_pid(&self, container: &str) -> Option<u32> {
        let client = self.bridge_of(container)?.client()?;
        client.get_data::<ClientState>()?.pid
    }

    /// Checks that a container can be checkpointed: its bridge is its only client. Returns the
    /// bridge and its process id.
    pub fn checkpointable(&self, name: &str) -> Result<(PortholeBridgeV1, u32), CheckpointError> {
        let container = self
            .containers
            .get(name)
            .ok_or_else(|| CheckpointError::NoContainer(name.to_string()))?;
        let Some(bridge) = self.bridge_of(name) else {
            return Err(CheckpointError::NotCheckpointable(name.to_string()));
        };
        let bridge_client = bridge.client().ok_or(CheckpointError::BridgeGone)?;
        let others: Vec<String> = container
            .clients
            .iter()
            .filter(|c| c.id() != bridge_client.id())
            .map(|c| match c.get_data::<ClientState>().and_then(|d| d.pid) {
                Some(pid) => format!("pid {pid}"),
                None => "a client".to_string(),
            })
            .collect();
        if !others.is_empty() {
            return Err(CheckpointError::OtherClients {
                name: name.to_string(),
                clients: others.join(", "),
            });
        }
        let pid = bridge_client
            .get_data::<ClientState>()
            .and_then(|d| d.pid)
            .ok_or(CheckpointError::BridgeOutOfReach)?;
        Ok((bridge, pid))
    }

    /// The windows of a container, bottom first, with what a placeholder needs to know of each
    /// (all but its picture and its id).
    pub fn placeholders_for(&self, name: &str) -> Vec<(Window, Placeholder)> {
        let focused = self.focused_window();
        let stack: Vec<Window> = self.shell.windows().cloned().collect();
        // Minimized windows come after the stack: nothing is above them.
        let all: Vec<Window> = stack
            .iter()
            .chain(self.shell.minimized())
            .cloned()
            .collect();
        let mut out = Vec::new();
        for (index, window) in all.iter().enumerate() {
            if container_name(window) != name {
                continue;
            }
            let token = slot_of(window);
            let Some(token) = token else {
                warn!(
                    id = window_id(window),
                    "a window of a checkpointed container has no slot; it will open anew"
                );
                continue;
            };
            let minimized = index >= stack.len();
            // A minimized window's place is where it comes back.
            let Some(geometry) = self.shell.place_of(window).filter(|g| sane_geometry(*g)) else {
                warn!(
                    id = window_id(window),
                    "a window of a checkpointed container is too large to keep a place for"
                );
                continue;
            };
            let (mut above_ids, mut above_tokens, mut above_slots) =
                (Vec::new(), Vec::new(), Vec::new());
            for above in stack.get(index + 1..).unwrap_or_default() {
                match slot_of(above) {
                    Some(t) if container_name(above) == name => above_tokens.push(t),
                    Some(t) => {
                        above_ids.push(window_id(above));
                        above_slots.push((container_name(above).to_string(), t));
                    }
                    None => above_ids.push(window_id(above)),
                }
            }
            let (title, app_id) = crate::shell::title_and_app_id(window);
            let info = self.window_info(window);
            let placeholder = Placeholder {
                id: 0,
                container: name.to_string(),
                token,
                title,
                app_id,
                geometry,
                output: self.window_output(window).map(|o| o.name()),
                focused: focused.as_ref() == Some(window),
                minimized,
                maximized: info.maximized,
                fullscreen: info.fullscreen,
                restore: self
                    .shell
                    .restore_place(window)
                    .filter(|g| sane_geometry(*g)),
                above_ids,
                above_tokens,
                above_slots,
                reconnecting: false,
                stack: index,
                picture: None,
                frame: RefCell::default(),
                title_text: None,
                label_text: None,
            };
            out.push((window.clone(), placeholder));
        }
        out
    }

    /// Keeps placeholders for a container (replacing any it had), stores them with their
    /// pictures, and shows them.
    pub fn keep_placeholders(&mut self, name: &str, kept: Vec<(Placeholder, Option<Screenshot>)>) {
        self.checkpoints
            .placeholders
            .retain(|p| p.container != name);
        let dir = paths::slots_dir(name);
        if let Ok(dir) = &dir {
            let _ = std::fs::remove_dir_all(dir);
            if let Err(err) = std::fs::create_dir_all(dir) {
                warn!(%err, "cannot store the slots of container {name}");
            }
        }
        for (mut placeholder, shot) in kept {
            placeholder.id = self.shell.next_window_id();
            self.label_placeholder(&mut placeholder);
            if let Some(shot) = &shot {
                placeholder.picture = dimmed(shot);
                if let (Ok(dir), Ok(png)) = (&dir, shot.to_png()) {
                    let path = dir.join(format!("{}.png", placeholder.token));
                    if let Err(err) = std::fs::write(&path, png) {
                        warn!(%err, "cannot store {}", path.display());
                    }
                }
            }
            self.checkpoints.placeholders.push(placeholder);
        }
        self.store_slots(name);
        self.queue_redraw_all();
    }

    /// Draws a placeholder's texts: its title bar, `[container] title (checkpointed)`, and a
    /// "checkpointed" label for its middle.
    fn label_placeholder(&self, p: &mut Placeholder) {
        let (_, titlebar) = self.placeholder_frame();
        let bg = self.placeholder_color(&p.container);
        let why = if p.reconnecting {
            "reconnecting"
        } else {
            "checkpointed"
        };
        let title = format!(
            "{} ({why})",
            crate::decorations::text::label(Some(&p.container), &p.title)
        );
        let fg = crate::decorations::text::text_color_on(bg);
        p.title_text = self
            .text
            .render(&title, p.geometry.size.w, titlebar, fg, bg);
        let size = Size::from((p.geometry.size.w.min(180), 28));
        let bg = crate::decorations::BOX_BACKGROUND;
        let fg = crate::decorations::text::text_color_on(bg);
        p.label_text = self
            .text
            .render(why, size.w, size.h, fg, bg)
            .map(|text| (text, size));
    }

    /// Writes a container's slots; removes the directory once none is left.
    fn store_slots(&self, name: &str) {
        let Ok(dir) = paths::slots_dir(name) else {
            return;
        };
        let records: Vec<SlotRecord> = self
            .checkpoints
            .placeholders
            .iter()
            .filter(|p| p.container == name && !p.reconnecting)
            .map(Placeholder::record)
            .collect();
        if records.is_empty() {
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        let written = serde_json::to_vec_pretty(&records)
            .map_err(anyhow::Error::from)
            .and_then(|json| Ok(std::fs::write(dir.join("slots.json"), json)?));
        if let Err(err) = written {
            warn!(%err, "cannot store the slots of container {name}");
        }
    }

    /// Shows the slots a compositor before this one kept (`$XDG_RUNTIME_DIR/porthole/slots`).
    pub fn load_placeholders(&mut self) {
        let Ok(root) = paths::slots_root() else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(&root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let dir = entry.path();
            let records: Vec<SlotRecord> = match std::fs::read(dir.join("slots.json"))
                .map_err(anyhow::Error::from)
                .and_then(|json| Ok(serde_json::from_slice(&json)?))
            {
                Ok(records) => records,
                Err(err) => {
                    warn!(%err, "ignoring the unreadable slots of container {name}");
                    continue;
                }
            };
            for record in records.into_iter().filter(SlotRecord::is_sane) {
                let shot = read_png(&dir.join(format!("{}.png", record.token)));
                let id = self.shell.next_window_id();
                let mut placeholder = Placeholder::from_record(id, &name, &record, false);
                placeholder.picture = shot.as_ref().and_then(dimmed);
                self.label_placeholder(&mut placeholder);
                self.checkpoints.placeholders.push(placeholder);
            }
            info!(container = %name, "showing the windows of a checkpointed container");
        }
    }

    /// A window of a checkpointed container came back: takes its placeholder, if it has one.
    pub fn take_slot(&mut self, window: &Window) -> Option<Placeholder> {
        let container = container_name(window).to_string();
        let token = slot_of(window)?;
        let index = self
            .checkpoints
            .placeholders
            .iter()
            .position(|p| p.container == container && p.token == token)?;
        let placeholder = self.checkpoints.placeholders.remove(index);
        self.store_slots(&container);
        debug!(%container, %token, "a window took its slot back");
        Some(placeholder)
    }

    /// Puts a window that took its slot back under the windows that were above it.
    pub fn restack(&mut self, window: &Window, slot: &Placeholder) {
        self.shell.raise_all(|w| {
            w != window
                && (slot.above_ids.contains(&window_id(w))
                    || slot_of(w).is_some_and(|t| {
                        let container = container_name(w);
                        (container == slot.container && slot.above_tokens.contains(&t))
                            || slot
                                .above_slots
                                .iter()
                                .any(|(c, token)| c == container && *token == t)
                    }))
        });
    }

    /// Forgets a container's placeholders (the container was removed).
    pub fn forget_placeholders(&mut self, name: &str) {
        let before = self.checkpoints.placeholders.len();
        self.checkpoints
            .placeholders
            .retain(|p| p.container != name);
        if self.checkpoints.placeholders.len() != before {
            self.store_slots(name);
            self.queue_redraw_all();
        }
    }

    /// `porthole windows` lists placeholders too, as checkpointed.
    pub fn placeholder_infos(&self) -> impl Iterator<Item = WindowInfo> + '_ {
        self.checkpoints.placeholders.iter().map(Placeholder::info)
    }
}

impl State {
    /// `porthole checkpoint`, the compositor's part: checks that the container can be
    /// checkpointed, keeps its windows as placeholders and tells its bridge to let go. Returns
    /// the bridge's process id (the container's first process, which CRIU dumps) and the
    /// number of windows kept.
    pub fn checkpoint_prepare(&mut self, name: &str) -> Result<(u32, u32), CheckpointError> {
        let (bridge, pid) = self.comp.checkpointable(name)?;
        let windows = self.comp.placeholders_for(name);
        let mut kept = Vec::new();
        for (window, placeholder) in windows {
            if placeholder.minimized {
                kept.push((placeholder, None));
                continue;
            }
            let shot = match self.backend.window_snapshot(&self.comp, &window) {
                Ok(shot) => Some(shot),
                Err(err) => {
                    warn!(
                        "cannot keep the last frame of window {}: {err:#}",
                        placeholder.id
                    );
                    None
                }
            };
            kept.push((placeholder, shot));
        }
        let count = kept.len() as u32;
        self.comp.keep_placeholders(name, kept);
        bridge.detach();
        info!(container = name, pid, windows = count, "checkpointing");
        Ok((pid, count))
    }
}
