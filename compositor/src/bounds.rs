//! Bounds on what one client can make the compositor hold, past what the protocol itself
//! checks: rectangles in a region, damage and frame callbacks per commit, MIME types per data
//! source. The numbers are the client's container's [`Limits`]; the handlers ask here before they
//! pass a request on to smithay, and a request past a bound is a protocol error naming it.
//!
//! What each check costs is O(1): a count kept per object, or the length of a list smithay
//! already keeps.

use std::collections::HashMap;

use smithay::reexports::wayland_server::backend::ObjectId;
use smithay::utils::{Buffer, Rectangle};
use smithay::wayland::compositor::{CachedState, Damage, SurfaceAttributes};

use crate::config::Limits;

/// An opaque region of more rectangles than this is dropped (it is only a hint): smithay's damage
/// tracker cuts every element below by every opaque rectangle above it, each frame.
pub const MAX_OPAQUE_RECTS: u32 = 16;

/// A bound a client went past, for its protocol error and the compositor's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: over the `{limit}` limit of {value} of its container")]
pub struct OverLimit {
    /// What the client did.
    pub what: String,
    /// The name of the limit in `[container.NAME.limits]`.
    pub limit: &'static str,
    /// Its value.
    pub value: u32,
}

/// Counts kept per object: rectangles per region, MIME types per data source.
#[derive(Debug, Default)]
pub struct Counts {
    by_object: HashMap<ObjectId, u32>,
}

impl Counts {
    /// How many `object` has.
    pub fn get(&self, object: &ObjectId) -> u32 {
        self.by_object.get(object).copied().unwrap_or(0)
    }

    /// Counts one more for `object`, unless that goes past `value`.
    pub fn add(
        &mut self,
        object: &ObjectId,
        limit: &'static str,
        value: u32,
        what: impl FnOnce() -> String,
    ) -> Result<(), OverLimit> {
        let count = self.by_object.entry(object.clone()).or_default();
        if *count >= value {
            return Err(OverLimit {
                what: what(),
                limit,
                value,
            });
        }
        *count += 1;
        Ok(())
    }

    /// Forgets a destroyed object. The table shrinks when it is mostly empty, so that a flood of
    /// objects leaves no memory behind.
    pub fn forget(&mut self, object: &ObjectId) {
        self.by_object.remove(object);
        if self.by_object.capacity() > 64 && self.by_object.len() < self.by_object.capacity() / 4 {
            self.by_object.shrink_to(self.by_object.len() * 2);
        }
    }
}

/// Damage that covers any buffer (smithay clips buffer damage to the buffer).
fn whole_buffer() -> Damage {
    Damage::Buffer(Rectangle::<i32, Buffer>::from_size(
        (i32::MAX / 2, i32::MAX / 2).into(),
    ))
}

/// Whether one more damage rectangle may join what the surface carries (the commit being built,
/// and what earlier commits left undrawn: smithay keeps damage until a new buffer comes). At the
/// limit, all of it becomes one rectangle covering the whole buffer, and this one is dropped.
pub fn admit_damage(attrs: &mut CachedState<SurfaceAttributes>, limits: &Limits) -> bool {
    let carried = attrs.current().damage.len() + attrs.pending().damage.len();
    if carried < limits.damage_rects as usize {
        return true;
    }
    attrs.current().damage.clear();
    let pending = &mut attrs.pending().damage;
    pending.clear();
    pending.push(whole_buffer());
    false
}

/// Whether the commit being built may ask for one more frame callback.
pub fn admit_frame_callback(
    attrs: &mut CachedState<SurfaceAttributes>,
    limits: &Limits,
) -> Result<(), OverLimit> {
    let value = limits.frame_callbacks;
    if attrs.pending().frame_callbacks.len() >= value as usize {
        return Err(OverLimit {
            what: format!("more than {value} frame callbacks in one commit"),
            limit: "frame_callbacks",
            value,
        });
    }
    Ok(())
}

/// Whether a data source that offers `offered` types may offer `mime_type` too.
pub fn admit_mime_type(
    counts: &mut Counts,
    source: &ObjectId,
    mime_type: &str,
    limits: &Limits,
) -> Result<(), OverLimit> {
    let bytes = limits.mime_type_bytes;
    if mime_type.len() > bytes as usize {
        return Err(OverLimit {
            what: format!("a MIME type of {} bytes", mime_type.len()),
            limit: "mime_type_bytes",
            value: bytes,
        });
    }
    counts.add(source, "mime_types", limits.mime_types, || {
        format!(
            "more than {} MIME types on one data source",
            limits.mime_types
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_past_the_limit_becomes_one_rectangle_over_the_whole_buffer() {
        let limits = Limits {
            damage_rects: 3,
            ..Limits::default()
        };
        let mut attrs = CachedState::<SurfaceAttributes>::default();
        let rect = || Damage::Buffer(Rectangle::new((1, 1).into(), (2, 2).into()));
        attrs.current().damage.push(rect());
        for _ in 0..2 {
            assert!(admit_damage(&mut attrs, &limits));
            attrs.pending().damage.push(rect());
        }
        // The fourth rectangle: all three go, one covers the buffer.
        assert!(!admit_damage(&mut attrs, &limits));
        assert!(attrs.current().damage.is_empty());
        assert_eq!(attrs.pending().damage, vec![whole_buffer()]);
        // What follows fits again until the limit.
        assert!(admit_damage(&mut attrs, &limits));
    }

    #[test]
    fn counts_stop_at_the_limit_and_forget_destroyed_objects() {
        let mut counts = Counts::default();
        let id = ObjectId::null();
        for _ in 0..2 {
            counts.add(&id, "region_rects", 2, String::new).unwrap();
        }
        let err = counts
            .add(&id, "region_rects", 2, || "a third".into())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a third: over the `region_rects` limit of 2 of its container"
        );
        counts.forget(&id);
        assert_eq!(counts.get(&id), 0);
    }

    #[test]
    fn mime_types_are_bounded_in_number_and_length() {
        let limits = Limits {
            mime_types: 1,
            mime_type_bytes: 10,
            ..Limits::default()
        };
        let mut counts = Counts::default();
        let id = ObjectId::null();
        let long = "x".repeat(11);
        assert_eq!(
            admit_mime_type(&mut counts, &id, &long, &limits)
                .unwrap_err()
                .limit,
            "mime_type_bytes"
        );
        admit_mime_type(&mut counts, &id, "text/plain", &limits).unwrap();
        assert_eq!(
            admit_mime_type(&mut counts, &id, "text/html", &limits)
                .unwrap_err()
                .limit,
            "mime_types"
        );
    }
}
