//! The gateway under test: the whole application in-process on an embedded SQLite store, or
//! the `switchboard` binary as a child process; signed-in HTTP clients and WebSockets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::{Value, json};
use switchboard_server::settings::{Secret, Settings, TrunkSettings};
use switchboard_server::startup::Application;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::audio::find_file;
use crate::sipp::Scratch;
use crate::wait::{eventually, until};

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const AGENT_PASSWORD: &str = "agent-password-1";

/// One test at a time: they measure timing (ring timeouts) on a 2-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How the gateway is set up for a test.
pub struct GatewayOptions {
    /// Trunk peers' allowed sources.
    pub trunk_allow: Vec<String>,
    /// Accounts to register: (name, registrar URI, password, expiry).
    pub registrations: Vec<(String, String, String, u32)>,
    /// Seconds of silence that end a call.
    pub dead_peer_s: u64,
    /// Calls beyond which INVITEs get 503.
    pub max_calls: usize,
    /// Click-to-call target template and the PBX password (user `gw`).
    pub outbound: Option<(String, String)>,
    /// Digest credentials the trunk challenges INVITEs for.
    pub trunk_credential: Option<(String, String)>,
    /// `[callbacks]`: due after, escalation check interval (seconds).
    pub callbacks: (u64, u64),
    /// The database (None: an embedded SQLite file in the scratch directory).
    pub database_url: Option<String>,
    /// The SIP port (None: a free one); for peers configured before the gateway starts.
    pub sip_port: Option<u16>,
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
            database_url: None,
            sip_port: None,
        }
    }
}

/// The gateway: the whole application on an embedded SQLite store, SIP and HTTP on free ports.
pub struct Gateway {
    pub base: String,
    pub sip: SocketAddr,
    pub admin: Client,
    /// Where the recordings go.
    pub recordings: PathBuf,
    /// The gateway's store (for seeding history).
    #[allow(dead_code)] // the browser tests seed it
    pub store: switchboard_store::Store,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Scratch,
}

impl Gateway {
    pub async fn start(options: GatewayOptions) -> Gateway {
        let dir = Scratch::new("gw");
        let mut settings = Settings::load(None).unwrap();
        settings.data_dir = dir.0.join("data");
        settings.recordings.root = dir.0.join("recordings");
        (settings.callbacks.due_after_s, settings.callbacks.check_s) = options.callbacks;
        settings.http.listen = "127.0.0.1:0".parse().unwrap();
        settings.database.url = Secret::new(options.database_url.unwrap_or_default());
        settings.auth.initial_admin_password = Secret::new(ADMIN_PASSWORD);
        settings.sip.listen = format!("127.0.0.1:{}", options.sip_port.unwrap_or(0));
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

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> Value {
        let res = client.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    pub async fn put(&self, client: &Client, path: &str, body: Value) -> (u16, Value) {
        let res = client.put(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, client: &Client, path: &str) -> Value {
        let res = client.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Creates an agent whose phone is at `phone` (a SIP address), and returns their id and
    /// a logged-in client.
    pub async fn agent(&self, login_name: &str, phone: SocketAddr) -> (String, Client) {
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
    pub async fn queue(&self, number: &str, members: &[&str], extra: Value) -> String {
        let mut body = json!({"name": "support", "number": number, "members": members});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.post(&self.admin, "/api/queues", body).await["id"].as_str().unwrap().to_owned()
    }

    pub async fn available(&self, agent: &Client) {
        let (status, body) =
            self.put(agent, "/api/agent/state", json!({"state": "available"})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["state"], "available");
    }

    /// Waits (bounded) until the newest inbound call has ended, and returns it with events.
    pub async fn wait_call_ended(&self, call_id: &str) -> Value {
        let url = format!("{}/api/calls/{call_id}", self.base);
        eventually(Duration::from_secs(15), &format!("call {call_id} ended"), || async {
            let res = self.admin.get(&url).send().await.ok()?;
            let v: Value = res.error_for_status().ok()?.json().await.ok()?;
            (!v["call"]["ended_at"].is_null()).then_some(v)
        })
        .await
    }

    /// The recording file of a call, found under the recordings root.
    pub fn recording_file(&self, call_id: &str) -> Option<PathBuf> {
        find_file(&self.recordings, &format!("{call_id}.wav"))
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

pub async fn login(base: &str, login_name: &str, password: &str) -> Client {
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

/// A load benchmark's gateway settings: data in `data` (SQLite there), `max_calls`, loopback
/// SIP and HTTP on free ports, RTP from 20000-29999 (below the ephemeral ports SIPp's own
/// sockets get), no dead-peer check, one trunk (`bench`) that lets 127.0.0.1 in, and
/// recordings on or off.
pub fn bench_settings(data: &Path, max_calls: usize, record: bool) -> Settings {
    let mut settings = Settings::load(None).expect("the built-in settings load");
    settings.data_dir = data.to_owned();
    settings.recordings.root = data.join("recordings");
    settings.recordings.enabled = record;
    settings.http.listen = "127.0.0.1:0".parse().expect("an address");
    settings.database.url = Secret::new("");
    settings.auth.initial_admin_password = Secret::new("bench-admin-1");
    settings.sip.listen = "127.0.0.1:0".into();
    settings.sip.max_calls = max_calls;
    settings.media.dead_peer_s = 0;
    settings.media.rtp_port_min = 20000;
    settings.media.rtp_port_max = 29999;
    settings.sip.trunks = vec![TrunkSettings {
        name: "bench".into(),
        allow: vec!["127.0.0.1".into()],
        username: String::new(),
        password: Secret::new(""),
        queue: String::new(),
    }];
    settings
}

/// The gateway as a child process (killed on drop if still running).
pub struct Process(Option<Child>);

impl Process {
    /// `switchboard serve` (the binary at `bin`: a test's `env!("CARGO_BIN_EXE_switchboard")`)
    /// on SQLite in `dir`, logging to `server-<run>.log`, with `env` on top.
    pub fn start(
        bin: &str,
        dir: &Path,
        http: u16,
        sip: u16,
        run: u32,
        env: &[(&str, &str)],
    ) -> Process {
        let mut cmd = Command::new(bin);
        cmd.arg("serve");
        Process::spawn(cmd, dir, http, sip, run, env)
    }

    /// The same, in a mount namespace of its own where `disk` is a tmpfs of `size_mib` MiB
    /// (point the data or the recordings there with `env`): a disk the test can fill through
    /// `/proc/<pid>/root` without touching the machine's. Needs root (`unshare -m`).
    #[allow(clippy::too_many_arguments)]
    pub fn start_on_tmpfs(
        bin: &str,
        dir: &Path,
        http: u16,
        sip: u16,
        run: u32,
        env: &[(&str, &str)],
        disk: &Path,
        size_mib: u32,
    ) -> Process {
        std::fs::create_dir_all(disk).unwrap();
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@""#)
            .arg("sh")
            .arg(format!("{size_mib}m"))
            .arg(disk)
            .args([bin, "serve"]);
        Process::spawn(cmd, dir, http, sip, run, env)
    }

    fn spawn(
        mut cmd: Command,
        dir: &Path,
        http: u16,
        sip: u16,
        run: u32,
        env: &[(&str, &str)],
    ) -> Process {
        let log = std::fs::File::create(dir.join(format!("server-{run}.log"))).unwrap();
        let child = cmd
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

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
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

/// Waits (up to a minute) until the gateway at `base` answers `/healthz`.
pub async fn wait_healthy(base: &str) {
    let url = format!("{base}/healthz");
    until(Duration::from_secs(60), &format!("the gateway up at {base}"), || async {
        reqwest::get(&url).await.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// A signed-in user's WebSocket (the wallboard's or the console's): commands out, messages in
/// (the wallboard's periodic `board` snapshots are skipped).
pub struct Socket {
    send: mpsc::UnboundedSender<String>,
    incoming: mpsc::UnboundedReceiver<Value>,
}

impl Socket {
    pub async fn open(gw: &Gateway, login: &str, path: &str) -> Socket {
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

    pub fn command(&self, v: Value) {
        self.send.send(v.to_string()).unwrap();
    }

    /// The next message of `kind` (others are skipped), within 10 s.
    pub async fn next(&mut self, kind: &str) -> Value {
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
