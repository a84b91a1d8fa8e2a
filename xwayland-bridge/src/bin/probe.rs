//! `porthole-x11-probe`: a small X11 client that the tests run inside containers
//! against the container's Xwayland.
//!
//! Subcommands:
//!
//! * `shm` — round-trips an image through MIT-SHM (`PutImage` from one SysV
//!   segment into a pixmap, `GetImage` back into another) and compares the two.
//!   Prints `shm ok 64x48 ipc=<ipc namespace>` on success. With `--rounds N` (0: for ever) it
//!   keeps the segments and repeats, printing `shm ok round N` for each round that matched.
//! * `menu` — maps a toplevel, then an override-redirect "menu" at a fixed
//!   offset from it and a transient dialog, and prints where things went.
//! * `window` — a plain, long-lived toplevel with a given name and colour.
//!
//! All stdout lines are flushed as soon as they are printed so that a test
//! reading the probe's output through a pipe sees them immediately.

use std::io::Write;
use std::process::ExitCode;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateGCAux, CreateWindowAux, EventMask,
    ImageFormat, ImageOrder, PropMode, Screen, Window, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::COPY_DEPTH_FROM_PARENT;

/// Width of the MIT-SHM test image.
const SHM_WIDTH: u16 = 64;
/// Height of the MIT-SHM test image.
const SHM_HEIGHT: u16 = 48;
/// Offset of the override-redirect menu from the parent's origin.
const MENU_OFFSET: (i16, i16) = (40, 50);
/// How long to wait for the first Expose after a MapNotify before moving on.
const EXPOSE_TIMEOUT: Duration = Duration::from_secs(1);

x11rb::atom_manager! {
    /// The atoms the probe sets on its windows.
    Atoms: AtomsCookie {
        WM_PROTOCOLS,
        WM_DELETE_WINDOW,
        UTF8_STRING,
        _NET_WM_NAME,
        _NET_WM_WINDOW_TYPE,
        _NET_WM_WINDOW_TYPE_DIALOG,
        PORTHOLE_PROBE_FLOOD,
    }
}

/// Command line of `porthole-x11-probe`.
#[derive(Parser, Debug)]
#[command(
    name = "porthole-x11-probe",
    about = "X11 test client for Porthole's Xwayland"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The probe's subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Round-trip an image through MIT-SHM and compare it.
    Shm {
        /// Round trips through the same two segments, each with a new picture; 0 for ever.
        /// With more than one, each prints `shm ok round N` (or what differed, and exits).
        #[arg(long, default_value_t = 1)]
        rounds: u32,
        /// Pause between round trips, in milliseconds.
        #[arg(long, default_value_t = 500)]
        every_ms: u64,
    },
    /// Map a toplevel, then an override-redirect menu and a transient dialog.
    Menu {
        /// Delay between the parent being mapped and the menu being created.
        #[arg(long, default_value_t = 300)]
        delay_ms: u64,
    },
    /// Map a lone override-redirect window (like a splash screen or a notification), with no
    /// toplevel it could belong to, and keep it alive.
    Splash {
        /// Background colour, `0xRRGGBB` (also `#RRGGBB` or `RRGGBB`).
        #[arg(long, default_value = "0xc02080", value_parser = parse_color)]
        color: u32,
        /// Window size, `WxH`.
        #[arg(long, default_value = "200x120", value_parser = parse_size)]
        size: (u16, u16),
    },
    /// Map a toplevel, then change its properties `changes` times as fast as the X server takes
    /// them (64 KiB titles, icon names, a property of its own), name it "after the flood", say
    /// "flooded" and keep it alive.
    Flood {
        /// How many rounds of changes.
        #[arg(long, default_value_t = 10_000)]
        changes: u32,
    },
    /// Map a plain named toplevel and keep it alive.
    Window {
        /// WM_NAME / _NET_WM_NAME of the window.
        #[arg(long)]
        name: String,
        /// Background colour, `0xRRGGBB` (also `#RRGGBB` or `RRGGBB`).
        #[arg(long, default_value = "0x808080", value_parser = parse_color)]
        color: u32,
        /// Window size, `WxH`.
        #[arg(long, default_value = "300x200", value_parser = parse_size)]
        size: (u16, u16),
    },
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Shm { rounds, every_ms } => run_shm(rounds, Duration::from_millis(every_ms)),
        Command::Menu { delay_ms } => run_menu(Duration::from_millis(delay_ms)),
        Command::Splash { color, size } => run_splash(color, size),
        Command::Window { name, color, size } => run_window(&name, color, size),
        Command::Flood { changes } => run_flood(changes),
    }
}

/// Parses a colour given as `0xRRGGBB`, `#RRGGBB` or `RRGGBB`.
fn parse_color(text: &str) -> Result<u32, String> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .or_else(|| text.strip_prefix('#'))
        .unwrap_or(text);
    let value = u32::from_str_radix(hex, 16).map_err(|e| format!("bad colour {text:?}: {e}"))?;
    if value > 0xff_ffff {
        return Err(format!("colour {text:?} is wider than 0xRRGGBB"));
    }
    Ok(value)
}

/// Parses a size given as `WxH`, both non-zero.
fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("bad size {text:?}: expected WxH"))?;
    let parse = |part: &str| -> Result<u16, String> {
        match part.trim().parse::<u16>() {
            Ok(0) => Err(format!("bad size {text:?}: zero dimension")),
            Ok(v) => Ok(v),
            Err(e) => Err(format!("bad size {text:?}: {e}")),
        }
    };
    Ok((parse(w)?, parse(h)?))
}

/// Prints one line to stdout and flushes it.
fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("writing to stdout")?;
    out.flush().context("flushing stdout")
}

/// Connects to `$DISPLAY` and returns the connection and the default screen number.
fn connect() -> Result<(RustConnection, usize)> {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    x11rb::connect(None).with_context(|| format!("connecting to X display {display:?}"))
}

/// Waits until the server has processed every request sent so far.
fn sync(conn: &RustConnection) -> Result<()> {
    conn.get_input_focus()
        .context("sending GetInputFocus")?
        .reply()
        .context("syncing with the X server (GetInputFocus)")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// shm
// ---------------------------------------------------------------------------

/// A SysV shared-memory segment attached to this process.
///
/// Dropping it detaches it and, if not done yet, marks it for removal.
struct SysvSegment {
    id: libc::c_int,
    addr: NonNull<u8>,
    len: usize,
    removed: bool,
}

impl SysvSegment {
    /// Creates a private 0600 segment of `len` bytes and attaches it.
    fn create(len: usize) -> Result<Self> {
        // SAFETY: plain syscall wrapper; arguments are valid.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, len, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("shmget of a {len}-byte segment"));
        }
        // SAFETY: `id` is a segment we just created; a null address lets the kernel choose.
        let raw = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        if raw as isize == -1 {
            let err = std::io::Error::last_os_error();
            // SAFETY: remove the segment we created so it does not leak.
            unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
            return Err(err).with_context(|| format!("shmat of segment {id}"));
        }
        let addr = NonNull::new(raw.cast::<u8>()).ok_or_else(|| anyhow!("shmat returned null"))?;
        Ok(Self {
            id,
            addr,
            len,
            removed: false,
        })
    }

    /// The segment id, as passed to `ShmAttach`.
    fn shmid(&self) -> u32 {
        // shmget never returns a negative id on success.
        self.id as u32
    }

    /// Marks the segment for removal once every attachment (ours and X's) is gone.
    fn mark_removed(&mut self) -> Result<()> {
        if self.removed {
            return Ok(());
        }
        // SAFETY: plain syscall on a segment we own.
        if unsafe { libc::shmctl(self.id, libc::IPC_RMID, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("shmctl(IPC_RMID) of segment {}", self.id));
        }
        self.removed = true;
        Ok(())
    }

    /// Writes `pixels` as 32-bit words in the given byte order, starting at offset 0.
    fn write_pixels(&mut self, pixels: &[u32], order: ImageOrder) {
        let bytes = pixels.len() * 4;
        assert!(bytes <= self.len, "pixel data larger than the segment");
        for (i, &p) in pixels.iter().enumerate() {
            let word = encode_pixel(p, order);
            // SAFETY: in bounds (checked above); the mapping is writable and 4-aligned
            // (shmat returns page-aligned addresses).
            unsafe {
                self.addr
                    .as_ptr()
                    .cast::<[u8; 4]>()
                    .add(i)
                    .write_volatile(word)
            };
        }
    }

    /// Reads `count` 32-bit pixels in the given byte order, starting at offset 0.
    ///
    /// Volatile reads: the X server writes this memory behind the compiler's back.
    fn read_pixels(&self, count: usize, order: ImageOrder) -> Vec<u32> {
        assert!(count * 4 <= self.len, "pixel count larger than the segment");
        (0..count)
            .map(|i| {
                // SAFETY: in bounds (checked above) and the mapping is readable.
                let word = unsafe { self.addr.as_ptr().cast::<[u8; 4]>().add(i).read_volatile() };
                decode_pixel(word, order)
            })
            .collect()
    }
}

impl Drop for SysvSegment {
    fn drop(&mut self) {
        if let Err(e) = self.mark_removed() {
            eprintln!("porthole-x11-probe: {e:#}");
        }
        // SAFETY: `addr` came from shmat and is detached exactly once, here.
        unsafe { libc::shmdt(self.addr.as_ptr().cast()) };
    }
}

/// Encodes one 32-bit pixel in the server's image byte order.
fn encode_pixel(pixel: u32, order: ImageOrder) -> [u8; 4] {
    if order == ImageOrder::MSB_FIRST {
        pixel.to_be_bytes()
    } else {
        pixel.to_le_bytes()
    }
}

/// Decodes one 32-bit pixel from the server's image byte order.
fn decode_pixel(bytes: [u8; 4], order: ImageOrder) -> u32 {
    if order == ImageOrder::MSB_FIRST {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

/// The known test pattern: pixel (x, y) = 0x00RRGGBB with r = x*4, g = y*5, b = 0x80.
fn test_pattern(width: u16, height: u16) -> Vec<u32> {
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height));
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            let r = (x * 4) & 0xff;
            let g = (y * 5) & 0xff;
            pixels.push((r << 16) | (g << 8) | 0x80);
        }
    }
    pixels
}

/// Fails unless the server supports MIT-SHM; returns its version.
fn require_mit_shm(conn: &RustConnection) -> Result<(u16, u16)> {
    let present = conn
        .extension_information(shm::X11_EXTENSION_NAME)
        .context("querying the MIT-SHM extension")?
        .is_some();
    if !present {
        bail!("the X server does not support the MIT-SHM extension");
    }
    let reply = conn
        .shm_query_version()
        .context("sending ShmQueryVersion")?
        .reply()
        .context("MIT-SHM QueryVersion failed")?;
    Ok((reply.major_version, reply.minor_version))
}

/// Checks that the root depth's pixmap format stores 32 bits per pixel.
fn require_32bpp(conn: &RustConnection, depth: u8) -> Result<()> {
    let format = conn
        .setup()
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .ok_or_else(|| anyhow!("no pixmap format for the root depth {depth}"))?;
    if format.bits_per_pixel != 32 {
        bail!(
            "root depth {depth} uses {} bits per pixel; the probe only handles 32",
            format.bits_per_pixel
        );
    }
    Ok(())
}

/// Attaches `segment` to the X server, waits until the server has done so, then
/// marks it for removal so nothing leaks if either side dies.
fn attach_to_x(conn: &RustConnection, segment: &mut SysvSegment) -> Result<shm::Seg> {
    let seg = conn.generate_id().context("allocating a ShmSeg id")?;
    conn.shm_attach(seg, segment.shmid(), false)
        .context("sending ShmAttach")?
        .check()
        .with_context(|| format!("X server failed to attach SysV segment {}", segment.id))?;
    segment.mark_removed()?;
    Ok(seg)
}

/// The `ipc` namespace of this process, as `readlink /proc/self/ns/ipc` shows it.
fn ipc_namespace() -> Result<String> {
    let link = std::fs::read_link("/proc/self/ns/ipc").context("reading /proc/self/ns/ipc")?;
    Ok(link.to_string_lossy().into_owned())
}

/// Describes the differences between `expected` and `actual` on the low 24 bits,
/// or `None` if they match.
fn compare_images(expected: &[u32], actual: &[u32], width: u16) -> Option<String> {
    let width = usize::from(width);
    let mut differing = expected
        .iter()
        .zip(actual)
        .enumerate()
        .filter(|(_, (e, a))| (*e ^ *a) & 0x00ff_ffff != 0);
    let (first, (e, a)) = differing.next()?;
    let count = 1 + differing.count();
    Some(format!(
        "shm mismatch: {count} of {} pixels differ; first at ({},{}): expected 0x{:06x}, got 0x{:06x}",
        expected.len(),
        first % width,
        first / width,
        e & 0x00ff_ffff,
        a & 0x00ff_ffff,
    ))
}

/// The `shm` subcommand.
fn run_shm(rounds: u32, every: Duration) -> Result<ExitCode> {
    let (conn, screen_num) = connect()?;
    require_mit_shm(&conn)?;
    let screen = &conn.setup().roots[screen_num];
    let (root, depth) = (screen.root, screen.root_depth);
    require_32bpp(&conn, depth)?;
    let order = conn.setup().image_byte_order;
    let (w, h) = (SHM_WIDTH, SHM_HEIGHT);
    let len = usize::from(w) * usize::from(h) * 4;
    let z_pixmap = u8::from(ImageFormat::Z_PIXMAP);

    let pixmap = conn.generate_id().context("allocating a pixmap id")?;
    conn.create_pixmap(depth, pixmap, root, w, h)
        .context("sending CreatePixmap")?
        .check()
        .with_context(|| format!("creating a {w}x{h} pixmap of depth {depth}"))?;
    let gc = conn.generate_id().context("allocating a GC id")?;
    conn.create_gc(gc, pixmap, &CreateGCAux::new())
        .context("sending CreateGC")?
        .check()
        .context("creating a GC for the pixmap")?;

    let mut seg_a = SysvSegment::create(len).context("creating SysV segment A")?;
    let xseg_a = attach_to_x(&conn, &mut seg_a).context("attaching segment A")?;
    let mut seg_b = SysvSegment::create(len).context("creating SysV segment B")?;
    let xseg_b = attach_to_x(&conn, &mut seg_b).context("attaching segment B")?;

    // The segments stay attached across rounds (and across a checkpoint of the container, when
    // the test takes one between rounds): each round checks what X reads and writes in them.
    let mut round = 0u32;
    let mismatch = loop {
        round += 1;
        let expected: Vec<u32> = test_pattern(w, h)
            .into_iter()
            .map(|p| p ^ (round.wrapping_mul(0x0001_0307) & 0x00ff_ffff))
            .collect();
        seg_a.write_pixels(&expected, order);
        conn.shm_put_image(
            pixmap, gc, w, h, 0, 0, w, h, 0, 0, depth, z_pixmap, false, xseg_a, 0,
        )
        .context("sending ShmPutImage")?
        .check()
        .context("ShmPutImage from segment A into the pixmap")?;
        seg_b.write_pixels(&vec![0; expected.len()], order);
        conn.shm_get_image(pixmap, 0, 0, w, h, !0, z_pixmap, xseg_b, 0)
            .context("sending ShmGetImage")?
            .reply()
            .context("ShmGetImage from the pixmap into segment B")?;
        sync(&conn)?;
        let actual = seg_b.read_pixels(expected.len(), order);
        let mismatch = compare_images(&expected, &actual, w);
        if mismatch.is_some() || round == rounds {
            break mismatch;
        }
        say(&format!("shm ok round {round}"))?;
        std::thread::sleep(every);
    };

    // Best-effort cleanup on the server side; our segments detach on drop.
    for seg in [xseg_a, xseg_b] {
        conn.shm_detach(seg).context("sending ShmDetach")?;
    }
    conn.free_gc(gc).context("sending FreeGC")?;
    conn.free_pixmap(pixmap).context("sending FreePixmap")?;
    sync(&conn)?;

    match mismatch {
        Some(report) => {
            say(&report)?;
            Ok(ExitCode::FAILURE)
        }
        None => {
            say(&format!("shm ok {w}x{h} ipc={}", ipc_namespace()?))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

// ---------------------------------------------------------------------------
// windows
// ---------------------------------------------------------------------------

/// What a toplevel window should look like.
struct ToplevelSpec<'a> {
    name: &'a str,
    background: u32,
    width: u16,
    height: u16,
}

/// Event mask used by every probe window.
fn probe_event_mask() -> EventMask {
    EventMask::EXPOSURE | EventMask::STRUCTURE_NOTIFY
}

/// Sets a STRING property (WM_NAME, WM_CLASS, ...).
fn set_string(conn: &RustConnection, win: Window, prop: AtomEnum, value: &[u8]) -> Result<()> {
    conn.change_property8(PropMode::REPLACE, win, prop, AtomEnum::STRING, value)
        .with_context(|| format!("setting {prop:?} on window 0x{win:x}"))?;
    Ok(())
}

/// Sets WM_NAME and _NET_WM_NAME.
fn set_names(conn: &RustConnection, atoms: &Atoms, win: Window, name: &str) -> Result<()> {
    set_string(conn, win, AtomEnum::WM_NAME, name.as_bytes())?;
    conn.change_property8(
        PropMode::REPLACE,
        win,
        atoms._NET_WM_NAME,
        atoms.UTF8_STRING,
        name.as_bytes(),
    )
    .with_context(|| format!("setting _NET_WM_NAME on window 0x{win:x}"))?;
    Ok(())
}

/// Creates (but does not map) a managed toplevel with names, WM_CLASS and
/// WM_PROTOCOLS = [WM_DELETE_WINDOW].
fn create_toplevel(
    conn: &RustConnection,
    screen: &Screen,
    atoms: &Atoms,
    spec: &ToplevelSpec,
) -> Result<Window> {
    let win = conn.generate_id().context("allocating a window id")?;
    let aux = CreateWindowAux::new()
        .background_pixel(spec.background)
        .event_mask(probe_event_mask());
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        0,
        0,
        spec.width,
        spec.height,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &aux,
    )
    .with_context(|| format!("creating toplevel {:?}", spec.name))?;
    set_names(conn, atoms, win, spec.name)?;
    set_string(conn, win, AtomEnum::WM_CLASS, b"probe\0Probe\0")?;
    conn.change_property32(
        PropMode::REPLACE,
        win,
        atoms.WM_PROTOCOLS,
        AtomEnum::ATOM,
        &[atoms.WM_DELETE_WINDOW],
    )
    .with_context(|| format!("setting WM_PROTOCOLS on window 0x{win:x}"))?;
    Ok(win)
}

/// Creates and maps an override-redirect window at root coordinates (`x`, `y`).
fn create_override_redirect(
    conn: &RustConnection,
    screen: &Screen,
    (x, y): (i16, i16),
    (width, height): (u16, u16),
    background: u32,
) -> Result<Window> {
    let win = conn.generate_id().context("allocating a window id")?;
    let aux = CreateWindowAux::new()
        .background_pixel(background)
        .override_redirect(1)
        .event_mask(probe_event_mask());
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        x,
        y,
        width,
        height,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &aux,
    )
    .context("creating the override-redirect menu")?;
    conn.map_window(win).context("mapping the menu")?;
    Ok(win)
}

/// What the probe does with an event that is not the one it is waiting for.
enum Handled {
    /// Keep going.
    Continue,
    /// The window manager asked a probe window to close.
    CloseRequested,
}

/// Default handling for events: repaint on Expose, note close requests, log X errors.
fn handle_event(conn: &RustConnection, atoms: &Atoms, event: &Event) -> Result<Handled> {
    match event {
        Event::Expose(e) if e.count == 0 => {
            conn.clear_area(false, e.window, 0, 0, 0, 0)
                .with_context(|| format!("clearing window 0x{:x}", e.window))?;
            conn.flush().context("flushing the X connection")?;
        }
        Event::ClientMessage(e) if is_delete_request(atoms, e) => {
            return Ok(Handled::CloseRequested)
        }
        Event::Error(e) => eprintln!("porthole-x11-probe: X error: {e:?}"),
        _ => {}
    }
    Ok(Handled::Continue)
}

/// Whether a client message is WM_PROTOCOLS / WM_DELETE_WINDOW.
fn is_delete_request(atoms: &Atoms, event: &ClientMessageEvent) -> bool {
    event.type_ == atoms.WM_PROTOCOLS
        && event.format == 32
        && event.data.as_data32()[0] == atoms.WM_DELETE_WINDOW
}

/// Blocks until `window` gets a MapNotify, handling other events on the way.
fn wait_for_map(conn: &RustConnection, atoms: &Atoms, window: Window) -> Result<Handled> {
    loop {
        let event = conn
            .wait_for_event()
            .with_context(|| format!("waiting for MapNotify on window 0x{window:x}"))?;
        if matches!(&event, Event::MapNotify(e) if e.window == window) {
            return Ok(Handled::Continue);
        }
        if let Handled::CloseRequested = handle_event(conn, atoms, &event)? {
            return Ok(Handled::CloseRequested);
        }
    }
}

/// Handles events until `deadline`, returning early once `stop` matches an
/// event (which is handled too) or a close is requested.
fn pump_until(
    conn: &RustConnection,
    atoms: &Atoms,
    deadline: Instant,
    stop: impl Fn(&Event) -> bool,
) -> Result<Handled> {
    while Instant::now() < deadline {
        let Some(event) = conn.poll_for_event().context("polling for X events")? else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if let Handled::CloseRequested = handle_event(conn, atoms, &event)? {
            return Ok(Handled::CloseRequested);
        }
        if stop(&event) {
            break;
        }
    }
    Ok(Handled::Continue)
}

/// Handles events forever; returns when a close is requested or the connection drops.
fn event_loop(conn: &RustConnection, atoms: &Atoms) -> Result<ExitCode> {
    loop {
        let event = match conn.wait_for_event() {
            Ok(event) => event,
            Err(e) => {
                eprintln!("porthole-x11-probe: X connection closed: {e}");
                return Ok(ExitCode::SUCCESS);
            }
        };
        if let Handled::CloseRequested = handle_event(conn, atoms, &event)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// Interns the probe's atoms.
fn intern_atoms(conn: &RustConnection) -> Result<Atoms> {
    Atoms::new(conn)
        .context("sending InternAtom requests")?
        .reply()
        .context("interning atoms")
}

/// Root coordinates of `window`'s origin.
fn root_position(conn: &RustConnection, root: Window, window: Window) -> Result<(i16, i16)> {
    let reply = conn
        .translate_coordinates(window, root, 0, 0)
        .context("sending TranslateCoordinates")?
        .reply()
        .with_context(|| format!("translating window 0x{window:x} to root coordinates"))?;
    Ok((reply.dst_x, reply.dst_y))
}

/// Creates and maps a dialog transient for `parent`; returns it once mapped.
fn create_dialog(
    conn: &RustConnection,
    screen: &Screen,
    atoms: &Atoms,
    parent: Window,
) -> Result<Window> {
    let spec = ToplevelSpec {
        name: "probe-dialog",
        background: 0x20c040,
        width: 200,
        height: 100,
    };
    let dialog = create_toplevel(conn, screen, atoms, &spec)?;
    conn.change_property32(
        PropMode::REPLACE,
        dialog,
        AtomEnum::WM_TRANSIENT_FOR,
        AtomEnum::WINDOW,
        &[parent],
    )
    .context("setting WM_TRANSIENT_FOR on the dialog")?;
    conn.change_property32(
        PropMode::REPLACE,
        dialog,
        atoms._NET_WM_WINDOW_TYPE,
        AtomEnum::ATOM,
        &[atoms._NET_WM_WINDOW_TYPE_DIALOG],
    )
    .context("setting _NET_WM_WINDOW_TYPE on the dialog")?;
    conn.map_window(dialog).context("mapping the dialog")?;
    conn.flush().context("flushing the X connection")?;
    Ok(dialog)
}

/// Maps `window` and waits for its MapNotify and (briefly) its first Expose.
fn map_and_wait(conn: &RustConnection, atoms: &Atoms, window: Window) -> Result<Handled> {
    conn.map_window(window).context("sending MapWindow")?;
    conn.flush().context("flushing the X connection")?;
    if let Handled::CloseRequested = wait_for_map(conn, atoms, window)? {
        return Ok(Handled::CloseRequested);
    }
    pump_until(
        conn,
        atoms,
        Instant::now() + EXPOSE_TIMEOUT,
        |event| matches!(event, Event::Expose(e) if e.window == window),
    )
}

/// The `menu` subcommand.
fn run_menu(delay: Duration) -> Result<ExitCode> {
    let (conn, screen_num) = connect()?;
    let screen = &conn.setup().roots[screen_num];
    let atoms = intern_atoms(&conn)?;

    let spec = ToplevelSpec {
        name: "probe-parent",
        background: 0x2060c0,
        width: 300,
        height: 200,
    };
    let parent = create_toplevel(&conn, screen, &atoms, &spec)?;
    if let Handled::CloseRequested = map_and_wait(&conn, &atoms, parent)? {
        return Ok(ExitCode::SUCCESS);
    }
    if let Handled::CloseRequested = pump_until(&conn, &atoms, Instant::now() + delay, |_| false)? {
        return Ok(ExitCode::SUCCESS);
    }

    let (px, py) = root_position(&conn, screen.root, parent)?;
    say(&format!("parent {px},{py}"))?;
    let (dx, dy) = MENU_OFFSET;
    let (mx, my) = (px.saturating_add(dx), py.saturating_add(dy));
    let menu = create_override_redirect(&conn, screen, (mx, my), (120, 80), 0xe0c020)?;
    conn.flush().context("flushing the X connection")?;
    if let Handled::CloseRequested = wait_for_map(&conn, &atoms, menu)? {
        return Ok(ExitCode::SUCCESS);
    }
    say(&format!("menu at {mx},{my} offset {dx},{dy}"))?;

    let dialog = create_dialog(&conn, screen, &atoms, parent)?;
    if let Handled::CloseRequested = wait_for_map(&conn, &atoms, dialog)? {
        return Ok(ExitCode::SUCCESS);
    }
    say("dialog mapped")?;

    event_loop(&conn, &atoms)
}

/// The `splash` subcommand: prints `splash mapped 0x<id>` once X reports it mapped.
fn run_splash(background: u32, size: (u16, u16)) -> Result<ExitCode> {
    let (conn, screen_num) = connect()?;
    let screen = &conn.setup().roots[screen_num];
    let atoms = intern_atoms(&conn)?;
    let win = create_override_redirect(&conn, screen, (100, 100), size, background)?;
    conn.flush().context("flushing the X connection")?;
    if let Handled::CloseRequested = wait_for_map(&conn, &atoms, win)? {
        return Ok(ExitCode::SUCCESS);
    }
    say(&format!("splash mapped 0x{win:x}"))?;
    event_loop(&conn, &atoms)
}

/// The `window` subcommand.
fn run_window(name: &str, background: u32, (width, height): (u16, u16)) -> Result<ExitCode> {
    let begun = Instant::now();
    let (conn, screen_num) = connect()?;
    let screen = &conn.setup().roots[screen_num];
    let atoms = intern_atoms(&conn)?;
    let spec = ToplevelSpec {
        name,
        background,
        width,
        height,
    };
    let win = create_toplevel(&conn, screen, &atoms, &spec)?;
    conn.map_window(win).context("sending MapWindow")?;
    conn.flush().context("flushing the X connection")?;
    if let Handled::CloseRequested = wait_for_map(&conn, &atoms, win)? {
        return Ok(ExitCode::SUCCESS);
    }
    // How long the first window took from connecting (which may start a lazy X server) to its
    // MapNotify; the benchmark reads it.
    let ms = begun.elapsed().as_secs_f64() * 1000.0;
    say(&format!("mapped 0x{win:x} {ms:.1} ms after connecting"))?;
    event_loop(&conn, &atoms)
}

/// The `flood` subcommand.
fn run_flood(changes: u32) -> Result<ExitCode> {
    let (conn, screen_num) = connect()?;
    let screen = &conn.setup().roots[screen_num];
    let atoms = intern_atoms(&conn)?;
    let spec = ToplevelSpec {
        name: "flood-target",
        background: 0x808080,
        width: 200,
        height: 100,
    };
    let win = create_toplevel(&conn, screen, &atoms, &spec)?;
    if let Handled::CloseRequested = map_and_wait(&conn, &atoms, win)? {
        return Ok(ExitCode::SUCCESS);
    }
    let filler = "x".repeat(64 * 1024);
    for i in 0..changes {
        set_names(&conn, &atoms, win, &format!("{i} {filler}"))?;
        set_string(
            &conn,
            win,
            AtomEnum::WM_ICON_NAME,
            format!("icon {i}").as_bytes(),
        )?;
        conn.change_property32(
            PropMode::APPEND,
            win,
            atoms.PORTHOLE_PROBE_FLOOD,
            AtomEnum::CARDINAL,
            &[i],
        )
        .context("appending to the flood property")?;
        if i % 256 == 255 {
            // A round trip now and then, so that the X server, not this client, holds the backlog.
            conn.get_input_focus()
                .context("sending GetInputFocus")?
                .reply()
                .context("waiting for the X server")?;
        }
    }
    set_names(&conn, &atoms, win, "after the flood")?;
    conn.flush().context("flushing the X connection")?;
    say("flooded")?;
    event_loop(&conn, &atoms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("0x2060c0"), Ok(0x2060c0));
        assert_eq!(parse_color("#E0C020"), Ok(0xe0c020));
        assert_eq!(parse_color("20c040"), Ok(0x20c040));
        assert!(parse_color("0x1000000").is_err());
        assert!(parse_color("blue").is_err());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("300x200"), Ok((300, 200)));
        assert!(parse_size("300").is_err());
        assert!(parse_size("0x10").is_err());
    }

    #[test]
    fn pattern_and_compare() {
        let a = test_pattern(SHM_WIDTH, SHM_HEIGHT);
        assert_eq!(a[0], 0x000080);
        assert_eq!(a[usize::from(SHM_WIDTH) + 1], 0x040580);
        let mut b: Vec<u32> = a.iter().map(|p| p | 0xff00_0000).collect();
        assert_eq!(compare_images(&a, &b, SHM_WIDTH), None);
        b[70] ^= 1;
        let report = compare_images(&a, &b, SHM_WIDTH).expect("mismatch");
        assert!(report.contains("1 of 3072"), "{report}");
        assert!(report.contains("(6,1)"), "{report}");
    }

    #[test]
    fn pixel_byte_order_round_trips() {
        for order in [ImageOrder::LSB_FIRST, ImageOrder::MSB_FIRST] {
            assert_eq!(
                decode_pixel(encode_pixel(0x12345678, order), order),
                0x12345678
            );
        }
    }
}
