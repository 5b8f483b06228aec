#![allow(clippy::unwrap_used)]
//! Media relay benchmark: concurrent calls through the real gateway, SIPp as the callers and
//! as the agents' phones, both sides streaming PCMU (50 packets/s each way).
//!
//!     cargo bench -p switchboard-server --bench relay -- [--calls 100,250,500,750] [--hold 20] [--record off|on|both] [--rate 50]
//!
//! `--record both` (the default) runs every level twice, without and then with recording
//! (stereo WAV of every call to the data directory), so the two rows compare the media path's
//! loss, latency and CPU at the same load; the recording rows also report frames the
//! recorder's queue dropped and samples that reached the writer too late.
//!
//! For each level N it starts the gateway in-process (release build, SQLite), creates N
//! agents whose phones are one SIPp UAS, puts them available, and lets one SIPp UAC place N
//! calls to the queue (`--rate` new calls a second, 50 by default). Call setup is measured at
//! the caller while the calls ramp up: SIPp's INVITE→200 time of every call (`-trace_rtt`),
//! p50, p99 and the maximum. Once all N calls are connected it measures for `--hold` seconds:
//! - packets received and relayed by the gateway, and the expected count (N x 2 x 50/s);
//! - loss: packets the gateway received but did not forward, plus what the kernel dropped on
//!   the gateway's RTP sockets (/proc/net/udp), plus the shortfall against expected;
//! - the gateway's added latency: receive-to-send time of every packet inside the relay
//!   (taken at its sockets, 10 us buckets), p50 and p99;
//! - CPU: the gateway process's share of one core, per call, and the machine's idle time;
//! - memory: the gateway's resident set growth from before the calls, per call.
//!
//! Needs `sipp` (Debian `sip-tester`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchboard_media::recording::RECORDER_STATS;
use switchboard_media::relay::RELAY_STATS;
use switchboard_server::startup::Application;
use switchboard_store::{Actor, NewQueue};
use switchboard_switch::protocol::TelephonyRequest;
use tokio::sync::oneshot;

use switchboard_testkit::bench::{reload_and_make_available, sip_agents, sipp};
use switchboard_testkit::process::{cpu_ticks_self, rss_kib};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");
/// Any valid argon2 PHC string: these agents never log in over HTTP.
fn machine_ticks() -> (u64, u64) {
    let cpu = switchboard_testkit::process::machine_cpu_ticks();
    let total: u64 = cpu.iter().sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    (total, idle)
}

/// Datagrams the kernel dropped on the gateway's RTP sockets (local ports in `ports`), from
/// the per-socket `drops` column of /proc/net/udp. (SIPp does not read the RTP it receives,
/// so the machine-wide counters are full of its drops; the gateway's range is kept below the
/// ephemeral ports SIPp's sockets get.)
fn gateway_socket_drops(ports: std::ops::RangeInclusive<u16>) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            ports.contains(&port).then(|| f.last()?.parse::<u64>().ok()).flatten()
        })
        .sum()
}

fn free_port() -> u16 {
    loop {
        let p = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let p = p - p % 2;
        if p > 1024
            && std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", p + 1)).is_ok()
        {
            return p;
        }
    }
}

fn tone_dir(name: &str, hz: f64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-bench-relay-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tone.ul"), switchboard_media::tone::sine_ulaw(hz, 0.35, 0, 8000))
        .unwrap();
    dir
}

struct Level {
    calls: usize,
    record: bool,
    rec_dropped: u64,
    rec_late: u64,
    rec_files: usize,
    rec_bytes: u64,
    connected: usize,
    expected: u64,
    received: u64,
    relayed: u64,
    gateway_dropped: u64,
    kernel_drops: u64,
    p50_us: Option<u64>,
    p99_us: Option<u64>,
    p999_us: Option<u64>,
    gateway_cpu_pct: f64,
    machine_busy_pct: f64,
    rss_per_call_kib: f64,
    /// INVITE→200 at the caller, ms, one per answered call.
    setup_ms: Vec<f64>,
}

/// The response times SIPp's `-trace_rtt` wrote in `dir` (`date_ms;response_time_ms;rtd_no`).
fn setup_times_ms(dir: &std::path::Path) -> Vec<f64> {
    let mut times = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().ends_with("_rtt.csv") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            times.extend(
                text.lines().filter_map(|l| l.split(';').nth(1)?.trim().parse::<f64>().ok()),
            );
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The `q` quantile of sorted `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

fn dir_usage(dir: &std::path::Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                let (f, b) = dir_usage(&path);
                files += f;
                bytes += b;
            } else {
                files += 1;
                bytes += e.metadata().map_or(0, |m| m.len());
            }
        }
    }
    (files, bytes)
}

async fn level(calls: usize, hold: Duration, record: bool, rate: u32) -> Level {
    let data = std::env::temp_dir()
        .join(format!("sb-bench-relay-{}-{calls}-{record}", std::process::id()));
    let settings = switchboard_testkit::bench_settings(&data, calls * 2 + 10, record);
    let app = Application::build(&settings).await.unwrap();
    let sip = app.sip_addr().unwrap();
    let handle = app.telephony_handle().unwrap();
    let store = app.store().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let uas_port = free_port();
    let agents = sip_agents(&store, calls, uas_port).await;
    store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "bench".into(),
                number: Some("100".into()),
                ring_timeout_ms: Some(60_000),
                max_wait_ms: Some(600_000),
                members: agents.clone(),
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    reload_and_make_available(&handle, &agents).await;
    let rss_before = rss_kib();

    let agent_dir = tone_dir("agent", 2000.0);
    let caller_dir = tone_dir("caller", 1000.0);
    let talk_ms = (hold + Duration::from_secs(60)).as_millis().to_string();
    let scen = |name: &str| format!("{SCENARIOS}/{name}");
    let base = |port: u16, media: u16| -> Vec<String> {
        [
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
            "-p",
            &port.to_string(),
            "-mp",
            &media.to_string(),
            "-timeout",
            "600s",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let mut uas_args = vec![
        "-sf".to_owned(),
        scen("agent.xml"),
        // The phones answer at once: the caller's setup time is the gateway's own.
        "-d".into(),
        "0".into(),
        "-m".into(),
        calls.to_string(),
    ];
    uas_args.extend(base(uas_port, free_port()));
    let uas = sipp(&agent_dir, &uas_args);
    let mut uac_args = vec![
        sip.to_string(),
        "-sf".into(),
        scen("caller.xml"),
        "-s".into(),
        "100".into(),
        "-key".into(),
        "caller".into(),
        "79161234567".into(),
    ];
    uac_args.extend([
        "-d".into(),
        talk_ms,
        "-l".into(),
        calls.to_string(),
        "-m".into(),
        calls.to_string(),
        "-r".into(),
        rate.to_string(),
        "-trace_rtt".into(),
        "-rtt_freq".into(),
        "1".into(),
    ]);
    uac_args.extend(base(free_port(), free_port()));
    let uac = sipp(&caller_dir, &uac_args);

    // Wait until every call is connected (bounded).
    let deadline = Instant::now() + Duration::from_secs(30 + calls as u64 / 10);
    let mut connected = 0;
    while Instant::now() < deadline {
        let (tx, rx) = oneshot::channel();
        handle.send(TelephonyRequest::Status { reply: tx }).unwrap();
        let status = rx.await.unwrap();
        connected = status.agents.iter().filter(|a| a.state.name() == "on_call").count();
        if connected >= calls {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let s = &*RELAY_STATS;
    RELAY_STATS.reset_latency();
    let (rd0, rl0) = (
        RECORDER_STATS.dropped.load(Ordering::Relaxed),
        RECORDER_STATS.late_samples.load(Ordering::Relaxed),
    );
    let (in0, out0, drop0, ns0) = (
        s.packets_in.load(Ordering::Relaxed),
        s.packets_out.load(Ordering::Relaxed),
        s.dropped.load(Ordering::Relaxed),
        s.not_sent.load(Ordering::Relaxed),
    );
    let (cpu0, (m_total0, m_idle0), k0, t0) =
        (cpu_ticks_self(), machine_ticks(), gateway_socket_drops(20000..=29999), Instant::now());
    tokio::time::sleep(hold).await;
    let (cpu1, (m_total1, m_idle1), k1, elapsed) =
        (cpu_ticks_self(), machine_ticks(), gateway_socket_drops(20000..=29999), t0.elapsed());
    let (in1, out1, drop1, ns1) = (
        s.packets_in.load(Ordering::Relaxed),
        s.packets_out.load(Ordering::Relaxed),
        s.dropped.load(Ordering::Relaxed),
        s.not_sent.load(Ordering::Relaxed),
    );
    let rss_during = rss_kib();
    let (rd1, rl1) = (
        RECORDER_STATS.dropped.load(Ordering::Relaxed),
        RECORDER_STATS.late_samples.load(Ordering::Relaxed),
    );
    let (rec_files, rec_bytes) = dir_usage(&data.join("recordings"));
    let setup_ms = setup_times_ms(&caller_dir);
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let result = Level {
        calls,
        record,
        rec_dropped: rd1 - rd0,
        rec_late: rl1 - rl0,
        rec_files,
        rec_bytes,
        connected,
        expected: (connected as f64 * 2.0 * 50.0 * elapsed.as_secs_f64()) as u64,
        received: in1 - in0,
        relayed: out1 - out0,
        gateway_dropped: (drop1 - drop0) + (ns1 - ns0),
        kernel_drops: k1 - k0,
        p50_us: s.latency_quantile_us(0.5),
        p99_us: s.latency_quantile_us(0.99),
        p999_us: s.latency_quantile_us(0.999),
        gateway_cpu_pct: (cpu1 - cpu0) as f64 / ticks_per_s / elapsed.as_secs_f64() * 100.0,
        machine_busy_pct: 100.0
            * (1.0 - (m_idle1 - m_idle0) as f64 / (m_total1 - m_total0).max(1) as f64),
        rss_per_call_kib: rss_during.saturating_sub(rss_before) as f64 / connected.max(1) as f64,
        setup_ms,
    };
    drop(uac);
    drop(uas);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&agent_dir);
    let _ = std::fs::remove_dir_all(&caller_dir);
    result
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let levels: Vec<usize> = arg("--calls")
        .unwrap_or_else(|| "100,250,500,750".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let hold = Duration::from_secs(arg("--hold").and_then(|v| v.parse().ok()).unwrap_or(20));
    let rate: u32 = arg("--rate").and_then(|v| v.parse().ok()).unwrap_or(50);
    let modes: Vec<bool> = match arg("--record").as_deref() {
        Some("on") => vec![true],
        Some("off") => vec![false],
        _ => vec![false, true],
    };
    println!(
        "| calls | new calls/s | recording | connected | setup INVITE→200 at the caller p50 / p99 / max (ms) | expected pkts | received | relayed | lost in gateway | kernel drops at gateway sockets | added latency p50 / p99 / p99.9 (us) | gateway CPU (% of a core) | CPU per call (%) | machine busy | RSS per call (KiB) | recorder: frames dropped / late samples / files / MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (calls, record) in levels.iter().flat_map(|c| modes.iter().map(move |m| (*c, *m))) {
        let l = level(calls, hold, record, rate).await;
        let ms = |q: f64| quantile(&l.setup_ms, q).map_or("-".into(), |v| format!("{v:.1}"));
        let setup =
            format!("{} / {} / {} ({} calls)", ms(0.5), ms(0.99), ms(1.0), l.setup_ms.len());
        let us = |v: Option<u64>| v.map_or("-".into(), |v| format!("<= {v}"));
        let rec = if l.record {
            format!(
                "{} / {} / {} / {:.0}",
                l.rec_dropped,
                l.rec_late,
                l.rec_files,
                l.rec_bytes as f64 / 1_048_576.0
            )
        } else {
            "-".into()
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {:.1} | {:.3} | {:.0}% | {:.1} | {} |",
            l.calls,
            rate,
            if l.record { "on" } else { "off" },
            l.connected,
            setup,
            l.expected,
            l.received,
            l.relayed,
            l.gateway_dropped,
            l.kernel_drops,
            us(l.p50_us),
            us(l.p99_us),
            us(l.p999_us),
            l.gateway_cpu_pct,
            l.gateway_cpu_pct / l.connected.max(1) as f64,
            l.machine_busy_pct,
            l.rss_per_call_kib,
            rec,
        );
    }
}
