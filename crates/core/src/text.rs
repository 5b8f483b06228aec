//! Text helpers shared by the store and the import: search keys and email normalisation.

/// The lowercase search key for free-text filters. SQLite's `lower()` only folds ASCII, so
/// Cyrillic names are folded here, once, on write; queries fold the needle the same way.
pub fn search_key(parts: &[&str]) -> String {
    let mut key = String::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if !key.is_empty() {
            key.push(' ');
        }
        for ch in part.chars() {
            // Treat ё as е, as Russian users type both for the same name.
            let folded = if ch == 'ё' || ch == 'Ё' { 'е' } else { ch };
            key.extend(folded.to_lowercase());
        }
    }
    key
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an email address: {input:?}")]
pub struct EmailError {
    /// What was given.
    pub input: String,
}

/// Normalises an email for storage and comparison (trimmed, lowercase) after a plausibility check:
/// one `@`, a non-empty local part, a domain with a dot, no spaces.
pub fn normalize_email(input: &str) -> Result<String, EmailError> {
    let trimmed = input.trim();
    let err = || EmailError { input: input.to_owned() };
    let (local, domain) = trimmed.split_once('@').ok_or_else(err)?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !trimmed.chars().any(char::is_whitespace)
        && trimmed.len() <= 254;
    if plausible { Ok(trimmed.to_lowercase()) } else { Err(err()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_key_folds_cyrillic_and_yo() {
        assert_eq!(search_key(&["Фёдор", " ИВАНОВ ", ""]), "федор иванов");
    }

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" Ivan@Example.RU ").unwrap(), "ivan@example.ru");
        for bad in ["", "ivan", "ivan@", "@x.ru", "iv an@x.ru", "a@b", "a@b@c.ru", "a@.ru"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
