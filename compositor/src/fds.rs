//! File descriptors: the compositor's own limit raised as far as it may go, a reserve for the
//! control socket, and who may connect while fds run short.
//!
//! Every client can make the compositor hold fds: up to 1,024 that rode along with its messages
//! (libwayland's queue, which it caps), one per wl_shm pool (the container's `shm_pools`
//! limit), and its socket. So a container with many clients can fill the table, and once it is
//! full nobody connects and `accept` fails in a loop. Three things stop that:
//!
//! - at start the soft RLIMIT_NOFILE goes up to the hard limit (children get the old one back:
//!   programs built on `select` break past 1,024);
//! - while a new client could leave fewer than [`Budget::reserve`] fds free, a container is
//!   refused new clients unless its clients, the new one included, could not hold even half
//!   of the fds in use: honest containers (a few fds per client) get in, the one filling the
//!   table does not. A container that connects its clients first and fills them afterwards can
//!   still take up to `clients` x 1,026 + `shm_pools` fds: its `clients` limit bounds that;
//! - the control socket's thread keeps spare fds open on `/dev/null` and lets one go to accept
//!   a connection when the table is full, so `porthole container remove` always gets through.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use tracing::{info, warn};

/// The most fds one client can make the compositor hold besides its pools: libwayland's queue
/// of received fds (4 KiB of them), its socket and Porthole's second handle on it.
pub const PER_CLIENT: u64 = 1024 + 2;

/// The soft limit the compositor started with, which children get back.
static ORIGINAL_SOFT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
pub fn raise_limit() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    let _ = ORIGINAL_SOFT.set(limit.current);
    let Some(hard) = limit.maximum else {
        return limit.current.unwrap_or(u64::MAX);
    };
    if limit.current == Some(hard) {
        return hard;
    }
    let raised = Rlimit {
        current: Some(hard),
        maximum: Some(hard),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            info!(from = ?limit.current, to = hard, "raised the open file limit");
            hard
        }
        Err(err) => {
            warn!(%err, "cannot raise the open file limit");
            limit.current.unwrap_or(hard)
        }
    }
}

/// The soft limit on open fds now.
pub fn soft_limit() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Gives a child about to exec the soft limit the compositor started with. Only calls
/// `setrlimit`, so it is safe between fork and exec.
pub fn restore_limit_in_child() -> std::io::Result<()> {
    if let Some(Some(soft)) = ORIGINAL_SOFT.get() {
        let limit = getrlimit(Resource::Nofile);
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(*soft),
                maximum: limit.maximum,
            },
        );
    }
    Ok(())
}

/// How many fds the process has open now.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as u64)
}

/// The compositor's fds: its limit, what is in use (counted at most every 100 ms), and the
/// reserve kept for honest containers.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    in_use: u64,
    counted: Option<Instant>,
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

impl Budget {
    /// A budget under the process's soft limit on open fds.
    pub fn new() -> Self {
        Self {
            limit: soft_limit(),
            in_use: 0,
            counted: None,
        }
    }

    /// Free fds below which containers that could be filling the table are refused: an eighth of
    /// the limit, at least 256.
    pub fn reserve(&self) -> u64 {
        (self.limit / 8).max(256)
    }

    /// Counts the fds in use, and reads the limit again (`prlimit` may have changed it), unless
    /// that was done in the last 100 ms.
    fn refresh(&mut self) {
        if self
            .counted
            .is_none_or(|at| at.elapsed() > Duration::from_millis(100))
        {
            self.in_use = open_fds();
            self.limit = soft_limit();
            self.counted = Some(Instant::now());
        }
    }

    /// Whether a container whose clients hold at most `could_hold` fds may connect one more,
    /// which could come to hold [`PER_CLIENT`]; if not, why.
    pub fn admit(&mut self, could_hold: u64) -> Result<(), String> {
        self.refresh();
        let in_use = self.in_use;
        let free = self.limit.saturating_sub(in_use);
        // The new client may come to hold PER_CLIENT fds itself.
        if free >= self.reserve() + PER_CLIENT || could_hold + PER_CLIENT < in_use / 2 {
            // Until the next count, the new client is taken to hold all it may: clients that
            // connect in a burst are not all let in on one count.
            self.in_use += PER_CLIENT;
            return Ok(());
        }
        Err(format!(
            "the compositor has {free} of {} file descriptors free, fewer than its reserve of {}, \
             and this container's clients could hold {could_hold} of the {in_use} in use",
            self.limit,
            self.reserve()
        ))
    }
}

/// Spare fds held open on `/dev/null`, let go one at a time when the table is full so that a
/// connection can still be accepted.
pub struct Spares {
    held: Vec<OwnedFd>,
    want: usize,
}

impl Spares {
    /// Holds `want` spares (as many as can be opened).
    pub fn new(want: usize) -> Self {
        let mut spares = Self {
            held: Vec::new(),
            want,
        };
        spares.refill();
        spares
    }

    fn refill(&mut self) {
        while self.held.len() < self.want {
            match std::fs::File::open("/dev/null") {
                Ok(file) => self.held.push(file.into()),
                Err(_) => break,
            }
        }
    }

    /// Runs `f` with one spare let go, if any is left; takes spares back afterwards.
    pub fn with_one_freed<T>(&mut self, f: impl FnOnce() -> T) -> T {
        drop(self.held.pop());
        let result = f();
        self.refill();
        result
    }
}

/// Whether an accept failed because the process or the system is out of fds.
pub fn out_of_fds(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(code) if code == rustix::io::Errno::MFILE.raw_os_error()
            || code == rustix::io::Errno::NFILE.raw_os_error()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_of_fds_only_containers_that_could_not_be_filling_the_table_connect() {
        let mut budget = Budget::new();
        budget.limit = 8192;
        budget.counted = Some(Instant::now());
        assert_eq!(budget.reserve(), 1024);
        budget.in_use = 5000;
        assert!(
            budget.admit(100 * PER_CLIENT).is_ok(),
            "plenty free: anyone"
        );
        assert_eq!(
            budget.in_use,
            5000 + PER_CLIENT,
            "counted as holding all it may"
        );
        budget.in_use = 7000;
        assert!(budget.admit(0).is_ok(), "a container with no client yet");
        budget.in_use = 7000;
        assert!(budget.admit(PER_CLIENT).is_ok(), "one with a client");
        budget.in_use = 7000;
        let refused = budget.admit(3 * PER_CLIENT).unwrap_err();
        assert!(refused.contains("1192 of 8192"), "{refused}");
    }
}
