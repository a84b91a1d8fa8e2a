//! Finding the object a request creates, for servers that pass a request on to smithay and then
//! keep something of their own about what it made.

use wayland_server::{New, Resource};

/// The protocol id of an object a request creates. wayland-server keeps it private in `New`,
/// so it is read from `New`'s `Debug` text (`… wl_shm_pool@12[…] …`); `None` if that changes.
pub fn new_object_protocol_id<I: Resource>(new: &New<I>) -> Option<u32> {
    let text = format!("{new:?}");
    let marker = format!("{}@", I::interface().name);
    let start = text.find(&marker)? + marker.len();
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
