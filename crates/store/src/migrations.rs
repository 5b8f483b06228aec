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
];

pub(crate) fn migrator(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
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
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}
