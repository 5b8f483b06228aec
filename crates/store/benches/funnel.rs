#![allow(clippy::unwrap_used)]
//! The funnel report over a million deals.
//!
//! ```sh
//! cargo bench -p switchboard-store --bench funnel -- --backend sqlite,postgres
//! #   --deals 1000000 --days 365 --runs 40 --reuse
//! ```
//!
//! Fills a fresh store with `--deals` generated deals created evenly over `--days` days
//! before a fixed date (stored in that order, as a CRM writes them), each with its history
//! through the default sales pipeline's stages. A deal goes one stage further with
//! probability 1/2; of those that reach the last stage most are won, others are lost at the
//! stage they stopped in or stay open; three open deals in four are expected to close on a day
//! of the next six months. The rollups are then counted from the deals
//! (`Store::rebuild_funnel`) and the database analysed.
//!
//! Timed: `Store::funnel_report` for several periods, each loaded twice to warm up and then
//! `--runs` times one after another; p50, p99 and max in ms. Periods that start at the call
//! center's midnight (UTC+3) read the rollups for whole UTC days and the deals themselves for
//! the 21 hours at each end; whole-UTC-day periods read only the rollups. The last row times
//! every sales report at once (`Store::sales_report`: funnel, sources, losses, managers,
//! forecast).

use std::time::Instant;

use switchboard_store::{Cell, HistoryTable, ReportFilter, Store};

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_DB: &str = "switchboard_bench_funnel";
/// 2026-12-01T00:00:00Z: the generated history ends here.
const END: i64 = 1_796_083_200_000;
const DAY: i64 = 86_400_000;
const OFFSET: i64 = 3 * 3_600_000;

struct Args {
    backends: Vec<String>,
    deals: usize,
    days: i64,
    runs: usize,
    reuse: bool,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let get =
        |name: &str| argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).cloned();
    Args {
        backends: get("--backend")
            .unwrap_or_else(|| "sqlite".into())
            .split(',')
            .map(str::to_owned)
            .collect(),
        deals: get("--deals").map_or(1_000_000, |v| v.parse().expect("--deals")),
        days: get("--days").map_or(365, |v| v.parse().expect("--days")),
        runs: get("--runs").map_or(40, |v| v.parse().expect("--runs")),
        reuse: argv.iter().any(|a| a == "--reuse"),
    }
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args([url, "-qAtc", sql])
        .status()
        .expect("psql (apt-get install postgresql-client)");
    assert!(status.success(), "psql: {sql}");
}

/// xorshift64*: the same deals every run without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn open(backend: &str, reuse: bool) -> Store {
    let url = if backend == "postgres" {
        if !reuse {
            psql(PG_ADMIN, &format!("DROP DATABASE IF EXISTS {PG_DB}"));
            psql(PG_ADMIN, &format!("CREATE DATABASE {PG_DB}"));
        }
        format!("postgres://postgres@127.0.0.1:5432/{PG_DB}")
    } else {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-funnel");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("funnel.db");
        if !reuse {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        format!("sqlite://{}", path.display())
    };
    let store = Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    store.seed_defaults().await.unwrap();
    store
}

/// Generates and loads the deals, 20,000 per transaction.
async fn fill(store: &Store, args: &Args) {
    let pipeline = store.list_pipelines().await.unwrap()[0].id.clone();
    let stages: Vec<String> = store
        .list_stages()
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.pipeline_id == pipeline)
        .map(|s| s.id)
        .collect();
    let mut rng = Rng(0x5eed_2026);
    let start = END - args.days * DAY;
    let t = Instant::now();
    let mut loaded = 0;
    while loaded < args.deals {
        let n = (args.deals - loaded).min(20_000);
        let mut deals = Vec::with_capacity(n);
        let mut changes = Vec::with_capacity(n * 3);
        for i in 0..n {
            let id = format!("bench-deal-{:08}", loaded + i);
            // In the order they were created, as a CRM writes them.
            let created = start
                + ((loaded + i) as i64 * args.days * DAY) / args.deals as i64
                + rng.below(60_000) as i64;
            // How far it got: each further stage with probability 1/2.
            let mut reached = 0;
            while reached + 1 < stages.len() && rng.below(2) == 0 {
                reached += 1;
            }
            let mut at = created;
            changes.push(vec![
                Cell::from(format!("{id}-0")),
                Cell::from(id.clone()),
                Cell::Null,
                Cell::from(stages[0].clone()),
                Cell::Null,
                Cell::from("open"),
                Cell::from(at),
            ]);
            for k in 1..=reached {
                at += 3_600_000 + rng.below(5 * DAY as u64) as i64;
                changes.push(vec![
                    Cell::from(format!("{id}-{k}")),
                    Cell::from(id.clone()),
                    Cell::from(stages[k - 1].clone()),
                    Cell::from(stages[k].clone()),
                    Cell::from("open"),
                    Cell::from("open"),
                    Cell::from(at),
                ]);
            }
            let draw = rng.below(10);
            let status = if reached + 1 == stages.len() && draw < 7 {
                "won"
            } else if draw < 4 {
                "lost"
            } else {
                "open"
            };
            let closed = (status != "open").then(|| at + rng.below(DAY as u64) as i64);
            if let Some(closed) = closed {
                changes.push(vec![
                    Cell::from(format!("{id}-c")),
                    Cell::from(id.clone()),
                    Cell::from(stages[reached].clone()),
                    Cell::from(stages[reached].clone()),
                    Cell::from("open"),
                    Cell::from(status),
                    Cell::from(closed),
                ]);
            }
            let amount = 1_000_000 + rng.below(50_000_000) as i64;
            // Three open deals in four have an expected close: a local midnight in the next
            // six months.
            let expected = (status == "open" && rng.below(4) > 0)
                .then(|| END + rng.below(182) as i64 * DAY - OFFSET);
            deals.push(vec![
                Cell::from(id.clone()),
                Cell::from(format!("Окна {}", loaded + i)),
                Cell::from(format!("окна {}", loaded + i)),
                Cell::from(stages[reached].clone()),
                Cell::from(amount),
                Cell::from(1),
                Cell::from("RUB"),
                Cell::from(status),
                Cell::from((status == "lost").then_some("price")),
                Cell::from(closed),
                Cell::from(expected),
                Cell::from(created),
                Cell::from(closed.unwrap_or(at)),
            ]);
        }
        store.load_history(HistoryTable::Deals, &deals).await.unwrap();
        store.load_history(HistoryTable::DealChanges, &changes).await.unwrap();
        loaded += n;
        if loaded % 200_000 == 0 || loaded == args.deals {
            eprintln!("  {loaded} deals loaded ({:.0} s)", t.elapsed().as_secs_f64());
        }
    }
    let t = Instant::now();
    store.rebuild_funnel(None).await.unwrap();
    eprintln!("  rollups counted in {:.1} s", t.elapsed().as_secs_f64());
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Times `funnel_report` (or, `whole`, every sales report) over `[from, to)`.
async fn time(store: &Store, runs: usize, from: i64, to: i64, whole: bool) -> (f64, f64, f64, i64) {
    let filter = ReportFilter {
        from,
        to,
        pipeline_id: None,
        lead_minutes: 15,
        currency: "RUB".into(),
        utc_offset_ms: OFFSET,
    };
    let mut times = Vec::with_capacity(runs);
    let mut created = 0;
    for i in 0..runs + 2 {
        let t = Instant::now();
        let funnel = if whole {
            store.sales_report(&filter).await.unwrap().funnel
        } else {
            store.funnel_report(&filter).await.unwrap()
        };
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        created = funnel.created;
    }
    times.sort_by(f64::total_cmp);
    (quantile(&times, 0.5), quantile(&times, 0.99), times[times.len() - 1], created)
}

#[tokio::main]
async fn main() {
    let args = args();
    for backend in &args.backends {
        eprintln!("{backend}:");
        let store = open(backend, args.reuse).await;
        if !args.reuse {
            fill(&store, &args).await;
            store.analyze().await.unwrap();
        }
        let local_midnight = |days_back: i64| END - days_back * DAY - OFFSET;
        println!("\n{backend}: funnel_report, ms over {} runs", args.runs);
        println!("| period | deals in it | p50 | p99 | max |");
        println!("|---|---|---|---|---|");
        for (name, from, to, whole) in [
            ("last month, local days", local_midnight(30), local_midnight(0), false),
            ("last quarter, local days", local_midnight(91), local_midnight(0), false),
            ("last year, local days", local_midnight(args.days), local_midnight(0), false),
            ("last year, whole UTC days", END - args.days * DAY, END, false),
            ("everything (since 1970)", 0, END + DAY, false),
            ("every sales report, last month", local_midnight(30), local_midnight(0), true),
        ] {
            let (p50, p99, max, created) = time(&store, args.runs, from, to, whole).await;
            println!("| {name} | {created} | {p50:.1} | {p99:.1} | {max:.1} |");
        }
        store.close().await;
    }
}
