//! Phone numbers, parsed once at the edge and stored as E.164.
//!
//! Russian call centres see the same number typed many ways: `8 (916) 123-45-67`,
//! `+7 916 123 45 67`, `79161234567`, `9161234567`. [`PhoneNumber::parse`] turns each of them
//! into `+79161234567`, so a lookup by any spelling finds the contact. Extensions
//! (`доб. 123`, `ext 123`, `x123`, `#123`) are split off and kept beside the number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The region used to read numbers written without a country code (ISO 3166 alpha-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    /// Russia, the default region.
    pub const RU: Region = Region(phonenumber::country::Id::RU);

    /// The region's two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::RU
    }
}

impl FromStr for Region {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        phonenumber::country::Id::from_str(&s.trim().to_ascii_uppercase())
            .map(Region)
            .map_err(|_| PhoneError::UnknownRegion { input: s.to_owned() })
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The text holds no number that is valid in any numbering plan.
    #[error("not a valid phone number: {input:?}")]
    Invalid {
        /// What was given.
        input: String,
    },
    /// The text is not a known region code.
    #[error("unknown region code: {input:?}")]
    UnknownRegion {
        /// What was given.
        input: String,
    },
}

/// A valid phone number in E.164 form, with an optional extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhoneNumber {
    e164: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extension: Option<String>,
}

/// Words that introduce an extension, lowercase. Russian first: `доб.` is what our users write.
const EXTENSION_MARKERS: &[&str] = &["доб.", "доб", "вн.", "ext.", "ext", "x", "#", ";ext="];

impl PhoneNumber {
    /// Parses `input` as written by a person or a PBX, reading national numbers in `region`.
    pub fn parse(input: &str, region: Region) -> Result<PhoneNumber, PhoneError> {
        let invalid = || PhoneError::Invalid { input: input.to_owned() };
        let (main, extension) = split_extension(input);
        let digits: String = main.chars().filter(char::is_ascii_digit).collect();
        // Anything other than digits, separators and one leading plus is not a phone number.
        let clean = main.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/' | '+' | '\u{a0}')
        });
        if !clean || digits.len() < 4 || digits.len() > 17 || main.matches('+').count() > 1 {
            return Err(invalid());
        }
        let e164 = parse_e164(main, &digits, region).ok_or_else(invalid)?;
        Ok(PhoneNumber { e164, extension })
    }

    /// Builds a number from its stored parts without re-validating (for rows read back from the
    /// store, which only ever holds parsed numbers).
    pub fn from_stored(e164: String, extension: Option<String>) -> PhoneNumber {
        PhoneNumber { e164, extension: extension.filter(|e| !e.is_empty()) }
    }

    /// The number in E.164 form, e.g. `+79161234567`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The extension, if one was written.
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// The number in international format for display, e.g. `+7 916 123-45-67`.
    pub fn international(&self) -> String {
        match phonenumber::parse(None, &self.e164) {
            Ok(n) => n.format().mode(phonenumber::Mode::International).to_string(),
            Err(_) => self.e164.clone(),
        }
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.extension {
            Some(ext) => write!(f, "{};ext={ext}", self.e164),
            None => f.write_str(&self.e164),
        }
    }
}

fn split_extension(input: &str) -> (&str, Option<String>) {
    let lower = input.to_lowercase();
    // Only look for a marker after the first digit, so a leading `#` or `x` is not an extension.
    let first_digit = lower.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    let mut best: Option<(usize, usize)> = None;
    for marker in EXTENSION_MARKERS {
        if let Some(pos) = lower[first_digit..].find(marker).map(|p| p + first_digit)
            && best.is_none_or(|(b, _)| pos < b)
        {
            best = Some((pos, marker.len()));
        }
    }
    let Some((pos, len)) = best else { return (input, None) };
    // `to_lowercase` keeps byte offsets for the ASCII and Cyrillic letters we match on.
    if !input.is_char_boundary(pos) || !input.is_char_boundary(pos + len) {
        return (input, None);
    }
    let ext: String = input[pos + len..].chars().filter(char::is_ascii_digit).collect();
    let rest_is_digits = input[pos + len..]
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_whitespace() || c == '.' || c == ':');
    if ext.is_empty() || ext.len() > 10 || !rest_is_digits {
        // Not an extension after all: leave the text as is and let validation decide.
        return (input, None);
    }
    (input[..pos].trim_end_matches([' ', ',', ';']), Some(ext))
}

/// Numbers of the shared +7 zone (Russia, Kazakhstan), read by hand.
///
/// The `phonenumber` crate strips a leading `8` from the national number even after `+7`, as if
/// it were the trunk prefix, so it turns `+7 812 ...` (St Petersburg) and `8 800 ...` (toll
/// free) into wrong numbers. Zone 7 has a simple closed plan: ten national digits, the first of
/// which is 3, 4, 8 or 9 (Russia) or 6, 7 (Kazakhstan).
fn parse_zone7(as_written: bool, digits: &str, region: Region) -> Option<String> {
    let national = if as_written {
        digits.strip_prefix('7').filter(|n| n.len() == 10)?
    } else if matches!(region.code(), "RU" | "KZ") {
        match digits.len() {
            11 if digits.starts_with('8') || digits.starts_with('7') => &digits[1..],
            10 => digits,
            _ => return None,
        }
    } else {
        return None;
    };
    national.starts_with(['3', '4', '6', '7', '8', '9']).then(|| format!("+7{national}"))
}

fn parse_e164(main: &str, digits: &str, region: Region) -> Option<String> {
    let as_written = main.trim().starts_with('+');
    if let Some(e164) = parse_zone7(as_written, digits, region) {
        return Some(e164);
    }
    if as_written && digits.starts_with('7') {
        // A +7 number that is not ten national digits is not a number.
        return None;
    }
    let mut candidates: Vec<String> = Vec::with_capacity(3);
    if as_written {
        candidates.push(format!("+{digits}"));
    } else {
        // A national spelling first (`8 916 ...`, `916 ...`), then the same digits read as
        // international without the plus (`7916...`, `44...`), as PBXes often send them.
        candidates.push(digits.to_owned());
        candidates.push(format!("+{digits}"));
        // International dialling prefixes written out: 00 (most of the world), 810 (Russia).
        if let Some(rest) = digits.strip_prefix("00").or_else(|| digits.strip_prefix("810")) {
            candidates.push(format!("+{rest}"));
        }
    }
    for candidate in candidates {
        if let Ok(number) = phonenumber::parse(Some(region.0), &candidate)
            && phonenumber::is_valid(&number)
        {
            return Some(number.format().mode(phonenumber::Mode::E164).to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str) -> String {
        PhoneNumber::parse(input, Region::RU).expect(input).e164().to_owned()
    }

    #[test]
    fn russian_spellings_are_one_number() {
        for spelling in [
            "8 (916) 123-45-67",
            "+7 916 123 45 67",
            "+7 916 1234567",
            "79161234567",
            "9161234567",
            "8-916-123-45-67",
            "+7(916)123-45-67",
            "8 916 123 45 67",
            "  +7 916 123-45-67  ",
        ] {
            assert_eq!(e164(spelling), "+79161234567", "{spelling}");
        }
    }

    #[test]
    fn russian_landlines_and_toll_free() {
        assert_eq!(e164("8 (495) 123-45-67"), "+74951234567");
        // Numbers whose national part starts with 8, which the phonenumber crate mangles.
        assert_eq!(e164("8 800 555-35-35"), "+78005553535");
        assert_eq!(e164("+7 800 555 35 35"), "+78005553535");
        assert_eq!(e164("8 (861) 234-56-78"), "+78612345678");
        assert_eq!(e164("+7 727 123 4567"), "+77271234567");
        assert_eq!(e164("+7 812 315 12 34"), "+78123151234");
    }

    #[test]
    fn international_numbers() {
        assert_eq!(e164("+44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("+1 (650) 253-0000"), "+16502530000");
        assert_eq!(e164("+49 30 1234567"), "+49301234567");
        assert_eq!(e164("00 44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("810 44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("+375 29 123-45-67"), "+375291234567");
    }

    #[test]
    fn other_default_region() {
        let gb: Region = "gb".parse().unwrap();
        let n = PhoneNumber::parse("020 7946 0958", gb).unwrap();
        assert_eq!(n.e164(), "+442079460958");
        assert!("XX".parse::<Region>().is_err());
    }

    #[test]
    fn extensions_are_kept() {
        for (input, ext) in [
            ("+7 495 123-45-67 доб. 123", "123"),
            ("8 (495) 123-45-67 доб 45", "45"),
            ("+7 495 123 45 67 ext. 9", "9"),
            ("+74951234567 x 77", "77"),
            ("+74951234567#101", "101"),
            ("+74951234567;ext=5", "5"),
        ] {
            let n = PhoneNumber::parse(input, Region::RU).expect(input);
            assert_eq!(n.e164(), "+74951234567", "{input}");
            assert_eq!(n.extension(), Some(ext), "{input}");
        }
        assert_eq!(PhoneNumber::parse("+74951234567", Region::RU).unwrap().extension(), None);
    }

    #[test]
    fn garbage_is_refused_with_the_input() {
        for bad in [
            "",
            "   ",
            "abc",
            "123",
            "+",
            "8 (916) 123-45",
            "+7 916 123 45 67 89 01",
            "phone: 8916",
            "99999999999999999999",
            "+0 123 456 789",
            "8-800-ABC",
            "12345678",
            "+7 916 123-45-67 доб. x",
            "🙂79161234567",
        ] {
            let err = PhoneNumber::parse(bad, Region::RU).expect_err(bad);
            assert_eq!(err, PhoneError::Invalid { input: bad.to_owned() });
        }
    }

    #[test]
    fn display_and_international() {
        let n = PhoneNumber::parse("8 916 123 45 67 доб. 12", Region::RU).unwrap();
        assert_eq!(n.to_string(), "+79161234567;ext=12");
        assert!(n.international().starts_with("+7 916"));
    }
}
