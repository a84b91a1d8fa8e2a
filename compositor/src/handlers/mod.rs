//! Protocol handlers: one file per protocol (small related ones together), each an `impl XHandler`
//! followed by its `delegate_x!`. What a handler decides lives in the feature it calls.

/// Implements `GlobalDispatch` for `State` by forwarding to a smithay module, with `can_view`
/// asking [`crate::policy::client_may_bind`] first. Use it instead of the module's `delegate_*!`
/// global line.
#[macro_export]
macro_rules! policy_global {
    ($iface:ty, $udata:ty => $delegate:ty) => {
        impl smithay::reexports::wayland_server::GlobalDispatch<$iface, $udata>
            for $crate::state::State
        {
            fn bind(
                state: &mut Self,
                handle: &smithay::reexports::wayland_server::DisplayHandle,
                client: &smithay::reexports::wayland_server::Client,
                resource: smithay::reexports::wayland_server::New<$iface>,
                global_data: &$udata,
                data_init: &mut smithay::reexports::wayland_server::DataInit<'_, Self>,
            ) {
                <$delegate as smithay::reexports::wayland_server::GlobalDispatch<
                    $iface,
                    $udata,
                    Self,
                >>::bind(state, handle, client, resource, global_data, data_init)
            }

            fn can_view(
                client: smithay::reexports::wayland_server::Client,
                global_data: &$udata,
            ) -> bool {
                let name =
                    <$iface as smithay::reexports::wayland_server::Resource>::interface().name;
                $crate::policy::client_may_bind(&client, name)
                    && <$delegate as smithay::reexports::wayland_server::GlobalDispatch<
                        $iface,
                        $udata,
                        Self,
                    >>::can_view(client, global_data)
            }
        }
    };
}

mod bridge;
mod compositor;
mod dmabuf;
mod misc;
mod output;
mod privileged;
mod screencopy;
mod seat;
mod selection;
mod session;
mod x11;
mod xdg_shell;

pub(crate) use porthole_protocols::new_object_protocol_id;
