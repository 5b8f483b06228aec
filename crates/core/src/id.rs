//! Identifiers. Every row id is a UUIDv7 rendered as text: sortable by creation time, portable
//! across SQLite and PostgreSQL, and safe to mint on any node when several share one database.

/// Declares a text id newtype: serialized as the bare string, compared with `&str`, readable
/// as `&str` (`Deref`, `Borrow`, so it keys maps looked up by `&str`).
macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name(s.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

text_id! {
    /// A call's id (also its call record's id).
    CallId
}

text_id! {
    /// An agent's id (their user id).
    AgentId
}

text_id! {
    /// A queue's id.
    QueueId
}

/// A fresh, time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().as_simple().to_string()
}

/// True when `s` looks like an id this system could have minted (32 lowercase hex digits).
/// Used to turn obviously bad path parameters into 404s without a query.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_read_and_serialize_as_text() {
        let id = CallId::from("c1");
        assert_eq!(id, "c1");
        assert_eq!(id.as_str(), "c1");
        assert_eq!(serde_json::to_value(&id).unwrap(), "c1");
        let back: CallId = serde_json::from_str("\"c1\"").unwrap();
        assert_eq!(back, id);
        let mut map = std::collections::HashMap::new();
        map.insert(AgentId::from("a1"), 1);
        assert_eq!(map.get("a1"), Some(&1));
    }

    #[test]
    fn ids_are_unique_sortable_and_recognised() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(looks_like_id(&a));
        assert!(a < b || a[..12] == b[..12], "v7 ids sort by time");
        assert!(!looks_like_id("../etc/passwd"));
        assert!(!looks_like_id(""));
    }
}
