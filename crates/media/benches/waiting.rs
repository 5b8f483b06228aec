#![allow(clippy::unwrap_used)]
//! Waiting callers hearing our sound: how much CPU a waiting call costs the relay, and whether
//! every caller gets a packet every 20 ms.
//!
//! `cargo bench -p switchboard-media --bench waiting -- [--callers 500] [--seconds 30]
//! [--sound ringback|music|prompts]`
//!
//! This process runs the relay: one bridge per caller with a [`Source`] on the agent's side
//! and a UDP socket from the port pool towards the caller, as the gateway does for a queued
//! call. The callers are a second process (this binary with `--receive`), so their work is not
//! counted: it binds one socket per caller, and for each measures the gap between packets
//! after the first. Reported: this process's CPU time per waiting call, and the gaps
//! (percentiles over every caller's every packet, the worst, and how many exceed 40 ms).

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_media::relay::{self, BridgeOptions, LegMedia, PT_PCMU, PortPool, Sound, Source};
use switchboard_media::tone::sine_ulaw;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct Options {
    callers: usize,
    seconds: u64,
    sound: String,
    receive: bool,
}

fn options() -> Options {
    let mut o = Options { callers: 500, seconds: 30, sound: "music".into(), receive: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--callers" => o.callers = args.next().and_then(|v| v.parse().ok()).unwrap_or(500),
            "--seconds" => o.seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(30),
            "--sound" => o.sound = args.next().unwrap_or_default(),
            "--receive" => o.receive = true,
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    o
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if o.receive {
        runtime.block_on(receive(o.callers, o.seconds));
    } else {
        runtime.block_on(play(&o));
    }
}

/// CPU time of this process (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // Fields 14 and 15 of the whole line are the 12th and 13th after the command name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A call flow's prompts as the gateway plays them: the built-in greeting, recording notice,
/// position and expected wait (decoded from the shipped WAVs, as the switch does once), then
/// music, played to the caller's side over a silent waiting sound (`BridgeHandle::play`).
fn prompts() -> Sound {
    let clip = |key: &str| {
        switchboard_media::prompt::built_in_prompt(key).expect("a built-in prompt").audio("ru").ulaw
    };
    let clips = ["greeting", "recording_notice", "position_3", "wait_2"].map(clip);
    Sound::Playlist { clips: clips.to_vec().into(), then: Box::new(music()), id: 1 }
}

/// "Music": a phrase of tones a few seconds long, looped (like an uploaded clip).
fn music() -> Sound {
    let mut audio = Vec::new();
    for (i, hz) in [523.0, 587.0, 659.0, 698.0, 784.0, 698.0, 659.0, 587.0].iter().enumerate() {
        audio.extend(sine_ulaw(*hz, 0.3, (i * 4000) as u64, 4000));
    }
    Sound::Loop(audio.into())
}

async fn play(o: &Options) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--receive", "--callers", &o.callers.to_string()])
        .args(["--seconds", &o.seconds.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the callers' process starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ports: Vec<u16> = lines
        .next()
        .and_then(Result::ok)
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.parse().ok())
        .collect();
    assert_eq!(ports.len(), o.callers, "the callers' process bound its sockets");
    let (sound, played) = match o.sound.as_str() {
        "ringback" => (Sound::ringback(), None),
        "prompts" => (Sound::Loop(Vec::new().into()), Some(prompts())),
        _ => (music(), None),
    };
    // Below the ephemeral range, where the callers' own sockets are.
    let pool = PortPool::new(LOOPBACK, 20_000, 20_000 + 2 * u16::try_from(o.callers).unwrap() + 2);
    let nobody =
        LegMedia { send: false, expect_packets: false, ..LegMedia::packets(PT_PCMU, None) };
    let cpu_before = cpu_time();
    let started = Instant::now();
    let bridges: Vec<relay::BridgeHandle> = ports
        .iter()
        .map(|port| {
            let caller = LegMedia {
                expect_packets: false,
                ..LegMedia::new(PT_PCMU, None, Some(SocketAddr::new(LOOPBACK, *port)))
            };
            let bridge = relay::bridge(
                (pool.bind().unwrap(), caller),
                (Source::new(sound.clone()), nobody),
                BridgeOptions { dead_peer: Duration::ZERO },
                Box::new(|_| {}),
            );
            if let Some(played) = &played {
                bridge.play(relay::Side::A, Some(played.clone()));
            }
            bridge
        })
        .collect();
    let summary = tokio::task::spawn_blocking(move || {
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        let _ = child.wait();
        line
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    drop(bridges);
    let per_call_ms_s = cpu.as_secs_f64() * 1000.0 / elapsed.as_secs_f64() / o.callers as f64;
    println!(
        "{} callers, {} for {:.0} s: relay CPU {:.1} s = {:.1}% of one core, {:.3} ms per waiting call per second",
        o.callers,
        o.sound,
        elapsed.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64(),
        per_call_ms_s
    );
    println!("{summary}");
}

/// The callers: one socket each; the gaps between the packets each receives.
async fn receive(callers: usize, seconds: u64) {
    let mut sockets = Vec::new();
    for _ in 0..callers {
        sockets.push(tokio::net::UdpSocket::bind((LOOPBACK, 0)).await.unwrap());
    }
    let ports: Vec<String> =
        sockets.iter().map(|s| s.local_addr().unwrap().port().to_string()).collect();
    println!("{}", ports.join(","));
    std::io::stdout().flush().unwrap();
    let window = Duration::from_secs(seconds);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|socket| {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let mut gaps = Vec::new();
                // The clock starts at the first packet (bounded: the relay may have failed).
                let first = tokio::time::timeout(window, socket.recv(&mut buf)).await;
                if !matches!(first, Ok(Ok(_))) {
                    return gaps;
                }
                let start = Instant::now();
                let mut last = start;
                while start.elapsed() < window {
                    let left = window.saturating_sub(start.elapsed());
                    match tokio::time::timeout(left, socket.recv(&mut buf)).await {
                        Ok(Ok(_)) => {
                            let now = Instant::now();
                            gaps.push(u32::try_from((now - last).as_micros()).unwrap_or(u32::MAX));
                            last = now;
                        }
                        _ => break,
                    }
                }
                gaps
            })
        })
        .collect();
    let mut gaps = Vec::new();
    let mut silent = 0;
    for task in tasks {
        let mine = task.await.unwrap_or_default();
        if mine.is_empty() {
            silent += 1;
        }
        gaps.extend(mine);
    }
    gaps.sort_unstable();
    let at = |q: f64| gaps.get(((gaps.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0);
    let ms = |us: u32| f64::from(us) / 1000.0;
    let over = gaps.iter().filter(|g| **g > 40_000).count();
    println!(
        "callers: {} packets, gap p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; {} gaps over 40 ms; {} callers heard nothing",
        gaps.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(0.999)),
        ms(gaps.last().copied().unwrap_or(0)),
        over,
        silent
    );
}
