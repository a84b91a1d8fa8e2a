//! End-to-end tests of the control socket as any program of the user sees it: raw
//! newline-delimited JSON over `$XDG_RUNTIME_DIR/porthole/control.sock`, spoken by hand with a
//! `UnixStream`, against the real `porthole serve --backend headless` and real Wayland clients.
//!
//! Every read has a time limit, so a compositor that stops answering fails a test instead of
//! hanging it.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// The documented request line limit (`porthole_ipc::MAX_REQUEST_BYTES`).
const LIMIT: usize = 64 * 1024;
/// The documented number of connections served at once.
const MAX_CONNECTIONS: usize = 64;

/// What reading one line from the compositor gave.
#[derive(Debug)]
enum Read1 {
    /// A line (without its newline).
    Line(String),
    /// The compositor closed the connection (end of stream or reset).
    Closed,
    /// Nothing within the time limit.
    TimedOut,
}

/// One raw connection to the control socket.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn open(path: &Path) -> Self {
        let stream = UnixStream::connect(path)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", path.display()));
        stream.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(REPLY_TIMEOUT)).unwrap();
        let writer = stream.try_clone().unwrap();
        Self {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Sends raw bytes; a refused write (the compositor hung up) is returned, not a panic.
    fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Sends one JSON value as a line.
    fn send(&mut self, value: &Value) {
        let mut line = serde_json::to_vec(value).unwrap();
        line.push(b'\n');
        self.send_raw(&line).expect("cannot send a request");
    }

    /// Reads one line, bounded by the socket's read timeout.
    fn read(&mut self) -> Read1 {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) => Read1::Closed,
            Ok(_) if buf.last() == Some(&b'\n') => {
                buf.pop();
                Read1::Line(String::from_utf8(buf).expect("the compositor writes UTF-8"))
            }
            // A partial line and then the end: what was there, as a line.
            Ok(_) => Read1::Line(String::from_utf8_lossy(&buf).into_owned()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Read1::TimedOut
            }
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                Read1::Closed
            }
            Err(e) => panic!("reading from the control socket failed: {e}"),
        }
    }

    /// Reads one line and parses it as a JSON object; panics (saying what came) otherwise.
    fn read_json(&mut self, what: &str) -> Value {
        match self.read() {
            Read1::Line(line) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{what}: the reply is not JSON ({e}): {line:?}")),
            other => panic!("{what}: expected a reply line, got {other:?}"),
        }
    }

    /// Sends a request and reads its reply.
    fn request(&mut self, value: &Value) -> Value {
        self.send(value);
        self.read_json(&format!("reply to {value}"))
    }
}

/// `{"version":1,"command":"windows"}`.
fn windows_request() -> Value {
    json!({"version": 1, "command": "windows"})
}

/// Asserts `reply` is an ok reply of `kind`.
fn assert_ok(reply: &Value, kind: &str, what: &str) {
    assert_eq!(reply["version"], json!(1), "{what}: {reply}");
    assert_eq!(reply["status"], json!("ok"), "{what}: not ok: {reply}");
    assert_eq!(reply["kind"], json!(kind), "{what}: {reply}");
}

/// Asserts `reply` is an error reply and returns its message.
fn error_message(reply: &Value, what: &str) -> String {
    assert_eq!(reply["version"], json!(1), "{what}: {reply}");
    assert_eq!(
        reply["status"],
        json!("error"),
        "{what}: not an error: {reply}"
    );
    let message = reply["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: the error has no message: {reply}"));
    assert!(!message.trim().is_empty(), "{what}: empty error message");
    message.to_owned()
}

/// Polls until a fresh connection gets an ok reply to `windows`.
fn wait_until_answering(comp: &Compositor, what: &str) {
    poll(CLIENT_TIMEOUT, what, || {
        let mut conn = Conn::open(comp.control_socket());
        // A refused connection may be closed before the request is written; its error line is
        // still there to read.
        let mut line = serde_json::to_vec(&windows_request()).unwrap();
        line.push(b'\n');
        let _ = conn.send_raw(&line);
        match conn.read() {
            Read1::Line(line) => {
                let reply: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
                if reply["status"] == json!("ok") {
                    Ok(())
                } else {
                    Err(line)
                }
            }
            other => Err(format!("{other:?}")),
        }
    });
}

/// Starts weston-simple-shm and waits for its window.
fn open_simple_shm(comp: &mut Compositor) -> (u32, porthole_ipc::WindowInfo) {
    let known: Vec<u64> = comp.windows().iter().map(|w| w.id).collect();
    let pid = comp.spawn_client("weston-simple-shm", &[]);
    let window = comp.wait_for_new_window(&known, CLIENT_TIMEOUT);
    (pid, window)
}

/// Deterministic pseudo-random bytes (xorshift64*), so a failure can be replayed.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed.max(1);
    (0..len)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn bad_requests_get_an_error_and_the_same_connection_keeps_working() {
    let comp = Compositor::start(640, 480);
    let mut conn = Conn::open(comp.control_socket());
    // (what, line, words the error must contain)
    let cases: [(&str, &[u8], &[&str]); 7] = [
        (
            "truncated JSON",
            br#"{"version":1,"command":"#,
            &["malformed"],
        ),
        ("not JSON at all", b"windows please", &["malformed"]),
        ("a JSON array", b"[1,2,3]", &["malformed"]),
        (
            "an unknown command",
            br#"{"version":1,"command":"rm_rf"}"#,
            &["rm_rf"],
        ),
        (
            "a missing version",
            br#"{"command":"windows"}"#,
            &["version"],
        ),
        (
            "a version that is a string",
            br#"{"version":"1","command":"windows"}"#,
            &["malformed"],
        ),
        (
            "a wrong version",
            br#"{"version":2,"command":"windows"}"#,
            &["version 2", "speaks 1"],
        ),
    ];
    for (what, line, words) in cases {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        conn.send_raw(&bytes).expect("cannot send");
        let reply = conn.read_json(what);
        let message = error_message(&reply, what);
        for word in words {
            assert!(
                message.contains(word),
                "{what}: the error should mention `{word}`: {message:?}"
            );
        }
        // The same connection still serves a good request.
        let reply = conn.request(&windows_request());
        assert_ok(&reply, "windows", &format!("windows after {what}"));
        assert!(reply["windows"].is_array(), "{reply}");
    }
    // The wrong version's message names both versions in words a person can act on.
    let reply = conn.request(&json!({"version": 7, "command": "windows"}));
    let message = error_message(&reply, "version 7");
    assert!(
        message.contains("version 7") && message.contains("speaks 1"),
        "the error should name the sent and the spoken version: {message:?}"
    );
    // Blank lines are not requests: nothing is answered, the next request is.
    conn.send_raw(b"\n   \n\t\n").unwrap();
    let reply = conn.request(&json!({"version": 1, "command": "version"}));
    assert_ok(&reply, "version", "version after blank lines");
}

#[test]
fn a_request_of_exactly_the_limit_is_served_and_one_byte_more_is_refused() {
    let comp = Compositor::start(640, 480);
    let request = serde_json::to_vec(&windows_request()).unwrap();

    // LIMIT bytes of request (padded with spaces) and the newline: served.
    let mut line = request.clone();
    line.resize(LIMIT, b' ');
    line.push(b'\n');
    let mut conn = Conn::open(comp.control_socket());
    conn.send_raw(&line).unwrap();
    assert_ok(
        &conn.read_json("a request of exactly the limit"),
        "windows",
        "at the limit",
    );
    assert_ok(&conn.request(&windows_request()), "windows", "after it");

    // One byte more: refused with the limit, and the connection is closed.
    let mut line = request;
    line.resize(LIMIT + 1, b' ');
    line.push(b'\n');
    let mut conn = Conn::open(comp.control_socket());
    let _ = conn.send_raw(&line);
    let message = error_message(&conn.read_json("one byte over"), "one byte over");
    assert!(message.contains(&LIMIT.to_string()), "{message:?}");
    assert!(
        matches!(conn.read(), Read1::Closed),
        "the connection stays open"
    );
}

#[test]
fn an_oversized_line_is_refused_with_the_limit_and_the_compositor_carries_on() {
    let mut comp = Compositor::start(640, 480);
    for newline in [false, true] {
        let what = if newline {
            "100 KiB line with a newline"
        } else {
            "100 KiB line without a newline"
        };
        let mut conn = Conn::open(comp.control_socket());
        // Written from a thread: the compositor stops reading at the limit, so the write may
        // block or be refused once it hangs up.
        let mut writer = conn.writer.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let mut line = vec![b'x'; 100 * 1024];
            if newline {
                line.push(b'\n');
            }
            let _ = writer.write_all(&line);
        });
        let reply = conn.read_json(what);
        let message = error_message(&reply, what);
        assert!(
            message.contains(&LIMIT.to_string()),
            "{what}: the error should state the limit of {LIMIT} bytes: {message:?}"
        );
        match conn.read() {
            Read1::Closed => {}
            other => panic!("{what}: the connection should be closed, got {other:?}"),
        }
        sender.join().unwrap();
        assert!(comp.is_running(), "{what}: the compositor died");
        // A new connection is answered.
        let mut fresh = Conn::open(comp.control_socket());
        assert_ok(&fresh.request(&windows_request()), "windows", what);
    }
    // And a real client still gets a window.
    let (_, window) = open_simple_shm(&mut comp);
    assert_eq!(window.title, "simple-shm");
}

/// Opens 100 connections at once and holds them; each asks for the window list. Every one is
/// either served or refused with a clear error line and closed; none hangs. Returns how many
/// were served and how many refused, with the connections still open.
fn hundred_at_once(comp: &Compositor, what: &str) -> (usize, usize, Vec<Conn>) {
    let mut conns: Vec<Conn> = (0..100)
        .map(|_| Conn::open(comp.control_socket()))
        .collect();
    let mut line = serde_json::to_vec(&windows_request()).unwrap();
    line.push(b'\n');
    for conn in &mut conns {
        // A refused connection may already be closed: the write can fail, its error line is
        // still there to read.
        let _ = conn.send_raw(&line);
    }
    let (mut served, mut refused) = (0, 0);
    for (i, conn) in conns.iter_mut().enumerate() {
        let what = format!("{what}, connection {i}");
        let reply = conn.read_json(&what);
        if reply["status"] == json!("ok") {
            assert_ok(&reply, "windows", &what);
            served += 1;
        } else {
            let message = error_message(&reply, &what);
            assert!(
                message.contains("too many"),
                "{what}: a refusal should say why: {message:?}"
            );
            assert!(
                matches!(conn.read(), Read1::Closed),
                "{what}: a refused connection is left open"
            );
            refused += 1;
        }
    }
    (served, refused, conns)
}

#[test]
fn a_hundred_connections_at_once_are_served_or_refused_clearly() {
    let mut comp = Compositor::start(640, 480);
    let (served, refused, mut conns) = hundred_at_once(&comp, "first hundred");
    assert_eq!(
        (served, refused),
        (MAX_CONNECTIONS, 100 - MAX_CONNECTIONS),
        "{MAX_CONNECTIONS} connections are served at once, the rest refused"
    );
    // While they are held, a newcomer is refused at once rather than left waiting.
    let mut newcomer = Conn::open(comp.control_socket());
    let message = error_message(&newcomer.read_json("a newcomer while full"), "newcomer");
    assert!(message.contains("too many"), "{message:?}");
    // The held ones still work, and nothing unasked-for arrives on them.
    for conn in conns.iter_mut().take(MAX_CONNECTIONS).step_by(7) {
        assert_ok(
            &conn.request(&windows_request()),
            "windows",
            "a held connection",
        );
        conn.expect_silence();
    }
    drop(conns);

    // Once they are closed, all the slots come back: a fresh hundred gets 64 served again.
    poll(CLIENT_TIMEOUT, "all 64 slots to come back", || {
        let (served, refused, _) = hundred_at_once(&comp, "second hundred");
        if served == MAX_CONNECTIONS {
            Ok(())
        } else {
            Err(format!("{served} served, {refused} refused"))
        }
    });
    wait_until_answering(&comp, "a fresh connection after the crowd left");
    assert!(comp.is_running(), "the compositor died");
}

impl Conn {
    /// Asserts that nothing is waiting to be read (20 ms).
    fn expect_silence(&mut self) {
        self.writer
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let r = self.read();
        self.writer.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
        assert!(
            matches!(r, Read1::TimedOut),
            "a connection got something unasked for: {r:?}"
        );
    }
}

#[test]
fn binary_garbage_gets_error_replies_and_never_a_crash() {
    let mut comp = Compositor::start(640, 480);
    for seed in 1..=8u64 {
        let what = format!("garbage seed {seed}");
        let mut conn = Conn::open(comp.control_socket());
        // Lines of random bytes (NUL, invalid UTF-8, control characters), each with at least
        // one byte that is not whitespace, so each is one request.
        let mut lines = 0;
        for i in 0..5 {
            let mut line = garbage(seed * 100 + i, 200 + 300 * i as usize);
            for b in &mut line {
                if *b == b'\n' {
                    *b = 0;
                }
            }
            line[0] = [0x00, 0xff, 0xc3, 0xfe, 0x80][i as usize];
            line.push(b'\n');
            conn.send_raw(&line).unwrap();
            lines += 1;
        }
        for n in 0..lines {
            let reply = conn.read_json(&format!("{what}, line {n}"));
            let message = error_message(&reply, &what);
            assert!(message.contains("malformed"), "{what}: {message:?}");
        }
        // Invalid UTF-8 inside an otherwise good request is refused as a request for an output
        // that does not exist, not a crash.
        let mut line = br#"{"version":1,"command":"screenshot","output":""#.to_vec();
        line.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3, 0x28]);
        line.extend_from_slice(b"\"}\n");
        conn.send_raw(&line).unwrap();
        let reply = conn.read_json(&format!("{what}, invalid UTF-8 output name"));
        error_message(&reply, &what);
        assert_ok(&conn.request(&windows_request()), "windows", &what);

        // Garbage and a hang-up in the middle of a line.
        let mut rude = Conn::open(comp.control_socket());
        let _ = rude.send_raw(&garbage(seed, 4096));
        drop(rude);
    }
    assert!(comp.is_running(), "the compositor died");
    wait_until_answering(&comp, "a connection after the garbage");
    // And it still shows windows.
    let (_, window) = open_simple_shm(&mut comp);
    assert_eq!(window.title, "simple-shm");
}

/// Reads events from a subscribed connection until one satisfies `pred`, within `timeout`.
/// Returns it, with everything read before it.
fn read_event_until(
    conn: &mut Conn,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out after {timeout:?} waiting for {what}; events seen: {seen:?}"
        );
        conn.writer.set_read_timeout(Some(left)).unwrap();
        let event = match conn.read() {
            Read1::Line(line) => serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|e| panic!("an event line is not JSON ({e}): {line:?}")),
            Read1::TimedOut => continue,
            Read1::Closed => panic!("the event stream closed waiting for {what}: {seen:?}"),
        };
        assert!(
            event["event"].is_string(),
            "every event line names its event: {event}"
        );
        if pred(&event) {
            return (event, seen);
        }
        seen.push(event);
    }
}

/// Subscribes on a new connection; returns once the compositor has registered the subscriber.
fn subscribe(comp: &Compositor) -> Conn {
    let mut conn = Conn::open(comp.control_socket());
    let reply = conn.request(&json!({"version": 1, "command": "subscribe"}));
    assert_ok(&reply, "done", "subscribe");
    // The ok reply is written before the event loop registers the subscriber; one round trip
    // on another connection goes through the same queue after it, so once that is answered the
    // subscriber is in place.
    let mut other = Conn::open(comp.control_socket());
    assert_ok(&other.request(&windows_request()), "windows", "sync");
    conn
}

#[test]
fn the_event_stream_reports_a_window_opening_and_its_client_being_killed() {
    let mut comp = Compositor::start(640, 480);
    let mut events = subscribe(&comp);
    let pid = comp.spawn_client("weston-simple-shm", &[]);
    let (opened, _) = read_event_until(&mut events, CLIENT_TIMEOUT, "window_opened", |e| {
        e["event"] == json!("window_opened")
    });
    // Each event says when it happened, for a fleet's logs.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let time_ms = opened["time_ms"].as_u64().expect("the event has time_ms");
    assert!(
        time_ms <= now_ms && now_ms - time_ms < 60_000,
        "time_ms {time_ms} is not within a minute before {now_ms}: {opened}"
    );
    let window = &opened["window"];
    assert_eq!(window["title"], json!("simple-shm"), "{opened}");
    assert!(
        window["app_id"]
            .as_str()
            .is_some_and(|a| a.ends_with("simple-shm")),
        "{opened}"
    );
    assert_eq!(window["container"], json!("host"), "{opened}");
    let id = window["id"].as_u64().expect("the window has a numeric id");
    // The event describes the window the window list shows.
    let listed = comp
        .window(id)
        .unwrap_or_else(|| panic!("window {id} from the event is not listed"));
    let event_window: porthole_ipc::WindowInfo =
        serde_json::from_value(window.clone()).expect("the event's window is a WindowInfo");
    assert_eq!(event_window.app_id, listed.app_id);
    assert_eq!(event_window.title, listed.title);
    assert_eq!(event_window.geometry.width, listed.geometry.width);
    assert_eq!(event_window.geometry.height, listed.geometry.height);

    comp.kill_client(pid);
    let (closed, _) = read_event_until(&mut events, CLIENT_TIMEOUT, "window_closed", |e| {
        e["event"] == json!("window_closed")
    });
    assert_eq!(
        closed["id"],
        json!(id),
        "the closed window is the opened one: {closed}"
    );
    comp.wait_for_windows(0, CLIENT_TIMEOUT);
    // Its focus went too.
    let (focus, _) = read_event_until(
        &mut events,
        CLIENT_TIMEOUT,
        "focus_changed to nothing",
        |e| e["event"] == json!("focus_changed") && e["id"].is_null(),
    );
    assert!(focus["id"].is_null());
}

#[test]
fn the_event_stream_announces_a_window_before_focus_moves_to_it() {
    let mut comp = Compositor::start(640, 480);
    let mut events = subscribe(&comp);
    comp.spawn_client("weston-simple-shm", &[]);
    let (opened, before) = read_event_until(&mut events, CLIENT_TIMEOUT, "window_opened", |e| {
        e["event"] == json!("window_opened")
    });
    let id = opened["window"]["id"].clone();
    assert!(
        !before.iter().any(|e| e["id"] == id),
        "events naming window {id} came before its window_opened: {before:?}"
    );
    read_event_until(&mut events, CLIENT_TIMEOUT, "focus_changed to it", |e| {
        e["event"] == json!("focus_changed") && e["id"] == id
    });
}

#[test]
fn the_event_stream_reports_clients_connecting_and_disconnecting() {
    let mut comp = Compositor::start(640, 480);
    let mut events = subscribe(&comp);
    let pid = comp.spawn_client("weston-simple-shm", &[]);
    let (connected, _) = read_event_until(&mut events, CLIENT_TIMEOUT, "client_connected", |e| {
        e["event"] == json!("client_connected")
    });
    assert_eq!(connected["container"], json!("host"), "{connected}");
    comp.kill_client(pid);
    let (gone, _) = read_event_until(&mut events, CLIENT_TIMEOUT, "client_disconnected", |e| {
        e["event"] == json!("client_disconnected")
    });
    assert_eq!(gone["container"], json!("host"), "{gone}");
}

#[test]
fn the_event_stream_reports_a_minimized_window_closing() {
    let mut comp = Compositor::start(640, 480);
    let (pid, window) = open_simple_shm(&mut comp);
    let id = window.id.to_string();
    comp.run_ok(&["window", "minimize", "--id", &id]);
    comp.wait_for_window(window.id, "minimized", CLIENT_TIMEOUT, |w| w.minimized);
    let mut events = subscribe(&comp);
    comp.kill_client(pid);
    comp.wait_for_windows(0, CLIENT_TIMEOUT);
    let (closed, _) = read_event_until(&mut events, CLIENT_TIMEOUT, "window_closed", |e| {
        e["event"] == json!("window_closed")
    });
    assert_eq!(closed["id"], json!(window.id), "{closed}");
}

#[test]
fn subscribers_that_hang_up_free_their_connection_slot() {
    let comp = Compositor::start(640, 480);
    let subscribers: Vec<Conn> = (0..MAX_CONNECTIONS)
        .map(|_| {
            let mut conn = Conn::open(comp.control_socket());
            let reply = conn.request(&json!({"version": 1, "command": "subscribe"}));
            assert_ok(&reply, "done", "subscribe");
            conn
        })
        .collect();
    // Like 64 `porthole events` runs, each ended with Ctrl-C.
    drop(subscribers);
    wait_until_answering(&comp, "a fresh connection after the subscribers hung up");
}

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `porthole events` in the compositor's session; its stdout lines arrive on the channel.
fn porthole_events(comp: &Compositor) -> (KillOnDrop, mpsc::Receiver<String>) {
    let mut child = comp
        .command(&["events"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start porthole events");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        if !s.is_empty() {
            eprintln!("porthole events stderr: {s}");
        }
    });
    (KillOnDrop(child), rx)
}

/// Takes printed lines until one parses as an event satisfying `pred`; returns it with the
/// events printed before it.
fn next_printed(
    rx: &mpsc::Receiver<String>,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("`porthole events` printed a line that is not JSON ({e}): {line:?}")
                });
                assert!(event["event"].is_string(), "not an event: {line}");
                if pred(&event) {
                    return (event, seen);
                }
                seen.push(event);
            }
            Err(e) => panic!(
                "`porthole events` printed no {what} within {timeout:?} ({e}); it printed: \
                 {seen:?}"
            ),
        }
    }
}

#[test]
fn porthole_events_prints_a_json_line_when_a_window_opens() {
    let mut comp = Compositor::start(640, 480);
    let (first_pid, first) = open_simple_shm(&mut comp);
    let (mut cli, rx) = porthole_events(&comp);

    // The CLI says nothing when it has subscribed. Focusing the existing window emits
    // focus_changed each time; once the CLI prints one, it is listening.
    let id = first.id.to_string();
    poll(
        CLIENT_TIMEOUT,
        "`porthole events` to print focus_changed",
        || {
            comp.run_ok(&["window", "focus", "--id", &id]);
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let event: Value = serde_json::from_str(&line)
                        .map_err(|e| format!("not JSON ({e}): {line:?}"))?;
                    if event["event"] == json!("focus_changed") && event["id"] == json!(first.id) {
                        Ok(())
                    } else {
                        Err(line)
                    }
                }
                Err(e) => {
                    if let Ok(Some(status)) = cli.0.try_wait() {
                        panic!("`porthole events` exited with {status}");
                    }
                    Err(e.to_string())
                }
            }
        },
    );
    // Drop anything else printed so far.
    while rx.try_recv().is_ok() {}

    comp.spawn_client("weston-simple-shm", &[]);
    let (opened, before) = next_printed(&rx, CLIENT_TIMEOUT, "window_opened", |e| {
        e["event"] == json!("window_opened")
    });
    let window = &opened["window"];
    assert_ne!(window["id"], json!(first.id), "{opened}");
    assert_eq!(window["title"], json!("simple-shm"), "{opened}");
    let second = window["id"].as_u64().expect("numeric id");
    assert!(
        comp.window(second).is_some(),
        "window {second} is not listed"
    );
    // A new window takes focus; the CLI says so too (in whichever order it comes).
    let focus_to_second =
        |e: &Value| e["event"] == json!("focus_changed") && e["id"] == json!(second);
    if !before.iter().any(focus_to_second) {
        next_printed(
            &rx,
            CLIENT_TIMEOUT,
            "focus_changed to the new window",
            focus_to_second,
        );
    }

    comp.kill_client(first_pid);
    let (closed, _) = next_printed(&rx, CLIENT_TIMEOUT, "window_closed", |e| {
        e["event"] == json!("window_closed")
    });
    assert_eq!(closed["id"], json!(first.id), "{closed}");

    // When the compositor stops, `porthole events` ends instead of hanging.
    comp.run_ok(&["quit"]);
    poll(CLIENT_TIMEOUT, "`porthole events` to end", || {
        cli.0
            .try_wait()
            .unwrap()
            .ok_or_else(|| "still running".to_owned())
    });
}
