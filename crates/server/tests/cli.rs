//! The binary as a newcomer uses it: first `serve` prints the admin password and that password
//! logs in (also after a start that failed on a port in use, and after `seed-demo`); `user
//! passwd` sets or generates a password; `user add`, `import contacts` and `export contacts`
//! work on the embedded database.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn switchboard(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.env("SWITCHBOARD_DATA_DIR", data_dir)
        .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_SIP__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .env_remove("SWITCHBOARD_DATABASE__URL")
        .env_remove("SWITCHBOARD_AUTH__INITIAL_ADMIN_PASSWORD");
    cmd
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-cli-{}", uuid::Uuid::now_v7().as_simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the server we started when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `serve` on `dir` until it says where it listens: the server, its base URL and the admin
/// password it printed, if any.
fn serve(dir: &Path) -> (Server, String, Option<String>) {
    let mut child =
        switchboard(dir).arg("serve").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut password, mut base) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while base.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(p) = line.trim().strip_prefix("password: ") {
                password = Some(p.to_owned());
            }
            if let Some(url) = line.strip_prefix("Switchboard is listening on ") {
                base = Some(url.trim().to_owned());
            }
        }
    }
    (server, base.expect("address printed"), password)
}

async fn login_status(base: &str, login: &str, password: &str) -> u16 {
    let client = reqwest::Client::new();
    client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn first_serve_prints_a_working_admin_password() {
    let dir = temp_dir();
    let (server, base, password) = serve(&dir);
    let password = password.expect("password printed");
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"login": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res =
        client.get(format!("{base}/api/contacts/lookup?phone=89161234567")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    drop(server);

    // A second start does not create another admin or print a password.
    let out = switchboard(&dir).arg("migrate").output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_start_that_cannot_bind_creates_no_admin_and_names_the_setting() {
    let dir = temp_dir();
    // Something else (a PBX, a softphone) already has the SIP port.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = switchboard(&dir)
        .arg("serve")
        .env("SWITCHBOARD_SIP__LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        stderr.contains(&format!("127.0.0.1:{port} is already in use"))
            && stderr.contains("sip.listen")
            && stderr.contains("SWITCHBOARD_SIP__LISTEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("Backtrace")
            && !stderr.contains("Caused by"),
        "one line, no trace: {stderr}"
    );
    assert!(!stdout.contains("password"), "no admin made by a start that does not serve: {stdout}");
    // The same for the HTTP port.
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = switchboard(&dir)
        .arg("serve")
        .env("SWITCHBOARD_HTTP__LISTEN", http.local_addr().unwrap().to_string())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("http.listen") && stderr.contains("SWITCHBOARD_HTTP__LISTEN"),
        "{stderr}"
    );
    drop((taken, http));

    // The first start that serves makes the admin and shows the password, which works.
    let (server, base, password) = serve(&dir);
    let password = password.expect("the first serving start prints the password");
    assert_eq!(login_status(&base, "admin", &password).await, 200);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn seed_demo_then_serve_and_passwords_from_the_command_line() {
    let dir = temp_dir();
    let out = switchboard(&dir)
        .args(["seed-demo", "--days", "1", "--agents", "2", "--contacts", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no admin yet") && stdout.contains("switchboard serve"),
        "seed-demo says how the admin comes: {stdout}"
    );

    // A chosen password for a demo agent, and a generated one.
    let out = switchboard(&dir)
        .args(["user", "passwd", "agent01", "--password", "chosen-password-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("password: "),
        "a given password is not echoed"
    );
    let out = switchboard(&dir).args(["user", "set-password", "agent02"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let generated = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    let out = switchboard(&dir).args(["user", "passwd", "nobody"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user with the login \"nobody\""));
    let out = switchboard(&dir)
        .args(["user", "passwd", "agent01", "--password", "short"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let (server, base, password) = serve(&dir);
    let password =
        password.expect("serve after seed-demo creates the admin and prints the password");
    assert_eq!(login_status(&base, "admin", &password).await, 200);
    assert_eq!(login_status(&base, "agent01", "chosen-password-1").await, 200);
    assert_eq!(login_status(&base, "agent01", "demo-password-1").await, 401);
    assert_eq!(login_status(&base, "agent02", &generated).await, 200);
    assert_eq!(login_status(&base, "manager", "demo-password-1").await, 200);
    drop(server);

    // `--admin` is the way back in for a locked-out installation.
    let out = switchboard(&dir)
        .args(["user", "passwd", "manager", "--admin", "--password", "manager-admin-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, base, password) = serve(&dir);
    assert!(password.is_none(), "an admin exists: nothing printed");
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let me: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"login": "manager", "password": "manager-admin-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn user_add_import_and_export() {
    let dir = temp_dir();
    let out = switchboard(&dir)
        .args([
            "user",
            "add",
            "--login",
            "ivanova",
            "--name",
            "Мария Иванова",
            "--role",
            "operator",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created operator user ivanova") && stdout.contains("password: "),
        "{stdout}"
    );
    let out = switchboard(&dir)
        .args(["user", "add", "--login", "x", "--name", "X", "--role", "root"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown role is refused");

    let csv = dir.join("clients.csv");
    std::fs::write(&csv, "Фамилия;Имя;Телефон;Ответственный\nПетров;Иван;8 (916) 123-45-67;ivanova\nСидоров;Олег;не номер;\n").unwrap();
    let out = switchboard(&dir).args(["import", "contacts"]).arg(&csv).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 created")
            && stdout.contains("1 rejected")
            && stdout.contains("line 3: Телефон"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(dir.join("clients.csv.report.csv")).unwrap();
    assert!(report.contains("3,rejected,,Телефон"), "{report}");

    let again = switchboard(&dir).args(["import", "contacts"]).arg(&csv).output().unwrap();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 0 merged, 1 already present")
    );

    let export = dir.join("out.xlsx");
    let out = switchboard(&dir).args(["export", "contacts"]).arg(&export).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 1 contacts"));
    let _ = std::fs::remove_dir_all(&dir);
}
