#![allow(clippy::unwrap_used)]
//! Leads from a website at a steady rate: does every post become one lead, is every person
//! one contact however often they write, and how long does a post take?
//!
//!     cargo bench -p switchboard-server --bench leads [-- --runs 3 --rate 50 --seconds 60 --repeat-pct 20 --backend sqlite|postgres]
//!
//! Each run starts the release `switchboard serve` on a fresh store (SQLite in a scratch
//! directory, or a PostgreSQL database created for the run from `SWITCHBOARD_TEST_PG_URL`),
//! makes a team of ten operators and a lead form for them, then posts the form `--rate` times
//! a second for `--seconds` seconds on a fixed schedule (not waiting for answers), as a
//! browser would: form-encoded fields, the number in one of two spellings, from 200 client
//! addresses (127.0.1.x: each under the 20-a-minute allowance). `--repeat-pct` of the posts
//! come from people who already wrote. Afterwards it counts, through the API: leads stored
//! against posts answered 200, contacts against distinct people, and each lead's deal and
//! callback task.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use switchboard_testkit::bench::{arg, percentile, serve};

const ADMIN_PASSWORD: &str = "bench-admin-1";

async fn all(client: &Client, base: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let body: Value = client
            .get(format!("{base}{path}?page={page}&per_page=500"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = body["items"].as_array().cloned().unwrap_or_default();
        let total = body["total"].as_u64().unwrap_or(0) as usize;
        out.extend(items);
        if out.len() >= total {
            return out;
        }
    }
    out
}

async fn run(
    binary: &Path,
    round: u32,
    rate: u32,
    seconds: u32,
    repeat_pct: u32,
    postgres: Option<&str>,
) {
    let dir = std::env::temp_dir().join(format!("sb-bench-leads-{}-{round}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A database of its own for a PostgreSQL run.
    let db = postgres.map(|url| {
        let name = format!("sb_bench_leads_{}_{round}", std::process::id());
        let admin_url = url.to_owned();
        (name, admin_url)
    });
    let db_url = match &db {
        Some((name, url)) => {
            let status = Command::new("psql")
                .arg(url)
                .arg("-qc")
                .arg(format!("CREATE DATABASE {name}"))
                .status()
                .unwrap();
            assert!(status.success(), "cannot create the database");
            Some(format!("{}/{name}", url.rsplit_once('/').unwrap().0))
        }
        None => None,
    };
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{http}");
    let server = serve(binary, &dir, http, ADMIN_PASSWORD, db_url.as_deref());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = Client::builder().cookie_store(true).build().unwrap();
    let res = admin
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let team: Value = admin
        .post(format!("{base}/api/teams"))
        .json(&json!({"name": "Leads"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in 0..10 {
        let res = admin.post(format!("{base}/api/users")).json(&json!({"login": format!("op{i}"), "name": format!("Operator {i}"), "role": "operator", "team_id": team["id"]})).send().await.unwrap();
        assert!(res.status().is_success());
    }
    let form: Value = admin
        .post(format!("{base}/api/lead-forms"))
        .json(&json!({"name": "bench.example", "team_id": team["id"], "allowed_origins": ["*"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{base}/api/forms/{}/leads", form["token"].as_str().unwrap());
    let clients: Vec<Client> = (1..=200u8)
        .map(|i| {
            Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 1, i)))
                .build()
                .unwrap()
        })
        .collect();

    let total = (rate * seconds) as usize;
    let people = total - total * repeat_pct as usize / 100;
    let started = Instant::now();
    let mut posts = Vec::with_capacity(total);
    for k in 0..total {
        // The first `people` posts are new people; the rest write again, spread over them.
        let person = if k < people { k } else { (k * 7919) % people };
        let digits = format!("{:07}", person);
        let phone = if k % 2 == 0 {
            format!("8 (917) {}-{}-{}", &digits[..3], &digits[3..5], &digits[5..])
        } else {
            format!("+7917{digits}")
        };
        let client = clients[k % clients.len()].clone();
        let url = url.clone();
        let at = started + Duration::from_secs_f64(k as f64 / f64::from(rate));
        posts.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let sent = Instant::now();
            let status = client
                .post(&url)
                .form(&[
                    ("name", format!("Person {person}")),
                    ("phone", phone),
                    ("utm_source", "bench".into()),
                    ("website", String::new()),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            (status, sent.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut ok: usize = 0;
    let mut refused: std::collections::BTreeMap<u16, usize> = Default::default();
    for post in posts {
        let (status, ms) = post.await.unwrap();
        latencies.push(ms);
        if status == 200 {
            ok += 1;
        } else {
            *refused.entry(status).or_default() += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let leads = all(&admin, &base, "/api/leads").await;
    let contacts = all(&admin, &base, "/api/contacts").await;
    let complete = leads
        .iter()
        .filter(|l| {
            l["deal_id"].is_string() && l["task_id"].is_string() && l["contact_id"].is_string()
        })
        .count();
    let distinct: std::collections::HashSet<&str> =
        leads.iter().filter_map(|l| l["contact_id"].as_str()).collect();
    println!(
        "  run {round}: {total} posts in {elapsed:.1} s ({:.1}/s); answered 200: {ok}, refused: {refused:?}; latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        total as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
    );
    println!(
        "         leads stored {} of {ok} (lost {}), each with contact, deal and callback: {complete}; contacts {} for {people} people (duplicates {}), leads' distinct contacts {}",
        leads.len(),
        ok.saturating_sub(leads.len()),
        contacts.len(),
        contacts.len().saturating_sub(people),
        distinct.len()
    );
    drop(server);
    if let Some((name, url)) = db {
        let _ = Command::new("psql")
            .arg(&url)
            .arg("-qc")
            .arg(format!("DROP DATABASE IF EXISTS {name}"))
            .status();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: u32 = arg(&args, "--runs", 3);
    let rate: u32 = arg(&args, "--rate", 50);
    let seconds: u32 = arg(&args, "--seconds", 60);
    let repeat_pct: u32 = arg(&args, "--repeat-pct", 20).min(90);
    let backend: String = arg(&args, "--backend", "sqlite".to_owned());
    let pg = std::env::var("SWITCHBOARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_switchboard"));
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!(
        "leads bench: {runs} runs of {rate}/s for {seconds} s, {repeat_pct}% repeats, {backend}; {cores} cores"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for round in 1..=runs {
        runtime.block_on(run(
            &binary,
            round,
            rate,
            seconds,
            repeat_pct,
            (backend == "postgres").then_some(pg.as_str()),
        ));
    }
}
