//! Custom field definitions and values. Values live in one narrow table keyed by
//! (entity, record, field) with a folded search key, so any field is filterable with an index.

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::custom_field::validate_definition;
use switchboard_core::entity::CustomValues;
use switchboard_core::text::search_key;
use switchboard_core::{CustomFieldDef, EntityKind, FieldType, FieldValueError, new_id};

use crate::sql::{Sql, flag, parse_col};
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A custom field to define.
#[derive(Debug, Clone)]
pub struct NewCustomField {
    /// Which records carry it.
    pub entity: EntityKind,
    /// Machine name.
    pub key: String,
    /// What people see.
    pub label: String,
    /// Value type.
    pub field_type: FieldType,
    /// Choices of a choice field.
    pub choices: Vec<String>,
    /// Required on create.
    pub required: bool,
}

/// Changes to a custom field; absent fields stay. The key, record kind and type are fixed
/// (stored values were validated against them).
#[derive(Debug, Clone, Default)]
pub struct FieldChanges {
    /// What people see.
    pub label: Option<String>,
    /// Choices of a choice field (values already stored keep their old choice).
    pub choices: Option<Vec<String>>,
    /// Required on create.
    pub required: Option<bool>,
}

fn def_from_row(row: &AnyRow) -> Result<CustomFieldDef, StoreError> {
    let choices: String = row.try_get("choices")?;
    Ok(CustomFieldDef {
        id: row.try_get("id")?,
        entity: parse_col(row, "entity")?,
        key: row.try_get("key")?,
        label: row.try_get("label")?,
        field_type: parse_col(row, "field_type")?,
        choices: serde_json::from_str(&choices).unwrap_or_default(),
        required: flag(row, "required")?,
    })
}

fn field_error(err: FieldValueError) -> StoreError {
    let field = match &err {
        FieldValueError::BadValue { key, .. }
        | FieldValueError::Missing { key }
        | FieldValueError::Undefined { key } => {
            format!("custom.{key}")
        }
        FieldValueError::InvalidKey(_) => "key".into(),
        FieldValueError::NoChoices => "choices".into(),
        FieldValueError::UnknownEntity(_) => "entity".into(),
        FieldValueError::UnknownType(_) => "field_type".into(),
    };
    StoreError::Invalid { field, reason: err.to_string() }
}

impl Store {
    /// Defines a custom field.
    pub async fn create_custom_field(
        &self,
        actor: &Actor,
        new: NewCustomField,
    ) -> Result<CustomFieldDef, StoreError> {
        let choices: Vec<String> =
            new.choices.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
        validate_definition(&new.key, new.field_type, &choices).map_err(field_error)?;
        if new.label.trim().is_empty() {
            return Err(StoreError::invalid("label", "must not be empty"));
        }
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM custom_field_defs WHERE entity = ");
        dup.bind(new.entity.as_str().to_owned()).push(" AND key = ").bind(new.key.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "key".into(),
                value: new.key,
                existing_id: row.try_get("id")?,
            });
        }
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO custom_field_defs (id, entity, key, label, field_type, choices, required, position, created_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(new.entity.as_str().to_owned())
            .push(", ")
            .bind(new.key.clone());
        sql.push(", ")
            .bind(new.label.trim().to_owned())
            .push(", ")
            .bind(new.field_type.as_str().to_owned());
        sql.push(", ").bind(json!(choices).to_string()).push(", ").bind(i64::from(new.required));
        sql.push(", (SELECT COUNT(*) FROM custom_field_defs), ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "custom_field.create",
            "custom_field",
            Some(&id),
            json!({"entity": new.entity, "key": new.key, "type": new.field_type, "choices": choices, "required": new.required}),
        )
        .await?;
        tx.commit().await?;
        self.forget_field_defs();
        self.list_custom_fields(Some(new.entity))
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::not_found("custom_field"))
    }

    /// The custom field definitions, of one entity or of all.
    pub async fn list_custom_fields(
        &self,
        entity: Option<EntityKind>,
    ) -> Result<Vec<CustomFieldDef>, StoreError> {
        custom_field_defs(entity).fetch_all(&self.pool).await?.iter().map(def_from_row).collect()
    }

    /// Changes a definition's label, choices or whether it is required.
    pub async fn update_custom_field(
        &self,
        actor: &Actor,
        id: &str,
        changes: FieldChanges,
    ) -> Result<CustomFieldDef, StoreError> {
        let before = self
            .list_custom_fields(None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::not_found("custom_field"))?;
        let label = match changes.label {
            Some(l) if l.trim().is_empty() => {
                return Err(StoreError::invalid("label", "must not be empty"));
            }
            Some(l) => l.trim().to_owned(),
            None => before.label.clone(),
        };
        let choices: Vec<String> = match changes.choices {
            Some(list) => {
                list.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
            }
            None => before.choices.clone(),
        };
        validate_definition(&before.key, before.field_type, &choices).map_err(field_error)?;
        let required = changes.required.unwrap_or(before.required);
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE custom_field_defs SET label = ");
        sql.bind(label.clone())
            .push(", choices = ")
            .bind(json!(choices).to_string())
            .push(", required = ")
            .bind(i64::from(required));
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        let detail = json!({"key": before.key, "before": {"label": before.label, "choices": before.choices, "required": before.required}, "after": {"label": label, "choices": choices, "required": required}});
        audit::record(&mut tx, actor, "custom_field.update", "custom_field", Some(id), detail)
            .await?;
        tx.commit().await?;
        self.forget_field_defs();
        self.list_custom_fields(None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::not_found("custom_field"))
    }

    /// Removes a definition and every value of it.
    pub async fn delete_custom_field(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let def = self
            .list_custom_fields(None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::not_found("custom_field"))?;
        let mut tx = self.begin_write().await?;
        let mut values = Sql::new("DELETE FROM custom_field_values WHERE entity = ");
        values.bind(def.entity.as_str().to_owned()).push(" AND field_key = ").bind(def.key.clone());
        values.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM custom_field_defs WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "custom_field.delete",
            "custom_field",
            Some(id),
            json!({"entity": def.entity, "key": def.key}),
        )
        .await?;
        tx.commit().await?;
        self.forget_field_defs();
        Ok(())
    }

    /// How long read paths trust their copy of the definitions (another node may change them).
    const FIELD_DEFS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

    async fn cached_field_defs(&self) -> Result<Vec<CustomFieldDef>, StoreError> {
        if let Ok(guard) = self.field_defs.read()
            && let Some((at, defs)) = guard.as_ref()
            && at.elapsed() < Self::FIELD_DEFS_TTL
        {
            return Ok(defs.clone());
        }
        let defs = self.list_custom_fields(None).await?;
        if let Ok(mut guard) = self.field_defs.write() {
            *guard = Some((std::time::Instant::now(), defs.clone()));
        }
        Ok(defs)
    }

    fn forget_field_defs(&self) {
        if let Ok(mut guard) = self.field_defs.write() {
            *guard = None;
        }
    }

    /// Validates `values` against the entity's definitions and writes them. On create, missing
    /// required fields are refused; a `null` value clears the field.
    pub(crate) async fn write_custom_values(
        &self,
        conn: &mut AnyConnection,
        entity: EntityKind,
        entity_id: &str,
        values: &CustomValues,
        creating: bool,
    ) -> Result<(), StoreError> {
        if values.is_empty() && !creating {
            return Ok(());
        }
        // Read through the transaction's own connection: a second pool connection taken
        // while this one holds the write lock can deadlock a busy pool.
        let defs: Vec<CustomFieldDef> = custom_field_defs(Some(entity))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(def_from_row)
            .collect::<Result<_, _>>()?;
        let mut validated = Vec::with_capacity(values.len());
        for (key, value) in values {
            let def = defs
                .iter()
                .find(|d| &d.key == key)
                .ok_or_else(|| field_error(FieldValueError::Undefined { key: key.clone() }))?;
            validated.push((key.clone(), def.validate(value).map_err(field_error)?));
        }
        if creating {
            for def in defs.iter().filter(|d| d.required) {
                let present = validated.iter().any(|(k, v)| k == &def.key && v.is_some());
                if !present {
                    return Err(field_error(FieldValueError::Missing { key: def.key.clone() }));
                }
            }
        }
        for (key, value) in validated {
            let mut clear = Sql::new("DELETE FROM custom_field_values WHERE entity = ");
            clear
                .bind(entity.as_str().to_owned())
                .push(" AND entity_id = ")
                .bind(entity_id.to_owned());
            clear.push(" AND field_key = ").bind(key.clone());
            clear.execute(&mut *conn).await?;
            if let Some(value) = value {
                let mut sql = Sql::new(
                    "INSERT INTO custom_field_values (entity, entity_id, field_key, value_text, value_key, value_number) VALUES (",
                );
                sql.bind(entity.as_str().to_owned())
                    .push(", ")
                    .bind(entity_id.to_owned())
                    .push(", ")
                    .bind(key);
                sql.push(", ").bind(value.text.clone()).push(", ").bind(search_key(&[&value.text]));
                sql.push(", ").bind(value.number).push(")");
                sql.execute(&mut *conn).await?;
            }
        }
        Ok(())
    }

    /// Custom values of several records at once, by record id.
    pub(crate) async fn load_custom_values(
        &self,
        entity: EntityKind,
        ids: &[String],
    ) -> Result<HashMap<String, CustomValues>, StoreError> {
        let mut out: HashMap<String, CustomValues> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let types: HashMap<String, FieldType> = self
            .cached_field_defs()
            .await?
            .into_iter()
            .filter(|d| d.entity == entity)
            .map(|d| (d.key, d.field_type))
            .collect();
        if types.is_empty() {
            return Ok(out);
        }
        for chunk in ids.chunks(500) {
            let mut sql = Sql::bulk(
                self.backend,
                "SELECT entity_id, field_key, value_text, value_number FROM custom_field_values WHERE entity = ",
            );
            sql.bind(entity.as_str().to_owned())
                .push(" AND entity_id IN ")
                .bind_list(chunk.iter().cloned());
            for row in sql.fetch_all(&self.pool).await? {
                let id: String = row.try_get("entity_id")?;
                let key: String = row.try_get("field_key")?;
                let text: String = row.try_get("value_text")?;
                let number: Option<f64> = row.try_get("value_number")?;
                let value = match (types.get(&key), number) {
                    (Some(FieldType::Number), Some(n)) => {
                        serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
                    }
                    _ => Value::String(text),
                };
                out.entry(id).or_default().insert(key, value);
            }
        }
        Ok(out)
    }
}

/// Appends ` AND EXISTS (...)` conditions matching custom field `key = value` (case-folded).
pub(crate) fn push_custom_filters(
    sql: &mut Sql,
    entity: EntityKind,
    id_column: &str,
    filters: &[(String, String)],
) {
    for (key, value) in filters {
        sql.push(" AND EXISTS (SELECT 1 FROM custom_field_values cf WHERE cf.entity = ")
            .bind(entity.as_str().to_owned());
        sql.push(&format!(" AND cf.entity_id = {id_column} AND cf.field_key = ")).bind(key.clone());
        sql.push(" AND cf.value_key = ").bind(search_key(&[value])).push(")");
    }
}

/// The query for the definitions of one entity kind, or all.
fn custom_field_defs(entity: Option<EntityKind>) -> Sql {
    let mut sql = Sql::new(
        "SELECT id, entity, key, label, field_type, choices, required FROM custom_field_defs",
    );
    if let Some(entity) = entity {
        sql.push(" WHERE entity = ").bind(entity.as_str().to_owned());
    }
    sql.push(" ORDER BY entity, position, key");
    sql
}
