//! Reopening `/dev/tty` as the terminal itself, before a CRIU dump.
//!
//! CRIU refuses to dump a process holding its controlling terminal open as `/dev/tty` when
//! another process holds the terminal's master ("ctty inheritance detected"). Every interactive
//! dash (Debian's `/bin/sh`) in a terminal emulator does, for job control, and so do programs
//! asking for a password. The same terminal opened as `/dev/pts/N` is a file CRIU dumps and
//! restores, and it behaves alike for its process. So before a dump, Porthole has each such
//! process open its terminal by that name, check that it is its controlling terminal, and put it
//! in place of the `/dev/tty` file: `openat`, `ioctl(TIOCGSID)`, `dup3` and `close`, run in the
//! process through ptrace while it waits in a system call, which it then goes on with.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// `/dev/tty`'s device number (major 5, minor 0).
const DEV_TTY: u64 = 5 << 8;

/// The majors of pseudo-terminal slaves (`/dev/pts/N`).
const PTS_MAJORS: std::ops::RangeInclusive<u64> = 136..=143;

/// The container's processes holding `/dev/tty` open, with those descriptors.
fn holders(processes: &[u32]) -> BTreeMap<u32, Vec<i32>> {
    let mut found = BTreeMap::new();
    for &pid in processes {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let tty_fds: Vec<i32> = fds
            .flatten()
            .filter(|fd| std::fs::metadata(fd.path()).is_ok_and(|m| m.rdev() == DEV_TTY))
            .filter_map(|fd| fd.file_name().to_str()?.parse().ok())
            .collect();
        if !tty_fds.is_empty() {
            found.insert(pid, tty_fds);
        }
    }
    found
}

/// The `/dev/pts` name of process `pid`'s controlling terminal.
fn terminal_name(pid: u32) -> Result<String, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read its state: {e}"))?;
    // pid (comm) state ppid pgrp session tty_nr ...: comm may hold spaces and parentheses.
    let tty_nr: u64 = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(4)?.parse().ok())
        .ok_or("its state is unreadable")?;
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    if !PTS_MAJORS.contains(&major) {
        return Err("its terminal is not a pseudo-terminal".into());
    }
    Ok(format!(
        "/dev/pts/{}",
        (major - PTS_MAJORS.start()) * 256 + minor
    ))
}

/// The flags descriptor `fd` of process `pid` was opened with.
fn open_flags(pid: u32, fd: i32) -> Result<u64, String> {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
        .map_err(|e| format!("cannot read its descriptor {fd}: {e}"))?;
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u64::from_str_radix(f.trim(), 8).ok())
        .ok_or_else(|| format!("descriptor {fd} has no flags"))
}

/// Has every process of `processes` holding `/dev/tty` hold its terminal as `/dev/pts/N`
/// instead. Returns those it could not move, with the reason.
pub fn reopen(processes: &[u32]) -> BTreeMap<u32, String> {
    let mut failed = BTreeMap::new();
    for (pid, fds) in holders(processes) {
        let moved = terminal_name(pid).and_then(|name| {
            let flags = fds
                .iter()
                .map(|&fd| Ok((fd, open_flags(pid, fd)?)))
                .collect::<Result<Vec<_>, String>>()?;
            inject::reopen(pid, &name, &flags)?;
            Ok(name)
        });
        match moved {
            Ok(name) => tracing::info!(pid, ?fds, terminal = name, "reopened /dev/tty"),
            Err(why) => {
                tracing::warn!(pid, why, "cannot reopen /dev/tty");
                failed.insert(pid, why);
            }
        }
    }
    failed
}

#[cfg(target_arch = "x86_64")]
mod inject {
    use nix::errno::Errno;
    use nix::libc::user_regs_struct;
    use nix::sys::ptrace;
    use nix::sys::signal::Signal;
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    use nix::unistd::Pid;

    const SYS_CLOSE: u64 = 3;
    const SYS_IOCTL: u64 = 16;
    const SYS_RESTART_SYSCALL: u64 = 219;
    const SYS_OPENAT: u64 = 257;
    const SYS_DUP3: u64 = 292;
    const AT_FDCWD: i64 = -100;
    const TIOCGSID: u64 = 0x5429;
    const O_NOCTTY: u64 = 0o400;
    const O_CLOEXEC: u64 = 0o2000000;
    /// `syscall`, as it lies in memory.
    const SYSCALL: u16 = 0x050f;
    /// How far below the stack pointer the path goes: past the 128-byte red zone, in stack a
    /// signal handler could use as well.
    const SCRATCH_BELOW: u64 = 512;

    /// A process attached with ptrace; detached on drop, with the signals that came meanwhile
    /// sent again.
    struct Attached {
        pid: Pid,
        signals: Vec<Signal>,
    }

    impl Drop for Attached {
        fn drop(&mut self) {
            let _ = ptrace::detach(self.pid, None);
            for signal in self.signals.drain(..) {
                let _ = nix::sys::signal::kill(self.pid, signal);
            }
        }
    }

    impl Attached {
        /// Waits for the next stop; the process ending is an error.
        fn wait(&mut self) -> Result<WaitStatus, String> {
            loop {
                match waitpid(self.pid, Some(WaitPidFlag::__WALL)) {
                    Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => {
                        return Err("it ended meanwhile".into())
                    }
                    Ok(status) => return Ok(status),
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(format!("cannot wait for it: {e}")),
                }
            }
        }

        /// Runs system call `nr` with `args` at `at`, a `syscall` instruction, from `base`.
        fn call(
            &mut self,
            base: &user_regs_struct,
            at: u64,
            nr: u64,
            args: [u64; 4],
        ) -> Result<i64, String> {
            let regs = user_regs_struct {
                rax: nr,
                // Not in a system call: the kernel restarts none on resuming.
                orig_rax: u64::MAX,
                rdi: args[0],
                rsi: args[1],
                rdx: args[2],
                r10: args[3],
                rip: at,
                ..*base
            };
            let fail = |e: Errno| format!("ptrace failed: {e}");
            ptrace::setregs(self.pid, regs).map_err(fail)?;
            loop {
                ptrace::step(self.pid, None).map_err(fail)?;
                let status = self.wait()?;
                let rip = ptrace::getregs(self.pid).map_err(fail)?.rip;
                if let WaitStatus::Stopped(_, signal) = status {
                    if signal != Signal::SIGTRAP {
                        self.signals.push(signal);
                    }
                }
                if rip == at + 2 {
                    break;
                }
                if rip != at {
                    return Err(format!("it went astray (at {rip:#x}, not {:#x})", at + 2));
                }
            }
            Ok(ptrace::getregs(self.pid).map_err(fail)?.rax as i64)
        }
    }

    /// Writes `bytes` into process memory at `addr`, a word at a time.
    fn poke(pid: Pid, addr: u64, bytes: &[u8]) -> Result<(), String> {
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            let at = addr + 8 * i as u64;
            ptrace::write(pid, at as _, i64::from_ne_bytes(word))
                .map_err(|e| format!("cannot write its stack: {e}"))?;
        }
        Ok(())
    }

    /// In process `pid`, opens `name` and puts it in place of each of `fds` (with the flags
    /// each was opened with).
    pub fn reopen(pid: u32, name: &str, fds: &[(i32, u64)]) -> Result<(), String> {
        let pid = Pid::from_raw(pid as i32);
        let fail = |e: Errno| format!("ptrace failed: {e}");
        ptrace::seize(pid, ptrace::Options::empty()).map_err(fail)?;
        let mut attached = Attached {
            pid,
            signals: Vec::new(),
        };
        ptrace::interrupt(pid).map_err(fail)?;
        loop {
            match attached.wait()? {
                WaitStatus::PtraceEvent(..) => break,
                // A signal came first; it is sent again at the end.
                WaitStatus::Stopped(_, signal) => {
                    attached.signals.push(signal);
                    ptrace::cont(pid, None).map_err(fail)?;
                }
                _ => {}
            }
        }
        let saved = ptrace::getregs(pid).map_err(fail)?;
        // Waiting in a system call, the process stands just past its `syscall` instruction.
        let at = saved.rip.wrapping_sub(2);
        let in_call = (saved.orig_rax as i64) >= 0
            && ptrace::read(pid, at as _).is_ok_and(|w| w as u16 == SYSCALL);
        if !in_call {
            return Err("it is running, not waiting in a system call".into());
        }
        // Going on as the kernel would: an interrupted call that restarts is made again.
        let mut resume = saved;
        match -(saved.rax as i64) {
            512..=514 => {
                resume.rax = saved.orig_rax;
                resume.rip = at;
            }
            516 => {
                resume.rax = SYS_RESTART_SYSCALL;
                resume.rip = at;
            }
            _ => {}
        }
        let scratch = (saved.rsp - SCRATCH_BELOW) & !15;
        let path = scratch + 16;
        poke(pid, path, format!("{name}\0").as_bytes())?;
        let result = (|| {
            for &(fd, flags) in fds {
                let opened = attached.call(
                    &saved,
                    at,
                    SYS_OPENAT,
                    [AT_FDCWD as u64, path, (flags & !O_CLOEXEC) | O_NOCTTY, 0],
                )?;
                if opened < 0 {
                    return Err(format!(
                        "it cannot open {name}: {}",
                        Errno::from_raw(-opened as i32)
                    ));
                }
                let opened = opened as u64;
                let sid = attached.call(&saved, at, SYS_IOCTL, [opened, TIOCGSID, scratch, 0])?;
                if sid != 0 {
                    attached.call(&saved, at, SYS_CLOSE, [opened, 0, 0, 0])?;
                    return Err(format!("{name} is not its controlling terminal"));
                }
                let placed = attached.call(
                    &saved,
                    at,
                    SYS_DUP3,
                    [opened, fd as u64, flags & O_CLOEXEC, 0],
                )?;
                attached.call(&saved, at, SYS_CLOSE, [opened, 0, 0, 0])?;
                if placed != i64::from(fd) {
                    return Err(format!(
                        "it cannot put {name} in place of descriptor {fd}: {}",
                        Errno::from_raw(-placed as i32)
                    ));
                }
            }
            Ok(())
        })();
        ptrace::setregs(pid, resume).map_err(fail)?;
        result
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod inject {
    pub fn reopen(_pid: u32, _name: &str, _fds: &[(i32, u64)]) -> Result<(), String> {
        Err("Porthole reopens it on x86-64 only".into())
    }
}
