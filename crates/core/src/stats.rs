//! Call statistics: what each ended call contributes to the 15-minute rollups, and the metrics
//! read from summed rollups. Every definition lives here (the docs and the dashboard's tooltips
//! repeat them):
//!
//! - A call counts in the 15-minute slot in which it was **offered** (entered the queue, or
//!   was dialled), however long it lasted: a call that spans midnight is the first day's.
//! - **offered**: inbound calls that entered a queue. **answered**: offered calls an agent
//!   took. **abandoned**: the caller hung up before an answer after waiting at least the
//!   short-abandon threshold; **short abandoned**: hung up sooner (strictly less than the
//!   threshold), reported separately and in no rate's numerator. **timed out**: released
//!   after the queue's maximum wait. **blocked**: refused at the door because the gateway was
//!   at capacity (503 beyond `sip.max_calls`); logged as calls and counted as offered, in the
//!   queue the called number leads to. Offered = answered + abandoned + short abandoned +
//!   timed out + blocked + other failures.
//! - **missed by agent**: offers that rang an agent and ended unanswered by them (ring timeout
//!   or refusal), once per offer, in the slot and for the agent of the offer's end.
//! - **ASA**: the queue wait of answered calls / answered.
//! - **AHT**: (talk + hold + wrap-up) / handled, where talk is connected time minus hold,
//!   each part also reported. A transferred call is handled once by each agent it reached:
//!   each agent's talk runs from their answer to the transfer (or the end); the hold and the
//!   wrap-up are the last agent's. Queue figures count the call once.
//! - **Service level**: answered within the queue's threshold Y (wait <= Y) / offered, short
//!   abandons included in the denominator.
//! - **Abandonment rate**: abandoned / offered.
//! - **Outbound**: attempts (calls dialled), connected (the customer answered), talk time,
//!   per agent.
//! - **Occupancy** (from the agents' state log, not the calls): handling time (on a call or in
//!   wrap-up) / (handling + available time, ringing included); pauses and offline excluded.

use std::ops::{AddAssign, SubAssign};

use crate::EpochMs;
use crate::call::EndReason;

/// Length of a rollup slot: 15 minutes.
pub const SLOT_MS: i64 = 15 * 60 * 1000;

/// The start of the slot `at` falls in.
pub fn slot_of(at: EpochMs) -> EpochMs {
    at.div_euclid(SLOT_MS) * SLOT_MS
}

/// Settings the definitions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsConfig {
    /// Abandons after a wait strictly shorter than this are short abandons.
    pub short_abandon_ms: i64,
    /// The call center's offset from UTC: where its days (and the day rollups) begin.
    pub utc_offset_ms: i64,
}

impl Default for StatsConfig {
    fn default() -> StatsConfig {
        StatsConfig { short_abandon_ms: 5000, utc_offset_ms: 0 }
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The start (epoch ms) of the local day holding `at`, `utc_offset_ms` east of UTC.
pub fn day_of(at: EpochMs, utc_offset_ms: i64) -> EpochMs {
    (at + utc_offset_ms).div_euclid(DAY_MS) * DAY_MS - utc_offset_ms
}

/// Handling and available time of one ended state span, split over the local days it covers:
/// `(day, handling_ms, available_ms)` for each day with either.
pub fn span_days(
    state: &str,
    from: EpochMs,
    to: EpochMs,
    utc_offset_ms: i64,
) -> Vec<(EpochMs, i64, i64)> {
    let handling = matches!(state, "on_call" | "wrap_up");
    let available = matches!(state, "available" | "ringing");
    let mut out = Vec::new();
    if !(handling || available) || to <= from {
        return out;
    }
    let mut start = from;
    while start < to {
        let day = day_of(start, utc_offset_ms);
        let end = to.min(day + DAY_MS);
        let ms = end - start;
        out.push(if handling { (day, ms, 0) } else { (day, 0, ms) });
        start = end;
    }
    out
}

/// One agent's part of a call: from their answer to the transfer or the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The agent.
    pub agent_id: String,
    /// When they answered.
    pub from: EpochMs,
    /// When the call left them.
    pub to: EpochMs,
}

/// What statistics need of one ended call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFact {
    /// Inbound (true) or outbound.
    pub inbound: bool,
    /// The queue of an inbound call.
    pub queue_id: Option<String>,
    /// The queue's service-level threshold Y.
    pub sl_answer_ms: i64,
    /// When it was offered (or dialled).
    pub offered_at: EpochMs,
    /// When it was answered (first answer for inbound; the customer's for outbound).
    pub answered_at: Option<EpochMs>,
    /// When it ended.
    pub ended_at: EpochMs,
    /// Queue wait (to the answer, or to the end when unanswered).
    pub wait_ms: i64,
    /// Time on hold.
    pub hold_ms: i64,
    /// After-call work of the last agent.
    pub wrapup_ms: i64,
    /// Why it ended (None: still open).
    pub end_reason: Option<crate::call::EndReason>,
    /// The operator's outcome.
    pub disposition: Option<String>,
    /// The agent of an outbound call (who placed it).
    pub agent_id: Option<String>,
    /// Each agent's part (inbound, answered).
    pub segments: Vec<Segment>,
    /// Offers that rang an agent and ended unanswered: (agent, when).
    pub missed_offers: Vec<(String, EpochMs)>,
}

/// Each metric's definition, for the docs, the API and the dashboard's tooltips.
pub const DEFINITIONS: &[(&str, &str)] = &[
    (
        "offered",
        "Inbound calls that entered a queue, counted in the 15-minute slot they arrived in.",
    ),
    ("answered", "Offered calls an agent answered."),
    (
        "abandoned",
        "Callers who hung up before an answer after waiting at least the short-abandon threshold.",
    ),
    (
        "short_abandoned",
        "Callers who hung up before an answer after waiting less than the short-abandon threshold; in no rate's numerator.",
    ),
    ("timed_out", "Calls released after the queue's maximum wait."),
    (
        "blocked",
        "Calls refused at the door because the gateway was at capacity (503 beyond sip.max_calls); counted as offered.",
    ),
    (
        "missed_offers",
        "Offers that rang an agent and ended unanswered by them (ring timeout or refusal), once per offer.",
    ),
    ("asa_ms", "Average speed of answer: queue wait of answered calls / answered."),
    (
        "aht_ms",
        "Average handle time: (talk + hold + wrap-up) / handled. A transferred call is handled once by each agent it reached.",
    ),
    ("avg_talk_ms", "Talk (connected time minus hold) / handled."),
    ("avg_hold_ms", "Hold / handled."),
    ("avg_wrapup_ms", "After-call work / handled."),
    ("handled", "Calls handled by agents (a transferred call once per agent)."),
    (
        "service_level",
        "Answered within the queue's threshold (wait <= Y) / offered, all abandons included in the denominator.",
    ),
    ("abandonment_rate", "Abandoned / offered."),
    (
        "occupancy",
        "Time on calls or in wrap-up / (that + time available or ringing); pauses and offline excluded.",
    ),
    ("outbound_attempts", "Outbound calls dialled."),
    ("outbound_connected", "Outbound calls the customer answered."),
    ("outbound_talk_ms", "Talk time of outbound calls."),
    (
        "callbacks",
        "Callback tasks created in the range; done on time (completed by their due time); escalated for being overdue.",
    ),
];

/// Additive counters of one rollup row. Sums and differences of these are what the rollups
/// keep; [`Metrics`] are read from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Counters {
    /// Inbound calls offered.
    pub offered: i64,
    /// Answered.
    pub answered: i64,
    /// Abandoned after the short-abandon threshold.
    pub abandoned: i64,
    /// Abandoned before it.
    pub short_abandoned: i64,
    /// Released after the maximum wait.
    pub timed_out: i64,
    /// Answered within the queue's service-level threshold.
    pub answered_in_sl: i64,
    /// Sum of the queue wait of answered calls.
    pub answer_wait_ms: i64,
    /// Agent segments handled (a transferred call is one per agent).
    pub handled: i64,
    /// Sum of talk (connected minus hold).
    pub talk_ms: i64,
    /// Sum of hold.
    pub hold_ms: i64,
    /// Sum of wrap-up.
    pub wrapup_ms: i64,
    /// Offers that rang an agent and ended unanswered by them.
    pub missed_offers: i64,
    /// Outbound calls dialled.
    pub outbound_attempts: i64,
    /// Outbound calls the customer answered.
    pub outbound_connected: i64,
    /// Talk time of outbound calls.
    pub outbound_talk_ms: i64,
    /// Inbound calls refused for capacity (also counted in `offered`).
    pub blocked: i64,
}

impl Counters {
    /// Every field, in a fixed order (the rollup table's columns).
    pub fn fields(&self) -> [i64; 16] {
        [
            self.offered,
            self.answered,
            self.abandoned,
            self.short_abandoned,
            self.timed_out,
            self.answered_in_sl,
            self.answer_wait_ms,
            self.handled,
            self.talk_ms,
            self.hold_ms,
            self.wrapup_ms,
            self.missed_offers,
            self.outbound_attempts,
            self.outbound_connected,
            self.outbound_talk_ms,
            self.blocked,
        ]
    }

    /// The counters from [`Counters::fields`]'s order.
    pub fn from_fields(f: [i64; 16]) -> Counters {
        let [
            offered,
            answered,
            abandoned,
            short_abandoned,
            timed_out,
            answered_in_sl,
            answer_wait_ms,
            handled,
            talk_ms,
            hold_ms,
            wrapup_ms,
            missed_offers,
            outbound_attempts,
            outbound_connected,
            outbound_talk_ms,
            blocked,
        ] = f;
        Counters {
            offered,
            answered,
            abandoned,
            short_abandoned,
            timed_out,
            answered_in_sl,
            answer_wait_ms,
            handled,
            talk_ms,
            hold_ms,
            wrapup_ms,
            missed_offers,
            outbound_attempts,
            outbound_connected,
            outbound_talk_ms,
            blocked,
        }
    }

    /// The column names, in [`Counters::fields`]'s order.
    pub const COLUMNS: [&'static str; 16] = [
        "offered",
        "answered",
        "abandoned",
        "short_abandoned",
        "timed_out",
        "answered_in_sl",
        "answer_wait_ms",
        "handled",
        "talk_ms",
        "hold_ms",
        "wrapup_ms",
        "missed_offers",
        "outbound_attempts",
        "outbound_connected",
        "outbound_talk_ms",
        "blocked",
    ];

    /// All zero.
    pub fn is_zero(&self) -> bool {
        self.fields().iter().all(|v| *v == 0)
    }
}

impl AddAssign for Counters {
    fn add_assign(&mut self, other: Counters) {
        let mut f = self.fields();
        for (a, b) in f.iter_mut().zip(other.fields()) {
            *a += b;
        }
        *self = Counters::from_fields(f);
    }
}

impl std::ops::Add for Counters {
    type Output = Counters;
    fn add(mut self, other: Counters) -> Counters {
        self += other;
        self
    }
}

impl SubAssign for Counters {
    fn sub_assign(&mut self, other: Counters) {
        let mut f = self.fields();
        for (a, b) in f.iter_mut().zip(other.fields()) {
            *a -= b;
        }
        *self = Counters::from_fields(f);
    }
}

/// Where a contribution goes: slot, queue and agent (empty strings for none), and the
/// disposition (empty for none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Slot start.
    pub slot: EpochMs,
    /// Queue id or "".
    pub queue_id: String,
    /// Agent id or "".
    pub agent_id: String,
    /// Disposition or "".
    pub disposition: String,
}

/// What one ended call adds to the rollups. Queue-level counts (offered, answered, waits)
/// go to the row of the agent who answered first (or of no agent); each agent's segment adds
/// one handled call and its talk to that agent's row; missed offers go to their agent's row
/// in the slot of the offer's end.
pub fn contribution(fact: &CallFact, config: &StatsConfig) -> Vec<(Key, Counters)> {
    let slot = slot_of(fact.offered_at);
    let queue = fact.queue_id.clone().unwrap_or_default();
    let disposition = fact.disposition.clone().unwrap_or_default();
    let key = |agent: &str, slot: EpochMs, disposition: &str| Key {
        slot,
        queue_id: queue.clone(),
        agent_id: agent.to_owned(),
        disposition: disposition.to_owned(),
    };
    let mut out: Vec<(Key, Counters)> = Vec::new();
    let mut add = |k: Key, c: Counters| match out.iter_mut().find(|(existing, _)| *existing == k) {
        Some((_, sum)) => *sum += c,
        None => out.push((k, c)),
    };
    if !fact.inbound {
        let connected = fact.answered_at.is_some();
        let talk = fact.answered_at.map_or(0, |a| (fact.ended_at - a - fact.hold_ms).max(0));
        let c = Counters {
            outbound_attempts: 1,
            outbound_connected: i64::from(connected),
            outbound_talk_ms: talk,
            handled: i64::from(connected),
            talk_ms: talk,
            hold_ms: if connected { fact.hold_ms } else { 0 },
            wrapup_ms: if connected { fact.wrapup_ms } else { 0 },
            ..Counters::default()
        };
        add(key(fact.agent_id.as_deref().unwrap_or(""), slot, &disposition), c);
        return out;
    }
    if fact.answered_at.is_none()
        && matches!(
            fact.end_reason,
            Some(
                EndReason::InFlow
                    | EndReason::Voicemail
                    | EndReason::CallbackRequested
                    | EndReason::Forwarded
            )
        )
    {
        // It never reached a queue's agents (ended in the menus, left a message instead of
        // waiting, asked to be called back, or was put through to a number outside the call
        // center): no queue was offered it, nobody abandoned one.
        // A message or a callback is counted with the callback task it became.
        return out;
    }
    let first_agent = fact.segments.first().map_or("", |s| s.agent_id.as_str());
    let mut queue_part = Counters { offered: 1, ..Counters::default() };
    match fact.answered_at {
        Some(_) => {
            queue_part.answered = 1;
            queue_part.answer_wait_ms = fact.wait_ms;
            queue_part.answered_in_sl = i64::from(fact.wait_ms <= fact.sl_answer_ms);
        }
        None => match fact.end_reason {
            Some(EndReason::Abandoned) if fact.wait_ms < config.short_abandon_ms => {
                queue_part.short_abandoned = 1
            }
            Some(EndReason::Abandoned) => queue_part.abandoned = 1,
            Some(EndReason::MaxWait) => queue_part.timed_out = 1,
            Some(EndReason::Blocked) => queue_part.blocked = 1,
            _ => {}
        },
    }
    add(key(first_agent, slot, &disposition), queue_part);
    let last = fact.segments.len().saturating_sub(1);
    for (i, seg) in fact.segments.iter().enumerate() {
        let mut c = Counters { handled: 1, ..Counters::default() };
        let connected = (seg.to - seg.from).max(0);
        if i == last {
            c.hold_ms = fact.hold_ms.min(connected);
            c.wrapup_ms = fact.wrapup_ms;
        }
        c.talk_ms = connected - c.hold_ms;
        add(key(&seg.agent_id, slot, &disposition), c);
    }
    for (agent, at) in &fact.missed_offers {
        add(key(agent, slot_of(*at), ""), Counters { missed_offers: 1, ..Counters::default() });
    }
    out.retain(|(_, c)| !c.is_zero());
    out
}

/// The metrics of a sum of counters. Ratios are `None` when their denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Metrics {
    /// Inbound calls offered.
    pub offered: i64,
    /// Answered.
    pub answered: i64,
    /// Abandoned (after the short-abandon threshold).
    pub abandoned: i64,
    /// Short abandons.
    pub short_abandoned: i64,
    /// Released after the maximum wait.
    pub timed_out: i64,
    /// Refused for capacity (included in `offered`).
    pub blocked: i64,
    /// Offers missed by agents.
    pub missed_offers: i64,
    /// Average speed of answer, ms.
    pub asa_ms: Option<f64>,
    /// Average handle time (talk + hold + wrap-up), ms.
    pub aht_ms: Option<f64>,
    /// Average talk, ms.
    pub avg_talk_ms: Option<f64>,
    /// Average hold, ms.
    pub avg_hold_ms: Option<f64>,
    /// Average wrap-up, ms.
    pub avg_wrapup_ms: Option<f64>,
    /// Agent segments handled.
    pub handled: i64,
    /// Answered within the threshold / offered.
    pub service_level: Option<f64>,
    /// Abandoned / offered.
    pub abandonment_rate: Option<f64>,
    /// Outbound attempts.
    pub outbound_attempts: i64,
    /// Outbound connected.
    pub outbound_connected: i64,
    /// Outbound talk, ms.
    pub outbound_talk_ms: i64,
}

#[allow(clippy::cast_precision_loss)]
fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The metrics of `c`.
pub fn metrics(c: &Counters) -> Metrics {
    Metrics {
        offered: c.offered,
        answered: c.answered,
        abandoned: c.abandoned,
        short_abandoned: c.short_abandoned,
        timed_out: c.timed_out,
        blocked: c.blocked,
        missed_offers: c.missed_offers,
        asa_ms: ratio(c.answer_wait_ms, c.answered),
        aht_ms: ratio(c.talk_ms + c.hold_ms + c.wrapup_ms, c.handled),
        avg_talk_ms: ratio(c.talk_ms, c.handled),
        avg_hold_ms: ratio(c.hold_ms, c.handled),
        avg_wrapup_ms: ratio(c.wrapup_ms, c.handled),
        handled: c.handled,
        service_level: ratio(c.answered_in_sl, c.offered),
        abandonment_rate: ratio(c.abandoned, c.offered),
        outbound_attempts: c.outbound_attempts,
        outbound_connected: c.outbound_connected,
        outbound_talk_ms: c.outbound_talk_ms,
    }
}

/// What an agent was doing from `from` to `to` (`to` None: still).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSpan {
    /// `available`, `ringing`, `on_call`, `wrap_up`, `paused` or `offline`.
    pub state: String,
    /// Start.
    pub from: EpochMs,
    /// End (None: ongoing, counted to `now`).
    pub to: Option<EpochMs>,
}

/// Handling and available time within `[from, to)` (clipped; ongoing spans end at `now`).
pub fn state_times(spans: &[StateSpan], from: EpochMs, to: EpochMs, now: EpochMs) -> (i64, i64) {
    let (mut handling, mut available) = (0, 0);
    for s in spans {
        let start = s.from.max(from);
        let end = s.to.unwrap_or(now).min(to);
        if end <= start {
            continue;
        }
        match s.state.as_str() {
            "on_call" | "wrap_up" => handling += end - start,
            "available" | "ringing" => available += end - start,
            _ => {}
        }
    }
    (handling, available)
}

/// Occupancy: handling / (handling + available), pauses excluded.
pub fn occupancy(handling: i64, available: i64) -> Option<f64> {
    ratio(handling, handling + available)
}

#[cfg(test)]
mod tests;
