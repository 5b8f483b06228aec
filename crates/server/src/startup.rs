//! Building the application from settings: open and migrate the store, make sure an admin
//! exists, bind the HTTP port (port 0 picks a free one) and serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use switchboard_api::{ApiConfig, AppState};
use switchboard_core::Role;
use switchboard_core::call::EndReason;
use switchboard_store::{Actor, NewUser, Store};
use tokio::net::TcpListener;

use crate::settings::Settings;
use switchboard_switch::Telephony;

/// Opens the store named by the settings, applies migrations and seeds the defaults.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url()?;
    let stats = settings.stats.config();
    let store = Store::connect(&url, settings.database.max_connections)
        .await
        .context("cannot open the database")?
        .with_stats_config(stats);
    store.migrate().await.context("cannot apply migrations")?;
    store.seed_defaults().await.context("cannot seed defaults")?;
    store
        .seed_document_templates(switchboard_docs::DEFAULT_TEMPLATES)
        .await
        .context("cannot seed the document templates")?;
    if store.prepare_stats().await.context("cannot derive the statistics' day rollups")? {
        tracing::info!("statistics' day rollups derived for this time zone");
    }
    tracing::info!(backend = ?store.backend(), "database ready");
    Ok(store)
}

/// The admin created on first start, with the password to show once.
#[derive(Debug)]
pub struct InitialAdmin {
    /// Login.
    pub login: String,
    /// Password in clear (printed once, never logged).
    pub password: String,
    /// Whether the password was generated (not taken from the settings).
    pub generated: bool,
}

/// What [`ensure_admin`] found or did.
#[derive(Debug)]
pub enum AdminCheck {
    /// An active admin exists.
    Present,
    /// This start created the first admin.
    Created(InitialAdmin),
    /// No active admin, and the configured login is taken by a user who is not one (or is
    /// disabled): nothing was changed; `switchboard user passwd` is the way back in.
    LoginTaken(String),
}

/// Creates the first admin when the store has no active admin (a fresh install, or one that
/// `seed-demo` filled with agents and managers only). Called once the listeners are bound, so
/// the password is printed by a start that actually serves.
pub async fn ensure_admin(store: &Store, settings: &Settings) -> anyhow::Result<AdminCheck> {
    if store.count_active_admins().await? > 0 {
        return Ok(AdminCheck::Present);
    }
    let login = settings.auth.initial_admin_login.clone();
    if store.user_by_login(&login).await?.is_some() {
        return Ok(AdminCheck::LoginTaken(login));
    }
    let configured = settings.auth.initial_admin_password.expose().to_owned();
    let generated = configured.is_empty();
    let password = if generated { switchboard_api::new_password() } else { configured };
    let hash_input = password.clone();
    let password_hash =
        tokio::task::spawn_blocking(move || switchboard_api::hash_password(&hash_input))
            .await
            .context("hashing thread failed")?
            .map_err(|e| anyhow::anyhow!("cannot hash the admin password: {e}"))?;
    store
        .create_user(
            &Actor::system(),
            NewUser {
                login: login.clone(),
                // The login, not a word in one language: the admin renames themself on the
                // account page.
                name: login.clone(),
                role: Role::Admin,
                password_hash,
                team_id: None,
            },
        )
        .await
        .context("cannot create the first admin")?;
    Ok(AdminCheck::Created(InitialAdmin { login, password, generated }))
}

/// A built application, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    telephony: Option<Telephony>,
    settings: Settings,
    /// Whether this start created the first admin (after every listener was bound).
    pub admin: AdminCheck,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Opens the store, binds the ports, then makes sure an admin exists: a start that fails
    /// to bind (a port in use) creates nobody, so the password is never lost.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let store = open_store(settings).await?;
        let config = ApiConfig {
            region: settings.region()?,
            session_ttl: Duration::from_secs(settings.auth.session_ttl_hours.max(1) * 3600),
            cookie_secure: settings.http.cookie_secure,
            body_limit: settings.http.body_limit_bytes,
            dispositions: settings.calls.dispositions.clone(),
            recordings_root: settings.recordings.root.clone(),
            retention_days: settings.recordings.retention_days,
            utc_offset_ms: settings.stats.utc_offset_minutes.saturating_mul(60_000),
            password_workers: settings.auth.password_workers,
            password_queue: settings.auth.password_queue,
            login_failures_per_address: settings.auth.login_failures_per_address,
            metrics: metrics_access(settings)?,
            smtp: settings.smtp.config()?,
        };
        let listener = TcpListener::bind(settings.http.listen).await.map_err(|e| {
            bind_error("http.listen", "SWITCHBOARD_HTTP__LISTEN", settings.http.listen, &e)
        })?;
        let telephony = if settings.sip.enabled {
            // Recordings left open by a previous run (a crash) are made playable, and the
            // calls they belong to closed.
            let repaired =
                crate::recordings::repair_unfinished(&store, &settings.recordings.root).await?;
            if repaired > 0 {
                tracing::warn!(
                    recordings = repaired,
                    "recovered recordings left unfinished by the previous run"
                );
            }
            // What a previous run left open ends when that run was last known alive, not now:
            // the downtime is neither talk time nor an agent's state time.
            let now = switchboard_store::now_ms();
            let last_alive = store.last_heartbeat(NODE).await?;
            // Desk-phone agents are put back in these states once the switch runs.
            let previous_states = store.open_agent_states().await?;
            // Agents of a previous run are offline now.
            store.close_agent_states(last_alive.map_or(now, |at| at.min(now))).await?;
            // Calls left open by a previous run (a crash) can no longer end normally.
            let closed = store.close_open_calls(now, last_alive, EndReason::Interrupted).await?;
            if closed > 0 {
                tracing::warn!(calls = closed, "closed calls left open by the previous run");
            }
            let switch_config = crate::wiring::switch_config(settings)?;
            let telephony = Telephony::start(switch_config, store.clone(), previous_states)
                .await
                .map_err(|e| match e {
                switchboard_switch::StartError::Edge(switchboard_sip::edge::EdgeError::Bind {
                    addr,
                    source,
                }) => bind_error("sip.listen", "SWITCHBOARD_SIP__LISTEN", addr, &source),
                e => anyhow::Error::new(e).context("cannot start the telephony"),
            })?;
            Some(telephony)
        } else {
            None
        };
        let state = match &telephony {
            Some(t) => AppState::with_telephony(store.clone(), config, t.handle()),
            None => AppState::new(store.clone(), config),
        };
        let router = switchboard_api::router(state);
        let admin = ensure_admin(&store, settings).await?;
        let heartbeat = tokio::spawn(heartbeat_loop(store.clone()));
        Ok(Application {
            listener,
            router,
            store,
            telephony,
            settings: settings.clone(),
            admin,
            heartbeat,
        })
    }

    /// The channel to the telephony side (benchmarks drive agents through it).
    pub fn telephony_handle(&self) -> Option<switchboard_switch::protocol::TelephonyHandle> {
        self.telephony.as_ref().map(Telephony::handle)
    }

    /// The SIP address (UDP and TCP), when the SIP edge runs.
    pub fn sip_addr(&self) -> Option<SocketAddr> {
        self.telephony.as_ref().map(Telephony::sip_addr)
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The store, for callers that seed data (tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, with background housekeeping.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.store.clone();
        let housekeeping = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                match store.purge_expired_sessions().await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "session purge failed"),
                }
            }
        });
        let rec = &self.settings.recordings;
        let retention = tokio::spawn(crate::recordings::retention_loop(
            self.store.clone(),
            rec.root.clone(),
            rec.retention_days,
            Duration::from_secs(rec.retention_check_s),
        ));
        let escalation = tokio::spawn(crate::callbacks::escalation_loop(
            self.store.clone(),
            crate::wiring::callback_policy(&self.settings),
            Duration::from_secs(self.settings.callbacks.check_s.max(1)),
            self.telephony.as_ref().map(Telephony::handle),
        ));
        let webhooks = tokio::spawn(crate::webhooks::delivery_loop(
            self.store.clone(),
            Duration::from_millis(500),
        ));
        let result = axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("http server failed");
        housekeeping.abort();
        self.heartbeat.abort();
        retention.abort();
        escalation.abort();
        webhooks.abort();
        if let Some(t) = &self.telephony {
            t.shutdown();
        }
        self.store.close().await;
        result
    }
}

/// The process's one Prometheus recorder (installed on first use; tests build many
/// applications in one process).
fn prometheus() -> anyhow::Result<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let seconds =
        [0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &seconds,
        )
        .context("metrics buckets")?
        .build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!(
            "a metrics recorder was already installed; /metrics shows only what this one sees"
        );
    }
    // Histogram samples pile up in the recorder until they are folded into the buckets, which
    // a scrape or this upkeep does: without it a server nobody scrapes grows by every query's
    // timing (about 600 bytes a call in the soak).
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        })
        .context("metrics upkeep thread")?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Who may read `/metrics` (none when disabled).
fn metrics_access(settings: &Settings) -> anyhow::Result<Option<switchboard_api::MetricsAccess>> {
    if !settings.metrics.enabled {
        return Ok(None);
    }
    let allow = settings
        .metrics
        .allow
        .iter()
        .map(|a| {
            a.parse()
                .with_context(|| format!("metrics.allow: {a:?} is not an IP address or CIDR block"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(switchboard_api::MetricsAccess {
        handle: prometheus()?,
        allow,
        token: settings.metrics.token.expose().to_owned(),
    }))
}

/// This node's name in `node_heartbeat` (one node per store for now).
pub const NODE: &str = "default";

/// How often the node notes that it is alive: the error of an interrupted call's end.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Writes this node's heartbeat every second (a failure is logged once until it recovers).
async fn heartbeat_loop(store: Store) {
    let mut every = tokio::time::interval(HEARTBEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        every.tick().await;
        match store.heartbeat(NODE, switchboard_store::now_ms()).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("heartbeat written again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot write the heartbeat");
            }
            Err(_) => {}
        }
    }
}

/// A port that cannot be bound, said so that the reader knows which setting to change.
pub(crate) fn bind_error(
    setting: &str,
    env: &str,
    addr: SocketAddr,
    e: &std::io::Error,
) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "{addr} is already in use by another program; choose another address with {setting} in the settings file or {env}"
        ),
        std::io::ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "{addr} is not an address of this machine; change {setting} in the settings file or {env}"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "not allowed to listen on {addr} (ports below 1024 need privileges); change {setting} in the settings file or {env}"
        ),
        _ => anyhow::anyhow!(
            "cannot listen on {addr} ({e}); change {setting} in the settings file or {env}"
        ),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
