//! What the benchmarks share: their command-line options and percentiles, the release server
//! as a process of its own, SIPp processes ended with the run, and agents whose desk phones
//! are all one SIPp answering every call, made available without a login.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use switchboard_core::Role;
use switchboard_store::{Actor, NewUser, SipEndpoint, Store};
use switchboard_switch::protocol::{AgentTarget, TelephonyHandle, TelephonyRequest};
use tokio::sync::oneshot;

/// A password hash nobody logs in with (the benchmarks' agents never sign in).
const UNUSED_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0C6Qb1/Vq2qkJ1a6Vv8wB0yq0pM2Q1mQ2m3n4o5p6q8";

/// A child process, killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value after `name` on the command line, else `default`.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`th percentile (nearest rank) of `sorted`, which must not be empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `binary serve` (a release build) on a store in `dir`, HTTP on `http`, SIP on a free port,
/// the first administrator's password `admin_password`; `database` a PostgreSQL URL instead
/// of SQLite in `dir`. Its output is discarded; it is killed when dropped.
pub fn serve(
    binary: &Path,
    dir: &Path,
    http: u16,
    admin_password: &str,
    database: Option<&str>,
) -> Proc {
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_RECORDINGS__ROOT", dir.join("recordings"))
        .env("SWITCHBOARD_HTTP__LISTEN", format!("127.0.0.1:{http}"))
        .env("SWITCHBOARD_SIP__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_AUTH__INITIAL_ADMIN_PASSWORD", admin_password)
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .env_remove("SWITCHBOARD_DATABASE__URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database {
        cmd.env("SWITCHBOARD_DATABASE__URL", url);
    }
    Proc(cmd.spawn().expect("switchboard starts"))
}

/// SIPp with `args`, run in `dir` (where its `tone.ul` is), its output discarded.
pub fn sipp(dir: &Path, args: &[String]) -> Proc {
    let child = Command::new("sipp")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp (apt-get install sip-tester)");
    Proc(child)
}

/// `n` operators `agent0`.. whose phones are `sip:agent<i>@127.0.0.1:<phone_port>`; their ids.
pub async fn sip_agents(store: &Store, n: usize, phone_port: u16) -> Vec<String> {
    let mut agents = Vec::with_capacity(n);
    for i in 0..n {
        let user = store
            .create_user(
                &Actor::system(),
                NewUser {
                    login: format!("agent{i}"),
                    name: format!("Agent {i}"),
                    role: Role::Operator,
                    password_hash: UNUSED_HASH.into(),
                    team_id: None,
                },
            )
            .await
            .unwrap();
        let uri = SipEndpoint::Uri(format!("sip:agent{i}@127.0.0.1:{phone_port}"));
        store.set_sip_endpoint(&Actor::system(), &user.id, Some(&uri)).await.unwrap();
        agents.push(user.id);
    }
    agents
}

/// Has the switch read the queues again, then makes every one of `agents` available.
pub async fn reload_and_make_available(handle: &TelephonyHandle, agents: &[String]) {
    let (tx, rx) = oneshot::channel();
    handle.send(TelephonyRequest::ReloadQueues { reply: tx }).unwrap();
    rx.await.unwrap();
    for a in agents {
        let (tx, rx) = oneshot::channel();
        handle
            .send(TelephonyRequest::SetAgentState {
                user_id: a.clone(),
                target: AgentTarget::Available,
                reply: tx,
            })
            .unwrap();
        rx.await.unwrap().unwrap();
    }
}
