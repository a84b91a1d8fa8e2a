//! Protocol handlers: one file per protocol (small related ones together), each an `impl XHandler`
//! followed by its `delegate_x!`.

mod compositor;
mod dmabuf;
mod misc;
mod output;
mod privileged;
mod screencopy;
mod seat;
mod selection;

pub use selection::SelectionDevice;
mod x11;
mod xdg_shell;
