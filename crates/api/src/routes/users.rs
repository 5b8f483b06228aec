//! `/api/users` and `/api/teams`: only admins change them; everyone may read them (to assign
//! work to colleagues).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::entity::{Team, User};
use switchboard_core::{Action, Role};
use switchboard_store::{NewTeam, NewUser, TeamChanges, UserChanges};
use utoipa::ToSchema;

use super::nullable;
use crate::auth::{check_password_strength, hash_password_async};
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody};
use crate::{AppState, new_password};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", get(read).patch(update))
        .route("/api/teams", get(list_teams).post(create_team))
        .route("/api/teams/{id}", patch(update_team))
}

/// A new user. Without `password` one is generated and returned once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    login: String,
    name: String,
    role: Role,
    password: Option<String>,
    team_id: Option<String>,
}

/// The created user, with the generated password if one was generated.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedUser {
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// User changes (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUser {
    name: Option<String>,
    role: Option<Role>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    team_id: Option<Option<String>>,
    active: Option<bool>,
    /// Sets a new password and ends the user's sessions.
    password: Option<String>,
    /// Their skills with levels 1-5 (`{"english": 3}`), for skills routing.
    #[schema(value_type = Option<Object>)]
    skills: Option<switchboard_core::acd::Skills>,
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTeam {
    name: String,
    supervisor_id: Option<String>,
}

/// Team changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTeam {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    supervisor_id: Option<Option<String>>,
}

/// Every user.
#[utoipa::path(get, path = "/api/users", tag = "users", responses((status = 200, body = [User])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<User>>> {
    user.require(Action::ReadUsers)?;
    Ok(Json(state.store().list_users().await?))
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/api/users", request_body = CreateUser, tag = "users", responses((status = 201, body = CreatedUser), (status = 403), (status = 409)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    user.require(Action::ManageUsers)?;
    let (password, generated) = match b.password {
        Some(p) => {
            check_password_strength("password", &p)?;
            (p, false)
        }
        None => (new_password(), true),
    };
    let password_hash = hash_password_async(&state, password.clone()).await?;
    let created = state
        .store()
        .create_user(
            &user.actor(),
            NewUser {
                login: b.login,
                name: b.name,
                role: b.role,
                password_hash,
                team_id: b.team_id,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser { user: created, password: generated.then_some(password) }),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", responses((status = 200, body = User), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    user.require(Action::ReadUsers)?;
    Ok(Json(state.store().get_user(&id).await?))
}

/// Changes a user (admin). An admin cannot demote or disable themselves, so the system
/// always keeps one admin who can log in.
#[utoipa::path(patch, path = "/api/users/{id}", request_body = UpdateUser, tag = "users", responses((status = 200, body = User), (status = 403)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateUser>,
) -> ApiResult<Json<User>> {
    user.require(Action::ManageUsers)?;
    if id == user.id() && (b.role.is_some_and(|r| r != Role::Admin) || b.active == Some(false)) {
        return Err(ApiError::invalid(
            if b.role.is_some() { "role" } else { "active" },
            "you cannot demote or disable yourself",
        ));
    }
    let password_hash = match b.password {
        Some(p) => {
            check_password_strength("password", &p)?;
            Some(hash_password_async(&state, p).await?)
        }
        None => None,
    };
    let changes = UserChanges {
        name: b.name,
        role: b.role,
        team_id: b.team_id,
        active: b.active,
        password_hash,
        skills: b.skills.clone(),
    };
    let updated = state.store().update_user(&user.actor(), &id, changes).await?;
    if b.skills.is_some() {
        // Routing reads skills at the agent's next login.
        super::telephony::reload(&state).await;
    }
    Ok(Json(updated))
}

/// Every team.
#[utoipa::path(get, path = "/api/teams", tag = "users", responses((status = 200, body = [Team])))]
pub(crate) async fn list_teams(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Team>>> {
    user.require(Action::ReadUsers)?;
    Ok(Json(state.store().list_teams().await?))
}

/// Creates a team (admin).
#[utoipa::path(post, path = "/api/teams", request_body = CreateTeam, tag = "users", responses((status = 201, body = Team), (status = 403)))]
pub(crate) async fn create_team(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    user.require(Action::ManageUsers)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store()
                .create_team(
                    &user.actor(),
                    NewTeam { name: b.name, supervisor_id: b.supervisor_id },
                )
                .await?,
        ),
    ))
}

/// Changes a team (admin).
#[utoipa::path(patch, path = "/api/teams/{id}", request_body = UpdateTeam, tag = "users", responses((status = 200, body = Team), (status = 403)))]
pub(crate) async fn update_team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateTeam>,
) -> ApiResult<Json<Team>> {
    user.require(Action::ManageUsers)?;
    Ok(Json(
        state
            .store()
            .update_team(
                &user.actor(),
                &id,
                TeamChanges { name: b.name, supervisor_id: b.supervisor_id },
            )
            .await?,
    ))
}
