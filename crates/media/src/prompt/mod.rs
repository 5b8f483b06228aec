//! Prompts: audio the gateway plays to callers, kept as what it sends (G.711 μ-law, 8 kHz,
//! mono). An admin's upload in any common format is decoded ([`decode`], with symphonia),
//! mixed to mono and resampled to 8 kHz (rubato); text is spoken by the installed synthesizer
//! ([`speech`]); the built-in phrases in Russian and English ship inside the binary
//! ([`built_in`]). [`to_wav`] turns a prompt back into a 16-bit WAV a browser plays.

mod builtin;
pub mod speech;

use std::io::Cursor;
use std::sync::Arc;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::g711;

pub use builtin::{MAX_MINUTES, MAX_POSITION};

/// Samples a second of a prompt.
pub const SAMPLE_RATE: u32 = 8_000;

/// Why audio could not become a prompt. Each names the problem for the admin who sent it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AudioError {
    /// Not a format we read (WAV, MP3, OGG Vorbis, FLAC), or damaged beyond its header.
    #[error("not an audio file we can read (WAV, MP3, OGG or FLAC): {0}")]
    NotAudio(String),
    /// Longer than the limit.
    #[error("the audio is longer than {max_seconds} s")]
    TooLong {
        /// The limit.
        max_seconds: u32,
    },
    /// No sound in it at all.
    #[error("the audio is empty")]
    Empty,
}

/// A decoded prompt: μ-law at 8 kHz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// μ-law samples, 8,000 a second.
    pub ulaw: Arc<[u8]>,
}

impl Audio {
    /// How long it plays.
    pub fn duration_ms(&self) -> u64 {
        self.ulaw.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }
}

/// Reads audio of any format we know (by its content; `extension` is a hint), mixes it to
/// mono and resamples it to 8 kHz μ-law. Decoding stops with [`AudioError::TooLong`] as soon as
/// `max_seconds` is passed, so a small file that claims hours costs no more than the limit.
pub fn decode(
    bytes: &[u8],
    extension: Option<&str>,
    max_seconds: u32,
) -> Result<Audio, AudioError> {
    let not_audio = |e: SymphoniaError| AudioError::NotAudio(e.to_string());
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(not_audio)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::NotAudio("no audio track".into()))?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .filter(|r| (1_000..=384_000).contains(r))
        .ok_or_else(|| AudioError::NotAudio("no sample rate".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(not_audio)?;
    let mut resampler = Resample::new(rate)?;
    let max_input = u64::from(max_seconds) * u64::from(rate);
    let mut read = 0u64;
    let mut samples: Option<SampleBuffer<f32>> = None;
    let mut mono = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) if read == 0 => return Err(not_audio(e)),
            // A damaged tail: keep what was read.
            Err(_) => break,
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // One bad frame is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(not_audio(e)),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let buffer = match &mut samples {
            Some(b) if b.capacity() >= decoded.capacity() * channels => b,
            _ => samples.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        mono.clear();
        mono.extend(
            buffer
                .samples()
                .chunks(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
        read += mono.len() as u64;
        if read > max_input {
            return Err(AudioError::TooLong { max_seconds });
        }
        resampler.push(&mono)?;
    }
    let ulaw = resampler.finish()?;
    if ulaw.iter().all(|b| g711::ulaw_to_linear(*b).unsigned_abs() < 64) {
        return Err(AudioError::Empty);
    }
    Ok(Audio { ulaw: ulaw.into() })
}

/// Resamples mono audio to 8 kHz in fixed chunks, so only the output is kept whole.
struct Resample {
    inner: Option<rubato::FftFixedIn<f32>>,
    pending: Vec<f32>,
    out: Vec<u8>,
    /// Output samples still to drop: the resampler's delay.
    skip: usize,
    rate: u32,
    /// Input samples pushed.
    input: u64,
}

const CHUNK: usize = 1024;

impl Resample {
    fn new(rate: u32) -> Result<Resample, AudioError> {
        let inner = if rate == SAMPLE_RATE {
            None
        } else {
            let r = rubato::FftFixedIn::new(rate as usize, SAMPLE_RATE as usize, CHUNK, 2, 1)
                .map_err(|e| {
                    AudioError::NotAudio(format!("cannot resample from {rate} Hz: {e}"))
                })?;
            Some(r)
        };
        let skip = inner.as_ref().map_or(0, rubato::Resampler::output_delay);
        Ok(Resample {
            inner,
            pending: Vec::with_capacity(CHUNK),
            out: Vec::new(),
            skip,
            rate,
            input: 0,
        })
    }

    fn push(&mut self, mono: &[f32]) -> Result<(), AudioError> {
        self.input += mono.len() as u64;
        let Some(inner) = &mut self.inner else {
            self.out.extend(mono.iter().map(|s| to_ulaw(*s)));
            return Ok(());
        };
        for sample in mono {
            self.pending.push(*sample);
            if self.pending.len() == CHUNK {
                let done = rubato::Resampler::process(inner, &[&self.pending[..]], None)
                    .map_err(|e| AudioError::NotAudio(e.to_string()))?;
                self.pending.clear();
                Self::emit(&mut self.out, &mut self.skip, &done[0]);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u8>, AudioError> {
        if let Some(inner) = &mut self.inner {
            // The rest padded with silence, then a chunk of silence to push the delayed tail
            // out; cut to the length the input had.
            for _ in 0..2 {
                self.pending.resize(CHUNK, 0.0);
                let done = rubato::Resampler::process(inner, &[&self.pending[..]], None)
                    .map_err(|e| AudioError::NotAudio(e.to_string()))?;
                self.pending.clear();
                Self::emit(&mut self.out, &mut self.skip, &done[0]);
            }
            let wanted = self.input * u64::from(SAMPLE_RATE) / u64::from(self.rate);
            self.out.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
        }
        Ok(self.out)
    }

    fn emit(out: &mut Vec<u8>, skip: &mut usize, samples: &[f32]) {
        let dropped = (*skip).min(samples.len());
        *skip -= dropped;
        out.extend(samples[dropped..].iter().map(|s| to_ulaw(*s)));
    }
}

fn to_ulaw(sample: f32) -> u8 {
    g711::linear_to_ulaw((sample.clamp(-1.0, 1.0) * 32_000.0) as i16)
}

/// A 16-bit PCM WAV of μ-law audio, for the admin's player.
pub fn to_wav(ulaw: &[u8]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + ulaw.len() * 2));
    // Writing to memory fails only past 4 GB, which a prompt (at most minutes) never reaches.
    if let Ok(mut writer) = hound::WavWriter::new(&mut out, spec) {
        for b in ulaw {
            let _ = writer.write_sample(g711::ulaw_to_linear(*b));
        }
        let _ = writer.finalize();
    }
    out.into_inner()
}

/// A built-in prompt.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    /// Its key, the same in every language (`greeting`, `position_3`, ...).
    pub key: &'static str,
    /// What it says in Russian.
    pub text_ru: &'static str,
    /// What it says in English.
    pub text_en: &'static str,
    ru: &'static [u8],
    en: &'static [u8],
}

impl BuiltIn {
    /// Its audio in `language` ("ru"; anything else is English).
    pub fn audio(&self, language: &str) -> Audio {
        let wav = if language == "ru" { self.ru } else { self.en };
        // Shipped files are checked by a test; one that does not decode plays as silence.
        decode(wav, Some("wav"), 600).unwrap_or(Audio { ulaw: Arc::from(&[][..]) })
    }
}

/// The prompts that ship with the gateway, in key order.
pub fn built_in() -> impl Iterator<Item = BuiltIn> {
    builtin::BUILT_IN.iter().map(|(key, ru, en, text_ru, text_en)| BuiltIn {
        key,
        text_ru,
        text_en,
        ru,
        en,
    })
}

/// The built-in prompt with this key.
pub fn built_in_prompt(key: &str) -> Option<BuiltIn> {
    built_in().find(|p| p.key == key)
}

#[cfg(test)]
mod tests;
