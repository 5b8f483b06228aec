//! Where recordings live: `YYYY/MM/DD/<call id>.wav` under the configured root (UTC date of the
//! call). Paths are made here from call ids and stored relative to the root; when a file is
//! served its stored path is checked again, so nothing a user sends can point outside the root.

use std::path::{Component, Path, PathBuf};

use crate::EpochMs;

/// The (year, month, day) of an epoch-ms time, UTC (proleptic Gregorian).
pub fn civil_date(at: EpochMs) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm.
    let days = at.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The path of a call's recording relative to the root; `None` for an id that is not a plain
/// name (letters, digits, `-`, `_`).
pub fn relative_path(call_id: &str, at: EpochMs) -> Option<String> {
    if !safe_name(call_id) {
        return None;
    }
    let (y, m, d) = civil_date(at);
    Some(format!("{y:04}/{m:02}/{d:02}/{call_id}.wav"))
}

/// The file a stored relative path names under `root`; `None` unless every part is a plain
/// name (no `..`, no root, no drive, nothing but letters, digits, `-`, `_` and one `.wav`).
pub fn resolve(root: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    let mut parts = rel.components().peekable();
    let mut path = root.to_path_buf();
    let mut count = 0;
    while let Some(part) = parts.next() {
        let Component::Normal(name) = part else { return None };
        let name = name.to_str()?;
        let ok = if parts.peek().is_none() {
            name.strip_suffix(".wav").is_some_and(safe_name)
        } else {
            safe_name(name)
        };
        if !ok {
            return None;
        }
        path.push(name);
        count += 1;
    }
    (count > 0).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400_000), (2000, 2, 29));
        // 2026-11-24 23:59:59.999 UTC and the next millisecond.
        assert_eq!(civil_date(1_795_564_799_999), (2026, 11, 24));
        assert_eq!(civil_date(1_795_564_800_000), (2026, 11, 25));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }

    #[test]
    fn paths_stay_under_the_root() {
        let p = relative_path("019a-7bc", 1_795_564_799_999).unwrap();
        assert_eq!(p, "2026/11/24/019a-7bc.wav");
        assert_eq!(resolve(Path::new("/r"), &p), Some(PathBuf::from("/r/2026/11/24/019a-7bc.wav")));
        assert_eq!(relative_path("../x", 0), None);
        assert_eq!(relative_path("a/b", 0), None);
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "2026/../../x.wav",
            "2026/11/x.txt",
            "",
            "a/.wav",
            "2026/11/%2e%2e.wav",
            "a\\b.wav",
        ] {
            assert_eq!(resolve(Path::new("/r"), bad), None, "{bad}");
        }
    }
}
