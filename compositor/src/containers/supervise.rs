//! Supervised apps: `[container.NAME] app = ["cmd", "args"]` runs the command in the container's
//! sandbox (`porthole run NAME -- cmd args`) when the compositor starts, and again whenever it
//! ends, after a pause that doubles with each quick failure. A sandbox that outlived the last
//! compositor (its bridge still runs) is waited for instead of started twice. Every start and
//! end is an event.

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use porthole_ipc::Event;
use tracing::{info, warn};

use crate::checkpoint::live;
use crate::state::Porthole;

/// The first pause before a start again.
const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// The longest pause, for an app that keeps failing.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// An app that ran this long before it ended was not failing: the pause starts over.
const STEADY: Duration = Duration::from_secs(10);

/// One container's supervised app.
#[derive(Debug)]
pub struct App {
    container: String,
    command: Vec<String>,
    state: Run,
    /// Quick failures in a row.
    failures: u32,
}

#[derive(Debug)]
enum Run {
    /// `porthole run` is running it.
    Running { child: Child, since: Instant },
    /// A sandbox from before this compositor runs it: its bridge, by pid and start time.
    Survivor { pid: u32, start: u64 },
    /// It starts at this time.
    Due(Instant),
}

/// The apps of the containers that have one.
#[derive(Debug, Default)]
pub struct Apps(Vec<App>);

impl Apps {
    /// Whether any container has an app.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// How an app ended, for the event: its exit code, or the signal that ended it.
fn describe(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => status.to_string(),
    }
}

impl Porthole {
    /// Takes the apps of the configured containers under supervision: each starts now, unless a
    /// sandbox of its container survived the last compositor.
    pub fn supervise_configured_apps(&mut self) {
        let now = Instant::now();
        let apps = self
            .config
            .containers
            .iter()
            .filter(|(_, c)| !c.app.is_empty())
            .map(|(name, c)| {
                let state = match live::read(name.as_str()).filter(|r| r.bridge_alive()) {
                    Some(r) => Run::Survivor {
                        pid: r.bridge_pid,
                        start: r.bridge_start,
                    },
                    None => Run::Due(now),
                };
                App {
                    container: name.to_string(),
                    command: c.app.clone(),
                    state,
                    failures: 0,
                }
            })
            .collect();
        self.apps = Apps(apps);
        self.tend_apps();
    }

    /// Starts the apps that are due, notes those that ended and when they start again. Returns
    /// how soon it wants to look again, if it does.
    pub fn tend_apps(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let mut events = Vec::new();
        let mut next: Option<Duration> = None;
        let exe = std::env::current_exe();
        for app in &mut self.apps.0 {
            match &mut app.state {
                Run::Running { child, since } => match child.try_wait() {
                    Ok(None) => {}
                    Ok(Some(status)) => {
                        let ran = since.elapsed();
                        app.failures = if ran >= STEADY { 0 } else { app.failures + 1 };
                        let pause = FIRST_PAUSE
                            .saturating_mul(1 << app.failures.saturating_sub(1).min(6))
                            .min(LONGEST_PAUSE);
                        let status = describe(status);
                        info!(container = app.container, %status, ?pause, "app ended");
                        events.push(Event::AppExited {
                            container: app.container.clone(),
                            status,
                            restart_in_ms: pause.as_millis() as u64,
                        });
                        app.state = Run::Due(now + pause);
                    }
                    Err(err) => warn!(container = app.container, %err, "cannot wait for the app"),
                },
                Run::Survivor { pid, start } => {
                    if live::process_start(*pid) != Some(*start) {
                        app.state = Run::Due(now);
                    }
                }
                Run::Due(_) => {}
            }
            if let Run::Due(at) = app.state {
                if at <= now {
                    let Ok(exe) = &exe else {
                        warn!("cannot find the porthole binary to run apps with");
                        continue;
                    };
                    let mut run = Command::new(exe);
                    run.arg("run")
                        .arg(&app.container)
                        .arg("--")
                        .args(&app.command)
                        .stdin(Stdio::null())
                        .env_remove("WAYLAND_SOCKET")
                        .env_remove("DISPLAY");
                    // Safety: the hook only makes system calls.
                    unsafe { run.pre_exec(crate::fds::restore_limit_in_child) };
                    match run.spawn() {
                        Ok(child) => {
                            let pid = child.id();
                            info!(container = app.container, pid, "app started");
                            events.push(Event::AppStarted {
                                container: app.container.clone(),
                                pid,
                            });
                            app.state = Run::Running { child, since: now };
                        }
                        Err(err) => {
                            warn!(container = app.container, %err, "cannot start the app");
                            app.failures += 1;
                            app.state = Run::Due(now + LONGEST_PAUSE);
                        }
                    }
                }
            }
            let wait = match &app.state {
                Run::Due(at) => at.saturating_duration_since(now),
                // Ended apps and gone survivors are noticed within a quarter second.
                _ => Duration::from_millis(250),
            };
            next = Some(next.map_or(wait, |n| n.min(wait)));
        }
        for event in events {
            self.emit(event);
        }
        next
    }
}
