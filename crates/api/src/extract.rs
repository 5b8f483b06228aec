//! Extractors: JSON bodies that name the failing field, query strings likewise, and the
//! logged-in user.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchboard_core::Action;
use switchboard_core::entity::User;

use crate::AppState;
use crate::auth::{TOKEN_PREFIX, hash_token, session_cookie};
use crate::error::ApiError;

/// A JSON body. Type errors name the field path (`phones[1].kind`); syntax errors give the
/// position; a missing or wrong Content-Type is 415; an oversized body is 413.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson(e.body_text())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            Ok(value)
        }
        Err(err) => {
            let inner = err.inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(ApiError::MalformedJson(inner.to_string()));
            }
            let path = err.path().to_string();
            let message = inner.to_string();
            // serde reports a missing field on its parent: name the field itself.
            let field =
                match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    Some(missing) if path == "." => missing.to_owned(),
                    Some(missing) => format!("{path}.{missing}"),
                    None if path == "." => "body".to_owned(),
                    None => path,
                };
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            Err(ApiError::invalid(field, message))
        }
    }
}

/// Query parameters, with errors naming the parameter.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(QueryParams)
    }
}

/// Reads query parameters from `query` (`a=1&b=2`), with errors naming the parameter.
pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let field = err.path().to_string();
        ApiError::invalid(
            if field == "." { "query".to_owned() } else { field },
            err.inner().to_string(),
        )
    })
}

/// Decodes `a=1&b=x%20y` into pairs.
pub(crate) fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The logged-in user, from the session cookie or a `Bearer` API token.
#[derive(Debug, Clone)]
pub(crate) struct CurrentUser(pub(crate) User);

impl CurrentUser {
    pub(crate) fn id(&self) -> &str {
        &self.0.id
    }

    pub(crate) fn actor(&self) -> switchboard_store::Actor {
        switchboard_store::Actor::user(self.0.id.clone())
    }

    /// Fails with 403 unless the role may perform `action`.
    pub(crate) fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.0.role.can(action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("your role does not allow this"))
        }
    }

    /// The owner (or assignee) of a record this user creates: themselves unless they name
    /// someone, which only roles that may edit anyone's records can do.
    pub(crate) fn owner_for_new(
        &self,
        requested: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let owner = requested.unwrap_or_else(|| self.0.id.clone());
        if owner != self.0.id {
            self.require(Action::EditAnyCrm)?;
        }
        Ok(Some(owner))
    }

    /// Fails with 403 when `requested` (from a PATCH body: absent, null or an id) would change
    /// a record's owner and the role may not reassign records.
    pub(crate) fn check_owner_change(
        &self,
        requested: &Option<Option<String>>,
        current: Option<&str>,
    ) -> Result<(), ApiError> {
        match requested {
            Some(new) if new.as_deref() != current => self.require(Action::EditAnyCrm),
            _ => Ok(()),
        }
    }

    /// Fails with 403 unless the user may edit a record with this owner and assignee.
    pub(crate) fn require_edit(
        &self,
        owner_id: Option<&str>,
        assignee_id: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.0.role.may_edit(&self.0.id, owner_id, assignee_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("you may only edit records you own or are assigned to"))
        }
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(auth) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            let token = auth
                .strip_prefix("Bearer ")
                .map(str::trim)
                .filter(|t| t.starts_with(TOKEN_PREFIX))
                .ok_or(ApiError::Unauthorized)?;
            let user = state
                .store()
                .user_for_api_token(&hash_token(token))
                .await?
                .ok_or(ApiError::Unauthorized)?;
            return Ok(CurrentUser(user));
        }
        let session = session_cookie(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let user = state
            .store()
            .user_for_session(&hash_token(&session))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(CurrentUser(user))
    }
}

/// The client's IP address, when the server was started with connection info (the real
/// server is; a router driven directly in a test is not).
pub(crate) struct ClientAddress(pub(crate) Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}
