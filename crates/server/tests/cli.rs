//! The binary as a newcomer uses it: first `serve` prints the admin password and that password
//! logs in; `user add`, `import contacts` and `export contacts` work on the embedded database.
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

#[tokio::test]
async fn first_serve_prints_a_working_admin_password() {
    let dir = temp_dir();
    let mut child = switchboard(&dir).arg("serve").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
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
    let (password, base) = (password.expect("password printed"), base.expect("address printed"));
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client.post(format!("{base}/api/auth/login")).json(&serde_json::json!({"login": "admin", "password": password})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = client.get(format!("{base}/api/contacts/lookup?phone=89161234567")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    drop(server);

    // A second start does not create another admin or print a password.
    let out = switchboard(&dir).arg("migrate").output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn user_add_import_and_export() {
    let dir = temp_dir();
    let out = switchboard(&dir).args(["user", "add", "--login", "ivanova", "--name", "Мария Иванова", "--role", "operator"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("created operator user ivanova") && stdout.contains("password: "), "{stdout}");
    let out = switchboard(&dir).args(["user", "add", "--login", "x", "--name", "X", "--role", "root"]).output().unwrap();
    assert!(!out.status.success(), "an unknown role is refused");

    let csv = dir.join("clients.csv");
    std::fs::write(&csv, "Фамилия;Имя;Телефон;Ответственный\nПетров;Иван;8 (916) 123-45-67;ivanova\nСидоров;Олег;не номер;\n").unwrap();
    let out = switchboard(&dir).args(["import", "contacts"]).arg(&csv).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 created") && stdout.contains("1 rejected") && stdout.contains("line 3: Телефон"), "{stdout}");
    let report = std::fs::read_to_string(dir.join("clients.csv.report.csv")).unwrap();
    assert!(report.contains("3,rejected,,Телефон"), "{report}");

    let again = switchboard(&dir).args(["import", "contacts"]).arg(&csv).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 created, 0 merged, 1 already present"));

    let export = dir.join("out.xlsx");
    let out = switchboard(&dir).args(["export", "contacts"]).arg(&export).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 1 contacts"));
    let _ = std::fs::remove_dir_all(&dir);
}
