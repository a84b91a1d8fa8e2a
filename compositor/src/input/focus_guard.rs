//! Who may take the keyboard without the person moving it: the rules behind focus-stealing
//! prevention. A click, Alt+Tab or `porthole window focus` always moves the focus; a window
//! that appears or asks to be activated moves it only when
//!
//! - it is the host's (trusted),
//! - its container already holds the focus,
//! - nothing holds the focus,
//! - its container was just started by the person (`porthole run`, within [`LAUNCH_WINDOW`]),
//! - or it brings an xdg-activation token minted from an input event the person sent to a client
//!   of the token's container (a serial the compositor really sent, checked here),
//!
//! and, in the last two cases, the person is not typing into another container right now
//! ([`TYPING`]). Anything else maps unfocused, below the focused window, marked as wanting
//! attention.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use smithay::utils::Serial;

use crate::policy::HOST_CONTAINER;

/// How long after `porthole run` the container's first window may take the focus.
pub const LAUNCH_WINDOW: Duration = Duration::from_secs(20);

/// How long after a key press the person counts as typing: no other container takes the focus.
pub const TYPING: Duration = Duration::from_millis(1500);

/// How long an input event's serial may mint an activation token.
const SERIAL_LIFETIME: Duration = Duration::from_secs(30);

/// How many input events' serials are kept.
const KEPT_SERIALS: usize = 64;

/// Serials of the input events sent to clients, containers just launched, and when a key was
/// last pressed.
#[derive(Debug, Default)]
pub struct FocusGuard {
    /// (serial, container of the client it was sent to, when), newest last.
    sent: VecDeque<(Serial, String, Instant)>,
    /// Containers the person started, and when.
    launches: HashMap<String, Instant>,
    /// When a key last went to a client, and that client's container.
    last_key: Option<(Instant, String)>,
}

/// Why a window may take the focus, or that it may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It takes the focus.
    Focus,
    /// It stays unfocused and is marked as wanting attention.
    Attention,
}

impl FocusGuard {
    /// An input event with `serial` went to a client of `container`.
    pub fn sent(&mut self, serial: Serial, container: &str, now: Instant) {
        if self.sent.len() == KEPT_SERIALS {
            self.sent.pop_front();
        }
        self.sent.push_back((serial, container.to_string(), now));
    }

    /// A key press went to a client of `container`.
    pub fn key_pressed(&mut self, container: &str, now: Instant) {
        self.last_key = Some((now, container.to_string()));
    }

    /// The person started something in `container`.
    pub fn launched(&mut self, container: &str, now: Instant) {
        self.launches
            .retain(|_, at| now.duration_since(*at) < LAUNCH_WINDOW);
        self.launches.insert(container.to_string(), now);
    }

    /// Whether `serial` is one the compositor sent, recently, with an input event to a client of
    /// `container`: only such a serial mints an activation token that moves the focus.
    pub fn serial_sent_to(&self, serial: Serial, container: &str, now: Instant) -> bool {
        self.sent.iter().any(|(s, c, at)| {
            *s == serial && c == container && now.duration_since(*at) < SERIAL_LIFETIME
        })
    }

    /// Whether the person is typing into a container other than `container`.
    fn typing_elsewhere(&self, container: &str, now: Instant) -> bool {
        self.last_key
            .as_ref()
            .is_some_and(|(at, c)| c != container && now.duration_since(*at) < TYPING)
    }

    /// Whether a new window of `container` takes the focus from `focused` (the focused window's
    /// container, if any). A launch is used up by the window it focuses.
    pub fn new_window(&mut self, container: &str, focused: Option<&str>, now: Instant) -> Verdict {
        if container == HOST_CONTAINER || focused == Some(container) {
            return Verdict::Focus;
        }
        if self.typing_elsewhere(container, now) {
            return Verdict::Attention;
        }
        if focused.is_none() {
            return Verdict::Focus;
        }
        match self.launches.remove(container) {
            Some(at) if now.duration_since(at) < LAUNCH_WINDOW => Verdict::Focus,
            _ => Verdict::Attention,
        }
    }

    /// Whether a window of `container` that brought a valid activation token takes the focus
    /// from `focused`.
    pub fn activation(&self, container: &str, focused: Option<&str>, now: Instant) -> Verdict {
        if container == HOST_CONTAINER
            || focused == Some(container)
            || !self.typing_elsewhere(container, now)
        {
            Verdict::Focus
        } else {
            Verdict::Attention
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> (FocusGuard, Instant) {
        (FocusGuard::default(), Instant::now())
    }

    #[test]
    fn a_new_window_never_takes_the_focus_from_another_container_unasked() {
        let (mut g, now) = guard();
        assert_eq!(g.new_window("a", Some("host"), now), Verdict::Attention);
        assert_eq!(g.new_window("a", Some("b"), now), Verdict::Attention);
        assert_eq!(g.new_window("a", Some("a"), now), Verdict::Focus);
        assert_eq!(g.new_window("host", Some("a"), now), Verdict::Focus);
        assert_eq!(g.new_window("a", None, now), Verdict::Focus);
    }

    #[test]
    fn a_launch_focuses_the_containers_first_window_only_and_not_for_ever() {
        let (mut g, now) = guard();
        g.launched("a", now);
        assert_eq!(g.new_window("a", Some("host"), now), Verdict::Focus);
        assert_eq!(g.new_window("a", Some("host"), now), Verdict::Attention);
        g.launched("a", now);
        let late = now + LAUNCH_WINDOW;
        assert_eq!(g.new_window("a", Some("host"), late), Verdict::Attention);
    }

    #[test]
    fn nothing_takes_the_focus_from_a_person_typing_elsewhere() {
        let (mut g, now) = guard();
        g.launched("a", now);
        g.key_pressed("host", now);
        assert_eq!(g.new_window("a", None, now), Verdict::Attention);
        assert_eq!(g.activation("a", Some("host"), now), Verdict::Attention);
        // Typing into `a` itself does not stop `a`'s own windows.
        g.key_pressed("a", now);
        assert_eq!(g.activation("a", Some("host"), now), Verdict::Focus);
        let later = now + TYPING;
        g.key_pressed("host", now);
        assert_eq!(g.activation("a", Some("host"), later), Verdict::Focus);
    }

    #[test]
    fn only_serials_sent_to_the_container_mint_tokens() {
        let (mut g, now) = guard();
        let serial = Serial::from(41);
        g.sent(serial, "a", now);
        assert!(g.serial_sent_to(serial, "a", now));
        assert!(
            !g.serial_sent_to(serial, "b", now),
            "another container's serial"
        );
        assert!(
            !g.serial_sent_to(Serial::from(0x7fff_1234), "a", now),
            "forged"
        );
        assert!(
            !g.serial_sent_to(serial, "a", now + SERIAL_LIFETIME),
            "too old"
        );
        for n in 0..KEPT_SERIALS as u32 {
            g.sent(Serial::from(100 + n), "a", now);
        }
        assert!(!g.serial_sent_to(serial, "a", now), "forgotten");
    }
}
