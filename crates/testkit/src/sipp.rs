//! SIPp as the PBX, the callers and the agents' desk phones: runs of a scenario from
//! `tests/sipp`, scratch directories holding the tone it plays, free ports.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_media::tone::sine_ulaw;

/// Where the scenario files are.
pub const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/sipp");

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir()
            .join(format!("sb-e2e-{name}-{}", uuid::Uuid::now_v7().as_simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A subdirectory holding `tone.ul`: one second of a sine at `hz` (loops seamlessly).
    pub fn tone_dir(&self, name: &str, hz: f64) -> PathBuf {
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

/// A free UDP port `p`, even, with `p + 1` to `p + 3` also free (SIPp binds RTCP and a video
/// pair next to its media port) and `p` free for TCP (SIPp over TCP listens there).
///
/// Taken from 10000-19999: below the gateway's RTP range (20000-29999) and below the system's
/// ephemeral range (32768 and up), where the tests' own outgoing connections and the browsers'
/// ICE sockets take ports at any moment; a port checked free there could be gone by the time
/// SIPp binds it. Ports handed out by this process are not handed out again.
pub fn free_port_pair() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..500 {
        // The system's ephemeral choice as a cheap random number.
        let seed = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let p = 10_000 + (seed % 10_000) / 4 * 4;
        let free = (p..p + 4).all(|q| UdpSocket::bind(("127.0.0.1", q)).is_ok())
            && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free && !given.contains(&p) {
            given.push(p);
            return p;
        }
    }
    panic!("no free port pair");
}

/// A SIPp process, killed on drop if still running.
pub struct Sipp {
    child: Option<Child>,
    name: String,
    log: PathBuf,
}

/// Builder for a SIPp run.
pub struct SippRun {
    pub scenario: &'static str,
    /// SIP port of this SIPp.
    pub port: u16,
    /// RTP port.
    pub media_port: u16,
    /// Directory with `tone.ul` (SIPp's working directory).
    pub dir: PathBuf,
    /// Remote (for a client: the gateway).
    pub remote: Option<SocketAddr>,
    /// `[service]` (the called number).
    pub service: Option<String>,
    /// `-d` ms (the scenario's pauses).
    pub pause_ms: u64,
    /// `-key` pairs.
    pub keys: Vec<(&'static str, String)>,
    /// Calls to run.
    pub calls: u32,
    /// Transport: `u1` (UDP) or `t1` (TCP).
    pub transport: &'static str,
    /// More command-line arguments.
    pub extra: Vec<String>,
}

impl SippRun {
    pub fn new(scenario: &'static str, dir: &Path) -> SippRun {
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

    pub fn spawn(self) -> Sipp {
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
    pub async fn wait(mut self, limit: Duration) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let exited = || std::future::ready(child.try_wait().ok().flatten());
        let Some(status) = crate::wait::within(limit, exited).await else {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("sipp {} did not finish in {limit:?}", self.name);
            return false;
        };
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            let trace = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("sipp {} exited with {status}: {err}\n{trace}", self.name);
        }
        status.success()
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

/// Waits (up to 10 s) until a socket is bound to UDP `port` (a SIPp started as a server is
/// listening then). Read from /proc/net/udp: probing by binding the port could take it from
/// the process starting up.
pub async fn wait_udp_bound(port: u16) {
    let what = format!("a process listening on UDP port {port}");
    crate::wait::until(Duration::from_secs(10), &what, || std::future::ready(udp_bound(port)))
        .await;
}

fn udp_bound(port: u16) -> bool {
    let suffix = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/udp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|line| line.split_whitespace().nth(1).is_some_and(|local| local.ends_with(&suffix)))
}
