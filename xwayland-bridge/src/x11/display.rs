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
use std::os::fd::{AsFd, AsRawFd as _, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{symlink, DirBuilderExt as _, PermissionsExt as _};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

/// The variable that carries the extra arguments from the bridge to its `Xwayland` wrapper.
const EXTRA_ARGS_VAR: &str = "PORTHOLE_XWAYLAND_EXTRA_ARGS";
/// The variable that carries the `PATH` the real Xwayland is looked up in.
const REAL_PATH_VAR: &str = "PORTHOLE_XWAYLAND_REAL_PATH";

/// The X display of one container: a listening socket nobody serves until a client connects.
///
/// Its files are reached through descriptors of their directories and never through a link: a
/// container's directory belongs to the container's user, and the bridge serving it from the host
/// may be root (`porthole x11`), which a planted link would make write or truncate a file of the
/// link's choosing.
#[derive(Debug)]
pub struct XDisplay {
    pub number: u32,
    pub listener: UnixListener,
    /// The cookie file the display's clients read (`XAUTHORITY`).
    pub authority: PathBuf,
    cookie: [u8; 16],
    layout: Layout,
    /// The directory of the authority file and the log.
    base: OwnedFd,
    /// The socket directory.
    sockets: OwnedFd,
    /// The private directory of the `Xwayland` wrapper link and of the cookie file Xwayland
    /// reads (never the container's, which a link could replace).
    wrapper_dir: PathBuf,
}

/// Where a display's files go: inside a container, the usual `/tmp` places; for a container
/// served from the host, its directory (`X11-unix/`, which the engine mounts at
/// `/tmp/.X11-unix`, and `Xauthority`, seen at `/run/porthole/Xauthority`).
#[derive(Debug)]
struct Layout {
    /// `/tmp`, or the container's directory.
    base: PathBuf,
    /// The socket directory's name in `base`.
    sockets: &'static str,
    /// The lock file's name, in the socket directory (`lock_in_sockets`) or in `base`.
    lock: String,
    lock_in_sockets: bool,
    /// The authority file's and the log's names in `base`.
    authority: String,
    log: String,
    wrapper_dir: PathBuf,
}

fn layout(number: u32, dir: Option<&Path>) -> Layout {
    match dir {
        None => Layout {
            base: PathBuf::from("/tmp"),
            sockets: ".X11-unix",
            lock: format!(".X{number}-lock"),
            lock_in_sockets: false,
            authority: format!(".porthole-Xauthority-{number}"),
            log: format!(".porthole-Xwayland-{number}.log"),
            wrapper_dir: PathBuf::from(format!("/tmp/.porthole-bridge-{number}")),
        },
        Some(dir) => Layout {
            base: dir.to_path_buf(),
            sockets: "X11-unix",
            lock: format!(".X{number}-lock"),
            lock_in_sockets: true,
            authority: "Xauthority".into(),
            log: "Xwayland.log".into(),
            // The wrapper link stays out of the directory the container sees.
            wrapper_dir: std::env::temp_dir()
                .join(format!("porthole-bridge-{}-{number}", std::process::id())),
        },
    }
}

/// Opens the directory `path`, refusing a link in its place.
fn open_dir(path: &Path) -> anyhow::Result<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening {} (a link there is not followed)", path.display()))
}

/// Opens the socket directory `name` in `base`, sticky and world-writable like `/tmp/.X11-unix`
/// when the bridge creates it. A link in its place is refused.
fn socket_dir(base: BorrowedFd, base_path: &Path, name: &str) -> anyhow::Result<OwnedFd> {
    let path = base_path.join(name);
    let created = match rustix::fs::mkdirat(base, name, Mode::from_raw_mode(0o1777)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(err) => return Err(err).with_context(|| format!("creating {}", path.display())),
    };
    let fd = rustix::fs::openat(
        base,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening {} (a link there is not followed)", path.display()))?;
    if created {
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o1777))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
    }
    Ok(fd)
}

/// The user the bridge's files in `base` belong to when it is not the bridge's own: root serving
/// a container whose directory another user owns gives them that user's cookie and socket.
fn foreign_owner(base: BorrowedFd) -> Option<rustix::process::Uid> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let owner = rustix::fs::fstat(base).ok()?.st_uid;
    (owner != 0).then(|| rustix::process::Uid::from_raw(owner))
}

impl XDisplay {
    /// Takes display `number`: its lock file, its socket (no abstract socket: those live in the
    /// network namespace and escape file permissions), a fresh MIT-MAGIC-COOKIE-1 in an authority
    /// file, and the directory holding the `Xwayland` wrapper link. Under `/tmp` (inside a
    /// container) or in `dir` (a container's directory, served from the host).
    pub fn bind(number: u32, dir: Option<&Path>) -> anyhow::Result<Self> {
        let layout = layout(number, dir);
        let base = open_dir(&layout.base)?;
        let sockets = socket_dir(base.as_fd(), &layout.base, layout.sockets)?;
        let sockets_path = layout.base.join(layout.sockets);
        // Smithay's Xwayland also opens a socket of its own under /tmp/.X11-unix.
        socket_dir(
            open_dir(Path::new("/tmp"))?.as_fd(),
            Path::new("/tmp"),
            ".X11-unix",
        )?;
        let owner = foreign_owner(base.as_fd());

        let (lock_dir, lock_path) = if layout.lock_in_sockets {
            (sockets.as_fd(), sockets_path.join(&layout.lock))
        } else {
            (base.as_fd(), layout.base.join(&layout.lock))
        };
        let lock = rustix::fs::openat(
            lock_dir,
            &layout.lock,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .with_context(|| {
            format!(
                "display :{number} is taken ({} exists); pick another with --display",
                lock_path.display()
            )
        })?;
        writeln!(std::fs::File::from(lock), "{:>10}", std::process::id())?;

        let socket_name = format!("X{number}");
        let socket_path = sockets_path.join(&socket_name);
        let _ = rustix::fs::unlinkat(&sockets, &socket_name, AtFlags::empty());
        // From the host, bound through the directory's descriptor: a link in place of the
        // socket directory would move the socket elsewhere. Inside a container (where the bridge
        // is the container's own user) by its path, the name CRIU records and binds again on
        // restore.
        let bind_path = match dir {
            Some(_) => PathBuf::from(format!(
                "/proc/self/fd/{}/{socket_name}",
                sockets.as_raw_fd()
            )),
            None => socket_path.clone(),
        };
        let listener = UnixListener::bind(&bind_path)
            .with_context(|| format!("binding the X socket {}", socket_path.display()))?;
        listener.set_nonblocking(true)?;
        if let Some(uid) = owner {
            rustix::fs::chownat(
                &sockets,
                &socket_name,
                Some(uid),
                None,
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .with_context(|| format!("giving {} to uid {}", socket_path.display(), uid.as_raw()))?;
        }

        let cookie = random_cookie()?;
        let entry = authority_entry(&cookie, &host_names(&layout.base))?;
        let authority = layout.base.join(&layout.authority);
        replace_file(base.as_fd(), &layout.authority, &entry, owner)
            .with_context(|| format!("writing the X authority file {}", authority.display()))?;

        let wrapper_dir = layout.wrapper_dir.clone();
        let _ = std::fs::remove_dir_all(&wrapper_dir);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&wrapper_dir)
            .with_context(|| format!("creating {}", wrapper_dir.display()))?;
        let exe = std::env::current_exe().context("finding the bridge's own executable")?;
        symlink(&exe, wrapper_dir.join("Xwayland")).context("linking the Xwayland wrapper")?;
        let private = open_dir(&wrapper_dir)?;
        replace_file(private.as_fd(), "Xauthority", &entry, None)
            .context("writing Xwayland's X authority file")?;

        Ok(Self {
            number,
            listener,
            authority,
            cookie,
            layout,
            base,
            sockets,
            wrapper_dir,
        })
    }

    /// The environment Smithay's `XWayland::spawn` passes to the `Xwayland` it starts: the
    /// wrapper first on `PATH`, and what the wrapper adds to the real Xwayland's arguments.
    pub fn spawn_env(&self, shm_only: bool) -> Vec<(OsString, OsString)> {
        let mut extra = format!(
            "-listenfd {} -auth {} -nolisten tcp",
            self.listener.as_raw_fd(),
            self.wrapper_dir.join("Xauthority").display()
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

    /// Where Xwayland's messages go (appended to): a regular file, never written through a link;
    /// a link in its place is removed.
    pub fn open_log(&self) -> anyhow::Result<std::fs::File> {
        let path = self.layout.base.join(&self.layout.log);
        let flags = OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC;
        let open = |flags| {
            rustix::fs::openat(
                &self.base,
                &self.layout.log,
                flags,
                Mode::from_raw_mode(0o600),
            )
        };
        let fd = match open(flags) {
            Err(Errno::LOOP) => {
                rustix::fs::unlinkat(&self.base, &self.layout.log, AtFlags::empty())
                    .and_then(|()| open(flags | OFlags::EXCL))
            }
            opened => opened,
        }
        .with_context(|| format!("opening {} (a link there is not followed)", path.display()))?;
        let stat = rustix::fs::fstat(&fd)?;
        anyhow::ensure!(
            rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile,
            "{} is not a regular file",
            path.display()
        );
        if let Some(uid) = foreign_owner(self.base.as_fd()) {
            rustix::fs::fchown(&fd, Some(uid), None)
                .with_context(|| format!("giving {} to uid {}", path.display(), uid.as_raw()))?;
        }
        Ok(std::fs::File::from(fd))
    }

    /// Lets Xwayland inherit the listening socket (std opens it close-on-exec).
    pub fn share_listener(&self) -> anyhow::Result<()> {
        rustix::io::fcntl_setfd(&self.listener, rustix::io::FdFlags::empty())
            .context("clearing close-on-exec on the X socket")?;
        Ok(())
    }

    /// Connects to the display's own socket, which must be the socket it bound and not a link
    /// put in its place.
    fn connect(&self) -> anyhow::Result<std::os::unix::net::UnixStream> {
        let name = format!("X{}", self.number);
        let path = self.layout.base.join(self.layout.sockets).join(&name);
        let socket = rustix::fs::openat(
            &self.sockets,
            &name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .with_context(|| format!("opening {}", path.display()))?;
        let kind = rustix::fs::FileType::from_raw_mode(rustix::fs::fstat(&socket)?.st_mode);
        anyhow::ensure!(
            kind == rustix::fs::FileType::Socket,
            "{} is no longer the display's socket",
            path.display()
        );
        std::os::unix::net::UnixStream::connect(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .with_context(|| format!("connecting to {}", path.display()))
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

        let stream = self.connect()?;
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
        let layout = &self.layout;
        let _ = rustix::fs::unlinkat(&self.sockets, format!("X{}", self.number), AtFlags::empty());
        let lock_dir = if layout.lock_in_sockets {
            &self.sockets
        } else {
            &self.base
        };
        let _ = rustix::fs::unlinkat(lock_dir, &layout.lock, AtFlags::empty());
        let _ = rustix::fs::unlinkat(&self.base, &layout.authority, AtFlags::empty());
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
    // This wrapper was started by the bridge, whose blocked signals it inherited.
    crate::bridge::process::unblock_all_signals();
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

/// An X authority file whose entries match any host and display (FamilyWild, which libXau
/// understands) and, for clients that only look up their own host name as python-xlib does, a
/// FamilyLocal entry for each of `hosts` (any display).
fn authority_entry(cookie: &[u8; 16], hosts: &[String]) -> anyhow::Result<Vec<u8>> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) -> anyhow::Result<()> {
        let len = u16::try_from(bytes.len())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
    const FAMILY_WILD: u16 = 0xffff;
    const FAMILY_LOCAL: u16 = 256;
    let mut out = Vec::new();
    let wild = (FAMILY_WILD, "");
    for (family, address) in
        std::iter::once(wild).chain(hosts.iter().map(|h| (FAMILY_LOCAL, h.as_str())))
    {
        out.extend_from_slice(&family.to_be_bytes());
        field(&mut out, address.as_bytes())?;
        field(&mut out, b"")?;
        field(&mut out, b"MIT-MAGIC-COOKIE-1")?;
        field(&mut out, cookie)?;
    }
    Ok(out)
}

/// Host names the container's clients may have: this process's (the sandbox's own, when the
/// bridge runs inside it) and the container's name, which `porthole run` gives its sandbox.
fn host_names(base: &Path) -> Vec<String> {
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let container = base
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string);
    let mut names: Vec<String> = own
        .map(|h| h.trim().to_string())
        .into_iter()
        .chain(container)
        .filter(|h| !h.is_empty())
        .collect();
    names.dedup();
    names
}

/// Puts a file holding `bytes` (mode 0600, given to `owner` if any) at `name` in `dir`: written
/// under a new name and renamed over whatever was there, so that a link in its place is
/// replaced, never written through.
fn replace_file(
    dir: BorrowedFd,
    name: &str,
    bytes: &[u8],
    owner: Option<rustix::process::Uid>,
) -> anyhow::Result<()> {
    let temporary = format!(".{name}.{}.new", std::process::id());
    let _ = rustix::fs::unlinkat(dir, &temporary, AtFlags::empty());
    let fd = rustix::fs::openat(
        dir,
        &temporary,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    let mut file = std::fs::File::from(fd);
    let written = file
        .write_all(bytes)
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            if let Some(uid) = owner {
                rustix::fs::fchown(&file, Some(uid), None)?;
            }
            rustix::fs::renameat(dir, &temporary, dir, name)?;
            Ok(())
        });
    if written.is_err() {
        let _ = rustix::fs::unlinkat(dir, &temporary, AtFlags::empty());
    }
    written
}
