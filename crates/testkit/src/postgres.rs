//! A PostgreSQL server of the test's own, which the test may stop and start again: a cluster
//! made with `initdb` in a scratch directory, on a free port, run by the `postgres` system
//! user (the server refuses to run as root). The machine's shared server on 5432 is never
//! touched, so the suites using it go on undisturbed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::sipp::{Scratch, free_port_pair};

/// A PostgreSQL server in a scratch directory (stopped and removed on drop).
pub struct TempPostgres {
    dir: Scratch,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl TempPostgres {
    /// Creates the cluster and starts the server; returns once it accepts connections.
    pub async fn start() -> TempPostgres {
        let bin = server_bin_dir();
        let dir = Scratch::new("postgres");
        as_postgres_owner(&dir.0);
        let data = dir.0.join("data");
        let status = as_postgres(&bin.join("initdb"))
            .current_dir(&dir.0)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("initdb runs (apt-get install postgresql)");
        assert!(status.success(), "initdb failed: {status}");
        let mut pg = TempPostgres { dir, bin, port: free_port_pair(), child: None };
        pg.start_again().await;
        pg
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the stopped server again on the same port and data; returns once it accepts
    /// connections.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::File::create(self.dir.0.join("server.log")).unwrap();
        let child = as_postgres(&self.bin.join("postgres"))
            .current_dir(&self.dir.0)
            .arg("-D")
            .arg(self.dir.0.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir.0)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "max_connections=50"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let ready = self.bin.join("pg_isready");
        let port = self.port.to_string();
        crate::wait::until(Duration::from_secs(30), "the test's PostgreSQL accepting", || {
            let ok = Command::new(&ready)
                .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-p", &port])
                .status()
                .is_ok_and(|s| s.success());
            std::future::ready(ok)
        })
        .await;
    }

    /// Stops the server as an administrator's fast shutdown does (SIGINT: every client is
    /// disconnected, open transactions roll back); returns once it has exited.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let exited = || std::future::ready(child.try_wait().ok().flatten().map(|_| ()));
        if crate::wait::within(Duration::from_secs(30), exited).await.is_none() {
            let _ = child.kill();
        }
        let _ = child.wait();
    }

    /// What the server logged (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("server.log")).unwrap_or_default()
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            for _ in 0..100 {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The newest installed server's programs (`/usr/lib/postgresql/<version>/bin`).
fn server_bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed (apt-get install postgresql)")
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL server under /usr/lib/postgresql").1
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as the `postgres` user when the tests run as root (the server refuses
/// root), as the current user otherwise. `setpriv` execs in place, so the child's process
/// id is the server's own and a signal to it reaches the server.
fn as_postgres(program: &std::path::Path) -> Command {
    if running_as_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Hands `dir` to the `postgres` user when the tests run as root.
fn as_postgres_owner(dir: &std::path::Path) {
    if running_as_root() {
        let status = Command::new("chown").arg("postgres:postgres").arg(dir).status().unwrap();
        assert!(status.success(), "chown postgres {}", dir.display());
    }
}
