//! What faces the container's X server: its socket and cookie ([`display`]), the Xwayland
//! started behind them on the first X11 client ([`xwayland`]), the bridge as its window manager
//! ([`wm`]), and the X11 windows mirrored on the host ([`mirror`]).

pub mod display;
pub mod mirror;
pub mod wm;
pub mod xwayland;
