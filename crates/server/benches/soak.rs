#![allow(clippy::unwrap_used)]
//! Soak: new calls at a steady rate for minutes, each answered by an agent's desk phone,
//! talked for a few seconds and recorded, then hung up by the caller. What must hold at the
//! end: every call in the call log with an end reason, the statistics' rollups equal to a
//! recount over the calls, no agent left in a call, and resident memory and open file
//! descriptors flat after the first minute.
//!
//!     cargo bench -p switchboard-server --bench soak -- [--rate 50] [--minutes 10] [--talk 3] [--agents 300] [--database URL]
//!
//! The gateway runs in-process (release build, SQLite or the `--database` given, an empty
//! PostgreSQL database for one; recording on); one SIPp answers for
//! every agent's phone and one SIPp places the calls at `--rate` a second. Every 10 s it
//! prints the calls so far, those in progress, resident memory and open file descriptors.
//!
//! Needs `sipp` (Debian `sip-tester`).

use std::time::{Duration, Instant};

use switchboard_server::startup::Application;
use switchboard_store::{Actor, NewQueue, PageRequest};
use switchboard_switch::protocol::{TelephonyRequest, TelephonyStatus};
use switchboard_testkit::bench::{reload_and_make_available, sip_agents, sipp};
use switchboard_testkit::free_port_pair;
use switchboard_testkit::process::rss_kib;
use tokio::sync::oneshot;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");

/// The binary's allocator (jemalloc), so that resident memory here is what a gateway's is.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Heap bytes allocated and not freed (jemalloc's `stats.allocated`), in MiB: when resident
/// memory grows while this stays flat, the growth is the allocator's, not ours.
fn live_mib() -> f64 {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

async fn status(handle: &switchboard_switch::protocol::TelephonyHandle) -> TelephonyStatus {
    let (tx, rx) = oneshot::channel();
    handle.send(TelephonyRequest::Status { reply: tx }).unwrap();
    rx.await.unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let rate: u64 = arg("--rate").and_then(|v| v.parse().ok()).unwrap_or(50);
    let minutes: u64 = arg("--minutes").and_then(|v| v.parse().ok()).unwrap_or(10);
    let talk_s: u64 = arg("--talk").and_then(|v| v.parse().ok()).unwrap_or(3);
    let agents_n: usize = arg("--agents").and_then(|v| v.parse().ok()).unwrap_or(300);
    let total = rate * minutes * 60;

    let data = std::env::temp_dir().join(format!("sb-bench-soak-{}", std::process::id()));
    let mut settings = switchboard_testkit::bench_settings(&data, agents_n * 2 + 50, true);
    if let Some(url) = arg("--database") {
        settings.database.url = switchboard_server::settings::Secret::new(url);
    }
    let app = Application::build(&settings).await.unwrap();
    let sip = app.sip_addr().unwrap();
    let handle = app.telephony_handle().unwrap();
    let store = app.store().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let uas_port = free_port_pair();
    let agents = sip_agents(&store, agents_n, uas_port).await;
    store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "soak".into(),
                number: Some("100".into()),
                max_wait_ms: Some(120_000),
                wrap_up_ms: Some(0),
                members: agents.clone(),
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    reload_and_make_available(&handle, &agents).await;

    let dir = data.join("sipp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tone.ul"), switchboard_media::tone::sine_ulaw(1000.0, 0.35, 0, 8000))
        .unwrap();
    let timeout = format!("{}s", minutes * 60 + talk_s + 120);
    let common = |port: u16| -> Vec<String> {
        let media = free_port_pair().to_string();
        ["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin", "-p", &port.to_string()]
            .into_iter()
            .chain(["-mp", &media, "-timeout", &timeout])
            .map(str::to_owned)
            .collect()
    };
    let mut uas_args: Vec<String> = vec![
        "-sf".into(),
        format!("{SCENARIOS}/agent.xml"),
        "-d".into(),
        "0".into(),
        "-m".into(),
        total.to_string(),
    ];
    uas_args.extend(common(uas_port));
    let _uas = sipp(&dir, &uas_args);
    let mut uac_args: Vec<String> = vec![
        sip.to_string(),
        "-sf".into(),
        format!("{SCENARIOS}/caller.xml"),
        "-s".into(),
        "100".into(),
        "-key".into(),
        "caller".into(),
        "79161234567".into(),
        "-d".into(),
        (talk_s * 1000).to_string(),
        "-r".into(),
        rate.to_string(),
        "-m".into(),
        total.to_string(),
        "-l".into(),
        agents_n.to_string(),
    ];
    uac_args.extend(common(free_port_pair()));
    let mut uac = sipp(&dir, &uac_args);

    println!(
        "soak: {total} calls at {rate}/s for {minutes} min, {talk_s} s each, {agents_n} agents, recording on"
    );
    println!(
        "  time   in progress   RSS MiB   heap MiB   fds   SIP tables (transactions, finished, \
         waiting ACK, dialogs, connections, edge calls)"
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(minutes * 60 + talk_s + 180);
    let mut samples: Vec<(u64, u64, usize)> = Vec::new();
    let uac_status = loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let s = status(&handle).await;
        let (secs, rss, fds) = (started.elapsed().as_secs(), rss_kib(), open_fds());
        samples.push((secs, rss, fds));
        let t = &s.sip.tables;
        println!(
            "  {secs:>4} s {:>10} {:>11.1} {:>10.1} {fds:>6}   {} {} {} {} {} {}",
            s.active_calls,
            rss as f64 / 1024.0,
            live_mib(),
            t.transactions,
            t.finished_transactions,
            t.waiting_ack,
            t.dialogs,
            t.connections,
            t.calls
        );
        if let Some(status) = uac.0.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
    };
    println!("caller SIPp: {uac_status:?} after {:?}", started.elapsed());

    // The call log catches up (bounded): every call ended.
    let mut logged = (0, 0);
    for _ in 0..120 {
        logged = ended_calls(&store).await;
        if logged.1 == total {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let status = status(&handle).await;
    let stuck = status.agents.iter().filter(|a| a.state.name() != "available").count();
    println!("SIP tables after the last call: {:?}", status.sip.tables);
    let rollups = store.call_stats_rows().await.unwrap();
    let recount = store.recount_call_stats().await.unwrap();
    // Steady state: from the end of the first minute to the last sample while calls were
    // still being placed.
    let placing_s = minutes * 60;
    let steady: Vec<&(u64, u64, usize)> =
        samples.iter().filter(|s| s.0 >= 60 && s.0 <= placing_s).collect();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (rss_first, rss_last) = match (steady.first(), steady.last()) {
        (Some(a), Some(b)) => (mib(a.1), mib(b.1)),
        _ => (f64::NAN, f64::NAN),
    };
    let rss_max = steady.iter().map(|s| mib(s.1)).fold(f64::NAN, f64::max);
    let fds_min = steady.iter().map(|s| s.2).min().unwrap_or(0);
    let fds_max = steady.iter().map(|s| s.2).max().unwrap_or(0);
    println!(
        "calls logged: {} of {total}, ended with a reason: {}; agents not available at the end: \
         {stuck}; rollups equal the recount: {}",
        logged.0,
        logged.1,
        rollups == recount
    );
    println!(
        "steady state (minute 1 to {minutes}): RSS {rss_first:.1} -> {rss_last:.1} MiB (max \
         {rss_max:.1}), open fds {fds_min}..{fds_max}; after the last call: RSS {:.1} MiB, {} fds",
        samples.last().map_or(f64::NAN, |s| mib(s.1)),
        open_fds()
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let _ = std::fs::remove_dir_all(&data);
}

/// Calls in the log, and how many of them have an end reason.
async fn ended_calls(store: &switchboard_store::Store) -> (u64, u64) {
    let (mut all, mut ended) = (0, 0);
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE));
        let calls = store.list_calls(None, request).await.unwrap();
        if calls.items.is_empty() {
            break;
        }
        all += calls.items.len() as u64;
        ended += calls.items.iter().filter(|c| c.end_reason.is_some()).count() as u64;
    }
    (all, ended)
}
