//! Output configuration: `[output.NAME]` in the configuration and `porthole output set` at run
//! time, on headless outputs (the drm backend's, a real modeset included, are in `kms`).

use porthole_ipc::OutputInfo;

use crate::common::*;

fn outputs(comp: &Compositor) -> Vec<OutputInfo> {
    serde_json::from_str(&comp.run_ok(&["outputs", "--json"])).unwrap()
}

fn output(comp: &Compositor, name: &str) -> OutputInfo {
    outputs(comp)
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no output {name}"))
}

/// `porthole output set` that must fail; returns its error message.
fn refused(comp: &Compositor, args: &[&str]) -> String {
    let mut all = vec!["output", "set"];
    all.extend(args);
    let out = comp.run(&all);
    assert!(
        !out.status.success(),
        "`porthole output set {args:?}` was accepted"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_configuration_places_and_scales_outputs_by_name() {
    let config = "[output.HEADLESS-2]\nposition = [0, 720]\nscale = 2.0\n\
                  [output.HEADLESS-1]\nmode = \"1024x768\"\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("porthole.toml");
    std::fs::write(&path, config).unwrap();
    let comp =
        Compositor::start_outputs("1280x720,1280x720", &["--config", path.to_str().unwrap()]);
    let one = output(&comp, "HEADLESS-1");
    assert_eq!((one.mode_width, one.mode_height), (1024, 768), "{one:?}");
    let two = output(&comp, "HEADLESS-2");
    let g = two.geometry;
    // Below the first, and at scale 2 half as large in logical pixels.
    assert_eq!((g.x, g.y, g.width, g.height), (0, 720, 640, 360), "{two:?}");
    assert_eq!(two.scale, 2.0);
}

#[test]
fn output_set_changes_mode_position_scale_and_transform_at_run_time() {
    let mut comp = Compositor::start_outputs("1280x720,640x480", &[]);
    let id = {
        // A terminal: it takes the size it is configured with.
        comp.spawn_terminal();
        comp.wait_for_windows(1, CLIENT_TIMEOUT)[0].id
    };
    comp.run_ok(&["window", "maximize", "--id", &id.to_string()]);

    comp.run_ok(&["output", "set", "HEADLESS-1", "--mode", "800x600"]);
    let one = output(&comp, "HEADLESS-1");
    assert_eq!((one.mode_width, one.mode_height), (800, 600));
    let shot = comp.screenshot_of(Some("HEADLESS-1"));
    assert_eq!((shot.width, shot.height), (800, 600));
    // The maximized window follows its output's new size.
    poll(
        CLIENT_TIMEOUT,
        "the maximized window to fit 800x600",
        || {
            let w = comp.window(id).ok_or("window gone")?;
            let g = w.geometry;
            if g.x + g.width <= 800 && g.y + g.height <= 600 && g.width > 700 {
                Ok(())
            } else {
                Err(format!("{g:?}"))
            }
        },
    );

    comp.run_ok(&["output", "set", "HEADLESS-2", "--position", "-640,0"]);
    let g = output(&comp, "HEADLESS-2").geometry;
    assert_eq!((g.x, g.y), (-640, 0));

    comp.run_ok(&[
        "output",
        "set",
        "HEADLESS-1",
        "--transform",
        "90",
        "--scale",
        "2",
    ]);
    let one = output(&comp, "HEADLESS-1");
    assert_eq!(one.transform, "90");
    assert_eq!(one.scale, 2.0);
    // Rotated: 600 wide and 800 high, halved by the scale.
    assert_eq!(
        (one.geometry.width, one.geometry.height),
        (300, 400),
        "{one:?}"
    );
    let shot = comp.screenshot_of(Some("HEADLESS-1"));
    assert_eq!(
        (shot.width, shot.height),
        (800, 600),
        "the mode is unchanged"
    );
}

#[test]
fn output_set_refuses_nonsense_with_a_reason() {
    let comp = Compositor::start(640, 480);
    let err = refused(&comp, &["HEADLESS-9", "--scale", "2"]);
    assert!(err.contains("no output named `HEADLESS-9`"), "{err}");
    let err = refused(&comp, &["HEADLESS-1", "--scale", "9"]);
    assert!(err.contains("scale 9 is out of range"), "{err}");
    let err = refused(&comp, &["HEADLESS-1", "--transform", "sideways"]);
    assert!(err.contains("flipped-90"), "{err}");
    let err = refused(&comp, &["HEADLESS-1", "--mode", "huge"]);
    assert!(err.contains("WIDTHxHEIGHT"), "{err}");
    let err = refused(&comp, &["HEADLESS-1", "--off"]);
    assert!(err.contains("drm"), "{err}");
    // Nothing changed, and the compositor still answers.
    let one = output(&comp, "HEADLESS-1");
    assert_eq!(
        (one.mode_width, one.mode_height, one.scale),
        (640, 480, 1.0)
    );
    assert_eq!(one.modes, ["640x480@60"]);
}

#[test]
fn a_fullscreen_window_follows_its_output_without_taking_the_focus() {
    let mut comp = Compositor::start(1280, 720);
    comp.spawn_terminal();
    let full = comp.wait_for_windows(1, CLIENT_TIMEOUT)[0].id;
    comp.run_ok(&["window", "fullscreen", "--id", &full.to_string()]);
    poll(CLIENT_TIMEOUT, "the terminal to be fullscreen", || {
        let w = comp.window(full).ok_or("gone")?;
        if w.fullscreen && w.geometry.width == 1280 {
            Ok(())
        } else {
            Err(format!("{w:?}"))
        }
    });
    comp.spawn_terminal();
    let other = comp.wait_for_new_window(&[full], CLIENT_TIMEOUT).id;
    poll(
        CLIENT_TIMEOUT,
        "the second terminal to have the focus",
        || match comp.window(other) {
            Some(w) if w.focused => Ok(()),
            w => Err(format!("{w:?}")),
        },
    );

    comp.run_ok(&["output", "set", "HEADLESS-1", "--mode", "1024x768"]);
    poll(
        CLIENT_TIMEOUT,
        "the fullscreen terminal to cover 1024 pixels",
        || {
            let w = comp.window(full).ok_or("gone")?;
            if w.fullscreen && w.geometry.width == 1024 {
                Ok(())
            } else {
                Err(format!("{w:?}"))
            }
        },
    );
    let w = comp.window(other).expect("the second terminal");
    assert!(w.focused, "the output change moved the focus: {w:?}");
}
