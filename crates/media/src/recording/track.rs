//! Placing the audio of two legs on one time line: the pure part of a recording, with no
//! file and no clock of its own (positions come in as sample offsets from the recording's
//! start), so it is tested with made-up frames.
//!
//! A frame's position is its arrival time, refined by its RTP timestamp: while a stream keeps
//! its SSRC and its timestamps advance by a plausible amount, a frame goes right after the
//! previous one plus the timestamp gap (a lost packet leaves a 20 ms hole of silence, jitter
//! does not move audio around). A new SSRC (a transfer put a new agent on the leg), a jump in
//! the timestamps, or drift of more than [`RESYNC_SAMPLES`] from the arrival time puts the
//! frame at its arrival time. So a silent stretch in one leg is silence in its channel and the
//! two channels stay aligned.

use std::collections::VecDeque;

/// Samples per second (G.711).
pub const RATE: u32 = 8000;

/// How far the timestamp-based position may stray from the arrival time before the stream
/// is put back on arrival time (250 ms).
pub const RESYNC_SAMPLES: u64 = 2000;

/// The largest timestamp gap still taken as the same talk spurt continuing (2 s).
const MAX_TS_GAP: u32 = 2 * RATE;

#[derive(Debug, Clone, Copy)]
struct Last {
    ssrc: u32,
    /// Timestamp just after the last frame.
    ts_end: u32,
    /// Sample position just after the last frame.
    pos_end: u64,
}

/// Two channels of 16-bit samples, kept in memory until written.
#[derive(Debug, Default)]
pub struct Track {
    /// Sample frames (pairs) already handed out by [`Track::take_until`].
    written: u64,
    /// Pairs from `written` on: [left, right].
    pending: VecDeque<[i16; 2]>,
    last: [Option<Last>; 2],
    /// Samples that came after their place had been written (too late to use).
    late: u64,
}

impl Track {
    /// An empty track.
    pub fn new() -> Track {
        Track::default()
    }

    /// Sample frames handed out so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Samples dropped for arriving after their place was written.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Where the end of the buffered audio is (a sample position).
    pub fn end(&self) -> u64 {
        self.written + self.pending.len() as u64
    }

    /// Places one frame of `samples` on `channel` (0 left, 1 right), received `arrival`
    /// samples after the start, with RTP `ssrc` and `timestamp`.
    pub fn place(
        &mut self,
        channel: usize,
        arrival: u64,
        ssrc: u32,
        timestamp: u32,
        samples: &[i16],
    ) {
        let channel = channel.min(1);
        let n = samples.len() as u64;
        let mut pos = arrival;
        if let Some(last) = self.last[channel]
            && last.ssrc == ssrc
        {
            let ahead = timestamp.wrapping_sub(last.ts_end);
            let behind = last.ts_end.wrapping_sub(timestamp);
            let by_ts = if ahead <= MAX_TS_GAP {
                Some(last.pos_end + u64::from(ahead))
            } else if behind <= MAX_TS_GAP {
                // Reordered: an earlier frame arriving after a later one.
                last.pos_end.checked_sub(u64::from(behind))
            } else {
                None
            };
            if let Some(p) = by_ts
                && p.abs_diff(arrival) <= RESYNC_SAMPLES
            {
                pos = p;
            }
        }
        let end = pos + n;
        let keep = match self.last[channel] {
            Some(last) if last.ssrc == ssrc && last.pos_end > end => last,
            _ => Last {
                ssrc,
                ts_end: timestamp.wrapping_add(u32::try_from(n).unwrap_or(0)),
                pos_end: end,
            },
        };
        self.last[channel] = Some(keep);
        if end <= self.written {
            self.late += n;
            return;
        }
        let skip = self.written.saturating_sub(pos);
        self.late += skip;
        let need = usize::try_from(end - self.written).unwrap_or(usize::MAX);
        if self.pending.len() < need {
            self.pending.resize(need, [0, 0]);
        }
        let first = usize::try_from(pos.max(self.written) - self.written).unwrap_or(0);
        let skip = usize::try_from(skip).unwrap_or(0);
        for (slot, sample) in
            self.pending.iter_mut().skip(first).zip(&samples[skip.min(samples.len())..])
        {
            slot[channel] = *sample;
        }
    }

    /// Hands out every pair before position `until` (silence where nothing was placed),
    /// appending them interleaved to `out`.
    pub fn take_until(&mut self, until: u64, out: &mut Vec<i16>) {
        while self.written < until {
            let pair = self.pending.pop_front().unwrap_or([0, 0]);
            out.extend_from_slice(&pair);
            self.written += 1;
        }
    }
}
