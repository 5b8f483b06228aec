//! Text to speech with the speech synthesizer installed on the machine (Debian's `espeak-ng`,
//! which speaks Russian and English). It runs as a child process, bounded in time, with the
//! text on its standard input (never on its command line); its WAV goes through the same
//! decoder as an upload.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Audio, AudioError, decode};

/// The longest a synthesis may run.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why text could not be spoken.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// No synthesizer on this machine.
    #[error("no speech synthesizer is installed (install the espeak-ng package)")]
    NotInstalled,
    /// The synthesizer failed or ran too long.
    #[error("the speech synthesizer failed: {0}")]
    Failed(String),
    /// What it produced is not usable audio.
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// The installed synthesizer.
#[derive(Debug, Clone)]
pub struct Synthesizer {
    program: PathBuf,
    /// What it says of its version (`eSpeak NG text-to-speech: 1.51 ...`).
    pub version: String,
}

impl Synthesizer {
    /// The synthesizer on the `PATH`, if one is installed.
    pub fn find() -> Option<Synthesizer> {
        Self::at("espeak-ng".into())
    }

    /// The synthesizer at `program`, if it runs.
    pub fn at(program: PathBuf) -> Option<Synthesizer> {
        let output = Command::new(&program).arg("--version").stdin(Stdio::null()).output().ok()?;
        if !output.status.success() {
            return None;
        }
        let version = String::from_utf8_lossy(&output.stdout);
        // "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/...": the name and version only.
        let first = version.lines().next().unwrap_or("");
        let version = first.split("Data at").next().unwrap_or(first).trim().to_owned();
        Some(Synthesizer { program, version })
    }

    /// Speaks `text` in `language` ("ru", else English). Blocks: run it off the async threads.
    pub fn speak(
        &self,
        text: &str,
        language: &str,
        max_seconds: u32,
    ) -> Result<Audio, SpeechError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let voice = if language == "ru" { "ru" } else { "en-gb" };
        let path = std::env::temp_dir().join(format!(
            "switchboard-speech-{}-{}.wav",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let result = self.run(text, voice, &path).and_then(|()| {
            let wav = std::fs::read(&path).map_err(|e| SpeechError::Failed(e.to_string()))?;
            Ok(decode(&wav, Some("wav"), max_seconds)?)
        });
        let _ = std::fs::remove_file(&path);
        result
    }

    fn run(&self, text: &str, voice: &str, path: &std::path::Path) -> Result<(), SpeechError> {
        let failed = |e: std::io::Error| SpeechError::Failed(e.to_string());
        let mut child = Command::new(&self.program)
            .args(["-v", voice, "-s", "150", "--stdin", "-w"])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(failed)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes()).map_err(failed)?;
        }
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().map_err(failed)? {
                if status.success() {
                    return Ok(());
                }
                let mut why = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut why);
                }
                return Err(SpeechError::Failed(format!("{status}: {}", why.trim())));
            }
            if started.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SpeechError::Failed(format!("ran over {} s", TIMEOUT.as_secs())));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
