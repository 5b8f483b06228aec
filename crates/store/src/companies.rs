//! Companies: the organisations contacts and deals belong to.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::entity::{Company, CustomValues, Requisites};
use switchboard_core::text::search_key;
use switchboard_core::{EntityKind, new_id};

use crate::custom_fields::push_custom_filters;
use crate::sql::{Sql, like_contains};
use crate::teams::require_ref;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// A company to create.
#[derive(Debug, Clone, Default)]
pub struct NewCompany {
    /// Name.
    pub name: String,
    /// Tax or registration number.
    pub tax_id: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Registration and bank details.
    pub requisites: Requisites,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Custom field values.
    pub custom: CustomValues,
}

/// Changes to a company.
#[derive(Debug, Clone, Default)]
pub struct CompanyChanges {
    /// New name.
    pub name: Option<String>,
    /// New tax id.
    pub tax_id: Option<Option<String>>,
    /// New web site.
    pub website: Option<Option<String>>,
    /// New address.
    pub address: Option<Option<String>>,
    /// New registration and bank details (all of them).
    pub requisites: Option<Requisites>,
    /// New owner.
    pub owner_id: Option<Option<String>>,
    /// Custom values to set or clear.
    pub custom: CustomValues,
}

/// Which companies to list.
#[derive(Debug, Clone, Default)]
pub struct CompanyFilter {
    /// Text in the name.
    pub q: Option<String>,
    /// Owned by.
    pub owner_id: Option<String>,
    /// Custom field equals value.
    pub custom: Vec<(String, String)>,
}

const COMPANY_COLUMNS: &str = "id, name, tax_id, website, address, kpp, ogrn, bank_name, bik, bank_account, corr_account, owner_id, created_at, updated_at";

/// Trims each detail; empty ones are absent; each at most 100 characters.
fn check_requisites(r: &Requisites) -> Result<Requisites, StoreError> {
    let clean = |field: &str, v: &Option<String>| -> Result<Option<String>, StoreError> {
        let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty());
        if v.is_some_and(|v| v.chars().count() > 100) {
            return Err(StoreError::invalid(
                format!("requisites.{field}"),
                "at most 100 characters",
            ));
        }
        Ok(v.map(str::to_owned))
    };
    Ok(Requisites {
        kpp: clean("kpp", &r.kpp)?,
        ogrn: clean("ogrn", &r.ogrn)?,
        bank_name: clean("bank_name", &r.bank_name)?,
        bik: clean("bik", &r.bik)?,
        bank_account: clean("bank_account", &r.bank_account)?,
        corr_account: clean("corr_account", &r.corr_account)?,
    })
}

fn push_requisites(sql: &mut Sql, r: &Requisites) {
    for value in [&r.kpp, &r.ogrn, &r.bank_name, &r.bik, &r.bank_account, &r.corr_account] {
        sql.push(", ").bind(value.clone());
    }
}

fn company_from_row(row: &AnyRow) -> Result<Company, StoreError> {
    Ok(Company {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        tax_id: row.try_get("tax_id")?,
        website: row.try_get("website")?,
        address: row.try_get("address")?,
        requisites: Requisites {
            kpp: row.try_get("kpp")?,
            ogrn: row.try_get("ogrn")?,
            bank_name: row.try_get("bank_name")?,
            bik: row.try_get("bik")?,
            bank_account: row.try_get("bank_account")?,
            corr_account: row.try_get("corr_account")?,
        },
        owner_id: row.try_get("owner_id")?,
        custom: CustomValues::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Creates a company.
    pub async fn create_company(
        &self,
        actor: &Actor,
        new: NewCompany,
    ) -> Result<Company, StoreError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 300 {
            return Err(StoreError::invalid("name", "1-300 characters"));
        }
        let requisites = check_requisites(&new.requisites)?;
        let mut tx = self.begin_write().await?;
        if let Some(owner) = &new.owner_id {
            require_ref(&mut tx, "users", "owner_id", owner).await?;
        }
        let id = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO companies (id, name, name_key, tax_id, website, address, kpp, ogrn, bank_name, bik, bank_account, corr_account, owner_id, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(search_key(&[&name]));
        sql.push(", ")
            .bind(new.tax_id.clone())
            .push(", ")
            .bind(new.website.clone())
            .push(", ")
            .bind(new.address.clone());
        push_requisites(&mut sql, &requisites);
        sql.push(", ")
            .bind(new.owner_id.clone())
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        self.write_custom_values(&mut tx, EntityKind::Company, &id, &new.custom, true).await?;
        audit::record(
            &mut tx,
            actor,
            "company.create",
            "company",
            Some(&id),
            json!({"name": name, "owner_id": new.owner_id}),
        )
        .await?;
        tx.commit().await?;
        self.get_company(&id).await
    }

    /// A company by id.
    pub async fn get_company(&self, id: &str) -> Result<Company, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE id = "));
        sql.bind(id.to_owned());
        let mut company = company_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("company"))?,
        )?;
        company.custom = self
            .load_custom_values(EntityKind::Company, &[id.to_owned()])
            .await?
            .remove(id)
            .unwrap_or_default();
        Ok(company)
    }

    /// Lists companies by name.
    pub async fn list_companies(
        &self,
        filter: &CompanyFilter,
        page: PageRequest,
    ) -> Result<Page<Company>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM companies c WHERE 1 = 1");
            if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                sql.push(" AND c.name_key LIKE ")
                    .bind(like_contains(&search_key(&[q])))
                    .push(" ESCAPE '\\'");
            }
            if let Some(owner) = &filter.owner_id {
                sql.push(" AND c.owner_id = ").bind(owner.clone());
            }
            push_custom_filters(&mut sql, EntityKind::Company, "c.id", &filter.custom);
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build(&format!(
            "SELECT {}",
            COMPANY_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
        ));
        sql.push(" ORDER BY c.name_key, c.id LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let mut items: Vec<Company> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(company_from_row)
            .collect::<Result<_, _>>()?;
        let ids: Vec<String> = items.iter().map(|c| c.id.clone()).collect();
        let mut custom = self.load_custom_values(EntityKind::Company, &ids).await?;
        for c in &mut items {
            c.custom = custom.remove(&c.id).unwrap_or_default();
        }
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// Changes a company.
    pub async fn update_company(
        &self,
        actor: &Actor,
        id: &str,
        changes: CompanyChanges,
    ) -> Result<Company, StoreError> {
        self.get_company(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE companies SET updated_at = ");
        sql.bind(now_ms());
        if let Some(name) = &changes.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 300 {
                return Err(StoreError::invalid("name", "1-300 characters"));
            }
            sql.push(", name = ")
                .bind(name.to_owned())
                .push(", name_key = ")
                .bind(search_key(&[name]));
        }
        for (column, value) in [
            ("tax_id", &changes.tax_id),
            ("website", &changes.website),
            ("address", &changes.address),
        ] {
            if let Some(value) = value {
                sql.push(&format!(", {column} = ")).bind(value.clone());
            }
        }
        if let Some(requisites) = &changes.requisites {
            let r = check_requisites(requisites)?;
            for (column, value) in [
                ("kpp", r.kpp),
                ("ogrn", r.ogrn),
                ("bank_name", r.bank_name),
                ("bik", r.bik),
                ("bank_account", r.bank_account),
                ("corr_account", r.corr_account),
            ] {
                sql.push(&format!(", {column} = ")).bind(value);
            }
        }
        if let Some(owner) = &changes.owner_id {
            if let Some(owner) = owner {
                require_ref(&mut tx, "users", "owner_id", owner).await?;
            }
            sql.push(", owner_id = ").bind(owner.clone());
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        self.write_custom_values(&mut tx, EntityKind::Company, id, &changes.custom, false).await?;
        audit::record(
            &mut tx,
            actor,
            "company.update",
            "company",
            Some(id),
            json!({
                "name": changes.name, "tax_id": changes.tax_id, "website": changes.website,
                "address": changes.address, "requisites": changes.requisites, "owner_id": changes.owner_id, "custom": changes.custom,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_company(id).await
    }

    /// Deletes a company; its contacts and deals stay, unlinked.
    pub async fn delete_company(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let before = self.get_company(id).await?;
        let mut tx = self.begin_write().await?;
        let mut values =
            Sql::new("DELETE FROM custom_field_values WHERE entity = 'company' AND entity_id = ");
        values.bind(id.to_owned());
        values.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM companies WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "company.delete",
            "company",
            Some(id),
            json!({"name": before.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
