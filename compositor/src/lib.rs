//! Porthole: a Wayland compositor that gives every container its own window onto one desktop.
//!
//! One folder per feature; the data path reads top to bottom: [`cli`] and [`serve`] start
//! things, [`state`] holds them, [`backend`] brings input in and takes frames out, [`input`]
//! and [`shell`] decide what happens to windows, [`render`] and [`decorations`] draw them, and
//! the features ([`containers`], [`clipboard`], [`checkpoint`], [`protocols`]) hang off the
//! state. `handlers/` only wires smithay's traits to them.

#[cfg(test)]
mod architecture;
pub mod backend;
pub mod bounds;
pub mod checkpoint;
pub mod cli;
pub mod clients;
pub mod clipboard;
pub mod config;
pub mod containers;
pub mod decorations;
pub mod fds;
pub mod fuzzing;
mod handlers;
pub mod input;
pub mod ipc;
pub mod nofollow;
pub mod outputs;
pub mod paths;
pub mod policy;
pub mod protocols;
pub mod render;
pub mod serve;
pub mod shell;
pub mod spawn;
pub mod state;
pub mod surface_lists;

pub use crate::serve::{build, serve, BackendKind, HostSocket, RendererKind, ServeOptions};
