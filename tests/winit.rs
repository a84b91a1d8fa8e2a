//! End-to-end tests of the winit backend: `porthole serve --backend winit` nested in a real X
//! server (Xvfb), drawing with GLES (Mesa's llvmpipe), with real Wayland clients inside. What a
//! user sees is read off the X server with `xwd -root` and compared with the compositor's own
//! `porthole screenshot` (rendered by pixman), the window list and files a shell wrote.
//!
//! CI installs Xvfb, xwd, xwininfo, Mesa, weston and foot; a missing piece or a compositor that
//! cannot get EGL fails the test with the reason, it does not skip it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use porthole_ipc::{Geometry, OutputInfo, WindowInfo};

use crate::common::*;

/// The X screen: at least as large as the window winit opens (1280x800).
const SCREEN_W: i32 = 1280;
const SCREEN_H: i32 = 800;
/// How much a GLES pixel may differ from pixman's per channel.
const TOLERANCE: u8 = 2;

// ---------------------------------------------------------------------------------------------
// Xvfb

/// A private X server, stopped (with everything drawn in it) when dropped.
struct Xvfb {
    child: Child,
    /// The display number, e.g. 3 for `:3`.
    number: u32,
    log: PathBuf,
}

impl Xvfb {
    /// Starts Xvfb on a free display: `-displayfd 1` lets the server pick one (it takes the lock
    /// files itself, so parallel tests cannot collide) and print it on our pipe.
    fn start(scratch: &Path) -> Self {
        // Xvfb needs the socket directory; a fresh container may not have it.
        let sockets = Path::new("/tmp/.X11-unix");
        if !sockets.exists() && std::fs::create_dir(sockets).is_ok() {
            let _ = std::fs::set_permissions(sockets, std::fs::Permissions::from_mode(0o1777));
        }
        let log = scratch.join("xvfb.log");
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0"])
            .arg(format!("{SCREEN_W}x{SCREEN_H}x24"))
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("cannot create the Xvfb log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Xvfb (CI installs it): {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining, so the server never writes into a closed pipe.
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
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "Xvfb printed no display number within {STARTUP_TIMEOUT:?} ({e}); exit \
                     status {status:?}; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let number = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb printed `{line}` instead of a display number"));
        let xvfb = Self { child, number, log };
        // It printed the number once it listens; one round trip makes sure.
        poll(STARTUP_TIMEOUT, "the X server to answer", || {
            let out = xvfb.x_tool("xwininfo", &["-root"]);
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        });
        xvfb
    }

    /// `:N`.
    fn display(&self) -> String {
        format!(":{}", self.number)
    }

    /// Runs an X client tool (xwd, xwininfo) against this server.
    fn x_tool(&self, program: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .args(["-display", &self.display()])
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XAUTHORITY");
        run_bounded(cmd, CLI_TIMEOUT)
    }

    /// The whole X screen as the X server holds it, through `xwd -root`.
    fn capture(&self) -> Screenshot {
        let out = self.x_tool("xwd", &["-root", "-silent"]);
        assert!(
            out.status.success(),
            "xwd failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        parse_xwd(&out.stdout)
    }

    /// The top-level windows on the root, from `xwininfo -root -tree`.
    fn top_level_windows(&self) -> Vec<XWindow> {
        let out = self.x_tool("xwininfo", &["-root", "-tree"]);
        assert!(
            out.status.success(),
            "xwininfo failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        parse_xwininfo_tree(&String::from_utf8_lossy(&out.stdout))
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets the server remove its socket and lock file; SIGKILL if it dawdles.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "----- Xvfb :{} log -----\n{}",
                self.number,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// A window as `xwininfo -tree` lists it.
#[derive(Debug, Clone)]
struct XWindow {
    /// The line as printed, for messages.
    line: String,
    /// Absolute position on the root and size.
    rect: Geometry,
}

/// Parses the children of the root from `xwininfo -root -tree`: lines like
/// `0x200002 "Smithay": ("porthole" "porthole")  1280x800+0+0  +0+0`, where the last field is
/// the absolute position.
fn parse_xwininfo_tree(text: &str) -> Vec<XWindow> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("0x"))
        .filter_map(|line| {
            let mut fields = line.split_whitespace().rev();
            let abs = fields.next()?;
            let geo = fields.next()?;
            let (size, _) = geo.split_once(['+', '-'])?;
            let (w, h) = size.split_once('x')?;
            let abs = abs.strip_prefix('+').unwrap_or(abs);
            let (x, y) = abs.split_once(['+', '-'])?;
            let sign_y = if abs.contains('-') { -1 } else { 1 };
            Some(XWindow {
                line: line.trim().to_owned(),
                rect: Geometry {
                    x: x.parse().ok()?,
                    y: sign_y * y.parse::<i32>().ok()?,
                    width: w.parse().ok()?,
                    height: h.parse().ok()?,
                },
            })
        })
        .collect()
}

/// Decodes an XWD file (X Window Dump, version 7) of a 24/32-bit TrueColor ZPixmap into RGBA.
fn parse_xwd(data: &[u8]) -> Screenshot {
    const HEADER_FIELDS: usize = 25;
    assert!(
        data.len() >= HEADER_FIELDS * 4,
        "the XWD file is only {} bytes",
        data.len()
    );
    let field = |i: usize| u32::from_be_bytes(data[i * 4..i * 4 + 4].try_into().unwrap());
    let header_size = field(0) as usize;
    let file_version = field(1);
    let pixmap_format = field(2);
    let pixmap_depth = field(3);
    let width = field(4);
    let height = field(5);
    let byte_order = field(7);
    let bits_per_pixel = field(11);
    let bytes_per_line = field(12) as usize;
    let visual_class = field(13);
    let masks = [field(14), field(15), field(16)];
    let ncolors = field(19) as usize;
    assert_eq!(file_version, 7, "XWD version");
    assert_eq!(pixmap_format, 2, "XWD pixmap format (ZPixmap)");
    assert!(
        visual_class == 4 || visual_class == 5,
        "XWD visual class {visual_class} is not TrueColor/DirectColor"
    );
    assert!(
        pixmap_depth >= 24 && (bits_per_pixel == 32 || bits_per_pixel == 24),
        "XWD depth {pixmap_depth}, {bits_per_pixel} bits per pixel"
    );
    let pixels = header_size + ncolors * 12;
    let bytes_pp = bits_per_pixel as usize / 8;
    assert!(
        data.len() >= pixels + bytes_per_line * height as usize,
        "the XWD file is truncated: {} bytes for {width}x{height}",
        data.len()
    );
    // Each channel: shift and width of its mask, scaled to 8 bits.
    let channel = |v: u32, mask: u32| -> u8 {
        let bits = mask.count_ones();
        let value = (v & mask) >> mask.trailing_zeros();
        if bits >= 8 {
            (value >> (bits - 8)) as u8
        } else {
            ((value * 255) / ((1 << bits) - 1)) as u8
        }
    };
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height as usize {
        let row = &data[pixels + y * bytes_per_line..];
        for x in 0..width as usize {
            let p = &row[x * bytes_pp..x * bytes_pp + bytes_pp];
            let v = match (byte_order, bytes_pp) {
                (0, 4) => u32::from_le_bytes(p.try_into().unwrap()),
                (_, 4) => u32::from_be_bytes(p.try_into().unwrap()),
                (0, _) => u32::from_le_bytes([p[0], p[1], p[2], 0]),
                (_, _) => u32::from_be_bytes([0, p[0], p[1], p[2]]),
            };
            rgba.extend_from_slice(&[
                channel(v, masks[0]),
                channel(v, masks[1]),
                channel(v, masks[2]),
                0xff,
            ]);
        }
    }
    Screenshot {
        width,
        height,
        rgba,
    }
}

// ---------------------------------------------------------------------------------------------
// The nested compositor

/// A Wayland client of the nested session.
struct Client {
    name: String,
    child: Child,
    log: PathBuf,
}

/// `porthole serve --backend winit` in its own runtime directory, inside its own Xvfb. Dropping
/// it stops the clients, the compositor and then the X server, also when a test panics.
struct Nested {
    // Fields drop in this order, after `Drop::drop` has stopped the clients and the compositor:
    // first the X server, then the directory holding every log, last the hold on the machine.
    xvfb: Xvfb,
    child: Child,
    wayland_display: String,
    clients: Vec<Client>,
    shots: u32,
    dir: tempfile::TempDir,
    _machine: machine::Hold,
}

impl Nested {
    /// Starts Xvfb and the compositor in it; waits for the ready line. A compositor that exits
    /// instead (no EGL, no window) fails the test with its log.
    fn start() -> Self {
        let machine = machine::share();
        let dir = tempfile::Builder::new()
            .prefix("porthole-winit-")
            .tempdir()
            .expect("cannot create a temporary runtime directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        for sub in ["home", "config"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let xvfb = Xvfb::start(dir.path());
        let log_path = dir.path().join("porthole.log");
        let mut cmd = Command::new(PORTHOLE);
        cmd.args(["serve", "--backend", "winit"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log_path).unwrap());
        session_env(&mut cmd, dir.path());
        cmd.env("DISPLAY", xvfb.display());
        let mut child = cmd.spawn().expect("cannot start porthole serve");
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
            Err(e) => {
                let what = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("printed no ready line within {STARTUP_TIMEOUT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => "exited before its ready line".into(),
                };
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "`porthole serve --backend winit` on DISPLAY={} {what} (exit status \
                     {status:?}); its log (look for EGL or window errors):\n{}",
                    xvfb.display(),
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        };
        let wayland_display = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("WAYLAND_DISPLAY="))
            .unwrap_or_else(|| panic!("ready line `{line}` has no WAYLAND_DISPLAY"))
            .to_owned();
        Self {
            xvfb,
            child,
            wayland_display,
            clients: Vec::new(),
            shots: 0,
            dir,
            _machine: machine,
        }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("porthole.log")).unwrap_or_default()
    }

    /// Runs `porthole ARGS` against this compositor.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(PORTHOLE);
        cmd.args(args).current_dir(self.dir());
        session_env(&mut cmd, self.dir());
        run_bounded(cmd, CLI_TIMEOUT)
    }

    /// Runs `porthole ARGS`; panics unless it succeeds; returns its stdout.
    fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "`porthole {}` failed with {}:\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("porthole prints UTF-8")
    }

    fn windows(&self) -> Vec<WindowInfo> {
        serde_json::from_str(&self.run_ok(&["windows", "--json"])).expect("windows JSON")
    }

    fn outputs(&self) -> Vec<OutputInfo> {
        serde_json::from_str(&self.run_ok(&["outputs", "--json"])).expect("outputs JSON")
    }

    /// Waits for a window not in `known`.
    fn wait_for_new_window(&self, known: &[u64]) -> WindowInfo {
        poll(CLIENT_TIMEOUT, "a new window", || {
            let windows = self.windows();
            windows
                .iter()
                .find(|w| !known.contains(&w.id))
                .cloned()
                .ok_or_else(|| format!("{windows:?}"))
        })
    }

    /// Waits until window `id` satisfies `pred`.
    fn wait_for_window(
        &self,
        id: u64,
        what: &str,
        pred: impl Fn(&WindowInfo) -> bool,
    ) -> WindowInfo {
        poll(CLIENT_TIMEOUT, &format!("window {id}: {what}"), || {
            let windows = self.windows();
            match windows.iter().find(|w| w.id == id) {
                Some(w) if pred(w) => Ok(w.clone()),
                _ => Err(format!("{windows:?}")),
            }
        })
    }

    /// `porthole screenshot` of WINIT-1 (pixman, no cursor).
    fn screenshot(&mut self) -> Screenshot {
        self.shots += 1;
        let file = self.dir().join(format!("shot-{}.png", self.shots));
        self.run_ok(&["screenshot", file.to_str().unwrap(), "--output", "WINIT-1"]);
        let bytes = std::fs::read(&file).expect("porthole screenshot wrote no file");
        let _ = std::fs::remove_file(&file);
        Screenshot::decode(&bytes)
    }

    /// Starts a client of the nested session; returns its pid.
    fn spawn_client(&mut self, program: &str, args: &[&str]) -> u32 {
        let log = self
            .dir()
            .join(format!("client-{}-{program}.log", self.clients.len() + 1));
        let file = File::create(&log).unwrap();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        session_env(&mut cmd, self.dir());
        cmd.env("WAYLAND_DISPLAY", &self.wayland_display);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} (CI installs it): {e}"));
        let pid = child.id();
        self.clients.push(Client {
            name: format!("{program} {}", args.join(" ")),
            child,
            log,
        });
        pid
    }

    /// Starts a client and waits for its window.
    fn open(&mut self, program: &str, args: &[&str]) -> WindowInfo {
        let known: Vec<u64> = self.windows().iter().map(|w| w.id).collect();
        self.spawn_client(program, args);
        self.wait_for_new_window(&known)
    }

    /// The winit window on the X screen: the X server's only top-level window.
    fn x_window(&self) -> XWindow {
        poll(CLIENT_TIMEOUT, "the winit window on the X screen", || {
            let windows = self.xvfb.top_level_windows();
            match windows.as_slice() {
                [only] => Ok(only.clone()),
                _ => Err(format!("top-level X windows: {windows:?}")),
            }
        })
    }

    /// The compositor's exit status, once it has exited.
    fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        for c in &mut self.clients {
            let _ = c.child.kill();
            let _ = c.child.wait();
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let mut quit = Command::new(PORTHOLE);
            quit.arg("quit").current_dir(self.dir());
            session_env(&mut quit, self.dir());
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
            eprintln!(
                "----- porthole log ({}) -----\n{}",
                self.dir().display(),
                self.log()
            );
            for c in &self.clients {
                eprintln!(
                    "----- {} -----\n{}",
                    c.name,
                    std::fs::read_to_string(&c.log).unwrap_or_default()
                );
            }
        }
        // The fields are dropped after this: `xvfb` stops the X server.
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing pictures

/// Whether two pixels agree within `TOLERANCE` per channel.
fn close(a: [u8; 4], b: [u8; 4]) -> bool {
    a.iter()
        .zip(b)
        .take(3)
        .all(|(x, y)| x.abs_diff(y) <= TOLERANCE)
}

/// The part of the X screen that shows the output: a picture the output's size, cut out at
/// the window's place (pixels the screen does not show stay transparent black).
fn cut(screen: &Screenshot, at: Geometry) -> Screenshot {
    let mut rgba = vec![0; at.width as usize * at.height as usize * 4];
    for y in 0..at.height {
        for x in 0..at.width {
            let (sx, sy) = (at.x + x, at.y + y);
            if sx >= 0 && sy >= 0 && (sx as u32) < screen.width && (sy as u32) < screen.height {
                let i = (y as usize * at.width as usize + x as usize) * 4;
                rgba[i..i + 4].copy_from_slice(&screen.pixel(sx, sy));
            }
        }
    }
    Screenshot {
        width: at.width as u32,
        height: at.height as u32,
        rgba,
    }
}

/// Grows a rectangle by `d` on every side.
fn grown(r: Geometry, d: i32) -> Geometry {
    Geometry {
        x: r.x - d,
        y: r.y - d,
        width: r.width + 2 * d,
        height: r.height + 2 * d,
    }
}

/// Every pixel of `rect` in both pictures (clipped to the visible part), compared: returns the
/// number compared and up to ten that differ, described.
fn compare(
    shown: &Screenshot,
    truth: &Screenshot,
    rect: Geometry,
    skip: &[Geometry],
) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut wrong = Vec::new();
    let mut wrong_count = 0;
    for y in rect.y.max(0)..(rect.y + rect.height).min(shown.height as i32) {
        for x in rect.x.max(0)..(rect.x + rect.width).min(shown.width as i32) {
            if skip.iter().any(|s| contains(*s, x, y)) {
                continue;
            }
            compared += 1;
            let (a, b) = (shown.pixel(x, y), truth.pixel(x, y));
            if !close(a, b) {
                wrong_count += 1;
                if wrong.len() < 10 {
                    wrong.push(format!("({x},{y}) shows {} not {}", hex(a), hex(b)));
                }
            }
        }
    }
    if wrong_count > wrong.len() {
        wrong.push(format!("… {wrong_count} pixels in all"));
    }
    (compared, wrong)
}

/// Where the cursor drawn at pointer position (x, y) can be: the built-in arrow is 12x18 from
/// the hotspot, a client's cursor surface may be larger and offset by its hotspot.
fn cursor_box(x: i32, y: i32) -> Geometry {
    Geometry {
        x: x - 32,
        y: y - 32,
        width: 64,
        height: 64,
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn the_nested_window_shows_what_the_screenshot_shows() {
    let mut s = Nested::start();

    // The output is the winit window, which sits wholly on the X screen.
    let outputs = s.outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let output = &outputs[0];
    assert_eq!(output.name, "WINIT-1");
    let xwin = s.x_window();
    assert_eq!(
        (xwin.rect.width, xwin.rect.height),
        (output.mode_width, output.mode_height),
        "the winit window ({}) is not the output's size {}x{}",
        xwin.line,
        output.mode_width,
        output.mode_height
    );
    assert!(
        xwin.rect.x >= 0
            && xwin.rect.y >= 0
            && xwin.rect.x + xwin.rect.width <= SCREEN_W
            && xwin.rect.y + xwin.rect.height <= SCREEN_H,
        "the winit window ({}) does not fit the {SCREEN_W}x{SCREEN_H} X screen",
        xwin.line
    );

    let shm = s.open("weston-simple-shm", &[]);
    let foot = s.open("foot", &["-o", "shell=/bin/sh"]);
    let foot = s.wait_for_window(foot.id, "focused", |w| w.focused);
    let shm = s
        .windows()
        .into_iter()
        .find(|w| w.id == shm.id)
        .expect("simple-shm is still listed");
    // The pointer goes somewhere on the bare desktop, so that its cursor is out of the way.
    let (px, py) = (output.mode_width - 40, output.mode_height - 40);
    s.run_ok(&["input", "move", &px.to_string(), &py.to_string()]);

    // Wait until foot has drawn its prompt and nothing but simple-shm changes any more.
    let shm_box = grown(shm.geometry, 1);
    let foot_frame = frame_of(foot.geometry);
    let (_, after) = poll(
        CLIENT_TIMEOUT,
        "foot to draw and the picture to settle",
        || {
            let a = s.screenshot();
            let b = s.screenshot();
            let full = Geometry {
                x: 0,
                y: 0,
                width: a.width as i32,
                height: a.height as i32,
            };
            let (_, diff) = compare(&a, &b, full, &[shm_box]);
            if !diff.is_empty() {
                return Err(format!("still changing: {diff:?}"));
            }
            if a.distinct_colours(foot.geometry) < 2 {
                return Err("foot's content is one colour".into());
            }
            Ok((a, b))
        },
    );

    // What the X server shows, cut to the winit window, against pixman's picture of the same
    // moment: wherever nothing animates (everything but simple-shm and the cursor) they agree.
    // The nested window may be a frame behind the compositor, hence the poll.
    let full = Geometry {
        x: 0,
        y: 0,
        width: output.mode_width,
        height: output.mode_height,
    };
    let (shown, truth) = poll(
        CLIENT_TIMEOUT,
        "the nested window (GLES) to show what `porthole screenshot` (pixman) shows",
        || {
            let shown = cut(&s.xvfb.capture(), xwin.rect);
            let truth = s.screenshot();
            if (truth.width, truth.height) != (shown.width, shown.height) {
                return Err(format!(
                    "screenshot {}x{}, window {}x{}",
                    truth.width, truth.height, shown.width, shown.height
                ));
            }
            let (compared, wrong) = compare(&shown, &truth, full, &[shm_box, cursor_box(px, py)]);
            assert!(compared > 900_000, "only {compared} pixels compared");
            if wrong.is_empty() {
                Ok((shown, truth))
            } else {
                Err(format!("differences: {wrong:?}"))
            }
        },
    );
    // foot did not change meanwhile either.
    let (_, wrong) = compare(&truth, &after, foot_frame, &[]);
    assert!(wrong.is_empty(), "foot changed between pictures: {wrong:?}");

    // 1. The background colour outside the windows.
    let covered = [shm.geometry, foot_frame, cursor_box(px, py)];
    let mut wrong = Vec::new();
    let mut checked = 0;
    for y in (0..shown.height as i32).step_by(5) {
        for x in (0..shown.width as i32).step_by(5) {
            if covered.iter().any(|c| contains(grown(*c, 1), x, y)) {
                continue;
            }
            checked += 1;
            if !close(shown.pixel(x, y), BACKGROUND) {
                wrong.push(format!("({x},{y})={}", hex(shown.pixel(x, y))));
            }
        }
    }
    assert!(checked > 5000, "only {checked} background samples");
    assert!(
        wrong.is_empty(),
        "the nested window does not show the background {} outside the windows: {} wrong, e.g. \
         {:?}",
        hex(BACKGROUND),
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );

    // 2. simple-shm's animated pixels inside its geometry.
    let shm_colours = shown.distinct_colours(shm.geometry);
    assert!(
        shm_colours >= 3,
        "simple-shm's place shows {shm_colours} colour(s) in the nested window"
    );
    let shm_bg = shown.share_of(shm.geometry, BACKGROUND);
    assert!(
        shm_bg < 0.5,
        "{:.0}% of simple-shm's place shows the background",
        shm_bg * 100.0
    );
    let first = shown.region(shm.geometry);
    poll(
        Duration::from_secs(5),
        "simple-shm to animate on the X screen",
        || {
            let now = cut(&s.xvfb.capture(), xwin.rect).region(shm.geometry);
            if now != first {
                Ok(())
            } else {
                Err("two X captures were identical in simple-shm's place".into())
            }
        },
    );

    // 3. foot's server-side title bar, in the focused colour, right above its content.
    let g = foot.geometry;
    let title_bar = Geometry {
        x: g.x,
        y: g.y - TITLEBAR,
        width: g.width - 100, // the buttons sit at the right end
        height: TITLEBAR,
    };
    let bar = shown.region(title_bar);
    let share = bar.iter().filter(|p| close(**p, FOCUSED_FRAME)).count() as f64 / bar.len() as f64;
    assert!(
        // The title text covers a little of it.
        title_bar.width > 0 && share > 0.9,
        "only {:.1}% of foot's title bar {title_bar:?} shows {} in the nested window; at its \
         middle: {}",
        share * 100.0,
        hex(FOCUSED_FRAME),
        hex(shown.pixel(
            title_bar.x + title_bar.width / 2,
            title_bar.y + TITLEBAR / 2
        ))
    );
    for (what, x, y) in [
        ("left border", g.x - 1, g.y + g.height / 2),
        ("right border", g.x + g.width, g.y + g.height / 2),
        ("bottom border", g.x + g.width / 2, g.y + g.height),
    ] {
        let p = shown.pixel(x, y);
        assert!(
            close(p, FOCUSED_FRAME),
            "foot's {what} at ({x},{y}) shows {} not {}",
            hex(p),
            hex(FOCUSED_FRAME)
        );
    }
    // Just outside the frame is the desktop again.
    let f = foot_frame;
    for (x, y) in [
        (f.x - 1, f.y + f.height / 2),
        (f.x + f.width, f.y + f.height / 2),
        (f.x + f.width / 2, f.y - 1),
        (f.x + f.width / 2, f.y + f.height),
    ] {
        let on_output = x >= 0 && y >= 0 && x < output.mode_width && y < output.mode_height;
        if on_output && !contains(shm_box, x, y) {
            let p = shown.pixel(x, y);
            assert!(
                close(p, BACKGROUND),
                "just outside foot's frame at ({x},{y}) shows {} not {}",
                hex(p),
                hex(BACKGROUND)
            );
        }
    }

    // 4. The nested window draws the pointer, which the screenshot leaves out: a dark and a
    // light part (an arrow and its outline) where the desktop is otherwise plain.
    let cursor = shown.region(cursor_box(px, py));
    let dark = cursor.iter().any(|p| p[..3].iter().all(|c| *c < 0x18));
    let light = cursor.iter().any(|p| p[..3].iter().all(|c| *c > 0xe0));
    assert!(
        dark && light,
        "no cursor drawn at the pointer ({px},{py}) in the nested window"
    );
    assert_eq!(
        truth.share_of(cursor_box(px, py), BACKGROUND),
        1.0,
        "the screenshot leaves the cursor out"
    );
}

#[test]
fn typing_reaches_foot_in_the_nested_session() {
    let mut s = Nested::start();
    let foot = s.open("foot", &["-o", "shell=/bin/sh"]);
    s.wait_for_window(foot.id, "focused", |w| w.focused);

    let out = s.dir().join("typed.txt");
    let payload = "Nested, typed! 0-9 a_b=c+d @#%&*()[]{}<>?|~^\"";
    let line = format!("printf '%s\\n' '{payload}' > {}", out.display());
    s.run_ok(&["input", "type", &line]);
    s.run_ok(&["input", "key", "Return"]);
    let text = poll(
        CLIENT_TIMEOUT,
        "the shell in foot to write typed.txt",
        || match std::fs::read_to_string(&out) {
            Ok(t) if t.ends_with('\n') => Ok(t),
            Ok(t) => Err(format!("partial content {t:?}")),
            Err(e) => Err(e.to_string()),
        },
    );
    assert_eq!(text, format!("{payload}\n"));
}

#[test]
fn quit_closes_the_nested_window_and_exits_zero() {
    let mut s = Nested::start();
    s.open("weston-simple-shm", &[]);
    let xwin = s.x_window();
    let control = s.dir().join("porthole/control.sock");
    assert!(
        control.exists(),
        "no control socket at {}",
        control.display()
    );

    s.run_ok(&["quit"]);
    let status = poll(CLIENT_TIMEOUT, "the compositor to exit", || {
        s.exit_status().ok_or_else(|| "still running".to_owned())
    });
    assert!(
        status.success(),
        "`porthole serve --backend winit` exited with {status}"
    );
    let left = s.xvfb.top_level_windows();
    assert!(
        left.is_empty(),
        "the winit window ({}) is still on the X screen: {left:?}",
        xwin.line
    );
    assert!(!control.exists(), "the control socket is left behind");
}
