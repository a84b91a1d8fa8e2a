//! Protocols only trusted clients see: they reach beyond a client's own windows (the clipboard
//! at any time, synthetic input, the list of every window, new sandboxed sockets).

use smithay::reexports::wayland_protocols::wp::keyboard_shortcuts_inhibit::zv1::server::zwp_keyboard_shortcuts_inhibit_manager_v1::ZwpKeyboardShortcutsInhibitManagerV1;
use smithay::reexports::wayland_protocols::wp::keyboard_shortcuts_inhibit::zv1::server::zwp_keyboard_shortcuts_inhibitor_v1::ZwpKeyboardShortcutsInhibitorV1;
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::wayland::foreign_toplevel_list::{ForeignToplevelListHandler, ForeignToplevelListState};
use smithay::wayland::keyboard_shortcuts_inhibit::{
    KeyboardShortcutsInhibitHandler, KeyboardShortcutsInhibitState, KeyboardShortcutsInhibitor,
    KeyboardShortcutsInhibitorUserData,
};
use smithay::wayland::security_context::{
    SecurityContext, SecurityContextHandler, SecurityContextListenerSource,
};
use smithay::reexports::wayland_protocols::ext::data_control::v1::server::{
    ext_data_control_manager_v1::ExtDataControlManagerV1 as ExtManager,
    ext_data_control_source_v1::ExtDataControlSourceV1 as ExtSource,
};
use smithay::reexports::wayland_protocols_wlr::data_control::v1::server::{
    zwlr_data_control_manager_v1::ZwlrDataControlManagerV1 as WlrManager,
    zwlr_data_control_source_v1::ZwlrDataControlSourceV1 as WlrSource,
};
use smithay::wayland::selection::{ext_data_control, wlr_data_control};
use smithay::{
    delegate_foreign_toplevel_list,
    delegate_security_context, delegate_virtual_keyboard_manager,
};
use tracing::{info, warn};

use crate::config::ContainerName;
use crate::containers::Watched;
use crate::state::State;

impl wlr_data_control::DataControlHandler for State {
    fn data_control_state(&self) -> &wlr_data_control::DataControlState {
        &self.comp.globals.privileged.wlr_data_control
    }
}

impl ext_data_control::DataControlHandler for State {
    fn data_control_state(&self) -> &ext_data_control::DataControlState {
        &self.comp.globals.privileged.ext_data_control
    }
}

impl ForeignToplevelListHandler for State {
    fn foreign_toplevel_list_state(&mut self) -> &mut ForeignToplevelListState {
        &mut self.comp.globals.privileged.foreign_toplevel_list
    }
}

impl KeyboardShortcutsInhibitHandler for State {
    fn keyboard_shortcuts_inhibit_state(&mut self) -> &mut KeyboardShortcutsInhibitState {
        &mut self.comp.globals.privileged.shortcuts_inhibit
    }

    fn new_inhibitor(&mut self, _inhibitor: KeyboardShortcutsInhibitor) {
        // Never activated: Porthole's reserved chords (window management, and later the
        // cross-container clipboard) must keep working whatever a client asks.
    }
}

impl SecurityContextHandler for State {
    fn context_created(&mut self, source: SecurityContextListenerSource, context: SecurityContext) {
        // A sandbox (Flatpak) made a socket for its app: it becomes an untrusted container named
        // from the app and instance ids, which are labels only.
        let label = [context.app_id.as_deref(), context.instance_id.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("-");
        let name = container_name_from_label(&label, |n| self.comp.containers.contains(n.as_str()));
        info!(container = %name, engine = ?context.sandbox_engine, "security context created");
        let key = name.clone();
        let inserted = self.comp.loop_handle.insert_source(
            Watched::new(source, {
                let closed = self.comp.containers.closed_listeners.clone();
                let name = name.to_string();
                move || closed.borrow_mut().push(name)
            }),
            move |stream, _, state| {
                state.comp.accept_container_client(&key, stream);
            },
        );
        match inserted {
            Ok(token) => self.comp.add_external_container(name, token),
            Err(err) => warn!(?err, "cannot listen on a security context"),
        }
    }
}

/// A container name made from a sandbox's label: lower-cased, other characters turned into
/// `-`, cut to fit, and numbered when taken.
pub fn container_name_from_label(
    label: &str,
    taken: impl Fn(&ContainerName) -> bool,
) -> ContainerName {
    let mut base: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(24)
        .collect();
    if base.is_empty() || base == crate::policy::HOST_CONTAINER {
        base = "sandbox".into();
    }
    for n in 0u32.. {
        let candidate = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if let Ok(name) = ContainerName::parse(&candidate) {
            if !taken(&name) {
                return name;
            }
        }
    }
    unreachable!("some numbered name is free")
}

// The devices' requests pass through `handlers/selection.rs`, which notes who sets a selection.
smithay::reexports::wayland_server::delegate_global_dispatch!(State: [WlrManager: wlr_data_control::DataControlManagerGlobalData] => wlr_data_control::DataControlState);
delegate_dispatch!(State: [WlrManager: wlr_data_control::DataControlManagerUserData] => wlr_data_control::DataControlState);
delegate_dispatch!(State: [WlrSource: wlr_data_control::DataControlSourceUserData] => wlr_data_control::DataControlState);
smithay::reexports::wayland_server::delegate_global_dispatch!(State: [ExtManager: ext_data_control::ExtDataControlManagerGlobalData] => ext_data_control::DataControlState);
delegate_dispatch!(State: [ExtManager: ext_data_control::ExtDataControlManagerUserData] => ext_data_control::DataControlState);
delegate_dispatch!(State: [ExtSource: ext_data_control::ExtDataControlSourceUserData] => ext_data_control::DataControlState);
delegate_foreign_toplevel_list!(State);
delegate_security_context!(State);
delegate_virtual_keyboard_manager!(State);

crate::policy_global!(ZwpKeyboardShortcutsInhibitManagerV1, () => KeyboardShortcutsInhibitState);
delegate_dispatch!(State: [ZwpKeyboardShortcutsInhibitManagerV1: ()] => KeyboardShortcutsInhibitState);
delegate_dispatch!(State: [ZwpKeyboardShortcutsInhibitorV1: KeyboardShortcutsInhibitorUserData] => KeyboardShortcutsInhibitState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_labels_become_plain_unique_names() {
        let none = |_: &ContainerName| false;
        assert_eq!(
            container_name_from_label("org.gnome.Calculator-42", none).as_str(),
            "org-gnome-calculator-42"
        );
        assert_eq!(container_name_from_label("", none).as_str(), "sandbox");
        assert_eq!(
            container_name_from_label("../../host", none).as_str(),
            "sandbox"
        );
        let taken = |n: &ContainerName| n.as_str() == "app" || n.as_str() == "app-1";
        assert_eq!(container_name_from_label("App", taken).as_str(), "app-2");
    }
}
