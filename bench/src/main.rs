//! `porthole-bench`: Porthole against Weston (headless, pixman renderer) on the same work, in the
//! same run, alternating A B A B over several rounds, with medians and Porthole/Weston ratios.
//!
//! Workloads, each against a fresh compositor at 1920x1080:
//! - startup: process start to socket ready;
//! - memory: compositor RSS and PSS with no client;
//! - animation: N clients of `porthole-bench-client --mode anim` for a fixed time: presented
//!   frames per client per second, commit-to-present latency (wp_presentation), compositor CPU;
//! - idle: windows that drew once and wait: compositor CPU per second;
//! - scale: one animated client among 200 idle windows in 50 containers;
//! - X11: the first X11 window from a lazily started Xwayland, and what the X11 side costs;
//! - hostile: one measuring client beside one flooding another container (regions, damage,
//!   surfaces, commits, and Porthole's own protocols), against none.
//!
//! Benchmarks are not tests: nothing here asserts a number. `--smoke` runs everything briefly so
//! CI knows the harness still works.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(name = "porthole-bench")]
struct Cli {
    /// Rounds of A B (the order alternates each round).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Seconds each animation or idle workload runs.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Numbers of animated clients, comma-separated.
    #[arg(long, default_value = "1,8,32", value_delimiter = ',')]
    clients: Vec<u32>,
    /// Windows in the idle workload.
    #[arg(long, default_value_t = 20)]
    idle: u32,
    /// The scale workload: this many containers (Porthole; Weston gets the same clients on its
    /// one socket) with 4 idle windows each, while one client animates and is measured.
    #[arg(long, default_value_t = 50)]
    scale_containers: u32,
    /// Write the results here as JSON too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A few seconds in all: one round, one client, short workloads (for CI).
    #[arg(long)]
    smoke: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Which {
    Porthole,
    Weston,
    /// Porthole, its clients reaching it through a container's bridge (`porthole-bridge
    /// --serve-wayland`, as `porthole run --checkpointable` starts it), the bridge's work counted
    /// with the compositor's.
    Bridged,
    /// Porthole, its clients reaching it through `porthole-bench-relay`, which passes bytes and
    /// fds on and nothing else: the floor under the bridge's cost, what any process between a
    /// client and the compositor costs here.
    Relay,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Porthole => "porthole",
            Which::Weston => "weston",
            Which::Bridged => "bridged",
            Which::Relay => "relay",
        }
    }
}

/// A running compositor in its own runtime directory.
struct Running {
    child: Child,
    runtime: PathBuf,
    display: String,
    /// The bridge (or relay) the clients reach it through ([`Which::Bridged`], [`Which::Relay`]).
    bridge: Option<Child>,
}

impl Running {
    /// The processes whose work the figures count: the compositor, and the bridge.
    fn pids(&self) -> Vec<u32> {
        std::iter::once(self.child.id())
            .chain(self.bridge.as_ref().map(Child::id))
            .collect()
    }

    /// Their CPU time so far.
    fn cpu(&self) -> anyhow::Result<Duration> {
        self.pids().into_iter().map(cpu_time).sum()
    }

    /// Their wakeups so far.
    fn wakeups(&self) -> u64 {
        self.pids().into_iter().map(wakeups).sum()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(bridge) = &mut self.bridge {
            // The bridge and the command it runs: its process group.
            if let Some(group) = rustix::process::Pid::from_raw(bridge.id() as i32) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = bridge.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build the workspace (cargo build --release --workspace)",
            path.display()
        );
    }
    Ok(path)
}

fn fresh_runtime_dir(tag: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("porthole-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(dir)
}

/// Starts a compositor and returns it with its startup time (spawn to socket ready).
fn start(which: Which) -> anyhow::Result<(Running, Duration)> {
    let runtime = fresh_runtime_dir(which.name())?;
    let begun = Instant::now();
    match which {
        Which::Bridged => {
            let (mut running, elapsed) = start(Which::Porthole)?;
            porthole(&running, &["container", "add", "bench"])?;
            let x11 = running.runtime.join("bridge-x11");
            std::fs::create_dir_all(&x11)?;
            use std::os::unix::process::CommandExt as _;
            let bridge = Command::new(sibling("porthole-bridge")?)
                .args(["--serve-wayland", "bridged-0", "--shm-only", "--x11-dir"])
                .arg(&x11)
                .args(["--", "sleep", "1000000"])
                .process_group(0)
                .env("XDG_RUNTIME_DIR", &running.runtime)
                .env(
                    "WAYLAND_DISPLAY",
                    running.runtime.join("porthole/bench/wayland-0"),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting porthole-bridge")?;
            running.bridge = Some(bridge);
            running.display = "bridged-0".into();
            wait_for_socket(&running.runtime.join("bridged-0"), "the bridge")?;
            Ok((running, elapsed))
        }
        Which::Relay => {
            // To the host socket, as Porthole's own column: a container would refuse the 32
            // connections of anim32 (its clients could hold more fds than the compositor can
            // spare), where a bridge makes one.
            let (mut running, elapsed) = start(Which::Porthole)?;
            use std::os::unix::process::CommandExt as _;
            let relay = Command::new(sibling("porthole-bench-relay")?)
                .arg("relay-0")
                .arg(running.runtime.join(&running.display))
                .process_group(0)
                .env("XDG_RUNTIME_DIR", &running.runtime)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting porthole-bench-relay")?;
            running.bridge = Some(relay);
            running.display = "relay-0".into();
            wait_for_socket(&running.runtime.join("relay-0"), "the relay")?;
            Ok((running, elapsed))
        }
        Which::Porthole => {
            let mut child = Command::new(sibling("porthole")?)
                .args(["serve", "--backend", "headless", "--outputs", "1920x1080"])
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("PORTHOLE_LOG", "warn")
                .env_remove("WAYLAND_DISPLAY")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context("starting porthole serve")?;
            let mut line = String::new();
            BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
            let elapsed = begun.elapsed();
            let display = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("WAYLAND_DISPLAY="))
                .with_context(|| format!("no ready line from porthole: {line:?}"))?
                .to_string();
            Ok((
                Running {
                    child,
                    runtime,
                    display,
                    bridge: None,
                },
                elapsed,
            ))
        }
        Which::Weston => {
            let display = "bench-weston".to_string();
            let child = Command::new("weston")
                .args([
                    "--backend=headless-backend.so",
                    "--use-pixman",
                    "--width=1920",
                    "--height=1080",
                    "--idle-time=0",
                    "--no-config",
                    "--xwayland",
                    &format!("--socket={display}"),
                    &format!("--log={}", runtime.join("weston.log").display()),
                ])
                .env("XDG_RUNTIME_DIR", &runtime)
                .env_remove("WAYLAND_DISPLAY")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting weston (apt-get install weston)")?;
            let running = Running {
                child,
                runtime,
                display,
                bridge: None,
            };
            wait_for_socket(&running.runtime.join(&running.display), "weston")?;
            let elapsed = begun.elapsed();
            Ok((running, elapsed))
        }
    }
}

/// Waits until `socket` accepts a connection: `who` serves it, and is ready then.
fn wait_for_socket(socket: &std::path::Path, who: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        if Instant::now() > deadline {
            bail!("{who} did not serve {} within 20 s", socket.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// User plus system CPU time of a process so far.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), counted from field 3.
    let rest = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let hz = rustix::param::clock_ticks_per_second();
    Ok(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// How often a process's threads went to sleep and were woken: voluntary context switches,
/// summed over its threads.
fn wakeups(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .sum()
}

/// A field of a process's `smaps_rollup`, in KiB.
fn smaps_kib(pid: u32, name: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0))
}

/// RSS and PSS of a process, in KiB.
fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    Ok((smaps_kib(pid, "Rss:")?, smaps_kib(pid, "Pss:")?))
}

/// Runs `n` bench clients in `mode` for `seconds` and returns their reports, with the
/// compositor's CPU time and wakeups over the same span.
fn run_clients(
    running: &Running,
    mode: &str,
    n: u32,
    seconds: f64,
) -> anyhow::Result<(Vec<Value>, Duration, u64)> {
    let before = running.cpu()?;
    let woken_before = running.wakeups();
    let children: Vec<Child> = (0..n)
        .map(|_| spawn_client(running, &running.display, mode, seconds))
        .collect::<anyhow::Result<_>>()?;
    let mut reports = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        match serde_json::from_str::<Value>(text.trim()) {
            Ok(v) => reports.push(v),
            Err(_) => bail!("a bench client failed: {text:?}"),
        }
    }
    let cpu = running.cpu()? - before;
    Ok((reports, cpu, running.wakeups() - woken_before))
}

/// Starts one bench client on `display` (a socket name or an absolute path).
fn spawn_client(
    running: &Running,
    display: &str,
    mode: &str,
    seconds: f64,
) -> anyhow::Result<Child> {
    spawn_client_sized(running, display, mode, seconds, "256x256")
}

/// [`spawn_client`] with a window of `size` (`WxH`).
fn spawn_client_sized(
    running: &Running,
    display: &str,
    mode: &str,
    seconds: f64,
    size: &str,
) -> anyhow::Result<Child> {
    Command::new(sibling("porthole-bench-client")?)
        .args(["--mode", mode, "--seconds", &seconds.to_string()])
        .args(["--size", size])
        .env("XDG_RUNTIME_DIR", &running.runtime)
        .env("WAYLAND_DISPLAY", display)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting porthole-bench-client")
}

/// One client as large as the output, animating: each frame repaints nearly all of the output.
/// Against `anim1` (256x256), what damage tracking saves.
fn full_output(
    running: &Running,
    cli: &Cli,
    out: &mut BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    let before = running.cpu()?;
    let child = spawn_client_sized(running, &running.display, "anim", cli.seconds, "1920x1080")?;
    let output = child.wait_with_output()?;
    let cpu = running.cpu()? - before;
    let text = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(text.trim())
        .with_context(|| format!("a bench client failed: {text:?}"))?;
    let presented = report["presented"].as_f64().unwrap_or(0.0);
    out.insert("animfull_fps".into(), report["fps"].as_f64().unwrap_or(0.0));
    if presented > 0.0 {
        out.insert(
            "animfull_cpu_us_per_output_frame".into(),
            cpu.as_secs_f64() * 1e6 / presented,
        );
    }
    Ok(())
}

/// One measuring client animating while `containers` x 4 idle windows are mapped (in as many
/// containers on Porthole; on Weston's one socket).
fn scale(
    which: Which,
    running: &Running,
    cli: &Cli,
    out: &mut BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    let mut load = Vec::new();
    for c in 0..cli.scale_containers {
        let display = match which {
            Which::Porthole | Which::Bridged | Which::Relay => {
                let name = format!("scale-{c}");
                porthole(running, &["container", "add", &name])?;
                running
                    .runtime
                    .join(format!("porthole/{name}/wayland-0"))
                    .display()
                    .to_string()
            }
            Which::Weston => running.display.clone(),
        };
        for _ in 0..4 {
            load.push(spawn_client(running, &display, "idle", cli.seconds + 5.0)?);
        }
    }
    // Let the load map its windows before measuring.
    std::thread::sleep(Duration::from_secs(2));
    let (reports, _, _) = run_clients(running, "anim", 1, cli.seconds)?;
    for mut child in load {
        let _ = child.kill();
        let _ = child.wait();
    }
    let tag = format!("scale{}x4", cli.scale_containers);
    if let Some(r) = reports.first() {
        for (key, figure) in [
            ("fps", "fps"),
            ("latency_p50_us", "latency_p50_ms"),
            ("latency_p99_us", "latency_p99_ms"),
        ] {
            if let Some(v) = r[key].as_f64() {
                let v = if key == "fps" { v } else { v / 1000.0 };
                out.insert(format!("{tag}_{figure}"), v);
            }
        }
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// One round of every workload against one compositor: figure name to value.
fn round(which: Which, cli: &Cli) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    let (running, startup) = start(which)?;
    std::thread::sleep(Duration::from_millis(300));
    if let (Which::Bridged, Some(bridge)) = (which, &running.bridge) {
        // What a bridged container adds: its bridge, idle.
        let (rss, pss) = memory_kib(bridge.id())?;
        out.insert("bridge_rss_idle_kib".into(), rss as f64);
        out.insert("bridge_pss_idle_kib".into(), pss as f64);
        // Its own memory: the rest is the binary and libraries, which every bridge of the
        // same build shares.
        let anon = smaps_kib(bridge.id(), "Anonymous:")?;
        out.insert("bridge_anon_idle_kib".into(), anon as f64);
    } else if which != Which::Relay {
        out.insert("startup_ms".into(), startup.as_secs_f64() * 1000.0);
        let (rss, pss) = memory_kib(running.child.id())?;
        out.insert("rss_idle_kib".into(), rss as f64);
        out.insert("pss_idle_kib".into(), pss as f64);
    }
    if which == Which::Porthole {
        // On the fresh compositor: what the workloads below allocate would hide it.
        porthole_only(&running, cli, &mut out)?;
    }

    for &n in &cli.clients {
        let (reports, cpu, _) = run_clients(&running, "anim", n, cli.seconds)?;
        let get =
            |key: &str| -> Vec<f64> { reports.iter().filter_map(|r| r[key].as_f64()).collect() };
        let fps = median(get("fps")).unwrap_or(0.0);
        out.insert(format!("anim{n}_fps_per_client"), fps);
        if let Some(p50) = median(get("latency_p50_us")) {
            out.insert(format!("anim{n}_latency_p50_ms"), p50 / 1000.0);
        }
        if let Some(p99) = get("latency_p99_us").into_iter().reduce(f64::max) {
            out.insert(format!("anim{n}_latency_p99_ms"), p99 / 1000.0);
        }
        out.insert(
            format!("anim{n}_cpu_ms_per_s"),
            cpu.as_secs_f64() * 1000.0 / cli.seconds,
        );
        let presented: f64 = get("presented").iter().sum();
        if presented > 0.0 {
            out.insert(
                format!("anim{n}_cpu_us_per_presented_frame"),
                cpu.as_secs_f64() * 1e6 / presented,
            );
        }
        // An output frame shows at most one frame of each client, so the busiest client's
        // count is the output's (one output; Weston's headless repaints only when damaged too).
        let output_frames = get("presented").into_iter().fold(0.0, f64::max);
        if output_frames > 0.0 {
            out.insert(
                format!("anim{n}_cpu_us_per_output_frame"),
                cpu.as_secs_f64() * 1e6 / output_frames,
            );
        }
    }

    full_output(&running, cli, &mut out)?;

    // Idle: measured from a second after the windows opened, so that only idling counts.
    let idle = (0..cli.idle)
        .map(|_| spawn_client(&running, &running.display, "idle", cli.seconds + 1.5))
        .collect::<anyhow::Result<Vec<Child>>>()?;
    std::thread::sleep(Duration::from_secs(1));
    let (cpu_before, woken_before) = (running.cpu()?, running.wakeups());
    std::thread::sleep(Duration::from_secs_f64(cli.seconds));
    let cpu = running.cpu()? - cpu_before;
    let woken = running.wakeups() - woken_before;
    for child in idle {
        child.wait_with_output()?;
    }
    out.insert(
        format!("idle{}_cpu_ms_per_s", cli.idle),
        cpu.as_secs_f64() * 1000.0 / cli.seconds,
    );
    out.insert(
        format!("idle{}_wakeups_per_s", cli.idle),
        woken as f64 / cli.seconds,
    );
    if matches!(which, Which::Bridged | Which::Relay) {
        // The rest is about the compositor and its containers, not the bridge.
        return Ok(out);
    }
    scale(which, &running, cli, &mut out)?;
    x11(which, &running, &mut out)?;
    hostile(which, &running, cli, &mut out)?;
    Ok(out)
}

/// Floods every compositor can be sent, then those of Porthole's own protocols.
const FLOODS: &[&str] = &["regions", "damage", "surfaces", "commits"];
const PORTHOLE_FLOODS: &[&str] = &["x11", "bridge"];

/// One measuring client beside one flooding client (`porthole-bench-flood`), in two containers on
/// Porthole and both on Weston's one socket, for each flood and for none (`calm`): the measuring
/// client's frames per second and worst latency, and the compositor's CPU per frame it showed.
fn hostile(
    which: Which,
    running: &Running,
    cli: &Cli,
    out: &mut BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    let (honest, flooding) = match which {
        Which::Porthole | Which::Bridged | Which::Relay => {
            let socket = |name: &str| -> anyhow::Result<String> {
                porthole(running, &["container", "add", name])?;
                Ok(running
                    .runtime
                    .join(format!("porthole/{name}/wayland-0"))
                    .display()
                    .to_string())
            };
            (socket("hostile-honest")?, socket("hostile-flood")?)
        }
        Which::Weston => (running.display.clone(), running.display.clone()),
    };
    let floods = FLOODS
        .iter()
        .chain(if which == Which::Porthole {
            PORTHOLE_FLOODS
        } else {
            &[]
        })
        .copied();
    let pid = running.child.id();
    for flood in std::iter::once("calm").chain(floods) {
        let flooder = (flood != "calm")
            .then(|| {
                Command::new(sibling("porthole-bench-flood")?)
                    .args([
                        "--mode",
                        flood,
                        "--seconds",
                        &(cli.seconds + 1.0).to_string(),
                    ])
                    .env("XDG_RUNTIME_DIR", &running.runtime)
                    .env("WAYLAND_DISPLAY", &flooding)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .context("starting porthole-bench-flood")
            })
            .transpose()?;
        // The flood gets going first.
        std::thread::sleep(Duration::from_millis(500));
        let before = cpu_time(pid)?;
        let child = spawn_client(running, &honest, "anim", cli.seconds)?;
        let output = child.wait_with_output()?;
        let cpu = cpu_time(pid)? - before;
        let text = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(text.trim())
            .with_context(|| format!("the measuring client failed beside {flood}: {text:?}"))?;
        if let Some(flooder) = flooder {
            let done = flooder.wait_with_output()?;
            let text = String::from_utf8_lossy(&done.stdout);
            let rounds = serde_json::from_str::<Value>(text.trim())
                .ok()
                .and_then(|v| v["rounds"].as_f64())
                .unwrap_or(0.0);
            out.insert(format!("hostile_{flood}_flood_rounds"), rounds);
        }
        let fps = report["fps"].as_f64().unwrap_or(0.0);
        out.insert(format!("hostile_{flood}_fps"), fps);
        if let Some(p99) = report["latency_p99_us"].as_f64() {
            out.insert(format!("hostile_{flood}_latency_p99_ms"), p99 / 1000.0);
        }
        let presented = report["presented"].as_f64().unwrap_or(0.0);
        if presented > 0.0 {
            out.insert(
                format!("hostile_{flood}_cpu_us_per_frame"),
                cpu.as_secs_f64() * 1e6 / presented,
            );
        }
    }
    Ok(())
}

/// `porthole ARGS` against a running Porthole.
fn porthole(running: &Running, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(sibling("porthole")?)
        .args(args)
        .env("XDG_RUNTIME_DIR", &running.runtime)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("porthole {args:?} failed");
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What only Porthole has: containers and their X11.
fn porthole_only(
    running: &Running,
    cli: &Cli,
    out: &mut BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    let pid = running.child.id();
    // Compositor memory as containers are defined (idle: no client, no process). The first
    // ones also pay for one-off allocations (the control socket's first commands, the
    // allocator's arenas), so the cost of a container is the slope from the first count on.
    let counts = if cli.smoke { [10, 20] } else { [10, 100] };
    let mut added = 0;
    let mut rss_at = Vec::new();
    for n in counts {
        while added < n {
            porthole(running, &["container", "add", &format!("bench-{added}")])?;
            added += 1;
        }
        let (rss, _) = memory_kib(pid)?;
        out.insert(format!("rss_{n}_containers_kib"), rss as f64);
        rss_at.push(rss);
    }
    out.insert(
        "rss_per_idle_container_kib".into(),
        rss_at[1].saturating_sub(rss_at[0]) as f64 / (counts[1] - counts[0]) as f64,
    );
    // Adding a container, to its socket being ready (the command returns once it listens).
    let begun = Instant::now();
    porthole(running, &["container", "add", "bench-x"])?;
    out.insert(
        "container_add_ms".into(),
        begun.elapsed().as_secs_f64() * 1000.0,
    );
    porthole(running, &["container", "remove", "bench-x"])?;
    for i in 0..added {
        porthole(running, &["container", "remove", &format!("bench-{i}")])?;
    }

    Ok(())
}

/// The first X11 window, from a lazily started Xwayland: Porthole's in a sandbox behind its
/// bridge; Weston's own (`--xwayland`), which is what nesting a Weston per container to give
/// each its own X server would cost. The probe reports connect to MapNotify; memory is the
/// X11 side's: Porthole's bridge and Xwayland (the compositor is shared by every container),
/// or the whole Weston and its Xwayland.
fn x11(which: Which, running: &Running, out: &mut BTreeMap<String, f64>) -> anyhow::Result<()> {
    let probe = sibling("porthole-x11-probe")?;
    let begun = Instant::now();
    let mut child = match which {
        Which::Porthole | Which::Bridged | Which::Relay => {
            porthole(running, &["container", "add", "bench-x11"])?;
            let dir = running.runtime.join("porthole/bench-x11");
            std::fs::copy(&probe, dir.join("porthole-x11-probe"))?;
            Command::new(sibling("porthole")?)
                // The container's directory, as `porthole run`'s bridged sandbox mounts it.
                .args([
                    "run",
                    "bench-x11",
                    "--",
                    "/run/porthole-host/porthole-x11-probe",
                ])
                .args(["window", "--name", "bench-x11"])
                .env("XDG_RUNTIME_DIR", &running.runtime)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?
        }
        Which::Weston => Command::new(&probe)
            .args(["window", "--name", "bench-x11"])
            .env("DISPLAY", weston_x_display(running)?)
            .env_remove("XAUTHORITY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?,
    };
    let result = measure_x11(which, running, &mut child, begun, out);
    // `porthole run` ends its bridged sandbox on SIGTERM; killed, it would leave the sandbox
    // running for the compositor to come back to.
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn measure_x11(
    which: Which,
    running: &Running,
    child: &mut Child,
    begun: Instant,
    out: &mut BTreeMap<String, f64>,
) -> anyhow::Result<()> {
    // The probe's line: "mapped 0xID MS ms after connecting".
    let stdout = child.stdout.take().context("the probe's stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .context("the X11 probe's window never mapped")?;
    let ms: f64 = line
        .split_whitespace()
        .nth(2)
        .and_then(|w| w.parse().ok())
        .with_context(|| format!("unexpected line from the X11 probe: {line:?}"))?;
    out.insert("x11_connect_to_map_ms".into(), ms);
    let x11_side: Vec<u32> = match which {
        Which::Porthole | Which::Bridged | Which::Relay => {
            // Until the host lists it: bwrap, the bridge, the lazy Xwayland, the window drawn.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !porthole(running, &["windows"])?.contains("bench-x11") {
                if Instant::now() > deadline {
                    bail!("the X11 window never reached the host");
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            out.insert(
                "x11_run_to_window_ms".into(),
                begun.elapsed().as_secs_f64() * 1000.0,
            );
            descendants(child.id())
                .into_iter()
                .filter(|&p| ["porthole-bridge", "Xwayland"].contains(&comm(p).as_str()))
                .collect()
        }
        Which::Weston => {
            let pid = running.child.id();
            let mut pids = vec![pid];
            pids.extend(
                descendants(pid)
                    .into_iter()
                    .filter(|&p| comm(p) == "Xwayland"),
            );
            pids
        }
    };
    if !x11_side.iter().any(|&p| comm(p) == "Xwayland") {
        bail!("no Xwayland serves the X11 probe");
    }
    // PSS, since most of Xwayland's RSS is shared libraries.
    let (rss, pss) = x11_side
        .iter()
        .filter_map(|&p| memory_kib(p).ok())
        .fold((0, 0), |(r, p), (rss, pss)| (r + rss, p + pss));
    out.insert("x11_rss_kib".into(), rss as f64);
    out.insert("x11_pss_kib".into(), pss as f64);
    Ok(())
}

/// The X display Weston's Xwayland listens on, from its log.
fn weston_x_display(running: &Running) -> anyhow::Result<String> {
    let log = running.runtime.join("weston.log");
    let text =
        std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
    text.lines()
        .find_map(|l| l.split("xserver listening on display ").nth(1))
        .map(|d| d.trim().to_string())
        .context("weston started no Xwayland (is xwayland installed?)")
}

/// A process's command name.
fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default()
}

/// Every process below `root`, by parent pid.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name is in parentheses and may hold anything; fields follow the last.
            let rest = &stat[stat.rfind(')')? + 1..];
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.smoke {
        cli.rounds = 1;
        cli.seconds = 1.0;
        cli.clients = vec![1];
        cli.idle = 2;
        cli.scale_containers = 2;
    }
    let mut results: BTreeMap<(Which, String), Vec<f64>> = BTreeMap::new();
    for r in 0..cli.rounds {
        let order = if r % 2 == 0 {
            [Which::Porthole, Which::Weston, Which::Bridged, Which::Relay]
        } else {
            [Which::Relay, Which::Bridged, Which::Weston, Which::Porthole]
        };
        for which in order {
            eprintln!("round {} of {}: {}", r + 1, cli.rounds, which.name());
            for (figure, value) in round(which, &cli)? {
                results.entry((which, figure)).or_default().push(value);
            }
        }
    }

    let figures: Vec<String> = {
        let mut f: Vec<String> = results.keys().map(|(_, f)| f.clone()).collect();
        f.dedup();
        f.sort();
        f.dedup();
        f
    };
    println!(
        "{:<36} {:>12} {:>12} {:>9} {:>12} {:>9} {:>12} {:>9}",
        "figure (median)",
        "porthole",
        "weston",
        "ratio",
        "bridged",
        "b/direct",
        "relay",
        "r/direct"
    );
    let mut rows = Vec::new();
    for figure in figures {
        let p = results
            .get(&(Which::Porthole, figure.clone()))
            .cloned()
            .and_then(median);
        let w = results
            .get(&(Which::Weston, figure.clone()))
            .cloned()
            .and_then(median);
        let b = results
            .get(&(Which::Bridged, figure.clone()))
            .cloned()
            .and_then(median);
        let r = results
            .get(&(Which::Relay, figure.clone()))
            .cloned()
            .and_then(median);
        let ratio_of = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b != 0.0 => Some(a / b),
            _ => None,
        };
        let (ratio, bridged_ratio, relay_ratio) = (ratio_of(p, w), ratio_of(b, p), ratio_of(r, p));
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "{figure:<36} {:>12} {:>12} {:>9} {:>12} {:>9} {:>12} {:>9}",
            show(p),
            show(w),
            show(ratio),
            show(b),
            show(bridged_ratio),
            show(r),
            show(relay_ratio)
        );
        rows.push(json!({
            "figure": figure,
            "porthole": p,
            "weston": w,
            "ratio": ratio,
            "bridged": b,
            "bridged_ratio": bridged_ratio,
            "relay": r,
            "relay_ratio": relay_ratio,
        }));
    }
    if let Some(path) = &cli.json {
        let doc = json!({
            "rounds": cli.rounds,
            "seconds": cli.seconds,
            "output": "1920x1080",
            "weston": "headless-backend.so --use-pixman",
            "figures": rows,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
