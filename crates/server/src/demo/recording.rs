//! Short generated recordings for demo calls, so the recordings page has audio that plays.

use anyhow::Context;

/// How long each generated recording is.
pub(super) const RECORDING_MS: i64 = 8_000;

/// Writes a short stereo recording for a demo call (the caller left, the agent right, as the
/// gateway records): two voices as tones taking turns, a little different for each `seed`.
/// Returns its path under `root` and its size.
pub(super) fn write_recording(
    root: &std::path::Path,
    call_id: &str,
    at: i64,
    seed: i64,
) -> anyhow::Result<(String, i64)> {
    let relative = switchboard_core::recording::relative_path(call_id, at)
        .context("a recording path for the call")?;
    let path = root.join(&relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(&path, spec)
        .with_context(|| format!("creating {}", path.display()))?;
    let caller_hz = 180.0 + (seed % 60) as f64;
    let agent_hz = 260.0 + (seed % 90) as f64;
    let samples = RECORDING_MS * 8;
    for i in 0..samples {
        let t = i as f64 / 8_000.0;
        // Turns of about two seconds, each voice a tone with a syllable-like swell.
        let turn = (t / 2.0) as i64 % 2;
        let swell = (t * 2.0 * std::f64::consts::PI * 3.0).sin().abs();
        let voice =
            |hz: f64| (8_000.0 * swell * (t * 2.0 * std::f64::consts::PI * hz).sin()) as i16;
        let (left, right) = if turn == 0 { (voice(caller_hz), 0) } else { (0, voice(agent_hz)) };
        wav.write_sample(left)?;
        wav.write_sample(right)?;
    }
    wav.finalize()?;
    let bytes = i64::try_from(std::fs::metadata(&path)?.len()).unwrap_or(0);
    Ok((relative, bytes))
}
