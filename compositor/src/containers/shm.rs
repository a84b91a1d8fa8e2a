//! The `shm_bytes` limit: live wl_shm pools counted against their container.

use std::collections::HashMap;

use smithay::reexports::wayland_server::backend::ObjectId;

/// Live wl_shm pools, for the `shm_bytes` limit. A pool stays live while its object or any
/// buffer made from it exists: clients often destroy the pool right after making buffers, and the
/// memory stays mapped until the buffers go.
#[derive(Debug, Default)]
pub struct ShmAccounting {
    pools: HashMap<ObjectId, PoolRecord>,
    buffers: HashMap<ObjectId, ObjectId>,
}

#[derive(Debug)]
struct PoolRecord {
    container: String,
    size: u64,
    object_alive: bool,
    buffers: usize,
}

impl ShmAccounting {
    /// A pool was created.
    pub fn pool_created(&mut self, pool: ObjectId, container: String, size: u64) {
        self.pools.insert(
            pool,
            PoolRecord {
                container,
                size,
                object_alive: true,
                buffers: 0,
            },
        );
    }

    /// The size counted for a pool.
    pub fn pool_size(&self, pool: &ObjectId) -> Option<u64> {
        self.pools.get(pool).map(|r| r.size)
    }

    /// A pool grew.
    pub fn pool_resized(&mut self, pool: &ObjectId, size: u64) {
        if let Some(r) = self.pools.get_mut(pool) {
            r.size = size;
        }
    }

    /// A buffer was made from a pool.
    pub fn buffer_created(&mut self, buffer: ObjectId, pool: ObjectId) {
        if let Some(r) = self.pools.get_mut(&pool) {
            r.buffers += 1;
            self.buffers.insert(buffer, pool);
        }
    }

    /// A pool object was destroyed; returns its container and size if nothing holds it now.
    pub fn pool_destroyed(&mut self, pool: &ObjectId) -> Option<(String, u64)> {
        let r = self.pools.get_mut(pool)?;
        r.object_alive = false;
        self.release_if_unused(pool)
    }

    /// A buffer was destroyed; returns its pool's container and size if nothing holds it now.
    pub fn buffer_destroyed(&mut self, buffer: &ObjectId) -> Option<(String, u64)> {
        let pool = self.buffers.remove(buffer)?;
        if let Some(r) = self.pools.get_mut(&pool) {
            r.buffers = r.buffers.saturating_sub(1);
        }
        self.release_if_unused(&pool)
    }

    fn release_if_unused(&mut self, pool: &ObjectId) -> Option<(String, u64)> {
        let r = self.pools.get(pool)?;
        if r.object_alive || r.buffers > 0 {
            return None;
        }
        self.pools.remove(pool).map(|r| (r.container, r.size))
    }
}
