//! Kiosk tenants: a container of the kiosk profile owns an output (its `output =`, else the
//! first), and its windows fill that output and only that one. They cannot be moved, minimized,
//! maximized or taken out of fullscreen, whoever asks. No other container's window opens there,
//! is drawn there or takes input there. A tenant whose output is gone has its windows put away
//! until the output comes back, when they fill it again. The keyboard follows the pointer: keys
//! typed while the pointer is on one output never reach a tenant of another.

use smithay::desktop::Window;
use smithay::output::Output;
use smithay::utils::{Logical, Point};

use super::container_name;
use crate::policy::Profile;
use crate::state::Porthole;

impl Porthole {
    /// Whether a container is a kiosk tenant.
    pub fn is_kiosk(&self, container: &str) -> bool {
        self.containers
            .get(container)
            .is_some_and(|c| c.profile == Profile::Kiosk)
    }

    /// The output a kiosk container's windows fill: its `output =`, else the first by name.
    /// `None` for other containers, and while a tenant's named output is not there.
    pub fn kiosk_output(&self, container: &str) -> Option<Output> {
        let c = self.containers.get(container)?;
        if c.profile != Profile::Kiosk {
            return None;
        }
        let mut outputs = self.shell.outputs();
        match &c.output {
            Some(name) => outputs.find(|o| &o.name() == name).cloned(),
            None => outputs.min_by_key(|o| o.name()).cloned(),
        }
    }

    /// The kiosk tenant an output belongs to, if any (the first by name, should two name it).
    pub fn output_tenant(&self, output: &Output) -> Option<String> {
        self.containers
            .iter()
            .filter(|c| c.profile == Profile::Kiosk)
            .map(|c| c.name.to_string())
            .filter(|name| self.kiosk_output(name).as_ref() == Some(output))
            .min()
    }

    /// Whether `window` may be drawn and take input on `output`: a tenant's output shows that
    /// tenant's windows only.
    pub fn shown_on(&self, window: &Window, output: &Output) -> bool {
        match self.output_tenant(output) {
            Some(tenant) => container_name(window) == tenant,
            None => true,
        }
    }

    /// Whether `window` may take input at `pos`.
    pub fn shown_at(&self, window: &Window, pos: Point<f64, Logical>) -> bool {
        match self.shell.output_under(pos) {
            Some(output) => self.shown_on(window, output),
            None => true,
        }
    }

    /// Where a new window opens: a tenant's on its output; another on the output under the
    /// pointer unless a tenant owns it, else on the first output no tenant owns. `None` when
    /// there is no such output: the window is put away.
    pub fn output_for_new_window(&self, window: &Window) -> Option<Output> {
        let container = container_name(window);
        if self.is_kiosk(container) {
            return self.kiosk_output(container);
        }
        let free = |o: &Output| self.output_tenant(o).is_none();
        self.active_output().filter(free).or_else(|| {
            self.shell
                .outputs()
                .filter(|o| free(o))
                .min_by_key(|o| self.shell.output_geometry(o).map(|g| (g.loc.x, g.loc.y)))
                .cloned()
        })
    }

    /// After outputs changed: each tenant's windows fill its output again, or are put away
    /// while it is gone; other windows left on a tenant's output go to a free one, or are put
    /// away.
    pub fn pin_kiosk_windows(&mut self) {
        let windows: Vec<Window> = self
            .shell
            .windows()
            .chain(self.shell.minimized())
            .cloned()
            .collect();
        for window in windows {
            let container = container_name(&window).to_string();
            if self.is_kiosk(&container) {
                match self.kiosk_output(&container) {
                    Some(output) => {
                        if self.shell.is_minimized(&window) {
                            self.focus_window(Some(&window));
                        }
                        self.cover_output(&window, Some(output));
                    }
                    None => self.put_away(&window),
                }
                continue;
            }
            let on_tenant_output = self
                .shell
                .output_of(&window)
                .is_some_and(|o| self.output_tenant(&o).is_some());
            if on_tenant_output {
                self.put_away(&window);
            }
        }
    }

    /// Takes a window off every output; it comes back when focused (a tenant's, when its
    /// output does).
    pub fn put_away(&mut self, window: &Window) {
        if self.hide_minimized(window) {
            self.focus_top();
        }
    }

    /// The keyboard follows the pointer across tenants' outputs: before a key goes to the
    /// focused window, a focus on another tenant's output, or on a window the pointer's
    /// tenant output does not show, moves to the top window shown where the pointer is.
    pub fn keep_keys_with_pointer(&mut self) {
        if !self.containers.iter().any(|c| c.profile == Profile::Kiosk) {
            return;
        }
        let Some(output) = self.shell.output_under(self.pointer_location()).cloned() else {
            return;
        };
        let focused = self.focused_window();
        let misplaced = match &focused {
            Some(w) => {
                let own_output = self.kiosk_output(container_name(w));
                !self.shown_on(w, &output) || own_output.is_some_and(|o| o != output)
            }
            None => self.output_tenant(&output).is_some(),
        };
        if !misplaced {
            return;
        }
        let top = self
            .shell
            .windows()
            .rev()
            .find(|w| self.shown_on(w, &output) && self.shell.outputs_of(w).contains(&output))
            .cloned();
        if top != focused {
            self.focus_window(top.as_ref());
        }
    }
}
