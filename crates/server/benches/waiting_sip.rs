#![allow(clippy::unwrap_used)]
//! Waiting callers through SIP: N SIPp callers dial an entry point whose flow plays the
//! built-in greeting and recording notice, then waits in a queue nobody serves, hearing its
//! music with position and wait announcements every 15 s. What a waiting caller costs the
//! real gateway, and whether every caller gets a packet every 20 ms.
//!
//!     cargo bench -p switchboard-server --bench waiting_sip -- [--callers 500] [--hold 20] [--rate 50]
//!
//! The gateway runs in-process (release build, SQLite); one SIPp UAC places the calls
//! (`--rate` a second) and streams a tone from each, as real phones send audio while they
//! wait. Once every call has been in for 15 s (the prompts are over), it measures for
//! `--hold` seconds: the gateway process's CPU (share of one core, and per waiting call),
//! resident memory per call, and, from a packet capture of everything the gateway's RTP
//! sockets send (dumpcap on `lo`), the gap between consecutive packets of each caller's
//! stream: percentiles over every gap, the worst, how many exceed 40 ms and in how many 100 ms
//! windows they ended (many streams at once in one window: the whole process, or the
//! machine, stalled). For each such window it prints what the machine was doing around it,
//! sampled from `/proc` every 20 ms: the CPU ticks (1/100 s) the gateway got, and the
//! machine's busy, idle and stolen (by the hypervisor) ticks, so a stall can be told apart:
//! the machine busy or stolen (starved), or idle while the gateway did nothing (a pause of
//! its own).
//!
//! Needs `sipp` (Debian `sip-tester`) and `dumpcap` (Debian `tshark`, as root).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::flow::{AnswerMode, Flow};
use switchboard_server::startup::Application;
use switchboard_store::{Actor, NewEntryPoint, NewQueue};
use switchboard_switch::protocol::TelephonyRequest;
use switchboard_testkit::audio::Capture;
use switchboard_testkit::bench::Proc;
use switchboard_testkit::free_port_pair;
use switchboard_testkit::process::{cpu_ticks_self, rss_kib};
use tokio::sync::oneshot;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");

/// One look at the machine: when (epoch µs), the gateway's CPU ticks, and the machine's
/// (all CPUs) busy, idle and stolen ticks.
#[derive(Clone, Copy)]
struct Sample {
    at_us: i64,
    ours: u64,
    busy: u64,
    idle: u64,
    steal: u64,
}

fn sample() -> Sample {
    let at_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let cpu = switchboard_testkit::process::machine_cpu_ticks();
    let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    let idle = field(3) + field(4);
    let steal = field(7);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6);
    Sample { at_us, ours: cpu_ticks_self(), busy, idle, steal }
}

/// The ticks between the samples nearest `from` and `to` (epoch µs): ours, busy, idle, stolen.
fn between(samples: &[Sample], from: i64, to: i64) -> (u64, u64, u64, u64) {
    let first = samples.iter().find(|s| s.at_us >= from).or(samples.first());
    let last = samples.iter().rev().find(|s| s.at_us <= to).or(samples.last());
    match (first, last) {
        (Some(a), Some(b)) => (
            b.ours.saturating_sub(a.ours),
            b.busy.saturating_sub(a.busy),
            b.idle.saturating_sub(a.idle),
            b.steal.saturating_sub(a.steal),
        ),
        _ => (0, 0, 0, 0),
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let callers: usize = arg("--callers").and_then(|v| v.parse().ok()).unwrap_or(500);
    let hold = Duration::from_secs(arg("--hold").and_then(|v| v.parse().ok()).unwrap_or(20));
    let rate: u32 = arg("--rate").and_then(|v| v.parse().ok()).unwrap_or(50);

    let data = std::env::temp_dir().join(format!("sb-bench-waiting-{}", std::process::id()));
    let settings = switchboard_testkit::bench_settings(&data, callers * 2 + 10, false);
    let app = Application::build(&settings).await.unwrap();
    let sip = app.sip_addr().unwrap();
    let handle = app.telephony_handle().unwrap();
    let store = app.store().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "bench".into(),
                number: Some("100".into()),
                max_wait_ms: Some(3_600_000),
                waiting_sound: Some("music".into()),
                announce_every_s: Some(15),
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    let flow: Flow = serde_json::from_value(json!({
        "start": "hello",
        "nodes": {
            "hello": {"type": "play", "prompts": ["builtin:greeting", "builtin:recording_notice"],
                      "next": "wait"},
            "wait": {"type": "queue", "queue_id": queue.id}
        }
    }))
    .unwrap();
    let entry = NewEntryPoint {
        name: "bench".into(),
        numbers: vec!["200".into()],
        language: "ru".into(),
        answer: AnswerMode::Answer,
        flow,
    };
    store
        .create_entry_point(&Actor::system(), entry, switchboard_switch::prompts::is_built_in)
        .await
        .unwrap();
    let (tx, rx) = oneshot::channel();
    handle.send(TelephonyRequest::ReloadQueues { reply: tx }).unwrap();
    rx.await.unwrap();
    let rss_before = rss_kib();

    let dir = data.join("caller");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tone.ul"), switchboard_media::tone::sine_ulaw(1000.0, 0.2, 0, 8000))
        .unwrap();
    let ramp = Duration::from_secs_f64(callers as f64 / f64::from(rate));
    let talk_ms = (ramp + hold + Duration::from_secs(40)).as_millis().to_string();
    let mut uac_args: Vec<String> = [
        &sip.to_string(),
        "-sf",
        &format!("{SCENARIOS}/caller.xml"),
        "-s",
        "200",
        "-key",
        "caller",
        "79161234567",
        "-d",
        &talk_ms,
        "-l",
        &callers.to_string(),
        "-m",
        &callers.to_string(),
        "-r",
        &rate.to_string(),
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-nostdin",
        "-timeout",
        "900s",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (sip_port, media_port) = (free_port_pair(), free_port_pair());
    uac_args.extend(["-p".into(), sip_port.to_string(), "-mp".into(), media_port.to_string()]);
    let uac = Proc(
        Command::new("sipp")
            .args(&uac_args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp (apt-get install sip-tester)"),
    );

    // Every call in, and the last one's prompts over.
    tokio::time::sleep(ramp + Duration::from_secs(15)).await;
    let (tx, rx) = oneshot::channel();
    handle.send(TelephonyRequest::Status { reply: tx }).unwrap();
    let status = rx.await.unwrap();
    let waiting: usize = status.queues.iter().map(|q| q.waiting).sum();

    let capture = Capture::start_filter(&data, "udp src portrange 20000-29999").await;
    let (cpu0, t0) = (cpu_ticks_self(), Instant::now());
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::with_capacity(2_000);
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                samples.push(sample());
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        })
    };
    tokio::time::sleep(hold).await;
    let (cpu1, elapsed) = (cpu_ticks_self(), t0.elapsed());
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let samples = sampler.join().unwrap_or_default();
    let rss_during = rss_kib();
    let packets = capture.stop().await;

    let mut streams: HashMap<u16, Vec<i64>> = HashMap::new();
    for d in &packets {
        streams.entry(d.src_port).or_default().push(d.at_us);
    }
    let mut gaps: Vec<f64> = Vec::with_capacity(packets.len());
    // When the long gaps ended, by 100 ms window: one stall of the whole process (or the
    // machine) shows as one window with a long gap in many streams at once.
    let mut stalls: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
    for times in streams.values_mut() {
        times.sort_unstable();
        for w in times.windows(2) {
            let gap = (w[1] - w[0]) as f64 / 1000.0;
            if gap > 40.0 {
                stalls.insert(w[1] / 100_000);
            }
            gaps.push(gap);
        }
    }
    gaps.sort_by(f64::total_cmp);
    let over_40 = gaps.iter().filter(|g| **g > 40.0).count();
    let cpu_pct = (cpu1 - cpu0) as f64 / 100.0 / elapsed.as_secs_f64() * 100.0;
    println!(
        "| callers | waiting | streams seen | packets | gap p50 / p99 / p99.9 / max (ms) | gaps > 40 ms (in how many 100 ms windows) | gateway CPU (% of a core) | per waiting call (ms CPU/s) | RSS per call (KiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {callers} | {waiting} | {} | {} | {:.1} / {:.1} / {:.1} / {:.1} | {over_40} ({}) | {cpu_pct:.1} | {:.3} | {:.1} |",
        streams.len(),
        packets.len(),
        quantile(&gaps, 0.5),
        quantile(&gaps, 0.99),
        quantile(&gaps, 0.999),
        gaps.last().copied().unwrap_or(f64::NAN),
        stalls.len(),
        cpu_pct * 10.0 / waiting.max(1) as f64,
        rss_during.saturating_sub(rss_before) as f64 / waiting.max(1) as f64,
    );
    let (_, busy, idle, steal) = between(&samples, i64::MIN, i64::MAX);
    let all = (busy + idle + steal).max(1) as f64;
    println!(
        "\nthe machine during the hold: busy {:.0}%, idle {:.0}%, stolen {:.1}%",
        busy as f64 / all * 100.0,
        idle as f64 / all * 100.0,
        steal as f64 / all * 100.0
    );
    // Around each window with long gaps (the 200 ms before its end): who had the CPUs.
    for window in stalls.iter().take(10) {
        let (to, from) = ((window + 1) * 100_000, (window - 1) * 100_000);
        let (ours, busy, idle, steal) = between(&samples, from, to);
        println!(
            "stall ending in {window}00 ms: gateway {ours} ticks; machine busy {busy}, idle {idle}, stolen {steal} (of ~40)"
        );
    }
    drop(uac);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
    let _ = std::fs::remove_dir_all(&data);
}
