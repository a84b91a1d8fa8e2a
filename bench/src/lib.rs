//! What Porthole's tests share with the benchmark: a raw Wayland connection.

pub mod wire;
