//! Wiring containers to their socket: the bubblewrap sandbox of `porthole run`, and the flags
//! `porthole env` prints for container engines Porthole does not launch.
//!
//! Every engine bind-mounts the container's directory (never the socket file: a compositor
//! restart re-creates the socket's inode) at [`MOUNT_POINT`] and points the client there.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use super::run_as::{RunAs, SETPRIV};
use crate::paths::{CONTAINER_SOCKET, X11_SOCKET_DIR};

/// Where the container's directory appears inside the container.
pub const MOUNT_POINT: &str = "/run/porthole";

/// Where `porthole run` places the X11 bridge inside the sandbox.
pub const BRIDGE_PATH: &str = "/run/porthole-bridge";

/// Where a checkpointable container sees its directory on the host: only its bridge uses it.
pub const HOST_MOUNT_POINT: &str = "/run/porthole-host";

/// Where the output of a checkpointable container's bridge and command goes, inside the
/// container (a file from outside would stop CRIU from dumping it).
pub const CHECKPOINTABLE_LOG: &str = "/tmp/porthole-run.log";

/// How `porthole run` sandboxes a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sandbox {
    /// Clients reach the container's socket on the host directly; the sandbox dies with
    /// `porthole run`.
    Plain,
    /// Its apps outlive the compositor: the bridge is its first process and serves its Wayland
    /// socket inside it, keeping every client while the compositor is gone, for
    /// `reconnect_grace` seconds; it outlives `porthole run` too, whose terminal may go with the
    /// compositor. An ordinary user can start it (CRIU cannot dump it: see
    /// [`Sandbox::Checkpointable`]).
    Bridged { reconnect_grace: u64, x11: bool },
    /// CRIU can checkpoint it: the bridge is its first process and serves its Wayland socket
    /// inside it, so that only the bridge talks to the compositor; it outlives `porthole run`,
    /// and the compositor too: its apps wait `reconnect_grace` seconds for a compositor that
    /// went away to come back.
    Checkpointable { reconnect_grace: u64 },
}

/// How long a bridged container's apps wait for a compositor that went away, by default.
pub const RECONNECT_GRACE: u64 = 600;

/// What keeps a sandbox's processes unprivileged beyond its namespaces: no capability, the
/// seccomp filters, and for a sandbox root starts, an unprivileged user.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    /// Started by root: the user its processes run as. bwrap keeps root's uid when it makes no
    /// user namespace, so it hands `setpriv` only what dropping it takes (CAP_SETUID,
    /// CAP_SETGID, CAP_SETPCAP), and `setpriv` drops the uid, the groups and every capability
    /// (bounding, inheritable and ambient sets too) before the container's first program runs.
    pub run_as: Option<RunAs>,
    /// The descriptors bwrap reads the seccomp filters from (see [`super::seccomp`]).
    pub seccomp_fds: Vec<i32>,
}

/// Lets bwrap, executed next, inherit the descriptors `fds` (the seccomp filters), which are
/// close-on-exec everywhere else. For a `pre_exec` hook: it only calls fcntl.
pub fn inherit(fds: &[i32]) -> std::io::Result<()> {
    for &fd in fds {
        // SAFETY: fcntl on a descriptor number, async-signal-safe.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Container engines `porthole env` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// `podman run` flags.
    Podman,
    /// `docker run` flags (the same semantics as podman's).
    Docker,
    /// `systemd-nspawn` flags.
    Nspawn,
    /// `bwrap` flags.
    Bwrap,
    /// `distrobox create` flags.
    Distrobox,
    /// Shell variables for a process on the host, attributed to the container (no isolation).
    Shell,
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The flags or variables that wire `engine` to the container whose directory is `dir`, its
/// clients to `socket` there: the compositor's ([`CONTAINER_SOCKET`]) or the bridge's that
/// `porthole bridge` serves ([`BRIDGED_SOCKET`]). With `x11`, also its X display, served from
/// the host by `porthole x11` or `porthole bridge`: the directory's `X11-unix` at
/// `/tmp/.X11-unix`, `DISPLAY=:0` and the cookie at `/run/porthole/Xauthority`.
pub fn env_flags(dir: &Path, engine: Engine, x11: bool, socket: &str) -> String {
    let quoted = shell_quote(&dir.display().to_string());
    let x11_dir = shell_quote(&dir.join(X11_SOCKET_DIR).display().to_string());
    let xauth = format!("{MOUNT_POINT}/Xauthority");
    let mut out = String::new();
    let dir = quoted;
    match engine {
        Engine::Podman | Engine::Docker => {
            let _ = write!(
                out,
                "--volume {dir}:{MOUNT_POINT} --env XDG_RUNTIME_DIR={MOUNT_POINT} \
                 --env WAYLAND_DISPLAY={socket}"
            );
            if x11 {
                let _ = write!(
                    out,
                    " --volume {x11_dir}:/tmp/.X11-unix --env DISPLAY=:0 --env XAUTHORITY={xauth}"
                );
            }
        }
        Engine::Nspawn => {
            let _ = write!(
                out,
                "--bind={dir}:{MOUNT_POINT} --setenv=XDG_RUNTIME_DIR={MOUNT_POINT} \
                 --setenv=WAYLAND_DISPLAY={socket}"
            );
            if x11 {
                let _ = write!(
                    out,
                    " --bind={x11_dir}:/tmp/.X11-unix --setenv=DISPLAY=:0 \
                     --setenv=XAUTHORITY={xauth}"
                );
            }
        }
        Engine::Bwrap => {
            let _ = write!(
                out,
                "--bind {dir} {MOUNT_POINT} --setenv XDG_RUNTIME_DIR {MOUNT_POINT} \
                 --setenv WAYLAND_DISPLAY {socket}"
            );
            if x11 {
                let _ = write!(
                    out,
                    " --bind {x11_dir} /tmp/.X11-unix --setenv DISPLAY :0 --setenv XAUTHORITY {xauth}"
                );
            }
        }
        Engine::Distrobox => {
            let _ = write!(
                out,
                "--volume {dir}:{MOUNT_POINT} --additional-flags \
                 '--env XDG_RUNTIME_DIR={MOUNT_POINT} --env WAYLAND_DISPLAY={socket}"
            );
            if x11 {
                let _ = write!(out, " --env DISPLAY=:0 --env XAUTHORITY={xauth}");
            }
            out.push('\'');
            if x11 {
                let _ = write!(out, " --volume {x11_dir}:/tmp/.X11-unix");
            }
        }
        Engine::Shell => {
            // An absolute WAYLAND_DISPLAY needs no XDG_RUNTIME_DIR change.
            let socket = shell_quote(&format!("{}/{socket}", dir.trim_matches('\'')));
            let _ = write!(out, "export WAYLAND_DISPLAY={socket}");
        }
    }
    out
}

/// The `bwrap` command line of `porthole run`: `command` in new pid, ipc, uts and (unless
/// `network`) network namespaces,
/// seeing the host's `/usr` and `/etc` read-only, fresh `/tmp` and `/run`, and of the host's
/// runtime files only the container's directory.
///
/// With `bridge` (the host path of `porthole-bridge`), the bridge is the sandbox's first process
/// and runs `command` itself with `DISPLAY=:0`: the X server it starts shares the sandbox's
/// namespaces, so its MIT-SHM segments and its socket are the container's own.
///
/// A [`Sandbox::Bridged`] one has the bridge as pid 1 (`--as-pid-1`), no `--die-with-parent`,
/// the container's directory at [`HOST_MOUNT_POINT`] and a private `XDG_RUNTIME_DIR` where the
/// bridge serves the container's Wayland socket. A [`Sandbox::Checkpointable`] one has that
/// layout, which CRIU can dump and restore, always its own network namespace, and no GPU.
///
/// Every sandbox holds no capability and runs under the seccomp filters of `confinement`; one
/// that root starts first runs `setpriv`, which becomes its user (see [`Confinement`]).
pub fn bwrap_args(
    dir: &Path,
    name: &str,
    network: bool,
    bridge: Option<&Path>,
    sandbox: Sandbox,
    confinement: &Confinement,
    command: &[OsString],
) -> Vec<OsString> {
    let checkpointable = matches!(sandbox, Sandbox::Checkpointable { .. });
    let served = sandbox != Sandbox::Plain;
    let mut args: Vec<OsString> = vec!["--cap-drop".into(), "ALL".into()];
    if confinement.run_as.is_some() {
        for cap in ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"] {
            args.push("--cap-add".into());
            args.push(cap.into());
        }
    }
    for fd in &confinement.seccomp_fds {
        args.push("--add-seccomp-fd".into());
        args.push(fd.to_string().into());
    }
    if !network || checkpointable {
        // Abstract unix sockets (the host X server's @/tmp/.X11-unix/X0, D-Bus) live in the
        // network namespace: only a new one keeps them out of reach.
        args.push("--unshare-net".into());
    }
    let mut push = |words: &[&str]| args.extend(words.iter().map(OsString::from));
    push(&[
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        name,
        if served {
            "--as-pid-1"
        } else {
            "--die-with-parent"
        },
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--ro-bind",
        "/etc",
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        // Sticky and open to all, as a real /tmp: a root-started sandbox's user owns none of
        // bwrap's mounts.
        "--perms",
        "01777",
        "--tmpfs",
        "/tmp",
    ]);
    if served {
        // Its bridge makes its runtime directory, /run/porthole, as the sandbox's user.
        args.push("--perms".into());
        args.push("01777".into());
    }
    args.push("--tmpfs".into());
    args.push("/run".into());
    args.push("--bind".into());
    args.push(dir.into());
    args.push(
        if served {
            HOST_MOUNT_POINT
        } else {
            MOUNT_POINT
        }
        .into(),
    );
    if let Some(bridge) = bridge {
        args.push("--ro-bind".into());
        args.push(bridge.into());
        args.push(BRIDGE_PATH.into());
    }
    let mut push = |words: &[&str]| args.extend(words.iter().map(OsString::from));
    let host_socket = format!("{HOST_MOUNT_POINT}/{CONTAINER_SOCKET}");
    push(&[
        "--setenv",
        "XDG_RUNTIME_DIR",
        MOUNT_POINT,
        "--setenv",
        "WAYLAND_DISPLAY",
        // The bridge of a bridged container connects there, and gives the command its own
        // socket.
        if served {
            &host_socket
        } else {
            CONTAINER_SOCKET
        },
        "--setenv",
        "HOME",
        "/tmp",
        "--unsetenv",
        "DISPLAY",
        "--unsetenv",
        "PORTHOLE_SOCKET",
        "--unsetenv",
        "DBUS_SESSION_BUS_ADDRESS",
        "--",
    ]);
    if let Some(RunAs { uid, gid }) = confinement.run_as {
        args.extend(
            [
                SETPRIV.to_string(),
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".into(),
                "--inh-caps=-all".into(),
                "--ambient-caps=-all".into(),
                "--bounding-set=-all".into(),
                "--no-new-privs".into(),
                "--".into(),
            ]
            .map(OsString::from),
        );
    }
    if bridge.is_some() {
        args.push(BRIDGE_PATH.into());
        let (Sandbox::Bridged {
            reconnect_grace, ..
        }
        | Sandbox::Checkpointable { reconnect_grace }) = sandbox
        else {
            args.push("--".into());
            args.extend(command.iter().cloned());
            return args;
        };
        args.extend(["--serve-wayland", CONTAINER_SOCKET].map(OsString::from));
        if checkpointable {
            args.extend(["--shm-only", "--log", CHECKPOINTABLE_LOG].map(OsString::from));
        }
        if let Sandbox::Bridged { x11: false, .. } = sandbox {
            args.push("--no-x11".into());
        }
        args.push("--reconnect-grace".into());
        args.push(reconnect_grace.to_string().into());
        args.push("--".into());
    }
    args.extend(command.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arguments as one line, to look for runs of them.
    fn joined(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn podman_and_docker_get_the_same_flags() {
        let dir = Path::new("/run/user/1000/porthole/work");
        let podman = env_flags(dir, Engine::Podman, false, CONTAINER_SOCKET);
        assert_eq!(
            podman,
            "--volume /run/user/1000/porthole/work:/run/porthole --env XDG_RUNTIME_DIR=/run/porthole \
             --env WAYLAND_DISPLAY=wayland-0"
        );
        assert_eq!(
            env_flags(dir, Engine::Docker, false, CONTAINER_SOCKET),
            podman
        );
    }

    #[test]
    fn the_directory_is_mounted_not_the_socket() {
        let dir = Path::new("/r/porthole/a");
        for engine in [
            Engine::Podman,
            Engine::Nspawn,
            Engine::Bwrap,
            Engine::Distrobox,
        ] {
            let flags = env_flags(dir, engine, false, CONTAINER_SOCKET);
            assert!(
                flags.contains("/r/porthole/a:/run/porthole")
                    || flags.contains("/r/porthole/a /run/porthole"),
                "{flags}"
            );
            assert!(!flags.contains("a/wayland-0"), "{flags}");
        }
        assert_eq!(
            env_flags(dir, Engine::Shell, false, CONTAINER_SOCKET),
            "export WAYLAND_DISPLAY=/r/porthole/a/wayland-0"
        );
    }

    #[test]
    fn odd_paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/tmp/it's here"), r"'/tmp/it'\''s here'");
        let flags = env_flags(
            Path::new("/tmp/a b/porthole/x"),
            Engine::Bwrap,
            true,
            CONTAINER_SOCKET,
        );
        assert!(
            flags.starts_with("--bind '/tmp/a b/porthole/x' /run/porthole"),
            "{flags}"
        );
    }

    #[test]
    fn bwrap_hides_the_host_runtime_dir_and_runs_the_command_last() {
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            false,
            None,
            Sandbox::Plain,
            &Confinement::default(),
            &["foot".into(), "-e".into(), "sh".into()],
        );
        let words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = words.join(" ");
        assert!(
            joined.contains("--tmpfs /run --bind /r/porthole/a /run/porthole"),
            "{joined}"
        );
        assert!(joined.contains("--tmpfs /tmp"), "{joined}");
        assert!(
            joined.contains("--unshare-net --unshare-pid --unshare-ipc --unshare-uts"),
            "{joined}"
        );
        assert!(joined.ends_with("-- foot -e sh"), "{joined}");
    }

    #[test]
    fn with_the_bridge_it_runs_first_and_runs_the_command() {
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            false,
            Some(Path::new("/opt/bin/porthole-bridge")),
            Sandbox::Plain,
            &Confinement::default(),
            &["xterm".into()],
        );
        let joined = joined(&args);
        assert!(
            joined.contains("--ro-bind /opt/bin/porthole-bridge /run/porthole-bridge"),
            "{joined}"
        );
        assert!(
            joined.ends_with("-- /run/porthole-bridge -- xterm"),
            "{joined}"
        );
    }

    #[test]
    fn bridged_flags_name_the_bridges_socket() {
        let dir = Path::new("/r/porthole/pod");
        let flags = env_flags(dir, Engine::Podman, true, crate::paths::BRIDGED_SOCKET);
        assert!(
            flags.starts_with(
                "--volume /r/porthole/pod:/run/porthole --env XDG_RUNTIME_DIR=/run/porthole \
                 --env WAYLAND_DISPLAY=bridge-0 --volume /r/porthole/pod/X11-unix:/tmp/.X11-unix"
            ),
            "{flags}"
        );
    }

    #[test]
    fn a_bridged_sandbox_outlives_porthole_run_and_keeps_the_network_it_was_given() {
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            true,
            Some(Path::new("/opt/bin/porthole-bridge")),
            Sandbox::Bridged {
                reconnect_grace: 30,
                x11: true,
            },
            &Confinement::default(),
            &["foot".into()],
        );
        let joined = joined(&args);
        assert!(joined.contains("--as-pid-1"), "{joined}");
        assert!(!joined.contains("--die-with-parent"), "{joined}");
        // The network it was asked for.
        assert!(!joined.contains("--unshare-net"), "{joined}");
        assert!(
            joined.contains("--bind /r/porthole/a /run/porthole-host"),
            "{joined}"
        );
        assert!(
            joined.contains("--setenv WAYLAND_DISPLAY /run/porthole-host/wayland-0"),
            "{joined}"
        );
        assert!(
            joined.ends_with(
                "/run/porthole-bridge --serve-wayland wayland-0 --reconnect-grace 30 -- foot"
            ),
            "{joined}"
        );
    }

    #[test]
    fn a_bridged_sandbox_without_x11_serves_wayland_only() {
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            false,
            Some(Path::new("/opt/bin/porthole-bridge")),
            Sandbox::Bridged {
                reconnect_grace: 30,
                x11: false,
            },
            &Confinement::default(),
            &["foot".into()],
        );
        let joined = joined(&args);
        assert!(
            joined.ends_with(
                "/run/porthole-bridge --serve-wayland wayland-0 --no-x11 --reconnect-grace 30 \
                 -- foot"
            ),
            "{joined}"
        );
    }

    #[test]
    fn a_checkpointable_sandbox_is_dumpable() {
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            true,
            Some(Path::new("/opt/bin/porthole-bridge")),
            Sandbox::Checkpointable {
                reconnect_grace: RECONNECT_GRACE,
            },
            &Confinement::default(),
            &["xterm".into()],
        );
        let joined = joined(&args);
        // CRIU needs the bridge as pid 1 and no tie to `porthole run`; the network namespace
        // stays private even when asked to share the host's.
        assert!(joined.contains("--as-pid-1"), "{joined}");
        assert!(!joined.contains("--die-with-parent"), "{joined}");
        assert!(
            joined.starts_with("--cap-drop ALL --unshare-net"),
            "{joined}"
        );
        assert!(
            joined.contains("--bind /r/porthole/a /run/porthole-host"),
            "{joined}"
        );
        assert!(
            joined.contains("--setenv WAYLAND_DISPLAY /run/porthole-host/wayland-0"),
            "{joined}"
        );
        assert!(
            joined.ends_with(
                "/run/porthole-bridge --serve-wayland wayland-0 --shm-only --log \
                 /tmp/porthole-run.log --reconnect-grace 600 -- xterm"
            ),
            "{joined}"
        );
    }

    #[test]
    fn a_sandbox_root_starts_drops_to_its_user_before_its_first_program() {
        let confinement = Confinement {
            run_as: Some(RunAs {
                uid: 1000,
                gid: 100,
            }),
            seccomp_fds: vec![5, 6],
        };
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            false,
            Some(Path::new("/opt/bin/porthole-bridge")),
            Sandbox::Checkpointable {
                reconnect_grace: RECONNECT_GRACE,
            },
            &confinement,
            &["xterm".into()],
        );
        let joined = joined(&args);
        assert!(
            joined.starts_with(
                "--cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID --cap-add CAP_SETPCAP \
                 --add-seccomp-fd 5 --add-seccomp-fd 6 "
            ),
            "{joined}"
        );
        // setpriv runs first, as pid 1, and execs the bridge in its place.
        assert!(
            joined.contains(
                "-- /usr/bin/setpriv --reuid=1000 --regid=100 --clear-groups --inh-caps=-all \
                 --ambient-caps=-all --bounding-set=-all --no-new-privs -- /run/porthole-bridge "
            ),
            "{joined}"
        );
        assert!(joined.contains("--perms 01777 --tmpfs /run"), "{joined}");
    }

    #[test]
    fn an_ordinary_users_sandbox_holds_no_capability_and_keeps_its_user() {
        let confinement = Confinement {
            run_as: None,
            seccomp_fds: vec![5],
        };
        let args = bwrap_args(
            Path::new("/r/porthole/a"),
            "a",
            false,
            None,
            Sandbox::Plain,
            &confinement,
            &["foot".into()],
        );
        let joined = joined(&args);
        assert!(
            joined.starts_with("--cap-drop ALL --add-seccomp-fd 5 "),
            "{joined}"
        );
        assert!(!joined.contains("--cap-add"), "{joined}");
        assert!(!joined.contains("setpriv"), "{joined}");
    }
}
