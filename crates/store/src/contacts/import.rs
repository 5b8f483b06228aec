//! Bulk import of contacts, a batch at a time, with the same duplicate rule as the API:
//! a row whose phone or email already belongs to a contact is merged into it (or skipped, or
//! created anyway, as the caller chooses), never silently dropped. A row with neither a phone
//! nor an email matches a contact of the same name (last, first, middle, as written) and the
//! same company (or both none). Re-running a file changes nothing the second time: every row
//! then finds its contact and merges no new data.
//!
//! Speed comes from doing per batch what would otherwise be per row: one query finds every
//! existing phone and email of the batch, companies are resolved by name once, and new rows
//! are written with multi-row INSERTs in one transaction.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::Contact;
use switchboard_core::text::search_key;
use switchboard_core::{CustomFieldDef, EntityKind, PhoneNumber, new_id};

use super::{NewContact, NewPhone, contact_search_key, dedupe_emails, dedupe_phones};
use crate::sql::Sql;
use crate::{Actor, Backend, Store, StoreError, now_ms};

/// One parsed row of an import file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The row's line number in the file (1-based, the header is line 1).
    pub line: u64,
    /// The contact it describes (`company_id` is ignored; see `company_name`).
    pub contact: NewContact,
    /// The company by name, created if no company has that name.
    pub company_name: Option<String>,
}

/// What to do with a row matching an existing contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    /// Add the row's new phones, emails and empty fields to the existing contact.
    #[default]
    Merge,
    /// Leave the existing contact alone and report the row.
    Skip,
    /// Create a new contact anyway.
    Create,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ImportDecision {
    /// A new contact was created.
    Created {
        /// Its id.
        id: String,
    },
    /// The row matched a contact and its new data was added to it.
    Merged {
        /// The contact's id.
        id: String,
        /// False when the contact already had everything the row holds.
        changed: bool,
        /// What matched, e.g. `phone +79161234567`.
        matched_on: String,
    },
    /// The row matched a contact and was left out (on-duplicate = skip).
    Skipped {
        /// The contact's id.
        existing_id: String,
        /// What matched.
        matched_on: String,
    },
    /// The row was refused.
    Rejected {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
}

/// The decision for one line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    /// The row's line number.
    pub line: u64,
    /// What happened.
    #[serde(flatten)]
    pub decision: ImportDecision,
}

/// A contact written by this batch or merged into, kept in memory until the batch is written.
struct Pending {
    contact: NewContact,
    id: String,
    /// New to the database (else: an existing contact that gained data).
    is_new: bool,
    /// Phones and emails the existing contact already had (not to be inserted again).
    stored_phones: usize,
    stored_emails: usize,
    changed: bool,
    line: u64,
}

impl Store {
    /// Imports one batch of rows (any size; the CLI uses 50,000 on SQLite and 10,000 on
    /// PostgreSQL) in one transaction and
    /// returns one outcome per row, in order.
    pub async fn import_contacts(
        &self,
        actor: &Actor,
        rows: Vec<ImportRow>,
        on_duplicate: OnDuplicate,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        let defs = self.list_custom_fields(Some(EntityKind::Contact)).await?;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Do not wait for the WAL flush at each batch's commit. A crash can lose the last
            // few batches' rows, but never half a batch; the import is idempotent and its
            // report is only written once every batch has returned, so re-running the file
            // after a crash completes it. (SQLite in WAL mode with synchronous=NORMAL already
            // behaves this way.)
            sqlx::query("SET LOCAL synchronous_commit TO OFF").execute(&mut *tx).await?;
        } else {
            // The phone, email and company indexes take random inserts; at a million contacts
            // they outgrow the usual 64 MiB page cache. Give the importing connection room
            // (pages are only allocated as they are used).
            sqlx::query("PRAGMA cache_size = -262144").execute(&mut *tx).await?;
        }

        // Who already has the batch's phones and emails?
        let all_phones: Vec<String> = rows
            .iter()
            .flat_map(|r| r.contact.phones.iter().map(|p| p.number.e164().to_owned()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let all_emails: Vec<String> = rows
            .iter()
            .flat_map(|r| r.contact.emails.iter().cloned())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut phone_owner = ids_by_value(
            &mut tx,
            self.backend,
            "SELECT e164, contact_id FROM contact_phones WHERE e164 IN ",
            &all_phones,
        )
        .await?;
        let mut email_owner = ids_by_value(
            &mut tx,
            self.backend,
            "SELECT email, contact_id FROM contact_emails WHERE email IN ",
            &all_emails,
        )
        .await?;
        let names: Vec<String> = rows.iter().filter_map(|r| r.company_name.clone()).collect();
        let companies = resolve_companies(&mut tx, self.backend, actor, &names).await?;
        let company_of = |row: &ImportRow| {
            row.company_name.as_deref().and_then(|n| companies.get(&search_key(&[n])).cloned())
        };
        // Rows without a phone or an email can only be recognised by name and company.
        let unreachable: Vec<(NameKey, String)> = rows
            .iter()
            .filter(|r| r.contact.phones.is_empty() && r.contact.emails.is_empty())
            .map(|r| (name_key(&r.contact, company_of(r)), r.contact.last_name.trim().to_owned()))
            .collect();
        let mut name_owner = ids_by_name(&mut tx, self.backend, &unreachable).await?;
        let mut existing: Vec<String> = phone_owner
            .values()
            .chain(email_owner.values())
            .chain(name_owner.values())
            .cloned()
            .collect();
        existing.sort();
        existing.dedup();
        if self.backend == Backend::Postgres {
            // Another import batch may be merging into the same existing contacts on another
            // connection: lock them (in id order, so two batches cannot deadlock) and read them
            // only after that batch has committed.
            for chunk in existing.chunks(1000) {
                let mut lock = Sql::bulk(self.backend, "SELECT id FROM contacts WHERE id IN ");
                lock.bind_list(chunk.iter().cloned()).push(" ORDER BY id FOR UPDATE");
                lock.fetch_all(&mut *tx).await?;
            }
        }
        // Every contact this batch may merge into, read in one go rather than one per row.
        let mut existing_contacts: HashMap<String, Contact> = match on_duplicate {
            OnDuplicate::Merge => {
                self.get_contacts(&existing).await?.into_iter().map(|c| (c.id.clone(), c)).collect()
            }
            OnDuplicate::Skip | OnDuplicate::Create => HashMap::new(),
        };

        let mut pending: Vec<Pending> = Vec::new();
        let mut pending_by_id: HashMap<String, usize> = HashMap::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        let now = now_ms();

        for row in rows {
            let line = row.line;
            let company_id = company_of(&row);
            let mut contact = row.contact;
            contact.company_id = company_id;
            if let Err((field, reason)) = validate_custom(&defs, &contact) {
                outcomes.push(ImportOutcome {
                    line,
                    decision: ImportDecision::Rejected { field, reason },
                });
                continue;
            }
            let matched = contact
                .phones
                .iter()
                .find_map(|p| {
                    phone_owner
                        .get(p.number.e164())
                        .map(|id| (id.clone(), format!("phone {}", p.number.e164())))
                })
                .or_else(|| {
                    contact.emails.iter().find_map(|e| {
                        email_owner.get(e).map(|id| (id.clone(), format!("email {e}")))
                    })
                })
                .or_else(|| {
                    let key = (contact.phones.is_empty() && contact.emails.is_empty())
                        .then(|| name_key(&contact, contact.company_id.clone()))?;
                    name_owner.get(&key).map(|id| (id.clone(), format!("name {}", key.0)))
                });
            let decision = match (matched, on_duplicate) {
                (Some((existing_id, matched_on)), OnDuplicate::Skip) => {
                    ImportDecision::Skipped { existing_id, matched_on }
                }
                (Some((existing_id, matched_on)), OnDuplicate::Merge) => {
                    let index = match pending_by_id.get(&existing_id) {
                        Some(&i) => i,
                        None => {
                            let Some(existing) = existing_contacts.remove(&existing_id) else {
                                return Err(StoreError::not_found("contact"));
                            };
                            pending.push(pending_from_existing(existing, line));
                            pending_by_id.insert(existing_id.clone(), pending.len() - 1);
                            pending.len() - 1
                        }
                    };
                    let target = &mut pending[index];
                    let changed = merge_into(&mut target.contact, contact);
                    target.changed |= changed;
                    register(&target.contact, &target.id, &mut phone_owner, &mut email_owner);
                    ImportDecision::Merged { id: existing_id, changed, matched_on }
                }
                (_, _) => {
                    let id = new_id();
                    contact.phones = dedupe_phones(contact.phones);
                    contact.emails = dedupe_emails(contact.emails);
                    register(&contact, &id, &mut phone_owner, &mut email_owner);
                    if contact.phones.is_empty() && contact.emails.is_empty() {
                        name_owner
                            .entry(name_key(&contact, contact.company_id.clone()))
                            .or_insert_with(|| id.clone());
                    }
                    pending.push(Pending {
                        contact,
                        id: id.clone(),
                        is_new: true,
                        stored_phones: 0,
                        stored_emails: 0,
                        changed: true,
                        line,
                    });
                    pending_by_id.insert(id.clone(), pending.len() - 1);
                    ImportDecision::Created { id }
                }
            };
            outcomes.push(ImportOutcome { line, decision });
        }

        write_pending(&mut tx, self.backend, actor, &defs, &pending, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Creates the companies among `names` that do not exist yet (matched by folded name) in
    /// a transaction of their own. An import running several batches at once calls this
    /// before each batch, one batch at a time, so two batches never create the same company.
    pub async fn ensure_companies(
        &self,
        actor: &Actor,
        names: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        resolve_companies(&mut tx, self.backend, actor, names).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Finds companies by folded name and creates the missing ones; returns `name key -> id`.
async fn resolve_companies(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    names_given: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let mut names: HashMap<String, String> = HashMap::new();
    for name in names_given {
        let name = name.trim();
        if !name.is_empty() {
            names.entry(search_key(&[name])).or_insert_with(|| name.to_owned());
        }
    }
    let keys: Vec<String> = names.keys().cloned().collect();
    let mut found = ids_by_value(
        &mut *conn,
        backend,
        "SELECT name_key, id FROM companies WHERE name_key IN ",
        &keys,
    )
    .await?;
    let now = now_ms();
    let missing: Vec<(String, String, String)> = names
        .into_iter()
        .filter(|(key, _)| !found.contains_key(key))
        .map(|(key, name)| (new_id(), key, name))
        .collect();
    for chunk in missing.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::bulk(
            backend,
            "INSERT INTO companies (id, name, name_key, created_at, updated_at) VALUES ",
        );
        let mut audit = Sql::bulk(
            backend,
            "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, detail) VALUES ",
        );
        for (i, (id, key, name)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(key.clone());
            sql.push(", ").bind(now).push(", ").bind(now).push(")");
            audit.push(if i == 0 { "(" } else { ", (" });
            audit
                .bind(new_id())
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(actor.user_id.clone())
                .push(", 'company.import', 'company', ");
            audit.bind(id.clone()).push(", ").bind(json!({"name": name}).to_string()).push(")");
        }
        sql.execute(&mut *conn).await?;
        audit.execute(&mut *conn).await?;
    }
    for (id, key, _) in missing {
        found.insert(key, id);
    }
    Ok(found)
}

/// `value -> id` for the given values (`select` names the value column first, the id second);
/// the lowest id wins when several rows share a value.
async fn ids_by_value(
    conn: &mut AnyConnection,
    backend: Backend,
    select: &str,
    values: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let mut out: HashMap<String, String> = HashMap::with_capacity(values.len());
    for chunk in values.chunks(1000) {
        let mut sql = Sql::bulk(backend, select);
        sql.bind_list(chunk.iter().cloned()).push(" ORDER BY 2");
        for row in sql.fetch_all(&mut *conn).await? {
            let value: String = row.try_get(0)?;
            out.entry(value).or_insert(row.try_get(1)?);
        }
    }
    Ok(out)
}

/// A contact's folded full name and its company: what recognises a row that has neither a
/// phone nor an email.
type NameKey = (String, Option<String>);

fn name_key(contact: &NewContact, company_id: Option<String>) -> NameKey {
    (search_key(&[&contact.last_name, &contact.first_name, &contact.middle_name]), company_id)
}

/// `name key -> id` of existing contacts whose name and company match one of `wanted` (a key
/// and the last name as written, which narrows the query); the lowest id wins. Contacts have
/// no name index (it would slow every bulk insert), so this scans `contacts` once per batch,
/// and only for batches holding rows without a phone or an email.
async fn ids_by_name(
    conn: &mut AnyConnection,
    backend: Backend,
    wanted: &[(NameKey, String)],
) -> Result<HashMap<NameKey, String>, StoreError> {
    let keys: HashSet<&NameKey> = wanted.iter().map(|(k, _)| k).collect();
    let last_names: Vec<String> =
        wanted.iter().map(|(_, last)| last.clone()).collect::<HashSet<_>>().into_iter().collect();
    let mut out: HashMap<NameKey, String> = HashMap::new();
    for chunk in last_names.chunks(1000) {
        let mut sql = Sql::bulk(
            backend,
            "SELECT id, first_name, last_name, middle_name, company_id FROM contacts WHERE last_name IN ",
        );
        sql.bind_list(chunk.iter().cloned()).push(" ORDER BY id");
        for row in sql.fetch_all(&mut *conn).await? {
            let (first, last, middle): (String, String, String) = (
                row.try_get("first_name")?,
                row.try_get("last_name")?,
                row.try_get("middle_name")?,
            );
            let key: NameKey = (search_key(&[&last, &first, &middle]), row.try_get("company_id")?);
            if keys.contains(&key) {
                out.entry(key).or_insert(row.try_get("id")?);
            }
        }
    }
    Ok(out)
}

fn register(
    contact: &NewContact,
    id: &str,
    phones: &mut HashMap<String, String>,
    emails: &mut HashMap<String, String>,
) {
    for p in &contact.phones {
        phones.entry(p.number.e164().to_owned()).or_insert_with(|| id.to_owned());
    }
    for e in &contact.emails {
        emails.entry(e.clone()).or_insert_with(|| id.to_owned());
    }
}

fn pending_from_existing(existing: Contact, line: u64) -> Pending {
    let stored_phones = existing.phones.len();
    let stored_emails = existing.emails.len();
    Pending {
        id: existing.id.clone(),
        contact: NewContact {
            first_name: existing.first_name,
            last_name: existing.last_name,
            middle_name: existing.middle_name,
            position: existing.position,
            company_id: existing.company_id,
            owner_id: existing.owner_id,
            phones: existing
                .phones
                .into_iter()
                .map(|p| NewPhone {
                    number: PhoneNumber::from_stored(p.number, p.extension),
                    kind: p.kind,
                })
                .collect(),
            emails: existing.emails,
            custom: existing.custom,
            force: false,
        },
        is_new: false,
        stored_phones,
        stored_emails,
        changed: false,
        line,
    }
}

/// Adds what `row` has and `target` lacks; never overwrites. Returns whether anything changed.
fn merge_into(target: &mut NewContact, row: NewContact) -> bool {
    let mut changed = false;
    for (slot, value) in [
        (&mut target.first_name, row.first_name),
        (&mut target.last_name, row.last_name),
        (&mut target.middle_name, row.middle_name),
    ] {
        if slot.trim().is_empty() && !value.trim().is_empty() {
            *slot = value;
            changed = true;
        }
    }
    for (slot, value) in [
        (&mut target.position, row.position),
        (&mut target.company_id, row.company_id),
        (&mut target.owner_id, row.owner_id),
    ] {
        if slot.is_none() && value.is_some() {
            *slot = value;
            changed = true;
        }
    }
    for phone in row.phones {
        if !target.phones.iter().any(|p| p.number.e164() == phone.number.e164()) {
            target.phones.push(phone);
            changed = true;
        }
    }
    for email in row.emails {
        if !target.emails.contains(&email) {
            target.emails.push(email);
            changed = true;
        }
    }
    for (key, value) in row.custom {
        if !value.is_null() && !target.custom.contains_key(&key) {
            target.custom.insert(key, value);
            changed = true;
        }
    }
    changed
}

fn validate_custom(defs: &[CustomFieldDef], contact: &NewContact) -> Result<(), (String, String)> {
    for (key, value) in &contact.custom {
        let def = defs
            .iter()
            .find(|d| &d.key == key)
            .ok_or_else(|| (format!("custom.{key}"), "no such custom field".to_owned()))?;
        def.validate(value).map_err(|e| (format!("custom.{key}"), e.to_string()))?;
    }
    Ok(())
}

/// Rows per multi-row INSERT: keeps every statement well under both backends' parameter limits.
const ROWS_PER_INSERT: usize = 400;

async fn write_pending(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    defs: &[CustomFieldDef],
    pending: &[Pending],
    now: i64,
) -> Result<(), StoreError> {
    let new: Vec<&Pending> = pending.iter().filter(|p| p.is_new).collect();
    for chunk in new.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::bulk(
            backend,
            "INSERT INTO contacts (id, first_name, last_name, middle_name, position, company_id, owner_id, search_text, created_at, updated_at) VALUES ",
        );
        for (i, p) in chunk.iter().enumerate() {
            let c = &p.contact;
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(p.id.clone())
                .push(", ")
                .bind(c.first_name.trim().to_owned())
                .push(", ")
                .bind(c.last_name.trim().to_owned());
            sql.push(", ")
                .bind(c.middle_name.trim().to_owned())
                .push(", ")
                .bind(c.position.clone())
                .push(", ")
                .bind(c.company_id.clone());
            sql.push(", ")
                .bind(c.owner_id.clone())
                .push(", ")
                .bind(contact_search_key(c))
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(now)
                .push(")");
        }
        sql.execute(&mut *conn).await?;
        let mut audit = Sql::bulk(
            backend,
            "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, detail) VALUES ",
        );
        for (i, p) in chunk.iter().enumerate() {
            audit.push(if i == 0 { "(" } else { ", (" });
            audit
                .bind(new_id())
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(actor.user_id.clone())
                .push(", 'contact.import', 'contact', ");
            audit.bind(p.id.clone()).push(", ").bind(json!({"line": p.line}).to_string()).push(")");
        }
        audit.execute(&mut *conn).await?;
    }
    for p in pending.iter().filter(|p| !p.is_new && p.changed) {
        let c = &p.contact;
        let mut sql = Sql::bulk(backend, "UPDATE contacts SET first_name = ");
        sql.bind(c.first_name.clone())
            .push(", last_name = ")
            .bind(c.last_name.clone())
            .push(", middle_name = ")
            .bind(c.middle_name.clone());
        sql.push(", position = ")
            .bind(c.position.clone())
            .push(", company_id = ")
            .bind(c.company_id.clone());
        sql.push(", owner_id = ")
            .bind(c.owner_id.clone())
            .push(", search_text = ")
            .bind(contact_search_key(c));
        sql.push(", updated_at = ").bind(now).push(" WHERE id = ").bind(p.id.clone());
        sql.execute(&mut *conn).await?;
        crate::audit::record(
            conn,
            actor,
            "contact.merge",
            "contact",
            Some(&p.id),
            json!({"line": p.line}),
        )
        .await?;
    }

    // Phones, emails and custom values that are new to the database, of new and merged contacts.
    let phones: Vec<(&str, usize, &NewPhone)> = pending
        .iter()
        .filter(|p| p.changed)
        .flat_map(|p| {
            p.contact
                .phones
                .iter()
                .enumerate()
                .skip(p.stored_phones)
                .map(move |(i, ph)| (p.id.as_str(), i, ph))
        })
        .collect();
    for chunk in phones.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::bulk(
            backend,
            "INSERT INTO contact_phones (contact_id, e164, extension, kind, position) VALUES ",
        );
        for (i, (id, position, phone)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind((*id).to_owned()).push(", ").bind(phone.number.e164().to_owned());
            sql.push(", ")
                .bind(phone.number.extension().unwrap_or("").to_owned())
                .push(", ")
                .bind(phone.kind.as_str().to_owned());
            sql.push(", ").bind(*position as i64).push(")");
        }
        sql.execute(&mut *conn).await?;
    }
    let emails: Vec<(&str, usize, &String)> = pending
        .iter()
        .filter(|p| p.changed)
        .flat_map(|p| {
            p.contact
                .emails
                .iter()
                .enumerate()
                .skip(p.stored_emails)
                .map(move |(i, e)| (p.id.as_str(), i, e))
        })
        .collect();
    for chunk in emails.chunks(ROWS_PER_INSERT) {
        let mut sql =
            Sql::bulk(backend, "INSERT INTO contact_emails (contact_id, email, position) VALUES ");
        for (i, (id, position, email)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind((*id).to_owned())
                .push(", ")
                .bind((*email).clone())
                .push(", ")
                .bind(*position as i64)
                .push(")");
        }
        sql.execute(&mut *conn).await?;
    }
    let mut values: Vec<(&str, String, String, Option<f64>)> = Vec::new();
    for p in pending.iter().filter(|p| p.changed) {
        for (key, value) in &p.contact.custom {
            let Some(def) = defs.iter().find(|d| &d.key == key) else { continue };
            if let Ok(Some(stored)) = def.validate(value) {
                values.push((p.id.as_str(), key.clone(), stored.text, stored.number));
            }
        }
    }
    for chunk in values.chunks(ROWS_PER_INSERT) {
        // Merged contacts may already hold some of these keys: replace them.
        let mut clear = Sql::bulk(
            backend,
            "DELETE FROM custom_field_values WHERE entity = 'contact' AND entity_id || '/' || field_key IN ",
        );
        clear.bind_list(chunk.iter().map(|(id, key, _, _)| format!("{id}/{key}")));
        clear.execute(&mut *conn).await?;
        let mut sql = Sql::bulk(
            backend,
            "INSERT INTO custom_field_values (entity, entity_id, field_key, value_text, value_key, value_number) VALUES ",
        );
        for (i, (id, key, text, number)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "('contact', " } else { ", ('contact', " });
            sql.bind((*id).to_owned()).push(", ").bind(key.clone()).push(", ").bind(text.clone());
            sql.push(", ").bind(search_key(&[text])).push(", ").bind(*number).push(")");
        }
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}
