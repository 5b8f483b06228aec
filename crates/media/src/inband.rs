//! In-band DTMF: keys heard in the audio itself, for callers whose phones or carriers send no
//! RFC 4733 events (a PCMU/PCMA call that did not negotiate telephone-event).
//!
//! Each 20 ms block (160 samples) is measured at the eight DTMF frequencies by the Goertzel
//! algorithm at the exact frequency. A block holds a key when the strongest row and column
//! tones carry most of its energy, each is well above the other tones of its group (speech
//! and music spread their energy), their levels are within 8 dB of each other (twist) and the
//! block is not quiet. A key is reported once it has lasted two blocks (40 ms, the shortest
//! key ITU-T Q.24 asks to accept), and again only after a block without it.

use crate::g711::{alaw_to_linear, ulaw_to_linear};
use crate::tone::SAMPLE_RATE;

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMNS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] =
    [['1', '2', '3', 'A'], ['4', '5', '6', 'B'], ['7', '8', '9', 'C'], ['*', '0', '#', 'D']];

/// Samples per block: 20 ms at 8 kHz.
pub const BLOCK: usize = 160;
/// The quietest block that may hold a key: mean square of about -40 dBFS.
const MIN_POWER: f64 = 330.0 * 330.0;
/// The share of a block's energy the two tones must carry.
const MIN_SHARE: f64 = 0.6;
/// Twist: the weaker tone at least this share of the stronger (8 dB).
const MIN_TWIST: f64 = 0.16;
/// The next tone of a group at most this share of the strongest.
const MAX_NEIGHBOUR: f64 = 0.25;

/// The share of `samples`' energy at `frequency`: about 1 for a pure sine at it.
fn share(samples: &[f64], energy: f64, frequency: f64) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * frequency / SAMPLE_RATE).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let magnitude = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    #[allow(clippy::cast_precision_loss)]
    let n = samples.len() as f64;
    2.0 * magnitude / (n * energy)
}

/// The strongest of a group and whether it stands out: (index, share).
fn strongest(samples: &[f64], energy: f64, group: &[f64; 4]) -> Option<(usize, f64)> {
    let shares: Vec<f64> = group.iter().map(|&f| share(samples, energy, f)).collect();
    let (best, &top) = shares.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let next =
        shares.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, s)| *s).fold(0.0, f64::max);
    (next <= top * MAX_NEIGHBOUR).then_some((best, top))
}

/// The key one block holds, if any.
pub fn block_key(samples: &[f64]) -> Option<char> {
    let energy: f64 = samples.iter().map(|x| x * x).sum();
    #[allow(clippy::cast_precision_loss)]
    if samples.is_empty() || energy / (samples.len() as f64) < MIN_POWER {
        return None;
    }
    let (row, row_share) = strongest(samples, energy, &ROWS)?;
    let (column, column_share) = strongest(samples, energy, &COLUMNS)?;
    let (weak, strong) = if row_share < column_share {
        (row_share, column_share)
    } else {
        (column_share, row_share)
    };
    (row_share + column_share >= MIN_SHARE && weak >= strong * MIN_TWIST).then(|| KEYS[row][column])
}

/// Finds keys in one direction's audio, frame after frame.
#[derive(Debug, Default)]
pub struct InbandDtmf {
    samples: Vec<f64>,
    current: Option<char>,
    blocks: u32,
    reported: bool,
}

impl InbandDtmf {
    /// Feeds one G.711 frame; returns a key once when one has lasted 40 ms.
    pub fn feed(&mut self, payload: &[u8], alaw: bool) -> Option<char> {
        let mut found = None;
        for &byte in payload {
            let linear = if alaw { alaw_to_linear(byte) } else { ulaw_to_linear(byte) };
            self.samples.push(f64::from(linear));
            if self.samples.len() == BLOCK {
                let key = block_key(&self.samples);
                self.samples.clear();
                if key == self.current {
                    self.blocks = self.blocks.saturating_add(1);
                } else {
                    (self.current, self.blocks, self.reported) = (key, 1, false);
                }
                if let Some(key) = self.current
                    && self.blocks >= 2
                    && !self.reported
                {
                    self.reported = true;
                    found = Some(key);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::{linear_to_alaw, linear_to_ulaw};

    /// `ms` of the key's two tones (each at `level` of full scale, the row's `twist_db` lower),
    /// as linear samples starting at sample `start`.
    fn key(digit: char, ms: usize, level: f64, twist_db: f64, start: usize) -> Vec<i16> {
        let (r, c) = (0..4)
            .flat_map(|r| (0..4).map(move |c| (r, c)))
            .find(|&(r, c)| KEYS[r][c] == digit)
            .unwrap();
        let row_level = level * 10f64.powf(-twist_db / 20.0);
        (start..start + ms * 8)
            .map(|i| {
                let t = i as f64 / SAMPLE_RATE;
                let v = (std::f64::consts::TAU * ROWS[r] * t).sin() * row_level
                    + (std::f64::consts::TAU * COLUMNS[c] * t).sin() * level;
                (v * 32_000.0) as i16
            })
            .collect()
    }

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * 8]
    }

    /// What a detector makes of `audio` sent as 20 ms frames of μ-law (or A-law).
    fn heard(audio: &[i16], alaw: bool) -> String {
        let bytes: Vec<u8> = audio
            .iter()
            .map(|&s| if alaw { linear_to_alaw(s) } else { linear_to_ulaw(s) })
            .collect();
        let mut d = InbandDtmf::default();
        bytes.chunks(160).filter_map(|frame| d.feed(frame, alaw)).collect()
    }

    #[test]
    fn every_key_is_heard_once_in_either_law() {
        let mut audio = Vec::new();
        for digit in "1234567890*#ABCD".chars() {
            audio.extend(key(digit, 100, 0.25, 2.0, audio.len()));
            audio.extend(silence(60));
        }
        assert_eq!(heard(&audio, false), "1234567890*#ABCD");
        assert_eq!(heard(&audio, true), "1234567890*#ABCD");
    }

    #[test]
    fn a_long_press_is_one_key_and_a_short_blip_none() {
        let mut audio = key('5', 800, 0.2, 0.0, 0);
        audio.extend(silence(40));
        audio.extend(key('5', 60, 0.2, 0.0, audio.len()));
        assert_eq!(heard(&audio, false), "55", "a long press, then a press of 60 ms");
        // 20 ms of tone, straddling no block boundary twice, is not a key.
        let blip = [silence(20), key('9', 20, 0.2, 0.0, 160), silence(40)].concat();
        assert_eq!(heard(&blip, false), "");
    }

    #[test]
    fn speech_like_sounds_silence_and_strong_twist_are_not_keys() {
        // One tone (a whistle), a chord of three, quiet keys and a 12 dB twist.
        let whistle: Vec<i16> = (0..8000)
            .map(|i| {
                ((std::f64::consts::TAU * 1000.0 * i as f64 / SAMPLE_RATE).sin() * 8000.0) as i16
            })
            .collect();
        assert_eq!(heard(&whistle, false), "");
        let chord: Vec<i16> = (0..8000)
            .map(|i| {
                let t = i as f64 / SAMPLE_RATE;
                ((std::f64::consts::TAU * 697.0 * t).sin() * 5000.0
                    + (std::f64::consts::TAU * 770.0 * t).sin() * 5000.0
                    + (std::f64::consts::TAU * 1209.0 * t).sin() * 5000.0) as i16
            })
            .collect();
        assert_eq!(heard(&chord, false), "");
        assert_eq!(heard(&key('1', 200, 0.004, 0.0, 0), false), "", "below -40 dBFS");
        assert_eq!(heard(&key('1', 200, 0.25, 12.0, 0), false), "", "twist of 12 dB");
        assert_eq!(heard(&silence(500), false), "");
        // Noise: a deterministic pseudo-random signal.
        let mut x: u32 = 12345;
        let noise: Vec<i16> = (0..16000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((x >> 16) as i16) / 4
            })
            .collect();
        assert_eq!(heard(&noise, false), "");
    }
}
