//! Tones: generating a sine as G.711 frames (for the built-in test caller) and finding the
//! strength of a frequency in received audio (Goertzel), which is how tests tell which side's
//! audio arrived where.

use crate::g711;

/// Samples per second of G.711.
pub const SAMPLE_RATE: f64 = 8000.0;

/// Generates `samples` of a sine at `frequency` Hz and `amplitude` (0-1 of full scale), as
/// μ-law bytes, continuing from sample index `start` so consecutive frames join seamlessly.
pub fn sine_ulaw(frequency: f64, amplitude: f64, start: u64, samples: usize) -> Vec<u8> {
    (0..samples as u64)
        .map(|i| {
            let t = (start + i) as f64 / SAMPLE_RATE;
            let value = (2.0 * std::f64::consts::PI * frequency * t).sin()
                * amplitude.clamp(0.0, 1.0)
                * 32_000.0;
            g711::linear_to_ulaw(value as i16)
        })
        .collect()
}

/// The power of `frequency` in `samples` (Goertzel), normalised by the block length.
pub fn goertzel_power(samples: &[i16], frequency: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let k = (0.5 + samples.len() as f64 * frequency / SAMPLE_RATE).floor();
    let omega = 2.0 * std::f64::consts::PI * k / samples.len() as f64;
    let coeff = 2.0 * omega.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len() as f64).powi(2)
}

/// Which of `candidates` is strongest in `samples`.
pub fn dominant(samples: &[i16], candidates: &[f64]) -> Option<f64> {
    candidates
        .iter()
        .copied()
        .max_by(|a, b| goertzel_power(samples, *a).total_cmp(&goertzel_power(samples, *b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_tone_is_found_by_frequency() {
        for frequency in [440.0, 1000.0, 2000.0] {
            let frame = sine_ulaw(frequency, 0.35, 0, 8000);
            let linear: Vec<i16> = frame.iter().map(|&b| g711::ulaw_to_linear(b)).collect();
            let found = dominant(&linear, &[440.0, 1000.0, 2000.0, 3000.0]);
            assert_eq!(found, Some(frequency));
        }
    }

    #[test]
    fn frames_join_without_a_click() {
        let a = sine_ulaw(1000.0, 0.5, 0, 160);
        let b = sine_ulaw(1000.0, 0.5, 160, 160);
        let whole = sine_ulaw(1000.0, 0.5, 0, 320);
        assert_eq!([a, b].concat(), whole);
    }

    #[test]
    fn silence_has_no_tone() {
        assert!(goertzel_power(&[0; 800], 1000.0) < 1e-9);
        assert_eq!(goertzel_power(&[], 1000.0), 0.0);
    }
}
