//! Other SIP software as test peers: Kamailio as a proxy and registrar in front of the gateway,
//! and baresip as an agent's desk phone. Each runs as a child process on loopback with its
//! configuration written into a scratch folder, and is stopped on drop (SIGTERM, then SIGKILL
//! after a bounded wait). Debian's `kamailio` and `baresip-core`; `.ci/run` installs both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sipp::free_port_pair;

/// A child process stopped with SIGTERM on drop (so that Kamailio's workers and baresip's
/// un-REGISTER run), killed if it has not exited within five seconds.
struct Peer {
    child: Option<Child>,
    log: PathBuf,
}

impl Peer {
    fn spawn(mut cmd: Command, log: PathBuf, what: &str) -> Peer {
        let out = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} starts (is it installed?): {e}"));
        Peer { child: Some(child), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Kamailio as a stateful proxy and registrar on `127.0.0.1:port` (UDP and TCP):
/// - REGISTER is challenged (digest against a db_text `subscriber` table) and saved in memory;
/// - an INVITE to the user `direct` goes to `gateway` with its Request-URI unchanged, over
///   the transport it came in on (UDP or TCP);
/// - an INVITE to a registered user goes to the Contact it registered;
/// - INVITEs are record-routed, so every in-dialog request comes back through the proxy.
pub struct Kamailio {
    pub port: u16,
    peer: Peer,
}

impl Kamailio {
    /// Starts Kamailio in `dir` with `users` (name, password) and waits (bounded) until it
    /// listens.
    pub async fn start(
        dir: &Path,
        gateway: std::net::SocketAddr,
        direct: &str,
        users: &[(&str, &str)],
    ) -> Kamailio {
        let port = free_port_pair();
        let db = dir.join("kamailio-db");
        std::fs::create_dir_all(&db).unwrap();
        let mut subscriber = String::from(
            "id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null)\n",
        );
        for (i, (user, password)) in users.iter().enumerate() {
            writeln!(subscriber, "{}:{user}:127.0.0.1:{password}::", i + 1).unwrap();
        }
        std::fs::write(db.join("subscriber"), subscriber).unwrap();
        // The table versions auth_db checks; only `subscriber` is used.
        std::fs::write(
            db.join("version"),
            "id(int,auto) table_name(string) table_version(int)\n0:version:1\n0:subscriber:7\n",
        )
        .unwrap();
        let config = KAMAILIO_CFG
            .replace("@PORT@", &port.to_string())
            .replace("@GATEWAY@", &format!("sip:{gateway}"))
            .replace("@DIRECT@", direct)
            .replace("@DB@", &db.display().to_string())
            .replace("@MODULES@", &kamailio_modules());
        let cfg = dir.join("kamailio.cfg");
        std::fs::write(&cfg, config).unwrap();
        let run = dir.join("kamailio-run");
        std::fs::create_dir_all(&run).unwrap();
        let mut cmd = Command::new("kamailio");
        cmd.args(["-DD", "-E", "-m", "64", "-M", "8", "-f"]).arg(&cfg).arg("-Y").arg(&run);
        let mut peer = Peer::spawn(cmd, dir.join("kamailio.log"), "kamailio");
        let ready = crate::wait::within(Duration::from_secs(15), || {
            // Listening, or started and exited (a configuration error: said at once).
            std::future::ready((listening(port) || !peer.running()).then_some(()))
        })
        .await;
        assert!(ready.is_some() && peer.running(), "kamailio is up:\n{}", peer.log());
        Kamailio { port, peer }
    }

    /// Kamailio's log so far (its request and reply lines say what went through it).
    pub fn log(&self) -> String {
        self.peer.log()
    }

    /// The proxy's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }
}

/// Whether something listens on UDP `port` on 127.0.0.1 (from /proc/net/udp).
fn listening(port: u16) -> bool {
    let needle = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/udp").is_ok_and(|t| t.contains(&needle))
}

/// Where this machine's Kamailio keeps its modules (Debian puts them under the multiarch
/// folder).
fn kamailio_modules() -> String {
    ["/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/aarch64-linux-gnu/kamailio/modules"]
        .into_iter()
        .find(|p| Path::new(p).is_dir())
        .unwrap_or("/usr/lib/kamailio/modules")
        .to_owned()
}

const KAMAILIO_CFG: &str = r#"#!KAMAILIO
# Switchboard interop test: a proxy and registrar in front of the gateway.
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
alias="127.0.0.1:@PORT@"
dns=no
rev_dns=no
use_dns_cache=off
mpath="@MODULES@/"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"

modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 60000)
modparam("rr", "append_fromtag", 1)
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("auth_db", "db_url", "text://@DB@")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("auth_db", "use_domain", 0)

request_route {
    xlog("L_INFO", "REQ $rm $ru from $si:$sp callid=$ci\n");
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (!sanity_check("17895", "7")) {
        exit;
    }
    if (has_totag()) {
        if (loose_route()) {
            xlog("L_INFO", "ROUTED $rm callid=$ci\n");
            route(RELAY);
        }
        if (is_method("ACK") && t_check_trans()) {
            route(RELAY);
        }
        if (!is_method("ACK")) {
            sl_send_reply("404", "Not here");
        }
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) {
            route(RELAY);
        }
        exit;
    }
    if (!is_method("ACK")) {
        if (t_precheck_trans()) {
            t_check_trans();
            exit;
        }
        t_check_trans();
    }
    remove_hf("Route");
    if (is_method("INVITE")) {
        record_route();
    }
    if (is_method("REGISTER")) {
        if (!auth_check("$td", "subscriber", "1")) {
            auth_challenge("$td", "0");
            exit;
        }
        consume_credentials();
        if (!save("location")) {
            sl_reply_error();
        }
        exit;
    }
    if ($rU == "@DIRECT@") {
        # Onward over the transport the caller used.
        if ($proto == "tcp") {
            $du = "@GATEWAY@;transport=tcp";
        } else {
            $du = "@GATEWAY@";
        }
        route(RELAY);
    }
    if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        exit;
    }
    route(RELAY);
}

route[RELAY] {
    if (!t_relay()) {
        sl_reply_error();
    }
    exit;
}

onreply_route {
    xlog("L_INFO", "REPLY $rs for $rm from $si:$sp callid=$ci\n");
}
"#;

/// baresip as a desk phone: one account, answering every call at once, its microphone a
/// sine at `hz`; what it hears is written to `DIR/rec/dump-...-dec.wav` (the `sndfile`
/// module).
pub struct Baresip {
    pub port: u16,
    dir: PathBuf,
    peer: Peer,
}

impl Baresip {
    /// Starts baresip in `dir/baresip` with `account` (baresip's account line, without the
    /// parameters this sets: auto-answer and PCMU only).
    pub fn start(dir: &Path, account: &str, hz: f64) -> Baresip {
        let dir = dir.join("baresip");
        let rec = dir.join("rec");
        std::fs::create_dir_all(&rec).unwrap();
        // 60 s of tone: baresip hangs up when its audio file ends.
        let tone = dir.join("tone.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::create(&tone, spec).unwrap();
        for n in 0..8000 * 60 {
            let t = f64::from(n) / 8000.0;
            #[allow(clippy::cast_possible_truncation)]
            wav.write_sample((0.4 * 32767.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16)
                .unwrap();
        }
        wav.finalize().unwrap();
        let port = free_port_pair();
        let rtp = free_port_pair();
        let config = BARESIP_CONFIG
            .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
            .replace("@TONE@", &tone.display().to_string())
            .replace("@REC@", &rec.display().to_string())
            .replace("@RTP@", &format!("{rtp}-{}", rtp + 20));
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(
            dir.join("accounts"),
            format!("{account};answermode=auto;audio_codecs=pcmu\n"),
        )
        .unwrap();
        let mut cmd = Command::new("baresip");
        cmd.arg("-f").arg(&dir);
        let peer = Peer::spawn(cmd, dir.join("baresip.log"), "baresip");
        Baresip { port, dir, peer }
    }

    /// baresip's log so far.
    pub fn log(&self) -> String {
        self.peer.log()
    }

    /// What the phone heard on its calls: the decoded audio it received, call after call.
    pub fn heard(&self) -> Vec<i16> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("rec"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.to_string_lossy().ends_with("-dec.wav"));
        files.sort();
        let mut samples = Vec::new();
        for f in files {
            if let Ok(mut reader) = hound::WavReader::open(&f) {
                samples.extend(reader.samples::<i16>().map_while(Result::ok));
            }
        }
        samples
    }
}

const BARESIP_CONFIG: &str = "poll_method epoll
sip_listen @LISTEN@
call_local_timeout 120
call_max_calls 4
audio_buffer 20-160
audio_player alsa,null
audio_source aufile,@TONE@
audio_alert alsa,null
audio_level no
ausrc_format s16
auplay_format s16
auenc_format s16
audec_format s16
rtp_ports @RTP@
rtcp_mux no
jitter_buffer_delay 5-10
rtp_stats yes
net_interface 127.0.0.1
dns_server 127.0.0.1:53
snd_path @REC@
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module alsa.so
module sndfile.so
module_tmp account.so
module_app menu.so
";
