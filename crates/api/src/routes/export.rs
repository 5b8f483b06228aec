//! `/api/export/{list}`: any filtered list of contacts, companies or deals as CSV or XLSX, in
//! the reader's language (headers, words, numbers and dates as their spreadsheet reads them).

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_core::entity::{Company, Contact, Deal};
use switchboard_import::{
    Cell, ExportRow, SheetFormat, SheetLocale, contact_cells, contact_headers,
};
use switchboard_store::{Page, PageRequest};

use super::transfer::{download, file_error};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, QueryParams, parse_query};
use crate::i18n::{Lang, t};

/// The most rows one export writes (it is built in memory).
const EXPORT_LIMIT: usize = 200_000;

/// `?format=csv|xlsx` plus the list's own filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// csv (default) or xlsx.
    format: Option<String>,
}

/// Reads every page of a list (up to [`EXPORT_LIMIT`] rows).
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, switchboard_store::StoreError>>,
{
    let mut out = Vec::new();
    for n in 1.. {
        let got = page(PageRequest::new(Some(n), Some(PageRequest::MAX_PER_PAGE))).await?;
        if got.total > EXPORT_LIMIT as i64 {
            return Err(ApiError::invalid(
                "query",
                format!(
                    "{} rows match; narrow the filter to at most {EXPORT_LIMIT}, or use `switchboard export contacts`",
                    got.total
                ),
            ));
        }
        let done = got.items.len() < PageRequest::MAX_PER_PAGE as usize;
        out.extend(got.items);
        if done {
            break;
        }
    }
    Ok(out)
}

/// Exports a filtered list of `contacts`, `companies` or `deals` (manager, admin) with the
/// same filters as the list itself. Contacts come out in the layout the import reads back.
#[utoipa::path(get, path = "/api/export/{list}", params(ExportQuery), tag = "import",
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    request_headers: axum::http::HeaderMap,
    Path(list): Path<String>,
    QueryParams(q): QueryParams<ExportQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    user.require(Action::ImportExport)?;
    let lang = Lang::of_request(user.0.language.as_deref(), &request_headers);
    let format_name = q.format.unwrap_or_else(|| "csv".to_owned());
    let format = SheetFormat::parse(&format_name).ok_or_else(|| {
        ApiError::invalid_input("format", "expected csv or xlsx", format_name.clone())
    })?;
    // The list's own query struct reads the filters, without the format and paging.
    let pairs = crate::extract::form_pairs(raw.as_deref().unwrap_or(""));
    let rest: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(k, _)| k != "format" && k != "page" && k != "per_page"))
        .finish();
    let users: HashMap<String, String> =
        state.store().list_users().await?.into_iter().map(|u| (u.id, u.login)).collect();
    let login = |id: &Option<String>| Cell::from(id.as_ref().and_then(|id| users.get(id).cloned()));
    let store = state.store();
    let (headers, rows, (list_name, entity)) = match list.as_str() {
        "contacts" => {
            let query: super::contacts::ListQuery = parse_query(&rest)?;
            let filter = query.filter(&state, Some(&rest))?;
            let contacts: Vec<Contact> = all_pages(|p| store.list_contacts(&filter, p)).await?;
            let keys: Vec<String> = switchboard_import::contact_fields(store)
                .await
                .map_err(file_error)?
                .into_iter()
                .map(|d| d.key)
                .collect();
            let companies =
                company_names(&state, contacts.iter().filter_map(|c| c.company_id.clone())).await?;
            let rows: Vec<Vec<Cell>> = contacts
                .into_iter()
                .map(|contact| {
                    let company =
                        contact.company_id.as_ref().and_then(|id| companies.get(id).cloned());
                    let owner_login =
                        contact.owner_id.as_ref().and_then(|id| users.get(id).cloned());
                    let created_at = contact.created_at;
                    let mut cells: Vec<Cell> =
                        contact_cells(&ExportRow { contact, company, owner_login }, &keys)
                            .into_iter()
                            .map(Cell::from)
                            .collect();
                    if let Some(cell) = cells.get_mut(CONTACT_CREATED_AT) {
                        *cell = Cell::Time(created_at);
                    }
                    cells
                })
                .collect();
            // Headers in the reader's words, which the import reads back (custom fields by
            // their label).
            let labels = switchboard_import::contact_fields(store).await.map_err(file_error)?;
            let headers = contact_headers(&keys)
                .into_iter()
                .map(|h| match h.strip_prefix("custom.") {
                    Some(key) => labels
                        .iter()
                        .find(|d| d.key == key)
                        .map_or_else(|| h.clone(), |d| d.label.clone()),
                    None => column(lang, &h),
                })
                .collect();
            (headers, rows, ("contacts", "contact"))
        }
        "companies" => {
            let query: super::companies::ListQuery = parse_query(&rest)?;
            let filter = query.filter(Some(&rest));
            let companies: Vec<Company> = all_pages(|p| store.list_companies(&filter, p)).await?;
            let keys = custom_keys(companies.iter().map(|c| &c.custom));
            let mut headers: Vec<String> =
                ["id", "name", "tax_id", "website", "address", "owner", "created_at"]
                    .iter()
                    .map(|h| column(lang, h))
                    .collect();
            headers.extend(keys.iter().map(|k| format!("custom.{k}")));
            let rows = companies
                .iter()
                .map(|c| {
                    let mut row = vec![
                        c.id.clone().into(),
                        c.name.clone().into(),
                        c.tax_id.clone().into(),
                        c.website.clone().into(),
                        c.address.clone().into(),
                        login(&c.owner_id),
                        Cell::Time(c.created_at),
                    ];
                    row.extend(keys.iter().map(|k| custom_cell(c.custom.get(k))));
                    row
                })
                .collect();
            (headers, rows, ("companies", "company"))
        }
        "deals" => {
            let query: super::deals::ListQuery = parse_query(&rest)?;
            let filter = query.filter(Some(&rest));
            let deals: Vec<Deal> = all_pages(|p| store.list_deals(&filter, p)).await?;
            let stages: HashMap<String, String> = store
                .list_stages()
                .await?
                .into_iter()
                .map(|s| {
                    let name = match &s.key {
                        Some(key) => t(lang, &format!("stage_{key}")),
                        None => s.name,
                    };
                    (s.id, name)
                })
                .collect();
            let companies =
                company_names(&state, deals.iter().filter_map(|d| d.company_id.clone())).await?;
            let keys = custom_keys(deals.iter().map(|d| &d.custom));
            let mut headers: Vec<String> = [
                "id",
                "title",
                "stage",
                "status",
                "amount",
                "currency",
                "probability",
                "contact_id",
                "company",
                "owner",
                "loss_reason",
                "competitor",
                "created_at",
                "closed_at",
            ]
            .iter()
            .map(|h| column(lang, h))
            .collect();
            headers.extend(keys.iter().map(|k| format!("custom.{k}")));
            let rows = deals
                .iter()
                .map(|d| {
                    let mut row = vec![
                        d.id.clone().into(),
                        d.title.clone().into(),
                        stages.get(&d.stage_id).cloned().into(),
                        t(lang, &format!("deal_status_{}", d.status.as_str())).into(),
                        d.amount_minor.map_or(Cell::Empty, |a| Cell::Number(a as f64 / 100.0)),
                        d.currency.clone().into(),
                        d.probability.map_or(Cell::Empty, |p| Cell::Number(p as f64)),
                        d.contact_id.clone().into(),
                        d.company_id.as_ref().and_then(|id| companies.get(id).cloned()).into(),
                        login(&d.owner_id),
                        d.loss_reason
                            .as_ref()
                            .map(|r| {
                                // The system's reasons are keys; an admin's or typed one is text.
                                let key = format!("why_lost_{r}");
                                if crate::i18n::has(&key) { t(lang, &key) } else { r.clone() }
                            })
                            .into(),
                        d.competitor.clone().into(),
                        Cell::Time(d.created_at),
                        d.closed_at.map_or(Cell::Empty, Cell::Time),
                    ];
                    row.extend(keys.iter().map(|k| custom_cell(d.custom.get(k))));
                    row
                })
                .collect();
            (headers, rows, ("deals", "deal"))
        }
        _ => return Err(ApiError::NotFound("export list")),
    };
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        let locale = match lang {
            Lang::Ru => SheetLocale::Russian,
            Lang::En => SheetLocale::English,
        };
        switchboard_import::sheet_bytes(format, locale, &headers, &rows)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(file_error)?;
    let detail = serde_json::json!({"format": format.extension(), "rows": n, "filter": rest});
    state
        .store()
        .audit_event(&user.actor(), &format!("{entity}.export"), entity, None, detail)
        .await?;
    Ok(download(format, list_name, bytes))
}

/// Where the contacts' export has its creation time (see `EXPORT_HEADERS`).
const CONTACT_CREATED_AT: usize = 9;

/// A column's header in the reader's language (`col_<field>` in the catalogue).
fn column(lang: Lang, field: &str) -> String {
    t(lang, &format!("col_{field}"))
}

async fn company_names(
    state: &AppState,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, ApiError> {
    let mut names = HashMap::new();
    for id in ids {
        if !names.contains_key(&id)
            && let Ok(company) = state.store().get_company(&id).await
        {
            names.insert(id, company.name);
        }
    }
    Ok(names)
}

fn custom_keys<'a>(
    values: impl Iterator<Item = &'a switchboard_core::entity::CustomValues>,
) -> Vec<String> {
    let mut keys: Vec<String> = values.flat_map(|v| v.keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn custom_cell(value: Option<&serde_json::Value>) -> Cell {
    match value {
        None | Some(serde_json::Value::Null) => Cell::Empty,
        Some(serde_json::Value::String(s)) => Cell::Text(s.clone()),
        Some(serde_json::Value::Number(n)) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Some(other) => Cell::Text(other.to_string()),
    }
}
