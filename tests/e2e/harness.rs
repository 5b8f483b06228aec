//! The pieces of an end-to-end test: the real gateway in-process, SIPp processes playing the
//! PBX, the callers and the agents' phones, and a packet capture to check the audio.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::{Value, json};
use switchboard_media::g711::ulaw_to_linear;
use switchboard_media::rtp::RtpPacket;
use switchboard_media::tone::{goertzel_power, sine_ulaw};
use switchboard_server::settings::{Secret, Settings, TrunkSettings};
use switchboard_server::startup::Application;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) const ADMIN_PASSWORD: &str = "admin-password-1";
pub(crate) const AGENT_PASSWORD: &str = "agent-password-1";
/// Where the scenario files are.
pub(crate) const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");

/// One test at a time: they measure timing (ring timeouts) on a 2-core machine.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A scratch directory removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir()
            .join(format!("sb-e2e-{name}-{}", uuid::Uuid::now_v7().as_simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A subdirectory holding `tone.ul`: one second of a sine at `hz` (loops seamlessly).
    pub(crate) fn tone_dir(&self, name: &str, hz: f64) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tone.ul"), sine_ulaw(hz, 0.35, 0, 8000)).unwrap();
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free UDP port `p` with `p + 1` also free (SIPp uses the next one for RTCP), even.
pub(crate) fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let p = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let p = p - p % 2;
        if p > 1024
            && UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && UdpSocket::bind(("127.0.0.1", p + 1)).is_ok()
            && UdpSocket::bind(("127.0.0.1", p + 2)).is_ok()
        {
            return p;
        }
    }
    panic!("no free port pair");
}

/// How the gateway is set up for a test.
pub(crate) struct GatewayOptions {
    /// Trunk peers' allowed sources.
    pub(crate) trunk_allow: Vec<String>,
    /// Accounts to register: (name, registrar URI, password, expiry).
    pub(crate) registrations: Vec<(String, String, String, u32)>,
    /// Seconds of silence that end a call.
    pub(crate) dead_peer_s: u64,
    /// Calls beyond which INVITEs get 503.
    pub(crate) max_calls: usize,
    /// Click-to-call target template and the PBX password (user `gw`).
    pub(crate) outbound: Option<(String, String)>,
    /// Digest credentials the trunk challenges INVITEs for.
    pub(crate) trunk_credential: Option<(String, String)>,
    /// `[callbacks]`: due after, escalation check interval (seconds).
    pub(crate) callbacks: (u64, u64),
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            trunk_allow: vec!["127.0.0.1".into()],
            registrations: Vec::new(),
            dead_peer_s: 0,
            max_calls: 100,
            outbound: None,
            trunk_credential: None,
            callbacks: (900, 30),
        }
    }
}

/// The gateway: the whole application on an embedded SQLite store, SIP and HTTP on free ports.
pub(crate) struct Gateway {
    pub(crate) base: String,
    pub(crate) sip: SocketAddr,
    pub(crate) admin: Client,
    /// Where the recordings go.
    pub(crate) recordings: PathBuf,
    /// The gateway's store (for seeding history).
    #[allow(dead_code)] // the browser tests seed it
    pub(crate) store: switchboard_store::Store,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Scratch,
}

impl Gateway {
    pub(crate) async fn start(options: GatewayOptions) -> Gateway {
        let dir = Scratch::new("gw");
        let mut settings = Settings::load(None).unwrap();
        settings.data_dir = dir.0.join("data");
        settings.recordings.root = dir.0.join("recordings");
        (settings.callbacks.due_after_s, settings.callbacks.check_s) = options.callbacks;
        settings.http.listen = "127.0.0.1:0".parse().unwrap();
        settings.database.url = Secret::new("");
        settings.auth.initial_admin_password = Secret::new(ADMIN_PASSWORD);
        settings.sip.listen = "127.0.0.1:0".into();
        settings.media.dead_peer_s = options.dead_peer_s;
        settings.sip.max_calls = options.max_calls;
        if let Some((target, password)) = options.outbound {
            settings.sip.outbound.target = target;
            settings.sip.outbound.username = "gw".into();
            settings.sip.outbound.password = Secret::new(password);
            settings.sip.outbound.caller_id = "74951112233".into();
            settings.sip.outbound.ring_timeout_s = 10;
        }
        let (username, password) = options.trunk_credential.unwrap_or_default();
        settings.sip.trunks = vec![TrunkSettings {
            name: "pbx".into(),
            allow: options.trunk_allow,
            username,
            password: Secret::new(password),
            queue: String::new(),
        }];
        settings.sip.registrations = options
            .registrations
            .into_iter()
            .map(|(name, registrar, password, expiry_s)| {
                switchboard_server::settings::RegistrationSettings {
                    name,
                    username: "gw".into(),
                    auth_username: String::new(),
                    password: Secret::new(password),
                    registrar,
                    expiry_s,
                    // The test creates this queue by name.
                    queue: "support".into(),
                }
            })
            .collect();
        let app = Application::build(&settings).await.expect("the gateway starts");
        let store = app.store().clone();
        let base = format!("http://{}", app.local_addr().unwrap());
        let sip = app.sip_addr().expect("SIP is on");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let admin = login(&base, "admin", ADMIN_PASSWORD).await;
        let recordings = settings.recordings.root.clone();
        Gateway {
            base,
            sip,
            admin,
            recordings,
            store,
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
        }
    }

    pub(crate) async fn post(&self, client: &Client, path: &str, body: Value) -> Value {
        let res = client.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    pub(crate) async fn put(&self, client: &Client, path: &str, body: Value) -> (u16, Value) {
        let res = client.put(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn get(&self, client: &Client, path: &str) -> Value {
        let res = client.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Creates an agent whose phone is at `phone` (a SIP address), and returns their id and
    /// a logged-in client.
    pub(crate) async fn agent(&self, login_name: &str, phone: SocketAddr) -> (String, Client) {
        let user = self.post(&self.admin, "/api/users", json!({"login": login_name, "name": login_name, "role": "operator", "password": AGENT_PASSWORD})).await;
        let id = user["user"]["id"].as_str().unwrap().to_owned();
        let (status, body) = self
            .put(
                &self.admin,
                &format!("/api/users/{id}/sip"),
                json!({"uri": format!("sip:{login_name}@{phone}")}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (id, login(&self.base, login_name, AGENT_PASSWORD).await)
    }

    /// Creates the queue callers reach at `number`.
    pub(crate) async fn queue(&self, number: &str, members: &[&str], extra: Value) -> String {
        let mut body = json!({"name": "support", "number": number, "members": members});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.post(&self.admin, "/api/queues", body).await["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn available(&self, agent: &Client) {
        let (status, body) =
            self.put(agent, "/api/agent/state", json!({"state": "available"})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["state"], "available");
    }

    /// Waits (bounded) until the newest inbound call has ended, and returns it with events.
    pub(crate) async fn wait_call_ended(&self, call_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let res =
                self.admin.get(format!("{}/api/calls/{call_id}", self.base)).send().await.unwrap();
            if res.status().is_success() {
                let v: Value = res.json().await.unwrap();
                if !v["call"]["ended_at"].is_null() {
                    return v;
                }
            }
            assert!(Instant::now() < deadline, "call {call_id} did not end in time");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The recording file of a call, found under the recordings root.
    pub(crate) fn recording_file(&self, call_id: &str) -> Option<PathBuf> {
        find_file(&self.recordings, &format!("{call_id}.wav"))
    }

    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

pub(crate) async fn login(base: &str, login_name: &str, password: &str) -> Client {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": login_name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login {login_name}");
    client
}

/// A SIPp process, killed on drop if still running.
pub(crate) struct Sipp {
    child: Option<Child>,
    name: String,
    log: PathBuf,
}

/// Builder for a SIPp run.
pub(crate) struct SippRun {
    pub(crate) scenario: &'static str,
    /// SIP port of this SIPp.
    pub(crate) port: u16,
    /// RTP port.
    pub(crate) media_port: u16,
    /// Directory with `tone.ul` (SIPp's working directory).
    pub(crate) dir: PathBuf,
    /// Remote (for a client: the gateway).
    pub(crate) remote: Option<SocketAddr>,
    /// `[service]` (the called number).
    pub(crate) service: Option<String>,
    /// `-d` ms (the scenario's pauses).
    pub(crate) pause_ms: u64,
    /// `-key` pairs.
    pub(crate) keys: Vec<(&'static str, String)>,
    /// Calls to run.
    pub(crate) calls: u32,
    /// Transport: `u1` (UDP) or `t1` (TCP).
    pub(crate) transport: &'static str,
    /// More command-line arguments.
    pub(crate) extra: Vec<String>,
}

impl SippRun {
    pub(crate) fn new(scenario: &'static str, dir: &Path) -> SippRun {
        SippRun {
            scenario,
            port: free_port_pair(),
            media_port: free_port_pair(),
            dir: dir.to_owned(),
            remote: None,
            service: None,
            pause_ms: 1000,
            keys: Vec::new(),
            calls: 1,
            transport: "u1",
            extra: Vec::new(),
        }
    }

    pub(crate) fn spawn(self) -> Sipp {
        let log =
            self.dir.join(format!("{}-{}.log", self.scenario.trim_end_matches(".xml"), self.port));
        let mut cmd = Command::new("sipp");
        if let Some(remote) = self.remote {
            cmd.arg(remote.to_string());
        }
        cmd.arg("-sf").arg(Path::new(SCENARIOS).join(self.scenario));
        cmd.args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-t", self.transport, "-nostdin"]);
        cmd.args(["-p", &self.port.to_string(), "-mp", &self.media_port.to_string()]);
        cmd.args(["-m", &self.calls.to_string(), "-d", &self.pause_ms.to_string()]);
        cmd.args(["-timeout", "40s", "-timeout_error", "-max_recv_loops", "1000"]);
        cmd.args(["-trace_err", "-error_file"]).arg(&log);
        if let Some(s) = &self.service {
            cmd.args(["-s", s]);
        }
        for (k, v) in &self.keys {
            cmd.args(["-key", k, v]);
        }
        cmd.args(&self.extra);
        cmd.current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("sipp runs (apt-get install sip-tester)");
        Sipp { child: Some(child), name: self.scenario.to_owned(), log }
    }
}

impl Sipp {
    /// Waits (bounded) for SIPp to exit; true when every call succeeded.
    pub(crate) async fn wait(mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let Some(mut child) = self.child.take() else { return false };
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                if !status.success() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        use std::io::Read;
                        let _ = e.read_to_string(&mut err);
                    }
                    let trace = std::fs::read_to_string(&self.log).unwrap_or_default();
                    eprintln!("sipp {} exited with {status}: {err}\n{trace}", self.name);
                }
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!("sipp {} did not finish in {limit:?}", self.name);
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A packet capture on the loopback interface (dumpcap, from the tshark package).
pub(crate) struct Capture {
    child: Option<Child>,
    file: PathBuf,
}

impl Capture {
    /// Starts capturing UDP to or from any of `ports`; returns once dumpcap is capturing.
    pub(crate) async fn start(dir: &Path, ports: &[u16]) -> Capture {
        let file = dir.join("capture.pcap");
        let filter = ports.iter().map(|p| format!("udp port {p}")).collect::<Vec<_>>().join(" or ");
        let child = Command::new("dumpcap")
            .args(["-q", "-i", "lo", "-P", "-f", &filter, "-w"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap runs (apt-get install tshark)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&file).map_or(true, |m| m.len() < 24) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        Capture { child: Some(child), file }
    }

    /// Stops the capture (SIGINT, so the file is complete) and returns the UDP datagrams.
    pub(crate) async fn stop(mut self) -> Vec<Datagram> {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        parse_pcap(&std::fs::read(&self.file).unwrap_or_default())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One captured UDP datagram.
#[derive(Debug, Clone)]
pub(crate) struct Datagram {
    pub(crate) dst_port: u16,
    pub(crate) payload: Vec<u8>,
    /// When it was captured (ms since the epoch).
    pub(crate) at_ms: i64,
}

/// Reads a classic pcap file (Ethernet or Linux cooked link layer, IPv4/UDP only).
pub(crate) fn parse_pcap(bytes: &[u8]) -> Vec<Datagram> {
    let mut out = Vec::new();
    if bytes.len() < 24 {
        return out;
    }
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = matches!(magic, 0xa1b2_c3d4 | 0xa1b2_3c4d);
    let nanos = matches!(magic, 0xa1b2_3c4d | 0x4d3c_b2a1);
    let read32 = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
    };
    let link = read32(&bytes[20..24]);
    let link_len = match link {
        1 => 14,
        113 => 16,
        276 => 20,
        _ => return out,
    };
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let incl = read32(&bytes[at + 8..at + 12]) as usize;
        let fraction = i64::from(read32(&bytes[at + 4..at + 8]));
        let at_ms = i64::from(read32(&bytes[at..at + 4])) * 1000
            + if nanos { fraction / 1_000_000 } else { fraction / 1000 };
        let start = at + 16;
        let end = (start + incl).min(bytes.len());
        at = start + incl;
        let frame = &bytes[start..end];
        if frame.len() < link_len + 28 {
            continue;
        }
        let ip = &frame[link_len..];
        if ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip.len() < ihl + 8 {
            continue;
        }
        let udp = &ip[ihl..];
        let dst_port = u16::from_be_bytes([udp[2], udp[3]]);
        let len = usize::from(u16::from_be_bytes([udp[4], udp[5]])).clamp(8, udp.len());
        out.push(Datagram { dst_port, payload: udp[8..len].to_vec(), at_ms });
    }
    out
}

/// The audio (PCMU) sent to `port`, decoded.
pub(crate) fn audio_to(datagrams: &[Datagram], port: u16) -> Vec<i16> {
    audio_to_between(datagrams, port, i64::MIN, i64::MAX)
}

/// The audio (PCMU) sent to `port` and captured from `from_ms` to `to_ms` (epoch ms), decoded.
pub(crate) fn audio_to_between(
    datagrams: &[Datagram],
    port: u16,
    from_ms: i64,
    to_ms: i64,
) -> Vec<i16> {
    let mut samples = Vec::new();
    for d in datagrams.iter().filter(|d| d.dst_port == port && (from_ms..to_ms).contains(&d.at_ms))
    {
        if let Ok(p) = RtpPacket::parse(&d.payload)
            && p.payload_type == 0
        {
            samples.extend(p.payload(&d.payload).iter().map(|&b| ulaw_to_linear(b)));
        }
    }
    samples
}

/// Asserts that `samples` hold a clean tone at `hz`: at least half a second of it, and its
/// power ten times that of the other test tones.
pub(crate) fn assert_tone(samples: &[i16], hz: f64, what: &str) {
    assert!(samples.len() >= 4000, "{what}: only {} samples of PCMU arrived", samples.len());
    let window = &samples[samples.len() - 4000..];
    let power = goertzel_power(window, hz);
    for other in [440.0, 1000.0, 2000.0].into_iter().filter(|f| (*f - hz).abs() > 1.0) {
        let p = goertzel_power(window, other);
        assert!(
            power > 10.0 * p,
            "{what}: {hz} Hz power {power:.0} is not ten times the {other} Hz power {p:.0}"
        );
    }
    assert!(power > 1000.0, "{what}: {hz} Hz is too weak ({power:.0})");
}

/// The first file named `name` under `dir` (depth-first).
pub(crate) fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// A stereo 8 kHz 16-bit WAV's (left, right) channels; panics unless hound opens it.
pub(crate) fn wav_channels(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} opens with hound: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16),
        "stereo 8 kHz 16-bit"
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}

/// The gateway as a child process (killed on drop if still running).
pub(crate) struct Process(Option<Child>);

impl Process {
    /// `switchboard serve` on SQLite in `dir`, logging to `server-<run>.log`, with `env` on top.
    pub(crate) fn start(
        dir: &Path,
        http: u16,
        sip: u16,
        run: u32,
        env: &[(&str, &str)],
    ) -> Process {
        let log = std::fs::File::create(dir.join(format!("server-{run}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("SWITCHBOARD_DATA_DIR", dir.join("data"))
            .env("SWITCHBOARD_RECORDINGS__ROOT", dir.join("recordings"))
            .env("SWITCHBOARD_HTTP__LISTEN", format!("127.0.0.1:{http}"))
            .env("SWITCHBOARD_SIP__LISTEN", format!("127.0.0.1:{sip}"))
            .env("SWITCHBOARD_AUTH__INITIAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("SWITCHBOARD_LOG__LEVEL", "info")
            .env_remove("SWITCHBOARD_DATABASE__URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the switchboard binary starts");
        Process(Some(child))
    }

    /// SIGKILL: no shutdown code runs.
    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.0.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) async fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gateway did not come up at {base}");
}

/// A signed-in user's WebSocket (the wallboard's or the console's): commands out, messages in
/// (the wallboard's periodic `board` snapshots are skipped).
pub(crate) struct Socket {
    send: mpsc::UnboundedSender<String>,
    incoming: mpsc::UnboundedReceiver<Value>,
}

impl Socket {
    pub(crate) async fn open(gw: &Gateway, login: &str, path: &str) -> Socket {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{}/api/auth/login", gw.base))
            .json(&json!({"login": login, "password": AGENT_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{login} logs in");
        let cookie = res
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let mut request =
            format!("{}{path}", gw.base.replacen("http", "ws", 1)).into_client_request().unwrap();
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let (mut sink, mut stream) = ws.split();
        let (send, mut outbox) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = outbox.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
        let (tx, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                if let Message::Text(text) = frame
                    && let Ok(v) = serde_json::from_str::<Value>(&text)
                    && v["type"] != "board"
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        Socket { send, incoming }
    }

    pub(crate) fn command(&self, v: Value) {
        self.send.send(v.to_string()).unwrap();
    }

    /// The next message of `kind` (others are skipped), within 10 s.
    pub(crate) async fn next(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(Some(v)) = tokio::time::timeout(left, self.incoming.recv()).await else {
                panic!("no `{kind}` message within 10 s")
            };
            if v["type"] == kind {
                return v;
            }
        }
    }
}
