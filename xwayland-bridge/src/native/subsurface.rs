//! Subsurfaces of native clients, in a checkpointable container: browsers' page content, video
//! and GL areas, client-drawn title bars. Each becomes a host subsurface of the host surface that
//! shows its parent, at the same position and stacking, with copies of its buffers (as for
//! toplevels, see [`crate::host::view::HostView`]).
//!
//! Smithay applies a client's synchronized subsurface state when the parent commits, so the
//! bridge forwards a tree when its root (a toplevel or popup) commits, children before the root,
//! and keeps its host subsurfaces desynchronized: the host shows what the bridge sends as it
//! comes, the root's commit last. A desynchronized client subsurface is forwarded on its own
//! commit.

use std::collections::HashMap;

use smithay::reexports::wayland_server::backend::ObjectId;
use smithay::reexports::wayland_server::protocol::wl_surface::WlSurface;
use smithay::reexports::wayland_server::Resource as _;
use smithay::utils::{IsAlive as _, Logical, Point};
use smithay::wayland::compositor::{
    get_children, get_parent, with_states, with_surface_tree_upward, SubsurfaceCachedState,
    TraversalAction,
};
use wayland_client::protocol::wl_subsurface::WlSubsurface;
use wayland_client::protocol::wl_surface::WlSurface as HostSurface;

use crate::host::view::HostView;
use crate::server::{send_frame_callbacks, take_removed_buffer};

/// The subsurfaces of every native client, and the stacking last sent to the host.
#[derive(Debug, Default)]
pub struct Subsurfaces {
    list: Vec<NativeSubsurface>,
    /// By parent (a server surface): its children and itself, bottom to top, as the host has
    /// them.
    stacking: HashMap<WlSurface, Vec<ObjectId>>,
}

/// A client's subsurface and what shows it on the host.
#[derive(Debug)]
struct NativeSubsurface {
    surface: WlSurface,
    host: Option<HostSubsurface>,
    view: HostView,
}

#[derive(Debug)]
struct HostSubsurface {
    surface: HostSurface,
    subsurface: WlSubsurface,
    position: Point<i32, Logical>,
}

impl HostSubsurface {
    fn destroy(self) {
        self.subsurface.destroy();
        self.surface.destroy();
    }
}

impl Subsurfaces {
    /// The client's subsurface whose host objects (surface, subsurface) `named` picks.
    pub fn named_by(
        &self,
        named: impl Fn(&[wayland_client::backend::ObjectId]) -> bool,
    ) -> Option<WlSurface> {
        use wayland_client::Proxy as _;
        self.list
            .iter()
            .find(|s| {
                s.host
                    .as_ref()
                    .is_some_and(|h| named(&[h.surface.id(), h.subsurface.id()]))
            })
            .map(|s| s.surface.clone())
    }

    /// The server surface a host subsurface shows.
    pub fn server_surface_of(&self, host_surface: &HostSurface) -> Option<WlSurface> {
        self.list
            .iter()
            .find(|s| s.host.as_ref().is_some_and(|h| &h.surface == host_surface))
            .map(|s| s.surface.clone())
    }

    /// The host showed a frame of `host_surface`: the server surface whose frame callbacks it
    /// answers.
    pub fn frame_done(&mut self, host_surface: &HostSurface) -> Option<WlSurface> {
        let sub = self
            .list
            .iter_mut()
            .find(|s| s.host.as_ref().is_some_and(|h| &h.surface == host_surface))?;
        sub.view.awaiting_frame = false;
        Some(sub.surface.clone())
    }

    /// Whether a frame of `surface` went to the host, which has not answered it yet.
    pub fn awaits_frame(&self, surface: &WlSurface) -> bool {
        self.list
            .iter()
            .any(|s| &s.surface == surface && s.view.awaiting_frame)
    }

    /// Keeps what the host shows of each subsurface, before the host connection goes.
    pub fn keep_last(&mut self, pool: &mut smithay_client_toolkit::shm::slot::SlotPool) {
        for sub in &mut self.list {
            sub.view.keep_last(pool);
        }
    }

    /// The host connection is gone, and with it every host subsurface.
    pub fn forget_host(&mut self) {
        for sub in &mut self.list {
            sub.host = None;
            sub.view.forget_host();
        }
        self.stacking.clear();
    }

    /// Drops subsurfaces whose client destroyed them (or their role), and their host
    /// counterparts.
    fn prune(&mut self) {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|s| !s.surface.alive() || get_parent(&s.surface).is_none());
        self.list = kept;
        // Toplevels are parents too, and leave no subsurface behind.
        self.stacking.retain(|parent, _| parent.alive());
        for sub in gone {
            if let Some(host) = sub.host {
                host.destroy();
            }
        }
    }

    fn index_of(&self, surface: &WlSurface) -> Option<usize> {
        self.list.iter().position(|s| &s.surface == surface)
    }

    fn host_surface(&self, surface: &WlSurface) -> Option<HostSurface> {
        let index = self.index_of(surface)?;
        self.list[index].host.as_ref().map(|h| h.surface.clone())
    }

    /// Forwards the subsurfaces of `root`, shown on the host by `host_root`: creates the host
    /// subsurfaces that are missing, and passes on positions, stacking and new buffers. Frame
    /// callbacks of subsurfaces that got no new frame on the host are answered at once. Returns
    /// whether `host_root` must commit for positions or stacking to apply.
    pub fn forward(
        &mut self,
        host: &mut crate::host::Host,
        root: &WlSurface,
        host_root: &HostSurface,
        now_ms: u32,
    ) -> bool {
        // The whole tree, bottom to top.
        let mut order = Vec::new();
        with_surface_tree_upward(
            root,
            (),
            |_, _, _| TraversalAction::DoChildren(()),
            |surface, _, _| order.push(surface.clone()),
            |_, _, _| true,
        );
        if order.len() == 1 && self.list.is_empty() && self.stacking.is_empty() {
            return false;
        }
        self.prune();
        let Some(subcompositor) = host.subcompositor.as_ref() else {
            return false;
        };

        // Host subsurfaces, parents before their children.
        let mut parents = vec![(root.clone(), host_root.clone())];
        while let Some((parent, host_parent)) = parents.pop() {
            for child in get_children(&parent) {
                let index = match self.index_of(&child) {
                    Some(index) => index,
                    None => {
                        self.list.push(NativeSubsurface {
                            surface: child.clone(),
                            host: None,
                            view: HostView::default(),
                        });
                        self.list.len() - 1
                    }
                };
                let sub = &mut self.list[index];
                let host_child = sub.host.get_or_insert_with(|| {
                    let (subsurface, surface) =
                        subcompositor.create_subsurface(host_parent.clone(), &host.qh);
                    subsurface.set_desync();
                    HostSubsurface {
                        surface,
                        subsurface,
                        position: Point::default(),
                    }
                });
                parents.push((child, host_child.surface.clone()));
            }
        }

        // Positions and stacking: state of the parent on the host, which applies them with the
        // parent's commit. smithay (which Porthole is built on) applies a position with the
        // subsurface's own commit instead: a moved subsurface commits too.
        let mut parent_commits: Vec<ObjectId> = Vec::new();
        for surface in &order[..] {
            let Some(index) = self.index_of(surface) else {
                continue;
            };
            let location = with_states(surface, |states| {
                states
                    .cached_state
                    .get::<SubsurfaceCachedState>()
                    .current()
                    .location
            });
            if let Some(host_sub) = self.list[index].host.as_mut() {
                if host_sub.position != location {
                    host_sub.subsurface.set_position(location.x, location.y);
                    host_sub.position = location;
                    parent_commits.extend(get_parent(surface).map(|p| p.id()));
                    parent_commits.push(surface.id());
                }
            }
        }
        let rank = |surface: &WlSurface| order.iter().position(|s| s == surface);
        for parent in &order {
            let mut siblings = get_children(parent);
            if siblings.is_empty() {
                continue;
            }
            siblings.push(parent.clone());
            siblings.sort_by_key(|s| rank(s));
            let ids: Vec<ObjectId> = siblings.iter().map(|s| s.id()).collect();
            if self.stacking.get(parent) == Some(&ids) {
                continue;
            }
            let host_of = |s: &WlSurface| {
                if s == root {
                    Some(host_root.clone())
                } else {
                    self.host_surface(s)
                }
            };
            let subsurface_of = |s: &WlSurface| {
                let index = self.index_of(s)?;
                self.list[index].host.as_ref().map(|h| h.subsurface.clone())
            };
            let at = siblings.iter().position(|s| s == parent).unwrap_or(0);
            for i in at + 1..siblings.len() {
                if let (Some(sub), Some(below)) =
                    (subsurface_of(&siblings[i]), host_of(&siblings[i - 1]))
                {
                    sub.place_above(&below);
                }
            }
            for i in (0..at).rev() {
                if let (Some(sub), Some(above)) =
                    (subsurface_of(&siblings[i]), host_of(&siblings[i + 1]))
                {
                    sub.place_below(&above);
                }
            }
            self.stacking.insert(parent.clone(), ids);
            parent_commits.push(parent.id());
        }

        // Buffers, and commits for what changed.
        for surface in &order {
            let Some(index) = self.index_of(surface) else {
                continue;
            };
            let sub = &mut self.list[index];
            let Some(host_sub) = sub.host.as_ref() else {
                continue;
            };
            let host_surface = host_sub.surface.clone();
            let shown = if take_removed_buffer(surface) {
                sub.view.forget_host();
                host_surface.attach(None, 0, 0);
                host_surface.commit();
                false
            } else {
                sub.view.show(host, surface, &host_surface)
            };
            if !shown {
                if !sub.view.awaiting_frame {
                    send_frame_callbacks(surface, now_ms);
                }
                if parent_commits.contains(&surface.id()) {
                    host_surface.commit();
                }
            }
        }
        parent_commits.contains(&root.id())
    }
}
