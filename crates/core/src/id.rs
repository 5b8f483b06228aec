//! Identifiers. Every row id is a UUIDv7 rendered as text: sortable by creation time, portable
//! across SQLite and PostgreSQL, and safe to mint on any node when several share one database.

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
