//! Porthole's integration tests, in one binary: the helpers are compiled once, and
//! `cargo test --release --workspace --test e2e -- checkpoint::` runs one module.
//!
//! Most tests run the real `porthole` binary ([`common::Compositor`]) with real clients; those in
//! [`protocol`] drive the compositor in-process ([`fixture::Fixture`]). Tests run in parallel, each
//! in its own runtime directory; the load test and the QEMU guest hold the machine alone
//! ([`common::machine`]). The fuzz corpus is replayed by its own binary (`tests/fuzz_corpus.rs`):
//! the fuzz harness sets `XDG_RUNTIME_DIR` for the whole process.

mod common;
mod fixture;
mod raw;

mod checkpoint;
mod clients;
mod clipboard;
mod containers;
mod control;
mod focus;
mod gles;
mod hostile;
mod kiosk;
mod kms;
mod labels;
mod load;
mod outputs;
mod policy;
mod protocol;
mod sessions;
mod users;
mod winit;
mod x11;
