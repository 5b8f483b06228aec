//! Audio the relay plays itself, on a leg with no peer: what a caller hears while nobody has
//! answered yet (a ringback tone, later prompts and music).
//!
//! A [`Sound`] is a pure frame generator (one 20 ms μ-law frame after another, tested without
//! a clock); a [`Source`] paces it at 20 ms on the bridge's task and wraps each frame as an
//! RTP packet, which the bridge then relays to the caller like any peer's packet: converted to
//! the caller's law, its header rewritten by the caller's [`StreamRewriter`]. So when an agent
//! replaces the source (`BridgeHandle::replace`), the caller's stream goes on with the next
//! sequence number and timestamp: no gap and no new stream.
//!
//! [`StreamRewriter`]: crate::rewrite::StreamRewriter

use std::sync::Arc;
use std::time::Duration;

use crate::{g711, rtp, tone};

use super::PT_PCMU;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// What a source plays, one frame at a time.
#[derive(Debug, Clone)]
pub enum Sound {
    /// A tone cadence: `hz` for `on_ms`, silence for `off_ms`, over and over.
    Cadence {
        /// Frequency.
        hz: f64,
        /// Tone per cycle.
        on_ms: u64,
        /// Silence per cycle.
        off_ms: u64,
    },
    /// μ-law audio played over and over from the start.
    Loop(Arc<[u8]>),
    /// μ-law clips played once each, in order, then `then` (a prompt, then music). The
    /// source reports the end of the clips once ([`Source::take_done`]).
    Playlist {
        /// The clips.
        clips: Arc<[Arc<[u8]>]>,
        /// What follows them.
        then: Box<Sound>,
        /// Reported with the end of the clips, to tell this playlist's end from an earlier one's.
        id: u64,
    },
}

impl Sound {
    /// The ringback tone callers in Russia and most of Europe know: 425 Hz, 1 s on, 4 s off
    /// (ITU-T E.180's cadence; GOST's is the same tone).
    pub fn ringback() -> Sound {
        Sound::Cadence { hz: 425.0, on_ms: 1_000, off_ms: 4_000 }
    }

    /// The built-in music on hold: a slow arpeggio of soft notes (C major, then A minor), eight
    /// seconds looped, each note faded in and out so nothing clicks.
    pub fn music() -> Sound {
        static MUSIC: std::sync::LazyLock<Arc<[u8]>> = std::sync::LazyLock::new(|| {
            let notes = [
                261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 261.63,
                329.63, // C E G C' G E C E
                220.00, 261.63, 329.63, 440.00, 329.63, 261.63, 220.00,
                261.63, // A C E A' E C A C
            ];
            let per_note = tone::SAMPLE_RATE as usize / 2;
            let mut audio = Vec::with_capacity(notes.len() * per_note);
            for hz in notes {
                for i in 0..per_note {
                    let t = i as f64 / tone::SAMPLE_RATE;
                    // 40 ms in, dying away, and 40 ms out to silence before the next note.
                    let left = (per_note - i) as f64 / tone::SAMPLE_RATE;
                    let envelope = (t / 0.04).min(1.0) * (left / 0.04).min(1.0) * (-3.0 * t).exp();
                    let value = (std::f64::consts::TAU * hz * t).sin() * envelope * 0.3 * 32_000.0;
                    audio.push(g711::linear_to_ulaw(value as i16));
                }
            }
            audio.into()
        });
        Sound::Loop(Arc::clone(&MUSIC))
    }
}

/// μ-law silence.
const SILENCE: u8 = 0xFF;

/// Plays a [`Sound`] frame by frame from its start.
#[derive(Debug, Clone)]
pub struct Frames {
    sound: Sound,
    /// Samples played so far.
    played: u64,
    /// A playlist's place: the clip and the sample in it.
    clip: usize,
    offset: usize,
    /// A playlist's `then`, once its clips are over.
    after: Option<Box<Frames>>,
    /// The clips of the playlist with this id have just ended (not yet taken).
    done: Option<u64>,
}

impl Frames {
    /// From the start of `sound`.
    pub fn new(sound: Sound) -> Frames {
        Frames { sound, played: 0, clip: 0, offset: 0, after: None, done: None }
    }

    /// The playlist's id when its clips ended since the last call (once).
    pub fn take_done(&mut self) -> Option<u64> {
        self.done.take()
    }

    /// The next 20 ms of μ-law.
    pub fn next_frame(&mut self) -> [u8; FRAME_SAMPLES] {
        if let Some(after) = &mut self.after {
            return after.next_frame();
        }
        let mut frame = [SILENCE; FRAME_SAMPLES];
        match &self.sound {
            Sound::Cadence { hz, on_ms, off_ms } => {
                let per_ms = tone::SAMPLE_RATE as u64 / 1000;
                let cycle = (on_ms + off_ms) * per_ms;
                let on = on_ms * per_ms;
                for (i, byte) in frame.iter_mut().enumerate() {
                    let n = self.played + i as u64;
                    if cycle == 0 || n % cycle < on {
                        // The sine at its place in the whole stream, so frames join without
                        // clicks.
                        let t = n as f64 / tone::SAMPLE_RATE;
                        let value = (std::f64::consts::TAU * hz * t).sin() * 0.25 * 32_000.0;
                        *byte = g711::linear_to_ulaw(value as i16);
                    }
                }
            }
            Sound::Loop(audio) if !audio.is_empty() => {
                for (i, byte) in frame.iter_mut().enumerate() {
                    let n = (self.played + i as u64) % audio.len() as u64;
                    *byte = audio[usize::try_from(n).unwrap_or(0)];
                }
            }
            Sound::Loop(_) => {}
            Sound::Playlist { clips, then, id } => {
                let mut filled = 0;
                while filled < FRAME_SAMPLES && self.clip < clips.len() {
                    let clip = &clips[self.clip];
                    let n = clip.len().saturating_sub(self.offset).min(FRAME_SAMPLES - filled);
                    frame[filled..filled + n].copy_from_slice(&clip[self.offset..self.offset + n]);
                    filled += n;
                    self.offset += n;
                    if self.offset >= clip.len() {
                        self.clip += 1;
                        self.offset = 0;
                    }
                }
                if self.clip >= clips.len() {
                    // The rest of this frame is silence; `then` starts with the next one.
                    self.done = Some(*id);
                    self.after = Some(Box::new(Frames::new((**then).clone())));
                }
            }
        }
        self.played += FRAME_SAMPLES as u64;
        frame
    }
}

/// A leg that plays a sound to the other side, a packet every 20 ms.
#[derive(Debug)]
pub struct Source {
    frames: Frames,
    tick: tokio::time::Interval,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
}

impl Source {
    /// Plays `sound` from now on (the first packet at once).
    pub fn new(sound: Sound) -> Source {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        // Late ticks are caught up, so the long-run rate is exactly 50 packets a second.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        Source { frames: Frames::new(sound), tick, sequence: 0, timestamp: 0, ssrc: 0x5B0A_12D0 }
    }

    /// The playlist's id when its clips ended with the last packet (once).
    pub fn take_done(&mut self) -> Option<u64> {
        self.frames.take_done()
    }

    /// Waits for the next frame's time and writes its packet (PCMU) into `buf` (at least 172
    /// bytes: the relay's buffers are 2 KB); its length.
    pub(super) async fn next_packet(&mut self, buf: &mut [u8]) -> usize {
        self.tick.tick().await;
        // Written in place: no allocation per packet on the relay's path.
        let len = 12 + FRAME_SAMPLES;
        buf[0] = 0x80;
        let marker = self.sequence == 0;
        rtp::rewrite_header(buf, marker, PT_PCMU, self.sequence, self.timestamp, self.ssrc);
        buf[12..len].copy_from_slice(&self.frames.next_frame());
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::ulaw_to_linear;
    use crate::tone::goertzel_power;

    fn linear(frames: &[[u8; FRAME_SAMPLES]]) -> Vec<i16> {
        frames.iter().flatten().map(|b| ulaw_to_linear(*b)).collect()
    }

    #[test]
    fn ringback_is_425_hz_for_a_second_then_four_seconds_of_silence() {
        let mut frames = Frames::new(Sound::ringback());
        let cycle: Vec<[u8; FRAME_SAMPLES]> = (0..250).map(|_| frames.next_frame()).collect();
        let on = linear(&cycle[..50]);
        let off = linear(&cycle[50..]);
        assert!(goertzel_power(&on, 425.0) > 100.0 * goertzel_power(&on, 1000.0));
        assert!(off.iter().all(|s| s.abs() < 16), "silence after the first second");
        // The next cycle starts with the tone again, continuing the same sine.
        let again = linear(&[frames.next_frame()]);
        assert!(again.iter().any(|s| s.abs() > 1000));
    }

    #[test]
    fn the_built_in_music_is_eight_seconds_of_notes_that_never_click() {
        let Sound::Loop(audio) = Sound::music() else { panic!("music is a loop") };
        assert_eq!(audio.len(), 8 * 8000);
        let samples: Vec<i16> = audio.iter().map(|b| ulaw_to_linear(*b)).collect();
        // The first note is middle C; every note starts and ends near silence, the loop's end
        // included, so nothing clicks where notes meet.
        let first = &samples[..4000];
        assert!(goertzel_power(first, 261.63) > 20.0 * goertzel_power(first, 425.0));
        for boundary in (0..samples.len()).step_by(4000) {
            let end = samples[(boundary + samples.len() - 1) % samples.len()];
            assert!(samples[boundary].abs() < 200 && end.abs() < 200, "a click at {boundary}");
        }
    }

    #[test]
    fn a_loop_wraps_around_without_losing_a_sample() {
        let audio: Arc<[u8]> = (0..=249u8).collect::<Vec<u8>>().into();
        let mut frames = Frames::new(Sound::Loop(audio));
        let a = frames.next_frame();
        let b = frames.next_frame();
        assert_eq!(a[0], 0);
        assert_eq!(b[0], 160);
        assert_eq!(b[89], 249);
        assert_eq!(b[90], 0, "back to the start");
        let mut empty = Frames::new(Sound::Loop(Vec::new().into()));
        assert!(empty.next_frame().iter().all(|b| *b == SILENCE));
    }

    #[test]
    fn a_playlist_plays_each_clip_once_across_frames_then_its_sequel() {
        let a: Arc<[u8]> = vec![1u8; 100].into();
        let b: Arc<[u8]> = vec![2u8; 150].into();
        let clips: Arc<[Arc<[u8]>]> = vec![a, b].into();
        let then = Box::new(Sound::Loop(vec![3u8; 10].into()));
        let mut frames = Frames::new(Sound::Playlist { clips, then, id: 7 });
        let first = frames.next_frame();
        assert_eq!((first[0], first[99], first[100], first[159]), (1, 1, 2, 2));
        assert_eq!(frames.take_done(), None);
        let second = frames.next_frame();
        // 90 samples of the second clip left, then silence to the frame's end.
        assert_eq!((second[89], second[90], second[159]), (2, SILENCE, SILENCE));
        assert_eq!(frames.take_done(), Some(7), "reported at the end of the clips");
        assert_eq!(frames.take_done(), None, "once");
        assert!(frames.next_frame().iter().all(|b| *b == 3), "then the sequel, from its start");
        assert_eq!(frames.take_done(), None);
        // No clips: done at once, then the sequel.
        let mut empty = Frames::new(Sound::Playlist {
            clips: Vec::new().into(),
            then: Box::new(Sound::ringback()),
            id: 8,
        });
        let _ = empty.next_frame();
        assert_eq!(empty.take_done(), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn packets_come_every_20_ms_with_consecutive_numbers() {
        let mut source = Source::new(Sound::ringback());
        let mut buf = [0u8; 256];
        let start = tokio::time::Instant::now();
        let mut last = None;
        for i in 0..10u16 {
            let len = source.next_packet(&mut buf).await;
            assert_eq!(len, 12 + FRAME_SAMPLES);
            let packet = rtp::RtpPacket::parse(&buf[..len]).unwrap();
            assert_eq!(packet.sequence, i);
            assert_eq!(packet.timestamp, u32::from(i) * 160);
            assert_eq!(packet.payload_type, PT_PCMU);
            last = Some(tokio::time::Instant::now());
        }
        assert_eq!(last.unwrap() - start, Duration::from_millis(180));
    }
}
