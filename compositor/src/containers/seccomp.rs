//! The system calls a sandbox of `porthole run` may not make, in the manner of Flatpak's filter:
//! what reaches into the kernel's or the host's business (mounts, namespaces, modules, keyrings,
//! clocks, tracing, profiling) is refused, everything else is allowed.
//!
//! The filters are compiled to classic BPF with `seccompiler` (rust-vmm, Firecracker) and handed
//! to bwrap, which installs them last before it starts the sandbox's first program, so that they
//! hold for every process of the sandbox. Each filter returns one error, so there are a few:
//! `EPERM` for what is refused, `ENOSYS` for what a C library must see as missing to fall back
//! (`clone3` to `clone`, whose flags a filter can read), `EAFNOSUPPORT` for socket families.
//!
//! CRIU dumps a checkpointable sandbox's filters with its tasks and installs them again on
//! restore; its own work in the tasks runs with them suspended.

use std::collections::BTreeMap;
use std::io::{Seek as _, Write as _};
use std::os::fd::OwnedFd;

use anyhow::Context as _;
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

/// System calls refused with `EPERM` whatever their arguments, and why.
const REFUSED: &[(&str, i64, &str)] = &[
    // File systems and namespaces: the sandbox's view is bwrap's.
    ("mount", libc::SYS_mount, "mounts"),
    ("umount2", libc::SYS_umount2, "mounts"),
    ("pivot_root", libc::SYS_pivot_root, "mounts"),
    ("chroot", libc::SYS_chroot, "mounts"),
    ("unshare", libc::SYS_unshare, "new namespaces"),
    ("setns", libc::SYS_setns, "other namespaces"),
    (
        "open_by_handle_at",
        libc::SYS_open_by_handle_at,
        "files by handle",
    ),
    // The kernel itself.
    ("kexec_load", libc::SYS_kexec_load, "the kernel"),
    ("kexec_file_load", libc::SYS_kexec_file_load, "the kernel"),
    ("init_module", libc::SYS_init_module, "kernel modules"),
    ("finit_module", libc::SYS_finit_module, "kernel modules"),
    ("delete_module", libc::SYS_delete_module, "kernel modules"),
    ("reboot", libc::SYS_reboot, "the machine"),
    ("swapon", libc::SYS_swapon, "the machine"),
    ("swapoff", libc::SYS_swapoff, "the machine"),
    ("acct", libc::SYS_acct, "process accounting"),
    ("syslog", libc::SYS_syslog, "the kernel log"),
    ("quotactl", libc::SYS_quotactl, "disk quotas"),
    ("quotactl_fd", libc::SYS_quotactl_fd, "disk quotas"),
    ("vhangup", libc::SYS_vhangup, "terminals"),
    ("bpf", libc::SYS_bpf, "BPF programs"),
    ("userfaultfd", libc::SYS_userfaultfd, "page-fault handling"),
    ("perf_event_open", libc::SYS_perf_event_open, "profiling"),
    // Clocks are the machine's.
    ("settimeofday", libc::SYS_settimeofday, "the clock"),
    ("clock_settime", libc::SYS_clock_settime, "the clock"),
    ("clock_adjtime", libc::SYS_clock_adjtime, "the clock"),
    ("adjtimex", libc::SYS_adjtimex, "the clock"),
    // Keyrings hold other programs' secrets.
    ("add_key", libc::SYS_add_key, "keyrings"),
    ("keyctl", libc::SYS_keyctl, "keyrings"),
    ("request_key", libc::SYS_request_key, "keyrings"),
    // Other processes' memory and descriptors.
    ("ptrace", libc::SYS_ptrace, "tracing"),
    ("process_vm_readv", libc::SYS_process_vm_readv, "tracing"),
    ("process_vm_writev", libc::SYS_process_vm_writev, "tracing"),
    ("pidfd_getfd", libc::SYS_pidfd_getfd, "tracing"),
    // Memory placement across the machine's NUMA nodes.
    ("move_pages", libc::SYS_move_pages, "NUMA"),
    ("mbind", libc::SYS_mbind, "NUMA"),
    ("get_mempolicy", libc::SYS_get_mempolicy, "NUMA"),
    ("set_mempolicy", libc::SYS_set_mempolicy, "NUMA"),
    ("migrate_pages", libc::SYS_migrate_pages, "NUMA"),
    #[cfg(target_arch = "x86_64")]
    ("modify_ldt", libc::SYS_modify_ldt, "x86 segments"),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl, "I/O ports"),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm, "I/O ports"),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib, "obsolete"),
];

/// System calls that answer `ENOSYS`, as on a kernel without them, so that programs fall back.
const MISSING: &[(&str, i64, &str)] = &[
    // A filter cannot read clone3's flags (CLONE_NEWUSER); glibc falls back to clone.
    ("clone3", libc::SYS_clone3, "new namespaces"),
    // The new mount API.
    ("open_tree", libc::SYS_open_tree, "mounts"),
    ("move_mount", libc::SYS_move_mount, "mounts"),
    ("fsopen", libc::SYS_fsopen, "mounts"),
    ("fsconfig", libc::SYS_fsconfig, "mounts"),
    ("fsmount", libc::SYS_fsmount, "mounts"),
    ("fspick", libc::SYS_fspick, "mounts"),
    ("mount_setattr", libc::SYS_mount_setattr, "mounts"),
    // A large and often exploited kernel interface; liburing's users fall back to read/write.
    ("io_uring_setup", libc::SYS_io_uring_setup, "io_uring"),
    ("io_uring_enter", libc::SYS_io_uring_enter, "io_uring"),
    ("io_uring_register", libc::SYS_io_uring_register, "io_uring"),
];

/// The ioctls that type into a terminal as if from its keyboard, and its Linux-console cousin
/// (asm-generic numbers, those of every architecture seccompiler targets).
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541c;

/// The personalities a process may switch to: Linux, 32-bit Linux, and the query.
const PERSONALITIES: [u64; 3] = [0, 0x0008, 0xffff_ffff];

/// Socket families a sandbox may open: unspecified, local, IPv4, IPv6 and netlink.
const SOCKET_FAMILIES: [u64; 5] = [
    libc::AF_UNSPEC as u64,
    libc::AF_UNIX as u64,
    libc::AF_INET as u64,
    libc::AF_INET6 as u64,
    libc::AF_NETLINK as u64,
];

/// The x32 ABI's system calls carry this bit; a filter keyed on x86-64 numbers would miss them.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Every system call the filters refuse, by name, for the README and the tests.
pub fn refused_names() -> impl Iterator<Item = &'static str> {
    REFUSED.iter().chain(MISSING).map(|(name, _, _)| *name)
}

fn condition(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("argument index below 6")
}

fn rule(conditions: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(conditions).expect("a rule with conditions")
}

fn arch() -> anyhow::Result<TargetArch> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|_| {
        anyhow::anyhow!(
            "Porthole has no seccomp filter for {} (only x86_64, aarch64 and riscv64); it will \
             not start a sandbox without one",
            std::env::consts::ARCH
        )
    })
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    errno: i32,
    arch: TargetArch,
) -> anyhow::Result<BpfProgram> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch,
    )
    .context("building a seccomp filter")?;
    BpfProgram::try_from(filter).context("compiling a seccomp filter")
}

/// The `EPERM` filter: [`REFUSED`], user namespaces through `clone`, personalities other than
/// [`PERSONALITIES`], and the ioctls that type into a terminal (TIOCSTI, TIOCLINUX).
fn refusals(arch: TargetArch) -> anyhow::Result<BpfProgram> {
    use SeccompCmpArgLen::{Dword, Qword};
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        REFUSED.iter().map(|(_, nr, _)| (*nr, Vec::new())).collect();
    // clone's flags are its first argument on x86-64, aarch64 and riscv64.
    let newuser = libc::CLONE_NEWUSER as u64;
    rules.insert(
        libc::SYS_clone,
        vec![rule(vec![condition(
            0,
            Qword,
            SeccompCmpOp::MaskedEq(newuser),
            newuser,
        )])],
    );
    let odd_personality = PERSONALITIES
        .iter()
        .map(|p| condition(0, Dword, SeccompCmpOp::Ne, *p))
        .collect();
    rules.insert(libc::SYS_personality, vec![rule(odd_personality)]);
    let ioctl = |request: u64| rule(vec![condition(1, Dword, SeccompCmpOp::Eq, request)]);
    rules.insert(libc::SYS_ioctl, vec![ioctl(TIOCSTI), ioctl(TIOCLINUX)]);
    compile(rules, libc::EPERM, arch)
}

/// The `ENOSYS` filter: [`MISSING`].
fn missing(arch: TargetArch) -> anyhow::Result<BpfProgram> {
    let rules = MISSING.iter().map(|(_, nr, _)| (*nr, Vec::new())).collect();
    compile(rules, libc::ENOSYS, arch)
}

/// The `EAFNOSUPPORT` filter: sockets of families other than [`SOCKET_FAMILIES`].
fn socket_families(arch: TargetArch) -> anyhow::Result<BpfProgram> {
    use SeccompCmpArgLen::Dword;
    let outside = SOCKET_FAMILIES
        .iter()
        .map(|f| condition(0, Dword, SeccompCmpOp::Ne, *f))
        .collect();
    let rules = BTreeMap::from([(libc::SYS_socket, vec![rule(outside)])]);
    compile(rules, libc::EAFNOSUPPORT, arch)
}

/// On x86-64, refuses the x32 ABI (`ENOSYS`, as a kernel built without it): its numbers carry
/// [`X32_SYSCALL_BIT`] and would slip past the other filters. seccompiler keys rules on exact
/// numbers, so this one short program is written out.
#[cfg(target_arch = "x86_64")]
fn no_x32() -> BpfProgram {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    const NR: u32 = 0; // offsetof(struct seccomp_data, nr)
    const ARCH: u32 = 4; // offsetof(struct seccomp_data, arch)
    let op = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    vec![
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, ARCH),
        // Another architecture: the other filters' business.
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, AUDIT_ARCH_X86_64),
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, NR),
        op(BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_SYSCALL_BIT),
        op(
            BPF_RET | BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        ),
        op(BPF_RET | BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

/// Every filter of a sandbox, compiled.
pub fn programs() -> anyhow::Result<Vec<BpfProgram>> {
    let arch = arch()?;
    #[allow(unused_mut)]
    let mut programs = vec![refusals(arch)?, missing(arch)?, socket_families(arch)?];
    #[cfg(target_arch = "x86_64")]
    programs.push(no_x32());
    Ok(programs)
}

/// A program as the kernel (and bwrap, which reads it whole from a descriptor) takes it.
fn bytes(program: &[sock_filter]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() * 8);
    for op in program {
        out.extend_from_slice(&op.code.to_ne_bytes());
        out.push(op.jt);
        out.push(op.jf);
        out.extend_from_slice(&op.k.to_ne_bytes());
    }
    out
}

/// Every filter, each in a memory file at its start, for `bwrap --add-seccomp-fd`. They are
/// close-on-exec: the caller clears that in the child that executes bwrap, which closes them once
/// read.
pub fn memfds() -> anyhow::Result<Vec<OwnedFd>> {
    programs()?
        .iter()
        .map(|program| {
            let fd = rustix::fs::memfd_create("porthole-seccomp", rustix::fs::MemfdFlags::CLOEXEC)
                .context("creating a memory file for the seccomp filter")?;
            let mut file = std::fs::File::from(fd);
            file.write_all(&bytes(program))?;
            file.rewind()?;
            Ok(OwnedFd::from(file))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `probe` in a child process under every filter and returns its exit code.
    fn under_filters(probe: fn() -> i32) -> i32 {
        let programs = programs().unwrap();
        let progs: Vec<libc::sock_fprog> = programs
            .iter()
            .map(|p| libc::sock_fprog {
                len: p.len() as u16,
                filter: p.as_ptr() as *mut libc::sock_filter,
            })
            .collect();
        // SAFETY: the child makes system calls only, then exits without returning.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    libc::_exit(100);
                }
                for prog in &progs {
                    if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, prog) != 0 {
                        libc::_exit(101);
                    }
                }
                libc::_exit(probe());
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert!(libc::WIFEXITED(status), "the probe died: {status:#x}");
            libc::WEXITSTATUS(status)
        }
    }

    fn errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    #[test]
    fn refused_calls_fail_with_their_errors_and_others_work() {
        // Each probe exits 0 when the call failed with the expected error.
        fn mount() -> i32 {
            let r = unsafe {
                libc::syscall(
                    libc::SYS_mount,
                    c"none".as_ptr(),
                    c"/nonexistent-porthole".as_ptr(),
                    c"proc".as_ptr(),
                    0,
                    0,
                )
            };
            (r == 0 || errno() != libc::EPERM) as i32
        }
        fn clone3() -> i32 {
            let r = unsafe { libc::syscall(libc::SYS_clone3, 0, 0) };
            (r == 0 || errno() != libc::ENOSYS) as i32
        }
        fn new_user_namespace() -> i32 {
            let r = unsafe {
                libc::syscall(
                    libc::SYS_clone,
                    libc::CLONE_NEWUSER | libc::SIGCHLD,
                    0,
                    0,
                    0,
                    0,
                )
            };
            (r >= 0 || errno() != libc::EPERM) as i32
        }
        fn packet_socket() -> i32 {
            let r = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
            (r >= 0 || errno() != libc::EAFNOSUPPORT) as i32
        }
        fn odd_personality() -> i32 {
            let r = unsafe { libc::personality(0x0040_0000) }; // READ_IMPLIES_EXEC
            (r >= 0 || errno() != libc::EPERM) as i32
        }
        fn ptrace() -> i32 {
            let r = unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) };
            (r == 0 || errno() != libc::EPERM) as i32
        }
        fn ordinary_calls() -> i32 {
            let unix = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
            let query = unsafe { libc::personality(0xffff_ffff) };
            let pid = unsafe { libc::syscall(libc::SYS_getpid) };
            let forked = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
            if forked == 0 {
                unsafe { libc::_exit(0) };
            }
            (unix < 0 || query < 0 || pid <= 0 || forked < 0) as i32
        }
        for (name, probe) in [
            ("mount", mount as fn() -> i32),
            ("clone3", clone3),
            ("clone(CLONE_NEWUSER)", new_user_namespace),
            ("socket(AF_PACKET)", packet_socket),
            ("personality(READ_IMPLIES_EXEC)", odd_personality),
            ("ptrace", ptrace),
            ("ordinary calls", ordinary_calls),
        ] {
            assert_eq!(under_filters(probe), 0, "{name} under the filters");
        }
    }

    #[test]
    fn the_readme_lists_every_refused_call() {
        let readme = include_str!("../../../README.md");
        let missing: Vec<&str> = refused_names()
            .filter(|name| !readme.contains(&format!("`{name}`")))
            .collect();
        assert!(missing.is_empty(), "README.md does not list {missing:?}");
    }
}
