//! Recognising columns by their headers.

use switchboard_core::CustomFieldDef;
use switchboard_core::entity::PhoneKind;

use crate::ImportError;

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Patronymic.
    MiddleName,
    /// Whole name in one cell.
    FullName,
    /// One or more phone numbers of a kind.
    Phone(PhoneKind),
    /// One or more emails.
    Email,
    /// Company name.
    Company,
    /// Job title.
    Position,
    /// Owner's login.
    Owner,
    /// A custom field.
    Custom(CustomFieldDef),
    /// Not imported.
    Ignore,
}

/// Keys naming the fixed targets, as the browser's column mapping sends them; a custom
/// field is `custom.<key>`.
pub const TARGET_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "middle_name",
    "full_name",
    "phone",
    "mobile",
    "work_phone",
    "home_phone",
    "email",
    "company",
    "position",
    "owner",
    "ignore",
];

impl Target {
    /// The key naming this target (see [`TARGET_KEYS`]).
    pub fn key(&self) -> String {
        match self {
            Target::FirstName => "first_name".into(),
            Target::LastName => "last_name".into(),
            Target::MiddleName => "middle_name".into(),
            Target::FullName => "full_name".into(),
            Target::Phone(PhoneKind::Mobile) => "mobile".into(),
            Target::Phone(PhoneKind::Work) => "work_phone".into(),
            Target::Phone(PhoneKind::Home) => "home_phone".into(),
            Target::Phone(PhoneKind::Other) => "phone".into(),
            Target::Email => "email".into(),
            Target::Company => "company".into(),
            Target::Position => "position".into(),
            Target::Owner => "owner".into(),
            Target::Custom(def) => format!("custom.{}", def.key),
            Target::Ignore => "ignore".into(),
        }
    }

    /// The target a key names, or `None` for an unknown key.
    pub fn from_key(key: &str, custom: &[CustomFieldDef]) -> Option<Target> {
        Some(match key {
            "first_name" => Target::FirstName,
            "last_name" => Target::LastName,
            "middle_name" => Target::MiddleName,
            "full_name" => Target::FullName,
            "phone" => Target::Phone(PhoneKind::Other),
            "mobile" => Target::Phone(PhoneKind::Mobile),
            "work_phone" => Target::Phone(PhoneKind::Work),
            "home_phone" => Target::Phone(PhoneKind::Home),
            "email" => Target::Email,
            "company" => Target::Company,
            "position" => Target::Position,
            "owner" => Target::Owner,
            "ignore" | "" => Target::Ignore,
            other => Target::Custom(
                custom
                    .iter()
                    .find(|d| Some(d.key.as_str()) == other.strip_prefix("custom."))?
                    .clone(),
            ),
        })
    }
}

/// The header row and what each column holds.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// The headers as written.
    pub headers: Vec<String>,
    /// One target per header.
    pub targets: Vec<Target>,
}

/// Header spellings (lowercase) and the target they name.
type Synonyms = (&'static [&'static str], fn() -> Target);

const SYNONYMS: &[Synonyms] = &[
    (&["first name", "firstname", "first_name", "given name", "имя"], || Target::FirstName),
    (&["last name", "lastname", "last_name", "surname", "family name", "фамилия"], || {
        Target::LastName
    }),
    (&["middle name", "middle_name", "patronymic", "отчество"], || Target::MiddleName),
    (
        &[
            "name",
            "full name",
            "full_name",
            "contact",
            "contact name",
            "фио",
            "ф.и.о.",
            "ф. и. о.",
            "контакт",
            "контактное лицо",
            "имя контакта",
        ],
        || Target::FullName,
    ),
    (
        &[
            "phone",
            "phones",
            "telephone",
            "tel",
            "tel.",
            "phone number",
            "телефон",
            "телефоны",
            "тел",
            "тел.",
            "номер",
            "номер телефона",
        ],
        || Target::Phone(PhoneKind::Other),
    ),
    (
        &[
            "mobile",
            "mobile phone",
            "cell",
            "cell phone",
            "мобильный",
            "мобильный телефон",
            "сотовый",
            "моб. телефон",
        ],
        || Target::Phone(PhoneKind::Mobile),
    ),
    (
        &["work phone", "office phone", "рабочий", "рабочий телефон", "раб. телефон"],
        || Target::Phone(PhoneKind::Work),
    ),
    (&["home phone", "домашний", "домашний телефон"], || {
        Target::Phone(PhoneKind::Home)
    }),
    (
        &[
            "email",
            "e-mail",
            "emails",
            "mail",
            "email address",
            "почта",
            "эл. почта",
            "электронная почта",
            "e-mail адрес",
        ],
        || Target::Email,
    ),
    (
        &[
            "company",
            "company name",
            "organization",
            "organisation",
            "account",
            "компания",
            "организация",
            "название компании",
            "контрагент",
        ],
        || Target::Company,
    ),
    (&["position", "title", "job title", "role", "должность"], || Target::Position),
    (&["owner", "owner login", "responsible", "ответственный", "менеджер"], || Target::Owner),
    (&["id", "created_at", "updated_at", "created", "создан"], || Target::Ignore),
];

fn normalise(header: &str) -> String {
    header.trim().trim_end_matches([':', '*']).trim().to_lowercase().replace('ё', "е")
}

impl ColumnMap {
    /// Maps headers to targets. A header may also name a custom field by key (`tier` or
    /// `custom.tier`) or label. Fails when nothing identifies a contact (no name, phone or email).
    pub fn from_headers(
        headers: &[String],
        custom: &[CustomFieldDef],
    ) -> Result<ColumnMap, ImportError> {
        let targets: Vec<Target> = headers
            .iter()
            .map(|h| {
                let norm = normalise(h);
                if let Some((_, make)) =
                    SYNONYMS.iter().find(|(names, _)| names.contains(&norm.as_str()))
                {
                    return make();
                }
                let key = norm.strip_prefix("custom.").unwrap_or(&norm);
                custom
                    .iter()
                    .find(|d| d.key == key || d.label.to_lowercase() == norm)
                    .map(|d| Target::Custom(d.clone()))
                    .unwrap_or(Target::Ignore)
            })
            .collect();
        ColumnMap::checked(headers, targets)
    }

    /// Maps headers to the targets the user chose, one key per header (see [`TARGET_KEYS`]).
    /// An unknown key is an error naming its column; so is a map that identifies no contact.
    pub fn from_keys(
        headers: &[String],
        keys: &[String],
        custom: &[CustomFieldDef],
    ) -> Result<ColumnMap, ImportError> {
        if keys.len() != headers.len() {
            return Err(ImportError::Mapping {
                column: keys.len(),
                reason: format!("{} targets for {} columns", keys.len(), headers.len()),
            });
        }
        let targets = keys
            .iter()
            .enumerate()
            .map(|(column, key)| {
                Target::from_key(key, custom).ok_or_else(|| ImportError::Mapping {
                    column,
                    reason: format!("unknown target {key:?}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        ColumnMap::checked(headers, targets)
    }

    fn checked(headers: &[String], targets: Vec<Target>) -> Result<ColumnMap, ImportError> {
        let usable = targets.iter().any(|t| {
            matches!(
                t,
                Target::FirstName
                    | Target::LastName
                    | Target::FullName
                    | Target::Phone(_)
                    | Target::Email
            )
        });
        if !usable {
            return Err(ImportError::NoUsableColumns(headers.join(", ")));
        }
        Ok(ColumnMap { headers: headers.to_vec(), targets })
    }

    /// Headers of columns that will not be imported (worth telling the user).
    pub fn ignored(&self) -> Vec<String> {
        self.headers
            .iter()
            .zip(&self.targets)
            .filter(|(h, t)| {
                **t == Target::Ignore
                    && !matches!(
                        normalise(h).as_str(),
                        "id" | "created_at" | "updated_at" | "created" | "создан" | ""
                    )
            })
            .map(|(h, _)| h.clone())
            .collect()
    }
}
