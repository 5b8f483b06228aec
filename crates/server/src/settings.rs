//! Typed settings: built-in defaults (`config/default.toml`), an optional file, then
//! `SWITCHBOARD_SECTION__KEY` environment variables. Read once at start.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// A value that must never be printed: Debug and Display show `[redacted]`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "[redacted]" })
    }
}

/// All settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Where the embedded database lives.
    pub data_dir: PathBuf,
    /// HTTP server.
    pub http: HttpSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Phone numbers.
    pub phone: PhoneSettings,
    /// Logins.
    pub auth: AuthSettings,
    /// Logging.
    pub log: LogSettings,
    /// Recordings.
    pub recordings: RecordingSettings,
    /// SIP edge.
    pub sip: SipSettings,
    /// Media relay.
    pub media: MediaSettings,
    /// The call log.
    pub calls: CallSettings,
    /// Callback tasks.
    pub callbacks: CallbackSettings,
    /// Statistics.
    pub stats: StatsSettings,
    /// `/metrics` for Prometheus.
    pub metrics: MetricsSettings,
    /// Outgoing e-mail.
    pub smtp: SmtpSettings,
}

/// `[smtp]`
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    /// Mail server; empty: no e-mail.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: String,
    /// Login (empty: none).
    pub username: String,
    /// Password.
    pub password: Secret,
    /// The sender address.
    pub from: String,
}

impl SmtpSettings {
    /// The API's view: `None` when no host is set.
    pub fn config(&self) -> anyhow::Result<Option<switchboard_api::SmtpConfig>> {
        if self.host.trim().is_empty() {
            return Ok(None);
        }
        let tls = match self.tls.as_str() {
            "none" => switchboard_api::SmtpTls::None,
            "starttls" => switchboard_api::SmtpTls::StartTls,
            "tls" => switchboard_api::SmtpTls::Tls,
            other => anyhow::bail!("smtp.tls: expected none, starttls or tls, not {other:?}"),
        };
        if self.from.trim().is_empty() {
            anyhow::bail!("smtp.from: the sender address is needed when smtp.host is set");
        }
        Ok(Some(switchboard_api::SmtpConfig {
            host: self.host.trim().to_owned(),
            port: self.port,
            tls,
            username: self.username.clone(),
            password: self.password.expose().to_owned(),
            from: self.from.trim().to_owned(),
        }))
    }
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Client addresses or CIDR blocks that may read it without the token.
    pub allow: Vec<String>,
    /// A bearer token that may read it from anywhere (empty: none).
    pub token: Secret,
}

/// `[stats]`
#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    /// Abandons after a wait shorter than this many seconds are short abandons.
    pub short_abandon_s: u64,
    /// The call center's offset from UTC in minutes (where days and weeks start).
    pub utc_offset_minutes: i64,
}

impl StatsSettings {
    /// The definitions' settings, as the store and the generator take them.
    pub fn config(&self) -> switchboard_core::stats::StatsConfig {
        switchboard_core::stats::StatsConfig {
            short_abandon_ms: i64::try_from(self.short_abandon_s.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            utc_offset_ms: self.utc_offset_minutes.saturating_mul(60_000),
        }
    }
}

/// `[calls]`
#[derive(Debug, Clone, Deserialize)]
pub struct CallSettings {
    /// Outcomes the after-call form offers.
    pub dispositions: Vec<String>,
}

/// `[sip]`
#[derive(Debug, Clone, Deserialize)]
pub struct SipSettings {
    /// Turn the SIP edge on.
    pub enabled: bool,
    /// UDP and TCP listen address.
    pub listen: String,
    /// Address for SDP and Contact (empty: the listen address).
    pub advertised_ip: String,
    /// Calls beyond which INVITEs get 503.
    pub max_calls: usize,
    /// What a queued caller hears until an agent answers: `ringback` or `none`.
    pub waiting_sound: String,
    /// What a caller on hold hears: `music` or `none`.
    pub hold_sound: String,
    /// Trunk peers.
    #[serde(default)]
    pub trunks: Vec<TrunkSettings>,
    /// Accounts to register.
    #[serde(default)]
    pub registrations: Vec<RegistrationSettings>,
    /// Click-to-call.
    pub outbound: OutboundSettings,
}

/// `[sip.outbound]`
#[derive(Debug, Clone, Deserialize)]
pub struct OutboundSettings {
    /// Request-URI template for customers (`{digits}`, `{e164}`); empty: click-to-call off.
    pub target: String,
    /// Caller ID.
    pub caller_id: String,
    /// Digest user for the PBX's challenges.
    pub username: String,
    /// Digest password.
    pub password: Secret,
    /// Seconds the customer may ring.
    pub ring_timeout_s: u64,
}

/// `[[sip.trunks]]`
#[derive(Debug, Clone, Deserialize)]
pub struct TrunkSettings {
    /// Name.
    pub name: String,
    /// Allowed source addresses or CIDR blocks.
    pub allow: Vec<String>,
    /// Digest user (empty: no challenge).
    #[serde(default)]
    pub username: String,
    /// Digest password.
    #[serde(default)]
    pub password: Secret,
    /// Queue for numbers that match no queue.
    #[serde(default)]
    pub queue: String,
}

/// `[[sip.registrations]]`
#[derive(Debug, Clone, Deserialize)]
pub struct RegistrationSettings {
    /// Name.
    pub name: String,
    /// User part of the address of record.
    pub username: String,
    /// Digest user, when different.
    #[serde(default)]
    pub auth_username: String,
    /// Password.
    pub password: Secret,
    /// Registrar URI.
    pub registrar: String,
    /// Requested expiry.
    #[serde(default = "default_expiry")]
    pub expiry_s: u32,
    /// Queue for calls on this account.
    #[serde(default)]
    pub queue: String,
}

fn default_expiry() -> u32 {
    300
}

/// `[media]`
#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    /// Address RTP sockets bind to.
    pub ip: String,
    /// First RTP port.
    pub rtp_port_min: u16,
    /// Last RTP port.
    pub rtp_port_max: u16,
    /// Seconds without media after which a call is ended (0: never).
    pub dead_peer_s: u64,
    /// Address of the browsers' WebRTC connections (empty: `ip`).
    #[serde(default)]
    pub webrtc_ip: String,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Body size limit.
    pub body_limit_bytes: usize,
    /// Secure cookie.
    pub cookie_secure: bool,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Empty for embedded SQLite; may hold a password, hence secret.
    pub url: Secret,
    /// Pool size.
    pub max_connections: u32,
}

/// `[phone]`
#[derive(Debug, Clone, Deserialize)]
pub struct PhoneSettings {
    /// ISO region code.
    pub default_region: String,
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Session length.
    pub session_ttl_hours: u64,
    /// First admin's login.
    pub initial_admin_login: String,
    /// First admin's password (empty: generate).
    pub initial_admin_password: Secret,
    /// Password hashes run at once (0: one per core).
    pub password_workers: usize,
    /// Password checks waiting for a worker before logins are answered 503.
    pub password_queue: usize,
    /// Failed logins from one address within 15 minutes before it is locked out (429).
    pub login_failures_per_address: u32,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// Filter.
    pub level: String,
    /// pretty or json.
    pub format: String,
}

/// `[recordings]`
#[derive(Debug, Clone, Deserialize)]
pub struct RecordingSettings {
    /// Root directory.
    pub root: PathBuf,
    /// Record bridged calls (queues can still switch it off for themselves).
    pub enabled: bool,
    /// Delete recordings older than this many days (0: keep forever).
    pub retention_days: u32,
    /// How often the retention job runs, in seconds.
    pub retention_check_s: u64,
    /// How often open files' headers are brought up to date, in milliseconds.
    pub flush_ms: u64,
    /// Frames the writer's queue holds (all calls together).
    pub queue_frames: usize,
}

/// `[callbacks]`
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackSettings {
    /// A missed call's callback is due this many seconds after the miss.
    pub due_after_s: u64,
    /// An open callback is escalated this many seconds after its due time.
    pub escalate_after_s: u64,
    /// How often overdue callbacks are looked for, in seconds.
    pub check_s: u64,
}

impl Settings {
    /// Defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("SWITCHBOARD_").split("__").ignore(&["config"]));
        figment.extract().context("invalid settings")
    }

    /// The database URL to connect to (embedded SQLite when none is configured).
    pub fn database_url(&self) -> anyhow::Result<String> {
        let url = self.database.url.expose().trim();
        if !url.is_empty() {
            return Ok(url.to_owned());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data dir {}", self.data_dir.display()))?;
        Ok(format!("sqlite://{}", self.data_dir.join("switchboard.db").display()))
    }

    /// The phone region, validated.
    pub fn region(&self) -> anyhow::Result<switchboard_core::Region> {
        self.phone.default_region.parse().context("phone.default_region is not a region code")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_secrets_are_redacted() {
        let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        assert_eq!(settings.http.listen.port(), 8080);
        assert_eq!(settings.phone.default_region, "RU");
        settings.database.url = Secret::new("postgres://u:hunter2@db/x");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API, not ours
    fn environment_overrides() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SWITCHBOARD_HTTP__LISTEN", "0.0.0.0:9999");
            jail.set_env("SWITCHBOARD_DATA_DIR", "/tmp/sb");
            let settings = Settings::load(None).expect("load");
            assert_eq!(settings.http.listen.port(), 9999);
            assert_eq!(settings.data_dir, PathBuf::from("/tmp/sb"));
            Ok(())
        });
    }
}
