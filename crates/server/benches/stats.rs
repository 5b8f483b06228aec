#![allow(clippy::unwrap_used)]
//! Statistics benchmark: dashboards over a generated history of about ten million calls, on
//! SQLite and on PostgreSQL, through the real HTTP API.
//!
//!     cargo bench -p switchboard-server --bench stats -- [--days 365] [--agents 370] [--contacts 20000]
//!         [--backend sqlite,postgres] [--rounds 40] [--dir target/bench-stats] [--reuse]
//!
//! For each backend it fills a fresh store with `seed-demo`'s generator (`--days` of history
//! for `--agents` agents in two queues, about 75 calls per agent and day: 365 x 370 is some
//! 10 million calls, with agents' state logs and callback tasks; no call events), then
//! `VACUUM ANALYZE`s it, starts the application in-process (release build) and signs in as the
//! manager. A dashboard is what `/dashboard` asks for when it opens: five `GET /api/stats`
//! requests at once (the total with occupancy and callback figures; then, without the
//! summary, per hour, per day, per agent with their occupancy, per disposition). For each
//! range (the last day, week, month, quarter and year; the month for one queue) it loads
//! `--rounds` dashboards one after another, after two to warm up, and reports the time from
//! sending the five requests to having all five answers: p50, p99 and max. It also times the store alone on the month and the year by total and by
//! agent, from the day rollup and from the 15-minute slot table, to show what the day
//! rollup buys. `--reuse` keeps a store seeded by an earlier run.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/switchboard_bench_stats` (dropped and
//! created with `psql` unless `--reuse`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_server::demo::{DemoOptions, seed_demo};
use switchboard_server::settings::{Secret, Settings};
use switchboard_server::startup::Application;
use switchboard_store::{PageRequest, StatsFilter, StatsGroup, Store};
use tokio::sync::oneshot;

const DAY: i64 = 86_400_000;
const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_DB: &str = "switchboard_bench_stats";
/// The generated history ends at the start of this day (2026-11-01, Moscow).
const NOW: i64 = 1_793_480_400_000;
const OFFSET_MINUTES: i64 = 180;

struct Args {
    days: u32,
    agents: u32,
    contacts: u32,
    backends: Vec<String>,
    rounds: usize,
    dir: PathBuf,
    reuse: bool,
}

fn args() -> Args {
    let mut a = Args {
        days: 365,
        agents: 370,
        contacts: 20_000,
        backends: vec!["sqlite".into(), "postgres".into()],
        rounds: 40,
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-stats")),
        reuse: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--days" => a.days = value.parse().unwrap(),
            "--agents" => a.agents = value.parse().unwrap(),
            "--contacts" => a.contacts = value.parse().unwrap(),
            "--backend" => a.backends = value.split(',').map(str::to_owned).collect(),
            "--rounds" => a.rounds = value.parse().unwrap(),
            "--dir" => a.dir = PathBuf::from(value),
            "--reuse" => {
                a.reuse = true;
                i += 1;
                continue;
            }
            // `cargo bench` passes --bench.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql").args([url, "-q", "-c", sql]).status().is_ok_and(|s| s.success());
    assert!(ok, "psql failed: {sql}");
}

fn settings(args: &Args, backend: &str) -> Settings {
    let mut s = Settings::load(None).unwrap();
    s.data_dir = args.dir.join(backend);
    s.http.listen = "127.0.0.1:0".parse().unwrap();
    s.sip.enabled = false;
    s.auth.initial_admin_password = Secret::new("bench-admin-1");
    s.stats.utc_offset_minutes = OFFSET_MINUTES;
    s.database.url = Secret::new(if backend == "postgres" {
        format!("postgres://postgres@127.0.0.1:5432/{PG_DB}")
    } else {
        String::new()
    });
    s
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Loads one dashboard: the five requests the page sends, at once.
async fn dashboard(
    http: &reqwest::Client,
    base: &str,
    from: i64,
    to: i64,
    queue: Option<&str>,
) -> Duration {
    let q = queue.map(|q| format!("&queue_id={q}")).unwrap_or_default();
    let b = format!("{base}/api/stats?from={from}&to={to}{q}");
    let urls = [
        b.clone(),
        format!("{b}&summary=false&group=interval&interval=hour"),
        format!("{b}&summary=false&group=interval&interval=day"),
        format!("{b}&summary=false&group=agent"),
        format!("{b}&summary=false&group=disposition"),
    ];
    let started = Instant::now();
    let answers = futures_util::future::join_all(urls.iter().map(|u| http.get(u).send())).await;
    for a in answers {
        let res = a.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["total"]["metrics"]["offered"].as_i64().is_some() || body["rows"].is_array());
    }
    started.elapsed()
}

async fn store_query(
    store: &Store,
    filter: &StatsFilter,
    group: StatsGroup,
    slots: bool,
    rounds: usize,
) -> (f64, f64) {
    let mut times = Vec::new();
    for i in 0..rounds + 1 {
        let t = Instant::now();
        let rows = if slots {
            store.call_stats_by_slot(filter, group).await.unwrap()
        } else {
            store.call_stats(filter, group).await.unwrap()
        };
        assert!(!rows.is_empty());
        if i > 0 {
            times.push(ms(t.elapsed()));
        }
    }
    times.sort_by(f64::total_cmp);
    (quantile(&times, 0.5), quantile(&times, 0.99))
}

async fn run(args: &Args, backend: &str) {
    let settings = settings(args, backend);
    if !args.reuse {
        if backend == "postgres" {
            psql(PG_ADMIN, &format!("DROP DATABASE IF EXISTS {PG_DB}"));
            psql(PG_ADMIN, &format!("CREATE DATABASE {PG_DB}"));
        } else {
            let _ = std::fs::remove_dir_all(&settings.data_dir);
        }
    }
    let app = Application::build(&settings).await.unwrap();
    let store = app.store().clone();
    let mut calls = store.list_calls(None, PageRequest::new(Some(1), Some(1))).await.unwrap().total;
    if calls == 0 {
        let hash = switchboard_api::hash_password("demo-password-1").unwrap();
        let options = DemoOptions {
            days: args.days,
            agents: args.agents,
            contacts: args.contacts,
            seed: 2026,
            now: NOW,
            utc_offset_ms: OFFSET_MINUTES * 60_000,
            events: false,
            stats: settings.stats.config(),
            lang: Default::default(),
            recordings: None,
        };
        let started = Instant::now();
        let made = seed_demo(&store, &options, &hash).await.unwrap();
        eprintln!(
            "{backend}: seeded {} calls, {} callback tasks in {:.0} s",
            made.calls,
            made.tasks,
            started.elapsed().as_secs_f64()
        );
        calls = store.list_calls(None, PageRequest::new(Some(1), Some(1))).await.unwrap().total;
    }
    // Fresh planner statistics (and, on PostgreSQL, a visibility map for index-only scans).
    let started = Instant::now();
    if backend == "postgres" {
        psql(&format!("postgres://postgres@127.0.0.1:5432/{PG_DB}"), "VACUUM ANALYZE");
    }
    store.analyze().await.unwrap();
    eprintln!("{backend}: analyzed in {:.0} s", started.elapsed().as_secs_f64());
    let size = if backend == "postgres" {
        let out = Command::new("psql")
            .args([PG_ADMIN, "-Atc", &format!("SELECT pg_database_size('{PG_DB}')")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse::<u64>().unwrap_or(0)
    } else {
        std::fs::metadata(settings.data_dir.join("switchboard.db")).map_or(0, |m| m.len())
    };
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": "manager", "password": "demo-password-1"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "the demo manager signs in");
    let queues: serde_json::Value =
        http.get(format!("{base}/api/queues")).send().await.unwrap().json().await.unwrap();
    let queue = queues
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "support"))
        .map(|q| q["id"].as_str().unwrap().to_owned());

    println!(
        "\n### {backend}: {calls} calls, database {:.1} GiB\n",
        size as f64 / f64::from(1u32 << 30)
    );
    println!("| dashboard range | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (label, days, q) in [
        ("last day", 1, None),
        ("last week", 7, None),
        ("last month (30 days)", 30, None),
        ("last month, one queue", 30, queue.as_deref()),
        ("last quarter (90 days)", 90, None),
        ("last year (365 days)", 365, None),
    ] {
        let (from, to) = (NOW - days * DAY, NOW);
        for _ in 0..2 {
            dashboard(&http, &base, from, to, q).await;
        }
        let mut times: Vec<f64> = Vec::with_capacity(args.rounds);
        for _ in 0..args.rounds {
            times.push(ms(dashboard(&http, &base, from, to, q).await));
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {label} | {:.1} | {:.1} | {:.1} |",
            quantile(&times, 0.5),
            quantile(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN)
        );
    }
    println!(
        "\nThe store alone (one query, p50 / p99 ms), day rollup against the 15-minute slot table:\n"
    );
    println!("| query | day rollup | slot table | ratio (p50) |");
    println!("|---|---|---|---|");
    let offset = OFFSET_MINUTES * 60_000;
    for (label, days, group) in [
        ("month, total", 30, StatsGroup::Total),
        ("month, by agent", 30, StatsGroup::Agent),
        ("year, total", 365, StatsGroup::Total),
        ("year, by agent", 365, StatsGroup::Agent),
    ] {
        let filter = StatsFilter {
            from: NOW - days * DAY,
            to: NOW,
            queue_id: None,
            agent_id: None,
            utc_offset_ms: offset,
        };
        let rounds = if days > 100 { 5 } else { 10 };
        let fast = store_query(&store, &filter, group, false, rounds).await;
        let slow = store_query(&store, &filter, group, true, rounds).await;
        println!(
            "| {label} | {:.1} / {:.1} | {:.1} / {:.1} | {:.0}x |",
            fast.0,
            fast.1,
            slow.0,
            slow.1,
            slow.0 / fast.0
        );
    }
    let _ = stop.send(());
    let _ = server.await;
}

fn main() {
    let args = args();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    println!(
        "stats benchmark: {} days x {} agents, {} cores ({cpu}), {} rounds per range",
        args.days,
        args.agents,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.rounds
    );
    for backend in &args.backends {
        runtime.block_on(run(&args, backend));
    }
}
