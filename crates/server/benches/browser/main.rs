#![allow(clippy::unwrap_used)]
//! Browser agents under load: the screen pop's latency, and concurrent SIP <-> WebRTC calls.
//!
//!     cargo bench -p switchboard-server --bench browser -- card [--contacts 1000000] [--agents 10] [--rate 20] [--seconds 30]
//!     cargo bench -p switchboard-server --bench browser -- calls [--calls 50,100,200] [--hold 20] [--idle-rtp]
//!
//! The gateway runs in this process (release build, SQLite). The browsers are a second process
//! (this binary again, `loadgen`), so the gateway's CPU and memory are measured alone: each
//! browser agent there logs in over HTTP, opens the agent WebSocket with its session cookie
//! and sets up its softphone with a real WebRTC peer (`switchboard_webrtc::client`: ICE, DTLS,
//! SRTP, PCMU) exactly as the console does.
//!
//! `card`: imports `--contacts` contacts (numbers +7916NNNNNNN), then the load generator sends
//! SIP INVITEs from random contacts' numbers at `--rate` per second (raw UDP, one INVITE per
//! call) and measures, per call, from just before the INVITE is sent to the moment the client
//! card for that number arrives on an agent's WebSocket; then it CANCELs the call.
//!
//! `calls`: per level N, N browser agents connect (idle: gateway memory and CPU per idle
//! agent connection), then SIPp places N calls (1 kHz), each answered by a browser agent that
//! plays 2 kHz; with all N connected it measures for `--hold` seconds the gateway's CPU and
//! memory per call, the relay's packet counts and added latency, and the packets the
//! browsers received. Like the console, an idle agent sends no RTP; `--idle-rtp` makes the
//! agents send between calls too (the console before 2026-12), for comparison. Needs `sipp`
//! (Debian `sip-tester`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchboard_core::{Region, Role};
use switchboard_media::relay::RELAY_STATS;
use switchboard_server::import::{ImportOptions, import_contacts_file};
use switchboard_server::settings::{Secret, Settings};
use switchboard_server::startup::Application;
use switchboard_store::{Actor, NewQueue, NewUser, OnDuplicate, Store};
use switchboard_switch::protocol::{TelephonyHandle, TelephonyRequest};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

mod loadgen;

use switchboard_testkit::process::{cpu_ticks_self, rss_kib};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");
const AGENT_PASSWORD: &str = "bench-agent-pass-1";

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Gateway {
    base: String,
    sip: std::net::SocketAddr,
    handle: TelephonyHandle,
    store: Store,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    data: std::path::PathBuf,
}

async fn gateway(name: &str, max_calls: usize) -> Gateway {
    let data = std::env::temp_dir().join(format!("sb-bench-browser-{name}-{}", std::process::id()));
    let mut settings = Settings::load(None).unwrap();
    settings.data_dir = data.clone();
    settings.recordings.root = data.join("recordings");
    settings.http.listen = "127.0.0.1:0".parse().unwrap();
    settings.database.url = Secret::new("");
    settings.auth.initial_admin_password = Secret::new("bench-admin-1");
    settings.sip.listen = "127.0.0.1:0".into();
    settings.sip.max_calls = max_calls;
    settings.media.dead_peer_s = 0;
    settings.log.level = "warn".into();
    let app = Application::build(&settings).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let sip = app.sip_addr().unwrap();
    let handle = app.telephony_handle().unwrap();
    let store = app.store().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Gateway { base, sip, handle, store, stop, server, data }
}

impl Gateway {
    /// `n` operators in the queue at number 100 (they log in from the load generator).
    async fn agents(&self, n: usize) {
        // A cheap argon2 hash (64 KiB, one pass): the default's 19 MiB per verification would
        // leave the allocator holding far more memory than the connections being measured.
        use argon2::password_hash::{PasswordHasher, SaltString};
        let cheap = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        );
        let hash = cheap
            .hash_password(
                AGENT_PASSWORD.as_bytes(),
                &SaltString::encode_b64(b"switchboardbench").unwrap(),
            )
            .unwrap()
            .to_string();
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let user = self
                .store
                .create_user(
                    &Actor::system(),
                    NewUser {
                        login: format!("agent{i}"),
                        name: format!("Agent {i}"),
                        role: Role::Operator,
                        password_hash: hash.clone(),
                        team_id: None,
                    },
                )
                .await
                .unwrap();
            ids.push(user.id);
        }
        self.store
            .create_queue(
                &Actor::system(),
                NewQueue {
                    name: "bench".into(),
                    number: Some("100".into()),
                    ring_timeout_ms: Some(60_000),
                    max_wait_ms: Some(600_000),
                    members: ids,
                    ..NewQueue::default()
                },
            )
            .await
            .unwrap();
        let (tx, rx) = oneshot::channel();
        self.handle.send(TelephonyRequest::ReloadQueues { reply: tx }).unwrap();
        rx.await.unwrap();
    }

    async fn on_call(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        self.handle.send(TelephonyRequest::Status { reply: tx }).unwrap();
        rx.await.unwrap().agents.iter().filter(|a| a.state.name() == "on_call").count()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(20), self.server).await;
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The load generator process, talked to over its stdin/stdout (one line each way).
struct Loadgen {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Loadgen {
    fn spawn(args: &[String]) -> Loadgen {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .arg("loadgen")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Loadgen { child, stdin, lines }
    }

    /// The next line that starts with `prefix` (others are echoed).
    async fn expect(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no {prefix:?} from the load generator in {limit:?}"));
            let line = line
                .unwrap()
                .unwrap_or_else(|| panic!("the load generator exited before {prefix:?}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
            println!("  loadgen: {line}");
        }
    }

    async fn say(&mut self, line: &str) {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }

    async fn finish(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
    }
}

async fn card(args: &[String]) {
    let contacts: usize = arg(args, "--contacts", 1_000_000);
    let agents: usize = arg(args, "--agents", 10);
    let rate: u64 = arg(args, "--rate", 20);
    let seconds: u64 = arg(args, "--seconds", 30);
    println!(
        "## screen pop: {contacts} contacts, {agents} browser agents, {rate} calls/s for {seconds} s"
    );
    let gw = gateway("card", 1000).await;
    let dir = std::env::temp_dir().join(format!("sb-bench-card-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = ImportOptions {
        on_duplicate: OnDuplicate::Merge,
        default_owner: None,
        region: Region::RU,
        progress: false,
    };
    let started = Instant::now();
    for f in 0..contacts.div_ceil(100_000) {
        let path = dir.join(format!("contacts-{f}.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "Фамилия,Имя,Телефон,Компания").unwrap();
        for i in f * 100_000..((f + 1) * 100_000).min(contacts) {
            writeln!(out, "Иванов{i},Иван,+7916{i:07},Компания {}", i % 5000).unwrap();
        }
        drop(out);
        import_contacts_file(&gw.store, &Actor::system(), &path, &options).await.unwrap();
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("imported {contacts} contacts in {:.0} s", started.elapsed().as_secs_f64());
    gw.agents(agents).await;
    let mut lg = Loadgen::spawn(&[
        "card".into(),
        gw.base.clone(),
        gw.sip.to_string(),
        agents.to_string(),
        rate.to_string(),
        seconds.to_string(),
        contacts.to_string(),
    ]);
    lg.expect("logged_in", Duration::from_secs(120)).await;
    lg.say("go").await;
    lg.expect("ready", Duration::from_secs(120)).await;
    let result = lg.expect("result", Duration::from_secs(seconds + 60)).await;
    println!("{result}");
    lg.finish().await;
    gw.stop().await;
}

async fn calls(args: &[String]) {
    let levels: Vec<usize> = arg::<String>(args, "--calls", "50,100,200".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let hold = Duration::from_secs(arg(args, "--hold", 20));
    println!(
        "| browser agents | idle: gateway KiB per agent connection | idle: gateway CPU % | calls connected | gateway CPU % of a core | CPU % per call | KiB per call | RTP in | relayed | not relayed | p50 / p99 / p99.9 in the relay (us) | browsers received / expected |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in levels {
        let gw = gateway(&format!("calls{n}"), n * 2 + 10).await;
        gw.agents(n).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut lg_args = vec!["calls".to_owned(), gw.base.clone(), n.to_string()];
        if args.iter().any(|a| a == "--idle-rtp") {
            lg_args.push("idle-rtp".into());
        }
        let mut lg = Loadgen::spawn(&lg_args);
        // The memory baseline is taken after the logins (argon2 verifications leave the
        // allocator holding memory that no connection uses).
        lg.expect("logged_in", Duration::from_secs(60 + n as u64)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_empty = rss_kib();
        lg.say("go").await;
        lg.expect("ready", Duration::from_secs(60 + n as u64)).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (idle_cpu0, idle_t0) = (cpu_ticks_self(), Instant::now());
        tokio::time::sleep(Duration::from_secs(5)).await;
        let idle_cpu =
            (cpu_ticks_self() - idle_cpu0) as f64 / 100.0 / idle_t0.elapsed().as_secs_f64() * 100.0;
        let rss_idle = rss_kib();
        let per_agent = rss_idle.saturating_sub(rss_empty) as f64 / n as f64;

        let caller_dir =
            std::env::temp_dir().join(format!("sb-bench-browser-caller-{}", std::process::id()));
        std::fs::create_dir_all(&caller_dir).unwrap();
        std::fs::write(
            caller_dir.join("tone.ul"),
            switchboard_media::tone::sine_ulaw(1000.0, 0.35, 0, 8000),
        )
        .unwrap();
        let talk_ms = (hold + Duration::from_secs(60)).as_millis().to_string();
        let mut uac = Command::new("sipp")
            .arg(gw.sip.to_string())
            .args([
                "-sf",
                &format!("{SCENARIOS}/caller.xml"),
                "-s",
                "100",
                "-key",
                "caller",
                "79161234567",
                "-d",
                &talk_ms,
            ])
            .args([
                "-l",
                &n.to_string(),
                "-m",
                &n.to_string(),
                "-r",
                "20",
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-nostdin",
                "-timeout",
                "600s",
                "-p",
                "0",
            ])
            .current_dir(&caller_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp runs (apt-get install sip-tester)");
        let deadline = Instant::now() + Duration::from_secs(30 + n as u64 / 5);
        let mut connected = 0;
        while Instant::now() < deadline {
            connected = gw.on_call().await;
            if connected >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let s = &*RELAY_STATS;
        s.reset_latency();
        lg.say("mark").await;
        let heard0: u64 = lg.expect("heard", Duration::from_secs(10)).await.parse().unwrap_or(0);
        let (in0, out0, ns0) = (
            s.packets_in.load(Ordering::Relaxed),
            s.packets_out.load(Ordering::Relaxed),
            s.not_sent.load(Ordering::Relaxed) + s.dropped.load(Ordering::Relaxed),
        );
        let (cpu0, t0) = (cpu_ticks_self(), Instant::now());
        tokio::time::sleep(hold).await;
        let (cpu1, elapsed) = (cpu_ticks_self(), t0.elapsed());
        let (in1, out1, ns1) = (
            s.packets_in.load(Ordering::Relaxed),
            s.packets_out.load(Ordering::Relaxed),
            s.not_sent.load(Ordering::Relaxed) + s.dropped.load(Ordering::Relaxed),
        );
        lg.say("mark").await;
        let heard1: u64 = lg.expect("heard", Duration::from_secs(10)).await.parse().unwrap_or(0);
        let rss_calls = rss_kib();
        let cpu = (cpu1 - cpu0) as f64 / 100.0 / elapsed.as_secs_f64() * 100.0;
        let expected_browser = (connected as f64 * 50.0 * elapsed.as_secs_f64()) as u64;
        let q = |p: f64| s.latency_quantile_us(p).map_or("-".to_owned(), |v| v.to_string());
        println!(
            "| {n} | {per_agent:.0} | {idle_cpu:.1} | {connected} | {cpu:.1} | {:.2} | {:.0} | {} | {} | {} | {} / {} / {} | {} / {expected_browser} |",
            cpu / connected.max(1) as f64,
            rss_calls.saturating_sub(rss_idle) as f64 / connected.max(1) as f64,
            in1 - in0,
            out1 - out0,
            ns1 - ns0,
            q(0.5),
            q(0.99),
            q(0.999),
            heard1 - heard0,
        );
        let _ = uac.kill();
        let _ = uac.wait();
        lg.finish().await;
        gw.stop().await;
        let _ = std::fs::remove_dir_all(&caller_dir);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    match args.first().map(String::as_str) {
        Some("loadgen") => runtime.block_on(loadgen::run(&args[1..])),
        Some("card") => runtime.block_on(card(&args[1..])),
        Some("calls") => runtime.block_on(calls(&args[1..])),
        _ => {
            eprintln!(
                "usage: cargo bench -p switchboard-server --bench browser -- card|calls [options] (see the file's header)"
            );
        }
    }
}
