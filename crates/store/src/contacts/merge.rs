//! Merging two contacts that are the same person: the survivor keeps its own data and gains
//! the other's phones, emails, custom values and whatever of its fields were empty; every
//! call, deal, task and note of the other moves to it; the other is deleted. One transaction,
//! one audit entry naming both.

use serde_json::json;
use switchboard_core::PhoneNumber;
use switchboard_core::entity::Contact;

use super::{
    NewContact, NewPhone, contact_search_key, dedupe_emails, dedupe_phones, insert_emails,
    insert_phones,
};
use crate::sql::Sql;
use crate::{Actor, Store, StoreError, audit, now_ms};

fn stored_phones(contact: &Contact) -> Vec<NewPhone> {
    contact
        .phones
        .iter()
        .map(|p| NewPhone {
            number: PhoneNumber::from_stored(p.number.clone(), p.extension.clone()),
            kind: p.kind,
        })
        .collect()
}

impl Store {
    /// Merges `other_id` into `survivor_id` and returns the survivor as it is afterwards.
    pub async fn merge_contacts(
        &self,
        actor: &Actor,
        survivor_id: &str,
        other_id: &str,
    ) -> Result<Contact, StoreError> {
        if survivor_id == other_id {
            return Err(StoreError::invalid("other_id", "a contact cannot be merged into itself"));
        }
        let survivor = self.get_contact(survivor_id).await?;
        let other = self.get_contact(other_id).await?;
        let pick = |mine: &str, theirs: &str| {
            if mine.trim().is_empty() { theirs.to_owned() } else { mine.to_owned() }
        };
        let merged = NewContact {
            first_name: pick(&survivor.first_name, &other.first_name),
            last_name: pick(&survivor.last_name, &other.last_name),
            middle_name: pick(&survivor.middle_name, &other.middle_name),
            position: survivor
                .position
                .clone()
                .filter(|p| !p.trim().is_empty())
                .or(other.position.clone()),
            company_id: survivor.company_id.clone().or(other.company_id.clone()),
            owner_id: survivor.owner_id.clone().or(other.owner_id.clone()),
            phones: dedupe_phones(
                stored_phones(&survivor).into_iter().chain(stored_phones(&other)).collect(),
            ),
            emails: dedupe_emails(survivor.emails.iter().chain(&other.emails).cloned().collect()),
            custom: Default::default(),
            force: true,
        };
        let mut tx = self.begin_write().await?;
        let mut moved = serde_json::Map::new();
        for table in ["calls", "deals", "tasks", "notes"] {
            let mut sql = Sql::new(&format!("UPDATE {table} SET contact_id = "));
            sql.bind(survivor_id.to_owned()).push(" WHERE contact_id = ").bind(other_id.to_owned());
            moved.insert(table.to_owned(), json!(sql.execute(&mut *tx).await?));
        }
        // Custom values: the survivor's win; the other's fill the keys the survivor lacks.
        let mut sql = Sql::new("UPDATE custom_field_values SET entity_id = ");
        sql.bind(survivor_id.to_owned())
            .push(" WHERE entity = 'contact' AND entity_id = ")
            .bind(other_id.to_owned());
        sql.push(" AND field_key NOT IN (SELECT field_key FROM custom_field_values WHERE entity = 'contact' AND entity_id = ").bind(survivor_id.to_owned()).push(")");
        sql.execute(&mut *tx).await?;
        for delete in [
            "DELETE FROM custom_field_values WHERE entity = 'contact' AND entity_id = ",
            "DELETE FROM contact_phones WHERE contact_id = ",
            "DELETE FROM contact_emails WHERE contact_id = ",
        ] {
            let mut sql = Sql::new(delete);
            sql.bind(other_id.to_owned());
            sql.execute(&mut *tx).await?;
        }
        let mut sql = Sql::new("DELETE FROM contacts WHERE id = ");
        sql.bind(other_id.to_owned());
        sql.execute(&mut *tx).await?;
        for delete in [
            "DELETE FROM contact_phones WHERE contact_id = ",
            "DELETE FROM contact_emails WHERE contact_id = ",
        ] {
            let mut sql = Sql::new(delete);
            sql.bind(survivor_id.to_owned());
            sql.execute(&mut *tx).await?;
        }
        insert_phones(&mut tx, survivor_id, &merged.phones).await?;
        insert_emails(&mut tx, survivor_id, &merged.emails).await?;
        let mut sql = Sql::new("UPDATE contacts SET first_name = ");
        sql.bind(merged.first_name.trim().to_owned())
            .push(", last_name = ")
            .bind(merged.last_name.trim().to_owned());
        sql.push(", middle_name = ")
            .bind(merged.middle_name.trim().to_owned())
            .push(", position = ")
            .bind(merged.position.clone());
        sql.push(", company_id = ")
            .bind(merged.company_id.clone())
            .push(", owner_id = ")
            .bind(merged.owner_id.clone());
        sql.push(", search_text = ")
            .bind(contact_search_key(&merged))
            .push(", updated_at = ")
            .bind(now_ms());
        sql.push(" WHERE id = ").bind(survivor_id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "contact.merge",
            "contact",
            Some(survivor_id),
            json!({
                "merged_id": other_id,
                "merged_name": other.display_name(),
                "phones": other.phones.iter().map(|p| p.number.clone()).collect::<Vec<_>>(),
                "emails": other.emails,
                "moved": moved,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_contact(survivor_id).await
    }
}
