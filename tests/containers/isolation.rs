//! What a sandbox of `porthole run` cannot reach: the host's Wayland and control sockets, another
//! container's socket, the host's runtime directory, and an X server of the host.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::common::*;

#[test]
fn a_sandbox_cannot_reach_the_host_socket_or_another_container() {
    let c = Compositor::start(800, 600);
    c.run_ok(&["container", "add", "a"]);
    c.run_ok(&["container", "add", "b"]);
    let events = Events::subscribe(&c);
    let mark = events.len();

    let host_socket = c.dir().join(c.wayland_display());
    assert!(
        host_socket.exists(),
        "the host socket {host_socket:?} exists outside"
    );
    let control = c.control_socket().to_path_buf();
    let b_socket = PathBuf::from(container(&c, "b").socket);
    assert!(b_socket.exists(), "b's socket {b_socket:?} exists outside");

    // Reports what the sandbox sees, one `key=value` line each.
    let script = r#"
        state() { if [ -e "$1" ] || [ -L "$1" ]; then echo present; else echo absent; fi; }
        echo "host_socket=$(state "$1")"
        echo "control_socket=$(state "$2")"
        echo "b_socket=$(state "$3")"
        echo "host_runtime_dir=$(state "$4")"
        if [ -d /tmp/.X11-unix ]; then
            echo "x11=$(ls -A /tmp/.X11-unix | tr '\n' ' ')"
        else
            echo "x11="
        fi
        out=$(WAYLAND_DISPLAY="$1" wayland-info 2>&1)
        echo "abs_rc=$?"
        echo "abs_globals=$(printf '%s\n' "$out" | grep -c "'wl_compositor'")"
        echo "abs_out=$(printf '%s' "$out" | head -c 300 | tr '\n' ' ')"
        out=$(wayland-info 2>&1)
        echo "default_rc=$?"
        echo "default_globals=$(printf '%s\n' "$out" | grep -c "'wl_compositor'")"
        echo "env=XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR WAYLAND_DISPLAY=$WAYLAND_DISPLAY"
        echo "run_porthole=$(ls -A /run/porthole 2>&1 | tr '\n' ' ')"
    "#;
    let args = [
        host_socket.to_str().unwrap(),
        control.to_str().unwrap(),
        b_socket.to_str().unwrap(),
        c.dir().to_str().unwrap(),
    ];
    let mut cmd = vec!["run", "a", "--", "sh", "-c", script, "sh"];
    cmd.extend(args);
    let out = c.run(&cmd);
    let seen = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = format!(
        "inside `porthole run a` ({}):\n{seen}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    let get = |key: &str| -> String {
        seen.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no `{key}=` line; {report}"))
            .trim()
            .to_owned()
    };

    assert_eq!(
        get("host_socket"),
        "absent",
        "the host socket is visible; {report}"
    );
    assert_eq!(
        get("control_socket"),
        "absent",
        "the control socket is visible; {report}"
    );
    assert_eq!(
        get("b_socket"),
        "absent",
        "container b's socket is visible; {report}"
    );
    assert_eq!(
        get("host_runtime_dir"),
        "absent",
        "the host runtime dir is visible; {report}"
    );
    assert_eq!(
        get("x11"),
        "X0",
        "/tmp/.X11-unix holds more than the sandbox's own X socket; {report}"
    );
    assert!(
        get("abs_rc") != "0" && get("abs_globals") == "0",
        "wayland-info reached the host socket by its absolute path; {report}"
    );
    assert!(
        get("default_rc") == "0" && get("default_globals") == "1",
        "wayland-info with the sandbox's own environment did not reach a compositor; {report}"
    );

    // What the compositor saw: a client of `a`, and no connection through any other door.
    events.wait_for(mark, "client_connected in a", |e| {
        e["event"] == "client_connected" && e["container"] == "a"
    });
    let foreign: Vec<Value> = events.all()[mark..]
        .iter()
        .filter(|e| e["event"] == "client_connected" && e["container"] != "a")
        .cloned()
        .collect();
    assert!(
        foreign.is_empty(),
        "the sandbox connected through another socket: {foreign:?}; {report}"
    );
}

#[test]
fn a_sandbox_cannot_reach_a_host_x_server() {
    require("Xvfb", "xvfb");
    let c = Compositor::start(320, 240);
    c.run_ok(&["container", "add", "a"]);

    // Xvfb picks a free display and prints its number once it accepts connections.
    let mut xvfb = Command::new("Xvfb");
    xvfb.args([
        "-displayfd",
        "1",
        "-nolisten",
        "tcp",
        "-screen",
        "0",
        "320x240x24",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut xvfb = xvfb.spawn().expect("cannot start Xvfb");
    struct Stop(Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            terminate(&mut self.0, Duration::from_secs(5));
        }
    }
    let stdout = xvfb.stdout.take().unwrap();
    let xvfb = Stop(xvfb);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let display = format!(
        ":{}",
        rx.recv_timeout(CLIENT_TIMEOUT)
            .expect("Xvfb printed no display number")
            .trim()
    );

    let outside = Command::new("xdpyinfo")
        .args(["-display", &display])
        .output()
        .expect("xdpyinfo runs");
    assert!(
        outside.status.success(),
        "the X server works outside: {}",
        shown(&outside)
    );

    // The sandbox has an X server of its own at :0 (and :1): whatever answers there must be
    // its Xwayland, whose root window the bridge manages (SubstructureRedirect), not the host's
    // Xvfb, which has no window manager.
    let out = c.run(&["run", "a", "--", "xdpyinfo", "-display", &display]);
    let inside = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() || inside.contains("SubstructureRedirectMask"),
        "xdpyinfo inside `porthole run` reached the host X server {display}: {}",
        shown(&out)
    );
    let out = c.run(&[
        "run", "a", "--no-x11", "--", "xdpyinfo", "-display", &display,
    ]);
    assert!(
        !out.status.success(),
        "xdpyinfo inside `porthole run --no-x11` reached an X server at {display}: {}",
        shown(&out)
    );
    drop(xvfb);
}
