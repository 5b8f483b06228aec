//! Logins cannot exhaust the server's memory: the gateway runs as its own process, 2,000
//! failed logins with random names arrive 64 at a time from forty addresses, and its resident
//! set (current and peak) must stay within 200 MB of where it started, while a real user
//! still signs in during the storm. Then one address that keeps failing is locked out (429)
//! whatever it tries, while the same user signs in from elsewhere.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, Process, SERIAL, Scratch, free_port_pair, wait_healthy};

const STORM: usize = 2_000;
const CONCURRENCY: usize = 64;
const ADDRESSES: u8 = 40;
const PER_ADDRESS: &str = "60";

/// (VmRSS, VmHWM) of a process, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn client_from(last_octet: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn try_login(client: &Client, base: &str, login: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_storm_keeps_memory_bounded_and_real_users_in() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("logins");
    let http = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{http}");
    let server = Process::start(
        crate::BIN,
        &dir.0,
        http,
        free_port_pair(),
        1,
        &[
            ("SWITCHBOARD_AUTH__LOGIN_FAILURES_PER_ADDRESS", PER_ADDRESS),
            ("SWITCHBOARD_LOG__LEVEL", "warn"),
        ],
    );
    wait_healthy(&base).await;
    // Let start-up's allocations settle before the baseline is read.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (baseline, _) = rss_kib(server.pid());

    // The storm: random names, so the per-login lock never applies; 50 from each address, so
    // the per-address lock (60) does not either: every one is a full argon2 verification.
    let clients: Vec<Client> = (0..ADDRESSES).map(|i| client_from(10 + i)).collect();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (clients, next, base) = (clients.clone(), next.clone(), base.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= STORM {
                    break statuses;
                }
                let login = format!("nobody-{}", uuid::Uuid::now_v7().as_simple());
                statuses.push(
                    try_login(&clients[i % clients.len()], &base, &login, "guess-guess")
                        .await
                        .status()
                        .as_u16(),
                );
            }
        }));
    }
    // A real user signs in while it rages (a 503 says "busy, retry in a second").
    let started = Instant::now();
    let admin = client_from(200);
    let signed_in = loop {
        let res = try_login(&admin, &base, "admin", ADMIN_PASSWORD).await;
        match res.status().as_u16() {
            200 => break started.elapsed(),
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("the real user got {other}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the real user never got in");
    };
    assert!(
        next.load(std::sync::atomic::Ordering::Relaxed) < STORM,
        "the user signed in during the storm, not after it"
    );
    let mut statuses = Vec::new();
    for w in workers {
        statuses.extend(w.await.unwrap());
    }
    let (after, peak) = rss_kib(server.pid());
    let failed = statuses.iter().filter(|&&s| s == 401).count();
    let busy = statuses.iter().filter(|&&s| s == 503).count();
    assert_eq!(
        failed + busy,
        STORM,
        "only 401 and 503: {:?}",
        statuses.iter().filter(|&&s| s != 401 && s != 503).take(5).collect::<Vec<_>>()
    );
    eprintln!(
        "storm of {STORM}: {failed} refused, {busy} busy; real user in after {signed_in:?}; RSS {baseline} KiB -> {after} KiB, peak {peak} KiB"
    );
    assert!(
        after.saturating_sub(baseline) < 200 * 1024,
        "RSS grew by {} MiB",
        (after - baseline) / 1024
    );
    assert!(
        peak.saturating_sub(baseline) < 200 * 1024,
        "peak RSS grew by {} MiB",
        (peak - baseline) / 1024
    );

    // One address that keeps failing is refused before any password work, whatever it tries.
    let attacker = client_from(250);
    let mut locked = None;
    for i in 0..=60 {
        let res = try_login(&attacker, &base, &format!("guess{i}"), "guess-guess").await;
        if res.status() == 429 {
            locked =
                Some((i, res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap()));
            break;
        }
        assert_eq!(res.status(), 401);
    }
    let (after_attempts, retry_after) = locked.expect("the address is locked after 60 failures");
    assert_eq!(after_attempts, 60);
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    assert_eq!(
        try_login(&attacker, &base, "admin", ADMIN_PASSWORD).await.status(),
        429,
        "a locked address is locked for every login"
    );
    assert_eq!(
        try_login(&client_from(201), &base, "admin", ADMIN_PASSWORD).await.status(),
        200,
        "other addresses are not"
    );
    drop(server);
}
