//! `switchboard seed-demo`: a realistic month for an empty store, so a newcomer opens a living
//! dashboard at once; tests and benchmarks use the same generator.
//!
//! It creates a manager, two supervisors with a team each, agents split over two queues
//! (sales at 100, support at 200), companies, contacts with phones, deals across the pipeline,
//! and then simulates each working day (09:00-18:00 in the call center's time zone): callers
//! arrive with a morning and an afternoon peak, wait for the first free agent and hang up when
//! their patience runs out; agents talk, hold, wrap up, take lunch and place a few outbound
//! calls. Every call gets its events, some of the last day's a short generated recording
//! (the two voices as two tones taking turns, 8 s), and each agent their state log; abandoned callers get callback tasks. The rollups are the calls'
//! contributions, summed. Everything is deterministic for a seed.

use std::collections::BTreeMap;

use anyhow::Context;
use switchboard_core::Role;
use switchboard_core::call::{CallEventKind, EndReason};
use switchboard_core::entity::DealStatus;
use switchboard_core::stats::{CallFact, Counters, Key, Segment, StatsConfig, contribution};
use switchboard_store::{
    Actor, Cell, HistoryTable, NewCompany, NewContact, NewDeal, NewPhone, NewQueue, NewTeam,
    NewUser, PageRequest, Store,
};

mod recording;
mod sales;
mod words;

use recording::{RECORDING_MS, write_recording};
pub use words::DemoLang;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Days of history, ending yesterday.
    pub days: u32,
    /// Agents (split over the two queues).
    pub agents: u32,
    /// Contacts.
    pub contacts: u32,
    /// Random seed.
    pub seed: u64,
    /// "Now" (epoch ms): history ends at the start of this day.
    pub now: i64,
    /// The call center's offset from UTC.
    pub utc_offset_ms: i64,
    /// Write call events too (the benchmark leaves them out).
    pub events: bool,
    /// The statistics' settings (for the rollups).
    pub stats: StatsConfig,
    /// The language of the names, companies and deals.
    pub lang: DemoLang,
    /// Where recordings live: about one in six of the last day's answered calls gets a short
    /// generated recording there, which plays (None: no recordings at all).
    pub recordings: Option<std::path::PathBuf>,
}

/// What was made.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// Users created (agents, supervisors, the manager).
    pub users: usize,
    /// Contacts created.
    pub contacts: usize,
    /// Calls generated.
    pub calls: usize,
    /// Callback tasks generated.
    pub tasks: usize,
    /// Leads taken (each with its contact's deal and callback).
    pub leads: usize,
    /// Documents made for the leads' deals.
    pub documents: usize,
}

/// Deterministic pseudo-random numbers (PCG-like LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from((hi - lo).max(0)).unwrap_or(0) + 1;
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }
    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.next()).unwrap_or(0) % items.len()]
    }
}

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const DISPOSITIONS: [&str; 6] =
    ["resolved", "callback_needed", "sale", "not_interested", "wrong_number", "complaint"];
/// Relative arrivals per hour from 09:00 to 17:00 (a morning and an afternoon peak).
const HOURLY: [i64; 9] = [8, 12, 13, 10, 7, 9, 12, 11, 8];

struct Agent {
    id: String,
    queue: usize,
    free_at: i64,
    /// Since when the agent has been available (their current idle span's start).
    cursor: i64,
    lunch: i64,
    lunched: bool,
}

/// Everything generated for the store, flushed in batches.
#[derive(Default)]
struct Batch {
    calls: Vec<Vec<Cell>>,
    events: Vec<Vec<Cell>>,
    states: Vec<Vec<Cell>>,
    tasks: Vec<Vec<Cell>>,
}

impl Batch {
    async fn flush(&mut self, store: &Store) -> anyhow::Result<()> {
        for (table, rows) in [
            (HistoryTable::Calls, &mut self.calls),
            (HistoryTable::CallEvents, &mut self.events),
            (HistoryTable::AgentStates, &mut self.states),
            (HistoryTable::Tasks, &mut self.tasks),
        ] {
            if !rows.is_empty() {
                store.load_history(table, rows).await?;
                rows.clear();
            }
        }
        Ok(())
    }
}

/// A new id (UUIDv7 text) for generated rows.
fn id() -> String {
    switchboard_core::new_id()
}

fn state(agent: &str, state: &str, reason: Option<&str>, from: i64, to: i64) -> Vec<Cell> {
    vec![
        id().into(),
        agent.into(),
        state.into(),
        reason.map(str::to_owned).into(),
        from.into(),
        to.into(),
    ]
}

fn event(call: &str, at: i64, kind: CallEventKind, agent: Option<&str>) -> Vec<Cell> {
    vec![
        id().into(),
        call.into(),
        at.into(),
        kind.as_str().into(),
        agent.map(str::to_owned).into(),
        "{}".into(),
    ]
}

/// Loads summed contributions into the slot rollup.
async fn flush_rollups(store: &Store, rollups: BTreeMap<Key, Counters>) -> anyhow::Result<()> {
    let rows: Vec<Vec<Cell>> = rollups
        .into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|(k, c)| {
            let mut row: Vec<Cell> =
                vec![k.slot.into(), k.queue_id.into(), k.agent_id.into(), k.disposition.into()];
            row.extend(c.fields().into_iter().map(Cell::from));
            row
        })
        .collect();
    for chunk in rows.chunks(50_000) {
        store.load_history(HistoryTable::CallStats, chunk).await?;
    }
    Ok(())
}

/// Fills an empty store; `password_hash` is every demo user's password (argon2 PHC).
pub async fn seed_demo(
    store: &Store,
    options: &DemoOptions,
    password_hash: &str,
) -> anyhow::Result<DemoSummary> {
    anyhow::ensure!(
        store.list_calls(None, PageRequest::new(Some(1), Some(1))).await?.total == 0,
        "the store already has calls: seed-demo fills an empty store only"
    );
    let mut rng = Rng(options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let system = Actor::system();
    let mut summary = DemoSummary::default();
    let words = options.lang.words();
    let user = |login: &str, name: &str, role: Role, team_id: Option<String>| NewUser {
        login: login.into(),
        name: name.into(),
        role,
        password_hash: password_hash.into(),
        team_id,
    };
    store
        .create_user(&system, user("manager", words.manager, Role::Manager, None))
        .await
        .context("creating demo users")?;
    let mut teams = Vec::new();
    for (i, name) in words.supervisors.iter().enumerate() {
        let sup = store
            .create_user(
                &system,
                user(&format!("supervisor{}", i + 1), name, Role::Supervisor, None),
            )
            .await?;
        teams.push(
            store
                .create_team(
                    &system,
                    NewTeam {
                        name: format!("{} {}", words.team, i + 1),
                        supervisor_id: Some(sup.id),
                    },
                )
                .await?
                .id,
        );
    }
    summary.users = 3;
    let mut agents = Vec::new();
    for i in 0..options.agents.max(2) {
        let queue = usize::try_from(i % 2).unwrap_or(0);
        let at = usize::try_from(i).unwrap_or(0);
        let name = match at / words.agents.len() {
            0 => words.agents[at].to_owned(),
            round => format!("{} {}", words.agents[at % words.agents.len()], round + 1),
        };
        let u = store
            .create_user(
                &system,
                user(
                    &format!("agent{:02}", i + 1),
                    &name,
                    Role::Operator,
                    Some(teams[queue].clone()),
                ),
            )
            .await?;
        agents.push(Agent { id: u.id, queue, free_at: 0, cursor: 0, lunch: 0, lunched: false });
        summary.users += 1;
    }
    let mut queues = Vec::new();
    for (q, (name, number, sl)) in
        [(words.queues[0], "100", 20_000), (words.queues[1], "200", 30_000)].into_iter().enumerate()
    {
        let members = agents.iter().filter(|a| a.queue == q).map(|a| a.id.clone()).collect();
        let created = store
            .create_queue(
                &system,
                NewQueue {
                    name: name.into(),
                    number: Some(number.into()),
                    sl_answer_ms: Some(sl),
                    wrap_up_ms: Some(20_000),
                    members,
                    ..NewQueue::default()
                },
            )
            .await?;
        queues.push((created.id, sl));
    }
    // CRM records the calls refer to.
    let mut companies = Vec::new();
    for i in 0..(options.contacts / 15).max(1) {
        companies.push(
            store
                .create_company(
                    &system,
                    NewCompany {
                        name: match usize::try_from(i).unwrap_or(0) {
                            at if at < words.companies.len() => words.companies[at].to_owned(),
                            at => format!(
                                "{} {}",
                                words.companies[at % words.companies.len()],
                                at / words.companies.len() + 1
                            ),
                        },
                        tax_id: None,
                        website: None,
                        address: None,
                        requisites: Default::default(),
                        owner_id: None,
                        custom: Default::default(),
                    },
                )
                .await?
                .id,
        );
    }
    let stages = store.list_stages().await?;
    let mut contacts: Vec<(String, String)> = Vec::new();
    for i in 0..options.contacts {
        let e164 = format!("+79160{:06}", i);
        let phone = NewPhone {
            number: switchboard_core::PhoneNumber::parse(&e164, switchboard_core::Region::RU)?,
            kind: switchboard_core::entity::PhoneKind::Mobile,
        };
        let owner = rng.pick(&agents).id.clone();
        let (first, female) = *rng.pick(&words.first_names);
        let last = *rng.pick(&words.last_names);
        let c = store
            .create_contact(
                &system,
                NewContact {
                    first_name: first.into(),
                    last_name: options.lang.last_name(last, female),
                    company_id: Some(rng.pick(&companies).clone()),
                    owner_id: Some(owner.clone()),
                    phones: vec![phone],
                    ..NewContact::default()
                },
            )
            .await?;
        if rng.chance(30) && !stages.is_empty() {
            let stage = rng.pick(&stages).id.clone();
            let deal = store
                .create_deal(
                    &system,
                    NewDeal {
                        title: format!(
                            "{} {}{}",
                            rng.pick(&words.deals),
                            if options.lang == DemoLang::Ru { "№" } else { "#" },
                            i + 1
                        ),
                        contact_id: Some(c.id.clone()),
                        company_id: c.company_id.clone(),
                        stage_id: Some(stage),
                        pipeline_id: None,
                        amount_minor: Some(rng.range(10, 500) * 1_000_000),
                        currency: None,
                        probability: None,
                        owner_id: Some(owner),
                        expected_close_at: None,
                        custom: Default::default(),
                    },
                )
                .await?;
            // Some deals are already closed, so the board and the reports show both outcomes.
            match rng.range(0, 99) {
                0..15 => {
                    store.set_deal_status(&system, &deal.id, DealStatus::Won, None, None).await?;
                }
                15..27 => {
                    // The system's reasons, by key: the pages say them in the reader's words.
                    let reason =
                        (*rng.pick(switchboard_store::settings::DEFAULT_LOSS_REASONS)).to_owned();
                    store
                        .set_deal_status(&system, &deal.id, DealStatus::Lost, Some(reason), None)
                        .await?;
                }
                _ => {}
            }
        }
        contacts.push((c.id, e164));
    }
    summary.contacts = contacts.len();
    let agent_ids: Vec<String> = agents.iter().map(|a| a.id.clone()).collect();
    let sales = sales::seed_sales(
        store,
        &mut rng,
        options.lang,
        teams.first().cloned(),
        &agent_ids,
        &contacts,
        options.now,
        options.utc_offset_ms,
    )
    .await?;
    summary.leads = sales.leads;
    summary.documents = sales.documents;

    // The days, oldest first; history ends at the start of today (local).
    let today = (options.now + options.utc_offset_ms).div_euclid(DAY) * DAY - options.utc_offset_ms;
    let mut rollups: BTreeMap<Key, Counters> = BTreeMap::new();
    let mut batch = Batch::default();
    for d in (1..=i64::from(options.days)).rev() {
        let day = today - d * DAY;
        let open = day + 9 * HOUR;
        let close = day + 18 * HOUR;
        for (i, a) in agents.iter_mut().enumerate() {
            a.free_at = open;
            a.cursor = open;
            a.lunch = day + if i % 2 == 0 { 12 * HOUR } else { 13 * HOUR };
            a.lunched = false;
        }
        for (q, (queue_id, sl)) in queues.iter().enumerate() {
            let staff = i64::try_from(agents.iter().filter(|a| a.queue == q).count()).unwrap_or(1);
            let mut arrivals: Vec<i64> = Vec::new();
            for (h, weight) in HOURLY.iter().enumerate() {
                let n = weight * staff * rng.range(70, 100) / 100;
                for _ in 0..n {
                    arrivals
                        .push(open + i64::try_from(h).unwrap_or(0) * HOUR + rng.range(0, HOUR - 1));
                }
            }
            arrivals.sort_unstable();
            for t in arrivals {
                let call_id = id();
                let (contact_id, from) = if rng.chance(70) {
                    let (c, p) = rng.pick(&contacts);
                    (Some(c.clone()), p.clone())
                } else {
                    (None, format!("+7903{:07}", rng.range(0, 9_999_999)))
                };
                // The first agent of the queue to be free (lunch pushes an agent past it).
                let pick = agents
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.queue == q)
                    .map(|(i, a)| {
                        let mut free = a.free_at.max(t);
                        if !a.lunched && free + MIN >= a.lunch {
                            free = free.max(a.lunch + HOUR);
                        }
                        (free, i)
                    })
                    .min();
                let Some((free, ai)) = pick else { continue };
                let ring = rng.range(2_000, 8_000);
                let answer = free + ring;
                let patience = rng.range(2_000, 240_000);
                let mut events = vec![event(&call_id, t, CallEventKind::Offered, None)];
                let fact;
                if answer - t > patience || answer > close + 30 * MIN {
                    let end = t + patience;
                    events.push(event(&call_id, end, CallEventKind::Ended, None));
                    batch.calls.push(vec![
                        call_id.clone().into(),
                        "inbound".into(),
                        from.clone().into(),
                        ["100", "200"][q].into(),
                        queue_id.clone().into(),
                        Cell::Null,
                        contact_id.clone().into(),
                        Cell::Null,
                        Cell::Null,
                        t.into(),
                        Cell::Null,
                        end.into(),
                        patience.into(),
                        Cell::Null,
                        0i64.into(),
                        Cell::Null,
                        EndReason::Abandoned.as_str().into(),
                        Cell::Null,
                        Cell::Null,
                        Cell::Null,
                        Cell::Null,
                        "demo".into(),
                    ]);
                    fact = CallFact {
                        inbound: true,
                        queue_id: Some(queue_id.clone()),
                        sl_answer_ms: *sl,
                        offered_at: t,
                        answered_at: None,
                        ended_at: end,
                        wait_ms: patience,
                        hold_ms: 0,
                        wrapup_ms: 0,
                        end_reason: Some(EndReason::Abandoned),
                        disposition: None,
                        agent_id: None,
                        segments: Vec::new(),
                        missed_offers: Vec::new(),
                    };
                    {
                        let done = rng.chance(75);
                        let escalated = !done || rng.chance(15);
                        let due = end + 15 * MIN;
                        let completed = done.then(|| {
                            due + rng.range(-14 * MIN, if escalated { 60 * MIN } else { -MIN })
                        });
                        batch.tasks.push(vec![
                            id().into(),
                            "call".into(),
                            // Said at display, like the switch's own callbacks.
                            String::new().into(),
                            due.into(),
                            Cell::Null,
                            queue_id.clone().into(),
                            contact_id.clone().into(),
                            call_id.clone().into(),
                            from.clone().into(),
                            1i64.into(),
                            1i64.into(),
                            (if done { "done" } else { "open" }).into(),
                            done.then_some("called back").into(),
                            completed.into(),
                            escalated.then_some(due).into(),
                            end.into(),
                            end.into(),
                        ]);
                        summary.tasks += 1;
                    }
                } else {
                    let a = &mut agents[ai];
                    if !a.lunched && free >= a.lunch + HOUR {
                        batch.states.push(state(&a.id, "available", None, a.cursor, a.lunch));
                        batch.states.push(state(
                            &a.id,
                            "paused",
                            Some("lunch"),
                            a.lunch,
                            a.lunch + HOUR,
                        ));
                        a.cursor = a.lunch + HOUR;
                        a.lunched = true;
                    }
                    let talk = rng.range(40_000, 420_000);
                    let hold = if rng.chance(20) { rng.range(10_000, 60_000) } else { 0 };
                    let end = answer + talk;
                    let wrap = rng.range(5_000, 40_000);
                    let disposition = (*rng.pick(&DISPOSITIONS)).to_owned();
                    let mut missed = Vec::new();
                    if answer - t > 30_000 && rng.chance(30) {
                        let other = agents
                            .iter()
                            .filter(|o| o.queue == q)
                            .map(|o| o.id.clone())
                            .collect::<Vec<_>>();
                        let who = rng.pick(&other).clone();
                        let at = t + (answer - t) / 2;
                        events.push(event(&call_id, at, CallEventKind::NoAnswer, Some(&who)));
                        missed.push((who, at));
                    }
                    let a = &mut agents[ai];
                    batch.states.push(state(&a.id, "available", None, a.cursor, answer - ring));
                    batch.states.push(state(&a.id, "ringing", None, answer - ring, answer));
                    batch.states.push(state(&a.id, "on_call", None, answer, end));
                    batch.states.push(state(&a.id, "wrap_up", None, end, end + wrap));
                    a.free_at = end + wrap;
                    a.cursor = end + wrap;
                    events.push(event(&call_id, answer, CallEventKind::Answered, Some(&a.id)));
                    events.push(event(&call_id, end, CallEventKind::Ended, None));
                    let connected = end - answer;
                    let recording = match &options.recordings {
                        Some(root) if d == 1 && rng.chance(16) => {
                            Some(write_recording(root, &call_id, t, rng.range(0, 999))?)
                        }
                        _ => None,
                    };
                    batch.calls.push(vec![
                        call_id.clone().into(),
                        "inbound".into(),
                        from.clone().into(),
                        ["100", "200"][q].into(),
                        queue_id.clone().into(),
                        a.id.clone().into(),
                        contact_id.clone().into(),
                        Cell::Null,
                        Cell::Null,
                        t.into(),
                        answer.into(),
                        end.into(),
                        (answer - t).into(),
                        connected.into(),
                        hold.into(),
                        wrap.into(),
                        EndReason::CallerHangup.as_str().into(),
                        disposition.clone().into(),
                        recording.as_ref().map(|r| r.0.clone()).into(),
                        recording.as_ref().map(|_| RECORDING_MS).into(),
                        recording.as_ref().map(|r| r.1).into(),
                        "demo".into(),
                    ]);
                    fact = CallFact {
                        inbound: true,
                        queue_id: Some(queue_id.clone()),
                        sl_answer_ms: *sl,
                        offered_at: t,
                        answered_at: Some(answer),
                        ended_at: end,
                        wait_ms: answer - t,
                        hold_ms: hold,
                        wrapup_ms: wrap,
                        end_reason: Some(EndReason::CallerHangup),
                        disposition: Some(disposition),
                        agent_id: Some(a.id.clone()),
                        segments: vec![Segment { agent_id: a.id.clone(), from: answer, to: end }],
                        missed_offers: missed,
                    };
                }
                for (k, c) in contribution(&fact, &options.stats) {
                    *rollups.entry(k).or_default() += c;
                }
                if options.events {
                    batch.events.extend(events);
                }
                summary.calls += 1;
            }
        }
        // A few outbound calls per agent at the end of the day, then everyone goes home.
        for a in &mut agents {
            for _ in 0..rng.range(1, 4) {
                let t = a.free_at.max(day + 16 * HOUR + rng.range(0, HOUR));
                if t > close - 10 * MIN {
                    break;
                }
                let call_id = id();
                let connected = rng.chance(60);
                let answer = t + rng.range(5_000, 25_000);
                let end = if connected { answer + rng.range(60_000, 300_000) } else { answer };
                let (_, to) = rng.pick(&contacts).clone();
                batch.states.push(state(&a.id, "available", None, a.cursor, t));
                batch.states.push(state(&a.id, "on_call", None, t, end));
                a.free_at = end;
                a.cursor = end;
                batch.calls.push(vec![
                    call_id.clone().into(),
                    "outbound".into(),
                    "switchboard".into(),
                    to.into(),
                    Cell::Null,
                    a.id.clone().into(),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    t.into(),
                    connected.then_some(answer).into(),
                    end.into(),
                    Cell::Null,
                    connected.then_some(end - answer).into(),
                    0i64.into(),
                    Cell::Null,
                    (if connected { EndReason::CallerHangup } else { EndReason::NoAnswer })
                        .as_str()
                        .into(),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                ]);
                if options.events {
                    batch.events.push(event(&call_id, t, CallEventKind::Offered, None));
                    batch.events.push(event(&call_id, end, CallEventKind::Ended, None));
                }
                let fact = CallFact {
                    inbound: false,
                    queue_id: None,
                    sl_answer_ms: 20_000,
                    offered_at: t,
                    answered_at: connected.then_some(answer),
                    ended_at: end,
                    wait_ms: 0,
                    hold_ms: 0,
                    wrapup_ms: 0,
                    end_reason: Some(if connected {
                        EndReason::CallerHangup
                    } else {
                        EndReason::NoAnswer
                    }),
                    disposition: None,
                    agent_id: Some(a.id.clone()),
                    segments: Vec::new(),
                    missed_offers: Vec::new(),
                };
                for (k, c) in contribution(&fact, &options.stats) {
                    *rollups.entry(k).or_default() += c;
                }
                summary.calls += 1;
            }
            batch.states.push(state(&a.id, "available", None, a.cursor, close.max(a.cursor)));
        }
        if batch.calls.len() >= 20_000 || d == 1 {
            batch.flush(store).await?;
            // A day's slots are complete once the day is simulated: its rollups go too, so a
            // year of history never holds every key in memory.
            flush_rollups(store, std::mem::take(&mut rollups)).await?;
        }
    }
    batch.flush(store).await?;
    flush_rollups(store, rollups).await?;
    store.derive_rollups().await?;
    Ok(summary)
}
