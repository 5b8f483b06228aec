//! Switchboard's HTTP edge: the REST API (JSON), authentication and the permission checks.
//!
//! Only this crate knows HTTP and JSON. Handlers parse input into domain types (phone
//! numbers are parsed here, once), ask [`switchboard_core::Role`] whether the caller may act,
//! and call the store. Errors leave through [`ApiError`] in one JSON shape.

mod auth;
pub mod documents;
mod error;
mod extract;
mod i18n;
mod openapi;
mod pages;
pub mod passwords;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use switchboard_core::Region;
use switchboard_store::Store;
use tower_http::trace::TraceLayer;

pub use auth::{hash_password, new_password, verify_password};
pub use error::ApiError;
pub use routes::metrics::MetricsAccess;
/// The switch's protocol (requests, replies, agent messages), under the name the routes use.
pub(crate) use switchboard_switch::protocol as telephony;

/// Settings the API needs, read by the server from its configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Region for phone numbers written without a country code.
    pub region: Region,
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// Send the session cookie with `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Outcomes the after-call form offers (a call's disposition must be one of them).
    pub dispositions: Vec<String>,
    /// Where recordings are (call records hold paths relative to it).
    pub recordings_root: std::path::PathBuf,
    pub retention_days: u32,
    /// The call center's offset from UTC (statistics' days and weeks), ms.
    pub utc_offset_ms: i64,
    /// Password hashes run at once (0: one per core).
    pub password_workers: usize,
    /// Password checks that may wait for a worker; beyond that a login is answered 503.
    pub password_queue: usize,
    /// Failed logins from one client address within 15 minutes before that address is locked.
    pub login_failures_per_address: u32,
    /// `/metrics`: the recorder and who may read it (none: `/metrics` is 404).
    pub metrics: Option<MetricsAccess>,
    /// The mail server documents are sent through (none: sending is refused, saying why).
    pub smtp: Option<SmtpConfig>,
}

/// How to reach the mail server.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login (empty: none).
    pub username: String,
    /// Password (never logged: this type has no `Debug` that shows it).
    pub password: String,
    /// Sender address.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Transport security to the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain (a local relay).
    None,
    /// STARTTLS after connecting.
    StartTls,
    /// TLS from the start.
    Tls,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            region: Region::RU,
            session_ttl: Duration::from_secs(12 * 3600),
            cookie_secure: false,
            body_limit: 1 << 20,
            dispositions: vec!["resolved".into()],
            recordings_root: "recordings".into(),
            retention_days: 0,
            utc_offset_ms: 0,
            password_workers: 0,
            password_queue: 256,
            login_failures_per_address: 100,
            metrics: None,
            smtp: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: ApiConfig,
    login_failures: auth::LoginThrottle,
    passwords: passwords::PasswordWorkers,
    telephony: Option<telephony::TelephonyHandle>,
    /// (user, call) -> when its recording was last audited as heard.
    listens: std::sync::Mutex<std::collections::HashMap<(String, String), std::time::Instant>>,
    imports: routes::transfer::Imports,
    leads: routes::leads::Intake,
}

impl AppState {
    /// Wraps the store and settings.
    pub fn new(store: Store, config: ApiConfig) -> AppState {
        AppState::build(store, config, None)
    }

    /// Wraps the store and settings, with the channel to the telephony side.
    pub fn with_telephony(
        store: Store,
        config: ApiConfig,
        telephony: telephony::TelephonyHandle,
    ) -> AppState {
        AppState::build(store, config, Some(telephony))
    }

    fn build(
        store: Store,
        config: ApiConfig,
        telephony: Option<telephony::TelephonyHandle>,
    ) -> AppState {
        let login_failures = auth::LoginThrottle::new(config.login_failures_per_address);
        let passwords =
            passwords::PasswordWorkers::start(config.password_workers, config.password_queue);
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                login_failures,
                passwords,
                telephony,
                listens: Default::default(),
                imports: Default::default(),
                leads: Default::default(),
            }),
        }
    }

    pub(crate) fn metrics(&self) -> Option<&MetricsAccess> {
        self.inner.config.metrics.as_ref()
    }

    pub(crate) fn passwords(&self) -> &passwords::PasswordWorkers {
        &self.inner.passwords
    }

    pub(crate) fn telephony(&self) -> Option<&telephony::TelephonyHandle> {
        self.inner.telephony.as_ref()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    pub(crate) fn login_throttle(&self) -> &auth::LoginThrottle {
        &self.inner.login_failures
    }

    /// The dispositions in force: an admin's list from the settings, else the configuration's.
    pub(crate) async fn dispositions(&self) -> Result<Vec<String>, ApiError> {
        Ok(self.store().dispositions(&self.config().dispositions).await?)
    }

    pub(crate) fn leads(&self) -> &routes::leads::Intake {
        &self.inner.leads
    }

    pub(crate) fn imports(&self) -> &routes::transfer::Imports {
        &self.inner.imports
    }

    pub(crate) fn listens(
        &self,
    ) -> &std::sync::Mutex<std::collections::HashMap<(String, String), std::time::Instant>> {
        &self.inner.listens
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config().body_limit;
    routes::router()
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(error::localize))
        .layer(axum::middleware::from_fn(routes::metrics::track))
        .layer(TraceLayer::new_for_http())
}
