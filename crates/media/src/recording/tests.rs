use std::io::Write;
use std::time::{Duration, Instant};

use super::track::Track;
use super::{Recorder, RecorderConfig, repair_wav};
use crate::relay::{PT_PCMU, Side};
use crate::tone::{dominant, sine_ulaw};

fn channel(pairs: &[i16], ch: usize) -> Vec<i16> {
    pairs.chunks(2).map(|p| p[ch]).collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-rec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn frames_follow_timestamps_and_a_gap_is_silence() {
    let mut t = Track::new();
    // Left: 10 frames of 160 samples from 0, arriving with jitter of up to 30 ms.
    for k in 0..10u64 {
        let jitter = [0, 240, 80, 160, 0, 200, 40, 0, 120, 0][usize::try_from(k).unwrap_or(0)];
        t.place(0, k * 160 + jitter, 7, u32::try_from(k * 160).unwrap_or(0), &[1000; 160]);
    }
    // Right: frames 0-3, nothing for frames 4-6 (timestamps jump), then 7-9.
    for k in [0u64, 1, 2, 3, 7, 8, 9] {
        t.place(1, k * 160, 9, 5000 + u32::try_from(k * 160).unwrap_or(0), &[-1000; 160]);
    }
    let mut out = Vec::new();
    t.take_until(1600, &mut out);
    let left = channel(&out, 0);
    let right = channel(&out, 1);
    assert!(left.iter().all(|s| *s == 1000), "jitter moved left-channel audio");
    assert!(right[..640].iter().all(|s| *s == -1000));
    assert!(right[640..1120].iter().all(|s| *s == 0), "the gap is not silence");
    assert!(right[1120..].iter().all(|s| *s == -1000));
    assert_eq!(t.late(), 0);
}

#[test]
fn a_new_stream_starts_at_its_arrival_and_late_audio_is_dropped() {
    let mut t = Track::new();
    t.place(1, 0, 1, 0, &[5; 160]);
    // A new SSRC (a transferred call's new agent) with unrelated timestamps, 1 s later.
    t.place(1, 8000, 2, 123_456, &[6; 160]);
    let mut out = Vec::new();
    t.take_until(8160, &mut out);
    let right = channel(&out, 1);
    assert!(right[..160].iter().all(|s| *s == 5));
    assert!(right[160..8000].iter().all(|s| *s == 0));
    assert!(right[8000..].iter().all(|s| *s == 6));
    // A frame for a place already written is counted, not written.
    t.place(0, 100, 3, 0, &[1; 160]);
    assert_eq!(t.late(), 160);
    // Timestamps that ran far ahead of the clock are put back on arrival time.
    t.place(1, 8320, 2, 123_456 + 160 + 4000, &[7; 160]);
    assert_eq!(t.end(), 8480);
}

#[test]
fn reordered_frames_land_in_their_place() {
    let mut t = Track::new();
    t.place(0, 0, 1, 0, &[1; 160]);
    t.place(0, 330, 1, 320, &[3; 160]);
    t.place(0, 340, 1, 160, &[2; 160]);
    let mut out = Vec::new();
    t.take_until(480, &mut out);
    let left = channel(&out, 0);
    assert_eq!((left[0], left[200], left[400]), (1, 2, 3));
}

fn feed(
    tap: &super::Tap,
    start: Instant,
    side: Side,
    frequency: f64,
    frames: std::ops::Range<u64>,
) {
    for k in frames {
        let payload = sine_ulaw(frequency, 0.5, k * 160, 160);
        let at = start + Duration::from_millis(k * 20);
        tap.frame(
            side,
            at,
            if side == Side::A { 11 } else { 22 },
            u32::try_from(k * 160).unwrap_or(0),
            PT_PCMU,
            &payload,
        );
    }
}

#[tokio::test]
async fn a_recording_is_stereo_with_each_side_on_its_channel_and_pauses_are_silent() {
    let dir = temp_dir("stereo");
    let recorder = Recorder::start(RecorderConfig::default()).expect("recorder");
    let rec = recorder.record(dir.join("2026/11/24/call.wav"));
    let tap = rec.tap();
    let start = Instant::now();
    // Two seconds: the caller at 440 Hz throughout, the agent at 1 kHz in the first second
    // only (then silent: on mute, say). Frames are stamped ahead of the clock; the writer
    // places them by their stamps.
    feed(&tap, start, Side::A, 440.0, 0..50);
    feed(&tap, start, Side::B, 1000.0, 0..50);
    rec.set_paused(true);
    assert!(rec.paused());
    feed(&tap, start, Side::A, 440.0, 50..75);
    rec.set_paused(false);
    feed(&tap, start, Side::A, 440.0, 75..100);
    tokio::time::sleep(Duration::from_millis(2100).saturating_sub(start.elapsed())).await;
    let done = rec.finish().await.expect("finished");
    assert_eq!(done.error, None);
    assert_eq!(done.dropped_frames, 0);
    assert!((2000..2300).contains(&done.duration_ms), "{done:?}");
    let mut reader = hound::WavReader::open(&done.path).expect("wav");
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (2, 8000, 16));
    let pairs: Vec<i16> = reader.samples::<i16>().map(|s| s.expect("sample")).collect();
    assert_eq!(done.size, 44 + 2 * pairs.len() as u64);
    let (left, right) = (channel(&pairs, 0), channel(&pairs, 1));
    assert_eq!(dominant(&left[800..7200], &[440.0, 1000.0]), Some(440.0));
    assert_eq!(dominant(&right[800..7200], &[440.0, 1000.0]), Some(1000.0));
    assert!(right[8000..16000].iter().all(|s| *s == 0), "the agent's silence is not silence");
    assert!(left[8000 + 80..12000 - 80].iter().all(|s| *s == 0), "the pause is not silence");
    assert_eq!(dominant(&left[12_800..15_200], &[440.0, 1000.0]), Some(440.0));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unwritable_path_is_reported() {
    let dir = temp_dir("unwritable");
    std::fs::create_dir_all(&dir).expect("dir");
    let blocker = dir.join("file");
    std::fs::write(&blocker, b"x").expect("write");
    let recorder = Recorder::start(RecorderConfig::default()).expect("recorder");
    let rec = recorder.record(blocker.join("sub/call.wav"));
    let done = rec.finish().await.expect("finished");
    assert!(done.error.is_some_and(|e| e.contains("cannot create")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn repair_makes_the_header_cover_audio_written_after_the_last_update() {
    let dir = temp_dir("repair");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("a.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(&path, spec).expect("create");
    for _ in 0..8000 {
        wav.write_sample(100i16).expect("write");
        wav.write_sample(-100i16).expect("write");
    }
    wav.flush().expect("flush");
    // The process "dies": 0.5 s more audio and a torn half frame reach the disk, no header.
    std::mem::forget(wav);
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    for _ in 0..4000 {
        file.write_all(&200i16.to_le_bytes()).expect("append");
        file.write_all(&(-200i16).to_le_bytes()).expect("append");
    }
    file.write_all(&[1, 2]).expect("append");
    drop(file);
    assert_eq!(hound::WavReader::open(&path).expect("wav").duration(), 8000);
    let fixed = repair_wav(&path).expect("repair");
    assert!(fixed.repaired);
    assert_eq!(fixed.duration_ms, 1500);
    assert_eq!(fixed.size, 44 + 12_000 * 4);
    let reader = hound::WavReader::open(&path).expect("wav");
    assert_eq!(reader.duration(), 12_000);
    // A second pass has nothing to do; a file cut inside its header gets an empty one.
    assert!(!repair_wav(&path).expect("repair").repaired);
    let short = dir.join("b.wav");
    std::fs::write(&short, b"RIFF\0\0").expect("write");
    assert_eq!(repair_wav(&short).expect("repair").duration_ms, 0);
    assert_eq!(hound::WavReader::open(&short).expect("wav").duration(), 0);
    let _ = std::fs::remove_dir_all(dir);
}
