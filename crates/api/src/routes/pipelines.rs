//! `/api/pipelines`, their stages (`/api/pipeline/stages`) and the rules that run when a deal
//! enters a stage. Reading is for every user (the board needs it); changes are the admin's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_core::entity::{PipelineStage, TaskKind};
use switchboard_core::role::Role;
use switchboard_core::sales::{Pipeline, RuleAction, RuleAssignee, StageRule};
use switchboard_store::{NewStage, NewStageRule, StageChanges};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/pipelines", get(list_pipelines).post(create_pipeline))
        .route("/api/pipelines/{id}", patch(update_pipeline).delete(delete_pipeline))
        .route("/api/pipeline/stages", get(list_stages).post(create_stage))
        .route("/api/pipeline/stages/{id}", patch(update_stage).delete(delete_stage))
        .route("/api/pipeline/stages/{id}/rules", get(list_rules).post(create_rule))
        .route("/api/stage-rules", get(all_rules))
        .route("/api/stage-rules/{id}", delete(delete_rule))
}

/// A new pipeline, or a pipeline's changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PipelineBody {
    name: Option<String>,
    position: Option<i64>,
}

/// A new stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStage {
    /// Defaults to the first pipeline.
    pipeline_id: Option<String>,
    name: String,
    position: Option<i64>,
    #[serde(default)]
    probability: i64,
    /// What a deal must have before entering: `amount`, `contact_id`, `company_id`,
    /// `owner_id`, `items`, or a deal custom field's key.
    #[serde(default)]
    required_fields: Vec<String>,
}

/// Stage changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateStage {
    name: Option<String>,
    position: Option<i64>,
    probability: Option<i64>,
    required_fields: Option<Vec<String>>,
}

/// A new stage rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRule {
    action: RuleAction,
    /// Tasks only; default `todo`.
    task_kind: Option<TaskKind>,
    /// The task's subject or the notification's text.
    subject: String,
    assignee: RuleAssignee,
    assignee_user_id: Option<String>,
    assignee_role: Option<Role>,
    /// Due this many hours after entering (with `due_field`: at this hour UTC of its date).
    due_hours: Option<i64>,
    /// A deal custom field of type date.
    due_field: Option<String>,
}

/// The pipelines in order.
#[utoipa::path(get, path = "/api/pipelines", tag = "deals", responses((status = 200, body = [Pipeline])))]
pub(crate) async fn list_pipelines(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Pipeline>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().list_pipelines().await?))
}

/// Adds a pipeline (admin); give it stages next.
#[utoipa::path(post, path = "/api/pipelines", request_body = PipelineBody, tag = "deals", responses((status = 201, body = Pipeline), (status = 403), (status = 409)))]
pub(crate) async fn create_pipeline(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<PipelineBody>,
) -> ApiResult<(StatusCode, Json<Pipeline>)> {
    user.require(Action::ManageSettings)?;
    let name = b.name.unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(state.store().create_pipeline(&user.actor(), &name, None).await?),
    ))
}

/// Renames or reorders a pipeline (admin).
#[utoipa::path(patch, path = "/api/pipelines/{id}", request_body = PipelineBody, tag = "deals", responses((status = 200, body = Pipeline), (status = 403)))]
pub(crate) async fn update_pipeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PipelineBody>,
) -> ApiResult<Json<Pipeline>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(
        state.store().update_pipeline(&user.actor(), &id, b.name.as_deref(), b.position).await?,
    ))
}

/// Removes a pipeline no deal is in, with its stages (admin).
#[utoipa::path(delete, path = "/api/pipelines/{id}", tag = "deals", responses((status = 204), (status = 409, description = "deals are in it, or it is the last one")))]
pub(crate) async fn delete_pipeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageSettings)?;
    state.store().delete_pipeline(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every pipeline's stages in board order (each names its `pipeline_id`).
#[utoipa::path(get, path = "/api/pipeline/stages", tag = "deals", responses((status = 200, body = [PipelineStage])))]
pub(crate) async fn list_stages(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<PipelineStage>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().list_stages().await?))
}

/// Adds a stage (admin).
#[utoipa::path(post, path = "/api/pipeline/stages", request_body = CreateStage, tag = "deals", responses((status = 201, body = PipelineStage), (status = 403)))]
pub(crate) async fn create_stage(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateStage>,
) -> ApiResult<(StatusCode, Json<PipelineStage>)> {
    user.require(Action::ManageSettings)?;
    let new = NewStage {
        pipeline_id: b.pipeline_id,
        name: b.name,
        position: b.position,
        probability: b.probability,
        key: None,
        required_fields: b.required_fields,
    };
    Ok((StatusCode::CREATED, Json(state.store().create_stage(&user.actor(), new).await?)))
}

/// Changes a stage (admin).
#[utoipa::path(patch, path = "/api/pipeline/stages/{id}", request_body = UpdateStage, tag = "deals", responses((status = 200, body = PipelineStage), (status = 403)))]
pub(crate) async fn update_stage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateStage>,
) -> ApiResult<Json<PipelineStage>> {
    user.require(Action::ManageSettings)?;
    let changes = StageChanges {
        name: b.name,
        position: b.position,
        probability: b.probability,
        required_fields: b.required_fields,
    };
    Ok(Json(state.store().update_stage(&user.actor(), &id, changes).await?))
}

/// Removes an empty stage and its rules (admin).
#[utoipa::path(delete, path = "/api/pipeline/stages/{id}", tag = "deals", responses((status = 204), (status = 409, description = "deals are in the stage")))]
pub(crate) async fn delete_stage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageSettings)?;
    state.store().delete_stage(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stage's rules in order.
#[utoipa::path(get, path = "/api/pipeline/stages/{id}/rules", tag = "deals", responses((status = 200, body = [StageRule])))]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<StageRule>>> {
    user.require(Action::ReadCrm)?;
    state.store().stage(&id).await?;
    Ok(Json(state.store().stage_rules(Some(&id)).await?))
}

/// Every stage's rules.
#[utoipa::path(get, path = "/api/stage-rules", tag = "deals", responses((status = 200, body = [StageRule])))]
pub(crate) async fn all_rules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<StageRule>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().stage_rules(None).await?))
}

/// Adds a rule to a stage (admin): on entering, create a task or notify someone.
#[utoipa::path(post, path = "/api/pipeline/stages/{id}/rules", request_body = CreateRule, tag = "deals", responses((status = 201, body = StageRule), (status = 403), (status = 422)))]
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CreateRule>,
) -> ApiResult<(StatusCode, Json<StageRule>)> {
    user.require(Action::ManageSettings)?;
    let new = NewStageRule {
        action: b.action,
        task_kind: b.task_kind.unwrap_or(TaskKind::Todo),
        subject: b.subject,
        assignee: b.assignee,
        assignee_user_id: b.assignee_user_id.filter(|u| !u.is_empty()),
        assignee_role: b.assignee_role,
        due_hours: b.due_hours,
        due_field: b.due_field.filter(|f| !f.is_empty()),
    };
    Ok((StatusCode::CREATED, Json(state.store().create_stage_rule(&user.actor(), &id, new).await?)))
}

/// Removes a stage rule (admin).
#[utoipa::path(delete, path = "/api/stage-rules/{id}", tag = "deals", responses((status = 204), (status = 403)))]
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageSettings)?;
    state.store().delete_stage_rule(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
