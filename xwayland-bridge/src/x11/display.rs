//! The container's X display: its socket, lock file and cookie, and the lazily started Xwayland
//! behind them.
//!
//! The bridge binds `/tmp/.X11-unix/X{n}` itself and starts Xwayland only when an X11 client
//! connects. Smithay's `XWayland::spawn` (whose client data `X11Wm` needs) always opens sockets of
//! its own, so the bridge runs Xwayland through itself: `Xwayland` is found in a private directory
//! first on the child's `PATH`, where it is a link to this binary, which adds `-listenfd` for the
//! bridge's socket (with the first client still waiting in its backlog) and `-auth` for the
//! container's cookie, then executes the real Xwayland. See [`exec_real_xwayland`].

use std::ffi::OsString;
use std::io::Write as _;
use std::os::fd::AsRawFd as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{symlink, OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The variable that carries the extra arguments from the bridge to its `Xwayland` wrapper.
const EXTRA_ARGS_VAR: &str = "PORTHOLE_XWAYLAND_EXTRA_ARGS";
/// The variable that carries the `PATH` the real Xwayland is looked up in.
const REAL_PATH_VAR: &str = "PORTHOLE_XWAYLAND_REAL_PATH";

/// The X display of one container: a listening socket nobody serves until a client connects.
#[derive(Debug)]
pub struct XDisplay {
    pub number: u32,
    pub listener: UnixListener,
    pub authority: PathBuf,
    cookie: [u8; 16],
    socket_path: PathBuf,
    lock_path: PathBuf,
    wrapper_dir: PathBuf,
    log_path: PathBuf,
}

/// Where a display's files go: inside a container, the usual `/tmp` places; for a container
/// served from the host, its directory (`X11-unix/`, which the engine mounts at
/// `/tmp/.X11-unix`, and `Xauthority`, seen at `/run/porthole/Xauthority`).
fn layout(number: u32, dir: Option<&Path>) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    match dir {
        None => (
            PathBuf::from("/tmp/.X11-unix"),
            PathBuf::from(format!("/tmp/.X{number}-lock")),
            PathBuf::from(format!("/tmp/.porthole-Xauthority-{number}")),
            PathBuf::from(format!("/tmp/.porthole-bridge-{number}")),
            PathBuf::from(format!("/tmp/.porthole-Xwayland-{number}.log")),
        ),
        Some(dir) => (
            dir.join("X11-unix"),
            dir.join(format!("X11-unix/.X{number}-lock")),
            dir.join("Xauthority"),
            // The wrapper link stays out of the directory the container sees.
            std::env::temp_dir().join(format!("porthole-bridge-{}-{number}", std::process::id())),
            dir.join("Xwayland.log"),
        ),
    }
}

/// Creates a sticky world-writable socket directory like `/tmp/.X11-unix` when missing.
fn ensure_socket_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777))
            .with_context(|| format!("setting the mode of {}", dir.display()))?;
    }
    Ok(())
}

impl XDisplay {
    /// Takes display `number`: its lock file, its socket (no abstract socket: those live in the
    /// network namespace and escape file permissions), a fresh MIT-MAGIC-COOKIE-1 in an authority
    /// file, and the directory holding the `Xwayland` wrapper link. Under `/tmp` (inside a
    /// container) or in `dir` (a container's directory, served from the host).
    pub fn bind(number: u32, dir: Option<&Path>) -> anyhow::Result<Self> {
        let (socket_dir, lock_path, authority, wrapper_dir, log_path) = layout(number, dir);
        ensure_socket_dir(&socket_dir)?;
        // Smithay's Xwayland also opens a socket of its own under /tmp/.X11-unix.
        ensure_socket_dir(Path::new("/tmp/.X11-unix"))?;
        let mut lock = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
            .with_context(|| {
                format!(
                    "display :{number} is taken ({} exists); pick another with --display",
                    lock_path.display()
                )
            })?;
        writeln!(lock, "{:>10}", std::process::id())?;

        let socket_path = socket_dir.join(format!("X{number}"));
        let _ = std::fs::remove_file(&socket_path);
        let listener = UnixListener::bind(&socket_path)
            .with_context(|| format!("binding the X socket {}", socket_path.display()))?;
        listener.set_nonblocking(true)?;

        let cookie = random_cookie()?;
        write_authority(&authority, &cookie)?;

        let _ = std::fs::remove_dir_all(&wrapper_dir);
        std::fs::create_dir(&wrapper_dir)
            .with_context(|| format!("creating {}", wrapper_dir.display()))?;
        let exe = std::env::current_exe().context("finding the bridge's own executable")?;
        symlink(&exe, wrapper_dir.join("Xwayland")).context("linking the Xwayland wrapper")?;

        Ok(Self {
            number,
            listener,
            authority,
            cookie,
            socket_path,
            lock_path,
            wrapper_dir,
            log_path,
        })
    }

    /// The environment Smithay's `XWayland::spawn` passes to the `Xwayland` it starts: the
    /// wrapper first on `PATH`, and what the wrapper adds to the real Xwayland's arguments.
    pub fn spawn_env(&self, shm_only: bool) -> Vec<(OsString, OsString)> {
        let mut extra = format!(
            "-listenfd {} -auth {} -nolisten tcp",
            self.listener.as_raw_fd(),
            self.authority.display()
        );
        if shm_only {
            extra.push_str(" -shm");
        }
        let real_path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
        let mut path = self.wrapper_dir.clone().into_os_string();
        path.push(":");
        path.push(&real_path);
        vec![
            ("PATH".into(), path),
            (REAL_PATH_VAR.into(), real_path),
            (EXTRA_ARGS_VAR.into(), extra.into()),
        ]
    }

    /// Where Xwayland's messages go (appended to).
    pub fn open_log(&self) -> anyhow::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.log_path)
            .with_context(|| format!("opening {}", self.log_path.display()))
    }

    /// Lets Xwayland inherit the listening socket (std opens it close-on-exec).
    pub fn share_listener(&self) -> anyhow::Result<()> {
        rustix::io::fcntl_setfd(&self.listener, rustix::io::FdFlags::empty())
            .context("clearing close-on-exec on the X socket")?;
        Ok(())
    }

    /// Makes the window manager learn of selections X11 clients took before it watched them.
    ///
    /// Xwayland accepts the clients waiting on the display once the window manager takes
    /// `WM_S0`, and Smithay's `X11Wm::start_wm` takes it a few round trips before it subscribes
    /// to selection changes. A client that copies as the first thing it does (`echo x | xclip`,
    /// the first X11 client of a container) can do so in between, unseen, and its copy would
    /// never reach anyone. So once the window manager runs, the bridge looks at both selections
    /// and, for one a client owns, asks that client for its targets on behalf of the window
    /// manager's selection window: the answer reaches the window manager as the answer to its
    /// own question would, and it offers the selection as usual.
    ///
    /// The window manager's clipboard window owns `CLIPBOARD_MANAGER`; its primary window is
    /// the next X resource it created (Smithay 0.7 creates them back to back), which is checked
    /// before it is used.
    pub fn catch_up_selections(&self) -> anyhow::Result<()> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{self, ConnectionExt as _};
        use x11rb::wrapper::ConnectionExt as _;

        let stream = std::os::unix::net::UnixStream::connect(&self.socket_path)
            .with_context(|| format!("connecting to {}", self.socket_path.display()))?;
        let (stream, _) = x11rb::rust_connection::DefaultStream::from_unix_stream(stream)?;
        let conn = x11rb::rust_connection::RustConnection::connect_to_stream_with_auth_info(
            stream,
            0,
            b"MIT-MAGIC-COOKIE-1".to_vec(),
            self.cookie.to_vec(),
        )
        .context("connecting to the container's X display")?;
        let atom = |name: &str| -> anyhow::Result<xproto::Atom> {
            Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
        };
        let (clipboard, primary, manager) = (
            atom("CLIPBOARD")?,
            xproto::AtomEnum::PRIMARY.into(),
            atom("CLIPBOARD_MANAGER")?,
        );
        let (targets, property) = (atom("TARGETS")?, atom("_WL_SELECTION")?);
        let owner = |selection| -> anyhow::Result<xproto::Window> {
            Ok(conn.get_selection_owner(selection)?.reply()?.owner)
        };
        let clipboard_window = owner(manager)?;
        if clipboard_window == x11rb::NONE {
            anyhow::bail!("the window manager owns no CLIPBOARD_MANAGER");
        }
        let mask = conn.setup().resource_id_mask;
        let primary_window = clipboard_window.wrapping_add(mask & mask.wrapping_neg());
        let root = conn.setup().roots[0].root;
        let is_selection_window = |window| -> anyhow::Result<bool> {
            let Some(geometry) = conn.get_geometry(window)?.reply_unchecked()? else {
                return Ok(false);
            };
            let tree = conn.query_tree(window)?.reply()?;
            Ok(tree.parent == root && (geometry.width, geometry.height) == (10, 10))
        };
        for (selection, window) in [(clipboard, clipboard_window), (primary, primary_window)] {
            let taken = owner(selection)?;
            if taken == x11rb::NONE || taken == window || !is_selection_window(window)? {
                continue;
            }
            tracing::info!(
                selection,
                taken,
                "an X11 client copied before the window manager ran"
            );
            conn.convert_selection(window, selection, targets, property, x11rb::CURRENT_TIME)?;
        }
        conn.sync()?;
        Ok(())
    }

    /// The variables X11 clients of the container need.
    pub fn client_env(&self) -> [(&'static str, String); 2] {
        [
            ("DISPLAY", format!(":{}", self.number)),
            ("XAUTHORITY", self.authority.display().to_string()),
        ]
    }
}

impl Drop for XDisplay {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket_path);
        let _ = std::fs::remove_file(&self.lock_path);
        let _ = std::fs::remove_file(&self.authority);
        let _ = std::fs::remove_dir_all(&self.wrapper_dir);
    }
}

/// Whether this process was started as the `Xwayland` wrapper link.
pub fn invoked_as_wrapper() -> bool {
    std::env::args_os()
        .next()
        .map(|arg0| Path::new(&arg0).file_name() == Some("Xwayland".as_ref()))
        .unwrap_or(false)
}

/// The wrapper: restores `PATH`, appends the bridge's extra arguments and executes the real
/// Xwayland in place of this process. Returns only on failure.
pub fn exec_real_xwayland() -> anyhow::Error {
    let Some(extra) = std::env::var_os(EXTRA_ARGS_VAR) else {
        return anyhow::anyhow!(
            "this is porthole-bridge's Xwayland wrapper; run porthole-bridge instead"
        );
    };
    let real_path = std::env::var_os(REAL_PATH_VAR).unwrap_or_else(|| "/usr/bin:/bin".into());
    // Look the program up on the real PATH, never on the one holding this wrapper.
    let Some(program) = find_in_path("Xwayland", &real_path) else {
        return anyhow::anyhow!(
            "Xwayland is not installed in this container (looked in {}); install the xwayland package",
            real_path.to_string_lossy()
        );
    };
    let extra = extra
        .as_bytes()
        .split(|b| *b == b' ')
        .filter(|w| !w.is_empty());
    let error = std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .args(extra.map(|w| std::ffi::OsStr::from_bytes(w).to_os_string()))
        .env("PATH", &real_path)
        .env_remove(EXTRA_ARGS_VAR)
        .env_remove(REAL_PATH_VAR)
        .exec();
    anyhow::Error::new(error).context("executing Xwayland")
}

fn find_in_path(program: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

fn random_cookie() -> anyhow::Result<[u8; 16]> {
    let mut cookie = [0u8; 16];
    let mut file = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    std::io::Read::read_exact(&mut file, &mut cookie).context("reading /dev/urandom")?;
    Ok(cookie)
}

/// Writes an X authority file with one entry that matches any host and display (FamilyWild).
fn write_authority(path: &Path, cookie: &[u8; 16]) -> anyhow::Result<()> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) -> anyhow::Result<()> {
        let len = u16::try_from(bytes.len())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
    let mut entry = Vec::new();
    entry.extend_from_slice(&0xffffu16.to_be_bytes());
    field(&mut entry, b"")?;
    field(&mut entry, b"")?;
    field(&mut entry, b"MIT-MAGIC-COOKIE-1")?;
    field(&mut entry, cookie)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing the X authority file {}", path.display()))?;
    file.write_all(&entry)
        .with_context(|| format!("writing the X authority file {}", path.display()))?;
    Ok(())
}
