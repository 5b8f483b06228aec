//! `switchboard import contacts FILE` and `export contacts FILE`: the file side is in the
//! `switchboard-import` crate, dedupe and merging in the store; this wires them with a
//! progress bar and a report.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use switchboard_core::{EntityKind, Region};
use switchboard_import::{ExportRow, Rejection, map_columns, parse_row, read_table, write_contacts};
use switchboard_store::{Actor, Backend, ImportDecision, ImportOutcome, ImportRow, OnDuplicate, Store};

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
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What to do with rows matching an existing contact.
    pub on_duplicate: OnDuplicate,
    /// Owner (login) for rows without an owner column.
    pub default_owner: Option<String>,
    /// Region for numbers without a country code.
    pub region: Region,
    /// Draw a progress bar.
    pub progress: bool,
}

/// What an import did, row by row.
#[derive(Debug, Default)]
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
    /// Refused rows, with line and reason.
    pub rejected: Vec<Rejection>,
    /// Outcome per accepted row.
    pub outcomes: Vec<ImportOutcome>,
    /// Columns not imported.
    pub ignored_columns: Vec<String>,
}

/// Imports a CSV/XLSX/ODS file of contacts.
pub async fn import_contacts_file(store: &Store, actor: &Actor, path: &Path, options: &ImportOptions) -> anyhow::Result<ImportSummary> {
    let table = read_table(path)?;
    let defs = store.list_custom_fields(Some(EntityKind::Contact)).await?;
    let map = map_columns(&table.headers, &defs)?;
    let logins: HashMap<String, String> = store.list_users().await?.into_iter().map(|u| (u.login.to_lowercase(), u.id)).collect();
    let default_owner = match &options.default_owner {
        Some(login) => Some(logins.get(&login.to_lowercase()).cloned().with_context(|| format!("no user with login {login}"))?),
        None => None,
    };
    let mut summary = ImportSummary { rows: table.rows.len() as u64, ignored_columns: map.ignored(), ..Default::default() };
    let bar = if options.progress { ProgressBar::new(summary.rows) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()));

    let batch_rows = import_batch(store.backend());
    let mut batch: Vec<ImportRow> = Vec::with_capacity(batch_rows);
    // Batches are written while the next ones are parsed. SQLite has one writer, so there
    // one batch is in flight; PostgreSQL writes two at once on two connections. Dedupe stays
    // exact: a batch sharing a phone or email with one still in flight waits for it (see
    // `Pipeline::start`), the store locks existing contacts it merges into, and companies are
    // created before each batch starts, one batch at a time.
    let mut pipeline = Pipeline::new(match store.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    });
    for (line, cells) in &table.rows {
        match parse_row(&map, *line, cells, options.region) {
            Ok(None) => summary.blank += 1,
            Err(rejection) => summary.rejected.push(rejection),
            Ok(Some(row)) => {
                let mut contact = row.contact;
                contact.owner_id = match &row.owner_login {
                    Some(login) => match logins.get(&login.to_lowercase()) {
                        Some(id) => Some(id.clone()),
                        None => {
                            summary.rejected.push(Rejection { line: *line, field: "owner".into(), reason: format!("no user with login {login}") });
                            continue;
                        }
                    },
                    None => default_owner.clone(),
                };
                batch.push(ImportRow { line: row.line, contact, company_name: row.company_name });
            }
        }
        if batch.len() >= batch_rows {
            pipeline.start(store, actor, std::mem::take(&mut batch), options.on_duplicate, &mut summary, &bar).await?;
        }
    }
    if !batch.is_empty() {
        pipeline.start(store, actor, batch, options.on_duplicate, &mut summary, &bar).await?;
    }
    pipeline.finish(&mut summary, &bar).await?;
    if summary.created + summary.merged > 0 {
        store.analyze_contacts().await.context("cannot refresh statistics")?;
    }
    bar.finish_and_clear();
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}

type BatchTask = tokio::task::JoinHandle<Result<Vec<ImportOutcome>, switchboard_store::StoreError>>;

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
    async fn start(&mut self, store: &Store, actor: &Actor, rows: Vec<ImportRow>, on_duplicate: OnDuplicate, summary: &mut ImportSummary, bar: &ProgressBar) -> anyhow::Result<()> {
        let keys: HashSet<String> = rows.iter().flat_map(|r| r.contact.phones.iter().map(|p| p.number.e164().to_owned()).chain(r.contact.emails.iter().cloned())).collect();
        while let Some(last_conflict) = self.in_flight.iter().rposition(|f| !f.keys.is_disjoint(&keys)) {
            for _ in 0..=last_conflict {
                self.collect_oldest(summary, bar).await?;
            }
        }
        while self.in_flight.len() >= self.max {
            self.collect_oldest(summary, bar).await?;
        }
        let names: Vec<String> = rows.iter().filter_map(|r| r.company_name.clone()).collect();
        store.ensure_companies(actor, &names).await.context("cannot create the import's companies")?;
        let (store, actor) = (store.clone(), actor.clone());
        let count = rows.len() as u64;
        let task = tokio::spawn(async move { store.import_contacts(&actor, rows, on_duplicate).await });
        self.in_flight.push_back(InFlight { keys, count, task });
        Ok(())
    }

    async fn collect_oldest(&mut self, summary: &mut ImportSummary, bar: &ProgressBar) -> anyhow::Result<()> {
        match self.in_flight.pop_front() {
            Some(batch) => collect(batch.count, batch.task, summary, bar).await,
            None => Ok(()),
        }
    }

    async fn finish(&mut self, summary: &mut ImportSummary, bar: &ProgressBar) -> anyhow::Result<()> {
        while !self.in_flight.is_empty() {
            self.collect_oldest(summary, bar).await?;
        }
        Ok(())
    }
}

async fn collect(count: u64, task: BatchTask, summary: &mut ImportSummary, bar: &ProgressBar) -> anyhow::Result<()> {
    let outcomes = task.await.context("import task failed")?.context("import batch failed")?;
    for outcome in outcomes {
        match &outcome.decision {
            ImportDecision::Created { .. } => summary.created += 1,
            ImportDecision::Merged { changed: true, .. } => summary.merged += 1,
            ImportDecision::Merged { changed: false, .. } => summary.unchanged += 1,
            ImportDecision::Skipped { .. } => summary.skipped += 1,
            ImportDecision::Rejected { field, reason } => {
                summary.rejected.push(Rejection { line: outcome.line, field: field.clone(), reason: reason.clone() });
                continue;
            }
        }
        summary.outcomes.push(outcome);
    }
    bar.inc(count);
    Ok(())
}

/// Writes the per-row report: every row that was not simply created.
pub fn write_report(summary: &ImportSummary, path: &Path) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    writer.write_record(["line", "result", "contact_id", "field", "reason"])?;
    let mut lines: Vec<(u64, [String; 4])> = Vec::new();
    for r in &summary.rejected {
        lines.push((r.line, ["rejected".into(), String::new(), r.field.clone(), r.reason.clone()]));
    }
    for o in &summary.outcomes {
        let record = match &o.decision {
            ImportDecision::Created { .. } | ImportDecision::Rejected { .. } => continue,
            ImportDecision::Merged { id, changed, matched_on } => [if *changed { "merged" } else { "unchanged" }.into(), id.clone(), String::new(), format!("matched on {matched_on}")],
            ImportDecision::Skipped { existing_id, matched_on } => ["skipped".into(), existing_id.clone(), String::new(), format!("duplicate of {existing_id} on {matched_on}")],
        };
        lines.push((o.line, record));
    }
    lines.sort_by_key(|(line, _)| *line);
    for (line, [result, id, field, reason]) in lines {
        writer.write_record([line.to_string(), result, id, field, reason])?;
    }
    writer.flush()?;
    Ok(())
}

/// The default report path: next to the file, `<name>.report.csv`.
pub fn default_report_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".report.csv");
    file.with_file_name(name)
}

/// Exports every contact to CSV or XLSX; returns how many.
pub async fn export_contacts_file(store: &Store, path: &Path) -> anyhow::Result<u64> {
    let custom_keys: Vec<String> = store.list_custom_fields(Some(EntityKind::Contact)).await?.into_iter().map(|d| d.key).collect();
    let logins: HashMap<String, String> = store.list_users().await?.into_iter().map(|u| (u.id, u.login)).collect();
    let mut companies: HashMap<String, String> = HashMap::new();
    // The writer is synchronous: run it on a blocking thread and feed it batches through a
    // bounded channel, so memory stays at a few batches whatever the table size.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ExportRow>>(4);
    let out = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || write_contacts(&out, &custom_keys, || Ok(rx.blocking_recv().unwrap_or_default())));
    let mut after: Option<String> = None;
    loop {
        let contacts = store.contacts_after(after.as_deref(), 1000).await?;
        let Some(last) = contacts.last() else { break };
        after = Some(last.id.clone());
        let mut rows = Vec::with_capacity(contacts.len());
        for contact in contacts {
            let company = match &contact.company_id {
                Some(id) => match companies.get(id) {
                    Some(name) => Some(name.clone()),
                    None => {
                        let name = store.get_company(id).await.map(|c| c.name).ok();
                        if let Some(n) = &name {
                            companies.insert(id.clone(), n.clone());
                        }
                        name
                    }
                },
                None => None,
            };
            let owner_login = contact.owner_id.as_ref().and_then(|id| logins.get(id).cloned());
            rows.push(ExportRow { contact, company, owner_login });
        }
        if tx.send(rows).await.is_err() {
            break; // the writer failed; its error is reported below
        }
    }
    drop(tx);
    let count = writer.await.context("export writer thread failed")??;
    Ok(count)
}
