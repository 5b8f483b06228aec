//! Passwords (argon2), session cookies and API tokens, and the `/api/auth` and `/api/me` routes.
//!
//! Session cookies and API tokens are 256-bit random values; only their SHA-256 is stored, so
//! a leaked database does not leak live credentials. Passwords are hashed with argon2id on a
//! blocking thread so hashing never stalls the async runtime.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_core::entity::User;
use switchboard_store::{ApiToken, UserChanges};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddress, CurrentUser, JsonBody};

pub(crate) const SESSION_COOKIE: &str = "sb_session";
pub(crate) const TOKEN_PREFIX: &str = "sbt_";

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password for new accounts (printed once, never stored in clear).
pub fn new_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Hex SHA-256 of a session cookie or API token.
pub(crate) fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id and a random salt (PHC string). CPU-heavy: call it from a
/// blocking thread in async code.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Checks a password against a PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Hashes a password on the password workers (bounded: a full queue is a 503).
pub(crate) async fn hash_password_async(
    state: &AppState,
    password: String,
) -> Result<String, ApiError> {
    Ok(state.passwords().hash(password).await?)
}

pub(crate) fn check_password_strength(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 {
        return Err(ApiError::invalid(field, "at least 8 characters"));
    }
    if password.len() > 1024 {
        return Err(ApiError::invalid(field, "at most 1024 bytes"));
    }
    Ok(())
}

/// Failures counted per key within a window: after `max` failures, the key is locked until
/// the window that began with its first failure has passed.
struct FailureCounter<K> {
    failures: std::sync::Mutex<std::collections::HashMap<K, (u32, std::time::Instant)>>,
    max: u32,
}

impl<K: std::hash::Hash + Eq> FailureCounter<K> {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
    /// Entries kept before old ones are swept, so the map cannot grow without bound.
    const MAX_ENTRIES: usize = 100_000;

    fn new(max: u32) -> Self {
        FailureCounter { failures: std::sync::Mutex::new(std::collections::HashMap::new()), max }
    }

    /// Seconds until `key` may try again, when it is locked.
    fn locked(&self, key: &K) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        match map.get(key) {
            Some((count, since)) if *count >= self.max && since.elapsed() < Self::WINDOW => {
                Some((Self::WINDOW - since.elapsed()).as_secs() + 1)
            }
            _ => None,
        }
    }

    fn failed(&self, key: K) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= Self::MAX_ENTRIES {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
            if map.len() >= Self::MAX_ENTRIES {
                // Every entry is recent: forget the whole table rather than grow it.
                map.clear();
            }
        }
        let entry = map.entry(key).or_insert((0, std::time::Instant::now()));
        if entry.1.elapsed() >= Self::WINDOW {
            *entry = (0, std::time::Instant::now());
        }
        entry.0 += 1;
    }

    fn forget(&self, key: &K) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// Counts failed logins per login name and per client address. Ten failures for one login
/// within 15 minutes lock that login (429) for the rest of the window, so one password cannot
/// be guessed at network speed; `per_address` failures from one address lock that address
/// (whatever login it tries), so random logins cannot be tried at network speed either. A
/// locked request is refused before any password work. A success clears its login's count,
/// not its address's (a call center behind one NAT address shares that count; keep
/// `auth.login_failures_per_address` above what its typos make). Kept in memory: a restart
/// or another node starts counting afresh, which still bounds guessing.
pub(crate) struct LoginThrottle {
    logins: FailureCounter<String>,
    addresses: FailureCounter<std::net::IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(100)
    }
}

impl LoginThrottle {
    const MAX_FAILURES_PER_LOGIN: u32 = 10;

    pub(crate) fn new(per_address: u32) -> Self {
        LoginThrottle {
            logins: FailureCounter::new(Self::MAX_FAILURES_PER_LOGIN),
            addresses: FailureCounter::new(per_address.max(1)),
        }
    }

    fn key(login: &str) -> String {
        login.trim().to_lowercase()
    }

    /// Err when `login` or `address` is locked out.
    pub(crate) fn check(
        &self,
        login: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<(), ApiError> {
        let by_address = address.and_then(|a| self.addresses.locked(&a));
        match by_address.or_else(|| self.logins.locked(&Self::key(login))) {
            Some(retry_after_s) => Err(ApiError::TooManyAttempts { retry_after_s }),
            None => Ok(()),
        }
    }

    pub(crate) fn failed(&self, login: &str, address: Option<std::net::IpAddr>) {
        self.logins.failed(Self::key(login));
        if let Some(address) = address {
            self.addresses.failed(address);
        }
    }

    pub(crate) fn succeeded(&self, login: &str) {
        self.logins.forget(&Self::key(login));
    }
}

/// Login form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    login: String,
    password: String,
}

/// Password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// API token request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    name: String,
}

/// A new API token; `token` is shown this once.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    #[serde(flatten)]
    info: ApiToken,
    token: String,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me).patch(update_me))
        .route("/api/me/password", post(change_password))
        .route("/api/me/tokens", get(list_tokens).post(create_token))
        .route("/api/me/tokens/{id}", delete(revoke_token))
}

/// A hash to verify against when the login is unknown, so both cases take the same time.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default()).clone()
}

/// Logs in and sets the session cookie.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginRequest, tag = "auth",
    responses((status = 200, body = User), (status = 401, description = "wrong login or password"),
        (status = 429, description = "too many failed attempts for this login or from this address"),
        (status = 503, description = "password checks are busy; retry after the Retry-After seconds")))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    state.login_throttle().check(&body.login, address)?;
    if body.login.len() > 256 || body.password.len() > 1024 {
        // Longer than any login or password we accept: refused without hashing.
        state.login_throttle().failed(&body.login, address);
        return Err(ApiError::BadCredentials);
    }
    let found = state.store().user_by_login(&body.login).await?;
    let phc = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(dummy_hash);
    let ok = state.passwords().verify(body.password, phc).await?;
    let user = match found {
        Some(found) if ok && found.user.active => found.user,
        _ => {
            tracing::info!(login = %body.login.chars().take(64).collect::<String>(), address = ?address, "failed login");
            state.login_throttle().failed(&body.login, address);
            return Err(ApiError::BadCredentials);
        }
    };
    state.login_throttle().succeeded(&body.login);
    let secret = random_secret();
    let ttl = state.config().session_ttl;
    let expires =
        switchboard_store::now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    state.store().create_session(&user.id, &hash_token(&secret), expires).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        ttl.as_secs(),
        if state.config().cookie_secure { "; Secure" } else { "" }
    );
    Ok(([(SET_COOKIE, cookie)], Json(user)).into_response())
}

/// Ends the session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(session) = session_cookie(&headers) {
        state.store().delete_session(&hash_token(&session)).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear)]).into_response())
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth", responses((status = 200, body = User)))]
pub(crate) async fn me(user: CurrentUser) -> Json<User> {
    Json(user.0)
}

/// One's own preferences.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MyPreferences {
    /// `en`, `ru`, or null to follow the browser.
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    language: Option<Option<String>>,
}

/// Changes one's own preferences (the pages' language).
#[utoipa::path(patch, path = "/api/me", request_body = MyPreferences, tag = "auth", responses((status = 200, body = User), (status = 422)))]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<MyPreferences>,
) -> ApiResult<Json<User>> {
    if let Some(language) = &body.language {
        state.store().set_user_language(user.id(), language.as_deref()).await?;
    }
    Ok(Json(state.store().get_user(user.id()).await?))
}

/// Changes one's own password (ends every session of the user).
#[utoipa::path(post, path = "/api/me/password", request_body = PasswordChange, tag = "auth", responses((status = 204)))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_password_strength("new_password", &body.new_password)?;
    let stored = state.store().user_by_login(&user.0.login).await?.ok_or(ApiError::Unauthorized)?;
    let ok = state.passwords().verify(body.current_password, stored.password_hash).await?;
    if !ok {
        return Err(ApiError::invalid("current_password", "wrong password"));
    }
    let hash = hash_password_async(&state, body.new_password).await?;
    state
        .store()
        .update_user(
            &user.actor(),
            user.id(),
            UserChanges { password_hash: Some(hash), ..Default::default() },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One's own API tokens.
#[utoipa::path(get, path = "/api/me/tokens", tag = "auth", responses((status = 200, body = [ApiToken])))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store().list_api_tokens(user.id()).await?))
}

/// Creates an API token for integrations; use it as `Authorization: Bearer <token>`.
#[utoipa::path(post, path = "/api/me/tokens", request_body = TokenRequest, tag = "auth", responses((status = 201, body = CreatedToken)))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<TokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let info = state
        .store()
        .create_api_token(&user.actor(), user.id(), &body.name, &hash_token(&token))
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { info, token })))
}

/// Revokes one of one's own API tokens.
#[utoipa::path(delete, path = "/api/me/tokens/{id}", tag = "auth", responses((status = 204)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store().revoke_api_token(&user.actor(), user.id(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
