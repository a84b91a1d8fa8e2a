//! Terminals across a checkpoint: an interactive dash holding its terminal as `/dev/tty`, which
//! Porthole reopens as the terminal itself for CRIU, runs commands after the restore with job
//! control intact; a process it cannot reopen for is named.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::common::*;

/// Starts container `name` checkpointable with weston-simple-shm and an interactive dash
/// (Debian's `sh`) on a new terminal, as in a terminal emulator: Python's `pty` holds the other
/// end, copies what the shell writes to `/tmp/out` and types what the test leaves in `/tmp/cmd`.
/// Returns the bridge's pid.
fn start_with_shell(c: &Compositor, name: &str) -> u32 {
    let pid = run_checkpointable(
        c,
        name,
        r#"weston-simple-shm &
python3 -c 'import os, pty, select
child, master = pty.fork()
if child == 0:
    os.execvp("dash", ["sh", "-i"])
out = open("/tmp/out", "ab", buffering=0)
while True:
    if select.select([master], [], [], 0.05)[0]:
        out.write(os.read(master, 4096))
    try:
        typed = open("/tmp/cmd", "rb").read()
        os.unlink("/tmp/cmd")
        os.write(master, typed)
    except FileNotFoundError:
        pass' &
wait"#,
    );
    titled(c, name, "simple-shm");
    pid
}

/// Types `line` into the shell of [`start_with_shell`] and waits for `expected` in what it wrote.
fn type_into_shell(pid: u32, line: &str, expected: &str) {
    let cmd = format!("/proc/{pid}/root/tmp/cmd");
    poll(START_TIMEOUT, "the shell's last line to be typed", || {
        (!Path::new(&cmd).exists())
            .then_some(())
            .ok_or("not yet".to_string())
    });
    // The shell's terminal, the sandbox's user, removes what it typed: the line is that user's.
    let typed = format!("{cmd}.new");
    std::fs::write(&typed, format!("{line}\n")).expect("typing into the shell");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the bridge");
    let id = |key: &str| -> u32 {
        let line = status.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    std::os::unix::fs::chown(&typed, Some(id("Uid:")), Some(id("Gid:"))).unwrap();
    std::fs::rename(&typed, &cmd).expect("typing into the shell");
    poll(START_TIMEOUT, &format!("`{expected}` in the shell"), || {
        let out = read_inside(pid, "/tmp/out")?;
        out.contains(expected).then_some(()).ok_or(out)
    });
}

/// The pids of the container's processes, with their names.
fn processes(pid: u32) -> Vec<(i32, String)> {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).expect("the container's pid ns");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("ns/pid")).is_ok_and(|n| n == ns))
        .filter_map(|p| {
            let pid = p.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(p.path().join("comm")).ok()?;
            Some((pid, comm.trim().to_string()))
        })
        .collect()
}

/// The names of the container's processes holding `/dev/tty` open.
fn dev_tty_holders(pid: u32) -> Vec<String> {
    let mut holders: Vec<String> = processes(pid)
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|t| t == Path::new("/dev/tty"))
                })
            })
        })
        .map(|(_, comm)| comm)
        .collect();
    holders.sort();
    holders
}

#[test]
fn a_shell_holding_its_terminal_as_dev_tty_is_checkpointed_and_runs_commands_after() {
    let c = Compositor::start(1280, 800);
    // An interactive dash keeps its terminal open as /dev/tty for job control, and so does the
    // program it runs here: CRIU refuses to dump either until Porthole has reopened it as the
    // terminal itself.
    let pid = start_with_shell(&c, "ckt");
    let _sandbox = Sandbox::new(pid);
    type_into_shell(pid, "echo ready-$((6*7))", "ready-42");
    type_into_shell(pid, "echo running; sleep 3600 3</dev/tty", "running\r\n");
    poll(START_TIMEOUT, "sleep to hold /dev/tty", || {
        let holders = dev_tty_holders(pid);
        (holders == ["dash", "sleep"])
            .then_some(())
            .ok_or(format!("{holders:?}"))
    });
    let out = checkpoint(&c, "ckt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("reopened /dev/tty").count(),
        2,
        "Porthole reopens the terminal of dash and sleep: {stderr}"
    );
    poll(Duration::from_secs(5), "CRIU to stop the container", || {
        gone(pid)
    });
    restore(&c, "ckt");
    let pid = bridge_pid(&c, "ckt");
    let _restored = Sandbox::new(pid);
    titled(&c, "ckt", "simple-shm");

    // The shell waited for sleep across the restore; once it ends, the shell takes the terminal
    // back (job control on the reopened terminal) and runs the next command.
    let (sleep, _) = processes(pid)
        .into_iter()
        .find(|(_, comm)| comm == "sleep")
        .expect("sleep runs on after the restore");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(sleep).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    type_into_shell(pid, "sleep 0.1; echo after-$((6*7))", "after-42");
    let out = read_inside(pid, "/tmp/out").unwrap();
    assert!(
        !out.contains("process group") && !out.contains("can't access tty"),
        "job control broke: {out}"
    );

    // A process holding /dev/tty while it runs, not waiting in a system call, cannot be moved:
    // the checkpoint names it, and the container runs on.
    let pid = start_with_shell(&c, "ckh");
    let _sandbox = Sandbox::new(pid);
    type_into_shell(
        pid,
        "echo spinning; exec python3 -c 'while True: pass' 3</dev/tty",
        "spinning\r\n",
    );
    poll(START_TIMEOUT, "python3 to hold /dev/tty", || {
        let holders = dev_tty_holders(pid);
        (holders == ["python3"])
            .then_some(())
            .ok_or(format!("{holders:?}"))
    });
    let out = checkpoint(&c, "ckh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the checkpoint must fail");
    assert!(
        stderr.contains(
            "(python3) holds its terminal open as /dev/tty, which CRIU cannot dump, and Porthole \
             could not reopen it as the terminal itself (it is running, not waiting in a system \
             call); try again, or close that program"
        ),
        "{stderr}"
    );
    assert!(gone(pid).is_err(), "the container still runs");
    assert_eq!(dev_tty_holders(pid), ["python3"]);
    titled(&c, "ckh", "simple-shm");
}
