//! A tiny query builder that numbers placeholders `$1, $2, ...` for both backends
//! (sqlx's own builder emits `?` for `Any`, which PostgreSQL rejects).

use std::fmt::Write;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Executor, Row, Type};

use crate::{Backend, StoreError};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    count: usize,
    /// Emit anonymous `?` placeholders instead of `$N`.
    anonymous: bool,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), args: AnyArguments::default(), count: 0, anonymous: false }
    }

    /// A builder for statements with many parameters (bulk inserts, long `IN` lists). On
    /// SQLite it emits anonymous `?` placeholders: sqlx looks up each named parameter by name,
    /// which SQLite does by a linear scan, so thousands of `$N` cost O(n^2) per statement.
    pub(crate) fn bulk(backend: Backend, text: &str) -> Sql {
        Sql { anonymous: backend == Backend::Sqlite, ..Sql::new(text) }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
        self.count += 1;
        // Encoding our own plain values (strings, integers, floats, options) cannot fail.
        let _ = self.args.add(value);
        if self.anonymous {
            self.text.push('?');
        } else {
            let _ = write!(self.text, "${}", self.count);
        }
        self
    }

    /// Appends `(p1, p2, ...)` bound to `values`.
    pub(crate) fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Sql
    where
        T: for<'q> Encode<'q, Any> + Type<Any> + 'static,
    {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    pub(crate) async fn execute<'e, E>(self, executor: E) -> Result<u64, StoreError>
    where
        E: Executor<'e, Database = Any>,
    {
        let timer = QueryTimer::start();
        let result = executor.execute(sqlx::query_with(AssertSqlSafe(self.text), self.args)).await;
        timer.done(result.is_ok());
        Ok(result?.rows_affected())
    }

    pub(crate) async fn fetch_all<'e, E>(self, executor: E) -> Result<Vec<AnyRow>, StoreError>
    where
        E: Executor<'e, Database = Any>,
    {
        let timer = QueryTimer::start();
        let result =
            executor.fetch_all(sqlx::query_with(AssertSqlSafe(self.text), self.args)).await;
        timer.done(result.is_ok());
        Ok(result?)
    }

    pub(crate) async fn fetch_optional<'e, E>(
        self,
        executor: E,
    ) -> Result<Option<AnyRow>, StoreError>
    where
        E: Executor<'e, Database = Any>,
    {
        let timer = QueryTimer::start();
        let result =
            executor.fetch_optional(sqlx::query_with(AssertSqlSafe(self.text), self.args)).await;
        timer.done(result.is_ok());
        Ok(result?)
    }

    pub(crate) async fn fetch_count<'e, E>(self, executor: E) -> Result<i64, StoreError>
    where
        E: Executor<'e, Database = Any>,
    {
        let timer = QueryTimer::start();
        let result =
            executor.fetch_one(sqlx::query_with(AssertSqlSafe(self.text), self.args)).await;
        timer.done(result.is_ok());
        Ok(result?.try_get::<i64, _>(0)?)
    }
}

/// Times one query for the `switchboard_store_query_seconds` histogram and counts failures
/// (`switchboard_store_errors_total`); a no-op unless the binary installed a metrics recorder.
struct QueryTimer(std::time::Instant);

impl QueryTimer {
    fn start() -> QueryTimer {
        QueryTimer(std::time::Instant::now())
    }

    fn done(self, ok: bool) {
        metrics::histogram!("switchboard_store_query_seconds")
            .record(self.0.elapsed().as_secs_f64());
        if !ok {
            metrics::counter!("switchboard_store_errors_total").increment(1);
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn escape_like(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern
}

/// A `LIKE ... ESCAPE '\'` pattern matching text containing `needle`.
pub(crate) fn like_contains(needle: &str) -> String {
    format!("%{}%", escape_like(needle))
}

/// A `LIKE ... ESCAPE '\'` pattern matching text starting with `needle`.
pub(crate) fn like_prefix(needle: &str) -> String {
    format!("{}%", escape_like(needle))
}

/// Reads an `INTEGER 0/1` flag.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// Reads an optional text column, treating the empty string as absent.
pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(column)?.filter(|s| !s.is_empty()))
}

/// Parses a stored enum column, reporting corruption as a database error.
/// A nullable text column parsed as `T` (NULL: None).
pub(crate) fn parse_opt_col<T: std::str::FromStr>(
    row: &AnyRow,
    column: &str,
) -> Result<Option<T>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        text.parse().map_err(|_| {
            StoreError::Database(sqlx::Error::ColumnDecode {
                index: column.to_owned(),
                source: format!("unexpected value {text:?}").into(),
            })
        })
    })
    .transpose()
}

pub(crate) fn parse_col<T: std::str::FromStr>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|_| {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("unexpected value {text:?}").into(),
        })
    })
}

/// A JSON text column read as `T`.
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("unreadable JSON: {e}").into(),
        })
    })
}
