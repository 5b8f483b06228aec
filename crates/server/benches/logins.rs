#![allow(clippy::unwrap_used)]
//! What logins cost: a shift of agents signing in, and a storm of failed logins.
//!
//!     cargo bench -p switchboard-server --bench logins [-- --runs 3 --agents 300 --spread-s 60 --storm 2000 --concurrency 64 --binary PATH]
//!
//! `--binary` runs another `switchboard` build (an older release, for a before/after).
//!
//! Each run starts the release `switchboard serve` as its own process on a fresh SQLite
//! store (so its resident set is its own), creates `--agents` operators through the API, and
//! then measures three things, reading the process's VmRSS and VmHWM from /proc:
//!
//! 1. **Shift start, all at once**: every agent signs in at the same moment (one client
//!    address, as a call center behind NAT): time until all are in, each login's latency,
//!    how many had to retry after a 503.
//! 2. **Shift start, spread**: the same agents sign in again at uniformly random moments
//!    within `--spread-s` seconds: each login's latency.
//! 3. **Storm**: `--storm` failed logins with random names, `--concurrency` at a time, from
//!    forty client addresses (each under the per-address lock): throughput, and the resident
//!    set before, after and at its peak.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;
use switchboard_testkit::bench::{arg, percentile, serve};

const ADMIN_PASSWORD: &str = "bench-admin-1";
const AGENT_PASSWORD: &str = "agent-password-1";

/// (VmRSS, VmHWM) in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap()
    };
    (field("VmRSS:") / 1024.0, field("VmHWM:") / 1024.0)
}

fn client_from(last_octet: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .unwrap()
}

/// Signs in, retrying after a 503 as the page's user would; (latency in ms, retries).
async fn sign_in(client: &Client, base: &str, login: &str, password: &str) -> (f64, u32) {
    let started = Instant::now();
    let mut retries = 0;
    loop {
        let res = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            200 => return (started.elapsed().as_secs_f64() * 1000.0, retries),
            503 => {
                retries += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            other => panic!("{login}: {other}"),
        }
    }
}

fn summary(label: &str, latencies: &mut [f64]) {
    latencies.sort_by(f64::total_cmp);
    println!(
        "  {label}: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(latencies, 50.0),
        percentile(latencies, 95.0),
        percentile(latencies, 99.0),
        percentile(latencies, 100.0)
    );
}

async fn run(
    binary: &Path,
    round: u32,
    agents: usize,
    spread: Duration,
    storm: usize,
    concurrency: usize,
) {
    let dir = std::env::temp_dir().join(format!("sb-bench-logins-{}-{round}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{http}");
    let server = serve(binary, &dir, http, ADMIN_PASSWORD, None);
    let pid = server.0.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = Client::builder().cookie_store(true).build().unwrap();
    sign_in(&admin, &base, "admin", ADMIN_PASSWORD).await;
    for i in 0..agents {
        let res =
            admin.post(format!("{base}/api/users")).json(&json!({"login": format!("agent{i:03}"), "name": format!("Agent {i}"), "role": "operator", "password": AGENT_PASSWORD})).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (baseline, _) = rss_mib(pid);
    println!("run {round}: {agents} agents created; RSS {baseline:.0} MiB");

    // 1. Everyone at once, from one address.
    let office = client_from(2);
    let started = Instant::now();
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let (office, base) = (office.clone(), base.clone());
            tokio::spawn(async move {
                sign_in(&office, &base, &format!("agent{i:03}"), AGENT_PASSWORD).await
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut retried = 0;
    for t in tasks {
        let (ms, retries) = t.await.unwrap();
        latencies.push(ms);
        retried += usize::from(retries > 0);
    }
    let all_in = started.elapsed();
    let (rss, peak) = rss_mib(pid);
    println!(
        "  shift start, all {agents} at once: all in after {:.1} s; {retried} retried after a 503; RSS {rss:.0} MiB, peak {peak:.0} MiB",
        all_in.as_secs_f64()
    );
    summary("login latency", &mut latencies);

    // 2. Spread over a minute.
    let started = Instant::now();
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let (office, base) = (office.clone(), base.clone());
            // A fixed pseudo-random arrival per agent and round.
            let at = spread.mul_f64(
                ((i as u64 * 2_654_435_761 + u64::from(round) * 40_503) % 10_000) as f64 / 10_000.0,
            );
            tokio::spawn(async move {
                tokio::time::sleep(at).await;
                sign_in(&office, &base, &format!("agent{i:03}"), AGENT_PASSWORD).await
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.push(t.await.unwrap().0);
    }
    let (rss, peak) = rss_mib(pid);
    println!(
        "  shift start, spread over {} s: all in after {:.1} s; RSS {rss:.0} MiB, peak {peak:.0} MiB",
        spread.as_secs(),
        started.elapsed().as_secs_f64()
    );
    summary("login latency", &mut latencies);

    // 3. The storm.
    let (before, _) = rss_mib(pid);
    let clients: Vec<Client> = (0..40).map(|i| client_from(10 + i)).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (clients, next, busy, base) = (clients.clone(), next.clone(), busy.clone(), base.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= storm {
                        break;
                    }
                    let body = json!({"login": format!("nobody-{i}-{}", uuid::Uuid::now_v7().as_simple()), "password": "guess-guess"});
                    let res = clients[i % clients.len()].post(format!("{base}/api/auth/login")).json(&body).send().await.unwrap();
                    match res.status().as_u16() {
                        401 => {}
                        503 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("storm: {other}"),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let took = started.elapsed().as_secs_f64();
    let (after, peak) = rss_mib(pid);
    println!(
        "  storm: {storm} failed logins, {concurrency} at a time, in {took:.1} s ({:.0}/s); {} answered 503; RSS {before:.0} -> {after:.0} MiB, peak {peak:.0} MiB",
        storm as f64 / took,
        busy.load(Ordering::Relaxed)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: u32 = arg(&args, "--runs", 3);
    let agents: usize = arg(&args, "--agents", 300);
    let spread = Duration::from_secs(arg(&args, "--spread-s", 60));
    let storm: usize = arg(&args, "--storm", 2000);
    let concurrency: usize = arg(&args, "--concurrency", 64);
    let binary = std::path::PathBuf::from(arg(
        &args,
        "--binary",
        env!("CARGO_BIN_EXE_switchboard").to_owned(),
    ));
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!(
        "logins bench: {runs} runs, {agents} agents, spread {} s, storm {storm} at {concurrency}; {cores} cores; {}",
        spread.as_secs(),
        binary.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for round in 1..=runs {
        runtime.block_on(run(&binary, round, agents, spread, storm, concurrency));
    }
}
