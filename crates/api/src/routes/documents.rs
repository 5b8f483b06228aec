//! Documents from templates: `/api/document-templates` (the admin edits them; a template with
//! an unknown placeholder, or one that does not compile, is refused naming why), a deal's
//! documents (`/api/deals/{id}/documents`: rendered to PDF before anything is stored, numbered
//! per kind and year), their approval when the settings ask for it, and e-mailing them
//! (`/api/documents/{id}/send`, over SMTP with lettre; only ready or approved ones).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::Action;
use switchboard_core::role::Role;
use switchboard_core::sales::{DocKind, Document, DocumentTemplate};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody};
use crate::i18n::{Lang, t};
use crate::{AppState, SmtpTls};

/// Setting: our company's requisites (a JSON object of [`Seller`]'s fields).
const SELLER: &str = crate::documents::SELLER_SETTING;
/// Setting: documents whose total is above this many roubles need approval.
const APPROVAL_AMOUNT: &str = "documents.approval_amount";
/// Setting: documents with a line discount above this percent need approval.
const APPROVAL_DISCOUNT: &str = "documents.approval_discount";
/// Setting: the role that approves (default manager; admins always may).
const APPROVER_ROLE: &str = "documents.approver_role";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/document-templates", get(templates).post(create_template))
        .route("/api/document-templates/placeholders", get(placeholders))
        .route("/api/document-templates/{id}", patch(update_template))
        .route("/api/documents/settings", get(settings).put(update_settings))
        .route("/api/documents/pending", get(pending))
        .route("/api/deals/{id}/documents", get(deal_documents).post(generate))
        .route("/api/documents/{id}", get(read))
        .route("/api/documents/{id}/pdf", get(pdf))
        .route("/api/documents/{id}/approve", post(approve))
        .route("/api/documents/{id}/reject", post(reject))
        .route("/api/documents/{id}/send", post(send))
}

/// Our company as documents print it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Seller {
    pub(crate) name: String,
    pub(crate) inn: String,
    pub(crate) kpp: String,
    pub(crate) ogrn: String,
    pub(crate) address: String,
    pub(crate) bank: String,
    pub(crate) bik: String,
    pub(crate) account: String,
    pub(crate) corr_account: String,
    pub(crate) director: String,
    pub(crate) phone: String,
    pub(crate) email: String,
}

/// The documents' settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentSettings {
    pub(crate) seller: Seller,
    /// Roubles (the document's currency's major units); `null`: no limit.
    pub(crate) approval_amount: Option<f64>,
    /// Percent; `null`: no limit.
    pub(crate) approval_discount: Option<f64>,
    /// Who approves (admins always may).
    pub(crate) approver_role: Role,
    /// Whether e-mail is set up (`[smtp]` in the configuration).
    #[serde(default)]
    email_enabled: bool,
}

async fn load_settings(state: &AppState) -> ApiResult<DocumentSettings> {
    let mut settings = document_settings(state.store()).await?;
    settings.email_enabled = state.config().smtp.is_some();
    Ok(settings)
}

/// The documents' settings as stored (`email_enabled` is the caller's to fill in).
pub(crate) async fn document_settings(
    store: &switchboard_store::Store,
) -> ApiResult<DocumentSettings> {
    let stored = store.settings().await?;
    Ok(DocumentSettings {
        seller: stored
            .get(SELLER)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        approval_amount: stored.get(APPROVAL_AMOUNT).and_then(Value::as_f64),
        approval_discount: stored.get(APPROVAL_DISCOUNT).and_then(Value::as_f64),
        approver_role: stored
            .get(APPROVER_ROLE)
            .and_then(Value::as_str)
            .and_then(|r| r.parse().ok())
            .unwrap_or(Role::Manager),
        email_enabled: false,
    })
}

/// The documents' settings: our requisites, approval limits and the approver.
#[utoipa::path(get, path = "/api/documents/settings", tag = "documents", responses((status = 200, body = DocumentSettings)))]
pub(crate) async fn settings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<DocumentSettings>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(load_settings(&state).await?))
}

/// Changes the documents' settings (admin).
#[utoipa::path(put, path = "/api/documents/settings", request_body = DocumentSettings, tag = "documents", responses((status = 200, body = DocumentSettings), (status = 403), (status = 422)))]
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<DocumentSettings>,
) -> ApiResult<Json<DocumentSettings>> {
    user.require(Action::ManageSettings)?;
    if b.approval_amount.is_some_and(|a| !a.is_finite() || a < 0.0) {
        return Err(ApiError::invalid("approval_amount", "must not be negative"));
    }
    if b.approval_discount.is_some_and(|d| !(0.0..=100.0).contains(&d)) {
        return Err(ApiError::invalid("approval_discount", "must be 0-100"));
    }
    let (store, actor) = (state.store(), user.actor());
    store
        .set_setting(&actor, SELLER, &serde_json::to_value(&b.seller).unwrap_or(Value::Null))
        .await?;
    store.set_setting(&actor, APPROVAL_AMOUNT, &json!(b.approval_amount)).await?;
    store.set_setting(&actor, APPROVAL_DISCOUNT, &json!(b.approval_discount)).await?;
    store.set_setting(&actor, APPROVER_ROLE, &json!(b.approver_role.as_str())).await?;
    Ok(Json(load_settings(&state).await?))
}

/// A placeholder and what it holds.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Placeholder {
    name: &'static str,
    meaning: &'static str,
}

/// The placeholders a template may use.
#[utoipa::path(get, path = "/api/document-templates/placeholders", tag = "documents", responses((status = 200, body = [Placeholder])))]
pub(crate) async fn placeholders(user: CurrentUser) -> ApiResult<Json<Vec<Placeholder>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(
        switchboard_docs::PLACEHOLDERS
            .iter()
            .map(|(name, meaning)| Placeholder { name, meaning })
            .collect(),
    ))
}

/// Every template.
#[utoipa::path(get, path = "/api/document-templates", tag = "documents", responses((status = 200, body = [DocumentTemplate])))]
pub(crate) async fn templates(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<DocumentTemplate>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().document_templates().await?))
}

/// A template to add, or its changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateBody {
    kind: Option<DocKind>,
    name: Option<String>,
    /// typst source with `{{placeholders}}`.
    source: Option<String>,
    active: Option<bool>,
}

/// Checks a template's source on a blocking thread (typst compiles it once).
async fn check_source(source: &str) -> ApiResult<()> {
    if source.len() > 200_000 {
        return Err(ApiError::invalid("source", "at most 200000 characters"));
    }
    let owned = source.to_owned();
    let checked = tokio::task::spawn_blocking(move || switchboard_docs::check_template(&owned))
        .await
        .map_err(|_| ApiError::invalid("source", "the template could not be checked"))?;
    checked.map_err(|e| match e {
        switchboard_docs::TemplateError::Unknown { name, line } => ApiError::invalid_input(
            "source",
            format!("unknown placeholder {{{{{name}}}}} on line {line}"),
            name,
        ),
        other => ApiError::invalid("source", other.to_string()),
    })
}

/// Adds a template (admin).
#[utoipa::path(post, path = "/api/document-templates", request_body = TemplateBody, tag = "documents", responses((status = 201, body = DocumentTemplate), (status = 403), (status = 422)))]
pub(crate) async fn create_template(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<TemplateBody>,
) -> ApiResult<(StatusCode, Json<DocumentTemplate>)> {
    user.require(Action::ManageSettings)?;
    let kind = b.kind.ok_or_else(|| ApiError::invalid("kind", "must not be empty"))?;
    let source = b.source.unwrap_or_default();
    check_source(&source).await?;
    let name = b.name.unwrap_or_default();
    let template =
        state.store().create_document_template(&user.actor(), kind, &name, &source).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// Changes a template (admin).
#[utoipa::path(patch, path = "/api/document-templates/{id}", request_body = TemplateBody, tag = "documents", responses((status = 200, body = DocumentTemplate), (status = 403), (status = 422)))]
pub(crate) async fn update_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TemplateBody>,
) -> ApiResult<Json<DocumentTemplate>> {
    user.require(Action::ManageSettings)?;
    if b.kind.is_some() {
        return Err(ApiError::invalid("kind", "a template's kind cannot change"));
    }
    if let Some(source) = &b.source {
        check_source(source).await?;
    }
    Ok(Json(
        state
            .store()
            .update_document_template(
                &user.actor(),
                &id,
                b.name.as_deref(),
                b.source.as_deref(),
                b.active,
            )
            .await?,
    ))
}

/// A deal's documents, newest first.
#[utoipa::path(get, path = "/api/deals/{id}/documents", tag = "documents", responses((status = 200, body = [Document])))]
pub(crate) async fn deal_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Document>>> {
    user.require(Action::ReadCrm)?;
    state.store().get_deal(&id).await?;
    Ok(Json(state.store().deal_documents(&id).await?))
}

/// One document.
#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents", responses((status = 200, body = Document), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Document>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().document(&id).await?))
}

/// Documents waiting for approval.
#[utoipa::path(get, path = "/api/documents/pending", tag = "documents", responses((status = 200, body = [Document])))]
pub(crate) async fn pending(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Document>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().pending_documents().await?))
}

/// Which template to make a document from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenerateBody {
    template_id: String,
}

/// Makes a document for a deal from a template (the deal's owner, supervisor and above):
/// rendered to PDF first (a template that fails leaves nothing behind), then stored with the
/// next number of its kind this year. Above the approval limits it waits for an approver, who
/// is told.
#[utoipa::path(post, path = "/api/deals/{id}/documents", request_body = GenerateBody, tag = "documents", responses((status = 201, body = Document), (status = 403), (status = 422)))]
pub(crate) async fn generate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<GenerateBody>,
) -> ApiResult<(StatusCode, Json<Document>)> {
    let deal = state.store().get_deal(&id).await?;
    user.require_edit(deal.owner_id.as_deref(), None)?;
    let template = state.store().document_template(&b.template_id).await.map_err(|_| {
        ApiError::invalid("template_id", format!("no such template: {}", b.template_id))
    })?;
    let doc = crate::documents::make_document(
        state.store(),
        &user.actor(),
        &deal,
        &template,
        state.config().utc_offset_ms,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// The document's PDF.
#[utoipa::path(get, path = "/api/documents/{id}/pdf", tag = "documents", responses((status = 200, content_type = "application/pdf"), (status = 404)))]
pub(crate) async fn pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user.require(Action::ReadCrm)?;
    let doc = state.store().document(&id).await?;
    let bytes = state.store().document_pdf(&id).await?;
    let file = format!("{}-{}-{}.pdf", doc.kind, doc.year, doc.number);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/pdf")
        .header(header::CONTENT_DISPOSITION, format!("inline; filename=\"{file}\""))
        .body(Body::from(bytes))
        .map_err(|_| ApiError::Conflict("cannot build the response".into()))
}

/// An approver's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// Required to reject.
    comment: Option<String>,
}

async fn decide(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    approve: bool,
    comment: Option<String>,
) -> ApiResult<Document> {
    let settings = load_settings(state).await?;
    if user.0.role != settings.approver_role && user.0.role != Role::Admin {
        return Err(ApiError::Forbidden("only the approver role may approve or reject documents"));
    }
    let doc = state.store().decide_document(&user.actor(), id, approve, comment).await?;
    if let Some(author) = &doc.created_by {
        let kind = if approve { "document_approved" } else { "document_rejected" };
        let body = match &doc.decision_comment {
            Some(c) => format!("{} № {}: {c}", doc.title, doc.number),
            None => format!("{} № {}", doc.title, doc.number),
        };
        state
            .store()
            .notify_users(std::slice::from_ref(author), kind, Some(&doc.deal_id), &body)
            .await?;
    }
    if approve {
        super::webhooks::emit(state, "document.approved", &doc);
    }
    Ok(doc)
}

/// Approves a pending document (the approver role, or an admin).
#[utoipa::path(post, path = "/api/documents/{id}/approve", request_body = DecisionBody, tag = "documents", responses((status = 200, body = Document), (status = 403), (status = 409)))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> ApiResult<Json<Document>> {
    Ok(Json(decide(&state, &user, &id, true, b.comment).await?))
}

/// Rejects a pending document with a comment (the approver role, or an admin).
#[utoipa::path(post, path = "/api/documents/{id}/reject", request_body = DecisionBody, tag = "documents", responses((status = 200, body = Document), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> ApiResult<Json<Document>> {
    Ok(Json(decide(&state, &user, &id, false, b.comment).await?))
}

/// Where to send a document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendBody {
    /// Defaults to the deal contact's first email.
    to: Option<String>,
    /// The letter's text (a short default when left out).
    message: Option<String>,
}

/// E-mails a ready or approved document as a PDF attachment; every attempt is logged with
/// what the mail server said.
#[utoipa::path(post, path = "/api/documents/{id}/send", request_body = SendBody, tag = "documents", responses((status = 200, body = Document), (status = 409), (status = 422), (status = 503)))]
pub(crate) async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SendBody>,
) -> ApiResult<Json<Document>> {
    let doc = state.store().document(&id).await?;
    let deal = state.store().get_deal(&doc.deal_id).await?;
    user.require_edit(deal.owner_id.as_deref(), None)?;
    if !doc.status.sendable() {
        return Err(ApiError::Conflict(format!(
            "the document is {}; only ready or approved documents are sent",
            doc.status
        )));
    }
    let Some(smtp) = state.config().smtp.clone() else {
        return Err(ApiError::Conflict(
            "e-mail is not set up ([smtp] in the configuration)".into(),
        ));
    };
    let to = match b.to.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(to) => to,
        None => match &deal.contact_id {
            Some(c) => state
                .store()
                .get_contact(c)
                .await?
                .emails
                .first()
                .cloned()
                .ok_or_else(|| ApiError::invalid("to", "must not be empty"))?,
            None => return Err(ApiError::invalid("to", "must not be empty")),
        },
    };
    let to_mailbox: lettre::message::Mailbox = to
        .parse()
        .map_err(|_| ApiError::invalid_input("to", "not an email address", to.clone()))?;
    let from: lettre::message::Mailbox = smtp
        .from
        .parse()
        .map_err(|_| ApiError::Conflict("smtp.from is not an email address".into()))?;
    let pdf = state.store().document_pdf(&id).await?;
    let subject = format!("{} № {}", doc.title, doc.number);
    let text =
        b.message.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| t(Lang::Ru, "doc_mail_text"));
    let file = format!("{}-{}.pdf", doc.title, doc.number);
    let message = lettre::Message::builder()
        .from(from)
        .to(to_mailbox)
        .subject(subject)
        .multipart(
            lettre::message::MultiPart::mixed()
                .singlepart(lettre::message::SinglePart::plain(text))
                .singlepart(
                    lettre::message::Attachment::new(file).body(
                        pdf,
                        "application/pdf"
                            .parse()
                            .map_err(|_| ApiError::Conflict("content type".into()))?,
                    ),
                ),
        )
        .map_err(|e| ApiError::Conflict(format!("cannot build the message: {e}")))?;
    let result = deliver(&smtp, message).await;
    let error = result.as_ref().err().cloned();
    state.store().record_document_send(&user.actor(), &id, &to, error.as_deref()).await?;
    if let Some(error) = error {
        tracing::warn!(document = id, error, "the mail server refused a document");
        return Err(ApiError::Unavailable(format!("the mail server refused: {error}")));
    }
    Ok(Json(state.store().document(&id).await?))
}

async fn deliver(smtp: &crate::SmtpConfig, message: lettre::Message) -> Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| e.to_string())?,
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?
        }
    };
    let mut builder = builder.port(smtp.port).timeout(Some(std::time::Duration::from_secs(20)));
    if !smtp.username.is_empty() {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            smtp.username.clone(),
            smtp.password.clone(),
        ));
    }
    builder.build().send(message).await.map(|_| ()).map_err(|e| e.to_string())
}
