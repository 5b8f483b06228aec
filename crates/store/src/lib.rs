//! Switchboard's store: repositories over SQLite (embedded default) and PostgreSQL.
//!
//! One code path serves both backends through `sqlx::Any`. The schema keeps to types both
//! understand (TEXT ids, INTEGER/BIGINT epoch-millisecond times, 0/1 flags), every query uses
//! `$N` placeholders (which SQLite also accepts), and anything backend-specific is confined to
//! [`Backend`] checks in this crate. Every write records an audit entry in the same transaction.

mod audit;
mod callbacks;
mod calls;
mod companies;
mod contacts;
mod custom_fields;
mod deals;
mod documents;
mod entry_points;
mod error;
mod funnel;
mod history;
mod leads;
mod migrations;
mod notes;
mod pipelines;
pub mod products;
mod prompts;
mod queues;
mod recordings;
mod reports;
mod schedules;
pub mod settings;
mod sql;
mod stats;
mod tasks;
mod teams;
mod timeline;
mod users;
pub mod webhooks;
mod work_queue;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use audit::AuditFilter;
pub use callbacks::{Escalated, MissedCall};
pub use calls::{CallOutcome, NewCall};
pub use companies::{CompanyChanges, CompanyFilter, NewCompany};
pub use contacts::{
    ContactChanges, ContactFilter, ImportDecision, ImportOutcome, ImportRow, NewContact, NewPhone,
    OnDuplicate,
};
pub use custom_fields::{FieldChanges, NewCustomField};
pub use deals::{DealChanges, DealFilter, DealTotal, NewDeal};
pub use documents::NewDocument;
pub use entry_points::{BuiltinCheck, NewEntryPoint};
pub use error::StoreError;
pub use history::{Cell, HistoryTable};
pub use leads::{Lead, LeadForm, LeadSource, NewLead, NewLeadForm};
pub use notes::NewNote;
pub use pipelines::{NewStage, NewStageRule, REQUIRABLE, StageChanges, StageEntry};
pub use products::{DealItemChanges, NewDealItem, NewProduct, ProductChanges, SalesSettings};
pub use prompts::NewPrompt;
pub use queues::{NewQueue, QueueChanges, SipEndpoint, SipEndpointRow};
pub use recordings::{RecordingFilter, StoredRecording};
pub use reports::{
    ForecastRow, Funnel, FunnelStage, LossRow, ManagerRow, ReportFilter, SalesReport, SourceRow,
};
pub use schedules::NewSchedule;
pub use stats::{CallbackStats, StatsFilter, StatsGroup, StatsRow};
pub use tasks::{NewTask, TaskChanges, TaskFilter};
pub use teams::{NewTeam, TeamChanges};
pub use users::{ApiToken, NewUser, UserChanges, UserWithSecret};
pub use work_queue::{
    CallbackFilter, CallbackItem, CallbackScope, CallbackSort, CallbackSource, MAX_BULK,
};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Who is making a change, for the audit log. `None` is the system itself (CLI, background jobs).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The user's id.
    pub user_id: Option<String>,
}

impl Actor {
    /// The system itself (migrations, CLI, background jobs).
    pub fn system() -> Actor {
        Actor { user_id: None }
    }

    /// A logged-in user.
    pub fn user(id: impl Into<String>) -> Actor {
        Actor { user_id: Some(id.into()) }
    }
}

/// A page of a list.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Rows matching the filter in all pages.
    pub total: i64,
}

/// Which page of a list to read.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Rows per page, 1..=500.
    pub per_page: u32,
}

impl PageRequest {
    /// The largest page served.
    pub const MAX_PER_PAGE: u32 = 500;

    /// A page request clamped to sane bounds.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> PageRequest {
        PageRequest {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(50).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.per_page)
    }
}

type FieldDefsCache = std::sync::Arc<
    std::sync::RwLock<Option<(std::time::Instant, Vec<switchboard_core::CustomFieldDef>)>>,
>;

/// The handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Custom field definitions for reads (loading values), refreshed every few seconds so a
    /// contact lookup costs no extra query; writes always validate against fresh definitions.
    field_defs: FieldDefsCache,
    /// Settings the statistics' definitions depend on.
    stats_config: switchboard_core::stats::StatsConfig,
    /// Fault injection for tests: every query waits this long (ms) first. Zero in service.
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first and writes later cannot wait for
    /// another writer (its snapshot would be stale) and fails at once with "database is
    /// locked"; an immediate one waits for the lock (busy_timeout) like any writer.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Connects to `url` (`sqlite://path` or `postgres://...`). A SQLite file is created if it
    /// does not exist; its parent directory must.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let delay_ms = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let delay = delay_ms.clone();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .before_acquire(move |_conn, _meta| {
                let ms = delay.load(std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move {
                    if ms > 0 {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    Ok(true)
                })
            });
        let url = match backend {
            Backend::Sqlite => {
                options = options.after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; busy_timeout waits for the
                        // writer's lock instead of failing; foreign keys are off by default.
                        // A 64 MiB page cache per connection keeps the phone and email indexes
                        // of a million contacts in memory.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                        Ok(())
                    })
                });
                if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") }
            }
            Backend::Postgres => url.to_owned(),
        };
        let pool = options.connect(&url).await.map_err(StoreError::Connect)?;
        Ok(Store {
            pool,
            backend,
            field_defs: Default::default(),
            stats_config: Default::default(),
            delay_ms,
        })
    }

    /// Applies every migration not yet applied, then counts the funnel's rollups if an upgrade
    /// left them empty. Safe to call on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::migrator(self.backend).run(&self.pool).await?;
        self.prepare_funnel().await
    }

    /// Uses `config` for the statistics kept from now on (rebuild the rollups after changing
    /// it for a store that has calls).
    pub fn with_stats_config(mut self, config: switchboard_core::stats::StatsConfig) -> Store {
        self.stats_config = config;
        self
    }

    /// Makes every query wait `delay` before it runs (zero: no wait). Fault injection for
    /// tests of a slow or overloaded database; nothing in service calls it.
    pub fn slow_down(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Runs one administrative statement (e.g. `CREATE DATABASE` for test set-up, or
    /// `VACUUM`). Not for user input.
    pub async fn execute_admin(&self, statement: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned())).execute(&self.pool).await?;
        Ok(())
    }
}

impl Store {
    /// Refreshes the planner's statistics of the contact tables. Run after bulk loads: right
    /// after a large import PostgreSQL may still plan with the statistics of a near-empty
    /// table (a phone lookup was seen taking 7 ms instead of 0.3 ms until autovacuum caught up).
    pub async fn analyze_contacts(&self) -> Result<(), StoreError> {
        let statement = match self.backend {
            Backend::Postgres => {
                "ANALYZE contacts, contact_phones, contact_emails, companies, custom_field_values"
            }
            Backend::Sqlite => "PRAGMA optimize",
        };
        sqlx::raw_sql(statement).execute(&self.pool).await?;
        Ok(())
    }
}
