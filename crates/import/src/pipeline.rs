//! Writing a read table to the store: parse each row, resolve owners and companies, and hand
//! batches to the store's bulk import, overlapping parsing with writing. The command line and
//! the browser import both come through here; each brings its own progress display.

use std::collections::{HashMap, HashSet, VecDeque};

use switchboard_core::{EntityKind, Region};
use switchboard_store::{
    Actor, Backend, ImportDecision, ImportOutcome, ImportRow, OnDuplicate, Store, StoreError,
};

use crate::{ColumnMap, ImportError, Rejection, Table, parse_row};

/// Rows written per store transaction: on SQLite one large transaction at a time (the
/// phone, email and company indexes take random inserts, and a bigger transaction writes each
/// touched index page to the WAL once instead of once per small batch); on PostgreSQL two
/// smaller ones at once on two connections.
pub fn import_batch(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 50_000,
        Backend::Postgres => 10_000,
    }
}

/// Options of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// What to do with rows matching an existing contact.
    pub on_duplicate: OnDuplicate,
    /// Owner (login) for rows without an owner column.
    pub default_owner: Option<String>,
    /// Region for numbers without a country code.
    pub region: Region,
    /// Rows per store transaction; `None` for [`import_batch`]. Smaller batches make a
    /// progress bar move more often at some cost in speed.
    pub batch_rows: Option<usize>,
}

/// What an import did, row by row.
#[derive(Debug, Default, Clone)]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: u64,
    /// New contacts.
    pub created: u64,
    /// Rows merged into a contact and adding data to it.
    pub merged: u64,
    /// Rows matching a contact that already had all their data.
    pub unchanged: u64,
    /// Rows skipped as duplicates (on-duplicate = skip).
    pub skipped: u64,
    /// Blank rows.
    pub blank: u64,
    /// Refused rows, with line and reason, by line.
    pub rejected: Vec<Rejection>,
    /// Outcome per accepted row.
    pub outcomes: Vec<ImportOutcome>,
    /// Columns not imported.
    pub ignored_columns: Vec<String>,
}

/// One line of the row report: every row that was not simply created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReportLine {
    /// Line in the file.
    pub line: u64,
    /// rejected, merged, unchanged or skipped.
    pub result: &'static str,
    /// The contact the row went to, if any.
    pub contact_id: String,
    /// The column at fault, for rejected rows.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl ImportSummary {
    /// The row report, by line.
    pub fn report(&self) -> Vec<ReportLine> {
        let mut lines: Vec<ReportLine> = self
            .rejected
            .iter()
            .map(|r| ReportLine {
                line: r.line,
                result: "rejected",
                contact_id: String::new(),
                field: r.field.clone(),
                reason: r.reason.clone(),
            })
            .collect();
        for o in &self.outcomes {
            let (result, contact_id, reason) = match &o.decision {
                ImportDecision::Created { .. } | ImportDecision::Rejected { .. } => continue,
                ImportDecision::Merged { id, changed, matched_on } => (
                    if *changed { "merged" } else { "unchanged" },
                    id.clone(),
                    format!("matched on {matched_on}"),
                ),
                ImportDecision::Skipped { existing_id, matched_on } => (
                    "skipped",
                    existing_id.clone(),
                    format!("duplicate of {existing_id} on {matched_on}"),
                ),
            };
            lines.push(ReportLine {
                line: o.line,
                result,
                contact_id,
                field: String::new(),
                reason,
            });
        }
        lines.sort_by_key(|l| l.line);
        lines
    }

    /// The row report as CSV (`line,result,contact_id,field,reason`).
    pub fn write_report<W: std::io::Write>(&self, out: W) -> Result<(), ImportError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(["line", "result", "contact_id", "field", "reason"])?;
        for l in self.report() {
            writer.write_record([
                l.line.to_string().as_str(),
                l.result,
                &l.contact_id,
                &l.field,
                &l.reason,
            ])?;
        }
        writer
            .flush()
            .map_err(|e| ImportError::Write { path: "report".into(), reason: e.to_string() })?;
        Ok(())
    }
}

/// Imports the rows of `table` as `map` reads them. `progress` is called with the number of
/// rows each written batch held (rows refused before the store count as soon as they are read).
pub async fn import_table(
    store: &Store,
    actor: &Actor,
    table: &Table,
    map: &ColumnMap,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportSummary, ImportError> {
    let logins: HashMap<String, String> =
        store.list_users().await?.into_iter().map(|u| (u.login.to_lowercase(), u.id)).collect();
    let default_owner = match &options.default_owner {
        Some(login) => Some(
            logins
                .get(&login.to_lowercase())
                .cloned()
                .ok_or_else(|| ImportError::UnknownOwner(login.clone()))?,
        ),
        None => None,
    };
    let mut summary = ImportSummary {
        rows: table.rows.len() as u64,
        ignored_columns: map.ignored(),
        ..Default::default()
    };
    let batch_rows = options.batch_rows.unwrap_or_else(|| import_batch(store.backend())).max(1);
    let mut batch: Vec<ImportRow> = Vec::with_capacity(batch_rows.min(table.rows.len()));
    // Batches are written while the next ones are parsed. SQLite has one writer, so there
    // one batch is in flight; PostgreSQL writes two at once on two connections. Dedupe stays
    // exact: a batch sharing a phone or email with one still in flight waits for it (see
    // `Pipeline::start`), the store locks existing contacts it merges into, and companies are
    // created before each batch starts, one batch at a time.
    let mut pipeline = Pipeline::new(match store.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    });
    let mut refused_unreported = 0u64;
    for (line, cells) in &table.rows {
        match parse_row(map, *line, cells, options.region) {
            Ok(None) => {
                summary.blank += 1;
                refused_unreported += 1;
            }
            Err(rejection) => {
                summary.rejected.push(rejection);
                refused_unreported += 1;
            }
            Ok(Some(row)) => {
                let mut contact = row.contact;
                contact.owner_id = match &row.owner_login {
                    Some(login) => match logins.get(&login.to_lowercase()) {
                        Some(id) => Some(id.clone()),
                        None => {
                            summary.rejected.push(Rejection {
                                line: *line,
                                field: "owner".into(),
                                reason: format!("no user with login {login}"),
                            });
                            refused_unreported += 1;
                            continue;
                        }
                    },
                    None => default_owner.clone(),
                };
                batch.push(ImportRow { line: row.line, contact, company_name: row.company_name });
            }
        }
        if batch.len() >= batch_rows {
            progress(std::mem::take(&mut refused_unreported));
            pipeline
                .start(
                    store,
                    actor,
                    std::mem::take(&mut batch),
                    options.on_duplicate,
                    &mut summary,
                    progress,
                )
                .await?;
        }
    }
    progress(refused_unreported);
    if !batch.is_empty() {
        pipeline.start(store, actor, batch, options.on_duplicate, &mut summary, progress).await?;
    }
    pipeline.finish(&mut summary, progress).await?;
    if summary.created + summary.merged > 0 {
        store.analyze_contacts().await?;
    }
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}

/// A dry run for previews: how many rows of `table` parse as `map` reads them, and every
/// rejection, without touching the store (owners and duplicates are checked on the real run).
pub fn check_rows(table: &Table, map: &ColumnMap, region: Region) -> (u64, Vec<Rejection>) {
    let mut ok = 0;
    let mut rejected = Vec::new();
    for (line, cells) in &table.rows {
        match parse_row(map, *line, cells, region) {
            Ok(Some(_)) => ok += 1,
            Ok(None) => {}
            Err(r) => rejected.push(r),
        }
    }
    (ok, rejected)
}

type BatchTask = tokio::task::JoinHandle<Result<Vec<ImportOutcome>, StoreError>>;

/// A batch being written: its phones and emails, its row count and its task.
struct InFlight {
    keys: HashSet<String>,
    count: u64,
    task: BatchTask,
}

/// Import batches in flight, oldest first.
struct Pipeline {
    max: usize,
    in_flight: VecDeque<InFlight>,
}

impl Pipeline {
    fn new(max: usize) -> Pipeline {
        Pipeline { max: max.max(1), in_flight: VecDeque::new() }
    }

    /// Starts writing `rows` once no batch in flight shares a phone or email with them and
    /// there is room.
    async fn start(
        &mut self,
        store: &Store,
        actor: &Actor,
        rows: Vec<ImportRow>,
        on_duplicate: OnDuplicate,
        summary: &mut ImportSummary,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ImportError> {
        let keys: HashSet<String> = rows
            .iter()
            .flat_map(|r| {
                r.contact
                    .phones
                    .iter()
                    .map(|p| p.number.e164().to_owned())
                    .chain(r.contact.emails.iter().cloned())
            })
            .collect();
        while let Some(last_conflict) =
            self.in_flight.iter().rposition(|f| !f.keys.is_disjoint(&keys))
        {
            for _ in 0..=last_conflict {
                self.collect_oldest(summary, progress).await?;
            }
        }
        while self.in_flight.len() >= self.max {
            self.collect_oldest(summary, progress).await?;
        }
        let names: Vec<String> = rows.iter().filter_map(|r| r.company_name.clone()).collect();
        store.ensure_companies(actor, &names).await?;
        let (store, actor) = (store.clone(), actor.clone());
        let count = rows.len() as u64;
        let task =
            tokio::spawn(async move { store.import_contacts(&actor, rows, on_duplicate).await });
        self.in_flight.push_back(InFlight { keys, count, task });
        Ok(())
    }

    async fn collect_oldest(
        &mut self,
        summary: &mut ImportSummary,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ImportError> {
        let Some(batch) = self.in_flight.pop_front() else { return Ok(()) };
        let outcomes = batch.task.await.map_err(|e| ImportError::Task(e.to_string()))??;
        for outcome in outcomes {
            match &outcome.decision {
                ImportDecision::Created { .. } => summary.created += 1,
                ImportDecision::Merged { changed: true, .. } => summary.merged += 1,
                ImportDecision::Merged { changed: false, .. } => summary.unchanged += 1,
                ImportDecision::Skipped { .. } => summary.skipped += 1,
                ImportDecision::Rejected { field, reason } => {
                    summary.rejected.push(Rejection {
                        line: outcome.line,
                        field: field.clone(),
                        reason: reason.clone(),
                    });
                    continue;
                }
            }
            summary.outcomes.push(outcome);
        }
        progress(batch.count);
        Ok(())
    }

    async fn finish(
        &mut self,
        summary: &mut ImportSummary,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ImportError> {
        while !self.in_flight.is_empty() {
            self.collect_oldest(summary, progress).await?;
        }
        Ok(())
    }
}

/// Store contact custom field definitions (for [`crate::map_columns`]).
pub async fn contact_fields(
    store: &Store,
) -> Result<Vec<switchboard_core::CustomFieldDef>, ImportError> {
    Ok(store.list_custom_fields(Some(EntityKind::Contact)).await?)
}
