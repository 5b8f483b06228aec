#![allow(clippy::unwrap_used)]
//! How fast each page of the browser UI is ready on the seeded demo data.
//!
//!     cargo bench -p switchboard-server --bench pages [-- --runs 15 --days 30 --agents 12 --contacts 500 --database postgres://...]
//!
//! The gateway runs in this process (release build; SQLite unless `--database` names a
//! PostgreSQL URL, whose tables must be empty), filled by the same generator as
//! `switchboard seed-demo` with its defaults. Headless Chromium (Debian's, through
//! `tests/browser/driver.mjs`; run `npm ci` there first) signs in as the demo manager and as
//! the admin and opens every page `--runs` times after one warm-up. For each opening it takes,
//! from the browser's own timings, the time from navigation start to the last response the
//! page waited for (the HTML, its scripts and every API call it makes to fill itself); the
//! page counts as ready then. It prints the median, p95 and worst per page.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_server::demo::{DemoOptions, seed_demo};
use switchboard_server::settings::{Secret, Settings};
use switchboard_server::startup::Application;
use switchboard_store::{CompanyFilter, ContactFilter, DealFilter, PageRequest};
use tokio::sync::oneshot;

use switchboard_testkit::browser::{Driver, tone_wav};

const DEMO_PASSWORD: &str = "demo-password-1";
const ADMIN_PASSWORD: &str = "bench-admin-1";

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn sign_in(driver: &mut Driver, base: &str, who: &str, password: &str, wav: &Path) {
    driver.must(json!({"cmd": "open", "agent": who, "wav": wav})).await;
    driver.must(json!({"cmd": "goto", "agent": who, "url": format!("{base}/login?lang=ru")})).await;
    driver.must(json!({"cmd": "fill", "agent": who, "selector": "#login", "value": who})).await;
    driver
        .must(json!({"cmd": "fill", "agent": who, "selector": "#password", "value": password}))
        .await;
    driver.must(json!({"cmd": "click", "agent": who, "selector": "#sign-in"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": who, "selector": "#state", "state": "attached"}))
        .await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = arg(&args, "--runs", 15);
    let days: u32 = arg(&args, "--days", 30);
    let agents: u32 = arg(&args, "--agents", 12);
    let contacts: u32 = arg(&args, "--contacts", 500);
    let database: String = arg(&args, "--database", String::new());
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(
        async move {
            let data = std::env::temp_dir().join(format!("sb-bench-pages-{}", std::process::id()));
            std::fs::create_dir_all(&data).unwrap();
            let mut settings = Settings::load(None).unwrap();
            settings.data_dir = data.clone();
            settings.recordings.root = data.join("recordings");
            settings.http.listen = "127.0.0.1:0".parse().unwrap();
            settings.database.url = Secret::new(database.clone());
            settings.auth.initial_admin_password = Secret::new(ADMIN_PASSWORD);
            settings.sip.listen = "127.0.0.1:0".into();
            settings.log.level = "warn".into();
            let app = Application::build(&settings).await.unwrap();
            let base = format!("http://{}", app.local_addr().unwrap());
            let store = app.store().clone();
            let hash = switchboard_api::hash_password(DEMO_PASSWORD).unwrap();
            let options = DemoOptions {
                days,
                agents,
                contacts,
                seed: 1,
                now: switchboard_store::now_ms(),
                utc_offset_ms: settings.stats.utc_offset_minutes.saturating_mul(60_000),
                events: true,
                stats: settings.stats.config(),
                lang: Default::default(),
                recordings: None,
            };
            let started = std::time::Instant::now();
            let made = seed_demo(&store, &options, &hash).await.unwrap();
            eprintln!(
                "seeded {} users, {} contacts, {} calls, {} tasks in {:.1} s",
                made.users,
                made.contacts,
                made.calls,
                made.tasks,
                started.elapsed().as_secs_f64()
            );
            let contact = store
                .list_contacts(&ContactFilter::default(), PageRequest::new(None, Some(1)))
                .await
                .unwrap()
                .items
                .remove(0)
                .id;
            let company = store
                .list_companies(&CompanyFilter::default(), PageRequest::new(None, Some(1)))
                .await
                .unwrap()
                .items
                .remove(0)
                .id;
            let deal = store
                .list_deals(&DealFilter::default(), PageRequest::new(None, Some(1)))
                .await
                .unwrap()
                .items
                .remove(0)
                .id;
            let (stop, stopped) = oneshot::channel::<()>();
            let server = tokio::spawn(app.run_until(async move {
                let _ = stopped.await;
            }));

            let wav = tone_wav(&data.join("tone.wav"), 1000.0);
            let mut driver = Driver::start();
            sign_in(&mut driver, &base, "manager", DEMO_PASSWORD, &wav).await;
            sign_in(&mut driver, &base, "admin", ADMIN_PASSWORD, &wav).await;
            let pages: Vec<(&str, String)> = vec![
                ("manager", "/console".into()),
                ("manager", "/contacts".into()),
                ("manager", format!("/contacts/{contact}")),
                ("manager", "/companies".into()),
                ("manager", format!("/companies/{company}")),
                ("manager", "/deals".into()),
                ("manager", "/deals?view=list".into()),
                ("manager", format!("/deals/{deal}")),
                ("manager", "/tasks".into()),
                ("manager", "/recordings".into()),
                ("manager", "/dashboard".into()),
                ("manager", "/wallboard".into()),
                ("manager", "/audit".into()),
                ("manager", "/import".into()),
                ("admin", "/admin?section=users".into()),
                ("admin", "/admin?section=queues".into()),
                ("admin", "/admin?section=telephony".into()),
                ("admin", "/admin?section=settings".into()),
            ];
            println!("| page | as | API calls | median ms | p95 ms | worst ms |");
            println!("|---|---|---:|---:|---:|---:|");
            let mut worst_page = (String::new(), 0.0f64);
            for (who, path) in &pages {
                let url = format!("{base}{path}");
                let mut ready = Vec::with_capacity(runs);
                let mut fetches = 0;
                for i in 0..=runs {
                    let t: Value = driver
                        .must(json!({"cmd": "timing", "agent": who, "url": url, "timeout": 30000}))
                        .await;
                    if i > 0 {
                        ready.push(t["ready"].as_f64().unwrap());
                        fetches = t["fetches"].as_u64().unwrap();
                    }
                }
                ready.sort_by(f64::total_cmp);
                let (p50, p95, max) =
                    (percentile(&ready, 50.0), percentile(&ready, 95.0), ready[ready.len() - 1]);
                if p95 > worst_page.1 {
                    worst_page = (path.split('?').next().unwrap_or(path).to_owned(), p95);
                }
                let shown =
                    path.replace(&contact, "{id}").replace(&company, "{id}").replace(&deal, "{id}");
                println!("| `{shown}` | {who} | {fetches} | {p50:.0} | {p95:.0} | {max:.0} |");
            }
            eprintln!("slowest p95: {} at {:.0} ms", worst_page.0, worst_page.1);
            driver.quit().await;
            let _ = stop.send(());
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
            let _ = std::fs::remove_dir_all(&data);
        },
    );
}
