//! The schema migrations, embedded in the binary. Each version exists once per dialect with
//! the same tables and columns. Never edit an applied migration: add a new version.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::Backend;

/// (version, description, SQLite DDL, PostgreSQL DDL)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "crm",
        include_str!("../../../migrations/sqlite/0001_crm.sql"),
        include_str!("../../../migrations/postgres/0001_crm.sql"),
    ),
    (
        2,
        "telephony",
        include_str!("../../../migrations/sqlite/0002_telephony.sql"),
        include_str!("../../../migrations/postgres/0002_telephony.sql"),
    ),
    (
        3,
        "call outcome",
        include_str!("../../../migrations/sqlite/0003_call_outcome.sql"),
        include_str!("../../../migrations/postgres/0003_call_outcome.sql"),
    ),
    (
        4,
        "recordings and callbacks",
        include_str!("../../../migrations/sqlite/0004_recordings_callbacks.sql"),
        include_str!("../../../migrations/postgres/0004_recordings_callbacks.sql"),
    ),
    (
        5,
        "call stats",
        include_str!("../../../migrations/sqlite/0005_call_stats.sql"),
        include_str!("../../../migrations/postgres/0005_call_stats.sql"),
    ),
    (
        6,
        "stats rollups",
        include_str!("../../../migrations/sqlite/0006_stats_rollups.sql"),
        include_str!("../../../migrations/postgres/0006_stats_rollups.sql"),
    ),
    (
        7,
        "preferences and settings",
        include_str!("../../../migrations/sqlite/0007_preferences_settings.sql"),
        include_str!("../../../migrations/postgres/0007_preferences_settings.sql"),
    ),
    (
        8,
        "restarts and blocked calls",
        include_str!("../../../migrations/sqlite/0008_restarts_and_blocked_calls.sql"),
        include_str!("../../../migrations/postgres/0008_restarts_and_blocked_calls.sql"),
    ),
    (
        9,
        "prompts",
        include_str!("../../../migrations/sqlite/0009_prompts.sql"),
        include_str!("../../../migrations/postgres/0009_prompts.sql"),
    ),
    (
        10,
        "entry points",
        include_str!("../../../migrations/sqlite/0010_entry_points.sql"),
        include_str!("../../../migrations/postgres/0010_entry_points.sql"),
    ),
    (
        11,
        "hours, voicemail and callbacks",
        include_str!("../../../migrations/sqlite/0011_hours_and_voicemail.sql"),
        include_str!("../../../migrations/postgres/0011_hours_and_voicemail.sql"),
    ),
    (
        12,
        "stage keys",
        include_str!("../../../migrations/sqlite/0012_stage_keys.sql"),
        include_str!("../../../migrations/postgres/0012_stage_keys.sql"),
    ),
    (
        13,
        "leads",
        include_str!("../../../migrations/sqlite/0013_leads.sql"),
        include_str!("../../../migrations/postgres/0013_leads.sql"),
    ),
    (
        14,
        "webhooks",
        include_str!("../../../migrations/sqlite/0014_webhooks.sql"),
        include_str!("../../../migrations/postgres/0014_webhooks.sql"),
    ),
    (
        15,
        "pipelines, stage rules and products",
        include_str!("../../../migrations/sqlite/0015_pipelines_products.sql"),
        include_str!("../../../migrations/postgres/0015_pipelines_products.sql"),
    ),
    (
        16,
        "documents",
        include_str!("../../../migrations/sqlite/0016_documents.sql"),
        include_str!("../../../migrations/postgres/0016_documents.sql"),
    ),
    (
        17,
        "reports",
        include_str!("../../../migrations/sqlite/0017_reports.sql"),
        include_str!("../../../migrations/postgres/0017_reports.sql"),
    ),
    (
        18,
        "funnel rollups",
        include_str!("../../../migrations/sqlite/0018_funnel_rollups.sql"),
        include_str!("../../../migrations/postgres/0018_funnel_rollups.sql"),
    ),
];

/// SQLite versions that hold their own transaction: they rebuild a table, which needs foreign
/// keys off, and SQLite ignores that pragma inside a transaction.
const SQLITE_OWN_TRANSACTION: &[i64] = &[15];

pub(crate) fn migrator(backend: Backend) -> Migrator {
    migrator_up_to(backend, i64::MAX)
}

/// The migrations up to and including `last`.
fn migrator_up_to(backend: Backend, last: i64) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .filter(|m| m.0 <= last)
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                AssertSqlSafe(sql).into_sql_str(),
                backend == Backend::Sqlite && SQLITE_OWN_TRANSACTION.contains(&version),
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::Store;

    /// Version 15 rebuilds the stages table under deals that point at it: an existing SQLite
    /// database keeps its stages (now in the "sales" pipeline), its deals' references hold,
    /// and foreign keys are on again afterwards; the funnel's rollups count the deal.
    #[tokio::test]
    async fn sqlite_stages_survive_the_pipelines_rebuild() {
        let path = std::env::temp_dir().join(format!("sb-migrate-{}.db", uuid::Uuid::new_v4()));
        let store = Store::connect(&format!("sqlite://{}", path.display()), 1).await.unwrap();
        migrator_up_to(Backend::Sqlite, 14).run(&store.pool).await.unwrap();
        for sql in [
            "INSERT INTO pipeline_stages (id, name, key, position, probability, created_at) VALUES ('s1', 'New', 'new', 1, 10, 0)",
            "INSERT INTO deals (id, title, title_key, stage_id, amount_minor, status, created_at, updated_at) VALUES ('d1', 'Окна', 'окна', 's1', 500, 'open', 0, 0)",
        ] {
            sqlx::query(sql).execute(&store.pool).await.unwrap();
        }
        store.migrate().await.unwrap();
        let row = sqlx::query("SELECT s.pipeline_id, s.required_fields, d.amount_manual FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), "sales");
        assert_eq!(row.get::<String, _>(1), "[]");
        assert_eq!(row.get::<i64, _>(2), 1, "a deal's existing amount stays as typed");
        // The funnel's rollups are counted once for the deals the upgrade found.
        assert_eq!(
            store.funnel_rollups().await.unwrap(),
            ["forecast sales RUB 0 0 = 1 500 50", "funnel sales 0 0 s1 open RUB = 1 500"],
            "no history: reached position 0; no date, weighed at the stage's 10%"
        );
        assert!(
            sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .is_empty()
        );
        let on: i64 =
            sqlx::query("PRAGMA foreign_keys").fetch_one(&store.pool).await.unwrap().get(0);
        assert_eq!(on, 1);
        let refused =
            sqlx::query("DELETE FROM pipeline_stages WHERE id = 's1'").execute(&store.pool).await;
        assert!(refused.is_err(), "the deal still holds its stage");
        store.pool.close().await;
        let _ = std::fs::remove_file(&path);
    }
}
