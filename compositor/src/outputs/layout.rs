//! Where each output goes in the desktop, settings changed at run time applied, and what
//! `porthole outputs` shows.

use porthole_ipc::{Geometry, OutputInfo};
use smithay::output::Output;
use smithay::utils::{Logical, Point};

use super::OutputError;
use crate::config::OutputConfig;
use crate::outputs::OutputState;
use crate::state::{Porthole, State};

impl Porthole {
    /// Adds an output to the space (where its configuration puts it, or right of the existing
    /// ones) with its configured scale and transform, and its frame pacing state.
    pub fn add_output(&mut self, output: &Output) {
        let x = self.shell.outputs_right_edge();
        self.outputs
            .frames
            .insert(output.clone(), OutputState::default());
        self.place_output(output, (x, 0).into());
    }

    /// An output's settings: the configuration's, with what was set at run time over it.
    pub fn output_config(&self, name: &str) -> OutputConfig {
        self.outputs.config(&self.config, name)
    }

    /// Applies an output's configured position (else `default`), scale and transform, and fits
    /// the windows to the new layout.
    pub fn place_output(&mut self, output: &Output, default: Point<i32, Logical>) {
        let config = self.output_config(&output.name());
        let loc = config
            .position
            .map(|[x, y]| Point::from((x, y)))
            .unwrap_or(default);
        output.change_current_state(
            None,
            config.transform.map(|t| t.to_smithay()),
            config.scale.map(smithay::output::Scale::Fractional),
            Some(loc),
        );
        self.shell.map_output(output, loc);
        self.refit_windows();
        self.tell_scale(output);
        self.queue_redraw_all();
    }

    /// Tells the clients of the windows on `output` that asked (wp_fractional_scale_v1) the
    /// scale to draw at there, after it changed.
    fn tell_scale(&self, output: &Output) {
        use smithay::wayland::compositor::{with_surface_tree_downward, TraversalAction};
        use smithay::wayland::fractional_scale::with_fractional_scale;
        use smithay::wayland::seat::WaylandFocus as _;
        let scale = output.current_scale().fractional_scale();
        for window in self.shell.windows() {
            if self.shell.output_of(window).as_ref() != Some(output) {
                continue;
            }
            let Some(surface) = window.wl_surface() else {
                continue;
            };
            with_surface_tree_downward(
                &surface,
                (),
                |_, _, _| TraversalAction::DoChildren(()),
                |_, states, _| with_fractional_scale(states, |fs| fs.set_preferred_scale(scale)),
                |_, _, _| true,
            );
        }
    }

    /// Removes an output; its windows move to the outputs left.
    pub fn remove_output(&mut self, output: &Output) {
        self.shell.unmap_output(output);
        self.outputs.frames.remove(output);
        self.refit_windows();
        self.queue_redraw_all();
    }

    /// What `porthole outputs` shows.
    pub fn output_infos(&self) -> Vec<OutputInfo> {
        let mut outputs: Vec<OutputInfo> = self
            .shell
            .outputs()
            .map(|o| {
                let geo = self.shell.output_geometry(o).unwrap_or_default();
                let mode = o.current_mode();
                OutputInfo {
                    name: o.name(),
                    geometry: Geometry {
                        x: geo.loc.x,
                        y: geo.loc.y,
                        width: geo.size.w,
                        height: geo.size.h,
                    },
                    mode_width: mode.map(|m| m.size.w).unwrap_or(0),
                    mode_height: mode.map(|m| m.size.h).unwrap_or(0),
                    refresh_mhz: mode.map(|m| m.refresh).unwrap_or(0),
                    scale: o.current_scale().fractional_scale(),
                    transform: transform_name(o.current_transform()).into(),
                    modes: {
                        let mut modes = o.modes();
                        // Preferred first, then largest and fastest.
                        let preferred = o.preferred_mode();
                        modes.sort_by_key(|m| {
                            (
                                Some(*m) != preferred,
                                std::cmp::Reverse((m.size.w * m.size.h, m.refresh)),
                            )
                        });
                        modes.dedup();
                        modes
                            .iter()
                            .map(|m| {
                                let hz = (m.refresh as f64 / 1000.0).round();
                                format!("{}x{}@{hz}", m.size.w, m.size.h)
                            })
                            .collect()
                    },
                }
            })
            .collect();
        outputs.sort_by(|a, b| a.name.cmp(&b.name));
        outputs
    }
}

/// How `porthole output set --transform` writes a transform.
fn transform_name(t: smithay::utils::Transform) -> &'static str {
    use smithay::utils::Transform as T;
    match t {
        T::Normal => "normal",
        T::_90 => "90",
        T::_180 => "180",
        T::_270 => "270",
        T::Flipped => "flipped",
        T::Flipped90 => "flipped-90",
        T::Flipped180 => "flipped-180",
        T::Flipped270 => "flipped-270",
    }
}

impl State {
    /// Applies `porthole output set`: remembered over the configuration, then applied.
    pub(crate) fn set_output(
        &mut self,
        name: &str,
        change: &OutputConfig,
    ) -> Result<(), OutputError> {
        let output = self
            .comp
            .shell
            .outputs()
            .find(|o| o.name() == name)
            .cloned();
        let drm = matches!(self.backend, crate::backend::Backend::Drm(_));
        if output.is_none()
            && !(drm && self.comp.config.outputs.contains_key(name))
            && !(drm && self.comp.outputs.overrides.contains_key(name))
        {
            return Err(OutputError::NoSuchOutput(name.to_string()));
        }
        if change.enabled.is_some() && !drm {
            return Err(OutputError::NotDrm);
        }
        let previous = self
            .comp
            .outputs
            .overrides
            .get(name)
            .cloned()
            .unwrap_or_default();
        self.comp
            .outputs
            .overrides
            .insert(name.to_string(), previous.merged(change));
        if let Some(output) = &output {
            if change.mode.is_some() {
                let config = self.comp.output_config(name);
                self.backend
                    .set_mode(output, &config)
                    .map_err(|err| OutputError::Mode {
                        name: name.to_string(),
                        reason: format!("{err:#}"),
                    })?;
            }
            let loc = self
                .comp
                .shell
                .output_geometry(output)
                .map(|g| g.loc)
                .unwrap_or_default();
            self.comp.place_output(output, loc);
        }
        // Turning a connector on or off is lighting or darkening it, as on hotplug.
        if change.enabled.is_some() {
            if let crate::backend::Backend::Drm(drm) = &mut self.backend {
                drm.scan_connectors(&mut self.comp);
            }
        }
        Ok(())
    }
}
