//! `switchboard import contacts FILE` and `export contacts FILE`: the file side is in the
//! `switchboard-import` crate, dedupe and merging in the store; this wires them with a
//! progress bar and a report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use switchboard_core::{EntityKind, Region};
use switchboard_import::{
    ExportRow, contact_fields, import_table, map_columns, read_table, write_contacts,
};
use switchboard_store::{Actor, OnDuplicate, Store};

pub use switchboard_import::{ImportSummary, import_batch};

/// Options of one import from the command line.
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

/// Imports a CSV/XLSX/ODS file of contacts, columns guessed from the headers.
pub async fn import_contacts_file(
    store: &Store,
    actor: &Actor,
    path: &Path,
    options: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let table = read_table(path)?;
    let map = map_columns(&table.headers, &contact_fields(store).await?)?;
    let bar = if options.progress {
        ProgressBar::new(table.rows.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let run = switchboard_import::ImportOptions {
        on_duplicate: options.on_duplicate,
        default_owner: options.default_owner.clone(),
        region: options.region,
        batch_rows: None,
    };
    let summary = import_table(store, actor, &table, &map, &run, &|rows| bar.inc(rows)).await?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Writes the per-row report: every row that was not simply created.
pub fn write_report(summary: &ImportSummary, path: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    summary.write_report(std::io::BufWriter::new(file))?;
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
    let custom_keys: Vec<String> = store
        .list_custom_fields(Some(EntityKind::Contact))
        .await?
        .into_iter()
        .map(|d| d.key)
        .collect();
    let logins: HashMap<String, String> =
        store.list_users().await?.into_iter().map(|u| (u.id, u.login)).collect();
    let mut companies: HashMap<String, String> = HashMap::new();
    // The writer is synchronous: run it on a blocking thread and feed it batches through a
    // bounded channel, so memory stays at a few batches whatever the table size.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ExportRow>>(4);
    let out = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || {
        write_contacts(&out, &custom_keys, || Ok(rx.blocking_recv().unwrap_or_default()))
    });
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
