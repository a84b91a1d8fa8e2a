//! The machine the tests share. libtest runs as many tests at once as there are cores, and most
//! get along: each has its own runtime directory, sockets and X displays. Some must not share it:
//! the load test, whose bounds on frame waits and memory were set for 64 clients on a machine of
//! their own; the KMS test, whose QEMU guest keeps two cores busy; and the hostile tests that
//! hold an honest client to 55 frames a second while another container floods the compositor.
//!
//! So whatever starts a compositor, an X server or a guest holds the machine shared ([`share`]);
//! [`Compositor`](super::Compositor) and the in-process fixture do it themselves. A test that
//! must run alone takes it with [`alone`] before starting anything: it waits until the tests
//! running now are done, and no other test starts anything until it ends.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Who holds the machine.
struct Holders {
    /// Tests sharing it.
    sharing: usize,
    /// Whether a test holds it alone.
    alone: bool,
    /// Tests waiting to hold it alone; no test starts sharing it meanwhile.
    waiting: usize,
}

static HOLDERS: Mutex<Holders> = Mutex::new(Holders {
    sharing: 0,
    alone: false,
    waiting: 0,
});
static CHANGED: Condvar = Condvar::new();

thread_local! {
    /// How many holds this test's thread has. A thread that holds the machine takes it again
    /// without waiting: a test starting a second compositor, or one after `alone`, must not wait
    /// for itself.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

fn holders() -> MutexGuard<'static, Holders> {
    // Nothing panics while the lock is held: a poisoned one still holds true counts.
    HOLDERS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wait(holders: MutexGuard<'static, Holders>) -> MutexGuard<'static, Holders> {
    CHANGED
        .wait(holders)
        .unwrap_or_else(PoisonError::into_inner)
}

enum Kind {
    /// Taken by a thread that held the machine already.
    Again,
    Shared,
    Alone,
}

/// A hold on the machine, given back when dropped, on the thread that took it.
#[must_use = "the machine is given back when the hold is dropped"]
pub struct Hold {
    kind: Kind,
    /// Not `Send`: the count of holds is its thread's own.
    _thread: PhantomData<MutexGuard<'static, ()>>,
}

impl Hold {
    fn new(kind: Kind) -> Self {
        HELD.with(|held| held.set(held.get() + 1));
        Self {
            kind,
            _thread: PhantomData,
        }
    }
}

/// Holds the machine shared with other tests, once no test holds or waits to hold it alone.
pub fn share() -> Hold {
    if HELD.with(Cell::get) > 0 {
        return Hold::new(Kind::Again);
    }
    let mut holders = holders();
    while holders.alone || holders.waiting > 0 {
        holders = wait(holders);
    }
    holders.sharing += 1;
    Hold::new(Kind::Shared)
}

/// Holds the machine alone, once no other test holds it; until the hold is dropped, every
/// other test waits before starting anything.
pub fn alone() -> Hold {
    assert_eq!(
        HELD.with(Cell::get),
        0,
        "take the machine alone before starting anything"
    );
    let mut holders = holders();
    holders.waiting += 1;
    while holders.alone || holders.sharing > 0 {
        holders = wait(holders);
    }
    holders.waiting -= 1;
    holders.alone = true;
    Hold::new(Kind::Alone)
}

impl Drop for Hold {
    fn drop(&mut self) {
        HELD.with(|held| held.set(held.get() - 1));
        match self.kind {
            Kind::Again => return,
            Kind::Shared => holders().sharing -= 1,
            Kind::Alone => holders().alone = false,
        }
        CHANGED.notify_all();
    }
}
