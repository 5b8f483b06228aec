#![allow(clippy::unwrap_used)]
//! Contact benchmarks: import throughput and phone lookup latency at 1,000,000 contacts.
//!
//!     cargo bench -p switchboard-server --bench contacts -- [--contacts N] [--backend sqlite|postgres|both]
//!
//! For each backend it builds a fresh database, imports N contacts from generated CSV files of
//! 100,000 rows each (through the same code path as `switchboard import contacts`, every row a
//! different spelling of its number), timing each file; then looks contacts up by random
//! numbers written in random spellings (parse + query + load the contact) and reports
//! percentiles. PostgreSQL is taken from SWITCHBOARD_TEST_PG_URL (default
//! postgres://postgres@127.0.0.1:5432/test); a database is created and dropped for the run.

use std::io::Write;
use std::time::{Duration, Instant};

use switchboard_core::{PhoneNumber, Region};
use switchboard_server::import::{ImportOptions, import_contacts_file};
use switchboard_store::{Actor, OnDuplicate, Store};

const FILE_ROWS: usize = 100_000;

fn spelling(i: usize, style: usize) -> String {
    let n = format!("{:07}", i);
    match style % 4 {
        0 => format!("8 (916) {}-{}-{}", &n[..3], &n[3..5], &n[5..]),
        1 => format!("+7 916 {} {} {}", &n[..3], &n[3..5], &n[5..]),
        2 => format!("7916{n}"),
        _ => format!("916{n}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, no dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

async fn open(backend: &str) -> (Store, Box<dyn FnOnce() + Send>) {
    let unique = uuid::Uuid::now_v7().as_simple().to_string();
    match backend {
        "sqlite" => {
            let path = std::env::temp_dir().join(format!("sb-bench-{unique}.db"));
            let store =
                Store::connect(&format!("sqlite://{}", path.display()), 8).await.expect("sqlite");
            store.migrate().await.expect("migrate");
            let cleanup = move || {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            };
            (store, Box::new(cleanup))
        }
        _ => {
            let admin_url = std::env::var("SWITCHBOARD_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let name = format!("sb_bench_{unique}");
            let admin = Store::connect(&admin_url, 1).await.expect("postgres");
            admin.execute_admin(&format!("CREATE DATABASE {name}")).await.expect("create db");
            admin.close().await;
            let base = &admin_url[..admin_url.rfind('/').expect("url has a database")];
            let store = Store::connect(&format!("{base}/{name}"), 8).await.expect("postgres");
            store.migrate().await.expect("migrate");
            let cleanup = move || {
                let rt =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
                rt.block_on(async {
                    if let Ok(admin) = Store::connect(&admin_url, 1).await {
                        let _ = admin
                            .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            };
            (store, Box::new(cleanup))
        }
    }
}

async fn run(backend: &str, contacts: usize) {
    println!("\n## {backend}: {contacts} contacts");
    let (store, cleanup) = open(backend).await;
    let dir =
        std::env::temp_dir().join(format!("sb-bench-csv-{}", uuid::Uuid::now_v7().as_simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let options = ImportOptions {
        on_duplicate: OnDuplicate::Merge,
        default_owner: None,
        region: Region::RU,
        progress: false,
    };

    let mut rates = Vec::new();
    let files = contacts.div_ceil(FILE_ROWS);
    for f in 0..files {
        let path = dir.join(format!("contacts-{f}.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("csv"));
        writeln!(out, "Фамилия,Имя,Телефон,Email,Компания").expect("write");
        let rows = FILE_ROWS.min(contacts - f * FILE_ROWS);
        for r in 0..rows {
            let i = f * FILE_ROWS + r;
            writeln!(
                out,
                "Иванов{i},Иван,\"{}\",user{i}@example.ru,Компания {}",
                spelling(i, i),
                i % 5000
            )
            .expect("write");
        }
        drop(out);
        let started = Instant::now();
        let summary =
            import_contacts_file(&store, &Actor::system(), &path, &options).await.expect("import");
        let elapsed = started.elapsed();
        assert_eq!(
            summary.created as usize,
            rows,
            "every row creates a contact: {:?}",
            summary.rejected.first()
        );
        let rate = rows as f64 / elapsed.as_secs_f64();
        println!(
            "import file {}/{files}: {rows} rows in {:.2}s = {rate:.0} rows/s (table had {} contacts)",
            f + 1,
            elapsed.as_secs_f64(),
            f * FILE_ROWS
        );
        rates.push(rate);
        let _ = std::fs::remove_file(&path);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "import rows/s over {} files: min {:.0}, median {:.0}, max {:.0}",
        rates.len(),
        rates[0],
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    );

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 1..=3 {
        let mut hits = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            let i = (rng.next() as usize) % contacts;
            let text = spelling(i, rng.next() as usize);
            let started = Instant::now();
            let number = PhoneNumber::parse(&text, Region::RU).expect("parse");
            let found = store.find_contacts_by_phone(number.e164()).await.expect("lookup");
            hits.push(started.elapsed());
            assert_eq!(found.len(), 1, "{text}");
        }
        let mut misses = Vec::with_capacity(1_000);
        for k in 0..1_000 {
            let text = format!("+7 903 {:03} {:04}", k % 1000, rng.next() % 10_000);
            let started = Instant::now();
            let number = PhoneNumber::parse(&text, Region::RU).expect("parse");
            let found = store.find_contacts_by_phone(number.e164()).await.expect("lookup");
            misses.push(started.elapsed());
            assert!(found.is_empty());
        }
        hits.sort();
        misses.sort();
        println!(
            "lookup round {round}: hits (10000) p50 {} p95 {} p99 {} max {} ms; misses (1000) p50 {} p99 {} ms",
            ms(percentile(&hits, 0.5)),
            ms(percentile(&hits, 0.95)),
            ms(percentile(&hits, 0.99)),
            ms(hits[hits.len() - 1]),
            ms(percentile(&misses, 0.5)),
            ms(percentile(&misses, 0.99)),
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    tokio::task::spawn_blocking(cleanup).await.expect("cleanup");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value =
        |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let contacts: usize = value("--contacts").and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let backend = value("--backend").unwrap_or_else(|| "both".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "# contacts benchmark: {} cores, {cpu}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for b in ["sqlite", "postgres"] {
        if backend == "both" || backend == b {
            run(b, contacts).await;
        }
    }
}
