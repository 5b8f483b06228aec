//! Silence detection for voicemail: a message ends when the caller has said nothing for a
//! while. A frame is speech when its level (root mean square of the decoded samples) is above
//! about -40 dBFS, well over a line's hiss and comfort noise and well under a voice. Time is
//! the arrival time of frames, so a caller whose phone stops sending altogether (silence
//! suppression) is silent too; [`SilenceWatch::check`] sees that between frames.

use std::time::{Duration, Instant};

use crate::g711::{alaw_to_linear, ulaw_to_linear};

/// The level (RMS of 16-bit samples) above which a frame is speech: about -40 dBFS.
pub const SPEECH_RMS: f64 = 330.0;

/// Watches one side's audio for a stretch of silence.
#[derive(Debug, Clone)]
pub struct SilenceWatch {
    limit: Duration,
    last_speech: Instant,
    fired: bool,
}

impl SilenceWatch {
    /// Silence is `limit` without speech, counted from `now`.
    pub fn new(limit: Duration, now: Instant) -> SilenceWatch {
        SilenceWatch { limit, last_speech: now, fired: false }
    }

    /// One G.711 frame received at `now`; true (once) when the silence has lasted the limit.
    pub fn frame(&mut self, payload: &[u8], alaw: bool, now: Instant) -> bool {
        if level(payload, alaw) > SPEECH_RMS {
            self.last_speech = now;
        }
        self.check(now)
    }

    /// True (once) when nothing was said from the last speech until `now` for the limit.
    pub fn check(&mut self, now: Instant) -> bool {
        if self.fired || now.duration_since(self.last_speech) < self.limit {
            return false;
        }
        self.fired = true;
        true
    }
}

/// The RMS level of a G.711 frame, in 16-bit sample units.
pub fn level(payload: &[u8], alaw: bool) -> f64 {
    if payload.is_empty() {
        return 0.0;
    }
    let sum: f64 = payload
        .iter()
        .map(|&b| f64::from(if alaw { alaw_to_linear(b) } else { ulaw_to_linear(b) }))
        .map(|s| s * s)
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let n = payload.len() as f64;
    (sum / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::linear_to_ulaw;
    use crate::tone::sine_ulaw;

    #[test]
    fn speech_resets_the_clock_and_silence_fires_once() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let voice = sine_ulaw(440.0, 0.3, 0, 160);
        let hiss: Vec<u8> =
            (0..160).map(|i| linear_to_ulaw(if i % 2 == 0 { 40 } else { -40 })).collect();
        assert!(level(&voice, false) > SPEECH_RMS && level(&hiss, false) < SPEECH_RMS);
        let mut watch = SilenceWatch::new(Duration::from_secs(3), t0);
        assert!(!watch.frame(&voice, false, ms(1_000)));
        assert!(!watch.frame(&hiss, false, ms(3_900)), "2.9 s since the voice");
        assert!(watch.frame(&hiss, false, ms(4_000)));
        assert!(!watch.frame(&hiss, false, ms(4_020)), "once");
        // No frames at all: the check between frames sees it.
        let mut quiet = SilenceWatch::new(Duration::from_secs(3), t0);
        assert!(!quiet.check(ms(2_999)));
        assert!(quiet.check(ms(3_000)));
        assert!(level(&[], false) < 1.0);
    }
}
