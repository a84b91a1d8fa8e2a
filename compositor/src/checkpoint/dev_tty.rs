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

use nix::errno::Errno;

/// Why a process's `/dev/tty` could not be reopened as its terminal: said after "Porthole could
/// not reopen it as the terminal itself (…)".
#[derive(Debug, thiserror::Error)]
pub enum ReopenError {
    #[error("cannot read its state: {0}")]
    State(std::io::Error),
    #[error("its state is unreadable")]
    Unreadable,
    #[error("its terminal is not a pseudo-terminal")]
    NotPty,
    #[error("cannot read its descriptor {fd}: {source}")]
    Descriptor { fd: i32, source: std::io::Error },
    #[error("descriptor {0} has no flags")]
    NoFlags(i32),
    #[error("it ended meanwhile")]
    Ended,
    #[error("cannot wait for it: {0}")]
    Wait(Errno),
    #[error("ptrace failed: {0}")]
    Ptrace(Errno),
    #[error("it went astray (at {at:#x}, not {expected:#x})")]
    Astray { at: u64, expected: u64 },
    #[error("cannot write its stack: {0}")]
    Stack(Errno),
    #[error("it is running, not waiting in a system call")]
    Running,
    #[error("it cannot open {name}: {errno}")]
    Open { name: String, errno: Errno },
    #[error("{0} is not its controlling terminal")]
    NotControlling(String),
    #[error("it cannot put {name} in place of descriptor {fd}: {errno}")]
    Place { name: String, fd: i32, errno: Errno },
    #[cfg(not(target_arch = "x86_64"))]
    #[error("Porthole reopens it on x86-64 only")]
    NotX86,
}

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
fn terminal_name(pid: u32) -> Result<String, ReopenError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(ReopenError::State)?;
    // pid (comm) state ppid pgrp session tty_nr ...: comm may hold spaces and parentheses.
    let tty_nr: u64 = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(4)?.parse().ok())
        .ok_or(ReopenError::Unreadable)?;
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    if !PTS_MAJORS.contains(&major) {
        return Err(ReopenError::NotPty);
    }
    Ok(format!(
        "/dev/pts/{}",
        (major - PTS_MAJORS.start()) * 256 + minor
    ))
}

/// The flags descriptor `fd` of process `pid` was opened with.
fn open_flags(pid: u32, fd: i32) -> Result<u64, ReopenError> {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
        .map_err(|source| ReopenError::Descriptor { fd, source })?;
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u64::from_str_radix(f.trim(), 8).ok())
        .ok_or(ReopenError::NoFlags(fd))
}

/// Has every process of `processes` holding `/dev/tty` hold its terminal as `/dev/pts/N`
/// instead. Returns those it could not move, with the reason.
pub fn reopen(processes: &[u32]) -> BTreeMap<u32, ReopenError> {
    let mut failed = BTreeMap::new();
    for (pid, fds) in holders(processes) {
        let moved = terminal_name(pid).and_then(|name| {
            let flags = fds
                .iter()
                .map(|&fd| Ok((fd, open_flags(pid, fd)?)))
                .collect::<Result<Vec<_>, ReopenError>>()?;
            inject::reopen(pid, &name, &flags)?;
            Ok(name)
        });
        match moved {
            Ok(name) => tracing::info!(pid, ?fds, terminal = name, "reopened /dev/tty"),
            Err(why) => {
                tracing::warn!(pid, %why, "cannot reopen /dev/tty");
                failed.insert(pid, why);
            }
        }
    }
    failed
}

#[cfg(target_arch = "x86_64")]
mod inject {
    use crate::checkpoint::dev_tty::ReopenError;
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
        fn wait(&mut self) -> Result<WaitStatus, ReopenError> {
            loop {
                match waitpid(self.pid, Some(WaitPidFlag::__WALL)) {
                    Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => {
                        return Err(ReopenError::Ended)
                    }
                    Ok(status) => return Ok(status),
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(ReopenError::Wait(e)),
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
        ) -> Result<i64, ReopenError> {
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
            let fail = ReopenError::Ptrace;
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
                if rip == at.wrapping_add(2) {
                    break;
                }
                if rip != at {
                    return Err(ReopenError::Astray {
                        at: rip,
                        expected: at.wrapping_add(2),
                    });
                }
            }
            Ok(ptrace::getregs(self.pid).map_err(fail)?.rax as i64)
        }
    }

    /// Writes `bytes` into process memory at `addr`, a word at a time.
    fn poke(pid: Pid, addr: u64, bytes: &[u8]) -> Result<(), ReopenError> {
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            let at = addr.wrapping_add(8 * i as u64);
            ptrace::write(pid, at as _, i64::from_ne_bytes(word)).map_err(ReopenError::Stack)?;
        }
        Ok(())
    }

    /// In process `pid`, opens `name` and puts it in place of each of `fds` (with the flags
    /// each was opened with).
    pub fn reopen(pid: u32, name: &str, fds: &[(i32, u64)]) -> Result<(), ReopenError> {
        let pid = Pid::from_raw(pid as i32);
        let fail = ReopenError::Ptrace;
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
            return Err(ReopenError::Running);
        }
        // Going on as the kernel would: a call interrupted with -ERESTARTSYS, -ERESTARTNOINTR or
        // -ERESTARTNOHAND is made again, one with -ERESTART_RESTARTBLOCK goes on with
        // restart_syscall (a sleep with the time left).
        let mut resume = saved;
        match saved.rax as i64 {
            -514..=-512 => {
                resume.rax = saved.orig_rax;
                resume.rip = at;
            }
            -516 => {
                resume.rax = SYS_RESTART_SYSCALL;
                resume.rip = at;
            }
            _ => {}
        }
        // The stack pointer is the process's own: no arithmetic on it may overflow.
        let scratch = saved.rsp.wrapping_sub(SCRATCH_BELOW) & !15;
        let path = scratch.wrapping_add(16);
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
                    return Err(ReopenError::Open {
                        name: name.to_string(),
                        errno: Errno::from_raw(opened.wrapping_neg() as i32),
                    });
                }
                let opened = opened as u64;
                let sid = attached.call(&saved, at, SYS_IOCTL, [opened, TIOCGSID, scratch, 0])?;
                if sid != 0 {
                    attached.call(&saved, at, SYS_CLOSE, [opened, 0, 0, 0])?;
                    return Err(ReopenError::NotControlling(name.to_string()));
                }
                let placed = attached.call(
                    &saved,
                    at,
                    SYS_DUP3,
                    [opened, fd as u64, flags & O_CLOEXEC, 0],
                )?;
                attached.call(&saved, at, SYS_CLOSE, [opened, 0, 0, 0])?;
                if placed != i64::from(fd) {
                    return Err(ReopenError::Place {
                        name: name.to_string(),
                        fd,
                        errno: Errno::from_raw(placed.wrapping_neg() as i32),
                    });
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
    use crate::checkpoint::dev_tty::ReopenError;
    pub fn reopen(_pid: u32, _name: &str, _fds: &[(i32, u64)]) -> Result<(), ReopenError> {
        Err(ReopenError::NotX86)
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, ChildStdout, Command, Stdio};
    use std::time::{Duration, Instant};

    /// A shell on a new pseudo-terminal, Python's `pty` holding the master: lines written to
    /// Python go to the terminal, and what the terminal shows comes out of Python a line at a
    /// time. The first line is the shell's pid.
    fn shell_on_a_terminal(script: &str) -> (Child, BufReader<ChildStdout>, u32) {
        let mut python = Command::new("python3")
            .args([
                "-c",
                "import os, pty, sys, threading
child, master = pty.fork()
if child == 0:
    os.execvp('sh', ['sh', '-c', sys.argv[1]])
print(child, flush=True)
def typing():
    for line in sys.stdin:
        os.write(master, line.encode())
threading.Thread(target=typing, daemon=True).start()
while True:
    try:
        shown = os.read(master, 4096)
    except OSError:
        break
    sys.stdout.buffer.write(shown)
    sys.stdout.flush()",
                script,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut out = BufReader::new(python.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let pid = line.trim().parse().expect("the shell's pid");
        (python, out, pid)
    }

    /// Waits until process `pid` holds `/dev/tty` as descriptor 3 and waits in a system call.
    fn wait_until_holding(pid: u32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let holds = std::fs::read_link(format!("/proc/{pid}/fd/3"))
                .is_ok_and(|t| t.as_os_str() == "/dev/tty");
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let waiting = state
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'));
            if holds && waiting {
                return;
            }
            assert!(Instant::now() < deadline, "{pid} never held /dev/tty");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn read_until(out: &mut BufReader<ChildStdout>, expected: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the terminal closed before `{expected}`"
            );
            if line.trim_end() == expected {
                return;
            }
        }
    }

    fn child_of(parent: u32, comm: &str) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = std::fs::read_dir("/proc").unwrap().flatten().find_map(|p| {
                let pid: u32 = p.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(p.path().join("stat")).ok()?;
                let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
                let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
                (ppid == parent && name == comm).then_some(pid)
            });
            if let Some(pid) = found {
                return pid;
            }
            assert!(Instant::now() < deadline, "no {comm} under {parent}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn processes_waiting_in_a_system_call_hold_their_terminal_by_name_and_go_on() {
        let (mut python, mut out, shell) = shell_on_a_terminal(
            "exec 3</dev/tty; read line; echo got-$line; sleep 3 3</dev/tty; echo slept",
        );
        let mut stdin = python.stdin.take().unwrap();

        // The shell waits in read(2) on the terminal; it reads the line typed after the move.
        wait_until_holding(shell);
        assert!(super::reopen(&[shell]).is_empty());
        let name = std::fs::read_link(format!("/proc/{shell}/fd/3")).unwrap();
        assert!(name.starts_with("/dev/pts/"), "{name:?}");
        writeln!(stdin, "hello").unwrap();
        read_until(&mut out, "got-hello");

        // sleep waits in clock_nanosleep(2), which restarts with the time left: 2 s after the
        // move at most, not 3 s.
        let sleep = child_of(shell, "sleep");
        wait_until_holding(sleep);
        std::thread::sleep(Duration::from_secs(1));
        let moved = Instant::now();
        assert!(super::reopen(&[sleep]).is_empty());
        assert!(std::fs::read_link(format!("/proc/{sleep}/fd/3"))
            .unwrap()
            .starts_with("/dev/pts/"));
        read_until(&mut out, "slept");
        assert!(
            moved.elapsed() < Duration::from_millis(2700),
            "sleep started over"
        );
        let _ = python.kill();
        let _ = python.wait();
    }
}
