//! Call recording: stereo WAV files (8 kHz, 16-bit; the caller on the left channel, the agent
//! on the right) written by one writer thread, fed by the bridges through a bounded queue.
//!
//! The media path never waits for the disk: a bridge hands each audio frame to its [`Tap`],
//! which copies it into the queue with `try_send`; when the queue is full the frame is dropped
//! and counted (per recording and in [`RecorderStats`]), and the writer logs the count when the
//! file is closed. The writer decodes G.711, places each frame on the call's time line
//! ([`track::Track`]), writes what is older than [`LATE_MS`] and brings the WAV header up to
//! date every `flush_every`, so a process killed mid-call leaves a file that plays to within
//! that interval of the kill; [`repair_wav`] makes the header cover the rest at start-up.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::g711::{alaw_to_linear, ulaw_to_linear};
use crate::relay::{PT_PCMA, PT_PCMU, Side};

mod repair;
pub mod track;

pub use repair::{WavLength, repair_wav};
use track::{RATE, Track};

/// Frames are written once they are this old, so frames of the other leg that arrive a little
/// later still find their place (later ones are counted as late).
pub const LATE_MS: u64 = 300;

/// The largest G.711 payload kept per frame (40 ms); longer payloads are cut.
const MAX_PAYLOAD: usize = 320;

/// How often the writer wakes to write out audio when no frames come.
const TICK: Duration = Duration::from_millis(100);

/// Recorder settings.
#[derive(Debug, Clone, Copy)]
pub struct RecorderConfig {
    /// Frames the queue between the bridges and the writer holds (all calls together).
    pub queue_frames: usize,
    /// How often each open file's header is brought up to date.
    pub flush_every: Duration,
}

impl Default for RecorderConfig {
    fn default() -> RecorderConfig {
        RecorderConfig { queue_frames: 65_536, flush_every: Duration::from_secs(1) }
    }
}

/// Counters over every recording of the process.
#[derive(Debug, Default)]
pub struct RecorderStats {
    /// Frames queued for the writer.
    pub frames: AtomicU64,
    /// Frames dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Samples that reached the writer too late for their place in the file.
    pub late_samples: AtomicU64,
    /// Files open now.
    pub open: AtomicU64,
    /// Files that could not be created or written.
    pub errors: AtomicU64,
    /// The last failure: when (ms since the epoch) and why, in words.
    pub last_error: std::sync::Mutex<Option<(i64, String)>>,
    /// When (ms since the epoch) a recording was last finished whole; 0: none yet.
    pub last_ok_ms: std::sync::atomic::AtomicI64,
}

impl RecorderStats {
    /// A recording failed with `msg`.
    fn failed(&self, msg: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some((epoch_ms(), msg.to_owned()));
        }
    }

    /// The last failure, when it is newer than the last recording finished whole: the
    /// recorder is failing now (a full or unwritable disk) rather than once long ago.
    pub fn failing(&self) -> Option<(i64, String)> {
        let last = self.last_error.lock().ok()?.clone()?;
        (last.0 >= self.last_ok_ms.load(Ordering::Relaxed)).then_some(last)
    }
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The process-wide recording counters.
pub static RECORDER_STATS: LazyLock<RecorderStats> = LazyLock::new(RecorderStats::default);

struct Frame {
    id: u64,
    channel: u8,
    /// Samples since the recording started, at arrival.
    arrival: u64,
    ssrc: u32,
    timestamp: u32,
    alaw: bool,
    len: u16,
    payload: [u8; MAX_PAYLOAD],
}

enum Control {
    Open { id: u64, path: PathBuf, start: Instant, dropped: Arc<AtomicU64> },
    Close { id: u64, at: Instant, done: oneshot::Sender<Finished> },
}

/// The recording service: one writer thread for all calls. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    frames: SyncSender<Frame>,
    control: Sender<Control>,
    next_id: Arc<AtomicU64>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

/// How a recording ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The file.
    pub path: PathBuf,
    /// Length of the audio.
    pub duration_ms: u64,
    /// Size of the file.
    pub size: u64,
    /// Frames dropped because the writer's queue was full.
    pub dropped_frames: u64,
    /// Samples that came too late for their place.
    pub late_samples: u64,
    /// Why the file could not be written, if it could not.
    pub error: Option<String>,
}

/// Where a bridge puts a call's audio. Cheap to clone.
#[derive(Clone)]
pub struct Tap {
    id: u64,
    start: Instant,
    frames: SyncSender<Frame>,
    paused: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Tap {
    /// Hands over one G.711 frame from `side`, received at `at`. Never waits: a full queue
    /// drops the frame (and counts it). Frames are ignored while the recording is paused, and
    /// payload types other than PCMU and PCMA are ignored.
    pub fn frame(
        &self,
        side: Side,
        at: Instant,
        ssrc: u32,
        timestamp: u32,
        payload_type: u8,
        payload: &[u8],
    ) {
        if self.paused.load(Ordering::Relaxed)
            || !(payload_type == PT_PCMU || payload_type == PT_PCMA)
            || payload.is_empty()
        {
            return;
        }
        let since = at.saturating_duration_since(self.start);
        let arrival =
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX) * u64::from(RATE) / 1_000_000;
        let len = payload.len().min(MAX_PAYLOAD);
        let mut frame = Frame {
            id: self.id,
            channel: u8::from(side == Side::B),
            arrival,
            ssrc,
            timestamp,
            alaw: payload_type == PT_PCMA,
            len: u16::try_from(len).unwrap_or(0),
            payload: [0u8; MAX_PAYLOAD],
        };
        frame.payload[..len].copy_from_slice(&payload[..len]);
        match self.frames.try_send(frame) {
            Ok(()) => {
                RECORDER_STATS.frames.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                RECORDER_STATS.dropped.fetch_add(1, Ordering::Relaxed);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// One call's recording in progress. Dropping it without [`Recording::finish`] closes the
/// file too.
pub struct Recording {
    tap: Tap,
    control: Sender<Control>,
    path: PathBuf,
    closed: bool,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Recording {
    /// The tap to give the call's bridge.
    pub fn tap(&self) -> Tap {
        self.tap.clone()
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pauses (or resumes) recording: while paused both channels are silent in the file.
    pub fn set_paused(&self, paused: bool) {
        self.tap.paused.store(paused, Ordering::Relaxed);
    }

    /// Whether recording is paused.
    pub fn paused(&self) -> bool {
        self.tap.paused.load(Ordering::Relaxed)
    }

    /// Ends the recording now; the receiver gets the file's final length once it is written.
    pub fn finish(mut self) -> oneshot::Receiver<Finished> {
        let (done, rx) = oneshot::channel();
        self.closed = true;
        let _ = self.control.send(Control::Close { id: self.tap.id, at: Instant::now(), done });
        rx
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if !self.closed {
            let (done, _) = oneshot::channel();
            let _ = self.control.send(Control::Close { id: self.tap.id, at: Instant::now(), done });
        }
    }
}

impl Recorder {
    /// Starts the writer thread.
    pub fn start(config: RecorderConfig) -> io::Result<Recorder> {
        let (frames, frames_rx) = std::sync::mpsc::sync_channel(config.queue_frames.max(16));
        let (control, control_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || Writer::new(config, frames_rx, control_rx).run())?;
        Ok(Recorder { frames, control, next_id: Arc::new(AtomicU64::new(1)) })
    }

    /// Starts recording into `path` (directories are created): the recording's time line
    /// starts now.
    pub fn record(&self, path: PathBuf) -> Recording {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let dropped = Arc::new(AtomicU64::new(0));
        let _ = self.control.send(Control::Open {
            id,
            path: path.clone(),
            start,
            dropped: Arc::clone(&dropped),
        });
        let tap = Tap {
            id,
            start,
            frames: self.frames.clone(),
            paused: Arc::new(AtomicBool::new(false)),
            dropped,
        };
        Recording { tap, control: self.control.clone(), path, closed: false }
    }
}

type Wav = hound::WavWriter<BufWriter<File>>;

struct Open {
    path: PathBuf,
    start: Instant,
    wav: Option<Wav>,
    track: Track,
    dropped: Arc<AtomicU64>,
    error: Option<String>,
    scratch: Vec<i16>,
}

impl Open {
    fn create(path: &Path) -> Result<Wav, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::new(BufWriter::with_capacity(4096, file), spec)
            .map_err(|e| e.to_string())?;
        wav.flush().map_err(|e| e.to_string())?;
        Ok(wav)
    }

    /// Writes the pairs before `until`.
    fn write_until(&mut self, until: u64) {
        self.scratch.clear();
        self.track.take_until(until, &mut self.scratch);
        if self.scratch.is_empty() {
            return;
        }
        let Some(wav) = self.wav.as_mut() else { return };
        let mut writer = wav.get_i16_writer(u32::try_from(self.scratch.len()).unwrap_or(0));
        for s in &self.scratch {
            writer.write_sample(*s);
        }
        if let Err(e) = writer.flush() {
            self.fail(format!("cannot write {}: {e}", self.path.display()));
        }
    }

    fn flush(&mut self) {
        if let Some(wav) = self.wav.as_mut()
            && let Err(e) = wav.flush()
        {
            let msg = format!("cannot write {}: {e}", self.path.display());
            self.fail(msg);
        }
    }

    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            tracing::warn!(error = %msg, "recording failed");
            RECORDER_STATS.failed(&msg);
            self.error = Some(msg);
        }
        self.wav = None;
    }
}

struct Writer {
    config: RecorderConfig,
    frames: Receiver<Frame>,
    control: Receiver<Control>,
    open: HashMap<u64, Open>,
    decoded: Vec<i16>,
}

fn samples_since(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
        * u64::from(RATE)
        / 1_000_000
}

impl Writer {
    fn new(config: RecorderConfig, frames: Receiver<Frame>, control: Receiver<Control>) -> Writer {
        Writer {
            config,
            frames,
            control,
            open: HashMap::new(),
            decoded: Vec::with_capacity(MAX_PAYLOAD),
        }
    }

    fn run(mut self) {
        let mut next_tick = Instant::now() + TICK;
        let mut next_flush = Instant::now() + self.config.flush_every;
        loop {
            if !self.drain_control() {
                break;
            }
            let now = Instant::now();
            if now >= next_tick {
                self.write_out(now);
                next_tick = now + TICK;
                if now >= next_flush {
                    for open in self.open.values_mut() {
                        open.flush();
                    }
                    next_flush = now + self.config.flush_every;
                }
            }
            match self.frames.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
                Ok(frame) => self.on_frame(frame),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // Every recorder handle is gone: keep serving the controls still queued.
                    std::thread::sleep(TICK);
                }
            }
        }
        for (_, open) in self.open.drain() {
            close(open, Instant::now());
        }
    }

    /// Applies the queued controls; false once every sender is gone and nothing is open.
    fn drain_control(&mut self) -> bool {
        loop {
            match self.control.try_recv() {
                Ok(Control::Open { id, path, start, dropped }) => {
                    let (wav, error) = match Open::create(&path) {
                        Ok(wav) => (Some(wav), None),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot start a recording");
                            RECORDER_STATS.failed(&e);
                            (None, Some(e))
                        }
                    };
                    RECORDER_STATS.open.fetch_add(1, Ordering::Relaxed);
                    self.open.insert(
                        id,
                        Open {
                            path,
                            start,
                            wav,
                            track: Track::new(),
                            dropped,
                            error,
                            scratch: Vec::new(),
                        },
                    );
                }
                Ok(Control::Close { id, at, done }) => {
                    // Frames already queued belong before the end.
                    while let Ok(frame) = self.frames.try_recv() {
                        self.on_frame_known(frame);
                    }
                    if let Some(open) = self.open.remove(&id) {
                        let _ = done.send(close(open, at));
                    }
                }
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return !self.open.is_empty(),
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) {
        if !self.open.contains_key(&frame.id) {
            // Its Open may have been sent just before it.
            let _ = self.drain_control();
        }
        self.on_frame_known(frame);
    }

    fn on_frame_known(&mut self, frame: Frame) {
        let Some(open) = self.open.get_mut(&frame.id) else { return };
        self.decoded.clear();
        let payload = &frame.payload[..usize::from(frame.len)];
        if frame.alaw {
            self.decoded.extend(payload.iter().map(|b| alaw_to_linear(*b)));
        } else {
            self.decoded.extend(payload.iter().map(|b| ulaw_to_linear(*b)));
        }
        let late = open.track.late();
        open.track.place(
            usize::from(frame.channel),
            frame.arrival,
            frame.ssrc,
            frame.timestamp,
            &self.decoded,
        );
        RECORDER_STATS.late_samples.fetch_add(open.track.late() - late, Ordering::Relaxed);
    }

    /// Writes out what is older than [`LATE_MS`] in every open file.
    fn write_out(&mut self, now: Instant) {
        for open in self.open.values_mut() {
            let horizon =
                samples_since(open.start, now).saturating_sub(LATE_MS * u64::from(RATE) / 1000);
            open.write_until(horizon);
        }
    }
}

/// Writes the rest of a recording (up to `at`) and closes its file.
fn close(mut open: Open, at: Instant) -> Finished {
    let end = samples_since(open.start, at).max(open.track.end());
    open.write_until(end);
    RECORDER_STATS.open.fetch_sub(1, Ordering::Relaxed);
    let mut size = 0;
    if let Some(wav) = open.wav.take() {
        match wav.finalize() {
            Ok(()) => size = std::fs::metadata(&open.path).map_or(0, |m| m.len()),
            Err(e) => open.fail(format!("cannot finish {}: {e}", open.path.display())),
        }
    }
    if open.error.is_some() {
        // A failed recording is not kept (its call says why it has none): what part of it
        // reached the disk would only hold the space a full disk needs back.
        let _ = std::fs::remove_file(&open.path);
    } else {
        RECORDER_STATS.last_ok_ms.store(epoch_ms(), Ordering::Relaxed);
    }
    let dropped_frames = open.dropped.load(Ordering::Relaxed);
    if dropped_frames > 0 || open.track.late() > 0 {
        tracing::warn!(path = %open.path.display(), dropped_frames, late_samples = open.track.late(), "recording lost audio: the writer fell behind");
    }
    Finished {
        duration_ms: if open.error.is_none() {
            open.track.written() * 1000 / u64::from(RATE)
        } else {
            0
        },
        size,
        dropped_frames,
        late_samples: open.track.late(),
        error: open.error,
        path: open.path,
    }
}

#[cfg(test)]
mod tests;
