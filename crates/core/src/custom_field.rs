//! Admin-defined typed fields on contacts, companies and deals, and the validation of their values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The record kinds that carry custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A person.
    Contact,
    /// An organisation.
    Company,
    /// A sales opportunity.
    Deal,
}

impl EntityKind {
    /// The lowercase name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Contact => "contact",
            EntityKind::Company => "company",
            EntityKind::Deal => "deal",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = FieldValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "contact" => Ok(EntityKind::Contact),
            "company" => Ok(EntityKind::Company),
            "deal" => Ok(EntityKind::Deal),
            other => Err(FieldValueError::UnknownEntity(other.to_owned())),
        }
    }
}

/// The type of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text up to 1000 characters.
    Text,
    /// A finite number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of a fixed list of choices.
    Choice,
}

impl FieldType {
    /// The lowercase name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Choice => "choice",
        }
    }
}

impl FromStr for FieldType {
    type Err = FieldValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(FieldType::Text),
            "number" => Ok(FieldType::Number),
            "date" => Ok(FieldType::Date),
            "choice" => Ok(FieldType::Choice),
            other => Err(FieldValueError::UnknownType(other.to_owned())),
        }
    }
}

/// A custom field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomFieldDef {
    /// Row id.
    pub id: String,
    /// Which records carry it.
    pub entity: EntityKind,
    /// Machine name, unique per entity: lowercase letters, digits and underscores.
    pub key: String,
    /// What people see.
    pub label: String,
    /// The value type.
    pub field_type: FieldType,
    /// The allowed values of a choice field (empty otherwise).
    pub choices: Vec<String>,
    /// Whether a record must have a value on create.
    pub required: bool,
}

/// Why a custom field definition or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldValueError {
    /// The entity kind is not one of contact, company, deal.
    #[error("unknown entity {0:?} (expected contact, company or deal)")]
    UnknownEntity(String),
    /// The field type is not one of text, number, date, choice.
    #[error("unknown field type {0:?} (expected text, number, date or choice)")]
    UnknownType(String),
    /// A key must be 1-64 lowercase letters, digits or underscores, starting with a letter.
    #[error(
        "invalid key {0:?}: use 1-64 lowercase letters, digits and underscores, starting with a letter"
    )]
    InvalidKey(String),
    /// A choice field needs at least one choice.
    #[error("a choice field needs at least one choice")]
    NoChoices,
    /// No field of that key is defined for the entity.
    #[error("no custom field {key:?} is defined")]
    Undefined {
        /// The key given.
        key: String,
    },
    /// The value does not fit the field's type.
    #[error("{key}: {reason}")]
    BadValue {
        /// The field key.
        key: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// A required field has no value.
    #[error("{key} is required")]
    Missing {
        /// The field key.
        key: String,
    },
}

/// A validated value in the form it is stored and searched in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFieldValue {
    /// The canonical text (dates as `YYYY-MM-DD`, numbers without trailing zeros).
    pub text: String,
    /// The numeric value of number fields, for range filters.
    pub number: Option<f64>,
}

impl StoredFieldValue {
    /// The JSON value returned by the API for this stored value.
    pub fn to_json(&self, field_type: FieldType) -> Value {
        match (field_type, self.number) {
            (FieldType::Number, Some(n)) => {
                serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
            }
            _ => Value::String(self.text.clone()),
        }
    }
}

/// Checks a definition's key and choices.
pub fn validate_definition(
    key: &str,
    field_type: FieldType,
    choices: &[String],
) -> Result<(), FieldValueError> {
    let key_ok = !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        return Err(FieldValueError::InvalidKey(key.to_owned()));
    }
    if field_type == FieldType::Choice && choices.iter().all(|c| c.trim().is_empty()) {
        return Err(FieldValueError::NoChoices);
    }
    Ok(())
}

impl CustomFieldDef {
    /// Validates one value for this field. `null` clears the value and yields `None`.
    pub fn validate(&self, value: &Value) -> Result<Option<StoredFieldValue>, FieldValueError> {
        let bad = |reason: &str| FieldValueError::BadValue {
            key: self.key.clone(),
            reason: reason.to_owned(),
        };
        if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let stored = match self.field_type {
            FieldType::Text => {
                let text = value.as_str().ok_or_else(|| bad("expected text"))?.trim();
                if text.chars().count() > 1000 {
                    return Err(bad("longer than 1000 characters"));
                }
                StoredFieldValue { text: text.to_owned(), number: None }
            }
            FieldType::Number => {
                let number = match value {
                    Value::Number(n) => n.as_f64(),
                    // Spreadsheets and Russian users write decimal commas.
                    Value::String(s) => {
                        s.trim().replace(',', ".").replace(' ', "").parse::<f64>().ok()
                    }
                    _ => None,
                }
                .filter(|n| n.is_finite())
                .ok_or_else(|| bad("expected a number"))?;
                StoredFieldValue { text: format_number(number), number: Some(number) }
            }
            FieldType::Date => {
                let text = value.as_str().ok_or_else(|| bad("expected a date YYYY-MM-DD"))?.trim();
                let date = parse_date(text).ok_or_else(|| bad("expected a date YYYY-MM-DD"))?;
                StoredFieldValue { text: date, number: None }
            }
            FieldType::Choice => {
                let text = value.as_str().ok_or_else(|| bad("expected one of the choices"))?.trim();
                let choice = self
                    .choices
                    .iter()
                    .find(|c| c.as_str() == text || c.to_lowercase() == text.to_lowercase())
                    .ok_or_else(|| bad(&format!("expected one of: {}", self.choices.join(", "))))?;
                StoredFieldValue { text: choice.clone(), number: None }
            }
        };
        Ok(Some(stored))
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// Accepts `YYYY-MM-DD` and the Russian `DD.MM.YYYY`; returns `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<String> {
    let iso = time::macros::format_description!("[year]-[month]-[day]");
    let ru = time::macros::format_description!("[day].[month].[year]");
    let date = time::Date::parse(text, &iso).or_else(|_| time::Date::parse(text, &ru)).ok()?;
    date.format(&iso).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(field_type: FieldType, choices: &[&str]) -> CustomFieldDef {
        CustomFieldDef {
            id: "x".into(),
            entity: EntityKind::Contact,
            key: "k".into(),
            label: "K".into(),
            field_type,
            choices: choices.iter().map(|s| s.to_string()).collect(),
            required: false,
        }
    }

    #[test]
    fn values_are_validated_and_normalised() {
        let num = def(FieldType::Number, &[]);
        assert_eq!(num.validate(&json!(12)).unwrap().unwrap().text, "12");
        assert_eq!(num.validate(&json!("1 234,5")).unwrap().unwrap().number, Some(1234.5));
        assert!(num.validate(&json!("abc")).is_err());
        assert!(num.validate(&json!(true)).is_err());

        let date = def(FieldType::Date, &[]);
        assert_eq!(date.validate(&json!("2026-02-28")).unwrap().unwrap().text, "2026-02-28");
        assert_eq!(date.validate(&json!("01.03.2026")).unwrap().unwrap().text, "2026-03-01");
        assert!(date.validate(&json!("2026-02-30")).is_err());

        let choice = def(FieldType::Choice, &["VIP", "Обычный"]);
        assert_eq!(choice.validate(&json!("vip")).unwrap().unwrap().text, "VIP");
        assert!(choice.validate(&json!("gold")).is_err());

        let text = def(FieldType::Text, &[]);
        assert_eq!(text.validate(&json!(null)).unwrap(), None);
        assert!(text.validate(&json!("x".repeat(1001))).is_err());
        assert!(text.validate(&json!(5)).is_err());
    }

    #[test]
    fn definitions() {
        assert!(validate_definition("loyalty_level", FieldType::Text, &[]).is_ok());
        assert!(validate_definition("Bad Key", FieldType::Text, &[]).is_err());
        assert!(validate_definition("1st", FieldType::Text, &[]).is_err());
        assert_eq!(
            validate_definition("tier", FieldType::Choice, &[]),
            Err(FieldValueError::NoChoices)
        );
    }
}
