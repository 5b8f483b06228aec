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
    (&["last name", "lastname", "last_name", "surname", "family name", "фамилия"], || Target::LastName),
    (&["middle name", "middle_name", "patronymic", "отчество"], || Target::MiddleName),
    (&["name", "full name", "full_name", "contact", "contact name", "фио", "ф.и.о.", "ф. и. о.", "контакт", "контактное лицо", "имя контакта"], || {
        Target::FullName
    }),
    (&["phone", "phones", "telephone", "tel", "tel.", "phone number", "телефон", "телефоны", "тел", "тел.", "номер", "номер телефона"], || {
        Target::Phone(PhoneKind::Other)
    }),
    (&["mobile", "mobile phone", "cell", "cell phone", "мобильный", "мобильный телефон", "сотовый", "моб. телефон"], || Target::Phone(PhoneKind::Mobile)),
    (&["work phone", "office phone", "рабочий", "рабочий телефон", "раб. телефон"], || Target::Phone(PhoneKind::Work)),
    (&["home phone", "домашний", "домашний телефон"], || Target::Phone(PhoneKind::Home)),
    (&["email", "e-mail", "emails", "mail", "email address", "почта", "эл. почта", "электронная почта", "e-mail адрес"], || Target::Email),
    (&["company", "company name", "organization", "organisation", "account", "компания", "организация", "название компании", "контрагент"], || {
        Target::Company
    }),
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
    pub fn from_headers(headers: &[String], custom: &[CustomFieldDef]) -> Result<ColumnMap, ImportError> {
        let targets: Vec<Target> = headers
            .iter()
            .map(|h| {
                let norm = normalise(h);
                if let Some((_, make)) = SYNONYMS.iter().find(|(names, _)| names.contains(&norm.as_str())) {
                    return make();
                }
                let key = norm.strip_prefix("custom.").unwrap_or(&norm);
                custom.iter().find(|d| d.key == key || d.label.to_lowercase() == norm).map(|d| Target::Custom(d.clone())).unwrap_or(Target::Ignore)
            })
            .collect();
        let usable = targets.iter().any(|t| matches!(t, Target::FirstName | Target::LastName | Target::FullName | Target::Phone(_) | Target::Email));
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
            .filter(|(h, t)| **t == Target::Ignore && !matches!(normalise(h).as_str(), "id" | "created_at" | "updated_at" | "created" | "создан" | ""))
            .map(|(h, _)| h.clone())
            .collect()
    }
}
