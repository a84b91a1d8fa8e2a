//! A running `porthole serve --backend headless` for end-to-end tests, with real Wayland clients.
//!
//! Every [`Compositor`] has its own `XDG_RUNTIME_DIR` (a fresh 0700 temporary directory), so tests
//! run in parallel without seeing each other. Every wait is a bounded poll; when a test fails, the
//! fixture prints the compositor's log and the clients' output.

pub mod machine;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use porthole_ipc::{Geometry, WindowInfo};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};

/// The `porthole` binary under test.
pub const PORTHOLE: &str = env!("CARGO_BIN_EXE_porthole");

/// Drags a window by its title bar so that its content's top-left corner goes to `to`, as a
/// person would, and waits until it is there.
pub fn drag(c: &Compositor, w: &WindowInfo, to: (i32, i32)) {
    let grab = (w.geometry.x + 60, w.geometry.y - TITLEBAR / 2);
    let drop = (grab.0 + to.0 - w.geometry.x, grab.1 + to.1 - w.geometry.y);
    c.run_ok(&["input", "move", &grab.0.to_string(), &grab.1.to_string()]);
    c.run_ok(&["input", "button", "left", "press"]);
    c.run_ok(&["input", "move", &drop.0.to_string(), &drop.1.to_string()]);
    c.run_ok(&["input", "button", "left", "release"]);
    poll(Duration::from_secs(30), "the dragged window", || {
        let g = c.window(w.id).ok_or("gone")?.geometry;
        if (g.x, g.y) == to {
            Ok(())
        } else {
            Err(format!("{g:?}"))
        }
    });
}

/// Kills a container's process tree when the test ends, however it ends: SIGKILL to the first
/// process of a pid namespace kills everything in it. The process is held by a pidfd, not its
/// pid: once it has ended (a checkpoint stops it), its pid may be another test's process.
pub struct Sandbox(Option<OwnedFd>);

impl Sandbox {
    /// The sandbox whose first process, still running, is `pid`.
    pub fn new(pid: u32) -> Self {
        let pid = i32::try_from(pid).ok().and_then(Pid::from_raw);
        Self(pid.and_then(|pid| pidfd_open(pid, PidfdFlags::empty()).ok()))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(pidfd) = &self.0 {
            let _ = pidfd_send_signal(pidfd, Signal::KILL);
        }
    }
}

/// A binary built next to `porthole` (cargo builds every workspace binary there).
pub fn sibling(name: &str) -> PathBuf {
    let path = Path::new(PORTHOLE).with_file_name(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first (cargo build --release --workspace)",
        path.display()
    );
    path
}

/// Gives `cmd` the environment of every process of the session whose runtime directory is `dir`:
/// a home and configuration of its own there, and nothing of the session the tests run in.
pub fn session_env(cmd: &mut Command, dir: &Path) {
    cmd.env("XDG_RUNTIME_DIR", dir)
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        // Checkpoints and sessions go to $XDG_STATE_HOME, else ~/.local/state: the session's own
        // home, not a directory every test would share.
        .env_remove("XDG_STATE_HOME")
        .env("PORTHOLE_LOG", "info")
        .env_remove("PORTHOLE_SOCKET")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .env_remove("DISPLAY");
}

/// How long the compositor gets to print its ready line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one CLI call may take before it is killed.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(15);
/// A generous bound for things that take a client a moment (mapping, resizing, exiting).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default desktop background, #202428.
pub const BACKGROUND: [u8; 4] = [0x20, 0x24, 0x28, 0xff];
/// Default frame colour of the focused window, #5a8fd0.
pub const FOCUSED_FRAME: [u8; 4] = [0x5a, 0x8f, 0xd0, 0xff];
/// Default frame colour of other windows, #505058.
pub const UNFOCUSED_FRAME: [u8; 4] = [0x50, 0x50, 0x58, 0xff];
/// Default border width around a server-side decorated window.
pub const BORDER: i32 = 2;
/// Default title bar height.
pub const TITLEBAR: i32 = 24;

/// Polls `f` every 50 ms until it returns `Ok`, at most `timeout`; then panics with `what` and
/// the last `Err` (what was seen instead).
pub fn poll<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(value) => return value,
            Err(last) => {
                if Instant::now() >= deadline {
                    panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a command to completion with a time limit, collecting its output. A command still
/// running at the limit is killed and reported as a panic.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// Whether `program` can be found on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// A decoded screenshot, 8-bit RGBA rows.
#[derive(Clone)]
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// What [`Compositor::pointer_image`] saw of the pointer.
#[derive(Debug)]
pub struct PointerImage {
    pub offsets: Vec<(i32, i32)>,
}

impl PointerImage {
    /// Nothing is drawn: the pointer is hidden.
    pub fn hidden(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Whether the image reaches left of the hotspot, as an I-beam centred on it does; the
    /// compositor's default arrow starts at its hotspot, its tip.
    pub fn reaches_left(&self) -> bool {
        self.offsets.iter().any(|&(dx, _)| dx < -1)
    }
}

impl Screenshot {
    /// Decodes a PNG file as written by `porthole screenshot`.
    pub fn decode(png_bytes: &[u8]) -> Self {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("the screenshot is a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("the PNG decodes");
        buf.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 0xff])
                .collect(),
            other => panic!("unexpected PNG colour type {other:?}"),
        };
        assert_eq!(
            info.bit_depth,
            png::BitDepth::Eight,
            "screenshots are 8-bit"
        );
        Self {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    /// The pixel at (x, y), RGBA.
    pub fn pixel(&self, x: i32, y: i32) -> [u8; 4] {
        assert!(
            x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height,
            "pixel ({x}, {y}) is outside the {}x{} screenshot",
            self.width,
            self.height
        );
        let i = (y as usize * self.width as usize + x as usize) * 4;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    /// Every pixel of `rect`, clipped to the picture, row after row.
    pub fn region(&self, rect: Geometry) -> Vec<[u8; 4]> {
        let x0 = rect.x.max(0);
        let y0 = rect.y.max(0);
        let x1 = (rect.x + rect.width).min(self.width as i32);
        let y1 = (rect.y + rect.height).min(self.height as i32);
        let mut out = Vec::new();
        for y in y0..y1 {
            for x in x0..x1 {
                out.push(self.pixel(x, y));
            }
        }
        out
    }

    /// How many different colours `rect` holds.
    pub fn distinct_colours(&self, rect: Geometry) -> usize {
        let mut colours: Vec<[u8; 4]> = self.region(rect);
        colours.sort_unstable();
        colours.dedup();
        colours.len()
    }

    /// Whether the window with content `g` has a server-side frame drawn around it: its title
    /// bar and its left border show a frame colour. (Whether a window gets one depends on the
    /// client's xdg-decoration choice, which the window list does not report.)
    pub fn decorated(&self, g: Geometry) -> bool {
        let is_frame = |p: [u8; 4]| p == FOCUSED_FRAME || p == UNFOCUSED_FRAME;
        let (tx, ty) = (g.x + 4, g.y - TITLEBAR / 2);
        let (bx, by) = (g.x - 1, g.y + g.height / 2);
        let inside = |x: i32, y: i32| {
            x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height
        };
        inside(tx, ty)
            && inside(bx, by)
            && is_frame(self.pixel(tx, ty))
            && is_frame(self.pixel(bx, by))
    }

    /// What a window covers on screen: its content, plus its frame when it has one.
    pub fn footprint(&self, g: Geometry) -> Geometry {
        if self.decorated(g) {
            frame_of(g)
        } else {
            g
        }
    }

    /// The share (0–1) of pixels of `rect` that are exactly `colour`.
    pub fn share_of(&self, rect: Geometry, colour: [u8; 4]) -> f64 {
        let px = self.region(rect);
        if px.is_empty() {
            return 0.0;
        }
        px.iter().filter(|p| **p == colour).count() as f64 / px.len() as f64
    }
}

/// Formats an RGBA pixel as #rrggbb(aa).
pub fn hex(p: [u8; 4]) -> String {
    format!("#{:02x}{:02x}{:02x}{:02x}", p[0], p[1], p[2], p[3])
}

/// The rectangle a server-side decorated window covers: content plus border and title bar.
pub fn frame_of(g: Geometry) -> Geometry {
    Geometry {
        x: g.x - BORDER,
        y: g.y - TITLEBAR - BORDER,
        width: g.width + 2 * BORDER,
        height: g.height + TITLEBAR + 2 * BORDER,
    }
}

/// Whether two rectangles share at least one pixel.
pub fn intersects(a: Geometry, b: Geometry) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

/// Whether (x, y) lies in `r`.
pub fn contains(r: Geometry, x: i32, y: i32) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

/// A client started with [`Compositor::spawn_client`].
struct Client {
    name: String,
    child: Child,
    log: PathBuf,
}

/// A running headless compositor in its own runtime directory.
pub struct Compositor {
    dir: tempfile::TempDir,
    child: Child,
    display: String,
    control: PathBuf,
    clients: Vec<Client>,
    shots: u32,
    /// The arguments it was started with, for [`Compositor::restart`].
    args: Vec<String>,
    /// The directory of the configuration file it was started with, if any.
    _config: Option<tempfile::TempDir>,
    /// Dropped last, once the compositor and its clients are stopped.
    _machine: machine::Hold,
}

impl Compositor {
    /// Starts `porthole serve --backend headless --outputs WxH` and waits for its ready line.
    pub fn start(width: i32, height: i32) -> Self {
        Self::start_with(width, height, &[])
    }

    /// Like [`Compositor::start`], with this configuration file.
    pub fn start_with_config(width: i32, height: i32, config: &str) -> Self {
        Self::with_config(width, height, config, machine::share())
    }

    /// Like [`Compositor::start_with_config`], on a machine no other test uses meanwhile: for
    /// the tests that hold an honest client to a frame rate (see [`machine`]).
    pub fn alone_with_config(width: i32, height: i32, config: &str) -> Self {
        Self::with_config(width, height, config, machine::alone())
    }

    fn with_config(width: i32, height: i32, config: &str, machine: machine::Hold) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porthole.toml");
        std::fs::write(&path, config).unwrap();
        let extra = ["--config", path.to_str().unwrap()];
        let mut compositor = Self::holding(&format!("{width}x{height}"), &extra, machine);
        // Kept while the compositor may be started again with the same arguments.
        compositor._config = Some(dir);
        compositor
    }

    /// Like [`Compositor::start`], with extra arguments to `serve`.
    pub fn start_with(width: i32, height: i32, extra: &[&str]) -> Self {
        Self::start_outputs(&format!("{width}x{height}"), extra)
    }

    /// Starts `porthole serve --backend headless --outputs OUTPUTS` (e.g. `1280x720,640x480`)
    /// with extra arguments.
    pub fn start_outputs(outputs: &str, extra: &[&str]) -> Self {
        Self::holding(outputs, extra, machine::share())
    }

    fn holding(outputs: &str, extra: &[&str], machine: machine::Hold) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("porthole-e2e-")
            .tempdir()
            .expect("cannot create a temporary runtime directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("cannot chmod the runtime directory");
        for sub in ["home", "config"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let args: Vec<String> = ["serve", "--backend", "headless", "--outputs", outputs]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect();
        let (child, display, control) = Self::launch(Path::new(PORTHOLE), dir.path(), &args);
        Self {
            dir,
            child,
            display,
            control,
            args,
            clients: Vec::new(),
            shots: 0,
            _config: None,
            _machine: machine,
        }
    }

    /// Stops the compositor (its clients lose their connection) and starts it again with the
    /// same arguments in the same runtime directory, as a person restarting their session would.
    pub fn restart(&mut self) {
        self.stop();
        self.relaunch(Path::new(PORTHOLE));
    }

    /// Kills the compositor with SIGKILL, as a crash would.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the compositor with SIGKILL, as a crash would, and starts it again with the same
    /// arguments in the same runtime directory, as the session does.
    pub fn crash_and_restart(&mut self) {
        self.crash();
        self.relaunch(Path::new(PORTHOLE));
    }

    /// Asks the compositor to quit and starts `binary` in its place (an upgrade).
    pub fn upgrade_to(&mut self, binary: &Path) {
        self.stop();
        self.relaunch(binary);
    }

    fn relaunch(&mut self, binary: &Path) {
        let (child, display, control) = Self::launch(binary, self.dir.path(), &self.args);
        self.child = child;
        self.display = display;
        self.control = control;
    }

    /// Starts `porthole ARGS` in `dir` and waits for its ready line; the log goes to
    /// `dir/porthole.log` (appended to, across restarts).
    fn launch(binary: &Path, dir: &Path, args: &[String]) -> (Child, String, PathBuf) {
        let log_path = dir.join("porthole.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("cannot create the compositor log");
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        session_env(&mut cmd, dir);
        let mut child = cmd.spawn().expect("cannot start porthole serve");

        // The ready line: `porthole: WAYLAND_DISPLAY=wayland-N control=PATH`. A thread keeps
        // reading stdout so the compositor never blocks or dies on a full or closed pipe.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(tx) = tx.take() {
                    let _ = tx.send(line);
                }
            }
        });
        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line,
            Err(err) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "porthole serve printed no ready line within {STARTUP_TIMEOUT:?} ({err}); \
                     exit status {status:?}; log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        };
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("ready line `{line}` has no {key}"))
        };
        let display = field("WAYLAND_DISPLAY=");
        let control = PathBuf::from(field("control="));
        (child, display, control)
    }

    /// `porthole ARGS` in this compositor's session, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(PORTHOLE);
        cmd.args(args).current_dir(self.dir());
        session_env(&mut cmd, self.dir());
        cmd
    }

    /// The runtime directory (also a scratch directory for the test).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The host socket name, e.g. `wayland-1`.
    pub fn wayland_display(&self) -> &str {
        &self.display
    }

    /// The control socket path from the ready line.
    pub fn control_socket(&self) -> &Path {
        &self.control
    }

    /// The compositor's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("porthole.log")).unwrap_or_default()
    }

    /// Runs `porthole ARGS` against this compositor.
    pub fn run(&self, args: &[&str]) -> Output {
        run_bounded(self.command(args), CLI_TIMEOUT)
    }

    /// Runs `BINARY ARGS`, another build of porthole, in this compositor's session.
    pub fn run_binary(&self, binary: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(binary);
        cmd.args(args).current_dir(self.dir());
        session_env(&mut cmd, self.dir());
        run_bounded(cmd, CLI_TIMEOUT)
    }

    /// Runs `porthole ARGS` with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        run_bounded(cmd, CLI_TIMEOUT)
    }

    /// Runs `porthole ARGS` and panics (with the log) unless it succeeds; returns its stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        if !out.status.success() {
            panic!(
                "`porthole {}` failed with {}:\nstdout: {}\nstderr: {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8(out.stdout).expect("porthole prints UTF-8")
    }

    /// Waits until `container` has `n` clients, as `porthole containers` counts them.
    pub fn wait_for_clients(&self, container: &str, n: u64) {
        poll(
            Duration::from_secs(10),
            &format!("{container} to have {n} clients"),
            || {
                let json = self.run_ok(&["containers", "--json"]);
                let containers: serde_json::Value =
                    serde_json::from_str(&json).map_err(|e| e.to_string())?;
                let clients = containers
                    .as_array()
                    .and_then(|a| a.iter().find(|c| c["name"] == container))
                    .and_then(|c| c["clients"].as_u64());
                if clients == Some(n) {
                    Ok(())
                } else {
                    Err(json)
                }
            },
        );
    }

    /// `porthole windows --json`, parsed.
    pub fn windows(&self) -> Vec<WindowInfo> {
        let text = self.run_ok(&["windows", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("`porthole windows --json` printed unreadable JSON ({e}): {text}")
        })
    }

    /// The window with this id, if it is listed.
    pub fn window(&self, id: u64) -> Option<WindowInfo> {
        self.windows().into_iter().find(|w| w.id == id)
    }

    /// Waits until exactly `n` windows are listed, and returns them.
    pub fn wait_for_windows(&self, n: usize, timeout: Duration) -> Vec<WindowInfo> {
        poll(timeout, &format!("{n} window(s)"), || {
            let windows = self.windows();
            if windows.len() == n {
                Ok(windows)
            } else {
                Err(format!("{windows:?}"))
            }
        })
    }

    /// Waits until a window with an id not in `known` is listed, and returns it.
    pub fn wait_for_new_window(&self, known: &[u64], timeout: Duration) -> WindowInfo {
        poll(timeout, "a new window", || {
            let windows = self.windows();
            windows
                .iter()
                .find(|w| !known.contains(&w.id))
                .cloned()
                .ok_or_else(|| format!("{windows:?}"))
        })
    }

    /// Waits until the window `id` satisfies `pred`, and returns it.
    pub fn wait_for_window(
        &self,
        id: u64,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&WindowInfo) -> bool,
    ) -> WindowInfo {
        poll(timeout, &format!("window {id}: {what}"), || {
            match self.window(id) {
                Some(w) if pred(&w) => Ok(w),
                Some(w) => Err(format!("{w:?}")),
                None => Err(format!("window {id} is not listed: {:?}", self.windows())),
            }
        })
    }

    /// The pointer's image where the pointer is, at `(x, y)`: the offsets from `(x, y)` of the
    /// pixels that a screenshot with the pointer drawn (`--cursor`) has and one without has not,
    /// within 24 pixels.
    pub fn pointer_image(&mut self, x: i32, y: i32) -> PointerImage {
        let around = Geometry {
            x: x - 24,
            y: y - 24,
            width: 48,
            height: 48,
        };
        let with = self.screenshot_with(&["--cursor"]).region(around);
        let without = self.screenshot().region(around);
        let offsets = with
            .iter()
            .zip(&without)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| (i as i32 % 48 - 24, i as i32 / 48 - 24))
            .collect();
        PointerImage { offsets }
    }

    /// `porthole screenshot FILE.png [--output NAME]`, decoded.
    pub fn screenshot(&mut self) -> Screenshot {
        self.screenshot_of(None)
    }

    /// A screenshot of a named output (the first when `None`).
    pub fn screenshot_of(&mut self, output: Option<&str>) -> Screenshot {
        self.screenshot_with(&output.map(|o| ["--output", o]).unwrap_or_default())
    }

    /// A screenshot with extra arguments (`--output NAME`, `--container NAME`).
    pub fn screenshot_with(&mut self, extra: &[&str]) -> Screenshot {
        self.shots += 1;
        let file = self.dir().join(format!("shot-{}.png", self.shots));
        let file_arg = file.to_str().unwrap().to_owned();
        let mut args = vec!["screenshot", file_arg.as_str()];
        args.extend(extra.iter().filter(|a| !a.is_empty()));
        self.run_ok(&args);
        let bytes = std::fs::read(&file).expect("porthole screenshot wrote no file");
        let _ = std::fs::remove_file(&file);
        Screenshot::decode(&bytes)
    }

    /// Starts a Wayland client of this compositor; its output goes to a log in the runtime
    /// directory. Returns its process id.
    pub fn spawn_client(&mut self, program: &str, args: &[&str]) -> u32 {
        let display = self.display.clone();
        self.spawn_client_on(&display, program, args)
    }

    /// Like [`Compositor::spawn_client`], on another socket (a container's `wayland-0`).
    pub fn spawn_client_on(&mut self, display: &str, program: &str, args: &[&str]) -> u32 {
        let n = self.clients.len() + 1;
        let base = Path::new(program)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let log_path = self.dir().join(format!("client-{n}-{base}.log"));
        let log = File::create(&log_path).expect("cannot create a client log");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        session_env(&mut cmd, self.dir());
        cmd.env("WAYLAND_DISPLAY", display);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} {args:?}: {e}"));
        let pid = child.id();
        self.clients.push(Client {
            name: format!("{program} {}", args.join(" ")),
            child,
            log: log_path,
        });
        pid
    }

    /// Runs a Wayland client of this compositor to completion (bounded) and returns its output.
    pub fn run_client(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(self.dir());
        session_env(&mut cmd, self.dir());
        cmd.env("WAYLAND_DISPLAY", &self.display);
        run_bounded(cmd, CLI_TIMEOUT)
    }

    /// Starts a terminal running `/bin/sh`: foot, or weston-terminal where foot is missing.
    pub fn spawn_terminal(&mut self) -> u32 {
        if on_path("foot") {
            self.spawn_client("foot", &["-o", "shell=/bin/sh"])
        } else {
            self.spawn_client("weston-terminal", &["--shell=/bin/sh"])
        }
    }

    fn client_mut(&mut self, pid: u32) -> &mut Client {
        self.clients
            .iter_mut()
            .find(|c| c.child.id() == pid)
            .unwrap_or_else(|| panic!("no client with pid {pid}"))
    }

    /// Kills a client with SIGKILL and reaps it.
    pub fn kill_client(&mut self, pid: u32) {
        let client = self.client_mut(pid);
        let _ = client.child.kill();
        let _ = client.child.wait();
    }

    /// The client's exit status, if it has exited.
    pub fn client_exit(&mut self, pid: u32) -> Option<ExitStatus> {
        self.client_mut(pid).child.try_wait().ok().flatten()
    }

    /// Waits until a client exits on its own.
    pub fn wait_for_client_exit(&mut self, pid: u32, timeout: Duration) -> ExitStatus {
        poll(timeout, &format!("client {pid} to exit"), || {
            self.client_exit(pid)
                .ok_or_else(|| "still running".to_owned())
        })
    }

    /// The compositor's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The compositor's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the compositor's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// What each of the compositor's open file descriptors is (`socket:[…]`, `/memfd:…`, a
    /// path), sorted: for a message that says which ones were left open.
    pub fn fd_targets(&self) -> Vec<String> {
        let dir = format!("/proc/{}/fd", self.pid());
        let mut targets: Vec<String> = std::fs::read_dir(&dir)
            .expect("the compositor's /proc fd directory")
            .filter_map(Result::ok)
            .map(|e| {
                std::fs::read_link(e.path())
                    .map_or_else(|_| "?".into(), |t| t.display().to_string())
            })
            .collect();
        targets.sort();
        targets
    }

    /// Whether the compositor process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn dump_logs(&self) {
        eprintln!(
            "----- porthole log ({}) -----\n{}",
            self.dir().display(),
            self.log()
        );
        for c in &self.clients {
            eprintln!(
                "----- {} (pid {}) -----\n{}",
                c.name,
                c.child.id(),
                std::fs::read_to_string(&c.log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Compositor {
    fn drop(&mut self) {
        // SIGTERM first, as Ctrl+C: `porthole run --bridged` passes it on to the bridge, which
        // ends its sandbox; killed, it would leave the sandbox waiting for a compositor that
        // never comes back (ten minutes, the reconnect grace).
        for c in &self.clients {
            if let Some(pid) = rustix::process::Pid::from_raw(c.child.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for c in &mut self.clients {
            while matches!(c.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.child.kill();
            let _ = c.child.wait();
        }
        self.stop();
    }
}

impl Compositor {
    /// Asks the compositor to quit, and kills it if it has not within a few seconds.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let mut quit = self.command(&["quit"]);
            quit.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(mut q) = quit.spawn() {
                let deadline = Instant::now() + Duration::from_secs(3);
                while matches!(q.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let _ = q.kill();
                let _ = q.wait();
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            self.dump_logs();
        }
    }
}

/// A screenshot through `&Compositor`, for polls that borrow it (the method needs `&mut`).
pub fn shot(c: &Compositor) -> Screenshot {
    let file = c
        .dir()
        .join(format!("shot-{:?}.png", std::thread::current().id()));
    c.run_ok(&["screenshot", file.to_str().unwrap()]);
    Screenshot::decode(&std::fs::read(&file).expect("the screenshot file"))
}

/// `porthole events` running against a compositor, its JSON lines collected as they come.
pub struct Events {
    child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Events {
    /// Starts `porthole events` and waits until the stream is live: until it shows the connection
    /// of a host client started for that purpose.
    pub fn subscribe(c: &Compositor) -> Self {
        let mut cmd = c.command(&["events"]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("cannot start `porthole events`");
        let stdout = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
                sink.lock().unwrap().push(value);
            }
        });
        let events = Self { child, lines };
        poll(CLIENT_TIMEOUT, "`porthole events` to be live", || {
            c.run_client("wayland-info", &[]);
            let all = events.all();
            if all
                .iter()
                .any(|e| e["event"] == "client_connected" && e["container"] == "host")
            {
                Ok(())
            } else {
                Err(format!("{all:?}"))
            }
        });
        events
    }

    /// Every event collected so far.
    pub fn all(&self) -> Vec<serde_json::Value> {
        self.lines.lock().unwrap().clone()
    }

    /// How many events were collected so far.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits until an event after the first `from` satisfies `pred`; returns its index.
    pub fn wait_for(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> usize {
        poll(Duration::from_secs(30), &format!("event {what}"), || {
            let all = self.all();
            all.iter()
                .enumerate()
                .skip(from)
                .find(|(_, e)| pred(e))
                .map(|(i, _)| i)
                .ok_or_else(|| format!("{:?}", &all[from.min(all.len())..]))
        })
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (30 s at most) for a window of `container` and returns it.
pub fn window_of(c: &Compositor, container: &str) -> WindowInfo {
    poll(
        Duration::from_secs(30),
        &format!("a window of {container}"),
        || {
            let windows = c.windows();
            windows
                .iter()
                .find(|w| w.container == container)
                .cloned()
                .ok_or_else(|| format!("{windows:?}"))
        },
    )
}
