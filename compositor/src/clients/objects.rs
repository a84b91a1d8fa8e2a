//! How many protocol objects each client, and each container, holds; one past the limit is a
//! `no_memory` protocol error that names the limit.
//!
//! libwayland announces every resource it creates for a client (its `resource_created`
//! signal) and every one it destroys (each resource's `destroy` signal), whichever code made
//! it: smithay, Porthole or libwayland itself. wayland-backend does not pass those on, so this
//! listens to them directly. Each resource carries a small listener (32 bytes) that takes its
//! count back when it goes; a client's own listeners go with it.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use smithay::reexports::wayland_server::DisplayHandle;
use tracing::warn;

use crate::config::Limits;
use crate::policy::ClientState;

/// libwayland's `struct wl_list`.
#[repr(C)]
struct WlList {
    prev: *mut WlList,
    next: *mut WlList,
}

/// libwayland's `struct wl_listener`.
#[repr(C)]
struct WlListener {
    link: WlList,
    notify: unsafe extern "C" fn(*mut WlListener, *mut c_void),
}

type WlClient = c_void;
type WlResource = c_void;

#[link(name = "wayland-server")]
extern "C" {
    fn wl_display_get_client_list(display: *mut c_void) -> *mut WlList;
    fn wl_client_from_link(link: *mut WlList) -> *mut WlClient;
    fn wl_client_get_fd(client: *mut WlClient) -> i32;
    fn wl_client_get_object(client: *mut WlClient, id: u32) -> *mut WlResource;
    fn wl_client_add_destroy_listener(client: *mut WlClient, listener: *mut WlListener);
    fn wl_client_add_resource_created_listener(client: *mut WlClient, listener: *mut WlListener);
    fn wl_resource_get_client(resource: *mut WlResource) -> *mut WlClient;
    fn wl_resource_add_destroy_listener(resource: *mut WlResource, listener: *mut WlListener);
    fn wl_resource_post_error(resource: *mut WlResource, code: u32, msg: *const c_char, ...);
    fn wl_list_remove(elm: *mut WlList);
}

/// wl_display's `no_memory` error.
const NO_MEMORY: u32 = 2;

/// The objects of one client, and of its container (shared by all its clients).
struct ObjectCount {
    client: AtomicU32,
    container: Arc<AtomicU32>,
    per_client: u32,
    per_container: u32,
    /// Set once the client went past a limit: it got its error.
    over: AtomicBool,
    state: Arc<ClientState>,
}

impl ObjectCount {
    /// Counts a new object of `client`; past a limit, the client gets its error.
    fn created(&self, client: *mut WlClient) {
        let mine = self.client.fetch_add(1, Ordering::Relaxed) + 1;
        let ours = self.container.fetch_add(1, Ordering::Relaxed) + 1;
        let over = if mine > self.per_client {
            (self.per_client, "objects_per_client", "the client holds")
        } else if ours > self.per_container {
            (
                self.per_container,
                "objects",
                "the container's clients hold",
            )
        } else {
            return;
        };
        if self.over.swap(true, Ordering::Relaxed) {
            return;
        }
        let (value, limit, who) = over;
        let message = format!(
            "{who} more than {value} protocol objects: over the `{limit}` limit of its container"
        );
        warn!(container = %self.state.container, limit, "{message}: disconnecting the client");
        self.state.set_error(&message);
        let text = CString::new(message).unwrap_or_default();
        // Safety: the client is live (libwayland is creating one of its resources), and object 1
        // is its wl_display, which lives as long as it does.
        unsafe {
            if client.is_null() {
                return;
            }
            let display = wl_client_get_object(client, 1);
            if !display.is_null() {
                wl_resource_post_error(display, NO_MEMORY, c"%s".as_ptr(), text.as_ptr());
            }
        }
    }

    fn destroyed(&self) {
        self.client.fetch_sub(1, Ordering::Relaxed);
        self.container.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The listeners one client carries; freed when it is destroyed.
#[repr(C)]
struct ClientWatch {
    created: WlListener,
    destroyed: WlListener,
    count: Arc<ObjectCount>,
}

/// The listener one resource carries; freed when it is destroyed.
#[repr(C)]
struct ResourceWatch {
    destroyed: WlListener,
    count: Arc<ObjectCount>,
}

unsafe extern "C" fn resource_created(listener: *mut WlListener, resource: *mut c_void) {
    // Safety: `created` is the first field of a ClientWatch (repr(C)), which lives until its
    // client is destroyed, and libwayland passes the new resource.
    let watch = unsafe { &*(listener as *const ClientWatch) };
    let resource_watch = Box::into_raw(Box::new(ResourceWatch {
        destroyed: WlListener {
            link: WlList {
                prev: std::ptr::null_mut(),
                next: std::ptr::null_mut(),
            },
            notify: resource_destroyed,
        },
        count: watch.count.clone(),
    }));
    // Safety: the resource is live; its destroy signal frees the watch.
    unsafe {
        wl_resource_add_destroy_listener(resource, &mut (*resource_watch).destroyed);
        watch.count.created(wl_resource_get_client(resource));
    }
}

unsafe extern "C" fn resource_destroyed(listener: *mut WlListener, _resource: *mut c_void) {
    // Safety: the listener is the first field of a ResourceWatch made by `resource_created`;
    // libwayland unlinked it before calling (a final emit), and calls it once.
    let watch = unsafe { Box::from_raw(listener as *mut ResourceWatch) };
    watch.count.destroyed();
}

unsafe extern "C" fn client_destroyed(listener: *mut WlListener, _client: *mut c_void) {
    // Safety: `destroyed` is the second field of a ClientWatch; the resource-created listener
    // is still linked into the dying client's signal and is unlinked before the watch is freed.
    // Resources destroyed after this hold their own reference to the count.
    unsafe {
        let watch = (listener as *mut u8).sub(std::mem::offset_of!(ClientWatch, destroyed))
            as *mut ClientWatch;
        wl_list_remove(&mut (*watch).created.link);
        drop(Box::from_raw(watch));
    }
}

/// Starts counting the objects of the client that libwayland created last, which must be the
/// one whose socket is `fd`, into its own count and `container`'s.
pub fn watch_newest_client(
    dh: &DisplayHandle,
    fd: i32,
    container: Arc<AtomicU32>,
    state: Arc<ClientState>,
    limits: &Limits,
) {
    let display = dh.backend_handle().display_ptr() as *mut c_void;
    // Safety: the display is live; libwayland appends each new client to the end of its list,
    // and nothing ran between that and now.
    let client = unsafe {
        let list = wl_display_get_client_list(display);
        let last = (*list).prev;
        if last == list {
            return;
        }
        wl_client_from_link(last)
    };
    // Safety: `client` is a live client of the display.
    if unsafe { wl_client_get_fd(client) } != fd {
        warn!("cannot count a new client's objects: it is not the last one libwayland made");
        return;
    }
    let count = Arc::new(ObjectCount {
        client: AtomicU32::new(0),
        container,
        per_client: limits.objects_per_client,
        per_container: limits.objects,
        over: AtomicBool::new(false),
        state,
    });
    let unlinked = || WlList {
        prev: std::ptr::null_mut(),
        next: std::ptr::null_mut(),
    };
    let watch = Box::into_raw(Box::new(ClientWatch {
        created: WlListener {
            link: unlinked(),
            notify: resource_created,
        },
        destroyed: WlListener {
            link: unlinked(),
            notify: client_destroyed,
        },
        count,
    }));
    // Safety: the client is live; its destroy signal frees the watch.
    unsafe {
        wl_client_add_resource_created_listener(client, &mut (*watch).created);
        wl_client_add_destroy_listener(client, &mut (*watch).destroyed);
    }
}
