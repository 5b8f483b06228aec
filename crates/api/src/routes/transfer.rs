//! Import in the browser: `/api/imports` (upload a CSV/XLSX, map its columns, preview, run
//! with progress, download the row report). Exports are in `export.rs`.
//!
//! An upload is held in memory as a parsed table for an hour (or until five newer uploads of
//! the same user push it out); the file itself is not kept. The run goes through the same
//! pipeline as `switchboard import contacts`, so dedupe, merge and the report are the same.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_import::{
    ColumnMap, ImportError, ImportOptions, ImportSummary, ReportLine, SheetFormat, Table,
    check_rows, import_table,
};
use switchboard_store::OnDuplicate;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

/// The largest upload: about 300 000 contact rows. Bigger files go through the command line.
const UPLOAD_LIMIT: usize = 64 << 20;
/// How long an upload is kept after its last use.
const KEEP: Duration = Duration::from_secs(3600);
/// Uploads kept per user.
const PER_USER: usize = 5;
/// Rows per store batch for browser imports: small enough for the progress bar to move.
const BROWSER_BATCH: usize = 2_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/imports", post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/api/imports/{id}", get(status))
        .route("/api/imports/{id}/preview", post(preview))
        .route("/api/imports/{id}/run", post(run))
        .route("/api/imports/{id}/report", get(report))
        .route("/api/export/{list}", get(super::export::export))
}

/// Uploads held for their owners.
#[derive(Default)]
pub(crate) struct Imports {
    jobs: Mutex<HashMap<String, Arc<ImportJob>>>,
}

struct ImportJob {
    id: String,
    user_id: String,
    name: String,
    table: Table,
    processed: AtomicU64,
    state: Mutex<JobState>,
    touched: Mutex<Instant>,
}

enum JobState {
    Uploaded,
    Running,
    Done(Box<ImportSummary>),
    Failed(String),
}

impl Imports {
    fn insert(&self, job: ImportJob) -> Arc<ImportJob> {
        let job = Arc::new(job);
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|_, j| j.running() || j.touched().elapsed() < KEEP);
        let mut mine: Vec<(Instant, String)> = jobs
            .values()
            .filter(|j| j.user_id == job.user_id && !j.running())
            .map(|j| (j.touched(), j.id.clone()))
            .collect();
        mine.sort();
        for (_, id) in mine.iter().take((mine.len() + 1).saturating_sub(PER_USER)) {
            jobs.remove(id);
        }
        jobs.insert(job.id.clone(), job.clone());
        job
    }

    /// The job, if it exists and `user` uploaded it (or is an admin).
    fn get(&self, user: &CurrentUser, id: &str) -> Result<Arc<ImportJob>, ApiError> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let job = jobs
            .get(id)
            .filter(|j| j.user_id == user.id() || user.0.role.can(Action::ManageUsers))
            .cloned()
            .ok_or(ApiError::NotFound("import"))?;
        *job.touched.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        Ok(job)
    }
}

impl ImportJob {
    fn running(&self) -> bool {
        matches!(*self.state.lock().unwrap_or_else(|e| e.into_inner()), JobState::Running)
    }

    fn touched(&self) -> Instant {
        *self.touched.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(super) fn file_error(err: ImportError) -> ApiError {
    match err {
        ImportError::Mapping { column, reason } => {
            ApiError::invalid(format!("mapping[{column}]"), reason)
        }
        ImportError::NoUsableColumns(_) => ApiError::invalid("mapping", err.to_string()),
        ImportError::UnknownOwner(login) => {
            ApiError::invalid_input("default_owner", "no user with this login", login)
        }
        ImportError::Store(e) => e.into(),
        ImportError::Io { .. } | ImportError::Task(_) | ImportError::Write { .. } => {
            ApiError::Internal(err.to_string())
        }
        ImportError::UnsupportedType(_) | ImportError::Csv(_) | ImportError::Sheet(_) => {
            ApiError::invalid("file", err.to_string())
        }
        ImportError::BadOption { option, value } => {
            ApiError::invalid_input(option, "unknown value", value)
        }
    }
}

/// `?name=` of the uploaded file (its extension tells CSV from XLSX), and for a CSV what the
/// user says of it when the detection got it wrong.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    name: String,
    /// A CSV's text encoding (`utf-8`, `windows-1251`, `koi8-r`, `ibm866`, `utf-16le` ...);
    /// detected when absent.
    encoding: Option<String>,
    /// A CSV's separator: `,`, `;` or `tab`; detected when absent.
    separator: Option<String>,
}

/// How a CSV was read.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CsvRead {
    /// The text encoding, e.g. `windows-1251`.
    encoding: String,
    /// `,`, `;` or `tab`.
    separator: String,
}

/// A target a column can be mapped to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TargetInfo {
    /// `first_name`, `phone`, ..., `custom.<key>` or `ignore`.
    key: String,
    /// The custom field's label (fixed targets are named by the page in the user's language).
    label: Option<String>,
}

/// An uploaded file, ready to map.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Upload {
    id: String,
    name: String,
    /// Data rows (the header excluded).
    rows: u64,
    headers: Vec<String>,
    /// The guessed target of each column, from its header in English or Russian.
    mapping: Vec<String>,
    /// Every target the mapping may use.
    targets: Vec<TargetInfo>,
    /// How a CSV file was read (detected, or as asked); absent for a workbook.
    csv: Option<CsvRead>,
}

/// Uploads a CSV (comma, semicolon or tab; UTF-8, UTF-16 or a Russian 8-bit encoding such as
/// Windows-1251, detected unless given) or XLSX/XLS/ODS file of contacts (manager, admin).
/// The body is the file itself; the columns are guessed from the header row.
#[utoipa::path(post, path = "/api/imports", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"), tag = "import",
    responses((status = 201, body = Upload), (status = 403), (status = 413), (status = 422)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<UploadQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Upload>)> {
    user.require(Action::ImportExport)?;
    if body.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    let options =
        switchboard_import::CsvOptions::parse(q.encoding.as_deref(), q.separator.as_deref())
            .map_err(|e| match e {
                ImportError::BadOption { option, value } => {
                    ApiError::invalid_input(option, "unknown value", value)
                }
                e => file_error(e),
            })?;
    let name = q.name.clone();
    let table = tokio::task::spawn_blocking(move || {
        switchboard_import::read_table_bytes(&name, &body, options)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(file_error)?;
    if table.headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ApiError::invalid("file", "the first row must hold the column headers"));
    }
    let fields = switchboard_import::contact_fields(state.store()).await.map_err(file_error)?;
    let mapping = match ColumnMap::from_headers(&table.headers, &fields) {
        Ok(map) => map.targets.iter().map(|t| t.key()).collect(),
        // Nothing recognised: the user maps by hand.
        Err(_) => vec!["ignore".to_owned(); table.headers.len()],
    };
    let targets =
        switchboard_import::TARGET_KEYS
            .iter()
            .map(|k| TargetInfo { key: (*k).to_owned(), label: None })
            .chain(fields.iter().map(|d| TargetInfo {
                key: format!("custom.{}", d.key),
                label: Some(d.label.clone()),
            }))
            .collect();
    let job = ImportJob {
        id: switchboard_core::new_id(),
        user_id: user.id().to_owned(),
        name: q.name,
        table,
        processed: AtomicU64::new(0),
        state: Mutex::new(JobState::Uploaded),
        touched: Mutex::new(Instant::now()),
    };
    let job = state.imports().insert(job);
    let csv = job.table.csv.as_ref().map(|f| CsvRead {
        encoding: f.encoding.to_owned(),
        separator: if f.separator == '\t' { "tab".into() } else { f.separator.to_string() },
    });
    let out = Upload {
        id: job.id.clone(),
        name: job.name.clone(),
        rows: job.table.rows.len() as u64,
        headers: job.table.headers.clone(),
        mapping,
        targets,
        csv,
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// The column mapping chosen by the user: one target key per column.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewRequest {
    mapping: Vec<String>,
}

/// One of the first rows as the mapping reads it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreviewRow {
    line: u64,
    /// The cells as in the file.
    cells: Vec<String>,
    /// Why the row would be refused (before duplicates and owners are checked).
    error: Option<String>,
}

/// What the file would import.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Preview {
    /// Rows that parse.
    ok: u64,
    /// Rows refused, all of them counted.
    rejected: u64,
    /// The first rows of the file.
    rows: Vec<PreviewRow>,
    /// Headers of columns that will not be imported.
    ignored: Vec<String>,
}

fn column_map(
    fields: &[switchboard_core::CustomFieldDef],
    job: &ImportJob,
    mapping: &[String],
) -> Result<ColumnMap, ApiError> {
    if mapping.len() != job.table.headers.len() {
        return Err(ApiError::invalid(
            "mapping",
            format!("expected {} targets, one per column", job.table.headers.len()),
        ));
    }
    ColumnMap::from_keys(&job.table.headers, mapping, fields).map_err(file_error)
}

/// Checks a mapping against the whole file without writing anything.
#[utoipa::path(post, path = "/api/imports/{id}/preview", request_body = PreviewRequest, tag = "import", responses((status = 200, body = Preview), (status = 404), (status = 422)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    user.require(Action::ImportExport)?;
    let job = state.imports().get(&user, &id)?;
    let fields = switchboard_import::contact_fields(state.store()).await.map_err(file_error)?;
    let map = column_map(&fields, &job, &body.mapping)?;
    let region = state.config().region;
    let (ok, rejections) = check_rows(&job.table, &map, region);
    let errors: HashMap<u64, String> = rejections
        .iter()
        .take_while(|r| r.line <= job.table.rows.get(9).map_or(u64::MAX, |r| r.0))
        .map(|r| (r.line, format!("{}: {}", r.field, r.reason)))
        .collect();
    let rows = job
        .table
        .rows
        .iter()
        .take(10)
        .map(|(line, cells)| PreviewRow {
            line: *line,
            cells: cells.clone(),
            error: errors.get(line).cloned(),
        })
        .collect();
    Ok(Json(Preview { ok, rejected: rejections.len() as u64, rows, ignored: map.ignored() }))
}

/// How to run the import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunRequest {
    /// One target key per column.
    mapping: Vec<String>,
    /// `merge` (default: add new phones, emails and empty fields to the existing contact),
    /// `skip` or `create`.
    on_duplicate: Option<String>,
    /// Login of the owner of rows without an owner column.
    default_owner: Option<String>,
}

/// Where an import stands.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportStatus {
    id: String,
    name: String,
    /// uploaded, running, done or failed.
    status: &'static str,
    rows: u64,
    /// Rows handled so far.
    processed: u64,
    created: u64,
    merged: u64,
    unchanged: u64,
    skipped: u64,
    rejected: u64,
    blank: u64,
    /// The first 500 lines of the row report (every row not simply created): `line`,
    /// `result` (rejected, merged, unchanged, skipped), `contact_id`, `field`, `reason`.
    #[schema(value_type = Vec<Object>)]
    report: Vec<ReportLine>,
    /// Why the run failed.
    error: Option<String>,
}

/// Starts the import; poll `GET /api/imports/{id}` for progress.
#[utoipa::path(post, path = "/api/imports/{id}/run", request_body = RunRequest, tag = "import", responses((status = 202, body = ImportStatus), (status = 404), (status = 409), (status = 422)))]
pub(crate) async fn run(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RunRequest>,
) -> ApiResult<(StatusCode, Json<ImportStatus>)> {
    user.require(Action::ImportExport)?;
    let job = state.imports().get(&user, &id)?;
    let fields = switchboard_import::contact_fields(state.store()).await.map_err(file_error)?;
    let map = column_map(&fields, &job, &body.mapping)?;
    let on_duplicate = match body.on_duplicate.as_deref().unwrap_or("merge") {
        "merge" => OnDuplicate::Merge,
        "skip" => OnDuplicate::Skip,
        "create" => OnDuplicate::Create,
        other => {
            return Err(ApiError::invalid_input(
                "on_duplicate",
                "expected merge, skip or create",
                other,
            ));
        }
    };
    let default_owner = body.default_owner.filter(|o| !o.trim().is_empty());
    if let Some(login) = &default_owner
        && !state.store().list_users().await?.iter().any(|u| u.login.eq_ignore_ascii_case(login))
    {
        return Err(ApiError::invalid_input(
            "default_owner",
            "no user with this login",
            login.clone(),
        ));
    }
    {
        let mut current = job.state.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(*current, JobState::Uploaded) {
            return Err(ApiError::Conflict(
                "this file was already imported; upload it again to re-run".into(),
            ));
        }
        *current = JobState::Running;
    }
    let options = ImportOptions {
        on_duplicate,
        default_owner,
        region: state.config().region,
        batch_rows: Some(BROWSER_BATCH),
    };
    let (store, actor, task_job) = (state.store().clone(), user.actor(), job.clone());
    tokio::spawn(async move {
        let job = task_job;
        let result = import_table(&store, &actor, &job.table, &map, &options, &|rows| {
            job.processed.fetch_add(rows, Ordering::Relaxed);
        })
        .await;
        let next = match result {
            Ok(summary) => {
                let detail = serde_json::json!({"file": job.name, "rows": summary.rows, "created": summary.created, "merged": summary.merged, "skipped": summary.skipped, "rejected": summary.rejected.len()});
                if let Err(e) =
                    store.audit_event(&actor, "contact.import_file", "contact", None, detail).await
                {
                    tracing::warn!(error = %e, "cannot audit-log an import");
                }
                JobState::Done(Box::new(summary))
            }
            Err(e) => {
                tracing::warn!(import = %job.id, error = %e, "import failed");
                JobState::Failed(e.to_string())
            }
        };
        *job.state.lock().unwrap_or_else(|e| e.into_inner()) = next;
    });
    Ok((StatusCode::ACCEPTED, Json(job_status(&job))))
}

fn job_status(job: &ImportJob) -> ImportStatus {
    let state = job.state.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = ImportStatus {
        id: job.id.clone(),
        name: job.name.clone(),
        status: "uploaded",
        rows: job.table.rows.len() as u64,
        processed: job.processed.load(Ordering::Relaxed),
        created: 0,
        merged: 0,
        unchanged: 0,
        skipped: 0,
        rejected: 0,
        blank: 0,
        report: Vec::new(),
        error: None,
    };
    match &*state {
        JobState::Uploaded => {}
        JobState::Running => out.status = "running",
        JobState::Failed(e) => {
            out.status = "failed";
            out.error = Some(e.clone());
        }
        JobState::Done(s) => {
            out.status = "done";
            out.processed = out.rows;
            (out.created, out.merged, out.unchanged, out.skipped, out.rejected, out.blank) =
                (s.created, s.merged, s.unchanged, s.skipped, s.rejected.len() as u64, s.blank);
            out.report = s.report().into_iter().take(500).collect();
        }
    }
    out
}

/// Progress and, once done, the counts and the first lines of the row report.
#[utoipa::path(get, path = "/api/imports/{id}", tag = "import", responses((status = 200, body = ImportStatus), (status = 404)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportStatus>> {
    user.require(Action::ImportExport)?;
    let job = state.imports().get(&user, &id)?;
    Ok(Json(job_status(&job)))
}

/// The whole row report as CSV: `line,result,contact_id,field,reason`.
#[utoipa::path(get, path = "/api/imports/{id}/report", tag = "import", responses((status = 200, content_type = "text/csv"), (status = 404), (status = 409)))]
pub(crate) async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user.require(Action::ImportExport)?;
    let job = state.imports().get(&user, &id)?;
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    match &*job.state.lock().unwrap_or_else(|e| e.into_inner()) {
        JobState::Done(summary) => {
            summary.write_report(&mut bytes).map_err(|e| ApiError::Internal(e.to_string()))?
        }
        _ => return Err(ApiError::Conflict("the import has not finished".into())),
    }
    let stem = job.name.rsplit_once('.').map_or(job.name.as_str(), |(s, _)| s);
    Ok(download(SheetFormat::Csv, &format!("{stem}.report"), bytes))
}

pub(super) fn download(format: SheetFormat, stem: &str, bytes: Vec<u8>) -> Response {
    // ASCII fallback name plus the UTF-8 one (RFC 6266), so Cyrillic names survive.
    let ascii: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    let utf8: String = form_urlencoded::byte_serialize(stem.as_bytes()).collect();
    let ext = format.extension();
    let disposition =
        format!("attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{utf8}.{ext}");
    ([(CONTENT_TYPE, format.content_type().to_owned()), (CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}
