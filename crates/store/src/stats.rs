//! Statistics rollups: `call_stats` holds, per 15-minute slot, queue, agent and disposition,
//! the sum of what every ended call contributes ([`switchboard_core::stats::contribution`]).
//! Every change to an ended call (its end, its wrap-up, its disposition) subtracts the call's
//! old contribution and adds the new one in the same transaction, so the table always equals
//! a recount over the calls ([`Store::recount_call_stats`] proves it; `rebuild_call_stats`
//! restores it after a change of definitions). Dashboards read sums of these rows.
//!
//! Three coarser tables get the same diff in the same transaction, so that months of calls are
//! hundreds or thousands of rows: `call_stats_queue` (per slot and queue), `call_stats_day`
//! (per local day, queue and disposition) and `call_stats_agent_day` (per local day, queue and
//! agent). [`Store::call_stats`] reads the coarsest one that can answer; all of them always
//! sum to the same figures. Agents' state time is rolled up per local day too
//! (`agent_state_day`, as spans end) for occupancy over whole days.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};
use switchboard_core::stats::{
    CallFact, Counters, DAY_MS, Key, Segment, StateSpan, StatsConfig, day_of, span_days,
    state_times,
};

use crate::sql::Sql;
use crate::{Store, StoreError};

/// How stats rows are grouped when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// One row for the whole range.
    Total,
    /// Per queue.
    Queue,
    /// Per agent.
    Agent,
    /// Per disposition.
    Disposition,
    /// Per interval of this many ms, aligned to local midnight `utc_offset_ms` east of UTC
    /// (weeks start on Monday).
    Interval(i64),
}

/// A grouped sum of rollup rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRow {
    /// The group: queue id, agent id, disposition, or the interval's start (epoch ms) as text;
    /// empty for the total and for "none".
    pub key: String,
    /// The sums.
    pub counters: Counters,
}

/// Which rollup rows to read.
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    /// Slots from (inclusive, epoch ms).
    pub from: i64,
    /// Slots to (exclusive).
    pub to: i64,
    /// Only this queue.
    pub queue_id: Option<String>,
    /// Only this agent.
    pub agent_id: Option<String>,
    /// East of UTC, for day and week boundaries.
    pub utc_offset_ms: i64,
}

/// Callback tasks created in a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CallbackStats {
    /// Created.
    pub created: i64,
    /// Completed no later than their due time.
    pub done_on_time: i64,
    /// Escalated for being overdue.
    pub escalated: i64,
}

/// What statistics need of one call, read through `conn`; `None` until it has ended.
pub(crate) async fn call_fact(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CallFact>, StoreError> {
    let mut sql = Sql::new(
        "SELECT c.direction, c.queue_id, c.agent_id, c.offered_at, c.answered_at, c.ended_at, c.wait_ms, c.hold_ms, c.wrapup_ms, \
         c.end_reason, c.disposition, COALESCE(q.sl_answer_ms, 20000) AS sl_answer_ms \
         FROM calls c LEFT JOIN queues q ON q.id = c.queue_id WHERE c.ended_at IS NOT NULL AND c.id = ",
    );
    sql.bind(id.to_owned());
    let Some(row) = sql.fetch_optional(&mut *conn).await? else { return Ok(None) };
    let mut events = Sql::new("SELECT kind, agent_id, at FROM call_events WHERE call_id = ");
    events
        .bind(id.to_owned())
        .push(" AND kind IN ('answered', 'transferred', 'no_answer', 'rejected') ORDER BY at, id");
    let events = events.fetch_all(&mut *conn).await?;
    let ended_at: i64 = row.try_get("ended_at")?;
    let mut segments: Vec<Segment> = Vec::new();
    let mut missed_offers = Vec::new();
    for e in &events {
        let kind: String = e.try_get("kind")?;
        let agent: Option<String> = e.try_get("agent_id")?;
        let at: i64 = e.try_get("at")?;
        match (kind.as_str(), agent) {
            ("answered", Some(agent)) => {
                if let Some(open) = segments.last_mut().filter(|s| s.to == i64::MAX) {
                    open.to = at;
                }
                segments.push(Segment { agent_id: agent, from: at, to: i64::MAX });
            }
            ("transferred", _) => {
                if let Some(open) = segments.last_mut().filter(|s| s.to == i64::MAX) {
                    open.to = at;
                }
            }
            ("no_answer" | "rejected", Some(agent)) => missed_offers.push((agent, at)),
            _ => {}
        }
    }
    for s in &mut segments {
        if s.to == i64::MAX {
            s.to = ended_at;
        }
    }
    let direction: String = row.try_get("direction")?;
    let answered_at: Option<i64> = row.try_get("answered_at")?;
    Ok(Some(CallFact {
        inbound: direction == "inbound",
        queue_id: row.try_get("queue_id")?,
        sl_answer_ms: row.try_get("sl_answer_ms")?,
        offered_at: row.try_get("offered_at")?,
        answered_at,
        ended_at,
        wait_ms: row.try_get::<Option<i64>, _>("wait_ms")?.unwrap_or(0),
        hold_ms: row.try_get("hold_ms")?,
        wrapup_ms: row.try_get::<Option<i64>, _>("wrapup_ms")?.unwrap_or(0),
        end_reason: crate::sql::parse_opt_col(&row, "end_reason")?,
        disposition: row.try_get::<Option<String>, _>("disposition")?.filter(|d| !d.is_empty()),
        agent_id: row.try_get("agent_id")?,
        segments: if answered_at.is_some() { segments } else { Vec::new() },
        missed_offers,
    }))
}

fn diff(
    config: &StatsConfig,
    old: Option<&CallFact>,
    new: Option<&CallFact>,
) -> BTreeMap<Key, Counters> {
    let mut out: BTreeMap<Key, Counters> = BTreeMap::new();
    if let Some(old) = old {
        for (k, c) in switchboard_core::stats::contribution(old, config) {
            *out.entry(k).or_default() -= c;
        }
    }
    if let Some(new) = new {
        for (k, c) in switchboard_core::stats::contribution(new, config) {
            *out.entry(k).or_default() += c;
        }
    }
    out.retain(|_, c| !c.is_zero());
    out
}

/// One key column's value.
enum KeyValue<'a> {
    Int(i64),
    Text(&'a str),
}

/// Adds `counters` to the row of `table` with these key columns (inserting it if new).
async fn upsert(
    conn: &mut AnyConnection,
    table: &str,
    keys: &[(&str, KeyValue<'_>)],
    counters: &Counters,
) -> Result<(), StoreError> {
    let key_names = keys.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let columns = Counters::COLUMNS.join(", ");
    let updates = Counters::COLUMNS
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = Sql::new(&format!("INSERT INTO {table} ({key_names}, {columns}) VALUES ("));
    for (i, (_, v)) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        match v {
            KeyValue::Int(n) => sql.bind(*n),
            KeyValue::Text(t) => sql.bind((*t).to_owned()),
        };
    }
    for v in counters.fields() {
        sql.push(", ").bind(v);
    }
    sql.push(&format!(") ON CONFLICT ({key_names}) DO UPDATE SET {updates}"));
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Adds `rows` to the rollups: the slot table and the coarser tables above it.
async fn add_rows(
    conn: &mut AnyConnection,
    rows: &BTreeMap<Key, Counters>,
    utc_offset_ms: i64,
) -> Result<(), StoreError> {
    let mut queues: BTreeMap<(i64, &str), Counters> = BTreeMap::new();
    let mut days: BTreeMap<(i64, &str, &str), Counters> = BTreeMap::new();
    let mut agent_days: BTreeMap<(i64, &str, &str), Counters> = BTreeMap::new();
    for (k, c) in rows {
        let keys = [
            ("slot", KeyValue::Int(k.slot)),
            ("queue_id", KeyValue::Text(&k.queue_id)),
            ("agent_id", KeyValue::Text(&k.agent_id)),
            ("disposition", KeyValue::Text(&k.disposition)),
        ];
        upsert(conn, "call_stats", &keys, c).await?;
        let day = day_of(k.slot, utc_offset_ms);
        *queues.entry((k.slot, &k.queue_id)).or_default() += *c;
        *days.entry((day, &k.queue_id, &k.disposition)).or_default() += *c;
        *agent_days.entry((day, &k.queue_id, &k.agent_id)).or_default() += *c;
    }
    for ((slot, queue), c) in queues.into_iter().filter(|(_, c)| !c.is_zero()) {
        upsert(
            conn,
            "call_stats_queue",
            &[("slot", KeyValue::Int(slot)), ("queue_id", KeyValue::Text(queue))],
            &c,
        )
        .await?;
    }
    for ((day, queue, disposition), c) in days.into_iter().filter(|(_, c)| !c.is_zero()) {
        upsert(
            conn,
            "call_stats_day",
            &[
                ("day", KeyValue::Int(day)),
                ("queue_id", KeyValue::Text(queue)),
                ("disposition", KeyValue::Text(disposition)),
            ],
            &c,
        )
        .await?;
    }
    for ((day, queue, agent), c) in agent_days.into_iter().filter(|(_, c)| !c.is_zero()) {
        upsert(
            conn,
            "call_stats_agent_day",
            &[
                ("day", KeyValue::Int(day)),
                ("queue_id", KeyValue::Text(queue)),
                ("agent_id", KeyValue::Text(agent)),
            ],
            &c,
        )
        .await?;
    }
    Ok(())
}

/// The counters of a row with [`Counters::COLUMNS`] (a sum over no rows reads as zero).
fn counters_of(row: &sqlx::any::AnyRow) -> Result<Counters, StoreError> {
    let mut f = [0i64; 16];
    for (v, c) in f.iter_mut().zip(Counters::COLUMNS) {
        *v = row.try_get::<Option<i64>, _>(c)?.unwrap_or(0);
    }
    Ok(Counters::from_fields(f))
}

/// Adds one ended state span's handling and available time, per local day, to `days`.
fn add_span(
    days: &mut BTreeMap<(i64, String), (i64, i64)>,
    agent: &str,
    state: &str,
    from: i64,
    to: i64,
    utc_offset_ms: i64,
) {
    for (day, h, a) in span_days(state, from, to, utc_offset_ms) {
        let e = days.entry((day, agent.to_owned())).or_default();
        e.0 += h;
        e.1 += a;
    }
}

/// Adds ended spans' handling and available time to the day rollup.
async fn add_state_days(
    conn: &mut AnyConnection,
    days: &BTreeMap<(i64, String), (i64, i64)>,
) -> Result<(), StoreError> {
    for ((day, agent), (handling, available)) in days {
        let mut sql = Sql::new(
            "INSERT INTO agent_state_day (day, agent_id, handling_ms, available_ms) VALUES (",
        );
        sql.bind(*day)
            .push(", ")
            .bind(agent.clone())
            .push(", ")
            .bind(*handling)
            .push(", ")
            .bind(*available);
        sql.push(") ON CONFLICT (day, agent_id) DO UPDATE SET handling_ms = agent_state_day.handling_ms + excluded.handling_ms, available_ms = agent_state_day.available_ms + excluded.available_ms");
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Ends the open spans of `user_id` (every agent's for `None`) at `at`, adding them to the
/// day rollup first.
async fn end_open_spans(
    conn: &mut AnyConnection,
    user_id: Option<&str>,
    at: i64,
    utc_offset_ms: i64,
) -> Result<u64, StoreError> {
    let mut sql =
        Sql::new("SELECT user_id, state, started_at FROM agent_state_log WHERE ended_at IS NULL");
    if let Some(u) = user_id {
        sql.push(" AND user_id = ").bind(u.to_owned());
    }
    let mut days: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for row in sql.fetch_all(&mut *conn).await? {
        let agent: String = row.try_get("user_id")?;
        let state: String = row.try_get("state")?;
        let started: i64 = row.try_get("started_at")?;
        add_span(&mut days, &agent, &state, started, at.max(started), utc_offset_ms);
    }
    add_state_days(conn, &days).await?;
    // A span never ends before it began (`at` can be a heartbeat older than the span).
    let mut sql = Sql::new("UPDATE agent_state_log SET ended_at = CASE WHEN started_at > ");
    sql.bind(at).push(" THEN started_at ELSE ").bind(at).push(" END WHERE ended_at IS NULL");
    if let Some(u) = user_id {
        sql.push(" AND user_id = ").bind(u.to_owned());
    }
    sql.execute(&mut *conn).await
}

/// Which rollup a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `call_stats`: every dimension, 15-minute slots.
    Slots,
    /// `call_stats_queue`: slots and queues.
    QueueSlots,
    /// `call_stats_day`: whole local days, queues and dispositions.
    Days,
    /// `call_stats_agent_day`: whole local days, queues and agents.
    AgentDays,
}

impl Source {
    fn table(self) -> &'static str {
        match self {
            Source::Slots => "call_stats",
            Source::QueueSlots => "call_stats_queue",
            Source::Days => "call_stats_day",
            Source::AgentDays => "call_stats_agent_day",
        }
    }

    fn time(self) -> &'static str {
        if matches!(self, Source::Days | Source::AgentDays) { "day" } else { "slot" }
    }

    /// The coarsest source that answers `group` over `filter`; `whole_days` when the range
    /// is whole local days in the zone the day tables were made under.
    fn pick(filter: &StatsFilter, group: StatsGroup, whole_days: bool) -> Source {
        let agent = filter.agent_id.is_some();
        let daily = match group {
            StatsGroup::Interval(size) => size % DAY_MS == 0,
            _ => true,
        };
        match group {
            StatsGroup::Total
            | StatsGroup::Queue
            | StatsGroup::Disposition
            | StatsGroup::Interval(_)
                if whole_days && daily && !agent =>
            {
                Source::Days
            }
            StatsGroup::Total | StatsGroup::Queue | StatsGroup::Agent | StatsGroup::Interval(_)
                if whole_days && daily =>
            {
                Source::AgentDays
            }
            StatsGroup::Total | StatsGroup::Queue | StatsGroup::Interval(_) if !agent => {
                Source::QueueSlots
            }
            _ => Source::Slots,
        }
    }
}

impl Store {
    /// Brings the rollups from a call's `old` fact to its `new` one (either may be `None`).
    pub(crate) async fn apply_stats(
        &self,
        conn: &mut AnyConnection,
        old: Option<&CallFact>,
        new: Option<&CallFact>,
    ) -> Result<(), StoreError> {
        add_rows(conn, &diff(&self.stats_config, old, new), self.stats_config.utc_offset_ms).await
    }

    /// What every ended call contributes, summed (the full recount the rollups must equal).
    pub async fn recount_call_stats(&self) -> Result<BTreeMap<Key, Counters>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut out: BTreeMap<Key, Counters> = BTreeMap::new();
        let mut after = String::new();
        loop {
            let mut sql = Sql::new("SELECT id FROM calls WHERE ended_at IS NOT NULL AND id > ");
            sql.bind(after.clone()).push(" ORDER BY id LIMIT 5000");
            let ids: Vec<String> = sql
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
            let Some(last) = ids.last() else { break };
            after = last.clone();
            for id in &ids {
                if let Some(fact) = call_fact(&mut conn, id).await? {
                    for (k, c) in switchboard_core::stats::contribution(&fact, &self.stats_config) {
                        *out.entry(k).or_default() += c;
                    }
                }
            }
        }
        out.retain(|_, c| !c.is_zero());
        Ok(out)
    }

    /// The rollup table as it is (rows that sum to zero left out).
    pub async fn call_stats_rows(&self) -> Result<BTreeMap<Key, Counters>, StoreError> {
        let sql = Sql::new(&format!(
            "SELECT slot, queue_id, agent_id, disposition, {} FROM call_stats",
            Counters::COLUMNS.join(", ")
        ));
        let mut out = BTreeMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            let counters = counters_of(&row)?;
            if !counters.is_zero() {
                let key = Key {
                    slot: row.try_get("slot")?,
                    queue_id: row.try_get("queue_id")?,
                    agent_id: row.try_get("agent_id")?,
                    disposition: row.try_get("disposition")?,
                };
                out.insert(key, counters);
            }
        }
        Ok(out)
    }

    /// Replaces the rollups with a recount (after the definitions' settings changed).
    pub async fn rebuild_call_stats(&self) -> Result<usize, StoreError> {
        let rows = self.recount_call_stats().await?;
        let mut tx = self.begin_write().await?;
        for table in ["call_stats", "call_stats_queue", "call_stats_day", "call_stats_agent_day"] {
            Sql::new(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        add_rows(&mut tx, &rows, self.stats_config.utc_offset_ms).await?;
        tx.commit().await?;
        self.derive_state_days().await?;
        Ok(rows.len())
    }

    /// Derives the day and queue rollups from `call_stats`, and the agents' state days from
    /// their log, under the configured time zone; records the zone used.
    pub async fn derive_rollups(&self) -> Result<(), StoreError> {
        let offset = self.stats_config.utc_offset_ms;
        let sums =
            Counters::COLUMNS.iter().map(|c| format!("SUM({c})")).collect::<Vec<_>>().join(", ");
        let columns = Counters::COLUMNS.join(", ");
        let day = format!("((slot + ({offset})) / {DAY_MS}) * {DAY_MS} - ({offset})");
        let mut tx = self.begin_write().await?;
        for (table, keys, select, group) in [
            ("call_stats_queue", "slot, queue_id", "slot, queue_id".to_owned(), "1, 2"),
            (
                "call_stats_day",
                "day, queue_id, disposition",
                format!("{day}, queue_id, disposition"),
                "1, 2, 3",
            ),
            (
                "call_stats_agent_day",
                "day, queue_id, agent_id",
                format!("{day}, queue_id, agent_id"),
                "1, 2, 3",
            ),
        ] {
            Sql::new(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
            Sql::new(&format!("INSERT INTO {table} ({keys}, {columns}) SELECT {select}, {sums} FROM call_stats GROUP BY {group}")).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.derive_state_days().await
    }

    /// Recounts `agent_state_day` from the ended spans of the state log (read in pages).
    async fn derive_state_days(&self) -> Result<(), StoreError> {
        let offset = self.stats_config.utc_offset_ms;
        let mut days: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
        let mut conn = self.pool.acquire().await?;
        let mut after = String::new();
        loop {
            let mut sql = Sql::new(
                "SELECT id, user_id, state, started_at, ended_at FROM agent_state_log WHERE ended_at IS NOT NULL AND id > ",
            );
            sql.bind(after.clone()).push(" ORDER BY id LIMIT 50000");
            let rows = sql.fetch_all(&mut *conn).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            for row in &rows {
                let state: String = row.try_get("state")?;
                let agent: String = row.try_get("user_id")?;
                add_span(
                    &mut days,
                    &agent,
                    &state,
                    row.try_get("started_at")?,
                    row.try_get("ended_at")?,
                    offset,
                );
            }
        }
        drop(conn);
        let mut tx = self.begin_write().await?;
        Sql::new("DELETE FROM agent_state_day").execute(&mut *tx).await?;
        add_state_days(&mut tx, &days).await?;
        Sql::new("DELETE FROM stats_meta WHERE name = 'day_offset_ms'").execute(&mut *tx).await?;
        let mut sql = Sql::new("INSERT INTO stats_meta (name, value) VALUES ('day_offset_ms', ");
        sql.bind(offset).push(")");
        sql.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner's statistics (`ANALYZE`), after a bulk load.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        Sql::new("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// At start-up: derives the day rollups again if they were made under another time zone
    /// (or never, right after the migration that added them). True when it did.
    pub async fn prepare_stats(&self) -> Result<bool, StoreError> {
        let row = Sql::new("SELECT value FROM stats_meta WHERE name = 'day_offset_ms'")
            .fetch_optional(&self.pool)
            .await?;
        let made_under: Option<i64> = row.map(|r| r.try_get("value")).transpose()?;
        if made_under == Some(self.stats_config.utc_offset_ms) {
            return Ok(false);
        }
        self.derive_rollups().await?;
        Ok(true)
    }

    /// Sums of the rollups over `filter`, grouped by `group`, from the coarsest rollup that
    /// can answer: for whole local days (in the configured zone) and a grouping no finer than
    /// a day, the day table (no agent asked) or the agent-day table (no disposition asked);
    /// else the queue table when no agent is asked; else the slot table. Every source gives
    /// the same figures.
    pub async fn call_stats(
        &self,
        filter: &StatsFilter,
        group: StatsGroup,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let offset = self.stats_config.utc_offset_ms;
        let whole_days = filter.utc_offset_ms == offset
            && day_of(filter.from, offset) == filter.from
            && day_of(filter.to, offset) == filter.to;
        self.call_stats_from(Source::pick(filter, group, whole_days), filter, group).await
    }

    /// Like [`call_stats`](Self::call_stats), always from the 15-minute slot table (the
    /// reference the coarser rollups are checked against).
    pub async fn call_stats_by_slot(
        &self,
        filter: &StatsFilter,
        group: StatsGroup,
    ) -> Result<Vec<StatsRow>, StoreError> {
        self.call_stats_from(Source::Slots, filter, group).await
    }

    async fn call_stats_from(
        &self,
        source: Source,
        filter: &StatsFilter,
        group: StatsGroup,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let time = source.time();
        let key = match group {
            StatsGroup::Total => "''".to_owned(),
            StatsGroup::Queue => "queue_id".to_owned(),
            StatsGroup::Agent => "agent_id".to_owned(),
            StatsGroup::Disposition => "disposition".to_owned(),
            StatsGroup::Interval(size) => {
                let size = size.max(switchboard_core::stats::SLOT_MS);
                // Weeks start on Monday: the epoch was a Thursday, four days later is one.
                let shift = filter.utc_offset_ms - if size == 7 * DAY_MS { 4 * DAY_MS } else { 0 };
                format!("CAST((({time} + ({shift})) / {size}) * {size} - ({shift}) AS TEXT)")
            }
        };
        let sums = Counters::COLUMNS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = Sql::new(&format!(
            "SELECT {key} AS k, {sums} FROM {} WHERE {time} >= ",
            source.table()
        ));
        sql.bind(filter.from).push(&format!(" AND {time} < ")).bind(filter.to);
        if let Some(q) = &filter.queue_id {
            sql.push(" AND queue_id = ").bind(q.clone());
        }
        if let Some(a) = &filter.agent_id {
            sql.push(" AND agent_id = ").bind(a.clone());
        }
        if group != StatsGroup::Total {
            sql.push(&format!(" GROUP BY {key} ORDER BY 1"));
        }
        let mut out = Vec::new();
        for row in sql.fetch_all(&self.pool).await? {
            out.push(StatsRow { key: row.try_get("k")?, counters: counters_of(&row)? });
        }
        Ok(out)
    }

    /// Handling and available time per agent within `[from, to)` (ongoing spans count to
    /// `now`): from the day rollup plus the open spans for whole local days, else from the
    /// state log itself.
    pub async fn agent_times(
        &self,
        from: i64,
        to: i64,
        agent_id: Option<&str>,
        now: i64,
    ) -> Result<BTreeMap<String, (i64, i64)>, StoreError> {
        let offset = self.stats_config.utc_offset_ms;
        if day_of(from, offset) != from || day_of(to, offset) != to {
            let spans = self.agent_state_spans(from, to, agent_id).await?;
            return Ok(spans
                .into_iter()
                .map(|(agent, s)| (agent, state_times(&s, from, to, now)))
                .collect());
        }
        let mut sql = Sql::new(
            "SELECT agent_id, CAST(SUM(handling_ms) AS BIGINT) AS h, CAST(SUM(available_ms) AS BIGINT) AS a FROM agent_state_day WHERE day >= ",
        );
        sql.bind(from).push(" AND day < ").bind(to);
        if let Some(a) = agent_id {
            sql.push(" AND agent_id = ").bind(a.to_owned());
        }
        sql.push(" GROUP BY agent_id");
        let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            out.insert(
                row.try_get("agent_id")?,
                (
                    row.try_get::<Option<i64>, _>("h")?.unwrap_or(0),
                    row.try_get::<Option<i64>, _>("a")?.unwrap_or(0),
                ),
            );
        }
        let mut open = Sql::new(
            "SELECT user_id, state, started_at FROM agent_state_log WHERE ended_at IS NULL",
        );
        if let Some(a) = agent_id {
            open.push(" AND user_id = ").bind(a.to_owned());
        }
        for row in open.fetch_all(&self.pool).await? {
            let span = StateSpan {
                state: row.try_get("state")?,
                from: row.try_get("started_at")?,
                to: None,
            };
            let (h, a) = state_times(std::slice::from_ref(&span), from, to, now);
            if h + a > 0 {
                let e = out.entry(row.try_get("user_id")?).or_default();
                e.0 += h;
                e.1 += a;
            }
        }
        Ok(out)
    }

    /// Records that an agent's state changed at `at`: the open span ends (and goes into the
    /// day rollup), a new one starts.
    pub async fn agent_state_changed(
        &self,
        user_id: &str,
        state: &str,
        reason: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        end_open_spans(&mut tx, Some(user_id), at, self.stats_config.utc_offset_ms).await?;
        let mut sql = Sql::new(
            "INSERT INTO agent_state_log (id, user_id, state, reason, started_at) VALUES (",
        );
        sql.bind(switchboard_core::new_id())
            .push(", ")
            .bind(user_id.to_owned())
            .push(", ")
            .bind(state.to_owned());
        sql.push(", ").bind(reason.map(str::to_owned)).push(", ").bind(at).push(")");
        sql.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each agent's state left open (by a crash or a stop): `(user_id, state, reason)`; what
    /// a restart may put them back in.
    pub async fn open_agent_states(
        &self,
    ) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let rows = Sql::new("SELECT user_id, state, reason FROM agent_state_log WHERE ended_at IS NULL ORDER BY started_at").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get("state")?, r.try_get("reason")?)))
            .collect()
    }

    /// Ends every open state span (at start-up: the previous run's agents are offline).
    pub async fn close_agent_states(&self, at: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = end_open_spans(&mut tx, None, at, self.stats_config.utc_offset_ms).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Agents' state spans overlapping `[from, to)`, by agent.
    pub async fn agent_state_spans(
        &self,
        from: i64,
        to: i64,
        agent_id: Option<&str>,
    ) -> Result<BTreeMap<String, Vec<StateSpan>>, StoreError> {
        let mut sql = Sql::new(
            "SELECT user_id, state, started_at, ended_at FROM agent_state_log WHERE started_at < ",
        );
        sql.bind(to).push(" AND (ended_at IS NULL OR ended_at > ").bind(from).push(")");
        if let Some(a) = agent_id {
            sql.push(" AND user_id = ").bind(a.to_owned());
        }
        let mut out: BTreeMap<String, Vec<StateSpan>> = BTreeMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            out.entry(row.try_get("user_id")?).or_default().push(StateSpan {
                state: row.try_get("state")?,
                from: row.try_get("started_at")?,
                to: row.try_get("ended_at")?,
            });
        }
        Ok(out)
    }

    /// Callback tasks created in `[from, to)`: how many, done on time, escalated.
    pub async fn callback_stats(&self, from: i64, to: i64) -> Result<CallbackStats, StoreError> {
        let mut sql = Sql::new(
            "SELECT CAST(COUNT(*) AS BIGINT) AS created, \
             CAST(COALESCE(SUM(CASE WHEN status = 'done' AND completed_at <= due_at THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, \
             CAST(COALESCE(SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS escalated \
             FROM tasks WHERE callback = 1 AND created_at >= ",
        );
        sql.bind(from).push(" AND created_at < ").bind(to);
        let row = sql.fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => CallbackStats {
                created: r.try_get("created")?,
                done_on_time: r.try_get("on_time")?,
                escalated: r.try_get("escalated")?,
            },
            None => CallbackStats::default(),
        })
    }
}
