//! Business hours: when a call center answers, as data.
//!
//! A [`Schedule`] is weekly hours in an IANA time zone (the call center's, e.g.
//! `Europe/Moscow`) plus exceptions by date: a holiday has no hours, a shortened day or a
//! working Saturday has its own. [`Schedule::is_open`] answers for an instant; the call flow's
//! `hours` step and a queue's schedule ask it when a call arrives.
//!
//! The Russian production calendar ("производственный календарь", as published on
//! data.gov.ru: a row per year, a column per month listing its non-working days, `*` marking a
//! shortened pre-holiday day and `+` a holiday moved from a weekend) is read by
//! [`parse_production_calendar`] and turned into exceptions by [`calendar_exceptions`]: the
//! days on which the calendar differs from a Monday-to-Friday week. The zone database is
//! bundled (`jiff`), so a machine without tzdata answers the same.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::EpochMs;

/// Minutes in a day.
const DAY_MINUTES: u16 = 24 * 60;

/// The most exceptions one schedule keeps (ten years of holidays and moved days).
pub const MAX_EXCEPTIONS: usize = 1000;

/// Open from `from` to `to`, in minutes since local midnight (`to` may be 1440, the end of
/// the day). Written `"09:00-18:00"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Span {
    /// Opening minute.
    pub from: u16,
    /// Closing minute (exclusive).
    pub to: u16,
}

impl utoipa::PartialSchema for Span {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Opening hours as HH:MM-HH:MM (24:00 for the end of the day)"))
            .examples([serde_json::json!("09:00-18:00")])
            .into()
    }
}

impl utoipa::ToSchema for Span {}

fn minute(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let at = h.checked_mul(60)?.checked_add(m)?;
    (m < 60 && at <= DAY_MINUTES).then_some(at)
}

impl TryFrom<String> for Span {
    type Error = String;

    fn try_from(text: String) -> Result<Span, String> {
        let bad = || format!("{text:?} is not HH:MM-HH:MM");
        let (from, to) = text.split_once('-').ok_or_else(bad)?;
        let (from, to) = (minute(from).ok_or_else(bad)?, minute(to).ok_or_else(bad)?);
        if from >= to {
            return Err(format!("{text:?} closes before it opens"));
        }
        Ok(Span { from, to })
    }
}

impl From<Span> for String {
    fn from(span: Span) -> String {
        span.to_string()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.from), hm(self.to))
    }
}

/// Hours for each day of the week (an empty day is closed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Week {
    /// Monday.
    pub mon: Vec<Span>,
    /// Tuesday.
    pub tue: Vec<Span>,
    /// Wednesday.
    pub wed: Vec<Span>,
    /// Thursday.
    pub thu: Vec<Span>,
    /// Friday.
    pub fri: Vec<Span>,
    /// Saturday.
    pub sat: Vec<Span>,
    /// Sunday.
    pub sun: Vec<Span>,
}

impl Week {
    /// A day's hours.
    pub fn day(&self, day: Weekday) -> &[Span] {
        match day {
            Weekday::Monday => &self.mon,
            Weekday::Tuesday => &self.tue,
            Weekday::Wednesday => &self.wed,
            Weekday::Thursday => &self.thu,
            Weekday::Friday => &self.fri,
            Weekday::Saturday => &self.sat,
            Weekday::Sunday => &self.sun,
        }
    }

    fn days(&self) -> [(&'static str, &[Span]); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    /// The hours of a usual working day: the first weekday (Monday to Friday) with any.
    fn usual(&self) -> &[Span] {
        [&self.mon, &self.tue, &self.wed, &self.thu, &self.fri]
            .into_iter()
            .find(|d| !d.is_empty())
            .map_or(&[], Vec::as_slice)
    }
}

/// Business hours: a week in a time zone, and exceptions by date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// IANA time zone the hours are in, e.g. `Europe/Moscow`.
    pub time_zone: String,
    /// Hours by day of the week.
    pub week: Week,
    /// Days with hours of their own (`YYYY-MM-DD` to the hours; none: closed all day).
    pub exceptions: BTreeMap<String, Vec<Span>>,
    /// When it was created.
    pub created_at: EpochMs,
    /// When it last changed.
    pub updated_at: EpochMs,
}

/// One thing wrong with a schedule: the field and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoursProblem {
    /// `time_zone`, `week.<day>`, `exceptions` or `exceptions.<date>`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn overlaps(spans: &[Span]) -> bool {
    let mut sorted = spans.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[1].from < w[0].to)
}

impl Schedule {
    /// Every problem with the schedule; empty when it is sound.
    pub fn validate(&self) -> Vec<HoursProblem> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: &str| {
            problems.push(HoursProblem { field, message: message.to_owned() });
        };
        if TimeZone::get(&self.time_zone).is_err() {
            problem("time_zone".into(), "not a known time zone (e.g. Europe/Moscow)");
        }
        for (day, spans) in self.week.days() {
            if overlaps(spans) {
                problem(format!("week.{day}"), "the hours overlap");
            }
        }
        if self.exceptions.len() > MAX_EXCEPTIONS {
            problem("exceptions".into(), "too many days (at most 1000)");
        }
        for (date, spans) in &self.exceptions {
            if date.parse::<Date>().is_err() || date.len() != 10 {
                problem(format!("exceptions.{date}"), "not a date (YYYY-MM-DD)");
            } else if overlaps(spans) {
                problem(format!("exceptions.{date}"), "the hours overlap");
            }
        }
        problems
    }

    /// The hours of a local date: its exception, or its day of the week.
    pub fn hours_on(&self, date: Date) -> &[Span] {
        match self.exceptions.get(&date.to_string()) {
            Some(spans) => spans,
            None => self.week.day(date.weekday()),
        }
    }

    /// Whether the call center is open at `at`. A schedule whose time zone is unknown is read
    /// in UTC (validation refuses one).
    pub fn is_open(&self, at: EpochMs) -> bool {
        let tz = TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC);
        let Ok(now) = jiff::Timestamp::from_millisecond(at) else { return false };
        let local = now.to_zoned(tz);
        let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute()))
            .unwrap_or(u16::MAX);
        self.hours_on(local.date()).iter().any(|s| s.from <= minute && minute < s.to)
    }

    /// When the call center is next open from `at` on: `at` itself while open, else the
    /// start of the next opening within a year (`None`: closed all that year).
    pub fn next_open(&self, at: EpochMs) -> Option<EpochMs> {
        if self.is_open(at) {
            return Some(at);
        }
        let tz = TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC);
        let mut date = jiff::Timestamp::from_millisecond(at).ok()?.to_zoned(tz.clone()).date();
        for _ in 0..=366 {
            let mut spans = self.hours_on(date).to_vec();
            spans.sort();
            for span in spans {
                let (hour, minute) = (span.from / 60, span.from % 60);
                let Ok(hour) = i8::try_from(hour) else { continue };
                let Ok(minute) = i8::try_from(minute) else { continue };
                let Ok(start) = date.at(hour, minute, 0, 0).to_zoned(tz.clone()) else { continue };
                let start = start.timestamp().as_millisecond();
                if start > at {
                    return Some(start);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// How the production calendar marks a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DayKind {
    /// Not a working day (a weekend, a holiday, a holiday moved from a weekend).
    NonWorking,
    /// A working day one hour shorter (the eve of a holiday).
    Shortened,
}

/// A year of the production calendar: the days it marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    /// The year.
    pub year: i16,
    /// Its marked days.
    pub days: BTreeMap<Date, DayKind>,
}

/// A row of the calendar that could not be read: its line (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CalendarProblem {
    /// The line in the file.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

const MONTHS_RU: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

/// Reads the production calendar's rows (each with its line number): a year in the first
/// column, then twelve months, each listing its non-working days (`8`, `23+`) and shortened
/// days (`22*`); further columns (totals) are ignored, and so is a header row. A row with a
/// problem is reported and left out; the others are read.
pub fn parse_production_calendar(
    rows: &[(usize, Vec<String>)],
) -> (Vec<CalendarYear>, Vec<CalendarProblem>) {
    let mut years = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (line, cells) in rows {
        let first = cells.first().map(|c| c.trim()).unwrap_or_default();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Ok(year) = first.parse::<i16>() else {
            // The header ("Год/Месяц", the months' names) or a note: only the first row may be.
            let header = cells.iter().any(|c| c.trim().to_lowercase() == MONTHS_RU[0]);
            if !header {
                problems.push(CalendarProblem {
                    line: *line,
                    reason: format!("{first:?} is not a year"),
                });
            }
            continue;
        };
        match read_year(year, cells) {
            Ok(_) if !seen.insert(year) => problems
                .push(CalendarProblem { line: *line, reason: format!("{year} is listed twice") }),
            Ok(days) => years.push(CalendarYear { year, days }),
            Err(reason) => problems.push(CalendarProblem { line: *line, reason }),
        }
    }
    (years, problems)
}

fn read_year(year: i16, cells: &[String]) -> Result<BTreeMap<Date, DayKind>, String> {
    if !(1990..=2100).contains(&year) {
        return Err(format!("{year} is not a year the calendar covers (1990-2100)"));
    }
    if cells.len() < 13 {
        return Err(format!("{} columns; a year and twelve months are needed", cells.len()));
    }
    let mut days = BTreeMap::new();
    for (month, cell) in (1i8..=12).zip(&cells[1..13]) {
        let name = MONTHS_RU[usize::try_from(month - 1).unwrap_or(0)];
        for token in cell.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (number, kind) = match token.strip_suffix('*') {
                Some(n) => (n, DayKind::Shortened),
                None => (token.strip_suffix('+').unwrap_or(token), DayKind::NonWorking),
            };
            let date = number
                .parse::<i8>()
                .ok()
                .and_then(|d| Date::new(year, month, d).ok())
                .ok_or_else(|| format!("{name}: {token:?} is not a day of the month"))?;
            days.insert(date, kind);
        }
    }
    Ok(days)
}

/// The exceptions a schedule with the hours `week` gets from the calendar: the days on which
/// the calendar differs from a Monday-to-Friday week. A weekday holiday is closed; a working
/// Saturday or Sunday has the hours of a usual working day; a shortened day closes an hour
/// earlier than that day's hours.
pub fn calendar_exceptions(week: &Week, years: &[CalendarYear]) -> BTreeMap<String, Vec<Span>> {
    let mut out = BTreeMap::new();
    for year in years {
        let Ok(mut date) = Date::new(year.year, 1, 1) else { continue };
        while date.year() == year.year {
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            let usual = if week.day(date.weekday()).is_empty() {
                week.usual()
            } else {
                week.day(date.weekday())
            };
            match (year.days.get(&date), weekend) {
                (Some(DayKind::NonWorking), false) => {
                    out.insert(date.to_string(), Vec::new());
                }
                (None, true) if !usual.is_empty() => {
                    out.insert(date.to_string(), usual.to_vec());
                }
                (Some(DayKind::Shortened), _) if !usual.is_empty() => {
                    let mut spans = usual.to_vec();
                    spans.sort();
                    if let Some(last) = spans.last_mut() {
                        last.to = last.to.saturating_sub(60).max(last.from + 1);
                    }
                    out.insert(date.to_string(), spans);
                }
                _ => {}
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> Span {
        Span::try_from(text.to_owned()).unwrap()
    }

    fn office() -> Schedule {
        let nine_to_six = vec![span("09:00-18:00")];
        Schedule {
            id: "s".into(),
            name: "Офис".into(),
            time_zone: "Europe/Moscow".into(),
            week: Week {
                mon: nine_to_six.clone(),
                tue: nine_to_six.clone(),
                wed: nine_to_six.clone(),
                thu: nine_to_six.clone(),
                fri: vec![span("09:00-13:00"), span("14:00-17:00")],
                ..Week::default()
            },
            exceptions: BTreeMap::from([("2026-12-31".into(), vec![])]),
            created_at: 0,
            updated_at: 0,
        }
    }

    /// Epoch ms of a UTC date and time.
    fn utc(text: &str) -> EpochMs {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn spans_parse_and_print() {
        assert_eq!(span("9:05-24:00"), Span { from: 545, to: 1440 });
        assert_eq!(span("09:05-24:00").to_string(), "09:05-24:00");
        for bad in ["", "9-18", "18:00-09:00", "09:00-09:00", "09:60-10:00", "00:00-24:01"] {
            assert!(Span::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        let week: Week =
            serde_json::from_value(serde_json::json!({"mon": ["09:00-18:00"]})).unwrap();
        assert_eq!(week.mon, [span("09:00-18:00")]);
        assert!(serde_json::from_value::<Week>(serde_json::json!({"monday": []})).is_err());
    }

    #[test]
    fn open_is_read_in_the_call_centers_time_zone() {
        let s = office();
        // Thursday 2026-12-03: 08:59 and 18:00 Moscow time are closed, 09:00 and 17:59 open.
        assert!(!s.is_open(utc("2026-12-03T05:59:00Z")));
        assert!(s.is_open(utc("2026-12-03T06:00:00Z")));
        assert!(s.is_open(utc("2026-12-03T14:59:59Z")));
        assert!(!s.is_open(utc("2026-12-03T15:00:00Z")));
        // Friday's lunch break, Saturday, and the exception on Thursday 31 December.
        assert!(!s.is_open(utc("2026-12-04T10:30:00Z")));
        assert!(s.is_open(utc("2026-12-04T11:30:00Z")));
        assert!(!s.is_open(utc("2026-12-05T10:00:00Z")));
        assert!(!s.is_open(utc("2026-12-31T10:00:00Z")));
        assert_eq!(s.validate(), vec![]);
        // Vladivostok's 09:00 is Moscow's 02:00.
        let far = Schedule { time_zone: "Asia/Vladivostok".into(), ..office() };
        assert!(far.is_open(utc("2026-12-02T23:00:00Z")));
    }

    #[test]
    fn the_next_opening_skips_breaks_weekends_and_holidays() {
        let s = office();
        let open = utc("2026-12-03T07:00:00Z");
        assert_eq!(s.next_open(open), Some(open), "open now");
        // Thursday evening: Friday 09:00 Moscow time.
        assert_eq!(s.next_open(utc("2026-12-03T16:00:00Z")), Some(utc("2026-12-04T06:00:00Z")));
        // Friday's lunch break: 14:00.
        assert_eq!(s.next_open(utc("2026-12-04T10:30:00Z")), Some(utc("2026-12-04T11:00:00Z")));
        // Saturday: Monday. Wednesday 30 December after hours: the 31st is a holiday, Friday.
        assert_eq!(s.next_open(utc("2026-12-05T10:00:00Z")), Some(utc("2026-12-07T06:00:00Z")));
        assert_eq!(s.next_open(utc("2026-12-30T20:00:00Z")), Some(utc("2027-01-01T06:00:00Z")));
        let never = Schedule { week: Week::default(), ..office() };
        assert_eq!(never.next_open(open), None);
    }

    #[test]
    fn bad_zones_overlaps_and_dates_are_named() {
        let mut s = office();
        s.time_zone = "Moscow".into();
        s.week.sat = vec![span("09:00-12:00"), span("11:00-13:00")];
        s.exceptions.insert("2026-02-30".into(), vec![]);
        let fields: Vec<String> = s.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["time_zone", "week.sat", "exceptions.2026-02-30"]);
    }

    fn row(line: usize, cells: &[&str]) -> (usize, Vec<String>) {
        (line, cells.iter().map(|c| (*c).to_owned()).collect())
    }

    /// 2025 as the calendar publishes it, the totals' columns included.
    fn calendar_2025() -> Vec<(usize, Vec<String>)> {
        vec![
            row(
                1,
                &[
                    "Год/Месяц",
                    "Январь",
                    "Февраль",
                    "Март",
                    "Апрель",
                    "Май",
                    "Июнь",
                    "Июль",
                    "Август",
                    "Сентябрь",
                    "Октябрь",
                    "Ноябрь",
                    "Декабрь",
                    "Всего рабочих дней",
                ],
            ),
            row(
                2,
                &[
                    "2025",
                    "1,2,3,4,5,6,7,8,11,12,18,19,25,26",
                    "1,2,8,9,15,16,22,23",
                    "1,2,7*,8,9,15,16,22,23,29,30",
                    "5,6,12,13,19,20,26,27,29*",
                    "1,2,3,4,8,9,10,11,17,18,24,25,31",
                    "1,7,8,11*,12,13,14,15,21,22,28,29",
                    "5,6,12,13,19,20,26,27",
                    "2,3,9,10,16,17,23,24,30,31",
                    "6,7,13,14,20,21,27,28",
                    "4,5,11,12,18,19,25,26",
                    "1*,2,3,4,8,9,15,16,22,23,29,30",
                    "6,7,13,14,20,21,27,28,31",
                    "247",
                ],
            ),
        ]
    }

    #[test]
    fn the_production_calendar_becomes_exceptions() {
        let (years, problems) = parse_production_calendar(&calendar_2025());
        assert_eq!(problems, vec![]);
        assert_eq!(years.len(), 1);
        let ex = calendar_exceptions(&office().week, &years);
        // New Year holidays on weekdays are closed; 3 January 2025 was a Friday.
        assert_eq!(ex["2025-01-03"], vec![]);
        assert_eq!(ex["2025-05-08"], vec![]);
        // Saturday 1 November 2025 was a shortened working day: Monday's hours less an hour.
        assert_eq!(ex["2025-11-01"], vec![span("09:00-17:00")]);
        // Friday 7 March: Friday's own hours, the afternoon an hour shorter.
        assert_eq!(ex["2025-03-07"], vec![span("09:00-13:00"), span("14:00-16:00")]);
        // A usual Saturday and a usual Monday are not exceptions.
        assert!(!ex.contains_key("2025-01-11") && !ex.contains_key("2025-01-13"));
        // Dates the calendar marks non-working but are weekends anyway add nothing.
        assert!(!ex.contains_key("2025-02-01"));
    }

    #[test]
    fn calendar_rows_with_problems_are_reported_by_line() {
        let mut rows = calendar_2025();
        rows.push(row(3, &["2026", "1,2,32"]));
        rows.push(row(4, &["2027", "1,2,3", "30", "", "", "", "", "", "", "", "", "", ""]));
        rows.push(row(5, &["итого"]));
        rows.push(row(6, &["2025", "", "", "", "", "", "", "", "", "", "", "", ""]));
        rows.push(row(7, &[""]));
        let (years, problems) = parse_production_calendar(&rows);
        assert_eq!(years.len(), 1);
        let lines: Vec<(usize, &str)> =
            problems.iter().map(|p| (p.line, p.reason.as_str())).collect();
        assert_eq!(
            lines,
            [
                (3, "2 columns; a year and twelve months are needed"),
                (4, "февраль: \"30\" is not a day of the month"),
                (5, "\"итого\" is not a year"),
                (6, "2025 is listed twice"),
            ]
        );
    }
}
