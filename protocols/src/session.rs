//! `xdg_session_management_v1` (protocols/xdg-session-management-v1.xml, the interfaces of the
//! wayland-protocols staging protocol): apps name their toplevels in a session and get their
//! places back when they start again. Server side for the compositor (feature `server`), client
//! side for tests (feature `client`).
//!
//! Outside the bindings, and so with no feature, the rules a client's requests must keep, which
//! the compositor and the bridge both enforce: [`check_get_session`], [`check_add_toplevel`] and
//! [`check_rename`].

/// The longest toplevel name Porthole keeps in a session, in bytes: a longer one is an
/// `invalid_name` error. (Names are stored, and a client could otherwise make the compositor
/// write 4 KiB names by the thousand.) The bridge checks it before the compositor would.
pub const MAX_NAME_BYTES: usize = 256;

/// What an `invalid_name` error says.
pub const NAME_RULE: &str = "a toplevel's name in a session is 1 to 256 bytes";

/// Whether `name` may name a toplevel in a session.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_BYTES
}

// The rules a client can break, as both servers enforce them. The bridge serves a checkpointable
// container's apps as one client of the compositor: a rule one app broke that reached the
// compositor would cut off the bridge, and every app of the container with it. So the bridge
// checks each request before passing it on, and both servers decide with the functions below,
// from facts each looks up in its own state.

/// An `xdg_session_v1` error: a rule `add_toplevel`, `restore_toplevel` or
/// `xdg_toplevel_session_v1.rename` broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The name is empty or longer than [`MAX_NAME_BYTES`].
    InvalidName,
    /// The toplevel is in a session already, this one or another.
    AlreadyAdded,
    /// Another toplevel of the session has this name.
    NameInUse(String),
    /// `restore_toplevel` came after the toplevel's first commit.
    AlreadyMapped,
}

impl Broken {
    /// The error's code in `xdg_session_v1.error`.
    pub fn code(&self) -> u32 {
        match self {
            Broken::NameInUse(_) => 1,
            Broken::AlreadyMapped => 2,
            Broken::InvalidName => 3,
            Broken::AlreadyAdded => 4,
        }
    }
}

/// The message posted with the error.
impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::InvalidName => f.write_str(NAME_RULE),
            Broken::AlreadyAdded => f.write_str("the toplevel is in a session already"),
            Broken::NameInUse(name) => {
                write!(f, "a toplevel of the session is named `{name}` already")
            }
            Broken::AlreadyMapped => {
                f.write_str("restore_toplevel comes before the toplevel's first commit")
            }
        }
    }
}

/// What a server knows of an `add_toplevel` or `restore_toplevel` request.
#[derive(Debug, Clone, Copy)]
pub struct AddToplevel<'a> {
    /// The name asked for.
    pub name: &'a str,
    /// `restore_toplevel`, not `add_toplevel`.
    pub restore: bool,
    /// The toplevel is in a session already, this one or another.
    pub in_a_session: bool,
    /// A toplevel of this session has the name already.
    pub name_taken: bool,
    /// The toplevel made its first commit: the server configured it.
    pub committed: bool,
}

/// Whether `name` may name a toplevel in a session: the first rule of [`check_add_toplevel`]
/// and [`check_rename`]. A server checks it before it looks the toplevel up, for a bad name is
/// an error even when the toplevel is gone (which a server ignores).
pub fn check_name(name: &str) -> Result<(), Broken> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Broken::InvalidName)
    }
}

/// The rules of `add_toplevel` and `restore_toplevel`, in the order both servers check them, so
/// that a request breaking several draws the same error from either.
pub fn check_add_toplevel(request: &AddToplevel) -> Result<(), Broken> {
    check_name(request.name)?;
    if request.in_a_session {
        return Err(Broken::AlreadyAdded);
    }
    if request.name_taken {
        return Err(Broken::NameInUse(request.name.to_string()));
    }
    if request.restore && request.committed {
        return Err(Broken::AlreadyMapped);
    }
    Ok(())
}

/// The rules of `xdg_toplevel_session_v1.rename`: a valid name no toplevel of the session has
/// (the renamed one included).
pub fn check_rename(name: &str, name_taken: bool) -> Result<(), Broken> {
    check_name(name)?;
    if name_taken {
        return Err(Broken::NameInUse(name.to_string()));
    }
    Ok(())
}

/// An `xdg_session_manager_v1` error: a rule `get_session` broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetSessionBroken {
    /// The client uses the session it asks for already. (Another client using it is no error:
    /// it is sent `replaced` and loses it.)
    InUse,
    /// The reason is none of the protocol's.
    InvalidReason,
}

impl GetSessionBroken {
    /// The error's code in `xdg_session_manager_v1.error`.
    pub fn code(&self) -> u32 {
        match self {
            GetSessionBroken::InUse => 1,
            GetSessionBroken::InvalidReason => 3,
        }
    }
}

/// The message posted with the error.
impl std::fmt::Display for GetSessionBroken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GetSessionBroken::InUse => "this client uses the session already",
            GetSessionBroken::InvalidReason => "the reason is launch, recover or session_restore",
        })
    }
}

/// What a server knows of a `get_session` request.
#[derive(Debug, Clone, Copy)]
pub struct GetSession {
    /// The reason is one of the protocol's.
    pub reason_known: bool,
    /// The client has a live session object for the id it asks for (none when it asks for a new
    /// session).
    pub held_by_client: bool,
}

/// The rules of `get_session`, in the order both servers check them.
pub fn check_get_session(request: &GetSession) -> Result<(), GetSessionBroken> {
    if !request.reason_known {
        return Err(GetSessionBroken::InvalidReason);
    }
    if request.held_by_client {
        return Err(GetSessionBroken::InUse);
    }
    Ok(())
}

#[cfg(feature = "client")]
pub mod client {
    #![allow(missing_docs, clippy::all)]
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_client;
    use wayland_client::protocol::*;
    use wayland_protocols::xdg::shell::client::*;

    pub mod __interfaces {
        use wayland_client::backend as wayland_backend;
        use wayland_client::protocol::__interfaces::*;
        use wayland_protocols::xdg::shell::client::__interfaces::*;
        wayland_scanner::generate_interfaces!("xdg-session-management-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_client_code!("xdg-session-management-v1.xml");
}

#[cfg(feature = "server")]
pub mod server {
    #![allow(missing_docs, clippy::all)]
    #![allow(dead_code, non_camel_case_types, unused_unsafe, unused_variables)]
    #![allow(non_upper_case_globals, non_snake_case, unused_imports)]
    use wayland_protocols::xdg::shell::server::*;
    use wayland_server;
    use wayland_server::protocol::*;

    pub mod __interfaces {
        use wayland_protocols::xdg::shell::server::__interfaces::*;
        use wayland_server::backend as wayland_backend;
        use wayland_server::protocol::__interfaces::*;
        wayland_scanner::generate_interfaces!("xdg-session-management-v1.xml");
    }
    use self::__interfaces::*;

    wayland_scanner::generate_server_code!("xdg-session-management-v1.xml");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `entry` in the error enum of `interface`, as the protocol's XML gives it.
    fn xml_code(interface: &str, entry: &str) -> u32 {
        let xml = include_str!("../xdg-session-management-v1.xml");
        let start = xml
            .find(&format!("<interface name=\"{interface}\""))
            .expect("the interface is in the XML");
        let body = &xml[start..];
        let body = &body[..body.find("</interface>").expect("the interface ends")];
        let key = format!("<entry name=\"{entry}\" value=\"");
        let at = body.find(&key).expect("the entry is in the error enum") + key.len();
        let value = &body[at..];
        value[..value.find('"').expect("the value ends")]
            .parse()
            .expect("the value is a number")
    }

    /// An `add_toplevel` that breaks nothing.
    fn add(name: &str) -> AddToplevel<'_> {
        AddToplevel {
            name,
            restore: false,
            in_a_session: false,
            name_taken: false,
            committed: false,
        }
    }

    #[test]
    fn error_codes_are_the_protocols() {
        let session = [
            (Broken::NameInUse("x".into()), "name_in_use"),
            (Broken::AlreadyMapped, "already_mapped"),
            (Broken::InvalidName, "invalid_name"),
            (Broken::AlreadyAdded, "already_added"),
        ];
        for (broken, entry) in session {
            assert_eq!(broken.code(), xml_code("xdg_session_v1", entry), "{entry}");
        }
        let manager = [
            (GetSessionBroken::InUse, "in_use"),
            (GetSessionBroken::InvalidReason, "invalid_reason"),
        ];
        for (broken, entry) in manager {
            assert_eq!(
                broken.code(),
                xml_code("xdg_session_manager_v1", entry),
                "{entry}"
            );
        }
    }

    #[test]
    fn the_messages_are_the_ones_clients_have_seen() {
        assert_eq!(Broken::InvalidName.to_string(), NAME_RULE);
        assert_eq!(
            Broken::AlreadyAdded.to_string(),
            "the toplevel is in a session already"
        );
        assert_eq!(
            Broken::NameInUse("editor".into()).to_string(),
            "a toplevel of the session is named `editor` already"
        );
        assert_eq!(
            Broken::AlreadyMapped.to_string(),
            "restore_toplevel comes before the toplevel's first commit"
        );
        assert_eq!(
            GetSessionBroken::InUse.to_string(),
            "this client uses the session already"
        );
        assert_eq!(
            GetSessionBroken::InvalidReason.to_string(),
            "the reason is launch, recover or session_restore"
        );
    }

    #[test]
    fn a_new_name_for_a_toplevel_in_no_session_is_added_or_restored_before_its_first_commit() {
        assert_eq!(check_add_toplevel(&add("main")), Ok(()));
        let restore = AddToplevel {
            restore: true,
            ..add("main")
        };
        assert_eq!(check_add_toplevel(&restore), Ok(()));
    }

    #[test]
    fn a_name_empty_or_over_256_bytes_is_invalid_whatever_else_the_request_breaks() {
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        for name in ["", long.as_str()] {
            let everything = AddToplevel {
                restore: true,
                in_a_session: true,
                name_taken: true,
                committed: true,
                ..add(name)
            };
            assert_eq!(check_add_toplevel(&everything), Err(Broken::InvalidName));
            assert_eq!(check_name(name), Err(Broken::InvalidName));
            assert_eq!(check_rename(name, true), Err(Broken::InvalidName));
        }
        let longest = "é".repeat(MAX_NAME_BYTES / 2);
        assert_eq!(check_add_toplevel(&add(&longest)), Ok(()));
    }

    #[test]
    fn a_toplevel_in_a_session_cannot_be_added_again_under_any_name() {
        let again = AddToplevel {
            in_a_session: true,
            name_taken: true,
            ..add("main")
        };
        assert_eq!(check_add_toplevel(&again), Err(Broken::AlreadyAdded));
    }

    #[test]
    fn a_name_in_use_in_the_session_is_refused_and_named() {
        let taken = AddToplevel {
            name_taken: true,
            restore: true,
            committed: true,
            ..add("main")
        };
        assert_eq!(
            check_add_toplevel(&taken),
            Err(Broken::NameInUse("main".into()))
        );
        assert_eq!(
            check_rename("main", true),
            Err(Broken::NameInUse("main".into()))
        );
        assert_eq!(check_rename("other", false), Ok(()));
    }

    #[test]
    fn only_a_restore_must_come_before_the_first_commit() {
        let added = AddToplevel {
            committed: true,
            ..add("main")
        };
        assert_eq!(check_add_toplevel(&added), Ok(()));
        let restored = AddToplevel {
            restore: true,
            ..added
        };
        assert_eq!(check_add_toplevel(&restored), Err(Broken::AlreadyMapped));
    }

    #[test]
    fn get_session_refuses_an_unknown_reason_first_then_a_session_the_client_holds() {
        let request = |reason_known, held_by_client| GetSession {
            reason_known,
            held_by_client,
        };
        assert_eq!(check_get_session(&request(true, false)), Ok(()));
        assert_eq!(
            check_get_session(&request(false, true)),
            Err(GetSessionBroken::InvalidReason)
        );
        assert_eq!(
            check_get_session(&request(true, true)),
            Err(GetSessionBroken::InUse)
        );
    }
}
