//! A container's life: its directory and socket created, clients accepted within its limits and
//! tagged with it, and everything removed again.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;
use porthole_ipc::{ContainerInfo, Event};
use smithay::reexports::calloop::generic::Generic;
use smithay::reexports::calloop::{Interest, Mode, PostAction, RegistrationToken};
use smithay::reexports::wayland_server::backend::{ClientId, ObjectId};
use smithay::reexports::wayland_server::{Client, ListeningSocket};
use tracing::{info, warn};

use super::{color_among, Container};
use crate::bounds::OverLimit;
use crate::config::{Color, ContainerConfig, ContainerName, Limits};
use crate::paths::{self, CONTAINER_SOCKET, X11_SOCKET_DIR};
use crate::policy::Profile;
use crate::shell::container_name;
use crate::state::Porthole;

fn our_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Gives the container's directory, its socket and its X socket directory to `uid`, never
/// following a link (the directory's new owner may plant one), the directory last.
fn give_to(dir: &Path, uid: u32) -> anyhow::Result<()> {
    crate::nofollow::give_dir(dir, &[CONTAINER_SOCKET, X11_SOCKET_DIR], uid).with_context(|| {
        format!(
            "only root can give files away; leave `uid` out to keep {} the compositor user's",
            dir.display()
        )
    })
}

/// Makes a kept container directory ready for a new socket: takes it back from the sandbox's
/// user (who then cannot plant a link where Porthole, perhaps root, is about to create the
/// socket and its lock) and removes the last compositor's socket and lock. Returns its owner.
fn reclaim_kept_dir(dir: &Path) -> anyhow::Result<u32> {
    let fd = crate::nofollow::open_dir(dir)?;
    let owner = rustix::fs::fstat(&fd)?.st_uid;
    if owner != our_uid() {
        rustix::fs::fchown(&fd, Some(rustix::process::Uid::from_raw(our_uid())), None)
            .with_context(|| format!("cannot take {} back", dir.display()))?;
    }
    for stale in [
        CONTAINER_SOCKET.to_string(),
        format!("{CONTAINER_SOCKET}.lock"),
    ] {
        match rustix::fs::unlinkat(&fd, stale.as_str(), rustix::fs::AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot remove {stale} in {}", dir.display()))
            }
        }
    }
    Ok(owner)
}

impl Porthole {
    /// Creates a container's directory and socket and starts accepting its clients.
    pub fn add_container(
        &mut self,
        name: &ContainerName,
        config: &ContainerConfig,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.containers.contains(name.as_str()),
            "container `{name}` already exists"
        );
        let profile_name = config.profile.get_ref();
        let profile = self.config.profile(profile_name).with_context(|| {
            format!("profile `{profile_name}` is neither trusted, untrusted, kiosk nor a [profile.{profile_name}] table")
        })?;
        let root = paths::porthole_runtime_dir()?;
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {} to its owner", root.display()))?;
        let dir = root.join(name.as_str());
        // The directory of a container whose bridge outlived the last compositor is mounted in
        // its sandbox: it stays, and the socket comes back in it (see `checkpoint/live.rs`).
        let kept = crate::checkpoint::live::bridge_alive(name.as_str())
            && std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir());
        let kept_owner = if kept {
            Some(reclaim_kept_dir(&dir)?)
        } else {
            None
        };
        if !kept {
            if dir.exists() {
                // Left over from a compositor that did not exit cleanly.
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove the stale {}", dir.display()))?;
            }
            std::fs::create_dir(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let socket_path = dir.join(CONTAINER_SOCKET);
        let listener = ListeningSocket::bind_absolute(socket_path.clone())
            .with_context(|| format!("cannot listen on {}", socket_path.display()))?;
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))?;
        // Where `porthole x11` puts the X socket of a container served from the host; it exists
        // from the start so that engines can mount it when the container starts.
        let x11_dir = dir.join(X11_SOCKET_DIR);
        if config.x11 && !(kept && std::fs::symlink_metadata(&x11_dir).is_ok_and(|m| m.is_dir())) {
            std::fs::create_dir(&x11_dir)
                .with_context(|| format!("cannot create {}", x11_dir.display()))?;
            std::fs::set_permissions(&x11_dir, std::fs::Permissions::from_mode(0o755))?;
        }
        if let Some(uid) = config.uid.filter(|uid| *uid != our_uid()) {
            give_to(&dir, uid)?;
        } else if let Some(owner) = kept_owner.filter(|uid| *uid != our_uid()) {
            // Back to the sandbox's user, who must reach the new socket.
            super::run_as::hand_over(&dir, owner)?;
        }

        let profile_is_kiosk = profile == Profile::Kiosk;
        let key = name.clone();
        let token = self
            .loop_handle
            .insert_source(
                Generic::new(listener, Interest::READ, Mode::Level),
                move |_, listener, state| {
                    loop {
                        match listener.accept() {
                            Ok(Some(stream)) => state.comp.accept_container_client(&key, stream),
                            Ok(None) => break,
                            Err(err) if crate::fds::out_of_fds(&err) => {
                                // Refused, rather than left waiting and the socket polled in a
                                // loop.
                                let refused = state
                                    .comp
                                    .clients
                                    .spares
                                    .with_one_freed(|| listener.accept());
                                if let Ok(Some(stream)) = refused {
                                    drop(stream);
                                    state.comp.quota_hit(
                                        key.as_str(),
                                        "fds",
                                        "the compositor is out of file descriptors".into(),
                                    );
                                }
                                break;
                            }
                            Err(err) => {
                                warn!(container = %key, ?err, "cannot accept a client");
                                break;
                            }
                        }
                    }
                    Ok(PostAction::Continue)
                },
            )
            .map_err(|err| anyhow::anyhow!("cannot watch {}: {err}", socket_path.display()))?;

        info!(container = %name, profile = profile.name(), socket = %socket_path.display(), "container added");
        let taken = self.taken_colors();
        self.containers.insert(Container {
            name: name.clone(),
            profile,
            color: config
                .color
                .unwrap_or_else(|| color_among(name.as_str(), &taken)),
            limits: config.limits,
            output: config.output.clone(),
            plain_fullscreen: config.plain_fullscreen || profile_is_kiosk,
            x11: config.x11,
            clipboard: config.clipboard.clone(),
            dir: Some(dir),
            clients: Vec::new(),
            shm_bytes: 0,
            shm_pools: 0,
            surfaces: 0,
            listening: true,
            token,
        });
        self.emit(Event::ContainerAdded {
            name: name.to_string(),
        });
        Ok(())
    }

    /// Serves a client that connected through a container's socket, within its limits.
    pub fn accept_container_client(
        &mut self,
        name: &ContainerName,
        stream: std::os::unix::net::UnixStream,
    ) {
        let Some(container) = self.containers.get(name.as_str()) else {
            return;
        };
        let limit = container.limits.clients;
        if container.clients.len() as u64 >= limit as u64 {
            // Dropping the stream refuses the connection; the client sees it closed.
            drop(stream);
            self.quota_hit(
                name.as_str(),
                "clients",
                format!("more than {limit} clients"),
            );
            return;
        }
        let could_hold = container.clients.len() as u64 * crate::fds::PER_CLIENT
            + u64::from(container.shm_pools);
        if let Err(why) = self.clients.fds.admit(could_hold) {
            drop(stream);
            self.quota_hit(name.as_str(), "fds", why);
            return;
        }
        let profile = container.profile.clone();
        let x11 = container.x11;
        let bridgeable = container.dir.is_some();
        if let Some(client) = self.insert_client(stream, name.as_str(), profile, x11, bridgeable) {
            if let Some(container) = self.containers.get_mut(name.as_str()) {
                container.clients.push(client);
            }
        }
    }

    /// Forgets a client that went away.
    pub fn container_client_gone(&mut self, container: &str, id: &ClientId) {
        let Some(c) = self.containers.get_mut(container) else {
            return;
        };
        c.clients.retain(|client| client.id() != *id);
        if !c.listening && c.clients.is_empty() {
            self.forget_closed_container(container);
        }
    }

    /// A security context's sandbox closed its listener: no new clients; the container goes
    /// when its last client does.
    pub fn container_stopped_listening(&mut self, container: &str) {
        let Some(c) = self.containers.get_mut(container) else {
            return;
        };
        c.listening = false;
        if c.clients.is_empty() {
            self.forget_closed_container(container);
        }
    }

    fn forget_closed_container(&mut self, container: &str) {
        if self.containers.remove(container).is_some() {
            info!(container, "container closed by its sandbox");
            self.emit(Event::ContainerRemoved {
                name: container.to_string(),
            });
        }
    }

    /// Disconnects a container's clients, closes its socket and removes its directory.
    pub fn remove_container(&mut self, name: &str) -> anyhow::Result<()> {
        let container = self.containers.remove(name).with_context(|| {
            format!("no container named `{name}`; `porthole containers` lists them")
        })?;
        // A bridge in front of it would take the hang-up for a compositor gone away and keep
        // the apps waiting for it: it is told to end, and the sandbox whose first process it is
        // ends with it.
        let bridge = self.bridge_pid(name).or_else(|| {
            crate::checkpoint::live::read(name)
                .filter(|r| r.bridge_alive())
                .map(|r| r.bridge_pid)
        });
        if let Some(pid) = bridge.and_then(|pid| rustix::process::Pid::from_raw(pid as i32)) {
            if let Err(err) = rustix::process::kill_process(pid, rustix::process::Signal::TERM) {
                warn!(container = name, %err, "cannot stop the container's bridge");
            }
        }
        // Dropping the source drops the ListeningSocket, which removes the socket and its lock.
        self.loop_handle.remove(container.token);
        for client in &container.clients {
            self.disconnect(client, None);
        }
        if let Some(dir) = &container.dir {
            if let Err(err) = std::fs::remove_dir_all(dir) {
                if err.kind() != std::io::ErrorKind::NotFound {
                    return Err(err).with_context(|| format!("cannot remove {}", dir.display()));
                }
            }
        }
        info!(container = name, "container removed");
        self.emit(Event::ContainerRemoved {
            name: name.to_string(),
        });
        Ok(())
    }

    /// Registers a container whose socket another party created (a security context).
    pub fn add_external_container(&mut self, name: ContainerName, token: RegistrationToken) {
        let taken = self.taken_colors();
        self.containers.insert(Container {
            color: color_among(name.as_str(), &taken),
            name: name.clone(),
            profile: Profile::Untrusted,
            limits: Limits::default(),
            output: None,
            plain_fullscreen: false,
            x11: false,
            clipboard: Default::default(),
            dir: None,
            clients: Vec::new(),
            shm_bytes: 0,
            shm_pools: 0,
            surfaces: 0,
            listening: true,
            token,
        });
        self.emit(Event::ContainerAdded {
            name: name.to_string(),
        });
    }

    /// Logs and reports a refused or punished client.
    pub fn quota_hit(&mut self, container: &str, limit: &str, detail: String) {
        warn!(container, limit, %detail, "quota hit");
        self.emit(Event::QuotaHit {
            container: container.to_string(),
            limit: limit.to_string(),
            detail,
        });
    }

    /// Colours a new container's must stand apart from: other containers', and the host's
    /// frames.
    fn taken_colors(&self) -> Vec<Color> {
        let appearance = &self.config.appearance;
        self.containers
            .iter()
            .map(|c| c.color)
            .chain([appearance.focused, appearance.unfocused])
            .collect()
    }

    /// The limits of `container`; the defaults for the host and for containers gone.
    pub fn limits_of_container(&self, container: &str) -> Limits {
        self.containers
            .get(container)
            .map(|c| c.limits)
            .unwrap_or_default()
    }

    /// The limits of `client`'s container.
    pub fn limits_of(&self, client: &Client) -> Limits {
        match client.get_data::<crate::policy::ClientState>() {
            Some(data) => self.limits_of_container(&data.container),
            None => Limits::default(),
        }
    }

    /// Cuts off a client that went past one of its container's limits, with a protocol error on
    /// `object` that names the limit. The code is 2, wl_display's `no_memory`, whatever the
    /// object's interface (most have no error for this).
    pub fn over_limit(&mut self, client: &Client, object: ObjectId, over: OverLimit) {
        let container = crate::policy::container_of(client);
        self.quota_hit(&container, over.limit, over.what.clone());
        self.disconnect(client, Some((object, 2, over.to_string())));
    }

    /// Number of toplevels the container's clients have (mapped or not).
    pub fn container_toplevels(&self, container: &str) -> usize {
        self.shell
            .all_windows()
            .filter(|w| container_name(*w) == container)
            .count()
    }

    /// What `porthole containers` shows.
    pub fn container_infos(&self) -> Vec<ContainerInfo> {
        self.containers
            .iter()
            .map(|c| ContainerInfo {
                name: c.name.to_string(),
                profile: c.profile.name().to_string(),
                color: c.color.to_hex(),
                socket: c
                    .socket_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(security context)".into()),
                clients: c.clients.len() as u32,
                windows: self.container_toplevels(c.name.as_str()) as u32,
                shm_bytes: c.shm_bytes,
                objects: self.clients.objects_of(c.name.as_str()),
                x11: c.x11,
                bridge_pid: self.bridge_pid(c.name.as_str()),
            })
            .collect()
    }

    /// Starts the containers of the configuration.
    pub fn add_configured_containers(&mut self) -> anyhow::Result<()> {
        let containers: BTreeMap<ContainerName, ContainerConfig> = self.config.containers.clone();
        for (name, config) in &containers {
            self.add_container(name, config)
                .with_context(|| format!("container `{name}`"))?;
        }
        Ok(())
    }

    /// Counts `size` bytes of wl_shm pool (growing from `old`) against the client's container.
    /// Over the limit, the client is disconnected with an error and `false` is returned.
    pub fn charge_shm(&mut self, client: &Client, object: ObjectId, size: u64, old: u64) -> bool {
        let name = crate::policy::container_of(client);
        let Some(container) = self.containers.get_mut(name.as_str()) else {
            return true;
        };
        let limit = container.limits.shm_bytes.0;
        let total = container.shm_bytes.saturating_sub(old).saturating_add(size);
        if total > limit {
            let detail = format!(
                "a wl_shm pool of {size} bytes would bring the container to {total} bytes, over its \
                 limit of {limit}"
            );
            self.quota_hit(&name, "shm_bytes", detail.clone());
            let message = format!("shm_bytes limit of container {name}: {detail}");
            self.disconnect(client, Some((object, 2, message)));
            return false;
        }
        container.shm_bytes = total;
        true
    }

    /// Gives back the bytes of a pool that is gone (its object and all its buffers).
    pub fn release_shm(&mut self, released: Option<(String, u64)>) {
        let Some((name, size)) = released else { return };
        if let Some(c) = self.containers.get_mut(name.as_str()) {
            c.shm_bytes = c.shm_bytes.saturating_sub(size);
            c.shm_pools = c.shm_pools.saturating_sub(1);
        }
    }

    /// Counts one more wl_shm pool (each holds a file descriptor) against the client's
    /// container. Over the limit, the client is cut off and `false` is returned.
    pub fn charge_pool(&mut self, client: &Client, object: ObjectId) -> bool {
        let name = crate::policy::container_of(client);
        let Some(container) = self.containers.get_mut(name.as_str()) else {
            return true;
        };
        let value = container.limits.shm_pools;
        if container.shm_pools >= value {
            let what = format!("more than {value} wl_shm pools");
            let over = OverLimit {
                what,
                limit: "shm_pools",
                value,
            };
            self.over_limit(client, object, over);
            return false;
        }
        container.shm_pools += 1;
        true
    }

    /// Whether the client's container may have one more surface; if not, the client is cut
    /// off. A client's surfaces are all torn down at once when it leaves, in one go that other
    /// containers wait for: 2,048 take a few milliseconds. The host is never refused.
    pub fn admit_surface(&mut self, client: &Client, object: ObjectId) -> bool {
        let name = crate::policy::container_of(client);
        let Some(container) = self.containers.get(name.as_str()) else {
            return true;
        };
        let value = container.limits.surfaces;
        if container.surfaces < value {
            return true;
        }
        let what = format!("more than {value} surfaces");
        let over = OverLimit {
            what,
            limit: "surfaces",
            value,
        };
        self.over_limit(client, object, over);
        false
    }

    /// Counts a new surface of `client` against its container.
    pub fn surface_created(&mut self, client: &Client, surface: ObjectId) {
        let name = crate::policy::container_of(client);
        if let Some(container) = self.containers.get_mut(name.as_str()) {
            container.surfaces += 1;
            self.containers.surface_owners.insert(surface, name);
        }
    }

    /// A surface counted by [`Porthole::surface_created`] was destroyed.
    pub fn surface_destroyed(&mut self, surface: &ObjectId) {
        let owners = &mut self.containers.surface_owners;
        let Some(name) = owners.remove(surface) else {
            return;
        };
        if owners.capacity() > 64 && owners.len() < owners.capacity() / 4 {
            owners.shrink_to(owners.len() * 2);
        }
        if let Some(c) = self.containers.get_mut(name.as_str()) {
            c.surfaces = c.surfaces.saturating_sub(1);
        }
    }

    /// Takes back a pool counted by [`Porthole::charge_pool`] that was not made after all.
    pub fn uncharge_pool(&mut self, client: &Client) {
        let name = crate::policy::container_of(client);
        if let Some(c) = self.containers.get_mut(name.as_str()) {
            c.shm_pools = c.shm_pools.saturating_sub(1);
        }
    }
}
