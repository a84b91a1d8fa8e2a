//! The control socket: its client side (every `porthole` command but `serve`), its server side
//! (threads that read requests and hand them to the event loop) and the commands themselves.

pub mod client;
pub mod commands;
pub mod server;
