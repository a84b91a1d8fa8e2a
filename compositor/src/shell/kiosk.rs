//! Kiosk tenants: a container of the kiosk profile owns an output (its `output =`, else the
//! first), and its windows fill that output and only that one. They cannot be moved, minimized,
//! maximized or taken out of fullscreen, whoever asks. No other container's window opens there,
//! is drawn there or takes input there. A tenant whose output is gone has its windows put away
//! until the output comes back, when they fill it again. The keyboard follows the pointer: keys
//! typed while the pointer is on one output never reach a tenant of another. A tenant's output
//! shows its colour behind its windows, and its name while it has none.

use smithay::backend::renderer::element::memory::MemoryRenderBuffer;
use smithay::backend::renderer::element::solid::SolidColorBuffer;
use smithay::backend::renderer::{ImportAll, ImportMem, Renderer, Texture};
use smithay::desktop::Window;
use smithay::output::Output;
use smithay::utils::{Logical, Point, Rectangle, Scale, Size};

use super::container_name;
use crate::policy::Profile;
use crate::render::OutputElement;
use crate::state::Porthole;

/// What a tenant's output shows behind its windows: the tenant's colour, and its name while it
/// has no window there. Kept between frames, so that an idle output stays undamaged.
pub struct Splash {
    tenant: String,
    /// The output's size it was made for.
    size: Size<i32, Logical>,
    name: Option<(MemoryRenderBuffer, Size<i32, Logical>)>,
    solids: Vec<SolidColorBuffer>,
}

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

    /// After outputs changed, or a tenant came: each tenant's windows fill its output again,
    /// or are put away while it is gone; other windows left on a tenant's output are put away.
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

    /// The splash of `output`, if a tenant owns it: its colour over the whole output, and its
    /// name in the middle while none of its windows is there. Goes behind everything else.
    pub(crate) fn splash_elements<R>(
        &self,
        renderer: &mut R,
        output: &Output,
        output_geo: Rectangle<i32, Logical>,
        scale: Scale<f64>,
        out: &mut Vec<OutputElement<R>>,
    ) where
        R: Renderer + ImportAll + ImportMem,
        R::TextureId: Clone + Texture + Send + 'static,
    {
        let Some(tenant) = self.output_tenant(output) else {
            return;
        };
        let Some(color) = self.containers.get(&tenant).map(|c| c.color) else {
            return;
        };
        let empty = !self
            .shell
            .windows()
            .any(|w| container_name(w) == tenant && self.shell.outputs_of(w).contains(output));
        let mut splashes = self.splashes.borrow_mut();
        splashes.retain(|s| self.containers.get(&s.tenant).is_some());
        let index = match splashes
            .iter()
            .position(|s| s.tenant == tenant && s.size == output_geo.size)
        {
            Some(index) => index,
            None => {
                splashes.retain(|s| s.tenant != tenant);
                let height = 64;
                let width = self.text.width_of(&tenant, height).unwrap_or(0);
                let size = Size::from((width.min(output_geo.size.w), height));
                let fg = crate::decorations::text::text_color_on(color);
                let name = self
                    .text
                    .render(&tenant, size.w, size.h, fg, color)
                    .map(|text| (text, size));
                splashes.push(Splash {
                    tenant: tenant.clone(),
                    size: output_geo.size,
                    name,
                    solids: Vec::new(),
                });
                splashes.len() - 1
            }
        };
        let splash = &mut splashes[index];
        if let (true, Some((text, size))) = (empty, &splash.name) {
            let at = Point::from((
                (output_geo.size.w - size.w) / 2,
                (output_geo.size.h - size.h) / 2,
            ));
            crate::render::elements::push_text(renderer, text, at, scale, out);
        }
        crate::render::elements::push_solids(
            &mut splash.solids,
            vec![(output_geo, color)],
            output_geo.loc,
            scale,
            out,
        );
    }
}
