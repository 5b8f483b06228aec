//! The store's errors. Each variant names its cause so the API can map it to a status code.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("database url must start with sqlite: or postgres:")]
    UnsupportedUrl,
    /// The database could not be reached.
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The record does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// The record kind, e.g. `contact`.
        entity: &'static str,
    },
    /// A unique value already belongs to another record.
    #[error("{field} already belongs to {existing_id}")]
    Duplicate {
        /// The field holding the value, e.g. `phones[0].number`.
        field: String,
        /// The value.
        value: String,
        /// The record that already has it.
        existing_id: String,
    },
    /// A value refused by a rule the store enforces (custom field types, references).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, e.g. `custom.tier` or `stage_id`.
        field: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// A change that conflicts with the record's state (e.g. deleting a stage that has deals).
    #[error("{0}")]
    Conflict(String),
    /// Any other database failure. Details are logged, never shown to API clients.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> StoreError {
        StoreError::Invalid { field: field.into(), reason: reason.into() }
    }

    pub(crate) fn not_found(entity: &'static str) -> StoreError {
        StoreError::NotFound { entity }
    }

    /// Whether the database was unavailable rather than the request wrong: the connection
    /// was refused or lost, no connection came free in time, the server is shutting down or
    /// starting, or (SQLite) the file is busy, locked, read-only, full or failing to write.
    /// The same request may succeed later, so a writer that must not lose it retries it.
    pub fn is_unavailable(&self) -> bool {
        let err = match self {
            StoreError::Connect(e) | StoreError::Database(e) => e,
            _ => return false,
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
            _ => false,
        }
    }
}

/// PostgreSQL's SQLSTATEs for a lost or refused connection (class 08), a server shutting
/// down or not yet accepting (57P01-57P03), too many connections (53300) and a disk full
/// (53100); SQLite's primary result codes BUSY (5), LOCKED (6), READONLY (8), IOERR (10),
/// FULL (13) and CANTOPEN (14), which its extended codes carry in the low byte.
fn unavailable_code(code: &str) -> bool {
    if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "53100") {
        return true;
    }
    code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// Turns a unique-constraint violation into [`StoreError::Duplicate`] naming `field`.
pub(crate) fn unique_violation(err: sqlx::Error, field: &str, value: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            field: field.to_owned(),
            value: value.to_owned(),
            existing_id: String::new(),
        },
        _ => StoreError::Database(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_codes_are_those_of_a_database_away_or_a_disk_in_trouble() {
        for code in ["08006", "08001", "57P01", "57P03", "53300", "53100", "5", "8", "1032", "10"] {
            assert!(unavailable_code(code), "{code}");
        }
        // A unique violation, a syntax error, SQLite's CONSTRAINT (19) and its extended
        // CONSTRAINT_UNIQUE (2067) are the request's fault: retrying cannot help.
        for code in ["23505", "42601", "19", "2067", "1"] {
            assert!(!unavailable_code(code), "{code}");
        }
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::PoolClosed).is_unavailable());
        assert!(!StoreError::not_found("call").is_unavailable());
    }
}
