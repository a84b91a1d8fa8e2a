//! `porthole-bridge`: will run one container's rootless XWayland and forward its windows into
//! that container's Wayland socket. Only the crate skeleton exists so far.

fn main() -> std::process::ExitCode {
    eprintln!("porthole-bridge: not implemented yet; X11 support per container is planned");
    std::process::ExitCode::FAILURE
}
