//! Browser agents: headless Chromium (Debian's, driven by playwright-core through
//! `tests/browser/driver.mjs`) or Firefox ESR (Debian's, driven by puppeteer-core through
//! `tests/browser/firefox.mjs`), each with a fake microphone playing a tone.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The driver process, shared by every agent of a test.
pub struct Driver {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

const DRIVER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/browser");

impl Driver {
    /// The Chromium driver (playwright-core).
    pub fn start() -> Driver {
        Driver::script("driver.mjs")
    }

    /// The Firefox ESR driver (puppeteer-core over WebDriver BiDi; `tests/browser/firefox.mjs`),
    /// for the commands an agent's call needs. Its `open` takes the microphone's tone as
    /// `hz` instead of a WAV file.
    pub fn start_firefox() -> Driver {
        Driver::script("firefox.mjs")
    }

    fn script(name: &str) -> Driver {
        let mut child = Command::new("node")
            .arg(Path::new(DRIVER_DIR).join(name))
            .current_dir(DRIVER_DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (playwright-core installed by `npm ci` in tests/browser)");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Driver { child, stdin, lines }
    }

    /// Sends one command; the answer's `result`, or the driver's error.
    pub async fn send(&mut self, command: Value) -> Result<Value, String> {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .map_err(|_| format!("driver silent for 60 s after {command}"))?;
        let answer = answer.map_err(|e| e.to_string())?.ok_or("the driver exited")?;
        let value: Value = serde_json::from_str(&answer).map_err(|e| format!("{e}: {answer}"))?;
        if value["ok"] == true {
            Ok(value["result"].clone())
        } else {
            Err(value["error"].as_str().unwrap_or("?").to_owned())
        }
    }

    /// Like [`send`](Self::send), panicking with the command and the page's log on error.
    pub async fn must(&mut self, command: Value) -> Value {
        match self.send(command.clone()).await {
            Ok(v) => v,
            Err(e) => {
                let log = self
                    .send(json!({"cmd": "log", "agent": command["agent"]}))
                    .await
                    .unwrap_or_default();
                panic!("browser command {command} failed: {e}\npage log: {log:#}");
            }
        }
    }

    pub async fn quit(mut self) {
        let _ = self.stdin.write_all(b"{\"cmd\":\"quit\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// A 16-bit mono 48 kHz WAV of a sine at `hz` (Chromium's fake microphone loops it).
pub fn tone_wav(path: &Path, hz: f64) -> PathBuf {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..48_000u32 {
        let t = f64::from(i) / 48_000.0;
        #[allow(clippy::cast_possible_truncation)]
        writer
            .write_sample(
                (0.4 * f64::from(i16::MAX) * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16,
            )
            .unwrap();
    }
    writer.finalize().unwrap();
    path.to_owned()
}

/// One agent's browser.
pub struct Agent {
    pub name: String,
}

impl Agent {
    /// Opens a Chromium for `name` with a microphone playing `wav`, signs in and opens the
    /// console; returns once the softphone is connected.
    pub async fn sign_in(
        driver: &mut Driver,
        base: &str,
        name: &str,
        password: &str,
        wav: &Path,
    ) -> Agent {
        driver.must(json!({"cmd": "open", "agent": name, "wav": wav})).await;
        Agent::console(driver, base, name, password).await
    }

    /// The same in a Firefox (from [`Driver::start_firefox`]) whose microphone plays `hz`.
    pub async fn sign_in_firefox(
        driver: &mut Driver,
        base: &str,
        name: &str,
        password: &str,
        hz: u32,
    ) -> Agent {
        driver.must(json!({"cmd": "open", "agent": name, "hz": hz})).await;
        Agent::console(driver, base, name, password).await
    }

    /// Signs in on the open browser and waits for the console's softphone.
    async fn console(driver: &mut Driver, base: &str, name: &str, password: &str) -> Agent {
        let a = name.to_owned();
        driver
            .must(json!({"cmd": "goto", "agent": a, "url": format!("{base}/login?lang=en")}))
            .await;
        driver.must(json!({"cmd": "fill", "agent": a, "selector": "#login", "value": name})).await;
        driver
            .must(json!({"cmd": "fill", "agent": a, "selector": "#password", "value": password}))
            .await;
        driver.must(json!({"cmd": "click", "agent": a, "selector": "#sign-in"})).await;
        driver.must(json!({"cmd": "wait", "agent": a, "selector": "#softphone[data-state=connected]", "timeout": 20000})).await;
        Agent { name: a }
    }
}
