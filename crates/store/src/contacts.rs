//! Contacts: people with many phones and emails. Phones are stored as E.164 in their own
//! indexed table, so a lookup by any spelling of a number is one index probe.
//!
//! Duplicates are refused, not merged: creating or changing a contact so that one of its
//! phones or emails belongs to another contact is [`StoreError::Duplicate`] unless the caller
//! says `force`. The bulk import (see [`Store::import_contacts`]) applies the same rule and
//! merges or reports instead.

mod import;
mod merge;

use std::collections::HashMap;

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::{Contact, ContactPhone, CustomValues, PhoneKind};
use switchboard_core::text::search_key;
use switchboard_core::{EntityKind, PhoneNumber, new_id};

pub use import::{ImportDecision, ImportOutcome, ImportRow, OnDuplicate};

use crate::custom_fields::push_custom_filters;
use crate::sql::{Sql, like_contains, parse_col};
use crate::teams::require_ref;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// A phone number to attach to a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhone {
    /// The parsed number.
    pub number: PhoneNumber,
    /// What kind of phone.
    pub kind: PhoneKind,
}

/// A contact to create.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Patronymic.
    pub middle_name: String,
    /// Job title.
    pub position: Option<String>,
    /// Company.
    pub company_id: Option<String>,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Phones, primary first.
    pub phones: Vec<NewPhone>,
    /// Normalised emails, primary first.
    pub emails: Vec<String>,
    /// Custom field values.
    pub custom: CustomValues,
    /// Create even if a phone or email already belongs to another contact.
    pub force: bool,
}

/// Changes to a contact; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New patronymic.
    pub middle_name: Option<String>,
    /// New job title (`Some(None)` clears it).
    pub position: Option<Option<String>>,
    /// New company (`Some(None)` clears it).
    pub company_id: Option<Option<String>>,
    /// New owner (`Some(None)` clears it).
    pub owner_id: Option<Option<String>>,
    /// Replaces all phones.
    pub phones: Option<Vec<NewPhone>>,
    /// Replaces all emails.
    pub emails: Option<Vec<String>>,
    /// Sets (or, with `null`, clears) these custom fields.
    pub custom: CustomValues,
    /// Accept phones or emails that belong to another contact.
    pub force: bool,
}

/// Which contacts to list.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Free text in the name, emails or position.
    pub q: Option<String>,
    /// Owned by this user.
    pub owner_id: Option<String>,
    /// Of this company.
    pub company_id: Option<String>,
    /// Having this number (E.164).
    pub phone_e164: Option<String>,
    /// Having a number ending in these digits (the last 4-7 digits people remember).
    pub phone_suffix: Option<String>,
    /// Having this email (normalised).
    pub email: Option<String>,
    /// Custom field equals value (case-folded), all must hold.
    pub custom: Vec<(String, String)>,
}

pub(crate) fn contact_search_key(c: &NewContact) -> String {
    let mut parts: Vec<&str> = vec![&c.last_name, &c.first_name, &c.middle_name];
    if let Some(p) = &c.position {
        parts.push(p);
    }
    parts.extend(c.emails.iter().map(String::as_str));
    search_key(&parts)
}

fn validate_names(
    first: &str,
    last: &str,
    middle: &str,
    has_contact_point: bool,
) -> Result<(), StoreError> {
    for (field, value) in [("first_name", first), ("last_name", last), ("middle_name", middle)] {
        if value.chars().count() > 200 {
            return Err(StoreError::invalid(field, "longer than 200 characters"));
        }
    }
    if first.trim().is_empty() && last.trim().is_empty() && !has_contact_point {
        return Err(StoreError::invalid(
            "first_name",
            "a contact needs a name, a phone or an email",
        ));
    }
    Ok(())
}

fn dedupe_phones(phones: Vec<NewPhone>) -> Vec<NewPhone> {
    let mut out: Vec<NewPhone> = Vec::with_capacity(phones.len());
    for phone in phones {
        if !out.iter().any(|p| p.number == phone.number) {
            out.push(phone);
        }
    }
    out
}

fn dedupe_emails(emails: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(emails.len());
    for email in emails {
        if !out.contains(&email) {
            out.push(email);
        }
    }
    out
}

impl Store {
    /// Finds another contact holding one of `phones` or `emails`, as a duplicate error naming
    /// the first such field.
    async fn check_duplicates(
        &self,
        conn: &mut AnyConnection,
        phones: &[NewPhone],
        emails: &[String],
        exclude_id: Option<&str>,
    ) -> Result<(), StoreError> {
        if !phones.is_empty() {
            let mut sql = Sql::new("SELECT contact_id, e164 FROM contact_phones WHERE e164 IN ");
            sql.bind_list(phones.iter().map(|p| p.number.e164().to_owned()));
            if let Some(id) = exclude_id {
                sql.push(" AND contact_id <> ").bind(id.to_owned());
            }
            sql.push(" ORDER BY contact_id");
            let rows = sql.fetch_all(&mut *conn).await?;
            for (i, phone) in phones.iter().enumerate() {
                for row in &rows {
                    if row.try_get::<String, _>("e164")? == phone.number.e164() {
                        return Err(StoreError::Duplicate {
                            field: format!("phones[{i}].number"),
                            value: phone.number.e164().to_owned(),
                            existing_id: row.try_get("contact_id")?,
                        });
                    }
                }
            }
        }
        if !emails.is_empty() {
            let mut sql = Sql::new("SELECT contact_id, email FROM contact_emails WHERE email IN ");
            sql.bind_list(emails.iter().cloned());
            if let Some(id) = exclude_id {
                sql.push(" AND contact_id <> ").bind(id.to_owned());
            }
            sql.push(" ORDER BY contact_id");
            let rows = sql.fetch_all(&mut *conn).await?;
            for (i, email) in emails.iter().enumerate() {
                for row in &rows {
                    if &row.try_get::<String, _>("email")? == email {
                        return Err(StoreError::Duplicate {
                            field: format!("emails[{i}]"),
                            value: email.clone(),
                            existing_id: row.try_get("contact_id")?,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    async fn check_contact_refs(
        &self,
        conn: &mut AnyConnection,
        company_id: Option<&str>,
        owner_id: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(company) = company_id {
            require_ref(conn, "companies", "company_id", company).await?;
        }
        if let Some(owner) = owner_id {
            require_ref(conn, "users", "owner_id", owner).await?;
        }
        Ok(())
    }

    /// Creates a contact. See the module docs for the duplicate rule.
    pub async fn create_contact(
        &self,
        actor: &Actor,
        new: NewContact,
    ) -> Result<Contact, StoreError> {
        let mut new = new;
        new.phones = dedupe_phones(new.phones);
        new.emails = dedupe_emails(new.emails);
        validate_names(
            &new.first_name,
            &new.last_name,
            &new.middle_name,
            !new.phones.is_empty() || !new.emails.is_empty(),
        )?;
        let mut tx = self.begin_write().await?;
        if !new.force {
            self.check_duplicates(&mut tx, &new.phones, &new.emails, None).await?;
        }
        self.check_contact_refs(&mut tx, new.company_id.as_deref(), new.owner_id.as_deref())
            .await?;
        let id = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO contacts (id, first_name, last_name, middle_name, position, company_id, owner_id, search_text, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(new.first_name.trim().to_owned())
            .push(", ")
            .bind(new.last_name.trim().to_owned());
        sql.push(", ")
            .bind(new.middle_name.trim().to_owned())
            .push(", ")
            .bind(new.position.clone());
        sql.push(", ").bind(new.company_id.clone()).push(", ").bind(new.owner_id.clone());
        sql.push(", ")
            .bind(contact_search_key(&new))
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        insert_phones(&mut tx, &id, &new.phones).await?;
        insert_emails(&mut tx, &id, &new.emails).await?;
        self.write_custom_values(&mut tx, EntityKind::Contact, &id, &new.custom, true).await?;
        audit::record(
            &mut tx,
            actor,
            "contact.create",
            "contact",
            Some(&id),
            json!({
                "name": [&new.last_name, &new.first_name, &new.middle_name],
                "phones": new.phones.iter().map(|p| p.number.to_string()).collect::<Vec<_>>(),
                "emails": new.emails,
                "owner_id": new.owner_id,
                "forced": new.force,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_contact(&id).await
    }

    /// A contact by id.
    pub async fn get_contact(&self, id: &str) -> Result<Contact, StoreError> {
        self.get_contacts(&[id.to_owned()]).await?.pop().ok_or(StoreError::not_found("contact"))
    }

    /// Several contacts by id, in the order of `ids` (missing ones are skipped).
    pub async fn get_contacts(&self, ids: &[String]) -> Result<Vec<Contact>, StoreError> {
        let mut by_id: HashMap<String, Contact> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut sql = Sql::bulk(
                self.backend,
                &format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id IN "),
            );
            sql.bind_list(chunk.iter().cloned());
            for row in sql.fetch_all(&self.pool).await? {
                let contact = contact_from_row(&row)?;
                by_id.insert(contact.id.clone(), contact);
            }
        }
        self.fill_contacts(ids, by_id).await
    }

    /// Adds phones, emails and custom values to contacts read from their table; returns them
    /// in the order of `ids`. Phones and emails come in one round trip.
    async fn fill_contacts(
        &self,
        ids: &[String],
        mut by_id: HashMap<String, Contact>,
    ) -> Result<Vec<Contact>, StoreError> {
        if by_id.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<String> = ids.iter().filter(|id| by_id.contains_key(*id)).cloned().collect();
        for chunk in found.chunks(500) {
            let mut sql = Sql::bulk(
                self.backend,
                "SELECT contact_id, 0 AS what, e164 AS value, extension, kind, position FROM contact_phones WHERE contact_id IN ",
            );
            sql.bind_list(chunk.iter().cloned());
            sql.push(" UNION ALL SELECT contact_id, 1 AS what, email AS value, '' AS extension, '' AS kind, position FROM contact_emails WHERE contact_id IN ");
            sql.bind_list(chunk.iter().cloned());
            sql.push(" ORDER BY 1, 2, 6");
            for row in sql.fetch_all(&self.pool).await? {
                let id: String = row.try_get("contact_id")?;
                let Some(c) = by_id.get_mut(&id) else { continue };
                if row.try_get::<i64, _>("what")? == 0 {
                    let extension: String = row.try_get("extension")?;
                    c.phones.push(ContactPhone {
                        number: row.try_get("value")?,
                        extension: Some(extension).filter(|e| !e.is_empty()),
                        kind: parse_col(&row, "kind")?,
                    });
                } else {
                    c.emails.push(row.try_get("value")?);
                }
            }
        }
        let mut custom = self.load_custom_values(EntityKind::Contact, &found).await?;
        Ok(found
            .iter()
            .filter_map(|id| {
                let mut c = by_id.remove(id)?;
                c.custom = custom.remove(id).unwrap_or_default();
                Some(c)
            })
            .collect())
    }

    /// Every contact having `e164` among its phones (any extension), oldest first. A number
    /// shared by several contacts returns all of them.
    pub async fn find_contacts_by_phone(&self, e164: &str) -> Result<Vec<Contact>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id IN (SELECT contact_id FROM contact_phones WHERE e164 = "
        ));
        sql.bind(e164.to_owned()).push(") ORDER BY id");
        let mut ids = Vec::new();
        let mut by_id = HashMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            let contact = contact_from_row(&row)?;
            ids.push(contact.id.clone());
            by_id.insert(contact.id.clone(), contact);
        }
        self.fill_contacts(&ids, by_id).await
    }

    /// Lists contacts, newest first.
    pub async fn list_contacts(
        &self,
        filter: &ContactFilter,
        page: PageRequest,
    ) -> Result<Page<Contact>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM contacts c WHERE 1 = 1");
            if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                sql.push(" AND c.search_text LIKE ")
                    .bind(like_contains(&search_key(&[q])))
                    .push(" ESCAPE '\\'");
            }
            if let Some(owner) = &filter.owner_id {
                sql.push(" AND c.owner_id = ").bind(owner.clone());
            }
            if let Some(company) = &filter.company_id {
                sql.push(" AND c.company_id = ").bind(company.clone());
            }
            if let Some(e164) = &filter.phone_e164 {
                sql.push(" AND c.id IN (SELECT contact_id FROM contact_phones WHERE e164 = ")
                    .bind(e164.clone())
                    .push(")");
            }
            if let Some(digits) = &filter.phone_suffix {
                // A scan of the numbers (no index serves a suffix); the numbers table is
                // narrow, and the list pages through what matches.
                let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
                sql.push(" AND c.id IN (SELECT contact_id FROM contact_phones WHERE e164 LIKE ")
                    .bind(format!("%{digits}"))
                    .push(")");
            }
            if let Some(email) = &filter.email {
                sql.push(" AND c.id IN (SELECT contact_id FROM contact_emails WHERE email = ")
                    .bind(email.clone())
                    .push(")");
            }
            push_custom_filters(&mut sql, EntityKind::Contact, "c.id", &filter.custom);
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build("SELECT c.id");
        sql.push(" ORDER BY c.id DESC LIMIT ").bind(i64::from(page.per_page));
        sql.push(" OFFSET ").bind(page.offset());
        let ids: Vec<String> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items: self.get_contacts(&ids).await?,
            page: page.page,
            per_page: page.per_page,
            total,
        })
    }

    /// Changes a contact. Replacing phones or emails follows the duplicate rule.
    pub async fn update_contact(
        &self,
        actor: &Actor,
        id: &str,
        changes: ContactChanges,
    ) -> Result<Contact, StoreError> {
        let before = self.get_contact(id).await?;
        let mut after = NewContact {
            first_name: changes.first_name.clone().unwrap_or(before.first_name.clone()),
            last_name: changes.last_name.clone().unwrap_or(before.last_name.clone()),
            middle_name: changes.middle_name.clone().unwrap_or(before.middle_name.clone()),
            position: changes.position.clone().unwrap_or(before.position.clone()),
            company_id: changes.company_id.clone().unwrap_or(before.company_id.clone()),
            owner_id: changes.owner_id.clone().unwrap_or(before.owner_id.clone()),
            phones: Vec::new(),
            emails: changes.emails.clone().map(dedupe_emails).unwrap_or(before.emails.clone()),
            custom: changes.custom.clone(),
            force: changes.force,
        };
        after.phones = match changes.phones.clone() {
            Some(phones) => dedupe_phones(phones),
            None => before
                .phones
                .iter()
                .map(|p| NewPhone {
                    number: PhoneNumber::from_stored(p.number.clone(), p.extension.clone()),
                    kind: p.kind,
                })
                .collect(),
        };
        validate_names(
            &after.first_name,
            &after.last_name,
            &after.middle_name,
            !after.phones.is_empty() || !after.emails.is_empty(),
        )?;
        let mut tx = self.begin_write().await?;
        if !changes.force {
            let phones: &[NewPhone] =
                changes.phones.as_ref().map(|_| after.phones.as_slice()).unwrap_or(&[]);
            let emails: &[String] =
                changes.emails.as_ref().map(|_| after.emails.as_slice()).unwrap_or(&[]);
            self.check_duplicates(&mut tx, phones, emails, Some(id)).await?;
        }
        self.check_contact_refs(&mut tx, after.company_id.as_deref(), after.owner_id.as_deref())
            .await?;
        let mut sql = Sql::new("UPDATE contacts SET first_name = ");
        sql.bind(after.first_name.trim().to_owned())
            .push(", last_name = ")
            .bind(after.last_name.trim().to_owned());
        sql.push(", middle_name = ")
            .bind(after.middle_name.trim().to_owned())
            .push(", position = ")
            .bind(after.position.clone());
        sql.push(", company_id = ")
            .bind(after.company_id.clone())
            .push(", owner_id = ")
            .bind(after.owner_id.clone());
        sql.push(", search_text = ")
            .bind(contact_search_key(&after))
            .push(", updated_at = ")
            .bind(now_ms());
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        if changes.phones.is_some() {
            let mut del = Sql::new("DELETE FROM contact_phones WHERE contact_id = ");
            del.bind(id.to_owned());
            del.execute(&mut *tx).await?;
            insert_phones(&mut tx, id, &after.phones).await?;
        }
        if changes.emails.is_some() {
            let mut del = Sql::new("DELETE FROM contact_emails WHERE contact_id = ");
            del.bind(id.to_owned());
            del.execute(&mut *tx).await?;
            insert_emails(&mut tx, id, &after.emails).await?;
        }
        self.write_custom_values(&mut tx, EntityKind::Contact, id, &changes.custom, false).await?;
        audit::record(
            &mut tx,
            actor,
            "contact.update",
            "contact",
            Some(id),
            json!({
                "first_name": changes.first_name, "last_name": changes.last_name, "middle_name": changes.middle_name,
                "position": changes.position, "company_id": changes.company_id, "owner_id": changes.owner_id,
                "phones": changes.phones.map(|p| p.iter().map(|p| p.number.to_string()).collect::<Vec<_>>()),
                "emails": changes.emails, "custom": changes.custom, "forced": changes.force,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_contact(id).await
    }

    /// Deletes a contact with its phones, emails, custom values and notes. Deals, tasks and
    /// calls stay, unlinked.
    pub async fn delete_contact(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let before = self.get_contact(id).await?;
        let mut tx = self.begin_write().await?;
        for delete in [
            "DELETE FROM custom_field_values WHERE entity = 'contact' AND entity_id = ",
            "DELETE FROM contact_phones WHERE contact_id = ",
            "DELETE FROM contact_emails WHERE contact_id = ",
        ] {
            let mut sql = Sql::new(delete);
            sql.bind(id.to_owned());
            sql.execute(&mut *tx).await?;
        }
        let mut sql = Sql::new("DELETE FROM contacts WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "contact.delete",
            "contact",
            Some(id),
            json!({
                "name": before.display_name(),
                "phones": before.phones.iter().map(|p| p.number.clone()).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

const CONTACT_COLUMNS: &str = "id, first_name, last_name, middle_name, position, company_id, owner_id, created_at, updated_at";

fn contact_from_row(row: &AnyRow) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: row.try_get("id")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        middle_name: row.try_get("middle_name")?,
        position: row.try_get("position")?,
        company_id: row.try_get("company_id")?,
        owner_id: row.try_get("owner_id")?,
        phones: Vec::new(),
        emails: Vec::new(),
        custom: CustomValues::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn insert_phones(
    conn: &mut AnyConnection,
    contact_id: &str,
    phones: &[NewPhone],
) -> Result<(), StoreError> {
    if phones.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO contact_phones (contact_id, e164, extension, kind, position) VALUES ",
    );
    for (i, phone) in phones.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(").bind(contact_id.to_owned()).push(", ").bind(phone.number.e164().to_owned());
        sql.push(", ")
            .bind(phone.number.extension().unwrap_or("").to_owned())
            .push(", ")
            .bind(phone.kind.as_str().to_owned());
        sql.push(", ").bind(i as i64).push(")");
    }
    sql.execute(conn).await?;
    Ok(())
}

async fn insert_emails(
    conn: &mut AnyConnection,
    contact_id: &str,
    emails: &[String],
) -> Result<(), StoreError> {
    if emails.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO contact_emails (contact_id, email, position) VALUES ");
    for (i, email) in emails.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(contact_id.to_owned())
            .push(", ")
            .bind(email.clone())
            .push(", ")
            .bind(i as i64)
            .push(")");
    }
    sql.execute(conn).await?;
    Ok(())
}

impl Store {
    /// Contacts in id order after `after_id` (keyset paging for exports of any size).
    pub async fn contacts_after(
        &self,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Contact>, StoreError> {
        let mut sql = Sql::new("SELECT id FROM contacts");
        if let Some(after) = after_id {
            sql.push(" WHERE id > ").bind(after.to_owned());
        }
        sql.push(" ORDER BY id LIMIT ").bind(i64::from(limit.clamp(1, 5000)));
        let ids: Vec<String> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        self.get_contacts(&ids).await
    }
}
