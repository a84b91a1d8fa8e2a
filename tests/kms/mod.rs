//! Porthole as the desktop session of a real Linux kernel: `porthole serve --backend drm` in a
//! QEMU guest (software emulation; `PORTHOLE_KMS_ACCEL=kvm` where KVM works) with a virtio-gpu display and
//! virtio keyboard and tablet. The guest runs Debian's kernel and the host's own root filesystem
//! read-only over 9p, so it runs the porthole binary just built and Debian's real clients: foot,
//! weston-simple-shm, and weston-simple-dmabuf-egl, which renders with EGL on the GPU device and
//! hands its buffers over through linux-dmabuf. The host reads the display through QEMU's monitor
//! (`screendump`) and drives input through it (`input-send-event`), and asks the guest for
//! `porthole windows` over the serial console.
//!
//! `tests/kms/build-guest.sh` builds the kernel and initramfs; `tests/kms/guest.sh` is what runs
//! inside.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use porthole_ipc::{Geometry, OutputInfo, WindowInfo};

use crate::common::*;

/// From QEMU's start to the guest's ready line: ~25 s on 2 cores without KVM.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// One command answered by the guest.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The virtio-gpu display's size, set on QEMU's command line.
const WIDTH: i32 = 1024;
const HEIGHT: i32 = 768;
/// foot's background in the guest (`colors.background=203040`).
const FOOT_BACKGROUND: [u8; 4] = [0x20, 0x30, 0x40, 0xff];

/// A booted guest: QEMU, its serial console and its monitor.
struct Guest {
    qemu: Child,
    console: ChildStdin,
    lines: Receiver<String>,
    /// Everything the guest printed, for failure messages.
    seen: Vec<String>,
    qmp: BufReader<UnixStream>,
    /// The VNC connections that asked for a display size, kept open.
    vnc: Vec<UnixStream>,
    dir: PathBuf,
    shots: u32,
    /// QEMU emulating the guest's two CPUs keeps two cores busy: the guest holds the machine
    /// alone, so that no other test's timing depends on it. Dropped last, once QEMU is gone.
    _machine: machine::Hold,
}

impl Guest {
    /// Builds the guest (kernel and initramfs, kept between runs) and boots it until its ready
    /// line.
    fn boot() -> Self {
        let machine = machine::alone();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let guest_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kms-guest");
        let built = Command::new(root.join("tests/kms/build-guest.sh"))
            .arg(&guest_dir)
            .output()
            .expect("cannot run tests/kms/build-guest.sh");
        assert!(
            built.status.success(),
            "building the guest failed:\n{}{}",
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&built.stdout));

        let dir = tempfile::Builder::new()
            .prefix("porthole-kms-")
            .tempdir()
            .unwrap()
            .keep();
        let qmp_path = dir.join("qmp.sock");
        // The guest mounts the checkout and the binary's directory under /run/porthole (see
        // tests/kms/init): its /tmp is its own, and a checkout may live in the host's.
        let bin = Path::new(PORTHOLE);
        let append = format!(
            "console=ttyS0 quiet loglevel=4 panic=-1 \
             porthole.script=/run/porthole/repo/tests/kms/guest.sh \
             porthole.bin=/run/porthole/bin/{}",
            bin.file_name().unwrap().to_str().unwrap()
        );
        let share = |path: &Path, tag: &str| {
            format!(
                "local,path={},mount_tag={tag},security_model=none,readonly=on,multidevs=remap",
                path.display()
            )
        };
        // Software emulation unless asked: a /dev/kvm that opens is no promise that KVM works (on
        // this kind of machine it exists and the guest then hangs).
        let accel = std::env::var("PORTHOLE_KMS_ACCEL").unwrap_or_else(|_| "tcg".into());
        let mut qemu = Command::new("qemu-system-x86_64")
            .args(["-accel", &accel, "-m", "2048", "-smp", "2"])
            .args(["-nodefaults", "-no-reboot", "-display", "none"])
            // A VNC server per head, only so that the test can resize and plug displays as a
            // viewer does (see `resize_display`).
            .arg("-vnc")
            .arg(format!("unix:{},id=vnc0", dir.join("vnc0.sock").display()))
            .arg("-vnc")
            .arg(format!(
                "unix:{},id=vnc1,display=gpu,head=1",
                dir.join("vnc1.sock").display()
            ))
            .arg("-kernel")
            .arg(guest_dir.join("vmlinuz"))
            .arg("-initrd")
            .arg(guest_dir.join("initrd.gz"))
            .args(["-append", &append, "-serial", "stdio"])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp_path.display()))
            .args(["-vga", "none"])
            // Two heads: the second is unplugged until a viewer asks for it.
            .args([
                "-device",
                &format!("virtio-gpu-pci,id=gpu,max_outputs=2,xres={WIDTH},yres={HEIGHT}"),
            ])
            .args([
                "-device",
                "virtio-keyboard-pci",
                "-device",
                "virtio-tablet-pci",
            ])
            .args(["-virtfs", &share(Path::new("/"), "hostroot")])
            .args(["-virtfs", &share(root, "repo")])
            .args(["-virtfs", &share(bin.parent().unwrap(), "bin")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start qemu-system-x86_64: run .ci/install-deps");
        let console = qemu.stdin.take().unwrap();
        let stdout = qemu.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The monitor's socket exists once QEMU has parsed its options.
        let qmp = poll(Duration::from_secs(30), "QEMU's monitor socket", || {
            UnixStream::connect(&qmp_path).map_err(|e| e.to_string())
        });
        let mut guest = Guest {
            qemu,
            console,
            lines,
            seen: Vec::new(),
            qmp: BufReader::new(qmp),
            vnc: Vec::new(),
            dir,
            shots: 0,
            _machine: machine,
        };
        guest.qmp_greeting();
        let started = Instant::now();
        guest.wait_for("GUEST_READY", BOOT_TIMEOUT);
        eprintln!(
            "guest ready in {:.1} s ({accel})",
            started.elapsed().as_secs_f64()
        );
        guest
    }

    /// Reads console lines until one contains `marker`; returns the lines before it.
    fn wait_for(&mut self, marker: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains("GUEST_FAILED") {
                        self.fail(&format!("the guest failed: {line}"));
                    }
                    if line.contains(marker) {
                        return before;
                    }
                    before.push(line);
                }
                Err(_) => self.fail(&format!("no `{marker}` from the guest within {timeout:?}")),
            }
        }
    }

    /// Panics with everything the guest printed.
    fn fail(&mut self, what: &str) -> ! {
        let _ = self.qemu.kill();
        panic!("{what}\n--- guest console ---\n{}", self.seen.join("\n"));
    }

    /// Sends a command line to the guest script; returns its answer.
    fn command(&mut self, line: &str) -> String {
        writeln!(self.console, "{line}").expect("cannot write to the guest console");
        self.console.flush().unwrap();
        let word = line.split_whitespace().next().unwrap();
        self.wait_for(&format!("BEGIN {word}"), COMMAND_TIMEOUT);
        self.wait_for(&format!("END {word}"), COMMAND_TIMEOUT)
            .join("\n")
    }

    /// Waits until porthole's log in the guest has a line containing `text`.
    fn wait_for_log(&mut self, text: &str) {
        poll(
            COMMAND_TIMEOUT,
            &format!("`{text}` in porthole's log"),
            || {
                let log = self.command("log 20");
                if log.contains(text) {
                    Ok(())
                } else {
                    Err(log)
                }
            },
        );
    }

    fn windows(&mut self) -> Vec<WindowInfo> {
        let text = self.command("windows");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| self.fail(&format!("`porthole windows --json` gave {e}: {text}")))
    }

    fn window(&mut self, app_id: &str) -> WindowInfo {
        let windows = self.windows();
        windows
            .into_iter()
            .find(|w| w.app_id.contains(app_id))
            .unwrap_or_else(|| self.fail(&format!("no window of {app_id}")))
    }

    fn qmp_greeting(&mut self) {
        let mut greeting = String::new();
        self.qmp.read_line(&mut greeting).unwrap();
        self.qmp(serde_json::json!({"execute": "qmp_capabilities"}));
    }

    /// Runs a QMP command; panics on an error reply.
    fn qmp(&mut self, command: serde_json::Value) -> serde_json::Value {
        let stream = self.qmp.get_mut();
        writeln!(stream, "{command}").unwrap();
        loop {
            let mut line = String::new();
            if self.qmp.read_line(&mut line).unwrap_or(0) == 0 {
                self.fail("QEMU's monitor closed");
            }
            let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(ret) = reply.get("return") {
                return ret.clone();
            }
            if let Some(err) = reply.get("error") {
                self.fail(&format!("QMP {command} failed: {err}"));
            }
            // An asynchronous event: skip it.
        }
    }

    /// What the display shows, read by QEMU from the scanout buffer.
    fn screendump(&mut self) -> Screenshot {
        self.screendump_head(0)
    }

    /// What one head of the display shows.
    fn screendump_head(&mut self, head: u32) -> Screenshot {
        self.shots += 1;
        let file = self.dir.join(format!("screen-{}.png", self.shots));
        self.qmp(serde_json::json!({
            "execute": "screendump",
            "arguments": {
                "filename": file.to_str().unwrap(),
                "format": "png",
                "device": "gpu",
                "head": head,
            }
        }));
        Screenshot::decode(&std::fs::read(&file).expect("QEMU wrote no screendump"))
    }

    /// Waits until the display shows what `check` accepts; returns that picture.
    fn screen_until(
        &mut self,
        what: &str,
        check: impl Fn(&Screenshot) -> Result<(), String>,
    ) -> Screenshot {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let shot = self.screendump();
            match check(&shot) {
                Ok(()) => return shot,
                Err(last) if Instant::now() > deadline => {
                    let kept = self.dir.join("failed.png");
                    let _ =
                        std::fs::copy(self.dir.join(format!("screen-{}.png", self.shots)), &kept);
                    self.fail(&format!(
                        "the display never showed {what}: {last} (picture: {})",
                        kept.display()
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }

    /// Waits until the display, of `size`, shows the clients' windows: foot's background over
    /// its window, and the many colours of weston-simple-shm's and (`with_dmabuf`)
    /// weston-simple-dmabuf-egl's pictures.
    fn desktop_shown(&mut self, size: (i32, i32), with_dmabuf: bool) -> Screenshot {
        let foot = self.window("foot");
        let mut pictures = vec![("simple-shm", self.window("simple-shm"))];
        if with_dmabuf {
            pictures.push(("simple-dmabuf-egl", self.window("simple-dmabuf-egl")));
        }
        self.screen_until("the clients' windows", |shot| {
            if (shot.width, shot.height) != (size.0 as u32, size.1 as u32) {
                return Err(format!("a {}x{} picture", shot.width, shot.height));
            }
            let foot_bg = shot.share_of(inside(foot.geometry, 8), FOOT_BACKGROUND);
            if foot_bg < 0.8 {
                return Err(format!(
                    "foot's background covers {foot_bg:.2} of its window"
                ));
            }
            for (name, w) in &pictures {
                let colours = shot.distinct_colours(inside(w.geometry, 4));
                if colours < 100 {
                    return Err(format!("{name}'s window shows only {colours} colours"));
                }
            }
            Ok(())
        })
    }

    /// Asks QEMU for another size of the display on `head`, as a viewer whose window was resized
    /// does: an RFB SetDesktopSize over that head's VNC server, which virtio-gpu passes to the
    /// guest's kernel as a display change (a hotplug event: a new preferred mode; a head that
    /// was off is plugged in, and 0x0 unplugs it).
    fn resize_display(&mut self, head: u32, width: u16, height: u16) {
        use std::io::Read;
        let path = self.dir.join(format!("vnc{head}.sock"));
        let mut vnc = UnixStream::connect(path).expect("QEMU's VNC socket");
        vnc.set_read_timeout(Some(COMMAND_TIMEOUT)).unwrap();
        let mut version = [0u8; 12];
        vnc.read_exact(&mut version).unwrap();
        assert_eq!(&version, b"RFB 003.008\n", "an RFB 3.8 server");
        vnc.write_all(b"RFB 003.008\n").unwrap();
        let mut count = [0u8; 1];
        vnc.read_exact(&mut count).unwrap();
        let mut types = vec![0u8; count[0] as usize];
        vnc.read_exact(&mut types).unwrap();
        assert!(
            types.contains(&1),
            "QEMU's VNC server offers no unauthenticated access: {types:?}"
        );
        vnc.write_all(&[1]).unwrap(); // security: none
        let mut result = [0u8; 4];
        vnc.read_exact(&mut result).unwrap();
        assert_eq!(result, [0; 4], "VNC security handshake failed");
        vnc.write_all(&[1]).unwrap(); // ClientInit: shared
        let mut init = [0u8; 24];
        vnc.read_exact(&mut init).unwrap();
        let name_len = u32::from_be_bytes(init[20..24].try_into().unwrap()) as usize;
        let mut name = vec![0u8; name_len];
        vnc.read_exact(&mut name).unwrap();
        // SetEncodings: raw and ExtendedDesktopSize (-308), without which the server ignores
        // SetDesktopSize.
        let mut msg = vec![2, 0];
        msg.extend(2u16.to_be_bytes());
        for encoding in [0i32, -308] {
            msg.extend(encoding.to_be_bytes());
        }
        // SetDesktopSize: one screen of the new size.
        msg.extend([251, 0]);
        msg.extend(width.to_be_bytes());
        msg.extend(height.to_be_bytes());
        msg.extend([1, 0]);
        msg.extend(0u32.to_be_bytes());
        msg.extend([0u8; 4]);
        msg.extend(width.to_be_bytes());
        msg.extend(height.to_be_bytes());
        msg.extend(0u32.to_be_bytes());
        vnc.write_all(&msg).unwrap();
        self.vnc.push(vnc);
    }

    /// Moves the virtio tablet to a pixel of the display and clicks the left button there.
    fn click(&mut self, x: i32, y: i32) {
        // The tablet's axes span 0..=32767 over the whole display.
        let ax = x as i64 * 32767 / (WIDTH as i64 - 1);
        let ay = y as i64 * 32767 / (HEIGHT as i64 - 1);
        self.qmp(
            serde_json::json!({"execute": "input-send-event", "arguments": {"events": [
                {"type": "abs", "data": {"axis": "x", "value": ax}},
                {"type": "abs", "data": {"axis": "y", "value": ay}},
            ]}}),
        );
        std::thread::sleep(Duration::from_millis(200));
        for down in [true, false] {
            self.qmp(
                serde_json::json!({"execute": "input-send-event", "arguments": {"events": [
                    {"type": "btn", "data": {"down": down, "button": "left"}},
                ]}}),
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types text on the virtio keyboard, key by key (lower-case letters, digits, space, `-`,
    /// `/` and newline).
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let key = match c {
                'a'..='z' | '0'..='9' => c.to_string(),
                ' ' => "spc".into(),
                '-' => "minus".into(),
                '/' => "slash".into(),
                '\n' => "ret".into(),
                other => panic!("type_text cannot type {other:?}"),
            };
            self.press(&key);
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Presses and releases one key, by QEMU's name for it (`ret`, `caps_lock`, `a`).
    fn press(&mut self, qcode: &str) {
        for down in [true, false] {
            self.qmp(serde_json::json!({"execute": "input-send-event", "arguments": {"events": [
                {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}},
            ]}}));
        }
    }

    /// Stops the compositor and powers the guest off.
    fn shut_down(mut self) {
        let _ = writeln!(self.console, "quit");
        let _ = self.console.flush();
        self.wait_for("GUEST_DONE", COMMAND_TIMEOUT);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.qemu.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

/// The window's content rectangle, shrunk by `inset` on every side.
fn inside(g: Geometry, inset: i32) -> Geometry {
    Geometry {
        x: g.x + inset,
        y: g.y + inset,
        width: g.width - 2 * inset,
        height: g.height - 2 * inset,
    }
}

#[test]
fn porthole_drives_a_real_kms_display_with_real_input() {
    if !on_path("qemu-system-x86_64") {
        panic!("qemu-system-x86_64 is needed: run .ci/install-deps");
    }
    let mut guest = Guest::boot();

    // One output, lit at the display's preferred mode.
    let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(
        (outputs[0].mode_width, outputs[0].mode_height),
        (WIDTH, HEIGHT)
    );
    // The display's modes are listed, its preferred one first, as `output set --mode` takes them.
    let modes = &outputs[0].modes;
    assert!(modes[0].starts_with("1024x768@"), "{modes:?}");
    assert!(modes.iter().any(|m| m.starts_with("800x600@")), "{modes:?}");
    let log = guest.command("log 200");
    assert!(
        log.contains("rendering with GLES"),
        "not rendering with GLES:\n{log}"
    );
    assert!(
        log.contains("linux-dmabuf offered"),
        "no linux-dmabuf:\n{log}"
    );

    // The three clients' pixels are on the display.
    let shot = guest.desktop_shown((WIDTH, HEIGHT), true);
    let background = shot.pixel(WIDTH - 10, HEIGHT - 10);
    assert_eq!(background, BACKGROUND, "the desktop background");

    // A click on foot, which is not focused (the last window opened is), focuses it: the guest's
    // compositor says so and the display shows its frame in the focused colour.
    let foot = guest.window("foot");
    assert!(!foot.focused, "foot should not start focused");
    let g = foot.geometry;
    guest.click(g.x + g.width / 2, g.y + g.height / 2);
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    while !guest.window("foot").focused {
        if Instant::now() > deadline {
            let log = guest.command("log 60");
            guest.fail(&format!(
                "the click did not focus foot; porthole's log:\n{log}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    guest.screen_until("foot's frame in the focused colour", |shot| {
        let title = shot.pixel(g.x + 40, g.y - TITLEBAR / 2);
        if title == FOCUSED_FRAME {
            Ok(())
        } else {
            Err(format!("its title bar is {}", hex(title)))
        }
    });

    // Keys typed on the virtio keyboard reach foot's shell.
    guest.type_text("touch /tmp/typed-on-the-virtio-keyboard\n");
    poll(COMMAND_TIMEOUT, "the typed command to run", || match guest
        .command("exists /tmp/typed-on-the-virtio-keyboard")
        .trim()
    {
        "yes" => Ok(()),
        other => Err(other.to_string()),
    });

    // Caps Lock lights the keyboards' Caps Lock LEDs (the kernel's LED class devices of the
    // virtio keyboard and the PS/2 one), and a second press puts them out.
    for (presses, lit) in [(1, "1"), (2, "0")] {
        guest.press("caps_lock");
        poll(
            COMMAND_TIMEOUT,
            &format!("Caps Lock LEDs at {lit} after {presses} presses"),
            || {
                let leds = guest.command("capslock-leds");
                let states: Vec<&str> = leds.split_whitespace().collect();
                if !states.is_empty() && states.iter().all(|s| *s == lit) {
                    Ok(())
                } else {
                    Err(leds)
                }
            },
        );
    }

    // The display asks for another size, as a virtual machine's display does when its window is
    // resized; the kernel reports the change through udev and Porthole follows the new
    // preferred mode.
    guest.resize_display(0, 1280, 800);
    guest.wait_for_log("the display's preferred mode changed");
    let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
    assert_eq!((outputs[0].mode_width, outputs[0].mode_height), (1280, 800));
    // The list of modes is the display's new one, its new preferred mode first.
    assert!(
        outputs[0].modes[0].starts_with("1280x800@"),
        "{:?}",
        outputs[0].modes
    );
    guest.desktop_shown((1280, 800), true);

    // A second display is plugged in: it is lit at its preferred mode right of the first. A
    // window opened under the pointer there shows on it; when the display is unplugged, the
    // window moves to the first one.
    guest.resize_display(1, 800, 600);
    let second = poll(COMMAND_TIMEOUT, "a second output", || {
        let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
        outputs
            .into_iter()
            .find(|o| o.name == "Virtual-2")
            .ok_or_else(|| "only Virtual-1".to_string())
    });
    let g = second.geometry;
    assert_eq!(
        (g.x, g.y, g.width, g.height),
        (1280, 0, 800, 600),
        "{second:?}"
    );
    guest.command("input move 1600 300");
    let known: Vec<u64> = guest.windows().iter().map(|w| w.id).collect();
    guest.command("spawn-shm");
    let new = poll(COMMAND_TIMEOUT, "a window on Virtual-2", || {
        guest
            .windows()
            .into_iter()
            .find(|w| !known.contains(&w.id))
            .ok_or_else(|| "no new window".to_string())
    });
    assert_eq!(new.output.as_deref(), Some("Virtual-2"), "{new:?}");
    let on_second = Geometry {
        x: new.geometry.x - 1280,
        ..new.geometry
    };
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        let shot = guest.screendump_head(1);
        let colours = shot.distinct_colours(inside(on_second, 4));
        if (shot.width, shot.height) == (800, 600) && colours > 100 {
            break;
        }
        if Instant::now() > deadline {
            guest.fail(&format!(
                "the second display shows {}x{} with {colours} colours where the window is",
                shot.width, shot.height
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    guest.resize_display(1, 0, 0);
    poll(COMMAND_TIMEOUT, "the second output to go", || {
        let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
        if outputs.len() == 1 {
            Ok(())
        } else {
            Err(format!("{} outputs", outputs.len()))
        }
    });
    let moved = guest
        .windows()
        .into_iter()
        .find(|w| w.id == new.id)
        .expect("the window on the unplugged display is gone");
    assert_eq!(moved.output.as_deref(), Some("Virtual-1"), "{moved:?}");
    let window_count = guest.windows().len();

    // A mode change at run time is a real modeset: the display's picture changes size.
    guest.command("output-set Virtual-1 --mode 800x600");
    let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
    assert_eq!((outputs[0].mode_width, outputs[0].mode_height), (800, 600));
    guest.screen_until("an 800x600 picture", |shot| {
        if (shot.width, shot.height) == (800, 600) {
            Ok(())
        } else {
            Err(format!("{}x{}", shot.width, shot.height))
        }
    });

    // Turned off, the output goes away and the windows stay; turned on, it is lit again (at the
    // mode set before) and shows them.
    guest.command("output-set Virtual-1 --off");
    let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
    assert!(outputs.is_empty(), "the output is still there: {outputs:?}");
    assert_eq!(
        guest.windows().len(),
        window_count,
        "windows were lost with the output"
    );
    guest.command("output-set Virtual-1 --on");
    let outputs: Vec<OutputInfo> = serde_json::from_str(&guest.command("outputs")).unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!((outputs[0].mode_width, outputs[0].mode_height), (800, 600));
    let windows = guest.windows();
    assert_eq!(windows.len(), window_count);
    assert!(
        windows
            .iter()
            .all(|w| w.output.as_deref() == Some("Virtual-1")),
        "windows are not back on the output: {windows:?}"
    );
    let foot = guest.window("foot");
    guest.screen_until("foot again after the output came back", |shot| {
        let share = shot.share_of(inside(foot.geometry, 8), FOOT_BACKGROUND);
        if (shot.width, shot.height) == (800, 600) && share > 0.5 {
            Ok(())
        } else {
            Err(format!(
                "{}x{}, foot's background {share:.2}",
                shot.width, shot.height
            ))
        }
    });

    // Switching to another virtual terminal pauses the session; switching back resumes it and
    // the desktop is drawn again.
    guest.command("chvt 2");
    guest.wait_for_log("session paused");
    guest.command("chvt 1");
    guest.wait_for_log("session back");
    guest.screen_until("the desktop after the VT switch", |shot| {
        let share = shot.share_of(inside(foot.geometry, 8), FOOT_BACKGROUND);
        if share > 0.5 {
            Ok(())
        } else {
            Err(format!("foot's background {share:.2}"))
        }
    });
    assert_eq!(
        guest.windows().len(),
        window_count,
        "windows were lost in the VT switch"
    );

    // Where EGL is not usable, pixman draws on dumb buffers. (A new compositor: the display is
    // back at its preferred mode, the size asked for over VNC.)
    guest.command("restart pixman");
    let log = guest.command("log 200");
    assert!(
        log.contains("rendering with pixman on dumb buffers"),
        "not rendering with pixman:\n{log}"
    );
    guest.desktop_shown((1280, 800), false);

    guest.shut_down();
}
