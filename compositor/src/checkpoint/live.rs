//! Containers whose apps outlive the compositor. A container behind its bridge keeps its clients
//! when the compositor goes (a crash, `kill -9`, an upgrade): the bridge waits for the socket to
//! come back and forwards every window again, naming its slot. For the windows to come back where
//! they were, the compositor keeps, for each container whose bridge is connected, a record of
//! the bridge's process and of every window's slot (`$XDG_RUNTIME_DIR/porthole/live/NAME.json`,
//! rewritten within a quarter second of a change). It is brought up to date after the event
//! loop handled something, at most every quarter second: an idle desktop is not woken for it.
//!
//! A compositor starting finds these records. Where the bridge still runs, it keeps the
//! container's directory (which the sandbox has mounted: a new one would never reach it), serves
//! the container again (made as it was, where `porthole run` made it rather than the
//! configuration), and shows the windows as placeholders, "reconnecting", until the bridge
//! takes them back. A record whose bridge is gone is removed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use calloop::timer::{TimeoutAction, Timer};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::placeholder::SlotRecord;
use crate::config::{Color, ContainerConfig, ContainerName};
use crate::paths;
use crate::state::Porthole;

/// How often at most the records are brought up to date (written only when they changed).
const EVERY: Duration = Duration::from_millis(250);

/// How often a bridge that has not come back yet is looked for among the processes.
const AWAIT_EVERY: Duration = Duration::from_secs(1);

/// What is kept of a container whose bridge is connected.
#[derive(Debug, Serialize, Deserialize)]
pub struct LiveRecord {
    /// The bridge's process id in the compositor's pid namespace, and when it started (clock
    /// ticks after boot, /proc/PID/stat): together they tell it from a later process with the
    /// same id.
    pub bridge_pid: u32,
    pub bridge_start: u64,
    /// How the container was made, for a compositor whose configuration does not name it.
    pub profile: String,
    pub color: String,
    pub x11: bool,
    /// Its windows, bottom first.
    pub windows: Vec<SlotRecord>,
}

impl LiveRecord {
    /// Whether the bridge this record names still runs.
    pub fn bridge_alive(&self) -> bool {
        process_start(self.bridge_pid) == Some(self.bridge_start)
    }
}

/// When process `pid` started, in clock ticks after boot; `None` if there is no such process.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces and parentheses: state is the 3rd
    // field of the line, starttime the 22nd.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn record_path(name: &str) -> anyhow::Result<PathBuf> {
    Ok(paths::live_dir()?.join(format!("{name}.json")))
}

/// The record of container `name`, if there is a readable one.
pub fn read(name: &str) -> Option<LiveRecord> {
    let text = std::fs::read(record_path(name).ok()?).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether container `name` has a record whose bridge still runs: its directory is kept.
pub fn bridge_alive(name: &str) -> bool {
    read(name).is_some_and(|r| r.bridge_alive())
}

/// Writes `bytes` as `name`'s record, whole or not at all, readable by its owner only.
fn write(name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = paths::live_dir()?;
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    }
    let path = record_path(name)?;
    let tmp = dir.join(format!(".{name}.json.tmp"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// Removes `name`'s record, and the records' directory once it holds none.
fn remove(name: &str) {
    if let Ok(path) = record_path(name) {
        let _ = std::fs::remove_file(path);
    }
    if let Ok(dir) = paths::live_dir() {
        // Fails, as it should, while another record is there.
        let _ = std::fs::remove_dir(dir);
    }
}

/// What the compositor keeps of its records.
#[derive(Debug, Default)]
pub struct LiveState {
    /// What was last written for each container, to write only changes.
    written: BTreeMap<String, Vec<u8>>,
    /// Containers served again from a record, whose bridge has not connected yet: their record
    /// stays as it was (the compositor may go again before they come back).
    awaiting: BTreeMap<String, LiveRecord>,
    /// When the records were last brought up to date.
    updated: Option<Instant>,
    /// A wakeup is set for the next update (something happened since the last one).
    wakeup_set: bool,
}

impl Porthole {
    /// Brings the records up to date, after the event loop handled something: now, or, when the
    /// last update was less than [`EVERY`] ago, once that has passed (so that the last change
    /// is never left out).
    pub fn live_records_due(&mut self) {
        let live = &self.checkpoints.live;
        if live.written.is_empty() && self.checkpoints.bridges.is_empty() {
            return;
        }
        let since = live.updated.map_or(EVERY, |t| t.elapsed());
        if since >= EVERY {
            self.checkpoints.live.updated = Some(Instant::now());
            self.update_live_records();
            return;
        }
        if live.wakeup_set {
            return;
        }
        let set =
            self.loop_handle
                .insert_source(Timer::from_duration(EVERY - since), |_, _, state| {
                    // The pass after this dispatch brings the records up to date.
                    state.comp.checkpoints.live.wakeup_set = false;
                    TimeoutAction::Drop
                });
        match set {
            Ok(_) => self.checkpoints.live.wakeup_set = true,
            Err(err) => warn!(%err, "cannot time the records of bridged containers"),
        }
    }

    /// Looks, every second, for the bridges of containers served again from a record, until
    /// each has come back or ended.
    fn watch_awaited_bridges(&mut self) {
        let watched =
            self.loop_handle
                .insert_source(Timer::from_duration(AWAIT_EVERY), |_, _, state| {
                    state.comp.update_live_records();
                    if state.comp.checkpoints.live.awaiting.is_empty() {
                        TimeoutAction::Drop
                    } else {
                        TimeoutAction::ToDuration(AWAIT_EVERY)
                    }
                });
        if let Err(err) = watched {
            warn!(%err, "cannot watch for the bridges of containers to come back");
        }
    }

    /// Writes the record of each container whose bridge is connected (where it changed), and
    /// removes those of containers whose bridge is gone.
    fn update_live_records(&mut self) {
        let names: Vec<String> = self.containers.iter().map(|c| c.name.to_string()).collect();
        for name in names {
            let Some(pid) = self.bridge_pid(&name) else {
                continue;
            };
            let Some(start) = process_start(pid) else {
                continue;
            };
            if self.checkpoints.live.awaiting.remove(&name).is_some() {
                info!(container = %name, "its bridge is back");
            }
            let Some(container) = self.containers.get(&name) else {
                continue;
            };
            let record = LiveRecord {
                bridge_pid: pid,
                bridge_start: start,
                profile: container.profile.name().to_string(),
                color: container.color.to_hex(),
                x11: container.x11,
                windows: self
                    .placeholders_for(&name)
                    .into_iter()
                    .map(|(_, p)| p.record())
                    .collect(),
            };
            let Ok(bytes) = serde_json::to_vec(&record) else {
                continue;
            };
            if self.checkpoints.live.written.get(&name) == Some(&bytes) {
                continue;
            }
            match write(&name, &bytes) {
                Ok(()) => {
                    self.checkpoints.live.written.insert(name, bytes);
                }
                Err(err) => warn!(%err, container = %name, "cannot keep the record of its windows"),
            }
        }
        // A bridge that went while the compositor runs (the container ended, or was
        // checkpointed, whose slots are kept apart) leaves no record.
        let gone: Vec<String> = self
            .checkpoints
            .live
            .written
            .keys()
            .filter(|name| self.bridge_pid(name).is_none())
            .filter(|name| !self.checkpoints.live.awaiting.contains_key(*name))
            .cloned()
            .collect();
        for name in gone {
            remove(&name);
            self.checkpoints.live.written.remove(&name);
        }
        // A bridge that did not outlive the last compositor after all will not come back.
        let dead: Vec<String> = self
            .checkpoints
            .live
            .awaiting
            .iter()
            .filter(|(_, r)| !r.bridge_alive())
            .map(|(name, _)| name.clone())
            .collect();
        for name in dead {
            info!(container = %name, "its bridge ended before coming back; dropping its windows");
            self.checkpoints.live.awaiting.remove(&name);
            self.checkpoints.live.written.remove(&name);
            remove(&name);
            self.drop_reconnecting(&name);
        }
    }

    /// Serves again the containers whose bridges outlived the last compositor (those the
    /// configuration names are served already, their directories kept), and shows their
    /// windows until the bridges take them back. Removes the records of bridges that are gone.
    pub fn adopt_live_containers(&mut self) {
        let Ok(dir) = paths::live_dir() else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file.strip_suffix(".json") else {
                continue;
            };
            let record = read(name).filter(LiveRecord::bridge_alive);
            let (Some(record), Ok(container)) = (record, ContainerName::parse(name)) else {
                remove(name);
                continue;
            };
            if !self.containers.contains(name) {
                let mut config = ContainerConfig::with_profile(&record.profile);
                config.color = Color::parse(&record.color).ok();
                config.x11 = record.x11;
                if let Err(err) = self.add_container(&container, &config) {
                    warn!("cannot serve container `{name}` again for its bridge: {err:#}");
                    continue;
                }
            }
            let windows = record.windows.len();
            self.show_reconnecting(name, &record.windows);
            info!(
                container = name,
                windows, "waiting for the bridge of a container to come back"
            );
            if let Ok(bytes) = serde_json::to_vec(&record) {
                self.checkpoints
                    .live
                    .written
                    .insert(name.to_string(), bytes);
            }
            self.checkpoints
                .live
                .awaiting
                .insert(name.to_string(), record);
        }
        // Drawn and listed in the desktop's stacking, across containers.
        self.checkpoints.placeholders.sort_by_key(|p| p.stack);
        if !self.checkpoints.live.awaiting.is_empty() {
            self.watch_awaited_bridges();
        }
    }

    /// Shows a container's windows as placeholders until its bridge gives them back.
    fn show_reconnecting(&mut self, name: &str, windows: &[SlotRecord]) {
        for record in windows.iter().filter(|r| r.is_sane()) {
            let mut placeholder =
                super::Placeholder::from_record(self.shell.next_window_id(), name, record, true);
            self.label_placeholder(&mut placeholder);
            self.checkpoints.placeholders.push(placeholder);
        }
        self.queue_redraw_all();
    }

    /// Drops a container's "reconnecting" placeholders: its bridge will not come back.
    fn drop_reconnecting(&mut self, name: &str) {
        self.checkpoints
            .placeholders
            .retain(|p| !(p.reconnecting && p.container == name));
        self.queue_redraw_all();
    }
}
