//! Identity keys: how the rolled-up state names whoever a message is about.
//!
//! A key is a kind prefix and the id a client sent: `g:acme` (an account, Segment's `groupId`), `u:42` (a
//! known person, `userId`), `a:3f…` (a visitor, `anonymousId`). The prefixes keep the three id spaces apart
//! (a user and an account may both be called `42`). Keys are stored as plain strings (map keys, SQLite
//! columns, JSON), but every key is made and read here, so the format has one home.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an identity key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// An account (a company): Segment's `groupId`.
    Account,
    /// A known person: `userId` (or an alias's `previousId`).
    User,
    /// An anonymous visitor: `anonymousId` (or an alias's `previousId`).
    Visitor,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 3] = [IdentityKind::Account, IdentityKind::User, IdentityKind::Visitor];

    /// The key prefix of this kind.
    pub const fn prefix(self) -> &'static str {
        match self {
            IdentityKind::Account => "g:",
            IdentityKind::User => "u:",
            IdentityKind::Visitor => "a:",
        }
    }

    /// The kind of a stored key, if it has a known prefix.
    pub fn of(key: &str) -> Option<IdentityKind> {
        IdentityKind::ALL.into_iter().find(|k| key.starts_with(k.prefix()))
    }
}

/// One identity key, made from its kind and id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdentityKey(String);

impl IdentityKey {
    pub fn new(kind: IdentityKind, id: &str) -> IdentityKey {
        // Built by hand, not with `format!`: every folded message makes two or three of these, and the
        // formatting machinery was a twentieth of a report's time from a file.
        let prefix = kind.prefix();
        let mut key = String::with_capacity(prefix.len() + id.len());
        key.push_str(prefix);
        key.push_str(id);
        IdentityKey(key)
    }
    pub fn account(id: &str) -> IdentityKey {
        IdentityKey::new(IdentityKind::Account, id)
    }
    pub fn user(id: &str) -> IdentityKey {
        IdentityKey::new(IdentityKind::User, id)
    }
    pub fn visitor(id: &str) -> IdentityKey {
        IdentityKey::new(IdentityKind::Visitor, id)
    }

    /// A stored key, if it has a known prefix.
    pub fn parse(key: &str) -> Option<IdentityKey> {
        IdentityKind::of(key).map(|_| IdentityKey(key.to_owned()))
    }

    pub fn kind(&self) -> IdentityKind {
        // Every constructor sets a known prefix.
        IdentityKind::of(&self.0).unwrap_or(IdentityKind::Visitor)
    }

    /// The id without its prefix.
    pub fn id(&self) -> &str {
        &self.0[self.kind().prefix().len()..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The id of `key` if it is of `kind` (`id_of("u:42", User) == Some("42")`).
pub fn id_of(key: &str, kind: IdentityKind) -> Option<&str> {
    key.strip_prefix(kind.prefix())
}

/// Whether `key` is of `kind`.
pub fn is(key: &str, kind: IdentityKind) -> bool {
    key.starts_with(kind.prefix())
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<IdentityKey> for String {
    fn from(k: IdentityKey) -> String {
        k.0
    }
}

impl AsRef<str> for IdentityKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for IdentityKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for IdentityKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Kind and id come back from every key made, and the three kinds never share a key.
        #[test]
        fn keys_round_trip_and_kinds_stay_apart(id in ".{0,40}") {
            let keys = IdentityKind::ALL.map(|k| IdentityKey::new(k, &id));
            for (kind, key) in IdentityKind::ALL.into_iter().zip(&keys) {
                prop_assert_eq!(key.kind(), kind);
                prop_assert_eq!(key.id(), id.as_str());
                prop_assert_eq!(id_of(key.as_str(), kind), Some(id.as_str()));
                prop_assert_eq!(IdentityKey::parse(key.as_str()), Some(key.clone()));
                for other in IdentityKind::ALL.into_iter().filter(|o| *o != kind) {
                    prop_assert!(!is(key.as_str(), other));
                }
            }
            prop_assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        }
    }

    #[test]
    fn the_wire_format_is_the_stored_one() {
        assert_eq!(IdentityKey::account("acme").as_str(), "g:acme");
        assert_eq!(IdentityKey::user("42").to_string(), "u:42");
        assert_eq!(serde_json::to_value(IdentityKey::visitor("v")).unwrap(), "a:v");
        assert_eq!(IdentityKey::parse("x:1"), None);
    }
}
