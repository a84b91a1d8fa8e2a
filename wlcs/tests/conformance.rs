//! Runs WLCS, the Wayland conformance test suite (Debian's `wlcs` package), against Porthole
//! through this crate's integration library, and compares the outcome with
//! `wlcs/expected-failures.txt`: a test that is not listed there must pass. A listed test that
//! passes is reported, so that the list shrinks as Porthole gets better.
//!
//! WLCS runs in several processes at once, each a share of its test suites; a process that
//! crashes or hangs costs the test it was running (recorded as crashed or hung) and the rest of
//! its share runs in a new process.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where Debian's package puts the test runner.
const WLCS: &str = "/usr/lib/x86_64-linux-gnu/wlcs/wlcs";

/// The longest one WLCS process may go without finishing a test. WLCS's own timeouts are 10 s.
const STALL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Passed,
    Skipped,
    Failed,
    Crashed,
    Hung,
}

/// The integration library cargo built next to this test.
fn integration_library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("the test's folder");
    [deps, deps.parent().unwrap_or(deps)]
        .iter()
        .map(|dir| dir.join("libporthole_wlcs.so"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no libporthole_wlcs.so next to {}", deps.display()))
}

/// Every test WLCS has, in its order.
fn list_tests(lib: &Path) -> Vec<String> {
    let out = Command::new(WLCS)
        .arg(lib)
        .arg("--gtest_list_tests")
        .output()
        .expect("running wlcs --gtest_list_tests");
    assert!(
        out.status.success(),
        "wlcs --gtest_list_tests failed: {out:?}"
    );
    let mut suite = String::new();
    let mut tests = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split('#').next().unwrap_or("").trim_end();
        if let Some(test) = name.strip_prefix("  ") {
            tests.push(format!("{suite}{test}"));
        } else if name.ends_with('.') {
            suite = name.to_string();
        }
    }
    tests
}

/// The test a gtest status line is about, and what happened to it.
fn parse_status(line: &str) -> Option<(Outcome, String)> {
    let (outcome, rest) = [
        ("[       OK ] ", Outcome::Passed),
        ("[  FAILED  ] ", Outcome::Failed),
        ("[  SKIPPED ] ", Outcome::Skipped),
    ]
    .iter()
    .find_map(|(tag, outcome)| line.strip_prefix(tag).map(|rest| (*outcome, rest)))?;
    // "Name (12 ms)" or "Name, where GetParam() = ... (12 ms)"; the summary repeats failures
    // without a time, and says "N tests, listed below".
    let name = rest.split([' ', ',']).next()?;
    name.contains('.').then(|| (outcome, name.to_string()))
}

/// Runs `tests` in one WLCS process after another until each has an outcome.
fn run_share(lib: &Path, tests: &[String]) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    let mut log = String::new();
    loop {
        let left: Vec<&String> = tests
            .iter()
            .filter(|t| !outcomes.contains_key(*t))
            .collect();
        if left.is_empty() {
            return outcomes;
        }
        let filter = left
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(":");
        let mut child = Command::new(WLCS)
            .arg(lib)
            .arg(format!("--gtest_filter={filter}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting wlcs");
        let stdout = child.stdout.take().expect("wlcs's stdout");
        let (lines, from_wlcs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running: Option<String> = None;
        let mut last_progress = Instant::now();
        let ended_by_itself = loop {
            match from_wlcs.recv_timeout(Duration::from_secs(1)) {
                Ok(line) => {
                    log.push_str(&line);
                    log.push('\n');
                    if let Some(test) = line.strip_prefix("[ RUN      ] ") {
                        running = Some(test.to_string());
                    } else if let Some((outcome, test)) = parse_status(&line) {
                        outcomes.entry(test).or_insert(outcome);
                        running = None;
                        last_progress = Instant::now();
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                Err(mpsc::RecvTimeoutError::Timeout) if last_progress.elapsed() > STALL => {
                    let _ = child.kill();
                    break false;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        };
        let _ = child.wait();
        match running {
            Some(test) => {
                let outcome = if ended_by_itself {
                    Outcome::Crashed
                } else {
                    Outcome::Hung
                };
                outcomes.insert(test, outcome);
            }
            None if left.iter().all(|t| !outcomes.contains_key(*t)) => {
                panic!("wlcs ran none of its tests:\n{log}");
            }
            None => {
                // Tests WLCS filtered out itself (disabled ones): nothing more will come of them.
                for t in left {
                    outcomes.entry(t.clone()).or_insert(Outcome::Skipped);
                }
            }
        }
    }
}

/// `wlcs/expected-failures.txt`: a test name and the reason it fails, per line.
fn expected_failures() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("expected-failures.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, reason) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            assert!(
                !reason.trim().is_empty(),
                "{name} is listed in {} without a reason",
                path.display()
            );
            (name.to_string(), reason.trim().to_string())
        })
        .collect()
}

#[test]
fn wlcs_passes_every_test_not_listed_as_failing() {
    assert!(
        Path::new(WLCS).exists(),
        "{WLCS} is missing: install Debian's wlcs package (.ci/install-deps does)"
    );
    let lib = integration_library();
    let tests = list_tests(&lib);
    let expected = expected_failures();
    let known: BTreeSet<&String> = tests.iter().collect();
    let stale: Vec<&String> = expected.keys().filter(|t| !known.contains(t)).collect();
    assert!(
        stale.is_empty(),
        "expected-failures.txt names tests WLCS does not have: {stale:?}"
    );

    // Shares by suite (a suite's tests share fixtures), dealt out round robin.
    let processes = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    let mut shares = vec![Vec::new(); processes];
    let mut suites: Vec<&str> = Vec::new();
    for test in &tests {
        let suite = test.rsplit_once('.').map_or(test.as_str(), |(s, _)| s);
        if suites.last() != Some(&suite) {
            suites.push(suite);
        }
        shares[(suites.len() - 1) % processes].push(test.clone());
    }
    let started = Instant::now();
    let outcomes: BTreeMap<String, Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .map(|share| scope.spawn(|| run_share(&lib, share)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a share's runner panicked"))
            .collect()
    });

    let count = |o: Outcome| outcomes.values().filter(|v| **v == o).count();
    println!(
        "WLCS: {} tests in {:.0} s: {} passed, {} failed, {} crashed, {} hung, {} skipped \
         (Porthole lacks the protocol)",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Crashed),
        count(Outcome::Hung),
        count(Outcome::Skipped),
    );
    let mut regressions = Vec::new();
    for (test, outcome) in &outcomes {
        match (outcome, expected.get(test)) {
            (Outcome::Passed | Outcome::Skipped, Some(reason)) => {
                println!("now passes, remove it from expected-failures.txt: {test} ({reason})");
            }
            (Outcome::Failed | Outcome::Crashed | Outcome::Hung, None) => {
                regressions.push(format!("{test}: {outcome:?}"));
            }
            _ => {}
        }
    }
    assert!(
        regressions.is_empty(),
        "WLCS tests that are not expected to fail did:\n{}\nRerun one with \
         `{WLCS} {} --gtest_filter=NAME` to see why.",
        regressions.join("\n"),
        lib.display()
    );
}
