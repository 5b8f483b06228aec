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
