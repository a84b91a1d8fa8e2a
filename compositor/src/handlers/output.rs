//! wl_output and xdg-output.

use smithay::reexports::wayland_protocols::xdg::xdg_output::zv1::server::zxdg_output_manager_v1::ZxdgOutputManagerV1;
use smithay::reexports::wayland_protocols::xdg::xdg_output::zv1::server::zxdg_output_v1::ZxdgOutputV1;
use smithay::reexports::wayland_server::delegate_dispatch;
use smithay::reexports::wayland_server::protocol::wl_output;
use smithay::wayland::output::{
    OutputHandler, OutputManagerState, OutputUserData, WlOutputData, XdgOutputUserData,
};

use crate::state::State;

impl OutputHandler for State {}

crate::policy_global!(wl_output::WlOutput, WlOutputData => OutputManagerState);
crate::policy_global!(ZxdgOutputManagerV1, () => OutputManagerState);
delegate_dispatch!(State: [wl_output::WlOutput: OutputUserData] => OutputManagerState);
delegate_dispatch!(State: [ZxdgOutputV1: XdgOutputUserData] => OutputManagerState);
delegate_dispatch!(State: [ZxdgOutputManagerV1: ()] => OutputManagerState);
